//! Verdicts on real server states: for each state, which packets it catches
//! (the connection's packets going the other way through the other
//! direction), which rule would have decided them, and whether that rule
//! routes. The state's own routing info confirms the verdict when printed
//! (OpenBSD `{addr}`, FreeBSD `route-to:` / `gateway:`).
//!
//! A poll can hold tens of thousands of server states, and `watch`
//! re-analyses every poll, so states are first grouped into *flows*: states
//! whose verdict cannot differ (same creating rule, direction, interface,
//! protocol, routing info, server endpoint, and a client that every rule
//! sees alike, see [`ClientClasses`]). Each flow is evaluated once, so the
//! cost follows the distinct flows, not the states.

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;
use std::sync::Arc;

use ipnet::IpNet;

use super::flow::{Hop, Leg, path_text, route_text, stateless_text, where_text};
use super::{Finding, FindingKind, FindingRule, FindingSeverity};
use crate::model::{
    AddrSpec, Direction, Family, HostAddr, PortSpec, RouteKind, Rule, RuleKey, State,
};
use crate::pf::evaluate::{Decider, Ruleset};
use crate::pf::matcher::{Packet, PortTest, TableEntry, tcp_flags};
use crate::pf::{Dialect, Servers, allow_text};

/// What a state's printed routing says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
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
fn caught_packet(s: &State, iface: &str) -> Option<Hop> {
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
    // They go back to whoever opened the connection (a client, or the
    // server itself): replies either way.
    let leg = Leg::Reply;
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

/// What one [`findings_with_stats`] run did: how many states went in,
/// how many distinct flows they formed, and how many packets were
/// evaluated against the ruleset (at most one per flow and interface).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct FindingsStats {
    pub states: usize,
    pub flows: usize,
    pub evaluations: usize,
}

/// Findings for real server states: which creating rules' states make
/// packets skip which `route-to` / `reply-to` rules.
///
/// `sample_rules` is the rules listing of the same poll; `server_states`
/// are the states of the server addresses (ports already filtered).
/// States whose creating rule never decides a routed packet give one
/// `server-states` warning per rule and way the states were made. Pure: no
/// pfctl, no clock.
pub fn findings(sample_rules: &[Rule], server_states: &[State], servers: &Servers) -> Vec<Finding> {
    findings_with_stats(sample_rules, server_states, servers).0
}

/// [`findings`], with counts of the work done (tests and benchmarks check
/// that evaluations follow the distinct flows, not the states).
pub fn findings_with_stats(
    sample_rules: &[Rule],
    server_states: &[State],
    servers: &Servers,
) -> (Vec<Finding>, FindingsStats) {
    let refs: Vec<&State> = server_states.iter().collect();
    findings_of(sample_rules, &refs, servers)
}

/// [`findings_with_stats`] over borrowed states, so that a caller holding
/// states elsewhere (the analysis) need not copy them.
pub fn findings_of(
    sample_rules: &[Rule],
    server_states: &[&State],
    servers: &Servers,
) -> (Vec<Finding>, FindingsStats) {
    let d = crate::pf::dialect::detect(None, sample_rules, &[]).dialect;
    findings_in(sample_rules, server_states, servers, d)
}

/// [`findings_of`] for the pf of `dialect` (which decides whether a
/// stateless rule can route, and which fixes pfctl accepts).
pub fn findings_in(
    sample_rules: &[Rule],
    server_states: &[&State],
    servers: &Servers,
    dialect: Dialect,
) -> (Vec<Finding>, FindingsStats) {
    let rs = Ruleset::new(sample_rules).with_dialect(dialect);
    let classes = ClientClasses::new(&rs);
    // One entry per flow, hashed per state: foldhash, not SipHash (the
    // keys come from the poll, and the cost follows the server states).
    let mut flows: HashMap<FlowKey, (usize, u64), foldhash::fast::RandomState> = HashMap::default();
    for (i, s) in server_states.iter().enumerate() {
        flows
            .entry(FlowKey::of(s, servers, &classes))
            .or_insert((i, 0))
            .1 += 1;
    }
    let mut stats = FindingsStats {
        states: server_states.len(),
        flows: flows.len(),
        evaluations: 0,
    };
    let ifaces = rs.interfaces();
    let mut groups: BTreeMap<GroupKey, Group> = BTreeMap::new();
    let mut fixes = Fixes::new();
    for (first, count) in flows.into_values() {
        let s = server_states[first];
        let verdict = flow_verdict(&rs, &ifaces, s, servers, &mut stats.evaluations, &mut fixes);
        add_verdict(&mut groups, verdict, count);
    }
    let mut out: Vec<Finding> = groups.into_values().map(Group::finish).collect();
    out.sort_by(|a, b| {
        b.severity
            .cmp(&a.severity)
            .then(b.states.cmp(&a.states))
            .then(a.stateful_rule.key().cmp(&b.stateful_rule.key()))
    });
    (out, stats)
}

