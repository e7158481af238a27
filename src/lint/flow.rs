//! The hops of one connection through the firewall, which rule decides each
//! hop, and the findings that follow: a stateful hop whose state catches a
//! hop that a routing rule would have decided is a bypass.

use serde::Serialize;

use super::possible::{self, Alternative};
use super::{Finding, FindingKind, FindingRule, FindingSeverity};
use crate::model::{Direction, Family, RouteKind, RuleRoute};
use crate::pf::evaluate::{Decider, Decision, EvalOptions, Ruleset};
use crate::pf::matcher::{Packet, flags_text, tcp_flags};

pub use crate::pf::path::{Connection, Leg};

/// One crossing of pf: a packet, in or out, on one interface.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    pub leg: Leg,
    pub packet: Packet,
}

impl Hop {
    /// `replies in on em1`.
    pub fn label(&self) -> String {
        let what = match self.leg {
            Leg::Request => "requests",
            Leg::Reply => "replies",
        };
        format!("{what} {} on {}", self.packet.direction, self.packet.iface)
    }

    /// The state-key orientation of the hop: two packets of a connection
    /// find the same (floating) state exactly when these are equal, because
    /// pf orders key addresses by direction (inbound src,dst; outbound
    /// dst,src).
    pub(crate) fn key_side(&self) -> bool {
        crate::pf::path::key_side(self.packet.direction, self.leg)
    }

    /// `tcp to 2001:db8::10 port 443 out on em1` (requests) or
    /// `tcp from 2001:db8::10 port 443 in on em1` (replies).
    pub(crate) fn flow_text(&self) -> String {
        let p = &self.packet;
        let (word, addr, port) = match self.leg {
            Leg::Request => ("to", p.dst, p.dst_port),
            Leg::Reply => ("from", p.src, p.src_port),
        };
        let mut s = format!("{} {word}", p.proto);
        match addr {
            Some(a) => s.push_str(&format!(" {a}")),
            None => s.push_str(" any"),
        }
        if let Some(port) = port {
            s.push_str(&format!(" port {port}"));
        }
        s.push(' ');
        s.push_str(&where_text(p));
        s
    }
}

/// `out on em1`: the direction and interface of a packet. A floating state
/// of a rule without `on` prints its interface as `all`, which is no
/// interface name (and `on all` no pf syntax): `out on any interface`.
pub(crate) fn where_text(p: &Packet) -> String {
    if p.iface == "all" {
        format!("{} on any interface", p.direction)
    } else {
        format!("{} on {}", p.direction, p.iface)
    }
}

/// The four hops of a connection from a client behind `client_if` to a
/// server behind `server_if`: request in and out, reply in and (intended)
/// out. The client's address and port are not known.
pub fn hops(conn: &Connection) -> Vec<Hop> {
    let tcp = conn.proto == "tcp";
    let family = if conn.server.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    };
    let syn = tcp.then_some(tcp_flags::SYN);
    let syn_ack = tcp.then_some(tcp_flags::SYN | tcp_flags::ACK);
    let req = |iface: &str, direction| Hop {
        leg: Leg::Request,
        packet: Packet {
            family,
            proto: conn.proto.clone(),
            src: None,
            src_port: None,
            dst: Some(conn.server),
            dst_port: conn.port,
            iface: iface.to_string(),
            direction,
            tcp_flags: syn,
        },
    };
    let rep = |iface: &str, direction| Hop {
        leg: Leg::Reply,
        packet: Packet {
            family,
            proto: conn.proto.clone(),
            src: Some(conn.server),
            src_port: conn.port,
            dst: None,
            dst_port: None,
            iface: iface.to_string(),
            direction,
            tcp_flags: syn_ack,
        },
    };
    vec![
        req(&conn.client_if, Direction::In),
        req(&conn.server_if, Direction::Out),
        rep(&conn.server_if, Direction::In),
        rep(&conn.client_if, Direction::Out),
    ]
}

