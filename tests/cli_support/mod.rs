//! Running the `pfblame` binary in tests: a command that reads no
//! configuration of this machine's own, the output as text or JSON, the
//! bundled scenarios, and rows of a JSON report. Shared by the tests that
//! run the binary end to end (fleet, configuration, translation rules).
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test uses its own part

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;

use assert_cmd::Command;
use serde_json::Value;

pub const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// `pfblame` run from the repository, without colour, and without the
/// configuration file `PFBLAME_CONFIG` may name.
pub fn pfblame() -> Command {
    let mut cmd = Command::cargo_bin("pfblame").expect("the binary is built");
    cmd.current_dir(MANIFEST)
        .env_remove("PFBLAME_CONFIG")
        .env("NO_COLOR", "1");
    cmd
}

/// [`pfblame`] with `home` as HOME and XDG_CONFIG_HOME under it, so that
/// no configuration of this machine's is found at the default places.
pub fn pfblame_at_home(home: &Path) -> Command {
    let mut cmd = pfblame();
    cmd.env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"));
    cmd
}

/// Runs `cmd` with `args` to its end.
pub fn run(cmd: &mut Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("pfblame runs")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The JSON document on stdout; the failure names stderr.
pub fn json(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("no JSON on stdout ({e}): {}", stderr(out)))
}

/// Writes `pfblame.toml` into `dir`; its path.
pub fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("pfblame.toml");
    fs::write(&path, text).expect("write the configuration");
    path.display().to_string()
}

/// A bundled scenario: `fixtures/scenarios/NAME`.
pub fn scenario(name: &str) -> PathBuf {
    Path::new(MANIFEST).join("fixtures/scenarios").join(name)
}

/// The first element of the array `report[key]` that `pick` accepts; the
/// failure shows the report.
pub fn row_where<'a>(report: &'a Value, key: &str, pick: impl Fn(&Value) -> bool) -> &'a Value {
    report[key]
        .as_array()
        .unwrap_or_else(|| panic!("no array `{key}` in {report:#}"))
        .iter()
        .find(|row| pick(row))
        .unwrap_or_else(|| panic!("no matching row in `{key}` of {report:#}"))
}

/// Fails, showing `text`, unless it holds `part`.
#[track_caller]
pub fn assert_contains(text: &str, part: &str) {
    assert!(text.contains(part), "no `{part}` in:\n{text}");
}
