//! Failing-pfctl catalogue, through the real binary and the fake pfctl
//! (`tests/fake-pfctl`): for every command that runs pfctl (`record`,
//! `lint`, `report`), each way pfctl can fail gives the right
//! exit status and one line a user understands.
//!
//! | failure | exit | the message says |
//! |---|---|---|
//! | missing program | 69 | the program's path, "not found" |
//! | not executable | 77 | permission, root or doas |
//! | `/dev/pf` permission denied | 77 | pfctl's message, root or doas |
//! | hangs | 69 | killed after `--timeout` seconds |
//! | killed mid-output | 69 | killed by a signal |
//! | garbage on stdout | record 0 (with a warning), lint and report 65 | "is --pfctl really pfctl?" / "NUL byte: this is not pfctl text" |
//! | slow, within the timeout | 0 | nothing |
//! | ALTQ noise on stderr | 0 | nothing (no error, no warning) |
//!
//! The TUI's banner and last-good-data behaviour belong to the TUI tests.
#![allow(clippy::unwrap_used)]

mod source_support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use source_support::{Fake, fake_pfctl};

/// The commands that run pfctl, each with the arguments it needs.
const COMMANDS: &[&str] = &["record", "lint", "report"];

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
    took: Duration,
}

/// Runs `command` with `--pfctl PFCTL` (and the fake's environment).
fn run(command: &str, pfctl: &str, fake: Option<&Fake>, extra: &[&str]) -> Run {
    let out_dir = tempfile::tempdir().unwrap();
    let mut cmd = Command::cargo_bin("pfblame").unwrap();
    cmd.arg(command).args(["--pfctl", pfctl]).args(extra);
    match command {
        "record" => {
            cmd.arg(out_dir.path().join("rec"));
        }
        "lint" | "report" => {
            cmd.args(["-s", "192.0.2.10"]);
        }
        other => panic!("unknown command {other}"),
    }
    if let Some(f) = fake {
        cmd.envs(f.env());
    }
    let started = Instant::now();
    let out = cmd.timeout(Duration::from_secs(60)).output().unwrap();
    let run = Run {
        code: out.status.code().expect("exited, not killed"),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: started.elapsed(),
    };
    if command == "record" && run.code != 0 {
        // A failed recording leaves no partial poll behind.
        let rec = out_dir.path().join("rec");
        let left: Vec<_> = fs::read_dir(&rec)
            .map(|d| d.map(|e| e.unwrap().file_name()).collect())
            .unwrap_or_default();
        assert!(left.is_empty(), "record left {left:?}");
    }
    run
}

fn fake_path() -> String {
    fake_pfctl().display().to_string()
}

/// One line on stderr for a failure: the user sees the message, not a trace.
fn one_clear_line(r: &Run) {
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "{}", r.stderr);
    assert!(lines[0].starts_with("pfblame: "), "{}", r.stderr);
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("Backtrace"));
}

#[test]
fn missing_pfctl_exits_69_naming_the_program() {
    for cmd in COMMANDS {
        let r = run(cmd, "/nonexistent/sbin/pfctl", None, &[]);
        assert_eq!(r.code, 69, "{cmd}: {}", r.stderr);
        one_clear_line(&r);
        assert!(
            r.stderr.contains("/nonexistent/sbin/pfctl"),
            "{cmd}: {}",
            r.stderr
        );
        assert!(r.stderr.contains("not found"), "{cmd}: {}", r.stderr);
    }
}

#[test]
fn a_pfctl_that_is_not_executable_or_a_directory_exits_69() {
    // Running as root would not help: the message must not say so.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("pfctl");
    fs::write(&file, "not a program").unwrap();
    for (program, why) in [
        (&file, "is not executable"),
        (&dir.path().to_path_buf(), "is a directory"),
    ] {
        for cmd in COMMANDS {
            let r = run(cmd, &program.display().to_string(), None, &[]);
            assert_eq!(r.code, 69, "{cmd}: {}", r.stderr);
            one_clear_line(&r);
            assert!(r.stderr.contains(why), "{cmd}: {}", r.stderr);
            assert!(r.stderr.contains("--pfctl"), "{cmd}: {}", r.stderr);
            assert!(!r.stderr.contains("root"), "{cmd}: {}", r.stderr);
        }
    }
}

