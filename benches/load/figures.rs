//! Other figures: one password check, the browser bundle's size.

use gatehouse::auth::password::{self, HashParams};
use gatehouse::domain::Password;
use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::server::median;
use crate::table::kib;
use crate::{PASSWORD, fail};

pub(crate) fn single_hash_time(params: HashParams) -> Duration {
    let password = Password::parse_attempt(PASSWORD).expect("a valid password");
    // As on a hashing thread: one work area, reused.
    let mut workspace = password::Workspace::default();
    let stored = password::hash(&password, params, &mut workspace).unwrap_or_else(|e| fail(&format!("hashing: {e}")));
    let times = (0..9)
        .map(|_| {
            let start = Instant::now();
            let ok = password::verify(&password, &stored, &mut workspace)
                .unwrap_or_else(|e| fail(&format!("verifying: {e}")));
            assert!(ok, "the password verifies");
            start.elapsed()
        })
        .collect();
    median(times)
}

pub(crate) struct Sizes {
    pub(crate) wasm: (u64, u64),
    pub(crate) js: (u64, u64),
    pub(crate) css: (u64, u64),
}

pub(crate) fn bundle_sizes(site: &Path) -> Sizes {
    let size = |name: &str| {
        let path = site.join("pkg").join(name);
        let raw = std::fs::metadata(&path).map_or(0, |m| m.len());
        let gz = Command::new("gzip").args(["-9", "-c"]).arg(&path).output().map_or(0, |o| o.stdout.len() as u64);
        (raw, gz)
    };
    Sizes { wasm: size("gatehouse.wasm"), js: size("gatehouse.js"), css: size("gatehouse.css") }
}

impl Sizes {
    pub(crate) fn summary(&self) -> String {
        format!("{} (+ {})", kib(self.wasm.1 + self.js.1), kib(self.css.1))
    }

    pub(crate) fn raw(&self) -> String {
        format!("wasm {} + JS {} gzip; {} + {} raw", kib(self.wasm.1), kib(self.js.1), kib(self.wasm.0), kib(self.js.0))
    }
}
