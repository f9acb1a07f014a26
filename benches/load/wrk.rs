//! The load: `wrk` runs with a Lua script that reports what it saw.

use std::io::Read;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::table::ms;
use crate::{PASSWORD, fail};

/// Prints one machine-readable line when wrk is done; with `STORM_USERS`
/// set, each request signs in as the next of that many accounts.
pub(crate) const LUA: &str = r#"
local users = tonumber(os.getenv("STORM_USERS") or "0")
local password = os.getenv("STORM_PASSWORD") or ""
local n = 0
request = function()
  if users > 0 then
    n = n + 1
    local body = string.format('{"username":"storm%d","password":"%s"}', n % users, password)
    return wrk.format("POST", nil, { ["Content-Type"] = "application/json" }, body)
  end
  return wrk.request()
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("RESULT %d %d %d %d %d %d\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(99), e.status, e.connect + e.read + e.write + e.timeout))
end
"#;

pub(crate) struct Wrk {
    pub(crate) script: PathBuf,
    pub(crate) secs: u64,
}

pub(crate) struct Load {
    pub(crate) requests: u64,
    pub(crate) secs: f64,
    pub(crate) p50: Duration,
    pub(crate) p99: Duration,
    pub(crate) non_2xx: u64,
    pub(crate) socket_errors: u64,
}

pub(crate) struct Running(Child);

impl Wrk {
    pub(crate) fn run(&self, url: &str, headers: &[&str], connections: usize, storm_users: Option<usize>) -> Load {
        // A one-second warm-up, then the measurement.
        self.spawn(url, headers, connections, storm_users, 1).finish();
        self.spawn(url, headers, connections, storm_users, self.secs).finish()
    }

    pub(crate) fn spawn(
        &self,
        url: &str,
        headers: &[&str],
        connections: usize,
        storm_users: Option<usize>,
        secs: u64,
    ) -> Running {
        let mut cmd = Command::new("wrk");
        cmd.args(["-t1", &format!("-c{connections}"), &format!("-d{secs}s"), "--timeout", "30s", "-s"])
            .arg(&self.script)
            .env("STORM_USERS", storm_users.unwrap_or(0).to_string())
            .env("STORM_PASSWORD", PASSWORD)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit());
        for h in headers {
            cmd.args(["-H", h]);
        }
        cmd.arg(url);
        Running(cmd.spawn().unwrap_or_else(|e| fail(&format!("cannot run wrk: {e}"))))
    }
}

impl Running {
    pub(crate) fn finish(mut self) -> Load {
        let mut out = String::new();
        if let Some(mut stdout) = self.0.stdout.take() {
            let _ = stdout.read_to_string(&mut out);
        }
        let _ = self.0.wait();
        let line =
            out.lines().find_map(|l| l.strip_prefix("RESULT ")).unwrap_or_else(|| fail(&format!("wrk said: {out}")));
        let f: Vec<u64> = line.split_whitespace().filter_map(|n| n.parse().ok()).collect();
        if f.len() != 6 {
            fail(&format!("cannot read wrk's result: {line}"));
        }
        Load {
            requests: f[0],
            secs: f[1] as f64 / 1e6,
            p50: Duration::from_micros(f[2]),
            p99: Duration::from_micros(f[3]),
            non_2xx: f[4],
            socket_errors: f[5],
        }
    }
}

impl Load {
    pub(crate) fn rps(&self) -> f64 {
        self.ok() as f64 / self.secs
    }

    pub(crate) fn ok(&self) -> u64 {
        self.requests.saturating_sub(self.non_2xx)
    }

    pub(crate) fn latency(&self) -> String {
        format!("{} / {}", ms(self.p50), ms(self.p99))
    }
}
