//! `report --format openmetrics`, read back by a real OpenMetrics parser:
//! Prometheus' Python client (`prometheus_client.openmetrics.parser`,
//! Debian's python3-prometheus-client, installed by `.ci/run`). The parser
//! refuses a missing `# EOF`, bad escapes, a `# UNIT` the name does not end
//! with, and samples outside their family, so every test here also checks
//! the format.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::fs;
use std::io::Write;
use std::path::Path;
use std::process::{Command as Process, Stdio};
use std::sync::OnceLock;

use assert_cmd::Command;
use serde_json::Value;

/// Parses OpenMetrics text on stdin, prints the families as JSON.
const PARSER: &str = r#"
import json, sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
families = []
for f in text_string_to_metric_families(sys.stdin.read()):
    families.append({
        "name": f.name, "type": f.type, "unit": f.unit, "help": f.documentation,
        "samples": [{"name": s.name, "labels": s.labels, "value": s.value} for s in f.samples],
    })
print(json.dumps(families))
"#;

/// The first python3 that has the client: `python3` on PATH, else Debian's
/// own `/usr/bin/python3` (where python3-prometheus-client installs, which
/// a pyenv or venv python3 earlier on PATH does not see).
fn python() -> &'static str {
    static FOUND: OnceLock<&'static str> = OnceLock::new();
    FOUND.get_or_init(|| {
        ["python3", "/usr/bin/python3"]
            .into_iter()
            .find(|py| {
                Process::new(py)
                    .args(["-c", "import prometheus_client.openmetrics.parser"])
                    .stderr(Stdio::null())
                    .status()
                    .is_ok_and(|s| s.success())
            })
            .unwrap_or_else(|| {
                panic!(
                    "no python3 with prometheus_client: apt-get install \
                     python3-prometheus-client (.ci/run does)"
                )
            })
    })
}

/// The parser's families, or its error message.
fn parse(text: &str) -> Result<Vec<Value>, String> {
    let mut child = Process::new(python())
        .args(["-c", PARSER])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs (see .ci/run)");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    if !out.status.success() {
        return Err(stderr.into_owned());
    }
    Ok(serde_json::from_slice::<Vec<Value>>(&out.stdout).unwrap())
}

fn report(args: &[&str]) -> (i32, String) {
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .arg("report")
        .args(args)
        .args(["--format", "openmetrics"])
        .output()
        .unwrap();
    (
        out.status.code().expect("exited"),
        String::from_utf8(out.stdout).expect("utf-8"),
    )
}

fn family<'a>(families: &'a [Value], name: &str) -> &'a Value {
    families
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("no family {name} in {families:?}"))
}

/// The samples of a family as label maps with their values.
fn samples(f: &Value) -> Vec<(BTreeMap<String, String>, f64)> {
    f["samples"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            let labels = s["labels"]
                .as_object()
                .unwrap()
                .iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                .collect();
            (labels, s["value"].as_f64().unwrap())
        })
        .collect()
}

fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

const MISSION: &[&str] = &[
    "--from",
    "fixtures/scenarios/dual-prefix",
    "-s",
    "2001:db8:bbbb:1::10",
];

#[test]
fn the_mission_parses_with_every_family_typed_and_documented() {
    let (code, text) = report(MISSION);
    assert_eq!(code, 1, "a bypass exits 1 in every format");
    let families = parse(&text).unwrap();
    for f in &families {
        assert!(!f["help"].as_str().unwrap().is_empty(), "{f}");
        assert_ne!(f["type"], "unknown", "{f}");
    }

    let rules = samples(family(&families, "pfblame_rule_server_states"));
    assert_eq!(
        rules,
        [
            (
                labels(&[
                    ("host", "recorded"),
                    ("anchor", ""),
                    ("rule", "@14"),
                    ("verdict", "bypass")
                ]),
                4.0
            ),
            (
                labels(&[
                    ("host", "recorded"),
                    ("anchor", ""),
                    ("rule", "@19"),
                    ("verdict", "stateful")
                ]),
                2.0
            ),
        ]
    );
    let one = |name: &str| samples(family(&families, name))[0].1;
    assert_eq!(one("pfblame_harmful_rules"), 1.0);
    assert_eq!(one("pfblame_server_states"), 6.0);
    assert_eq!(one("pfblame_states"), 24.0);
    assert_eq!(one("pfblame_parse_errors"), 0.0);
    // 2025-10-14 09:30:00 UTC, the recording's own time.
    assert_eq!(one("pfblame_sample_timestamp_seconds"), 1_760_434_200.0);

    let poll = family(&families, "pfblame_poll_duration_seconds");
    assert_eq!(poll["unit"], "seconds");
    assert_eq!(poll["type"], "gauge");
    let secs = samples(poll)[0].1;
    assert!((0.0..60.0).contains(&secs), "{secs}");

    let info = family(&families, "pfblame");
    assert_eq!(info["type"], "info");
    assert_eq!(
        samples(info)[0].0,
        labels(&[
            ("host", "recorded"),
            ("version", env!("CARGO_PKG_VERSION")),
            ("dialect", "openbsd-6.8")
        ])
    );

    let by_verdict: BTreeMap<String, f64> = samples(family(&families, "pfblame_rules"))
        .into_iter()
        .map(|(l, v)| (l["verdict"].clone(), v))
        .collect();
    assert_eq!(by_verdict.len(), 6, "every verdict, zeros included");
    assert_eq!(by_verdict["bypass"], 1.0);
    assert_eq!(by_verdict["stateful"], 1.0);
    assert_eq!(by_verdict["routing"], 0.0);
}

