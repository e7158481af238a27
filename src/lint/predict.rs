//! `pfblame lint`: predict, from a rules listing alone, which rules would
//! create states for the server's traffic and which routing they defeat.
//!
//! Paths come from the ruleset: every `route-to` / `reply-to` pass rule that
//! can match the server's traffic names the two interfaces of a connection
//! (the client side and the server's LAN side); each connection is then
//! walked hop by hop ([`super::flow`]).

use std::net::IpAddr;

use serde::Serialize;

use super::flow::{self, Connection, HopReport};
use super::{Finding, FindingKind, FindingRule, FindingSeverity};
use crate::model::{Action, Direction, Family, PortOp, PortSpec, RouteKind, Rule};
use crate::pf::Servers;
use crate::pf::dialect::Detected;
use crate::pf::evaluate::Ruleset;
use crate::pf::matcher::{self, Match, Packet, Tables};
use crate::pf::path::{ReplyPath, walk};
use crate::pf::{Dialect, Verdict};

/// One connection walked by lint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PathReport {
    /// `tcp to 2001:db8::10 port 443: in on gif0, out on em1; replies in on em1, out on gif0`.
    pub description: String,
    /// The routing rule the path was derived from.
    pub routing_rule: FindingRule,
    pub hops: Vec<HopReport>,
    /// The same connection walked with the states its own hops create:
    /// where the replies really leave ([`crate::pf::path::walk`]).
    pub reply_path: ReplyPath,
    /// The connection walked (client and server side interfaces).
    #[serde(skip)]
    pub connection: Connection,
}

/// The verdict lint predicts for a rule that would create server states
/// (the words of `report`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RuleVerdict {
    pub rule: FindingRule,
    pub verdict: Verdict,
    pub reason: String,
}

/// Everything `lint` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LintReport {
    pub servers: Servers,
    /// The pf dialect the prediction holds for.
    pub dialect: Dialect,
    pub dialect_source: Detected,
    pub paths: Vec<PathReport>,
    pub findings: Vec<Finding>,
    /// One per rule the findings and paths name as creating server states.
    pub verdicts: Vec<RuleVerdict>,
    /// Why some routing rules could not be turned into a path, and other
    /// limits of the prediction.
    pub notes: Vec<String>,
}

/// What lint is told besides the rules: `--pf` and `--reply-via`.
#[derive(Debug, Clone, Default)]
pub struct PredictOptions {
    pub dialect: Option<Dialect>,
    /// The dialect a recording's `meta.toml` names (`--pf` wins).
    pub recorded_dialect: Option<Dialect>,
    pub reply_via: Option<String>,
}

/// Predicts the findings for `servers` from `rules` alone (no states).
/// Rules naming tables answer "may match" ([`super::possible`]).
pub fn predict(rules: &[Rule], servers: &Servers) -> LintReport {
    predict_with(rules, servers, &Tables::new())
}

/// [`predict`] with known table contents: rules naming a table in
/// `tables` match or not for the table's addresses.
pub fn predict_with(rules: &[Rule], servers: &Servers, tables: &Tables) -> LintReport {
    predict_in(rules, servers, tables, &PredictOptions::default())
}

/// [`predict_with`] for a given (or detected) dialect and `--reply-via`.
pub(crate) fn predict_in(
    rules: &[Rule],
    servers: &Servers,
    tables: &Tables,
    opts: &PredictOptions,
) -> LintReport {
    let detected = crate::pf::dialect::choose(opts.dialect, opts.recorded_dialect, rules, &[]);
    let rs = Ruleset::with_tables(rules, tables).with_dialect(detected.dialect);
    let mut report = LintReport {
        servers: servers.clone(),
        dialect: detected.dialect,
        dialect_source: detected,
        paths: Vec::new(),
        findings: Vec::new(),
        verdicts: Vec::new(),
        notes: Vec::new(),
    };
    let mut seen: Vec<Connection> = Vec::new();
    for server in servers.nets.iter().map(|n| n.addr()) {
        for idx in routing_rules(rules) {
            let rule = &rules[idx];
            for conn in connections(&rs, rule, server, &servers.ports, &mut report.notes) {
                if seen.contains(&conn) {
                    continue;
                }
                let hops = flow::hops(&conn);
                let (hop_reports, findings) = flow::analyze(&rs, &hops);
                for f in findings {
                    if !report.findings.contains(&f) {
                        report.findings.push(f);
                    }
                }
                report.paths.push(PathReport {
                    description: describe(&conn),
                    routing_rule: FindingRule::from_rule(rs.key_of(idx), Some(rule)),
                    hops: hop_reports,
                    reply_path: walk(&rs, &conn, &[], opts.reply_via.as_deref()),
                    connection: conn.clone(),
                });
                seen.push(conn);
            }
        }
    }
    if let Some(via) = opts
        .reply_via
        .as_deref()
        .filter(|_| report.paths.is_empty())
    {
        reply_via_paths(&rs, servers, via, &mut report);
    }
    report.verdicts = verdicts(&rs, &report);
    if report.paths.is_empty() {
        report.notes.push(
            "no route-to/reply-to pass rule matches the server's traffic: no routing to bypass"
                .into(),
        );
    }
    report
}

