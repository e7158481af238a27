//! `pfblame lint` exit statuses and output, through the binary and through
//! `commands::lint::lint_rules`.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure

mod lint_support;

use assert_cmd::Command;
use lint_support::*;
use pfblame::commands::lint::lint_rules;
use pfblame::exit::Exit;
use pfblame::model::RuleKey;
use pfblame::pf::{AllowSpec, parse_allow};

fn fixture(name: &str) -> String {
    format!("{}/fixtures/lint/{name}", env!("CARGO_MANIFEST_DIR"))
}

fn pfblame() -> Command {
    Command::cargo_bin("pfblame").unwrap()
}

#[test]
fn no_server_is_a_usage_error() {
    pfblame()
        .args(["lint", "--from", &fixture("mission-correct.txt")])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("-s ADDR"));
}

#[test]
fn bad_server_is_a_usage_error() {
    pfblame()
        .args([
            "lint",
            "-s",
            "not-an-address",
            "--from",
            &fixture("mission-correct.txt"),
        ])
        .assert()
        .code(2);
}

#[test]
fn missing_input_is_66() {
    pfblame()
        .args(["lint", "-s", SERVER, "--from", "/nonexistent/rules.txt"])
        .assert()
        .code(66);
}

#[test]
fn directory_without_rules_is_a_data_error() {
    let dir = tempfile::tempdir().unwrap();
    pfblame()
        .args(["lint", "-s", SERVER, "--from"])
        .arg(dir.path())
        .assert()
        .code(65);
}

#[test]
fn exit_1_when_something_is_found_0_when_clean() {
    let s = servers();
    assert_eq!(
        lint_rules(&mission(Some(2), true), &s, &Default::default()).1,
        Exit::Found
    );
    assert_eq!(
        lint_rules(&mission(None, true), &s, &Default::default()).1,
        Exit::Ok
    );
}

#[test]
fn allowed_rules_are_not_findings() {
    let s = servers();
    let allow = parse_allow(&["1".into()]).unwrap();
    assert_eq!(
        allow.specs().collect::<Vec<_>>(),
        [&AllowSpec::Key(RuleKey {
            anchor: None,
            number: Some(1)
        })]
    );
    // @1 keeping state only gives a server-states warning: allowed, clean.
    assert_eq!(lint_rules(&mission(Some(1), true), &s, &allow).1, Exit::Ok);
    // Allowing @1 does not hide @2's bypass.
    assert_eq!(
        lint_rules(&mission(Some(2), true), &s, &allow).1,
        Exit::Found
    );
    assert!(parse_allow(&["x:1".into()]).is_err());
    assert_eq!(
        parse_allow(&["5:0".into()])
            .unwrap()
            .specs()
            .collect::<Vec<_>>(),
        [&AllowSpec::Key(RuleKey {
            anchor: Some(5),
            number: Some(0)
        })]
    );
}

#[test]
fn fixture_with_a_bypass_exits_1_and_names_the_rules() {
    pfblame()
        .args(["lint", "-s", SERVER, "--from", &fixture("mission-stateful-2.txt")])
        .assert()
        .code(1)
        .stdout(predicates::str::contains(
            "error: rule @2 keeps state for tcp to 2001:db8::10 port 443 out on em1; replies in on em1 match that state and skip route-to rule @3",
        ));
}

#[test]
fn correct_fixture_exits_0() {
    pfblame()
        .args([
            "lint",
            "-s",
            SERVER,
            "--from",
            &fixture("mission-correct.txt"),
        ])
        .assert()
        .code(0);
}

#[test]
fn recorded_directory_and_numbered_polls() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(fixture("mission-correct.txt")).unwrap();
    std::fs::create_dir(dir.path().join("0001")).unwrap();
    std::fs::create_dir(dir.path().join("0002")).unwrap();
    std::fs::write(dir.path().join("0001/rules.txt"), "old").unwrap();
    std::fs::write(dir.path().join("0002/rules.txt"), &text).unwrap();
    let got = pfblame::commands::lint::read_recorded_rules(dir.path()).unwrap();
    assert_eq!(got, text, "the last poll's rules");
    std::fs::write(dir.path().join("rules.txt"), "direct").unwrap();
    let got = pfblame::commands::lint::read_recorded_rules(dir.path()).unwrap();
    assert_eq!(got, "direct", "DIR/rules.txt wins");
}