/// Everything a state's verdict and message depend on. Two states with
/// equal keys give the same packets to the ruleset, up to the far end's
/// address and the opener's (ephemeral) port, which only matter through the
/// rules' address and port criteria (their class).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct FlowKey {
    rule: RuleKey,
    direction: Direction,
    iface: Arc<str>,
    proto: Arc<str>,
    routing: StateRouting,
    /// Is the state's destination a server (a client connected to it), or
    /// its source (the server opened the connection)?
    server_is_dst: bool,
    server: Option<IpAddr>,
    /// The port connected to (the service).
    service_port: Option<u16>,
    /// The class of the other end's address and of the opener's port.
    others: Bits,
}

impl FlowKey {
    fn of(s: &State, servers: &Servers, classes: &ClientClasses) -> FlowKey {
        let server_is_dst = in_servers(s.dst.addr.ip(), servers);
        let (server, other) = if server_is_dst {
            (s.dst.addr.ip(), s.src.addr.ip())
        } else {
            (s.src.addr.ip(), s.dst.addr.ip())
        };
        FlowKey {
            rule: s.rule_key(),
            direction: s.direction,
            iface: s.iface.clone(),
            proto: s.proto.clone(),
            routing: state_routing(s),
            server_is_dst,
            server,
            service_port: port_num(&s.dst),
            others: classes.class(other, port_num(&s.src)),
        }
    }
}

/// The address and port criteria of a ruleset, so that a client address
/// and port can be reduced to what the rules can tell about them: which
/// prefixes, ranges and known tables hold the address, which port criteria
/// hold for the port. Two clients of the same class match every rule alike
/// (criteria whose answer is unknown — unknown tables, interface addresses
/// — are unknown for every client, and only their reason text differs).
#[derive(Debug, Default)]
struct ClientClasses<'a> {
    nets: Vec<IpNet>,
    /// `nets`, compiled: each state's address is tested against them all.
    net_tests: Vec<NetTest>,
    ranges: Vec<(IpAddr, IpAddr)>,
    tables: Vec<&'a [TableEntry]>,
    ports: Vec<&'a PortSpec>,
    /// `ports`, compiled: each state's port is tested against them all.
    port_tests: Vec<PortTest>,
}

impl<'a> ClientClasses<'a> {
    fn new(rs: &Ruleset<'a>) -> Self {
        let mut c = ClientClasses::default();
        for rule in rs.rules() {
            for side in [&rule.from, &rule.to] {
                for addr in &side.addrs {
                    c.add_addr(rs, rule, addr);
                }
                for port in &side.ports {
                    if !c.ports.contains(&port) {
                        c.ports.push(port);
                    }
                }
            }
        }
        c.port_tests = c.ports.iter().map(|p| PortTest::of(p)).collect();
        c.net_tests = c.nets.iter().map(NetTest::of).collect();
        c
    }

    fn add_addr(&mut self, rs: &Ruleset<'a>, rule: &'a Rule, addr: &'a AddrSpec) {
        match addr {
            AddrSpec::Net { net, .. } => {
                if !self.nets.contains(net) {
                    self.nets.push(*net);
                }
            }
            AddrSpec::Range { from, to, .. } => {
                if !self.ranges.contains(&(*from, *to)) {
                    self.ranges.push((*from, *to));
                }
            }
            AddrSpec::Table { name, .. } => {
                if let Some(entries) = rs.tables().and_then(|t| t.get(&rule.anchor_path, name))
                    && !self.tables.iter().any(|e| std::ptr::eq(*e, entries))
                {
                    self.tables.push(entries);
                }
            }
            // Unknown for every address: no class needed.
            AddrSpec::Any | AddrSpec::Dynamic { .. } | AddrSpec::Other { .. } => {}
        }
    }

