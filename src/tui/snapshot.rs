//! One poll, ready for the screen: the [`Analysis`] plus the indexes the UI
//! needs, built off the UI thread so a key press never waits for them.

use std::borrow::Borrow;
use std::collections::{HashMap, HashSet, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Arc;
use std::time::Duration;

use crate::analyze::Analysis;
use crate::analyze::Servers;
use crate::model::{Direction, Endpoint, RuleKey, State};
use crate::source::PollMeta;

mod flags;

pub use flags::Flags;

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

/// A 64-bit hash of the state's [`StateIdent`] (what the tracker keeps of
/// each state). Two different states share one with a chance of about one
/// in 2^64 per pair looked up; the cost of that is one state not marked new.
fn ident_hash(state: &State) -> u64 {
    let mut h = std::hash::DefaultHasher::new();
    match state.id {
        Some(id) => (0u8, id, state.creator_id).hash(&mut h),
        None => (1u8, &*state.proto, state.direction, &state.src, &state.dst).hash(&mut h),
    }
    h.finish()
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
    /// Shared, so selecting a rule with a million states copies nothing.
    pub by_row: Vec<Arc<[u32]>>,
    /// For each state of `analysis.states`: new since the previous poll
    /// (one bit a state: see [`Flags`]).
    pub is_new: Flags,
    /// Number of `true` in `is_new`.
    pub new_count: usize,
    /// For each state of `analysis.states`: a server state (so the
    /// server-only view of a poll that kept every state filters a
    /// million states without building one).
    pub is_server: Flags,
    /// Every state is kept, not just the server states (the states pane's
    /// "all states" view can be shown from this poll without another).
    pub all_kept: bool,
    /// New server states per rule over the last polls (the sparklines).
    pub history: Arc<History>,
    /// A looping replay (`demo`): which round this poll belongs to (1-based).
    pub replay_loop: Option<u32>,
    /// A fleet (issue #17): one header line per host, in host order; empty
    /// for one firewall.
    pub hosts: Vec<HostLine>,
}

/// What the header says about one host of a fleet.
#[derive(Debug, Clone, PartialEq)]
pub struct HostLine {
    pub name: String,
    /// When its last poll was taken (a recording's own time).
    pub taken_at: Option<chrono::DateTime<chrono::Utc>>,
    /// What its last poll cost.
    pub elapsed: Duration,
    pub states: u64,
    pub server_states: u64,
    /// `Hostid` of `pfctl -si`.
    pub hostid: Option<u32>,
    /// CARP status (`MASTER (carp0 vhid 1)`, `unknown`); `None` shows none.
    pub carp: Option<String>,
    /// Why the last poll failed.
    pub error: Option<String>,
}

/// How many polls the history keeps per rule.
pub(crate) const HISTORY_POLLS: usize = 30;

/// New server states per poll, per rule, over the last [`HISTORY_POLLS`]
/// polls: bounded, kept by the collector (so a paused screen misses none).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct History {
    per_rule: HashMap<RuleKey, VecDeque<u64>>,
    /// Polls recorded so far (at most [`HISTORY_POLLS`] are kept).
    polls: usize,
}

impl History {
    /// Records one poll: each row's new server states (0 when unknown, as
    /// on the first poll). Rules that had none over the whole window are
    /// forgotten, so the map stays as small as the rules that matter.
    pub fn record(&mut self, analysis: &Analysis) {
        let shown = self.polls.min(HISTORY_POLLS - 1);
        let mut seen = HashSet::new();
        for row in &analysis.rows {
            let n = row.new_states.unwrap_or(0);
            if !seen.insert(row.key) {
                continue;
            }
            if n == 0 && row.server_states == 0 && !self.per_rule.contains_key(&row.key) {
                continue;
            }
            let list = self
                .per_rule
                .entry(row.key)
                .or_insert_with(|| std::iter::repeat_n(0, shown).collect());
            list.push_back(n);
        }
        for (key, list) in &mut self.per_rule {
            if !seen.contains(key) {
                list.push_back(0);
            }
            while list.len() > HISTORY_POLLS {
                list.pop_front();
            }
        }
        self.per_rule
            .retain(|_, l| l.iter().any(|n| *n > 0) || l.len() < 2);
        self.polls += 1;
    }

