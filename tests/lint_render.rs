//! Output of `pfblame lint` (text, markdown, JSON) on the mission's
//! ruleset with `@2` keeping state. Snapshots are reviewed by reading them.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure

mod lint_support;

use lint_support::*;
use pfblame::lint::{predict, render};

#[test]
fn text_report() {
    let report = predict(&mission(Some(2), true), &servers());
    insta::assert_snapshot!(render::text(&report));
}

#[test]
fn markdown_report() {
    let report = predict(&mission(Some(2), true), &servers());
    insta::assert_snapshot!(render::markdown(&report));
}

#[test]
fn json_report_fields() {
    let report = predict(&mission(Some(2), true), &servers());
    let v: serde_json::Value = serde_json::from_str(&render::json(&report).unwrap()).unwrap();
    let f = &v["findings"][0];
    assert_eq!(f["severity"], "error");
    assert_eq!(f["kind"], "bypass");
    assert_eq!(f["stateful_rule"]["number"], 2);
    assert_eq!(f["stateful_rule"]["anchor"], serde_json::Value::Null);
    assert_eq!(f["bypassed_rule"]["number"], 3);
    assert_eq!(f["states"], 0);
    assert_eq!(v["paths"][0]["hops"].as_array().unwrap().len(), 4);
    assert_eq!(v["servers"]["ports"][0], 443);
}

#[test]
fn control_characters_in_rule_text_are_neutralised() {
    let mut rules = mission(Some(2), true);
    rules[2].text.push_str(" label \"\x1b[31mred\"");
    let report = predict(&rules, &servers());
    let text = render::text(&report);
    assert!(!text.contains('\x1b'));
    assert!(text.contains("\\x1b[31mred"));
}
