//! Passwords, session tokens and the login rate limit.
//!
//! The client sends the md5 digest of the password; the server keeps only an
//! Argon2id hash of that digest. Tokens are 256 random bits shown to the client
//! once, as hex; the server keeps only their SHA-256.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use penpen_core::UserId;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

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

/// Runs password hashing and checks on a fixed pair of threads.
///
/// Each Argon2 run takes 19 MiB; run on arbitrary blocking threads, the
/// allocator keeps that much per thread long after, and concurrent logins
/// inflate the server's memory by hundreds of megabytes. Two threads (one
/// per core) bound it, and queue the rest.
#[derive(Debug)]
pub struct PasswordWorkers {
    jobs: Mutex<std::sync::mpsc::Sender<PasswordJob>>,
}

type PasswordJob = Box<dyn FnOnce() + Send>;

impl PasswordWorkers {
    /// Starts `threads` workers.
    pub fn start(threads: usize) -> PasswordWorkers {
        let (jobs, queue) = std::sync::mpsc::channel::<PasswordJob>();
        let queue = std::sync::Arc::new(Mutex::new(queue));
        for index in 0..threads.max(1) {
            let queue = queue.clone();
            let spawned = std::thread::Builder::new()
                .name(format!("penpen-password-{index}"))
                .spawn(move || {
                    loop {
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
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
        }
    }

    /// Runs `f` on a worker and returns its result.
    pub async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce() -> R + Send + 'static,
    ) -> Option<R> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job: PasswordJob = Box::new(move || {
            let _ = reply.send(f());
        });
        self.jobs.lock().ok()?.send(job).ok()?;
        answer.await.ok()
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

/// Failed logins counted per account and per address over a sliding minute.
#[derive(Debug, Default)]
pub struct LoginLimiter {
    failures: Mutex<Failures>,
}

#[derive(Debug, Default)]
struct Failures {
    by_account: HashMap<UserId, Vec<Instant>>,
    by_address: HashMap<IpAddr, Vec<Instant>>,
}

impl LoginLimiter {
    /// How far back failures count.
    pub const WINDOW: Duration = Duration::from_secs(60);
    /// Failures of one account within the window before it is refused.
    pub const PER_ACCOUNT: usize = 5;
    /// Failures from one address within the window before it is refused.
    pub const PER_ADDRESS: usize = 20;

    /// Whether `user` may try a password now. `address` is the peer's, when
    /// there is one (a password change inside a session counts per account only).
    pub fn allows(&self, user: &UserId, address: Option<IpAddr>, now: Instant) -> bool {
        let Ok(mut failures) = self.failures.lock() else {
            return true;
        };
        let recent = |times: &mut Vec<Instant>| {
            times.retain(|t| now.duration_since(*t) < Self::WINDOW);
            times.len()
        };
        let account = failures.by_account.get_mut(user).map(recent).unwrap_or(0);
        let address = address
            .and_then(|a| failures.by_address.get_mut(&a))
            .map(recent)
            .unwrap_or(0);
        account < Self::PER_ACCOUNT && address < Self::PER_ADDRESS
    }

    /// Counts a wrong password for `user` (and its address, when there is one).
    pub fn failed(&self, user: &UserId, address: Option<IpAddr>, now: Instant) {
        if let Ok(mut failures) = self.failures.lock() {
            failures
                .by_account
                .entry(user.clone())
                .or_default()
                .push(now);
            if let Some(address) = address {
                failures.by_address.entry(address).or_default().push(now);
            }
        }
    }

    /// Forgets an account's failures after it logs in.
    pub fn succeeded(&self, user: &UserId) {
        if let Ok(mut failures) = self.failures.lock() {
            failures.by_account.remove(user);
        }
    }
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

    #[test]
    fn an_account_is_refused_after_five_failures_in_a_minute() {
        let limiter = LoginLimiter::default();
        let user = UserId::parse("13800000001").expect("valid");
        let address = Some(IpAddr::from([127, 0, 0, 1]));
        let start = Instant::now();
        for _ in 0..LoginLimiter::PER_ACCOUNT {
            assert!(limiter.allows(&user, address, start));
            limiter.failed(&user, address, start);
        }
        assert!(!limiter.allows(&user, address, start));
        assert!(limiter.allows(&user, address, start + LoginLimiter::WINDOW));
        limiter.succeeded(&user);
        assert!(limiter.allows(&user, address, start));
    }
}
