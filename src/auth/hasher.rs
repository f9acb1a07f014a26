//! Argon2id on a few dedicated threads, behind a bounded queue, plus an
//! unmatchable hash so an unknown user costs the same as a known one.
//!
//! The threads are the only place hashing happens: each keeps one Argon2
//! work area (see [`Workspace`]), so memory is bounded by the thread count
//! whatever the load. On Linux they run at idle CPU priority: a request
//! thread always goes first, so a storm of sign-ins waits for the CPU
//! itself instead of delaying every signed-in reader.
//!
//! A caller first [`reserve`](Hasher::reserve)s a place in the queue, before
//! any database work: under overload the refusal is immediate and leaves no
//! trace (in particular it is not counted as a password guess).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, mpsc};

use super::password::{self, HashError, HashParams, Workspace};
use crate::domain::Password;

/// Why a hashing request was not served.
#[derive(Debug, thiserror::Error)]
pub enum HasherError {
    #[error("too many password checks are queued")]
    Busy,
    #[error(transparent)]
    Hash(#[from] HashError),
    #[error("the hashing thread failed")]
    Stopped,
    #[error("could not start a hashing thread")]
    Spawn(#[source] std::io::Error),
}

type Job = Box<dyn FnOnce(&mut Workspace) + Send>;

/// Cheap to clone; all clones share the threads and the queue.
#[derive(Clone)]
pub struct Hasher {
    shared: Arc<Shared>,
}

struct Shared {
    params: HashParams,
    jobs: mpsc::Sender<Job>,
    /// Reserved places: reserved but not yet started.
    waiting: AtomicUsize,
    max_waiting: usize,
    unmatchable: String,
}

impl std::fmt::Debug for Hasher {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Hasher")
            .field("params", &self.shared.params)
            .field("waiting", &self.shared.waiting.load(Ordering::Relaxed))
            .field("max_waiting", &self.shared.max_waiting)
            .finish_non_exhaustive()
    }
}

/// A place in the queue: hash or verify with it, or drop it to give it back.
#[must_use = "a reserved place is held until used or dropped"]
pub struct Reserved {
    shared: Arc<Shared>,
}

impl Drop for Reserved {
    fn drop(&mut self) {
        self.shared.waiting.fetch_sub(1, Ordering::SeqCst);
    }
}

impl Hasher {
    /// Starts `threads` hashing threads and lets at most `max_waiting`
    /// requests wait for them; beyond that [`Hasher::reserve`] answers
    /// [`HasherError::Busy`]. The threads end when the last clone is
    /// dropped.
    ///
    /// # Errors
    /// [`HasherError::Hash`] when `params` are invalid,
    /// [`HasherError::Spawn`] when the OS refuses a thread.
    pub fn new(params: HashParams, threads: usize, max_waiting: usize) -> Result<Self, HasherError> {
        let unmatchable = password::unmatchable(params)?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        for i in 0..threads.max(1) {
            let queue = Arc::clone(&queue);
            std::thread::Builder::new()
                .name(format!("argon2-{i}"))
                .spawn(move || work(&queue))
                .map_err(HasherError::Spawn)?;
        }
        let shared = Shared { params, jobs, waiting: AtomicUsize::new(0), max_waiting, unmatchable };
        Ok(Self { shared: Arc::new(shared) })
    }

    /// Takes a place in the queue, or answers [`HasherError::Busy`] at once.
    ///
    /// # Errors
    /// [`HasherError::Busy`] when `max_waiting` places are taken.
    pub fn reserve(&self) -> Result<Reserved, HasherError> {
        let taken = self.shared.waiting.fetch_add(1, Ordering::SeqCst);
        let place = Reserved { shared: Arc::clone(&self.shared) };
        if taken >= self.shared.max_waiting {
            return Err(HasherError::Busy);
        }
        Ok(place)
    }

    /// Hashes a new password.
    ///
    /// # Errors
    /// [`HasherError::Busy`] under overload, else a hashing failure.
    pub async fn hash(&self, password: Password) -> Result<String, HasherError> {
        self.reserve()?.hash(password).await
    }

    /// Checks `password` against `stored`, or against an unmatchable hash
    /// when there is no account (then the answer is always `false`).
    ///
    /// # Errors
    /// [`HasherError::Busy`] under overload, else a hashing failure.
    pub async fn verify(&self, password: Password, stored: Option<String>) -> Result<bool, HasherError> {
        self.reserve()?.verify(password, stored).await
    }

    /// Whether `stored` should be replaced by a hash with the current
    /// parameters.
    pub fn needs_rehash(&self, stored: &str) -> bool {
        password::needs_rehash(stored, self.shared.params)
    }
}

impl Reserved {
    /// Hashes a new password.
    ///
    /// # Errors
    /// A hashing failure.
    pub async fn hash(self, password: Password) -> Result<String, HasherError> {
        let params = self.shared.params;
        self.run(move |ws| password::hash(&password, params, ws)).await
    }

