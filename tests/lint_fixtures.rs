//! Lint on every ruleset of fixtures/lint/ (OpenBSD `pfctl -vvsr` text),
//! through the rules parser. Ignored until `crate::parse::rules::parse_rules`
//! lands on main: with the skeleton parser every listing parses to nothing.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure

mod lint_support;

use lint_support::servers;
use pfblame::lint::{FindingKind, predict};
use pfblame::model::RuleKey;

/// (file, expected findings as (kind, stateful rule key, bypassed rule key)).
type Expected = &'static [(FindingKind, (Option<u32>, u32), Option<(Option<u32>, u32)>)];

const CASES: &[(&str, Expected)] = &[
    ("mission-correct.txt", &[]),
    ("mission-shadowed.txt", &[]),
    (
        "mission-stateful-1.txt",
        &[(FindingKind::ServerStates, (None, 1), None)],
    ),
    (
        "mission-stateful-2.txt",
        &[(FindingKind::Bypass, (None, 2), Some((None, 3)))],
    ),
    (
        "mission-stateful-3.txt",
        &[(FindingKind::MissedReplies, (None, 3), Some((None, 0)))],
    ),
    (
        "mission-stateful-4.txt",
        &[(FindingKind::MissedReplies, (None, 4), Some((None, 0)))],
    ),
    (
        "mission-noquick.txt",
        &[(FindingKind::Bypass, (None, 5), Some((None, 3)))],
    ),
    (
        "mission-anchor.txt",
        &[(FindingKind::Bypass, (Some(1), 0), Some((None, 5)))],
    ),
];

fn key((anchor, n): (Option<u32>, u32)) -> RuleKey {
    RuleKey {
        anchor,
        number: Some(n),
    }
}

#[test]
fn every_fixture_gives_the_expected_findings() {
    for (file, expected) in CASES {
        let path = format!("{}/fixtures/lint/{file}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap();
        let (rules, diags) = pfblame::parse::rules::parse_rules(&text);
        assert!(diags.is_empty(), "{file}: {diags:#?}");
        assert!(!rules.is_empty(), "{file}: no rules parsed");
        let report = predict(&rules, &servers());
        let got: Vec<_> = report
            .findings
            .iter()
            .map(|f| {
                (
                    f.kind,
                    f.stateful_rule.key(),
                    f.bypassed_rule.as_ref().map(|b| b.key()),
                )
            })
            .collect();
        let want: Vec<_> = expected
            .iter()
            .map(|(k, s, b)| (*k, key(*s), b.map(key)))
            .collect();
        assert_eq!(got, want, "{file}");
    }
}

#[test]
fn every_fixture_is_listed() {
    let dir = format!("{}/fixtures/lint", env!("CARGO_MANIFEST_DIR"));
    let mut files: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    files.sort();
    let mut listed: Vec<String> = CASES.iter().map(|(f, _)| f.to_string()).collect();
    listed.sort();
    assert_eq!(files, listed);
}