/// What the evaluation said about one hop (for output).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HopReport {
    pub hop: String,
    /// The packet as evaluated (`tcp *:* -> 2001:db8::10[443] in on gif0 flags S`).
    pub packet: String,
    pub decided_by: FindingRule,
    /// `pass` or `block`.
    pub action: String,
    pub keeps_state: bool,
    /// `route-to gif0`, when the decision routes the packet.
    pub route: Option<String>,
    /// Rules that might match instead (the listing cannot tell), with why.
    pub uncertain: Vec<String>,
    pub notes: Vec<String>,
}

fn hop_report(hop: &Hop, d: &Decision<'_>, alts: &[Alternative<'_>]) -> HopReport {
    HopReport {
        hop: hop.label(),
        packet: hop.packet.to_string(),
        decided_by: FindingRule::from_decider(&d.decider),
        action: if d.passes() { "pass" } else { "block" }.into(),
        keeps_state: d.keeps_state(),
        route: d.route().map(route_text),
        uncertain: d
            .uncertain
            .iter()
            .map(|u| {
                alts.iter()
                    .find(|a| a.condition.rule == u.rule.key)
                    .map(possible::note)
                    .unwrap_or_else(|| uncertain_note(u.rule.key, &u.reason))
            })
            .collect(),
        notes: d.notes.clone(),
    }
}

/// `rule @9 may match if …` / `rule @9 may match (…)`, for an uncertain
/// rule that would not change the decision.
fn uncertain_note(key: crate::model::RuleKey, reason: &str) -> String {
    if reason.starts_with("if ") {
        format!("rule {key} may match {reason} (same outcome)")
    } else {
        format!("rule {key} may match ({reason}; same outcome)")
    }
}

pub use crate::pf::path::route_text;

/// Does a state made at `made` route the packets of `caught`? route-to and
/// dup-to act on packets going the state's way, reply-to on the others.
fn state_routes(route: Option<&RuleRoute>, made: &Hop, caught: &Hop) -> bool {
    let same_way = made.packet.direction == caught.packet.direction;
    match route.map(|r| r.kind) {
        Some(RouteKind::RouteTo | RouteKind::DupTo) => same_way,
        Some(RouteKind::ReplyTo) => !same_way,
        Some(RouteKind::Gateway) | None => false,
    }
}

fn if_bound(d: &Decision<'_>) -> bool {
    d.decider
        .rule()
        .is_some_and(|r| r.state_opts.iter().any(|o| &**o == "if-bound"))
}

/// Evaluates every hop and explains what the states do: definite findings
/// from the decisions the listing gives, then possible ones from the rules
/// it cannot decide ([`possible`]).
pub fn analyze(rs: &Ruleset<'_>, hops: &[Hop]) -> (Vec<HopReport>, Vec<Finding>) {
    let decisions: Vec<Decision<'_>> = hops.iter().map(|h| rs.evaluate(&h.packet)).collect();
    let alts: Vec<Vec<Alternative<'_>>> = hops
        .iter()
        .zip(&decisions)
        .map(|(h, d)| possible::alternatives(rs, h, d))
        .collect();
    let reports = hops
        .iter()
        .zip(&decisions)
        .zip(&alts)
        .map(|((h, d), a)| hop_report(h, d, a))
        .collect();
    let mut findings = Vec::new();
    for (i, hop) in hops.iter().enumerate() {
        // A hop whose packets an earlier hop's state catches never reaches
        // the ruleset: a rule its flags miss changes nothing there.
        let caught = (0..i).any(|j| {
            decisions[j].keeps_state() && caught_hops(hops, j, &decisions[j]).contains(&i)
        });
        if !caught {
            missed_replies(rs, hop, &decisions[i], &mut findings);
        }
        state_findings(hops, &decisions, i, &mut findings);
    }
    possible::possible_bypasses(hops, &decisions, &alts, &mut findings);
    (reports, findings)
}

/// The hops whose packets a state made at hop `i` by decision `d` catches:
/// the same key orientation (see [`Hop::key_side`]), on any interface
/// unless the state is `if-bound`.
pub(crate) fn caught_hops(hops: &[Hop], i: usize, d: &Decision<'_>) -> Vec<usize> {
    let made = &hops[i];
    (0..hops.len())
        .filter(|&j| j != i && hops[j].key_side() == made.key_side())
        .filter(|&j| !if_bound(d) || hops[j].packet.iface == made.packet.iface)
        .collect()
}

