//! Hostile text on every output path (issue #10.3): labels, interface names
//! (also on `route-to addr@IFACE` hop lines) and pfctl's stderr carrying
//! terminal escapes (OSC 52 clipboard, window title, screen clear, C1 CSI),
//! DEL, and bidi / zero-width characters. No command, format or message may
//! hand any of them to the terminal raw; the TUI neither.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::Path;
use std::time::Duration;

use assert_cmd::Command;
use pfblame::analyze::{Config, Servers};
use pfblame::source::{Options, PfctlOptions, Strategy};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SERVER: &str = "2001:db8:bbbb:1::10";
/// No blanks: it must stay one word in an interface position.
const EVIL_WORD: &str = "gif0\x1b]52;c;SGVsbG8=\x07\x1b]0;pwned\x07\x1b[2J\u{9b}31m\u{202e}\u{2066}\u{200b}\u{feff}\x7f";
const EVIL_TEXT: &str = "lbl \x1b[8m\u{202e}evil\u{2069}\u{200f}\u{85}\x08 done";

/// The character that must not be there, if any.
fn first_unsafe(text: &str) -> Option<(usize, char)> {
    text.char_indices().find(|&(_, c)| {
        (c.is_control() && c != '\n')
            || matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
    })
}

fn assert_safe(what: &str, bytes: &[u8]) {
    let text = String::from_utf8_lossy(bytes);
    if let Some((at, c)) = first_unsafe(&text) {
        let from = text[..at]
            .char_indices()
            .rev()
            .nth(40)
            .map_or(0, |(i, _)| i);
        panic!(
            "{what}: raw U+{:04X} at byte {at}: {:?}",
            c as u32,
            &text[from..]
        );
    }
}

/// The bundled scenario's first poll with the tunnel interface renamed to
/// [`EVIL_WORD`] and a hostile label on the stray rule.
fn hostile_recording(dir: &Path) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios/dual-prefix/0001");
    let rules = fs::read_to_string(src.join("rules.txt")).unwrap();
    let rules = rules.replace("gif0", EVIL_WORD).replace(
        "port = 443 flags S/SA\n",
        &format!("port = 443 flags S/SA label \"{EVIL_TEXT}\"\n"),
    );
    assert!(rules.contains(EVIL_TEXT), "the label went in");
    let states = fs::read_to_string(src.join("states.txt"))
        .unwrap()
        .replace("gif0", EVIL_WORD)
        .replacen("all tcp", &format!("{EVIL_WORD} tcp"), 1)
        // An unreadable line: its diagnostic quotes it on stderr.
        + &format!("{EVIL_TEXT} {EVIL_WORD}\n");
    fs::write(dir.join("rules.txt"), rules).unwrap();
    fs::write(dir.join("states.txt"), states).unwrap();
}

fn run(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("pfblame")
        .unwrap()
        .env_remove("NO_COLOR")
        .args(args)
        .output()
        .unwrap()
}

fn check(what: &str, out: &std::process::Output) {
    assert!(
        out.status.code().is_some_and(|c| c != 70 && c != 101),
        "{what}: {out:?}"
    );
    assert_safe(&format!("{what} (stdout)"), &out.stdout);
    assert_safe(&format!("{what} (stderr)"), &out.stderr);
}

