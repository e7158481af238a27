//! Skimming a state listing: most states of a big table are only *counted*
//! per `(anchor, rule)` (`report`, the TUI without `A`), so they need not
//! become a [`State`].
//!
//! For every state the skim parses the main line with the full grammar
//! (the addresses decide whether the state is wanted) and asks the sink.
//! A wanted state goes through [`StatesParser`] unchanged. For the others,
//! the continuation lines are checked by small byte-level validators that
//! accept a *subset* of what the full parser accepts without a diagnostic:
//! the sequence and id lines are only checked, the age line yields its
//! `anchor` and `rule`. A line a validator does not accept is handed to the
//! full continuation parser on a scratch state, so every diagnostic, and
//! every `(anchor, rule)`, is exactly what the full parser gives
//! (`tests/skim_equivalence.rs` compares both paths on every fixture).

use std::io::{self, BufRead};
use std::net::IpAddr;
use std::sync::Arc;

use super::{MainLine, StatesParser, continuation_of, fast, main_direction, main_line};
use crate::model::{Diagnostic, Direction, Endpoint, HostAddr, Port, RuleKey, Severity, State};
use crate::parse::common::{
    DiagCap, FastLines, TextLine, blank0, clip, for_each_line_fast, nul_column, too_long,
};

mod scan;

/// A state that was counted, not kept: what its lines said about its rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Counted {
    /// 1-based line of the state's main line.
    pub line: usize,
    pub anchor: Option<u32>,
    pub rule: Option<u32>,
    /// An age line was present (as [`State::verbose`]).
    pub verbose: bool,
}

impl Counted {
    /// What an age line says: the state is verbose, and the items it has
    /// replace the earlier ones (as the full parser's age line does).
    fn read_age(&mut self, anchor: Option<u32>, rule: Option<u32>) {
        self.verbose = true;
        if anchor.is_some() {
            self.anchor = anchor;
        }
        if rule.is_some() {
            self.rule = rule;
        }
    }

    /// The `(anchor, rule)` pair, as [`State::rule_key`].
    pub fn rule_key(&self) -> RuleKey {
        RuleKey {
            anchor: self.anchor,
            number: self.rule,
        }
    }
}

/// An address of a main line as the skim reads it for most states
/// (without building an [`Endpoint`]): an IP host and its numeric port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostPort {
    pub ip: IpAddr,
    pub port: Option<u16>,
}

impl HostPort {
    /// The same address as an [`Endpoint`], as the full parser gives it.
    pub fn endpoint(&self) -> Endpoint {
        Endpoint::new(HostAddr::Ip(self.ip), self.port.map(Port::Num))
    }
}

/// Where a skimmed listing goes.
pub trait SkimSink {
    /// True when the state whose main line has these endpoints (both sides,
    /// both keys, the gateway: the addresses of [`State::addrs`]) must be
    /// parsed in full and handed to [`Self::state`].
    fn wants(&mut self, endpoints: &[&Endpoint]) -> bool;
    /// [`Self::wants`] for a main line in the common form, read without
    /// building endpoints: its addresses (hosts and keys of both sides, at
    /// most four) are IPs with numeric ports. Must answer as `wants` does
    /// for the same addresses as endpoints, which is what this default
    /// does (a sink that can test addresses directly saves the endpoints).
    fn wants_addresses(&mut self, addrs: &[HostPort]) -> bool {
        as_endpoints(addrs, |endpoints| self.wants(endpoints))
    }
    /// A wanted state, complete. Wanted states come in input order; they
    /// may come after counted states that followed them in the input.
    fn state(&mut self, state: State);
    /// A state that was only counted.
    fn counted(&mut self, state: Counted);
}

/// Calls `f` with the addresses of a main line (at most four) as
/// endpoints: what [`SkimSink::wants_addresses`] does for a sink that
/// decides only on endpoints.
pub fn as_endpoints<R>(addrs: &[HostPort], f: impl FnOnce(&[&Endpoint]) -> R) -> R {
    let endpoints: [Endpoint; 4] = std::array::from_fn(|k| {
        addrs
            .get(k)
            .map_or_else(|| NOWHERE.clone(), HostPort::endpoint)
    });
    let all: [&Endpoint; 4] = std::array::from_fn(|k| &endpoints[k]);
    f(all.get(..addrs.len()).unwrap_or(&all))
}

