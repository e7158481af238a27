//! `pfblame parse`: exit statuses, stdin, and the JSON contract field names.
#![allow(clippy::unwrap_used)]

use assert_cmd::Command;
use predicates::prelude::*;

fn fixture(rel: &str) -> String {
    format!("{}/fixtures/{rel}", env!("CARGO_MANIFEST_DIR"))
}

fn pfblame() -> Command {
    Command::cargo_bin("pfblame").unwrap()
}

fn keys(v: &serde_json::Value) -> Vec<&str> {
    let mut k: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    k.sort_unstable();
    k
}

#[test]
fn clean_file_exits_0_with_contract_fields() {
    let out = pfblame()
        .args([
            "parse",
            "--format",
            "json",
            &fixture("rules/freebsd14-vvsr.txt"),
        ])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["states", "rules", "diagnostics"] {
        assert!(v.get(k).is_some_and(|x| x.is_array()), "missing {k}");
    }
    let rule = &v["rules"][4];
    let have = keys(rule);
    for k in [
        "line",
        "number",
        "anchor_path",
        "action",
        "direction",
        "quick",
        "state",
        "route",
        "text",
        "counters",
    ] {
        assert!(have.contains(&k), "rule lacks {k}: {have:?}");
    }
    assert_eq!(rule["line"], 17);
    assert_eq!(rule["number"], 2);
    assert_eq!(rule["anchor_path"], "");
    assert_eq!(rule["action"], "pass");
    assert_eq!(rule["direction"], "in");
    assert_eq!(rule["quick"], true);
    assert_eq!(rule["state"], "keep");
    assert_eq!(rule["route"]["kind"], "route-to");
    assert_eq!(rule["route"]["target"], "(gif0 2001:db8::1)");
    assert!(
        rule["text"]
            .as_str()
            .unwrap()
            .starts_with("pass in quick on em1 route-to")
    );
    let c = &rule["counters"];
    for k in [
        "evaluations",
        "packets",
        "bytes",
        "states",
        "state_creations",
    ] {
        assert!(c[k].is_u64(), "counters.{k}: {c}");
    }
    // Block rules and anchors have a null state; rules without -v null counters.
    assert_eq!(v["rules"][2]["state"], serde_json::Value::Null);
}

#[test]
fn null_number_and_counters_without_v() {
    let out = pfblame()
        .args(["parse", &fixture("rules/openbsd-sr.txt")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rules"][0]["number"], serde_json::Value::Null);
    assert_eq!(v["rules"][0]["counters"], serde_json::Value::Null);
    assert_eq!(v["rules"][0]["direction"], serde_json::Value::Null);
}

#[test]
fn malformed_exits_65_prints_output_and_summarises_on_stderr() {
    let out = pfblame()
        .args(["parse", &fixture("rules/malformed.txt")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(65));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["rules"].as_array().unwrap().len(), 8);
    let d = &v["diagnostics"][0];
    assert_eq!(keys(d), ["column", "line", "message", "severity", "text"]);
    assert_eq!(
        (d["line"].as_u64(), d["column"].as_u64()),
        (Some(4), Some(1))
    );
    assert_eq!(d["severity"], "error");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("malformed.txt:4:1: error:"), "{stderr}");
    // Includes the repeated `@1`, an error: its states cannot be attributed.
    assert!(stderr.contains("7 error(s)"), "{stderr}");
}

#[test]
fn missing_file_exits_66_naming_the_path() {
    pfblame()
        .args(["parse", "/nonexistent/pf-rules.txt"])
        .assert()
        .code(66)
        .stdout("")
        .stderr(predicate::str::contains("/nonexistent/pf-rules.txt"));
}

#[test]
fn stdin_and_text_format() {
    pfblame()
        .args(["parse", "--format", "text", "-"])
        .write_stdin("@0 pass in quick on em0 all flags S/SA\n  [ Evaluations: 1 Packets: 2 Bytes: 3 States: 4 ]\nanchor \"a\" all {\n@0 block all\n}\njunk\n")
        .assert()
        .code(65)
        .stdout(predicate::str::contains("@0 main: pass in quick on em0 all flags S/SA [states 4]"))
        .stdout(predicate::str::contains("@0 a: block all"))
        .stdout(predicate::str::contains("-:6:1: error: not a rule"));
}

#[test]
fn mixed_input_with_noise_is_clean() {
    pfblame()
        .args(["parse", &fixture("mixed/freebsd-altq-noise.txt")])
        .assert()
        .code(0)
        .stdout(predicate::str::contains("\"severity\":\"warning\""));
}

#[test]
fn broken_pipe_is_not_an_error() {
    // A reader that closes at once: the exit status must still be 0.
    let big: String = (0..20000)
        .map(|i| format!("@{i} pass all flags S/SA\n"))
        .collect();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("pfblame"))
        .args(["parse", "--format", "text", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    drop(child.stdout.take());
    std::io::Write::write_all(&mut stdin, big.as_bytes()).unwrap();
    drop(stdin);
    let out = child.wait_with_output().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// `parse /dev/zero` grew by gigabytes: a device or FIFO is refused (66),
/// while `parse -` still reads a pipe, with long lines capped.
#[cfg(unix)]
#[test]
fn parse_refuses_devices_but_reads_pipes() {
    let started = std::time::Instant::now();
    let out = assert_cmd::Command::cargo_bin("pfblame")
        .unwrap()
        .args(["parse", "/dev/zero"])
        .timeout(std::time::Duration::from_secs(20))
        .assert()
        .code(66)
        .get_output()
        .clone();
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a regular file"));
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let mut input = vec![b'z'; 200_000];
    input.extend_from_slice(b"\n");
    let out = assert_cmd::Command::cargo_bin("pfblame")
        .unwrap()
        .args(["parse", "-"])
        .write_stdin(input)
        .assert()
        .code(65)
        .get_output()
        .clone();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let message = json["diagnostics"][0]["message"].as_str().unwrap();
    assert!(message.contains("line 1 is 200000 bytes long"), "{message}");
}