/// `--reply-via IFACE` with no routing rule: the client side is IFACE, the
/// server side comes from the rules passing traffic to the server.
fn reply_via_paths(rs: &Ruleset<'_>, servers: &Servers, via: &str, report: &mut LintReport) {
    for server in servers.nets.iter().map(|n| n.addr()) {
        let ports: Vec<Option<u16>> = if servers.ports.is_empty() {
            vec![None]
        } else {
            servers.ports.iter().copied().map(Some).collect()
        };
        for port in ports {
            let Some(server_if) = server_side(rs, server, "tcp", port, via) else {
                report.notes.push(format!(
                    "--reply-via {via}: no rule names the server's LAN interface"
                ));
                continue;
            };
            let conn = Connection {
                proto: "tcp".into(),
                server,
                port,
                client_if: via.to_string(),
                server_if,
            };
            let (hop_reports, findings) = flow::analyze(rs, &flow::hops(&conn));
            for f in findings {
                if !report.findings.contains(&f) {
                    report.findings.push(f);
                }
            }
            report.paths.push(PathReport {
                description: describe(&conn),
                routing_rule: FindingRule::from_rule(
                    crate::model::RuleKey {
                        anchor: None,
                        number: None,
                    },
                    None,
                ),
                hops: hop_reports,
                reply_path: walk(rs, &conn, &[], Some(via)),
                connection: conn,
            });
        }
    }
}

/// One verdict per rule that would create server states: from the
/// findings (bypass, blocked, possible bypass, harmless states), then from
/// the walked paths (rules whose states carry the routing).
fn verdicts(rs: &Ruleset<'_>, report: &LintReport) -> Vec<RuleVerdict> {
    let mut out: Vec<RuleVerdict> = Vec::new();
    let mut add = |rule: &FindingRule, verdict: Verdict, reason: String| {
        match out.iter_mut().find(|v| v.rule.key() == rule.key()) {
            // The most severe verdict wins: bypass/blocked over the others.
            Some(v) if rank(verdict) > rank(v.verdict) => {
                v.verdict = verdict;
                v.reason = reason;
            }
            Some(_) => {}
            None => out.push(RuleVerdict {
                rule: rule.clone(),
                verdict,
                reason,
            }),
        }
    };
    for f in &report.findings {
        let verdict = match (f.kind, f.severity) {
            (FindingKind::Bypass, _) => Verdict::Bypass,
            (FindingKind::MissedReplies, FindingSeverity::Error)
                if f.message.contains("blocked") =>
            {
                Verdict::Blocked
            }
            (FindingKind::MissedReplies, FindingSeverity::Error) => Verdict::Bypass,
            (FindingKind::PossibleBypass, _) => Verdict::Unexplained,
            _ => Verdict::Stateful,
        };
        let reason = match f.kind {
            FindingKind::PossibleBypass => format!(
                "cannot tell from the listing: possible bypass, if {}: {}",
                f.condition.as_deref().unwrap_or("a condition holds"),
                f.message
            ),
            _ => f.message.clone(),
        };
        add(&f.stateful_rule, verdict, reason);
    }
    for p in &report.paths {
        for h in &p.reply_path.hops {
            let crate::pf::path::DecidedBy::Rule { rule, .. } = h.decided_by else {
                continue;
            };
            let Some(r) = rs.find(rule) else { continue };
            if let (true, Some(rt)) = (h.created_state, &r.rule.route) {
                let reason = format!(
                    "keeps state with {}: its states carry that routing",
                    crate::pf::path::route_text(rt)
                );
                add(
                    &FindingRule::from_rule(rule, Some(r.rule)),
                    Verdict::Routing,
                    reason,
                );
            }
        }
    }
    out
}

