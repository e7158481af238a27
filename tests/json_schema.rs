//! Every JSON document the CLI prints validates against its schema in
//! `docs/schema/`: `parse` for every fixture file, `report` and `lint` for
//! every recorded scenario and recording (with and without `--server`,
//! `--port`, `--allow`, several samples). The schemas' shared definitions
//! must be identical, and a broken document must fail, so the schemas mean
//! something.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use serde_json::Value;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn schema(name: &str) -> Value {
    let path = root().join("docs/schema").join(format!("{name}.json"));
    let text = fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn validator(name: &str) -> jsonschema::Validator {
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema(name))
        .unwrap_or_else(|e| panic!("docs/schema/{name}.json is not a valid schema: {e}"))
}

/// Runs pfblame and returns its JSON output (any exit status but usage or
/// internal). None when it printed nothing because the input cannot be
/// analysed (exit 65: `lint` on a file without rules).
fn try_json_of(args: &[&str]) -> Option<Value> {
    let out = Command::cargo_bin("pfblame")
        .expect("the binary is built")
        .current_dir(root())
        .args(args)
        .output()
        .expect("pfblame runs");
    let code = out.status.code();
    assert!(
        matches!(code, Some(0 | 1 | 65)),
        "pfblame {args:?}: exit {code:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    if code == Some(65) && out.stdout.is_empty() {
        return None;
    }
    Some(
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("pfblame {args:?} printed no JSON: {e}")),
    )
}

fn json_of(args: &[&str]) -> Value {
    try_json_of(args).unwrap_or_else(|| panic!("pfblame {args:?} printed nothing"))
}

fn assert_valid(v: &jsonschema::Validator, doc: &Value, what: &str) {
    let errors: Vec<String> = v
        .iter_errors(doc)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .take(10)
        .collect();
    assert!(errors.is_empty(), "{what}: {errors:#?}");
}

fn files_under(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = fs::read_dir(dir)
        .expect("fixtures are readable")
        .map(|e| e.expect("a directory entry").path())
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            files_under(&p, out);
        } else if p.extension().is_some_and(|e| e == "txt") {
            out.push(p);
        }
    }
}

/// Every recorded scenario and recording (directories and single files).
fn recordings() -> Vec<String> {
    let mut out = Vec::new();
    for parent in ["fixtures/scenarios", "fixtures/recordings"] {
        let mut dirs: Vec<PathBuf> = fs::read_dir(root().join(parent))
            .expect("fixture directory")
            .map(|e| e.expect("entry").path())
            .filter(|p| p.is_dir())
            .collect();
        dirs.sort();
        for d in dirs {
            let rel = d.strip_prefix(root()).expect("under the root");
            if rel.ends_with("single-files") {
                let mut files = Vec::new();
                files_under(&d, &mut files);
                out.extend(files.iter().map(|f| rel_text(f)));
            } else {
                out.push(rel.display().to_string());
            }
        }
    }
    assert!(out.len() >= 5, "found the recordings: {out:?}");
    out
}

fn rel_text(p: &Path) -> String {
    p.strip_prefix(root()).unwrap_or(p).display().to_string()
}

#[test]
fn parse_json_of_every_fixture_matches_the_schema() {
    let v = validator("parse");
    let mut files = Vec::new();
    files_under(&root().join("fixtures"), &mut files);
    assert!(files.len() > 40, "every fixture file: {}", files.len());
    let mut states = 0;
    for f in &files {
        let file = rel_text(f);
        let doc = json_of(&["parse", "--format", "json", &file]);
        states += doc["states"].as_array().map_or(0, Vec::len);
        assert_valid(&v, &doc, &format!("parse {file}"));
    }
    assert!(states > 100, "the fixtures hold states: {states}");
}

/// Option sets that change what the report carries (busiest rules without
/// servers, rates with samples, allowed rules, ports).
const REPORT_VARIANTS: [&[&str]; 4] = [
    &[],
    &["-s", "2001:db8:bbbb:1::10"],
    &["-s", "2001:db8:bbbb:1::10", "-p", "443", "--allow", "19"],
    &[
        "-s",
        "2001:db8::10",
        "-s",
        "10.0.0.0/8",
        "--samples",
        "3",
        "-i",
        "0.1",
    ],
];

#[test]
fn report_json_of_every_recording_matches_the_schema() {
    let v = validator("report");
    let mut verdicts = 0;
    for rec in recordings() {
        for extra in REPORT_VARIANTS {
            let mut args = vec!["report", "--format", "json", "--from", &rec];
            args.extend_from_slice(extra);
            let doc = json_of(&args);
            verdicts += doc["rules"]
                .as_array()
                .map_or(0, |r| r.iter().filter(|r| !r["verdict"].is_null()).count());
            assert_valid(&v, &doc, &format!("{args:?}"));
        }
    }
    assert!(verdicts > 0, "some report has a verdict to check");
}