/// The push parser of the skim: [`StatesParser::push_into`] for the wanted
/// states and every line it does not recognise.
#[derive(Debug, Default)]
pub struct Skimmer {
    full: StatesParser,
    /// The counted state receiving continuation lines, and its direction.
    current: Option<(Counted, Direction)>,
    /// Reused by [`Self::fallback`] (created on first use).
    scratch: Option<State>,
    /// The main line being skimmed (refilled line after line).
    main: scan::Main,
}

impl Skimmer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line (no line terminator; a trailing `\r` is already gone).
    /// Wanted states are appended to `out` (the last one may still get
    /// continuation lines); counted states go to `sink` once complete.
    pub fn push(
        &mut self,
        line_no: usize,
        line: &str,
        diags: &mut Vec<Diagnostic>,
        out: &mut Vec<State>,
        sink: &mut impl SkimSink,
    ) {
        let Some(&first) = line.as_bytes().first() else {
            return;
        };
        if first == b' ' || first == b'\t' {
            match &mut self.current {
                Some((counted, direction)) => {
                    if !skim_continuation(counted, line) {
                        let direction = *direction;
                        self.fallback(line_no, line, direction, diags);
                    }
                }
                None => self.full.push_into(line_no, line, diags, out),
            }
            return;
        }
        if let Some((done, _)) = self.current.take() {
            sink.counted(done);
        }
        // A wanted state is parsed again below, in full.
        let scanned = scan::window_of(line.as_bytes())
            .is_some_and(|w| scan::main_line_into(&w, &mut self.main).is_some());
        if scanned {
            if !sink.wants_addresses(self.main.addrs()) {
                self.count(line_no, self.main.direction);
                return;
            }
            // Wanted: the scan's record is the full parser's reading of the
            // line (no second parse).
            if let Some(m) = self.main.main_line(line) {
                self.full.push_parsed(line_no, m, out);
                return;
            }
        }
        match main_line(line) {
            // A NUL can only hide in the interface or protocol word (the
            // other tokens accept no NUL): the full parser rejects the line.
            Ok((_, m)) if !has_nul(m.iface) && !has_nul(m.proto) => {
                // A line the scan read is wanted: its addresses are the full
                // parser's, and `wants_addresses` answers as `wants`.
                if scanned || wants_endpoints(sink, &m) {
                    self.full.push_parsed(line_no, m, out);
                } else {
                    self.count(line_no, main_direction(&m));
                }
            }
            // Reported (and its continuation lines skipped) by the full parser.
            _ => self.full.push_into(line_no, line, diags, out),
        }
    }

    /// Starts counting the state of the main line `line_no`.
    fn count(&mut self, line_no: usize, direction: Direction) {
        self.full.open = false;
        self.full.skipping = None;
        let counted = Counted {
            line: line_no,
            anchor: None,
            rule: None,
            verbose: false,
        };
        self.current = Some((counted, direction));
    }

    /// The skim's fast path, straight from the reader's buffer: takes the
    /// lines at the start of `rest` while each is the main line of a state
    /// the sink does not want, or a continuation line of a counted state, in
    /// the form the one-pass readers of [`scan`] accept. Returns their length
    /// (see [`FastLines::fast`]); `line_no` counts them.
    fn skim_run(&mut self, line_no: &mut usize, rest: &[u8], sink: &mut impl SkimSink) -> usize {
        let mut taken = 0;
        while let Some(line) = rest.get(taken..).filter(|r| !r.is_empty()) {
            // The last lines of a buffer are copied into a window of their own.
            let n = match scan::window_in(line) {
                Some(w) => self.skim_line(*line_no + 1, w, sink),
                None => self.skim_line(*line_no + 1, &scan::padded(line), sink),
            };
            let Some(n) = n else {
                break;
            };
            taken += n;
            *line_no += 1;
        }
        taken
    }

    /// One line for [`Self::skim_run`], at the start of the window `w` (the
    /// line has its `\n` in the buffer): its length with the `\n`. Such a
    /// line is ASCII and shorter than a window, so it is the text
    /// [`Self::push`] would get, and the effect is what `push` does with
    /// it. Anything else is `None`, with nothing changed, and goes to `push`.
    #[inline(always)]
    fn skim_line(
        &mut self,
        line_no: usize,
        w: &scan::Window,
        sink: &mut impl SkimSink,
    ) -> Option<usize> {
        match w[0] {
            b' ' | b'\t' => {
                let (counted, _) = self.current.as_mut()?;
                continuation_in_window(counted, w)
            }
            b'\n' => None,
            _ => {
                let m = &mut self.main;
                scan::main_line_into(w, m)?;
                if sink.wants_addresses(m.addrs()) {
                    return None;
                }
                let (end, direction) = (m.end, m.direction);
                if let Some((done, _)) = self.current.take() {
                    sink.counted(done);
                }
                self.count(line_no, direction);
                Some(end + 1)
            }
        }
    }

    /// Ends the input: hands out the last counted state. Continuation lines
    /// after this belong to no state.
    pub fn close(&mut self, sink: &mut impl SkimSink) {
        if let Some((done, _)) = self.current.take() {
            sink.counted(done);
        }
        self.full.close();
    }

    /// A continuation line of a counted state that the validators did not
    /// accept: the full parser decides, on a scratch state that carries the
    /// counted state's `(anchor, rule)`, so the diagnostics and the rule are
    /// exactly the full parser's.
    fn fallback(
        &mut self,
        line_no: usize,
        line: &str,
        direction: Direction,
        diags: &mut Vec<Diagnostic>,
    ) {
        if let Some(col) = nul_column(line) {
            self.full.reject(line_no, line, col, true, diags);
            return;
        }
        let Some((counted, _)) = &mut self.current else {
            return;
        };
        let scratch = self.scratch.get_or_insert_with(scratch_state);
        scratch.direction = direction;
        scratch.anchor = counted.anchor;
        scratch.rule = counted.rule;
        scratch.verbose = counted.verbose;
        scratch.flags.clear();
        continuation_of(Some(scratch), None, line_no, line, diags);
        counted.anchor = scratch.anchor;
        counted.rule = scratch.rule;
        counted.verbose = scratch.verbose;
    }
}