    /// The class of a client: one bit per criterion (address known, IPv4,
    /// port known, then each prefix, range, table and port criterion).
    fn class(&self, addr: Option<IpAddr>, port: Option<u16>) -> Bits {
        let mut bits = Bits::default();
        bits.push(addr.is_some());
        bits.push(addr.is_some_and(|a| a.is_ipv4()));
        bits.push(port.is_some());
        if let Some(a) = addr {
            for n in &self.net_tests {
                bits.push(n.holds(a));
            }
            for (from, to) in &self.ranges {
                bits.push(from.is_ipv4() == a.is_ipv4() && *from <= a && a <= *to);
            }
            for t in &self.tables {
                bits.push(crate::pf::matcher::Tables::contains(t, a));
            }
        }
        if let Some(port) = port {
            for t in &self.port_tests {
                bits.push(t.holds(port));
            }
        }
        bits
    }
}

/// A prefix compiled to a mask: `holds(a)` is `net.contains(&a)` (an
/// address of the other family is never inside), without working out the
/// network and broadcast addresses on every call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NetTest {
    v6: bool,
    /// The network address, masked, and the mask (IPv4 in the low bits).
    net: u128,
    mask: u128,
}

impl NetTest {
    fn of(net: &IpNet) -> NetTest {
        match net {
            IpNet::V4(n) => NetTest {
                v6: false,
                net: u128::from(u32::from(n.network())),
                mask: u128::from(u32::from(n.netmask())),
            },
            IpNet::V6(n) => NetTest {
                v6: true,
                net: u128::from(n.network()),
                mask: u128::from(n.netmask()),
            },
        }
    }

    fn holds(self, a: IpAddr) -> bool {
        match a {
            IpAddr::V4(a) => !self.v6 && u128::from(u32::from(a)) & self.mask == self.net,
            IpAddr::V6(a) => self.v6 && u128::from(a) & self.mask == self.net,
        }
    }
}

/// A client's class, one bit per criterion: the first 64 in a word of
/// their own, so the usual class (a ruleset with fewer criteria) needs no
/// allocation per state.
#[derive(Debug, Default, Clone, PartialEq, Eq, Hash)]
struct Bits {
    first: u64,
    rest: Vec<u64>,
    len: usize,
}

impl Bits {
    fn push(&mut self, bit: bool) {
        let at = self.len % 64;
        if self.len >= 64 && at == 0 {
            self.rest.push(0);
        }
        if bit {
            match self.rest.last_mut() {
                Some(w) => *w |= 1 << at,
                None => self.first |= 1 << at,
            }
        }
        self.len += 1;
    }
}

/// What one flow's states do.
struct Verdict {
    key: RuleKey,
    creator: FindingRule,
    /// `tcp to 2001:db8::10 port 443 out on em1`: how the states were made.
    made: String,
    fix: String,
    routing: StateRouting,
    outcome: Outcome,
}

enum Outcome {
    /// The states catch packets that these routing rules would decide.
    Bypasses(Vec<Bypass>),
    /// Stateful, but no routing rule would decide what the states catch.
    ServerStates,
    /// The states route themselves (or were made by a routing rule).
    Routed,
}

struct Bypass {
    /// `replies in on em1`.
    caught: String,
    rule: FindingRule,
    /// `route-to`, `reply-to`.
    route: String,
}

/// The fix a verdict proposes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum FixKind {
    /// An if-bound reply-to rule whose states must float.
    Floating,
    /// A stateful rule whose states bypass routing.
    Bypass,
    /// States that bypass nothing.
    Warning,
}

/// Fix texts already written, by rule and kind.
type Fixes = HashMap<(RuleKey, FixKind), String>;