fn rank(v: Verdict) -> u8 {
    match v {
        Verdict::Bypass | Verdict::Blocked => 3,
        Verdict::Unexplained => 2,
        Verdict::Stateful => 1,
        _ => 0,
    }
}

fn describe(c: &Connection) -> String {
    let port = c.port.map(|p| format!(" port {p}")).unwrap_or_default();
    format!(
        "{} to {}{port}: requests in on {}, out on {}; replies in on {}, out on {}",
        c.proto, c.server, c.client_if, c.server_if, c.server_if, c.client_if
    )
}

/// Indices of pass rules with `route-to` or `reply-to`.
fn routing_rules(rules: &[Rule]) -> Vec<usize> {
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.action == Action::Pass && !r.expired)
        .filter(|(_, r)| {
            r.route
                .as_ref()
                .is_some_and(|rt| matches!(rt.kind, RouteKind::RouteTo | RouteKind::ReplyTo))
        })
        .map(|(i, _)| i)
        .collect()
}

fn family_of(a: IpAddr) -> Family {
    if a.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    }
}

/// The server-side port(s) to consider: the user's, else the one the rule
/// names (`port = 443`), else unknown.
fn ports_for(rule: &Rule, side_is_from: bool, user: &[u16]) -> Vec<Option<u16>> {
    if !user.is_empty() {
        return user.iter().copied().map(Some).collect();
    }
    let spec = if side_is_from { &rule.from } else { &rule.to };
    let eq: Vec<Option<u16>> = spec
        .ports
        .iter()
        .filter(|p| p.op == PortOp::Eq)
        .filter_map(port_number)
        .map(Some)
        .collect();
    if eq.is_empty() { vec![None] } else { eq }
}

fn port_number(p: &PortSpec) -> Option<u16> {
    match &p.a {
        crate::model::Port::Num(n) => Some(*n),
        crate::model::Port::Name(n) => matcher::service_port(n),
    }
}

/// A plain interface name of a rule (`on em1`), not negated, not a group.
fn rule_iface(rule: &Rule) -> Option<String> {
    rule.iface
        .as_ref()
        .filter(|i| !i.negated && !matcher::is_group_name(&i.name))
        .map(|i| i.name.to_string())
}

/// The interface a route-to pool sends to; for an address-only pool
/// (OpenBSD 6.9+ `route-to 2001:db8::1`, the routing table picks the
/// interface) the interface of the rule passing the requests in.
fn route_iface(
    rs: &Ruleset<'_>,
    rule: &Rule,
    server: IpAddr,
    proto: &str,
    port: Option<u16>,
) -> Option<String> {
    let rt = rule.route.as_ref()?;
    crate::pf::path::route_iface(rt).or_else(|| {
        let lan = rule_iface(rule)?;
        client_side(rs, server, proto, port, &lan)
    })
}

/// The interface requests to the server arrive on: the first plain
/// interface, other than the server's LAN, of a rule passing them in.
fn client_side(
    rs: &Ruleset<'_>,
    server: IpAddr,
    proto: &str,
    port: Option<u16>,
    lan: &str,
) -> Option<String> {
    rs.rules()
        .iter()
        .filter(|r| r.action == Action::Pass && r.direction == Some(Direction::In))
        .filter_map(|r| {
            let iface = rule_iface(r)?;
            if iface == lan {
                return None;
            }
            let probe = Packet {
                family: family_of(server),
                proto: proto.to_string(),
                src: None,
                src_port: None,
                dst: Some(server),
                dst_port: port,
                iface: iface.clone(),
                direction: Direction::In,
                tcp_flags: None,
            };
            rs.rule_matches(r, &probe, false).is_yes().then_some(iface)
        })
        .next()
}

