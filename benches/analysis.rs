//! Analysis and TUI figures at scale: `cargo bench --bench analysis`.
//!
//! * `sample_from_text`: a 100k-state `-vvss` listing streamed through the
//!   `SampleBuilder` (parse + keep server states + count per rule).
//! * `analyze`: `analyze()` on a 1M-state sample (server states kept, as
//!   `report` and the default `watch` do), against the previous poll.
//! * `tui_key_and_draw`: one key press (`Down`) applied to an `App` showing
//!   a 1M-state analysis, then a full redraw on ratatui's `TestBackend`
//!   (120×40). Target: well under 50 ms. `tui_key_and_draw_all_states` does
//!   the same with every state kept (the `A` toggle), at `ALL_STATES` states
//!   (each kept `State` costs 400 bytes plus its strings and boxes, so 1M need
//!   about 1.3 GB in this process; set PFBLAME_BENCH_ALL_STATES=1000000 to measure that).
//! * `tui_filter_key_and_draw_all_states`: one key typed into the `/`
//!   prompt, with every state kept and the biggest rule selected: the
//!   filter alternates between two addresses (`2001:db8::1` and
//!   `2001:db8::10`), so every key scans every state for the rules table's
//!   counts and the rule's list; then a full redraw.
//! * `tui_filter_all_match_key_and_draw_all_states`,
//!   `tui_filter_no_match_key_and_draw_all_states`: the filter's worst
//!   cases, one key that makes it `0.0.0.0/0` (every IPv4 state) or
//!   `0.0.0.1` (no state, every address read); `tui_filter_typing_and_draw_all_states`:
//!   `10.0.0.0/8` typed and deleted one key at a time, each key a sample.
//! * `tui_toggle_all_and_draw_all_states`: the `A` key, with every state
//!   kept and the biggest rule selected: the list alternates between the
//!   rule's server states and all its states, and the selected state is
//!   found again in it; then a full redraw.

use std::cell::RefCell;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use divan::Bencher;
use divan::counter::ItemsCount;
use pfblame::analyze::{Analysis, Config, Sample, Servers, analyze};
use pfblame::poll::SampleBuilder;
use pfblame::print::Flavor;
use pfblame::source::PollSink;
use pfblame::tui::action::{Action, Command};
use pfblame::tui::app::{App, Settings};
use pfblame::tui::snapshot::{NewStateTracker, Snapshot};
use pfblame::tui::theme::Theme;
use pfblame::tui::view;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

#[path = "../examples/gen_table.rs"]
#[allow(dead_code)]
mod gen_table;

const TEXT_STATES: u64 = 100_000;
const BIG: u64 = 1_000_000;
const ALL_STATES_DEFAULT: u64 = 200_000;

fn main() {
    divan::main();
}

fn config(keep_all: bool) -> Config {
    Config {
        servers: Servers::parse(&["2001:db8::10".into()], &[]).expect("valid server"),
        allow: Default::default(),
        keep_all_states: keep_all,
        ..Config::default()
    }
}

