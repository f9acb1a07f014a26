//! Key rotation as arithmetic on time. Each stored key has the moment it
//! starts signing; the newest key whose moment has come signs, and the key
//! it replaced keeps verifying for a grace period (the access-token
//! lifetime plus leeway), so nobody holding a token it signed is signed
//! out. A key whose moment has not come yet is already published, so
//! services that cache the JWKS know it before it signs anything.
//!
//! No clock, database or file here: the stored keys and `now` come in.

use super::clock::UnixTime;
use super::keys::{KeyRing, SigningKey};

/// A stored key and the moment it starts signing. `seq` orders keys
/// created at the same moment.
#[derive(Clone, Debug)]
pub struct Scheduled {
    pub seq: i64,
    pub key: SigningKey,
    pub signs_from: UnixTime,
}

/// Where a key is in its life at some moment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// Published, verifies, signs from this moment on.
    Upcoming { signs_from: UnixTime },
    /// Signs new tokens.
    Signing,
    /// Replaced; still verifies the tokens it signed until then.
    Verifying { until: UnixTime },
    /// Verifies nothing any more.
    Retired,
}

/// Every stored key, in signing order, and the grace period.
#[derive(Clone, Debug)]
pub struct Schedule {
    keys: Vec<Scheduled>,
    grace: i64,
}

impl Schedule {
    /// `keys` in any order; `None` when there is none.
    pub fn new(mut keys: Vec<Scheduled>, grace: i64) -> Option<Self> {
        keys.sort_by_key(|k| (k.signs_from, k.seq));
        (!keys.is_empty()).then_some(Self { keys, grace })
    }

    /// A schedule of one key that always signs (a configured secret).
    pub fn fixed(key: SigningKey) -> Self {
        Self { keys: vec![Scheduled { seq: 0, key, signs_from: UnixTime::MIN }], grace: 0 }
    }

    /// The keys in signing order.
    pub fn keys(&self) -> &[Scheduled] {
        &self.keys
    }

    /// The index of the key signing at `now`: the last whose moment has
    /// come (the first, if none has: there is always a signer).
    fn signer(&self, now: UnixTime) -> usize {
        self.keys.iter().rposition(|k| k.signs_from <= now).unwrap_or(0)
    }

    /// Where the key at `index` is at `now`.
    pub fn stage(&self, index: usize, now: UnixTime) -> Stage {
        let signer = self.signer(now);
        if index == signer {
            return Stage::Signing;
        }
        if index > signer {
            return Stage::Upcoming { signs_from: self.keys[index].signs_from };
        }
        let until = self.keys[index + 1].signs_from.saturating_add(self.grace);
        if now < until { Stage::Verifying { until } } else { Stage::Retired }
    }

    /// The ring in force at `now`, and the moment it next changes.
    pub fn ring_at(&self, now: UnixTime) -> (KeyRing, UnixTime) {
        let mut next_change = UnixTime::MAX;
        let mut others = Vec::new();
        for (i, k) in self.keys.iter().enumerate() {
            match self.stage(i, now) {
                Stage::Upcoming { signs_from } => {
                    next_change = next_change.min(signs_from);
                    others.push(k.key.clone());
                }
                Stage::Verifying { until } => {
                    next_change = next_change.min(until);
                    others.push(k.key.clone());
                }
                Stage::Signing | Stage::Retired => {}
            }
        }
        (KeyRing::new(self.keys[self.signer(now)].key.clone(), others), next_change)
    }

    /// The keys to publish at `now`: every one that is not retired.
    pub fn published(&self, now: UnixTime) -> impl Iterator<Item = &SigningKey> {
        self.keys.iter().enumerate().filter(move |(i, _)| self.stage(*i, now) != Stage::Retired).map(|(_, k)| &k.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::keys::KeyAlgorithm;

    const GRACE: i64 = 910;

    fn key(seq: i64, signs_from: UnixTime) -> Scheduled {
        Scheduled { seq, key: SigningKey::generate(KeyAlgorithm::EdDsa).unwrap().0, signs_from }
    }

    fn kids(ring: &KeyRing, schedule: &Schedule) -> Vec<bool> {
        schedule.keys().iter().map(|k| ring.find(k.key.kid()).is_some()).collect()
    }

    #[test]
    fn a_scheduled_key_is_published_before_it_signs() {
        let s = Schedule::new(vec![key(1, 0), key(2, 1000)], GRACE).unwrap();
        let (ring, next) = s.ring_at(500);
        assert_eq!(ring.active().kid(), s.keys()[0].key.kid());
        assert_eq!(kids(&ring, &s), [true, true], "the upcoming key already verifies");
        assert_eq!(next, 1000);
        assert_eq!(s.stage(1, 500), Stage::Upcoming { signs_from: 1000 });
        assert_eq!(s.published(500).count(), 2);
    }

    #[test]
    fn the_new_key_signs_at_its_moment_and_the_old_one_verifies_through_the_grace() {
        let s = Schedule::new(vec![key(2, 1000), key(1, 0)], GRACE).unwrap();
        let (ring, next) = s.ring_at(1000);
        assert_eq!(ring.active().kid(), s.keys()[1].key.kid());
        assert_eq!(kids(&ring, &s), [true, true]);
        assert_eq!(next, 1000 + GRACE);
        assert_eq!(s.stage(0, 1000), Stage::Verifying { until: 1000 + GRACE });
    }

    #[test]
    fn after_the_grace_the_old_key_verifies_nothing_and_is_not_published() {
        let s = Schedule::new(vec![key(1, 0), key(2, 1000)], GRACE).unwrap();
        let (ring, next) = s.ring_at(1000 + GRACE);
        assert_eq!(kids(&ring, &s), [false, true]);
        assert_eq!(next, UnixTime::MAX);
        assert_eq!(s.stage(0, 1000 + GRACE), Stage::Retired);
        assert_eq!(s.published(1000 + GRACE).count(), 1);
    }

    #[test]
    fn keys_made_at_the_same_moment_are_ordered_by_sequence() {
        let s = Schedule::new(vec![key(2, 0), key(1, 0)], GRACE).unwrap();
        assert_eq!(s.keys()[0].seq, 1);
        assert_eq!(s.ring_at(0).0.active().kid(), s.keys()[1].key.kid());
    }

    #[test]
    fn there_is_always_a_signer() {
        let s = Schedule::new(vec![key(1, 5000)], GRACE).unwrap();
        assert_eq!(s.ring_at(0).0.active().kid(), s.keys()[0].key.kid());
        assert!(Schedule::new(Vec::new(), GRACE).is_none());
    }
}
