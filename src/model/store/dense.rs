//! The dense columns of a [`StateStore`](super::StateStore), all in one
//! allocation: column after column in one `Vec<u32>`.
//!
//! Why one: with a column per `Vec`, a million states were eleven blocks
//! of 2 to 16 MB each poll. glibc's malloc raises its mmap threshold (up
//! to 32 MB) after the first large free, so from the third poll on those
//! blocks came from the heap, which fragmented poll after poll (peak RSS
//! 241 MB after two polls, 287 MB after six). One block of 68 bytes a
//! state (68 MB at a million) is above any threshold: it is mapped on its
//! own and given back to the system whole when the poll is dropped.
//!
//! Why column after column and not an array of rows: a scan of one field
//! (the addresses, for the `/` filter) reads that column only, 8 bytes a
//! state instead of every row's 68. Capacity that is never written costs
//! no memory either: the block is zeroed by the allocator (`calloc`, which
//! takes fresh pages from the system for a block this size), so only the
//! pages written are resident.

/// Where a column starts (in words per state before it) and how many
/// `u32` words each state has in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Col {
    at: usize,
    width: usize,
}

impl Col {
    /// The word of a [`Row`] where this column's words start.
    pub(super) fn at(self) -> usize {
        self.at
    }
}

/// Line of the main line.
pub(super) const LINE: Col = Col { at: 0, width: 1 };
/// Interface, protocol, both peer states: four name indexes packed in
/// one word (see `store::NAME_BITS`).
pub(super) const NAMES: Col = Col { at: 1, width: 1 };
/// Direction, address families, presence bits (`store::bit`).
pub(super) const BITS: Col = Col { at: 2, width: 1 };
/// Source and destination address: IPv4 itself, or an index into `v6`.
pub(super) const ADDR: Col = Col { at: 3, width: 2 };
/// Both ports, `u16` each.
pub(super) const PORT: Col = Col { at: 5, width: 1 };
/// Age and expiry, in seconds.
pub(super) const TIMES: Col = Col { at: 6, width: 2 };
/// Packets and bytes, each direction.
pub(super) const COUNTERS: Col = Col { at: 8, width: 4 };
/// The anchor (low `u16`) and the creator id's index (high `u16`).
pub(super) const ANCHOR_CREATOR: Col = Col { at: 12, width: 1 };
pub(super) const RULE: Col = Col { at: 13, width: 1 };
/// The state id, low word first.
pub(super) const ID: Col = Col { at: 14, width: 2 };
/// A word the store's owner sets after the push (the analysis: the row).
pub(super) const TAG: Col = Col { at: 16, width: 1 };

/// Words a state takes in all columns together.
pub(super) const WORDS: usize = 17;

/// One state's words, in column order: word `k` of column `c` is
/// `row[c.at + k]`.
pub(super) type Row = [u32; WORDS];

/// The smallest capacity a store grows to (a few server states need no
/// bigger block).
const MIN_CAP: usize = 16;

/// The dense columns of `len` states, with room for `cap`.
#[derive(Debug, Default)]
pub(super) struct Dense {
    /// `cap * WORDS` words: column `c` is `words[c.at * cap ..][.. c.width * cap]`.
    words: Vec<u32>,
    cap: usize,
    len: usize,
}

impl Dense {
    pub(super) fn len(&self) -> usize {
        self.len
    }

    /// Appends a state's words.
    pub(super) fn push(&mut self, row: &Row) {
        if self.len == self.cap {
            self.relayout(self.cap.saturating_mul(2).max(MIN_CAP));
        }
        for col in COLS {
            let start = col.at * self.cap + self.len * col.width;
            self.words[start..start + col.width].copy_from_slice(&row[col.at..col.at + col.width]);
        }
        self.len += 1;
    }

    /// Word `k` of column `col` for state `i`; 0 beyond the end.
    pub(super) fn get(&self, col: Col, i: usize, k: usize) -> u32 {
        if i >= self.len || k >= col.width {
            return 0;
        }
        self.words
            .get(col.at * self.cap + i * col.width + k)
            .copied()
            .unwrap_or(0)
    }

    /// Sets word `k` of column `col` for state `i` (nothing beyond the end).
    pub(super) fn set(&mut self, col: Col, i: usize, k: usize, value: u32) {
        if i >= self.len || k >= col.width {
            return;
        }
        if let Some(w) = self.words.get_mut(col.at * self.cap + i * col.width + k) {
            *w = value;
        }
    }

    /// The words of column `col` of every state (`width` words a state).
    pub(super) fn column(&self, col: Col) -> &[u32] {
        let start = col.at * self.cap;
        self.words
            .get(start..start + self.len * col.width)
            .unwrap_or(&[])
    }

    /// Room for `n` more states, allocated at once.
    pub(super) fn reserve(&mut self, n: usize) {
        let want = self.len.saturating_add(n);
        if want > self.cap {
            self.relayout(want);
        }
    }

