//! Rules parser over the rules fixtures (one YAML snapshot each) and targeted
//! checks of the facts the analysis depends on.
#![allow(clippy::unwrap_used)]

use std::net::IpAddr;

use pfblame::model::{Action, AddrSpec, Port, PortOp, RouteKind, Rule, Severity, StatePolicy};
use pfblame::parse::rules::parse_rules;

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/rules/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn parse_clean(name: &str) -> Vec<Rule> {
    let (rules, diags) = parse_rules(&fixture(name));
    let errors: Vec<_> = diags
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    assert!(errors.is_empty(), "{name}: {errors:#?}");
    rules
}

#[test]
fn snapshots_of_every_rules_fixture() {
    insta::glob!("../fixtures/rules", "*.txt", |path| {
        let text = std::fs::read_to_string(path).unwrap();
        let (rules, diagnostics) = parse_rules(&text);
        insta::assert_yaml_snapshot!((rules, diagnostics));
    });
}

#[test]
fn openbsd_implies_keep_state_at_every_verbosity() {
    for f in ["openbsd-sr.txt", "openbsd-vsr.txt", "openbsd-vvsr.txt"] {
        let rules = parse_clean(f);
        let pass_all = rules
            .iter()
            .find(|r| r.text == "pass all flags S/SA")
            .unwrap();
        assert_eq!(pass_all.state, Some(StatePolicy::Keep), "{f}");
        assert!(pass_all.keeps_state());
        let block = rules.iter().find(|r| r.text == "block return all").unwrap();
        assert_eq!(block.state, None);
        let no_state: Vec<_> = rules
            .iter()
            .filter(|r| r.state == Some(StatePolicy::No))
            .collect();
        assert_eq!(no_state.len(), 5, "{f}");
        let expired = rules.iter().filter(|r| r.expired).count();
        assert_eq!(expired, usize::from(f == "openbsd-vvsr.txt"), "{f}");
    }
}

#[test]
fn same_ruleset_at_three_verbosities_has_same_structure() {
    let strip = |mut rs: Vec<Rule>| {
        rs.retain(|r| !r.expired);
        rs.into_iter()
            .map(|r| {
                (
                    r.anchor_path,
                    r.action,
                    r.direction,
                    r.quick,
                    r.state,
                    r.route,
                    r.labels,
                )
            })
            .collect::<Vec<_>>()
    };
    let sr = strip(parse_clean("openbsd-sr.txt"));
    assert_eq!(sr, strip(parse_clean("openbsd-vsr.txt")));
    assert_eq!(sr, strip(parse_clean("openbsd-vvsr.txt")));
}

#[test]
fn anchor_paths() {
    let rules = parse_clean("openbsd-vvsr.txt");
    let paths: Vec<(&str, Option<u32>)> = rules
        .iter()
        .filter(|r| !r.anchor_path.is_empty())
        .map(|r| (r.anchor_path.as_str(), r.number))
        .collect();
    assert_eq!(
        paths,
        [
            ("relayd/web", Some(0)),
            ("relayd/ssh", Some(0)),
            ("lan", Some(0)),
            ("lan", Some(1)),
            ("lan/guest", Some(0)),
            ("lan", Some(2)),
            ("lan/_1", Some(0)),
        ]
    );
    let relayd = rules.iter().find(|r| r.number == Some(15)).unwrap();
    assert_eq!(relayd.action, Action::Anchor);
    assert_eq!(relayd.anchor_name.as_deref(), Some("relayd/*"));
    assert_eq!(relayd.anchor_path, "");
    assert_eq!(relayd.counters.as_ref().unwrap().evaluations, 18273);
}

