//! Every state printed by the real pfctl state printer (`../shared/pfctl-oracle`:
//! OpenBSD `pf_print_state.c` 1.69, FreeBSD 14, FreeBSD 15, at `-ss`, `-vss`,
//! `-vvss`) parses to exactly its truth (`*.truth.jsonl`), field by field.
//! Fields a verbosity does not print must come out absent.
#![allow(clippy::unwrap_used)]

mod corpus_support;

use std::net::IpAddr;

use pfblame::parse::parse_any;
use pfblame::print::listing::write_state_as_printed;
use serde_json::{Value, json};

/// An address compared as a parsed value when it is one.
fn norm_addr(v: &Value) -> Value {
    match v.as_str().and_then(|s| s.parse::<IpAddr>().ok()) {
        Some(ip) => json!(ip.to_string()),
        None => v.clone(),
    }
}

/// `{addr, port, rdomain}` in the truth's shape.
fn norm_endpoint(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    json!({
        "addr": norm_addr(&v["addr"]),
        "port": v["port"].clone(),
        "rdomain": v.get("rdomain").cloned().unwrap_or(Value::Null),
    })
}

fn norm_route(v: &Value) -> Value {
    if v.is_null() {
        return Value::Null;
    }
    json!({"kind": v["kind"], "addr": norm_addr(&v["addr"]), "iface": v["iface"]})
}

/// The seq windows in the truth's shape (`[{seqlo, window, seqdiff, wscale}, …]`).
fn norm_seq(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.clone()),
        _ => Value::Null,
    }
}

/// What the truth says a reader of this verbosity must report.
/// OpenBSD prints `{addr}` at every verbosity, FreeBSD only on the `-vv` id line.
fn expected(t: &Value, freebsd: bool) -> Vec<(&'static str, Value)> {
    let verb = t["verbosity"].as_u64().unwrap();
    let freebsd_route = freebsd;
    let at = |min: u64, v: Value| if verb >= min { v } else { Value::Null };
    let route = if t["route"].is_null() {
        Value::Null
    } else if freebsd_route {
        at(2, norm_route(&t["route"]))
    } else {
        norm_route(&t["route"])
    };
    let flags = if verb >= 1 {
        t["flags"].clone()
    } else {
        json!([])
    };
    vec![
        ("line", t["line"].clone()),
        ("iface", t["iface"].clone()),
        ("proto", t["proto"].clone()),
        ("direction", t["direction"].clone()),
        ("src", norm_endpoint(&t["src"])),
        ("dst", norm_endpoint(&t["dst"])),
        ("src_nat", norm_endpoint(&t["src_nat"])),
        ("dst_nat", norm_endpoint(&t["dst_nat"])),
        ("src_state", str_of(&t["src_state"])),
        ("dst_state", str_of(&t["dst_state"])),
        ("age", at(1, t["age"].clone())),
        ("expires", at(1, t["expires"].clone())),
        ("packets", at(1, t["packets"].clone())),
        ("bytes", at(1, t["bytes"].clone())),
        ("anchor", at(1, t["anchor"].clone())),
        ("rule", at(1, t["rule"].clone())),
        ("flags", flags),
        ("id", at(2, t["id"].clone())),
        ("creator_id", at(2, t["creator_id"].clone())),
        ("route", route),
        ("rtable", at(2, t["rtable"].clone())),
        ("origif", at(2, t["origif"].clone())),
        ("seq", at(1, norm_seq(&t["seq"]))),
    ]
}

fn str_of(v: &Value) -> Value {
    match v {
        Value::Number(n) => json!(n.to_string()),
        other => other.clone(),
    }
}

/// The parsed state's value for a truth field.
fn actual(s: &Value, field: &str) -> Value {
    let v = s.get(field).cloned().unwrap_or(Value::Null);
    match field {
        "src" | "dst" | "src_nat" | "dst_nat" => norm_endpoint(&v),
        "route" => norm_route(&v),
        "seq" => match v {
            Value::Array(a) => Value::Array(a),
            _ => Value::Null,
        },
        _ => v,
    }
}

#[test]
fn every_oracle_state_parses_to_its_truth() {
    let Some(dir) = corpus_support::corpus_dir("pfctl-oracle") else {
        return;
    };
    let (mut states, mut fields, mut wrong) = (0usize, 0usize, Vec::new());
    let mut reprinted = Vec::new();
    for os in ["openbsd", "freebsd"] {
        for txt in corpus_support::files(&dir.join(os), ".txt") {
            let truth_path = txt.with_extension("truth.jsonl");
            let text = std::fs::read_to_string(&txt).unwrap();
            let parsed = parse_any(&text);
            let name = txt.file_name().unwrap().to_string_lossy().into_owned();
            assert!(
                parsed.diagnostics.is_empty(),
                "{name}: {:#?}",
                &parsed.diagnostics[..parsed.diagnostics.len().min(5)]
            );
            let truths: Vec<Value> = std::fs::read_to_string(&truth_path)
                .unwrap()
                .lines()
                .map(|l| serde_json::from_str(l).unwrap())
                .collect();
            assert_eq!(parsed.states.len(), truths.len(), "{name}: state count");
            for (st, t) in parsed.states.iter().zip(&truths) {
                let got = serde_json::to_value(st).unwrap();
                states += 1;
                let mut printed = String::new();
                write_state_as_printed(&mut printed, st).unwrap();
                if printed != t["text"].as_str().unwrap() {
                    reprinted.push(format!(
                        "{name} line {}:\n  printed {printed}  truth   {}",
                        t["line"],
                        t["text"].as_str().unwrap()
                    ));
                }
                for (field, want) in expected(t, os == "freebsd") {
                    fields += 1;
                    let have = actual(&got, field);
                    if have != want {
                        wrong.push(format!(
                            "{name} line {}: {field}: parsed {have}, truth {want}",
                            t["line"]
                        ));
                    }
                }
            }
        }
    }
    println!(
        "oracle: {states} states, {fields} field values compared, {} wrong, {} print back differently",
        wrong.len(),
        reprinted.len()
    );
    for r in reprinted.iter().take(10) {
        println!("{r}");
    }
    assert!(states >= 4500, "only {states} oracle states found");
    // Printing back needs to know which pfctl printed a state. A FreeBSD
    // `-vv` state whose only FreeBSD sign is a `route-to:` without an
    // interface looks like an OpenBSD one (`{addr}`); nothing else may differ.
    let ambiguous = |r: &String| r.contains(" route-to: ") && r.contains("} ");
    let other: Vec<&String> = reprinted.iter().filter(|r| !ambiguous(r)).collect();
    assert!(
        other.is_empty(),
        "states print back differently: {other:#?}"
    );
    assert!(
        wrong.is_empty(),
        "{} wrong values, first: {:#?}",
        wrong.len(),
        &wrong[..wrong.len().min(20)]
    );
}
