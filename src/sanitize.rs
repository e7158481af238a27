//! Text from pfctl, recordings and ssh (labels, interface and anchor names,
//! stderr) is shown to a terminal: control characters must never reach it
//! raw, and neither may characters that reorder or hide text (bidi
//! overrides and isolates, zero-width characters), which make a terminal
//! show something other than what the bytes say.
//!
//! Two outputs, one set of characters ([`is_unsafe`]):
//! - text (terminal, markdown, messages): [`neutralize`] replaces each by a
//!   visible escape, `\x1b` for controls and `\u{202e}` for the others;
//! - JSON: serde escapes C0 controls itself; [`JsonSafe`] escapes the rest
//!   (DEL, C1, bidi, zero-width) as JSON `\uXXXX` escapes. The JSON value
//!   is unchanged (a parser reads back the same string); only the bytes on
//!   the terminal are safe.

use std::borrow::Cow;
use std::io::{self, Write};

/// Replaces every [`is_unsafe`] character by a visible escape (`\x1b`,
/// `\u{202e}`), so text from pfctl cannot move the cursor, change colours,
/// set the clipboard (OSC 52) or reorder what is shown. Returns the input
/// unchanged (borrowed) when it is clean.
pub fn neutralize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if !is_unsafe(c) {
            out.push(c);
        } else if c.is_control() {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push_str(&format!("\\u{{{:04x}}}", c as u32));
        }
    }
    Cow::Owned(out)
}

/// Characters that must not reach a terminal raw: C0 controls (newline and
/// tab included: pfctl's fields are single-line), DEL, C1 controls, bidi
/// embeddings, overrides and isolates (U+202A–U+202E, U+2066–U+2069),
/// zero-width and direction marks (U+200B–U+200F) and U+FEFF.
pub(crate) fn is_unsafe(c: char) -> bool {
    c.is_control() || is_invisible(c)
}

/// The bidi and zero-width characters (see [`is_unsafe`]).
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{200b}'..='\u{200f}' | '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{feff}')
}

/// Characters serde_json leaves raw in strings but a terminal must not get.
/// (serde escapes every C0 control, and raw newlines outside strings are
/// the pretty printer's own.)
fn json_unsafe(c: char) -> bool {
    (c.is_control() && c > '\u{1f}') || is_invisible(c)
}

/// A writer for JSON output: passes everything through but writes each
/// [`json_unsafe`] character as a `\uXXXX` escape. Only valid inside JSON
/// strings, which is where such characters can be: JSON's structure is
/// ASCII. Characters split across writes are held until complete.
pub struct JsonSafe<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> JsonSafe<W> {
    pub fn new(inner: W) -> Self {
        JsonSafe {
            inner,
            pending: Vec::new(),
        }
    }

    /// Writes out what is complete, keeping a trailing partial character.
    fn drain(&mut self, at_end: bool) -> io::Result<()> {
        let (valid, rest) = match std::str::from_utf8(&self.pending) {
            Ok(s) => (s.len(), 0),
            Err(e) => match e.error_len() {
                // A character cut by the end of this write: keep it.
                None if !at_end => (e.valid_up_to(), self.pending.len() - e.valid_up_to()),
                // Not UTF-8 at all (serde never writes that): pass it on.
                _ => (self.pending.len(), 0),
            },
        };
        let text = String::from_utf8_lossy(&self.pending[..valid]);
        let mut out = String::with_capacity(text.len());
        for c in text.chars() {
            if json_unsafe(c) {
                out.push_str(&format!("\\u{:04x}", c as u32));
            } else {
                out.push(c);
            }
        }
        self.inner.write_all(out.as_bytes())?;
        self.pending.drain(..self.pending.len() - rest);
        Ok(())
    }

    /// Flushes and returns the inner writer.
    pub(crate) fn into_inner(mut self) -> io::Result<W> {
        self.drain(true)?;
        self.inner.flush()?;
        let JsonSafe { inner, .. } = self;
        Ok(inner)
    }
}

impl<W: Write> Write for JsonSafe<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        self.drain(false)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.drain(false)?;
        self.inner.flush()
    }
}

/// JSON text with every [`json_unsafe`] character escaped (for outputs
/// built as a string).
pub fn json_safe(json: &str) -> Cow<'_, str> {
    if !json.chars().any(json_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut out = JsonSafe::new(Vec::with_capacity(json.len() + 16));
    // Writing to a Vec cannot fail.
    let _ = out.write_all(json.as_bytes());
    match out.into_inner() {
        Ok(bytes) => Cow::Owned(String::from_utf8_lossy(&bytes).into_owned()),
        Err(_) => Cow::Borrowed(json),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_text_is_borrowed() {
        assert!(matches!(neutralize("pass in on em0"), Cow::Borrowed(_)));
    }

    #[test]
    fn escape_sequences_become_visible() {
        assert_eq!(neutralize("a\x1b[31mb\x07"), "a\\x1b[31mb\\x07");
        assert_eq!(neutralize("x\u{9b}y"), "x\\x9by");
        assert_eq!(neutralize("a\tb\nc"), "a\\x09b\\x0ac");
    }

    #[test]
    fn bidi_and_zero_width_become_visible() {
        assert_eq!(neutralize("ab\u{202e}cd"), "ab\\u{202e}cd");
        for c in [
            '\u{202a}', '\u{2066}', '\u{2069}', '\u{200b}', '\u{200f}', '\u{feff}',
        ] {
            let shown = neutralize(&c.to_string()).into_owned();
            assert!(shown.starts_with("\\u{") && !shown.contains(c), "{shown}");
        }
        assert_eq!(neutralize("é ü → ✓"), "é ü → ✓");
    }

    #[test]
    fn json_keeps_its_value_and_loses_the_raw_characters() {
        let value = "lbl\u{202e}\u{9b}\u{7f}\u{200b}\u{feff}\x1b[2J é";
        let json = serde_json::to_string(&value).unwrap_or_default();
        let safe = json_safe(&json).into_owned();
        assert!(!safe.chars().any(is_unsafe), "{safe:?}");
        let back: String = serde_json::from_str(&safe).unwrap_or_default();
        assert_eq!(back, value);
    }

    #[test]
    fn json_writer_handles_characters_split_across_writes() {
        let json = serde_json::to_string(&"a\u{202e}b\u{85}c").unwrap_or_default();
        let mut w = JsonSafe::new(Vec::new());
        for b in json.as_bytes() {
            w.write_all(std::slice::from_ref(b)).unwrap_or_default();
        }
        let out = String::from_utf8(w.into_inner().unwrap_or_default()).unwrap_or_default();
        assert_eq!(out, "\"a\\u202eb\\u0085c\"");
    }
}
