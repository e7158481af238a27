//! Peak memory of the TUI keeping every state (no `-s`, or the `A` key):
//! `cargo bench --bench tui_memory` (a measurement, not a timing; harness =
//! false).
//!
//! Runs what `watch` runs: the real [`Pipeline`] (`source → SampleBuilder →
//! analyze → Snapshot`) with `keep_all_states`, each snapshot handed to an
//! [`App`] and drawn on a 120×40 `TestBackend`. The source reads generated
//! `-vvss` tables from files (seeds 1, 2, 3, cycled, so states come and go
//! between polls), streamed the way pfctl's stdout is, so the tables' text
//! never sits in this process' memory. Polls: `PFBLAME_TUI_MEMORY_POLLS`
//! (default 8: the allocator's heap settles after the third or fourth
//! poll, and the peak must stay flat after that, not only over two).
//! States: `PFBLAME_TUI_MEMORY_STATES` (default 1,000,000).
//!
//! Prints the peak resident set (`VmHWM` of /proc/self/status, Linux) and
//! the resident set after each poll. The generator's own memory is small
//! (it streams to the files) and happens before the first poll: the
//! figure printed as "before polling" is subtracted nowhere, it is the
//! floor.

use std::fs::File;
use std::io::{BufReader, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use pfblame::analyze::{Config, Servers};
use pfblame::print::Flavor;
use pfblame::source::{PollMeta, PollSink, Source, SourceError};
use pfblame::tui::action::{Action, Command};
use pfblame::tui::app::{App, Settings};
use pfblame::tui::pipeline::Pipeline;
use pfblame::tui::theme::Theme;
use pfblame::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "../examples/gen_table.rs"]
#[allow(dead_code)]
mod gen_table;

/// Plays the tables in `files` in turn, for ever, from disk.
struct Files {
    files: Vec<(String, PathBuf)>,
    next: usize,
}

impl Source for Files {
    fn describe(&self) -> String {
        format!("{} generated tables", self.files.len())
    }

    fn is_live(&self) -> bool {
        true
    }

    fn poll(&mut self, sink: &mut dyn PollSink) -> Result<PollMeta, SourceError> {
        let (rules, path) = &self.files[self.next % self.files.len()];
        sink.rules(rules);
        let io = |e| SourceError::Io {
            what: path.display().to_string(),
            source: e,
        };
        let mut reader = BufReader::with_capacity(64 * 1024, File::open(path).map_err(io)?);
        sink.states(None, &mut reader).map_err(io)?;
        self.next += 1;
        let t = Utc
            .timestamp_opt(1_700_000_000 + self.next as i64 * 2, 0)
            .single();
        Ok(PollMeta {
            taken_at: t.unwrap_or_default(),
            runs: Vec::new(),
            warnings: Vec::new(),
            position: None,
        })
    }
}

fn status_kb(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn mb(kb: Option<u64>) -> String {
    kb.map_or_else(
        || "unknown".into(),
        |k| format!("{:.1} MB", k as f64 / 1024.0),
    )
}

fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Writes the table of `seed` to `dir`, returns its rules text and states file.
fn write_table(dir: &Path, states: u64, seed: u64) -> (String, PathBuf) {
    let opts = gen_table::Options::new(states, Flavor::OpenBsd, seed);
    let path = dir.join(format!("states-{seed}.txt"));
    let mut out = BufWriter::new(File::create(&path).expect("create states file"));
    let tally = gen_table::StateGen::new(opts.clone())
        .write_all(&mut out)
        .expect("write states");
    out.flush().expect("flush states");
    let mut rules = Vec::new();
    gen_table::write_rules(&mut rules, &opts, &tally).expect("memory");
    (String::from_utf8_lossy(&rules).into_owned(), path)
}

fn main() {
    let states: u64 = env_or("PFBLAME_TUI_MEMORY_STATES", 1_000_000);
    let polls: usize = env_or("PFBLAME_TUI_MEMORY_POLLS", 8);
    let dir = tempfile::tempdir().expect("temp dir");
    let files = (1..=3)
        .map(|s| write_table(dir.path(), states, s))
        .collect();
    let floor = status_kb("VmHWM:");
    let config = Config {
        servers: Servers::parse(&["2001:db8::10".into()], &[]).expect("valid"),
        keep_all_states: true,
        ..Config::default()
    };
    let mut pipeline = Pipeline::new(Box::new(Files { files, next: 0 }), config);
    let settings = Settings {
        servers: "2001:db8::10".into(),
        source: pipeline.describe(),
        strategy: "auto".into(),
        interval: Duration::from_secs(2),
    };
    let mut app = App::new(settings, Theme::new(false), &view::MEASURE);
    app.update(Action::Command(Command::ToggleAllStates));
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    println!(
        "tui_memory: {states} states per poll, every state kept; before polling: peak {}",
        mb(floor)
    );
    for i in 1..=polls {
        let started = Instant::now();
        let snap = match pipeline.poll_once() {
            Ok(s) => s,
            Err(e) => panic!("poll {i} failed: {e}"),
        };
        let kept = snap.analysis.states.len();
        app.update(Action::Polled(Box::new(snap)));
        if i == 1 {
            app.update(Action::Command(Command::FocusNext));
        }
        pfblame::tui::draw(&mut term, &mut app).expect("draws");
        println!(
            "tui_memory: poll {i}: {kept} states kept, {:.2} s, RSS {}, peak so far {}",
            started.elapsed().as_secs_f64(),
            mb(status_kb("VmRSS:")),
            mb(status_kb("VmHWM:"))
        );
    }
    println!(
        "tui_memory: peak RSS {} over {polls} polls of {states} states",
        mb(status_kb("VmHWM:"))
    );
}
