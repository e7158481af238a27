//! The verdicts per pf dialect, end to end: `report` and `lint` on every
//! scenario of `fixtures/scenarios/generate_dialects.py`, their verdicts,
//! exit statuses and detected dialect, and every printed fix line checked
//! against that dialect's pfctl rule grammar (`pfblame::pf::grammar`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use assert_cmd::Command;
use pfblame::pf::{Dialect, grammar};
use serde_json::Value;

const SERVER: &str = "2001:db8::10";

struct Case {
    dir: &'static str,
    server: &'static str,
    dialect: &'static str,
    /// `(rule number, verdict)` of `report`, most states first.
    report: &'static [(Option<u64>, &'static str)],
    report_exit: i32,
    /// `(rule number, verdict)` of `lint`, in its order.
    lint: &'static [(Option<u64>, &'static str)],
    lint_exit: i32,
}

const CASES: &[Case] = &[
    // The seed's `no state` ruleset: FreeBSD and OpenBSD ≤ 6.8 route from
    // the deciding rule.
    Case {
        dir: "freebsd-seed",
        server: SERVER,
        dialect: "freebsd",
        report: &[],
        report_exit: 0,
        lint: &[],
        lint_exit: 0,
    },
    // A state made in on the tunnel catches only the reply out on it.
    Case {
        dir: "freebsd-stray-1",
        server: SERVER,
        dialect: "freebsd",
        report: &[(Some(1), "stateful")],
        report_exit: 0,
        lint: &[(Some(1), "stateful")],
        lint_exit: 0,
    },
    // A state made out on the LAN catches the reply in on the LAN.
    Case {
        dir: "freebsd-stray-2",
        server: SERVER,
        dialect: "freebsd",
        report: &[(Some(2), "bypass")],
        report_exit: 1,
        lint: &[(Some(2), "bypass")],
        lint_exit: 1,
    },
    // flags S/SA on the reply-leg rules: replies never match them, the
    // block rule drops them (no state for the report to see).
    Case {
        dir: "freebsd-stray-3",
        server: SERVER,
        dialect: "freebsd",
        report: &[],
        report_exit: 0,
        lint: &[(Some(3), "blocked")],
        lint_exit: 1,
    },
    Case {
        dir: "freebsd-stray-4",
        server: SERVER,
        dialect: "freebsd",
        report: &[],
        report_exit: 0,
        lint: &[(Some(4), "blocked")],
        lint_exit: 1,
    },
    Case {
        dir: "openbsd68-seed",
        server: SERVER,
        dialect: "openbsd-6.8",
        report: &[],
        report_exit: 0,
        lint: &[],
        lint_exit: 0,
    },
    Case {
        dir: "openbsd68-stray-1",
        server: SERVER,
        dialect: "openbsd-6.8",
        report: &[(Some(1), "stateful")],
        report_exit: 0,
        lint: &[(Some(1), "stateful")],
        lint_exit: 0,
    },
    Case {
        dir: "openbsd68-stray-2",
        server: SERVER,
        dialect: "openbsd-6.8",
        report: &[(Some(2), "bypass")],
        report_exit: 1,
        lint: &[(Some(2), "bypass")],
        lint_exit: 1,
    },
    Case {
        dir: "openbsd68-stray-3",
        server: SERVER,
        dialect: "openbsd-6.8",
        report: &[],
        report_exit: 0,
        lint: &[(Some(3), "blocked")],
        lint_exit: 1,
    },
    Case {
        dir: "openbsd68-stray-4",
        server: SERVER,
        dialect: "openbsd-6.8",
        report: &[],
        report_exit: 0,
        lint: &[(Some(4), "blocked")],
        lint_exit: 1,
    },
    // OpenBSD 6.9+: the route-to rule keeps state (flags any); its states
    // are the routing.
    Case {
        dir: "openbsd-flags-any",
        server: SERVER,
        dialect: "openbsd",
        report: &[(Some(3), "routing")],
        report_exit: 0,
        lint: &[(Some(3), "routing")],
        lint_exit: 0,
    },
    Case {
        dir: "openbsd-flags-any-stray-2",
        server: SERVER,
        dialect: "openbsd",
        report: &[(Some(2), "bypass")],
        report_exit: 1,
        lint: &[(Some(2), "bypass")],
        lint_exit: 1,
    },
    // reply-to on the inbound tunnel rule: routing; floating states work,
    // if-bound ones never meet the reply.
    Case {
        dir: "openbsd-reply-to",
        server: SERVER,
        dialect: "openbsd",
        report: &[(Some(1), "routing"), (Some(2), "stateful")],
        report_exit: 0,
        lint: &[(Some(2), "stateful"), (Some(1), "routing")],
        lint_exit: 0,
    },
    Case {
        dir: "openbsd-reply-to-if-bound",
        server: SERVER,
        dialect: "openbsd",
        report: &[(Some(1), "bypass"), (Some(2), "stateful")],
        report_exit: 1,
        lint: &[(Some(1), "bypass"), (Some(2), "stateful")],
        lint_exit: 1,
    },
    // pfSense multi-WAN: reply-to on each WAN's inbound rule.
    Case {
        dir: "pfsense-multiwan",
        server: "192.168.1.10",
        dialect: "pfsense",
        report: &[(Some(1), "routing"), (Some(3), "stateful")],
        report_exit: 0,
        lint: &[
            (Some(3), "stateful"),
            (Some(1), "routing"),
            (Some(2), "routing"),
        ],
        lint_exit: 0,
    },
    // FreeBSD: every filter rule `no state`, a nat rule on the LAN side
    // keeps state anyway, and that state bypasses route-to.
    Case {
        dir: "freebsd-nat",
        server: SERVER,
        dialect: "freebsd",
        report: &[(Some(2), "bypass")],
        report_exit: 1,
        lint: &[(Some(2), "bypass")],
        lint_exit: 1,
    },
    // States without a rule whose creatorid is not this host's: pfsync.
    Case {
        dir: "openbsd-pfsync",
        server: SERVER,
        dialect: "openbsd",
        report: &[(None, "stateful")],
        report_exit: 0,
        lint: &[(Some(3), "routing")],
        lint_exit: 0,
    },
];