/// The routing that a state made at `made` (by `d`) makes the packets of
/// `caught` skip: `other`'s route, unless the state itself routes them
/// the same way.
pub(crate) fn skipped_route<'r>(
    made: &Hop,
    d: &Decision<'_>,
    caught: &Hop,
    other: &Decision<'r>,
) -> Option<&'r RuleRoute> {
    let wanted = other.route()?;
    let own = d.route();
    let same = state_routes(own, made, caught) && own.map(|r| &r.target) == Some(&wanted.target);
    (!same).then_some(wanted)
}

/// Findings for the state the decision at hop `i` creates, if any.
fn state_findings(hops: &[Hop], decisions: &[Decision<'_>], i: usize, out: &mut Vec<Finding>) {
    let (made, d) = (&hops[i], &decisions[i]);
    if !d.keeps_state() {
        return;
    }
    let own_route = d.route();
    let caught = caught_hops(hops, i, d);
    let mut bypassed = false;
    for &j in &caught {
        let other = &decisions[j];
        let Some(wanted) = skipped_route(made, d, &hops[j], other) else {
            continue;
        };
        bypassed = true;
        out.push(bypass_finding(made, d, &hops[j], other, wanted));
    }
    // reply-to acts on the reply leaving by another interface; an if-bound
    // state is never found there (`pf_find_state` compares the kif).
    if own_route.is_some_and(|r| r.kind == RouteKind::ReplyTo)
        && if_bound(d)
        && d.dialect.is_openbsd()
    {
        out.push(bound_reply_to_finding(made, d));
        return;
    }
    // A state made by a routing rule is how routing with state is meant to
    // work; other server states are worth a warning.
    if !bypassed && own_route.is_none() {
        out.push(server_states_finding(
            made,
            d,
            caught.iter().map(|&j| &hops[j]),
        ));
    }
}

fn bypass_finding(
    made: &Hop,
    d: &Decision<'_>,
    caught: &Hop,
    other: &Decision<'_>,
    wanted: &RuleRoute,
) -> Finding {
    let keeps = match d.keeps_state_for {
        Some(t)
            if !d
                .decider
                .rule()
                .is_some_and(crate::model::Rule::keeps_state) =>
        {
            format!(
                "{} passes {} with `no state`, but rule {} translates it and {} keeps state for \
             translated packets",
                d.decider.name(),
                made.flow_text(),
                t.key,
                d.dialect
            )
        }
        _ => format!("{} keeps state for {}", d.decider.name(), made.flow_text()),
    };
    let message = format!(
        "{keeps}; {} match that state and skip {} rule {}",
        caught.label(),
        wanted.kind,
        other.decider.key(),
    );
    Finding {
        severity: FindingSeverity::Error,
        kind: FindingKind::Bypass,
        stateful_rule: FindingRule::from_decider(&d.decider),
        bypassed_rule: Some(FindingRule::from_decider(&other.decider)),
        path: path_text(made.flow_text(), caught.label()),
        states: 0,
        confirmed: false,
        message,
        fix: match d.keeps_state_for {
            Some(t) => translation_fix(t, made),
            None => no_state_fix_in_rs(&d.decider, made, d.dialect),
        },
        condition: None,
        check: None,
    }
}

fn bound_reply_to_finding(made: &Hop, d: &Decision<'_>) -> Finding {
    let text = d.decider.rule().map(|r| r.text.clone()).unwrap_or_default();
    Finding {
        severity: FindingSeverity::Error,
        kind: FindingKind::Bypass,
        stateful_rule: FindingRule::from_decider(&d.decider),
        bypassed_rule: Some(FindingRule::from_decider(&d.decider)),
        path: path_text(
            made.flow_text(),
            "nothing: the replies leave by another interface and never match it",
        ),
        states: 0,
        confirmed: false,
        message: format!(
            "{} keeps if-bound state with reply-to for {}: the replies leave by the routing \
             table on another interface, never match the state bound to {}, and the reply-to \
             never applies",
            d.decider.name(),
            made.flow_text(),
            made.packet.iface
        ),
        fix: format!(
            "make its states float: `{}`",
            floating_text(&text, d.dialect)
        ),
        condition: None,
        check: None,
    }
}

fn server_states_finding<'h>(
    made: &Hop,
    d: &Decision<'_>,
    caught: impl Iterator<Item = &'h Hop>,
) -> Finding {
    let caught: Vec<String> = caught.map(Hop::label).collect();
    let catches = if caught.is_empty() {
        "only later packets of the same hop".to_string()
    } else {
        caught.join(", ")
    };
    Finding {
        severity: FindingSeverity::Warning,
        kind: FindingKind::ServerStates,
        stateful_rule: FindingRule::from_decider(&d.decider),
        bypassed_rule: None,
        path: path_text(made.flow_text(), &catches),
        states: 0,
        confirmed: false,
        message: format!(
            "{} keeps state for {}; {catches} match that state and skip the ruleset (no route-to/reply-to rule is skipped there today)",
            d.decider.name(),
            made.flow_text(),
        ),
        fix: format!(
            "{}; or accept these states with --allow {}",
            no_state_fix_in_rs(&d.decider, made, d.dialect),
            allow_arg(&d.decider)
        ),
        condition: None,
        check: None,
    }
}

