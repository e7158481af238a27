//! `pfblame check`, the Nagios/Icinga plugin, end to end: every status
//! (0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN) from the scenario fixtures and
//! the fake pfctl, one line on stdout, Nagios perfdata after `|`, and never
//! another exit status (no 2 for usage, no 65/66/69).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;

struct Line {
    code: i32,
    status: String,
    summary: String,
    perfdata: Vec<(String, String)>,
}

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn check_with(args: &[&str], envs: &[(&str, &Path)]) -> Line {
    let mut cmd = Command::cargo_bin("pfblame").unwrap();
    cmd.current_dir(manifest()).arg("check").args(args);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let out = cmd.timeout(Duration::from_secs(60)).output().unwrap();
    let code = out.status.code().expect("exited");
    let stdout = String::from_utf8(out.stdout).expect("utf-8");
    assert!(stdout.ends_with('\n'), "{stdout:?}");
    assert_eq!(stdout.lines().count(), 1, "one line: {stdout:?}");
    let line = stdout.trim_end();
    let (text, perf) = line.split_once(" | ").unwrap_or((line, ""));
    let (status, summary) = text.split_once(" - ").expect("STATUS - text");
    assert!(!summary.contains('|'), "{line}");
    let perfdata = perf
        .split_whitespace()
        .map(|item| {
            let (label, rest) = item.split_once('=').expect("label=value");
            (label.to_string(), rest.to_string())
        })
        .collect();
    Line {
        code,
        status: status.to_string(),
        summary: summary.to_string(),
        perfdata,
    }
}

fn check(args: &[&str]) -> Line {
    check_with(args, &[])
}

fn scenario(name: &str) -> String {
    format!("fixtures/scenarios/{name}")
}

impl Line {
    /// The perfdata value of `label`, without thresholds or unit.
    fn value(&self, label: &str) -> f64 {
        let (_, rest) = self
            .perfdata
            .iter()
            .find(|(l, _)| l == label)
            .unwrap_or_else(|| panic!("no {label} in {:?}", self.perfdata));
        let value = rest.split(';').next().unwrap().trim_end_matches('s');
        value.parse().unwrap()
    }

    fn expect(&self, code: i32, status: &str) {
        assert_eq!(
            (self.code, self.status.as_str()),
            (code, status),
            "{}",
            self.summary
        );
    }
}

#[test]
fn openbsd_routing_only_is_ok() {
    let line = check(&[
        "--from",
        &scenario("openbsd-flags-any"),
        "-s",
        "2001:db8::10",
    ]);
    line.expect(0, "OK");
    assert!(line.summary.contains("1 routing"), "{}", line.summary);
    assert_eq!(line.value("bypass"), 0.0);
    assert_eq!(line.value("routing"), 1.0);
    assert_eq!(line.value("server_states"), 2.0);
}

#[test]
fn a_bypass_is_critical_and_names_the_skipped_rule() {
    let line = check(&[
        "--from",
        &scenario("dual-prefix"),
        "-s",
        "2001:db8:bbbb:1::10",
    ]);
    line.expect(2, "CRITICAL");
    assert_eq!(line.summary, "@14 bypasses route-to @17 (4 states)");
    assert_eq!(line.value("bypass"), 1.0);
    assert_eq!(line.value("stateful"), 1.0);
    assert_eq!(line.value("states"), 24.0);
    // Nagios format: label=value;warn;crit;min;max, critical above 0.
    let bypass = &line.perfdata.iter().find(|(l, _)| l == "bypass").unwrap().1;
    assert_eq!(bypass, "1;;0;0");
    let poll = &line.perfdata.iter().find(|(l, _)| l == "poll").unwrap().1;
    assert!(poll.split(';').next().unwrap().ends_with('s'), "{poll}");
}

#[test]
fn an_if_bound_reply_to_is_critical_too() {
    let line = check(&[
        "--from",
        &scenario("openbsd-reply-to-if-bound"),
        "-s",
        "2001:db8::10",
    ]);
    line.expect(2, "CRITICAL");
    assert!(
        line.summary.starts_with("@1 bypasses its own reply-to"),
        "{}",
        line.summary
    );
}

#[test]
fn allowing_the_stray_rule_makes_it_ok() {
    let line = check(&[
        "--from",
        &scenario("openbsd68-stray-2"),
        "-s",
        "2001:db8::10",
        "--allow",
        "2",
    ]);
    line.expect(0, "OK");
    assert_eq!(line.value("allowed"), 1.0);
}