/// Connections a routing rule is about, for one server address.
fn connections(
    rs: &Ruleset<'_>,
    rule: &Rule,
    server: IpAddr,
    user_ports: &[u16],
    notes: &mut Vec<String>,
) -> Vec<Connection> {
    let Some(route) = &rule.route else {
        return Vec::new();
    };
    let proto = match rule.protos.as_slice() {
        [one] => one.to_string(),
        _ => "tcp".to_string(),
    };
    let reply_to = route.kind == RouteKind::ReplyTo;
    let mut out = Vec::new();
    for port in ports_for(rule, !reply_to, user_ports) {
        let Some(iface) = rule_iface(rule) else {
            notes.push(format!(
                "`{}`: no plain `on <interface>`, so its path is not known",
                rule.text
            ));
            continue;
        };
        // route-to decides the server's replies; reply-to the requests to it.
        let probe = Packet {
            family: family_of(server),
            proto: proto.clone(),
            src: (!reply_to).then_some(server),
            src_port: if reply_to { None } else { port },
            dst: reply_to.then_some(server),
            dst_port: if reply_to { port } else { None },
            iface: iface.clone(),
            direction: rule.direction.unwrap_or(Direction::In),
            tcp_flags: None,
        };
        if rs.rule_matches(rule, &probe, false) == Match::No {
            continue;
        }
        let conn = if reply_to {
            // `pass in on A reply-to …`: A is the client side.
            server_side(rs, server, &proto, port, &iface).map(|server_if| Connection {
                proto: proto.clone(),
                server,
                port,
                client_if: iface.clone(),
                server_if,
            })
        } else if probe.direction == Direction::In {
            // `pass in on B from server route-to A`: replies come in on B.
            route_iface(rs, rule, server, &proto, port).map(|client_if| Connection {
                proto: proto.clone(),
                server,
                port,
                client_if,
                server_if: iface.clone(),
            })
        } else {
            // `pass out on X from server route-to A`: the LAN side comes
            // from the other rules.
            route_iface(rs, rule, server, &proto, port).and_then(|client_if| {
                server_side(rs, server, &proto, port, &client_if).map(|server_if| Connection {
                    proto: proto.clone(),
                    server,
                    port,
                    client_if,
                    server_if,
                })
            })
        };
        match conn {
            Some(c) => out.push(c),
            None => notes.push(format!(
                "`{}`: could not tell the interfaces of its path (no rule names the server's LAN interface)",
                rule.text
            )),
        }
    }
    out
}

/// The server's LAN interface: the first interface, other than the client
/// side, of a rule that passes traffic to the server out of it or from the
/// server into it.
fn server_side(
    rs: &Ruleset<'_>,
    server: IpAddr,
    proto: &str,
    port: Option<u16>,
    client_if: &str,
) -> Option<String> {
    rs.rules()
        .iter()
        .filter(|r| matches!(r.action, Action::Pass))
        .filter_map(|r| {
            let iface = rule_iface(r)?;
            if iface == client_if {
                return None;
            }
            let dir = r.direction?;
            let to_server = dir == Direction::Out;
            let probe = Packet {
                family: family_of(server),
                proto: proto.to_string(),
                src: (!to_server).then_some(server),
                src_port: if to_server { None } else { port },
                dst: to_server.then_some(server),
                dst_port: if to_server { port } else { None },
                iface: iface.clone(),
                direction: dir,
                tcp_flags: None,
            };
            rs.rule_matches(r, &probe, false).is_yes().then_some(iface)
        })
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_rank_above_unexplained_above_stateful() {
        assert!(rank(Verdict::Bypass) > rank(Verdict::Unexplained));
        assert_eq!(rank(Verdict::Bypass), rank(Verdict::Blocked));
        assert!(rank(Verdict::Unexplained) > rank(Verdict::Stateful));
        assert!(rank(Verdict::Stateful) > rank(Verdict::Allowed));
    }

    #[test]
    fn the_family_follows_the_address() {
        assert_eq!(family_of("192.0.2.1".parse().expect("v4")), Family::Inet);
        assert_eq!(family_of("2001:db8::1".parse().expect("v6")), Family::Inet6);
    }
}
