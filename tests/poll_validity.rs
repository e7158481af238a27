//! Output that is not pfctl output is a failed poll (issue #10, item 9):
//! `report` exits 65 with one line saying so, the TUI's pipeline keeps the
//! last good data, and a closed pipe keeps the real exit status.

mod source_support;

use std::fs;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use pfblame::analyze::Config;
use pfblame::cli::Strategy;
use pfblame::source::{self, SourceError};
use pfblame::tui::pipeline::Pipeline;
use source_support::{from_args, recording};

const GOOD: &str = "openbsd-main";

fn report_from(path: &Path) -> assert_cmd::assert::Assert {
    Command::cargo_bin("pfblame")
        .expect("binary")
        .args(["report", "--from"])
        .arg(path)
        .timeout(Duration::from_secs(60))
        .assert()
}

/// Exit 65 and exactly one line on stderr, naming the problem.
fn refused(path: &Path, why: &str) {
    let out = report_from(path).code(65).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{stderr}");
    assert!(
        lines[0].contains("not pfctl output") || lines[0].contains(why),
        "{stderr}"
    );
    assert!(lines[0].contains(why), "{stderr}");
    assert!(
        out.stdout.is_empty(),
        "no report: {}",
        String::from_utf8_lossy(&out.stdout)
    );
}

/// A recording directory with the good rules and `states` as its states.
fn with_states(dir: &Path, states: &[u8]) {
    fs::copy(recording(GOOD).join("rules.txt"), dir.join("rules.txt")).expect("copy");
    fs::write(dir.join("states.txt"), states).expect("write");
}

#[test]
fn garbage_text_empty_and_cr_only_files_are_not_pfctl_output() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = dir.path().join("garbage.txt");
    fs::write(
        &garbage,
        "Lorem ipsum dolor sit amet\nconsectetur adipiscing\n".repeat(50),
    )
    .expect("write");
    refused(&garbage, "not pfctl output");

    let empty = dir.path().join("empty.txt");
    fs::write(&empty, "").expect("write");
    refused(&empty, "empty");

    let states = fs::read_to_string(recording(GOOD).join("states.txt")).expect("read");
    let cr = dir.path().join("cr-only.txt");
    fs::write(&cr, states.replace('\n', "\r")).expect("write");
    refused(&cr, "not pfctl output");
}

#[test]
fn a_states_listing_of_mostly_errors_or_cut_short_is_refused() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut text = b"ssh: connect to host fw port 22: Connection refused\n".repeat(3);
    text.extend(
        fs::read(recording(GOOD).join("states.txt"))
            .expect("read")
            .iter()
            .take(200),
    );
    text.extend_from_slice(b"\n");
    with_states(dir.path(), &text);
    refused(dir.path(), "lines are not what pfctl prints");

    let cut = tempfile::tempdir().expect("tempdir");
    let states = fs::read(recording(GOOD).join("states.txt")).expect("read");
    with_states(cut.path(), &states[..states.len() - 7]);
    refused(cut.path(), "no newline");
}

#[test]
fn binary_states_are_refused_at_once_with_one_line() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut junk = b"\x7fELF\x02\x01\x01\x00".to_vec();
    junk.extend((0..2_000_000u32).map(|i| (i % 251) as u8 | 1));
    with_states(dir.path(), &junk);
    refused(dir.path(), "binary data");
}

#[test]
fn a_recording_without_states_is_not_an_empty_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::copy(
        recording(GOOD).join("rules.txt"),
        dir.path().join("rules.txt"),
    )
    .expect("copy");
    let out = report_from(dir.path()).code(65).get_output().clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no states.txt"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn an_empty_states_listing_next_to_good_rules_is_a_real_empty_table() {
    let dir = tempfile::tempdir().expect("tempdir");
    with_states(dir.path(), b"");
    report_from(dir.path()).code(0);
}

/// Text garbage far larger than memory should allow for diagnostics:
/// refused, quickly, with one line.
#[test]
fn megabytes_of_text_garbage_are_refused_quickly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let garbage = b"garbage that is no state at all, line after line\n".repeat(400_000);
    with_states(dir.path(), &garbage);
    let started = Instant::now();
    refused(dir.path(), "lines are not what pfctl prints");
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "{:?}",
        started.elapsed()
    );
}

/// Live: a wrapper (`ssh`, `doas`) that prints an error on stdout and exits
/// 0 is a failed poll, not "0 states".
#[cfg(unix)]
#[test]
fn a_live_command_printing_errors_and_exiting_0_fails_the_poll() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tempdir");
    let stand_in = dir.path().join("pfctl");
    fs::write(
        &stand_in,
        "#!/bin/sh\necho 'doas: Operation could not be completed'\necho 'try again later'\nexit 0\n",
    )
    .expect("write");
    fs::set_permissions(&stand_in, fs::Permissions::from_mode(0o755)).expect("chmod");
    let out = Command::cargo_bin("pfblame")
        .expect("binary")
        .args(["report", "--pfctl"])
        .arg(&stand_in)
        .assert()
        .code(65)
        .get_output()
        .clone();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("not pfctl output"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

/// The TUI's pipeline: a bad poll is an error (shown in the banner), so the
/// last good snapshot stays on screen instead of "0 states".
#[test]
fn the_pipeline_fails_a_bad_poll_instead_of_replacing_good_data() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (poll, states) in [("0001", None), ("0002", Some(&b"garbage\n"[..]))] {
        let d = dir.path().join(poll);
        fs::create_dir(&d).expect("mkdir");
        for f in ["rules.txt", "states.txt", "meta.toml"] {
            fs::copy(recording(GOOD).join(f), d.join(f)).ok();
        }
        if !d.join("meta.toml").exists() {
            fs::write(d.join("meta.toml"), "taken_at = \"2025-01-01T00:00:00Z\"\n").expect("meta");
        }
        if let Some(s) = states {
            fs::write(d.join("states.txt"), s).expect("write");
        }
    }
    let src = source::open(&from_args(dir.path(), Strategy::Auto)).expect("opens");
    let mut pipeline = Pipeline::new(src, Config::default());
    let first = pipeline.poll_once().expect("good poll");
    assert!(first.analysis.total_states > 0);
    let Err(err) = pipeline.poll_once() else {
        panic!("a bad poll must fail");
    };
    assert!(matches!(err, SourceError::NotPfctlOutput { .. }), "{err:?}");
}

/// `pfblame report … 2>&1 | head`: the reader goes away; the exit status
/// stays the report's (1: spurious states) and nothing panics.
#[cfg(unix)]
#[test]
fn a_closed_pipe_keeps_the_exit_status() {
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let writer2 = writer.try_clone().expect("dup");
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("pfblame"))
        .args([
            "report",
            "--from",
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/fixtures/scenarios/dual-prefix"
            ),
            "-s",
            pfblame::source::demo::DEMO_SERVER,
        ])
        .stdin(Stdio::null())
        .stdout(writer)
        .stderr(writer2)
        .status()
        .expect("runs");
    assert_eq!(status.code(), Some(1), "{status:?}");

    // An error exit that was due stays an error exit.
    let (reader, writer) = std::io::pipe().expect("pipe");
    drop(reader);
    let writer2 = writer.try_clone().expect("dup");
    let status = std::process::Command::new(assert_cmd::cargo::cargo_bin("pfblame"))
        .args(["report", "--from", "/nonexistent/recording"])
        .stdout(writer)
        .stderr(writer2)
        .status()
        .expect("runs");
    assert_eq!(status.code(), Some(66), "{status:?}");
}
