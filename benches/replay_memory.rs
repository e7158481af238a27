//! Memory stays flat over 1,000 replayed polls: `cargo bench --bench
//! replay_memory` (a measurement, not a timing; harness = false).
//!
//! Runs the TUI's real pipeline (`source → SampleBuilder → analyze →
//! Snapshot`) and feeds every snapshot to an `App`, as `watch` does, over a
//! source that cycles through three generated polls for ever (states come
//! and go between them). Resident memory is read after a warm-up and at the
//! end; the run fails if it grew by more than 10%. RSS is read from
//! /proc/self/status (Linux); elsewhere the figures print as unknown.

use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use pfblame::analyze::{Config, Servers};
use pfblame::print::Flavor;
use pfblame::source::{PollMeta, PollSink, Source, SourceError};
use pfblame::tui::action::Action;
use pfblame::tui::app::{App, Settings};
use pfblame::tui::pipeline::Pipeline;
use pfblame::tui::theme::Theme;
use pfblame::tui::view;

#[path = "../examples/gen_table.rs"]
#[allow(dead_code)]
mod gen_table;

/// A replay that never ends: poll `i` plays recording `i % n`.
struct Cycle {
    polls: Vec<(String, String)>,
    next: usize,
}

impl Source for Cycle {
    fn describe(&self) -> String {
        format!("cycle of {} polls", self.polls.len())
    }

    fn is_live(&self) -> bool {
        true // so the pipeline never treats it as a finished replay
    }

    fn poll(&mut self, sink: &mut dyn PollSink) -> Result<PollMeta, SourceError> {
        let (rules, states) = &self.polls[self.next % self.polls.len()];
        sink.rules(rules);
        sink.states(None, &mut states.as_bytes())
            .map_err(|e| SourceError::Io {
                what: "memory".into(),
                source: e,
            })?;
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

fn rss_kb() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

fn show(kb: Option<u64>) -> String {
    kb.map_or_else(
        || "unknown".into(),
        |k| format!("{:.1} MB", k as f64 / 1024.0),
    )
}

fn main() {
    let states: u64 = std::env::var("PFBLAME_REPLAY_STATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20_000);
    let polls: usize = std::env::var("PFBLAME_REPLAY_POLLS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
    let recordings = (1..=3)
        .map(|seed| {
            let (r, s, _) =
                gen_table::generate(&gen_table::Options::new(states, Flavor::OpenBsd, seed));
            (r, s)
        })
        .collect();
    let config = Config {
        servers: Servers::parse(&["2001:db8::10".into()], &[]).expect("valid"),
        allow: Default::default(),
        keep_all_states: false,
        ..Config::default()
    };
    let mut pipeline = Pipeline::new(
        Box::new(Cycle {
            polls: recordings,
            next: 0,
        }),
        config,
    );
    let settings = Settings {
        servers: "2001:db8::10".into(),
        source: pipeline.describe(),
        strategy: "auto".into(),
        interval: Duration::from_secs(2),
    };
    let mut app = App::new(settings, Theme::new(false), &view::MEASURE);
    let warm_up = 20.min(polls);
    let mut start_rss = None;
    let started = Instant::now();
    for i in 0..polls {
        if i == warm_up {
            start_rss = rss_kb();
        }
        let snap = match pipeline.poll_once() {
            Ok(s) => s,
            Err(e) => panic!("poll {i} failed: {e}"),
        };
        app.update(Action::Polled(Box::new(snap)));
    }
    let end_rss = rss_kb();
    println!(
        "replay_memory: {polls} polls of {states} states in {:.1} s; RSS after {warm_up} polls {}, after {polls} {}",
        started.elapsed().as_secs_f64(),
        show(start_rss),
        show(end_rss)
    );
    if let (Some(a), Some(b)) = (start_rss, end_rss) {
        let grew = b as f64 / a as f64 - 1.0;
        println!("replay_memory: growth {:+.1}%", grew * 100.0);
        assert!(
            grew < 0.10,
            "memory grew by {:.1}% over {polls} polls",
            grew * 100.0
        );
    }
}
