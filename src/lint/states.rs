//! Verdicts on real server states: for each state, which packets it catches
//! (the connection's packets going the other way through the other
//! direction), which rule would have decided them, and whether that rule
//! routes. The state's own routing info confirms the verdict when printed
//! (OpenBSD `{addr}`, FreeBSD `route-to:` / `gateway:`).

use std::collections::BTreeMap;
use std::net::IpAddr;

use super::evaluate::{Decider, Ruleset};
use super::flow::{Hop, Leg, route_text, stateless_text};
use super::{Finding, FindingKind, FindingRule, FindingSeverity};
use crate::analyze::Servers;
use crate::matcher::{Packet, tcp_flags};
use crate::model::{Direction, Family, HostAddr, RouteKind, Rule, RuleKey, State};

/// What a state's printed routing says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum StateRouting {
    /// Nothing printed (OpenBSD without `{}`, `-v` listings…).
    NotShown,
    /// A route-to / reply-to / dup-to next hop, or a non-zero gateway.
    Routed,
    /// FreeBSD `gateway: 0.0.0.0` / `::`: the routing table decides.
    DefaultTable,
}

fn state_routing(s: &State) -> StateRouting {
    let Some(r) = &s.route else {
        return StateRouting::NotShown;
    };
    let unspecified = match &r.addr {
        Some(HostAddr::Ip(ip)) => ip.is_unspecified(),
        Some(HostAddr::Name(_)) => false,
        None => true,
    };
    match (r.kind, unspecified) {
        (RouteKind::Gateway, true) => StateRouting::DefaultTable,
        _ => StateRouting::Routed,
    }
}

fn port_num(e: &crate::model::Endpoint) -> Option<u16> {
    e.port.as_ref().and_then(|p| p.number())
}

fn in_servers(ip: Option<IpAddr>, servers: &Servers) -> bool {
    ip.is_some_and(|ip| servers.nets.iter().any(|n| n.contains(&ip)))
}

/// The packet a state catches that the ruleset would otherwise have decided
/// differently: the same connection going the other way, through the other
/// direction (same key, see [`crate::lint`]).
fn caught_packet(s: &State, iface: &str, servers: &Servers) -> Option<Hop> {
    let src = s.src.addr.ip()?;
    let dst = s.dst.addr.ip()?;
    let family = if dst.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    };
    let direction = match s.direction {
        Direction::In => Direction::Out,
        Direction::Out => Direction::In,
    };
    // Replies come from the side the connection was opened to.
    let leg = if in_servers(Some(dst), servers) {
        Leg::Reply
    } else {
        Leg::Request
    };
    let tcp = &*s.proto == "tcp";
    Some(Hop {
        leg,
        packet: Packet {
            family,
            proto: s.proto.to_string(),
            src: Some(dst),
            src_port: port_num(&s.dst),
            dst: Some(src),
            dst_port: port_num(&s.src),
            iface: iface.to_string(),
            direction,
            tcp_flags: tcp.then_some(tcp_flags::SYN | tcp_flags::ACK),
        },
    })
}

/// The packet that created the state (for messages).
fn made_packet(s: &State, rule: Option<&Rule>, servers: &Servers) -> Hop {
    let iface = rule
        .and_then(|r| r.iface.as_ref())
        .filter(|i| !i.negated)
        .map(|i| i.name.to_string())
        .unwrap_or_else(|| s.iface.to_string());
    let dst = s.dst.addr.ip();
    Hop {
        leg: if in_servers(dst, servers) {
            Leg::Request
        } else {
            Leg::Reply
        },
        packet: Packet {
            family: if dst.is_some_and(|d| d.is_ipv4()) {
                Family::Inet
            } else {
                Family::Inet6
            },
            proto: s.proto.to_string(),
            src: s.src.addr.ip(),
            src_port: port_num(&s.src),
            dst,
            dst_port: port_num(&s.dst),
            iface,
            direction: s.direction,
            tcp_flags: None,
        },
    }
}

/// Groups states by (creating rule, bypassed rule, caught hop).
type GroupKey = (RuleKey, Option<RuleKey>, String);

