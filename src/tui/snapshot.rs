//! One poll, ready for the screen: the [`Analysis`] plus the indexes the UI
//! needs, built off the UI thread so a key press never waits for them.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use crate::analyze::Analysis;
use crate::model::{Direction, Endpoint, State};
use crate::source::PollMeta;

/// Identifies a state across polls: its pf id (with the creator id, since ids
/// are unique per creator), or its 5-tuple when pfctl printed no id.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum StateIdent {
    Id {
        id: u64,
        creator: Option<u32>,
    },
    Tuple {
        proto: Arc<str>,
        direction: Direction,
        src: Endpoint,
        dst: Endpoint,
    },
}

impl StateIdent {
    pub fn of(state: &State) -> Self {
        match state.id {
            Some(id) => StateIdent::Id {
                id,
                creator: state.creator_id,
            },
            None => StateIdent::Tuple {
                proto: state.proto.clone(),
                direction: state.direction,
                src: state.src.clone(),
                dst: state.dst.clone(),
            },
        }
    }

    /// True when `state` is the state this identifies (no allocation, so a
    /// search through a million states stays cheap).
    pub fn is(&self, state: &State) -> bool {
        match self {
            StateIdent::Id { id, creator } => state.id == Some(*id) && state.creator_id == *creator,
            StateIdent::Tuple {
                proto,
                direction,
                src,
                dst,
            } => {
                state.id.is_none()
                    && state.direction == *direction
                    && state.src == *src
                    && state.dst == *dst
                    && state.proto == *proto
            }
        }
    }
}

/// A poll with its indexes.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Shared with the collector, which keeps it for the next poll's deltas.
    pub analysis: Arc<Analysis>,
    pub meta: Option<PollMeta>,
    /// Wall time of the poll: pfctl, parsing and analysis together.
    pub elapsed: Duration,
    /// For each row of `analysis.rows`, the indexes of its states in
    /// `analysis.states`, in listing order.
    pub by_row: Vec<Vec<u32>>,
    /// For each state of `analysis.states`: new since the previous poll.
    pub is_new: Vec<bool>,
    /// Number of `true` in `is_new`.
    pub new_count: usize,
}

impl Snapshot {
    /// Indexes `analysis`. `tracker` remembers the states of the previous
    /// poll; pass a fresh one when nothing should be marked new.
    pub fn build(
        analysis: Arc<Analysis>,
        meta: Option<PollMeta>,
        elapsed: Duration,
        tracker: &mut NewStateTracker,
    ) -> Self {
        let by_row = index_by_row(&analysis);
        let is_new = tracker.mark(analysis.states.iter().map(|(s, _)| s));
        let new_count = is_new.iter().filter(|n| **n).count();
        Snapshot {
            analysis,
            meta,
            elapsed,
            by_row,
            is_new,
            new_count,
        }
    }

    /// The state at `index` of `analysis.states`.
    pub fn state(&self, index: u32) -> Option<&State> {
        self.analysis.states.get(index as usize).map(|(s, _)| s)
    }

    pub fn is_new(&self, index: u32) -> bool {
        self.is_new.get(index as usize).copied().unwrap_or(false)
    }

    /// The state is older than the last ruleset change: its rule number may
    /// name a rule of the previous ruleset.
    pub fn is_older(&self, index: u32) -> bool {
        self.analysis
            .older_than_ruleset
            .get(index as usize)
            .copied()
            .unwrap_or(false)
    }
}

/// Groups state indexes by row. A row index out of range (which `analyze`
/// never produces) is ignored rather than trusted.
fn index_by_row(analysis: &Analysis) -> Vec<Vec<u32>> {
    let mut by_row = vec![Vec::new(); analysis.rows.len()];
    for (i, (_, row)) in analysis.states.iter().enumerate() {
        if let (Some(list), Ok(i)) = (by_row.get_mut(*row), u32::try_from(i)) {
            list.push(i);
        }
    }
    by_row
}

/// Remembers which states the previous poll had.
#[derive(Debug, Default)]
pub struct NewStateTracker {
    previous: Option<HashSet<StateIdent>>,
}

impl NewStateTracker {
    /// Forgets the previous poll (after the kept set of states changed, every
    /// state would otherwise look new).
    pub fn reset(&mut self) {
        self.previous = None;
    }

    /// Marks the states absent from the previous poll, and remembers these.
    /// The first poll marks nothing: there is nothing to compare with.
    pub fn mark<'a>(&mut self, states: impl Iterator<Item = &'a State>) -> Vec<bool> {
        let mut seen = HashSet::new();
        let mut marks = Vec::new();
        for state in states {
            let ident = StateIdent::of(state);
            let new = self
                .previous
                .as_ref()
                .is_some_and(|prev| !prev.contains(&ident));
            marks.push(new);
            seen.insert(ident);
        }
        self.previous = Some(seen);
        marks
    }
}
