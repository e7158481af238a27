//! Text from pfctl (labels, interface and anchor names) is shown to a
//! terminal: control characters must never reach it raw.

use std::borrow::Cow;

/// Replaces control characters (C0, DEL, C1, including ESC) by visible
/// escapes (`\x1b`), so text from pfctl cannot move the cursor or change
/// colours. Returns the input unchanged (borrowed) when it is clean.
pub fn neutralize(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if is_unsafe(c) {
            out.push_str(&format!("\\x{:02x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn is_unsafe(c: char) -> bool {
    c.is_control() && c != '\t'
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
    }
}