fn all_states() -> u64 {
    std::env::var("PFBLAME_BENCH_ALL_STATES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(ALL_STATES_DEFAULT)
}

/// A sample of `n` generated states, fed to the builder as values (no text:
/// the setup of the 1M benches should not take the parser's time).
fn sample(n: u64, seed: u64, keep_all: bool) -> Sample {
    let opts = gen_table::Options::new(n, Flavor::OpenBsd, seed);
    let mut rules = Vec::new();
    let mut generator = gen_table::StateGen::new(opts.clone());
    let mut builder = SampleBuilder::new(&config(keep_all));
    for i in 0..n {
        builder.add_state(generator.state(i));
    }
    // The rules listing with counters as generated for this table.
    let tally = gen_table::StateGen::new(opts.clone())
        .write_all(&mut std::io::sink())
        .expect("sink");
    gen_table::write_rules(&mut rules, &opts, &tally).expect("memory");
    builder.rules(&String::from_utf8_lossy(&rules));
    builder.finish(None)
}

static TEXT: LazyLock<(String, String)> = LazyLock::new(|| {
    let (rules, states, _) =
        gen_table::generate(&gen_table::Options::new(TEXT_STATES, Flavor::OpenBsd, 3));
    (rules, states)
});

#[divan::bench(sample_count = 10)]
fn sample_from_text(bencher: Bencher) {
    let (rules, states) = &*TEXT;
    bencher.counter(ItemsCount::new(TEXT_STATES)).bench(|| {
        let mut b = SampleBuilder::new(&config(false));
        b.rules(rules);
        let r = b.states(None, &mut states.as_bytes());
        assert!(r.is_ok());
        b.finish(None)
    });
}

/// Two consecutive polls of a 1M-state table (different seeds: states come
/// and go), analysed against each other.
static POLLS: LazyLock<(Analysis, Sample)> = LazyLock::new(|| {
    let first = sample(BIG, 1, false);
    let prev = analyze(None, &first, &config(false));
    (prev, sample(BIG, 2, false))
});

#[divan::bench(sample_count = 10)]
fn analyze_1m(bencher: Bencher) {
    let (prev, next) = &*POLLS;
    bencher
        .counter(ItemsCount::new(BIG))
        .bench(|| analyze(Some(prev), next, &config(false)));
}

fn app_over(n: u64, keep_all: bool) -> (App, Terminal<TestBackend>) {
    let (app, term, _) = app_and_snapshot(n, keep_all);
    (app, term)
}

/// The app on its first poll, and that poll's snapshot (to hand it again).
fn app_and_snapshot(n: u64, keep_all: bool) -> (App, Terminal<TestBackend>, Snapshot) {
    let s = sample(n, 1, keep_all);
    let analysis = Arc::new(pfblame::analyze::analyze_owned(None, s, &config(keep_all)));
    let mut snapshot = Snapshot::build(
        analysis,
        None,
        Duration::from_millis(900),
        &mut NewStateTracker::default(),
    );
    // As the pipeline says of a poll that kept every state.
    snapshot.all_kept = keep_all;
    let settings = Settings {
        servers: "2001:db8::10".into(),
        source: "bench".into(),
        strategy: "auto".into(),
        interval: Duration::from_secs(2),
    };
    let mut app = App::new(settings, Theme::new(false), &view::MEASURE);
    if keep_all {
        app.update(Action::Command(Command::ToggleAllStates));
    }
    app.update(Action::Polled(Box::new(snapshot.clone())));
    // The states pane, where the long list is.
    app.update(Action::Command(Command::FocusNext));
    let mut term = Terminal::new(TestBackend::new(120, 40)).expect("test backend");
    pfblame::tui::draw(&mut term, &mut app).expect("draws");
    (app, term, snapshot)
}

fn key_and_draw(bencher: Bencher, n: u64, keep_all: bool) {
    let (mut app, mut term) = app_over(n, keep_all);
    let mut down = true;
    bencher.bench_local(|| {
        // Alternate so the cursor never gets stuck at an end.
        let cmd = if down { Command::Down } else { Command::Up };
        down = !down;
        app.update(Action::Command(cmd));
        pfblame::tui::draw(&mut term, &mut app).expect("draws");
    });
}

#[divan::bench(sample_count = 50)]
fn tui_key_and_draw(bencher: Bencher) {
    key_and_draw(bencher, BIG, false);
}

#[divan::bench(sample_count = 50)]
fn tui_key_and_draw_all_states(bencher: Bencher) {
    key_and_draw(bencher, all_states(), true);
}

/// A key in the rules pane: each press selects another rule, whose states
/// (up to most of the table with every state kept) become the states
/// pane's list; then a full redraw.
#[divan::bench(sample_count = 50)]
fn tui_rule_key_and_draw_all_states(bencher: Bencher) {
    let (mut app, mut term) = app_over(all_states(), true);
    app.update(Action::Command(Command::FocusPrev));
    let mut down = true;
    bencher.bench_local(|| {
        let cmd = if down { Command::Down } else { Command::Up };
        down = !down;
        app.update(Action::Command(cmd));
        pfblame::tui::draw(&mut term, &mut app).expect("draws");
    });
}

/// The app over every state, in the states pane of the rule with the
/// most states (rules sorted by all states, the first one).
fn app_on_biggest_rule() -> (App, Terminal<TestBackend>) {
    let (mut app, mut term) = app_over(all_states(), true);
    app.update(Action::Command(Command::FocusPrev));
    app.update(Action::Command(Command::ToggleAllRules));
    app.update(Action::Command(Command::CycleSort));
    app.update(Action::Command(Command::CycleSort));
    app.update(Action::Command(Command::Home));
    app.update(Action::Command(Command::FocusNext));
    app.update(Action::Command(Command::Down));
    pfblame::tui::draw(&mut term, &mut app).expect("draws");
    (app, term)
}

#[divan::bench(sample_count = 50)]
fn tui_filter_key_and_draw_all_states(bencher: Bencher) {
    let (mut app, mut term) = app_on_biggest_rule();
    app.update(Action::Command(Command::StartFilter));
    for c in "2001:db8::1".chars() {
        app.update(Action::FilterChar(c));
    }
    let mut append = true;
    bencher.bench_local(|| {
        let key = if append {
            Action::FilterChar('0')
        } else {
            Action::FilterBackspace
        };
        append = !append;
        app.update(key);
        pfblame::tui::draw(&mut term, &mut app).expect("draws");
    });
}

/// One key that makes the filter `prefix` + `last`, with every state
/// kept and the biggest rule selected; before each timed key (untimed) a
/// backspace takes `last` off again, so every timed key changes the filter.
fn filter_key(bencher: Bencher, prefix: &str, last: char) {
    let (mut app, term) = app_on_biggest_rule();
    app.update(Action::Command(Command::StartFilter));
    for c in prefix.chars().chain([last]) {
        app.update(Action::FilterChar(c));
    }
    let cell = RefCell::new((app, term));
    bencher
        .with_inputs(|| {
            cell.borrow_mut().0.update(Action::FilterBackspace);
        })
        .bench_local_values(|()| {
            let (app, term) = &mut *cell.borrow_mut();
            app.update(Action::FilterChar(last));
            pfblame::tui::draw(term, app).expect("draws");
        });
}

/// The worst case for the filter's counts: `0.0.0.0/0` matches every IPv4
/// state (most of the table), so the rule's whole list is kept.
#[divan::bench(sample_count = 50, sample_size = 1)]
fn tui_filter_all_match_key_and_draw_all_states(bencher: Bencher) {
    filter_key(bencher, "0.0.0.0/", '0');
}

/// An IPv4 address no state has (`0.0.0.1`): no shortcut through the
/// IPv6 pool, every state's addresses are read.
#[divan::bench(sample_count = 50, sample_size = 1)]
fn tui_filter_no_match_key_and_draw_all_states(bencher: Bencher) {
    filter_key(bencher, "0.0.0.", '1');
}

/// Typing `10.0.0.0/8` one key at a time, then deleting it one key at a
/// time, over and over: each sample is one key (text filters, an address
/// that matches nothing, the prefix that matches the inside hosts).
#[divan::bench(sample_count = 100, sample_size = 1)]
fn tui_filter_typing_and_draw_all_states(bencher: Bencher) {
    let (mut app, mut term) = app_on_biggest_rule();
    app.update(Action::Command(Command::StartFilter));
    let text: Vec<char> = "10.0.0.0/8".chars().collect();
    let keys: Vec<Action> = text
        .iter()
        .map(|c| Action::FilterChar(*c))
        .chain(text.iter().map(|_| Action::FilterBackspace))
        .collect();
    let mut next = keys.iter().cycle();
    bencher.bench_local(|| {
        if let Some(key) = next.next() {
            app.update(key.clone());
        }
        pfblame::tui::draw(&mut term, &mut app).expect("draws");
    });
}

#[divan::bench(sample_count = 50)]
fn tui_toggle_all_and_draw_all_states(bencher: Bencher) {
    let (mut app, mut term) = app_on_biggest_rule();
    bencher.bench_local(|| {
        app.update(Action::Command(Command::ToggleAllStates));
        pfblame::tui::draw(&mut term, &mut app).expect("draws");
    });
}

/// A poll arriving on the UI thread with every state kept: the app takes
/// the snapshot (finds the selected rule and state again in it), then a
/// full redraw. The collector built the snapshot off this thread.
#[divan::bench(sample_count = 20)]
fn tui_poll_and_draw_all_states(bencher: Bencher) {
    let (mut app, mut term, snapshot) = app_and_snapshot(all_states(), true);
    app.update(Action::Command(Command::Down));
    bencher.bench_local(|| {
        app.update(Action::Polled(Box::new(snapshot.clone())));
        pfblame::tui::draw(&mut term, &mut app).expect("draws");
    });
}
