//! Turns per key within this process: attempts on one account name run
//! one after another, so each starts knowing how the one before it ended.
//!
//! The throttle counts a password attempt when it starts (so a burst of
//! parallel guesses is counted one by one). Without turns, fifty right
//! sign-ins at once would all be counted before the first one cleared the
//! count, and the sixth would find the account locked. With turns, a right
//! one clears the count before the next is counted, and wrong ones still
//! reach the limit one by one. Other instances keep counting at the start,
//! through the database; turns only order this instance's own.
//!
//! Entries live only while someone holds or waits for a turn, so the map
//! is as large as the attempts in flight (bounded by the hasher's queue).

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::{Mutex as Turn, OwnedMutexGuard};

/// Entries past which idle ones are swept out.
const SWEEP_AT: usize = 1024;

/// One queue per key.
#[derive(Default)]
pub struct Turns {
    queues: Mutex<HashMap<String, Arc<Turn<()>>>>,
}

/// A turn: the key's next attempt waits until this is dropped.
pub struct Held {
    key: String,
    turns: Arc<Turns>,
    guard: Option<OwnedMutexGuard<()>>,
}

impl Turns {
    /// Waits for `key`'s turn.
    pub async fn take(self: &Arc<Self>, key: &str) -> Held {
        let queue = {
            let mut queues = self.queues.lock().unwrap_or_else(PoisonError::into_inner);
            if queues.len() >= SWEEP_AT {
                // A waiter given up just as its holder left can leave an
                // entry nobody holds: drop those.
                queues.retain(|_, q| Arc::strong_count(q) > 1);
            }
            Arc::clone(queues.entry(key.to_owned()).or_default())
        };
        let guard = queue.lock_owned().await;
        Held { key: key.to_owned(), turns: Arc::clone(self), guard: Some(guard) }
    }

    /// Keys with someone holding or waiting for their turn.
    pub fn busy(&self) -> usize {
        self.queues.lock().unwrap_or_else(PoisonError::into_inner).len()
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        drop(self.guard.take());
        let mut queues = self.turns.queues.lock().unwrap_or_else(PoisonError::into_inner);
        // Only the map holds it now: nobody waits, so the entry goes.
        if queues.get(&self.key).is_some_and(|q| Arc::strong_count(q) == 1) {
            queues.remove(&self.key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_key_takes_turns_and_others_do_not_wait() {
        let turns = Arc::new(Turns::default());
        let inside = Arc::new(AtomicUsize::new(0));
        let most = Arc::new(AtomicUsize::new(0));
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let (turns, inside, most) = (Arc::clone(&turns), Arc::clone(&inside), Arc::clone(&most));
                tokio::spawn(async move {
                    let _turn = turns.take("alice").await;
                    let now = inside.fetch_add(1, Ordering::SeqCst) + 1;
                    most.fetch_max(now, Ordering::SeqCst);
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    inside.fetch_sub(1, Ordering::SeqCst);
                })
            })
            .collect();
        // Another name is not held up by alice's queue.
        let other = tokio::time::timeout(Duration::from_millis(500), turns.take("bob")).await;
        assert!(other.is_ok(), "bob waited for alice");
        drop(other);
        for t in tasks {
            t.await.unwrap();
        }
        assert_eq!(most.load(Ordering::SeqCst), 1, "two of alice's attempts ran at once");
        assert_eq!(turns.busy(), 0, "finished turns leave nothing behind");
    }

    #[tokio::test]
    async fn a_turn_given_up_while_waiting_leaves_nothing_behind() {
        let turns = Arc::new(Turns::default());
        let first = turns.take("alice").await;
        let waiting = tokio::time::timeout(Duration::from_millis(10), turns.take("alice")).await;
        assert!(waiting.is_err(), "the second waits for the first");
        drop(first);
        assert_eq!(turns.busy(), 0);
    }
}
