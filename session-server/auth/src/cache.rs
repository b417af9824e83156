//! The cache of `/Users/Me` answers.
//!
//! Keyed by a keyed hash of the token, never by the token: a memory dump or a debug print of
//! the cache reveals no credential. The hash is SipHash with the process's random key
//! (`RandomState`), computed twice with different domain bytes for a 128-bit key, so a
//! stranger can neither predict keys nor find two tokens that share one.

use std::collections::hash_map::RandomState;
use std::collections::HashMap;
use std::hash::BuildHasher;
use std::time::Duration;

use tokio::time::Instant;

/// A token's cache key.
pub(crate) type TokenKey = (u64, u64);

/// What Jellyfin said about a token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Answer {
    /// 200: the user it belongs to.
    User { user_id: String, name: String },
    /// 401/403: not a valid token.
    Rejected,
}

struct Entry {
    answer: Answer,
    expires: Instant,
}

/// Bounded map from token key to Jellyfin's answer, with separate lifetimes for positive and
/// negative answers.
pub(crate) struct TokenCache {
    hasher: RandomState,
    entries: HashMap<TokenKey, Entry>,
    max_entries: usize,
    positive_ttl: Duration,
    negative_ttl: Duration,
}

impl TokenCache {
    pub(crate) fn new(max_entries: usize, positive_ttl: Duration, negative_ttl: Duration) -> Self {
        TokenCache {
            hasher: RandomState::new(),
            entries: HashMap::new(),
            max_entries,
            positive_ttl,
            negative_ttl,
        }
    }

    /// The cache key of a token.
    pub(crate) fn key(&self, token: &str) -> TokenKey {
        (
            self.hasher.hash_one((0u8, token)),
            self.hasher.hash_one((1u8, token)),
        )
    }

    /// A still-valid answer for this key.
    pub(crate) fn get(&mut self, key: TokenKey) -> Option<Answer> {
        let now = Instant::now();
        match self.entries.get(&key) {
            Some(e) if e.expires > now => Some(e.answer.clone()),
            Some(_) => {
                self.entries.remove(&key);
                None
            }
            None => None,
        }
    }

    /// Remember an answer. When the cache is full, expired entries go first, then arbitrary
    /// ones: the bound matters more than the hit rate.
    pub(crate) fn insert(&mut self, key: TokenKey, answer: Answer) {
        let ttl = match answer {
            Answer::User { .. } => self.positive_ttl,
            Answer::Rejected => self.negative_ttl,
        };
        if ttl.is_zero() || self.max_entries == 0 {
            return;
        }
        let now = Instant::now();
        if self.entries.len() >= self.max_entries && !self.entries.contains_key(&key) {
            self.entries.retain(|_, e| e.expires > now);
            while self.entries.len() >= self.max_entries {
                let Some(victim) = self.entries.keys().next().copied() else {
                    break;
                };
                self.entries.remove(&victim);
            }
        }
        self.entries.insert(
            key,
            Entry {
                answer,
                expires: now + ttl,
            },
        );
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn user(id: &str) -> Answer {
        Answer::User {
            user_id: id.into(),
            name: "N".into(),
        }
    }

    #[tokio::test(start_paused = true)]
    async fn positive_answers_live_their_ttl_and_no_longer() {
        let mut c = TokenCache::new(10, Duration::from_secs(60), Duration::from_secs(5));
        let k = c.key("tok-a");
        c.insert(k, user("a"));
        tokio::time::advance(Duration::from_secs(59)).await;
        assert_eq!(c.get(k), Some(user("a")));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(c.get(k), None);
    }

    #[tokio::test(start_paused = true)]
    async fn negative_answers_live_the_shorter_ttl() {
        let mut c = TokenCache::new(10, Duration::from_secs(60), Duration::from_secs(5));
        let k = c.key("bad");
        c.insert(k, Answer::Rejected);
        tokio::time::advance(Duration::from_secs(4)).await;
        assert_eq!(c.get(k), Some(Answer::Rejected));
        tokio::time::advance(Duration::from_secs(2)).await;
        assert_eq!(c.get(k), None);
    }

    #[tokio::test(start_paused = true)]
    async fn size_stays_bounded_and_expired_entries_go_first() {
        let mut c = TokenCache::new(3, Duration::from_secs(60), Duration::from_secs(5));
        let old = c.key("old");
        c.insert(old, Answer::Rejected);
        tokio::time::advance(Duration::from_secs(6)).await;
        let keep: Vec<_> = ["a", "b"].iter().map(|t| c.key(t)).collect();
        for (i, k) in keep.iter().enumerate() {
            c.insert(*k, user(&i.to_string()));
        }
        let new = c.key("c");
        c.insert(new, user("c"));
        assert_eq!(c.len(), 3);
        assert_eq!(c.get(new), Some(user("c")));
        assert!(
            keep.iter().all(|k| c.get(*k).is_some()),
            "the expired entry should have been evicted"
        );
        for i in 0..100 {
            let k = c.key(&format!("t{i}"));
            c.insert(k, user("x"));
        }
        assert_eq!(c.len(), 3);
    }

    #[test]
    fn keys_differ_per_token_and_per_process_key() {
        let a = TokenCache::new(1, Duration::from_secs(1), Duration::from_secs(1));
        let b = TokenCache::new(1, Duration::from_secs(1), Duration::from_secs(1));
        assert_eq!(a.key("token"), a.key("token"));
        assert_ne!(a.key("token"), a.key("token2"));
        assert_ne!(
            a.key("token"),
            b.key("token"),
            "each cache has its own random key"
        );
    }

    #[test]
    fn zero_ttl_disables_caching() {
        let mut c = TokenCache::new(10, Duration::ZERO, Duration::ZERO);
        let k = c.key("t");
        c.insert(k, user("a"));
        assert_eq!(c.get(k), None);
    }
}
