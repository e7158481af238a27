//! Where do the server's replies really go? One connection walked hop by
//! hop the way pf handles it: request in on the client side and out on the
//! server side, reply in on the server side, then out on whatever interface
//! the reply is routed to. At each hop a state is looked up first; only
//! when none matches does the ruleset decide, and that decision may create
//! a state for the later hops.
//!
//! The result, [`ReplyPath`], is public so that views can draw it: every
//! [`Hop`] says which state or rule decided it, what routing applied, and
//! whether the reply was taken off its intended routing there.
//!
//! pf facts used (each hop rule below names its function):
//! - key orientation: `pf_test` builds the lookup key from the packet with
//!   `sidx`/`didx` swapped by direction, so a state made by a packet going
//!   *in* matches the connection's packets going *out*, and vice versa
//!   (all dialects).
//! - floating vs if-bound: `pf_find_state` compares the state's kif with
//!   the packet's interface unless the state floats (`BOUND_IFACE`), all
//!   dialects.
//! - routing through a state: `pf_route` acts for route-to (and dup-to)
//!   on packets going the state's way and for reply-to on the others:
//!   `(rt == PF_REPLYTO) == (direction == pd->dir)` returns (OpenBSD,
//!   FreeBSD). On OpenBSD 6.9+ the routing comes only from the state
//!   (`st->rt`); elsewhere from the deciding rule when no state matched.

use std::net::IpAddr;

use serde::Serialize;

use super::evaluate::{Decider, Decision, EvalOptions, Ruleset};
use super::matcher::{Packet, is_group_name, tcp_flags};
use crate::model::{Direction, Family, RouteKind, RuleKey, RuleRoute};

/// Which way a packet goes in its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Leg {
    /// Client to server (the connection's first packet is a request).
    Request,
    /// Server to client.
    Reply,
}

/// The state-key orientation of a packet: two packets of one connection
/// find the same (floating) state exactly when these are equal, because
/// `pf_test` orders key addresses by direction (in: src,dst; out: dst,src).
pub(crate) fn key_side(direction: Direction, leg: Leg) -> bool {
    matches!(
        (direction, leg),
        (Direction::In, Leg::Request) | (Direction::Out, Leg::Reply)
    )
}

/// The connection walked: the server end, and the interfaces on the client
/// side (where requests arrive) and the server side (its LAN).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connection {
    pub proto: String,
    pub server: IpAddr,
    pub port: Option<u16>,
    pub client_if: String,
    pub server_if: String,
}

/// A state on the path: made by an earlier hop, or already in the table
/// (a real state, for the report).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathState {
    /// The rule that created it (as the state names it).
    pub creator: RuleKey,
    /// The hop that made it: its direction and leg fix the key orientation.
    pub direction: Direction,
    pub leg: Leg,
    /// `Some(iface)` when if-bound, `None` when it floats.
    pub bound_to: Option<String>,
    /// The routing the state carries (`st->rt`), if any.
    pub route: Option<RuleRoute>,
    /// True for a state that was in the table before the walk.
    pub existing: bool,
}

/// What decided one hop.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum DecidedBy {
    /// A state matched: the ruleset was not evaluated.
    State { creator: RuleKey, existing: bool },
    /// The ruleset: this rule (or the default rule, `number` null).
    Rule { rule: RuleKey, pass: bool },
}

/// One crossing of pf.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    pub leg: Leg,
    pub direction: Direction,
    /// The interface crossed; `None` for the reply's exit when the routing
    /// table decides it (pfblame does not see the routing table).
    pub interface: Option<String>,
    pub decided_by: DecidedBy,
    /// True when the ruleset's decision created a state here.
    pub created_state: bool,
    /// `route-to 2001:db8::1@gif0`, when routing applied to this packet.
    pub routing: Option<String>,
    /// True at the hop where the reply lost its intended routing (a state
    /// without routing matched, or no rule routed it).
    pub bypassed: bool,
}

/// The walk of one connection, and where the reply leaves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReplyPath {
    pub hops: Vec<Hop>,
    /// The interface the ruleset (or `--reply-via`) wants the replies out
    /// on; `None`: nothing asks, so no state can bypass.
    pub intended: Option<String>,
    /// The interface the replies really leave on; `None`: the routing table.
    pub egress: Option<String>,
    /// A hop blocked the connection.
    pub blocked: bool,
}

impl ReplyPath {
    /// The replies do not leave where they should.
    pub fn misrouted(&self) -> bool {
        !self.blocked && self.intended.is_some() && self.egress != self.intended
    }

