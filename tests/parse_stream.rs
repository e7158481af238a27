//! `pfblame parse` streams its states: its output must stay byte for byte
//! what printing the whole model printed (`serde_json::to_writer` of
//! `read_any`'s `Parsed` through `sanitize::json_safe`, plus a newline, or `write_text`), from a file and
//! from stdin, for every fixture and for the awkward inputs below.
#![allow(clippy::unwrap_used)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command as StdCommand, Stdio};

use assert_cmd::Command;
use assert_cmd::cargo::CommandCargoExt;
use pfblame::commands::parse::write_text;
use pfblame::model::Parsed;
use pfblame::parse::{parse_any, read_any, read_any_with};

/// Today's output, from the collected model.
fn expected(bytes: &[u8], name: &str) -> (Vec<u8>, Vec<u8>, i32) {
    let parsed = read_any(bytes).unwrap();
    // With DEL, C1, bidi and zero-width characters escaped (`sanitize`).
    let whole = serde_json::to_string(&parsed).unwrap();
    let mut json = pfblame::sanitize::json_safe(&whole)
        .into_owned()
        .into_bytes();
    json.push(b'\n');
    let mut text = Vec::new();
    write_text(&mut text, &parsed, name).unwrap();
    let code = if parsed.has_errors() { 65 } else { 0 };
    (json, text, code)
}

fn run(format: &str, file: &Path, stdin: Option<&[u8]>) -> (Vec<u8>, i32) {
    let mut cmd = Command::cargo_bin("pfblame").unwrap();
    cmd.args(["parse", "--format", format]);
    match stdin {
        Some(bytes) => cmd.arg("-").write_stdin(bytes.to_vec()),
        None => cmd.arg(file),
    };
    let out = cmd.output().unwrap();
    (out.stdout, out.status.code().unwrap())
}

/// Runs both formats from the file and from stdin and compares each with
/// the collected model's output.
fn check(file: &Path) {
    let bytes = std::fs::read(file).unwrap();
    let shown = file.display().to_string();
    let (json, text, code) = expected(&bytes, &shown);
    let (json_stdin, text_stdin, _) = expected(&bytes, "-");
    for (format, want, stdin) in [
        ("json", &json, None),
        ("json", &json_stdin, Some(bytes.as_slice())),
        ("text", &text, None),
        ("text", &text_stdin, Some(bytes.as_slice())),
    ] {
        let (got, got_code) = run(format, file, stdin);
        let from = if stdin.is_some() { "stdin" } else { "file" };
        assert!(
            got == *want,
            "{shown} ({format}, {from}): output differs\n--- got\n{}\n--- want\n{}",
            String::from_utf8_lossy(&got),
            String::from_utf8_lossy(want)
        );
        assert_eq!(got_code, code, "{shown} ({format}, {from}): exit status");
    }
}

fn fixture_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            fixture_files(&path, out);
        } else if path.file_name().is_some_and(|n| n != "README.md") {
            out.push(path);
        }
    }
}

#[test]
fn every_fixture_streams_to_the_same_bytes() {
    let mut files = Vec::new();
    fixture_files(
        Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures")),
        &mut files,
    );
    files.sort();
    for kind in [
        "states",
        "rules",
        "mixed",
        "info",
        "malicious",
        "recordings",
        "lint",
    ] {
        let sep = std::path::MAIN_SEPARATOR;
        let has = files
            .iter()
            .any(|f| f.to_string_lossy().contains(&format!("{sep}{kind}{sep}")));
        assert!(has, "no fixture under fixtures/{kind}");
    }
    for file in &files {
        check(file);
        // And the JSON contract is still `to_string(parse_any(text))`, made
        // terminal-safe.
        if let Ok(text) = std::fs::read_to_string(file) {
            let whole = serde_json::to_string(&parse_any(&text)).unwrap();
            let mut want = pfblame::sanitize::json_safe(&whole).into_owned();
            want.push('\n');
            let (got, _) = run("json", file, None);
            assert_eq!(String::from_utf8(got).unwrap(), want, "{}", file.display());
        }
    }
}

/// A `-vv` state with its two continuation lines.
fn vv_state(i: usize) -> String {
    format!(
        "all tcp 10.0.{}.{}:{} -> 192.0.2.10:443       ESTABLISHED:ESTABLISHED\r\n   \
         [1 + 2](+3) wscale 7  [4 + 5](+6) wscale 7\r\n   \
         age 00:00:0{}, expires in 23:59:59, 10:5 pkts, 1000:500 bytes, anchor 1, rule {}\r\n",
        i / 250,
        i % 250,
        1024 + i,
        i % 10,
        i % 7
    )
}

