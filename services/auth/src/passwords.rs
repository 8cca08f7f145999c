//! Password hashing: argon2id with the OWASP parameters (m = 19 MiB, t = 2, p = 1, the
//! argon2 crate's defaults), never on the async workers.
//!
//! Hashes run on a small pool of their own, one thread per core but one (at least one),
//! at a lower scheduling priority (`SCHED_BATCH`, niceness 19): a burst of logins uses the
//! CPU that requests leave idle instead of delaying them, and queues rather than piling up
//! threads (each hash holds 19 MiB). When requests keep every core busy, logins slow down first: at the
//! counter, a sale must not wait for someone else's sign-in.

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use thread_priority::{
    NormalThreadSchedulePolicy, ThreadPriority, ThreadSchedulePolicy,
    set_thread_priority_and_policy, thread_native_id,
};

/// The hashing pool, started on first use. Failing to start it (no threads to be had) is
/// an error for the login that needed it, not a panic.
fn hashing_pool() -> anyhow::Result<&'static rayon::ThreadPool> {
    static POOL: OnceLock<Result<rayon::ThreadPool, String>> = OnceLock::new();
    let pool = POOL.get_or_init(|| {
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2);
        rayon::ThreadPoolBuilder::new()
            .num_threads(cores.saturating_sub(1).max(1))
            .thread_name(|index| format!("argon2-{index}"))
            .start_handler(|_| {
                let lowered = set_thread_priority_and_policy(
                    thread_native_id(),
                    ThreadPriority::Min,
                    ThreadSchedulePolicy::Normal(NormalThreadSchedulePolicy::Batch),
                );
                if let Err(error) = lowered {
                    tracing::warn!(?error, "password hashing runs at normal priority");
                }
            })
            .build()
            .map_err(|error| error.to_string())
    });
    pool.as_ref()
        .map_err(|error| anyhow::anyhow!("the password hashing pool did not start: {error}"))
}

/// Runs `work` on the hashing pool, carrying the caller's span.
async fn on_hashing_pool<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> anyhow::Result<T> {
    let span = tracing::Span::current();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    hashing_pool()?.spawn(move || {
        let _entered = span.enter();
        let _ = sender.send(work());
    });
    Ok(receiver.await?)
}

/// Hashes `password`; returns the PHC string.
pub async fn hash(password: String) -> anyhow::Result<String> {
    on_hashing_pool(move || {
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| anyhow::anyhow!("hashing a password failed: {error}"))
    })
    .await?
}

/// Checks `password` against a stored PHC hash.
pub async fn verify(password: String, stored_hash: String) -> anyhow::Result<bool> {
    on_hashing_pool(move || {
        let parsed = PasswordHash::new(&stored_hash)
            .map_err(|error| anyhow::anyhow!("stored password hash is malformed: {error}"))?;
        Ok(Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok())
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_hash_is_argon2id_with_the_owasp_parameters_and_verifies() {
        let stored = hash("correct horse".to_owned()).await.unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        let parsed = PasswordHash::new(&stored).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"correct horse", &parsed)
                .is_ok()
        );
        assert!(
            Argon2::default()
                .verify_password(b"wrong horse", &parsed)
                .is_err()
        );
    }

    #[tokio::test]
    async fn the_same_password_hashes_differently_each_time() {
        let first = hash("same".to_owned()).await.unwrap();
        let second = hash("same".to_owned()).await.unwrap();
        assert_ne!(first, second);
    }
}
