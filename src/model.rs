//! Owned, typed values produced by the parsers and read by everything else.
//!
//! No nom types and no borrowed input live here: values cross threads (the
//! collector sends them to the UI) and outlive the text they came from.
//! Field names follow the JSON contract in `shared/design.md`; the JSON view
//! is produced by `serde` directly from these types, so renaming a field is a
//! contract change.

use std::fmt;
use std::net::IpAddr;
use std::sync::Arc;

use serde::{Serialize, Serializer};

pub mod carp;
pub mod store;

/// Direction of a state or of a rule (`in` / `out`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    In,
    Out,
}

impl fmt::Display for Direction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Direction::In => "in",
            Direction::Out => "out",
        })
    }
}

/// An address as pfctl printed it. Almost always an IP address; with `-r`
/// pfctl prints host names, and `?` when it could not format one.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum HostAddr {
    Ip(IpAddr),
    /// A host name (`-r`) or `?`: kept as text, never matched as an address.
    Name(Box<str>),
}

impl HostAddr {
    pub fn ip(&self) -> Option<IpAddr> {
        match self {
            HostAddr::Ip(ip) => Some(*ip),
            HostAddr::Name(_) => None,
        }
    }
}

/// An address written the way pfctl writes it (the BSD `inet_ntop()`).
/// It differs from Rust's `Display` in one case: an IPv6 address whose
/// first 96 bits are zero and whose 7th group is not is written with a
/// dotted IPv4 tail (`::97.215.47.29`, `inet_ntop6()`: longest zero run at
/// the start, six groups long). `::ffff:a.b.c.d` is written alike by both.
#[derive(Debug, Clone, Copy)]
pub struct PfIp(pub IpAddr);

impl fmt::Display for PfIp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            IpAddr::V6(v6) => {
                let w = v6.segments();
                if w[..6] == [0; 6] && w[6] != 0 {
                    let [.., a, b, c, d] = v6.octets();
                    return write!(f, "::{a}.{b}.{c}.{d}");
                }
                write!(f, "{v6}")
            }
            ip => write!(f, "{ip}"),
        }
    }
}

impl fmt::Display for HostAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostAddr::Ip(ip) => write!(f, "{}", PfIp(*ip)),
            HostAddr::Name(n) => f.write_str(n),
        }
    }
}

impl Serialize for HostAddr {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// A port as printed: a number, or a service name (OpenBSD `-P`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(untagged)]
pub enum Port {
    Num(u16),
    Name(Box<str>),
}

impl Port {
    /// The port number; a service name is looked up in the one service
    /// table ([`crate::services`]).
    pub fn number(&self) -> Option<u16> {
        match self {
            Port::Num(n) => Some(*n),
            Port::Name(name) => crate::services::port_of(name),
        }
    }
}

impl fmt::Display for Port {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Port::Num(n) => write!(f, "{n}"),
            Port::Name(n) => f.write_str(n),
        }
    }
}

/// One end of a state key: `addr`, `addr:port` (IPv4) or `addr[port]` (IPv6),
/// optionally prefixed by an OpenBSD rdomain `(N) `.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Endpoint {
    pub addr: HostAddr,
    pub port: Option<Port>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdomain: Option<u32>,
}

impl Endpoint {
    pub fn new(addr: HostAddr, port: Option<Port>) -> Self {
        Endpoint {
            addr,
            port,
            rdomain: None,
        }
    }
}

impl fmt::Display for Endpoint {
    /// Formats the endpoint the way pfctl prints it (`a.b.c.d:p`, `v6[p]`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(rd) = self.rdomain {
            write!(f, "({rd}) ")?;
        }
        write!(f, "{}", self.addr)?;
        match (&self.port, &self.addr) {
            (None, _) => Ok(()),
            (Some(p), HostAddr::Ip(IpAddr::V6(_))) => write!(f, "[{p}]"),
            (Some(p), _) => write!(f, ":{p}"),
        }
    }
}