fn allow_arg(d: &Decider<'_>) -> String {
    let k = d.key();
    match (k.anchor, k.number) {
        (Some(a), Some(n)) => format!("{a}:{n}"),
        (None, Some(n)) => n.to_string(),
        (_, None) => "(default rule)".into(),
    }
}

/// A stateful rule written for the hop's packets that they miss because of
/// its `flags S/SA` (replies are SYN+ACK or ACK): say who decides instead.
fn missed_replies(rs: &Ruleset<'_>, hop: &Hop, real: &Decision<'_>, out: &mut Vec<Finding>) {
    let Some(flags) = hop.packet.tcp_flags else {
        return;
    };
    let intended = rs.evaluate_with(
        &hop.packet,
        EvalOptions {
            ignore_flags: true,
            ..EvalOptions::default()
        },
    );
    let Decider::Rule(meant) = intended.decider else {
        return;
    };
    if real.decider.same(&intended.decider) || !meant.rule.keeps_state() {
        return;
    }
    let lost_route = meant.rule.route.is_some() && real.route().is_none();
    let blocked = !real.passes();
    let severity = if lost_route || blocked {
        FindingSeverity::Error
    } else {
        FindingSeverity::Warning
    };
    let effect = if blocked {
        "so they are blocked".to_string()
    } else if lost_route {
        "so they are not routed and take the default route".to_string()
    } else {
        "which passes them".to_string()
    };
    let message = format!(
        "rule {} keeps state, so it only matches packets with flags S/SA; {} ({}) never match it and are decided by {} instead, {effect}",
        meant.key,
        hop.label(),
        flags_text(flags),
        real.decider.name(),
    );
    out.push(Finding {
        severity,
        kind: FindingKind::MissedReplies,
        stateful_rule: FindingRule::from_decider(&intended.decider),
        bypassed_rule: Some(FindingRule::from_decider(&real.decider)),
        path: format!("{} (flags {})", hop.flow_text(), flags_text(flags)),
        states: 0,
        confirmed: false,
        message,
        fix: missed_replies_fix(meant.key, meant.rule, rs.dialect()),
        condition: None,
        check: None,
    });
}

/// A stateful rule that replies never match. OpenBSD 6.9+ routes only
/// through states, so a routing rule keeps state and takes `flags any`
/// (or the routing moves to `reply-to` on the inbound rule); elsewhere
/// `no state` also works.
fn missed_replies_fix(
    key: crate::model::RuleKey,
    rule: &crate::model::Rule,
    dialect: crate::pf::Dialect,
) -> String {
    if dialect.routes_only_through_states() {
        let alt = if rule.route.is_some() {
            "; or put `reply-to` on the inbound rule for the server's requests, with floating \
             states"
        } else {
            ""
        };
        return format!(
            "let rule {key} match every packet of the connection: `{}`{alt}",
            flags_any_text(&rule.text)
        );
    }
    format!(
        "add `no state` to rule {key} (a rule without state matches every packet of the \
         connection: `{}`), or `flags any`: `{}`{}",
        stateless_text(&rule.text),
        flags_any_text(&rule.text),
        if rule.route.is_some() {
            "; or route the replies with `reply-to` on a stateful inbound rule"
        } else {
            ""
        }
    )
}

