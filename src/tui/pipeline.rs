//! The real poller: a poll [`Session`] (source → parse → analyse) → index. Runs on the collector thread, so none of it costs the UI a frame.

use std::sync::Arc;
use std::time::Instant;

use crate::analyze::{Analysis, Config};
use crate::pf::Dialect;
use crate::poll::Session;
use crate::source::{Source, SourceError};
use crate::tui::event::Poller;
use crate::tui::snapshot::{History, NewStateTracker, Snapshot};

/// Opens round `n` (2, 3, …) of a looping replay.
pub type Reopen = Box<dyn FnMut(u32) -> Box<dyn Source> + Send>;

/// Polls a [`Source`] and analyses each poll against the previous one.
pub struct Pipeline {
    source: Box<dyn Source>,
    /// The previous analyses, for deltas, rates and ruleset generations.
    session: Session,
    tracker: NewStateTracker,
    /// A replay played its last poll: polling again would repeat it.
    at_end: bool,
    /// New server states per rule over the last polls.
    history: Arc<History>,
    /// For `demo`: starts the replay again when it ends.
    reopen: Option<Reopen>,
    /// The round of a looping replay (1 for the first).
    round: u32,
    /// Kill is enabled (`--allow-kill`): `pfctl -k id` needs every poll's ids.
    ids_always: bool,
    /// The UI shows something that needs ids (the details pane).
    ids_asked: bool,
}

/// True when the polls after `analysis` need the `-vv` line of each state
/// (`pfctl -vvss`), whatever the UI shows:
///
/// * server states of pf's default rule: their verdict reads their
///   `creatorid` against the `Hostid` (pfsync imports, `ruleless_verdict`
///   in analyze);
/// * any pf but OpenBSD's: FreeBSD's `print_state()` (pfctl's
///   `pf_print_state.c`) prints the state's `route-to:`/`reply-to:`/
///   `gateway:`, `rtable:` and `origif:` on that line, which the verdicts
///   and the dialect detection read. OpenBSD's prints only the ids there.
fn needs_vv_line(analysis: &Analysis) -> bool {
    let openbsd = analysis
        .dialect
        .as_ref()
        .is_some_and(|d| matches!(d.dialect, Dialect::OpenBsd | Dialect::OpenBsd68));
    !openbsd
        || analysis
            .rows
            .iter()
            .any(|r| r.key.number.is_none() && r.server_states > 0)
}

impl Pipeline {
    pub fn new(source: Box<dyn Source>, config: Config) -> Self {
        let mut tracker = NewStateTracker::default();
        tracker.keep_all(config.keep_all_states);
        Pipeline {
            source,
            session: Session::new(config),
            tracker,
            at_end: false,
            history: Arc::default(),
            reopen: None,
            round: 1,
            ids_always: false,
            ids_asked: false,
        }
    }

    /// Every poll fetches the state ids (kill is enabled).
    pub fn ids_always(&mut self, on: bool) {
        self.ids_always = on;
    }

    /// Whether the next poll lists states with their ids (`pfctl -vvss`)
    /// or without (`-vss`, 17% less text on OpenBSD): with them on the
    /// first poll, when kill is enabled, when the UI asks (details pane),
    /// and while the analysis needs that line ([`needs_vv_line`]).
    pub fn wants_ids(&self) -> bool {
        self.ids_always || self.ids_asked || self.session.last().is_none_or(needs_vv_line)
    }

    /// Loops the replay: at its end, `reopen` gives the source of the next
    /// round (the demo shifts the recorded times so they keep going forward).
    pub(crate) fn looping(mut self, reopen: Reopen) -> Self {
        self.reopen = Some(reopen);
        self
    }

    /// The source's one-line description, for the header.
    pub fn describe(&self) -> String {
        self.source.describe()
    }

    /// One poll, with the source's typed error (the first poll of `watch`
    /// uses it to exit with the right status).
    pub fn poll_once(&mut self) -> Result<Snapshot, SourceError> {
        let started = Instant::now();
        if self.at_end
            && let Some(reopen) = &mut self.reopen
        {
            self.round += 1;
            self.source = reopen(self.round);
            self.at_end = false;
        }
        let repeat = self.at_end;
        if repeat {
            self.tracker.repeat_next();
        }
        let ids = self.wants_ids();
        self.source.want_ids(ids);
        // A replay at its end plays its last poll again (see `poll_again`).
        let polled = if repeat {
            self.session.poll_again(self.source.as_mut())?
        } else {
            let polled = self.session.poll(self.source.as_mut())?;
            Arc::make_mut(&mut self.history).record(&polled.analysis);
            polled
        };
        self.at_end = polled.at_end(self.source.as_ref());
        if self.source.is_live() {
            // Only a replay plays a poll again (see `Session::poll`).
            self.tracker.forget_before();
        }
        let mut snapshot = Snapshot::build(
            polled.analysis,
            Some(polled.meta),
            started.elapsed(),
            &mut self.tracker,
        );
        snapshot.all_kept = self.session.config().keep_all_states;
        snapshot.history = Arc::clone(&self.history);
        snapshot.replay_loop = self.reopen.is_some().then_some(self.round);
        Ok(snapshot)
    }
}

impl Poller for Pipeline {
    fn poll(&mut self) -> Result<Snapshot, String> {
        self.poll_once().map_err(|e| e.to_string())
    }

    fn keep_all_states(&mut self, keep: bool) {
        // From the next poll on; the tracker keeps the previous poll's
        // states, so marks and counts stay what they were.
        self.session.keep_all_states(keep);
        self.tracker.keep_all(keep);
    }

    fn want_ids(&mut self, want: bool) {
        self.ids_asked = want;
    }

    fn exhausted(&self) -> bool {
        self.at_end && self.reopen.is_none()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::poll::demo_config;
    use crate::source::demo;

    fn spurious_rate(s: &Snapshot) -> Option<f64> {
        s.analysis
            .rows
            .iter()
            .find(|r| r.verdict == Some(crate::analyze::Verdict::Bypass))
            .and_then(|r| r.rate)
    }

    #[test]
    fn a_replay_stops_at_its_end_and_replays_the_last_poll_with_its_deltas() {
        let mut p = Pipeline::new(demo::source(), demo_config());
        let mut last = None;
        for _ in 0..4 {
            assert!(!p.exhausted());
            last = Some(p.poll().unwrap());
        }
        assert!(p.exhausted());
        let last = last.unwrap();
        assert!(spurious_rate(&last).is_some());
        // Show all states: the last poll is played again, with its deltas.
        p.keep_all_states(true);
        let again = p.poll().unwrap();
        assert_eq!(again.analysis.taken_at, last.analysis.taken_at);
        assert!(again.analysis.states.len() > last.analysis.states.len());
        assert_eq!(spurious_rate(&again), spurious_rate(&last));
        assert_eq!(again.analysis.warnings, last.analysis.warnings);
        assert_eq!(
            again.new_count, last.new_count,
            "the same poll again: the same new states (only server states can be new)"
        );
        assert!(again.all_kept);
    }

    #[test]
    fn states_new_since_the_previous_poll_are_marked() {
        let mut p = Pipeline::new(demo::source(), demo_config());
        let first = p.poll().unwrap();
        assert_eq!(first.new_count, 0, "nothing to compare the first poll with");
        let second = p.poll().unwrap();
        // The scenario's README: poll 0002 has 2 new stray states.
        assert_eq!(second.new_count, 2);
    }

    #[test]
    fn the_demo_loops_and_says_which_round() {
        let mut p =
            Pipeline::new(demo::source(), demo_config()).looping(Box::new(demo::round_source));
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
}
