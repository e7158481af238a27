//! The skim's byte readers: the main line read for its addresses only (no
//! [`crate::model::Endpoint`] is built), and the continuation lines of a
//! counted state checked in one pass each, reading only the `anchor` and
//! `rule` of the age line.
//!
//! Each reader accepts a *subset* of what the fast paths of
//! [`super::super::fast`] accept (which accept a subset of what the full
//! parser accepts without a diagnostic), with the same answers; anything
//! else is `None` or `false`, and the skim then asks those parsers. Digit
//! runs are found 8 bytes at a time and checked by their length (and, at
//! the longest length, by comparing their text with the largest value):
//! their values are never computed. The tests below mutate printed lines
//! byte by byte and compare every answer with the fast paths and the full
//! parser.
//!
//! The four line readers are `#[inline(never)]`: one copy of each, called
//! from the buffer loop and from the line path, costs fewer instructions
//! than copies inlined into the loop (350 fewer per state, callgrind).

use std::net::{IpAddr, Ipv4Addr};

use super::super::fast;
use super::HostPort;
use crate::model::Direction;

/// High bit of every byte.
const HIGH: u64 = 0x8080_8080_8080_8080;
const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;

/// High bit of each byte of `w` (little-endian) that is not an ASCII digit.
#[inline(always)]
fn non_digits(w: u64) -> u64 {
    let lo = w & LOW7;
    // Set where the byte is above '9' (no carry leaves a byte: lo <= 0x7f).
    let above = lo + 0x4646_4646_4646_4646;
    // Clear where the byte is below '0' (no borrow: lo | 0x80 >= 0x80).
    let from_zero = (lo | HIGH) - 0x3030_3030_3030_3030;
    (above | !from_zero | w) & HIGH
}

/// High bit of each byte of `w` that is not a hex digit (either case).
#[inline(always)]
fn non_hex(w: u64) -> u64 {
    let lo = w & LOW7;
    // `| 0x20` folds 'A'-'F' onto 'a'-'f' (and nothing else onto them).
    let lower = lo | 0x2020_2020_2020_2020;
    let above_f = lower + 0x1919_1919_1919_1919;
    let from_a = (lower | HIGH) - 0x6161_6161_6161_6161;
    let non_letter = above_f | !from_a;
    (non_digits(lo) & non_letter & HIGH) | (w & HIGH)
}

