//! pfctl runs from an argv, never through a shell (design.md): a `--pfctl`
//! value or a label must never be interpreted by `sh`. This test fails as
//! soon as non-test code under `src/` names a shell or passes `-c` to one.

use std::fs;
use std::path::{Path, PathBuf};

/// Text that means "a shell runs this".
const FORBIDDEN: &[&str] = &[
    "sh -c",
    "\"/bin/sh\"",
    "\"/bin/bash\"",
    "\"/usr/bin/env\"",
    "Command::new(\"sh\")",
    "Command::new(\"bash\")",
    "Command::new(\"zsh\")",
    "Command::new(\"ksh\")",
    "Command::new(\"cmd\")",
    "\"-c\"",
    "libc::system",
];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).expect("src/ is readable") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The file without its unit tests: by the project's convention the
/// `#[cfg(test)]` module is last, and tests may use `sh` to fake a pfctl.
fn non_test_code(text: &str) -> &str {
    match text.find("#[cfg(test)]") {
        Some(i) => &text[..i],
        None => text,
    }
}

fn offences(text: &str) -> Vec<(usize, &'static str)> {
    let mut found = Vec::new();
    for (i, line) in non_test_code(text).lines().enumerate() {
        let code = line.split("//").next().unwrap_or(line);
        for pat in FORBIDDEN {
            if code.contains(pat) {
                found.push((i + 1, *pat));
            }
        }
    }
    found
}

#[test]
fn no_shell_in_src() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    assert!(files.len() > 10, "found only {} source files", files.len());
    let mut bad = Vec::new();
    for f in &files {
        let text = fs::read_to_string(f).expect("source is UTF-8");
        for (line, pat) in offences(&text) {
            bad.push(format!("{}:{line}: {pat}", f.display()));
        }
    }
    assert!(bad.is_empty(), "shell use in src/:\n{}", bad.join("\n"));
}

#[test]
fn the_scanner_would_notice_a_shell() {
    let code = "fn run() {\n    let c = Command::new(\"sh\").arg(\"-c\").arg(cmd);\n}\n#[cfg(test)]\nmod tests { fn f() { sh(\"sh -c x\"); } }\n";
    let found = offences(code);
    assert_eq!(found, [(2, "Command::new(\"sh\")"), (2, "\"-c\"")]);
    // Comments and test modules are not code that runs in the binary.
    assert!(offences("// never `sh -c` here\n").is_empty());
}

#[test]
fn pfctl_is_spawned_from_an_argv_program() {
    // Every process spawn in src/ takes a program variable (the first argv
    // element of --pfctl), never a string literal.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut spawns = 0;
    for f in &files {
        let text = fs::read_to_string(f).expect("source is UTF-8");
        for line in non_test_code(&text).lines() {
            if let Some(i) = line.find("Command::new(") {
                spawns += 1;
                let arg = &line[i + "Command::new(".len()..];
                assert!(
                    !arg.starts_with('"'),
                    "{}: literal program in {line:?}",
                    f.display()
                );
            }
        }
    }
    assert!(
        spawns >= 1,
        "no Command::new found: the scan looks in the wrong place"
    );
}
