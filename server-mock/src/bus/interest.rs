//! Subscription bookkeeping: how many holds each topic has on this node, so
//! that the first hold subscribes and the last release unsubscribes (a user
//! with three sessions here is one subscription, gone with the third).

use std::collections::HashMap;
use std::hash::Hash;

/// What a hold or a release asks of the link.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Change {
    /// The first hold: subscribe.
    Subscribe,
    /// The last release: unsubscribe.
    Unsubscribe,
    /// Nothing: the subscription stays as it is.
    Keep,
}

/// How many holds each topic has.
#[derive(Debug)]
pub struct Interest<K> {
    holds: HashMap<K, usize>,
}

impl<K> Default for Interest<K> {
    fn default() -> Self {
        Interest {
            holds: HashMap::new(),
        }
    }
}

impl<K: Hash + Eq + Clone> Interest<K> {
    /// One more hold of `key`.
    pub fn hold(&mut self, key: &K) -> Change {
        let count = self.holds.entry(key.clone()).or_insert(0);
        *count += 1;
        if *count == 1 {
            Change::Subscribe
        } else {
            Change::Keep
        }
    }

    /// One hold of `key` fewer; a release of a key not held changes nothing.
    pub fn release(&mut self, key: &K) -> Change {
        match self.holds.get_mut(key) {
            None => Change::Keep,
            Some(count) if *count <= 1 => {
                self.holds.remove(key);
                Change::Unsubscribe
            }
            Some(count) => {
                *count -= 1;
                Change::Keep
            }
        }
    }

    /// How many holds `key` has.
    pub fn holds(&self, key: &K) -> usize {
        self.holds.get(key).copied().unwrap_or(0)
    }

    /// How many keys are held (subscriptions open).
    pub fn len(&self) -> usize {
        self.holds.len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.holds.is_empty()
    }
}
