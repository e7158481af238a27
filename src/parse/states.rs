//! `pfctl -ss` / `-vss` / `-vvss` (every OS flavour): see pfctl-formats.md §1.
//!
//! A state is one main line (it starts in column 0) followed by continuation
//! lines (they start with blanks): the TCP sequence line, the `age` line, the
//! `id:` line and FreeBSD's `origif:` line. The parser is a push parser: it
//! keeps at most one pending state and hands it out when the next main line
//! (or the end of input) arrives, so tables of millions of states stream.
//!
//! Mapping to [`State`]:
//! * `src`/`dst` follow the arrow (`a -> b`: `a` opened the connection to
//!   `b`; `a <- b`: `b` opened it to `a`); a `( … )` host goes to the
//!   `src_nat`/`dst_nat` of the same side.
//! * `src_state`/`dst_state` and `seq` are the initiator's then the
//!   responder's: pfctl prints inbound states responder first, so the
//!   parser swaps them back (`PROXY:SRC`/`PROXY:DST` stay as printed).
//! * OpenBSD `{addr}` braces become `route: {kind: route-to, addr}`.
//! * af-to states (one family outside the parentheses, the other inside) are
//!   inbound even though pfctl prints `->` for them.
//! * Old three-address states (`lan -> gwy -> ext`, macOS `lan <- gwy <- ext`)
//!   put `gwy` in `gateway`.
//! * `<BAD STATE LEVELS a:b>` keeps the raw levels: `src_state = "a"`,
//!   `dst_state = "b"` (`"?"` for the 2002 form without numbers).
//! * The 2002 single-value `N pkts, N bytes` totals are stored as `(N, 0)`.
//! * The 2002 format without an interface column gets an empty `iface`.
//! * The old `(no-sync)` suffix of the id line becomes the flag `no-sync`.

mod fast;
pub mod skim;

use std::collections::HashSet;
use std::io::{self, BufRead};
use std::sync::Arc;

use crate::model::{
    Diagnostic, Direction, Endpoint, HostAddr, RouteKind, SeqWindow, Severity, State, StateRoute,
};
use crate::parse::common::{
    DiagCap, Expected, PResult, TextLine, blank0, blank1, clip, column_of, counter_pair, dec_u8,
    dec_u32, dec_u64, duration, end_of_line, endpoint, expect, fail, for_each_text_line,
    hex_creator, hex_id, host_addr, is_blank, keyword, nul_column, split_lines, too_long, word,
};

/// Interned strings kept per field; beyond this, strings are not cached.
const MAX_INTERNED: usize = 4096;

/// Shares one `Arc<str>` among the millions of states that repeat the same
/// interface, protocol or peer-state text.
#[derive(Debug, Default)]
struct Interner {
    /// The few common values, searched linearly (faster than hashing).
    recent: Vec<Arc<str>>,
    /// Everything else (many interfaces), up to [`MAX_INTERNED`].
    rest: HashSet<Arc<str>>,
    /// Index in `recent` of the last value found there.
    last: usize,
}

impl Interner {
    const LINEAR: usize = 16;

    fn get(&mut self, s: &str) -> Arc<str> {
        // Consecutive states mostly repeat the previous value.
        if let Some(a) = self.recent.get(self.last)
            && **a == *s
        {
            return Arc::clone(a);
        }
        if let Some(i) = self.recent.iter().position(|a| **a == *s) {
            self.last = i;
            return Arc::clone(&self.recent[i]);
        }
        if self.recent.len() < Self::LINEAR {
            let a: Arc<str> = Arc::from(s);
            self.last = self.recent.len();
            self.recent.push(Arc::clone(&a));
            return a;
        }
        if let Some(a) = self.rest.get(s) {
            return Arc::clone(a);
        }
        let a: Arc<str> = Arc::from(s);
        if self.rest.len() < MAX_INTERNED {
            self.rest.insert(Arc::clone(&a));
        }
        a
    }
}

/// Line-by-line state parser (push API), used by [`read_states`] and by the
/// mixed-input parser ([`crate::parse::parse_any`]).
#[derive(Debug, Default)]
pub struct StatesParser {
    pending: Option<State>,
    /// [`Self::push_into`] mode: the last state of the caller's vector is
    /// still receiving continuation lines (it is never moved out and back).
    open: bool,
    /// Line number of a main line that could not be parsed: its continuation
    /// lines are reported as skipped, not as orphans.
    skipping: Option<usize>,
    ifaces: Interner,
    protos: Interner,
    peer_states: Interner,
}