#[test]
fn route_to_target_and_ifaces_on_both_oses() {
    let tunnel: IpAddr = "2001:db8::1".parse().unwrap();
    let ob = parse_clean("openbsd-vvsr.txt");
    let fb = parse_clean("freebsd14-vvsr.txt");
    for (os, rules, n) in [("openbsd", &ob, 8), ("freebsd", &fb, 2)] {
        let r = rules
            .iter()
            .find(|r| r.number == Some(n) && !r.scrub && r.anchor_path.is_empty())
            .unwrap();
        let route = r
            .route
            .as_ref()
            .unwrap_or_else(|| panic!("{os}: {}", r.text));
        assert_eq!(route.kind, RouteKind::RouteTo, "{os}");
        assert_eq!(&*route.target, "(gif0 2001:db8::1)", "{os}");
        assert_eq!(route.ifaces, ["gif0".into()], "{os}");
        assert_eq!(route.addrs, [tunnel], "{os}");
        assert!(r.unknown.is_empty(), "{os}: {:?}", r.unknown);
    }
    let reply = fb.iter().find(|r| r.number == Some(6) && !r.scrub).unwrap();
    assert_eq!(
        reply.route.as_ref().map(|r| r.kind),
        Some(RouteKind::ReplyTo)
    );
    assert_eq!(reply.state, Some(StatePolicy::Modulate));
}

#[test]
fn freebsd_scrub_numbering_and_counters() {
    let rules = parse_clean("freebsd14-vvsr.txt");
    let zeros: Vec<bool> = rules
        .iter()
        .filter(|r| r.number == Some(0) && r.anchor_path.is_empty())
        .map(|r| r.scrub)
        .collect();
    assert_eq!(zeros, [true, false]);
    let block = rules
        .iter()
        .find(|r| r.number == Some(1) && !r.scrub)
        .unwrap();
    let c = block.counters.as_ref().unwrap();
    assert_eq!(c.last_active.as_deref(), Some("Tue Mar  4 10:11:12 2025"));
    assert_eq!(c.state_creations, Some(0));
    let https = rules
        .iter()
        .find(|r| r.number == Some(2) && !r.scrub)
        .unwrap();
    assert_eq!(https.labels, ["tunnel-https".into(), "he tunnel".into()]);
    assert_eq!(https.from.ports[0].a, Port::Name("https".into()));
    let ssh = rules.iter().find(|r| r.number == Some(5)).unwrap();
    assert_eq!(ssh.ridentifier, Some(42));
    assert!(matches!(
        &ssh.to.addrs[0],
        AddrSpec::Dynamic { iface, modifier: None, .. } if &**iface == "em0"
    ));
}

#[test]
fn freebsd15_source_nodes_and_limiters() {
    let (rules, diags) = parse_rules(&fixture("freebsd15-vvsr.txt"));
    assert_eq!(diags.len(), 2, "{diags:#?}");
    assert!(
        diags
            .iter()
            .all(|d| d.severity == Severity::Warning && d.message.contains("limiter"))
    );
    assert!(rules.iter().all(|r| r.unknown.is_empty()));
    let nat = rules
        .iter()
        .find(|r| r.text.contains("nat-to 10.0.0.2"))
        .unwrap();
    // The pool's port is an option of the nat pool, not of the rdr pool.
    assert_eq!(nat.nat_to.as_deref(), Some("10.0.0.2"));
    assert_eq!(nat.nat_pool.port.as_deref(), Some("22"));
    assert_eq!(nat.rdr_to.as_deref(), Some("10.0.0.10"));
    assert!(nat.rdr_pool.is_empty());
    assert_eq!(
        nat.counters.as_ref().unwrap().source_nodes,
        Some([0, 0, 1, 0])
    );
    let lo = rules.iter().find(|r| r.text.contains("(lo0 ?)")).unwrap();
    assert_eq!(lo.route.as_ref().unwrap().ifaces, ["lo0".into()]);
    assert!(lo.route.as_ref().unwrap().addrs.is_empty());
}

#[test]
fn pfsense_and_macos() {
    let rules = parse_clean("pfsense-vvvsr.txt");
    let user = rules.iter().find(|r| r.number == Some(4)).unwrap();
    assert_eq!(user.ridentifier, Some(1770000001));
    assert!(user.text.starts_with("pass in quick on vtnet1 reply-to"));
    let mac = parse_clean("macos-vsr.txt");
    assert_eq!(mac.len(), 5);
    assert!(mac.iter().all(|r| {
        let c = r.counters.as_ref().unwrap();
        c.state_creations.is_none() && c.inserted_pid == Some(301)
    }));
    assert!(mac[0].scrub && mac[0].action == Action::Anchor);
}