/// The usual fix: the rule should not keep state; if it must for other
/// hosts, a quick `no state` rule for the server goes before it.
/// A finding's `path`: which packets made the state, which it catches.
pub(crate) fn path_text(made: impl std::fmt::Display, catches: impl std::fmt::Display) -> String {
    format!("state made by {made} → catches {catches}")
}

pub(crate) fn no_state_fix(d: &Decider<'_>, made: &Hop) -> String {
    let Some(rule) = d.rule() else {
        return format!("pass these packets explicitly: `{}`", quick_rule_for(made));
    };
    let dialect = crate::pf::dialect::detect(None, std::slice::from_ref(rule), &[]).dialect;
    no_state_fix_in(d, rule, made, dialect)
}

fn no_state_fix_in_rs(d: &Decider<'_>, made: &Hop, dialect: crate::pf::Dialect) -> String {
    match d.rule() {
        Some(rule) => no_state_fix_in(d, rule, made, dialect),
        None => no_state_fix(d, made),
    }
}

/// FreeBSD family: the state comes from a translation of these packets
/// (`pf_test_rule` keeps state for `nr != NULL`), not from the filter rule:
/// exclude the server's packets from the translation before it.
fn translation_fix(t: crate::pf::evaluate::RuleRef<'_>, made: &Hop) -> String {
    let p = &made.packet;
    let (side, addr) = match made.leg {
        Leg::Request => ("to", p.dst),
        Leg::Reply => ("from", p.src),
    };
    let kind = t.rule.action.to_string();
    format!(
        "rule {} (`{}`) translates these packets, so pf keeps state for them even under `no \
         state`; exclude the server before it: `no {kind} on {} {side} {}` (then check with \
         `pfctl -s nat`)",
        t.key,
        t.rule.text,
        p.iface,
        addr.map_or_else(|| "any".to_string(), |a| a.to_string())
    )
}

/// [`no_state_fix`] for `dialect`: never `no state` on a routing rule of
/// OpenBSD 6.9+ (`rule_consistent`: route-to needs keep state).
pub(crate) fn no_state_fix_in(
    d: &Decider<'_>,
    rule: &crate::model::Rule,
    made: &Hop,
    dialect: crate::pf::Dialect,
) -> String {
    if rule.route.is_some() && dialect.routes_only_through_states() {
        return format!(
            "rule {} routes, and on {dialect} route-to/reply-to need keep state: keep it; \
             check that no earlier rule's state catches the packets it should route",
            d.key()
        );
    }
    format!(
        "add `no state` to rule {} (`{}`); if it must keep state for other hosts, put `{}` before it",
        d.key(),
        stateless_text(&rule.text),
        quick_rule_for(made)
    )
}

/// A rule's text with its state keywords replaced by `no state`, written
/// as pf.conf takes it (tables without the address count `pfctl -vv`
/// prints: `<www:2>` → `<www>`), so the admin can paste it.
pub fn stateless_text(text: &str) -> String {
    let words = crate::pf::matcher::words(text);
    let mut out: Vec<&str> = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        let next = words.get(i + 1).copied();
        if w == "flags" {
            i += 2;
            continue;
        }
        if matches!(w, "keep" | "modulate" | "synproxy") && next == Some("state") {
            i += 2;
            // State options `( … )` follow the keyword.
            if words.get(i).is_some_and(|t| t.starts_with('(')) {
                while i < words.len() && !words[i].ends_with(')') {
                    i += 1;
                }
                i += 1;
            }
            continue;
        }
        out.push(w);
        i += 1;
    }
    let mut s = out
        .iter()
        .map(|w| without_table_count(w))
        .collect::<Vec<_>>()
        .join(" ");
    s.push_str(" no state");
    s
}