#[test]
fn every_command_and_format_neutralises_hostile_text() {
    let dir = tempfile::tempdir().unwrap();
    hostile_recording(dir.path());
    let rec = dir.path().to_str().unwrap();
    let rules = dir.path().join("rules.txt");
    let states = dir.path().join("states.txt");
    let (rules, states) = (rules.to_str().unwrap(), states.to_str().unwrap());
    for format in ["text", "json", "markdown"] {
        for sub in ["report", "lint"] {
            let out = run(&[
                sub, "--from", rec, "-s", SERVER, "-p", "443", "--format", format,
            ]);
            check(&format!("{sub} --format {format}"), &out);
            let all = run(&[sub, "--from", rec, "-s", SERVER, "--format", format]);
            check(&format!("{sub} --format {format} (no port)"), &all);
        }
    }
    for format in ["json", "text"] {
        for file in [rules, states] {
            check(
                &format!("parse --format {format} {file}"),
                &run(&["parse", "--format", format, file]),
            );
        }
    }
    // The hop lines print route-to's interface: make sure they were there.
    let lint = run(&["lint", "--from", rec, "-s", SERVER, "-p", "443"]);
    let text = String::from_utf8_lossy(&lint.stdout);
    assert!(
        text.contains("route-to 2001:db8:cccc::1@gif0\\x1b]52"),
        "{text}"
    );
    // JSON reads back the same strings.
    let json = run(&[
        "report", "--from", rec, "-s", SERVER, "-p", "443", "--format", "json",
    ]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    let text = v["rules"][0]["text"].as_str().unwrap();
    assert!(text.contains(EVIL_TEXT), "JSON keeps the value: {text:?}");
}

#[test]
fn a_failing_pfctl_s_stderr_is_neutralised_in_messages() {
    let dir = tempfile::tempdir().unwrap();
    let message = dir.path().join("message");
    fs::write(&message, format!("pfctl: {EVIL_TEXT} {EVIL_WORD}\n")).unwrap();
    let script = dir.path().join("evil-pfctl");
    fs::write(
        &script,
        format!("#!/bin/sh\ncat '{}' >&2\nexit 1\n", message.display()),
    )
    .unwrap();
    let mut perms = fs::metadata(&script).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
    fs::set_permissions(&script, perms).unwrap();
    let pfctl = script.to_str().unwrap();
    for sub in ["report", "lint"] {
        let out = run(&[sub, "--pfctl", pfctl, "-s", SERVER]);
        assert_eq!(out.status.code(), Some(69), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains("\\x1b]52"),
            "{out:?}"
        );
        check(&format!("{sub} with a failing pfctl"), &out);
    }
    let out_dir = dir.path().join("rec");
    let out = run(&["record", "--pfctl", pfctl, out_dir.to_str().unwrap()]);
    check("record with a failing pfctl", &out);
}

#[test]
fn the_watch_screen_neutralises_hostile_text() {
    let dir = tempfile::tempdir().unwrap();
    hostile_recording(dir.path());
    let options = Options {
        from: Some(dir.path().to_path_buf()),
        pfctl: PfctlOptions::local("pfctl", Duration::from_secs(1)),
        strategy: Strategy::Auto,
        translation: None,
    };
    let source = pfblame::source::open(&options).unwrap();
    let config = Config {
        servers: Servers {
            nets: vec![SERVER.parse::<std::net::IpAddr>().unwrap().into()],
            ports: vec![],
        },
        ..Config::default()
    };
    let (mut app, _pipeline) =
        pfblame::tui::start::prepare(source, config, None, Duration::from_secs(2), false).unwrap();
    use pfblame::tui::action::{Action, Command as C};
    let mut screens = Vec::new();
    for step in [
        None,
        Some(C::ToggleDetails),
        Some(C::ToggleAllRules),
        Some(C::Down),
        Some(C::ToggleAllStates),
    ] {
        if let Some(c) = step {
            app.update(Action::Command(c));
        }
        let mut t = Terminal::new(TestBackend::new(200, 60)).unwrap();
        pfblame::tui::draw(&mut t, &mut app).unwrap();
        let buf = t.backend().buffer().clone();
        let text: String = buf.content().iter().map(|c| c.symbol()).collect();
        assert_safe(&format!("watch screen after {step:?}"), text.as_bytes());
        screens.push(text);
    }
    assert!(
        screens
            .iter()
            .any(|s| s.contains("\\x1b]52") || s.contains("\\u{202e}")),
        "the hostile names were on screen (escaped)"
    );
}
