//! Running the `pfblame` binary in tests: a command that reads no
//! configuration of this machine's own, the output as text or JSON, the
//! bundled scenarios, and rows of a JSON report. Shared by the tests that
//! run the binary end to end (fleet, configuration, translation rules).
//! And driving the UI without a terminal (the `K` tests, one host and a
//! fleet): `watch` arguments, keys fed to the UI loop, the collector
//! thread, the fakes' JSON-lines logs.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)] // each test uses its own part

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

use assert_cmd::Command;
use clap::Parser;
use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use pfblame::cli::{Cli, WatchArgs};
use pfblame::tui::app::App;
use pfblame::tui::event::{self, Control, Event, FirstPoll, Poller};
use pfblame::tui::svg;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::Value;

pub const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// The repository (fixtures, the fake pfctl and ssh).
pub fn root() -> &'static Path {
    Path::new(MANIFEST)
}

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

/// The arguments of the `watch` command line `argv` (program name first).
pub fn watch_args(argv: &[&str]) -> WatchArgs {
    match Cli::try_parse_from(argv).unwrap().command {
        Some(pfblame::cli::Command::Watch(args)) => args,
        other => panic!("not a watch command: {other:?}"),
    }
}

/// The key `c` pressed.
pub fn key(c: char) -> Event {
    Event::Input(TermEvent::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

/// Runs the UI loop over `events` (it ends when they run out); returns the
/// screen and what was sent to the collector.
pub fn feed(
    terminal: &mut Terminal<TestBackend>,
    app: &mut App,
    events: Vec<Event>,
) -> (String, Vec<Control>) {
    let (tx, rx) = mpsc::channel();
    let (ctl_tx, ctl_rx) = mpsc::channel();
    for e in events {
        tx.send(e).unwrap();
    }
    drop(tx);
    pfblame::tui::run(terminal, app, &rx, &ctl_tx).unwrap();
    let controls = ctl_rx.try_iter().filter(|c| *c != Control::Quit).collect();
    (svg::to_text(terminal.backend().buffer()), controls)
}

/// The collector thread over a pipeline, its first poll one interval
/// away: what it is sent and what it answers.
pub struct Collector {
    control: Sender<Control>,
    events: Receiver<Event>,
    thread: JoinHandle<()>,
}

impl Collector {
    pub fn spawn(pipeline: impl Poller + 'static, interval: Duration) -> Collector {
        let (ev_tx, events) = mpsc::channel();
        let (control, ctl_rx) = mpsc::channel();
        let thread = event::spawn_collector(
            Box::new(pipeline),
            interval,
            FirstPoll::AfterInterval,
            ev_tx,
            ctl_rx,
        )
        .unwrap();
        Collector {
            control,
            events,
            thread,
        }
    }

    pub fn send(&self, control: Control) {
        self.control.send(control).unwrap();
    }

    /// Its next event, waited for up to 30 s.
    pub fn next_event(&self) -> Event {
        self.events
            .recv_timeout(Duration::from_secs(30))
            .expect("the collector answers")
    }

    /// The result of the kill it was sent, which must be its next event.
    pub fn kill_result(&self) -> Result<String, String> {
        match self.next_event() {
            Event::Killed(r) => r,
            other => panic!("expected the kill's result, got {other:?}"),
        }
    }

    /// Asks it to quit and waits until it has.
    pub fn quit(self) {
        self.send(Control::Quit);
        self.thread.join().unwrap();
    }
}

/// A log of JSON arrays of words, one a line (what the fake pfctl and
/// the stand-in ssh write); none when there is no file.
pub fn json_lines(path: &Path) -> Vec<Vec<String>> {
    match fs::read_to_string(path) {
        Ok(text) => text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
        Err(_) => Vec::new(),
    }
}
