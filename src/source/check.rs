//! Is this pfctl output? The one place that decides whether a poll's text
//! is usable, whatever the exit status of the command that printed it.
//!
//! A poll is refused (a failed poll: exit 65, or a banner over the last good
//! data in the TUI) when its output is
//!
//! - binary: a NUL byte in the first 8 KiB of a listing (like ripgrep, only
//!   the first block is looked at, and the listing is refused at once);
//! - mostly not pfctl lines: more than half of the rules listing's lines are
//!   not rules (or it has none), or more than half of a states listing's
//!   first lines (the unindented ones, of the first [`SAMPLE_LINES`]) do not
//!   start a state — an error message, a wrapper's noise, CR-only line ends
//!   (one long line);
//! - cut short: a listing whose last line has no newline (pfctl ends every
//!   line with one).
//!
//! An empty states listing next to a good rules listing is a real empty
//! table, and an empty rules listing is pf without rules: both pass.
//! Lines are classified with the parsers' own cheap tests
//! ([`crate::parse::states::looks_like_state`],
//! [`crate::parse::rules::looks_like_rule`]) on at most [`HEAD`] bytes per
//! line, so the check costs one `memchr` pass and no copy of the listing.

use std::io::{self, BufRead, Read};

use super::{PollMeta, PollSink, Source, SourceError};
use crate::parse::rules::looks_like_rule;
use crate::parse::states::looks_like_state;

/// Bytes looked at for NUL bytes (ripgrep's rule of thumb).
pub const BINARY_SNIFF: usize = 8 * 1024;
/// Bytes of a line kept to classify it: more than any state's first line.
const HEAD: usize = 512;
/// A states listing whose first this many lines are mostly not states is
/// given up at once: 500 MB of garbage need not be read to be refused.
const GIVE_UP_AFTER: u64 = 1000;
/// States listings are judged on their first this many lines (past them
/// the check only watches the last byte): a million-state table costs the
/// check nothing measurable, and garbage shows from the start. Bad lines
/// further on are still the parser's diagnostics.
const SAMPLE_LINES: u64 = 10_000;

/// A [`Source`] whose polls are checked: output that is not pfctl output
/// fails the poll with [`SourceError::NotPfctlOutput`].
pub struct Checked<S> {
    inner: S,
}

impl<S: Source> Checked<S> {
    pub fn new(inner: S) -> Self {
        Checked { inner }
    }
}

impl<S: Source> Source for Checked<S> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn is_live(&self) -> bool {
        self.inner.is_live()
    }

    fn want_ids(&mut self, want: bool) {
        self.inner.want_ids(want);
    }

    fn poll(&mut self, sink: &mut dyn PollSink) -> Result<PollMeta, SourceError> {
        let mut watch = Watch::new(sink);
        let polled = self.inner.poll(&mut watch);
        // A refusal explains a read error it caused (binary data stops the
        // listing), so it comes first.
        watch.verdict()?;
        polled
    }
}

/// What was seen of one listing.
#[derive(Debug, Default)]
struct Seen {
    /// Lines classified (for states: the unindented ones).
    lines: u64,
    /// Of those, lines that look like pfctl's.
    like: u64,
    /// The first line that did not, for the message.
    first_odd: Option<String>,
    binary: bool,
    /// The last byte was not a newline.
    cut: bool,
}

impl Seen {
    fn line(&mut self, head: &[u8], states: bool) {
        // Continuation lines are not classified: skipped before any decoding
        // (three lines in four of a `-vv` listing).
        if states && matches!(head.first(), Some(b' ' | b'\t')) {
            return;
        }
        let text = match std::str::from_utf8(head) {
            Ok(text) => std::borrow::Cow::Borrowed(text),
            Err(_) => String::from_utf8_lossy(head),
        };
        // A CR inside a line: CR-only line ends, one line for the whole listing.
        let text = text.strip_suffix('\r').unwrap_or(&text);
        if text.trim().is_empty() || (states && text.starts_with([' ', '\t'])) {
            return;
        }
        self.lines += 1;
        let like = !text.contains('\r')
            && if states {
                looks_like_state(text)
            } else {
                looks_like_rule(text)
            };
        if like {
            self.like += 1;
        } else if self.first_odd.is_none() {
            self.first_odd = Some(
                crate::parse::common::clip(text.trim())
                    .chars()
                    .take(80)
                    .collect(),
            );
        }
    }

    /// Mostly odd lines, and enough of them to say so before the end.
    fn hopeless(&self) -> bool {
        self.lines >= GIVE_UP_AFTER && self.like * 2 < self.lines
    }