impl StatesParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line (no line terminator; a trailing `\r` is already gone).
    /// Returns the state that this line completed, if any: a state is
    /// complete when the next main line starts, or at [`Self::finish`].
    pub fn push(
        &mut self,
        line_no: usize,
        line: &str,
        diags: &mut Vec<Diagnostic>,
    ) -> Option<State> {
        let Some(first) = line.chars().next() else {
            return None; // blank lines carry nothing (`pfctl -sa` prints them)
        };
        if let Some(col) = nul_column(line) {
            let continued = is_blank(first);
            // A rejected main line completes the pending state.
            let done = if continued { None } else { self.pending.take() };
            self.reject(line_no, line, col, continued, diags);
            return done;
        }
        if is_blank(first) {
            self.push_continuation(line_no, line, diags);
            return None;
        }
        let done = self.pending.take();
        match self.parse_main(line_no, line) {
            Ok(state) => {
                self.pending = Some(state);
                self.skipping = None;
            }
            Err(e) => {
                diags.push(error_at(line_no, line, &e));
                self.skipping = Some(line_no);
            }
        }
        done
    }

    /// Ends the input, returning the last state if one is pending.
    pub fn finish(&mut self, diags: &mut Vec<Diagnostic>) -> Option<State> {
        let _ = diags; // a pending state is always complete: nothing to report
        self.skipping = None;
        self.pending.take()
    }

    fn push_continuation(&mut self, line_no: usize, line: &str, diags: &mut Vec<Diagnostic>) {
        continuation_of(self.pending.as_mut(), self.skipping, line_no, line, diags);
    }

    /// Like [`Self::push`], but appends each state to `out` as soon as its
    /// main line is read and applies continuation lines to it in place: a
    /// `State` is large, and moving it through `push`'s return value costs
    /// a few copies per state. Call [`Self::close`] at the end. Do not mix
    /// with [`Self::push`] on one parser.
    pub(crate) fn push_into(
        &mut self,
        line_no: usize,
        line: &str,
        diags: &mut Vec<Diagnostic>,
        out: &mut Vec<State>,
    ) {
        let Some(&first) = line.as_bytes().first() else {
            return;
        };
        // The continuation lines pfctl prints take a fast path first: none
        // accepts a NUL byte, so the search for one is left to the others.
        if (first == b' ' || first == b'\t')
            && self.open
            && let Some(state) = out.last_mut()
            && fast_continuation(state, blank0(line))
        {
            return;
        }
        if let Some(col) = nul_column(line) {
            let continued = first == b' ' || first == b'\t';
            self.reject(line_no, line, col, continued, diags);
            return;
        }
        if first == b' ' || first == b'\t' {
            let target = if self.open { out.last_mut() } else { None };
            continuation_of(target, self.skipping, line_no, line, diags);
            return;
        }
        match main_line(line) {
            Ok((_, m)) => self.push_parsed(line_no, m, out),
            Err(e) => {
                let e = into_expected(e);
                diags.push(error_at(line_no, line, &e));
                self.open = false;
                self.skipping = Some(line_no);
            }
        }
    }

    /// [`Self::push_into`] for a line that is a valid main line; false (and
    /// nothing done, nothing reported) for any other line. Lets mixed input
    /// parse a state line once instead of recognising it first.
    pub(crate) fn push_main_into(
        &mut self,
        line_no: usize,
        line: &str,
        out: &mut Vec<State>,
    ) -> bool {
        if line.starts_with(is_blank) || memchr::memchr(0, line.as_bytes()).is_some() {
            return false;
        }
        match main_line(line) {
            Ok((_, m)) => {
                self.push_parsed(line_no, m, out);
                true
            }
            Err(_) => false,
        }
    }

    /// Appends the state of a parsed main line; it receives the
    /// continuation lines that follow.
    #[inline(always)]
    fn push_parsed(&mut self, line_no: usize, m: MainLine<'_>, out: &mut Vec<State>) {
        out.push(self.build(line_no, m));
        self.open = true;
        self.skipping = None;
    }

    /// Reports a line with a NUL byte and skips it. A main line also ends
    /// the pending state: the continuation lines after it are skipped, never
    /// applied to the state before.
    fn reject(
        &mut self,
        line_no: usize,
        line: &str,
        column: usize,
        continued: bool,
        diags: &mut Vec<Diagnostic>,
    ) {
        diags.push(Diagnostic {
            line: line_no,
            column,
            severity: Severity::Error,
            message: "NUL byte: this is not pfctl text; line skipped".to_owned(),
            text: clip(line),
        });
        if !continued {
            self.open = false;
            self.skipping = Some(line_no);
        }
    }

    /// Ends the input of [`Self::push_into`]: continuation lines after this
    /// belong to no state.
    pub fn close(&mut self) {
        self.open = false;
        self.skipping = None;
    }

    #[inline(always)]
    fn parse_main<'a>(&mut self, line_no: usize, line: &'a str) -> Result<State, Expected<'a>> {
        let (_, m) = main_line(line).map_err(into_expected)?;
        Ok(self.build(line_no, m))
    }

    #[inline(always)]
    fn build(&mut self, line_no: usize, mut m: MainLine<'_>) -> State {
        let route = m
            .left
            .route
            .take()
            .or_else(|| m.right.route.take())
            .map(|addr| {
                Box::new(StateRoute {
                    kind: RouteKind::RouteTo,
                    addr: Some(addr),
                    iface: None,
                })
            });
        let (direction, src, dst, gateway) = orient(m.arrow, m.left, m.right, m.third);
        let (src_state, dst_state) = peer_order(direction, m.pair);
        State {
            line: line_no,
            iface: self.ifaces.get(m.iface),
            proto: self.protos.get(m.proto),
            direction,
            src: src.host,
            dst: dst.host,
            src_nat: src.nat.map(Box::new),
            dst_nat: dst.nat.map(Box::new),
            gateway: gateway.map(Box::new),
            src_state: self.peer_states.get(src_state),
            dst_state: self.peer_states.get(dst_state),
            age: None,
            expires: None,
            packets: None,
            bytes: None,
            anchor: None,
            rule: None,
            flags: Vec::new(),
            id: None,
            creator_id: None,
            route,
            rtable: None,
            origif: None,
            seq: None,
            verbose: false,
        }
    }
}

/// Applies a continuation line to `target` (the state it belongs to), or
/// reports it: skipped after an unparsed main line, an orphan otherwise.
fn continuation_of(
    target: Option<&mut State>,
    skipping: Option<usize>,
    line_no: usize,
    line: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let body = blank0(line);
    if body.is_empty() {
        return;
    }
    if let Some(state) = target {
        continuation(state, line_no, line, body, diags);
    } else if let Some(main) = skipping {
        diags.push(diagnostic(
            line_no,
            line,
            body,
            Severity::Warning,
            format!("skipped: continuation of the unparsed state on line {main}"),
        ));
    } else {
        diags.push(diagnostic(
            line_no,
            line,
            body,
            Severity::Error,
            "expected a state line (interface, protocol, hosts) before this continuation line"
                .to_owned(),
        ));
    }
}

/// pfctl prints the peers of inbound states responder first (`src = &s->dst`
/// in `print_state()`), whatever the arrow: puts the initiator first again.
/// `PROXY:SRC` / `PROXY:DST` name the whole state and keep their order.
fn peer_order<T>(direction: Direction, pair: (T, T)) -> (T, T)
where
    T: AsRef<str>,
{
    let proxy = pair.0.as_ref() == "PROXY";
    if direction == Direction::In && !proxy {
        (pair.1, pair.0)
    } else {
        pair
    }
}

/// Turns the arrow and the printed sides into direction, source,
/// destination and (three-address form) gateway.
#[inline(always)]
fn orient(
    arrow: Arrow,
    left: Side,
    right: Side,
    third: Option<Side>,
) -> (Direction, Side, Side, Option<Endpoint>) {
    let direction = direction(arrow, &left, &right, third.is_some());
    match (arrow, third) {
        // `lan -> gwy -> ext`: lan opened the connection, gwy is its NAT address.
        (Arrow::Right, Some(ext)) => (direction, left, ext, Some(right.host)),
        // `lan <- gwy <- ext`: ext connected to gwy, redirected to lan.
        (Arrow::Left, Some(ext)) => (direction, ext, left, Some(right.host)),
        (Arrow::Right, None) => (direction, left, right, None),
        (Arrow::Left, None) => (direction, right, left, None),
    }
}

/// The direction a state line shows: `->` is outbound, `<-` inbound,
/// except that pfctl prints `->` for inbound af-to states too (§1.3 step 6).
#[inline(always)]
fn direction(arrow: Arrow, left: &Side, right: &Side, three_addresses: bool) -> Direction {
    match arrow {
        Arrow::Right if !three_addresses && (left.is_afto() || right.is_afto()) => Direction::In,
        Arrow::Right => Direction::Out,
        Arrow::Left => Direction::In,
    }
}

/// The direction of the state a parsed main line describes.
fn main_direction(m: &MainLine<'_>) -> Direction {
    direction(m.arrow, &m.left, &m.right, m.third.is_some())
}

