//! The poller of `watch` over a fleet (issue #17): every host polled at
//! once ([`crate::fleet::Fleet`]), shown as one analysis whose rows name
//! their host ([`crate::fleet::combined`]), with a header line per host.

use std::sync::Arc;
use std::time::Instant;

use crate::analyze::Config;
use crate::fleet::{Fleet, combined, merged};
use crate::tui::event::Poller;
use crate::tui::snapshot::{History, HostLine, NewStateTracker, Snapshot};

pub struct FleetPipeline {
    fleet: Fleet,
    config: Config,
    tracker: NewStateTracker,
    history: Arc<History>,
    at_end: bool,
}

impl FleetPipeline {
    pub fn new(fleet: Fleet, config: Config) -> Self {
        let mut tracker = NewStateTracker::default();
        tracker.keep_all(config.keep_all_states);
        FleetPipeline {
            fleet,
            config,
            tracker,
            history: Arc::default(),
            at_end: false,
        }
    }

    /// `fleet: fw-a, fw-b`, for the header.
    pub fn describe(&self) -> String {
        format!("fleet: {}", self.fleet.names().join(", "))
    }
}

impl Poller for FleetPipeline {
    fn poll(&mut self) -> Result<Snapshot, String> {
        let started = Instant::now();
        let polls = self.fleet.poll(&self.config);
        if polls.iter().all(|p| p.outcome.is_err()) {
            let why: Vec<String> = polls
                .iter()
                .filter_map(|p| Some(format!("{}: {}", p.name, p.outcome.as_deref().err()?)))
                .collect();
            return Err(why.join("; "));
        }
        self.at_end =
            !self.fleet.is_live() && polls.iter().all(|p| p.position.is_none_or(|(i, n)| i >= n));
        let analysis = Arc::new(combined(&polls, &merged(&polls)));
        Arc::make_mut(&mut self.history).record(&analysis);
        let mut snapshot = Snapshot::build(analysis, None, started.elapsed(), &mut self.tracker);
        snapshot.all_kept = self.config.keep_all_states;
        snapshot.history = Arc::clone(&self.history);
        snapshot.hosts = polls
            .iter()
            .map(|p| {
                let a = p.outcome.as_deref().ok();
                HostLine {
                    name: p.name.clone(),
                    taken_at: a.and_then(|a| a.taken_at),
                    elapsed: p.duration,
                    states: a.map_or(0, |a| a.total_states),
                    server_states: a.map_or(0, |a| a.server_states),
                    hostid: a.and_then(|a| a.hostid),
                    // Always said for a fleet: "unknown" when no ifconfig
                    // output was read (no --carp, or it failed).
                    carp: Some(
                        a.and_then(|a| a.carp.as_ref())
                            .map_or_else(|| "unknown".to_string(), crate::model::carp::Carp::short),
                    ),
                    error: p.outcome.as_deref().err().map(ToString::to_string),
                }
            })
            .collect();
        Ok(snapshot)
    }

    fn keep_all_states(&mut self, keep: bool) {
        self.config.keep_all_states = keep;
        self.tracker.keep_all(keep);
    }

    fn exhausted(&self) -> bool {
        self.at_end
    }
}
