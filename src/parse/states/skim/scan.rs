//! The skim's byte readers: the main line read for its addresses only (no
//! [`crate::model::Endpoint`] is built), and the continuation lines of a
//! counted state checked in one pass each, reading only the `anchor` and
//! `rule` of the age line.
//!
//! Each reader accepts a *subset* of what the fast paths of
//! [`super::super::fast`] accept (which accept a subset of what the full
//! parser accepts without a diagnostic), with the same answers; anything
//! else is `None`, and the skim then asks those parsers. Digit runs are
//! found 8 bytes at a time and checked by their length (and, at the
//! longest length, by comparing their text with the largest value): their
//! values are never computed. The tests below mutate printed lines byte by
//! byte and compare every answer with the fast paths and the full parser.
//!
//! The readers take a line as a [`Window`]: a fixed array of the bytes from
//! the line's start, read at positions taken modulo [`WINDOW`]. A position
//! is then always in the array, so no read is bounds-checked or returns an
//! `Option` (a fifth of the main line's instructions went to those checks,
//! callgrind). A reader looks at most [`REACH`] bytes past its cursor, and
//! accepts a line only if its `\n` comes before [`LIMIT`]: the bytes that
//! decided an accepted line are the line's own, never bytes read modulo
//! `WINDOW` (a longer line is left to the other parsers). Every loop is
//! bounded, so a window of only digits or blanks ends too.
//!
//! The four line readers are `#[inline(never)]`: one copy of each, called
//! from the buffer loop and from the line path, costs fewer instructions
//! than copies inlined into the loop (350 fewer per state, callgrind).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::super::fast::HEX;
use super::super::{Arrow, MainLine, Side};
use super::HostPort;
use crate::model::Direction;

/// The positions of a [`Window`] (a power of two: `% WINDOW` is a mask).
pub(super) const WINDOW: usize = 512;
/// How far past its cursor a reader looks at most (the 40 bytes of an id
/// line, a 23-byte state pair, an 8-byte word of digits).
const REACH: usize = 64;
/// A line is read only if its `\n` is before this position.
const LIMIT: usize = WINDOW - 2 * REACH;

/// The bytes of a line from its start, and what follows them: [`WINDOW`]
/// positions and [`REACH`] more, so that a run of up to `REACH` bytes read
/// at any position lies in the array.
pub(super) type Window = [u8; WINDOW + REACH];

/// The window of the line at the start of `rest` (a reader's buffer), if
/// the buffer holds that many bytes.
#[inline(always)]
pub(super) fn window_in(rest: &[u8]) -> Option<&Window> {
    rest.first_chunk()
}

/// A window holding `bytes` and then NUL bytes (for the lines at the end of
/// a buffer, which holds fewer bytes than a window).
pub(super) fn padded(bytes: &[u8]) -> Window {
    let mut w = [0u8; WINDOW + REACH];
    let n = bytes.len().min(w.len());
    if let (Some(to), Some(from)) = (w.get_mut(..n), bytes.get(..n)) {
        to.copy_from_slice(from);
    }
    w
}

/// A window holding `line` (without its line end) and a `\n` after it, or
/// `None` when the line is too long for the readers.
pub(super) fn window_of(line: &[u8]) -> Option<Window> {
    if line.len() >= LIMIT {
        return None;
    }
    let mut w = padded(line);
    *w.get_mut(line.len())? = b'\n';
    Some(w)
}

/// The 8 bytes at position `p` (modulo [`WINDOW`]) as a little-endian word.
#[inline(always)]
fn word_at(b: &Window, p: usize) -> u64 {
    let j = p % WINDOW;
    b.get(j..j + 8)
        .and_then(|w| w.first_chunk::<8>())
        .map_or(HIGH, |w| u64::from_le_bytes(*w))
}

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

/// The number of ASCII digits at position `i`, counted exactly up to
/// `max`; a longer run gives some number above `max`.
#[inline(always)]
fn digit_run(b: &Window, i: usize, max: usize) -> usize {
    let mut n = 0;
    loop {
        let bad = non_digits(word_at(b, i + n));
        if bad != 0 {
            return n + (bad.trailing_zeros() / 8) as usize;
        }
        n += 8;
        if n > max {
            return n;
        }
    }
}