/// Inputs the fixtures do not cover: continuation lines across the
/// streaming batches, rules after states (the text listing prints rules
/// first), broken lines, invalid UTF-8, no trailing newline, empty input.
#[test]
fn awkward_inputs_stream_to_the_same_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let mut many = String::new();
    for i in 0..300 {
        many.push_str(&vv_state(i));
        if i == 130 {
            many.push_str("all tcp garbage here\n   age 00:00:01, expires in 00:00:01, 1:1 pkts, 1:1 bytes, rule 1\n");
        }
    }
    let mut bad_utf8 =
        b"em\xff0 udp 10.0.0.1:53 <- 10.0.0.2:999       SINGLE:NO_TRAFFIC\n".to_vec();
    bad_utf8.extend_from_slice(b"pass in all label \"\xfe\"\n");
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("many", many.clone().into_bytes()),
        (
            "states-then-rules",
            format!(
                "{}@0 pass in quick on em0 all flags S/SA keep state\n  [ Evaluations: 1  Packets: 2  Bytes: 3  States: 1  ]\n{}",
                vv_state(1),
                vv_state(2)
            )
            .into_bytes(),
        ),
        (
            "sa-titles",
            format!(
                "FILTER RULES:\npass all\n\nSTATES:\n{}\nTIMEOUTS:\ntcp.first 120s\n\nINFO:\nStatus: Enabled for 0 days 00:01:02           Debug: Urgent\n",
                many
            )
            .into_bytes(),
        ),
        ("bad-utf8", bad_utf8),
        ("no-newline", vv_state(3).trim_end().as_bytes().to_vec()),
        ("empty", Vec::new()),
        ("nul", b"all tcp 10.0.0.1:1 -> 10.0.0.2:2 \0 x\n".to_vec()),
    ];
    // The inputs are what they claim: states with their continuations
    // (across batch boundaries), rules after states.
    let p = read_any(many.as_bytes()).unwrap();
    assert_eq!(p.states.len(), 300);
    assert!(p.states.iter().all(|s| s.packets.is_some()));
    assert_eq!(p.diagnostics.len(), 2, "{:?}", p.diagnostics);
    let p = read_any(cases[1].1.as_slice()).unwrap();
    assert_eq!((p.states.len(), p.rules.len()), (2, 1));
    let p = read_any(cases[3].1.as_slice()).unwrap();
    assert_eq!((p.states.len(), p.rules.len()), (1, 1));
    for (name, bytes) in cases {
        let path = dir.path().join(format!("{name}.txt"));
        std::fs::write(&path, &bytes).unwrap();
        check(&path);
    }
}

#[test]
fn read_any_with_hands_out_what_read_any_collects() {
    let mut text = String::new();
    for i in 0..500 {
        text.push_str(&vv_state(i));
    }
    text.push_str("pass all\n");
    let whole = read_any(text.as_bytes()).unwrap();
    let mut streamed = Vec::new();
    let rest = read_any_with(text.as_bytes(), |s| streamed.push(s.clone())).unwrap();
    assert_eq!(streamed.len(), 500);
    assert_eq!(streamed, whole.states);
    assert_eq!(
        rest,
        Parsed {
            states: Vec::new(),
            ..whole
        }
    );
}

#[test]
fn missing_file_is_66_and_a_directory_prints_nothing() {
    let (out, code) = run("json", Path::new("/nonexistent/states.txt"), None);
    assert_eq!((out.as_slice(), code), (&b""[..], 66));
    let dir = tempfile::tempdir().unwrap();
    for format in ["json", "text"] {
        let (out, code) = run(format, dir.path(), None);
        assert_eq!(code, 66, "{format}");
        assert!(
            out.is_empty(),
            "{format}: {}",
            String::from_utf8_lossy(&out)
        );
    }
}

/// A reader that goes away (`| head`) is not an error.
#[test]
fn broken_pipe_exits_0() {
    let mut text = String::new();
    for i in 0..20_000 {
        text.push_str(&vv_state(i));
    }
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("states.txt");
    std::fs::File::create(&path)
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    for format in ["json", "text"] {
        let mut child = StdCommand::cargo_bin("pfblame")
            .unwrap()
            .args(["parse", "--format", format])
            .arg(&path)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let mut head = [0u8; 16];
        child.stdout.take().unwrap().read_exact(&mut head).unwrap();
        let out = child.wait_with_output().unwrap();
        assert_eq!(
            out.status.code(),
            Some(0),
            "{format}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