/// [`SkimSink::wants`] for the endpoints of a main line.
fn wants_endpoints(sink: &mut impl SkimSink, m: &MainLine<'_>) -> bool {
    let mut all: [&Endpoint; 6] = [&m.left.host; 6];
    let mut n = 0;
    for (slot, ep) in all.iter_mut().zip(endpoints(m)) {
        *slot = ep;
        n += 1;
    }
    sink.wants(all.get(..n).unwrap_or_default())
}

/// Fills the unused slots of an endpoint array.
static NOWHERE: Endpoint = Endpoint {
    addr: HostAddr::Ip(std::net::IpAddr::V4(std::net::Ipv4Addr::UNSPECIFIED)),
    port: None,
    rdomain: None,
};

fn has_nul(s: &str) -> bool {
    s.as_bytes().contains(&0)
}

/// A state for [`Skimmer::fallback`]: only the fields continuation lines
/// read or write matter.
pub(super) fn scratch_state() -> State {
    let empty: Arc<str> = Arc::from("");
    let nowhere = Endpoint::new(HostAddr::Name("".into()), None);
    State {
        line: 0,
        iface: Arc::clone(&empty),
        proto: Arc::clone(&empty),
        direction: Direction::Out,
        src: nowhere.clone(),
        dst: nowhere,
        src_nat: None,
        dst_nat: None,
        gateway: None,
        src_state: Arc::clone(&empty),
        dst_state: empty,
        age: None,
        expires: None,
        packets: None,
        bytes: None,
        anchor: None,
        rule: None,
        flags: Vec::new(),
        id: None,
        creator_id: None,
        route: None,
        rtable: None,
        origif: None,
        seq: None,
        verbose: false,
    }
}

/// Every endpoint of a main line: the hosts and parenthesised keys of all
/// sides (the addresses [`State::addrs`] gives once the line is a state).
fn endpoints<'m>(m: &'m MainLine<'_>) -> impl Iterator<Item = &'m Endpoint> {
    [Some(&m.left), Some(&m.right), m.third.as_ref()]
        .into_iter()
        .flatten()
        .flat_map(|side| [Some(&side.host), side.nat.as_ref()])
        .flatten()
}

