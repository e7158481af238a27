//! Parsers for pfctl text output: pure functions of text, line-oriented and
//! streaming. Bad lines become [`Diagnostic`]s with line and column; they are
//! never silently dropped and never panic.

pub mod carp;
pub(crate) mod common;
pub mod info;
pub mod rules;
pub mod states;
pub mod tables;

use std::io::{self, BufRead};

use crate::model::{Diagnostic, Parsed, Severity, State};

use common::TextLine;
use info::InfoParser;
use rules::{RulesParser, looks_like_rule};
use states::{StatesParser, looks_like_state};

/// Parses any single pfctl output (states, rules, info, or `pfctl -sa` with
/// its section titles), detecting what each part is.
pub fn parse_any(text: &str) -> Parsed {
    let mut router = Router::new(Vec::new());
    for (i, line) in common::split_lines(text).enumerate() {
        router.push(i + 1, line);
    }
    let (mut parsed, states) = router.finish();
    parsed.states = states;
    parsed
}

/// Like [`parse_any`], streaming from a reader: state listings with millions
/// of entries are parsed line by line, never held as text. Invalid UTF-8 is
/// replaced (with a warning) rather than failing the whole input.
pub fn read_any<R: BufRead>(r: R) -> io::Result<Parsed> {
    // Same code path as `read_any_with`; the vector sink keeps `push_into`'s
    // in-place appends (no move per state).
    let (mut parsed, states) = read_lines(r, Vec::new())?;
    parsed.states = states;
    Ok(parsed)
}

/// Like [`read_any`], but hands each state to `on_state` as soon as it is
/// complete (in input order, a few dozen states behind the reader) instead
/// of collecting them: memory stays flat however many states the input
/// holds. The returned [`Parsed`] has everything else (rules, info,
/// diagnostics) and an empty `states`.
pub fn read_any_with<R: BufRead>(r: R, on_state: impl FnMut(&State)) -> io::Result<Parsed> {
    let sink = Emit {
        batch: Vec::with_capacity(EMIT_BATCH + 1),
        on_state,
    };
    let (parsed, _) = read_lines(r, sink)?;
    Ok(parsed)
}

/// The line loop of [`read_any`] and [`read_any_with`].
fn read_lines<R: BufRead, S: StateSink>(r: R, sink: S) -> io::Result<(Parsed, S)> {
    let mut router = Router::new(sink);
    let mut line_no = 0;
    let mut cap = common::DiagCap::default();
    // UTF-8 is checked once per reader buffer; only lines of a buffer that
    // fails are checked (and reported) one by one.
    common::for_each_text_line(r, |line| {
        line_no += 1;
        match line {
            TextLine::Text(line) => router.push(line_no, line),
            TextLine::TooLong(len) => router.diags.push(common::too_long(line_no, len)),
            TextLine::Bytes(buf) => {
                let line = String::from_utf8_lossy(buf).into_owned();
                let valid = std::str::from_utf8(buf).map_or_else(|e| e.valid_up_to(), str::len);
                let column = String::from_utf8_lossy(buf.get(..valid).unwrap_or_default())
                    .chars()
                    .count()
                    + 1;
                router.diags.push(Diagnostic {
                    line: line_no,
                    column,
                    severity: Severity::Warning,
                    message: "invalid UTF-8 replaced by U+FFFD".into(),
                    text: common::clip(&line),
                });
                router.push(line_no, &line);
            }
        }
        cap.trim(&mut router.diags);
    })?;
    let (mut parsed, sink) = router.finish();
    cap.finish(&mut parsed.diagnostics);
    Ok((parsed, sink))
}

/// Where the router's states go.
trait StateSink {
    /// The vector the states parser appends to: its last state may still
    /// receive continuation lines.
    fn buffer(&mut self) -> &mut Vec<State>;
    /// Hands out the states that are complete: all of them when `all`
    /// (the states section ended), else all but the last.
    fn flush(&mut self, all: bool);
}

