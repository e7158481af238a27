//! Rules whose match the listing cannot tell (tables, interface groups):
//! the alternative decider when they match, and the possible bypasses it
//! leads to. Rules built by hand on the mission's ruleset.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure

mod lint_support;

use lint_support::*;
use pfblame::lint::flow::{self, Connection};
use pfblame::lint::possible::alternatives;
use pfblame::lint::{FindingKind, FindingSeverity, Ruleset, predict, predict_with};
use pfblame::model::{AddrSpec, PortOp, Rule, RuleKey};
use pfblame::pf::matcher::{TableEntry, Tables};

fn key(anchor: Option<u32>, n: u32) -> RuleKey {
    RuleKey {
        anchor,
        number: Some(n),
    }
}

fn conn() -> Connection {
    Connection {
        proto: "tcp".into(),
        server: SERVER.parse().unwrap(),
        port: Some(443),
        client_if: TUNNEL.into(),
        server_if: LAN.into(),
    }
}

fn table(name: &str) -> AddrSpec {
    AddrSpec::Table {
        name: name.into(),
        negated: false,
    }
}

/// `pass out [quick] on em1 inet6 proto tcp to <servers> port 443` (keeps state).
fn stateful_to_table(n: u32, quick: bool) -> Rule {
    let b = rule(n)
        .dir_out()
        .on(LAN)
        .inet6()
        .proto("tcp")
        .to(table("servers"))
        .to_port(port(PortOp::Eq, 443, None))
        .keep_state();
    if quick { b.quick() } else { b }.build()
}

/// The mission's correct ruleset with a stateful quick rule naming a table
/// put before the LAN rule @2 (so it is numbered @9 but comes first).
fn earlier_quick_table_rule() -> Vec<Rule> {
    let mut rules = mission(None, true);
    rules.insert(1, stateful_to_table(9, true));
    rules
}

#[test]
fn earlier_quick_rule_with_a_table_would_decide_the_request() {
    let rules = earlier_quick_table_rule();
    let rs = Ruleset::new(&rules);
    let hop = &flow::hops(&conn())[1]; // requests out on em1
    let d = rs.evaluate(&hop.packet);
    assert_eq!(d.decider.key(), key(None, 2), "the listing says @2");
    let alts = alternatives(&rs, hop, &d);
    assert_eq!(alts.len(), 1);
    assert_eq!(alts[0].decision.decider.key(), key(None, 9));
    assert!(alts[0].decision.keeps_state());
    assert_eq!(
        alts[0].condition.text,
        "table <servers> contains 2001:db8::10"
    );
    assert_eq!(alts[0].condition.checks, ["pfctl -t servers -T show"]);
}

#[test]
fn possible_bypass_names_the_rules_condition_and_check() {
    let report = predict(&earlier_quick_table_rule(), &servers());
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.kind, FindingKind::PossibleBypass);
    assert_eq!(f.severity, FindingSeverity::Warning);
    assert_eq!(f.stateful_rule.key(), key(None, 9));
    assert_eq!(f.bypassed_rule.as_ref().unwrap().key(), key(None, 3));
    assert_eq!(
        f.message,
        "rule @9 keeps state for tcp to 2001:db8::10 port 443 out on em1 if table <servers> contains 2001:db8::10; replies in on em1 would match that state and skip route-to rule @3"
    );
    assert_eq!(
        f.condition.as_deref(),
        Some("table <servers> contains 2001:db8::10")
    );
    assert_eq!(f.check.as_deref(), Some("pfctl -t servers -T show"));
    assert!(f.fix.contains("add `no state` to rule @9"), "{}", f.fix);
}