/// How a state routes its packets: OpenBSD's `{addr}` on the state line, or
/// FreeBSD's `route-to:` / `reply-to:` / `dup-to:` / `gateway:` on the id line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RouteKind {
    RouteTo,
    ReplyTo,
    DupTo,
    /// FreeBSD/pfSense `gateway:`; `0.0.0.0` / `::` means the routing table.
    Gateway,
}

impl fmt::Display for RouteKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RouteKind::RouteTo => "route-to",
            RouteKind::ReplyTo => "reply-to",
            RouteKind::DupTo => "dup-to",
            RouteKind::Gateway => "gateway",
        })
    }
}

/// Routing information printed for a state.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct StateRoute {
    pub kind: RouteKind,
    pub addr: Option<HostAddr>,
    pub iface: Option<Box<str>>,
}

/// One TCP peer's sequence window (`[seqlo + window](+diff) wscale N`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct SeqWindow {
    pub seqlo: u32,
    pub window: u32,
    pub seqdiff: Option<u32>,
    pub wscale: Option<u8>,
}

/// One pf state entry, from 1 to 5 lines of `pfctl -ss` / `-vss` / `-vvss`.
///
/// `src` and `dst` are "who opened the connection, and to whom", as the arrow
/// shows (for `a <- b`, `src` is `b`). `src_nat` / `dst_nat` are the
/// parenthesised other key of the same side, when it differs.
///
/// Text fields that repeat across millions of states (interface, protocol,
/// peer states) are `Arc<str>` so a parser can share one allocation. The
/// big optional fields are boxed: a million states are held in memory at
/// once (TUI `A`), and inline they made every `State` 616 bytes instead of
/// 400. Most states lack translations, gateway and route. `seq` is on every
/// TCP state of `-vvss` (boxed, it costs those an allocation) and saves 32
/// bytes on every other state. `serde` serialises a `Box` as its content,
/// so the JSON view is unchanged.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct State {
    /// 1-based line of the state's first (main) line.
    pub line: usize,
    pub iface: Arc<str>,
    /// Protocol name (`tcp`, `ipv6-icmp`) or decimal number text.
    pub proto: Arc<str>,
    pub direction: Direction,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub src_nat: Option<Box<Endpoint>>,
    pub dst_nat: Option<Box<Endpoint>>,
    /// Old (pre-2008) three-address states: the gateway address in the middle.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<Box<Endpoint>>,
    pub src_state: Arc<str>,
    pub dst_state: Arc<str>,
    /// Seconds since creation (`-v`).
    pub age: Option<u64>,
    /// Seconds until expiry (`-v`).
    pub expires: Option<u64>,
    /// Packets (src→dst, dst→src) (`-v`).
    pub packets: Option<(u64, u64)>,
    /// Bytes (src→dst, dst→src) (`-v`).
    pub bytes: Option<(u64, u64)>,
    pub anchor: Option<u32>,
    /// Number of the creating rule; `None` for the default rule (or without `-v`).
    pub rule: Option<u32>,
    /// Remaining age-line items (`sloppy`, `source-track`, `log (all)`, …), as printed;
    /// also [`ID_UNREADABLE`] from the parser.
    pub flags: Vec<Box<str>>,
    #[serde(serialize_with = "ser_hex16")]
    pub id: Option<u64>,
    #[serde(serialize_with = "ser_hex8")]
    pub creator_id: Option<u32>,
    pub route: Option<Box<StateRoute>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtable: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origif: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub seq: Option<Box<(SeqWindow, SeqWindow)>>,
    /// Which verbosity lines were present: lets consumers tell "no rule item"
    /// (default rule) from "no `-v` line at all".
    pub verbose: bool,
}

fn ser_hex16<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(&format_args!("{v:016x}")),
        None => s.serialize_none(),
    }
}