    /// Why this listing is not pfctl output, if it is not.
    fn problem(&self, what: &str) -> Option<String> {
        if self.binary {
            return Some(format!(
                "{what}: binary data (a NUL byte in the first {} KiB)",
                BINARY_SNIFF / 1024
            ));
        }
        if self.lines > 0 && self.like * 2 < self.lines {
            let first = self.first_odd.as_deref().unwrap_or("");
            return Some(format!(
                "{what}: {} of {} lines are not what pfctl prints (first: `{first}`)",
                self.lines - self.like,
                self.lines
            ));
        }
        if self.cut {
            return Some(format!(
                "{what}: the last line has no newline (output cut short?)"
            ));
        }
        None
    }
}

/// The sink between a source and the real one, watching what passes.
struct Watch<'a> {
    inner: &'a mut dyn PollSink,
    rules: Seen,
    states: Vec<(Option<u32>, Seen)>,
}

impl<'a> Watch<'a> {
    fn new(inner: &'a mut dyn PollSink) -> Self {
        Watch {
            inner,
            rules: Seen::default(),
            states: Vec::new(),
        }
    }

    fn verdict(&self) -> Result<(), SourceError> {
        let refuse = |detail: String| SourceError::NotPfctlOutput {
            what: "the poll".into(),
            detail,
        };
        if let Some(p) = self.rules.problem("rules listing") {
            return Err(refuse(p));
        }
        for (rule, seen) in &self.states {
            let what = match rule {
                Some(n) => format!("states listing (-R {n})"),
                None => "states listing".into(),
            };
            if let Some(p) = seen.problem(&what) {
                return Err(refuse(p));
            }
        }
        Ok(())
    }
}

impl PollSink for Watch<'_> {
    fn rules(&mut self, text: &str) {
        let sniffed = &text.as_bytes()[..text.len().min(BINARY_SNIFF)];
        self.rules.binary = memchr::memchr(0, sniffed).is_some();
        self.rules.cut = !text.is_empty() && !text.ends_with('\n');
        if self.rules.binary {
            // Refused at once: the parser gets nothing to diagnose line by line.
            self.inner.rules("");
            return;
        }
        for line in text.split('\n') {
            self.rules
                .line(&line.as_bytes()[..line.len().min(HEAD)], false);
        }
        self.inner.rules(text);
    }

    fn states(&mut self, rule: Option<u32>, input: &mut dyn BufRead) -> io::Result<()> {
        let mut reader = Lines::new(input);
        let result = self.inner.states(rule, &mut reader);
        let seen = reader.finish();
        self.states.push((rule, seen));
        result
    }

    fn info(&mut self, text: &str) {
        self.inner.info(text);
    }

    fn translation_rules(&mut self, text: &str) {
        self.inner.translation_rules(text);
    }

    fn carp(&mut self, text: &str) {
        self.inner.carp(text);
    }
}

/// A [`BufRead`] that classifies the lines its reader consumes, and stops
/// the listing at once (`InvalidData`) on a NUL byte in the first block.
struct Lines<'a> {
    inner: &'a mut dyn BufRead,
    seen: Seen,
    /// Bytes handed out so far.
    offset: u64,
    /// The head of the line being read.
    head: Vec<u8>,
    last: Option<u8>,
}

impl<'a> Lines<'a> {
    fn new(inner: &'a mut dyn BufRead) -> Self {
        Lines {
            inner,
            seen: Seen::default(),
            offset: 0,
            head: Vec::with_capacity(HEAD),
            last: None,
        }
    }

    fn finish(mut self) -> Seen {
        if !self.head.is_empty() {
            self.seen.line(&self.head, true);
        }
        self.seen.cut = self.last.is_some_and(|b| b != b'\n');
        self.seen
    }

    fn binary_refusal() -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "binary data (a NUL byte in the first 8 KiB): not pfctl output",
        )
    }

    fn garbage_refusal() -> io::Error {
        io::Error::new(
            io::ErrorKind::InvalidData,
            "mostly lines that are not states: not pfctl output",
        )
    }
}

impl Read for Lines<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for Lines<'_> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.seen.binary {
            return Err(Self::binary_refusal());
        }
        if self.seen.hopeless() {
            return Err(Self::garbage_refusal());
        }
        let Lines {
            inner,
            seen,
            offset,
            ..
        } = self;
        let buf = inner.fill_buf()?;
        if *offset < BINARY_SNIFF as u64 {
            let look = (BINARY_SNIFF as u64 - *offset) as usize;
            if memchr::memchr(0, &buf[..buf.len().min(look)]).is_some() {
                seen.binary = true;
                return Err(Self::binary_refusal());
            }
        }
        Ok(buf)
    }

    fn consume(&mut self, amt: usize) {
        let Lines {
            inner,
            seen,
            head,
            last,
            offset,
        } = self;
        // The consumed bytes are still in the reader's buffer: no I/O, no copy.
        if let Ok(buf) = inner.fill_buf() {
            scan(seen, head, last, &buf[..amt.min(buf.len())]);
        }
        *offset += amt as u64;
        inner.consume(amt);
    }
}

