//! Snapshots of `report` in its three formats, on the bundled scenarios.
//! Review the .snap files by reading them: they are the expected output.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod report_support;

use pfblame::analyze::Analysis;
use pfblame::cli::Format;
use pfblame::report::{self, Options};
use report_support::{analyses, config, scenario};

const WWW_HE: &str = "2001:db8:bbbb:1::10";

fn render(a: &Analysis, format: Format, color: bool) -> String {
    let mut out = Vec::new();
    let opts = Options {
        color,
        ..Options::default()
    };
    report::write(a, format, &opts, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn mission() -> Analysis {
    analyses(
        &scenario("dual-prefix/0001"),
        &config(&[WWW_HE], &[443], &[]),
    )
    .pop()
    .unwrap()
}

#[test]
fn mission_text() {
    insta::assert_snapshot!(render(&mission(), Format::Text, false));
}

#[test]
fn mission_json() {
    let text = render(&mission(), Format::Json, false);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    // The contract's fields (shared/design.md).
    for k in [
        "taken_at",
        "servers",
        "total_states",
        "server_states",
        "rules",
        "diagnostics",
    ] {
        assert!(v.get(k).is_some(), "missing {k}");
    }
    for k in [
        "anchor",
        "anchor_path",
        "number",
        "text",
        "server_states",
        "verdict",
        "reason",
    ] {
        assert!(v["rules"][0].get(k).is_some(), "missing rules[].{k}");
    }
    insta::assert_snapshot!(text);
}

#[test]
fn mission_markdown() {
    insta::assert_snapshot!(render(&mission(), Format::Markdown, false));
}

#[test]
fn without_port_with_allow_over_four_samples_text() {
    let a = analyses(&scenario("dual-prefix"), &config(&[WWW_HE], &[], &["19"]))
        .pop()
        .unwrap();
    insta::assert_snapshot!(render(&a, Format::Text, false));
}

#[test]
fn four_samples_markdown() {
    let a = analyses(&scenario("dual-prefix"), &config(&[WWW_HE], &[443], &[]))
        .pop()
        .unwrap();
    insta::assert_snapshot!(render(&a, Format::Markdown, false));
}

#[test]
fn reload_text() {
    let a = analyses(&scenario("reload"), &config(&[WWW_HE], &[], &[]));
    insta::assert_snapshot!("reload_after_text", render(&a[1], Format::Text, false));
    insta::assert_snapshot!("reload_later_text", render(&a[2], Format::Text, false));
}

#[test]
fn reload_second_poll_alone_json() {
    let a = analyses(&scenario("reload/0002"), &config(&[WWW_HE], &[443], &[]));
    insta::assert_snapshot!(render(&a[0], Format::Json, false));
}

#[test]
fn busiest_rules_without_server() {
    let a = analyses(&scenario("dual-prefix/0001"), &config(&[], &[], &[]));
    insta::assert_snapshot!("busiest_text", render(&a[0], Format::Text, false));
    insta::assert_snapshot!("busiest_markdown", render(&a[0], Format::Markdown, false));
    let json: serde_json::Value =
        serde_json::from_str(&render(&a[0], Format::Json, false)).unwrap();
    assert_eq!(json["rules"].as_array().unwrap().len(), 0);
    assert_eq!(json["busiest"].as_array().unwrap().len(), 10);
}

#[test]
fn colour_only_when_asked() {
    let plain = render(&mission(), Format::Text, false);
    assert!(!plain.contains('\x1b'));
    let coloured = render(&mission(), Format::Text, true);
    assert!(coloured.contains("\x1b[1;31mbypass"));
    // Colour never changes the words.
    let stripped = regex::Regex::new("\x1b\\[[0-9;]*m")
        .unwrap()
        .replace_all(&coloured, "");
    assert_eq!(stripped, plain);
}

#[test]
fn control_characters_from_pfctl_are_neutralised() {
    let mut a = mission();
    let row = a.rows.iter_mut().find(|r| r.server_states > 0).unwrap();
    if let Some(rule) = row.rule.as_mut() {
        rule.text.push_str(" label \"\x1b[2J\"");
    }
    row.anchor_path = "evil\x07".into();
    for format in [Format::Text, Format::Markdown] {
        let out = render(&a, format, false);
        assert!(!out.contains('\x1b'), "{format:?}");
        assert!(!out.contains('\x07'), "{format:?}");
        assert!(out.contains("\\x1b[2J"), "{format:?}");
    }
    // JSON escapes them itself.
    let out = render(&a, Format::Json, false);
    assert!(!out.contains('\x1b'));
    assert!(out.contains("\\u001b[2J"));
}

/// Index of the row of main-ruleset rule `@number` of ruleset `generation`.
fn row_of(a: &Analysis, number: u32, generation: u32) -> usize {
    a.rows
        .iter()
        .position(|r| r.key.number == Some(number) && r.generation == generation)
        .unwrap()
}

#[test]
fn findings_belong_to_the_row_of_the_rule_that_made_the_states() {
    use pfblame::lint::{FindingKind, FindingSeverity};
    let a = analyses(&scenario("dual-prefix/0001"), &config(&[WWW_HE], &[], &[]))
        .pop()
        .unwrap();
    let stray: Vec<_> = a.findings_for(row_of(&a, 14, 1)).collect();
    assert_eq!(stray.len(), 1);
    assert_eq!(stray[0].kind, FindingKind::Bypass);
    assert_eq!(stray[0].bypassed_rule.as_ref().unwrap().number, Some(17));
    // @19 made one state in and one out: one warning for each way, so that
    // each message describes the states it counts.
    let ssh: Vec<_> = a.findings_for(row_of(&a, 19, 1)).collect();
    assert_eq!(ssh.len(), 2);
    assert!(ssh.iter().all(|f| f.severity == FindingSeverity::Warning
        && f.kind == FindingKind::ServerStates
        && f.states == 1));
    assert!(
        ssh[0].path.ends_with(" in on any interface"),
        "{}",
        ssh[0].path
    );
    assert!(
        ssh[1].path.ends_with(" out on any interface"),
        "{}",
        ssh[1].path
    );
    // The route-to rule itself made no state.
    assert_eq!(a.findings_for(row_of(&a, 17, 1)).count(), 0);
    assert_eq!(a.findings_for(usize::MAX).count(), 0);
}

#[test]
fn states_from_before_a_reload_are_not_blamed_on_the_new_rules() {
    // After the reload, @14 is another rule: the old @14's states (carried,
    // or not fitting the new rule) get no finding that blames the new one.
    let a = analyses(&scenario("reload"), &config(&[WWW_HE], &[], &[]));
    let after = &a[1];
    assert_eq!(after.findings_for(row_of(after, 14, 1)).count(), 0);
    assert_eq!(after.findings_for(row_of(after, 14, 2)).count(), 0);
    assert!(
        after
            .findings
            .iter()
            .all(|f| f.stateful_rule.number != Some(14))
    );
}