fn ser_hex8<S: Serializer>(v: &Option<u32>, s: S) -> Result<S::Ok, S::Error> {
    match v {
        Some(v) => s.collect_str(&format_args!("{v:08x}")),
        None => s.serialize_none(),
    }
}

impl State {
    /// Every address of the state: both ends and both translated ends.
    pub fn addrs(&self) -> impl Iterator<Item = &Endpoint> {
        [
            Some(&self.src),
            Some(&self.dst),
            self.src_nat.as_deref(),
            self.dst_nat.as_deref(),
            self.gateway.as_deref(),
        ]
        .into_iter()
        .flatten()
    }

    /// The `(anchor, rule)` pair that identifies the creating rule.
    pub fn rule_key(&self) -> RuleKey {
        RuleKey {
            anchor: self.anchor,
            number: self.rule,
        }
    }
}

/// Identifies a rule the way a state names it: `anchor M, rule N`.
/// `anchor` is `None` for the main ruleset, `number` is `None` for the default rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct RuleKey {
    pub anchor: Option<u32>,
    pub number: Option<u32>,
}

impl fmt::Display for RuleKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.anchor, self.number) {
            (_, None) => f.write_str("default"),
            (None, Some(n)) => write!(f, "@{n}"),
            (Some(a), Some(n)) => write!(f, "@{a}:{n}"),
        }
    }
}

/// What a rule does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Action {
    Pass,
    Block,
    Match,
    /// An anchor call (`anchor "name" …`, also `nat-anchor` and friends).
    Anchor,
    Scrub,
    /// Legacy / FreeBSD translation rules and their `no` forms, as printed
    /// (`nat`, `no rdr`, `binat`, …).
    #[serde(untagged)]
    Other(Box<str>),
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Action::Pass => "pass",
            Action::Block => "block",
            Action::Match => "match",
            Action::Anchor => "anchor",
            Action::Scrub => "scrub",
            Action::Other(s) => s,
        })
    }
}

/// The state keyword of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StatePolicy {
    /// `keep state`, printed or implied (OpenBSD omits it for pass rules).
    Keep,
    /// `no state`.
    No,
    Modulate,
    Synproxy,
}

/// Address family keyword of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Inet,
    Inet6,
}

/// One address element of a rule's `from`/`to` (or a list element).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum AddrSpec {
    Any,
    /// An address or prefix (`2001:db8::10`, `192.168.1.0/24`).
    Net {
        net: ipnet::IpNet,
        negated: bool,
    },
    /// `a - b`.
    Range {
        from: IpAddr,
        to: IpAddr,
        negated: bool,
    },
    /// `<name>` or `<name:N>` (`-vv`).
    Table {
        name: Box<str>,
        negated: bool,
    },
    /// `(em0)`, `(em0:network)`, `(em0:0)`, `(em0:network:1)`; optionally `/len`.
    Dynamic {
        iface: Box<str>,
        modifier: Option<Box<str>>,
        prefix: Option<u8>,
        negated: bool,
    },
    /// `self`, `no-route`, `urpf-failed`, `route "label"`, host names, `?`…
    Other {
        text: Box<str>,
        negated: bool,
    },
}

/// Port comparison operators of pf.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum PortOp {
    #[serde(rename = "=")]
    Eq,
    #[serde(rename = "!=")]
    Ne,
    #[serde(rename = "<")]
    Lt,
    #[serde(rename = "<=")]
    Le,
    #[serde(rename = ">")]
    Gt,
    #[serde(rename = ">=")]
    Ge,
    /// `a:b`, inclusive range.
    #[serde(rename = ":")]
    Range,
    /// `a >< b`, strictly between.
    #[serde(rename = "><")]
    Inside,
    /// `a <> b`, strictly outside.
    #[serde(rename = "<>")]
    Outside,
}

/// `port OP X` or `port X OP Y`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct PortSpec {
    pub op: PortOp,
    pub a: Port,
    pub b: Option<Port>,
}

