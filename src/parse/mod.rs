//! Parsers for pfctl text output: pure functions of text, line-oriented and
//! streaming. Bad lines become [`Diagnostic`]s with line and column; they are
//! never silently dropped and never panic.

pub mod common;
pub mod info;
pub mod rules;
pub mod states;

use std::io::{self, BufRead};

use crate::model::{Diagnostic, Parsed, Severity};

use info::InfoParser;
use rules::{RulesParser, looks_like_rule};
use states::{StatesParser, looks_like_state};

/// Parses any single pfctl output (states, rules, info, or `pfctl -sa` with
/// its section titles), detecting what each part is.
pub fn parse_any(text: &str) -> Parsed {
    let mut router = Router::new();
    for (i, line) in text.split('\n').enumerate() {
        router.push(i + 1, line);
    }
    router.finish()
}

/// Like [`parse_any`], streaming from a reader: state listings with millions
/// of entries are parsed line by line, never held as text. Invalid UTF-8 is
/// replaced (with a warning) rather than failing the whole input.
pub fn read_any<R: BufRead>(mut r: R) -> io::Result<Parsed> {
    let mut router = Router::new();
    let mut buf = Vec::new();
    let mut line_no = 0;
    loop {
        buf.clear();
        if r.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        if buf.last() == Some(&b'\n') {
            buf.pop();
        }
        match std::str::from_utf8(&buf) {
            Ok(line) => router.push(line_no, line),
            Err(e) => {
                let line = String::from_utf8_lossy(&buf).into_owned();
                let column = String::from_utf8_lossy(&buf[..e.valid_up_to()])
                    .chars()
                    .count()
                    + 1;
                router.diags.push(Diagnostic {
                    line: line_no,
                    column,
                    severity: Severity::Warning,
                    message: "invalid UTF-8 replaced by U+FFFD".into(),
                    text: line.clone(),
                });
                router.push(line_no, &line);
            }
        }
    }
    Ok(router.finish())
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

/// `pfctl -sa` section titles (pfctl-formats.md §4.4) and where they lead.
const TITLES: &[(&str, Mode)] = &[
    ("FILTER RULES:", Mode::Rules),
    ("STATES:", Mode::States),
    ("INFO:", Mode::Info),
    ("QUEUES:", Mode::Skip),
    ("ALTQ:", Mode::Skip),
    ("LABEL COUNTERS:", Mode::Skip),
    ("TIMEOUTS:", Mode::Skip),
    ("LIMITS:", Mode::Skip),
    ("TABLES:", Mode::Skip),
    ("OS FINGERPRINTS:", Mode::Skip),
    ("SOURCE TRACKING NODES:", Mode::Skip),
    ("ETH RULES:", Mode::Skip),
    ("TRANSLATION RULES:", Mode::Skip),
];

/// What the previous routed line was, so continuation lines follow it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Last {
    None,
    Rule,
    State,
}

/// Sends each line to the parser of its section.
struct Router {
    mode: Mode,
    last: Last,
    rules: RulesParser,
    states: StatesParser,
    info: Option<InfoParser>,
    parsed: Parsed,
    diags: Vec<Diagnostic>,
}

impl Router {
    fn new() -> Self {
        Router {
            mode: Mode::Auto,
            last: Last::None,
            rules: RulesParser::new(),
            states: StatesParser::new(),
            info: None,
            parsed: Parsed::default(),
            diags: Vec::new(),
        }
    }

    fn push(&mut self, line_no: usize, line: &str) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let trimmed = line.trim();
        if trimmed.is_empty() {
            return;
        }
        if let Some(&(title, mode)) = TITLES.iter().find(|(t, _)| *t == trimmed) {
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
        } else if looks_like_state(line) {
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
            self.diags.push(Diagnostic {
                line: line_no,
                column: 1,
                severity: Severity::Error,
                message: "not a rule, state, info or section line".into(),
                text: line.to_owned(),
            });
        }
    }

    fn state_line(&mut self, line_no: usize, line: &str) {
        self.last = Last::State;
        self.rules.interrupt();
        if let Some(s) = self.states.push(line_no, line, &mut self.diags) {
            self.parsed.states.push(s);
        }
    }

    /// Ends the current section and enters `mode`.
    fn switch(&mut self, mode: Mode) {
        if let Some(s) = self.states.finish(&mut self.diags) {
            self.parsed.states.push(s);
        }
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
            text: line.to_owned(),
        });
    }

    fn finish(mut self) -> Parsed {
        self.switch(Mode::Auto);
        let rules = std::mem::take(&mut self.rules);
        self.parsed.rules = rules.finish(&mut self.diags);
        // Diagnostics come from several parsers; report them in input order.
        self.diags.sort_by_key(|d| (d.line, d.column));
        self.parsed.diagnostics = self.diags;
        self.parsed
    }
}

/// Messages pfctl prints on stderr, which appear when stderr is merged
/// (pfctl-formats.md §5.1). Returns what kind of line it is.
fn pfctl_message(line: &str) -> Option<&'static str> {
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
    let words: Vec<&str> = line.split_whitespace().collect();
    let counted = |verb: &[&str]| {
        words.len() == verb.len() + 1
            && words[0].bytes().all(|b| b.is_ascii_digit())
            && words[1..] == *verb
    };
    if counted(&["states", "cleared"])
        || (words.len() == 3 && words[0] == "killed" && words[2] == "states")
        || (line.starts_with("Anchor '") && line.ends_with("' not found."))
    {
        return Some("pfctl message");
    }
    None
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
    }
}
