//! `pfblame report --kill` through the binary, against the fake pfctl
//! (`tests/fake-pfctl`) replaying the bundled scenario's first poll: refused
//! without `--allow-kill` or with `--from` (nothing run), and once confirmed
//! exactly one `pfctl -k id -k <id>/<creatorid>` per spurious server state.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::PathBuf;

use assert_cmd::Command;
use predicates::prelude::*;

mod cli_support;
use cli_support::{json_lines, root};

const WWW_HE: &str = "2001:db8:bbbb:1::10";

fn poll_dir() -> PathBuf {
    root().join("fixtures/scenarios/dual-prefix/0001")
}

/// A live `report` against the fake pfctl, logging every invocation and
/// every kill into `logs`.
struct Live {
    logs: tempfile::TempDir,
}

impl Live {
    fn new() -> Self {
        Live {
            logs: tempfile::tempdir().unwrap(),
        }
    }

    fn log(&self) -> PathBuf {
        self.logs.path().join("pfctl.log")
    }

    fn kill_log(&self) -> PathBuf {
        self.logs.path().join("kill.log")
    }

    fn cmd(&self, pfctl: &str, args: &[&str]) -> Command {
        let mut c = Command::cargo_bin("pfblame").unwrap();
        c.current_dir(root())
            .env_remove("NO_COLOR")
            .env("FAKE_PFCTL_DIR", poll_dir())
            .env("FAKE_PFCTL_LOG", self.log())
            .env("FAKE_PFCTL_KILL_LOG", self.kill_log())
            .args(["report", "--pfctl", pfctl, "-s", WWW_HE])
            .args(args);
        c
    }

    fn report(&self, args: &[&str]) -> Command {
        self.cmd("tests/fake-pfctl", args)
    }

    /// Every invocation of the fake, as JSON lists.
    fn runs(&self) -> Vec<Vec<String>> {
        json_lines(&self.log())
    }

    /// The `-k` arguments of every kill the fake received.
    fn kills(&self) -> Vec<Vec<String>> {
        json_lines(&self.kill_log())
    }
}

/// `<id>/<creatorid>` of the states in the scenario's `states.txt` created
/// by `rule` whose server side is port `port`, read from the text directly
/// (not through pfblame's parser), in listing order.
fn ids_in_fixture(rule: u32, port: u16) -> Vec<String> {
    let text = fs::read_to_string(poll_dir().join("states.txt")).unwrap();
    let mut out = Vec::new();
    let mut record: Vec<&str> = Vec::new();
    let mut flush = |record: &Vec<&str>| {
        let Some(first) = record.first() else { return };
        let on_port = first.contains(&format!("{WWW_HE}[{port}]"));
        let by_rule = record
            .iter()
            .any(|l| l.trim_start().starts_with("age ") && l.ends_with(&format!("rule {rule}")));
        if on_port && by_rule {
            let id_line = record.iter().find(|l| l.trim_start().starts_with("id:"));
            let words: Vec<&str> = id_line.unwrap().split_whitespace().collect();
            // id: <id> creatorid: <creatorid>
            out.push(format!("{}/{}", words[1], words[3]));
        }
    };
    for line in text.lines() {
        if line.starts_with(' ') {
            record.push(line);
        } else {
            flush(&record);
            record = vec![line];
        }
    }
    flush(&record);
    out
}

fn kill_args(ids: &[String]) -> Vec<Vec<String>> {
    ids.iter()
        .map(|id| vec!["id".to_string(), id.clone()])
        .collect()
}

#[test]
fn the_fixture_has_four_stray_states() {
    // Guards the expectations below against a changed scenario.
    assert_eq!(ids_in_fixture(14, 443).len(), 4);
    assert_eq!(ids_in_fixture(19, 22).len(), 2);
}