/// A rule's text with `flags any` instead of its `flags` (or added before
/// its route option), as pf.conf takes it: a stateful rule then matches
/// every packet of the connection, replies included (`flags any` is in
/// both parse.y grammars).
pub(crate) fn flags_any_text(text: &str) -> String {
    let words = crate::pf::matcher::words(text);
    let mut out: Vec<String> = Vec::new();
    let mut i = 0;
    let mut done = false;
    while i < words.len() {
        let w = words[i];
        if w == "flags" {
            out.push("flags any".into());
            done = true;
            i += 2;
            continue;
        }
        if !done
            && matches!(
                w,
                "route-to" | "reply-to" | "dup-to" | "keep" | "modulate" | "synproxy"
            )
        {
            // OpenBSD prints route options after the addresses; FreeBSD
            // before the family, where `flags` may not stand.
            if w != "route-to" && w != "reply-to" && w != "dup-to"
                || out.iter().any(|o| o == "to" || o == "all")
            {
                out.push("flags any".into());
                done = true;
            }
        }
        out.push(without_table_count(w));
        i += 1;
    }
    if !done {
        out.push("flags any".into());
    }
    out.join(" ")
}

/// A rule's text with its states floating: `keep state (floating)` (or the
/// `if-bound` option replaced), as pf.conf takes it.
pub(crate) fn floating_text(text: &str, dialect: crate::pf::Dialect) -> String {
    let _ = dialect;
    let words = crate::pf::matcher::words(text);
    let mut out: Vec<String> = Vec::new();
    let mut has_state = false;
    for w in &words {
        let w2 = w.replace("if-bound", "floating");
        has_state |= *w == "state";
        out.push(without_table_count(&w2));
    }
    let mut s = out.join(" ");
    if !has_state {
        s.push_str(" keep state (floating)");
    } else if !s.contains("floating") {
        s = s.replacen("keep state", "keep state (floating)", 1);
    }
    s
}

/// `<www:2>` → `<www>`, `!<www:*>,` → `!<www>,`; other words unchanged.
fn without_table_count(word: &str) -> String {
    let Some(open) = word.find('<') else {
        return word.to_string();
    };
    let Some(close) = word[open..].find('>').map(|c| open + c) else {
        return word.to_string();
    };
    let inner = &word[open + 1..close];
    match inner.rsplit_once(':') {
        Some((name, count))
            if !name.is_empty()
                && (count == "*"
                    || (!count.is_empty() && count.bytes().all(|b| b.is_ascii_digit()))) =>
        {
            format!("{}<{name}>{}", &word[..open], &word[close + 1..])
        }
        _ => word.to_string(),
    }
}

/// `pass out quick on em1 inet6 proto tcp to 2001:db8::10 port 443 no state`.
pub(crate) fn quick_rule_for(hop: &Hop) -> String {
    let p = &hop.packet;
    let af = match p.family {
        Family::Inet => "inet",
        Family::Inet6 => "inet6",
    };
    let (side, addr, port) = match hop.leg {
        Leg::Request => ("to", p.dst, p.dst_port),
        Leg::Reply => ("from", p.src, p.src_port),
    };
    let mut s = format!(
        "pass {} quick on {} {af} proto {} {side} {}",
        p.direction,
        p.iface,
        p.proto,
        addr.map_or_else(|| "any".to_string(), |a| a.to_string())
    );
    if let Some(port) = port {
        s.push_str(&format!(" port {port}"));
    }
    s.push_str(" no state");
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stateless_text_drops_flags_and_state_options_and_table_counts() {
        assert_eq!(
            stateless_text(
                "pass out quick on em1 route-to (em1 192.0.2.1) to <www:2> port 443 flags S/SA keep state (max 10)"
            ),
            "pass out quick on em1 route-to (em1 192.0.2.1) to <www> port 443 no state"
        );
        assert_eq!(
            stateless_text("pass in proto tcp modulate state"),
            "pass in proto tcp no state"
        );
    }

    #[test]
    fn the_path_names_who_made_the_state_and_what_it_catches() {
        assert_eq!(
            path_text("requests in on em0", "replies"),
            "state made by requests in on em0 → catches replies"
        );
    }
}