/// Collects every state ([`parse_any`], [`read_any`]).
impl StateSink for Vec<State> {
    fn buffer(&mut self) -> &mut Vec<State> {
        self
    }

    fn flush(&mut self, _all: bool) {}
}

/// States handed out together by [`Emit`]: draining one at a time would
/// shift the 400-byte survivor every line; a small batch amortises that and
/// keeps memory constant.
const EMIT_BATCH: usize = 64;

/// Hands states to a callback ([`read_any_with`]), by reference where
/// they lie: moving each 400-byte `State` out of the batch and into the
/// callback cost two copies per state.
struct Emit<F> {
    batch: Vec<State>,
    on_state: F,
}

impl<F: FnMut(&State)> StateSink for Emit<F> {
    fn buffer(&mut self) -> &mut Vec<State> {
        &mut self.batch
    }

    fn flush(&mut self, all: bool) {
        if !all && self.batch.len() <= EMIT_BATCH {
            return;
        }
        let done = if all {
            self.batch.len()
        } else {
            self.batch.len() - 1
        };
        self.batch[..done].iter().for_each(&mut self.on_state);
        // Dropped in place; only the open state (if any) moves down.
        self.batch.drain(..done);
    }
}

/// Which part of the input a line belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// No section title seen: detect each line.
    Auto,
    Rules,
    States,
    Info,
    /// A `pfctl -sa` section that is not modelled.
    Skip,
}

/// What a `pfctl -sa` section holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Section {
    FilterRules,
    /// FreeBSD/macOS `TRANSLATION RULES:` (`pfctl_show_nat()`).
    TranslationRules,
    /// macOS `DUMMYNET RULES:`.
    DummynetRules,
    States,
    Info,
    /// A section pfblame does not model.
    Other,
}

/// `pfctl -sa` section titles (pfctl-formats.md §4.4, `pfctl_print_title()`):
/// the one list, used by the parser and by recordings.
pub(crate) const SECTION_TITLES: &[(&str, Section)] = &[
    ("FILTER RULES:", Section::FilterRules),
    ("STATES:", Section::States),
    ("INFO:", Section::Info),
    ("QUEUES:", Section::Other),
    ("ALTQ:", Section::Other),
    ("LABEL COUNTERS:", Section::Other),
    ("TIMEOUTS:", Section::Other),
    ("LIMITS:", Section::Other),
    ("TABLES:", Section::Other),
    ("OS FINGERPRINTS:", Section::Other),
    ("SOURCE TRACKING NODES:", Section::Other),
    ("ETH RULES:", Section::Other),
    ("TRANSLATION RULES:", Section::TranslationRules),
    ("DUMMYNET RULES:", Section::DummynetRules),
];

/// The section a title line opens, if it is one (trailing blanks ignored).
pub(crate) fn section_title(line: &str) -> Option<(&'static str, Section)> {
    let line = common::trim_line(line);
    // Every title ends with `:`; skip the scan for the millions of other lines.
    if !line.ends_with(':') {
        return None;
    }
    SECTION_TITLES.iter().find(|(t, _)| *t == line).copied()
}

/// The parts of `pfctl -sa` output pfblame reads, as text.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct SaSections {
    pub filter_rules: String,
    pub translation_rules: String,
    pub states: String,
    /// `None` when there was no `INFO:` title.
    pub info: Option<String>,
}

/// Splits `pfctl -sa` by its section titles (the blank line pfctl prints
/// before each title belongs to no section; each part ends in a newline
/// unless empty). Sections pfblame does not read are dropped.
pub(crate) fn split_sections(text: &str) -> SaSections {
    let mut out = SaSections::default();
    let mut info = String::new();
    let mut saw_info = false;
    let mut current = None;
    for line in text.lines() {
        if let Some((_, section)) = section_title(line) {
            current = Some(section);
            saw_info |= section == Section::Info;
            continue;
        }
        let target = match current {
            Some(Section::FilterRules) => &mut out.filter_rules,
            Some(Section::TranslationRules) => &mut out.translation_rules,
            Some(Section::States) => &mut out.states,
            Some(Section::Info) => &mut info,
            _ => continue,
        };
        target.push_str(line);
        target.push('\n');
    }
    for s in [
        &mut out.filter_rules,
        &mut out.translation_rules,
        &mut out.states,
        &mut info,
    ] {
        let kept = s.trim_end().len();
        s.truncate(kept);
        if !s.is_empty() {
            s.push('\n');
        }
    }
    out.info = saw_info.then_some(info);
    out
}

