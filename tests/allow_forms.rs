//! `--allow label:NAME` and `--allow 'ANCHOR/*'` end to end: report,
//! check, lint and the config file, on the dual-prefix scenario with its
//! ssh rule (@19) labelled.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use predicates::prelude::*;

const WWW_HE: &str = "2001:db8:bbbb:1::10";
const SSH_RULE: &str =
    "@19 pass inet6 proto tcp from 2001:db8:aaaa:2::/64 to <www:2> port = 22 flags S/SA";
const STRAY_RULE: &str =
    "@14 pass out quick on em1 inet6 proto tcp from any to <www:2> port = 443 flags S/SA";

/// The last poll of dual-prefix, with `label "ssh"` on rule @19 and
/// `label "stray"` on @14.
fn labelled_recording(dir: &Path) {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios/dual-prefix/0004");
    let rules = fs::read_to_string(from.join("rules.txt")).unwrap();
    assert!(rules.contains(SSH_RULE), "the fixture changed");
    assert!(rules.contains(STRAY_RULE), "the fixture changed");
    let rules = rules
        .replace(SSH_RULE, &format!("{SSH_RULE} label \"ssh\""))
        .replace(STRAY_RULE, &format!("{STRAY_RULE} label \"stray\""));
    fs::write(dir.join("rules.txt"), rules).unwrap();
    fs::copy(from.join("states.txt"), dir.join("states.txt")).unwrap();
}

fn pfblame(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("pfblame").unwrap();
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("PFBLAME_CONFIG")
        .env("NO_COLOR", "1");
    cmd
}

#[test]
fn report_allows_the_ssh_rule_by_its_label() {
    let tmp = tempfile::tempdir().unwrap();
    labelled_recording(tmp.path());
    let from = tmp.path().to_str().unwrap();
    let base = ["report", "--from", from, "-s", WWW_HE];
    pfblame(tmp.path())
        .args(base)
        .assert()
        .stdout(predicate::str::is_match(r"@19 +- +2 +stateful").unwrap());
    pfblame(tmp.path())
        .args(base)
        .args(["--allow", "label:ssh"])
        .assert()
        .stdout(predicate::str::is_match(r"@19 +- +2 +allowed").unwrap());
    let out = pfblame(tmp.path())
        .args(base)
        .args(["--allow", "label:ssh", "--format", "json"])
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let rule19 = json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["number"] == 19)
        .expect("rule 19 in the JSON");
    assert_eq!(rule19["verdict"], "allowed");
    assert!(
        rule19["reason"]
            .as_str()
            .unwrap()
            .contains("--allow label:ssh"),
        "{rule19}"
    );
    // A label no rule carries allows nothing.
    pfblame(tmp.path())
        .args(base)
        .args(["--allow", "label:web"])
        .assert()
        .stdout(predicate::str::is_match(r"@19 +- +2 +stateful").unwrap());
}

#[test]
fn the_config_file_and_check_take_the_same_forms() {
    let tmp = tempfile::tempdir().unwrap();
    labelled_recording(tmp.path());
    let from = tmp.path().to_str().unwrap();
    let config = tmp.path().join("pfblame.toml");
    fs::write(&config, "allow = [\"label:ssh\", \"ftp-proxy/*\"]\n").unwrap();
    let config = config.to_str().unwrap();
    pfblame(tmp.path())
        .args(["--config", config, "report", "--from", from, "-s", WWW_HE])
        .assert()
        .stdout(predicate::str::is_match(r"@19 +- +2 +allowed").unwrap());
    let check = |allow: &str| {
        let out = pfblame(tmp.path())
            .args(["check", "--from", from, "-s", WWW_HE, "--allow", allow])
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    };
    assert!(
        check("label:nothing").contains(" allowed=0;"),
        "{}",
        check("label:nothing")
    );
    assert!(
        check("label:ssh").contains(" allowed=1;"),
        "{}",
        check("label:ssh")
    );
    // A bad value is refused by the one parser, from the file as from the
    // command line.
    fs::write(tmp.path().join("bad.toml"), "allow = [\"relayd:1\"]\n").unwrap();
    let bad = tmp.path().join("bad.toml");
    pfblame(tmp.path())
        .args(["--config", bad.to_str().unwrap(), "report", "--from", from])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("label:NAME"));
    pfblame(tmp.path())
        .args(["lint", "--from", from, "-s", WWW_HE, "--allow", "label:"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("invalid --allow `label:`"));
}

#[test]
fn lint_allows_by_label_and_no_anchor_glob_covers_the_main_ruleset() {
    let tmp = tempfile::tempdir().unwrap();
    labelled_recording(tmp.path());
    let from = tmp.path().to_str().unwrap();
    let verdict_of_14 = |extra: &[&str]| {
        let out = pfblame(tmp.path())
            .args(["lint", "--from", from, "-s", WWW_HE, "--format", "json"])
            .args(extra)
            .output()
            .unwrap();
        let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        json["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["rule"]["number"] == 14 && v["rule"]["anchor_path"] == "")
            .map(|v| (v["verdict"].clone(), v["reason"].clone()))
    };
    let (before, _) = verdict_of_14(&[]).expect("lint judges @14");
    assert_ne!(before, "allowed");
    let (after, reason) = verdict_of_14(&["--allow", "label:stray"]).expect("lint judges @14");
    assert_eq!(after, "allowed");
    assert!(
        reason.as_str().unwrap().contains("--allow label:stray"),
        "{reason}"
    );
    // An anchor glob never covers the main ruleset's @14.
    let (glob, _) = verdict_of_14(&["--allow", "*"]).expect("lint judges @14");
    assert_eq!(glob, before);
}
