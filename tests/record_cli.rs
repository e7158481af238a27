//! `pfblame record` through the real binary, against the fake pfctl, and
//! the recording read back with `--from`.

mod source_support;

use std::fs;
use std::path::Path;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use pfblame::cli::Strategy;
use pfblame::source;
use predicates::prelude::*;
use source_support::{Fake, Tally, fake_pfctl, from_args, openbsd_main_expected};

/// `pfblame record` with the fake as pfctl (its environment set on the child).
fn record(fake: &Fake, dir: &Path, extra: &[&str]) -> Command {
    let mut cmd = Command::cargo_bin("pfblame").expect("binary");
    cmd.arg("record")
        .arg("--pfctl")
        .arg(fake_pfctl())
        .args(extra)
        .arg(dir)
        .envs(fake.env());
    cmd
}

fn read_back(dir: &Path, strategy: Strategy) -> Tally {
    let mut src = source::open(&from_args(dir, strategy)).expect("recording opens");
    let mut tally = Tally::default();
    src.poll(&mut tally).expect("recording plays");
    tally
}

/// The files of a single-poll recording: `services.txt` is this host's
/// /etc/services (pfctl ran here), when it has one.
fn single_poll_files() -> Vec<&'static str> {
    let mut files = vec!["info.txt", "meta.toml", "rules.txt", "states.txt"];
    if Path::new("/etc/services").is_file() {
        files.insert(3, "services.txt");
    }
    files
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .expect("readable")
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn a_recording_reads_back_like_the_live_output() {
    let fake = Fake::new("openbsd-main");
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().join("rec");
    record(&fake, &dir, &[])
        .assert()
        .success()
        .stdout(predicate::str::contains("recorded 1 poll"));
    assert_eq!(names(&dir), single_poll_files());
    // Exactly what pfctl printed.
    let fixture = source_support::recording("openbsd-main");
    for file in ["rules.txt", "states.txt", "info.txt"] {
        assert_eq!(
            fs::read_to_string(dir.join(file)).expect("recorded"),
            fs::read_to_string(fixture.join(file)).expect("fixture"),
            "{file}"
        );
    }
    let back = read_back(&dir, Strategy::Auto);
    assert_eq!(back.per_key, openbsd_main_expected());
    assert_eq!(back.per_key, read_back(&fixture, Strategy::Auto).per_key);

    let meta: toml::Table = fs::read_to_string(dir.join("meta.toml"))
        .expect("meta")
        .parse()
        .expect("meta.toml is TOML");
    assert!(meta.get("taken_at").and_then(|v| v.as_str()).is_some());
    let runs = meta.get("runs").and_then(|r| r.as_array()).expect("runs");
    assert_eq!(runs.len(), 3);
    let files: Vec<&str> = runs
        .iter()
        .filter_map(|r| r.get("file").and_then(|f| f.as_str()))
        .collect();
    assert_eq!(files, ["rules.txt", "states.txt", "info.txt"]);
    assert!(
        runs.iter()
            .all(|r| r.get("exit_status").and_then(|s| s.as_integer()) == Some(0))
    );
}

#[test]
fn per_rule_recordings_read_back_with_either_strategy() {
    let fake = Fake::new("openbsd-main");
    let out = tempfile::tempdir().expect("tempdir");
    record(&fake, out.path(), &["--per-rule"])
        .assert()
        .success();
    for n in [1, 2, 4, 6] {
        assert!(
            out.path().join(format!("states-R{n}.txt")).is_file(),
            "R{n}"
        );
    }
    assert!(!out.path().join("states-R0.txt").exists());
    let auto = read_back(out.path(), Strategy::Auto);
    let per_rule = read_back(out.path(), Strategy::PerRule);
    assert_eq!(per_rule.calls, [Some(1), Some(2), Some(4), Some(6)]);
    assert_eq!(per_rule.foreign, 0);
    assert_eq!(auto.per_key, openbsd_main_expected());
    assert_eq!(auto.per_key, per_rule.per_key);
}

#[test]
fn numbered_recordings_replay_poll_by_poll() {
    let fake = Fake::new("openbsd-polls");
    let out = tempfile::tempdir().expect("tempdir");
    record(&fake, out.path(), &["--count", "2", "--interval", "0.1"])
        .assert()
        .success()
        .stdout(predicate::str::contains("recorded 2 polls"));
    assert_eq!(names(out.path()), ["0001", "0002"]);
    let mut src = source::open(&from_args(out.path(), Strategy::Auto)).expect("opens");
    let mut rule2 = Vec::new();
    for _ in 0..2 {
        let mut t = Tally::default();
        src.poll(&mut t).expect("poll");
        rule2.push(t.per_key.get(&(None, Some(2))).copied());
    }
    assert_eq!(rule2, [Some(3), Some(5)]);
}

#[test]
fn record_without_pfctl_exits_69_and_names_it() {
    let out = tempfile::tempdir().expect("tempdir");
    Command::cargo_bin("pfblame")
        .expect("binary")
        .args(["record", "--pfctl", "/nonexistent/sbin/pfctl"])
        .arg(out.path())
        .assert()
        .code(69)
        .stderr(predicate::str::contains("/nonexistent/sbin/pfctl"));
    assert!(names(out.path()).is_empty(), "{:?}", names(out.path()));
}