/// One side of a rule: `from …` or `to …`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub struct HostSpec {
    /// Empty means `any` (also the case for `all`).
    pub addrs: Vec<AddrSpec>,
    /// Empty means any port. Several entries come from `port { a b }` lists.
    pub ports: Vec<PortSpec>,
    /// `os "…"` (source side only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub os: Option<Box<str>>,
}

/// `on em0` / `on ! em0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct IfaceSpec {
    pub name: Box<str>,
    pub negated: bool,
}

/// How a pool picks its address (pfctl `print_pool()`, `PF_POOL_TYPEMASK`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum PoolType {
    Bitmask,
    LeastStates,
    Random,
    SourceHash,
    RoundRobin,
}

impl fmt::Display for PoolType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PoolType::Bitmask => "bitmask",
            PoolType::LeastStates => "least-states",
            PoolType::Random => "random",
            PoolType::SourceHash => "source-hash",
            PoolType::RoundRobin => "round-robin",
        })
    }
}

/// The options printed after a pool (`route-to`, `nat-to`, `rdr-to`, `->`),
/// in the order pfctl's `print_pool()` prints them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub struct PoolOpts {
    /// `port 80`, `port 1024:65535` (translation pools), as printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<PoolType>,
    /// The `source-hash` key (`0x…`), when printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub key: Option<Box<str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub sticky_address: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub static_port: bool,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub endpoint_independent: bool,
    /// `map-e-portset a/b/c`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub map_e_portset: Option<Box<str>>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub prefer_ipv6_nexthop: bool,
}

impl PoolOpts {
    pub fn is_empty(&self) -> bool {
        *self == PoolOpts::default()
    }
}

/// A translation target: the pool as printed, and its options.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct Pool {
    pub target: Box<str>,
    #[serde(skip_serializing_if = "PoolOpts::is_empty")]
    pub opts: PoolOpts,
}

/// `route-to` / `reply-to` / `dup-to` of a rule.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct RuleRoute {
    pub kind: RouteKind,
    /// The pool as printed (`(gif0 2001:db8::1)`, `gif0`, `2001:db8::1@gif0`,
    /// `{ (em0 a), (em1 b) }`), without its options.
    pub target: Box<str>,
    /// Pool options (`round-robin`, `sticky-address`, …), never part of `target`.
    #[serde(skip_serializing_if = "PoolOpts::is_empty")]
    pub pool: PoolOpts,
    /// Interfaces named by the pool, when they could be read.
    pub ifaces: Vec<Box<str>>,
    /// Addresses named by the pool, when they could be read.
    pub addrs: Vec<IpAddr>,
}

/// Counter lines printed after a rule with `-v`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default, Serialize)]
pub struct Counters {
    pub evaluations: u64,
    pub packets: u64,
    pub bytes: u64,
    /// Current states.
    pub states: u64,
    /// States ever created (absent in old OpenBSD and macOS output).
    pub state_creations: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inserted_uid: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub inserted_pid: Option<u64>,
    /// FreeBSD `-vv` `Last Active Time` text (`N/A` or a ctime date).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_active: Option<Box<str>>,
    /// FreeBSD 15 `Source Nodes` line: (source nodes, limit, nat/rdr, route).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_nodes: Option<[u64; 4]>,
}

/// The kind of a `*-anchor` rule (its `action` is `anchor`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AnchorKind {
    NatAnchor,
    RdrAnchor,
    BinatAnchor,
    ScrubAnchor,
    DummynetAnchor,
}

impl fmt::Display for AnchorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            AnchorKind::NatAnchor => "nat-anchor",
            AnchorKind::RdrAnchor => "rdr-anchor",
            AnchorKind::BinatAnchor => "binat-anchor",
            AnchorKind::ScrubAnchor => "scrub-anchor",
            AnchorKind::DummynetAnchor => "dummynet-anchor",
        })
    }
}

