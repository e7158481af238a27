//! Bad-input catalogue, through the real binary (`pfblame parse --format
//! json FILE`): every case must give diagnostics with line and column, never
//! panic, keep the good records after the bad line, and exit 65 when an
//! error was found. States and rules input are both covered.
//!
//! Deliberate exceptions, asserted as such below: empty input is a valid
//! (empty) listing; CRLF line ends are accepted silently; an unknown rule
//! keyword and invalid UTF-8 inside a label are warnings (pfctl grows new
//! keywords, and the replaced label is still a rule), so they exit 0.
#![allow(clippy::unwrap_used)]

use std::io::Write;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use serde_json::Value;

const STATE_A: &[u8] = b"all tcp 10.0.0.1:22 <- 10.0.0.2:50000       ESTABLISHED:ESTABLISHED\n   age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 3\n   id: 0000000000000001 creatorid: 00000001\n";
const STATE_B: &[u8] = b"all udp 2001:db8::10[53] <- 2001:db8::2[40000]       SINGLE:MULTIPLE\n   age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, anchor 2, rule 0\n";
const RULE_0: &[u8] = b"@0 block return all\n  [ Evaluations: 1  Packets: 1  Bytes: 1  States: 0 ]\n  [ Inserted: uid 0 pid 1 State Creations: 0 ]\n";
const RULE_443: &[u8] =
    b"@1 pass in on em0 inet6 proto tcp from any to 2001:db8::10 port = 443 flags S/SA\n";

/// What `pfblame parse` made of some bytes.
struct Outcome {
    code: i32,
    json: Value,
    stderr: String,
}