#[inline(always)]
fn is_blank(c: u8) -> bool {
    matches!(c, b' ' | b'\t')
}

/// High bit of each byte of `w` that is not zero (exact: no carry leaves a
/// byte, `x & 0x7f` plus `0x7f` is at most `0xfe`).
#[inline(always)]
fn non_zero(x: u64) -> u64 {
    (((x & LOW7) + LOW7) | x) & HIGH
}

/// The number of blanks (spaces, tabs) at position `i`: exact up to
/// [`WINDOW`], and at least that for a window of blanks.
#[inline(always)]
fn blank_run(b: &Window, i: usize) -> usize {
    const SPACES: u64 = 0x2020_2020_2020_2020;
    const TABS: u64 = 0x0909_0909_0909_0909;
    let mut n = 0;
    while n < WINDOW {
        let w = word_at(b, i + n);
        let bad = non_zero(w ^ SPACES) & non_zero(w ^ TABS);
        if bad != 0 {
            return n + (bad.trailing_zeros() / 8) as usize;
        }
        n += 8;
    }
    n
}

/// True when the ten digits at position `i` are not above `4294967295`
/// (`u32::MAX`): their text compared with its text, 8 bytes and then 2, as
/// big-endian numbers (the order of the text).
#[inline(always)]
fn ten_digits_fit_u32(b: &Window, i: usize) -> bool {
    let head = word_at(b, i).swap_bytes();
    let max = u64::from_be_bytes(*b"42949672");
    let tail = (b[(i + 8) % WINDOW], b[(i + 9) % WINDOW]);
    head < max || (head == max && tail <= (b'9', b'5'))
}

/// The blanks (spaces, tabs) a line starts with: how many.
#[inline(always)]
fn blanks_at_start(b: &Window) -> usize {
    let mut s = Scan { b, i: 0 };
    s.blanks()
}

/// A byte cursor over one line.
struct Scan<'a> {
    b: &'a Window,
    i: usize,
}

