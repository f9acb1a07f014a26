//! The `gatehouse user ...` command line, run as the real binary against a
//! fresh SQLite database.

use std::io::Write;
use std::process::{Command, Output, Stdio};

use sqlx::Row;

fn gatehouse(dir: &std::path::Path, args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_gatehouse"))
        .args(args)
        .env("GATEHOUSE_DATA_DIR", dir)
        .env_remove("GATEHOUSE_DATABASE_URL")
        .env_remove("DATABASE_URL")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin.as_bytes()).unwrap();
    child.wait_with_output().unwrap()
}

/// The output's last line (a debug build may print a notice first).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().lines().last().unwrap_or_default().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_admin_is_made_on_the_command_line_and_is_protected_as_the_last() {
    let dir = tempfile::tempdir().unwrap();
    let out = gatehouse(dir.path(), &["user", "create", "Root", "--admin"], "correct horse battery\n");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).trim(), "Created admin account 'Root'.");

    let out = gatehouse(dir.path(), &["user", "create", "root"], "another passphrase\n");
    assert_eq!(out.status.code(), Some(1));
    assert_eq!(text(&out.stderr).trim(), "gatehouse: That username is taken. Choose another one.");
    let out = gatehouse(dir.path(), &["user", "create", "weak"], "password\n");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("most common"), "{}", text(&out.stderr));

    let out = gatehouse(dir.path(), &["user", "role", "root", "user"], "");
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("no enabled administrator"), "{}", text(&out.stderr));
    let out = gatehouse(dir.path(), &["user", "disable", "nobody"], "");
    assert_eq!(text(&out.stderr).trim(), "gatehouse: There is no account named 'nobody'.");

    let out = gatehouse(dir.path(), &["user", "reset-link", "root"], "");
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("/reset?token=grs_"), "the link is the last line: {}", text(&out.stdout));

    let out = gatehouse(dir.path(), &["user", "frobnicate"], "");
    assert_eq!(out.status.code(), Some(2), "clap refuses unknown commands");

    sqlx::any::install_default_drivers();
    let url = gatehouse::config::sqlite_url(dir.path());
    let mut db = <sqlx::AnyConnection as sqlx::Connection>::connect(&url).await.unwrap();
    let row = sqlx::query("SELECT username, role, password_hash FROM users").fetch_one(&mut db).await.unwrap();
    assert_eq!(row.get::<String, _>(0), "Root");
    assert_eq!(row.get::<String, _>(1), "admin");
    assert!(row.get::<String, _>(2).starts_with("$argon2id$"), "the password was hashed, never stored");
    let kinds = sqlx::query("SELECT kind FROM audit_events ORDER BY id").fetch_all(&mut db).await.unwrap();
    let kinds: Vec<String> = kinds.iter().map(|r| r.get(0)).collect();
    assert_eq!(kinds, ["register", "reset_issued"]);
}