/// Classifies the lines that end in `bytes` (which the reader consumed),
/// keeping at most [`HEAD`] bytes of the line still open.
fn scan(seen: &mut Seen, head: &mut Vec<u8>, last: &mut Option<u8>, bytes: &[u8]) {
    if let Some(&b) = bytes.last() {
        *last = Some(b);
    }
    if seen.lines >= SAMPLE_LINES {
        return;
    }
    let mut start = 0;
    for nl in memchr::memchr_iter(b'\n', bytes) {
        keep_head(head, &bytes[start..nl]);
        seen.line(head, true);
        head.clear();
        start = nl + 1;
    }
    keep_head(head, &bytes[start..]);
}

fn keep_head(head: &mut Vec<u8>, piece: &[u8]) {
    let room = HEAD.saturating_sub(head.len());
    head.extend_from_slice(&piece[..piece.len().min(room)]);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts what reaches the real sink.
    #[derive(Default)]
    struct Count {
        rules: usize,
        state_bytes: usize,
    }

    impl PollSink for Count {
        fn rules(&mut self, text: &str) {
            self.rules = text.len();
        }
        fn states(&mut self, _rule: Option<u32>, input: &mut dyn BufRead) -> io::Result<()> {
            let mut all = Vec::new();
            input.read_to_end(&mut all)?;
            self.state_bytes = all.len();
            Ok(())
        }
    }

    const RULES: &str =
        "@0 pass all flags S/SA\n  [ Evaluations: 1 Packets: 2 Bytes: 3 States: 0 ]\n";
    const STATES: &str = "all tcp 10.0.0.1:22 <- 10.0.0.2:5000       ESTABLISHED:ESTABLISHED\n   \
                          [1 + 2]  [3 + 4]\n   age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 0\n";

    fn judge(rules: &str, states: &[u8]) -> Result<(), SourceError> {
        let mut count = Count::default();
        let mut watch = Watch::new(&mut count);
        watch.rules(rules);
        let mut input = states;
        let _ = watch.states(None, &mut input);
        watch.verdict()
    }

    fn refused(rules: &str, states: &[u8], why: &str) {
        match judge(rules, states) {
            Err(e @ SourceError::NotPfctlOutput { .. }) => {
                assert!(e.to_string().contains(why), "{e}")
            }
            other => panic!("expected a refusal ({why}), got {other:?}"),
        }
    }

    #[test]
    fn pfctl_output_passes_and_an_empty_table_is_real() {
        judge(RULES, STATES.as_bytes()).expect("good poll");
        judge(RULES, b"").expect("an empty table");
        judge("", b"").expect("pf without rules");
    }

    #[test]
    fn garbage_that_exits_0_is_not_pfctl_output() {
        refused(
            RULES,
            b"ssh: connect to host fw port 22: Connection refused\n",
            "1 of 1 lines",
        );
        refused(
            "usage: pfctl [-AdeghMmNnOPqRrvz]\n",
            STATES.as_bytes(),
            "rules listing",
        );
        let mut mostly = STATES.as_bytes().to_vec();
        for _ in 0..3 {
            mostly.extend_from_slice(b"garbage garbage\n");
        }
        refused(RULES, &mostly, "3 of 4 lines");
    }

    #[test]
    fn a_listing_of_garbage_is_given_up_early() {
        let garbage = b"garbage garbage\n".repeat(1_000_000);
        let mut count = Count::default();
        let mut watch = Watch::new(&mut count);
        watch.rules(RULES);
        let mut input = &garbage[..];
        let err = watch.states(None, &mut input).expect_err("given up");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        assert!(input.len() > garbage.len() / 2, "most of it was never read");
        let verdict = watch.verdict().expect_err("refused");
        assert!(
            verdict.to_string().contains("not what pfctl prints"),
            "{verdict}"
        );
    }

    #[test]
    fn cr_only_line_ends_are_one_odd_line() {
        let cr = STATES.replace('\n', "\r");
        refused(RULES, cr.as_bytes(), "not what pfctl prints");
        refused(&RULES.replace('\n', "\r"), b"", "rules listing");
    }

    #[test]
    fn output_cut_in_a_line_is_refused() {
        refused(RULES, &STATES.as_bytes()[..STATES.len() - 10], "no newline");
    }

    #[test]
    fn binary_is_refused_at_once_without_reading_on() {
        let mut input = b"\x7fELF\x00\x01".to_vec();
        input.extend(std::iter::repeat_n(b'x', 1_000_000));
        let mut count = Count::default();
        let mut watch = Watch::new(&mut count);
        watch.rules(RULES);
        let mut reader = &input[..];
        let err = watch.states(None, &mut reader).expect_err("stopped");
        assert_eq!(err.kind(), io::ErrorKind::InvalidData);
        let verdict = watch.verdict().expect_err("refused");
        assert!(verdict.to_string().contains("binary data"), "{verdict}");
        assert_eq!(count.state_bytes, 0, "nothing reached the parser");
    }
}