fn run(cmd: &str, case: &Case, extra: &[&str]) -> (i32, Value) {
    let dir = format!("fixtures/scenarios/{}", case.dir);
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args([
            cmd,
            "--from",
            &dir,
            "-s",
            case.server,
            "-p",
            "443",
            "--format",
            "json",
        ])
        .args(extra)
        .output()
        .unwrap();
    let json: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: {cmd}: {e}: {}",
            case.dir,
            String::from_utf8_lossy(&out.stdout)
        )
    });
    (out.status.code().unwrap_or(-1), json)
}

fn pairs(list: &Value, number: &str, verdict: &str) -> Vec<(Option<u64>, String)> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let n = number.split('.').fold(r, |v, k| &v[k]);
            (n.as_u64(), r[verdict].as_str().unwrap().to_string())
        })
        .collect()
}

fn expected(list: &[(Option<u64>, &str)]) -> Vec<(Option<u64>, String)> {
    list.iter().map(|(n, v)| (*n, v.to_string())).collect()
}

fn dialect_of(name: &str) -> Dialect {
    match name {
        "openbsd" => Dialect::OpenBsd,
        "openbsd-6.8" => Dialect::OpenBsd68,
        "freebsd" => Dialect::FreeBsd,
        "pfsense" => Dialect::PfSense,
        "opnsense" => Dialect::OpnSense,
        _ => Dialect::MacOs,
    }
}

/// The rule lines a fix text quotes: backticked segments that are rules.
fn fix_lines(text: &str) -> Vec<String> {
    text.split('`')
        .skip(1)
        .step_by(2)
        .filter(|s| {
            ["pass ", "block ", "match ", "no nat ", "no rdr "]
                .iter()
                .any(|k| s.starts_with(k))
        })
        .map(str::to_string)
        .collect()
}

fn all_fixes(json: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for key in ["findings", "rules"] {
        for item in json[key].as_array().into_iter().flatten() {
            if let Some(f) = item["fix"].as_str() {
                out.extend(fix_lines(f));
            }
        }
    }
    out
}

