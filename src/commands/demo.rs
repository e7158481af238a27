//! `pfblame demo`: the watch screen on the bundled dual-prefix scenario
//! (`fixtures/scenarios/dual-prefix/`, see its README), replayed poll by
//! poll. The recordings are embedded in the binary, so the demo runs from
//! any directory, without a BSD and without pfctl.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::analyze::{Config, Servers};
use crate::cli::DemoArgs;
use crate::exit::Exit;
use crate::source::{RecordedPoll, ReplaySource, Source};
use crate::tui::app::{App, Settings};
use crate::tui::kill::KillAccess;
use crate::tui::screens::{self, Screen};
use crate::tui::theme::Theme;

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

/// The demo's source: the embedded replay.
pub fn source() -> Box<dyn Source> {
    let polls = recorded_polls();
    let n = polls.len();
    Box::new(
        ReplaySource::from_memory(polls).with_description(format!("demo: dual-prefix ({n} polls)")),
    )
}

/// The demo's analysis settings: the scenario's server and port.
pub fn config() -> Config {
    let servers = Servers::parse(&[DEMO_SERVER.to_string()], &[DEMO_PORT]).unwrap_or_default();
    Config {
        servers,
        ..Config::default()
    }
}

/// Runs the command.
pub fn run(args: &DemoArgs) -> anyhow::Result<Exit> {
    let interval = args.interval;
    // The strategy says how live pfctl is asked; a replay has none to show.
    // A replay has no live pfctl: `K` says so.
    let kill = KillAccess::new(false, false, None);
    crate::commands::watch::start(source(), config(), None, interval, args.color.color, kill)
}

/// The screenshots of `screenshots/`: the demo with every poll played.
pub fn screenshots() -> Result<Vec<Screen>, String> {
    let config = config();
    let settings = Settings {
        servers: config.servers.describe(),
        source: source().describe(),
        strategy: String::new(),
        interval: Duration::from_secs(2),
    };
    let mut pipeline = crate::tui::pipeline::Pipeline::new(source(), config);
    let mut app = App::new(settings, Theme::new(true));
    screens::play(&mut app, &mut pipeline, POLLS.len())?;
    screens::screens(&mut app)
}

#[cfg(test)]
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
    fn the_demo_server_is_valid() {
        assert_eq!(config().servers.nets.len(), 1);
        assert_eq!(config().servers.ports, [DEMO_PORT]);
    }
}
