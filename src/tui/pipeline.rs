//! The real poller: source → parse (in the [`SampleBuilder`]) → analyse →
//! index. Runs on the collector thread, so none of it costs the UI a frame.

use std::sync::Arc;
use std::time::Instant;

use crate::analyze::{Analysis, Config, SampleBuilder, analyze};
use crate::source::{Source, SourceError};
use crate::tui::event::Poller;
use crate::tui::snapshot::{NewStateTracker, Snapshot};

/// Polls a [`Source`] and analyses each poll against the previous one.
pub struct Pipeline {
    source: Box<dyn Source>,
    config: Config,
    /// The previous analysis, for deltas, rates and ruleset generations.
    prev: Option<Arc<Analysis>>,
    /// The one before: what a replayed last poll is compared with when it
    /// is played again (with other settings), so it keeps its deltas.
    before_prev: Option<Arc<Analysis>>,
    tracker: NewStateTracker,
    /// A replay played its last poll: polling again would repeat it.
    at_end: bool,
}

impl Pipeline {
    pub fn new(source: Box<dyn Source>, config: Config) -> Self {
        Pipeline {
            source,
            config,
            prev: None,
            before_prev: None,
            tracker: NewStateTracker::default(),
            at_end: false,
        }
    }

    /// The source's one-line description, for the header.
    pub fn describe(&self) -> String {
        self.source.describe()
    }

    /// One poll, with the source's typed error (the first poll of `watch`
    /// uses it to exit with the right status).
    pub fn poll_once(&mut self) -> Result<Snapshot, SourceError> {
        let started = Instant::now();
        let repeat = self.at_end;
        let mut builder = SampleBuilder::new(&self.config);
        let meta = self.source.poll(&mut builder)?;
        self.at_end = !self.source.is_live() && meta.position.is_some_and(|(i, n)| i >= n);
        let sample = builder.finish(Some(meta.clone()));
        // A replay at its end plays its last poll again: compare it with the
        // poll before, as the first time, not with itself.
        let against = if repeat {
            &self.before_prev
        } else {
            &self.prev
        };
        let analysis = Arc::new(analyze(against.as_deref(), &sample, &self.config));
        if !repeat {
            self.before_prev = self.prev.take();
        }
        self.prev = Some(Arc::clone(&analysis));
        Ok(Snapshot::build(
            analysis,
            Some(meta),
            started.elapsed(),
            &mut self.tracker,
        ))
    }
}

impl Poller for Pipeline {
    fn poll(&mut self) -> Result<Snapshot, String> {
        self.poll_once().map_err(|e| e.to_string())
    }

    fn keep_all_states(&mut self, keep: bool) {
        if self.config.keep_all_states != keep {
            self.config.keep_all_states = keep;
            // A different set of states: none of them is "new" for that.
            self.tracker.reset();
        }
    }

    fn exhausted(&self) -> bool {
        self.at_end
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::commands::demo;

    fn spurious_rate(s: &Snapshot) -> Option<f64> {
        s.analysis
            .rows
            .iter()
            .find(|r| r.verdict == Some(crate::analyze::Verdict::Bypass))
            .and_then(|r| r.rate)
    }

    #[test]
    fn a_replay_stops_at_its_end_and_replays_the_last_poll_with_its_deltas() {
        let mut p = Pipeline::new(demo::source(), demo::config());
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
        assert_eq!(again.new_count, 0, "a new set of states is not 'new'");
    }

    #[test]
    fn states_new_since_the_previous_poll_are_marked() {
        let mut p = Pipeline::new(demo::source(), demo::config());
        let first = p.poll().unwrap();
        assert_eq!(first.new_count, 0, "nothing to compare the first poll with");
        let second = p.poll().unwrap();
        // The scenario's README: poll 0002 has 2 new stray states.
        assert_eq!(second.new_count, 2);
    }
}