#[test]
fn the_parser_is_strict_enough_to_catch_a_cut_file() {
    let (_, text) = report(MISSION);
    let cut = text.trim_end().trim_end_matches("# EOF");
    assert!(parse(cut).is_err(), "a file without # EOF must be refused");
    let raw_quote = text.replace(r#"anchor="""#, r#"anchor=""""#);
    assert!(
        parse(&raw_quote).is_err(),
        "an unescaped quote must be refused"
    );
}

#[test]
fn anchors_are_labels_and_routing_only_is_harmless() {
    let (code, text) = report(&[
        "--from",
        "fixtures/recordings/openbsd-anchors",
        "-s",
        "192.0.2.0/24",
    ]);
    assert_eq!(code, 0);
    let families = parse(&text).unwrap();
    let rules = samples(family(&families, "pfblame_rule_server_states"));
    assert!(
        rules
            .iter()
            .any(|(l, v)| l["anchor"] == "web" && l["rule"] == "@3:0" && *v == 2.0),
        "{rules:?}"
    );
    assert_eq!(
        samples(family(&families, "pfblame_harmful_rules"))[0].1,
        0.0
    );

    let (code, text) = report(&[
        "--from",
        "fixtures/scenarios/openbsd-flags-any",
        "-s",
        "2001:db8::10",
    ]);
    assert_eq!(code, 0);
    let families = parse(&text).unwrap();
    let rules = samples(family(&families, "pfblame_rule_server_states"));
    assert_eq!(rules.len(), 1);
    assert_eq!(rules[0].0["verdict"], "routing");
    assert_eq!(
        samples(family(&families, "pfblame"))[0].0["dialect"],
        "openbsd"
    );
}

/// A copy of `openbsd-anchors` whose anchor is named `name` (in the rules
/// listing and, as pfctl prints it, on the anchor line).
fn recording_with_anchor(dir: &Path, name: &str) {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/recordings/openbsd-anchors");
    let rules = fs::read_to_string(src.join("rules.txt")).unwrap();
    fs::write(
        dir.join("rules.txt"),
        rules.replace("anchor \"web\"", &format!("anchor \"{name}\"")),
    )
    .unwrap();
    fs::copy(src.join("states.txt"), dir.join("states.txt")).unwrap();
}

#[test]
fn hostile_anchor_names_are_neutralised_and_escaped() {
    let dir = tempfile::tempdir().unwrap();
    // pfctl prints anchor names raw between quotes (a `"` in one would end
    // it: pfblame's rules parser then ignores the name); the escaping of
    // `"` itself is covered by the unit tests of `openmetrics::label_value`.
    let hostile = "w\\b\x1b[2J\x07\u{202e}";
    recording_with_anchor(dir.path(), hostile);
    let (code, text) = report(&["--from", dir.path().to_str().unwrap(), "-s", "192.0.2.0/24"]);
    assert_eq!(code, 0, "{text}");
    assert!(
        !text.contains('\x1b') && !text.contains('\x07') && !text.contains('\u{202e}'),
        "{text:?}"
    );
    let families = parse(&text).unwrap();
    let rules = samples(family(&families, "pfblame_rule_server_states"));
    let anchors: Vec<&str> = rules.iter().map(|(l, _)| l["anchor"].as_str()).collect();
    // What the parser reads back is the neutralised name: the backslash
    // intact (escaped on the way), control and bidi characters as visible
    // escapes.
    assert!(
        anchors.contains(&"w\\b\\x1b[2J\\x07\\u{202e}"),
        "{anchors:?}"
    );
    // The parser keeps unknown escapes as they are, so check the raw text
    // too: every backslash doubled.
    assert!(
        text.contains(r#"anchor="w\\b\\x1b[2J\\x07\\u{202e}""#),
        "{text}"
    );
}

#[test]
fn output_writes_the_file_atomically_and_nothing_on_stdout() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("pfblame.prom");
    fs::write(&path, "old\n").unwrap();
    let mut args: Vec<&str> = MISSION.to_vec();
    let p = path.to_str().unwrap();
    args.extend(["--output", p]);
    let (code, stdout) = report(&args);
    assert_eq!(code, 1);
    assert_eq!(stdout, "");
    let text = fs::read_to_string(&path).unwrap();
    assert!(text.ends_with("# EOF\n"));
    parse(&text).unwrap();
    let names: Vec<String> = fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["pfblame.prom"], "no temporary file left");
}