/// Where the lines of a section go.
fn mode_of(section: Section) -> Mode {
    match section {
        Section::FilterRules | Section::TranslationRules | Section::DummynetRules => Mode::Rules,
        Section::States => Mode::States,
        Section::Info => Mode::Info,
        Section::Other => Mode::Skip,
    }
}

/// What the previous routed line was, so continuation lines follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    None,
    Rule,
    State,
}

/// Sends each line to the parser of its section.
struct Router<S> {
    mode: Mode,
    last: Last,
    rules: RulesParser,
    states: StatesParser,
    info: Option<InfoParser>,
    parsed: Parsed,
    diags: Vec<Diagnostic>,
    /// The states (`parsed.states` stays empty).
    sink: S,
}

impl<S: StateSink> Router<S> {
    fn new(sink: S) -> Self {
        Router {
            mode: Mode::Auto,
            last: Last::None,
            rules: RulesParser::new(),
            states: StatesParser::new(),
            info: None,
            parsed: Parsed::default(),
            diags: Vec::new(),
            sink,
        }
    }

    fn push(&mut self, line_no: usize, line: &str) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = common::trim_line(line);
        if trimmed.is_empty() {
            return;
        }
        // Every title ends with `:` (checked here, without a call and a
        // second trim, for the millions of lines that are no title).
        if trimmed.ends_with(':')
            && let Some((title, section)) = section_title(trimmed)
        {
            let mode = mode_of(section);
            self.rules.interrupt();
            self.switch(mode);
            if mode == Mode::Skip {
                self.warn(
                    line_no,
                    line,
                    format!("section `{title}` is not modelled; skipped"),
                );
            }
            return;
        }
        if let Some(what) = pfctl_message(trimmed) {
            // Merged stderr can land anywhere, even between a rule and its
            // counters, so it does not interrupt the rule.
            self.warn(line_no, line, format!("{what} skipped"));
            return;
        }
        match self.mode {
            Mode::Skip => {}
            Mode::Rules => self.rules.push(line_no, line, &mut self.diags),
            Mode::States => self.state_line(line_no, line),
            Mode::Info if line.starts_with(char::is_whitespace) || !self.leaves_info(line) => {
                self.info
                    .get_or_insert_with(InfoParser::new)
                    .push(line_no, line);
            }
            Mode::Info | Mode::Auto => self.detect(line_no, line),
        }
    }

    /// An unindented rule or state line ends an untitled info section.
    fn leaves_info(&self, line: &str) -> bool {
        looks_like_rule(line) || looks_like_state(line)
    }

    fn detect(&mut self, line_no: usize, line: &str) {
        if self.mode == Mode::Info {
            self.switch(Mode::Auto);
        }
        if self.last == Last::State && line.starts_with(char::is_whitespace) {
            self.state_line(line_no, line);
        } else if looks_like_rule(line) {
            self.last = Last::Rule;
            self.rules.push(line_no, line, &mut self.diags);
        } else if self.valid_state_line(line_no, line) {
            // Parsed once, by the state parser (no separate recognition).
        } else if looks_like_state(line)
            || (self.last == Last::State && !line.starts_with("Status: "))
            || line.contains(" -> ")
            || line.contains(" <- ")
        {
            // After a state, a damaged line is most likely a damaged state:
            // its parser says where it broke, and skips its continuations.
            self.state_line(line_no, line);
        } else if line.starts_with("Status: ") {
            self.rules.interrupt();
            self.switch(Mode::Info);
            self.info
                .get_or_insert_with(InfoParser::new)
                .push(line_no, line);
        } else {
            self.rules.interrupt();
            self.last = Last::None;
            let (column, message) = match common::nul_column(line) {
                Some(c) => (c, "NUL byte: this is not pfctl text; line skipped"),
                None => (1, "not a rule, state, info or section line"),
            };
            self.diags.push(Diagnostic {
                line: line_no,
                column,
                severity: Severity::Error,
                message: message.into(),
                text: common::clip(line),
            });
        }
    }

    /// [`Self::state_line`] for a valid state main line; false for any
    /// other line (then nothing is done).
    fn valid_state_line(&mut self, line_no: usize, line: &str) -> bool {
        if !self
            .states
            .push_main_into(line_no, line, self.sink.buffer())
        {
            return false;
        }
        self.last = Last::State;
        self.rules.interrupt();
        self.sink.flush(false);
        true
    }

    fn state_line(&mut self, line_no: usize, line: &str) {
        self.last = Last::State;
        self.rules.interrupt();
        self.states
            .push_into(line_no, line, &mut self.diags, self.sink.buffer());
        self.sink.flush(false);
    }

    /// Ends the current section and enters `mode`.
    fn switch(&mut self, mode: Mode) {
        self.states.close();
        // Closed: no continuation line can reach the last state any more.
        self.sink.flush(true);
        if self.mode == Mode::Info && mode != Mode::Info {
            self.finish_info();
        }
        self.mode = mode;
        self.last = Last::None;
    }

    fn finish_info(&mut self) {
        if let Some(p) = self.info.take()
            && let Some(info) = p.finish(&mut self.diags)
        {
            self.parsed.info = Some(info);
        }
    }

    fn warn(&mut self, line_no: usize, line: &str, message: String) {
        self.diags.push(Diagnostic {
            line: line_no,
            column: 1,
            severity: Severity::Warning,
            message,
            text: common::clip(line),
        });
    }

    /// Everything but the states, and the sink that received them.
    fn finish(mut self) -> (Parsed, S) {
        self.switch(Mode::Auto);
        let mut rules = std::mem::take(&mut self.rules);
        self.parsed.tables = rules.take_tables();
        self.parsed.rules = rules.finish(&mut self.diags);
        // Diagnostics come from several parsers; report them in input order.
        self.diags.sort_by_key(|d| (d.line, d.column));
        self.parsed.diagnostics = self.diags;
        (self.parsed, self.sink)
    }
}