impl Scan<'_> {
    /// The byte `k` positions past the cursor.
    #[inline(always)]
    fn at(&self, k: usize) -> u8 {
        self.b[(self.i + k) % WINDOW]
    }

    /// The byte `k` positions before the cursor (`k` at most the cursor).
    #[inline(always)]
    fn before(&self, k: usize) -> u8 {
        self.b[(self.i - k) % WINDOW]
    }

    #[inline(always)]
    fn peek(&self) -> u8 {
        self.at(0)
    }

    /// `want` (at most [`REACH`] bytes) at the cursor, passed over.
    #[inline(always)]
    fn word(&mut self, want: &[u8]) -> Option<()> {
        let j = self.i % WINDOW;
        (self.b.get(j..j + want.len())? == want).then(|| self.i += want.len())
    }

    #[inline(always)]
    fn byte(&mut self, want: u8) -> Option<()> {
        (self.peek() == want).then(|| self.i += 1)
    }

    /// Where the line ends, if the cursor is at its `\n` (and that comes
    /// before [`LIMIT`]).
    #[inline(always)]
    fn end(&self) -> Option<usize> {
        (self.peek() == b'\n' && self.i < LIMIT).then_some(self.i)
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

    /// 1 to `max` digits (`max` < 20: what `Cursor::decimal(max)` takes):
    /// how many.
    #[inline(always)]
    fn digits(&mut self, max: usize) -> Option<usize> {
        let n = digit_run(self.b, self.i, max);
        self.i += n;
        (n > 0 && n <= max).then_some(n)
    }

    /// The value of the `n` digits that end at the cursor (at most 5 here:
    /// ports, anchor and rule numbers are short).
    #[inline(always)]
    fn value_before(&self, n: usize) -> u64 {
        let mut v = 0;
        let mut k = n;
        while k > 0 {
            v = v * 10 + u64::from(self.before(k).wrapping_sub(b'0'));
            k -= 1;
        }
        v
    }

    /// A `u32` in decimal, as `Cursor::dec_u32` accepts it.
    #[inline(always)]
    fn dec_u32(&mut self) -> Option<()> {
        let n = self.digits(10)?;
        // Ten digits (leading zeros included) fit iff not above u32::MAX.
        (n < 10 || ten_digits_fit_u32(self.b, self.i - n)).then_some(())
    }

    /// A `u32` whose value is wanted.
    #[inline(always)]
    fn read_u32(&mut self) -> Option<u32> {
        let n = self.digits(10)?;
        u32::try_from(self.value_before(n)).ok()
    }

    /// `HH:MM:SS`, as `fast::duration` accepts it: minutes and seconds of
    /// one digit, or two below 60.
    #[inline(always)]
    fn duration(&mut self) -> Option<()> {
        // Most durations are `DD:DD:DD`: one 8-byte test.
        let w = word_at(self.b, self.i);
        // Bytes 2 and 5 are colons, the others digits.
        const COLON_BYTES: u64 = 0x0000_ff00_00ff_0000;
        const COLONS: u64 = 0x0000_3a00_003a_0000;
        const DIGIT_HIGHS: u64 = 0x8080_0080_8000_8080;
        let tens_ok = (w >> 24) & 0xff <= u64::from(b'5') && (w >> 48) & 0xff <= u64::from(b'5');
        if w & COLON_BYTES == COLONS
            && non_digits(w) & DIGIT_HIGHS == 0
            && tens_ok
            && !self.at(8).is_ascii_digit()
        {
            self.i += 8;
            return Some(());
        }
        self.digits(12)?;
        self.byte(b':')?;
        self.sexagesimal()?;
        self.byte(b':')?;
        self.sexagesimal()
    }

    #[inline(always)]
    fn sexagesimal(&mut self) -> Option<()> {
        let n = self.digits(2)?;
        (n == 1 || self.before(2) < b'6').then_some(())
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

/// What [`continuation`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Continuation {
    /// Only blanks (the full parser ignores the line too).
    Blank,
    /// A sequence or id line, checked: nothing to keep of it.
    Checked,
    /// An age line, and its `anchor` and `rule`.
    Age(Option<u32>, Option<u32>),
}

/// A continuation line of a counted state, if one of the one-pass readers
/// accepts it: what it is, and where it ends (the position of its `\n`).
#[inline(always)]
pub(super) fn continuation(w: &Window) -> Option<(Continuation, usize)> {
    let lead = blanks_at_start(w);
    let s = Scan { b: w, i: lead };
    match s.peek() {
        b'\n' => Some((Continuation::Blank, s.end()?)),
        b'[' => Some((Continuation::Checked, seq_line(w, lead)?)),
        b'a' => {
            let (anchor, rule, end) = age_line(w, lead)?;
            Some((Continuation::Age(anchor, rule), end))
        }
        b'i' => Some((Continuation::Checked, id_line(w, lead)?)),
        _ => None,
    }
}

/// A sequence line at position `at` that `fast::seq_line` accepts: where
/// it ends.
///
/// Every reader here takes a line that ends at its `\n` and returns the
/// position of that `\n`.
#[inline(never)]
fn seq_line(w: &Window, at: usize) -> Option<usize> {
    let mut s = Scan { b: w, i: at };
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
    // pfctl prints `[%u + %u]` and ` wscale %u` (print_seq() and
    // print_state() in pf_print_state.c): those single blanks are compared
    // as words first, other blanks read as runs (the same lines are taken).
    if s.word(b" + ").is_some() {
        s.blanks();
    } else {
        s.blanks1()?;
        s.byte(b'+')?;
        s.blanks1()?;
    }
    s.dec_u32()?;
    s.byte(b']')?;
    if s.word(b"(+").is_some() {
        s.dec_u32()?;
        s.byte(b')')?;
    }
    let before = s.i;
    if s.word(b" wscale ").is_none() {
        s.blanks();
        if s.word(b"wscale").is_none() {
            s.i = before;
            return Some(());
        }
        s.blanks1()?;
    }
    s.blanks();
    let n = s.digits(3)?;
    // At most 255.
    (n < 3 || (s.before(3), s.before(2), s.before(1)) <= (b'2', b'5', b'5')).then_some(())
}

/// The `(anchor, rule)` of an age line at position `at` in the form pfctl
/// prints (`age D, expires in D, N:N pkts, N:N bytes[, anchor M][, rule
/// N][, flag]…`), where `fast::age_line` accepts it with the same values;
/// and where it ends.
#[inline(never)]
fn age_line(w: &Window, at: usize) -> Option<(Option<u32>, Option<u32>, usize)> {
    let mut s = Scan { b: w, i: at };
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
    while let b'a'..=b'z' | b'-' = s.peek() {
        s.i += 1;
        if s.i >= LIMIT {
            return None;
        }
    }
    (s.i > start).then_some(())
}

/// The id line at position `at` exactly as pfctl prints it (`id: %016llx
/// creatorid: %08x`, then only blanks), which `fast::id_line` accepts:
/// where it ends.
#[inline(never)]
fn id_line(w: &Window, at: usize) -> Option<usize> {
    let mut s = Scan { b: w, i: at };
    let bad =
        non_hex(word_at(w, at + 4)) | non_hex(word_at(w, at + 12)) | non_hex(word_at(w, at + 32));
    if bad != 0 {
        return None;
    }
    s.word(b"id: ")?;
    s.i += 16;
    s.word(b" creatorid: ")?;
    s.i += 8;
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
    /// Where the line ends (the position of its `\n`).
    pub end: usize,
    /// How many of `addrs` are the left side's (1, or 2 with a key).
    left: usize,
    /// The arrow's first byte (`-` or `<`).
    arrow: u8,
    /// Where the words are: the interface ends, the protocol starts and
    /// ends, the pair starts, has its colon and ends.
    spans: [usize; 6],
}

impl Default for Main {
    fn default() -> Self {
        Main {
            direction: Direction::Out,
            addrs: [NOWHERE; 4],
            n: 0,
            end: 0,
            left: 0,
            arrow: b'-',
            spans: [0; 6],
        }
    }
}

impl Main {
    pub fn addrs(&self) -> &[HostPort] {
        self.addrs.get(..self.n).unwrap_or_default()
    }

    /// The line as the full parser's `main_line` reads it, from the record
    /// [`main_line_into`] filled for `line` (the same text): no second
    /// parse of a wanted state's main line. The tests compare every field
    /// with the full parser's.
    pub fn main_line<'a>(&self, line: &'a str) -> Option<MainLine<'a>> {
        let [
            iface_end,
            proto_start,
            proto_end,
            pair_start,
            colon,
            pair_end,
        ] = self.spans;
        let endpoint = |k: usize| self.addrs.get(k).map(HostPort::endpoint);
        let side = |host: usize, with_key: bool| -> Option<Side> {
            Some(Side {
                host: endpoint(host)?,
                nat: if with_key {
                    Some(endpoint(host + 1)?)
                } else {
                    None
                },
                route: None,
            })
        };
        let right_has_key = self.n - self.left == 2;
        Some(MainLine {
            iface: line.get(..iface_end)?,
            proto: line.get(proto_start..proto_end)?,
            arrow: if self.arrow == b'<' {
                Arrow::Left
            } else {
                Arrow::Right
            },
            left: side(0, self.left == 2)?,
            right: side(self.left, right_has_key)?,
            third: None,
            pair: (line.get(pair_start..colon)?, line.get(colon + 1..pair_end)?),
        })
    }
}

