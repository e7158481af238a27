//! The states an [`Analysis`](super::Analysis) keeps, each with the index
//! of its row: the compact [`StateStore`], the row in each state's tag
//! word (inside the store's one block, not a `Vec` of its own).
//!
//! Building a state back ([`KeptStates::get`]) costs a few reference
//! counts and, for TCP, one box: cheap for the rows on screen and for the
//! server states, and the per-field accessors ([`KeptStates::rule_key`],
//! [`KeptStates::age`]) answer without building anything.

use std::sync::{Arc, Mutex};

use serde::ser::{Serialize, SerializeSeq, Serializer};

use crate::model::store::{NetProbe, Sparse, StateStore, StoreShape, set_bits};
use crate::model::{Direction, Endpoint, RuleKey, State};

/// Where dropped states leave their sparse columns for the next poll's
/// store (see [`Sparse`]); the poll session holds one.
pub type Recycler = Arc<Mutex<Option<Sparse>>>;

#[derive(Debug, Default)]
pub struct KeptStates {
    /// Each state's tag is its row.
    store: StateStore,
    /// Set by the poll session: the sparse columns go there on drop.
    recycle: Option<Recycler>,
}

/// A copy is not recycled (only the poll's own states are).
impl Clone for KeptStates {
    fn clone(&self) -> Self {
        KeptStates {
            store: self.store.clone(),
            recycle: None,
        }
    }
}

/// The analysis is dropped by whoever held it last (the UI thread, once
/// it shows a newer poll): its sparse columns go to the recycler, for the
/// poll after next.
impl Drop for KeptStates {
    fn drop(&mut self) {
        if let Some(pool) = self.recycle.take()
            && let Ok(mut slot) = pool.lock()
        {
            *slot = Some(self.store.take_sparse());
        }
    }
}

impl KeptStates {
    pub fn new() -> Self {
        Self::default()
    }

    /// The states of `store`, whose tags are their rows (the analysis
    /// sets them with [`StateStore::set_tag`]).
    pub(crate) fn from_tagged(store: StateStore) -> Self {
        KeptStates {
            store,
            recycle: None,
        }
    }

    /// On drop, leave the sparse columns in `pool` (see [`Recycler`]).
    pub(crate) fn recycle_into(&mut self, pool: Recycler) {
        self.recycle = Some(pool);
    }

    pub fn len(&self) -> usize {
        self.store.len()
    }

    pub fn is_empty(&self) -> bool {
        self.store.is_empty()
    }

    /// Appends a state of row `row`.
    pub fn push(&mut self, (state, row): (State, usize)) {
        self.store.push(&state);
        let last = self.store.len() - 1;
        self.store
            .set_tag(last, u32::try_from(row).unwrap_or(u32::MAX));
    }

    /// The state at `i` and its row.
    pub fn get(&self, i: usize) -> Option<(State, usize)> {
        Some((self.store.get(i)?, self.row(i)?))
    }

    /// The state at `i`.
    pub fn state(&self, i: usize) -> Option<State> {
        self.store.get(i)
    }

    /// The row of the state at `i`.
    pub fn row(&self, i: usize) -> Option<usize> {
        (i < self.len()).then(|| self.store.tag(i) as usize)
    }

