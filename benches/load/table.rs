//! The table the benchmark prints, each figure beside its goal.

use std::time::Duration;

pub(crate) enum Goal {
    AtLeast(f64),
    AtMost(f64),
    /// A limit and its unit.
    Below(f64, &'static str),
    Report,
}

#[derive(Default)]
pub(crate) struct Table {
    pub(crate) rows: Vec<[String; 5]>,
}

impl Table {
    pub(crate) fn row(&mut self, what: &str, ours: &str, baseline: &str, judged: Option<(f64, Goal)>) {
        let (figure, target, verdict) = match judged {
            None => (String::new(), String::new(), String::new()),
            Some((r, Goal::AtLeast(t))) => (percent(r), format!(">= {}", percent(t)), met(r >= t)),
            Some((r, Goal::AtMost(t))) => (format!("{r:.2}x"), format!("<= {t}x"), met(r <= t)),
            Some((v, Goal::Below(t, unit))) => (String::new(), format!("< {t} {unit}"), met(v < t)),
            Some((r, Goal::Report)) => (percent(r), String::new(), String::new()),
        };
        let target = if verdict.is_empty() { target } else { format!("{target} {verdict}") };
        self.rows.push([what.to_owned(), ours.to_owned(), baseline.to_owned(), figure, target]);
    }

    pub(crate) fn print(&self) {
        let head = ["measure", "Gatehouse", "baseline (same run)", "ratio", "target"];
        let mut width = head.map(str::len);
        for r in &self.rows {
            for (w, c) in width.iter_mut().zip(r) {
                *w = (*w).max(c.chars().count());
            }
        }
        let line = |cells: [&str; 5]| {
            let padded: Vec<String> =
                cells.iter().zip(width).map(|(c, w)| format!("{c}{}", " ".repeat(w - c.chars().count()))).collect();
            println!("| {} |", padded.join(" | "));
        };
        line(head);
        println!("|{}|", width.map(|w| "-".repeat(w + 2)).join("|"));
        for r in &self.rows {
            line([&r[0], &r[1], &r[2], &r[3], &r[4]]);
        }
    }
}

pub(crate) fn met(yes: bool) -> String {
    if yes { "met".to_owned() } else { "MISSED".to_owned() }
}

pub(crate) fn percent(r: f64) -> String {
    format!("{:.0}%", r * 100.0)
}

pub(crate) fn count(rps: f64) -> String {
    format!("{rps:.0}")
}

pub(crate) fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

pub(crate) fn mib(kib: u64) -> String {
    format!("{:.1} MiB", kib as f64 / 1024.0)
}

pub(crate) fn kib(bytes: u64) -> String {
    format!("{:.0} KiB", bytes as f64 / 1024.0)
}