/// `IFACE PROTO host [(host)] ARROW host [(host)]  A:B`, read straight
/// through, as the full parser reads it and with no NUL byte in the
/// interface and protocol words (the full parser rejects those lines).
/// `None` for everything else (route braces, three addresses, rdomains, the
/// 2002 format, host names, bad lines): the full parser decides those.
/// `m`'s addresses and direction are replaced; on `None`, what it holds
/// means nothing.
#[inline(never)]
pub(super) fn main_line_into(w: &Window, m: &mut Main) -> Option<()> {
    let mut s = Scan { b: w, i: 0 };
    word_without_nul(&mut s)?;
    m.spans[0] = s.i;
    s.blanks1()?;
    m.spans[1] = s.i;
    word_without_nul(&mut s)?;
    m.spans[2] = s.i;
    s.blanks1()?;
    m.n = 0;
    m.direction = Direction::Out;
    let (left_afto, gap) = side(&mut s, m)?;
    m.left = m.n;
    (gap > 0).then_some(())?;
    let arrow = s.peek();
    if s.word(b"->").is_none() && s.word(b"<-").is_none() {
        return None;
    }
    m.arrow = arrow;
    s.blanks1()?;
    let (right_afto, gap) = side(&mut s, m)?;
    // Blanks, then the pair: no third address (`-> x` / `<- x`).
    (gap > 0).then_some(())?;
    // (`->`, `<-` and `{`, a third address or a route, are not pair bytes.)
    m.spans[3] = s.i;
    m.spans[4] = m.spans[3] + plain_pair(&mut s)?;
    m.spans[5] = s.i;
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
    loop {
        match s.peek() {
            b' ' | b'\t' => break,
            0 | b'\n' | 0x80.. => return None,
            _ => s.i += 1,
        }
        if s.i >= LIMIT {
            return None;
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
        b'{' => None,
        b'(' if gap > 0 => {
            s.i += 1;
            let nat = host_port(s)?;
            s.byte(b')')?;
            push(m, nat)?;
            let gap = s.blanks();
            if s.peek() == b'{' {
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
    let (ip, port) = match ipv4(s.b, s.i) {
        Some((a, n)) => {
            s.i += n;
            (IpAddr::V4(a), port_after(s, b':', None)?)
        }
        None => {
            let (a, n) = ipv6(s.b, s.i)?;
            s.i += n;
            (IpAddr::V6(a), port_after(s, b'[', Some(b']'))?)
        }
    };
    if !matches!(s.peek(), b' ' | b'\t' | b')' | b'}' | b'\n') {
        return None;
    }
    Some(HostPort { ip, port })
}

/// A dotted quad at position `at` as `fast::ipv4` reads it (1 to 3 digits
/// an octet, no leading zero, at most 255, not followed by a digit or a
/// dot), with the digits of each octet read without a loop; and its length.
#[inline(always)]
fn ipv4(b: &Window, at: usize) -> Option<(Ipv4Addr, usize)> {
    let digit = |i: usize| Some(b[(at + i) % WINDOW].wrapping_sub(b'0')).filter(|d| *d <= 9);
    let mut addr: u32 = 0;
    let mut i = 0;
    for k in 0..4 {
        if k > 0 {
            if b[(at + i) % WINDOW] != b'.' {
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
    let next = b[(at + i) % WINDOW];
    if next.is_ascii_digit() || next == b'.' {
        return None;
    }
    Some((Ipv4Addr::from(addr), i))
}

/// An IPv6 address at position `at` as `fast::ipv6` reads it (hex groups of
/// 1 to 4 digits, at most one `::`, no embedded IPv4 address), and its
/// length. The groups are shifted into one number as they come; a `::`
/// then moves the groups after it to the low end.
#[inline(always)]
fn ipv6(b: &Window, at: usize) -> Option<(Ipv6Addr, usize)> {
    let byte = |i: usize| b[(at + i) % WINDOW];
    let hex = |i: usize| HEX[usize::from(byte(i))];
    let mut bits: u128 = 0;
    let mut n = 0;
    // Groups before the `::`, if the token has one.
    let mut gap = None;
    let mut i = 0;
    if byte(0) == b':' && byte(1) == b':' {
        gap = Some(0);
        i = 2;
    }
    // Reads groups until the token ends (a byte that is neither a hex
    // digit nor `:`); any malformed group, or a ninth, refuses the token.
    loop {
        let start = i;
        let mut v: u128 = 0;
        while hex(i) <= 15 {
            if i - start == 4 {
                return None;
            }
            v = v << 4 | u128::from(hex(i));
            i += 1;
        }
        if i == start {
            // `::` at the end of the token (or alone).
            let ends = gap.is_some()
                && i >= 2
                && byte(i - 2) == b':'
                && byte(i - 1) == b':'
                && byte(i) != b':';
            if ends {
                break;
            }
            return None;
        }
        if n == 8 {
            return None;
        }
        bits = bits << 16 | v;
        n += 1;
        if byte(i) != b':' {
            break;
        }
        i += 1;
        if byte(i) == b':' {
            if gap.is_some() {
                return None;
            }
            gap = Some(n);
            i += 1;
        }
    }
    // The token must end here: a `.` means an embedded IPv4 address.
    if byte(i) == b'.' || i == 0 {
        return None;
    }
    let bits = match gap {
        None if n == 8 => bits,
        None => return None,
        Some(_) if n > 7 => return None,
        // The groups read sit at the low end; those before the `::` move
        // up past the zero groups it stands for (`g < 8`: a shift below 128).
        Some(g) => {
            let after = 16 * (n - g);
            let low = bits & ((1u128 << after) - 1);
            let high = bits.checked_shr(after as u32).unwrap_or(0);
            high.checked_shl(16 * (8 - g) as u32).unwrap_or(0) | low
        }
    };
    Some((Ipv6Addr::from(bits), i))
}

/// An optional port after the address, as `fast::port_after` reads it:
/// `open`, 1 to 5 digits (at most 65535), then `close` if given.
#[inline(always)]
fn port_after(s: &mut Scan<'_>, open: u8, close: Option<u8>) -> Option<Option<u16>> {
    if s.byte(open).is_none() {
        return Some(None);
    }
    let n = s.digits(5)?;
    let port = u16::try_from(s.value_before(n)).ok()?;
    if let Some(close) = close {
        s.byte(close)?;
    }
    Some(Some(port))
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
/// Where its colon is, from the pair's start.
#[inline(always)]
fn plain_pair(s: &mut Scan<'_>) -> Option<usize> {
    // Most TCP states of a table are established: that pair is compared as
    // three words (it is a run of pair bytes with one colon) and must end
    // there, as the loop below would find. (Reading 8 bytes at a time in
    // general costs as much as the loop: callgrind.)
    const ESTABLISHED: &[u8; 23] = b"ESTABLISHED:ESTABLISHED";
    let j = s.i % WINDOW;
    if s.b.get(j..j + 23) == Some(ESTABLISHED.as_slice()) && PAIR_CLASS[usize::from(s.at(23))] == 0
    {
        s.i += 23;
        return Some(11);
    }
    let mut colons = 0;
    let mut colon = 0;
    let mut len = 0;
    loop {
        match PAIR_CLASS[usize::from(s.at(len))] {
            1 => {}
            2 => {
                colons += 1;
                colon = len;
            }
            _ => break,
        }
        len += 1;
        if s.i + len >= LIMIT {
            return None;
        }
    }
    s.i += len;
    (colons == 1 && colon > 0 && colon + 1 < len).then_some(colon)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::states::fast;
    use crate::parse::states::skim::scratch_state;

    /// A line given as bytes in a window, with a `\n` after them.
    fn win(b: &[u8]) -> Window {
        window_of(b).expect("a short line")
    }

    fn seq(b: &[u8]) -> Option<usize> {
        seq_line(&win(b), 0)
    }

    fn age(b: &[u8]) -> Option<(Option<u32>, Option<u32>, usize)> {
        age_line(&win(b), 0)
    }

    fn id(b: &[u8]) -> Option<usize> {
        id_line(&win(b), 0)
    }

    fn main_line(line: &[u8]) -> Option<Main> {
        let mut m = Main::default();
        main_line_into(&window_of(line)?, &mut m).map(|()| m)
    }

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
            seq(b).inspect(|&end| {
                assert!(fast::seq_line(&b[..end]).is_some(), "{body:?}");
            })
        } else if b.starts_with(b"age ") {
            age(b)
                .inspect(|&(anchor, rule, end)| {
                    let line = &body[..end];
                    let v = fast::age_line(line.as_bytes()).expect("the fast path agrees");
                    assert_eq!((anchor, rule), (v.anchor, v.rule), "{body:?}");
                    let (s, _) = full(line);
                    assert_eq!((anchor, rule), (s.anchor, s.rule), "{body:?}");
                })
                .map(|(_, _, end)| end)
        } else {
            id(b).inspect(|&end| {
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
                    b'[' => seq(b),
                    b'a' => age(b).map(|(_, _, end)| end),
                    _ => id(b),
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
                        let w = padded(&b);
                        let mut s = Scan { b: &w, i: 0 };
                        let got = plain_pair(&mut s).map(|_| s.i);
                        assert_eq!(got, by_table(&b), "{:?}", String::from_utf8_lossy(&b));
                    }
                }
            }
        }
        // The established pair's shortcut, and what may follow it.
        for c in 0..=255u8 {
            let b = [&b"ESTABLISHED:ESTABLISHED"[..], &[c, b' ']].concat();
            let w = padded(&b);
            let mut s = Scan { b: &w, i: 0 };
            let got = plain_pair(&mut s).map(|_| s.i);
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
                let w = padded(b);
                assert_eq!(blank_run(&w, start), plain, "{text:?} at {start}");
                let mut s = Scan { b: &w, i: start };
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
            assert!(ten_digits_fit_u32(&padded(text.as_bytes()), 0), "{text}");
        }
        for text in ["4294967296", "4294967300", "4295000000", "9999999999"] {
            assert!(!ten_digits_fit_u32(&padded(text.as_bytes()), 0), "{text}");
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
            let got = digit_run(&padded(&b), start, 19);
            if scalar <= 19 {
                proptest::prop_assert_eq!(got, scalar);
            } else {
                proptest::prop_assert!(got > 19);
            }
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
            proptest::prop_assert_eq!(ipv4(&padded(text.as_bytes()), 0), fast::ipv4(text.as_bytes()));
        }

        /// The IPv6 reader (groups shifted into one number) reads what
        /// `fast::ipv6` (groups in an array) reads.
        #[test]
        fn ipv6_text_agrees_with_the_fast_path(text in "[0-9a-fA-F:.]{0,45}") {
            proptest::prop_assert_eq!(ipv6(&padded(text.as_bytes()), 0), fast::ipv6(text.as_bytes()));
        }

        #[test]
        fn printed_ipv6_agrees_with_the_fast_path(
            groups: [u16; 8],
            zeros in 0usize..8,
            tail in "[0-9a-f:.\\[ ]{0,2}",
        ) {
            // Runs of zero groups, so that pfctl's `::` is often there.
            let mut g = groups;
            for x in g.iter_mut().skip(zeros).take(zeros % 5) {
                *x = 0;
            }
            let text = format!("{}{tail}", Ipv6Addr::from(g));
            let got = ipv6(&padded(text.as_bytes()), 0);
            proptest::prop_assert_eq!(got, fast::ipv6(text.as_bytes()));
        }

        #[test]
        fn printed_quads_agree_with_the_fast_path(o: [u8; 4], tail in "[0-9.: ]{0,2}") {
            let text = format!("{}{tail}", Ipv4Addr::from(o));
            proptest::prop_assert_eq!(ipv4(&padded(text.as_bytes()), 0), fast::ipv4(text.as_bytes()));
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
        // The record gives back the whole line as the full parser reads it
        // (every field, through their `Debug` text).
        let rebuilt = m.main_line(line).expect("the record fits the line");
        assert_eq!(format!("{rebuilt:?}"), format!("{f:?}"), "{line:?}");
        true
    }

    /// A line too long for a window, and windows of one byte repeated
    /// (every loop must end), are left to the other parsers.
    #[test]
    fn long_lines_and_full_windows_are_not_read() {
        let pad = " ".repeat(LIMIT);
        let long = format!("all tcp 10.0.0.1:1 -> 10.0.0.2:2{pad}ESTABLISHED:ESTABLISHED");
        assert!(window_of(long.as_bytes()).is_none());
        let mut cut = padded(long.as_bytes());
        cut[WINDOW - 1] = b'\n';
        assert!(main_line_into(&cut, &mut Main::default()).is_none());
        let seq_long = format!("   [1 + 2]{pad}[3 + 4]\n");
        assert!(continuation(&padded(seq_long.as_bytes())).is_none());
        for c in [b' ', b'1', b'a', b'A', b':', b'\t', b'f'] {
            let w = [c; WINDOW + REACH];
            assert!(main_line_into(&w, &mut Main::default()).is_none(), "{c}");
            assert!(continuation(&w).is_none(), "{c}");
            assert!(
                seq_line(&w, 0).is_none() && age_line(&w, 0).is_none() && id_line(&w, 0).is_none()
            );
        }
        // Just inside the limit, the same line is read.
        let fits = format!(
            "all tcp 10.0.0.1:1 -> 10.0.0.2:2{}ESTABLISHED:ESTABLISHED",
            " ".repeat(LIMIT - 60)
        );
        assert!(main_line(fits.as_bytes()).is_some(), "{}", fits.len());
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