/// Evaluates the packets one state (standing for its flow) catches.
fn flow_verdict(
    rs: &Ruleset<'_>,
    ifaces: &[String],
    s: &State,
    servers: &Servers,
    evaluations: &mut usize,
    fixes: &mut Fixes,
) -> Verdict {
    let key = s.rule_key();
    let creator_rule = rs.find(key).map(|c| c.rule);
    let routing = state_routing(s);
    let made = made_packet(s, creator_rule, servers);
    let made_text = match made.leg {
        Leg::Request => made.flow_text(),
        Leg::Reply => opened_by_server_text(&made.packet),
    };
    let mut bypasses = Vec::new();
    if routing != StateRouting::Routed {
        // Floating states catch packets on every interface; if-bound ones
        // only on their own.
        let own = [s.iface.to_string()];
        let candidates = if &*s.iface == "all" { ifaces } else { &own[..] };
        for iface in candidates {
            let Some(hop) = caught_packet(s, iface) else {
                continue;
            };
            *evaluations += 1;
            let d = rs.evaluate(&hop.packet);
            if let (Some(route), Decider::Rule(r)) = (d.route(), d.decider) {
                bypasses.push(Bypass {
                    caught: hop.label(),
                    rule: FindingRule {
                        anchor: r.key.anchor,
                        number: r.key.number,
                        anchor_path: String::new(),
                        text: r.rule.text.clone(),
                    },
                    route: route_text(route)
                        .split(' ')
                        .next()
                        .unwrap_or("route-to")
                        .to_string(),
                });
            }
        }
    }
    // reply-to on an if-bound state: the reply leaves by the routing table
    // on another interface, where `pf_find_state` (kif compared) never finds
    // the state, so the reply-to never applies.
    // OpenBSD only: FreeBSD keeps the original interface of a routed state
    // (`orig_kif`, printed `origif:`) and finds it there too.
    let bound = &*s.iface != "all" && &*s.iface != "ALL" && rs.dialect().is_openbsd();
    if let Some(r) = creator_rule.filter(|r| {
        bound
            && r.route
                .as_ref()
                .is_some_and(|rt| rt.kind == RouteKind::ReplyTo)
    }) {
        bypasses.push(Bypass {
            caught: format!(
                "replies leaving by another interface (the state is bound to {})",
                s.iface
            ),
            rule: FindingRule::from_rule(key, Some(r)),
            route: "reply-to".into(),
        });
    }
    // States made by a routing rule (or carrying a route) are how stateful
    // routing is meant to work.
    let routed = routing == StateRouting::Routed || creator_rule.is_some_and(|r| r.route.is_some());
    let outcome = match (bypasses.is_empty(), routed) {
        (false, _) => Outcome::Bypasses(bypasses),
        (true, true) => Outcome::Routed,
        (true, false) => Outcome::ServerStates,
    };
    let kind = match &outcome {
        Outcome::Bypasses(b)
            if b.iter()
                .any(|b| b.route == "reply-to" && b.rule.key() == key) =>
        {
            FixKind::Floating
        }
        Outcome::Bypasses(_) => FixKind::Bypass,
        _ => FixKind::Warning,
    };
    // The text depends on the rule and the kind only: written once per
    // pair, not once per flow (thousands of flows at a million states).
    let fix = fixes
        .entry((key, kind))
        .or_insert_with(|| match kind {
            FixKind::Floating => floating_fix(key, creator_rule, rs.dialect()),
            FixKind::Bypass => bypass_fix(key, creator_rule, rs.dialect()),
            FixKind::Warning => warning_fix(key, creator_rule, rs.dialect()),
        })
        .clone();
    Verdict {
        key,
        creator: FindingRule::from_rule(key, creator_rule),
        made: made_text,
        fix,
        routing,
        outcome,
    }
}

/// `udp from 2001:db8::10 to port 53 out on em0`: a connection the server
/// opened, named by the port it connected to (its own port is ephemeral,
/// and differs from state to state).
fn opened_by_server_text(p: &Packet) -> String {
    let mut s = format!("{} from ", p.proto);
    match p.src {
        Some(a) => s.push_str(&a.to_string()),
        None => s.push_str("any"),
    }
    if let Some(port) = p.dst_port {
        s.push_str(&format!(" to port {port}"));
    }
    s.push(' ');
    s.push_str(&where_text(p));
    s
}