    /// Checks `password` against `stored`, or against an unmatchable hash
    /// when there is no account (then the answer is always `false`).
    ///
    /// # Errors
    /// A hashing failure.
    pub async fn verify(self, password: Password, stored: Option<String>) -> Result<bool, HasherError> {
        let known = stored.is_some();
        let stored = stored.unwrap_or_else(|| self.shared.unmatchable.clone());
        let matched = self.run(move |ws| password::verify(&password, &stored, ws)).await?;
        Ok(known && matched)
    }

    async fn run<T: Send + 'static>(
        self,
        work: impl FnOnce(&mut Workspace) -> Result<T, HashError> + Send + 'static,
    ) -> Result<T, HasherError> {
        let (answer, answered) = tokio::sync::oneshot::channel();
        let jobs = self.shared.jobs.clone();
        let place = self;
        let job: Job = Box::new(move |ws| {
            // Started: the place in the queue is free again.
            drop(place);
            let _ = answer.send(work(ws));
        });
        jobs.send(job).map_err(|_| HasherError::Stopped)?;
        Ok(answered.await.map_err(|_| HasherError::Stopped)??)
    }
}

/// One hashing thread: takes jobs until every [`Hasher`] is gone. A job
/// that panics loses its answer (the caller sees [`HasherError::Stopped`])
/// but not the thread.
fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    lower_priority();
    let mut workspace = Workspace::default();
    loop {
        let next = match queue.lock() {
            Ok(queue) => queue.recv(),
            Err(_) => return,
        };
        let Ok(job) = next else { return };
        let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut workspace)));
    }
}

#[cfg(target_os = "linux")]
fn lower_priority() {
    // SCHED_IDLE: the thread runs when no request thread wants the CPU,
    // and a waking request thread takes the CPU from it at once (a mere
    // `nice` value still lets it finish a time slice first). On Linux the
    // policy belongs to a thread, and pid 0 is the calling thread. Failing
    // (e.g. forbidden by a sandbox) only leaves it at normal priority.
    let param = libc::sched_param { sched_priority: 0 };
    // SAFETY: `param` is a valid sched_param that outlives the call.
    let done = unsafe { libc::sched_setscheduler(0, libc::SCHED_IDLE, &raw const param) };
    if done != 0 {
        tracing::debug!("hashing threads run at normal priority: sched_setscheduler failed");
    }
}

#[cfg(not(target_os = "linux"))]
fn lower_priority() {}

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
        assert!(!h.verify(pw("correct horse"), None).await.unwrap(), "no account, no match");
    }

    #[tokio::test]
    async fn a_full_queue_answers_busy_at_once_and_a_dropped_place_is_given_back() {
        let h = Hasher::new(CHEAP, 1, 2).unwrap();
        let first = h.reserve().unwrap();
        let second = h.reserve().unwrap();
        assert!(matches!(h.reserve(), Err(HasherError::Busy)));
        assert!(matches!(h.verify(pw("x"), None).await, Err(HasherError::Busy)), "nothing hashed either");
        drop(second);
        let third = h.reserve().unwrap();
        assert!(third.verify(pw("x"), None).await.is_ok_and(|m| !m));
        assert!(first.hash(pw("x")).await.is_ok());
        assert_eq!(h.shared.waiting.load(Ordering::SeqCst), 0, "every place is free again");
    }

    #[tokio::test]
    async fn many_concurrent_checks_all_get_their_own_answer() {
        let h = Hasher::new(CHEAP, 2, 64).unwrap();
        let stored = h.hash(pw("right")).await.unwrap();
        let checks = (0..32).map(|i| {
            let (h, stored) = (h.clone(), stored.clone());
            tokio::spawn(async move {
                let guess = if i % 2 == 0 { "right" } else { "wrong" };
                (i, h.verify(pw(guess), Some(stored)).await.unwrap())
            })
        });
        for check in checks.collect::<Vec<_>>() {
            let (i, matched) = check.await.unwrap();
            assert_eq!(matched, i % 2 == 0, "check {i}");
        }
    }

    #[cfg(target_os = "linux")]
    #[tokio::test]
    async fn hashing_threads_yield_the_cpu_to_request_threads() {
        let h = Hasher::new(CHEAP, 1, 1).unwrap();
        h.hash(pw("x")).await.unwrap();
        let mut seen = 0;
        for task in std::fs::read_dir("/proc/self/task").unwrap().flatten() {
            let comm = std::fs::read_to_string(task.path().join("comm")).unwrap_or_default();
            if !comm.starts_with("argon2-") {
                continue;
            }
            // Field 41 of /proc/<tid>/stat is the scheduling policy (the
            // name, field 2, is in parentheses and has no spaces here).
            let stat = std::fs::read_to_string(task.path().join("stat")).unwrap_or_default();
            let policy: i32 = stat.split_whitespace().nth(40).unwrap().parse().unwrap();
            assert_eq!(policy, libc::SCHED_IDLE, "{}", comm.trim());
            seen += 1;
        }
        assert!(seen >= 1, "a hashing thread exists");
    }
}
