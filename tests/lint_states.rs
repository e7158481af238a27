//! `lint::findings` on real server states: which rule's states skip which
//! route-to rule, confirmed by the states' routing info when printed.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure

mod lint_support;

use std::sync::Arc;

use lint_support::*;
use pfblame::lint::{FindingKind, FindingSeverity, findings};
use pfblame::model::{Direction, Endpoint, HostAddr, Port, RouteKind, State, StateRoute};

/// A floating state as OpenBSD prints it, created by rule `rule`.
fn state(rule: Option<u32>, dir: Direction, client_port: u16) -> State {
    let ep = |a: &str, p: u16| Endpoint::new(HostAddr::Ip(a.parse().unwrap()), Some(Port::Num(p)));
    State {
        line: 1,
        iface: Arc::from("all"),
        proto: Arc::from("tcp"),
        direction: dir,
        src: ep("2001:db8:ffff::1", client_port),
        dst: ep(SERVER, 443),
        src_nat: None,
        dst_nat: None,
        gateway: None,
        src_state: Arc::from("ESTABLISHED"),
        dst_state: Arc::from("ESTABLISHED"),
        age: Some(10),
        expires: Some(86390),
        packets: Some((10, 12)),
        bytes: Some((1000, 9000)),
        anchor: None,
        rule,
        flags: Vec::new(),
        id: None,
        creator_id: None,
        route: None,
        rtable: None,
        origif: None,
        seq: None,
        verbose: true,
    }
}

#[test]
fn states_of_the_lan_rule_bypass_route_to() {
    let rules = mission(Some(2), true);
    let states = [
        state(Some(2), Direction::Out, 50000),
        state(Some(2), Direction::Out, 50001),
        state(Some(2), Direction::Out, 50002),
    ];
    let f = findings(&rules, &states, &servers());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].kind, FindingKind::Bypass);
    assert_eq!(f[0].severity, FindingSeverity::Error);
    assert_eq!(f[0].states, 3);
    assert_eq!(f[0].stateful_rule.number, Some(2));
    assert_eq!(f[0].bypassed_rule.as_ref().and_then(|b| b.number), Some(3));
    assert!(!f[0].confirmed);
    assert_eq!(
        f[0].message,
        "rule @2 keeps state for tcp to 2001:db8::10 port 443 out on em1 (3 states); replies in on em1 match those states and skip route-to rule @3"
    );
    assert!(
        f[0].fix.contains("pfblame report --kill --allow-kill"),
        "{}",
        f[0].fix
    );
}

#[test]
fn freebsd_gateway_zero_confirms_the_bypass() {
    let rules = mission(Some(2), true);
    let mut s = state(Some(2), Direction::Out, 50000);
    s.route = Some(StateRoute {
        kind: RouteKind::Gateway,
        addr: Some(HostAddr::Ip("::".parse().unwrap())),
        iface: None,
    });
    let f = findings(&rules, &[s], &servers());
    assert_eq!(f.len(), 1);
    assert!(f[0].confirmed);
    assert!(
        f[0].message
            .ends_with("(confirmed: the states route by the default table)")
    );
}

#[test]
fn routed_states_are_not_a_bypass() {
    // A state printed with a route-to next hop (OpenBSD `{addr}`) routes
    // its packets itself.
    let rules = mission(Some(2), true);
    let mut s = state(Some(2), Direction::Out, 50000);
    s.route = Some(StateRoute {
        kind: RouteKind::RouteTo,
        addr: Some(HostAddr::Ip("2001:db8:ffff::fe".parse().unwrap())),
        iface: None,
    });
    assert!(findings(&rules, &[s], &servers()).is_empty());
}

#[test]
fn states_of_the_tunnel_rule_are_server_states_only() {
    // Made in on gif0: they catch replies out on gif0, which no route-to
    // rule decides.
    let rules = mission(Some(1), true);
    let f = findings(&rules, &[state(Some(1), Direction::In, 50000)], &servers());
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].kind, FindingKind::ServerStates);
    assert_eq!(f[0].severity, FindingSeverity::Warning);
    assert_eq!(f[0].stateful_rule.number, Some(1));
}

#[test]
fn default_rule_and_missing_rules_are_named_as_such() {
    let rules = mission(None, true);
    let f = findings(
        &rules,
        &[
            state(None, Direction::Out, 50000),
            state(Some(42), Direction::Out, 50001),
        ],
        &servers(),
    );
    assert_eq!(f.len(), 2, "{f:#?}");
    let default = f.iter().find(|x| x.stateful_rule.number.is_none()).unwrap();
    assert!(
        default
            .message
            .starts_with("the default rule created states for tcp to 2001:db8::10"),
        "{}",
        default.message
    );
    let missing = f
        .iter()
        .find(|x| x.stateful_rule.number == Some(42))
        .unwrap();
    assert_eq!(
        missing.stateful_rule.text,
        "(not in the current rules listing)"
    );
    assert_eq!(missing.kind, FindingKind::Bypass);
}

#[test]
fn if_bound_state_on_the_tunnel_does_not_reach_the_lan() {
    // Bound to gif0, an outbound-made state cannot catch packets on em1.
    let rules = mission(None, true);
    let mut s = state(Some(2), Direction::Out, 50000);
    s.iface = Arc::from("gif0");
    let f = findings(&rules, &[s], &servers());
    assert!(f.iter().all(|x| x.kind != FindingKind::Bypass), "{f:#?}");
}