#[test]
fn fleet_reports_carry_their_hosts_and_match_the_schema() {
    let v = validator("report");
    for rec in [
        "fixtures/scenarios/carp-pair",
        "fixtures/scenarios/carp-pair-mismatch",
    ] {
        let doc = json_of(&[
            "report",
            "--format",
            "json",
            "--from",
            rec,
            "-s",
            "2001:db8::10",
        ]);
        assert_valid(&v, &doc, rec);
        let hosts = doc["hosts"].as_array().expect("a hosts array");
        assert_eq!(hosts.len(), 2, "{rec}");
        for h in hosts {
            assert_valid(&v, &h["report"], &format!("{rec}: host {}", h["name"]));
        }
        assert!(doc["rules"].as_array().is_some_and(|r| !r.is_empty()));
    }
    // A broken host entry fails: the schema says what a host is.
    let mut doc = json_of(&[
        "report",
        "--format",
        "json",
        "--from",
        "fixtures/scenarios/carp-pair",
        "-s",
        "2001:db8::10",
    ]);
    assert_eq!(doc["hosts"][0]["carp"]["state"], "MASTER");
    let mut bad_carp = doc.clone();
    bad_carp["hosts"][1]["carp"]["vhids"][0]["state"] = Value::from("SPLIT");
    assert!(!v.is_valid(&bad_carp), "a CARP state pf does not have");
    doc["hosts"][0]["hostid"] = Value::from("not hex");
    assert!(!v.is_valid(&doc));
}

#[test]
fn lint_json_of_every_recording_matches_the_schema() {
    let v = validator("lint");
    let (mut findings, mut docs) = (0, 0);
    for rec in recordings() {
        let fleet = pfblame::source::fleet::fleet_recording(&root().join(&rec))
            .expect("readable")
            .is_some();
        for extra in [
            &["-s", "2001:db8:bbbb:1::10"][..],
            &["-s", "2001:db8::10", "-p", "443"],
        ] {
            let mut args = vec!["lint", "--format", "json", "--from", &rec];
            args.extend_from_slice(extra);
            let Some(doc) = try_json_of(&args) else {
                continue;
            };
            // A fleet: one host's document of this schema per host.
            let each: Vec<Value> = if fleet {
                let hosts = doc["hosts"].as_array().expect("a fleet's hosts");
                assert!(hosts.len() >= 2, "{args:?}");
                hosts.iter().map(|h| h["report"].clone()).collect()
            } else {
                vec![doc]
            };
            for doc in each {
                docs += 1;
                findings += doc["findings"].as_array().map_or(0, Vec::len);
                assert_valid(&v, &doc, &format!("{args:?}"));
            }
        }
    }
    assert!(docs >= 8, "lint printed JSON for most recordings: {docs}");
    assert!(findings > 0, "some lint run has findings to check");
}

#[test]
fn schemas_share_their_common_definitions_word_for_word() {
    let parse = schema("parse");
    let report = schema("report");
    let lint = schema("lint");
    for def in ["direction", "severity", "endpoint", "diagnostic"] {
        assert_eq!(
            parse["$defs"][def], report["$defs"][def],
            "{def}: parse vs report"
        );
    }
    for def in ["severity", "finding", "finding_rule"] {
        assert_eq!(
            report["$defs"][def], lint["$defs"][def],
            "{def}: report vs lint"
        );
    }
}

#[test]
fn schemas_name_the_version_the_cli_prints() {
    for name in ["parse", "report", "lint"] {
        let s = schema(name);
        assert_eq!(s["x-schema-version"], 1, "{name}");
        assert_eq!(s["properties"]["schema_version"]["const"], 1, "{name}");
    }
    let doc = json_of(&[
        "report",
        "--format",
        "json",
        "--from",
        "fixtures/scenarios/dual-prefix",
    ]);
    assert_eq!(doc["schema_version"], 1);
}

#[test]
fn schemas_reject_what_breaks_the_contract() {
    let doc = json_of(&[
        "report",
        "--format",
        "json",
        "--from",
        "fixtures/scenarios/dual-prefix",
        "-s",
        "2001:db8:bbbb:1::10",
    ]);
    let report = validator("report");
    assert!(report.is_valid(&doc));
    let broken = |path: &str, value: Value| {
        let mut d = doc.clone();
        *d.pointer_mut(path)
            .unwrap_or_else(|| panic!("{path} exists")) = value;
        d
    };
    for (path, value) in [
        ("/rules/0/verdict", Value::from("maybe")),
        ("/rules/0/examples/0/direction", Value::from("sideways")),
        ("/rules/0/server_states", Value::from(-1)),
        ("/findings/0/severity", Value::from("fatal")),
        ("/schema_version", Value::from(2)),
        ("/taken_at", Value::from("yesterday")),
    ] {
        assert!(
            !report.is_valid(&broken(path, value.clone())),
            "{path} = {value} was accepted"
        );
    }
    let mut missing = doc.clone();
    missing.as_object_mut().expect("an object").remove("rules");
    assert!(
        !report.is_valid(&missing),
        "a report without rules was accepted"
    );

    let parse = validator("parse");
    let parsed = json_of(&["parse", "fixtures/states/openbsd-vv.txt"]);
    assert!(parse.is_valid(&parsed));
    let mut bad = parsed.clone();
    bad["states"][0]["id"] = Value::from("not-hex");
    assert!(
        !parse.is_valid(&bad),
        "a state id that is not 16 hex digits was accepted"
    );
}