/// `icmp-type X [code Y]` / `icmp6-type X [code Y]`, as printed (names or numbers).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct IcmpType {
    /// `icmp6-type` (else `icmp-type`).
    pub v6: bool,
    #[serde(rename = "type")]
    pub kind: Box<str>,
    pub code: Option<Box<str>>,
}

/// One part of a rule line, in the order it was printed: lets the printer
/// write a parsed rule back exactly as its pfctl printed it (the order
/// differs between OpenBSD, FreeBSD and the eras). `Verbatim` holds a
/// recognised option that is not modelled (`max-mss 1440`, `set ( prio 3 )`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Clause {
    Direction,
    Log,
    Quick,
    On,
    Route,
    Family,
    Proto,
    Hosts,
    Flags,
    IcmpType,
    State,
    Label(usize),
    Tag,
    Tagged,
    Rtable,
    Ridentifier,
    NatTo,
    RdrTo,
    AfTo,
    Expired,
    Verbatim(Box<str>),
}

/// The ruleset a rule is numbered in. OpenBSD has one per anchor (since
/// 4.6 scrub and translation are options of filter rules); FreeBSD and
/// macOS keep scrub, filter, nat, rdr and binat rules (macOS also
/// dummynet) in separate rulesets of each anchor, each numbered from 0
/// (`pf_get_ruleset_number()`, `PF_RULESET_*`), and a state's `rule N`
/// names a filter rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Ruleset {
    #[default]
    Filter,
    Scrub,
    Nat,
    Rdr,
    Binat,
    Dummynet,
}

impl Ruleset {
    pub(crate) fn is_filter(&self) -> bool {
        *self == Ruleset::Filter
    }
}

/// Where a rule stood in its listing, for printing the listing back:
/// its indentation (`-sr` indents nested rulesets), whether its line
/// opened an anchor block (` {`), whether pfSense printed `@N(id)`, and
/// the lines that came after it (and its counters) that are not rules:
/// `}` and the `anchor "child" all {` headers pfctl prints for the
/// children of a wildcard anchor, each with its indentation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Listing {
    pub indent: usize,
    pub opens: bool,
    pub numbered_id: bool,
    pub after: Vec<(usize, Box<str>)>,
}

