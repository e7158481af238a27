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
        pfblame::commands::demo::DEMO_SERVER,
        "-p",
        "443",
        "-i",
        "1",
    ]);
}