#[test]
fn unexplained_is_a_warning_and_strict_warns_on_stateful() {
    // The pfsync scenario without info.txt: states without a rule, and no
    // Hostid to tell whether pfsync imported them.
    let dir = tempfile::tempdir().unwrap();
    let src = manifest().join("fixtures/scenarios/openbsd-pfsync");
    for f in ["rules.txt", "states.txt"] {
        fs::copy(src.join(f), dir.path().join(f)).unwrap();
    }
    let line = check(&["--from", dir.path().to_str().unwrap(), "-s", "2001:db8::10"]);
    line.expect(1, "WARNING");
    assert!(
        line.summary.starts_with("default unexplained (2 states)"),
        "{}",
        line.summary
    );
    assert_eq!(line.value("unexplained"), 1.0);

    let stray = [
        "--from",
        &scenario("openbsd68-stray-1"),
        "-s",
        "2001:db8::10",
    ];
    check(&stray).expect(0, "OK");
    let mut strict = stray.to_vec();
    strict.push("--strict");
    check(&strict).expect(1, "WARNING");
}

#[test]
fn a_missing_recording_is_unknown() {
    let line = check(&["--from", "/nonexistent/recording", "-s", "2001:db8::10"]);
    line.expect(3, "UNKNOWN");
    assert!(
        line.summary.contains("/nonexistent/recording"),
        "{}",
        line.summary
    );
}

#[test]
fn garbage_is_unknown() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join("rules.txt"), "not pfctl\n\x1b[31m|x\n").unwrap();
    fs::write(dir.path().join("states.txt"), "neither is this\n").unwrap();
    let line = check(&["--from", dir.path().to_str().unwrap(), "-s", "2001:db8::10"]);
    line.expect(3, "UNKNOWN");
    assert!(!line.summary.contains('\x1b'));
}

#[test]
fn usage_errors_are_unknown_not_2() {
    for args in [
        vec!["--no-such-option"],
        vec!["--from", "x", "--strategy", "sideways", "-s", "::1"],
        vec!["--from", &scenario("dual-prefix")],
        vec!["--from", &scenario("dual-prefix"), "-s", "not-an-address"],
        vec![
            "--from",
            &scenario("dual-prefix"),
            "-s",
            "::1",
            "--allow",
            "x:y:z",
        ],
    ] {
        let line = check(&args);
        assert_eq!(
            (line.code, line.status.as_str()),
            (3, "UNKNOWN"),
            "{args:?}: {}",
            line.summary
        );
    }
}

#[test]
fn help_is_not_an_error() {
    Command::cargo_bin("pfblame")
        .unwrap()
        .args(["check", "--help"])
        .assert()
        .code(0)
        .stdout(predicates::str::contains("--server"));
}

#[test]
fn live_pfctl_failures_are_unknown() {
    let fake = manifest().join("tests/fake-pfctl");
    let dir = manifest().join("fixtures/scenarios/openbsd-flags-any-stray-2");
    let fake_arg = fake.to_str().unwrap();
    let live = check_with(
        &["--pfctl", fake_arg, "-s", "2001:db8::10"],
        &[("FAKE_PFCTL_DIR", &dir)],
    );
    live.expect(2, "CRITICAL");
    assert_eq!(live.summary, "@2 bypasses route-to @3 (2 states)");

    let missing = check(&["--pfctl", "/nonexistent/pfctl", "-s", "2001:db8::10"]);
    missing.expect(3, "UNKNOWN");

    let garbage = check_with(
        &["--pfctl", fake_arg, "-s", "2001:db8::10"],
        &[
            ("FAKE_PFCTL_DIR", &dir),
            ("FAKE_PFCTL_MODE", Path::new("garbage")),
        ],
    );
    garbage.expect(3, "UNKNOWN");

    let hang = check_with(
        &[
            "--pfctl",
            fake_arg,
            "-s",
            "2001:db8::10",
            "--timeout",
            "0.5",
        ],
        &[
            ("FAKE_PFCTL_DIR", &dir),
            ("FAKE_PFCTL_MODE", Path::new("hang")),
        ],
    );
    hang.expect(3, "UNKNOWN");
}

#[test]
fn live_pfsync_imports_are_told_by_the_hostid() {
    // A live check also runs pfctl -vsi: its Hostid shows that the states
    // without a rule were imported by pfsync (OK), not unexplained.
    let fake = manifest().join("tests/fake-pfctl");
    let dir = manifest().join("fixtures/scenarios/openbsd-pfsync");
    let line = check_with(
        &["--pfctl", fake.to_str().unwrap(), "-s", "2001:db8::10"],
        &[("FAKE_PFCTL_DIR", &dir)],
    );
    line.expect(0, "OK");
    assert_eq!(line.value("stateful"), 1.0);
    assert_eq!(line.value("unexplained"), 0.0);
}