fn into_expected(e: nom::Err<Expected<'_>>) -> Expected<'_> {
    match e {
        nom::Err::Error(e) | nom::Err::Failure(e) => e,
        // Complete parsers never ask for more input; report it anyway.
        nom::Err::Incomplete(_) => Expected {
            at: "",
            what: "more input",
        },
    }
}

/// The arrow of a state line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Arrow {
    /// `->`
    Right,
    /// `<-`
    Left,
}

/// One printed side of a state line: `host [(other key)] [{route-to}]`.
#[derive(Debug)]
struct Side {
    host: Endpoint,
    nat: Option<Endpoint>,
    route: Option<HostAddr>,
}

impl Side {
    /// True when the parenthesised key has the other address family (af-to).
    fn is_afto(&self) -> bool {
        match (&self.host.addr, self.nat.as_ref().map(|n| &n.addr)) {
            (HostAddr::Ip(a), Some(HostAddr::Ip(b))) => a.is_ipv4() != b.is_ipv4(),
            _ => false,
        }
    }
}

/// The main line, borrowed from the input.
#[derive(Debug)]
struct MainLine<'a> {
    iface: &'a str,
    proto: &'a str,
    arrow: Arrow,
    left: Side,
    right: Side,
    /// The external host of an old three-address state (then `right` is the gateway).
    third: Option<Side>,
    pair: (&'a str, &'a str),
}

/// `IFACE PROTO side ARROW side[ ARROW side]`, everything before the pair.
struct Head<'a> {
    iface: &'a str,
    proto: &'a str,
    arrow: Arrow,
    left: Side,
    right: Side,
    third: Option<Side>,
}

#[inline(always)]
fn head(line: &str) -> PResult<'_, Head<'_>> {
    let (rest, first) = expect(line, "an interface name", word(line))?;
    let (second_at, _) = blank1(rest)?;
    let (rest, second) = expect(second_at, "a protocol", word(second_at))?;
    // The 2002 format had no interface column: `proto host -> host`.
    let (iface, proto, hosts_at) = if arrow_follows(rest) {
        ("", first, second_at)
    } else {
        let (hosts_at, _) = blank1(rest)?;
        (first, second, hosts_at)
    };
    let (rest, left) = side(hosts_at)?;
    let (right_at, arrow1) = arrow(rest)?;
    let (rest, right) = side(right_at)?;
    if left.route.is_some() && right.route.is_some() {
        return fail(right_at, "only one route-to address {…} per state");
    }
    // Most states have two sides: the cheap test spares `arrow`'s error.
    let third_arrow = if arrow_follows(rest) {
        arrow(rest)
    } else {
        fail(rest, "")
    };
    let (rest, third) = match third_arrow {
        Ok((third_at, arrow2)) => {
            if arrow2 != arrow1 {
                return fail(blank0(rest), "the same arrow as before");
            }
            if left.nat.is_some() || right.nat.is_some() || left.route.is_some() {
                return fail(third_at, "no '(…)' or '{…}' in a three-address state");
            }
            let (rest, third) = side(third_at)?;
            (rest, Some(third))
        }
        Err(_) => (rest, None),
    };
    Ok((
        rest,
        Head {
            iface,
            proto,
            arrow: arrow1,
            left,
            right,
            third,
        },
    ))
}

#[inline(always)]
fn main_line(line: &str) -> PResult<'_, MainLine<'_>> {
    let (rest, h) = head(line)?;
    let (rest, _) = if rest.is_empty() {
        return fail(rest, "a state pair like ESTABLISHED:ESTABLISHED");
    } else {
        blank1(rest)?
    };
    let (rest, pair) = state_pair(rest)?;
    Ok((
        rest,
        MainLine {
            iface: h.iface,
            proto: h.proto,
            arrow: h.arrow,
            left: h.left,
            right: h.right,
            third: h.third,
            pair,
        },
    ))
}

/// True exactly when [`arrow`] would read one at the start of `input`
/// (blanks, `->` or `<-`, blanks), without building its error otherwise.
#[inline(always)]
fn arrow_follows(input: &str) -> bool {
    let b = input.as_bytes();
    let at = b.iter().take_while(|&&c| c == b' ' || c == b'\t').count();
    matches!(
        b.get(at..at + 3),
        Some([b'-', b'>', b' ' | b'\t'] | [b'<', b'-', b' ' | b'\t'])
    ) && at > 0
}

/// ` -> ` or ` <- ` (blanks around it are lenient, but required).
fn arrow(input: &str) -> PResult<'_, Arrow> {
    let at = blank0(input);
    if at.len() == input.len() {
        return fail(input, "a space and an arrow '->' or '<-'");
    }
    let (rest, arrow) = if let Some(r) = at.strip_prefix("->") {
        (r, Arrow::Right)
    } else if let Some(r) = at.strip_prefix("<-") {
        (r, Arrow::Left)
    } else {
        return fail(at, "an arrow '->' or '<-'");
    };
    let (rest, _) = blank1(rest)?;
    Ok((rest, arrow))
}

/// `host [(host)] [{addr}]`.
#[inline(always)]
fn side(input: &str) -> PResult<'_, Side> {
    let (mut rest, host) = match fast::endpoint(input) {
        Some(found) => found,
        None => endpoint(input)?,
    };
    let mut side = Side {
        host,
        nat: None,
        route: None,
    };
    loop {
        let next = blank0(rest);
        if next.len() == rest.len() {
            break;
        }
        if side.nat.is_none() && side.route.is_none() && next.starts_with('(') {
            let (r, nat) = nat_host(next)?;
            side.nat = Some(nat);
            rest = r;
        } else if side.route.is_none() && next.starts_with('{') {
            let (r, addr) = route_brace(next)?;
            side.route = Some(addr);
            rest = r;
        } else {
            break;
        }
    }
    Ok((rest, side))
}

/// `(host)`, the other state key of a side (may hold an rdomain: `((3) a:p)`).
fn nat_host(input: &str) -> PResult<'_, Endpoint> {
    let (rest, _) = keyword(input, "(", "'('")?;
    // The fast reader answers as `endpoint` where it answers (as in `side`).
    let (rest, ep) = match fast::endpoint(rest) {
        Some(found) => found,
        None => endpoint(rest)?,
    };
    let (rest, _) = keyword(rest, ")", "')' after a translated host")?;
    Ok((rest, ep))
}

/// OpenBSD's `{addr}`: the route-to address of the state, without a port.
fn route_brace(input: &str) -> PResult<'_, HostAddr> {
    let (rest, _) = keyword(input, "{", "'{'")?;
    let end = rest.find(['}', ' ', '\t']).unwrap_or(rest.len());
    let (token, rest) = rest.split_at(end);
    let (_, addr) = host_addr(token)?;
    let (rest, _) = keyword(rest, "}", "'}' after a route-to address")?;
    Ok((rest, addr))
}

const PAIR_EXPECTED: &str = "a state pair like ESTABLISHED:ESTABLISHED";

