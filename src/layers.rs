//! The layering, stated once and checked against the source: each part of
//! the crate may use only the parts below it, and the pure core uses no
//! HTTP or SQL crate. A change that breaks it fails here, naming the file.

use std::path::{Path, PathBuf};

/// From the bottom up. A part may use its own modules and those of the
/// parts listed before it, never one after it.
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

/// The crate's own parts a source text names: `crate::x`, and each name of
/// a `use crate::{x, y}`.
fn parts_used(text: &str) -> Vec<String> {
    let mut used = Vec::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let inner = &group[..group.find('}').unwrap_or(group.len())];
            used.extend(inner.split(',').map(|n| n.trim().split("::").next().unwrap_or("").to_owned()));
        } else {
            used.push(rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect());
        }
    }
    used.retain(|u| !u.is_empty());
    used
}

/// The outside crates a source text names in paths (`axum::…`).
fn crates_used(text: &str) -> Vec<&'static str> {
    IO_CRATES
        .iter()
        .copied()
        .filter(|name| {
            text.match_indices(&format!("{name}::")).any(|(i, _)| {
                // A whole name at the start of a path: not the end of another
                // (`leptos_axum::` is not `axum::`), nor a module of one.
                !text[..i].ends_with(|c: char| c.is_ascii_alphanumeric() || c == '_' || c == ':')
            })
        })
        .collect()
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
        for used in parts_used(&text) {
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
    let (_, files) = sources();
    let admitting: Vec<_> = files
        .iter()
        .filter(|f| {
            let text = std::fs::read_to_string(f).expect("readable");
            text.contains("admission::{") || text.contains("admission::admit")
        })
        .map(|f| shown(f))
        .collect();
    assert_eq!(admitting, ["src/web/guard.rs"]);
}

#[test]
fn the_checks_see_what_they_look_for() {
    assert_eq!(parts_used("use crate::{api, keystore};\nuse crate::web::guard;"), ["api", "keystore", "web"]);
    assert_eq!(crates_used("use axum::http::HeaderMap;"), ["axum"]);
    assert_eq!(crates_used("fn f(e: sqlx::Error) {}"), ["sqlx"]);
    assert!(crates_used("use leptos_axum::redirect; let x = my_http::y;").contains(&"leptos_axum"));
    assert!(!crates_used("use leptos_axum::redirect;").contains(&"axum"));
    assert!(crates_used("let a = b; // no crates").is_empty());
}
