//! The login limiter: how many password checks an (account, address) pair and
//! an address may have, counted when they are admitted.
//!
//! An attempt counts from the moment it is admitted, while its Argon2 check is
//! still queued or running, so a burst of concurrent wrong passwords cannot all
//! pass before the first failure is recorded. Lockouts are per (account,
//! address), with a backoff that doubles, so a stranger elsewhere cannot lock
//! a colleague out; a looser per-address cap stops one address from trying
//! many accounts. The maps are pruned, and bounded.

use crate::policy::AuthPolicy;
use penpen_core::UserId;
use std::collections::{HashMap, VecDeque};
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Why an attempt was not admitted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// This account from this address failed too often; try again after this long.
    LockedOut(Duration),
    /// This address tried too many passwords recently.
    AddressLimited,
}

impl Refusal {
    /// The text of the refusal (state 35).
    pub fn reason(&self) -> String {
        match self {
            Refusal::LockedOut(wait) => format!(
                "too many wrong passwords for this account from this address; try again in {} s",
                wait.as_millis().div_ceil(1000).max(1)
            ),
            Refusal::AddressLimited => {
                "too many login attempts from this address; wait a minute and try again".to_owned()
            }
        }
    }
}

type PairKey = (UserId, Option<IpAddr>);

#[derive(Debug)]
struct Pair {
    failures: VecDeque<Instant>,
    in_flight: u32,
    /// Lockouts so far (the next one lasts twice as long).
    lockouts: u32,
    locked_until: Option<Instant>,
    last: Instant,
}

#[derive(Debug)]
struct Address {
    failures: VecDeque<Instant>,
    in_flight: u32,
    last: Instant,
}

#[derive(Debug, Default)]
struct Maps {
    pairs: HashMap<PairKey, Pair>,
    addresses: HashMap<IpAddr, Address>,
}

/// Counts login attempts and failures; see the module documentation.
#[derive(Debug)]
pub struct LoginLimiter {
    policy: AuthPolicy,
    maps: Mutex<Maps>,
}

/// An admitted attempt: it counts until it is dropped, and a failure counts
/// for the window after that.
#[derive(Debug)]
#[must_use = "an attempt counts until it is dropped"]
pub struct Attempt<'a> {
    limiter: &'a LoginLimiter,
    key: PairKey,
    done: bool,
}

fn forget_before(times: &mut VecDeque<Instant>, now: Instant, window: Duration) {
    while times
        .front()
        .is_some_and(|t| now.saturating_duration_since(*t) >= window)
    {
        times.pop_front();
    }
}

