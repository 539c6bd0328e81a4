//! Stable sorting compiled once. Every `slice::sort_by` call with its own
//! element type or closure compiles the standard library's sort again (about
//! 3 KB of WebAssembly each), and collecting into a `BTreeMap` sorts too. The
//! engine and the web app sort through [`sort_by`] instead: the generic part
//! only compares and swaps, and the one sort it calls orders indices.

use std::cmp::Ordering;
use std::collections::BTreeMap;

/// Sorts `items` by `compare`, keeping equal items in their order, like
/// `slice::sort_by`.
pub fn sort_by<T>(items: &mut [T], mut compare: impl FnMut(&T, &T) -> Ordering) {
    let order = sorted_indices(items.len(), &mut |a, b| compare(&items[a], &items[b]));
    permute(order, &mut |a, b| items.swap(a, b));
}

/// Sorts `items` by a key, keeping items with equal keys in their order,
/// like `slice::sort_by_key`.
pub fn sort_by_key<T, K: Ord>(items: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(items, |a, b| key(a).cmp(&key(b)));
}

/// A map of the pairs; a later pair replaces an earlier one with the same
/// key, as `collect()` does, but inserting one by one sorts nothing.
pub fn map_of<K: Ord, V>(pairs: impl IntoIterator<Item = (K, V)>) -> BTreeMap<K, V> {
    let mut map = BTreeMap::new();
    map.extend(pairs);
    map
}

/// The indices `0..len` in the order `compare` gives them (stable).
fn sorted_indices(len: usize, compare: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<usize> {
    let mut order: Vec<usize> = (0..len).collect();
    order.sort_by(|&a, &b| compare(a, b));
    order
}

/// Moves the item at `order[i]` to `i` by swaps, walking each cycle of the
/// permutation once.
fn permute(mut order: Vec<usize>, swap: &mut dyn FnMut(usize, usize)) {
    const PLACED: usize = usize::MAX;
    for start in 0..order.len() {
        let mut at = start;
        while order[at] != PLACED {
            let from = order[at];
            order[at] = PLACED;
            if from == start {
                break;
            }
            swap(at, from);
            at = from;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sorts_like_the_standard_stable_sort() {
        // Pairs sorted by their first half only: the second half shows
        // whether equal keys kept their order.
        let mut seed = 7u64;
        for len in [0usize, 1, 2, 3, 10, 33, 200] {
            let items: Vec<(u8, usize)> = (0..len)
                .map(|i| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    ((seed >> 60) as u8, i)
                })
                .collect();
            let mut ours = items.clone();
            sort_by_key(&mut ours, |p| p.0);
            let mut std = items.clone();
            std.sort_by_key(|p| p.0);
            assert_eq!(ours, std, "length {len}");
            let mut reversed = items.clone();
            sort_by(&mut reversed, |a, b| b.0.cmp(&a.0));
            let mut std_reversed = items;
            std_reversed.sort_by_key(|p| std::cmp::Reverse(p.0));
            assert_eq!(reversed, std_reversed, "length {len}, descending");
        }
    }

    #[test]
    fn a_map_keeps_the_last_value_of_a_key() {
        let map = map_of([(2, "a"), (1, "b"), (2, "c")]);
        assert_eq!(map, BTreeMap::from([(1, "b"), (2, "c")]));
    }
}