/// One rule of `pfctl -sr` / `-vsr` / `-vvsr`, with `-a '*'` recursion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rule {
    /// 1-based line of the rule line.
    pub line: usize,
    /// `@N`, when printed (`-vv`), else inferred from the rule's position
    /// (see `number_inferred`).
    pub number: Option<u32>,
    /// `number` was not printed: it is the rule's position in its ruleset
    /// (`pfctl -sr`, `-vsr`, `-nvf` listings).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub number_inferred: bool,
    /// pfSense's `@N(id)` ridentifier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ridentifier: Option<u64>,
    /// Path of the ruleset holding this rule: `""` for main, `relayd`, `foo/bar`.
    pub anchor_path: String,
    pub action: Action,
    /// `nat-anchor`, `rdr-anchor`, … (their `action` is `anchor`); `None` for `anchor`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor_kind: Option<AnchorKind>,
    /// `block drop`, `block return-icmp(…)`, …: the block policy as printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub block_policy: Option<Box<str>>,
    /// `nat pass`, `rdr pass`, `binat pass`: translated packets skip the filter rules.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub nat_pass: bool,
    /// For anchor calls: the anchor's name as printed (`relayd/*`), `None` for unnamed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub anchor_name: Option<Box<str>>,
    pub direction: Option<Direction>,
    pub log: bool,
    /// `log (all, to pflog1)`: the options inside the parentheses.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub log_opts: Option<Box<str>>,
    pub quick: bool,
    pub iface: Option<IfaceSpec>,
    pub family: Option<Family>,
    /// Protocols (`proto tcp`, `proto { tcp udp }`); empty means any.
    pub protos: Vec<Box<str>>,
    pub from: HostSpec,
    pub to: HostSpec,
    /// `flags S/SA`, `flags any`, as printed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flags: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub icmp_type: Option<IcmpType>,
    /// `None` for block, match, anchors and scrub: they create no state.
    pub state: Option<StatePolicy>,
    /// The state keyword was not printed: `state` is what that pfctl's
    /// default was (keep state since OpenBSD 4.1 / FreeBSD 7; stateless
    /// for the 2002–2004 printers, recognised by the blank they leave at
    /// the end of each rule line).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub state_implied: bool,
    /// State options inside `( … )` after the state keyword, as printed.
    pub state_opts: Vec<Box<str>>,
    pub route: Option<RuleRoute>,
    pub labels: Vec<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tag: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tagged: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rtable: Option<u32>,
    /// `nat-to`, `binat-to` or the `->` of `nat`/`binat`: the pool, without options.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_to: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rdr_to: Option<Box<str>>,
    /// `nat_to` came from `binat-to` (OpenBSD `pass … binat-to`).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub binat_to: bool,
    /// Options of the `nat_to` pool.
    #[serde(skip_serializing_if = "PoolOpts::is_empty")]
    pub nat_pool: PoolOpts,
    /// Options of the `rdr_to` pool.
    #[serde(skip_serializing_if = "PoolOpts::is_empty")]
    pub rdr_pool: PoolOpts,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub af_to: Option<Box<str>>,
    /// OpenBSD `# expired` once-rules.
    pub expired: bool,
    /// FreeBSD prints scrub rules first, numbered separately from filter rules.
    pub scrub: bool,
    /// The ruleset it is numbered in (`filter` is not printed in JSON).
    #[serde(skip_serializing_if = "Ruleset::is_filter")]
    pub ruleset: Ruleset,
    /// The rule as printed, without `@N` and without leading indentation.
    pub text: String,
    pub counters: Option<Counters>,
    /// Tokens of the rule text the parser did not recognise, in order.
    pub unknown: Vec<Box<str>>,
    /// The `-vv` address counts of tables and interfaces (`<t:3>`,
    /// `(em0:1)`), in the order they were printed.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub addr_counts: Vec<Box<str>>,
    /// A `port = N` was printed `port N` (old `rdr` destination ports).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub bare_ports: bool,
    /// The parts of the line in printed order (empty for rules built in code).
    #[serde(skip)]
    pub layout: Vec<Clause>,
    /// Its place in the listing (for printing the listing back).
    #[serde(skip)]
    pub listing: Listing,
}

impl Rule {
    /// A rule with `action` and nothing else set: where the rules parser
    /// starts, and the base of test values (`Rule { quick: true, ..Rule::new(a) }`).
    pub fn new(action: Action) -> Rule {
        Rule {
            line: 0,
            number: None,
            number_inferred: false,
            ridentifier: None,
            anchor_path: String::new(),
            action,
            anchor_kind: None,
            block_policy: None,
            nat_pass: false,
            anchor_name: None,
            direction: None,
            log: false,
            log_opts: None,
            quick: false,
            iface: None,
            family: None,
            protos: Vec::new(),
            from: HostSpec::default(),
            to: HostSpec::default(),
            flags: None,
            icmp_type: None,
            state: None,
            state_implied: false,
            state_opts: Vec::new(),
            route: None,
            labels: Vec::new(),
            tag: None,
            tagged: None,
            rtable: None,
            nat_to: None,
            rdr_to: None,
            binat_to: false,
            nat_pool: PoolOpts::default(),
            rdr_pool: PoolOpts::default(),
            af_to: None,
            expired: false,
            scrub: false,
            ruleset: Ruleset::Filter,
            text: String::new(),
            counters: None,
            unknown: Vec::new(),
            addr_counts: Vec::new(),
            bare_ports: false,
            layout: Vec::new(),
            listing: Listing::default(),
        }
    }