/// Findings are grouped by (creating rule, bypassed rule, caught hop, how
/// the states were made): every finding's message and path describe the
/// same states.
type GroupKey = (RuleKey, Option<RuleKey>, String, String);

/// A finding being counted; its message is written once, at the end.
struct Group {
    finding: Finding,
    made: String,
    caught: String,
    route: String,
}

fn add_verdict(groups: &mut BTreeMap<GroupKey, Group>, v: Verdict, count: u64) {
    let confirmed = v.routing == StateRouting::DefaultTable;
    let mut add = |bypass: Option<Bypass>| {
        let (bkey, caught, route) = match &bypass {
            Some(b) => (Some(b.rule.key()), b.caught.clone(), b.route.clone()),
            None => (None, String::new(), String::new()),
        };
        let g = groups
            .entry((v.key, bkey, caught.clone(), v.made.clone()))
            .or_insert_with(|| {
                let (severity, kind, path) = match &bypass {
                    Some(_) => (
                        FindingSeverity::Error,
                        FindingKind::Bypass,
                        path_text(&v.made, &caught),
                    ),
                    None => (
                        FindingSeverity::Warning,
                        FindingKind::ServerStates,
                        format!("state made by {}", v.made),
                    ),
                };
                Group {
                    finding: Finding {
                        severity,
                        kind,
                        stateful_rule: v.creator.clone(),
                        bypassed_rule: bypass.map(|b| b.rule),
                        path,
                        states: 0,
                        confirmed: false,
                        message: String::new(),
                        fix: v.fix.clone(),
                        condition: None,
                        check: None,
                    },
                    made: v.made.clone(),
                    caught,
                    route,
                }
            });
        g.finding.states += count;
        if g.finding.kind == FindingKind::Bypass {
            g.finding.confirmed |= confirmed;
        }
    };
    match v.outcome {
        Outcome::Bypasses(bs) => bs.into_iter().for_each(|b| add(Some(b))),
        Outcome::ServerStates => add(None),
        Outcome::Routed => {}
    }
}

impl Group {
    fn finish(mut self) -> Finding {
        let f = &mut self.finding;
        let key = f.stateful_rule.key();
        let n = f.states;
        let those = if n == 1 { "that state" } else { "those states" };
        f.message = match &f.bypassed_rule {
            Some(b) if b.key() == key && self.route == "reply-to" => format!(
                "{} for {} ({}) with reply-to, but {those} {} if-bound: the replies leave by \
                 the routing table on another interface, never match {those}, and the \
                 reply-to never applies",
                keeps_state(key),
                self.made,
                count_states(n),
                if n == 1 { "is" } else { "are" },
            ),
            Some(b) => format!(
                "{} for {} ({}); {} match {those} and skip {} rule {}{}",
                keeps_state(key),
                self.made,
                count_states(n),
                self.caught,
                self.route,
                b.key(),
                if f.confirmed {
                    " (confirmed: the states route by the default table)"
                } else {
                    ""
                }
            ),
            None => format!(
                "{} for {} ({}); no route-to/reply-to rule would decide the packets {those} \
                 catch{}, so no routing is skipped",
                keeps_state(key),
                self.made,
                count_states(n),
                if n == 1 { "es" } else { "" },
            ),
        };
        self.finding
    }
}

