//! docs/monitoring.md shows real output and real pfctl invocations: this
//! test runs the same commands and fails when the document is stale.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;

use assert_cmd::Command;

fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn doc() -> String {
    fs::read_to_string(manifest().join("docs/monitoring.md")).unwrap()
}

/// The ```text block after the paragraph naming `command` in backticks.
fn block_after(doc: &str, command: &str) -> String {
    let start = doc
        .find(&format!("`{command}`"))
        .unwrap_or_else(|| panic!("docs/monitoring.md does not show `{command}`"));
    let rest = &doc[start..];
    let open = rest.find("```text\n").expect("a ```text block follows") + "```text\n".len();
    let close = rest[open..].find("\n```").expect("the block is closed");
    format!("{}\n", &rest[open..open + close])
}

/// Runs `command` and returns (status, stdout).
fn run(command: &str) -> (i32, String) {
    let args = shlex::split(command).unwrap();
    assert_eq!(args[0], "pfblame");
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .current_dir(manifest())
        .args(&args[1..])
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        String::from_utf8(out.stdout).unwrap(),
    )
}

/// The output with the poll's duration (which differs between runs) masked.
fn without_poll_time(text: &str) -> String {
    text.lines()
        .map(|line| {
            if line.starts_with("pfblame_poll_duration_seconds{") {
                line.rsplit_once(' ').map_or(line, |(l, _)| l).to_string() + " X"
            } else if let Some(at) = line.find(" poll=") {
                let end = line[at + 1..].find(' ').map_or(line.len(), |e| at + 1 + e);
                format!("{} poll=X{}", &line[..at], &line[end..])
            } else {
                line.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[test]
fn the_openmetrics_example_is_current() {
    let command = "pfblame report --from fixtures/scenarios/dual-prefix -s 2001:db8:bbbb:1::10 --format openmetrics";
    let (code, out) = run(command);
    assert_eq!(code, 1);
    let shown = block_after(&doc(), command).replace(
        "version=\"0.1.0\"",
        &format!("version=\"{}\"", env!("CARGO_PKG_VERSION")),
    );
    assert_eq!(without_poll_time(&out), without_poll_time(&shown));
}

#[test]
fn the_check_example_is_current() {
    let command =
        "pfblame check --from fixtures/scenarios/dual-prefix -s 2001:db8:bbbb:1::10 -p 443";
    let (code, out) = run(command);
    assert_eq!(code, 2);
    assert_eq!(
        without_poll_time(&out),
        without_poll_time(&block_after(&doc(), command))
    );
}

/// The doas.conf lines permit exactly what a live poll runs: the fake
/// pfctl logs every argv.
#[test]
fn the_doas_lines_permit_every_pfctl_run_of_a_check() {
    let tmp = tempfile::tempdir().unwrap();
    let log = tmp.path().join("argv.log");
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .env(
            "FAKE_PFCTL_DIR",
            manifest().join("fixtures/scenarios/openbsd-flags-any"),
        )
        .env("FAKE_PFCTL_LOG", &log)
        .args(["check", "-s", "2001:db8::10", "--pfctl"])
        .arg(manifest().join("tests/fake-pfctl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let doc = doc();
    let logged = fs::read_to_string(&log).unwrap();
    let mut runs = 0;
    for line in logged.lines() {
        let argv: Vec<String> = serde_json::from_str(line).unwrap();
        // The fake logs its arguments, without the program.
        let args = argv.join(" ");
        let permit = format!("permit nopass _nrpe as root cmd /sbin/pfctl args {args}\n");
        assert!(doc.contains(&permit), "docs/monitoring.md lacks: {permit}");
        runs += 1;
    }
    assert_eq!(runs, 3, "{logged}");
}
