//! Password hashing: argon2id with the OWASP parameters (m = 19 MiB, t = 2, p = 1, the
//! argon2 crate's defaults), never on the async workers.
//!
//! Hashes run on a pool of their own, one thread per core, each below every request: the
//! first thread at `SCHED_BATCH`, niceness 19, the others at `SCHED_IDLE`. A flood of
//! logins then uses the CPU that requests leave idle on every core without delaying them,
//! and still goes on when nothing is left idle:
//! - Linux (CFS/EEVDF) preempts a `SCHED_IDLE` task at once when a normal task wakes on its
//!   core, and counts a core that runs only `SCHED_IDLE` tasks as idle when it places a
//!   woken task: a request does not wait behind those hashes.
//! - A `SCHED_BATCH` nice-19 task is not preempted at once (it keeps the rest of its slice),
//!   so only one thread is: with one such thread per core, hashes doubled the reads' tail
//!   in issue 9's first runs. The pool used to be only such threads, cores − 1 of them:
//!   on two cores that capped logins at half the argon2 ceiling with the other core idle.
//! - `SCHED_IDLE` alone starves: against a request's weight of 1024 it has 3. With every
//!   thread `SCHED_IDLE`, on a machine kept busy by other work, logins got one per second,
//!   median 7 s, where `SCHED_BATCH` served 13 per second. The `SCHED_BATCH` thread (weight
//!   15) keeps logins going however busy the server is. A hash an idle thread has started
//!   cannot move to it, so on a server with no idle CPU at all such a login waits for a
//!   core to come free: logins slow down first, as at the counter a sale must not wait
//!   for someone else's sign-in.
//!
//! Logins queue rather than pile up threads (each hash holds 19 MiB).
//!
//! Memory: each hash needs 19 MiB. Hashes take it from [`Memory`], which keeps a block
//! only while more hashes are waiting (a flood pays for the pages once per thread, not
//! once per login) and gives it back to the system as soon as the queue is empty, so an
//! idle auth holds none of it (see [`RESERVED_BLOCKS`]).

use std::sync::{
    Mutex, OnceLock,
    atomic::{AtomicUsize, Ordering},
};