    /// The states (by creator) that decided a reply hop.
    pub fn reply_states(&self) -> impl Iterator<Item = (RuleKey, bool)> + '_ {
        self.hops
            .iter()
            .filter(|h| h.leg == Leg::Reply)
            .filter_map(|h| match h.decided_by {
                DecidedBy::State { creator, existing } => Some((creator, existing)),
                DecidedBy::Rule { .. } => None,
            })
    }

    /// The reply hop where the intended routing was lost, if any.
    pub fn bypass_hop(&self) -> Option<&Hop> {
        self.hops.iter().find(|h| h.bypassed)
    }
}

/// The interface a route pool sends to (`gif0`, `(gif0 2001:db8::1)`,
/// `2001:db8::1@gif0`): the first one the parser read, else the first word
/// that is an interface name. `None` for an address-only pool (OpenBSD
/// 6.9+ `route-to 2001:db8::1`: the routing table picks the interface).
pub(crate) fn route_iface(rt: &RuleRoute) -> Option<String> {
    if let Some(i) = rt.ifaces.first() {
        return Some(i.to_string());
    }
    let word: String = rt
        .target
        .trim_start_matches(['(', '{', ' '])
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | ':' | '@'))
        .collect();
    let word = word.rsplit('@').next().unwrap_or(&word).to_string();
    (!word.is_empty() && word.parse::<IpAddr>().is_err() && !is_group_name(&word)).then_some(word)
}

/// `route-to (gif0 2001:db8::1)`.
pub fn route_text(r: &RuleRoute) -> String {
    format!("{} {}", r.kind, r.target)
}

/// Where the ruleset wants the server's replies to leave: the interface of
/// the route-to rule that would decide the reply in on the server side,
/// else of the reply-to rule that would decide the request in on the
/// client side, else `reply_via`. Flags are ignored: the question is what
/// the rules are written for, not whether `flags S/SA` lets them match.
pub(crate) fn intended_egress(
    rs: &Ruleset<'_>,
    conn: &Connection,
    reply_via: Option<&str>,
) -> Option<String> {
    let blind = EvalOptions {
        ignore_flags: true,
        ..EvalOptions::default()
    };
    let reply = packet(conn, Leg::Reply, Direction::In, &conn.server_if);
    let request = packet(conn, Leg::Request, Direction::In, &conn.client_if);
    let on_reply = rs.evaluate_with(&reply, blind);
    let on_request = rs.evaluate_with(&request, blind);
    let routed = |d: &Decision<'_>, kind: RouteKind| {
        d.decider
            .rule()
            .and_then(|r| r.route.as_ref())
            .filter(|rt| rt.kind == kind)
            .and_then(|rt| route_iface(rt).or_else(|| Some(rt.target.to_string())))
    };
    routed(&on_reply, RouteKind::RouteTo)
        .or_else(|| routed(&on_request, RouteKind::ReplyTo))
        .map(|to| gateway_side(conn, to))
        .or_else(|| reply_via.map(str::to_string))
}

fn family(ip: IpAddr) -> Family {
    if ip.is_ipv4() {
        Family::Inet
    } else {
        Family::Inet6
    }
}

/// The packet of a hop: a SYN for the request, SYN+ACK for the reply (the
/// packets that find no state yet); the client is not known.
fn packet(conn: &Connection, leg: Leg, direction: Direction, iface: &str) -> Packet {
    let tcp = conn.proto == "tcp";
    let (src, src_port, dst, dst_port, flags) = match leg {
        Leg::Request => (None, None, Some(conn.server), conn.port, tcp_flags::SYN),
        Leg::Reply => (
            Some(conn.server),
            conn.port,
            None,
            None,
            tcp_flags::SYN | tcp_flags::ACK,
        ),
    };
    Packet {
        family: family(conn.server),
        proto: conn.proto.clone(),
        src,
        src_port,
        dst,
        dst_port,
        iface: iface.to_string(),
        direction,
        tcp_flags: tcp.then_some(flags),
    }
}

