//! Passwords and session tokens.
//!
//! The client sends the md5 digest of the password; the server keeps only an
//! Argon2id hash of that digest. Tokens are 256 random bits shown to the client
//! once, as hex; the server keeps only their SHA-256.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

/// Why a secret could not be made.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The operating system's random source failed.
    #[error("no randomness available: {0}")]
    Random(String),
    /// Hashing failed.
    #[error("cannot hash the password: {0}")]
    Hash(String),
}

fn random_bytes<const N: usize>() -> Result<[u8; N], AuthError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(bytes)
}

/// The Argon2id hash (PHC string) of a password digest, with a fresh salt.
pub fn hash_password_digest(digest: &str) -> Result<String, AuthError> {
    let salt = SaltString::encode_b64(&random_bytes::<16>()?)
        .map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(digest.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `digest` matches the stored hash (a malformed hash matches nothing).
pub fn verify_password_digest(stored_hash: &str, digest: &str) -> bool {
    PasswordHash::new(stored_hash)
        .map(|hash| {
            Argon2::default()
                .verify_password(digest.as_bytes(), &hash)
                .is_ok()
        })
        .unwrap_or(false)
}

/// An Argon2 hash of a random digest nobody knows: a login for an account
/// that does not exist is checked against it, so it costs the same time as
/// one that does and the answer's timing does not say which accounts exist.
pub fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let secret: String = random_bytes::<16>()
            .map(|bytes| bytes.iter().map(|b| format!("{b:02x}")).collect())
            .unwrap_or_else(|_| "penpen-dummy".to_owned());
        // If hashing fails the check still runs Argon2's parser, cheaper but harmless.
        hash_password_digest(&secret).unwrap_or_default()
    })
}

/// Why a password job did not run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PasswordQueueError {
    /// Every worker is busy and the queue is full; the caller answers "busy" (52).
    #[error("the password checks are all busy; retry in a moment")]
    Busy,
    /// The workers are gone (the server is stopping).
    #[error("the password workers stopped")]
    Stopped,
}

/// Runs password hashing and checks on a fixed pair of threads.
///
/// Each Argon2 run takes 19 MiB; run on arbitrary blocking threads, the
/// allocator keeps that much per thread long after, and concurrent logins
/// inflate the server's memory by hundreds of megabytes. Two threads (one
/// per core) bound it; a bounded queue holds the rest, and beyond it a
/// check is refused at once rather than waiting without end.
#[derive(Debug)]
pub struct PasswordWorkers {
    jobs: Mutex<std::sync::mpsc::SyncSender<PasswordJob>>,
    runs: Arc<AtomicU64>,
}

type PasswordJob = Box<dyn FnOnce() + Send>;

impl PasswordWorkers {
    /// Starts `threads` workers with room for `queue` waiting jobs.
    pub fn start(threads: usize, queue: usize) -> PasswordWorkers {
        let (jobs, waiting) = std::sync::mpsc::sync_channel::<PasswordJob>(queue);
        let waiting = Arc::new(Mutex::new(waiting));
        for index in 0..threads.max(1) {
            let waiting = waiting.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("penpen-password-{index}"))
                .spawn(move || {
                    loop {
                        let job = match waiting.lock() {
                            Ok(waiting) => waiting.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                });
            if let Err(err) = spawned {
                tracing::error!(%err, "cannot start a password worker");
            }
        }
        PasswordWorkers {
            jobs: Mutex::new(jobs),
            runs: Arc::new(AtomicU64::new(0)),
        }
    }

    /// Runs `f` on a worker and returns its result, or refuses at once when
    /// the queue is full.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R, PasswordQueueError> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let runs = self.runs.clone();
        let job: PasswordJob = Box::new(move || {
            runs.fetch_add(1, Ordering::Relaxed);
            let _ = reply.send(f());
        });
        let sent = self
            .jobs
            .lock()
            .map_err(|_| PasswordQueueError::Stopped)?
            .try_send(job);
        match sent {
            Ok(()) => {}
            Err(std::sync::mpsc::TrySendError::Full(_)) => return Err(PasswordQueueError::Busy),
            Err(std::sync::mpsc::TrySendError::Disconnected(_)) => {
                return Err(PasswordQueueError::Stopped);
            }
        }
        answer.await.map_err(|_| PasswordQueueError::Stopped)
    }

    /// How many jobs (Argon2 hashes or checks) have started since the server
    /// started: what the login limiter lets through, for tests and measurements.
    pub fn runs(&self) -> u64 {
        self.runs.load(Ordering::Relaxed)
    }
}

/// A new session token: its hex text for the client, and the hash to store.
pub fn new_token() -> Result<(String, Vec<u8>), AuthError> {
    let bytes = random_bytes::<32>()?;
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let hash = token_hash(&token);
    Ok((token, hash))
}

/// The stored form of a token.
pub fn token_hash(token: &str) -> Vec<u8> {
    Sha256::digest(token.as_bytes()).to_vec()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hashed_digest_verifies_and_others_do_not() {
        let digest = penpen_core::digest::password_digest("penpen2026");
        let hash = hash_password_digest(&digest).expect("hashes");
        assert!(hash.starts_with("$argon2id$"));
        assert!(verify_password_digest(&hash, &digest));
        assert!(!verify_password_digest(
            &hash,
            &penpen_core::digest::password_digest("wrong")
        ));
        assert!(!verify_password_digest("not a hash", &digest));
        // Fresh salt every time.
        assert_ne!(hash, hash_password_digest(&digest).expect("hashes"));
    }

    #[test]
    fn tokens_are_64_hex_digits_and_only_their_hash_is_kept() {
        let (token, hash) = new_token().expect("token");
        assert_eq!(token.len(), 64);
        assert!(token.bytes().all(|b| b.is_ascii_hexdigit()));
        assert_eq!(hash, token_hash(&token));
        assert_ne!(new_token().expect("token").0, token);
    }
}