/// `1 state`, `4 states`.
pub(crate) fn count_states(n: u64) -> String {
    if n == 1 {
        "1 state".to_string()
    } else {
        format!("{n} states")
    }
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

/// What to change in the ruleset so the rule makes no such states. A rule
/// that routes keeps its state on OpenBSD 6.9+ (pfctl refuses route-to
/// without it, `rule_consistent`): say what to check instead. On the
/// FreeBSD family a `no state` rule whose states come from a translation
/// needs the translation excluded (`no nat` / `no rdr`).
fn change_text(key: RuleKey, rule: Option<&Rule>, dialect: Dialect) -> String {
    match rule {
        Some(r) if r.route.is_some() && dialect.routes_only_through_states() => format!(
            "rule {key} routes, and on {dialect} route-to/reply-to need keep state: keep it;              check that no earlier state catches the packets it should route"
        ),
        Some(r)
            if r.state == Some(crate::model::StatePolicy::No)
                && dialect.translation_keeps_state() =>
        {
            format!(
                "rule {key} is already `no state`: on {dialect} the states come from a nat/rdr              translation of these packets (or `scrub … reassemble tcp`); exclude the server's              traffic from it with a `no nat` / `no rdr` rule for the server before the              translation, and check which translation applies with `pfctl -s nat`"
            )
        }
        Some(r) => format!(
            "add `no state` to rule {key} (`{}`)",
            stateless_text(&r.text)
        ),
        None if key.number.is_none() => {
            "pass this traffic with an explicit `no state` rule".to_string()
        }
        None => format!("rule {key} is not in the current listing (ruleset changed?)"),
    }
}

/// The fix of a bypass: change the rule, then remove the states it made,
/// which go on catching the packets until they expire.
fn bypass_fix(key: RuleKey, rule: Option<&Rule>, dialect: Dialect) -> String {
    format!(
        "{}; then remove the existing states, which keep bypassing until they expire (pfblame report --kill --allow-kill)",
        change_text(key, rule, dialect)
    )
}

/// An if-bound reply-to rule: let its states float (`keep state
/// (floating)`, a state option of both parse.y grammars).
fn floating_fix(key: RuleKey, rule: Option<&Rule>, dialect: Dialect) -> String {
    match rule {
        Some(r) => format!(
            "make the states of rule {key} float: `{}`; then remove the existing states (pfblame report --kill --allow-kill)",
            super::flow::floating_text(&r.text, dialect)
        ),
        None => format!("rule {key} is not in the current listing"),
    }
}

/// The fix of states that skip no routing: nothing is broken, so either
/// accept them, or make the rule stateless if the server's packets must
/// always be decided by the ruleset (before adding route-to rules for it).
fn warning_fix(key: RuleKey, rule: Option<&Rule>, dialect: Dialect) -> String {
    let change = change_text(key, rule, dialect);
    if rule.is_none() && key.number.is_some() {
        // The rule is gone: nothing to change, the states expire.
        return format!("{change}; these states expire on their own");
    }
    format!(
        "nothing is bypassed now; if these states are expected, accept them with --allow {}; \
         if the server's packets must always be decided by the ruleset (e.g. by a route-to \
         rule added later), {change}",
        allow_text(key)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn net_tests_answer_as_ipnet() {
        let nets = [
            "0.0.0.0/0",
            "10.0.0.0/8",
            "192.0.2.128/25",
            "192.0.2.7/32",
            "::/0",
            "2001:db8::/32",
            "2001:db8::10/128",
            "2001:db8:0:1::/64",
            "::ffff:0:0/96",
        ];
        let addrs = [
            "0.0.0.0",
            "10.1.2.3",
            "11.0.0.0",
            "192.0.2.127",
            "192.0.2.128",
            "192.0.2.255",
            "192.0.2.7",
            "255.255.255.255",
            "::",
            "2001:db8::10",
            "2001:db8::11",
            "2001:db9::",
            "2001:db8:0:1::5",
            "::ffff:10.1.2.3",
            "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
        ];
        for n in nets {
            let net: IpNet = n.parse().expect("a prefix");
            let test = NetTest::of(&net);
            for a in addrs {
                let a: IpAddr = a.parse().expect("an address");
                assert_eq!(test.holds(a), net.contains(&a), "{net} {a}");
            }
        }
    }

    #[test]
    fn counts_and_rules_read_as_english() {
        assert_eq!(count_states(1), "1 state");
        assert_eq!(count_states(0), "0 states");
        assert_eq!(count_states(4), "4 states");
        let rule = RuleKey {
            anchor: None,
            number: Some(2),
        };
        assert_eq!(keeps_state(rule), "rule @2 keeps state");
        let default = RuleKey {
            anchor: None,
            number: None,
        };
        assert_eq!(keeps_state(default), "the default rule created states");
    }
}
