//! Splits a rule line into tokens, keeping quoted strings (`label "a b"`) and
//! parenthesised groups (`(gif0 2001:db8::1)`, `keep state (max 10, pflow)`,
//! `return-icmp(port-unr, port-unr)`) whole, and braces as tokens of their own.

/// One token of a rule line, with its place in the line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tok<'a> {
    pub text: &'a str,
    /// Byte offset of the token in the tokenised text.
    pub start: usize,
    /// 1-based column (in characters) of the token in the tokenised text.
    pub col: usize,
}

impl Tok<'_> {
    /// Byte offset just past the token.
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }
}

/// Tokenises `text`. Unbalanced quotes or parentheses make the token run to
/// the end of the line; the caller reports it, nothing is lost.
pub(crate) fn tokenize(text: &str) -> Vec<Tok<'_>> {
    let mut toks = Vec::new();
    let mut chars = text.char_indices().enumerate().peekable();
    while let Some((ci, (bi, c))) = chars.next() {
        if c.is_whitespace() {
            continue;
        }
        if c == '{' || c == '}' {
            toks.push(Tok {
                text: &text[bi..bi + 1],
                start: bi,
                col: ci + 1,
            });
            continue;
        }
        let mut depth = usize::from(c == '(');
        let mut quoted = c == '"';
        let mut end = bi + c.len_utf8();
        while let Some(&(_, (nb, nc))) = chars.peek() {
            if !quoted && depth == 0 && (nc.is_whitespace() || nc == '{' || nc == '}') {
                break;
            }
            match nc {
                '"' => quoted = !quoted,
                '(' if !quoted => depth += 1,
                ')' if !quoted => depth = depth.saturating_sub(1),
                _ => {}
            }
            end = nb + nc.len_utf8();
            chars.next();
        }
        toks.push(Tok {
            text: &text[bi..end],
            start: bi,
            col: ci + 1,
        });
    }
    toks
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn texts(s: &str) -> Vec<&str> {
        tokenize(s).into_iter().map(|t| t.text).collect()
    }

    #[test]
    fn splits_words_quotes_groups_and_braces() {
        assert_eq!(
            texts(r#"pass label "a b" route-to (gif0 2001:db8::1) proto { tcp, udp }"#),
            [
                "pass",
                "label",
                "\"a b\"",
                "route-to",
                "(gif0 2001:db8::1)",
                "proto",
                "{",
                "tcp,",
                "udp",
                "}"
            ]
        );
        assert_eq!(
            texts("block return-icmp(port-unr, port-unr) from (lo0)/24"),
            [
                "block",
                "return-icmp(port-unr, port-unr)",
                "from",
                "(lo0)/24"
            ]
        );
        assert_eq!(texts("{a, b}"), ["{", "a,", "b", "}"]);
    }

    #[test]
    fn columns_count_characters() {
        let t = tokenize("é  pass");
        assert_eq!((t[1].text, t[1].col, t[1].start), ("pass", 4, 4));
    }

    #[test]
    fn unbalanced_group_runs_to_end() {
        assert_eq!(texts("keep state (max 10"), ["keep", "state", "(max 10"]);
        assert_eq!(texts(r#"label "open"#), ["label", "\"open"]);
    }
}
