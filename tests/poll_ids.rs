//! Which states listing the TUI's polls run (issue #16, target 4): `pfctl
//! -vvss` (with the id line) only when something needs the ids, the smaller
//! `-vss` otherwise. Through the real pipeline and process path, against the
//! fake pfctl (`tests/fake-pfctl`), whose argv log shows what ran.

mod source_support;

use pfblame::analyze::{Config, Servers, Verdict};
use pfblame::cli::Strategy;
use pfblame::source;
use pfblame::tui::event::Poller;
use pfblame::tui::pipeline::Pipeline;
use pfblame::tui::snapshot::Snapshot;
use source_support::Fake;

fn pipeline(fake: &Fake, server: &str) -> Pipeline {
    let src = source::open(&fake.args(Strategy::Auto, 10.0)).expect("opens");
    let config = Config {
        servers: Servers::parse(&[server.to_string()], &[]).expect("valid server"),
        ..Config::default()
    };
    Pipeline::new(src, config)
}

/// The states runs so far, each as its argv.
fn states_runs(fake: &Fake) -> Vec<String> {
    fake.invocations()
        .into_iter()
        .filter(|argv| argv.iter().any(|a| a == "-vvss" || a == "-vss"))
        .map(|argv| argv.join(" "))
        .collect()
}

fn poll(p: &mut Pipeline) -> Snapshot {
    p.poll_once().expect("poll succeeds")
}

/// Bytes the states run of this poll printed (the header sums all runs).
fn states_bytes(s: &Snapshot) -> u64 {
    let meta = s.meta.as_ref().expect("a live poll has its runs");
    meta.runs
        .iter()
        .filter(|r| r.argv.iter().any(|a| a == "-vvss" || a == "-vss"))
        .map(|r| r.bytes)
        .sum()
}

#[test]
fn without_kill_or_details_only_the_first_poll_fetches_ids() {
    let fake = Fake::new("openbsd-polls");
    let mut p = pipeline(&fake, "2001:db8::10");
    let first = poll(&mut p);
    let second = poll(&mut p);
    let third = poll(&mut p);
    assert_eq!(states_runs(&fake), ["-vvss", "-vss", "-vss"]);
    assert!(third.analysis.states.iter().all(|(s, _)| s.id.is_none()));
    assert!(first.analysis.states.iter().all(|(s, _)| s.id.is_some()));
    // Over the switch from -vvss to -vss the states are still recognised:
    // the same deltas as a run that fetched ids every time.
    let fake_ids = Fake::new("openbsd-polls");
    let mut with_ids = pipeline(&fake_ids, "2001:db8::10");
    with_ids.ids_always(true);
    poll(&mut with_ids);
    let second_ids = poll(&mut with_ids);
    let third_ids = poll(&mut with_ids);
    assert_eq!(states_runs(&fake_ids), ["-vvss", "-vvss", "-vvss"]);
    // The same recorded poll listed both ways: the id lines are what
    // `-vss` leaves out (44 bytes a state), and the bytes the header
    // shows count what was read.
    let (without, with) = (states_bytes(&second), states_bytes(&second_ids));
    let n = second.analysis.total_states;
    assert_eq!(with - without, 44 * n, "{with} - {without} for {n} states");
    assert_eq!(
        second.analysis.new_server_states,
        second_ids.analysis.new_server_states
    );
    assert_eq!(
        second.analysis.gone_server_states,
        second_ids.analysis.gone_server_states
    );
    assert!(second.analysis.new_server_states.is_some_and(|n| n > 0));
    assert_eq!(third.analysis.new_server_states, Some(0));
    assert_eq!(third_ids.analysis.new_server_states, Some(0));
    let rows = |s: &Snapshot| {
        s.analysis
            .rows
            .iter()
            .map(|r| (r.key, r.server_states, r.new_states, r.verdict))
            .collect::<Vec<_>>()
    };
    assert_eq!(rows(&second), rows(&second_ids));
}

#[test]
fn the_details_pane_asks_for_ids_from_the_next_poll_on() {
    let fake = Fake::new("openbsd-polls");
    let mut p = pipeline(&fake, "2001:db8::10");
    poll(&mut p);
    assert!(!p.wants_ids());
    p.want_ids(true);
    assert!(p.wants_ids());
    let asked = poll(&mut p);
    assert!(asked.analysis.states.iter().all(|(s, _)| s.id.is_some()));
    p.want_ids(false);
    poll(&mut p);
    assert_eq!(states_runs(&fake), ["-vvss", "-vvss", "-vss"]);
}

#[test]
fn default_rule_server_states_keep_fetching_creator_ids() {
    // States imported by pfsync name no rule; their verdict compares their
    // creatorid with the Hostid, so every poll keeps the id line.
    let fake = Fake::new("../scenarios/openbsd-pfsync");
    let mut p = pipeline(&fake, "2001:db8::10");
    let mut last = None;
    for _ in 0..3 {
        last = Some(poll(&mut p));
    }
    assert_eq!(states_runs(&fake), ["-vvss", "-vvss", "-vvss"]);
    let last = last.expect("polled");
    let default_row = last
        .analysis
        .rows
        .iter()
        .find(|r| r.key.number.is_none() && r.server_states > 0)
        .expect("default-rule server states");
    assert_eq!(default_row.verdict, Some(Verdict::Stateful));
    assert!(
        default_row.reason.contains("pfsync"),
        "{}",
        default_row.reason
    );
}

#[test]
fn report_and_record_sources_always_list_ids() {
    // Only the TUI's pipeline asks for less: a source opened as report,
    // check and record open it lists states with their ids.
    let fake = Fake::new("openbsd-polls");
    let mut src = source::open(&fake.args(Strategy::Auto, 10.0)).expect("opens");
    let mut tally = source_support::Tally::default();
    src.poll(&mut tally).expect("poll");
    src.want_ids(false);
    src.poll(&mut tally).expect("poll");
    src.want_ids(true);
    src.poll(&mut tally).expect("poll");
    assert_eq!(states_runs(&fake), ["-vvss", "-vss", "-vvss"]);
}

#[test]
fn freebsd_keeps_the_vv_line_for_its_routing() {
    // FreeBSD's print_state() prints route-to:/gateway:, rtable: and
    // origif: on the -vv line, which the verdicts read: never -vss there.
    let fake = Fake::new("../scenarios/freebsd-nat");
    let mut p = pipeline(&fake, "2001:db8::10");
    for _ in 0..3 {
        poll(&mut p);
    }
    assert_eq!(states_runs(&fake), ["-vvss", "-vvss", "-vvss"]);
}
