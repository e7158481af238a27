//! `pfblame lint` on the bundled dual-prefix scenario, whose stray rule @14
//! names the table `<www>`: a possible bypass without the table's contents,
//! a definite one when `tables/www.txt` holds the server, clean when it does
//! not — from a recording and from (fake) live pfctl.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;

const SERVER: &str = "2001:db8:bbbb:1::10";

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn scenario() -> PathBuf {
    manifest().join("fixtures/scenarios/dual-prefix")
}

fn copy_dir(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for e in fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let dest = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &dest);
        } else {
            fs::copy(e.path(), dest).unwrap();
        }
    }
}

/// A copy of the scenario with `tables/www.txt` holding `www` (as
/// `pfctl -t www -T show` prints it: indented, one address a line).
fn scenario_with_www(tmp: &Path, www: &[&str]) -> PathBuf {
    let dir = tmp.join("dual-prefix");
    copy_dir(&scenario(), &dir);
    fs::create_dir(dir.join("tables")).unwrap();
    let text: String = www.iter().map(|a| format!("   {a}\n")).collect();
    fs::write(dir.join("tables/www.txt"), text).unwrap();
    dir
}

fn lint(from: &Path, extra: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .args(["lint", "-s", SERVER, "-p", "443", "--from"])
        .arg(from)
        .args(extra)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

#[test]
fn without_table_contents_the_stray_rule_is_a_possible_bypass() {
    let (code, out) = lint(&scenario(), &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "warning: possible bypass: rule @14 keeps state for tcp to 2001:db8:bbbb:1::10 port 443 out on em1 if table <www> contains 2001:db8:bbbb:1::10; replies in on em1 would match that state and skip route-to rule @17\n"
        ),
        "{out}"
    );
    assert!(out.contains("  check: pfctl -t www -T show\n"), "{out}");
    assert!(
        out.contains("    note: rule @14 may match if table <www> contains 2001:db8:bbbb:1::10; rule @14 would then decide: pass, keep state\n"),
        "{out}"
    );
    assert!(!out.contains("\nerror:"), "nothing definite: {out}");
}

#[test]
fn json_names_the_kind_condition_and_check() {
    let (code, out) = lint(&scenario(), &["--format", "json"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let f = &v["findings"].as_array().unwrap()[0];
    assert_eq!(f["kind"], "possible-bypass");
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["stateful_rule"]["number"], 14);
    assert_eq!(f["bypassed_rule"]["number"], 17);
    assert_eq!(f["condition"], "table <www> contains 2001:db8:bbbb:1::10");
    assert_eq!(f["check"], "pfctl -t www -T show");
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{out}");
}

#[test]
fn markdown_keeps_the_table_name_visible() {
    let (code, out) = lint(&scenario(), &["--format", "markdown"]);
    assert_eq!(code, 1);
    assert!(
        out.contains("| warning (possible) | `@14` | `@17` | rule @14 keeps state for tcp to 2001:db8:bbbb:1::10 port 443 out on em1 if table &lt;www> contains"),
        "{out}"
    );
    assert!(
        out.contains("before it (check first: `pfctl -t www -T show`) |"),
        "{out}"
    );
}

#[test]
fn table_holding_the_server_makes_it_a_definite_bypass() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = scenario_with_www(tmp.path(), &["2001:db8:aaaa:1::10", "2001:db8:bbbb:1::10"]);
    let (code, out) = lint(&dir, &[]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains(
            "error: rule @14 keeps state for tcp to 2001:db8:bbbb:1::10 port 443 out on em1; replies in on em1 match that state and skip route-to rule @17\n"
        ),
        "{out}"
    );
    assert!(!out.contains("possible bypass"), "{out}");
    assert!(out.contains("note: table <www>: 2 entries from "), "{out}");
}

#[test]
fn table_without_the_server_is_clean() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = scenario_with_www(tmp.path(), &["2001:db8:aaaa:1::10"]);
    let (code, out) = lint(&dir, &[]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("no stateful rule creates states for the server on these paths"),
        "{out}"
    );
    assert!(
        out.contains("  requests out on em1    passed by @16, no state\n"),
        "{out}"
    );
}

#[test]
fn table_in_the_poll_directory_is_read_too() {
    // A recording made poll by poll keeps tables next to each rules.txt.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dual-prefix");
    copy_dir(&scenario(), &dir);
    fs::create_dir(dir.join("0004/tables")).unwrap();
    fs::write(dir.join("0004/tables/www.txt"), "   2001:db8:bbbb:1::/64\n").unwrap();
    let (code, out) = lint(&dir, &[]);
    assert_eq!(code, 1);
    assert!(out.contains("error: rule @14 keeps state"), "{out}");
}

#[test]
fn unreadable_table_lines_are_diagnostics_not_silence() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = scenario_with_www(tmp.path(), &["2001:db8:aaaa:1::10", "not-an-address"]);
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .args(["lint", "-s", SERVER, "-p", "443", "--from"])
        .arg(&dir)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert!(
        stderr.contains("www.txt 2:4: warning: expected an address"),
        "{stderr}"
    );
}

/// Live: the fake pfctl answers `-t www -T show` from `tables/www.txt`.
fn lint_live(recording: &Path, log: &Path) -> (i32, String) {
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .args(["lint", "-s", SERVER, "-p", "443", "--pfctl"])
        .arg(manifest().join("tests/fake-pfctl"))
        .env("FAKE_PFCTL_DIR", recording)
        .env("FAKE_PFCTL_LOG", log)
        .env_remove("FAKE_PFCTL_COUNTER")
        .env_remove("FAKE_PFCTL_MODE")
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

fn logged(log: &Path) -> Vec<Vec<String>> {
    fs::read_to_string(log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn live_lint_asks_pfctl_for_the_table() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = scenario_with_www(tmp.path(), &["2001:db8:aaaa:1::10", "2001:db8:bbbb:1::10"]);
    let log = tmp.path().join("log");
    let (code, out) = lint_live(&dir, &log);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("error: rule @14 keeps state"), "{out}");
    assert!(out.contains("from `"), "{out}");
    let runs = logged(&log);
    assert!(
        runs.contains(&vec![
            "-t".to_string(),
            "www".into(),
            "-T".into(),
            "show".into()
        ]),
        "{runs:?}"
    );
}

#[test]
fn live_lint_without_the_table_keeps_it_possible() {
    // pfctl says "Table does not exist.": the table stays unknown.
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("dual-prefix");
    copy_dir(&scenario(), &dir);
    let log = tmp.path().join("log");
    let (code, out) = lint_live(&dir, &log);
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("warning: possible bypass: rule @14"), "{out}");
    assert!(out.contains("note: table <www>: not read ("), "{out}");
    assert!(out.contains("Table does not exist."), "{out}");
}