/// The peer-state pair: `A:B`, `<BAD STATE LEVELS a:b>`, old `NO TRAFFIC:…`.
fn state_pair(input: &str) -> PResult<'_, (&str, &str)> {
    let text = input.trim_end_matches([' ', '\t']);
    if let Some(pair) = plain_pair(text) {
        return Ok(("", pair));
    }
    if let Some(r) = text.strip_prefix("<BAD STATE LEVELS") {
        return bad_state_levels(r);
    }
    let Some(colon) = text.bytes().position(|b| b == b':') else {
        return fail(input, PAIR_EXPECTED);
    };
    let (a, b) = (&text[..colon], &text[colon + 1..]);
    peer_state(a)?;
    peer_state(b)?;
    Ok(("", (a, b)))
}

/// Fast path of [`state_pair`]: `NAME:NAME` of peer-state characters with
/// one colon, checked in one pass; `None` leaves every other text (and the
/// errors) to the general path.
#[inline(always)]
fn plain_pair(text: &str) -> Option<(&str, &str)> {
    /// The bytes of a peer-state name (`peer_state`), as a table.
    const NAME: [bool; 256] = {
        let mut t = [false; 256];
        let mut c = 0;
        while c < 256 {
            let b = c as u8;
            t[c] = b.is_ascii_alphanumeric() || b == b'_' || b == b'?';
            c += 1;
        }
        t
    };
    let b = text.as_bytes();
    let colon = memchr::memchr(b':', b)?;
    let (first, second) = (&b[..colon], &b[colon + 1..]);
    if !(first.iter().all(|&c| NAME[usize::from(c)])
        && second.iter().all(|&c| NAME[usize::from(c)]))
    {
        return None;
    }
    let colon = Some(colon);
    // ASCII bytes around the colon: both halves are char boundaries.
    match colon {
        Some(i) if i > 0 && i + 1 < b.len() => Some((text.get(..i)?, text.get(i + 1..)?)),
        _ => None,
    }
}

/// The rest of `<BAD STATE LEVELS a:b>` (2002: `<BAD STATE LEVELS>`).
fn bad_state_levels(r: &str) -> PResult<'_, (&str, &str)> {
    if r == ">" {
        return Ok(("", ("?", "?")));
    }
    let (a_at, _) = blank1(r)?;
    let (colon, _) = dec_u32(a_at)?;
    let a = &a_at[..a_at.len() - colon.len()];
    let (b_at, _) = keyword(colon, ":", "':' between two state levels")?;
    let (close, _) = dec_u32(b_at)?;
    let b = &b_at[..b_at.len() - close.len()];
    let (rest, _) = keyword(close, ">", "'>' closing BAD STATE LEVELS")?;
    end_of_line(rest, "the end of the line")?;
    Ok(("", (a, b)))
}

/// One peer state: a name (`ESTABLISHED`, `SINGLE`, `?`), a number (ICMP),
/// or the old `NO TRAFFIC` with a space.
fn peer_state(s: &str) -> PResult<'_, ()> {
    if s == "NO TRAFFIC" {
        return Ok(("", ()));
    }
    if s.is_empty() {
        return fail(s, PAIR_EXPECTED);
    }
    // Byte search: the accepted characters are ASCII, so `i` is a char boundary.
    match s
        .bytes()
        .position(|b| !(b.is_ascii_alphanumeric() || b == b'_' || b == b'?'))
    {
        None => Ok(("", ())),
        Some(i) => fail(&s[i..], PAIR_EXPECTED),
    }
}

/// Applies one continuation line (`body` = the line without leading
/// blanks): the lines pfctl prints take a fast path ([`fast`]), anything
/// else the full parsers, which report what is wrong.
fn continuation(
    state: &mut State,
    line_no: usize,
    line: &str,
    body: &str,
    diags: &mut Vec<Diagnostic>,
) {
    if !fast_continuation(state, body) {
        slow_continuation(state, line_no, line, body, diags);
    }
}

/// Applies `body` if a fast path vouches for it; false (and `state`
/// untouched) otherwise. No fast path accepts a line with a NUL byte
/// (`fast_paths_reject_nul_bytes`): [`StatesParser::push_into`] runs this
/// before looking for one.
#[inline(always)]
fn fast_continuation(state: &mut State, body: &str) -> bool {
    let b = body.as_bytes();
    match b.first() {
        Some(b'[') => {
            if let Some((x, y)) = fast::seq_line(b) {
                state.seq = Some(Box::new(initiator_first(state.direction, x, y)));
                return true;
            }
        }
        Some(b'a') if b.starts_with(b"age ") => {
            if let Some(v) = fast::age_line(b).filter(|v| !v.flags) {
                apply_age(state, &v);
                return true;
            }
        }
        Some(b'i') => {
            if let Some((id, creator)) = fast::id_line(b) {
                state.id = Some(id);
                state.creator_id = Some(creator);
                return true;
            }
        }
        _ => {}
    }
    false
}

/// Sequence windows are printed in the order of the peer states.
fn initiator_first<T>(direction: Direction, printed_first: T, printed_second: T) -> (T, T) {
    match direction {
        Direction::In => (printed_second, printed_first),
        Direction::Out => (printed_first, printed_second),
    }
}

/// The items of a fast-parsed age line (items it lacks keep their value).
fn apply_age(state: &mut State, v: &fast::AgeLine) {
    state.verbose = true;
    if v.age.is_some() {
        state.age = v.age;
    }
    if v.expires.is_some() {
        state.expires = v.expires;
    }
    if v.packets.is_some() {
        state.packets = v.packets;
    }
    if v.bytes.is_some() {
        state.bytes = v.bytes;
    }
    if v.anchor.is_some() {
        state.anchor = v.anchor;
    }
    if v.rule.is_some() {
        state.rule = v.rule;
    }
}

/// [`continuation`] with the full parsers only.
fn slow_continuation(
    state: &mut State,
    line_no: usize,
    line: &str,
    body: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let result: Result<(), nom::Err<Expected<'_>>> = if body.starts_with('[') {
        seq_line(body).map(|(_, (a, b))| {
            state.seq = Some(Box::new(initiator_first(state.direction, a, b)));
        })
    } else if body.starts_with("age ") {
        state.verbose = true;
        age_line(state, line_no, line, body, diags);
        return;
    } else if body.starts_with("id:") {
        let read = id_line(state, body).map(|_| ());
        if read.is_err() && state.id.is_none() {
            // Kept apart from "no id line": the kill code relies on it.
            state.flags.push(crate::model::ID_UNREADABLE.into());
        }
        read
    } else if let Some(r) = body.strip_prefix("origif:") {
        origif_line(r).map(|(_, name)| state.origif = Some(name.into()))
    } else {
        fail(body, "a sequence, age, id or origif line").map(|(_, ())| ())
    };
    if let Err(e) = result {
        diags.push(error_at(line_no, line, &into_expected(e)));
    }
}

