//! A small ordered map and set kept as one sorted vector. The engine's maps
//! hold tens to a few thousand entries; a `BTreeMap` compiles its node
//! splitting, merging and stealing again for every key/value pair of types
//! (about 5 KB of WebAssembly each), where this compiles a binary search
//! once ([`position`]) and the vector's insert and remove per type.
//! Iteration is in key order, like `BTreeMap`'s.

use std::cmp::Ordering;
use std::fmt;

/// A map ordered by key. Inserting in ascending order appends; inserting
/// elsewhere moves the entries after it, so it suits maps of modest size.
#[derive(Clone, PartialEq, Eq)]
pub struct SortedMap<K, V> {
    entries: Vec<(K, V)>,
}

/// A set ordered by value (a [`SortedMap`] without values).
#[derive(Clone, PartialEq, Eq)]
pub struct SortedSet<K> {
    map: SortedMap<K, ()>,
}

/// Where the entry that `compare` says is equal stands (`Ok`), or where it
/// would go (`Err`): one binary search for every key type.
fn position(len: usize, compare: &mut dyn FnMut(usize) -> Ordering) -> Result<usize, usize> {
    let (mut low, mut high) = (0, len);
    while low < high {
        let middle = low + (high - low) / 2;
        match compare(middle) {
            Ordering::Less => low = middle + 1,
            Ordering::Greater => high = middle,
            Ordering::Equal => return Ok(middle),
        }
    }
    Err(low)
}

impl<K, V> Default for SortedMap<K, V> {
    fn default() -> Self {
        SortedMap {
            entries: Vec::new(),
        }
    }
}

impl<K: fmt::Debug, V: fmt::Debug> fmt::Debug for SortedMap<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}

impl<K, V> SortedMap<K, V> {
    /// As `BTreeMap::iter`.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = (&K, &V)> + ExactSizeIterator {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// As `BTreeMap::iter_mut`.
    pub fn iter_mut(
        &mut self,
    ) -> impl DoubleEndedIterator<Item = (&K, &mut V)> + ExactSizeIterator {
        self.entries.iter_mut().map(|(k, v)| (&*k, v))
    }

    /// As `BTreeMap::keys`.
    pub fn keys(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.entries.iter().map(|(k, _)| k)
    }

    /// As `BTreeMap::values`.
    pub fn values(&self) -> impl DoubleEndedIterator<Item = &V> + ExactSizeIterator {
        self.entries.iter().map(|(_, v)| v)
    }

    /// As `BTreeMap::values_mut`.
    pub fn values_mut(&mut self) -> impl DoubleEndedIterator<Item = &mut V> + ExactSizeIterator {
        self.entries.iter_mut().map(|(_, v)| v)
    }

    /// As `BTreeMap::into_values`.
    pub fn into_values(self) -> impl DoubleEndedIterator<Item = V> + ExactSizeIterator {
        self.entries.into_iter().map(|(_, v)| v)
    }
}

impl<K: Ord, V> SortedMap<K, V> {
    /// As `BTreeMap::new`.
    pub fn new() -> Self {
        SortedMap::default()
    }

    fn find(&self, key: &K) -> Result<usize, usize> {
        position(self.entries.len(), &mut |i| self.entries[i].0.cmp(key))
    }

    /// As `BTreeMap::len`.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// As `BTreeMap::is_empty`.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// As `BTreeMap::contains_key`.
    pub fn contains_key(&self, key: &K) -> bool {
        self.find(key).is_ok()
    }

    /// As `BTreeMap::get`.
    pub fn get(&self, key: &K) -> Option<&V> {
        self.find(key).ok().map(|i| &self.entries[i].1)
    }

    /// As `BTreeMap::get_mut`.
    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        match self.find(key) {
            Ok(i) => Some(&mut self.entries[i].1),
            Err(_) => None,
        }
    }

    /// Sets `key` to `value`; gives back the value it replaced.
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        match self.find(&key) {
            Ok(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            Err(i) => {
                self.entries.insert(i, (key, value));
                None
            }
        }
    }

    /// As `BTreeMap::remove`.
    pub fn remove(&mut self, key: &K) -> Option<V> {
        match self.find(key) {
            Ok(i) => Some(self.entries.remove(i).1),
            Err(_) => None,
        }
    }

    /// The value of `key`, made by `make` first if there is none.
    pub fn get_or_insert_with(&mut self, key: K, make: impl FnOnce() -> V) -> &mut V {
        let i = match self.find(&key) {
            Ok(i) => i,
            Err(i) => {
                self.entries.insert(i, (key, make()));
                i
            }
        };
        &mut self.entries[i].1
    }

    /// Keeps the entries `keep` says yes to, in order.
    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.entries.retain_mut(|(k, v)| keep(k, v));
    }

    /// As `BTreeMap::first_key_value`.
    pub fn first_key_value(&self) -> Option<(&K, &V)> {
        self.entries.first().map(|(k, v)| (k, v))
    }

    /// As `BTreeMap::last_key_value`.
    pub fn last_key_value(&self) -> Option<(&K, &V)> {
        self.entries.last().map(|(k, v)| (k, v))
    }

    /// As `BTreeMap::clear`.
    pub fn clear(&mut self) {
        self.entries.clear();
    }
}

