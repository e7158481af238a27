//! `pfblame report` end to end: the binary, the bundled scenarios, exit codes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use predicates::prelude::*;

const WWW_HE: &str = "2001:db8:bbbb:1::10";

fn report(args: &[&str]) -> assert_cmd::assert::Assert {
    Command::cargo_bin("pfblame")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env_remove("NO_COLOR")
        .arg("report")
        .args(args)
        .assert()
}

const MISSION: &[&str] = &[
    "--from",
    "fixtures/scenarios/dual-prefix",
    "-s",
    WWW_HE,
    "-p",
    "443",
];

fn with(extra: &[&str]) -> Vec<String> {
    MISSION.iter().chain(extra).map(|s| s.to_string()).collect()
}

fn run(args: &[String]) -> assert_cmd::assert::Assert {
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    report(&args)
}

#[test]
fn mission_text_names_the_stray_rule_and_exits_1() {
    run(&with(&[]))
        .code(1)
        .stdout(predicate::str::contains(
            "@14   -       4              bypass   pass out quick on em1",
        ))
        .stdout(predicate::str::contains("@19").not())
        .stdout(predicate::str::contains("\x1b").not());
}

#[test]
fn mission_json_names_only_the_stray_rule_and_exits_1() {
    let out = run(&with(&["--format", "json"]))
        .code(1)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rules = v["rules"].as_array().unwrap();
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0]["number"], 14);
    assert_eq!(rules[0]["anchor"], serde_json::Value::Null);
    assert_eq!(rules[0]["verdict"], "bypass");
    assert_eq!(v["dialect"], "openbsd-6.8");
    assert_eq!(v["misrouted"], true);
    assert_eq!(v["server_states"], 4);
    assert_eq!(v["servers"][0], WWW_HE);
}

#[test]
fn mission_markdown_names_only_the_stray_rule_and_exits_1() {
    run(&with(&["--format", "markdown"]))
        .code(1)
        .stdout(predicate::str::contains("| `@14` |  | 4 | **bypass** |"))
        .stdout(predicate::str::contains("@19").not());
}

#[test]
fn allowing_the_rule_exits_0() {
    // The bypass is still shown: --allow says the states are expected, not
    // that routing works.
    run(&with(&["--allow", "14"]))
        .code(0)
        .stdout(predicate::str::contains("allowed"))
        .stdout(predicate::str::contains("skip route-to rule @17"));
}

#[test]
fn every_format_names_the_route_to_rule_bypassed() {
    run(&with(&[]))
        .code(1)
        .stdout(predicate::str::contains(
            "  error: rule @14 keeps state for tcp to 2001:db8:bbbb:1::10 port 443 out on em1 \
             (4 states); replies in on em1 match those states and skip route-to rule @17\n    \
             skips @17: pass in quick on em1 inet6 proto tcp from 2001:db8:bbbb:1::10 port = 443 \
             to any no state route-to 2001:db8:cccc::1@gif0\n",
        ))
        .stdout(predicate::str::contains(
            "bypass: replies misrouted or dropped by the states of 1 rule: @14 (bypasses @17)",
        ));
    run(&with(&["--format", "markdown"]))
        .code(1)
        .stdout(predicate::str::contains(
            "- **error:** rule @14 keeps state",
        ))
        .stdout(predicate::str::contains(
            "  - skips `@17`: `pass in quick on em1",
        ));
    let out = run(&with(&["--format", "json"]))
        .code(1)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let findings = v["findings"].as_array().unwrap();
    assert_eq!(findings.len(), 1);
    assert_eq!(findings[0]["severity"], "error");
    assert_eq!(findings[0]["kind"], "bypass");
    assert_eq!(findings[0]["stateful_rule"]["number"], 14);
    assert_eq!(findings[0]["bypassed_rule"]["number"], 17);
    assert_eq!(findings[0]["states"], 4);
}

#[test]
fn without_port_the_ssh_rule_shows_and_can_be_allowed() {
    let base = ["--from", "fixtures/scenarios/dual-prefix", "-s", WWW_HE];
    report(&base)
        .code(1)
        .stdout(predicate::str::contains("@19"));
    let mut allowed = base.to_vec();
    allowed.extend(["--allow", "19"]);
    report(&allowed)
        .code(1)
        .stdout(predicate::str::is_match(r"@19 +- +2 +allowed").unwrap());
}

#[test]
fn rates_need_several_samples() {
    run(&with(&["--samples", "4"]))
        .code(1)
        .stdout(predicate::str::contains("PER SEC"))
        .stdout(predicate::str::is_match(r"@14 +- +7 +4 +0\.44 +bypass").unwrap());
    run(&with(&["--samples", "9"]))
        .code(1)
        .stderr(predicate::str::contains("the recording has 4 polls"));
}

#[test]
fn after_the_fix_expired_nothing_is_spurious() {
    report(&[
        "--from",
        "fixtures/scenarios/reload/0003",
        "-s",
        WWW_HE,
        "-p",
        "443",
    ])
    .code(0)
    .stdout(predicate::str::contains(
        "no state in the table belongs to the servers",
    ));
}

#[test]
fn without_server_the_busiest_rules_and_exit_0() {
    report(&["--from", "fixtures/scenarios/dual-prefix"])
        .code(0)
        .stdout(predicate::str::contains("No --server given"));
}

#[test]
fn colour_only_when_asked() {
    run(&with(&["--color", "always"]))
        .code(1)
        .stdout(predicate::str::contains("\x1b[1;31mbypass"));
}

#[test]
fn usage_errors_exit_2() {
    report(&[
        "--from",
        "fixtures/scenarios/dual-prefix",
        "-s",
        "2001:db8::zz",
    ])
    .code(2)
    .stderr(predicate::str::contains("invalid --server `2001:db8::zz`"));
    report(&[
        "--from",
        "fixtures/scenarios/dual-prefix",
        "-s",
        WWW_HE,
        "--allow",
        "relayd:1",
    ])
    .code(2)
    .stderr(predicate::str::contains("invalid --allow `relayd:1`"));
    report(&["--from", "fixtures/scenarios/dual-prefix", "--samples", "0"]).code(2);
}

#[test]
fn missing_input_exits_66() {
    report(&["--from", "fixtures/scenarios/no-such-thing", "-s", WWW_HE]).code(66);
}
