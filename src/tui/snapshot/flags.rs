//! One bit per state: the snapshot's per-state flags (`is_new`,
//! `is_server`) and the `/` filter's matches. A million of them are 125 KB
//! instead of the 1 MB a `Vec<bool>` takes, and a set of matches small
//! enough to stay in the cache while a list is filtered through it.

/// A fixed-length sequence of bits, `false` past its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Flags {
    words: Vec<u64>,
    len: usize,
}

impl Flags {
    /// `len` bits, all `false`.
    pub fn new(len: usize) -> Self {
        Flags {
            words: vec![0; len.div_ceil(64)],
            len,
        }
    }

    /// Room for `n` bits without growing.
    pub fn with_capacity(n: usize) -> Self {
        Flags {
            words: Vec::with_capacity(n.div_ceil(64)),
            len: 0,
        }
    }

    /// `len` bits given as words (bit `i % 64` of word `i / 64`); bits
    /// past `len` are cleared, missing words are `false`.
    pub fn from_words(mut words: Vec<u64>, len: usize) -> Self {
        words.resize(len.div_ceil(64), 0);
        if let Some(last) = words.last_mut()
            && !len.is_multiple_of(64)
        {
            *last &= (1u64 << (len % 64)) - 1;
        }
        Flags { words, len }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends one bit.
    pub fn push(&mut self, bit: bool) {
        if self.len.is_multiple_of(64) {
            self.words.push(0);
        }
        if bit && let Some(w) = self.words.last_mut() {
            *w |= 1 << (self.len % 64);
        }
        self.len += 1;
    }

    /// Bit `i`; `false` past the end.
    pub fn get(&self, i: usize) -> bool {
        i < self.len
            && self
                .words
                .get(i / 64)
                .is_some_and(|w| w & (1 << (i % 64)) != 0)
    }

    /// Sets bit `i` (nothing past the end).
    pub fn set(&mut self, i: usize) {
        if i < self.len
            && let Some(w) = self.words.get_mut(i / 64)
        {
            *w |= 1 << (i % 64);
        }
    }

    /// How many bits are set.
    pub fn count(&self) -> usize {
        self.words.iter().map(|w| w.count_ones() as usize).sum()
    }

    /// Bytes of memory held.
    pub fn heap_bytes(&self) -> usize {
        self.words.capacity() * 8
    }
}

impl FromIterator<bool> for Flags {
    fn from_iter<I: IntoIterator<Item = bool>>(iter: I) -> Self {
        let iter = iter.into_iter();
        let mut f = Flags::with_capacity(iter.size_hint().0);
        for b in iter {
            f.push(b);
        }
        f
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bits_read_back_as_pushed_or_set_and_nothing_past_the_end() {
        let pattern = |i: usize| i.is_multiple_of(3) || i % 64 == 63;
        let pushed: Flags = (0..200).map(pattern).collect();
        let mut set = Flags::new(200);
        for i in (0..200).filter(|i| pattern(*i)) {
            set.set(i);
        }
        set.set(200);
        set.set(10_000);
        for f in [&pushed, &set] {
            assert_eq!(f.len(), 200);
            assert!((0..200).all(|i| f.get(i) == pattern(i)));
            assert!(!f.get(200) && !f.get(255) && !f.get(usize::MAX));
            assert_eq!(f.count(), (0..200).filter(|i| pattern(*i)).count());
        }
        assert_eq!(pushed, set);
        let words = Flags::from_words(vec![u64::MAX; 5], 70);
        assert_eq!((words.len(), words.count()), (70, 70));
        assert!(words.get(69) && !words.get(70));
        assert!(Flags::default().is_empty());
        assert_eq!(Flags::new(65).heap_bytes(), 16);
    }
}