    /// The row of every state, in order.
    pub fn rows(&self) -> impl ExactSizeIterator<Item = usize> + '_ {
        self.store.tags().iter().map(|r| *r as usize)
    }

    /// True when an address of the state is inside `net` (see
    /// [`StateStore::touches`]).
    pub fn touches(&self, i: usize, net: &NetProbe) -> bool {
        self.store.touches(i, net)
    }

    /// The states whose addresses touch `net`, in order (see
    /// [`StateStore::touching`]).
    pub fn touching<'a>(&'a self, net: &'a NetProbe) -> impl Iterator<Item = usize> + 'a {
        self.store.touching(net)
    }

    /// The states whose addresses touch `net`, one bit a state (see
    /// [`StateStore::touching_bits`]), and how many of each of the first
    /// `rows` rows (the `/` filter's rules table).
    pub fn touching_per_row(&self, net: &NetProbe, rows: usize) -> (Vec<u64>, Vec<u64>) {
        let words = self.store.touching_bits(net);
        let mut counts = vec![0; rows];
        let tags = self.store.tags();
        for i in set_bits(words.iter().copied()) {
            if let Some(n) = tags.get(i).and_then(|r| counts.get_mut(*r as usize)) {
                *n += 1;
            }
        }
        (words, counts)
    }

    /// True when the state has no id and is this connection (see
    /// [`StateStore::has_tuple`]).
    pub fn has_tuple(
        &self,
        i: usize,
        proto: &str,
        direction: Direction,
        src: &Endpoint,
        dst: &Endpoint,
    ) -> bool {
        self.store.has_tuple(i, proto, direction, src, dst)
    }

    /// The store's shape, for the next poll's (see [`StateStore::shape`]).
    pub fn shape(&self) -> StoreShape {
        self.store.shape()
    }

    /// The state's age, without building it.
    pub fn age(&self, i: usize) -> Option<u64> {
        self.store.age(i)
    }

    /// The state's creating rule, without building it.
    pub fn rule_key(&self, i: usize) -> Option<RuleKey> {
        self.store.rule_key(i)
    }

    /// The state's id and creator id, without building it.
    pub fn id(&self, i: usize) -> Option<(u64, Option<u32>)> {
        self.store.id(i)
    }

    /// True when the state was listed with its `-v` lines.
    pub fn verbose(&self, i: usize) -> bool {
        self.store.verbose(i)
    }

    /// True when any state has an id (a `-vv` listing).
    pub fn any_id(&self) -> bool {
        self.store.any_id()
    }

    /// The states (built one at a time) with their rows.
    pub fn iter(&self) -> impl Iterator<Item = (State, usize)> + Clone + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The states in the order given by `order` (indexes), e.g. to test a
    /// different order; indexes out of range are skipped.
    pub fn reordered(&self, order: impl IntoIterator<Item = usize>) -> Self {
        order.into_iter().filter_map(|i| self.get(i)).collect()
    }

    /// Keeps only the states for which `keep` is true.
    pub fn retain(&mut self, mut keep: impl FnMut(&State, usize) -> bool) {
        *self = self.iter().filter(|(s, r)| keep(s, *r)).collect();
    }

    /// Bytes the columns hold (for the figures).
    pub fn heap_bytes(&self) -> usize {
        self.store.heap_bytes()
    }
}

impl FromIterator<(State, usize)> for KeptStates {
    fn from_iter<I: IntoIterator<Item = (State, usize)>>(iter: I) -> Self {
        let mut kept = KeptStates::new();
        for pair in iter {
            kept.push(pair);
        }
        kept
    }
}

impl Extend<(State, usize)> for KeptStates {
    fn extend<I: IntoIterator<Item = (State, usize)>>(&mut self, iter: I) {
        for pair in iter {
            self.push(pair);
        }
    }
}

impl PartialEq for KeptStates {
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// As the `Vec<(State, usize)>` it replaced: a list of `[state, row]`.
impl Serialize for KeptStates {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.len()))?;
        for pair in self.iter() {
            seq.serialize_element(&pair)?;
        }
        seq.end()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn dropped_states_leave_their_sparse_columns_to_the_recycler() {
        let text = "all tcp 10.0.0.1:22 <- 192.0.2.8:40001       ESTABLISHED:ESTABLISHED
   [1 + 2] wscale 1  [3 + 4] wscale 2
   age 00:00:05, expires in 00:00:25, 1:1 pkts, 60:120 bytes, rule 4
";
        let (states, _) = crate::parse::states::parse_states(text);
        let pool = Recycler::default();
        let mut kept: KeptStates = states.iter().cloned().map(|s| (s, 0)).collect();
        kept.recycle_into(Arc::clone(&pool));
        let copy = kept.clone();
        drop(copy);
        assert!(pool.lock().unwrap().is_none(), "a copy is not recycled");
        drop(kept);
        let spare = pool.lock().unwrap().take();
        assert!(spare.is_some(), "the poll's own states are");
        let mut store = StateStore::new();
        store.reuse_sparse(spare.unwrap());
        store.push(&states[0]);
        assert_eq!(store.get(0).as_ref(), Some(&states[0]));
    }
}
