//! Polling a fleet (issue #17): every host at once, each on its own
//! thread with its own source, so a host that hangs costs its own
//! `--timeout` (pfctl, or ssh, is killed then) and never hides the others.
//!
//! Above [`crate::source`] and [`crate::analyze`]: a host's poll is parsed
//! and analysed on its thread through its own [`crate::poll::Session`] (the
//! loop a single host uses), and [`crate::analyze::fleet::merge`] reads
//! the analyses of the hosts that answered.

use std::time::{Duration, Instant};

use crate::analyze::fleet::{FleetAnalysis, HostInput, merge};
use std::sync::Arc;

use crate::analyze::{Analysis, Config};
use crate::poll::Session;
use crate::source::fleet::{HostSpec, hosts, open_host};
use crate::source::{Options, Source, SourceError};

/// One host of the fleet, with what its earlier polls left.
pub struct Host {
    pub name: String,
    source: Box<dyn Source>,
    /// The host's poll → parse → analyse loop, the one single hosts use;
    /// opened at the first poll with that poll's settings.
    session: Option<Session>,
    /// The last poll was a replay's last: the next one plays it again.
    at_end: bool,
}

/// What one host's poll gave.
pub struct HostPoll {
    pub name: String,
    /// The analysis, or why the poll failed (the host's banner).
    pub outcome: Result<Arc<Analysis>, SourceError>,
    /// `Checksum` of `pfctl -si`, when known.
    pub checksum: Option<String>,
    /// How long the poll took (running pfctl or reading, and parsing).
    pub duration: Duration,
    /// For replays: which poll of how many.
    pub position: Option<(usize, usize)>,
    /// Live pfctl (not a recording): the duration is worth showing.
    pub live: bool,
}

/// The hosts, polled together.
pub struct Fleet {
    hosts: Vec<Host>,
    live: bool,
}

impl Fleet {
    /// The fleet the options name, or `None` for a single source (one
    /// `--ssh`, local pfctl, a one-host recording).
    pub fn open(o: &Options) -> Result<Option<Fleet>, SourceError> {
        let Some(specs) = hosts(o)? else {
            return Ok(None);
        };
        let hosts = specs
            .iter()
            .map(|spec: &HostSpec| {
                Ok(Host {
                    name: spec.name.clone(),
                    source: open_host(spec, o)?,
                    session: None,
                    at_end: false,
                })
            })
            .collect::<Result<Vec<_>, SourceError>>()?;
        let live = hosts.iter().any(|h| h.source.is_live());
        Ok(Some(Fleet { hosts, live }))
    }

    /// A fleet of sources opened elsewhere (`demo --pair`'s embedded
    /// recordings), named in this order.
    pub(crate) fn from_sources(sources: Vec<(String, Box<dyn Source>)>) -> Fleet {
        let live = sources.iter().any(|(_, s)| s.is_live());
        let hosts = sources
            .into_iter()
            .map(|(name, source)| Host {
                name,
                source,
                session: None,
                at_end: false,
            })
            .collect();
        Fleet { hosts, live }
    }

    pub fn names(&self) -> Vec<&str> {
        self.hosts.iter().map(|h| h.name.as_str()).collect()
    }

    pub fn is_live(&self) -> bool {
        self.live
    }

    /// Polls every host at once, one thread each; results in host order.
    pub fn poll(&mut self, cfg: &Config) -> Vec<HostPoll> {
        std::thread::scope(|scope| {
            let running: Vec<_> = self
                .hosts
                .iter_mut()
                .map(|host| {
                    let name = host.name.clone();
                    (name, scope.spawn(move || host.poll(cfg)))
                })
                .collect();
            running
                .into_iter()
                .map(|(name, handle)| {
                    handle.join().unwrap_or_else(|_| HostPoll {
                        outcome: Err(SourceError::BadRecording {
                            path: name.clone(),
                            detail: "the poll of this host panicked (a bug in pfblame)".into(),
                        }),
                        name,
                        checksum: None,
                        duration: Duration::ZERO,
                        position: None,
                        live: false,
                    })
                })
                .collect()
        })
    }
}