/// Messages pfctl prints on stderr, which appear when stderr is merged
/// (pfctl-formats.md §5.1). Returns what kind of line it is.
#[inline(always)]
fn pfctl_message(line: &str) -> Option<&'static str> {
    // Every message starts with one of these bytes: states, rules and their
    // continuation lines are rejected here, inline, without further work
    // (hot path).
    if !matches!(
        line.as_bytes().first(),
        Some(b'0'..=b'9' | b'k' | b'p' | b'r' | b'A' | b'N')
    ) {
        return None;
    }
    known_pfctl_message(line)
}

/// [`pfctl_message`] for a line that starts like one.
fn known_pfctl_message(line: &str) -> Option<&'static str> {
    const EXACT: &[&str] = &[
        "No ALTQ support in kernel",
        "ALTQ related functions disabled",
        "pf enabled",
        "pf disabled",
        "rules cleared",
    ];
    if EXACT.contains(&line) {
        return Some("pfctl message");
    }
    if line.starts_with("pfctl: ") {
        return Some("pfctl error message");
    }
    if words_are(line, &["states", "cleared"], true)
        || (line.starts_with("killed ") && words_are(&line["killed ".len()..], &["states"], true))
        || (line.starts_with("Anchor '") && line.ends_with("' not found."))
    {
        return Some("pfctl message");
    }
    None
}