impl<K: Ord, V> Extend<(K, V)> for SortedMap<K, V> {
    /// A later pair replaces an earlier one with the same key.
    fn extend<I: IntoIterator<Item = (K, V)>>(&mut self, pairs: I) {
        for (key, value) in pairs {
            self.insert(key, value);
        }
    }
}

impl<K: Ord, V> FromIterator<(K, V)> for SortedMap<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(pairs: I) -> Self {
        let mut map = SortedMap::new();
        map.extend(pairs);
        map
    }
}

impl<K, V> IntoIterator for SortedMap<K, V> {
    type Item = (K, V);
    type IntoIter = std::vec::IntoIter<(K, V)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl<K> Default for SortedSet<K> {
    fn default() -> Self {
        SortedSet {
            map: SortedMap::default(),
        }
    }
}

impl<K: fmt::Debug> fmt::Debug for SortedSet<K> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter()).finish()
    }
}

impl<K> SortedSet<K> {
    /// As `BTreeSet::iter`.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &K> + ExactSizeIterator {
        self.map.keys()
    }
}

impl<K: Ord> SortedSet<K> {
    /// As `BTreeSet::new`.
    pub fn new() -> Self {
        SortedSet::default()
    }

    /// As `BTreeSet::len`.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// As `BTreeSet::is_empty`.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// As `BTreeSet::contains`.
    pub fn contains(&self, value: &K) -> bool {
        self.map.contains_key(value)
    }

    /// Adds `value`; false when it was there already.
    pub fn insert(&mut self, value: K) -> bool {
        match self.map.find(&value) {
            Ok(_) => false,
            Err(i) => {
                self.map.entries.insert(i, (value, ()));
                true
            }
        }
    }

    /// Removes `value`; false when it was not there.
    pub fn remove(&mut self, value: &K) -> bool {
        self.map.remove(value).is_some()
    }

    /// As `BTreeSet::retain`.
    pub fn retain(&mut self, mut keep: impl FnMut(&K) -> bool) {
        self.map.retain(|k, ()| keep(k));
    }

    /// As `BTreeSet::first`.
    pub fn first(&self) -> Option<&K> {
        self.map.first_key_value().map(|(k, ())| k)
    }

    /// As `BTreeSet::clear`.
    pub fn clear(&mut self) {
        self.map.clear();
    }
}

impl<K: Ord> Extend<K> for SortedSet<K> {
    fn extend<I: IntoIterator<Item = K>>(&mut self, values: I) {
        for value in values {
            self.insert(value);
        }
    }
}

impl<K: Ord> FromIterator<K> for SortedSet<K> {
    fn from_iter<I: IntoIterator<Item = K>>(values: I) -> Self {
        let mut set = SortedSet::new();
        set.extend(values);
        set
    }
}

impl<K> IntoIterator for SortedSet<K> {
    type Item = K;
    type IntoIter = std::iter::Map<std::vec::IntoIter<(K, ())>, fn((K, ())) -> K>;

    fn into_iter(self) -> Self::IntoIter {
        self.map.entries.into_iter().map(|(k, ())| k)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::{BTreeMap, BTreeSet};

    #[test]
    fn behaves_like_a_btree_map_for_a_mixed_sequence() {
        let mut ours = SortedMap::new();
        let mut theirs = BTreeMap::new();
        // A fixed pseudo-random walk of inserts, replacements and removals.
        let mut x: u32 = 7;
        for step in 0..2000u32 {
            x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
            let key = (x >> 16) % 64;
            if step % 3 == 0 {
                assert_eq!(ours.remove(&key), theirs.remove(&key));
            } else {
                assert_eq!(ours.insert(key, step), theirs.insert(key, step));
            }
            assert_eq!(ours.get(&key), theirs.get(&key));
        }
        assert!(ours.iter().eq(theirs.iter()));
        assert_eq!(ours.len(), theirs.len());
        assert_eq!(ours.first_key_value(), theirs.first_key_value());
        assert_eq!(ours.last_key_value(), theirs.last_key_value());
        ours.retain(|k, _| k % 2 == 0);
        theirs.retain(|k, _| k % 2 == 0);
        assert!(ours.into_iter().eq(theirs));
    }

    #[test]
    fn a_later_pair_replaces_an_earlier_one_when_collected() {
        let map: SortedMap<u8, &str> = [(2, "a"), (1, "b"), (2, "c")].into_iter().collect();
        assert_eq!(map.iter().collect::<Vec<_>>(), [(&1, &"b"), (&2, &"c")]);
    }

    #[test]
    fn a_set_keeps_values_once_in_order() {
        let mut ours = SortedSet::new();
        let mut theirs = BTreeSet::new();
        for value in [5, 3, 9, 3, 1, 9, 4] {
            assert_eq!(ours.insert(value), theirs.insert(value));
        }
        assert_eq!(ours.remove(&3), theirs.remove(&3));
        assert_eq!(ours.remove(&3), theirs.remove(&3));
        assert!(ours.iter().eq(theirs.iter()));
        assert_eq!(ours.first(), theirs.first());
    }
}
