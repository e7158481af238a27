//! `man/pfblame.1` is what `cargo run --example gen-man` writes today (so it
//! follows every change to the command line), and mandoc finds nothing wrong
//! with it.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

fn committed_page() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("man/pfblame.1")
}

#[test]
fn committed_man_page_matches_the_command_line() {
    let want = pfblame::commands::manpage::render().expect("the page renders");
    let have = fs::read_to_string(committed_page()).unwrap_or_default();
    assert!(
        have == want,
        "man/pfblame.1 is out of date: run `cargo run --example gen-man` and commit the result"
    );
}

#[test]
fn man_page_documents_every_long_option() {
    use clap::CommandFactory;
    let page = pfblame::commands::manpage::render().expect("the page renders");
    let cmd = pfblame::cli::Cli::command();
    let subs = cmd.get_subcommands().filter(|s| !s.is_hide_set());
    for c in std::iter::once(&cmd).chain(subs) {
        for arg in c.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long() {
                // roff writes `-` as `\-`.
                let roff = format!("\\fB\\-\\-{}\\fR", long.replace('-', "\\-"));
                assert!(
                    page.contains(&roff),
                    "{} --{long} is not in the page",
                    c.get_name()
                );
            }
        }
    }
}

/// True when mandoc can run; false (with a message) when it is absent
/// outside CI. In CI (`CI=true`) a missing mandoc fails the test.
fn mandoc_available() -> bool {
    let ok = Command::new("mandoc")
        .arg("-V")
        .output()
        .is_ok_and(|o| o.status.success() || !o.stdout.is_empty() || !o.stderr.is_empty());
    if !ok {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "mandoc is not installed, and CI=true needs it (.ci/run installs it)"
        );
        eprintln!("SKIPPED man_page: mandoc is not installed (apt-get install mandoc)");
    }
    ok
}

#[test]
fn mandoc_lint_finds_no_warning() {
    if !mandoc_available() {
        return;
    }
    let out = Command::new("mandoc")
        .args(["-Tlint", "-W", "warning"])
        .arg(committed_page())
        .output()
        .expect("mandoc runs");
    let messages =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && messages.trim().is_empty(),
        "mandoc -Tlint -W warning: {messages}"
    );
}

#[test]
fn mandoc_renders_the_hand_written_sections() {
    if !mandoc_available() {
        return;
    }
    let out = Command::new("mandoc")
        .args(["-Tascii"])
        .arg(committed_page())
        .env("MANWIDTH", "80")
        .output()
        .expect("mandoc runs");
    let text = without_overstrike(&String::from_utf8_lossy(&out.stdout));
    for heading in [
        "SYNOPSIS",
        "COMMAND OPTIONS",
        "EXIT STATUS",
        "ENVIRONMENT",
        "FILES",
        "EXAMPLES",
    ] {
        assert!(text.contains(heading), "rendered page lacks {heading}");
    }
}

/// mandoc -Tascii writes bold as `X\bX`: keeps the last character of each.
fn without_overstrike(text: &str) -> String {
    let mut out: Vec<char> = Vec::with_capacity(text.len());
    for c in text.chars() {
        if c == '\u{8}' {
            out.pop();
        } else {
            out.push(c);
        }
    }
    out.into_iter().collect()
}

/// The exit statuses `src/exit.rs` defines (`Name = NN,` lines).
fn exit_codes() -> Vec<u32> {
    let src = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("src/exit.rs"))
        .expect("src/exit.rs");
    let codes: Vec<u32> = src
        .lines()
        .filter_map(|l| {
            let (name, rest) = l.trim().split_once(" = ")?;
            let code = rest.strip_suffix(',')?;
            name.chars().all(char::is_alphanumeric).then_some(())?;
            code.parse().ok()
        })
        .collect();
    assert!(codes.len() >= 8, "found the exit statuses: {codes:?}");
    codes
}

#[test]
fn every_exit_status_is_in_the_man_page_and_the_readme() {
    let page = pfblame::commands::manpage::render().expect("the page renders");
    let exit_section = page
        .split(".SH \"EXIT STATUS\"")
        .nth(1)
        .and_then(|s| s.split("\n.SH ").next())
        .expect("an EXIT STATUS section");
    let readme = fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md"))
        .expect("README");
    for code in exit_codes() {
        assert!(
            exit_section
                .lines()
                .any(|l| l.starts_with(".B ") && l.contains(&code.to_string())),
            "exit status {code} is not in the man page's EXIT STATUS"
        );
        let row = readme.lines().any(|l| {
            l.starts_with('|')
                && l.split('|')
                    .nth(1)
                    .is_some_and(|c| c.contains(&code.to_string()))
        });
        assert!(row, "exit status {code} is not in the README's exit table");
    }
}