    /// The rule's new server states per poll, oldest first (empty when none
    /// were seen in the window).
    pub fn of(&self, key: RuleKey) -> Vec<u64> {
        self.per_rule
            .get(&key)
            .map(|l| l.iter().copied().collect())
            .unwrap_or_default()
    }

    /// How many polls the window holds now.
    pub fn polls(&self) -> usize {
        self.polls.min(HISTORY_POLLS)
    }
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
        let mut is_server = Flags::with_capacity(analysis.states.len());
        let is_new = tracker.mark_analysis_and_servers(&analysis, &mut is_server);
        let by_row = index_by_row(&analysis, &is_new);
        let new_count = is_new.count();
        Snapshot {
            analysis,
            meta,
            elapsed,
            by_row,
            is_new,
            new_count,
            is_server,
            all_kept: false,
            history: Arc::default(),
            replay_loop: None,
            hosts: Vec::new(),
        }
    }

    /// The state at `index` of `analysis.states` (built from the compact
    /// store: cheap for the rows on screen, not for a million).
    pub fn state(&self, index: u32) -> Option<State> {
        self.analysis.states.state(index as usize)
    }

    /// True when the state at `index` is the one `ident` names; by id
    /// without building the state (a search through a million stays cheap).
    pub(crate) fn state_is(&self, index: u32, ident: &StateIdent) -> bool {
        let i = index as usize;
        match ident {
            StateIdent::Id { id, creator } => self.analysis.states.id(i) == Some((*id, *creator)),
            StateIdent::Tuple {
                proto,
                direction,
                src,
                dst,
            } => self
                .analysis
                .states
                .has_tuple(i, proto, *direction, src, dst),
        }
    }

    pub(crate) fn is_new(&self, index: u32) -> bool {
        self.is_new.get(index as usize)
    }

    /// True for a server state (see [`Snapshot::is_server`]).
    pub(crate) fn is_server(&self, index: u32) -> bool {
        self.is_server.get(index as usize)
    }

    /// The state is older than the last ruleset change: its rule number may
    /// name a rule of the previous ruleset.
    pub(crate) fn is_older(&self, index: u32) -> bool {
        self.analysis
            .older_than_ruleset
            .get(index as usize)
            .copied()
            .unwrap_or(false)
    }
}

/// Groups state indexes by row, new states first, then newest first (by
/// age), so a pane too short for all of them still shows what just
/// appeared. A row index out of range (which `analyze` never produces) is
/// ignored rather than trusted.
fn index_by_row(analysis: &Analysis, is_new: &Flags) -> Vec<Arc<[u32]>> {
    // Counted first: each list is allocated once, at its size.
    let mut sizes = vec![0usize; analysis.rows.len()];
    for row in analysis.states.rows() {
        if let Some(n) = sizes.get_mut(row) {
            *n += 1;
        }
    }
    let mut by_row: Vec<Vec<u32>> = sizes.into_iter().map(Vec::with_capacity).collect();
    for (i, row) in analysis.states.rows().enumerate() {
        if let (Some(list), Ok(i)) = (by_row.get_mut(row), u32::try_from(i)) {
            list.push(i);
        }
    }
    let key = |i: &u32| {
        let at = *i as usize;
        let new = is_new.get(at);
        let age = analysis.states.age(at);
        (!new, age.unwrap_or(u64::MAX))
    };
    by_row
        .into_iter()
        .map(|mut list| {
            // Ties in index order, as a stable sort leaves them (the list
            // is built in index order), without its buffer of half the list.
            list.sort_unstable_by_key(|i| (key(i), *i));
            Arc::from(list)
        })
        .collect()
}