#[test]
fn port_operators_and_negation_in_fixtures() {
    let rules = parse_clean("openbsd-vvsr.txt");
    let x11 = &rules[2];
    assert_eq!(
        x11.iface.as_ref().map(|i| (&*i.name, i.negated)),
        Some(("lo0", true))
    );
    assert_eq!(x11.to.ports[0].op, PortOp::Range);
    assert_eq!(
        (x11.to.ports[0].a.clone(), x11.to.ports[0].b.clone()),
        (Port::Num(6000), Some(Port::Num(6010)))
    );
    let guest = rules.iter().find(|r| r.anchor_path == "lan/guest").unwrap();
    assert_eq!(
        guest.to.addrs,
        [AddrSpec::Table {
            name: "lan_servers".into(),
            negated: true
        }]
    );
}

#[test]
fn malformed_input_reports_lines_and_columns_and_goes_on() {
    let (rules, diags) = parse_rules(&fixture("malformed.txt"));
    let brief: Vec<(usize, usize, Severity)> = diags
        .iter()
        .map(|d| (d.line, d.column, d.severity))
        .collect();
    assert_eq!(
        brief,
        [
            (4, 1, Severity::Error),
            (6, 18, Severity::Error),
            // `@1` repeats: an error, the states of @1 cannot be attributed.
            (8, 1, Severity::Error),
            (8, 57, Severity::Warning),
            (8, 68, Severity::Warning),
            (9, 1, Severity::Error),
            (10, 2, Severity::Error),
            (11, 1, Severity::Error),
            (12, 3, Severity::Warning),
            (13, 1, Severity::Error),
            (14, 51, Severity::Warning),
            (15, 25, Severity::Warning),
        ]
    );
    assert_eq!(diags[0].text, "this line is not pfctl output");
    // Every rule line after a bad one is still there, in order.
    let lines: Vec<usize> = rules.iter().map(|r| r.line).collect();
    assert_eq!(lines, [1, 5, 8, 10, 13, 14, 15, 16]);
    assert_eq!(rules[1].counters.as_ref().unwrap().packets, 912845);
    assert_eq!(rules[2].unknown, ["frobnicate".into(), "7".into()]);
    assert_eq!(rules[7].anchor_path, "open");
}

/// Translation rules are rules, numbered in their own rulesets (nat, rdr,
/// binat, each from 0, `pfctl_show_nat()`), apart from scrub and filter
/// rules; `*-anchor` calls keep their kind and sit in their ruleset.
#[test]
fn translation_sections_number_their_own_rulesets() {
    let path = format!(
        "{}/fixtures/mixed/freebsd-sa.txt",
        env!("CARGO_MANIFEST_DIR")
    );
    let p = pfblame::parse::parse_any(&std::fs::read_to_string(path).unwrap());
    assert!(!p.has_errors(), "{:#?}", p.diagnostics);
    let got: Vec<(String, Option<u32>, bool)> = p
        .rules
        .iter()
        .map(|r| {
            let kind = serde_json::to_value(r.ruleset).unwrap();
            (
                kind.as_str().unwrap().to_owned(),
                r.number,
                r.in_filter_ruleset(),
            )
        })
        .collect();
    let want: Vec<(String, Option<u32>, bool)> = [
        ("nat", 0, false),
        ("nat", 1, false),
        ("nat", 2, false),
        ("nat", 3, false),
        ("rdr", 0, false),
        ("rdr", 1, false),
        ("binat", 0, false),
        ("scrub", 0, false),
        ("filter", 0, true),
        ("filter", 1, true),
        ("filter", 2, true),
    ]
    .iter()
    .map(|(k, n, f)| ((*k).to_owned(), Some(*n), *f))
    .collect();
    assert_eq!(got, want);
    assert!(p.rules.iter().all(|r| r.number_inferred));
    let nat_pass = &p.rules[1];
    assert!(nat_pass.nat_pass);
    assert!(nat_pass.nat_pool.static_port);
    assert_eq!(
        p.rules[3].anchor_kind,
        Some(pfblame::model::AnchorKind::NatAnchor)
    );
    let route = p.rules[9].route.as_ref().unwrap();
    assert_eq!(&*route.target, "(vtnet0 192.0.2.1)");
    assert_eq!(route.pool.kind, Some(pfblame::model::PoolType::RoundRobin));
}
