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

use crate::analyze::{Analysis, Config, Recycler, Servers, analyze_owned};
use crate::source::{PollMeta, Source, SourceError, demo};

/// One poll, analysed.
#[derive(Debug, Clone)]
pub struct Polled {
    pub analysis: Arc<Analysis>,
    pub meta: PollMeta,
}

impl Polled {
    /// A recording played its last poll (a live source never ends).
    pub(crate) fn at_end(&self, source: &dyn Source) -> bool {
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
    /// The sparse columns of the last analysis dropped, for the next poll.
    spare: Recycler,
}

impl Session {
    pub fn new(config: Config) -> Self {
        Session {
            config,
            prev: None,
            before_prev: None,
            spare: Recycler::default(),
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
        let prev = self.prev.replace(Arc::clone(&polled.analysis));
        // Only a replay plays a poll again: a live source never needs the
        // poll before the previous one (with every state kept, a million
        // states of it).
        self.before_prev = prev.filter(|_| !source.is_live());
        Ok(polled)
    }

    /// Polls a replay that is at its end, which plays its last poll again:
    /// that poll is compared with the poll before it, as the first time, not
    /// with itself, so it keeps its deltas.
    pub(crate) fn poll_again(&mut self, source: &mut dyn Source) -> Result<Polled, SourceError> {
        let polled = self.poll_against_prev(source, true)?;
        self.prev = Some(Arc::clone(&polled.analysis));
        Ok(polled)
    }

    /// The previous poll's analysis, if any.
    pub fn last(&self) -> Option<&Analysis> {
        self.prev.as_deref()
    }

    /// The last analysis, for whoever ends the session.
    pub(crate) fn into_last(self) -> Option<Arc<Analysis>> {
        self.prev
    }

    fn poll_against_prev(
        &mut self,
        source: &mut dyn Source,
        again: bool,
    ) -> Result<Polled, SourceError> {
        // About the previous poll's states again: their store is
        // allocated once.
        let expected = self
            .prev
            .as_ref()
            .map_or_else(Default::default, |p| p.states.shape());
        let spare = self.spare.lock().ok().and_then(|mut slot| slot.take());
        let mut builder = SampleBuilder::new(&self.config)
            .reuse(spare)
            .expect_like(expected);
        let meta = source.poll(&mut builder)?;
        let sample = builder.finish(Some(meta.clone()));
        let against = if again { &self.before_prev } else { &self.prev };
        // The sample's states move into the analysis: never two copies.
        let mut analysis = analyze_owned(against.as_deref(), sample, &self.config);
        analysis.states.recycle_into(Arc::clone(&self.spare));
        let analysis = Arc::new(analysis);
        Ok(Polled { analysis, meta })
    }
}

/// The demo's analysis settings: the embedded scenario's server and port
/// (`crate::source::demo`).
pub fn demo_config() -> Config {
    let servers =
        Servers::parse(&[demo::DEMO_SERVER.to_string()], &[demo::DEMO_PORT]).unwrap_or_default();
    Config {
        servers,
        ..Config::default()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_session_compares_each_poll_with_the_one_before() {
        let mut source = demo::source();
        let mut session = Session::new(demo_config());
        let first = session.poll(source.as_mut()).unwrap();
        assert_eq!(first.analysis.samples, 1);
        assert!(!first.at_end(source.as_ref()));
        let second = session.poll(source.as_mut()).unwrap();
        assert_eq!(second.analysis.samples, 2);
        // The scenario's README: poll 0002 has 2 new stray states.
        assert_eq!(second.analysis.new_server_states, Some(2));
        let last = session.into_last().unwrap();
        assert!(Arc::ptr_eq(&last, &second.analysis));
    }

    #[test]
    fn the_demo_server_is_valid() {
        assert_eq!(demo_config().servers.nets.len(), 1);
        assert_eq!(demo_config().servers.ports, [demo::DEMO_PORT]);
    }
}