#[test]
fn permission_denied_exits_77_and_says_root_or_doas() {
    for cmd in COMMANDS {
        let fake = Fake::new("openbsd-main").mode("denied");
        let r = run(cmd, &fake_path(), Some(&fake), &[]);
        assert_eq!(r.code, 77, "{cmd}: {}", r.stderr);
        one_clear_line(&r);
        assert!(
            r.stderr.contains("/dev/pf: Permission denied"),
            "{}",
            r.stderr
        );
        assert!(
            r.stderr.contains("root") && r.stderr.contains("doas"),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn a_hanging_pfctl_is_killed_after_the_timeout() {
    for cmd in COMMANDS {
        let fake = Fake::new("openbsd-main").mode("hang");
        let r = run(cmd, &fake_path(), Some(&fake), &["--timeout", "0.5"]);
        assert_eq!(r.code, 69, "{cmd}: {}", r.stderr);
        one_clear_line(&r);
        assert!(
            r.stderr
                .contains("did not finish within 0.5 s and was killed"),
            "{cmd}: {}",
            r.stderr
        );
        assert!(r.took < Duration::from_secs(10), "{cmd} took {:?}", r.took);
    }
}

#[test]
fn a_pfctl_killed_in_the_middle_of_its_output() {
    // `die` prints half of the state listing, then SIGKILLs itself (lint
    // reads the states too, for its findings from states).
    for cmd in COMMANDS {
        let fake = Fake::new("openbsd-main").mode("die");
        let r = run(cmd, &fake_path(), Some(&fake), &[]);
        assert_eq!(r.code, 69, "{cmd}: {}", r.stderr);
        one_clear_line(&r);
        assert!(
            r.stderr.contains("killed by a signal"),
            "{cmd}: {}",
            r.stderr
        );
        assert!(
            r.stdout.is_empty() || *cmd == "record",
            "{cmd}: {}",
            r.stdout
        );
    }
}

#[test]
fn garbage_output_is_reported_not_trusted() {
    let fake = Fake::new("openbsd-main").mode("garbage");
    let r = run("record", &fake_path(), Some(&fake), &[]);
    // Binary output that exits 0 is a failed poll: nothing is recorded.
    assert_eq!(r.code, 65, "{}", r.stderr);
    one_clear_line(&r);
    assert!(r.stderr.contains("not pfctl output"), "{}", r.stderr);
    assert!(r.stderr.contains("binary data"), "{}", r.stderr);

    let fake = Fake::new("openbsd-main").mode("garbage");
    let r = run("lint", &fake_path(), Some(&fake), &[]);
    assert_eq!(r.code, 65, "{}", r.stderr);
    // Refused at once: one line, not one diagnostic per line of garbage.
    one_clear_line(&r);
    assert!(r.stderr.contains("not pfctl output"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "no report from garbage: {}", r.stdout);

    let fake = Fake::new("openbsd-main").mode("garbage");
    let r = run("report", &fake_path(), Some(&fake), &[]);
    // Refused at once, with one line (not one diagnostic per line).
    assert_eq!(r.code, 65, "{}", r.stderr);
    one_clear_line(&r);
    assert!(
        r.stderr.contains("not pfctl output") && r.stderr.contains("binary data"),
        "{}",
        r.stderr
    );
    // Control characters of the garbage never reach the terminal raw.
    assert!(!r.stderr.contains('\u{1b}'), "raw ESC on stderr");
}

#[test]
fn a_slow_pfctl_within_the_timeout_succeeds() {
    for cmd in COMMANDS {
        let fake = Fake::new("openbsd-main").mode("slow").delay(0.7);
        let r = run(cmd, &fake_path(), Some(&fake), &["--timeout", "5"]);
        assert!(r.code == 0 || r.code == 1, "{cmd}: {}", r.stderr);
        assert!(r.stderr.is_empty(), "{cmd}: {}", r.stderr);
        assert!(r.took >= Duration::from_millis(700), "{cmd} did not wait");
    }
}

#[test]
fn altq_noise_on_stderr_is_not_an_error() {
    for cmd in COMMANDS {
        let fake = Fake::new("openbsd-main").mode("altq");
        let r = run(cmd, &fake_path(), Some(&fake), &[]);
        assert!(r.code == 0 || r.code == 1, "{cmd}: {}", r.stderr);
        assert!(!r.stderr.contains("error"), "{cmd}: {}", r.stderr);
        assert!(!r.stderr.contains("ALTQ"), "{cmd}: {}", r.stderr);
    }
}

#[test]
fn lint_result_is_the_same_with_and_without_noise() {
    let clean = run("lint", &fake_path(), Some(&Fake::new("openbsd-main")), &[]);
    let noisy = run(
        "lint",
        &fake_path(),
        Some(&Fake::new("openbsd-main").mode("altq,slow").delay(0.2)),
        &[],
    );
    assert_eq!((clean.code, &clean.stdout), (noisy.code, &noisy.stdout));
    assert!(!clean.stdout.is_empty());
}

// --- record writes only its layout, inside its directory ---

fn record_into(dir: &Path, extra: &[&str]) -> Run {
    let fake = Fake::new("openbsd-main");
    let mut cmd = Command::cargo_bin("pfblame").unwrap();
    cmd.args(["record", "--pfctl", &fake_path()])
        .args(extra)
        .arg(dir)
        .envs(fake.env());
    let out = cmd.timeout(Duration::from_secs(60)).output().unwrap();
    Run {
        code: out.status.code().unwrap(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        took: Duration::ZERO,
    }
}

#[cfg(unix)]
#[test]
fn record_never_writes_through_a_planted_symlink() {
    use std::os::unix::fs::symlink;
    let outside = tempfile::tempdir().unwrap();
    // A dangling link where a layout file goes (`exists()` is false for it).
    for name in ["states.txt", "rules.txt", "meta.toml", "0001"] {
        let dir = tempfile::tempdir().unwrap();
        let target = outside.path().join(format!("victim-{name}"));
        symlink(&target, dir.path().join(name)).unwrap();
        let extra: &[&str] = if name == "0001" {
            &["--count", "2", "--interval", "0.1"]
        } else {
            &[]
        };
        let r = record_into(dir.path(), extra);
        assert_eq!(r.code, 2, "{name}: {}", r.stderr);
        assert!(
            r.stderr.contains("already holds a recording"),
            "{}",
            r.stderr
        );
        assert!(!target.exists(), "{name}: wrote through the link");
    }
    assert_eq!(fs::read_dir(outside.path()).unwrap().count(), 0);
}

#[test]
fn record_writes_only_the_files_of_the_layout() {
    let dir = tempfile::tempdir().unwrap();
    let rec = dir.path().join("rec");
    let r = record_into(&rec, &["--count", "2", "--interval", "0.1"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let mut top: Vec<String> = fs::read_dir(&rec)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    top.sort();
    assert_eq!(top, ["0001", "0002"]);
    for poll in top {
        let mut files: Vec<String> = fs::read_dir(rec.join(&poll))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        files.sort();
        // The first poll keeps this host's /etc/services (pfctl ran here).
        let mut expected = vec!["info.txt", "meta.toml", "rules.txt", "states.txt"];
        if poll == "0001" && std::path::Path::new("/etc/services").is_file() {
            expected.insert(3, "services.txt");
        }
        assert_eq!(files, expected);
    }
    // Nothing beside the recording directory.
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
}