/// `[seqlo + win](+diff) wscale N  [seqlo + win](+diff) wscale N`.
fn seq_line(body: &str) -> PResult<'_, (SeqWindow, SeqWindow)> {
    let (rest, a) = seq_window(body)?;
    let (rest, _) = blank1(rest)?;
    let (rest, b) = seq_window(rest)?;
    end_of_line(rest, "the end of the sequence line")?;
    Ok(("", (a, b)))
}

fn seq_window(input: &str) -> PResult<'_, SeqWindow> {
    let (rest, _) = keyword(input, "[", "'[' of a sequence window")?;
    let (rest, seqlo) = dec_u32(rest)?;
    let (rest, _) = blank1(rest)?;
    let (rest, _) = keyword(rest, "+", "'+' in a sequence window")?;
    let (rest, _) = blank1(rest)?;
    let (rest, window) = dec_u32(rest)?;
    let (mut rest, _) = keyword(rest, "]", "']' closing a sequence window")?;
    let mut seqdiff = None;
    if let Some(r) = rest.strip_prefix("(+") {
        let (r, d) = dec_u32(r)?;
        let (r, _) = keyword(r, ")", "')' after a sequence modulator")?;
        seqdiff = Some(d);
        rest = r;
    }
    let mut wscale = None;
    let next = blank0(rest);
    if let Some(r) = next.strip_prefix("wscale") {
        let (r, _) = blank1(r)?;
        let (r, w) = dec_u8(r)?;
        wscale = Some(w);
        rest = r;
    }
    Ok((
        rest,
        SeqWindow {
            seqlo,
            window,
            seqdiff,
            wscale,
        },
    ))
}

/// `age …, expires in …, a:b pkts, a:b bytes[, anchor M][, rule N][, flag]*`.
/// Each item is parsed on its own: a bad item is reported and skipped.
fn age_line(
    state: &mut State,
    line_no: usize,
    line: &str,
    body: &str,
    diags: &mut Vec<Diagnostic>,
) {
    let mut rest = body;
    loop {
        // Byte search: items are short, a memchr call per item costs more.
        let (item, next) = match rest.bytes().position(|b| b == b',') {
            Some(i) => (&rest[..i], Some(&rest[i + 1..])),
            None => (rest, None),
        };
        let item = blank0(item).trim_end_matches(is_blank);
        if let Err(e) = age_item(state, item) {
            diags.push(error_at(line_no, line, &into_expected(e)));
        }
        match next {
            Some(n) => rest = n,
            None => break,
        }
    }
}

fn age_item<'a>(state: &mut State, item: &'a str) -> PResult<'a, ()> {
    // Dispatch on the first byte before comparing keywords (hot path).
    let known = match item.as_bytes().first() {
        None => return fail(item, "an item between commas"),
        Some(b'a') => {
            if let Some(r) = item.strip_prefix("age ") {
                state.age = Some(whole_item(r, duration)?);
                true
            } else if let Some(r) = item.strip_prefix("anchor ") {
                state.anchor = Some(whole_item(r, dec_u32)?);
                true
            } else {
                false
            }
        }
        Some(b'e') => match item.strip_prefix("expires in ") {
            Some(r) => {
                state.expires = Some(whole_item(r, duration)?);
                true
            }
            None => false,
        },
        Some(b'r') => match item.strip_prefix("rule ") {
            Some(r) => {
                state.rule = Some(whole_item(r, dec_u32)?);
                true
            }
            None => false,
        },
        Some(b'0'..=b'9') => {
            if let Some(r) = item.strip_suffix(" pkts") {
                state.packets = Some(counts(r)?);
                true
            } else if let Some(r) = item.strip_suffix(" bytes") {
                state.bytes = Some(counts(r)?);
                true
            } else {
                // No flag starts with a digit: this is a damaged or cut line.
                return fail(item, "`N:N pkts` or `N:N bytes`");
            }
        }
        Some(_) => false,
    };
    if !known {
        // Flag words grow with every release: keep unknown items verbatim.
        state.flags.push(item.into());
    }
    Ok(("", ()))
}

/// Runs `p` on an item value that must be consumed entirely.
fn whole_item<'a, T>(
    r: &'a str,
    p: impl Fn(&'a str) -> PResult<'a, T>,
) -> Result<T, nom::Err<Expected<'a>>> {
    let (rest, v) = p(blank0(r))?;
    end_of_line(rest, "',' or the end of the line")?;
    Ok(v)
}

/// `a:b` counters, or the 2002 single total (stored as `(total, 0)`).
fn counts(r: &str) -> Result<(u64, u64), nom::Err<Expected<'_>>> {
    let r = blank0(r);
    if r.contains(':') {
        whole_item(r, counter_pair)
    } else {
        Ok((whole_item(r, dec_u64)?, 0))
    }
}

/// `id: HEX16 creatorid: HEX8` and FreeBSD/pfSense/old suffixes.
fn id_line<'a>(state: &mut State, body: &'a str) -> PResult<'a, ()> {
    let (rest, _) = keyword(body, "id:", "'id:'")?;
    let (rest, id) = hex_id(blank0(rest))?;
    let (rest, _) = blank1(rest)?;
    let (rest, _) = keyword(rest, "creatorid:", "'creatorid:'")?;
    let (mut rest, creator) = hex_creator(blank0(rest))?;
    state.id = Some(id);
    state.creator_id = Some(creator);
    loop {
        let at = blank0(rest);
        if at.is_empty() {
            return Ok((at, ()));
        }
        if at.len() == rest.len() {
            return fail(at, "a space");
        }
        if let Some(r) = at.strip_prefix("(no-sync)") {
            state.flags.push("no-sync".into());
            rest = r;
        } else if let Some((kind, r)) = route_keyword(at) {
            let (r, route) = id_route(blank0(r), kind)?;
            state.route = Some(Box::new(route));
            rest = r;
        } else if let Some(r) = at.strip_prefix("rtable:") {
            let (r, n) = dec_u32(blank0(r))?;
            state.rtable = Some(n);
            rest = r;
        } else {
            return fail(
                at,
                "route-to:, reply-to:, dup-to:, gateway:, rtable: or the end of the line",
            );
        }
    }
}

fn route_keyword(at: &str) -> Option<(RouteKind, &str)> {
    const KINDS: [(&str, RouteKind); 4] = [
        ("route-to:", RouteKind::RouteTo),
        ("reply-to:", RouteKind::ReplyTo),
        ("dup-to:", RouteKind::DupTo),
        ("gateway:", RouteKind::Gateway),
    ];
    KINDS
        .iter()
        .find_map(|(kw, kind)| at.strip_prefix(kw).map(|r| (*kind, r)))
}

/// `addr[@iface]` after a route keyword of the id line.
fn id_route(input: &str, kind: RouteKind) -> PResult<'_, StateRoute> {
    let end = input.find([' ', '\t', '@']).unwrap_or(input.len());
    let (token, rest) = input.split_at(end);
    let (_, addr) = expect(token, "a next-hop address", host_addr(token))?;
    let (rest, iface) = match rest.strip_prefix('@') {
        Some(r) => {
            let (r, name) = expect(r, "an interface name after '@'", word(r))?;
            (r, Some(name.into()))
        }
        None => (rest, None),
    };
    Ok((
        rest,
        StateRoute {
            kind,
            addr: Some(addr),
            iface,
        },
    ))
}

