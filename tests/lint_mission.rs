//! The evaluation model and findings on the mission's ruleset (rules built
//! by hand; the fixture-driven variants are in lint_fixtures.rs).

#![allow(clippy::unwrap_used)] // tests: a panic is a failure

mod lint_support;

use lint_support::*;
use pfblame::lint::flow::{self, Connection, analyze};
use pfblame::lint::{FindingKind, FindingSeverity, Ruleset, predict};
use pfblame::model::{PortOp, Rule, RuleKey};

fn main_key(n: u32) -> RuleKey {
    RuleKey {
        anchor: None,
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

fn deciders(rules: &[Rule]) -> Vec<Option<u32>> {
    let rs = Ruleset::new(rules);
    flow::hops(&conn())
        .iter()
        .map(|h| rs.evaluate(&h.packet).decider.key().number)
        .collect()
}

#[test]
fn correct_ruleset_each_hop_decided_by_its_rule_and_nothing_found() {
    let rules = mission(None, true);
    assert_eq!(deciders(&rules), [Some(1), Some(2), Some(3), Some(4)]);
    let report = predict(&rules, &servers());
    assert_eq!(report.paths.len(), 1, "{report:#?}");
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
    let hops = &report.paths[0].hops;
    assert_eq!(hops[2].route.as_deref(), Some("route-to gif0"));
    assert!(hops.iter().all(|h| !h.keeps_state));
}

#[test]
fn stateful_request_in_on_tunnel_is_named_but_does_not_bypass() {
    let report = predict(&mission(Some(1), true), &servers());
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.kind, FindingKind::ServerStates);
    assert_eq!(f.severity, FindingSeverity::Warning);
    assert_eq!(f.stateful_rule.key(), main_key(1));
    assert!(f.path.contains("replies out on gif0"), "{}", f.path);
}

#[test]
fn stateful_request_out_on_lan_bypasses_route_to() {
    let report = predict(&mission(Some(2), true), &servers());
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.kind, FindingKind::Bypass);
    assert_eq!(f.severity, FindingSeverity::Error);
    assert_eq!(f.stateful_rule.key(), main_key(2));
    assert_eq!(f.bypassed_rule.as_ref().map(|b| b.key()), Some(main_key(3)));
    assert_eq!(
        f.message,
        "rule @2 keeps state for tcp to 2001:db8::10 port 443 out on em1; replies in on em1 match that state and skip route-to rule @3"
    );
    assert!(f.fix.contains("add `no state` to rule @2"), "{}", f.fix);
    assert!(
        f.fix
            .contains("pass out quick on em1 inet6 proto tcp to 2001:db8::10 port 443 no state"),
        "{}",
        f.fix
    );
}

#[test]
fn stateful_route_to_rule_misses_the_replies() {
    let report = predict(&mission(Some(3), true), &servers());
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.kind, FindingKind::MissedReplies);
    assert_eq!(f.severity, FindingSeverity::Error);
    assert_eq!(f.stateful_rule.key(), main_key(3));
    // The SYN+ACK falls through to `block all`.
    assert_eq!(f.bypassed_rule.as_ref().map(|b| b.key()), Some(main_key(0)));
    assert!(
        f.message.contains("replies in on em1 (SA) never match it"),
        "{}",
        f.message
    );
}

#[test]
fn stateful_reply_out_on_tunnel_misses_the_replies() {
    let report = predict(&mission(Some(4), true), &servers());
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.kind, FindingKind::MissedReplies);
    assert_eq!(f.stateful_rule.key(), main_key(4));
    assert!(f.message.contains("replies out on gif0"), "{}", f.message);
    assert!(f.message.contains("blocked"), "{}", f.message);
}

/// A broad stateful rule for the LAN after the mission's rules.
fn with_broad_lan_rule(mut rules: Vec<Rule>) -> Vec<Rule> {
    rules.push(
        rule(5)
            .dir_out()
            .on(LAN)
            .inet6()
            .proto("tcp")
            .to(net("2001:db8::/64"))
            .keep_state()
            .build(),
    );
    rules
}

#[test]
fn quick_rules_shadow_a_later_stateful_rule() {
    let rules = with_broad_lan_rule(mission(None, true));
    assert_eq!(deciders(&rules), [Some(1), Some(2), Some(3), Some(4)]);
    assert!(predict(&rules, &servers()).findings.is_empty());
}

