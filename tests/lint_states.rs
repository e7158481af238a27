//! `lint::findings` on real server states: which rule's states skip which
//! route-to rule, confirmed by the states' routing info when printed.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure

mod lint_support;

use std::sync::Arc;

use lint_support::*;
use pfblame::lint::{FindingKind, FindingSeverity, findings, findings_with_stats};
use pfblame::model::{Direction, Endpoint, HostAddr, Port, PortOp, RouteKind, State, StateRoute};

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
    s.route = Some(Box::new(StateRoute {
        kind: RouteKind::Gateway,
        addr: Some(HostAddr::Ip("::".parse().unwrap())),
        iface: None,
    }));
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
    s.route = Some(Box::new(StateRoute {
        kind: RouteKind::RouteTo,
        addr: Some(HostAddr::Ip("2001:db8:ffff::fe".parse().unwrap())),
        iface: None,
    }));
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

/// A floating state of rule `rule` from `client` (any port) to the server.
fn state_from(rule: u32, client: &str, client_port: u16) -> State {
    let mut s = state(Some(rule), Direction::Out, client_port);
    s.src = Endpoint::new(
        HostAddr::Ip(client.parse().unwrap()),
        Some(Port::Num(client_port)),
    );
    s
}

#[test]
fn states_of_one_flow_shape_are_evaluated_once() {
    // 100,000 clients, none of which any rule tells apart: one flow, whose
    // caught replies are evaluated once per interface the rules name.
    let rules = mission(Some(2), true);
    let states: Vec<State> = (0..100_000u32)
        .map(|i| {
            let client = format!("2001:db8:ffff:{:x}::{:x}", i / 60_000, i % 60_000 + 1);
            state_from(2, &client, 1024 + (i % 60_000) as u16)
        })
        .collect();
    let (f, stats) = findings_with_stats(&rules, &states, &servers());
    assert_eq!(stats.states, 100_000);
    assert_eq!(stats.flows, 1, "{stats:?}");
    // gif0 and em1: the interfaces the rules name.
    assert_eq!(stats.evaluations, 2, "{stats:?}");
    assert_eq!(f.len(), 1, "{f:#?}");
    assert_eq!(f[0].kind, FindingKind::Bypass);
    assert_eq!(f[0].states, 100_000);
}

#[test]
fn clients_the_rules_tell_apart_are_separate_flows() {
    // The route-to rule @3 only routes replies to 2001:db8:ffff:1::/64:
    // states of clients there are a bypass, the others' are not.
    let mut rules = mission(Some(2), true);
    rules[3] = rule(3)
        .dir_in()
        .quick()
        .on(LAN)
        .inet6()
        .proto("tcp")
        .from(net("2001:db8::10/128"))
        .from_port(port(PortOp::Eq, 443, None))
        .to(net("2001:db8:ffff:1::/64"))
        .no_state()
        .route_to(TUNNEL)
        .build();
    let states = [
        state_from(2, "2001:db8:ffff:1::1", 50000),
        state_from(2, "2001:db8:ffff:1::2", 50001),
        state_from(2, "2001:db8:ffff:2::1", 50002),
        state_from(2, "2001:db8:ffff:2::2", 50003),
        state_from(2, "2001:db8:ffff:2::3", 50004),
    ];
    let (f, stats) = findings_with_stats(&rules, &states, &servers());
    assert_eq!(stats.flows, 2, "{stats:?}");
    let bypass = f.iter().find(|x| x.kind == FindingKind::Bypass).unwrap();
    assert_eq!(bypass.states, 2, "{f:#?}");
    let warning = f
        .iter()
        .find(|x| x.kind == FindingKind::ServerStates)
        .unwrap();
    assert_eq!(warning.states, 3, "{f:#?}");
}

#[test]
fn one_state_is_counted_in_the_singular() {
    let rules = mission(Some(2), true);
    let f = findings(&rules, &[state(Some(2), Direction::Out, 50000)], &servers());
    assert_eq!(
        f[0].message,
        "rule @2 keeps state for tcp to 2001:db8::10 port 443 out on em1 (1 state); replies in on em1 match that state and skip route-to rule @3"
    );
}

#[test]
fn warnings_say_nothing_is_bypassed() {
    let rules = mission(Some(1), true);
    let f = findings(&rules, &[state(Some(1), Direction::In, 50000)], &servers());
    assert_eq!(f[0].kind, FindingKind::ServerStates);
    assert_eq!(
        f[0].message,
        "rule @1 keeps state for tcp to 2001:db8::10 port 443 in on gif0 (1 state); no route-to/reply-to rule would decide the packets that state catches, so no routing is skipped"
    );
    assert!(!f[0].fix.contains("bypassing"), "{}", f[0].fix);
    assert!(f[0].fix.contains("--allow 1"), "{}", f[0].fix);
    assert!(
        f[0].fix.contains("add `no state` to rule @1"),
        "{}",
        f[0].fix
    );
}

#[test]
fn dual_prefix_findings_describe_the_states_they_count() {
    // Rule @19 (no `on`) made one state in and one out for the same ssh
    // connection: each finding's message must describe its own path.
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/scenarios/dual-prefix/0001");
    let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
    let rules = pfblame::parse::parse_any(&read("rules.txt")).rules;
    let states = pfblame::parse::parse_any(&read("states.txt")).states;
    let servers = pfblame::analyze::Servers::parse(
        &["2001:db8:bbbb:1::10".into(), "2001:db8:aaaa:1::10".into()],
        &[],
    )
    .unwrap();
    let server_states: Vec<State> = states.into_iter().filter(|s| servers.matches(s)).collect();
    let f = findings(&rules, &server_states, &servers);
    for x in &f {
        let made = x
            .path
            .strip_prefix("state made by ")
            .and_then(|p| p.split(" → ").next())
            .unwrap();
        assert!(x.message.contains(&format!("for {made} (")), "{x:#?}");
        assert!(!x.message.contains("(1 states)"), "{}", x.message);
        assert!(!x.message.contains(" on all"), "{}", x.message);
        if x.kind == FindingKind::ServerStates {
            assert!(!x.fix.contains("bypassing"), "{}", x.fix);
        }
    }
    let ssh: Vec<&str> = f
        .iter()
        .filter(|x| x.stateful_rule.number == Some(19))
        .map(|x| x.path.as_str())
        .collect();
    assert_eq!(
        ssh,
        [
            "state made by tcp to 2001:db8:bbbb:1::10 port 22 in on any interface",
            "state made by tcp to 2001:db8:bbbb:1::10 port 22 out on any interface",
        ]
    );
}
