//! The one quoting function for words that a shell will split again: the
//! remote command of `--ssh` (ssh joins its arguments after the host with
//! spaces and hands the line to the remote user's shell), and commands as
//! shown to the user (messages, the kill confirmation).
//!
//! POSIX single quotes: inside `'…'` every byte is literal (no `*`, `$`,
//! `;`, `->`, backquote or newline is special), and a `'` is written as
//! `'\''`. Words made only of characters no POSIX shell treats specially
//! stay bare, so ordinary commands read as typed.

/// Quotes `word` so that a POSIX shell reads it back as exactly one word,
/// equal to `word`.
pub fn quote(word: &str) -> String {
    if !word.is_empty() && word.bytes().all(is_plain) {
        return word.to_string();
    }
    let mut out = String::with_capacity(word.len() + 2);
    out.push('\'');
    for c in word.chars() {
        if c == '\'' {
            out.push_str("'\\''");
        } else {
            out.push(c);
        }
    }
    out.push('\'');
    out
}

/// Quotes every word and joins them with spaces: one command line that a
/// POSIX shell splits back into exactly `words`.
pub fn join<S: AsRef<str>>(words: &[S]) -> String {
    words
        .iter()
        .map(|w| quote(w.as_ref()))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Bytes that are never special to a POSIX shell in any position. `=` is
/// left out (a bare `A=b` first word is an assignment), as are `~`, `#`,
/// globs, quotes, `$`, redirections and blanks.
fn is_plain(b: u8) -> bool {
    b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'_' | b'-' | b'.' | b'/' | b':' | b'@' | b',' | b'+' | b'%'
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_words_stay_bare() {
        assert_eq!(quote("pfctl"), "pfctl");
        assert_eq!(quote("-vvsr"), "-vvsr");
        assert_eq!(
            quote("64f1a2b300000a11/4e1f00c2"),
            "64f1a2b300000a11/4e1f00c2"
        );
    }

    #[test]
    fn special_words_are_single_quoted() {
        assert_eq!(quote(""), "''");
        assert_eq!(quote("*"), "'*'");
        assert_eq!(quote("a->b"), "'a->b'");
        assert_eq!(quote("it's"), "'it'\\''s'");
        assert_eq!(quote("$(touch x)"), "'$(touch x)'");
        assert_eq!(quote("A=b"), "'A=b'");
        assert_eq!(quote("a\nb"), "'a\nb'");
        assert_eq!(join(&["pfctl", "-a", "*"]), "pfctl -a '*'");
    }
}