use argon2::{
    ARGON2ID_IDENT, Algorithm, Argon2, Block, Params, PasswordHash, Version,
    password_hash::phc::{Output, ParamsString, Salt},
};
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
            .num_threads(cores)
            .thread_name(|index| format!("argon2-{index}"))
            .start_handler(|index| {
                let lowered = set_thread_priority_and_policy(
                    thread_native_id(),
                    ThreadPriority::Min,
                    ThreadSchedulePolicy::Normal(hashing_thread_policy(index)),
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

/// The first hashing thread is `SCHED_BATCH` (niceness 19), so logins go on however busy
/// the server is; the others are `SCHED_IDLE`, so they hash only on a core nothing else
/// wants (see the module's documentation).
fn hashing_thread_policy(index: usize) -> NormalThreadSchedulePolicy {
    if index == 0 {
        NormalThreadSchedulePolicy::Batch
    } else {
        NormalThreadSchedulePolicy::Idle
    }
}

/// The capacity of a hash's memory, in argon2 blocks: just above 32 MiB, glibc's largest
/// mmap threshold on 64-bit. glibc raises its threshold to the size of each large block
/// freed (up to that maximum), after which 19 MiB blocks came from its arenas and stayed in
/// the process for good (auth held 38 MiB idle and 77 MiB after a login flood). A block
/// reserved above the maximum is always a mapping of its own, unmapped when freed; only
/// the 19 MiB a hash touches are ever resident.
const RESERVED_BLOCKS: usize = (32 << 20) / Block::SIZE + 1;

/// The memory of the hashes: blocks kept between hashes only while more are queued.
struct Memory {
    spare: Mutex<Vec<Vec<Block>>>,
    queued: AtomicUsize,
}

static MEMORY: Memory = Memory {
    spare: Mutex::new(Vec::new()),
    queued: AtomicUsize::new(0),
};

impl Memory {
    /// A block of at least `blocks` argon2 blocks: a spare one, or a new one.
    fn take(&self, blocks: usize) -> Vec<Block> {
        let spare = self
            .spare
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .pop();
        match spare {
            Some(memory) if memory.len() >= blocks => memory,
            _ => {
                let mut memory = Vec::with_capacity(RESERVED_BLOCKS.max(blocks));
                memory.resize(blocks, Block::new());
                memory
            }
        }
    }

    /// Keeps `memory` for the next hash when one is queued; frees it (and the other spare
    /// ones) when none is.
    fn give_back(&self, memory: Vec<Block>) {
        let mut spare = self
            .spare
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if self.queued.load(Ordering::Acquire) > 0 {
            spare.push(memory);
        } else {
            spare.clear();
        }
    }
}

/// Runs `work` on the hashing pool with 19 MiB of argon2 memory, carrying the caller's span.
async fn on_hashing_pool<T: Send + 'static>(
    work: impl FnOnce(&mut [Block]) -> T + Send + 'static,
) -> anyhow::Result<T> {
    let span = tracing::Span::current();
    let (sender, receiver) = tokio::sync::oneshot::channel();
    let pool = hashing_pool()?;
    MEMORY.queued.fetch_add(1, Ordering::AcqRel);
    pool.spawn(move || {
        let _entered = span.enter();
        MEMORY.queued.fetch_sub(1, Ordering::AcqRel);
        let mut memory = MEMORY.take(Params::default().block_count());
        let result = work(&mut memory);
        MEMORY.give_back(memory);
        let _ = sender.send(result);
    });
    Ok(receiver.await?)
}

/// Hashes `password`; returns the PHC string.
pub async fn hash(password: String) -> anyhow::Result<String> {
    on_hashing_pool(move |memory| {
        let params = Params::default();
        let salt = Salt::generate();
        let mut output = vec![0u8; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
            .hash_password_into_with_memory(password.as_bytes(), &salt, &mut output, memory)
            .map_err(|error| anyhow::anyhow!("hashing a password failed: {error}"))?;
        let phc = PasswordHash {
            algorithm: ARGON2ID_IDENT,
            version: Some(Version::V0x13.into()),
            params: ParamsString::try_from(&params)
                .map_err(|error| anyhow::anyhow!("argon2 parameters: {error}"))?,
            salt: Some(salt),
            hash: Some(
                Output::new(&output).map_err(|error| anyhow::anyhow!("argon2 output: {error}"))?,
            ),
        };
        Ok(phc.to_string())
    })
    .await?
}

/// Checks `password` against a stored PHC hash (its own algorithm, version and parameters).
pub async fn verify(password: String, stored_hash: String) -> anyhow::Result<bool> {
    on_hashing_pool(move |memory| {
        let malformed = |error: &dyn std::fmt::Display| {
            anyhow::anyhow!("stored password hash is malformed: {error}")
        };
        let parsed = PasswordHash::new(&stored_hash).map_err(|error| malformed(&error))?;
        let (Some(salt), Some(expected)) = (&parsed.salt, &parsed.hash) else {
            return Err(malformed(&"no salt or no hash"));
        };
        let algorithm =
            Algorithm::try_from(parsed.algorithm.as_str()).map_err(|error| malformed(&error))?;
        let version = parsed
            .version
            .map(Version::try_from)
            .transpose()
            .map_err(|error| malformed(&error))?
            .unwrap_or_default();
        let params = Params::try_from(&parsed).map_err(|error| malformed(&error))?;
        let mut memory_for_params;
        let memory = if memory.len() >= params.block_count() {
            memory
        } else {
            // A hash stored with more memory than today's parameters (never ours).
            memory_for_params = vec![Block::new(); params.block_count()];
            &mut memory_for_params[..]
        };
        let mut output = vec![0u8; expected.len()];
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(password.as_bytes(), salt, &mut output, memory)
            .map_err(|error| malformed(&error))?;
        // `Output`'s equality is constant-time.
        Ok(Output::new(&output).map_err(|error| malformed(&error))? == *expected)
    })
    .await?
}

#[cfg(test)]
mod tests {
    use super::*;
    use argon2::PasswordVerifier;

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

    #[tokio::test]
    async fn a_hash_made_elsewhere_verifies_and_a_wrong_password_does_not() {
        use argon2::PasswordHasher;
        // As argon2's own hasher writes it (the hashes already stored).
        let stored = Argon2::default()
            .hash_password(b"counter 7")
            .unwrap()
            .to_string();
        assert!(
            verify("counter 7".to_owned(), stored.clone())
                .await
                .unwrap()
        );
        assert!(!verify("counter 8".to_owned(), stored).await.unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn concurrent_logins_each_get_their_own_answer() {
        let stored = hash("right".to_owned()).await.unwrap();
        let handles: Vec<_> = (0..8)
            .map(|index| {
                let password = if index % 2 == 0 { "right" } else { "wrong" };
                tokio::spawn(verify(password.to_owned(), stored.clone()))
            })
            .collect();
        let mut answers = Vec::new();
        for handle in handles {
            answers.push(handle.await.unwrap().unwrap());
        }
        let expected: Vec<bool> = (0..8).map(|index| index % 2 == 0).collect();
        assert_eq!(answers, expected);
    }
}
