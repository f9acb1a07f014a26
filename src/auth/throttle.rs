//! How many guesses a client gets: pure arithmetic over a [`Tally`], with
//! the time passed in. Storage (shared by every instance through the
//! database) is `db::throttles`; the decisions are all here.
//!
//! Each throttled thing (an account's sign-ins, one address's failed
//! sign-ins, and from one address: registrations, reset-link attempts,
//! passkey sign-ins started) has a [`Limit`]: so many hits free within an
//! hour, then a lock that doubles with every further hit up to a ceiling,
//! and a hard cap per hour whatever the delays.

use super::clock::UnixTime;

/// Hits are counted in windows of this many seconds.
pub const WINDOW: i64 = 3600;

/// The rule for one kind of throttled action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limit {
    /// Hits within a window before the first lock.
    pub free: u32,
    /// The first lock, in seconds; each further hit doubles it.
    pub first_lock: i64,
    /// No single lock is longer than this.
    pub max_lock: i64,
    /// At this many hits in a window, locked until the window ends.
    pub per_window: u32,
}

/// What has been counted for one key.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub hits: u32,
    pub window_start: UnixTime,
    pub locked_until: UnixTime,
}

impl Tally {
    /// Seconds until the lock ends, when one is running at `now`.
    pub fn locked(&self, now: UnixTime) -> Option<i64> {
        (self.locked_until > now).then(|| self.locked_until - now)
    }
}

impl Limit {
    /// `tally` with one more hit at `now`, and the lock that hit earns.
    /// A window older than [`WINDOW`] starts over.
    pub fn hit(&self, tally: Tally, now: UnixTime) -> Tally {
        let mut t = if now - tally.window_start >= WINDOW {
            Tally { hits: 0, window_start: now, locked_until: tally.locked_until }
        } else {
            tally
        };
        t.hits = t.hits.saturating_add(1);
        let until = if t.hits >= self.per_window {
            t.window_start + WINDOW
        } else if t.hits >= self.free {
            let doublings = (t.hits - self.free).min(32);
            now + self.first_lock.saturating_mul(1_i64 << doublings).min(self.max_lock)
        } else {
            0
        };
        t.locked_until = t.locked_until.max(until);
        t
    }
}

/// The limits for each throttled action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Sign-in and password-confirmation attempts on one account name
    /// (existing or not), from anywhere.
    pub account: Limit,
    /// Failed sign-ins from one address (an IPv4 address or an IPv6 /64),
    /// whatever the names tried.
    pub address: Limit,
    /// Accounts created from one address.
    pub registration: Limit,
    /// Reset-link look-ups and uses from one address.
    pub reset: Limit,
    /// Passkey sign-ins started from one address (each `/login` view with
    /// passkey autofill starts one).
    pub passkey: Limit,
}

impl Default for ThrottlePolicy {
    fn default() -> Self {
        Self {
            account: Limit { free: 5, first_lock: 30, max_lock: 15 * 60, per_window: 100 },
            address: Limit { free: 20, first_lock: 30, max_lock: 15 * 60, per_window: 200 },
            registration: Limit { free: 10, first_lock: 60, max_lock: WINDOW, per_window: 30 },
            reset: Limit { free: 10, first_lock: 30, max_lock: 15 * 60, per_window: 50 },
            passkey: Limit { free: 120, first_lock: 5, max_lock: 5 * 60, per_window: 600 },
        }
    }
}

/// A lock, as the client hears of it: how long to wait.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Locked {
    pub retry_after: i64,
}

/// The key a client's guesses are counted under: the address, or for
/// IPv6 its /64 network (one subscriber's allocation, trivially rotated
/// within).
pub fn address_bucket(ip: std::net::IpAddr) -> String {
    match ip.to_canonical() {
        std::net::IpAddr::V4(v4) => v4.to_string(),
        std::net::IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOGIN: Limit = Limit { free: 5, first_lock: 30, max_lock: 900, per_window: 100 };
    const T0: UnixTime = 1_000_000;

    fn hits(limit: &Limit, n: u32, now: UnixTime) -> Tally {
        (0..n).fold(Tally::default(), |t, _| limit.hit(t, now))
    }

    #[test]
    fn the_first_hits_are_free() {
        let t = hits(&LOGIN, 4, T0);
        assert_eq!(t.hits, 4);
        assert_eq!(t.locked(T0), None);
    }

    #[test]
    fn the_fifth_hit_locks_and_each_further_one_doubles_the_lock() {
        assert_eq!(hits(&LOGIN, 5, T0).locked(T0), Some(30));
        assert_eq!(hits(&LOGIN, 6, T0).locked(T0), Some(60));
        assert_eq!(hits(&LOGIN, 7, T0).locked(T0), Some(120));
    }

    #[test]
    fn the_lock_stops_at_the_ceiling() {
        assert_eq!(hits(&LOGIN, 10, T0).locked(T0), Some(900));
        assert_eq!(hits(&LOGIN, 60, T0).locked(T0), Some(900));
    }

    #[test]
    fn the_hourly_cap_locks_until_the_window_ends() {
        let limit = Limit { free: 5, first_lock: 1, max_lock: 2, per_window: 10 };
        let t = hits(&limit, 10, T0 + 100);
        assert_eq!(t.locked(T0 + 100), Some(WINDOW));
    }

    #[test]
    fn a_new_window_starts_the_count_again_but_keeps_a_running_lock() {
        let t = hits(&LOGIN, 10, T0);
        let later = T0 + WINDOW;
        let t = LOGIN.hit(t, later);
        assert_eq!((t.hits, t.window_start), (1, later));
        let t = Tally { locked_until: later + 5, ..hits(&LOGIN, 3, T0) };
        assert_eq!(LOGIN.hit(t, later).locked(later), Some(5));
    }

    #[test]
    fn a_lock_is_never_shortened() {
        let t = Tally { hits: 0, window_start: T0, locked_until: T0 + 500 };
        assert_eq!(LOGIN.hit(t, T0).locked(T0), Some(500));
    }

    #[test]
    fn huge_counts_do_not_overflow() {
        let t = Tally { hits: u32::MAX - 2, window_start: T0, locked_until: 0 };
        let limit = Limit { per_window: u32::MAX, ..LOGIN };
        let t = limit.hit(t, T0);
        assert_eq!(t.locked(T0), Some(900));
        let t = limit.hit(limit.hit(t, T0), T0);
        assert_eq!((t.hits, t.locked(T0)), (u32::MAX, Some(WINDOW)));
    }

    fn ip(s: &str) -> std::net::IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ipv6_clients_are_counted_by_network() {
        assert_eq!(address_bucket(ip("2001:db8:1:2:3:4:5:6")), "2001:db8:1:2::/64");
        assert_eq!(address_bucket(ip("2001:db8:1:2:ffff::1")), "2001:db8:1:2::/64");
        assert_eq!(address_bucket(ip("::ffff:192.0.2.1")), "192.0.2.1");
    }
}