#[test]
fn refused_without_allow_kill_and_nothing_runs() {
    let live = Live::new();
    live.report(&["-p", "443", "--kill", "--yes"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("needs --allow-kill"));
    assert!(live.runs().is_empty(), "{:?}", live.runs());
    assert!(live.kills().is_empty());
}

#[test]
fn refused_on_a_recording() {
    Command::cargo_bin("pfblame")
        .unwrap()
        .current_dir(root())
        .args(["report", "--from", "fixtures/scenarios/dual-prefix/0001"])
        .args(["-s", WWW_HE, "-p", "443", "--kill", "--allow-kill", "--yes"])
        .assert()
        .code(2)
        .stdout(predicate::str::is_empty())
        .stderr(predicate::str::contains("not possible with --from"));
}

#[test]
fn yes_kills_exactly_the_spurious_states_by_id() {
    let live = Live::new();
    let expected = ids_in_fixture(14, 443);
    let shown: Vec<String> = expected
        .iter()
        .map(|id| format!("  tests/fake-pfctl -k id -k {id}\n"))
        .collect();
    live.report(&["-p", "443", "--kill", "--allow-kill", "--yes"])
        .write_stdin("")
        .assert()
        // The report's status: spurious states were found.
        .code(1)
        .stdout(predicate::str::contains("skip route-to rule @17"))
        .stderr(predicate::str::contains(format!(
            "pfblame will remove 4 states by running:\n{}",
            shown.concat()
        )))
        .stderr(predicate::str::contains(
            "4 of 4 commands succeeded; pfctl reported 4 states killed",
        ));
    assert_eq!(live.kills(), kill_args(&expected));
    // One poll (rules, states, and once `-vsi` for the Hostid), then one
    // pfctl run per state.
    let runs = live.runs();
    assert_eq!(runs.len(), 3 + expected.len(), "{runs:?}");
    assert_eq!(runs[2], ["-vsi"]);
    for (run, id) in runs[3..].iter().zip(&expected) {
        assert_eq!(run, &["-k", "id", "-k", id.as_str()]);
    }
}

#[test]
fn answering_no_removes_nothing() {
    let live = Live::new();
    live.report(&["-p", "443", "--kill", "--allow-kill"])
        .write_stdin("n\n")
        .assert()
        .code(1)
        .stderr(predicate::str::contains("pfblame will remove 4 states"))
        .stderr(predicate::str::contains("no state was removed"));
    assert!(live.kills().is_empty());
    assert_eq!(
        live.runs().len(),
        3,
        "only the poll ran (rules, states, -vsi)"
    );
}

#[test]
fn an_explicit_yes_on_a_pipe_counts() {
    let live = Live::new();
    live.report(&["-p", "443", "--kill", "--allow-kill"])
        .write_stdin("yes\n")
        .assert()
        .code(1);
    assert_eq!(live.kills(), kill_args(&ids_in_fixture(14, 443)));
}

#[test]
fn no_answer_and_no_yes_is_refused() {
    let live = Live::new();
    live.report(&["-p", "443", "--kill", "--allow-kill"])
        .write_stdin("")
        .assert()
        .code(2)
        .stderr(predicate::str::contains("use --yes"));
    assert!(live.kills().is_empty());
}

#[test]
fn allowed_rules_keep_their_states() {
    // Without --port, @19's ssh states are server states too; allowing it
    // leaves only @14's states to remove.
    let live = Live::new();
    live.report(&["--allow", "19", "--kill", "--allow-kill", "--yes"])
        .assert()
        .code(1);
    assert_eq!(live.kills(), kill_args(&ids_in_fixture(14, 443)));

    // Without --allow the ssh rule is `stateful` (nothing routes its
    // replies): its states misroute nothing and are not removed either.
    let live = Live::new();
    live.report(&["--kill", "--allow-kill", "--yes"])
        .assert()
        .code(1);
    let kills = live.kills();
    assert_eq!(kills, kill_args(&ids_in_fixture(14, 443)), "{kills:?}");
    for id in ids_in_fixture(19, 22) {
        assert!(!kills.contains(&vec!["id".to_string(), id.clone()]), "{id}");
    }
}

#[test]
fn json_stays_clean_on_stdout() {
    let live = Live::new();
    let out = live
        .report(&[
            "-p",
            "443",
            "--format",
            "json",
            "--kill",
            "--allow-kill",
            "--yes",
        ])
        .assert()
        .code(1)
        .get_output()
        .clone();
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["bypassed_rule"]["number"], 17);
    assert_eq!(live.kills().len(), 4);
}

#[test]
fn a_failing_kill_exits_69_and_says_which() {
    // pfctl that polls like the fake but fails every -k.
    let live = Live::new();
    let script = live.logs.path().join("pfctl-nokill");
    fs::write(
        &script,
        format!(
            "#!/bin/sh\ncase \"$1\" in -k) echo 'pfctl: DIOCKILLSTATES: Operation not permitted' >&2; exit 1;; esac\nexec {} \"$@\"\n",
            root().join("tests/fake-pfctl").display()
        ),
    )
    .unwrap();
    let pfctl = format!("sh {}", script.display());
    live.cmd(&pfctl, &["-p", "443", "--kill", "--allow-kill", "--yes"])
        .assert()
        .code(69)
        .stderr(predicate::str::contains("0 of 4 commands succeeded"))
        .stderr(predicate::str::contains("Operation not permitted"));
}