#[test]
fn without_quick_the_last_matching_rule_wins() {
    let rules = with_broad_lan_rule(mission(None, false));
    assert_eq!(deciders(&rules), [Some(1), Some(5), Some(3), Some(4)]);
    let report = predict(&rules, &servers());
    assert_eq!(report.findings.len(), 1, "{:#?}", report.findings);
    let f = &report.findings[0];
    assert_eq!(f.kind, FindingKind::Bypass);
    assert_eq!(f.stateful_rule.key(), main_key(5));
    assert_eq!(f.bypassed_rule.as_ref().map(|b| b.key()), Some(main_key(3)));
}

/// The correct ruleset with an anchor before it: `anchor "lan" out on em1`
/// holding a quick stateful rule, and `anchor "wan" in on em0` holding one
/// that must not be entered.
fn with_anchors(quick_inside: bool) -> Vec<Rule> {
    let mut rules = mission(None, true);
    let inner = |path: &str, b: B| b.inside(path).keep_state();
    let lan = inner(
        "lan",
        rule(0)
            .dir_out()
            .on(LAN)
            .inet6()
            .proto("tcp")
            .to(net("2001:db8::/64")),
    );
    let lan = if quick_inside { lan.quick() } else { lan };
    let wan = inner("wan", rule(0).dir_in().quick().inet6().proto("tcp"));
    let extra = vec![
        rule(5).anchor("lan").dir_out().on(LAN).build(),
        lan.build(),
        rule(6).anchor("wan").dir_in().on("em0").build(),
        wan.build(),
    ];
    // The anchors go first: @0 block, then anchors, then the mission rules.
    let block = rules.remove(0);
    let mut out = vec![block];
    out.extend(extra);
    out.extend(rules);
    out
}

#[test]
fn quick_rule_inside_an_anchor_decides_and_is_named_with_its_anchor() {
    let rules = with_anchors(true);
    let rs = Ruleset::new(&rules);
    let hops = flow::hops(&conn());
    let d = rs.evaluate(&hops[1].packet);
    assert_eq!(
        d.decider.key(),
        RuleKey {
            anchor: Some(5),
            number: Some(0)
        }
    );
    // The `wan` anchor (in on em0) is not entered for the tunnel hop.
    assert_eq!(rs.evaluate(&hops[0].packet).decider.key(), main_key(1));
    let (_, findings) = analyze(&rs, &hops);
    assert_eq!(findings.len(), 1, "{findings:#?}");
    assert_eq!(findings[0].kind, FindingKind::Bypass);
    assert_eq!(
        findings[0].stateful_rule.key(),
        RuleKey {
            anchor: Some(5),
            number: Some(0)
        }
    );
    assert!(
        findings[0].message.starts_with("rule @5:0 keeps state"),
        "{}",
        findings[0].message
    );
}

#[test]
fn non_quick_rule_inside_an_anchor_is_overridden_by_a_later_quick_rule() {
    let rules = with_anchors(false);
    assert_eq!(deciders(&rules), [Some(1), Some(2), Some(3), Some(4)]);
    assert!(predict(&rules, &servers()).findings.is_empty());
}

#[test]
fn quick_anchor_stops_after_a_match_inside() {
    // `anchor "lan" quick` with a non-quick stateful rule inside: the match
    // inside ends the evaluation when the anchor is left.
    let mut rules = with_anchors(false);
    rules[1].quick = true;
    let rs = Ruleset::new(&rules);
    let d = rs.evaluate(&flow::hops(&conn())[1].packet);
    assert_eq!(
        d.decider.key(),
        RuleKey {
            anchor: Some(5),
            number: Some(0)
        }
    );
}

#[test]
fn unknown_rules_that_could_override_are_reported() {
    let mut rules = mission(None, true);
    rules.insert(
        1,
        rule(9)
            .dir_out()
            .quick()
            .on(LAN)
            .to(pfblame::model::AddrSpec::Table {
                name: "servers".into(),
                negated: false,
            })
            .keep_state()
            .build(),
    );
    let rs = Ruleset::new(&rules);
    let d = rs.evaluate(&flow::hops(&conn())[1].packet);
    assert_eq!(d.decider.key(), main_key(2));
    assert_eq!(d.uncertain.len(), 1);
    assert_eq!(d.uncertain[0].rule.key, main_key(9));
    assert!(d.uncertain[0].reason.contains("table <servers>"));
}