impl LoginLimiter {
    /// A limiter with the policy's limits.
    pub fn new(policy: &AuthPolicy) -> LoginLimiter {
        LoginLimiter {
            policy: policy.clone(),
            maps: Mutex::new(Maps::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Maps> {
        // Every change keeps the maps consistent, so a panic elsewhere leaves them usable.
        self.maps.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Admits a password check for `user` from `address`, or says why not.
    pub fn admit(
        &self,
        user: &UserId,
        address: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt<'_>, Refusal> {
        let window = self.policy.login_window;
        let mut maps = self.lock();
        if maps.pairs.len() >= self.policy.limiter_entries
            || maps.addresses.len() >= self.policy.limiter_entries
        {
            self.prune(&mut maps, now);
        }
        let key = (user.clone(), address);
        if let Some(pair) = maps.pairs.get_mut(&key) {
            forget_before(&mut pair.failures, now, window);
            if let Some(until) = pair.locked_until.filter(|until| *until > now) {
                return Err(Refusal::LockedOut(until - now));
            }
            let counted = pair.failures.len() as u64 + u64::from(pair.in_flight);
            if counted >= u64::from(self.policy.login_failures_per_pair) {
                // Checks still running could each become the failure that locks.
                return Err(Refusal::LockedOut(window));
            }
        }
        if let Some(address) = address.and_then(|a| maps.addresses.get_mut(&a)) {
            forget_before(&mut address.failures, now, window);
            let counted = address.failures.len() as u64 + u64::from(address.in_flight);
            if counted >= u64::from(self.policy.login_attempts_per_address) {
                return Err(Refusal::AddressLimited);
            }
        }
        let pair = maps.pairs.entry(key.clone()).or_insert_with(|| Pair {
            failures: VecDeque::new(),
            in_flight: 0,
            lockouts: 0,
            locked_until: None,
            last: now,
        });
        pair.in_flight += 1;
        pair.last = now;
        if let Some(address) = address {
            let entry = maps.addresses.entry(address).or_insert_with(|| Address {
                failures: VecDeque::new(),
                in_flight: 0,
                last: now,
            });
            entry.in_flight += 1;
            entry.last = now;
        }
        Ok(Attempt {
            limiter: self,
            key,
            done: false,
        })
    }

    /// How many pairs and addresses are remembered (for tests of the bound).
    pub fn remembered(&self) -> (usize, usize) {
        let maps = self.lock();
        (maps.pairs.len(), maps.addresses.len())
    }

    /// Forgets what no longer limits anyone; if the maps are still full,
    /// forgets the least recently active idle entries.
    fn prune(&self, maps: &mut Maps, now: Instant) {
        let window = self.policy.login_window;
        let quiet = self.policy.login_lockout_max.max(window);
        maps.pairs.retain(|_, pair| {
            forget_before(&mut pair.failures, now, window);
            let locked = pair.locked_until.is_some_and(|until| until > now);
            // Keep the backoff memory for a while after a lockout ends.
            let recent_lockout =
                pair.lockouts > 0 && now.saturating_duration_since(pair.last) < quiet;
            pair.in_flight > 0 || !pair.failures.is_empty() || locked || recent_lockout
        });
        maps.addresses.retain(|_, address| {
            forget_before(&mut address.failures, now, window);
            address.in_flight > 0 || !address.failures.is_empty()
        });
        let cap = self.policy.limiter_entries;
        if maps.pairs.len() >= cap {
            let mut idle: Vec<(Instant, PairKey)> = maps
                .pairs
                .iter()
                .filter(|(_, p)| p.in_flight == 0)
                .map(|(k, p)| (p.last, k.clone()))
                .collect();
            idle.sort_by_key(|(last, _)| *last);
            let excess = maps.pairs.len() + 1 - cap * 9 / 10;
            for (_, key) in idle.into_iter().take(excess) {
                maps.pairs.remove(&key);
            }
            tracing::warn!(cap, "login limiter full; forgot the oldest idle accounts");
        }
        if maps.addresses.len() >= cap {
            let mut idle: Vec<(Instant, IpAddr)> = maps
                .addresses
                .iter()
                .filter(|(_, a)| a.in_flight == 0)
                .map(|(k, a)| (a.last, *k))
                .collect();
            idle.sort_by_key(|(last, _)| *last);
            let excess = maps.addresses.len() + 1 - cap * 9 / 10;
            for (_, key) in idle.into_iter().take(excess) {
                maps.addresses.remove(&key);
            }
            tracing::warn!(cap, "login limiter full; forgot the oldest idle addresses");
        }
    }

    fn finish(&self, key: &PairKey, outcome: Option<bool>, now: Instant) {
        let mut maps = self.lock();
        let policy = &self.policy;
        if let Some(pair) = maps.pairs.get_mut(key) {
            pair.in_flight = pair.in_flight.saturating_sub(1);
            pair.last = now;
            match outcome {
                Some(false) => {
                    pair.failures.push_back(now);
                    if pair.failures.len() as u64 >= u64::from(policy.login_failures_per_pair) {
                        let doubling = 2u32.saturating_pow(pair.lockouts.min(16));
                        let lockout = policy
                            .login_lockout
                            .saturating_mul(doubling)
                            .min(policy.login_lockout_max);
                        pair.lockouts += 1;
                        pair.locked_until = Some(now + lockout);
                        pair.failures.clear();
                    }
                }
                Some(true) => {
                    pair.failures.clear();
                    pair.lockouts = 0;
                    pair.locked_until = None;
                }
                None => {}
            }
            if pair.in_flight == 0 && pair.failures.is_empty() && pair.lockouts == 0 {
                maps.pairs.remove(key);
            }
        }
        if let Some(address) = key.1 {
            let mut forget = false;
            if let Some(entry) = maps.addresses.get_mut(&address) {
                entry.in_flight = entry.in_flight.saturating_sub(1);
                entry.last = now;
                if outcome == Some(false) {
                    entry.failures.push_back(now);
                }
                forget = entry.in_flight == 0 && entry.failures.is_empty();
            }
            if forget {
                maps.addresses.remove(&address);
            }
        }
    }
}

impl Attempt<'_> {
    /// The password was wrong (or the account unknown).
    pub fn failed(mut self, now: Instant) {
        self.end(Some(false), now);
    }

    /// The password was right: this pair's failures and lockouts are forgotten.
    pub fn succeeded(mut self, now: Instant) {
        self.end(Some(true), now);
    }

    fn end(&mut self, outcome: Option<bool>, now: Instant) {
        if !self.done {
            self.done = true;
            self.limiter.finish(&self.key, outcome, now);
        }
    }
}

impl Drop for Attempt<'_> {
    fn drop(&mut self) {
        // Never finished (the check could not run): it no longer counts.
        self.end(None, Instant::now());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy() -> AuthPolicy {
        AuthPolicy {
            login_failures_per_pair: 3,
            login_attempts_per_address: 10,
            login_window: Duration::from_secs(60),
            login_lockout: Duration::from_secs(10),
            login_lockout_max: Duration::from_secs(25),
            limiter_entries: 100,
            ..AuthPolicy::default()
        }
    }

    fn account(n: u32) -> UserId {
        UserId::parse(&format!("138{n:08}")).expect("valid")
    }

    const HOME: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 1)));
    const ELSEWHERE: Option<IpAddr> = Some(IpAddr::V4(std::net::Ipv4Addr::new(10, 0, 0, 2)));