/// True when `text` is a decimal count (if `counted`) followed by exactly
/// the words `tail`, separated by whitespace. No allocation: this runs on
/// every line of mixed input.
fn words_are(text: &str, tail: &[&str], counted: bool) -> bool {
    let mut words = text.split_whitespace();
    if counted
        && !words
            .next()
            .is_some_and(|w| w.bytes().all(|b| b.is_ascii_digit()))
    {
        return false;
    }
    tail.iter().all(|t| words.next() == Some(*t)) && words.next().is_none()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn sections_noise_and_garbage() {
        let text = "No ALTQ support in kernel\r\nALTQ related functions disabled\r\nFILTER RULES:\r\n@0 pass all flags S/SA\r\n\r\nTIMEOUTS:\r\ntcp.first 120s\r\n\r\nINFO:\r\nStatus: Enabled for 0 days 00:01:02           Debug: Urgent\r\n";
        let p = parse_any(text);
        assert_eq!(p.rules.len(), 1);
        assert_eq!(p.rules[0].text, "pass all flags S/SA");
        assert_eq!(p.info.as_ref().and_then(|i| i.enabled), Some(true));
        let warn_lines: Vec<usize> = p.diagnostics.iter().map(|d| d.line).collect();
        assert_eq!(warn_lines, [1, 2, 6]);
        assert!(!p.has_errors());
    }

    #[test]
    fn sa_sections_split() {
        let text = "TRANSLATION RULES:\nnat on em0 all -> (em0)\n\nFILTER RULES:\npass all flags S/SA\n\nSTATES:\nall tcp 10.0.0.1:22 <- 10.0.0.2:5000       ESTABLISHED:ESTABLISHED\n\nINFO:\nStatus: Enabled\n\nTIMEOUTS:\ntcp.first 120s\n";
        let s = split_sections(text);
        assert_eq!(s.translation_rules, "nat on em0 all -> (em0)\n");
        assert_eq!(s.filter_rules, "pass all flags S/SA\n");
        assert!(s.states.starts_with("all tcp") && s.states.ends_with("ESTABLISHED\n"));
        assert_eq!(s.info.as_deref(), Some("Status: Enabled\n"));
        assert_eq!(split_sections("FILTER RULES:\n").info, None);
        assert_eq!(
            section_title("DUMMYNET RULES:  "),
            Some(("DUMMYNET RULES:", Section::DummynetRules))
        );
        assert_eq!(section_title("pass all"), None);
    }

    #[test]
    fn untitled_garbage_is_an_error_and_parsing_continues() {
        let p = parse_any("pass all\nhello there\nblock all\n");
        assert_eq!(p.rules.len(), 2);
        assert_eq!(p.diagnostics.len(), 1);
        assert_eq!(
            (p.diagnostics[0].line, p.diagnostics[0].severity),
            (2, Severity::Error)
        );
    }

    #[test]
    fn read_any_matches_parse_any_and_survives_bad_utf8() {
        let text = "pass all\r\nblock all";
        assert_eq!(read_any(text.as_bytes()).unwrap(), parse_any(text));
        let p = read_any(&b"pass all label \"\xff\"\nblock all\n"[..]).unwrap();
        assert_eq!(p.rules.len(), 2);
        assert_eq!(p.diagnostics[0].column, 17);
    }

    #[test]
    fn messages() {
        assert_eq!(pfctl_message("12 states cleared"), Some("pfctl message"));
        assert_eq!(
            pfctl_message("pfctl: Anchor does not exist"),
            Some("pfctl error message")
        );
        assert_eq!(pfctl_message("pass all"), None);
        assert_eq!(pfctl_message("killed 3 states"), Some("pfctl message"));
        assert_eq!(pfctl_message("killed x states"), None);
        assert_eq!(pfctl_message("12 states cleared now"), None);
        assert_eq!(
            pfctl_message("Anchor 'x' not found."),
            Some("pfctl message")
        );
        assert_eq!(
            pfctl_message("ALTQ related functions disabled"),
            Some("pfctl message")
        );
    }
}
