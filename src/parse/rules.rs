//! `pfctl -sr` / `-vsr` / `-vvsr`, with `-a '*'` recursion: see pfctl-formats.md §2.
//!
//! SKELETON: signatures are the interface; bodies are to be written.

use crate::model::{Diagnostic, Rule};

/// Line-by-line rules parser (push API). Anchor blocks need context, so
/// rules are returned by [`Self::finish`].
#[derive(Debug, Default)]
pub struct RulesParser {}

impl RulesParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line (no line terminator; a trailing `\r` is already gone).
    pub fn push(&mut self, line_no: usize, line: &str, diags: &mut Vec<Diagnostic>) {
        let _ = (line_no, line, diags);
    }

    /// Ends the input and returns the rules in listing order.
    pub fn finish(self, diags: &mut Vec<Diagnostic>) -> Vec<Rule> {
        let _ = diags;
        Vec::new()
    }
}

/// True if `line` looks like a rule line or a rule's counter line.
pub fn looks_like_rule(line: &str) -> bool {
    let _ = line;
    false
}

/// Parses a whole rules listing.
pub fn parse_rules(text: &str) -> (Vec<Rule>, Vec<Diagnostic>) {
    let _ = text;
    (Vec::new(), Vec::new())
}
