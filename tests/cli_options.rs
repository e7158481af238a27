//! The command line's contract (issues #10.1, #13.9-12): an option means
//! the same wherever it is written or is refused, each subcommand takes only
//! its own options, seconds are validated in one place, `--version` and
//! `--help` say what they should.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

fn pfblame(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("pfblame")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .args(args)
        .assert()
}

fn fake_pfctl() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fake-pfctl")
}

/// A `--pfctl` that logs every invocation to `log`.
fn logging_pfctl(log: &std::path::Path) -> String {
    format!(
        "env FAKE_PFCTL_DIR={} FAKE_PFCTL_LOG={} {}",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/scenarios/dual-prefix"
        ),
        log.display(),
        fake_pfctl().display()
    )
}

#[test]
fn options_before_a_subcommand_are_refused_and_nothing_runs() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let pfctl = logging_pfctl(&log);
    // The issue's cases: a recording named before `report --kill`, a pfctl
    // named before `report`, a server before `report`, garbage there.
    let cases: Vec<Vec<&str>> = vec![
        vec![
            "--from",
            "fixtures/scenarios/dual-prefix",
            "report",
            "--kill",
            "--allow-kill",
            "--yes",
            "--pfctl",
            &pfctl,
        ],
        vec!["--pfctl", &pfctl, "report", "-s", "2001:db8:bbbb:1::10"],
        vec!["-s", "2001:db8:bbbb:1::10", "report", "--pfctl", &pfctl],
        vec![
            "-s",
            "garbage",
            "report",
            "--from",
            "fixtures/scenarios/dual-prefix",
        ],
        vec!["--allow-kill", "lint", "--pfctl", &pfctl],
        vec!["-i", "5", "record", "--pfctl", &pfctl, "/nonexistent/x"],
    ];
    for args in cases {
        pfblame(&args)
            .code(2)
            .stderr(predicate::str::contains("before the subcommand"));
    }
    assert!(
        !log.exists(),
        "pfctl was run: {:?}",
        std::fs::read_to_string(&log)
    );
}

#[test]
fn a_recording_and_a_live_pfctl_cannot_both_be_named() {
    for sub in ["report", "lint", "watch"] {
        for live in [&["--pfctl", "doas pfctl"][..], &["--ssh", "fw"]] {
            let mut args = vec![sub, "--from", "fixtures/scenarios/dual-prefix"];
            args.extend(live);
            pfblame(&args)
                .code(2)
                .stderr(predicate::str::contains("cannot be used with"));
        }
    }
}

#[test]
fn watch_options_still_work_without_a_subcommand() {
    // `pfblame -s X` is watch; without a terminal it stops with a usage
    // error that names report, after parsing every option.
    pfblame(&[
        "-s",
        "2001:db8::10",
        "--from",
        "fixtures/scenarios/dual-prefix",
    ])
    .code(2)
    .stderr(predicate::str::contains("needs a terminal"));
    pfblame(&["-s", "garbage", "--from", "fixtures/scenarios/dual-prefix"])
        .code(2)
        .stderr(predicate::str::contains("garbage"));
}

#[test]
fn each_subcommand_takes_only_its_own_options() {
    for args in [
        &["lint", "--interval", "2"][..],
        &["lint", "--strategy", "per-rule"],
        &["record", "--from", "x", "/tmp/never"],
        &["parse", "--pfctl", "pfctl", "-"],
        &["demo", "--from", "x"],
    ] {
        pfblame(args)
            .code(2)
            .stderr(predicate::str::contains("unexpected argument"));
    }
    let help = |sub: &str| {
        let out = pfblame(&[sub, "--help"])
            .code(0)
            .get_output()
            .stdout
            .clone();
        String::from_utf8(out).unwrap()
    };
    let lint = help("lint");
    assert!(
        !lint.contains("--interval") && !lint.contains("--strategy"),
        "{lint}"
    );
    assert!(!help("record").contains("--from"));
    assert!(help("report").contains("--ssh"));
}

#[test]
fn seconds_are_validated_alike_everywhere() {
    for sub in [
        &["watch"][..],
        &["report"],
        &["record", "/nonexistent/x"],
        &["demo"],
    ] {
        for bad in ["0", "-1", "nan", "inf", "1e9", "x"] {
            let mut args = sub.to_vec();
            args.extend(["-i", bad]);
            pfblame(&args)
                .code(2)
                .stderr(predicate::str::contains("--interval"))
                .stderr(predicate::str::contains("unexpected argument").not());
        }
    }
    for sub in [&["report"][..], &["lint"], &["record", "/nonexistent/x"]] {
        let mut args = sub.to_vec();
        args.extend(["--timeout", "-1"]);
        pfblame(&args)
            .code(2)
            .stderr(predicate::str::contains("positive number of seconds"));
    }
}

#[test]
fn version_names_commit_date_and_target() {
    let out = pfblame(&["--version"]).code(0).get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    let re = regex::Regex::new(
        r"^pfblame \d+\.\d+\.\d+ \(commit ([0-9a-f]{4,}|unknown), built (\d{4}-\d{2}-\d{2}|unknown), [A-Za-z0-9_.-]+\)\n$",
    )
    .unwrap();
    assert!(re.is_match(&text), "{text:?}");
    assert!(text.contains(std::env::consts::ARCH), "{text}");
}

#[test]
fn help_gives_examples_and_the_exit_statuses() {
    let out = pfblame(&["--help"]).code(0).get_output().stdout.clone();
    let text = String::from_utf8(out).unwrap();
    let examples = text.split("Examples:").nth(1).expect("examples");
    assert_eq!(
        examples
            .lines()
            .filter(|l| l.trim_start().starts_with("pfblame")
                || l.trim_start().starts_with("doas pfblame"))
            .count(),
        3,
        "{text}"
    );
    for status in ["0 ", "1 ", "2 ", "65", "66", "69", "70", "77"] {
        assert!(
            text.lines().any(|l| l.trim_start().starts_with(status)),
            "exit status {status} missing:\n{text}"
        );
    }
}
