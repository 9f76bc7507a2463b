//! A bounded map with first-in-first-out eviction: the SCM observer's in-memory caches (ETags,
//! PR state, review threads, log tails) hold at most 512 entries each and are never persisted.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;

#[derive(Debug, Clone)]
pub(crate) struct Fifo<K, V> {
    capacity: usize,
    map: HashMap<K, V>,
    order: VecDeque<K>,
}

impl<K: Clone + Eq + Hash, V> Fifo<K, V> {
    pub(crate) fn new(capacity: usize) -> Self {
        Self {
            capacity,
            map: HashMap::new(),
            order: VecDeque::new(),
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<&V> {
        self.map.get(key)
    }

    /// Inserts or replaces; a new key beyond the capacity evicts the oldest key.
    pub(crate) fn insert(&mut self, key: K, value: V) {
        if self.map.insert(key.clone(), value).is_none() {
            self.order.push_back(key);
            while self.order.len() > self.capacity {
                if let Some(oldest) = self.order.pop_front() {
                    self.map.remove(&oldest);
                }
            }
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_oldest_entry_first() {
        let mut cache = Fifo::new(3);
        for i in 0..3 {
            cache.insert(i, i * 10);
        }
        // Replacing keeps the entry's place in line.
        cache.insert(0, 1);
        cache.insert(3, 30);
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get(&0), None, "the oldest went first");
        assert_eq!(cache.get(&1), Some(&10));
        assert_eq!(cache.get(&3), Some(&30));
        for i in 4..600 {
            cache.insert(i, i);
        }
        assert_eq!(cache.len(), 3);
        assert_eq!(cache.get(&599), Some(&599));
        assert_eq!(cache.get(&596), None);
    }
}