    /// Gives back the room beyond the last state when it is more than an
    /// eighth: a block grown by doubling. Less is left alone: copying the
    /// columns to an exact block would hold both blocks for a moment,
    /// which is what the peak is made of, and unwritten room is not
    /// resident anyway (see the module doc).
    pub(super) fn shrink(&mut self) {
        if self.cap - self.len > self.len / 8 {
            self.relayout(self.len);
        }
    }

    /// Gives back every word beyond the last state.
    pub(super) fn shrink_to_fit(&mut self) {
        if self.cap > self.len {
            self.relayout(self.len);
        }
    }

    /// Moves the columns to a block of `cap` states (`cap >= len`).
    fn relayout(&mut self, cap: usize) {
        let cap = cap.max(self.len);
        let mut words = vec![0; cap * WORDS];
        for col in COLS {
            let from = col.at * self.cap;
            let to = col.at * cap;
            let n = self.len * col.width;
            words[to..to + n].copy_from_slice(&self.words[from..from + n]);
        }
        self.words = words;
        self.cap = cap;
    }

    /// Bytes of the block (for the figures).
    pub(super) fn heap_bytes(&self) -> usize {
        self.words.capacity() * std::mem::size_of::<u32>()
    }
}

/// A copy holds only the states, not the room for more.
impl Clone for Dense {
    fn clone(&self) -> Self {
        let mut copy = Dense::default();
        copy.relayout_from(self);
        copy
    }
}

impl Dense {
    fn relayout_from(&mut self, other: &Dense) {
        self.words = vec![0; other.len * WORDS];
        self.cap = other.len;
        self.len = other.len;
        for col in COLS {
            let from = col.at * other.cap;
            let to = col.at * self.cap;
            let n = other.len * col.width;
            self.words[to..to + n].copy_from_slice(&other.words[from..from + n]);
        }
    }
}

const COLS: [Col; 11] = [
    LINE,
    NAMES,
    BITS,
    ADDR,
    PORT,
    TIMES,
    COUNTERS,
    ANCHOR_CREATOR,
    RULE,
    ID,
    TAG,
];

#[cfg(test)]
mod tests {
    use super::*;

    fn row(seed: u32) -> Row {
        std::array::from_fn(|k| seed.wrapping_mul(1000).wrapping_add(k as u32))
    }

    #[test]
    fn the_columns_tile_a_row() {
        let mut next = 0;
        for col in COLS {
            assert_eq!(col.at, next, "{col:?} starts where the one before ends");
            next += col.width;
        }
        assert_eq!(next, WORDS);
    }

    fn assert_holds(d: &Dense, n: u32) {
        assert_eq!(d.len(), n as usize);
        for i in 0..n {
            let want = row(i);
            for col in COLS {
                for k in 0..col.width {
                    assert_eq!(
                        d.get(col, i as usize, k),
                        want[col.at + k],
                        "{col:?} {i} {k}"
                    );
                }
                let column = d.column(col);
                assert_eq!(
                    &column[i as usize * col.width..][..col.width],
                    &want[col.at..col.at + col.width]
                );
            }
        }
    }

    #[test]
    fn rows_survive_growth_reserve_shrink_and_clone() {
        let mut d = Dense::default();
        for i in 0..1000 {
            d.push(&row(i));
        }
        assert_holds(&d, 1000);
        assert!(d.cap >= 1000);
        d.reserve(5000);
        assert!(d.cap >= 6000);
        assert_holds(&d, 1000);
        let copy = d.clone();
        assert_eq!(copy.cap, 1000, "a copy has no room to spare");
        assert_holds(&copy, 1000);
        d.shrink();
        assert_eq!(d.cap, 1000, "more than an eighth spare: given back");
        assert_holds(&d, 1000);
        d.reserve(100);
        d.shrink();
        assert_eq!(d.cap, 1100, "an eighth or less: kept");
        d.shrink_to_fit();
        assert_eq!(d.cap, 1000);
        assert_eq!(d.heap_bytes(), 1000 * WORDS * 4);
    }

    #[test]
    fn set_writes_one_word_and_nothing_beyond_the_end() {
        let mut d = Dense::default();
        d.push(&row(1));
        d.push(&row(2));
        d.set(TAG, 1, 0, 77);
        assert_eq!(d.get(TAG, 1, 0), 77);
        assert_eq!(d.get(TAG, 0, 0), row(1)[TAG.at]);
        d.set(TAG, 2, 0, 5);
        d.set(ADDR, 0, 2, 5);
        assert_eq!(d.get(TAG, 2, 0), 0);
        assert_eq!(d.get(ADDR, 0, 2), 0);
        assert_eq!(d.get(ADDR, 0, 1), row(1)[ADDR.at + 1]);
    }
}