/// Does a state route the packet going `direction`? Read in OpenBSD's
/// sys/net/pf.c 1.1218 (2025-07-07), `pf_route()` and `pf_route6()`: for
/// `st->rt == PF_DUPTO` they copy the packet (`m_dup_pkt`) with no direction
/// test, so dup-to duplicates both ways and the packet itself goes on as
/// routed; otherwise they return early when `(st->rt == PF_REPLYTO) ==
/// (st->direction == pd->dir)`, so route-to acts on the state's own
/// direction and reply-to on the other.
fn state_route_applies(st: &PathState, direction: Direction) -> Option<&RuleRoute> {
    let route = st.route.as_ref()?;
    let same_way = st.direction == direction;
    match route.kind {
        RouteKind::RouteTo => same_way.then_some(route),
        RouteKind::ReplyTo => (!same_way).then_some(route),
        RouteKind::DupTo | RouteKind::Gateway => None,
    }
}

/// The state a packet finds (`pf_find_state`): same key orientation, and
/// the same interface unless the state floats.
fn find_state<'s>(
    states: &'s [PathState],
    direction: Direction,
    leg: Leg,
    iface: Option<&str>,
) -> Option<&'s PathState> {
    states.iter().find(|s| {
        key_side(s.direction, s.leg) == key_side(direction, leg)
            && s.bound_to.as_deref().is_none_or(|b| Some(b) == iface)
    })
}

fn is_if_bound(d: &Decision<'_>) -> bool {
    d.decider
        .rule()
        .is_some_and(|r| r.state_opts.iter().any(|o| &**o == "if-bound"))
}

/// Walks `conn` through `rs` with `existing` states already in the table.
/// `reply_via` is the intended exit when the ruleset names none.
pub(crate) fn walk(
    rs: &Ruleset<'_>,
    conn: &Connection,
    existing: &[PathState],
    reply_via: Option<&str>,
) -> ReplyPath {
    let intended = intended_egress(rs, conn, reply_via);
    let mut states: Vec<PathState> = existing.to_vec();
    let mut hops = Vec::new();
    let mut egress: Option<String> = None;
    let plan = [
        (Leg::Request, Direction::In, Some(conn.client_if.clone())),
        (Leg::Request, Direction::Out, Some(conn.server_if.clone())),
        (Leg::Reply, Direction::In, Some(conn.server_if.clone())),
    ];
    for (leg, direction, iface) in plan {
        let hop = step(rs, conn, &mut states, leg, direction, iface);
        if leg == Leg::Reply {
            egress = routed_to_on(conn, &hop);
        }
        let blocked = matches!(hop.decided_by, DecidedBy::Rule { pass: false, .. });
        hops.push(hop);
        if blocked {
            return ReplyPath {
                hops,
                intended,
                egress: None,
                blocked: true,
            };
        }
    }
    // The reply's exit: where the routing took it, or the routing table.
    let mut last = step(
        rs,
        conn,
        &mut states,
        Leg::Reply,
        Direction::Out,
        egress.clone(),
    );
    if let Some(via) = routed_to_on(conn, &last) {
        // reply-to on a state made inbound: `pf_route` sends the reply
        // out on the reply-to interface instead.
        egress = Some(via);
    }
    let blocked = matches!(last.decided_by, DecidedBy::Rule { pass: false, .. });
    let mut path_hops = hops;
    if intended.is_some() && egress != intended && !blocked {
        // The routing was lost at the last reply hop decided without it.
        if let Some(h) = path_hops
            .iter_mut()
            .chain(std::iter::once(&mut last))
            .filter(|h| h.leg == Leg::Reply)
            .find(|h| matches!(h.decided_by, DecidedBy::State { .. }))
        {
            h.bypassed = true;
        } else if let Some(h) = path_hops.iter_mut().find(|h| h.leg == Leg::Reply) {
            h.bypassed = true;
        }
    }
    path_hops.push(last);
    ReplyPath {
        hops: path_hops,
        intended,
        egress,
        blocked,
    }
}

/// An address-only pool (OpenBSD 6.9+ `route-to 2001:db8::1`) leaves the
/// interface to the routing table: pfblame takes the gateway to be on the
/// path's client side (the tunnel peer), which it cannot check.
fn gateway_side(conn: &Connection, to: String) -> String {
    if to.parse::<IpAddr>().is_ok() {
        conn.client_if.clone()
    } else {
        to
    }
}

/// The interface a hop's routing sends the packet to.
fn routed_to_on(conn: &Connection, hop: &Hop) -> Option<String> {
    routed_to(hop).map(|to| gateway_side(conn, to))
}

fn routed_to(hop: &Hop) -> Option<String> {
    hop.routing.as_ref().and_then(|r| {
        let target = r.split_once(' ').map_or("", |(_, t)| t);
        let rt = RuleRoute {
            kind: RouteKind::RouteTo,
            target: target.into(),
            pool: Default::default(),
            ifaces: Vec::new(),
            addrs: Vec::new(),
        };
        route_iface(&rt).or_else(|| Some(target.to_string()))
    })
}

