//! The real binary in a real terminal (tmux), driven like a user would:
//! `scripts/tui-e2e.sh` starts `pfblame demo` (and `--from` the scenario
//! directory) in a detached 120x32 tmux session, sends keys and reads the
//! screen. Skipped, loudly, only when tmux is not installed.

use std::process::Command;

fn tmux_available() -> bool {
    Command::new("tmux")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success())
}

fn run_script(args: &[&str]) {
    run_script_with(args, &[]);
}

fn run_script_with(args: &[&str], env: &[(&str, &str)]) {
    if !tmux_available() {
        eprintln!(
            "SKIPPED tui_e2e: tmux is not installed; install tmux to run the end-to-end TUI test"
        );
        return;
    }
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/tui-e2e.sh");
    let out = Command::new("bash")
        .arg(script)
        .arg(env!("CARGO_BIN_EXE_pfblame"))
        .arg("--")
        .args(args)
        .envs(env.iter().copied())
        .output()
        .expect("bash runs");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "tui-e2e.sh failed:\n{text}");
    assert!(text.contains("tui-e2e: ok"), "{text}");
}

#[test]
fn demo_in_tmux() {
    run_script(&["demo", "-i", "1"]);
}

#[test]
fn recorded_scenario_in_tmux() {
    run_script(&[
        "--from",
        concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures/scenarios/dual-prefix"
        ),
        "-s",
        pfblame::source::demo::DEMO_SERVER,
        "-p",
        "443",
        "-i",
        "1",
    ]);
}

/// Live mode against the fake pfctl (`tests/fake-pfctl`, python3), through
/// a wrapper that takes its failure mode from a file the script writes:
/// permission denied mid-session shows the banner over the last good data.
/// With `--allow-kill`, `K` then `y` runs the commands the confirmation
/// showed (counted in the fake's kill log).
#[test]
fn live_fake_pfctl_failing_then_recovering_in_tmux() {
    let dir = tempfile::tempdir().expect("a temp dir");
    let mode = dir.path().join("mode");
    std::fs::write(&mode, "").expect("mode file");
    let wrapper = dir.path().join("pfctl");
    let fake = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fake-pfctl");
    let script = format!(
        "#!/bin/sh\nFAKE_PFCTL_MODE=$(cat '{}') exec python3 '{fake}' \"$@\"\n",
        mode.display()
    );
    std::fs::write(&wrapper, script).expect("wrapper");
    let mut perms = std::fs::metadata(&wrapper).expect("wrapper").permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    std::fs::set_permissions(&wrapper, perms).expect("chmod");
    let counter = dir.path().join("counter");
    let kill_log = dir.path().join("kills");
    let recording = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/fixtures/scenarios/dual-prefix"
    );
    run_script_with(
        &[
            "--pfctl",
            wrapper.to_str().expect("utf-8 path"),
            "-s",
            pfblame::source::demo::DEMO_SERVER,
            "-p",
            "443",
            "-i",
            "0.5",
            "--timeout",
            "5",
            "--allow-kill",
        ],
        &[
            ("FAKE_PFCTL_DIR", recording),
            ("FAKE_PFCTL_COUNTER", counter.to_str().expect("utf-8 path")),
            ("E2E_PFCTL_MODE_FILE", mode.to_str().expect("utf-8 path")),
            (
                "FAKE_PFCTL_KILL_LOG",
                kill_log.to_str().expect("utf-8 path"),
            ),
            ("E2E_KILL_LOG", kill_log.to_str().expect("utf-8 path")),
        ],
    );
}