/// Applies a continuation line to a counted state if a fast path vouches
/// for it; false sends the line to [`Skimmer::fallback`]. The sequence and
/// id lines are only checked; flags of the age line do not matter here.
fn skim_continuation(counted: &mut Counted, line: &str) -> bool {
    // The one-pass readers first, then the fast paths (which take more
    // forms), then (false) the full parser.
    if let Some(w) = scan::window_of(line.as_bytes())
        && continuation_in_window(counted, &w).is_some()
    {
        return true;
    }
    let body = blank0(line).as_bytes();
    match body.first() {
        // Only blanks: the full parser ignores it too.
        None => true,
        Some(b'[') => fast::seq_line(body).is_some(),
        Some(b'a') if body.starts_with(b"age ") => match fast::age_line(body) {
            Some(v) => {
                counted.read_age(v.anchor, v.rule);
                true
            }
            None => false,
        },
        Some(b'i') => fast::id_line(body).is_some(),
        _ => false,
    }
}

/// [`skim_continuation`] for the continuation line at the start of the
/// window `w`, read by the one-pass readers only: the line's length with
/// its `\n`, or `None` (and `counted` unchanged).
#[inline(always)]
fn continuation_in_window(counted: &mut Counted, w: &scan::Window) -> Option<usize> {
    let (line, end) = scan::continuation(w)?;
    if let scan::Continuation::Age(anchor, rule) = line {
        counted.read_age(anchor, rule);
    }
    Some(end + 1)
}

/// Streams a state listing into `sink`, skimming the states it does not
/// want. Lines are found in the reader's buffer and checked for UTF-8 once
/// per buffer (a buffer with invalid bytes is checked line by line, and
/// such a line is read as [`super::read_states`] reads it).
pub fn skim_states<R: BufRead>(
    input: R,
    sink: &mut impl SkimSink,
    diags: &mut Vec<Diagnostic>,
) -> io::Result<()> {
    let mut cap = DiagCap::default();
    skim_lines(input, 0, sink, diags, &mut cap)?;
    cap.finish(diags);
    Ok(())
}

/// [`skim_states`] for a part of a listing that starts after line
/// `lines_before`, with a fresh [`Skimmer`] (right at the start of the
/// listing or of a line the skimmer takes as a main line, see
/// [`super::chunks`]). The diagnostics are capped by `cap`, which the
/// caller finishes.
pub(crate) fn skim_lines<R: BufRead, S: SkimSink>(
    input: R,
    lines_before: usize,
    sink: &mut S,
    diags: &mut Vec<Diagnostic>,
    cap: &mut DiagCap,
) -> io::Result<()> {
    let mut lines = SkimLines {
        skimmer: Skimmer::new(),
        batch: Vec::with_capacity(SkimLines::<S>::BATCH + 1),
        line_no: lines_before,
        sink,
        diags,
        cap,
    };
    for_each_line_fast(input, &mut lines)?;
    let SkimLines {
        mut skimmer,
        batch,
        sink,
        diags,
        cap,
        ..
    } = lines;
    skimmer.close(sink);
    cap.trim(diags);
    batch.into_iter().for_each(|s| sink.state(s));
    Ok(())
}

/// The lines of a listing on their way through a [`Skimmer`].
struct SkimLines<'a, S> {
    skimmer: Skimmer,
    /// Wanted states not yet handed out.
    batch: Vec<State>,
    line_no: usize,
    sink: &'a mut S,
    diags: &'a mut Vec<Diagnostic>,
    cap: &'a mut DiagCap,
}

impl<S> SkimLines<'_, S> {
    /// Wanted states handed out together (the last one may still get
    /// continuation lines, so it stays behind).
    const BATCH: usize = 64;
}

