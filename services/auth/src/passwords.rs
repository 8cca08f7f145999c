//! Password hashing: argon2id with the OWASP parameters (m = 19 MiB, t = 2, p = 1, the
//! argon2 crate's defaults), always off the async workers, and never more at once than
//! there are cores (each hash holds 19 MiB; a login burst queues instead of piling up
//! blocking threads).

use std::sync::OnceLock;

use argon2::{Argon2, PasswordHash, PasswordHasher, PasswordVerifier};
use tokio::sync::Semaphore;

fn hashing_permits() -> &'static Semaphore {
    static PERMITS: OnceLock<Semaphore> = OnceLock::new();
    PERMITS.get_or_init(|| {
        let cores = std::thread::available_parallelism()
            .map(usize::from)
            .unwrap_or(2);
        Semaphore::new(cores)
    })
}

/// Hashes `password` on a blocking thread; returns the PHC string.
pub async fn hash(password: String) -> anyhow::Result<String> {
    let _permit = hashing_permits().acquire().await?;
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
        Argon2::default()
            .hash_password(password.as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|error| anyhow::anyhow!("hashing a password failed: {error}"))
    })
    .await?
}

/// Checks `password` against a stored PHC hash on a blocking thread.
pub async fn verify(password: String, stored_hash: String) -> anyhow::Result<bool> {
    let _permit = hashing_permits().acquire().await?;
    let span = tracing::Span::current();
    tokio::task::spawn_blocking(move || {
        let _entered = span.enter();
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