/// The states one poll kept, and whether it kept every state or only the
/// server states.
#[derive(Debug, Clone)]
struct Seen {
    /// [`ident_hash`] of each state, sorted: 8 bytes a state (a million
    /// `StateIdent`s in a set were ~150 MB).
    idents: Vec<u64>,
    all: bool,
    /// The poll's states carried ids (`-vvss`). A poll without them
    /// (`-vss`) names the same states by their tuple, so polls of the two
    /// kinds cannot be compared: the first poll after a switch marks
    /// nothing, as the first poll does.
    ids: bool,
}

/// Remembers which states the previous poll had (and the one before, for a
/// replay that plays its last poll again).
#[derive(Debug, Default)]
pub struct NewStateTracker {
    previous: Option<Seen>,
    before: Option<Seen>,
    /// The forgotten poll's buffer, for the next poll's hashes: a million
    /// states are 8 MB, reused instead of freed and allocated again (which
    /// fragmented the heap).
    spare: Vec<u64>,
    /// The next poll keeps every state.
    keep_all: bool,
    /// The next poll repeats the last one: compare with the one before.
    repeat: bool,
}

impl NewStateTracker {
    /// The next poll keeps every state (`true`) or only the server states.
    /// The previous poll's set stays: a state that poll could not have kept
    /// is never called new (it is simply not known).
    pub fn keep_all(&mut self, keep: bool) {
        self.keep_all = keep;
    }

    /// The next poll is the last one played again (a replay at its end).
    pub(crate) fn repeat_next(&mut self) {
        self.repeat = true;
    }

