//! The poll layer: one poll of a [`Source`], parsed into a [`Sample`] (by
//! the [`SampleBuilder`]) and analysed against the previous one. The TUI's
//! collector (`tui::pipeline`) and `report` both go through a [`Session`],
//! so the poll → parse → analyse loop is written once.
//!
//! Layers: `source` fetches bytes, `parse` reads them, `analyze` is pure;
//! this module joins them and is the lowest one that knows all three.
//!
//! [`Sample`]: crate::analyze::Sample

mod sample;

pub use sample::{MAX_DIAGNOSTICS, SampleBuilder};

use std::sync::Arc;

use crate::analyze::{Analysis, Config, analyze};
use crate::source::{PollMeta, Source, SourceError};

/// One poll, analysed.
#[derive(Debug, Clone)]
pub struct Polled {
    pub analysis: Arc<Analysis>,
    pub meta: PollMeta,
}

impl Polled {
    /// A recording played its last poll (a live source never ends).
    pub fn at_end(&self, source: &dyn Source) -> bool {
        !source.is_live() && self.meta.position.is_some_and(|(i, n)| i >= n)
    }
}

/// Successive polls of one source under one [`Config`]: keeps the previous
/// analyses, for deltas, rates and ruleset generations.
#[derive(Debug)]
pub struct Session {
    config: Config,
    /// The previous analysis.
    prev: Option<Arc<Analysis>>,
    /// The one before: what a replayed last poll is compared with when it
    /// is played again (with other settings), so it keeps its deltas.
    before_prev: Option<Arc<Analysis>>,
}

impl Session {
    pub fn new(config: Config) -> Self {
        Session {
            config,
            prev: None,
            before_prev: None,
        }
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Keep every state from the next poll on, or only the server states.
    pub fn keep_all_states(&mut self, keep: bool) {
        self.config.keep_all_states = keep;
    }

    /// Polls `source` once and analyses the poll against the previous one.
    pub fn poll(&mut self, source: &mut dyn Source) -> Result<Polled, SourceError> {
        let polled = self.poll_against_prev(source, false)?;
        self.before_prev = self.prev.replace(Arc::clone(&polled.analysis));
        Ok(polled)
    }

    /// Polls a replay that is at its end, which plays its last poll again:
    /// that poll is compared with the poll before it, as the first time, not
    /// with itself, so it keeps its deltas.
    pub fn poll_again(&mut self, source: &mut dyn Source) -> Result<Polled, SourceError> {
        let polled = self.poll_against_prev(source, true)?;
        self.prev = Some(Arc::clone(&polled.analysis));
        Ok(polled)
    }

    /// The last analysis, for whoever ends the session.
    pub fn into_last(self) -> Option<Arc<Analysis>> {
        self.prev
    }

    fn poll_against_prev(
        &mut self,
        source: &mut dyn Source,
        again: bool,
    ) -> Result<Polled, SourceError> {
        let mut builder = SampleBuilder::new(&self.config);
        let meta = source.poll(&mut builder)?;
        let sample = builder.finish(Some(meta.clone()));
        let against = if again { &self.before_prev } else { &self.prev };
        let analysis = Arc::new(analyze(against.as_deref(), &sample, &self.config));
        Ok(Polled { analysis, meta })
    }
}
