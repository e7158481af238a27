//! One state, counted once, across the `-R n` listings of one poll.
//!
//! pfctl prints the states of `-R n` by comparing the number only
//! (`pfctl_show_states()` in sbin/pfctl/pfctl.c: `ntohl(p->rule) ==
//! shownr`, where the kernel exports `st->rule.ptr->nr`, the number inside
//! the state's own ruleset, in `pf_state_export()`), so the listings of one
//! poll never name a state twice on their own. They are separate snapshots,
//! though, and a state whose rule number the kernel reports differently
//! between two runs would be counted twice. [`Dedup`] passes each state
//! record (its first line and the indented lines after it) through only
//! the first time its `id: … creatorid: …` pair shows up in the poll.

use std::collections::HashSet;
use std::io::{self, BufRead, Read};

use crate::parse::common::{blank0, blank1, hex_creator, hex_id, keyword};

/// Longest line read at once; a longer one is passed on in pieces.
const MAX_LINE: u64 = 64 * 1024;
/// A record longer than this is passed on without being checked.
const MAX_RECORD: usize = 1024 * 1024;

/// The states already handed on in this poll.
#[derive(Debug, Default)]
pub struct SeenStates {
    ids: HashSet<(u64, u32)>,
    /// Records dropped because their state was seen before.
    pub dropped: u64,
}

/// A state listing with the records of states already seen left out.
pub struct Dedup<'a> {
    inner: &'a mut dyn BufRead,
    seen: &'a mut SeenStates,
    /// The record being read: held until the next one starts.
    record: Vec<u8>,
    record_id: Option<(u64, u32)>,
    ready: Vec<u8>,
    pos: usize,
    done: bool,
}

impl<'a> Dedup<'a> {
    pub fn new(inner: &'a mut dyn BufRead, seen: &'a mut SeenStates) -> Self {
        Dedup {
            inner,
            seen,
            record: Vec::new(),
            record_id: None,
            ready: Vec::new(),
            pos: 0,
            done: false,
        }
    }

    /// Reads one line (or piece of one) into the current record.
    fn step(&mut self) -> io::Result<()> {
        let mut line = Vec::new();
        let n = (&mut self.inner)
            .take(MAX_LINE)
            .read_until(b'\n', &mut line)?;
        if n == 0 {
            self.finish_record();
            self.done = true;
            return Ok(());
        }
        // A state's later lines are indented (`   age …`, `   id: …`).
        let continues = matches!(line.first(), Some(b' ' | b'\t'));
        if !continues {
            self.finish_record();
        } else if self.record_id.is_none() {
            self.record_id = state_id(&line);
        }
        self.record.extend_from_slice(&line);
        if self.record.len() > MAX_RECORD {
            self.record_id = None;
            self.finish_record();
        }
        Ok(())
    }

    /// Hands the record on unless its state was seen before.
    fn finish_record(&mut self) {
        if self.record.is_empty() {
            return;
        }
        let fresh = match self.record_id.take() {
            Some(id) => self.seen.ids.insert(id),
            None => true,
        };
        if fresh {
            self.ready.extend_from_slice(&self.record);
        } else {
            self.seen.dropped += 1;
        }
        self.record.clear();
    }
}

impl Read for Dedup<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Dedup<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos == self.ready.len() && !self.done {
            self.ready.clear();
            self.pos = 0;
            self.step()?;
        }
        Ok(&self.ready[self.pos..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.ready.len());
    }
}

/// Said when a state showed up in more than one `-R n` listing of a poll.
pub(crate) fn duplicates_warning(dropped: u64) -> String {
    format!(
        "per-rule: {dropped} state record{} repeated a state id already listed by another \
         `pfctl -vvss -R n` run of this poll; each state was counted once",
        if dropped == 1 { "" } else { "s" }
    )
}

/// `id: 64f1a2b300000c01 creatorid: 4e1f00c2 …`: the pair that names a
/// state (the start of the line `parse::states` reads in full).
fn state_id(line: &[u8]) -> Option<(u64, u32)> {
    let body = std::str::from_utf8(line).ok()?.trim_start();
    let (rest, _) = keyword(body, "id:", "'id:'").ok()?;
    let (rest, id) = hex_id(blank0(rest)).ok()?;
    let (rest, _) = blank1(rest).ok()?;
    let (rest, _) = keyword(rest, "creatorid:", "'creatorid:'").ok()?;
    let (_, creator) = hex_creator(blank0(rest)).ok()?;
    Some((id, creator))
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "all tcp 192.0.2.80:80 <- 203.0.113.60:40001       ESTABLISHED:ESTABLISHED\n   \
                     age 00:00:40, expires in 00:09:59, 8:7 pkts, 700:9100 bytes, anchor 3, rule 0\n   \
                     id: 64f1a2b300000c04 creatorid: 4e1f00c2\n";
    const B: &str = "all tcp 192.0.2.1:41022 -> 198.51.100.20:443       ESTABLISHED:ESTABLISHED\n   \
                     age 00:12:41, expires in 23:59:58, 1520:2210 pkts, 98311:2841730 bytes, rule 1\n   \
                     id: 64f1a2b300000c01 creatorid: 4e1f00c2\n";

    fn pass(text: &str, seen: &mut SeenStates) -> String {
        let mut input = text.as_bytes();
        let mut out = String::new();
        Dedup::new(&mut input, seen)
            .read_to_string(&mut out)
            .expect("in memory");
        out
    }

    #[test]
    fn a_state_listed_twice_is_passed_on_once() {
        let mut seen = SeenStates::default();
        assert_eq!(pass(&format!("{A}{B}"), &mut seen), format!("{A}{B}"));
        assert_eq!(pass(&format!("{B}{A}"), &mut seen), "");
        assert_eq!(seen.dropped, 2);
    }

    #[test]
    fn the_same_id_of_another_creator_is_another_state() {
        let mut seen = SeenStates::default();
        pass(A, &mut seen);
        let other = A.replace("4e1f00c2", "0a0b0c0d");
        assert_eq!(pass(&other, &mut seen), other);
        assert_eq!(seen.dropped, 0);
    }

    #[test]
    fn records_without_an_id_and_odd_bytes_pass_unchanged() {
        let mut seen = SeenStates::default();
        let plain = "all udp 192.0.2.1:5353 -> 198.51.100.53:53       MULTIPLE:SINGLE\n\n   \
                     garbage \u{1}\nno newline at the end";
        assert_eq!(pass(plain, &mut seen), plain);
        assert_eq!(pass(plain, &mut seen), plain);
        let long = format!("{}\n{A}", "x".repeat(200_000));
        assert_eq!(pass(&long, &mut SeenStates::default()), long);
    }
}