    /// Marks the states absent from the previous poll, and remembers these.
    /// The first poll marks nothing: there is nothing to compare with.
    pub fn mark<'a>(&mut self, states: impl Iterator<Item = &'a State> + Clone) -> Flags {
        let ids = states.clone().any(|s| s.id.is_some());
        self.mark_with(states, ids, None)
    }

    /// [`mark`](Self::mark) for an analysis, whose servers say which states
    /// a poll that kept only server states would have seen.
    #[cfg(test)]
    pub(crate) fn mark_analysis(&mut self, analysis: &Analysis) -> Flags {
        self.mark_analysis_and_servers(analysis, &mut Flags::default())
    }

    /// [`mark_analysis`](Self::mark_analysis), also pushing to `is_server`
    /// whether each state is a server state (the states are built once for
    /// both).
    pub(crate) fn mark_analysis_and_servers(
        &mut self,
        analysis: &Analysis,
        is_server: &mut Flags,
    ) -> Flags {
        let servers = &analysis.servers;
        let states = analysis.states.iter().map(|(s, _)| {
            is_server.push(servers.matches(&s));
            s
        });
        self.mark_with(states, analysis.states.any_id(), Some(servers))
    }

    /// Forgets the poll before the previous one: only a replay at its end
    /// compares with it (a million states kept are 8 MB of it).
    pub(crate) fn forget_before(&mut self) {
        if let Some(before) = self.before.take() {
            self.spare = before.idents;
        }
    }

    /// `ids`: the states carry ids (see [`Seen::ids`]).
    fn mark_with<S: Borrow<State>>(
        &mut self,
        states: impl Iterator<Item = S>,
        ids: bool,
        servers: Option<&Servers>,
    ) -> Flags {
        let repeat = std::mem::take(&mut self.repeat);
        let against = if repeat {
            self.before.as_ref()
        } else {
            self.previous.as_ref()
        }
        .filter(|prev| prev.ids == ids);
        let mut seen = std::mem::take(&mut self.spare);
        seen.clear();
        let mut marks = Flags::default();
        if let (_, Some(n)) = states.size_hint() {
            // Exact: `reserve` would double the reused buffer when this
            // poll has a few more states than the one it held.
            seen.reserve_exact(n);
            marks = Flags::with_capacity(n);
        }
        for state in states {
            let state = state.borrow();
            let ident = ident_hash(state);
            let new = against.is_some_and(|prev| {
                let known = prev.all || servers.is_none_or(|s| s.matches(state));
                known && prev.idents.binary_search(&ident).is_err()
            });
            marks.push(new);
            seen.push(ident);
        }
        seen.sort_unstable();
        seen.dedup();
        let seen = Seen {
            idents: seen,
            all: self.keep_all || servers.is_none(),
            ids,
        };
        if !repeat {
            self.before = self.previous.take();
        }
        self.previous = Some(seen);
        marks
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::tui::fake;

    fn with_new(a: &Analysis, row: usize, new: u64) -> Analysis {
        let mut a = a.clone();
        a.rows[row].new_states = Some(new);
        a
    }

    #[test]
    fn history_is_bounded_and_drops_to_zero_when_a_fix_works() {
        let base = fake::analysis();
        let at = base
            .rows
            .iter()
            .position(|r| r.key.number == Some(5))
            .unwrap();
        let key = base.rows[at].key;
        let mut h = History::default();
        for n in [3, 2, 4, 0, 0] {
            h.record(&with_new(&base, at, n));
        }
        assert_eq!(h.of(key), [3, 2, 4, 0, 0]);
        let spark = crate::tui::view::format::sparkline(&h.of(key), 5);
        assert!(spark.ends_with("▁▁"), "the line drops to zero: {spark}");
        assert!(!spark.starts_with('▁'), "before the fix it was up: {spark}");
        for _ in 0..(HISTORY_POLLS + 5) {
            h.record(&with_new(&base, at, 1));
        }
        assert_eq!(h.of(key).len(), HISTORY_POLLS, "bounded");
        assert_eq!(h.polls(), HISTORY_POLLS);
        // A rule with no new state over the whole window is forgotten.
        for _ in 0..HISTORY_POLLS {
            h.record(&with_new(&base, at, 0));
        }
        let mut quiet = base.clone();
        quiet.rows[at].server_states = 0;
        quiet.rows[at].new_states = Some(0);
        h.record(&quiet);
        assert!(h.of(key).is_empty());
    }

    #[test]
    fn keeping_all_states_from_now_on_marks_no_other_state_new() {
        let a = fake::analysis();
        let mut t = NewStateTracker::default();
        // Server states only, twice: nothing new the second time.
        let servers_only = t.mark_analysis(&a);
        assert_eq!(servers_only.count(), 0);
        assert_eq!(t.mark_analysis(&a).count(), 0);
        // Now every state is kept: one that is not the server's appears.
        t.keep_all(true);
        let mut all = a.clone();
        let mut other = fake::server_state(6, 77, 0xaaaa, 77);
        other.dst = fake::server_state(6, 1, 1, 1).src;
        assert!(!all.servers.matches(&other), "not a server state");
        all.states.push((other, 0));
        let marks = t.mark_analysis(&all);
        assert!(
            !marks.get(marks.len() - 1),
            "not known before: not called new"
        );
        // A new server state is still found.
        let mut next = all.clone();
        next.states.push((fake::server_state(5, 9, 1, 99), 0));
        let marks = t.mark_analysis(&next);
        assert!(marks.get(marks.len() - 1));
        // The same poll played again is compared with the one before.
        t.repeat_next();
        let again = t.mark_analysis(&next);
        assert_eq!(again, marks);
    }

    #[test]
    fn states_are_listed_new_first_then_newest_first() {
        let a = fake::analysis();
        let mut t = NewStateTracker::default();
        t.mark_analysis(&a);
        let mut next = a.clone();
        let row = next
            .rows
            .iter()
            .position(|r| r.key.number == Some(5))
            .unwrap();
        let mut fresh = fake::server_state(5, 9, 1, 99);
        fresh.age = Some(10_000);
        next.states.push((fresh, row));
        let snap = Snapshot::build(Arc::new(next), None, Duration::ZERO, &mut t);
        let list = &snap.by_row[row];
        assert!(
            snap.is_new(list[0]),
            "the new state first, though old by age"
        );
        let ages: Vec<u64> = list[1..]
            .iter()
            .map(|i| snap.state(*i).unwrap().age.unwrap())
            .collect();
        assert!(ages.windows(2).all(|w| w[0] <= w[1]), "{ages:?}");
    }
}