/// One hop: a state if one matches, else the ruleset.
fn step(
    rs: &Ruleset<'_>,
    conn: &Connection,
    states: &mut Vec<PathState>,
    leg: Leg,
    direction: Direction,
    iface: Option<String>,
) -> Hop {
    if let Some(st) = find_state(states, direction, leg, iface.as_deref()) {
        return Hop {
            leg,
            direction,
            interface: iface,
            decided_by: DecidedBy::State {
                creator: st.creator,
                existing: st.existing,
            },
            created_state: false,
            routing: state_route_applies(st, direction).map(route_text),
            bypassed: false,
        };
    }
    // The exit chosen by the routing table is not known: evaluate on it
    // as on "some interface" (rules naming one answer no).
    let pkt_if = iface.clone().unwrap_or_else(|| "(routing table)".into());
    let d = rs.evaluate(&packet(conn, leg, direction, &pkt_if));
    let pass = d.passes();
    let route = d.route();
    let created = d.keeps_state();
    if created {
        states.push(PathState {
            creator: d.decider.key(),
            direction,
            leg,
            // FreeBSD keeps a routed state's original interface (`orig_kif`,
            // printed `origif:`) and `pf_find_state` accepts it: treated as
            // floating there. OpenBSD compares the kif only.
            bound_to: (is_if_bound(&d) && (route.is_none() || rs.dialect().is_openbsd()))
                .then(|| pkt_if.clone()),
            route: route.cloned(),
            existing: false,
        });
    }
    // The deciding rule's direction is the packet's, so its route-to acts
    // on it and its reply-to waits for the other way (`pf_route`).
    let routing = route
        .filter(|r| r.kind == RouteKind::RouteTo)
        .map(route_text);
    Hop {
        leg,
        direction,
        interface: iface,
        decided_by: DecidedBy::Rule {
            rule: match d.decider {
                Decider::Rule(r) => r.key,
                Decider::Default => RuleKey {
                    anchor: None,
                    number: None,
                },
            },
            pass,
        },
        created_state: created,
        routing,
        bypassed: false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::rules::parse_rules;
    use crate::pf::Dialect;

    fn conn() -> Connection {
        Connection {
            proto: "tcp".into(),
            server: "2001:db8::10".parse().expect("address"),
            port: Some(443),
            client_if: "gif0".into(),
            server_if: "em1".into(),
        }
    }

    fn walk_rules(text: &str, dialect: Dialect) -> ReplyPath {
        let (rules, diags) = parse_rules(text);
        assert!(diags.is_empty(), "{diags:?}");
        let rs = Ruleset::new(&rules).with_dialect(dialect);
        walk(&rs, &conn(), &[], None)
    }

    const SEED: &str = "\
@0 pass in quick on gif0 inet6 proto tcp from any to 2001:db8::10 port = 443 no state
@1 pass out quick on em1 inet6 proto tcp from any to 2001:db8::10 port = 443 no state
@2 pass in quick on em1 inet6 proto tcp from 2001:db8::10 port = 443 to any no state route-to 2001:db8:ffff::1@gif0
@3 pass out quick on gif0 inet6 proto tcp from 2001:db8::10 port = 443 to any no state
";

    /// FreeBSD / OpenBSD ≤ 6.8: the deciding `no state` rule routes.
    #[test]
    fn stateless_route_to_routes_on_freebsd_and_old_openbsd() {
        for d in [Dialect::FreeBsd, Dialect::OpenBsd68] {
            let p = walk_rules(SEED, d);
            assert_eq!(p.intended.as_deref(), Some("gif0"));
            assert_eq!(p.egress.as_deref(), Some("gif0"), "{d}: {p:?}");
            assert!(!p.misrouted());
        }
    }

    /// OpenBSD 6.9+ routes only through states: the same rules route nothing.
    #[test]
    fn stateless_route_to_routes_nothing_on_openbsd_6_9() {
        let p = walk_rules(SEED, Dialect::OpenBsd);
        assert!(p.misrouted(), "{p:?}");
    }

    /// A stray state made out on the LAN catches the reply in on the LAN
    /// (key orientation), before the route-to rule.
    #[test]
    fn a_state_made_out_on_the_lan_catches_the_reply_in_on_the_lan() {
        let stray = SEED.replace(
            "@1 pass out quick on em1 inet6 proto tcp from any to 2001:db8::10 port = 443 no state",
            "@1 pass out quick on em1 inet6 proto tcp from any to 2001:db8::10 port = 443 flags S/SA keep state",
        );
        let p = walk_rules(&stray, Dialect::FreeBsd);
        assert!(p.misrouted(), "{p:?}");
        let by = &p.bypass_hop().expect("bypass hop").decided_by;
        assert!(matches!(by, DecidedBy::State { creator, .. } if creator.number == Some(1)));
    }

    /// A state made in on the tunnel catches only the reply out on the
    /// tunnel, after routing: harmless.
    #[test]
    fn a_state_made_in_on_the_tunnel_is_harmless() {
        let stray = SEED.replace(
            "port = 443 no state\n@1",
            "port = 443 flags S/SA keep state\n@1",
        );
        let p = walk_rules(&stray, Dialect::FreeBsd);
        assert!(!p.misrouted(), "{p:?}");
        assert!(matches!(
            p.hops[3].decided_by,
            DecidedBy::State { creator, .. } if creator.number == Some(0)
        ));
    }

    /// OpenBSD 7.x: the reply-leg route-to rule keeps state with `flags any`.
    #[test]
    fn stateful_route_to_with_flags_any_routes_on_openbsd() {
        let rules = "\
@0 pass in quick on gif0 inet6 proto tcp from any to 2001:db8::10 port = 443 no state
@1 pass out quick on em1 inet6 proto tcp from any to 2001:db8::10 port = 443 no state
@2 pass in quick on em1 inet6 proto tcp from 2001:db8::10 port = 443 to any flags any route-to 2001:db8:ffff::1@gif0
@3 pass out quick on gif0 inet6 proto tcp from 2001:db8::10 port = 443 to any no state
";
        let p = walk_rules(rules, Dialect::OpenBsd);
        assert!(!p.misrouted(), "{p:?}");
        assert!(p.hops[2].created_state);
    }

    /// reply-to on the inbound tunnel rule: the floating state made in on
    /// the tunnel sends the reply back out of it, wherever the routing
    /// table took it. If-bound, the state never matches the reply.
    #[test]
    fn reply_to_works_floating_and_fails_if_bound() {
        let floating = "\
@0 pass in quick on gif0 inet6 proto tcp from any to 2001:db8::10 port = 443 flags S/SA reply-to 2001:db8:ffff::1@gif0
@1 pass out quick on em1 inet6 proto tcp from any to 2001:db8::10 port = 443 flags S/SA
@2 pass in quick on em1 inet6 proto tcp from 2001:db8::10 port = 443 to any flags S/SA
";
        let p = walk_rules(floating, Dialect::OpenBsd);
        assert_eq!(p.egress.as_deref(), Some("gif0"), "{p:?}");
        assert!(!p.misrouted());
        let bound = floating.replace(
            "flags S/SA reply-to",
            "flags S/SA keep state (if-bound) reply-to",
        );
        let p = walk_rules(&bound, Dialect::OpenBsd);
        assert!(p.misrouted(), "{p:?}");
    }

    /// FreeBSD: a nat rule on the LAN side keeps state for the request out
    /// on the LAN even under `no state`; that state catches the reply.
    #[test]
    fn freebsd_nat_on_the_path_keeps_state_and_bypasses() {
        let rules = format!("nat on em1 inet6 from any to 2001:db8::10 -> (em1)\n{SEED}");
        let (parsed, _) = parse_rules(&rules);
        let rs = Ruleset::new(&parsed).with_dialect(Dialect::FreeBsd);
        let p = walk(&rs, &conn(), &[], None);
        assert!(p.misrouted(), "{p:?}");
        // OpenBSD has no such rule form: the same text changes nothing there.
        let rs = Ruleset::new(&parsed).with_dialect(Dialect::OpenBsd68);
        assert!(!walk(&rs, &conn(), &[], None).misrouted());
    }

    #[test]
    fn no_intended_routing_means_no_bypass() {
        let rules = "@0 pass all flags S/SA\n";
        let p = walk_rules(rules, Dialect::OpenBsd);
        assert_eq!(p.intended, None);
        assert!(!p.misrouted());
        let (parsed, _) = parse_rules(rules);
        let rs = Ruleset::new(&parsed).with_dialect(Dialect::OpenBsd);
        let p = walk(&rs, &conn(), &[], Some("gif0"));
        assert!(p.misrouted(), "--reply-via names the intended exit: {p:?}");
    }
}
