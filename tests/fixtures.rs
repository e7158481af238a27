//! One snapshot per fixture file: every `fixtures/**/*.txt` (except the
//! recorded scenarios, which have their own tests) goes through `parse_any`,
//! and the JSON it would print is snapshotted. New fixtures are picked up
//! automatically (and need their snapshot reviewed).
#![allow(clippy::unwrap_used)]

use std::path::Path;

use pfblame::parse::parse_any;

fn is_scenario(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "scenarios")
}

#[test]
fn every_fixture_parses_to_its_snapshot() {
    insta::glob!("../fixtures", "**/*.txt", |path| {
        if is_scenario(path) {
            return;
        }
        let text = std::fs::read_to_string(path).unwrap();
        let parsed = parse_any(&text);
        insta::assert_json_snapshot!(parsed);
    });
}