impl Host {
    /// One poll through the host's own [`Session`], as for a single host.
    /// Of `cfg`, only `keep_all_states` may change between polls (the
    /// TUI's `A`); the rest is the first poll's.
    fn poll(&mut self, cfg: &Config) -> HostPoll {
        let session = self
            .session
            .get_or_insert_with(|| Session::new(cfg.clone()));
        session.keep_all_states(cfg.keep_all_states);
        let start = Instant::now();
        // A replay at its end plays its last poll again: compared with the
        // poll before it (as the single-host pipeline does), not with
        // itself, whose same time would read as samples out of order.
        let polled = if self.at_end {
            session.poll_again(self.source.as_mut())
        } else {
            session.poll(self.source.as_mut())
        };
        if let Ok(p) = &polled {
            self.at_end = p.at_end(self.source.as_ref());
        }
        let duration = start.elapsed();
        let (outcome, position) = match polled {
            Ok(p) => (Ok(p.analysis), p.meta.position),
            Err(e) => (Err(e), None),
        };
        HostPoll {
            name: self.name.clone(),
            checksum: session.last().and_then(|a| a.checksum.clone()),
            outcome,
            duration,
            position,
            live: self.source.is_live(),
        }
    }
}

/// The merge of the hosts that answered.
pub fn merged(polls: &[HostPoll]) -> FleetAnalysis {
    let inputs: Vec<HostInput<'_>> = polls
        .iter()
        .filter_map(|p| {
            Some(HostInput {
                name: &p.name,
                analysis: p.outcome.as_deref().ok()?,
                checksum: p.checksum.as_deref(),
            })
        })
        .collect();
    merge(&inputs)
}

/// One [`Analysis`] holding every answered host's rows and states, each
/// row naming its host: what the TUI shows for a fleet (a Host column, a
/// filter by host). A host's row of pf's default rule whose states the
/// merge blamed on another host's rule says so in its reason.
pub(crate) fn combined(polls: &[HostPoll], fleet: &FleetAnalysis) -> Analysis {
    let answered: Vec<(&str, &Analysis)> = polls
        .iter()
        .filter_map(|p| Some((p.name.as_str(), p.outcome.as_deref().ok()?)))
        .collect();
    let Some((_, first)) = answered.first() else {
        return Analysis::default();
    };
    let mut out = Analysis {
        taken_at: answered.iter().filter_map(|(_, a)| a.taken_at).max(),
        servers: first.servers.clone(),
        generation: first.generation.clone(),
        dialect: first.dialect.clone(),
        interval: first.interval,
        samples: first.samples,
        ..Analysis::default()
    };
    for (name, a) in &answered {
        let offset = out.rows.len();
        for row in &a.rows {
            let mut row = row.clone();
            row.host = Some((*name).to_string());
            if row.generation == a.generation.number {
                row.generation = out.generation.number;
            }
            row.candidates.iter_mut().for_each(|c| *c += offset);
            if row.resolution == crate::analyze::Resolution::DefaultRule {
                row.reason.push_str(&blamed_elsewhere(fleet, name));
            }
            out.rows.push(row);
        }
        out.states
            .extend(a.states.iter().map(|(s, r)| (s.clone(), r + offset)));
        out.older_than_ruleset.extend(&a.older_than_ruleset);
        out.total_states += a.total_states;
        out.server_states += a.server_states;
        out.new_server_states = add(out.new_server_states, a.new_server_states);
        out.gone_server_states = add(out.gone_server_states, a.gone_server_states);
        out.diagnostics.extend(a.diagnostics.iter().cloned());
        out.warnings
            .extend(a.warnings.iter().map(|w| format!("{name}: {w}")));
        // A finding that several hosts share is listed once, naming each
        // host it holds for; it marks only those hosts' rows.
        for f in &a.findings {
            match out.findings.iter().position(|seen| seen == f) {
                Some(i) => out.finding_hosts[i].push((*name).to_string()),
                None => {
                    out.findings.push(f.clone());
                    out.finding_hosts.push(vec![(*name).to_string()]);
                }
            }
        }
    }
    out.warnings
        .extend(fleet.findings.iter().map(|f| f.message.clone()));
    for p in polls {
        if let Err(e) = &p.outcome {
            out.warnings
                .push(format!("{}: the poll failed: {e}", p.name));
        }
    }
    out
}

fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        _ => Some(a.unwrap_or(0) + b.unwrap_or(0)),
    }
}

/// `; fleet: 1 of them made by fw-a's @5:0 (stateful)` for `host`'s
/// states of pf's default rule that the merge gave to another host's rule.
fn blamed_elsewhere(fleet: &FleetAnalysis, host: &str) -> String {
    let mut parts = Vec::new();
    for row in &fleet.rows {
        let Some(judge) = row.judged_on.as_deref().filter(|j| *j != host) else {
            continue;
        };
        let Some(here) = row
            .hosts
            .iter()
            .find(|h| h.host == host && h.without_rule > 0)
        else {
            continue;
        };
        let key = row.key_text_on(judge);
        parts.push(format!(
            "{} made by {judge}'s {key} ({})",
            here.without_rule,
            row.verdict.map_or("no verdict", |v| v.word())
        ));
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!("; fleet: {}", parts.join(", "))
    }
}

/// The merge (`crate::analyze::fleet`) over the bundled CARP pair, parsed
/// and analysed as a poll would be.
#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod replay_tests {
    use super::Fleet;

    #[test]
    fn a_one_poll_replay_played_again_is_not_out_of_time_order() {
        let mut fleet = Fleet::from_sources(crate::source::demo::pair_sources());
        let cfg = crate::analyze::Config::default();
        for round in 0..3 {
            for host in fleet.poll(&cfg) {
                let a = host.outcome.unwrap();
                assert!(
                    a.warnings.iter().all(|w| !w.contains("time order")),
                    "round {round}, {}: {:?}",
                    host.name,
                    a.warnings
                );
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod merge_tests {
    use crate::analyze::fleet::{HostInput, merge};
    use crate::analyze::{Analysis, Config, Sample, Servers, analyze};
    use crate::poll::SampleBuilder;
    use crate::source::PollSink;

    /// `fixtures/scenarios/DIR/`'s sample, read for `server`.
    fn sample(dir: &str, server: &str) -> (Sample, Config) {
        let dir = format!("{}/fixtures/scenarios/{dir}", env!("CARGO_MANIFEST_DIR"));
        let read = |f: &str| std::fs::read_to_string(format!("{dir}/{f}")).unwrap();
        let cfg = Config {
            servers: Servers::parse(&[server.to_string()], &[]).unwrap(),
            ..Config::default()
        };
        let mut b = SampleBuilder::new(&cfg);
        b.rules(&read("rules.txt"));
        b.states(None, &mut read("states.txt").as_bytes()).unwrap();
        if let Ok(info) = std::fs::read_to_string(format!("{dir}/info.txt")) {
            b.info(&info);
        }
        (b.finish(None), cfg)
    }

    /// One host of a bundled pair, analysed, with its checksum.
    fn host(scenario: &str, name: &str) -> (Analysis, String) {
        let (sample, cfg) = sample(&format!("{scenario}/{name}"), "2001:db8::10");
        let checksum = sample
            .info
            .as_ref()
            .unwrap()
            .checksum
            .as_deref()
            .unwrap()
            .to_string();
        (analyze(None, &sample, &cfg), checksum)
    }

    fn input<'a>(name: &'a str, h: &'a (Analysis, String)) -> HostInput<'a> {
        HostInput {
            name,
            analysis: &h.0,
            checksum: Some(&h.1),
        }
    }

    #[test]
    fn synced_states_count_once_and_follow_the_creator() {
        let (a, b) = (host("carp-pair", "fw-a"), host("carp-pair", "fw-b"));
        let m = merge(&[input("fw-a", &a), input("fw-b", &b)]);
        assert_eq!(m.server_states, 3);
        assert_eq!(m.hosts[1].imported_states, 3);
        assert!(
            m.states
                .iter()
                .all(|s| s.creator.as_deref() == Some("fw-a"))
        );
        assert!(m.states.iter().all(|s| s.lives_on == ["fw-a", "fw-b"]));
        // No row of pf's default rule is left: the creator named every rule.
        assert!(m.rows.iter().all(|r| r.text.is_some()));
        assert!(m.findings.is_empty(), "same checksum");
    }

    #[test]
    fn without_the_creator_the_backup_keeps_what_it_can_tell() {
        let b = host("carp-pair", "fw-b");
        let m = merge(&[input("fw-b", &b)]);
        assert_eq!(m.server_states, 3);
        // Rule 2 was resolved on import (same checksum); the anchor
        // rule's state stays pf's default rule, its creator not polled.
        assert!(
            m.rows
                .iter()
                .any(|r| r.text.is_some() && r.server_states == 2)
        );
        assert!(
            m.rows
                .iter()
                .any(|r| r.text.is_none() && r.server_states == 1)
        );
        assert!(m.states.iter().all(|s| s.creator.is_none()));
    }

    #[test]
    fn differing_checksums_list_the_rules_of_each_side() {
        let (a, b) = (
            host("carp-pair-mismatch", "fw-a"),
            host("carp-pair-mismatch", "fw-b"),
        );
        let m = merge(&[input("fw-a", &a), input("fw-b", &b)]);
        let f = &m.findings[0];
        assert_eq!(f.hosts, ["fw-a", "fw-b"]);
        assert_eq!(f.only_on["fw-a"].len(), 1);
        assert_eq!(f.only_on["fw-b"].len(), 1);
        assert_eq!(f.imported_without_rule, 3);
        // The same ruleset on both sides is no finding, whatever the order.
        let same = merge(&[input("fw-b", &b), input("fw-b2", &b)]);
        assert!(same.findings.is_empty());
    }

    /// One single-host scenario, analysed for the scenarios' server.
    fn scenario(name: &str) -> Analysis {
        let (sample, cfg) = sample(name, "2001:db8::10");
        analyze(None, &sample, &cfg)
    }

    #[test]
    fn a_finding_marks_only_the_rows_of_the_hosts_it_holds_for() {
        use crate::fleet::{HostPoll, combined, merged};
        use std::sync::Arc;
        let stray = scenario("freebsd-stray-1");
        let clean = scenario("freebsd-seed");
        let finding = stray.findings.first().expect("the stray rule's finding");
        let key = finding.stateful_rule.key();
        assert!(
            clean.findings.is_empty() && clean.rows.iter().any(|r| r.key == key),
            "the clean host has the same rule number and no finding"
        );
        let poll = |name: &str, a: Analysis| HostPoll {
            name: name.to_string(),
            outcome: Ok(Arc::new(a)),
            checksum: None,
            duration: std::time::Duration::ZERO,
            position: None,
            live: false,
        };
        let polls = [poll("fw-x", stray), poll("fw-y", clean)];
        let all = combined(&polls, &merged(&polls));
        let marked = |host: &str| {
            all.rows
                .iter()
                .enumerate()
                .filter(|(_, r)| r.key == key && r.host.as_deref() == Some(host))
                .any(|(i, _)| all.findings_for(i).next().is_some())
        };
        assert!(marked("fw-x"));
        assert!(
            !marked("fw-y"),
            "fw-y's rule of the same number has no finding"
        );
    }
}