#[test]
fn output_into_a_missing_directory_fails_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("missing/pfblame.prom");
    let mut args: Vec<&str> = MISSION.to_vec();
    let p = path.to_str().unwrap();
    args.extend(["--output", p]);
    let (code, stdout) = report(&args);
    assert_eq!(code, 73, "EX_CANTCREAT");
    assert_eq!(stdout, "");
    assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
}

#[test]
fn live_pfctl_is_localhost() {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .env(
            "FAKE_PFCTL_DIR",
            manifest.join("fixtures/scenarios/openbsd-flags-any-stray-2"),
        )
        .args(["report", "--format", "openmetrics", "-s", "2001:db8::10"])
        .arg("--pfctl")
        .arg(manifest.join("tests/fake-pfctl"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let families = parse(&String::from_utf8(out.stdout).unwrap()).unwrap();
    let harmful = samples(family(&families, "pfblame_harmful_rules"));
    assert_eq!(harmful, [(labels(&[("host", "localhost")]), 1.0)]);
}

#[test]
fn lint_refuses_openmetrics() {
    Command::cargo_bin("pfblame")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["lint", "--format", "openmetrics"])
        .args(MISSION)
        .assert()
        .code(2)
        .stdout("");
}

#[test]
fn over_ssh_the_host_label_is_the_ssh_host_escaped() {
    // tests/fake-ssh first in PATH: runs the command "on the host" locally.
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(manifest.join("tests/fake-ssh"), bin.path().join("ssh")).unwrap();
    let path = format!(
        "{}:{}",
        bin.path().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let pfctl = format!(
        "env FAKE_PFCTL_DIR={} {}",
        manifest
            .join("fixtures/scenarios/openbsd-flags-any")
            .display(),
        manifest.join("tests/fake-pfctl").display()
    );
    let host = "admin@fw\"1\\";
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .env("PATH", path)
        .args(["report", "--format", "openmetrics", "-s", "2001:db8::10"])
        .args(["--ssh", host, "--pfctl", &pfctl])
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains(r#"host="admin@fw\"1\\""#), "{text}");
    let families = parse(&text).unwrap();
    let states = samples(family(&families, "pfblame_server_states"));
    assert_eq!(states, [(labels(&[("host", host)]), 2.0)]);
}

#[test]
fn a_fleet_is_one_document_with_a_host_label_per_host() {
    let (code, text) = report(&[
        "--from",
        "fixtures/scenarios/carp-pair",
        "-s",
        "2001:db8::10",
    ]);
    assert_eq!(code, 1, "the master's @2 bypasses");
    let families = parse(&text).expect("the real parser reads the fleet's document");
    let harmful = samples(family(&families, "pfblame_harmful_rules"));
    assert_eq!(
        harmful,
        [
            (labels(&[("host", "fw-a")]), 1.0),
            (labels(&[("host", "fw-b")]), 1.0)
        ]
    );
    let rules = samples(family(&families, "pfblame_rule_server_states"));
    assert!(rules.contains(&(
        labels(&[
            ("host", "fw-a"),
            ("anchor", "admin"),
            ("rule", "@5:0"),
            ("verdict", "stateful")
        ]),
        1.0
    )));
    let polls = samples(family(&families, "pfblame_poll_duration_seconds"));
    assert_eq!(polls.len(), 2);
    // The pair's carp.txt: fw-a is MASTER of carp0's vhid 1, fw-b BACKUP.
    let carp = samples(family(&families, "pfblame_carp_master"));
    assert_eq!(
        carp,
        [
            (
                labels(&[("host", "fw-a"), ("iface", "carp0"), ("vhid", "1")]),
                1.0
            ),
            (
                labels(&[("host", "fw-b"), ("iface", "carp0"), ("vhid", "1")]),
                0.0
            )
        ]
    );
}

#[test]
fn without_carp_status_there_is_no_carp_family() {
    let (_, text) = report(MISSION);
    let families = parse(&text).expect("parses");
    assert!(
        families.iter().all(|f| f["name"] != "pfblame_carp_master"),
        "no ifconfig output was read: no sample, not a 0"
    );
}
