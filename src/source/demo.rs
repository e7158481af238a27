//! The bundled dual-prefix scenario (`fixtures/scenarios/dual-prefix/`, see
//! its README), embedded in the binary so `pfblame demo` and the tests run
//! from any directory, without a BSD and without pfctl: a recorded source
//! like the others, kept next to them.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use crate::source::{RecordedPoll, ReplaySource, Source};

/// The scenario's web server address on the tunnel prefix, and its port:
/// the states of this address that rule @14 creates are the stray ones.
pub const DEMO_SERVER: &str = "2001:db8:bbbb:1::10";
pub(crate) const DEMO_PORT: u16 = 443;

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

/// One host of the embedded CARP pair (`fixtures/scenarios/carp-pair/`,
/// `demo --pair`): (host, rules.txt, states.txt, info.txt, meta.toml,
/// carp.txt).
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
            include_str!(concat!(
                "../../fixtures/scenarios/carp-pair/",
                $host,
                "/carp.txt"
            )),
        )
    };
}

/// The CARP pair: the master fw-a and the backup fw-b.
const PAIR: &[(&str, &str, &str, &str, &str, &str)] = &[pair_host!("fw-a"), pair_host!("fw-b")];

/// The server of the pair scenario.
pub(crate) const PAIR_SERVER: &str = "2001:db8::10";

/// The pair's hosts, each a one-poll replay (with `info.txt`: Hostid and
/// Checksum; `carp.txt`: MASTER on fw-a, BACKUP on fw-b), in host order.
pub(crate) fn pair_sources() -> Vec<(String, Box<dyn Source>)> {
    PAIR.iter()
        .map(|(host, rules, states, info, meta, carp)| {
            let poll = RecordedPoll {
                taken_at: taken_at(meta),
                rules: (*rules).to_string(),
                states: (*states).to_string(),
                info: Some((*info).to_string()),
                translation_rules: None,
                per_rule: BTreeMap::new(),
                carp: Some((*carp).to_string()),
            };
            let source: Box<dyn Source> = Box::new(
                ReplaySource::from_memory(vec![poll])
                    .with_description(format!("demo: carp-pair {host}")),
            );
            ((*host).to_string(), source)
        })
        .collect()
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
pub(crate) fn recorded_polls() -> Vec<RecordedPoll> {
    POLLS
        .iter()
        .map(|(rules, states, meta)| RecordedPoll {
            taken_at: taken_at(meta),
            rules: (*rules).to_string(),
            states: (*states).to_string(),
            info: None,
            translation_rules: None,
            per_rule: BTreeMap::new(),
            carp: None,
        })
        .collect()
}

/// The embedded polls of round `round` (1-based) of the looping demo: the
/// recorded times moved forward by whole rounds (the recording's span plus
/// one gap between polls), so rates and ages keep going forward.
pub(crate) fn polls_of_round(round: u32) -> Vec<RecordedPoll> {
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

/// The replay of round `round` (1-based): see [`polls_of_round`].
pub(crate) fn round_source(round: u32) -> Box<dyn Source> {
    let polls = polls_of_round(round);
    let n = polls.len();
    Box::new(
        ReplaySource::from_memory(polls).with_description(format!("demo: dual-prefix ({n} polls)")),
    )
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
}