    #[test]
    fn attempts_count_while_they_run() {
        let limiter = LoginLimiter::new(&policy());
        let now = Instant::now();
        let running: Vec<_> = (0..3)
            .map(|_| limiter.admit(&account(1), HOME, now).expect("admitted"))
            .collect();
        assert!(matches!(
            limiter.admit(&account(1), HOME, now),
            Err(Refusal::LockedOut(_))
        ));
        // An attempt that never ran does not count once it is dropped.
        drop(running);
        assert!(limiter.admit(&account(1), HOME, now).is_ok());
    }

    #[test]
    fn lockouts_are_per_pair_and_double() {
        let limiter = LoginLimiter::new(&policy());
        let start = Instant::now();
        for _ in 0..3 {
            limiter
                .admit(&account(1), ELSEWHERE, start)
                .expect("admitted")
                .failed(start);
        }
        assert_eq!(
            limiter.admit(&account(1), ELSEWHERE, start).err(),
            Some(Refusal::LockedOut(Duration::from_secs(10)))
        );
        // The owner at their own desk is not locked out.
        limiter
            .admit(&account(1), HOME, start)
            .expect("admitted")
            .succeeded(start);
        let later = start + Duration::from_secs(10);
        for _ in 0..3 {
            limiter
                .admit(&account(1), ELSEWHERE, later)
                .expect("admitted")
                .failed(later);
        }
        assert_eq!(
            limiter.admit(&account(1), ELSEWHERE, later).err(),
            Some(Refusal::LockedOut(Duration::from_secs(20)))
        );
        let much_later = later + Duration::from_secs(20);
        for _ in 0..3 {
            limiter
                .admit(&account(1), ELSEWHERE, much_later)
                .expect("admitted")
                .failed(much_later);
        }
        // Capped.
        assert_eq!(
            limiter.admit(&account(1), ELSEWHERE, much_later).err(),
            Some(Refusal::LockedOut(Duration::from_secs(25)))
        );
    }

    #[test]
    fn one_address_is_capped_across_accounts() {
        let limiter = LoginLimiter::new(&policy());
        let now = Instant::now();
        for n in 0..10 {
            limiter
                .admit(&account(n), HOME, now)
                .expect("admitted")
                .failed(now);
        }
        assert_eq!(
            limiter.admit(&account(99), HOME, now).err(),
            Some(Refusal::AddressLimited)
        );
        assert!(limiter.admit(&account(99), ELSEWHERE, now).is_ok());
    }

    #[test]
    fn the_maps_stay_bounded() {
        let limiter = LoginLimiter::new(&policy());
        let start = Instant::now();
        for n in 0..5_000u32 {
            let address = Some(IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + n)));
            let now = start + Duration::from_millis(u64::from(n));
            limiter
                .admit(&account(n), address, now)
                .expect("admitted")
                .failed(now);
            let (pairs, addresses) = limiter.remembered();
            assert!(
                pairs <= 100 && addresses <= 100,
                "{pairs} pairs, {addresses} addresses"
            );
        }
        // Once the window has passed, quiet entries are forgotten.
        let later = start + Duration::from_secs(3600);
        for n in 0..200u32 {
            limiter
                .admit(&account(n), HOME, later)
                .expect("admitted")
                .succeeded(later);
        }
        assert!(limiter.remembered().0 <= 100);
    }
}