#[test]
fn record_without_permission_exits_77_and_says_how() {
    let fake = Fake::new("openbsd-main").mode("denied");
    let out = tempfile::tempdir().expect("tempdir");
    record(&fake, out.path(), &[])
        .assert()
        .code(77)
        .stderr(predicate::str::contains("Permission denied"))
        .stderr(predicate::str::contains("doas"));
    assert!(names(out.path()).is_empty(), "{:?}", names(out.path()));
}

#[test]
fn record_of_a_hung_pfctl_times_out_quickly_and_leaves_nothing() {
    let fake = Fake::new("openbsd-main").mode("hang");
    let out = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    record(&fake, out.path(), &["--timeout", "0.5"])
        .assert()
        .code(69)
        .stderr(predicate::str::contains("did not finish within 0.5 s"));
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(names(out.path()).is_empty(), "{:?}", names(out.path()));
}

#[test]
fn a_pfctl_dying_mid_states_removes_the_partial_poll() {
    let fake = Fake::new("openbsd-main").mode("die");
    let out = tempfile::tempdir().expect("tempdir");
    record(&fake, out.path(), &["--count", "2", "--interval", "0.1"])
        .assert()
        .code(69)
        .stderr(predicate::str::contains("signal"));
    assert!(names(out.path()).is_empty(), "{:?}", names(out.path()));
}

#[test]
fn record_on_freebsd_warns_and_keeps_the_full_listing() {
    let fake = Fake::new("openbsd-main").mode("freebsd,altq");
    let out = tempfile::tempdir().expect("tempdir");
    record(&fake, out.path(), &["--per-rule"])
        .assert()
        .success()
        .stderr(predicate::str::contains("warning"))
        .stderr(predicate::str::contains("-R"));
    assert_eq!(names(out.path()), single_poll_files());
    assert_eq!(
        read_back(out.path(), Strategy::Auto).per_key,
        openbsd_main_expected()
    );
}

#[test]
fn record_refuses_to_overwrite_or_follow_links() {
    let fake = Fake::new("openbsd-main");
    let out = tempfile::tempdir().expect("tempdir");
    fs::write(out.path().join("rules.txt"), "earlier").expect("write");
    record(&fake, out.path(), &[])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("already holds a recording"));
    assert_eq!(
        fs::read_to_string(out.path().join("rules.txt")).expect("kept"),
        "earlier"
    );
    assert!(fake.invocations().is_empty(), "pfctl must not run");

    let file = out.path().join("plain-file");
    fs::write(&file, "x").expect("write");
    record(&fake, &file, &[])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a directory"));
}

