//! `pfblame demo`: the watch screen on the bundled dual-prefix scenario
//! (`fixtures/scenarios/dual-prefix/`, see its README), replayed poll by
//! poll. The recordings are embedded in the binary, so the demo runs from
//! any directory, without a BSD and without pfctl.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::analyze::{Config, Servers};
use crate::cli::DemoArgs;
use crate::exit::Exit;
use crate::source::{RecordedPoll, ReplaySource, Source};
use crate::tui::kill::KillAccess;
#[cfg(any(test, feature = "test-support"))]
use crate::tui::{
    app::{App, Settings},
    screens::{self, Screen},
    theme::Theme,
    view,
};

/// The scenario's web server address on the tunnel prefix, and its port:
/// the states of this address that rule @14 creates are the stray ones.
pub const DEMO_SERVER: &str = "2001:db8:bbbb:1::10";
pub const DEMO_PORT: u16 = 443;

macro_rules! poll {
    ($n:literal) => {
        (
            include_str!(concat!(
                "../../fixtures/scenarios/dual-prefix/",
                $n,
                "/rules.txt"
            )),
            include_str!(concat!(
                "../../fixtures/scenarios/dual-prefix/",
                $n,
                "/states.txt"
            )),
            include_str!(concat!(
                "../../fixtures/scenarios/dual-prefix/",
                $n,
                "/meta.toml"
            )),
        )
    };
}

/// The scenario's polls: (rules.txt, states.txt, meta.toml).
const POLLS: &[(&str, &str, &str)] = &[poll!("0001"), poll!("0002"), poll!("0003"), poll!("0004")];