/// `origif: IFNAME` (after the keyword).
fn origif_line(r: &str) -> PResult<'_, &str> {
    let (rest, name) = expect(blank0(r), "an interface name", word(blank0(r)))?;
    end_of_line(rest, "the end of the line")?;
    Ok(("", name))
}

fn diagnostic(
    line_no: usize,
    line: &str,
    at: &str,
    severity: Severity,
    message: String,
) -> Diagnostic {
    Diagnostic {
        line: line_no,
        column: column_of(line, at),
        severity,
        message,
        text: clip(line),
    }
}

fn error_at(line_no: usize, line: &str, e: &Expected<'_>) -> Diagnostic {
    diagnostic(
        line_no,
        line,
        e.at,
        Severity::Error,
        format!("expected {}", e.what),
    )
}

/// True if `line` looks like the first line of a state (interface, protocol,
/// hosts and an arrow): lets mixed input (`pfctl -sa`) find the states.
/// The peer-state pair is not required, so a state line with a damaged tail
/// is still recognised (and then reported by the parser).
pub fn looks_like_state(line: &str) -> bool {
    if line.starts_with(is_blank) {
        return false;
    }
    matches!(head(line), Ok((rest, _)) if rest.is_empty() || rest.starts_with(is_blank))
}

/// Streams states from `input` without holding the text: invalid UTF-8 and
/// CRLF endings are handled per line.
pub fn read_states<R: BufRead>(
    mut input: R,
    mut on_state: impl FnMut(State),
    diags: &mut Vec<Diagnostic>,
) -> io::Result<()> {
    /// States handed out together: the last one of a batch may still get
    /// continuation lines, so it stays behind.
    const BATCH: usize = 64;
    let mut parser = StatesParser::new();
    let mut batch: Vec<State> = Vec::with_capacity(BATCH + 1);
    let mut line_no = 0;
    let mut cap = DiagCap::default();
    for_each_text_line(&mut input, |line| {
        line_no += 1;
        match line {
            TextLine::Text(text) => {
                let text = text.strip_suffix('\r').unwrap_or(text);
                parser.push_into(line_no, text, diags, &mut batch);
            }
            TextLine::Bytes(mut buf) => {
                if let Some(b) = buf.strip_suffix(b"\r") {
                    buf = b;
                }
                let line = String::from_utf8_lossy(buf);
                let valid = std::str::from_utf8(buf).map_or_else(|e| e.valid_up_to(), str::len);
                diags.push(Diagnostic {
                    line: line_no,
                    column: line.get(..valid).map_or(1, |v| v.chars().count() + 1),
                    severity: Severity::Warning,
                    message: "expected UTF-8 text: invalid bytes replaced by U+FFFD".to_owned(),
                    text: clip(&line),
                });
                parser.push_into(line_no, &line, diags, &mut batch);
            }
            TextLine::TooLong(len) => diags.push(too_long(line_no, len)),
        }
        if batch.len() > BATCH {
            let done = batch.len() - 1;
            batch.drain(..done).for_each(&mut on_state);
        }
        cap.trim(diags);
    })?;
    parser.close();
    cap.finish(diags);
    batch.into_iter().for_each(on_state);
    Ok(())
}

