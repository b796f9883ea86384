//! The `retail` binary as an operator runs it: file permissions and signals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn retail(data: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_retail"));
    c.env("RETAIL_DATA_DIR", data)
        .env("RETAIL_LOG__TO_STDOUT", "false")
        .env("RETAIL_LOG__TO_FILE", "true")
        .env_remove("RETAIL_CONFIG")
        .stdin(Stdio::null());
    c
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn the_data_directory_database_and_logs_are_private() {
    let outer = tempfile::tempdir().unwrap();
    let data = outer.path().join("data");
    let out = retail(&data).arg("migrate").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(mode(&data), 0o700, "data dir");
    assert_eq!(mode(&data.join("retail.db")), 0o600, "database");
    let logs: Vec<_> = std::fs::read_dir(data.join("logs")).unwrap().map(|e| e.unwrap().path()).collect();
    assert!(!logs.is_empty(), "a log file is written");
    for l in logs {
        assert_eq!(mode(&l), 0o600, "{}", l.display());
    }
    // an existing, too-open data directory is tightened on the next start
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    std::fs::set_permissions(data.join("retail.db"), std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(retail(&data).arg("migrate").status().unwrap().success());
    assert_eq!((mode(&data), mode(&data.join("retail.db"))), (0o700, 0o600));
}

#[test]
fn the_worker_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    assert!(retail(dir.path()).arg("migrate").status().unwrap().success());
    let mut child = retail(dir.path()).args(["worker", "--every", "3600"]).spawn().unwrap();
    // let it install its signal handlers and run its first pass
    std::thread::sleep(Duration::from_millis(1500));
    assert!(child.try_wait().unwrap().is_none(), "the worker exited by itself");
    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(10) {
            child.kill().unwrap();
            panic!("the worker ignored SIGTERM");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "exit status {status:?}");
}

#[test]
fn an_admin_can_be_created_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = retail(dir.path())
        .args(["user", "create", "--email", "Rescue@Example.com", "--role", "admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"a sturdy recovery passphrase\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("rescue@example.com") && text.contains("admin"), "{text}");
    // a second run for the same email does not create a duplicate
    let again = retail(dir.path())
        .args(["user", "create", "--email", "rescue@example.com", "--role", "admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .output()
        .unwrap();
    assert!(!again.status.success());
    // a weak password is refused with the reason
    let mut weak = retail(dir.path())
        .args(["user", "create", "--email", "weak@example.com", "--role", "admin", "--password-stdin"])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    weak.stdin.take().unwrap().write_all(b"password\n").unwrap();
    let out = weak.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("password"));
}

#[test]
fn reconcile_prints_a_clean_report_for_a_consistent_shop() {
    let dir = tempfile::tempdir().unwrap();
    assert!(retail(dir.path()).arg("seed").status().unwrap().success());
    let out = retail(dir.path()).arg("reconcile").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["clean"], true, "{report}");
    assert_eq!(report["captured_cents"], report["ordered_card_cents"]);
}

#[test]
fn a_backup_taken_while_the_worker_writes_restores_to_a_shop_that_reconciles() {
    let dir = tempfile::tempdir().unwrap();
    assert!(retail(dir.path()).arg("seed").status().unwrap().success());
    // A worker writing beside the backup (its passes purge, expire and reconcile).
    let mut worker = retail(dir.path()).args(["worker", "--every", "1"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let copy = dir.path().join("backup.db");
    let out = retail(dir.path()).arg("backup").arg(&copy).output().unwrap();
    let _ = worker.kill();
    let _ = worker.wait();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("integrity ok"));
    // Never over an existing file.
    let again = retail(dir.path()).arg("backup").arg(&copy).output().unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("exists already"));
    // Restored in place of the database of a new data directory: the books agree.
    let restored = tempfile::tempdir().unwrap();
    std::fs::copy(&copy, restored.path().join("retail.db")).unwrap();
    let out = retail(restored.path()).arg("reconcile").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["clean"], true, "{report}");
}

#[test]
fn feed_import_applies_a_file_with_a_summary_and_checks_or_refuses_as_asked() {
    let dir = tempfile::tempdir().unwrap();
    let seeded = retail(dir.path()).arg("seed").output().unwrap();
    let seeded = String::from_utf8_lossy(&seeded.stdout).into_owned();
    assert!(seeded.contains("API key (shown this once): rk_"), "{seeded}");
    let file = dir.path().join("feed.csv");
    std::fs::write(
        &file,
        "sku,name,price,stock\nCLI-1,Cli one,1.15,3\nCLI-2,Cli two,2.00,1\nCLI-3,,1.00,1\n",
    )
    .unwrap();
    let import = |extra: &[&str]| {
        let mut c = retail(dir.path());
        c.args(["feed", "import"]).arg(&file).args(["--partner", "1"]).args(extra);
        c.output().unwrap()
    };
    // a dry run writes nothing
    let out = import(&["--dry-run"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}{}", String::from_utf8_lossy(&out.stderr));
    assert!(text.contains("validate_only mode") && summary(&text, "applied") == Some("no"), "{text}");
    assert_eq!(summary(&text, "created"), Some("2"), "{text}");
    // strict refuses the whole file for its bad row, and says so
    let out = import(&["--strict"]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("strict mode: 1 row(s) refused"), "{text}");
    assert!(
        text.lines()
            .any(|l| l.split_whitespace().collect::<Vec<_>>()[..] == ["row", "4", "name", "is", "required"]),
        "{text}"
    );
    // lenient (the partner's mode) applies the good rows
    let out = import(&[]);
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{text}");
    assert_eq!((summary(&text, "created"), summary(&text, "applied")), (Some("2"), Some("yes")), "{text}");
    // the same file again is recognised
    let out = import(&[]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("was applied before"));
    // the books still agree
    let out = retail(dir.path()).arg("reconcile").output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    // no such partner, no such format
    let out =
        retail(dir.path()).args(["feed", "import"]).arg(&file).args(["--partner", "99"]).output().unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("no partner 99"));
}

/// The value of a line of the import's summary table.
fn summary<'a>(text: &'a str, what: &str) -> Option<&'a str> {
    text.lines().find_map(|l| {
        let mut words = l.split_whitespace();
        (words.next() == Some(what)).then(|| words.next()).flatten()
    })
}