impl Outcome {
    /// `(line, rule, anchor)` of every state.
    fn states(&self) -> Vec<(u64, Option<u64>, Option<u64>)> {
        self.json["states"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["line"].as_u64().unwrap(),
                    s["rule"].as_u64(),
                    s["anchor"].as_u64(),
                )
            })
            .collect()
    }

    /// `(line, number, anchor_path)` of every rule.
    fn rules(&self) -> Vec<(u64, Option<u64>, String)> {
        self.json["rules"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["line"].as_u64().unwrap(),
                    r["number"].as_u64(),
                    r["anchor_path"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// `(line, column, severity, message)` of every diagnostic.
    fn diags(&self) -> Vec<(u64, u64, String, String)> {
        self.json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| {
                (
                    d["line"].as_u64().unwrap(),
                    d["column"].as_u64().unwrap(),
                    d["severity"].as_str().unwrap().to_owned(),
                    d["message"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// The first diagnostic must be an error at `(line, column)` whose
    /// message contains `what`.
    fn error_at(&self, line: u64, column: u64, what: &str) {
        let d = self.diags();
        assert!(
            d.iter()
                .any(|(l, c, s, m)| (*l, *c) == (line, column) && s == "error" && m.contains(what)),
            "no error {what:?} at {line}:{column} in {d:#?}"
        );
        assert_eq!(self.code, 65, "{}", self.stderr);
        // The summary on stderr names the place, so a user can find it.
        assert!(
            self.stderr.contains(&format!(":{line}:{column}: error:")),
            "{}",
            self.stderr
        );
    }
}

fn parse_bytes(input: &[u8]) -> Outcome {
    let mut f = tempfile::NamedTempFile::new().unwrap();
    f.write_all(input).unwrap();
    f.flush().unwrap();
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .args(["parse", "--format", "json"])
        .arg(f.path())
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    let code = out.status.code().expect("exited, not killed by a signal");
    Outcome {
        code,
        json: serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}); stderr: {}",
                String::from_utf8_lossy(&out.stderr)
            )
        }),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

#[test]
fn empty_input_is_an_empty_listing() {
    for input in [&b""[..], b"\n", b"\n\n   \n"] {
        let o = parse_bytes(input);
        assert_eq!(o.code, 0, "{input:?}");
        assert!(o.states().is_empty() && o.rules().is_empty() && o.diags().is_empty());
    }
}

#[test]
fn binary_data_before_states() {
    let o = parse_bytes(&cat(&[
        b"\x7fELF\x02\x01\x01\x00\xff\xfe\n",
        STATE_A,
        STATE_B,
    ]));
    o.error_at(1, 8, "NUL byte");
    assert_eq!(o.states(), [(2, Some(3), None), (5, Some(0), Some(2))]);
}

#[test]
fn binary_data_between_rules() {
    let o = parse_bytes(&cat(&[
        RULE_0,
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\n",
        RULE_443,
    ]));
    o.error_at(4, 1, "not a rule, state");
    o.error_at(5, 1, "not a rule, state");
    o.error_at(6, 1, "NUL byte");
    assert_eq!(
        o.rules(),
        [(1, Some(0), String::new()), (7, Some(1), String::new())]
    );
}

#[test]
fn invalid_utf8_in_a_state_address() {
    let o = parse_bytes(&cat(&[
        STATE_A,
        b"all tcp 10.0.0.\xff:22 <- 10.0.0.2:5       ESTABLISHED:ESTABLISHED\n",
        STATE_B,
    ]));
    assert!(o.diags().contains(&(
        4,
        16,
        "warning".into(),
        "invalid UTF-8 replaced by U+FFFD".into()
    )));
    o.error_at(4, 16, "expected a host address");
    assert_eq!(o.states(), [(1, Some(3), None), (5, Some(0), Some(2))]);
}

#[test]
fn invalid_utf8_in_a_label_is_a_warning_and_the_rule_stays() {
    let o = parse_bytes(&cat(&[
        RULE_0,
        b"@1 pass in all label \"caf\xe9\"\n@2 block all\n",
    ]));
    assert_eq!(o.code, 0, "{}", o.stderr);
    assert_eq!(
        o.diags(),
        [(
            4,
            26,
            "warning".into(),
            "invalid UTF-8 replaced by U+FFFD".into()
        )]
    );
    assert_eq!(o.json["rules"][1]["labels"][0], "caf\u{fffd}");
    assert_eq!(o.rules().len(), 3);
}

#[test]
fn nul_bytes_in_states_and_rules() {
    let o = parse_bytes(&cat(&[
        STATE_A,
        b"all tcp 10.0.0.1:22\x00 <- 10.0.0.2:5       ESTABLISHED:ESTABLISHED\n",
        b"   age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 9\n",
        STATE_B,
    ]));
    o.error_at(4, 20, "NUL byte");
    // The skipped state's age line is not applied to the state before it.
    assert_eq!(o.states(), [(1, Some(3), None), (6, Some(0), Some(2))]);
    assert!(
        o.diags()
            .iter()
            .any(|d| d.0 == 5 && d.3.contains("skipped"))
    );

    let o = parse_bytes(&cat(&[
        RULE_0,
        b"@1 pass in on em0\x00 all\n@2 block all\n",
    ]));
    o.error_at(4, 18, "NUL byte");
    assert_eq!(
        o.rules(),
        [(1, Some(0), String::new()), (5, Some(2), String::new())]
    );
}

#[test]
fn crlf_line_ends_parse_like_lf() {
    let lf = cat(&[RULE_0, RULE_443, STATE_A, STATE_B]);
    let crlf: Vec<u8> = String::from_utf8(lf.clone())
        .unwrap()
        .replace('\n', "\r\n")
        .into_bytes();
    let (a, b) = (parse_bytes(&lf), parse_bytes(&crlf));
    assert_eq!((a.code, b.code), (0, 0), "{}", b.stderr);
    assert_eq!(a.json, b.json);
    assert_eq!(b.states().len(), 2);
    assert_eq!(b.rules().len(), 2);
    // A bad CRLF line still gets its line number and column.
    let o = parse_bytes(b"all tcp 10.0.0.1:1 -> 10.0.0.2:99999       A:B\r\nall tcp 10.0.0.1:1 -> 10.0.0.2:2       A:B\r\n");
    o.error_at(1, 32, "port number");
    assert_eq!(o.states(), [(2, None, None)]);
}

#[test]
fn a_10_mb_line_in_states() {
    // Longer than any pfctl line (64 KiB): one error naming the line, never
    // held in memory, and parsing goes on after it.
    let mut input = STATE_A.to_vec();
    input.extend(std::iter::repeat_n(b'x', 10_000_000));
    input.push(b'\n');
    input.extend_from_slice(STATE_B);
    let started = Instant::now();
    let o = parse_bytes(&input);
    assert!(started.elapsed() < Duration::from_secs(20));
    o.error_at(4, 1, "line 4 is 10000000 bytes long");
    assert_eq!(o.states(), [(1, Some(3), None), (5, Some(0), Some(2))]);
    assert_eq!(o.diags().len(), 1, "{:?}", o.diags());
}

#[test]
fn a_10_mb_line_in_rules() {
    // 10 MB of garbage: one error.
    let mut input = RULE_0.to_vec();
    input.extend(std::iter::repeat_n(b'#', 10_000_000));
    input.push(b'\n');
    input.extend_from_slice(RULE_443);
    let o = parse_bytes(&input);
    o.error_at(4, 1, "longer than pfctl prints");
    assert_eq!(o.rules().len(), 2);
    assert_eq!(o.rules()[1].0, 5);

    // 10 MB of tokens inside one rule: skipped as one over-long line (this
    // took 23 GB of memory when every diagnostic copied the line).
    let mut input = RULE_0.to_vec();
    input.extend_from_slice(b"@1 pass ");
    for _ in 0..1_250_000 {
        input.extend_from_slice(b"in pass ");
    }
    input.extend_from_slice(b"\n@2 block all\n");
    let started = Instant::now();
    let o = parse_bytes(&input);
    assert!(started.elapsed() < Duration::from_secs(30));
    let d = o.diags();
    assert_eq!(d.len(), 1, "{d:?}");
    o.error_at(4, 1, "skipped");
    assert_eq!(o.rules().last().unwrap().0, 5);

    // A line just under the cap is still parsed (and diagnosed) as a line.
    let mut input = RULE_0.to_vec();
    input.extend_from_slice(b"@1 pass ");
    for _ in 0..7000 {
        input.extend_from_slice(b"in pass ");
    }
    input.extend_from_slice(b"\n@2 block all\n");
    let d = parse_bytes(&input).diags();
    assert!(d.len() <= 21, "{} diagnostics", d.len());
    assert!(d.last().unwrap().3.contains("more problems on this line"));
}

/// Garbage without end: the diagnostics kept are capped (the first 1000),
/// the rest counted exactly in one closing line.
#[test]
fn diagnostics_are_capped_and_the_rest_counted() {
    let lines = 5000;
    let input = b"garbage garbage garbage\n".repeat(lines);
    let o = parse_bytes(&input);
    let d = o.diags();
    assert_eq!(d.len(), 1001, "1000 kept and one count");
    let last = &d.last().unwrap().3;
    assert!(
        last.contains(&format!("… and {} more", lines - 1000)),
        "{last}"
    );
    assert_eq!(o.code, 65);
}

#[test]
fn lines_cut_in_the_middle() {
    let o = parse_bytes(&cat(&[b"all tcp 10.0.0.1:22 <- 10.0.0\n", STATE_B]));
    o.error_at(1, 24, "expected an IPv4 address");
    assert_eq!(o.states(), [(2, Some(0), Some(2))]);

    let cut_age = String::from_utf8(STATE_A.to_vec())
        .unwrap()
        .replace("1:1 bytes, rule 3", "1:1 byt");
    let o = parse_bytes(&cat(&[cut_age.as_bytes(), STATE_B]));
    o.error_at(2, 49, "`N:N pkts` or `N:N bytes`");
    // The cut state is kept (its main line is whole) but has no rule.
    assert_eq!(o.states(), [(1, None, None), (4, Some(0), Some(2))]);

    let o = parse_bytes(&cat(&[
        RULE_0,
        b"@1 pass in on em0 inet6 proto tcp from any to 2001:db8::10 port\n@2 block all\n",
    ]));
    o.error_at(4, 64, "`port` needs a value");
    assert_eq!(o.rules().len(), 3);
    assert_eq!(o.rules()[2], (5, Some(2), String::new()));
}

#[test]
fn unknown_keywords() {
    // On a state line after a state: the states parser says where.
    let o = parse_bytes(&cat(&[
        STATE_A,
        b"all tcp 10.0.0.1:22 => 10.0.0.2:5       ESTABLISHED:ESTABLISHED\n",
        STATE_B,
    ]));
    o.error_at(4, 21, "expected an arrow");
    assert_eq!(o.states(), [(1, Some(3), None), (5, Some(0), Some(2))]);

    // An unknown continuation line.
    let o = parse_bytes(&cat(&[STATE_A, b"   bogus: 1\n", STATE_B]));
    o.error_at(4, 4, "expected a sequence, age, id or origif line");
    assert_eq!(o.states(), [(1, Some(3), None), (5, Some(0), Some(2))]);

    // An unknown rule keyword: a warning (pfctl grows keywords), kept in `unknown`.
    let o = parse_bytes(&cat(&[
        RULE_0,
        b"@1 pass in frobnicate all\n@2 block all\n",
    ]));
    assert_eq!(o.code, 0);
    assert_eq!(
        o.diags(),
        [(
            4,
            12,
            "warning".into(),
            "unrecognised token `frobnicate`".into()
        )]
    );
    assert_eq!(o.json["rules"][1]["unknown"][0], "frobnicate");
    assert_eq!(o.rules().len(), 3);
}

#[test]
fn unbalanced_anchor_braces() {
    let o = parse_bytes(&cat(&[RULE_0, b"}\n", RULE_443]));
    o.error_at(4, 1, "`}` closes no anchor block");
    assert_eq!(
        o.rules(),
        [(1, Some(0), String::new()), (5, Some(1), String::new())]
    );

    let o = parse_bytes(&cat(&[
        RULE_0,
        b"@1 anchor \"a\" all {\n@0 pass all\n@1 block all\n",
    ]));
    o.error_at(4, 1, "anchor block `a` is never closed");
    assert_eq!(
        o.rules(),
        [
            (1, Some(0), String::new()),
            (4, Some(1), String::new()),
            (5, Some(0), "a".into()),
            (6, Some(1), "a".into()),
        ]
    );
}

#[test]
fn repeated_rule_numbers() {
    let o = parse_bytes(&cat(&[RULE_0, b"@0 pass all\n", RULE_443]));
    o.error_at(
        4,
        1,
        "rule number @0 repeats in this ruleset (first on line 1)",
    );
    assert_eq!(
        o.rules(),
        [
            (1, Some(0), String::new()),
            (4, Some(0), String::new()),
            (5, Some(1), String::new()),
        ]
    );
    // The same number in two anchors is fine.
    let o = parse_bytes(b"@0 pass all\n@1 anchor \"a\" all {\n@0 pass all\n}\n");
    assert_eq!(o.code, 0, "{}", o.stderr);
}

#[test]
fn numbers_beyond_64_bits() {
    let big = String::from_utf8(STATE_A.to_vec())
        .unwrap()
        .replace("1:1 pkts", "18446744073709551616:1 pkts");
    let o = parse_bytes(&cat(&[big.as_bytes(), STATE_B]));
    o.error_at(2, 39, "a number below 2^64");
    assert_eq!(o.states(), [(1, Some(3), None), (4, Some(0), Some(2))]);
    // Everything else on the age line is still read.
    assert_eq!(o.json["states"][0]["rule"], 3);

    let big_id = String::from_utf8(STATE_A.to_vec())
        .unwrap()
        .replace("id: 0000000000000001", "id: 10000000000000001");
    let o = parse_bytes(&cat(&[big_id.as_bytes(), STATE_B]));
    o.error_at(3, 8, "a shorter hexadecimal number");
    assert_eq!(o.states().len(), 2);

    let o = parse_bytes(&cat(&[RULE_0, b"@4294967296 pass all\n", RULE_443]));
    o.error_at(4, 2, "rule number `4294967296` is out of range");
    assert_eq!(o.rules().len(), 3);
    assert_eq!(o.rules()[2], (5, Some(1), String::new()));

    let counters = String::from_utf8(RULE_0.to_vec())
        .unwrap()
        .replace("Evaluations: 1 ", "Evaluations: 99999999999999999999 ");
    let o = parse_bytes(&cat(&[counters.as_bytes(), RULE_443]));
    o.error_at(2, 18, "does not fit in 64 bits");
    assert_eq!(o.rules().len(), 2);
}

#[test]
fn escape_sequences_are_neutralised_in_text_output() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/malicious");
    for (file, visible) in [
        (
            "escape-labels-vvsr.txt",
            "web\\x1b[2J\\x1b[31mPWNED\\x1b[0m",
        ),
        ("escape-labels-vvsr.txt", "evil\\x1b]0;owned title\\x07"),
        ("escape-labels-vvsr.txt", "ssh\\x9b31m"),
        ("escape-ifaces-vvss.txt", "em1\\x1b[8m tcp"),
    ] {
        let out = Command::cargo_bin("pfblame")
            .unwrap()
            .args(["parse", "--format", "text", &format!("{dir}/{file}")])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.contains(visible), "{file}: {visible} not in\n{text}");
        let raw: Vec<char> = text
            .chars()
            .filter(|c| c.is_control() && *c != '\n')
            .collect();
        assert!(raw.is_empty(), "{file}: raw control characters {raw:?}");
    }
}