/// The number of ASCII digits at `b[i..]`.
#[inline(always)]
fn digit_run(b: &[u8], i: usize) -> usize {
    let mut n = 0;
    while let Some(word) = b.get(i + n..).and_then(|r| r.first_chunk::<8>()) {
        let bad = non_digits(u64::from_le_bytes(*word));
        if bad != 0 {
            return n + (bad.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while b.get(i + n).is_some_and(u8::is_ascii_digit) {
        n += 1;
    }
    n
}

#[inline(always)]
fn is_blank(c: Option<u8>) -> bool {
    matches!(c, Some(b' ' | b'\t'))
}

/// High bit of each byte of `w` that is not zero (exact: no carry leaves a
/// byte, `x & 0x7f` plus `0x7f` is at most `0xfe`).
#[inline(always)]
fn non_zero(x: u64) -> u64 {
    (((x & LOW7) + LOW7) | x) & HIGH
}

/// The number of blanks (spaces, tabs) at `b[i..]`.
#[inline(always)]
fn blank_run(b: &[u8], i: usize) -> usize {
    const SPACES: u64 = 0x2020_2020_2020_2020;
    const TABS: u64 = 0x0909_0909_0909_0909;
    let mut n = 0;
    while let Some(word) = b.get(i + n..).and_then(|r| r.first_chunk::<8>()) {
        let w = u64::from_le_bytes(*word);
        let bad = non_zero(w ^ SPACES) & non_zero(w ^ TABS);
        if bad != 0 {
            return n + (bad.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    while is_blank(b.get(i + n).copied()) {
        n += 1;
    }
    n
}

/// True when ten digits are not above `4294967295` (`u32::MAX`): their
/// text compared with its text, 8 bytes and then 2, as big-endian numbers
/// (the order of the text), with no call to `memcmp`.
#[inline(always)]
fn ten_digits_fit_u32(run: &[u8]) -> bool {
    let (Some(head), Some(tail)) = (run.first_chunk::<8>(), run.get(8..10)) else {
        return false;
    };
    let head = u64::from_be_bytes(*head);
    let max = u64::from_be_bytes(*b"42949672");
    head < max || (head == max && tail <= b"95".as_slice())
}

/// The blanks (spaces, tabs) a line starts with: how many.
#[inline(always)]
pub(super) fn blanks_at_start(b: &[u8]) -> usize {
    let mut s = Scan { b, i: 0 };
    s.blanks()
}

/// A byte cursor over one line.
struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    #[inline(always)]
    fn word(&mut self, want: &[u8]) -> Option<()> {
        let end = self.i + want.len();
        (self.b.get(self.i..end)? == want).then(|| self.i = end)
    }

    #[inline(always)]
    fn byte(&mut self, want: u8) -> Option<()> {
        (self.b.get(self.i) == Some(&want)).then(|| self.i += 1)
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    /// The end of the line: its `\n`, or the end of the bytes.
    #[inline(always)]
    fn at_end(&self) -> bool {
        matches!(self.peek(), None | Some(b'\n'))
    }

    /// Where the line ends, if the cursor is there.
    #[inline(always)]
    fn end(&self) -> Option<usize> {
        self.at_end().then_some(self.i)
    }

    /// Most runs are one blank (between tokens): two byte tests end those;
    /// longer runs (before the state pair, at the start of a continuation
    /// line) are read 8 bytes at a time.
    #[inline(always)]
    fn blanks(&mut self) -> usize {
        let start = self.i;
        if !is_blank(self.peek()) {
            return 0;
        }
        self.i += 1;
        if is_blank(self.peek()) {
            self.i += 1;
            self.i += blank_run(self.b, self.i);
        }
        self.i - start
    }

    #[inline(always)]
    fn blanks1(&mut self) -> Option<()> {
        (self.blanks() > 0).then_some(())
    }

    /// 1 to `max` digits (`max` < 20: what `Cursor::decimal(max)` takes).
    #[inline(always)]
    fn digits(&mut self, max: usize) -> Option<&[u8]> {
        let n = digit_run(self.b, self.i);
        let run = self.b.get(self.i..self.i + n)?;
        self.i += n;
        (n > 0 && n <= max).then_some(run)
    }

    /// A `u32` in decimal, as `Cursor::dec_u32` accepts it.
    #[inline(always)]
    fn dec_u32(&mut self) -> Option<()> {
        let run = self.digits(10)?;
        // Ten digits (leading zeros included) fit iff not above u32::MAX.
        (run.len() < 10 || ten_digits_fit_u32(run)).then_some(())
    }

    /// A `u32` whose value is wanted (anchor and rule numbers are short).
    #[inline(always)]
    fn read_u32(&mut self) -> Option<u32> {
        let run = self.digits(10)?;
        let v = run
            .iter()
            .fold(0u64, |v, d| v * 10 + u64::from(d.wrapping_sub(b'0')));
        u32::try_from(v).ok()
    }

    /// `HH:MM:SS`, as `fast::duration` accepts it: minutes and seconds of
    /// one digit, or two below 60.
    #[inline(always)]
    fn duration(&mut self) -> Option<()> {
        // Most durations are `DD:DD:DD`: one 8-byte test.
        if let Some(w) = self.b.get(self.i..).and_then(|r| r.first_chunk::<8>()) {
            let w = u64::from_le_bytes(*w);
            // Bytes 2 and 5 are colons, the others digits.
            const COLON_BYTES: u64 = 0x0000_ff00_00ff_0000;
            const COLONS: u64 = 0x0000_3a00_003a_0000;
            const DIGIT_HIGHS: u64 = 0x8080_0080_8000_8080;
            let tens_ok =
                (w >> 24) & 0xff <= u64::from(b'5') && (w >> 48) & 0xff <= u64::from(b'5');
            if w & COLON_BYTES == COLONS
                && non_digits(w) & DIGIT_HIGHS == 0
                && tens_ok
                && !self.b.get(self.i + 8).is_some_and(u8::is_ascii_digit)
            {
                self.i += 8;
                return Some(());
            }
        }
        self.digits(12)?;
        self.byte(b':')?;
        self.sexagesimal()?;
        self.byte(b':')?;
        self.sexagesimal()
    }

    #[inline(always)]
    fn sexagesimal(&mut self) -> Option<()> {
        let run = self.digits(2)?;
        (run.len() == 1 || run[0] < b'6').then_some(())
    }

    /// `a:b` or `a`, as `fast::counts` accepts them.
    #[inline(always)]
    fn counts(&mut self) -> Option<()> {
        self.digits(19)?;
        if self.byte(b':').is_some() {
            self.digits(19)?;
        }
        Some(())
    }
}

/// A sequence line that `fast::seq_line` accepts: where it ends.
///
/// Every reader here takes a line that ends at its `\n` or at the end of
/// the bytes, whichever comes first (so it reads a line straight from a
/// reader's buffer), and returns where the line ended.
#[inline(never)]
pub(super) fn seq_line(body: &[u8]) -> Option<usize> {
    let mut s = Scan { b: body, i: 0 };
    seq_window(&mut s)?;
    s.blanks1()?;
    seq_window(&mut s)?;
    s.blanks();
    s.end()
}

/// One window, as `fast::seq_window` reads it.
#[inline(always)]
fn seq_window(s: &mut Scan<'_>) -> Option<()> {
    s.byte(b'[')?;
    s.dec_u32()?;
    s.blanks1()?;
    s.byte(b'+')?;
    s.blanks1()?;
    s.dec_u32()?;
    s.byte(b']')?;
    if s.word(b"(+").is_some() {
        s.dec_u32()?;
        s.byte(b')')?;
    }
    let before = s.i;
    s.blanks();
    if s.word(b"wscale").is_some() {
        s.blanks1()?;
        let run = s.digits(3)?;
        // At most 255.
        (run.len() < 3 || run <= b"255".as_slice()).then_some(())?;
    } else {
        s.i = before;
    }
    Some(())
}

/// The `(anchor, rule)` of an age line in the form pfctl prints (`age D,
/// expires in D, N:N pkts, N:N bytes[, anchor M][, rule N][, flag]…`), where
/// `fast::age_line` accepts it with the same values; and where it ends.
#[inline(never)]
pub(super) fn age_line(body: &[u8]) -> Option<(Option<u32>, Option<u32>, usize)> {
    let mut s = Scan { b: body, i: 0 };
    s.word(b"age ")?;
    s.duration()?;
    s.word(b", expires in ")?;
    s.duration()?;
    s.word(b", ")?;
    s.counts()?;
    s.word(b" pkts, ")?;
    s.counts()?;
    s.word(b" bytes")?;
    let mut anchor = None;
    let mut rule = None;
    if s.word(b", anchor ").is_some() {
        anchor = Some(s.read_u32()?);
    }
    if s.word(b", rule ").is_some() {
        rule = Some(s.read_u32()?);
    }
    // Flags: words of lowercase letters and dashes, which `fast::age_line`
    // keeps as flags without a value (a counted state needs none of them).
    // pfctl's print_state() (pf_print_state.c) ends the line with them:
    // `, sloppy`, `, pflow`, `, source-track`, `, sticky-address` on
    // OpenBSD, and also `, allow-opts`, `, no-sync`, `, psync-ack`,
    // `, no-df`, `, random-id` on FreeBSD; its `, set-tos 0x..` has a
    // value and takes the slower readers.
    while s.word(b", ").is_some() {
        flag_word(&mut s)?;
    }
    Some((anchor, rule, s.end()?))
}

/// One or more lowercase letters and dashes.
#[inline(always)]
fn flag_word(s: &mut Scan<'_>) -> Option<()> {
    let start = s.i;
    while let Some(b'a'..=b'z' | b'-') = s.peek() {
        s.i += 1;
    }
    (s.i > start).then_some(())
}

/// The id line exactly as pfctl prints it (`id: %016llx creatorid:
/// %08x`, then only blanks), which `fast::id_line` accepts: where it ends.
#[inline(never)]
pub(super) fn id_line(body: &[u8]) -> Option<usize> {
    let head = body.get(..40)?;
    let id = head.get(4..20).and_then(|h| h.first_chunk::<16>())?;
    let creator = head.last_chunk::<8>()?;
    let word = |b: &[u8]| {
        b.first_chunk::<8>()
            .map_or(HIGH, |w| u64::from_le_bytes(*w))
    };
    let bad = non_hex(word(&id[..8])) | non_hex(word(&id[8..])) | non_hex(word(creator));
    if bad != 0 || !head.starts_with(b"id: ") || &head[20..32] != b" creatorid: " {
        return None;
    }
    let mut s = Scan { b: body, i: 40 };
    s.blanks();
    s.end()
}

/// What the skim needs of a main line: its direction and its addresses.
/// The skim keeps one and [`main_line_into`] refills it line after line
/// (no 100-byte value built and returned per line).
#[derive(Debug, Clone)]
pub(super) struct Main {
    pub direction: Direction,
    /// Left host, its `( … )` key, right host, its key (those present).
    pub addrs: [HostPort; 4],
    pub n: usize,
    /// Where the line ends (its `\n`, or the end of the bytes).
    pub end: usize,
}

impl Default for Main {
    fn default() -> Self {
        Main {
            direction: Direction::Out,
            addrs: [NOWHERE; 4],
            n: 0,
            end: 0,
        }
    }
}

impl Main {
    pub fn addrs(&self) -> &[HostPort] {
        self.addrs.get(..self.n).unwrap_or_default()
    }
}

/// `IFACE PROTO host [(host)] ARROW host [(host)]  A:B`, read straight
/// through, as the full parser reads it and with no NUL byte in the
/// interface and protocol words (the full parser rejects those lines).
/// `None` for everything else (route braces, three addresses, rdomains, the
/// 2002 format, host names, bad lines): the full parser decides those.
#[cfg(test)]
pub(super) fn main_line(line: &[u8]) -> Option<Main> {
    let mut m = Main::default();
    main_line_into(line, &mut m).map(|()| m)
}

/// [`main_line`] into `m` (its addresses and direction are replaced; on
/// `None`, what it holds means nothing).
#[inline(never)]
pub(super) fn main_line_into(line: &[u8], m: &mut Main) -> Option<()> {
    let mut s = Scan { b: line, i: 0 };
    word_without_nul(&mut s)?;
    s.blanks1()?;
    word_without_nul(&mut s)?;
    s.blanks1()?;
    m.n = 0;
    m.direction = Direction::Out;
    let (left_afto, gap) = side(&mut s, m)?;
    (gap > 0).then_some(())?;
    let arrow = s.peek()?;
    if s.word(b"->").is_none() && s.word(b"<-").is_none() {
        return None;
    }
    s.blanks1()?;
    let (right_afto, gap) = side(&mut s, m)?;
    // Blanks, then the pair: no third address (`-> x` / `<- x`).
    (gap > 0).then_some(())?;
    // (`->`, `<-` and `{`, a third address or a route, are not pair bytes.)
    plain_pair(&mut s)?;
    s.blanks();
    m.end = s.end()?;
    if arrow == b'<' || left_afto || right_afto {
        m.direction = Direction::In;
    }
    Some(())
}

/// A word up to the next blank, at least one byte: ASCII (the bytes of a
/// buffer are not checked for UTF-8 before), no NUL, no `\n`.
#[inline(always)]
fn word_without_nul(s: &mut Scan<'_>) -> Option<()> {
    let start = s.i;
    while let Some(c) = s.peek() {
        match c {
            b' ' | b'\t' => break,
            0 | b'\n' | 0x80.. => return None,
            _ => s.i += 1,
        }
    }
    (s.i > start).then_some(())
}

/// Fills the unused slots of [`Main::addrs`].
const NOWHERE: HostPort = HostPort {
    ip: IpAddr::V4(Ipv4Addr::UNSPECIFIED),
    port: None,
};

/// `host [(host)]` at the cursor, added to `m`; the cursor ends after it
/// and the blanks that follow (read once). Whether the side is af-to (the
/// key has the other address family), and how many blanks followed.
#[inline(always)]
fn side(s: &mut Scan<'_>, m: &mut Main) -> Option<(bool, usize)> {
    let host = host_port(s)?;
    push(m, host)?;
    let gap = s.blanks();
    match s.peek() {
        // A route brace: the full parser reads those.
        Some(b'{') => None,
        Some(b'(') if gap > 0 => {
            s.i += 1;
            let nat = host_port(s)?;
            s.byte(b')')?;
            push(m, nat)?;
            let gap = s.blanks();
            if s.peek() == Some(b'{') {
                return None;
            }
            Some((host.ip.is_ipv4() != nat.ip.is_ipv4(), gap))
        }
        _ => Some((false, gap)),
    }
}

#[inline(always)]
fn push(m: &mut Main, a: HostPort) -> Option<()> {
    *m.addrs.get_mut(m.n)? = a;
    m.n += 1;
    Some(())
}

/// An endpoint as `fast::endpoint` reads it (`a.b.c.d[:port]`,
/// `v6addr[[port]]`, then the end of the host token).
#[inline(always)]
fn host_port(s: &mut Scan<'_>) -> Option<HostPort> {
    let b = s.b.get(s.i..)?;
    let (ip, port, used) = match ipv4(b) {
        Some((a, n)) => {
            let (port, used) = port_after(b, n, b':', None)?;
            (IpAddr::V4(a), port, used)
        }
        None => {
            let (a, n) = fast::ipv6(b)?;
            let (port, used) = port_after(b, n, b'[', Some(b']'))?;
            (IpAddr::V6(a), port, used)
        }
    };
    if !matches!(b.get(used), None | Some(b' ' | b'\t' | b')' | b'}' | b'\n')) {
        return None;
    }
    s.i += used;
    Some(HostPort { ip, port })
}

/// A dotted quad as `fast::ipv4` reads it (1 to 3 digits an octet, no
/// leading zero, at most 255, not followed by a digit or a dot), with the
/// digits of each octet read without a loop.
#[inline(always)]
fn ipv4(b: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let digit = |i: usize| b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d <= 9);
    let mut addr: u32 = 0;
    let mut i = 0;
    for k in 0..4 {
        if k > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let first = digit(i)?;
        let mut v = u32::from(first);
        i += 1;
        if let Some(d) = digit(i) {
            if first == 0 {
                return None;
            }
            v = v * 10 + u32::from(d);
            i += 1;
            if let Some(d) = digit(i) {
                v = v * 10 + u32::from(d);
                i += 1;
            }
        }
        if v > 255 {
            return None;
        }
        addr = addr << 8 | v;
    }
    if matches!(b.get(i), Some(c) if c.is_ascii_digit() || *c == b'.') {
        return None;
    }
    Some((Ipv4Addr::from(addr), i))
}

/// An optional port after `b[..at]`, as `fast::port_after` reads it.
#[inline(always)]
fn port_after(b: &[u8], at: usize, open: u8, close: Option<u8>) -> Option<(Option<u16>, usize)> {
    if b.get(at) != Some(&open) {
        return Some((None, at));
    }
    let mut s = Scan { b, i: at + 1 };
    let run = s.digits(5)?;
    let v = run
        .iter()
        .fold(0u32, |v, d| v * 10 + u32::from(d.wrapping_sub(b'0')));
    let port = u16::try_from(v).ok()?;
    if let Some(close) = close {
        s.byte(close)?;
    }
    Some((Some(port), s.i))
}

/// The bytes of a peer-state name, as a table; the colon is marked apart
/// so one pass finds it and checks the rest.
const PAIR_CLASS: [u8; 256] = {
    let mut t = [0u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = if b.is_ascii_alphanumeric() || b == b'_' || b == b'?' {
            1
        } else if b == b':' {
            2
        } else {
            0
        };
        c += 1;
    }
    t
};

/// `NAME:NAME` as `plain_pair` accepts it (peer-state bytes on both sides
/// of the first colon, neither side empty): the run of pair bytes at the
/// cursor, which must then be followed by blanks or the end of the line.
#[inline(always)]
fn plain_pair(s: &mut Scan<'_>) -> Option<()> {
    let b = s.b.get(s.i..)?;
    // Most TCP states of a table are established: that pair is compared as
    // three words (it is a run of pair bytes with one colon) and must end
    // there, as the loop below would find. (Reading 8 bytes at a time in
    // general costs as much as the loop: callgrind.)
    const ESTABLISHED: &[u8; 23] = b"ESTABLISHED:ESTABLISHED";
    if b.first_chunk::<23>() == Some(ESTABLISHED)
        && b.get(23).is_none_or(|c| PAIR_CLASS[usize::from(*c)] == 0)
    {
        s.i += 23;
        return Some(());
    }
    let mut colons = 0;
    let mut colon = 0;
    let mut len = b.len();
    for (k, c) in b.iter().enumerate() {
        match PAIR_CLASS[usize::from(*c)] {
            1 => {}
            2 => {
                colons += 1;
                colon = k;
            }
            _ => {
                len = k;
                break;
            }
        }
    }
    s.i += len;
    (colons == 1 && colon > 0 && colon + 1 < len).then_some(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::states::skim::scratch_state;

    /// The full parser's answer for one continuation body: the state it
    /// leaves and whether it reported anything.
    fn full(body: &str) -> (crate::model::State, bool) {
        let mut s = scratch_state();
        let mut diags = Vec::new();
        let line = format!("   {body}");
        crate::parse::states::slow_continuation(&mut s, 1, &line, body, &mut diags);
        (s, !diags.is_empty())
    }

    /// Wherever a one-pass check accepts a line, the fast path accepts it
    /// with the same `(anchor, rule)`, and the full parser without a
    /// diagnostic. Returns whether the check accepted.
    fn agrees(body: &str) -> bool {
        let b = body.as_bytes();
        // Where a check stopped: the end of the bytes or a `\n`, and the
        // line it read is what comes before.
        let end = if b.first() == Some(&b'[') {
            seq_line(b).inspect(|&end| {
                assert!(fast::seq_line(&b[..end]).is_some(), "{body:?}");
            })
        } else if b.starts_with(b"age ") {
            age_line(b)
                .inspect(|&(anchor, rule, end)| {
                    let line = &body[..end];
                    let v = fast::age_line(line.as_bytes()).expect("the fast path agrees");
                    assert_eq!((anchor, rule), (v.anchor, v.rule), "{body:?}");
                    let (s, _) = full(line);
                    assert_eq!((anchor, rule), (s.anchor, s.rule), "{body:?}");
                })
                .map(|(_, _, end)| end)
        } else {
            id_line(b).inspect(|&end| {
                assert!(fast::id_line(&b[..end]).is_some(), "{body:?}");
            })
        };
        let Some(end) = end else {
            return false;
        };
        assert!(end == b.len() || b[end] == b'\n', "{body:?} ends at {end}");
        assert!(
            !full(&body[..end]).1,
            "{body:?}: the full parser reports it"
        );
        true
    }

    /// A line read from a buffer ends at its `\n`, whatever follows.
    #[test]
    fn the_checks_end_at_the_newline() {
        for body in PRINTED {
            for next in ["", "\n", "\n   [1 + 2]  [3 + 4]", "\nx\0\u{e9}"] {
                let text = format!("{body}{next}");
                let b = text.as_bytes();
                let end = match b[0] {
                    b'[' => seq_line(b),
                    b'a' => age_line(b).map(|(_, _, end)| end),
                    _ => id_line(b),
                };
                assert_eq!(end, Some(body.len()), "{text:?}");
            }
        }
    }

    const PRINTED: [&str; 9] = [
        "[1952540566 + 53059] wscale 2  [3475871366 + 48412] wscale 7",
        "[4294967294 + 4294967295] wscale 255  [4294967289 + 3999999999]",
        "[4294967295 + 65535](+4000123)  [0 + 16384]",
        "age 20:38:57, expires in 11:26:20, 1326:664 pkts, 119340:928200 bytes, anchor 2, rule 4",
        "age 123:05:59, expires in 00:00:00, 7 pkts, 900 bytes",
        "age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 1, sloppy, source-track",
        "age 01:02:03, expires in 00:00:09, 4:2 pkts, 240:120 bytes, anchor 1, rule 3, allow-opts, no-sync, psync-ack",
        "id: 64f1a2b300000000 creatorid: 4e1f00c2",
        "id: 64F1A2B300000000 creatorid: 4E1F00C2  ",
    ];

    #[test]
    fn the_checks_take_what_pfctl_prints() {
        for body in PRINTED {
            assert!(agrees(body), "{body:?}");
        }
    }

    #[test]
    fn the_checks_leave_the_rest_to_the_fast_paths() {
        for body in [
            "[4294967296 + 2]  [1 + 1]",
            "[1 + 2] wscale 256  [1 + 2]",
            "[1 + 2]",
            "age 00:60:00, expires in 00:00:02, 1:1 pkts, 1:1 bytes",
            "age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 4294967296",
            "age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 1, log (all)",
            "age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 1, Sloppy",
            "age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 1, set-tos 0x10",
            "age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 1, ",
            "[4294967296 + 2]  [1 + 1]",
            "[1 + 4294967300]  [1 + 1]",
            "[1 + 2]  [1 + 5294967295]",
            "age 00:00:01, expires in 00:00:02, 12345678901234567890 pkts, 1:1 bytes",
            "id: 64f1a2b30000000g creatorid: 4e1f00c2",
            "id: 64f1a2b300000000 creatorid: 4e1f00c2 rtable: 1",
        ] {
            assert!(!agrees(body), "{body:?}");
        }
    }

    /// Every byte of printed lines replaced (by bytes that matter to the
    /// grammar, and by a non-ASCII one) or deleted, and every pair of
    /// positions swapped: the checks never accept more than the parsers.
    #[test]
    fn the_checks_never_accept_more_than_the_parsers() {
        let alphabet = b" \t:,[]()+-0123456789abcdefgrwsxzABFG/\x00\x7f\n\r";
        let mut answered = 0;
        for seed in PRINTED {
            let b = seed.as_bytes();
            let mut try_bytes = |m: Vec<u8>| {
                if let Ok(body) = String::from_utf8(m)
                    && agrees(&body)
                {
                    answered += 1;
                }
            };
            for i in 0..b.len() {
                for &c in alphabet {
                    let mut m = b.to_vec();
                    m[i] = c;
                    try_bytes(m);
                }
                let mut m = b.to_vec();
                m.remove(i);
                try_bytes(m);
                let mut m = b.to_vec();
                m.insert(i, b'7');
                try_bytes(m);
                let mut m = b.to_vec();
                m.splice(i..=i, "é".bytes());
                try_bytes(m);
            }
        }
        assert!(answered > 1000, "only {answered} mutations accepted");
    }

    #[test]
    fn pairs_of_any_length_and_colons_agree_with_the_byte_table() {
        // The reader against a plain reading of the table, for runs of
        // any length and colons anywhere.
        fn by_table(b: &[u8]) -> Option<usize> {
            let len = b
                .iter()
                .position(|c| PAIR_CLASS[usize::from(*c)] == 0)
                .unwrap_or(b.len());
            let colons: Vec<usize> = (0..len).filter(|&k| b[k] == b':').collect();
            (colons.len() == 1 && colons[0] > 0 && colons[0] + 1 < len).then_some(len)
        }
        for n in 0..26usize {
            for colon_at in [
                None,
                Some(0),
                Some(1),
                Some(7),
                Some(8),
                Some(n / 2),
                Some(n.saturating_sub(1)),
            ] {
                for extra in [None, Some(3), Some(9)] {
                    for end in [&b" X"[..], b"", b"\n", b"\x80"] {
                        let mut b = vec![b'A'; n];
                        for at in [colon_at, extra].into_iter().flatten() {
                            if let Some(c) = b.get_mut(at) {
                                *c = b':';
                            }
                        }
                        b.extend_from_slice(end);
                        let mut s = Scan { b: &b, i: 0 };
                        let got = plain_pair(&mut s).map(|()| s.i);
                        assert_eq!(got, by_table(&b), "{:?}", String::from_utf8_lossy(&b));
                    }
                }
            }
        }
        // The established pair's shortcut, and what may follow it.
        for c in 0..=255u8 {
            let b = [&b"ESTABLISHED:ESTABLISHED"[..], &[c, b' ']].concat();
            let mut s = Scan { b: &b, i: 0 };
            let got = plain_pair(&mut s).map(|()| s.i);
            assert_eq!(got, by_table(&b), "{c:#x}");
        }
    }

    #[test]
    fn blank_runs_and_ten_digit_checks_agree_with_plain_ones() {
        for text in [
            "",
            " ",
            "\t",
            "  x",
            " \t \t \t \t \t x",
            "         ",
            "\t\t\t\t\t\t\t\t\t\n",
        ] {
            for start in 0..=text.len() {
                let b = text.as_bytes();
                let plain = b[start..]
                    .iter()
                    .take_while(|c| matches!(c, b' ' | b'\t'))
                    .count();
                assert_eq!(blank_run(b, start), plain, "{text:?} at {start}");
                let mut s = Scan { b, i: start };
                assert_eq!(s.blanks(), plain, "{text:?} at {start}");
                assert_eq!(s.i, start + plain);
            }
        }
        for n in [
            0u64,
            999_999_999,
            1_000_000_000,
            4_294_967_289,
            4_294_967_295,
        ] {
            let text = format!("{n:010}");
            assert!(ten_digits_fit_u32(text.as_bytes()), "{text}");
        }
        for text in [
            "4294967296",
            "4294967300",
            "4295000000",
            "9999999999",
            "42949672",
        ] {
            assert!(!ten_digits_fit_u32(text.as_bytes()), "{text}");
        }
    }

    #[test]
    fn digit_and_hex_words_classify_every_byte() {
        for c in 0..=255u8 {
            for at in 0..8 {
                let mut w = *b"00000000";
                w[at] = c;
                let word = u64::from_le_bytes(w);
                let digit_flag = non_digits(word) >> (at * 8 + 7) & 1;
                assert_eq!(digit_flag == 0, c.is_ascii_digit(), "{c:#x} at {at}");
                let hex_flag = non_hex(word) >> (at * 8 + 7) & 1;
                assert_eq!(hex_flag == 0, c.is_ascii_hexdigit(), "{c:#x} at {at}");
                // Only that byte is flagged.
                assert_eq!(non_digits(word) & !(0x80 << (at * 8)), 0);
                assert_eq!(non_hex(word) & !(0x80 << (at * 8)), 0);
            }
        }
    }

    proptest::proptest! {
        #[test]
        fn digit_runs_are_counted_from_any_start(
            b in proptest::collection::vec(
                proptest::prop_oneof![
                    8 => proptest::num::u8::ANY.prop_map(|d| b'0' + d % 10),
                    1 => proptest::num::u8::ANY,
                ],
                0..40,
            ),
            start in 0usize..40,
        ) {
            let start = start.min(b.len());
            let scalar = b[start..].iter().take_while(|c| c.is_ascii_digit()).count();
            proptest::prop_assert_eq!(digit_run(&b, start), scalar);
        }

        /// Random main lines from pieces pfctl prints and pieces it does
        /// not: wherever the skim reads one, the full parser reads it with
        /// the same addresses and direction.
        #[test]
        fn main_lines_agree_with_the_full_parser(
            pieces in proptest::collection::vec(0usize..MAIN_PIECES.len(), 3..9),
            blank in 0usize..3,
        ) {
            let sep = [" ", "  ", "\t"][blank];
            let mut line = String::from("em0 tcp ");
            for (k, p) in pieces.iter().enumerate() {
                if k > 0 {
                    line.push_str(sep);
                }
                line.push_str(MAIN_PIECES[*p]);
            }
            main_line_agrees(&line);
        }
    }

    use proptest::prelude::Strategy;

    proptest::proptest! {
        /// The loop-free dotted quad reads what `fast::ipv4` reads.
        #[test]
        fn dotted_quads_agree_with_the_fast_path(text in "[0-9.:]{0,20}") {
            proptest::prop_assert_eq!(ipv4(text.as_bytes()), fast::ipv4(text.as_bytes()));
        }

        #[test]
        fn printed_quads_agree_with_the_fast_path(o: [u8; 4], tail in "[0-9.: ]{0,2}") {
            let text = format!("{}{tail}", Ipv4Addr::from(o));
            proptest::prop_assert_eq!(ipv4(text.as_bytes()), fast::ipv4(text.as_bytes()));
        }
    }

    const MAIN_PIECES: [&str; 16] = [
        "10.0.0.1:443",
        "(192.0.2.1:80)",
        "2001:db8::10[443]",
        "(2001:db8::1[22])",
        "->",
        "<-",
        "ESTABLISHED:ESTABLISHED",
        "SINGLE:NO_TRAFFIC",
        "{10.0.0.9}",
        "1.2.3.4",
        "(::1)",
        "0:0",
        "host:80",
        "(3) 10.0.0.1:1",
        "10.0.0.1:1)",
        "NO TRAFFIC:SINGLE",
    ];

    /// Where the skim reads a main line, the full parser reads it too,
    /// with the same addresses (in the skim's order) and direction.
    fn main_line_agrees(line: &str) -> bool {
        let Some(m) = main_line(line.as_bytes()) else {
            return false;
        };
        let b = line.as_bytes();
        assert!(m.end == b.len() || b[m.end] == b'\n', "{line:?}");
        // What comes after a `\n` is the next line's.
        let line = &line[..m.end];
        let full = crate::parse::states::main_line(line);
        let Ok((_, f)) = full else {
            panic!("the skim read {line:?}, the full parser did not: {full:?}");
        };
        let sides = [Some(&f.left), Some(&f.right)];
        assert!(f.third.is_none(), "{line:?}");
        let mut want = Vec::new();
        for side in sides.into_iter().flatten() {
            assert!(side.route.is_none(), "{line:?}");
            want.push(side.host.clone());
            want.extend(side.nat.clone());
        }
        let got: Vec<_> = m.addrs().iter().map(HostPort::endpoint).collect();
        assert_eq!(got, want, "{line:?}");
        assert_eq!(
            m.direction,
            crate::parse::states::main_direction(&f),
            "{line:?}"
        );
        assert!(!f.iface.contains('\0') && !f.proto.contains('\0'));
        true
    }

    #[test]
    fn main_line_mutations_agree_with_the_full_parser() {
        let seeds = [
            "em0 tcp 10.0.0.1:443 (192.0.2.1:80) -> 198.51.100.7:51000       ESTABLISHED:ESTABLISHED",
            "all tcp 2001:db8::10[443] <- 2001:db8:1::5[50123]       FIN_WAIT_2:FIN_WAIT_2",
            "all ipv6-icmp 2001:db8::1 (10.0.0.1) -> 10.0.0.2       0:0",
            "all udp 10.0.0.5:53 <- 10.0.0.6:3000 (10.0.0.7:4000)   SINGLE:MULTIPLE  ",
        ];
        let alphabet = b" \t:.,[](){}<>-0123456789abcdefxABFG_?\x00\n\r\x1b";
        let mut answered = 0;
        for seed in seeds {
            assert!(main_line_agrees(seed), "{seed:?}");
            let b = seed.as_bytes();
            for i in 0..b.len() {
                let mut tries: Vec<Vec<u8>> = alphabet
                    .iter()
                    .map(|&c| {
                        let mut m = b.to_vec();
                        m[i] = c;
                        m
                    })
                    .collect();
                let mut m = b.to_vec();
                m.remove(i);
                tries.push(m);
                for m in tries {
                    if let Ok(line) = String::from_utf8(m)
                        && main_line_agrees(&line)
                    {
                        answered += 1;
                    }
                }
            }
        }
        assert!(answered > 1000, "only {answered} mutations read");
    }
}
