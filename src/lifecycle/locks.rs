//! A keyed async mutex: one lock per session id, created on first use and removed when the last
//! holder releases it, so the map stays bounded by the sessions in flight.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

use tokio::sync::{Mutex as AsyncMutex, OwnedMutexGuard};

/// Serialises work per key within one process; different keys proceed in parallel.
pub(crate) struct KeyedLocks<K> {
    entries: Arc<Mutex<HashMap<K, Arc<AsyncMutex<()>>>>>,
}

impl<K> Default for KeyedLocks<K> {
    fn default() -> Self {
        Self {
            entries: Arc::default(),
        }
    }
}

/// Holds the lock of one key; releasing the last holder removes the map entry.
pub(crate) struct KeyedGuard<K: Eq + Hash> {
    key: K,
    entry: Arc<AsyncMutex<()>>,
    guard: Option<OwnedMutexGuard<()>>,
    entries: Arc<Mutex<HashMap<K, Arc<AsyncMutex<()>>>>>,
}

impl<K: Eq + Hash + Clone> KeyedLocks<K> {
    pub(crate) async fn lock(&self, key: &K) -> KeyedGuard<K> {
        let entry = {
            let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
            map.entry(key.clone()).or_default().clone()
        };
        let guard = entry.clone().lock_owned().await;
        KeyedGuard {
            key: key.clone(),
            entry,
            guard: Some(guard),
            entries: self.entries.clone(),
        }
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|e| e.into_inner()).len()
    }
}

impl<K: Eq + Hash> Drop for KeyedGuard<K> {
    fn drop(&mut self) {
        self.guard.take();
        let mut map = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        // Two owners left (the map and us) means nobody else holds or awaits this entry.
        if Arc::strong_count(&self.entry) == 2 {
            map.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn serialises_one_key_and_cleans_up() {
        let locks = Arc::new(KeyedLocks::<String>::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let mut tasks = vec![];
        for _ in 0..32 {
            let (locks, inside) = (locks.clone(), inside.clone());
            tasks.push(tokio::spawn(async move {
                let _g = locks.lock(&"s".to_owned()).await;
                assert_eq!(
                    inside.fetch_add(1, Ordering::SeqCst),
                    0,
                    "two holders at once"
                );
                tokio::task::yield_now().await;
                inside.fetch_sub(1, Ordering::SeqCst);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(locks.len(), 0);
    }

    #[tokio::test]
    async fn different_keys_do_not_block() {
        let locks = KeyedLocks::<String>::default();
        let _a = locks.lock(&"a".to_owned()).await;
        let b = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            locks.lock(&"b".to_owned()),
        )
        .await;
        assert!(b.is_ok());
        assert_eq!(locks.len(), 2);
    }
}