/// Parses a whole state listing held in memory.
pub fn parse_states(text: &str) -> (Vec<State>, Vec<Diagnostic>) {
    let mut parser = StatesParser::new();
    // About 100 bytes per plain state, 300 per -vv state: a cheap size hint.
    let mut states = Vec::with_capacity(text.len() / 256);
    let mut diags = Vec::new();
    let body = text.strip_suffix('\n').unwrap_or(text);
    for (i, line) in split_lines(body).enumerate() {
        let line = line.strip_suffix('\r').unwrap_or(line);
        parser.push_into(i + 1, line, &mut diags, &mut states);
    }
    parser.close();
    (states, diags)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Port;

    fn one(text: &str) -> State {
        let (mut states, diags) = parse_states(text);
        assert!(diags.is_empty(), "unexpected diagnostics: {diags:#?}");
        assert_eq!(states.len(), 1);
        states.remove(0)
    }

    fn ep(s: &str) -> Endpoint {
        match endpoint(s) {
            Ok(("", e)) => e,
            other => panic!("bad endpoint {s}: {other:?}"),
        }
    }

    #[test]
    fn fast_paths_reject_nul_bytes() {
        let printed = [
            "[1952540566 + 53059] wscale 2  [3475871366 + 48412] wscale 7",
            "[1 + 2](+3) wscale 1  [4 + 5](+6)  ",
            "age 20:38:57, expires in 11:26:20, 1326:664 pkts, 119340:928200 bytes, rule 4",
            "age 00:00:01, expires in 00:00:10, 1:1 pkts, 60:60 bytes, anchor 2, rule 3",
            "age 00:00:01, expires in 00:00:10, 7 pkts, 60 bytes",
            "id: 64f1a2b300000000 creatorid: 4e1f00c2",
            "id: 64f1a2b300000000 creatorid: 4e1f00c2  ",
            "id:  64f1a2b3 \tcreatorid:\t4e1f00c2",
        ];
        let base = one("all tcp 10.0.0.1:1 -> 10.0.0.2:2       ESTABLISHED:ESTABLISHED\n");
        for body in printed {
            assert!(
                fast_continuation(&mut base.clone(), body),
                "a fast path takes {body:?}"
            );
            for at in 0..=body.len() {
                for cut in [0, 1] {
                    let mut b = body.as_bytes().to_vec();
                    if cut == 1 && at < b.len() {
                        b[at] = 0;
                    } else {
                        b.insert(at, 0);
                    }
                    let text = String::from_utf8(b).expect("ASCII");
                    let mut state = base.clone();
                    assert!(!fast_continuation(&mut state, &text), "{text:?}");
                    assert_eq!(state, base, "{text:?} left the state as it was");
                }
            }
        }
        // Through the parser: still reported as a NUL byte.
        let (states, diags) = parse_states(
            "all tcp 10.0.0.1:1 -> 10.0.0.2:2       ESTABLISHED:ESTABLISHED\n   id: 64f1a2b300000000 creatorid: 4e1f\x0000c2\n",
        );
        assert_eq!(states.len(), 1);
        assert_eq!(states[0].id, None);
        assert_eq!(diags.len(), 1);
        assert!(diags[0].message.starts_with("NUL byte"), "{diags:?}");
    }

    #[test]
    fn arrow_parser() {
        assert_eq!(arrow(" -> x"), Ok(("x", Arrow::Right)));
        assert_eq!(arrow(" <- x"), Ok(("x", Arrow::Left)));
        assert!(arrow("-> x").is_err());
        assert!(arrow(" => x").is_err());
        for input in [
            " -> x", "\t<-\tx", "  ->  ", " -> ", " ->", "-> x", " ->x", " <> x", " - > x", "",
            " ", " <-", " <-\t", "x -> y",
        ] {
            assert_eq!(arrow_follows(input), arrow(input).is_ok(), "{input:?}");
        }
    }

    #[test]
    fn state_pairs() {
        assert_eq!(
            state_pair("ESTABLISHED:ESTABLISHED"),
            Ok(("", ("ESTABLISHED", "ESTABLISHED")))
        );
        assert_eq!(state_pair("PROXY:SRC  "), Ok(("", ("PROXY", "SRC"))));
        assert_eq!(state_pair("<BAD STATE LEVELS 12:3>"), Ok(("", ("12", "3"))));
        assert_eq!(state_pair("<BAD STATE LEVELS>"), Ok(("", ("?", "?"))));
        assert_eq!(
            state_pair("NO TRAFFIC:SINGLE"),
            Ok(("", ("NO TRAFFIC", "SINGLE")))
        );
        assert_eq!(state_pair("0:0"), Ok(("", ("0", "0"))));
        assert_eq!(state_pair("?:?"), Ok(("", ("?", "?"))));
        assert!(state_pair("ESTABLISHED").is_err());
        assert!(state_pair("A:B:C").is_err());
        assert!(state_pair("A B:C").is_err());
        assert!(state_pair("<BAD STATE LEVELS 1:2").is_err());
    }

    #[test]
    fn seq_windows() {
        let (a, b) = match seq_line("[3819234101 + 66560] wscale 7  [2234550001 + 65535] wscale 8")
        {
            Ok((_, v)) => v,
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(
            a,
            SeqWindow {
                seqlo: 3819234101,
                window: 66560,
                seqdiff: None,
                wscale: Some(7)
            }
        );
        assert_eq!(b.wscale, Some(8));
        let (a, b) = match seq_line("[1000 + 65535](+4000123)  [52000 + 16384]") {
            Ok((_, v)) => v,
            Err(e) => panic!("{e:?}"),
        };
        assert_eq!(a.seqdiff, Some(4000123));
        assert_eq!((a.wscale, b.wscale, b.seqdiff), (None, None, None));
        assert!(seq_line("[1 + 2]").is_err());
        assert!(seq_line("[4294967296 + 2]  [1 + 1]").is_err());
    }

    #[test]
    fn route_braces_and_nat_hosts() {
        assert_eq!(
            route_brace("{192.0.2.254} x"),
            Ok((" x", HostAddr::Ip("192.0.2.254".parse().expect("ip"))))
        );
        assert!(route_brace("{192.0.2.254 x").is_err());
        let (rest, e) = nat_host("((3) 10.2.2.2:80) <-").expect("nat");
        assert_eq!(rest, " <-");
        assert_eq!(e.rdomain, Some(3));
    }

    #[test]
    fn outbound_nat_state() {
        let s = one(
            "all tcp 203.0.113.5:61024 (192.168.1.10:51514) -> 93.184.216.34:443       ESTABLISHED:ESTABLISHED\n",
        );
        assert_eq!(s.direction, Direction::Out);
        assert_eq!(s.src, ep("203.0.113.5:61024"));
        assert_eq!(s.src_nat.as_deref(), Some(&ep("192.168.1.10:51514")));
        assert_eq!(s.dst, ep("93.184.216.34:443"));
        assert_eq!(s.dst_nat, None);
        assert_eq!(&*s.src_state, "ESTABLISHED");
        assert!(!s.verbose);
    }

    #[test]
    fn inbound_rdr_state_swaps_sides() {
        let s = one(
            "all tcp 192.168.1.20:8080 (203.0.113.5:80) <- 198.51.100.7:49152       FIN_WAIT_2:FIN_WAIT_2",
        );
        assert_eq!(s.direction, Direction::In);
        assert_eq!(s.src, ep("198.51.100.7:49152"));
        assert_eq!(s.dst, ep("192.168.1.20:8080"));
        assert_eq!(s.dst_nat.as_deref(), Some(&ep("203.0.113.5:80")));
        assert_eq!(s.src_nat, None);
    }

    #[test]
    fn inbound_peers_are_printed_responder_first() {
        let s = one(
            "all tcp 10.1.1.1:22 <- 10.1.1.50:60000       CLOSED:SYN_SENT\n   [1 + 2]  [3 + 4] \n",
        );
        // The client (src) sent the SYN.
        assert_eq!(s.src, ep("10.1.1.50:60000"));
        assert_eq!((&*s.src_state, &*s.dst_state), ("SYN_SENT", "CLOSED"));
        let (a, b) = *s.seq.expect("seq");
        assert_eq!((a.seqlo, b.seqlo), (3, 1));
        let s = one("all tcp 10.1.1.1:22 <- 10.1.1.50:60000       PROXY:DST");
        assert_eq!((&*s.src_state, &*s.dst_state), ("PROXY", "DST"));
        let s = one("all tcp 10.1.1.50:60000 -> 10.1.1.1:22       SYN_SENT:CLOSED");
        assert_eq!((&*s.src_state, &*s.dst_state), ("SYN_SENT", "CLOSED"));
    }

    #[test]
    fn afto_state_is_inbound() {
        let s = one(
            "all tcp 192.0.2.1:52431 (2001:db8::1[52431]) -> 198.51.100.5:80 (64:ff9b::c633:6405[80])       ESTABLISHED:ESTABLISHED",
        );
        assert_eq!(s.direction, Direction::In);
        assert_eq!(s.src, ep("192.0.2.1:52431"));
        assert_eq!(s.src_nat.as_deref(), Some(&ep("2001:db8::1[52431]")));
        assert_eq!(s.dst_nat.as_deref(), Some(&ep("64:ff9b::c633:6405[80]")));
    }

    #[test]
    fn three_address_states() {
        let s = one(
            "em0 tcp 10.0.0.5:1025 -> 203.0.113.1:61000 -> 198.51.100.9:80       ESTABLISHED:ESTABLISHED",
        );
        assert_eq!(s.direction, Direction::Out);
        assert_eq!(s.src, ep("10.0.0.5:1025"));
        assert_eq!(s.gateway.as_deref(), Some(&ep("203.0.113.1:61000")));
        assert_eq!(s.dst, ep("198.51.100.9:80"));
        let s = one(
            "ALL tcp 10.0.0.5:80 <- 203.0.113.1:80 <- 198.51.100.9:4444       ESTABLISHED:ESTABLISHED",
        );
        assert_eq!(s.direction, Direction::In);
        assert_eq!(s.src, ep("198.51.100.9:4444"));
        assert_eq!(s.gateway.as_deref(), Some(&ep("203.0.113.1:80")));
        assert_eq!(s.dst, ep("10.0.0.5:80"));
        let (_, d) = parse_states("em0 tcp 1.1.1.1:1 -> 2.2.2.2:2 <- 3.3.3.3:3    A:B");
        assert_eq!(d[0].message, "expected the same arrow as before");
    }

    #[test]
    fn no_interface_format_of_2002() {
        let s = one(
            "tcp 10.0.0.1:22 <- 10.0.0.2:1234       ESTABLISHED:ESTABLISHED\n   age 00:00:01, expires in 00:00:02, 7 pkts, 900 bytes, rule 1",
        );
        assert_eq!(&*s.iface, "");
        assert_eq!(&*s.proto, "tcp");
        assert_eq!(s.src, ep("10.0.0.2:1234"));
        assert_eq!(s.packets, Some((7, 0)));
        assert_eq!(s.bytes, Some((900, 0)));
    }

    #[test]
    fn age_line_items_and_flags() {
        let s = one(
            "all udp 10.0.0.1:53 -> 10.0.0.2:53       SINGLE:NO_TRAFFIC\n   age 123:04:05, expires in 00:00:57, 18446744073709551615:1 pkts, 72:120 bytes, anchor 2, rule 0, log (all), dummynet pipe (1 2), rlabel 7",
        );
        assert_eq!(s.age, Some(123 * 3600 + 4 * 60 + 5));
        assert_eq!(s.expires, Some(57));
        assert_eq!(s.packets, Some((u64::MAX, 1)));
        assert_eq!(s.bytes, Some((72, 120)));
        assert_eq!((s.anchor, s.rule), (Some(2), Some(0)));
        let flags: Vec<&str> = s.flags.iter().map(|f| &**f).collect();
        assert_eq!(flags, ["log (all)", "dummynet pipe (1 2)", "rlabel 7"]);
        assert!(s.verbose);
    }

    #[test]
    fn id_line_variants() {
        let s = one(
            "em0 tcp 1.2.3.4:1 -> 5.6.7.8:2       ESTABLISHED:ESTABLISHED\n   id: 0000000065a1b2c3 creatorid: 1a2b3c4d route-to: 192.0.2.254@em1 rtable: 1\n   origif: em2",
        );
        assert_eq!(s.id, Some(0x65a1b2c3));
        assert_eq!(s.creator_id, Some(0x1a2b3c4d));
        let r = s.route.expect("route");
        assert_eq!(r.kind, RouteKind::RouteTo);
        assert_eq!(r.iface.as_deref(), Some("em1"));
        assert_eq!(s.rtable, Some(1));
        assert_eq!(s.origif.as_deref(), Some("em2"));

        let s = one(
            "all tcp 1.2.3.4:1 -> 5.6.7.8:2       ESTABLISHED:ESTABLISHED\n   id: 64f1a2b300000a11 creatorid: 4e1f00c2   gateway: 0.0.0.0",
        );
        let r = s.route.expect("route");
        assert_eq!(r.kind, RouteKind::Gateway);
        assert_eq!(r.addr, Some(HostAddr::Ip("0.0.0.0".parse().expect("ip"))));
        assert_eq!(r.iface, None);

        let s = one(
            "all tcp 1.2.3.4:1 -> 5.6.7.8:2       ESTABLISHED:ESTABLISHED\n   id: 64f1a2b300000a11 creatorid: 4e1f00c2 (no-sync)",
        );
        assert_eq!(s.flags, vec![Box::from("no-sync")]);
    }

    #[test]
    fn openbsd_route_braces() {
        let s = one(
            "all tcp 10.0.0.2:51514 -> 93.184.216.34:443 {192.0.2.254}       ESTABLISHED:ESTABLISHED",
        );
        assert_eq!(s.direction, Direction::Out);
        let r = s.route.expect("route");
        assert_eq!(r.kind, RouteKind::RouteTo);
        assert_eq!(
            r.addr,
            Some(HostAddr::Ip("192.0.2.254".parse().expect("ip")))
        );
        let s = one(
            "all tcp 2001:db8::10[443] {2001:db8:ffff::1} <- 2001:db8:9::9[5555]       ESTABLISHED:ESTABLISHED",
        );
        assert_eq!(s.direction, Direction::In);
        assert_eq!(s.dst.port, Some(Port::Num(443)));
        assert!(s.route.is_some());
    }

    #[test]
    fn bad_lines_become_diagnostics_with_columns() {
        let text = "all tcp 10.0.0.1:99999 -> 10.0.0.2:1       ESTABLISHED:ESTABLISHED\n   age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes\nall tcp 10.0.0.1:1 -> 10.0.0.2:1       ESTABLISHED:ESTABLISHED\n   age 00:99:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 5\n";
        let (states, diags) = parse_states(text);
        assert_eq!(states.len(), 1);
        assert_eq!(states[0].line, 3);
        assert_eq!(states[0].rule, Some(5));
        assert_eq!(states[0].age, None);
        assert_eq!(diags.len(), 3, "{diags:#?}");
        assert_eq!((diags[0].line, diags[0].column), (1, 18));
        assert_eq!(diags[0].message, "expected a port number (0-65535)");
        assert_eq!(diags[1].severity, Severity::Warning);
        assert_eq!((diags[2].line, diags[2].column), (4, 11));
    }

    #[test]
    fn orphan_continuation_line() {
        let (states, diags) = parse_states("   age 00:00:01\n");
        assert!(states.is_empty());
        assert_eq!((diags[0].line, diags[0].column), (1, 4));
        assert_eq!(diags[0].severity, Severity::Error);
    }

    #[test]
    fn looks_like_state_tells_states_from_rules() {
        assert!(looks_like_state(
            "all tcp 1.2.3.4:1 -> 5.6.7.8:2       ESTABLISHED:ESTABLISHED"
        ));
        assert!(looks_like_state(
            "all tcp 1.2.3.4:1 -> 5.6.7.8:2       garbage here"
        ));
        assert!(!looks_like_state("   age 00:00:01"));
        assert!(!looks_like_state(
            "nat on em0 from 10.0.0.0/24 to any -> (em0)"
        ));
        assert!(!looks_like_state(
            "rdr on em0 inet proto tcp from any to any port = http -> 127.0.0.1 port 8080"
        ));
        assert!(!looks_like_state("pass in all flags S/SA"));
        assert!(!looks_like_state("STATES:"));
    }

    #[test]
    fn interner_shares_allocations() {
        let (states, _) = parse_states(
            "em0 tcp 1.2.3.4:1 -> 5.6.7.8:2       ESTABLISHED:ESTABLISHED\nem0 tcp 1.2.3.4:3 -> 5.6.7.8:2       ESTABLISHED:ESTABLISHED\n",
        );
        assert!(Arc::ptr_eq(&states[0].iface, &states[1].iface));
        assert!(Arc::ptr_eq(&states[0].src_state, &states[1].dst_state));
        let mut i = Interner::default();
        let names: Vec<Arc<str>> = (0..40).map(|n| i.get(&format!("if{n}"))).collect();
        assert!(Arc::ptr_eq(&names[30], &i.get("if30")));
    }
}
