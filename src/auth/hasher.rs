//! Argon2id off the async threads, with bounded concurrency and a bounded
//! queue, plus a dummy hash so an unknown user costs the same as a known one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use super::password::{self, HashError, HashParams};
use crate::domain::Password;

/// Why a hashing request was not served.
#[derive(Debug, thiserror::Error)]
pub enum HasherError {
    #[error("too many password checks are queued")]
    Busy,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("the hashing task failed")]
    Join(#[from] tokio::task::JoinError),
}

/// Cheap to clone; all clones share the limits.
#[derive(Clone, Debug)]
pub struct Hasher {
    params: HashParams,
    running: Arc<Semaphore>,
    waiting: Arc<AtomicUsize>,
    max_waiting: usize,
    dummy: Arc<str>,
}

/// Undoes a waiting-count increment however the wait ends.
struct Waiting<'a>(&'a AtomicUsize);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Hasher {
    /// Runs at most `concurrency` hashes at once and lets at most
    /// `max_waiting` more wait; beyond that callers get [`HasherError::Busy`].
    ///
    /// # Errors
    /// [`HashError`] when `params` are invalid (found by hashing the dummy).
    pub fn new(params: HashParams, concurrency: usize, max_waiting: usize) -> Result<Self, HashError> {
        let filler = Password::parse_attempt("gatehouse-dummy-password").expect("a valid literal");
        let dummy = password::hash(&filler, params)?;
        Ok(Self {
            params,
            running: Arc::new(Semaphore::new(concurrency.max(1))),
            waiting: Arc::new(AtomicUsize::new(0)),
            max_waiting,
            dummy: dummy.into(),
        })
    }

    /// Hashes a new password.
    ///
    /// # Errors
    /// [`HasherError::Busy`] under overload, else a hashing failure.
    pub async fn hash(&self, password: Password) -> Result<String, HasherError> {
        let params = self.params;
        self.run(move || password::hash(&password, params)).await
    }

    /// Whether `stored` should be replaced by a hash with the current
    /// parameters.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        password::needs_rehash(stored, self.params)
    }

    /// Checks `password` against `stored`, or against the dummy hash when
    /// there is no account (then the answer is always `false`).
    ///
    /// # Errors
    /// [`HasherError::Busy`] under overload, else a hashing failure.
    pub async fn verify(&self, password: Password, stored: Option<String>) -> Result<bool, HasherError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.dummy.to_string());
        let matched = self.run(move || password::verify(&password, &stored)).await?;
        Ok(known && matched)
    }

    async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HasherError> {
        if self.waiting.fetch_add(1, Ordering::SeqCst) >= self.max_waiting {
            self.waiting.fetch_sub(1, Ordering::SeqCst);
            return Err(HasherError::Busy);
        }
        let guard = Waiting(&self.waiting);
        let _permit = self.running.acquire().await.map_err(|_| HasherError::Busy)?;
        drop(guard);
        Ok(tokio::task::spawn_blocking(work).await??)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const CHEAP: HashParams = HashParams { memory_kib: 64, iterations: 1, parallelism: 1 };

    fn pw(s: &str) -> Password {
        Password::parse_attempt(s).unwrap()
    }

    #[tokio::test]
    async fn verifies_known_hashes_and_never_matches_without_an_account() {
        let h = Hasher::new(CHEAP, 2, 8).unwrap();
        let stored = h.hash(pw("correct horse")).await.unwrap();
        assert!(h.verify(pw("correct horse"), Some(stored.clone())).await.unwrap());
        assert!(!h.verify(pw("wrong"), Some(stored)).await.unwrap());
        // The dummy hash's own password still fails when there is no account.
        assert!(!h.verify(pw("gatehouse-dummy-password"), None).await.unwrap());
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once_instead_of_growing() {
        // One running, one waiting; the third is turned away. The futures
        // are polled in order within one task, so this is deterministic.
        let h = Hasher::new(CHEAP, 1, 1).unwrap();
        let (a, b, c) = tokio::join!(h.hash(pw("one")), h.hash(pw("two")), h.hash(pw("three")));
        assert!(a.is_ok() && b.is_ok());
        assert!(matches!(c, Err(HasherError::Busy)));
        assert_eq!(h.waiting.load(Ordering::SeqCst), 0, "the queue drains");
    }
}