impl<S: SkimSink> FastLines for SkimLines<'_, S> {
    fn fast(&mut self, rest: &[u8]) -> usize {
        // Takes no wanted state and makes no diagnostic: nothing to hand out.
        self.skimmer.skim_run(&mut self.line_no, rest, self.sink)
    }

    fn line(&mut self, line: TextLine<'_>) {
        self.line_no += 1;
        let line_no = self.line_no;
        let (skimmer, diags, batch, sink) = (
            &mut self.skimmer,
            &mut *self.diags,
            &mut self.batch,
            &mut *self.sink,
        );
        match line {
            TextLine::Text(text) => {
                let text = text.strip_suffix('\r').unwrap_or(text);
                skimmer.push(line_no, text, diags, batch, sink);
            }
            TextLine::Bytes(mut bytes) => {
                if let Some(b) = bytes.strip_suffix(b"\r") {
                    bytes = b;
                }
                let text = lossy_line(line_no, bytes, diags);
                skimmer.push(line_no, &text, diags, batch, sink);
            }
            TextLine::TooLong(len) => diags.push(too_long(line_no, len)),
        }
        if batch.len() > Self::BATCH {
            let done = batch.len() - 1;
            batch.drain(..done).for_each(|s| sink.state(s));
        }
        self.cap.trim(diags);
    }
}

/// A line that is not UTF-8, as [`super::read_states`] reports and reads it.
fn lossy_line(line_no: usize, bytes: &[u8], diags: &mut Vec<Diagnostic>) -> String {
    let line = String::from_utf8_lossy(bytes).into_owned();
    let valid = match std::str::from_utf8(bytes) {
        Ok(_) => line.len(),
        Err(e) => e.valid_up_to(),
    };
    diags.push(Diagnostic {
        line: line_no,
        column: line.get(..valid).map_or(1, |v| v.chars().count() + 1),
        severity: Severity::Warning,
        message: "expected UTF-8 text: invalid bytes replaced by U+FFFD".to_owned(),
        text: clip(&line),
    });
    line
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::common::for_each_newline;

    struct Count(Vec<Counted>);

    impl SkimSink for Count {
        fn wants(&mut self, _: &[&Endpoint]) -> bool {
            false
        }
        fn state(&mut self, _: State) {}
        fn counted(&mut self, c: Counted) {
            self.0.push(c);
        }
    }

    #[test]
    fn refused_lines_get_the_full_parsers_answer() {
        let text = "em0 tcp 1.2.3.4:1 -> 5.6.7.8:2       ESTABLISHED:ESTABLISHED\n   age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 7, lo\0g\n   age 00:99:01, rule 9\n   [1 + 2]\n";
        let mut sink = Count(Vec::new());
        let mut diags = Vec::new();
        skim_states(text.as_bytes(), &mut sink, &mut diags).expect("in memory");
        let (states, full_diags) = super::super::parse_states(text);
        assert_eq!(diags, full_diags);
        assert_eq!(diags.len(), 3, "{diags:?}");
        assert_eq!(sink.0.len(), 1);
        assert_eq!(sink.0[0].rule_key(), states[0].rule_key());
        assert_eq!(sink.0[0].rule, Some(9));
    }

    #[test]
    fn newlines_are_found_in_every_block() {
        let text: Vec<u8> = (0..300u32)
            .map(|i| match i % 11 {
                0 | 3 => b'\n',
                5 => 0x8a,
                7 => 0x0b,
                _ => b'x',
            })
            .collect();
        let mut found = Vec::new();
        for_each_newline(&text, |i| found.push(i));
        let expected: Vec<usize> = memchr::memchr_iter(b'\n', &text).collect();
        assert_eq!(found, expected);
    }

    #[test]
    fn counted_states_carry_their_rule() {
        let text = "all tcp 10.0.0.1:1 -> 10.0.0.2:2       ESTABLISHED:ESTABLISHED\n   [1 + 2]  [3 + 4]\n   age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, anchor 3, rule 7\n   id: 0000000000000001 creatorid: 00000002\nall udp 10.0.0.1:1 -> 10.0.0.2:2       SINGLE:NO_TRAFFIC\n";
        let mut sink = Count(Vec::new());
        let mut diags = Vec::new();
        skim_states(text.as_bytes(), &mut sink, &mut diags).expect("in memory");
        assert!(diags.is_empty(), "{diags:?}");
        let keys: Vec<_> = sink
            .0
            .iter()
            .map(|c| (c.line, c.anchor, c.rule, c.verbose))
            .collect();
        assert_eq!(keys, [(1, Some(3), Some(7), true), (5, None, None, false)]);
    }
}