#[test]
fn known_table_contents_make_it_definite_or_clean() {
    let rules = earlier_quick_table_rule();
    let mut with = Tables::new();
    with.insert(
        "",
        "servers",
        vec![TableEntry {
            net: "2001:db8::/64".parse().unwrap(),
            negated: false,
        }],
    );
    let report = predict_with(&rules, &servers(), &with);
    let kinds: Vec<_> = report.findings.iter().map(|f| f.kind).collect();
    assert_eq!(kinds, [FindingKind::Bypass], "{:#?}", report.findings);
    assert_eq!(report.findings[0].severity, FindingSeverity::Error);
    assert_eq!(report.findings[0].stateful_rule.key(), key(None, 9));

    // The longer negated prefix takes the server out of the table.
    let mut without = Tables::new();
    without.insert(
        "",
        "servers",
        vec![
            TableEntry {
                net: "2001:db8::/64".parse().unwrap(),
                negated: false,
            },
            TableEntry {
                net: "2001:db8::10/128".parse().unwrap(),
                negated: true,
            },
        ],
    );
    let report = predict_with(&rules, &servers(), &without);
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn later_non_quick_rule_with_a_table_wins_by_last_match() {
    // The mission's rules without quick: @2 decides the request out on em1
    // unless the later @9 (a table, not quick) matches too: last match wins.
    let mut rules = mission(None, false);
    rules.push(stateful_to_table(9, false));
    let rs = Ruleset::new(&rules);
    let hop = &flow::hops(&conn())[1];
    let d = rs.evaluate(&hop.packet);
    assert_eq!(d.decider.key(), key(None, 2));
    let alts = alternatives(&rs, hop, &d);
    assert_eq!(alts.len(), 1);
    assert_eq!(alts[0].decision.decider.key(), key(None, 9));
    let report = predict(&rules, &servers());
    let found: Vec<_> = report
        .findings
        .iter()
        .map(|f| {
            (
                f.kind,
                f.stateful_rule.key(),
                f.bypassed_rule.as_ref().map(|b| b.key()),
            )
        })
        .collect();
    assert_eq!(
        found,
        [(
            FindingKind::PossibleBypass,
            key(None, 9),
            Some(key(None, 3))
        )]
    );
}

#[test]
fn later_non_quick_table_rule_overridden_by_a_later_match_is_no_alternative() {
    // @9 (table, not quick) comes before @2 (not quick): if @9 matched, @2
    // would still win — nothing changes, nothing is reported.
    let mut rules = mission(None, false);
    rules.insert(1, stateful_to_table(9, false));
    let rs = Ruleset::new(&rules);
    let hop = &flow::hops(&conn())[1];
    let d = rs.evaluate(&hop.packet);
    assert_eq!(d.decider.key(), key(None, 2));
    assert!(alternatives(&rs, hop, &d).is_empty());
    assert!(predict(&rules, &servers()).findings.is_empty());
}

#[test]
fn anchor_with_an_unknown_filter_around_a_stateful_rule() {
    // anchor "lan" out on lanif (an interface group: may be em1) holding a
    // quick stateful rule for the server, before the mission's rules.
    let mut rules = mission(None, true);
    for r in &mut rules[1..] {
        r.number = r.number.map(|n| n + 1);
    }
    rules.insert(1, rule(1).anchor("lan").dir_out().on("lanif").build());
    rules.insert(
        2,
        rule(0)
            .inside("lan")
            .dir_out()
            .quick()
            .inet6()
            .proto("tcp")
            .to(net("2001:db8::10/128"))
            .to_port(port(PortOp::Eq, 443, None))
            .keep_state()
            .build(),
    );
    let rs = Ruleset::new(&rules);
    let hop = &flow::hops(&conn())[1];
    let d = rs.evaluate(&hop.packet);
    assert_eq!(
        d.decider.key(),
        key(None, 3),
        "the listing says @3 (was @2)"
    );
    let alts = alternatives(&rs, hop, &d);
    assert_eq!(alts.len(), 1, "{alts:#?}");
    assert_eq!(alts[0].decision.decider.key(), key(Some(1), 0));
    assert_eq!(
        alts[0].condition.text,
        "em1 is in interface group `lanif` (anchor rule @1)"
    );
    assert!(
        alts[0].condition.checks[0].starts_with("ifconfig lanif"),
        "{:?}",
        alts[0].condition.checks
    );
    let report = predict(&rules, &servers());
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.kind, FindingKind::PossibleBypass);
    assert_eq!(f.stateful_rule.key(), key(Some(1), 0));
    assert_eq!(f.bypassed_rule.as_ref().unwrap().key(), key(None, 4));
}

#[test]
fn routing_rule_behind_a_table_gives_a_conditional_caught_hop() {
    // @2 keeps state (definite); the route-to rule names the server through
    // a table, so whether the replies are routed depends on the table.
    let mut rules = mission(Some(2), true);
    rules[3] = rule(3)
        .dir_in()
        .quick()
        .on(LAN)
        .inet6()
        .proto("tcp")
        .from(table("servers"))
        .from_port(port(PortOp::Eq, 443, None))
        .no_state()
        .route_to(TUNNEL)
        .build();
    let report = predict(&rules, &servers());
    let possible: Vec<_> = report
        .findings
        .iter()
        .filter(|f| f.kind == FindingKind::PossibleBypass)
        .collect();
    assert_eq!(possible.len(), 1, "{:#?}", report.findings);
    let f = possible[0];
    assert_eq!(f.stateful_rule.key(), key(None, 2));
    assert_eq!(f.bypassed_rule.as_ref().unwrap().key(), key(None, 3));
    assert!(
        f.message
            .contains("if table <servers> contains 2001:db8::10, replies in on em1 are decided by route-to rule @3"),
        "{}",
        f.message
    );
}