#[test]
fn record_rejects_from_and_zero_count() {
    let out = tempfile::tempdir().expect("tempdir");
    Command::cargo_bin("pfblame")
        .expect("binary")
        .args(["record", "--from", "x"])
        .arg(out.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--from"));
    Command::cargo_bin("pfblame")
        .expect("binary")
        .args(["record", "--count", "0"])
        .arg(out.path())
        .assert()
        .code(2);
}

#[cfg(unix)]
fn mode_of(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    fs::symlink_metadata(path)
        .expect("exists")
        .permissions()
        .mode()
        & 0o7777
}

/// A recording holds the whole firewall state: DIR 0700, files 0600.
#[cfg(unix)]
#[test]
fn record_writes_a_private_recording() {
    let fake = Fake::new("openbsd-main");
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().join("capture");
    record(&fake, &dir, &["--count", "2", "--interval", "0.1"])
        .assert()
        .success();
    assert_eq!(mode_of(&dir), 0o700);
    assert_eq!(names(&dir), ["0001", "0002"]);
    for poll in ["0001", "0002"] {
        assert_eq!(mode_of(&dir.join(poll)), 0o700, "{poll}");
        for file in names(&dir.join(poll)) {
            assert_eq!(mode_of(&dir.join(poll).join(&file)), 0o600, "{poll}/{file}");
        }
    }
    let single = out.path().join("single");
    record(&fake, &single, &[]).assert().success();
    assert_eq!(names(&single), single_poll_files());
    for file in names(&single) {
        assert_eq!(mode_of(&single.join(&file)), 0o600, "{file}");
    }
}

/// DIR itself as a symlink, or a DIR others can write to: refused (73)
/// before pfctl runs, and nothing is written through the link.
#[cfg(unix)]
#[test]
fn record_refuses_a_linked_or_shared_dir() {
    use std::os::unix::fs::PermissionsExt;
    let fake = Fake::new("openbsd-main");
    let out = tempfile::tempdir().expect("tempdir");
    let real = out.path().join("real");
    fs::create_dir(&real).expect("mkdir");
    fs::set_permissions(&real, fs::Permissions::from_mode(0o700)).expect("chmod");
    let link = out.path().join("link");
    std::os::unix::fs::symlink(&real, &link).expect("symlink");
    record(&fake, &link, &[])
        .assert()
        .code(73)
        .stderr(predicate::str::contains("symbolic link"));
    assert!(names(&real).is_empty(), "{:?}", names(&real));

    fs::set_permissions(&real, fs::Permissions::from_mode(0o777)).expect("chmod");
    record(&fake, &real, &[])
        .assert()
        .code(73)
        .stderr(predicate::str::contains("writable by group or others"))
        .stderr(predicate::str::contains("chmod go-w"));
    assert!(names(&real).is_empty(), "{:?}", names(&real));
    assert!(fake.invocations().is_empty(), "pfctl must not run");
}

/// `record /nonexistent/dir/x` creates nothing: only the last component
/// is ever created, and the message says what to do (73).
#[test]
fn record_creates_only_the_last_directory() {
    let fake = Fake::new("openbsd-main");
    let out = tempfile::tempdir().expect("tempdir");
    let deep = out.path().join("missing/dir/x");
    record(&fake, &deep, &[])
        .assert()
        .code(73)
        .stderr(predicate::str::contains("does not exist; create it first"));
    assert!(names(out.path()).is_empty(), "{:?}", names(out.path()));
}

/// Ctrl-C (SIGINT) while `record` writes a poll: the poll stays in its
/// temporary directory, `--from` does not replay it, and the stalled pfctl
/// (in its own process group) is ended with it.
#[cfg(unix)]
#[test]
fn an_interrupted_record_leaves_no_replayable_poll() {
    let fake = Fake::new("openbsd-main").mode("stall");
    let out = tempfile::tempdir().expect("tempdir");
    let dir = out.path().join("capture");
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pfblame"))
        .arg("record")
        .arg("--pfctl")
        .arg(fake_pfctl())
        .args(["--timeout", "60", "--count", "2"])
        .arg(&dir)
        .envs(fake.env())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    let partial = dir.join(".0001.tmp/states.txt");
    let started = Instant::now();
    while fs::metadata(&partial).map_or(true, |m| m.len() == 0) {
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "no partial poll"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let pid = child.id().to_string();
    std::process::Command::new("kill")
        .args(["-INT", &pid])
        .status()
        .expect("kill");
    let status = child.wait().expect("ends");
    assert_eq!(status.code(), Some(130), "{status:?}");
    assert_eq!(names(&dir), [".0001.tmp"]);
    Command::cargo_bin("pfblame")
        .expect("binary")
        .args(["report", "--from"])
        .arg(&dir)
        .assert()
        .code(65)
        .stderr(predicate::str::contains("did not finish"));
}

/// `dialect_source` of `report --format json` on a recording, with `extra` options.
fn reported_dialect(dir: &Path, extra: &[&str]) -> serde_json::Value {
    let out = Command::cargo_bin("pfblame")
        .expect("binary")
        .env_remove("PFBLAME_CONFIG")
        .args(["report", "--format", "json", "--from"])
        .arg(dir)
        .args(extra)
        .output()
        .expect("runs");
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    assert_eq!(json["dialect"], json["dialect_source"]["dialect"]);
    json["dialect_source"].clone()
}

#[test]
fn record_keeps_the_dialect_and_from_uses_it_unless_pf_is_given() {
    let fake = Fake::new("openbsd-main");
    let out = tempfile::tempdir().expect("tempdir");
    // Detected from the listings: OpenBSD's pfctl prints no `keep state`.
    let detected = out.path().join("detected");
    record(&fake, &detected, &[]).assert().success();
    let meta: toml::Table = fs::read_to_string(detected.join("meta.toml"))
        .expect("meta")
        .parse()
        .expect("toml");
    assert_eq!(meta["dialect"].as_str(), Some("openbsd"));
    assert!(
        meta["dialect_source"]
            .as_str()
            .is_some_and(|s| s.starts_with("openbsd (detected")),
        "{meta:?}"
    );
    // Given with --pf: kept as given, and replays use it over the listings.
    let given = out.path().join("given");
    record(&fake, &given, &["--pf", "freebsd"])
        .assert()
        .success();
    let meta: toml::Table = fs::read_to_string(given.join("meta.toml"))
        .expect("meta")
        .parse()
        .expect("toml");
    assert_eq!(meta["dialect"].as_str(), Some("freebsd"));
    let replayed = reported_dialect(&given, &[]);
    assert_eq!(replayed["dialect"], "freebsd", "{replayed}");
    assert_eq!(replayed["how"], "recorded", "{replayed}");
    // An explicit --pf still wins.
    let forced = reported_dialect(&given, &["--pf", "openbsd-6.8"]);
    assert_eq!(forced["dialect"], "openbsd-6.8", "{forced}");
    assert_eq!(forced["how"], "--pf", "{forced}");
    // Numbered polls: the last poll's meta.toml names it.
    let polls = out.path().join("polls");
    record(
        &fake,
        &polls,
        &["--pf", "macos", "--count", "2", "-i", "0.1"],
    )
    .assert()
    .success();
    assert_eq!(reported_dialect(&polls, &[])["dialect"], "macos");
    // A recording without the key (older pfblame) is detected as before.
    let older = fake.recording.clone();
    assert_eq!(reported_dialect(&older, &[])["how"], "detected");
}