/// `taken_at` of a poll's `meta.toml` (a TOML date-time or an RFC 3339 string).
fn taken_at(meta: &str) -> Option<DateTime<Utc>> {
    let table: toml::Table = toml::from_str(meta).ok()?;
    let text = match table.get("taken_at")? {
        toml::Value::Datetime(d) => d.to_string(),
        toml::Value::String(s) => s.clone(),
        _ => return None,
    };
    DateTime::parse_from_rfc3339(&text)
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// The embedded polls.
pub fn recorded_polls() -> Vec<RecordedPoll> {
    POLLS
        .iter()
        .map(|(rules, states, meta)| RecordedPoll {
            taken_at: taken_at(meta),
            rules: (*rules).to_string(),
            states: (*states).to_string(),
            info: None,
            per_rule: BTreeMap::new(),
        })
        .collect()
}

/// The embedded polls of round `round` (1-based) of the looping demo: the
/// recorded times moved forward by whole rounds (the recording's span plus
/// one gap between polls), so rates and ages keep going forward.
pub fn polls_of_round(round: u32) -> Vec<RecordedPoll> {
    let mut polls = recorded_polls();
    let times: Vec<DateTime<Utc>> = polls.iter().filter_map(|p| p.taken_at).collect();
    let (Some(first), Some(last)) = (times.first(), times.last()) else {
        return polls;
    };
    let gap = match times.len() {
        0 | 1 => chrono::TimeDelta::seconds(2),
        n => (*last - *first) / (n as i32 - 1),
    };
    let period = *last - *first + gap;
    let shift = period * round.saturating_sub(1) as i32;
    for p in &mut polls {
        p.taken_at = p.taken_at.map(|t| t + shift);
    }
    polls
}

/// The demo's source: the embedded replay.
pub fn source() -> Box<dyn Source> {
    round_source(1)
}

fn round_source(round: u32) -> Box<dyn Source> {
    let polls = polls_of_round(round);
    let n = polls.len();
    Box::new(
        ReplaySource::from_memory(polls).with_description(format!("demo: dual-prefix ({n} polls)")),
    )
}

/// Starts the demo's replay again at its end: the demo loops, so a
/// newcomer can watch states appear, rates change and `+` marks come and go.
pub fn reopen() -> crate::tui::pipeline::Reopen {
    Box::new(round_source)
}

/// The demo's analysis settings: the scenario's server and port.
pub fn config() -> Config {
    let servers = Servers::parse(&[DEMO_SERVER.to_string()], &[DEMO_PORT]).unwrap_or_default();
    Config {
        servers,
        ..Config::default()
    }
}

/// One host of the embedded CARP pair (`fixtures/scenarios/carp-pair/`).
macro_rules! pair_host {
    ($host:literal) => {
        (
            $host,
            include_str!(concat!(
                "../../fixtures/scenarios/carp-pair/",
                $host,
                "/rules.txt"
            )),
            include_str!(concat!(
                "../../fixtures/scenarios/carp-pair/",
                $host,
                "/states.txt"
            )),
            include_str!(concat!(
                "../../fixtures/scenarios/carp-pair/",
                $host,
                "/info.txt"
            )),
            include_str!(concat!(
                "../../fixtures/scenarios/carp-pair/",
                $host,
                "/meta.toml"
            )),
        )
    };
}

/// The pair: (host, rules.txt, states.txt, info.txt, meta.toml).
const PAIR: &[(&str, &str, &str, &str, &str)] = &[pair_host!("fw-a"), pair_host!("fw-b")];

/// The server of the pair scenario.
pub const PAIR_SERVER: &str = "2001:db8::10";

/// `demo --pair`: the embedded CARP pair as a fleet.
pub fn pair_fleet() -> crate::fleet::Fleet {
    let sources = PAIR
        .iter()
        .map(|(host, rules, states, info, meta)| {
            let poll = RecordedPoll {
                taken_at: taken_at(meta),
                rules: (*rules).to_string(),
                states: (*states).to_string(),
                info: Some((*info).to_string()),
                per_rule: BTreeMap::new(),
            };
            let source: Box<dyn Source> = Box::new(
                ReplaySource::from_memory(vec![poll])
                    .with_description(format!("demo: carp-pair {host}")),
            );
            ((*host).to_string(), source)
        })
        .collect();
    crate::fleet::Fleet::from_sources(sources)
}

/// The pair's analysis settings.
pub fn pair_config() -> Config {
    Config {
        servers: Servers::parse(&[PAIR_SERVER.to_string()], &[]).unwrap_or_default(),
        ..Config::default()
    }
}

/// Runs the command.
pub fn run(args: &DemoArgs) -> anyhow::Result<Exit> {
    let interval = args.interval;
    if args.pair {
        return crate::commands::watch::start_fleet(
            pair_fleet(),
            pair_config(),
            interval,
            args.color.color,
        );
    }
    // The strategy says how live pfctl is asked; a replay has none to show.
    // A replay has no live pfctl: `K` says so.
    let kill = KillAccess::new(false, false, None);
    crate::commands::watch::start(
        source(),
        config(),
        None,
        interval,
        args.color.color,
        kill,
        Some(reopen()),
    )
}

#[cfg(any(test, feature = "test-support"))]
/// The screenshots of `screenshots/`: the demo (looping, as `pfblame demo`
/// runs) with every recorded poll played once.
pub fn screenshots() -> Result<Vec<Screen>, String> {
    let config = config();
    let settings = Settings {
        servers: config.servers.describe(),
        source: source().describe(),
        strategy: String::new(),
        interval: std::time::Duration::from_secs(2),
    };
    let mut pipeline = crate::tui::pipeline::Pipeline::new(source(), config).looping(reopen());
    let mut app = App::new(settings, Theme::new(true), &view::MEASURE);
    screens::play(&mut app, &mut pipeline, POLLS.len())?;
    screens::screens(&mut app)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn every_poll_is_embedded_with_its_time() {
        let polls = recorded_polls();
        assert_eq!(polls.len(), 4);
        for p in &polls {
            assert!(p.taken_at.is_some());
            assert!(p.rules.contains("@14 pass out quick on em1"));
            assert!(!p.states.is_empty());
        }
        assert!(polls[0].taken_at < polls[3].taken_at);
    }

    #[test]
    fn later_rounds_keep_time_going_forward() {
        let one = polls_of_round(1);
        let two = polls_of_round(2);
        assert_eq!(one[0].taken_at, recorded_polls()[0].taken_at);
        // 09:30:00..09:30:09 every 3 s: round 2 starts at 09:30:12.
        let step = two[0].taken_at.unwrap() - one[3].taken_at.unwrap();
        assert_eq!(step, chrono::TimeDelta::seconds(3));
    }

    #[test]
    fn the_demo_loops_and_says_which_round() {
        use crate::tui::event::Poller;
        let mut p = crate::tui::pipeline::Pipeline::new(source(), config()).looping(reopen());
        let mut seen = Vec::new();
        for _ in 0..9 {
            assert!(!p.exhausted(), "a looping demo never runs out");
            let s = p.poll().unwrap();
            seen.push((s.meta.unwrap().position, s.replay_loop));
        }
        assert_eq!(seen[3], (Some((4, 4)), Some(1)));
        assert_eq!(seen[4], (Some((1, 4)), Some(2)));
        assert_eq!(seen[8], (Some((1, 4)), Some(3)));
    }

    #[test]
    fn the_pair_demo_blames_the_masters_anchor_rule_for_the_backups_state() {
        let mut fleet = pair_fleet();
        let polls = fleet.poll(&pair_config());
        assert!(polls.iter().all(|p| p.outcome.is_ok()));
        let merged = crate::fleet::merged(&polls);
        let admin = merged
            .rows
            .iter()
            .find(|r| r.anchor_path == "admin")
            .unwrap();
        assert_eq!(admin.judged_on.as_deref(), Some("fw-a"));
        assert_eq!(admin.hosts[1].without_rule, 1);
    }

    #[test]
    fn the_demo_server_is_valid() {
        assert_eq!(config().servers.nets.len(), 1);
        assert_eq!(config().servers.ports, [DEMO_PORT]);
    }
}