/// Findings for real server states: which creating rules' states make
/// packets skip which `route-to` / `reply-to` rules.
///
/// `sample_rules` is the rules listing of the same poll; `server_states`
/// are the states of the server addresses (ports already filtered).
/// States whose creating rule never decides a routed packet give one
/// `server-states` warning per rule. Pure: no pfctl, no clock.
pub fn findings(sample_rules: &[Rule], server_states: &[State], servers: &Servers) -> Vec<Finding> {
    let rs = Ruleset::new(sample_rules);
    let ifaces = rs.interfaces();
    let mut groups: BTreeMap<GroupKey, Finding> = BTreeMap::new();
    for s in server_states {
        let key = s.rule_key();
        let creator = rs.find(key);
        let creator_rule = creator.map(|c| c.rule);
        let routing = state_routing(s);
        let made = made_packet(s, creator_rule, servers);
        // Floating states catch packets on every interface; if-bound ones
        // only on their own.
        let candidates: Vec<String> = if &*s.iface == "all" {
            ifaces.clone()
        } else {
            vec![s.iface.to_string()]
        };
        let mut bypasses = Vec::new();
        if routing != StateRouting::Routed {
            for iface in &candidates {
                let Some(hop) = caught_packet(s, iface, servers) else {
                    continue;
                };
                let d = rs.evaluate(&hop.packet);
                if let (Some(route), Decider::Rule(r)) = (d.route(), d.decider) {
                    bypasses.push((hop, r.key, route_text(route), r.rule.text.clone()));
                }
            }
        }
        if bypasses.is_empty() {
            add_server_state(&mut groups, key, creator_rule, &made, routing);
            continue;
        }
        for (hop, bkey, route, btext) in bypasses {
            let g = (key, Some(bkey), hop.label());
            let f = groups.entry(g).or_insert_with(|| Finding {
                severity: FindingSeverity::Error,
                kind: FindingKind::Bypass,
                stateful_rule: FindingRule::from_rule(key, creator_rule),
                bypassed_rule: Some(FindingRule {
                    anchor: bkey.anchor,
                    number: bkey.number,
                    anchor_path: String::new(),
                    text: btext,
                }),
                path: format!(
                    "state made by {} → catches {}",
                    made.flow_text(),
                    hop.label()
                ),
                states: 0,
                confirmed: routing == StateRouting::DefaultTable,
                message: String::new(),
                fix: fix_text(key, creator_rule),
                condition: None,
                check: None,
            });
            f.states += 1;
            f.confirmed |= routing == StateRouting::DefaultTable;
            f.message = format!(
                "{} for {} ({} states); {} match those states and skip {} rule {}{}",
                keeps_state(key),
                made.flow_text(),
                f.states,
                hop.label(),
                route.split(' ').next().unwrap_or("route-to"),
                bkey,
                if f.confirmed {
                    " (confirmed: the states route by the default table)"
                } else {
                    ""
                }
            );
        }
    }
    let mut out: Vec<Finding> = groups.into_values().collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.states.cmp(&a.states))
            .then(a.stateful_rule.key().cmp(&b.stateful_rule.key()))
    });
    out
}

/// `rule @2 keeps state`, or for states without a `rule` item (pf's
/// default rule, which keeps state only for translated packets on FreeBSD)
/// `the default rule created states`.
fn keeps_state(key: RuleKey) -> String {
    match key.number {
        Some(_) => format!("rule {key} keeps state"),
        None => "the default rule created states".into(),
    }
}

fn fix_text(key: RuleKey, rule: Option<&Rule>) -> String {
    let change = match rule {
        Some(r) => format!(
            "add `no state` to rule {key} (`{}`)",
            stateless_text(&r.text)
        ),
        None if key.number.is_none() => {
            "pass this traffic with an explicit `no state` rule".to_string()
        }
        None => format!("rule {key} is not in the current listing (ruleset changed?)"),
    };
    format!(
        "{change}; then remove the existing states, which keep bypassing until they expire (pfblame report --kill --allow-kill)"
    )
}

fn add_server_state(
    groups: &mut BTreeMap<GroupKey, Finding>,
    key: RuleKey,
    rule: Option<&Rule>,
    made: &Hop,
    routing: StateRouting,
) {
    // States made by a routing rule (or carrying a route) are how stateful
    // routing is meant to work.
    if routing == StateRouting::Routed || rule.is_some_and(|r| r.route.is_some()) {
        return;
    }
    let f = groups
        .entry((key, None, String::new()))
        .or_insert_with(|| Finding {
            severity: FindingSeverity::Warning,
            kind: FindingKind::ServerStates,
            stateful_rule: FindingRule::from_rule(key, rule),
            bypassed_rule: None,
            path: format!("state made by {}", made.flow_text()),
            states: 0,
            confirmed: false,
            message: String::new(),
            fix: fix_text(key, rule),
            condition: None,
            check: None,
        });
    f.states += 1;
    f.message = format!(
        "{} for {} ({} states); no route-to/reply-to rule would decide the packets those states catch",
        keeps_state(key),
        made.flow_text(),
        f.states
    );
}