    /// True for rules of the filter ruleset: the ones a state's `rule N`
    /// can name (not scrub, translation or dummynet rules).
    pub fn in_filter_ruleset(&self) -> bool {
        self.ruleset.is_filter() && !self.scrub
    }

    /// True for rules that can create states (pass rules that keep state).
    pub fn keeps_state(&self) -> bool {
        matches!(
            self.state,
            Some(StatePolicy::Keep | StatePolicy::Modulate | StatePolicy::Synproxy)
        )
    }
}

/// Severity of a diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Error,
}

/// The flag a state gets when its `id:` line was present but its id could
/// not be read: such a state must not be removed by `-k key` (the 5-tuple,
/// which can also match a state of another rule), see `kill`.
pub(crate) const ID_UNREADABLE: &str = "id-unreadable";

/// A line the parser could not (fully) understand. Never dropped silently.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Diagnostic {
    /// 1-based line number.
    pub line: usize,
    /// 1-based column (in characters) where understanding stopped.
    pub column: usize,
    pub severity: Severity,
    /// What was expected, or what was skipped and why.
    pub message: String,
    /// The offending line (control characters are kept; renderers neutralise them).
    pub text: String,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = match self.severity {
            Severity::Warning => "warning",
            Severity::Error => "error",
        };
        write!(f, "{}:{}: {sev}: {}", self.line, self.column, self.message)
    }
}

/// Selected figures of `pfctl -si` / `-vsi`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Info {
    pub enabled: Option<bool>,
    pub current_states: Option<u64>,
    pub state_inserts: Option<u64>,
    pub state_removals: Option<u64>,
    pub state_searches: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostid: Option<Box<str>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub checksum: Option<Box<str>>,
}

/// A `table <name> …` definition (`pfctl -nv` prints them): its flags,
/// the addresses between `{ }` and the files it loads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableDef {
    pub line: usize,
    pub name: Box<str>,
    /// `persist`, `const`, `counters`.
    pub flags: Vec<Box<str>>,
    pub addrs: Vec<AddrSpec>,
    /// `file "…"` sources (their contents are not in the listing).
    pub files: Vec<Box<str>>,
}

/// One entry of a pf table: an address or prefix, possibly negated (`!`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableEntry {
    pub net: ipnet::IpNet,
    pub negated: bool,
}

/// A table a rule names: the ruleset the rule is in (`""` for the main
/// ruleset) and the table name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TableRef {
    pub anchor: String,
    pub name: String,
}

/// Everything one parse of pfctl output produced.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Parsed {
    pub states: Vec<State>,
    pub rules: Vec<Rule>,
    pub diagnostics: Vec<Diagnostic>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub info: Option<Info>,
    /// `table` definitions of a `pfctl -nv` listing.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tables: Vec<TableDef>,
}

impl Parsed {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// A million states are held at once (TUI `A`), so the size of `State`
    /// is a memory figure: it was 616 bytes before the rare fields were
    /// boxed, 400 after. The bound leaves room for two more words; anything
    /// bigger should be boxed too, or argued for here.
    #[test]
    fn addresses_print_like_inet_ntop() {
        let p = |s: &str| PfIp(s.parse().unwrap()).to_string();
        assert_eq!(p("::97.215.47.29"), "::97.215.47.29");
        assert_eq!(p("::ffff:10.0.0.1"), "::ffff:10.0.0.1");
        assert_eq!(p("::1"), "::1");
        assert_eq!(p("::"), "::");
        assert_eq!(p("::5"), "::5");
        assert_eq!(p("::1:0:0"), "::1:0:0");
        assert_eq!(p("2001:db8::1"), "2001:db8::1");
        assert_eq!(p("10.0.0.1"), "10.0.0.1");
    }

    #[test]
    fn state_stays_small() {
        let size = std::mem::size_of::<State>();
        assert!(size <= 416, "State is {size} bytes");
    }
}