#[test]
fn every_scenario_gets_its_verdicts_dialect_and_exit_status() {
    for case in CASES {
        let (code, report) = run("report", case, &[]);
        assert_eq!(
            report["dialect"], case.dialect,
            "{}: report dialect",
            case.dir
        );
        assert_eq!(
            pairs(&report["rules"], "number", "verdict"),
            expected(case.report),
            "{}: report verdicts",
            case.dir
        );
        assert_eq!(code, case.report_exit, "{}: report exit", case.dir);
        // The walked reply path agrees with the verdict where one exists.
        for r in report["rules"].as_array().unwrap() {
            let p = &r["reply_path"];
            if p.is_null() {
                continue;
            }
            let misrouted =
                p["blocked"] == false && !p["intended"].is_null() && p["egress"] != p["intended"];
            match r["verdict"].as_str().unwrap() {
                // Misrouted, or dropped where the routing table sends them.
                "bypass" | "blocked" => {
                    assert!(misrouted || p["blocked"] == true, "{}: {p:#}", case.dir)
                }
                "routing" | "stateful" => assert!(!misrouted, "{}: {p:#}", case.dir),
                _ => {}
            }
        }
        assert_eq!(report["misrouted"], case.report_exit == 1, "{}", case.dir);

        let (code, lint) = run("lint", case, &[]);
        assert_eq!(lint["dialect"], case.dialect, "{}: lint dialect", case.dir);
        assert_eq!(
            pairs(&lint["verdicts"], "rule.number", "verdict"),
            expected(case.lint),
            "{}: lint verdicts",
            case.dir
        );
        assert_eq!(code, case.lint_exit, "{}: lint exit", case.dir);
    }
}

#[test]
fn every_printed_fix_is_accepted_by_the_dialects_grammar() {
    let mut checked = 0;
    for case in CASES {
        let d = dialect_of(case.dialect);
        for cmd in ["report", "lint"] {
            let (_, json) = run(cmd, case, &[]);
            for line in all_fixes(&json) {
                let problems = grammar::problems(d, &line);
                assert!(
                    problems.is_empty(),
                    "{}: {cmd}: `{line}`: {problems:?}",
                    case.dir
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 10, "only {checked} fix lines were checked");
}

#[test]
fn openbsd_fixes_never_say_no_state_on_a_routing_rule() {
    for case in CASES.iter().filter(|c| c.dialect == "openbsd") {
        for cmd in ["report", "lint"] {
            let (_, json) = run(cmd, case, &[]);
            for line in all_fixes(&json) {
                let routes = ["route-to", "reply-to", "dup-to"]
                    .iter()
                    .any(|k| line.contains(k));
                assert!(
                    !(routes && line.contains("no state")),
                    "{}: `{line}`",
                    case.dir
                );
            }
        }
    }
}

#[test]
fn strict_fails_on_stateful_rules() {
    let case = CASES.iter().find(|c| c.dir == "freebsd-stray-1").unwrap();
    assert_eq!(run("report", case, &[]).0, 0);
    assert_eq!(run("report", case, &["--strict"]).0, 1);
    assert_eq!(run("lint", case, &["--strict"]).0, 1);
}

#[test]
fn pf_flag_overrides_the_detection() {
    // The OpenBSD 6.8 listing read as OpenBSD 6.9+: its `no state`
    // route-to rule would route nothing there, and the header says why
    // that is doubtful.
    let case = CASES.iter().find(|c| c.dir == "openbsd68-seed").unwrap();
    let (_, json) = run("report", case, &["--pf", "openbsd"]);
    assert_eq!(json["dialect"], "openbsd");
    assert_eq!(json["dialect_source"]["how"], "--pf");
    let (code, lint) = run("lint", case, &["--pf", "openbsd"]);
    assert_eq!(lint["dialect"], "openbsd");
    assert_eq!(
        lint["paths"][0]["reply_path"]["egress"],
        Value::Null,
        "6.9+ routes nothing from a stateless rule: {lint:#}"
    );
    assert_eq!(code, 0, "no state can bypass what routes nothing");
}

#[test]
fn pfsync_states_are_explained_by_the_hostid() {
    let case = CASES.iter().find(|c| c.dir == "openbsd-pfsync").unwrap();
    let (_, json) = run("report", case, &[]);
    let reason = json["rules"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("imported by pfsync"), "{reason}");
    assert!(
        reason.contains("77aa0001") && reason.contains("4e1f00c2"),
        "{reason}"
    );
}

#[test]
fn freebsd_nat_names_the_translation() {
    let case = CASES.iter().find(|c| c.dir == "freebsd-nat").unwrap();
    let (_, json) = run("report", case, &[]);
    let reason = json["rules"][0]["reason"].as_str().unwrap();
    assert!(reason.contains("translated packets"), "{reason}");
    let (_, lint) = run("lint", case, &[]);
    let fix = lint["findings"][0]["fix"].as_str().unwrap();
    assert!(fix.contains("`no nat on em1 to 2001:db8::10`"), "{fix}");
}
