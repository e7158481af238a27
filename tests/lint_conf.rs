//! `pfblame lint --conf FILE` (`pfctl -nvf FILE`, loads nothing), its
//! `--compare` with the loaded ruleset, and `-nv` output read with
//! `--from` (rules without `@N`, numbered the way pf will number them).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;

use assert_cmd::Command;
use pfblame::commands::lint::{compare, lint_rules_in};
use pfblame::lint::predict::PredictOptions;
use pfblame::pf::matcher::Tables;
use pfblame::pf::{Servers, Verdict};

const SERVER: &str = "2001:db8::10";

fn root(p: &str) -> String {
    format!("{}/{p}", env!("CARGO_MANIFEST_DIR"))
}

/// A rules listing as `pfctl -nv` prints it: no `@N`, no counters.
fn nv(listing: &str) -> String {
    listing
        .lines()
        .filter(|l| !l.starts_with("  ["))
        .map(|l| {
            l.split_once(' ')
                .map_or(l, |(n, rest)| if n.starts_with('@') { rest } else { l })
        })
        .collect::<Vec<_>>()
        .join("\n")
        + "\n"
}

fn scenario_nv(name: &str) -> String {
    nv(&std::fs::read_to_string(root(&format!("fixtures/scenarios/{name}/rules.txt"))).unwrap())
}

#[test]
fn unnumbered_rules_get_pfs_numbers() {
    let (rules, _) = pfblame::parse::rules::parse_rules(&scenario_nv("openbsd-flags-any-stray-2"));
    assert!(rules.iter().all(|r| r.number_inferred));
    let numbers: Vec<Option<u32>> = rules.iter().map(|r| r.number).collect();
    assert_eq!(numbers, [Some(0), Some(1), Some(2), Some(3), Some(4)]);
}

#[test]
fn nv_output_read_with_from_gets_the_same_verdicts() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("nv.txt");
    std::fs::write(&file, scenario_nv("openbsd-flags-any-stray-2")).unwrap();
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .args([
            "lint",
            "--from",
            file.to_str().unwrap(),
            "-s",
            SERVER,
            "-p",
            "443",
            "--format",
            "json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdicts"][0]["rule"]["number"], 2);
    assert_eq!(v["verdicts"][0]["verdict"], "bypass");
}

#[test]
fn compare_says_which_verdicts_the_change_fixes() {
    let servers = Servers::parse(&[SERVER.into()], &[443]).unwrap();
    let lint = |name: &str| {
        let (rules, _) = pfblame::parse::rules::parse_rules(&scenario_nv(name));
        lint_rules_in(
            &rules,
            &servers,
            &Default::default(),
            &Tables::new(),
            &PredictOptions::default(),
            false,
        )
        .0
    };
    let changes = compare(
        &lint("openbsd-flags-any-stray-2"),
        &lint("openbsd-flags-any"),
    );
    let fixed = changes
        .iter()
        .find(|c| c.loaded == Some(Verdict::Bypass))
        .expect("the stray rule's bypass goes away");
    assert_eq!(fixed.effect(), "fixes");
    assert!(
        fixed.text.starts_with("pass out quick on em1"),
        "{}",
        fixed.text
    );
    // And the other way round it breaks.
    let broken = compare(
        &lint("openbsd-flags-any"),
        &lint("openbsd-flags-any-stray-2"),
    );
    assert!(broken.iter().any(|c| c.effect() == "breaks"), "{broken:?}");
}

#[test]
fn conf_runs_pfctl_nvf_and_compare_prints_the_table() {
    let dir = tempfile::tempdir().unwrap();
    let conf = dir.path().join("pf.conf.nv");
    std::fs::write(&conf, scenario_nv("openbsd-flags-any")).unwrap();
    // A stand-in pfctl: `-n -v -f FILE` prints FILE (as `pfctl -nvf` prints
    // the parsed ruleset), `-a '*' -vvsr` the loaded ruleset, and the rest
    // of a poll (states, info) nothing.
    let loaded = dir.path().join("loaded.txt");
    std::fs::copy(
        root("fixtures/scenarios/openbsd-flags-any-stray-2/rules.txt"),
        &loaded,
    )
    .unwrap();
    let pfctl = dir.path().join("pfctl");
    std::fs::write(
        &pfctl,
        format!(
            "#!/bin/sh\ncase \"$*\" in\n\"-n -v -f \"*) cat \"$4\" ;;\n\"-a * -vvsr\") cat '{}' ;;\nesac\nexit 0\n",
            loaded.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&pfctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    let run = |extra: &[&str]| {
        Command::cargo_bin("pfblame")
            .unwrap()
            .args([
                "lint",
                "--pfctl",
                pfctl.to_str().unwrap(),
                "--conf",
                conf.to_str().unwrap(),
            ])
            .args(["-s", SERVER, "-p", "443"])
            .args(extra)
            .output()
            .unwrap()
    };
    let out = run(&[]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("@3 routing"));
    // --compare reads the loaded ruleset (`pfctl -a '*' -vvsr`) and prints
    // the table.
    let out = run(&["--compare"]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("EFFECT"), "{text}");
    assert!(text.contains("fixes    bypass"), "{text}");
    assert_eq!(out.status.code(), Some(0), "the candidate is clean");
}

#[test]
fn compare_needs_conf() {
    Command::cargo_bin("pfblame")
        .unwrap()
        .args(["lint", "--compare", "-s", SERVER])
        .assert()
        .code(2);
}
