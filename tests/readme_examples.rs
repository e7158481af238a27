//! The README shows real output of the bundled scenario. This test runs the
//! same commands and fails when the README no longer matches what they print.

use std::path::Path;

use assert_cmd::Command;

/// The ```text block that follows the paragraph naming `command` in backticks.
fn block_after(readme: &str, command: &str) -> String {
    let start = readme
        .find(&format!("`{command}`"))
        .unwrap_or_else(|| panic!("README does not show `{command}`"));
    let rest = &readme[start..];
    let open = rest.find("```text\n").expect("a ```text block follows") + "```text\n".len();
    let close = rest[open..].find("\n```").expect("the block is closed");
    format!("{}\n", &rest[open..open + close])
}

fn check(command: &str, expected_status: i32) {
    let readme = std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README.md");
    let shown = block_after(&readme, command);
    let args = shlex::split(command).expect("command splits into words");
    assert_eq!(args[0], "pfblame");
    let out = Command::cargo_bin("pfblame")
        .expect("binary")
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .args(&args[1..])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(expected_status), "{command}");
    let printed = String::from_utf8(out.stdout).expect("utf-8");
    assert_eq!(
        printed, shown,
        "README output of `{command}` is stale: paste the new output"
    );
}

#[test]
fn readme_report_example_is_current() {
    check(
        "pfblame report --from fixtures/scenarios/dual-prefix -s 2001:db8:bbbb:1::10 -p 443",
        1,
    );
}

#[test]
fn readme_lint_example_is_current() {
    check(
        "pfblame lint --from fixtures/scenarios/dual-prefix -s 2001:db8:bbbb:1::10 -p 443",
        1,
    );
}

#[test]
fn readme_fleet_example_is_current() {
    check(
        "pfblame report --from fixtures/scenarios/carp-pair -s 2001:db8::10 -p 22",
        0,
    );
}
