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
        let mut builder = SampleBuilder::new(&self.config);
        let meta = self.source.poll(&mut builder)?;
        self.at_end = !self.source.is_live() && meta.position.is_some_and(|(i, n)| i >= n);
        let sample = builder.finish(Some(meta.clone()));
        let analysis = Arc::new(analyze(self.prev.as_deref(), &sample, &self.config));
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