#[test]
fn reply_to_on_a_stateful_inbound_rule_is_the_working_stateful_design() {
    // pass in quick on gif0 … reply-to gif0 (keep state): the state routes
    // the replies out on gif0; the LAN rules are stateless.
    let mut rules = mission(None, true);
    rules[1] = rule(1)
        .dir_in()
        .quick()
        .on(TUNNEL)
        .inet6()
        .proto("tcp")
        .to(net("2001:db8::10/128"))
        .to_port(port(PortOp::Eq, 443, None))
        .keep_state()
        .reply_to(TUNNEL)
        .build();
    let report = predict(&rules, &servers());
    assert!(report.findings.is_empty(), "{:#?}", report.findings);
}

#[test]
fn if_bound_state_still_catches_replies_on_its_own_interface() {
    let mut rules = mission(None, true);
    rules[2] = rule(2)
        .dir_out()
        .quick()
        .on(LAN)
        .inet6()
        .proto("tcp")
        .to(net("2001:db8::10/128"))
        .to_port(port(PortOp::Eq, 443, None))
        .keep_state()
        .if_bound()
        .build();
    // Bound to em1, the state still catches replies in on em1: bypass.
    let report = predict(&rules, &servers());
    assert_eq!(report.findings.len(), 1);
    assert_eq!(report.findings[0].kind, FindingKind::Bypass);
}

#[test]
fn wildcard_and_unnamed_anchors_are_entered() {
    // `anchor "relayd/*"` evaluates relayd/a then relayd/b; an unnamed
    // inline anchor's rules follow it in the listing.
    let mut rules = mission(None, true);
    let block = rules.remove(0);
    let lan_syn = |n: u32, path: &str| {
        rule(n)
            .inside(path)
            .dir_out()
            .on(LAN)
            .inet6()
            .proto("tcp")
            .to(net("2001:db8::/64"))
            .keep_state()
    };
    let mut unnamed = rule(6).dir_out().build();
    unnamed.action = pfblame::model::Action::Anchor;
    unnamed.anchor_name = None;
    unnamed.state = None;
    let mut out = vec![
        block,
        rule(5).anchor("relayd/*").build(),
        lan_syn(0, "relayd/a").build(),
        lan_syn(0, "relayd/b").quick().build(),
        unnamed,
        lan_syn(0, "_1").build(),
    ];
    out.extend(rules);
    let rs = Ruleset::new(&out);
    let d = rs.evaluate(&flow::hops(&conn())[1].packet);
    // relayd/b's quick rule stops everything after relayd/a matched.
    assert_eq!(
        d.decider.key(),
        RuleKey {
            anchor: Some(5),
            number: Some(0)
        }
    );
    assert_eq!(d.decider.rule().unwrap().anchor_path, "relayd/b");
}

#[test]
fn stateless_rewrite_of_a_stateful_rule() {
    use pfblame::lint::flow::stateless_text;
    assert_eq!(
        stateless_text(
            "pass out quick on em1 proto tcp to any port = 443 flags S/SA keep state (max 100, if-bound) label \"x\""
        ),
        "pass out quick on em1 proto tcp to any port = 443 label \"x\" no state"
    );
}

#[test]
fn stateless_text_writes_tables_as_pf_conf_does() {
    use pfblame::lint::flow::stateless_text;
    assert_eq!(
        stateless_text(
            "pass out quick on em1 inet6 proto tcp from any to <www:2> port = 443 flags S/SA"
        ),
        "pass out quick on em1 inet6 proto tcp from any to <www> port = 443 no state"
    );
    assert_eq!(
        stateless_text("pass in proto tcp from { !<bad:*>, <ok:12> } to any keep state"),
        "pass in proto tcp from { !<bad>, <ok> } to any no state"
    );
    // Not a count: left alone.
    assert_eq!(
        stateless_text("pass in from <a:b> to any"),
        "pass in from <a:b> to any no state"
    );
}
