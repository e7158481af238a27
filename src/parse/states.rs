//! `pfctl -ss` / `-vss` / `-vvss` (every OS flavour): see pfctl-formats.md §1.
//!
//! SKELETON: signatures are the interface; bodies are to be written.

use std::io::{self, BufRead};

use crate::model::{Diagnostic, State};

/// Line-by-line state parser (push API), used by [`read_states`] and by the
/// mixed-input parser ([`crate::parse::parse_any`]).
#[derive(Debug, Default)]
pub struct StatesParser {}

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
        let _ = (line_no, line, diags);
        None
    }

    /// Ends the input, returning the last state if one is pending.
    pub fn finish(&mut self, diags: &mut Vec<Diagnostic>) -> Option<State> {
        let _ = diags;
        None
    }
}

/// True if `line` looks like the first line of a state (interface, protocol,
/// hosts and an arrow): lets mixed input (`pfctl -sa`) find the states.
pub fn looks_like_state(line: &str) -> bool {
    let _ = line;
    false
}

/// Streams states from `input` without holding the text: invalid UTF-8 and
/// CRLF endings are handled per line.
pub fn read_states<R: BufRead>(
    input: R,
    on_state: impl FnMut(State),
    diags: &mut Vec<Diagnostic>,
) -> io::Result<()> {
    let _ = (input, on_state, diags);
    Ok(())
}

/// Parses a whole state listing held in memory.
pub fn parse_states(text: &str) -> (Vec<State>, Vec<Diagnostic>) {
    let _ = text;
    (Vec::new(), Vec::new())
}
