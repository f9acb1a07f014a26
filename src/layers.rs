//! The layering, stated once and checked against the source: each part of
//! the crate may use only the parts below it, and the pure core uses no
//! HTTP or SQL crate. A change that breaks it fails here, naming the file.

use std::path::{Path, PathBuf};

/// From the bottom up. A part may use its own modules, the parts of its
/// own layer and those of the layers before it, never a later one.
const LAYERS: &[&[&str]] = &[
    &["domain"],
    &["error"],
    &["flash"],
    &["auth"],
    &["db"],
    &["config", "telemetry"],
    &["keystore"],
    &["state"],
    &["accounts"],
    &["web"],
    &["api", "app"],
    &["startup"],
    &["cli"],
];

/// The pure core: values, rules and arithmetic, with IO at the edges.
const PURE: &[&str] = &["domain", "auth"];

/// Crates that speak HTTP or SQL.
const IO_CRATES: &[&str] =
    &["axum", "axum_extra", "axum_server", "leptos_axum", "sqlx", "hyper", "tower", "tower_http", "http"];

fn source_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The top-level part a source file belongs to (`src/web/guard.rs` → `web`).
fn part_of(src: &Path, file: &Path) -> String {
    let relative = file.strip_prefix(src).expect("under src");
    let first = relative.components().next().expect("a component").as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// A file's path from the repository root, as the failures name it.
fn shown(file: &Path) -> String {
    file.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap_or(file).display().to_string()
}

fn layer_of(part: &str) -> Option<usize> {
    LAYERS.iter().position(|layer| layer.contains(&part))
}

/// The crate's own parts a source text names: `crate::x`, each name of a
/// `use crate::{x, y::{z}}` (nested groups included), and the `super::`
/// chains that climb from a module `depth` levels deep to the crate's root
/// (one `super::` alone never leaves the part).
fn parts_used(text: &str, depth: usize) -> Vec<String> {
    let mut roots = vec!["crate::".to_owned()];
    if depth >= 2 {
        roots.push("super::".repeat(depth));
    }
    let mut used = Vec::new();
    for root in &roots {
        for (i, _) in text.match_indices(root.as_str()) {
            // `super::super::` inside a longer climb is counted by that climb.
            if text[..i].ends_with("::") {
                continue;
            }
            let rest = &text[i + root.len()..];
            match rest.strip_prefix('{') {
                Some(group) => used.extend(top_level_names(group)),
                None => used.push(identifier(rest)),
            }
        }
    }
    used.retain(|u| !u.is_empty() && u != "super" && u != "self");
    used
}

/// The first name of each item of a `{...}` group (the text after its `{`).
fn top_level_names(group: &str) -> Vec<String> {
    let (mut names, mut depth, mut start) = (Vec::new(), 0_usize, true);
    for (i, c) in group.char_indices() {
        match c {
            '{' => depth += 1,
            '}' if depth == 0 => break,
            '}' => depth -= 1,
            ',' if depth == 0 => start = true,
            c if start && !c.is_whitespace() => {
                names.push(identifier(&group[i..]));
                start = false;
            }
            _ => {}
        }
    }
    names
}

fn identifier(text: &str) -> String {
    text.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect()
}

/// The outside crates of [`IO_CRATES`] a source text names: at the start
/// of a path (`axum::…`, `::axum::…`), or brought in whole (`use axum as
/// web;`, `extern crate axum;`).
fn crates_used(text: &str) -> Vec<&'static str> {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    IO_CRATES
        .iter()
        .copied()
        .filter(|name| {
            let in_path = text.match_indices(&format!("{name}::")).any(|(i, _)| {
                let before = &text[..i];
                // Not the end of another name (`leptos_axum::`), nor a module
                // of another path (`hyper::http::`); a leading `::` counts.
                match before.strip_suffix("::") {
                    Some(outer) => !outer.ends_with(is_ident),
                    None => !before.ends_with(is_ident),
                }
            });
            let whole = ["use ", "use ::", "extern crate "].iter().any(|lead| {
                text.match_indices(&format!("{lead}{name}")).any(|(i, m)| {
                    let after = text[i + m.len()..].chars().next();
                    after.is_none_or(|c| !is_ident(c) && c != ':')
                })
            });
            in_path || whole
        })
        .collect()
}

/// How deep a file's module is (`src/web/guard.rs` is `crate::web::guard`:
/// 2; `src/web/mod.rs` is `crate::web`: 1).
fn depth_of(src: &Path, file: &Path) -> usize {
    let components = file.strip_prefix(src).map_or(0, |r| r.components().count());
    if file.ends_with("mod.rs") { components.saturating_sub(1) } else { components }
}

fn sources() -> (PathBuf, Vec<PathBuf>) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files.retain(|f| !matches!(part_of(&src, f).as_str(), "lib" | "main" | "layers"));
    (src, files)
}

#[test]
fn every_part_uses_only_the_parts_below_it() {
    let (src, files) = sources();
    let mut broken = Vec::new();
    for file in &files {
        let part = part_of(&src, file);
        let Some(mine) = layer_of(&part) else {
            broken.push(format!("{}: the part `{part}` has no place in LAYERS", shown(file)));
            continue;
        };
        let text = std::fs::read_to_string(file).expect("readable");
        for used in parts_used(&text, depth_of(&src, file)) {
            match layer_of(&used) {
                Some(theirs) if theirs > mine => {
                    broken.push(format!("{}: `{part}` uses `{used}`, a layer above it", shown(file)));
                }
                _ => {}
            }
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn the_pure_core_speaks_no_http_and_no_sql() {
    let (src, files) = sources();
    let mut broken = Vec::new();
    for file in files.iter().filter(|f| PURE.contains(&part_of(&src, f).as_str())) {
        let text = std::fs::read_to_string(file).expect("readable");
        for name in crates_used(&text) {
            broken.push(format!("{}: uses `{name}`", shown(file)));
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn only_the_guard_admits_a_caller() {
    let (src, files) = sources();
    let admitting: Vec<_> = files
        .iter()
        .filter(|f| part_of(&src, f) != "auth")
        .filter(|f| std::fs::read_to_string(f).expect("readable").contains("admission"))
        .map(|f| shown(f))
        .collect();
    assert_eq!(admitting, ["src/web/guard.rs"]);
}

#[test]
fn the_checks_see_what_they_look_for() {
    let used = |text| parts_used(text, 2);
    assert_eq!(used("use crate::{api, keystore};\nuse crate::web::guard;"), ["api", "keystore", "web"]);
    assert_eq!(used("use crate::{domain::{Page, Rule}, web::guard};"), ["domain", "web"]);
    assert_eq!(used("use super::super::accounts::sign_in;"), ["accounts"]);
    assert!(used("use super::cookies;").is_empty(), "a sibling is the same part");
    assert_eq!(crates_used("use axum::http::HeaderMap;"), ["axum"]);
    assert_eq!(crates_used("fn f(e: sqlx::Error) {}"), ["sqlx"]);
    assert_eq!(crates_used("let r = ::hyper::Request::new(());"), ["hyper"]);
    assert_eq!(crates_used("use tower as t;"), ["tower"]);
    assert!(crates_used("use leptos_axum::redirect; let x = my_http::y;").contains(&"leptos_axum"));
    assert!(!crates_used("use leptos_axum::redirect;").contains(&"axum"));
    assert!(crates_used("use towering::x; // tower_httpx").is_empty());
    assert!(crates_used("let a = b; // no crates").is_empty());
}
