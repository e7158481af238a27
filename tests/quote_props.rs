//! The remote-shell quoting (`source::quote`, issue #10.2): whatever the
//! words, a POSIX `sh -c` splits the joined line back into exactly them,
//! with nothing expanded, globbed, substituted or redirected.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::Command;

use pfblame::source::quote;
use proptest::prelude::*;

/// What `sh` splits `line` into, each word printed with a \001 after it.
fn split_by_sh(words: &[String]) -> Vec<String> {
    let line = format!("printf '%s\\001' {}", quote::join(words));
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("sh")
        .arg("-c")
        .arg(&line)
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{line:?}: {out:?}");
    let made: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
    assert!(made.is_empty(), "{line:?} created {made:?}");
    let text = String::from_utf8(out.stdout).unwrap();
    let mut got: Vec<String> = text.split('\u{1}').map(str::to_string).collect();
    assert_eq!(got.pop().as_deref(), Some(""), "{text:?}");
    got
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        // Shell syntax, densely.
        proptest::collection::vec(
            prop::sample::select(vec![
                "'", "\"", "\\", "$", "(", ")", "`", ";", "&", "|", "<", ">", "->", "*", "?", "[",
                "]", "{", "}", "~", "#", "=", "!", " ", "\t", "\n", "%", "a", "-", "é", "\u{202e}",
            ]),
            0..12,
        )
        .prop_map(|parts| parts.concat()),
        // Anything at all but NUL (argv cannot hold it) and our separator.
        "[^\u{0}\u{1}]{0,16}",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]
    #[test]
    fn sh_splits_the_joined_line_into_the_same_words(
        words in proptest::collection::vec(word(), 1..5)
    ) {
        prop_assert_eq!(split_by_sh(&words), words);
    }
}

#[test]
fn the_issue_s_hostile_words_come_back_intact() {
    let words: Vec<String> = [
        "-k",
        "tcp 10.0.0.1:80 -> 10.0.0.2:5",
        "*",
        "$(touch PWN)",
        "a;touch PWN",
        "it's \"quoted\"",
        "line\nbreak",
        "",
        "A=b",
        "~root",
    ]
    .iter()
    .map(|w| w.to_string())
    .collect();
    assert_eq!(split_by_sh(&words), words);
}
