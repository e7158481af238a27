//! Does a parsed rule match a packet? Three answers: yes, no, or "cannot
//! tell from the listing" (tables, dynamic interface addresses, tags, user
//! ids, OS fingerprints, host names…), with the reason.
//!
//! The matcher follows pf's filter semantics: every criterion of the rule
//! must hold. It does not decide anything about state or routing: that is
//! [`crate::lint`]'s job, which walks a ruleset with this matcher.

use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;

use crate::model::{
    AddrSpec, Direction, Family, HostSpec, IfaceSpec, Port, PortOp, PortSpec, Rule,
};

/// The answer of a match.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Match {
    Yes,
    No,
    /// The listing does not say: the reason names what is unknown.
    Unknown(String),
}

impl Match {
    fn from_bool(b: bool) -> Match {
        if b { Match::Yes } else { Match::No }
    }

    /// Both must hold: `No` wins over `Unknown`, which wins over `Yes`.
    pub fn and(self, other: impl FnOnce() -> Match) -> Match {
        match self {
            Match::No => Match::No,
            Match::Yes => other(),
            Match::Unknown(r) => match other() {
                Match::No => Match::No,
                _ => Match::Unknown(r),
            },
        }
    }

    /// Either may hold: `Yes` wins over `Unknown`, which wins over `No`.
    pub fn or(self, other: impl FnOnce() -> Match) -> Match {
        match self {
            Match::Yes => Match::Yes,
            Match::No => other(),
            Match::Unknown(r) => match other() {
                Match::Yes => Match::Yes,
                _ => Match::Unknown(r),
            },
        }
    }

    pub(crate) fn is_yes(&self) -> bool {
        matches!(self, Match::Yes)
    }

    pub fn is_no(&self) -> bool {
        matches!(self, Match::No)
    }
}

impl fmt::Display for Match {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Match::Yes => f.write_str("yes"),
            Match::No => f.write_str("no"),
            Match::Unknown(r) => write!(f, "unknown ({r})"),
        }
    }
}

/// TCP flag bits, in pf's letter order `FSRPAUEW`.
pub mod tcp_flags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PUSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;
}

/// A packet as a rule sees it.
///
/// Addresses and ports are `Option`s because lint reasons about connections
/// whose far end is not known (`None` = "some client"): a rule that needs the
/// exact value then answers [`Match::Unknown`], never a guess.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Packet {
    pub family: Family,
    /// Protocol name as pfctl prints it (`tcp`, `udp`, `ipv6-icmp`) or a number.
    pub proto: String,
    pub src: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst: Option<IpAddr>,
    pub dst_port: Option<u16>,
    /// The interface the packet crosses (`em0`, `gif0`).
    pub iface: String,
    pub direction: Direction,
    /// TCP flags (see [`tcp_flags`]); `None` when unknown or not TCP.
    pub tcp_flags: Option<u8>,
}

impl fmt::Display for Packet {
    /// `tcp 2001:db8::10[443] -> * in on em1`, in pfctl's host notation.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} -> {} {} on {}",
            self.proto,
            HostDisplay(self.src, self.src_port),
            HostDisplay(self.dst, self.dst_port),
            self.direction,
            self.iface
        )?;
        if let Some(fl) = self.tcp_flags {
            write!(f, " flags {}", flags_text(fl))?;
        }
        Ok(())
    }
}

struct HostDisplay(Option<IpAddr>, Option<u16>);

impl fmt::Display for HostDisplay {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.0, self.1) {
            (None, None) => f.write_str("*"),
            (None, Some(p)) => write!(f, "*:{p}"),
            (Some(a), None) => write!(f, "{a}"),
            (Some(a @ IpAddr::V6(_)), Some(p)) => write!(f, "{a}[{p}]"),
            (Some(a), Some(p)) => write!(f, "{a}:{p}"),
        }
    }
}

/// Flag letters of `bits`, pf style (`S`, `SA`).
pub(crate) fn flags_text(bits: u8) -> String {
    const LETTERS: &[u8; 8] = b"FSRPAUEW";
    LETTERS
        .iter()
        .enumerate()
        .filter(|(i, _)| bits & (1 << i) != 0)
        .map(|(_, c)| char::from(*c))
        .collect()
}

/// Parses flag letters (`S`, `SA`, `FSRPAUEW`); `None` on any other letter.
pub(crate) fn parse_flag_letters(text: &str) -> Option<u8> {
    let mut bits = 0u8;
    for c in text.chars() {
        let i = "FSRPAUEW".find(c)?;
        bits |= 1 << i;
    }
    Some(bits)
}

/// The `flags` criterion of a rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FlagsSpec {
    /// No `flags` printed, or `flags any`.
    Any,
    /// `flags X/Y`: `(packet & Y) == X`.
    Mask { set: u8, mask: u8 },
}

impl FlagsSpec {
    pub fn matches(self, bits: u8) -> bool {
        match self {
            FlagsSpec::Any => true,
            FlagsSpec::Mask { set, mask } => bits & mask == set,
        }
    }
}

/// Splits rule text into words, keeping quoted strings (`label "a b"`) whole
/// so keywords inside labels are not mistaken for criteria.
pub fn words(text: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = None;
    let mut in_quote = false;
    for (i, c) in text.char_indices() {
        match c {
            '"' => {
                in_quote = !in_quote;
                start.get_or_insert(i);
            }
            c if c.is_whitespace() && !in_quote => {
                if let Some(s) = start.take() {
                    out.push(&text[s..i]);
                }
            }
            _ => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        out.push(&text[s..]);
    }
    out
}

/// The `flags` of a rule, read from its text (the model has no field for it).
/// `Err` carries the unreadable text.
pub fn rule_flags(rule: &Rule) -> Result<FlagsSpec, String> {
    flags_of(&words(&rule.text))
}

fn flags_of(w: &[&str]) -> Result<FlagsSpec, String> {
    let Some(pos) = w.iter().position(|t| *t == "flags") else {
        return Ok(FlagsSpec::Any);
    };
    let Some(arg) = w.get(pos + 1) else {
        return Err("flags".into());
    };
    if *arg == "any" {
        return Ok(FlagsSpec::Any);
    }
    let (set, mask) = arg.split_once('/').unwrap_or((arg, ""));
    // `flags S` alone means "S set, any others": mask = all bits.
    let mask = if mask.is_empty() { "FSRPAUEW" } else { mask };
    match (parse_flag_letters(set), parse_flag_letters(mask)) {
        (Some(set), Some(mask)) => Ok(FlagsSpec::Mask { set, mask }),
        _ => Err(format!("flags {arg}")),
    }
}

/// Rule criteria the listing cannot be checked against, with their names.
/// The model keeps them only in the text (or `unknown`), so they are read
/// from the words of the rule.
fn opaque_criteria(rule: &Rule, w: &[&str]) -> Option<String> {
    const OPAQUE: &[(&str, &str)] = &[
        ("received-on", "received-on interface"),
        ("!received-on", "received-on interface"),
        ("user", "socket user"),
        ("group", "socket group"),
        ("probability", "probability"),
        ("tos", "TOS field"),
        ("prio", "priority"),
        ("max-pkt-rate", "packet rate"),
        ("max-pkt-size", "packet size"),
        ("rdomain", "routing domain"),
        ("fragment", "fragments"),
    ];
    for (i, word) in w.iter().enumerate() {
        // `set ( prio 3 )` sets a priority, it does not match on one.
        let in_set = w[..i].iter().rev().take(6).any(|t| t.starts_with("set"));
        if let Some((_, what)) = OPAQUE.iter().find(|(k, _)| k == word)
            && !in_set
        {
            return Some(format!("{what} (`{word}`) is not known for a packet"));
        }
    }
    if rule.tagged.is_some() {
        return Some("`tagged` depends on earlier rules' tags".into());
    }
    if rule.from.os.is_some() {
        return Some("OS fingerprint (`os`) is not known for a packet".into());
    }
    None
}

/// Protocol numbers of the names pfctl prints (from /etc/protocols).
pub(crate) fn proto_number(name: &str) -> Option<u8> {
    if let Ok(n) = name.parse::<u8>() {
        return Some(n);
    }
    Some(match name {
        "icmp" => 1,
        "igmp" => 2,
        "ipencap" | "ipip" => 4,
        "tcp" => 6,
        "udp" => 17,
        "ipv6" => 41,
        "gre" => 47,
        "esp" => 50,
        "ah" => 51,
        "ipv6-icmp" | "icmp6" => 58,
        "ospf" => 89,
        "pim" => 103,
        "carp" | "vrrp" => 112,
        "sctp" => 132,
        "pfsync" => 240,
        _ => return None,
    })
}

/// The port number of a service name (or decimal text), from the one
/// service table ([`crate::services`]).
pub(crate) fn service_port(name: &str) -> Option<u16> {
    crate::services::port_of(name)
}

pub use crate::model::TableEntry;

/// Known contents of pf tables (from `pfctl -t NAME -T show` or a
/// recording's `tables/NAME.txt`), by ruleset (anchor path, `""` for the
/// main ruleset) and name. Tables not listed here stay unknown.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tables {
    known: BTreeMap<(String, String), Vec<TableEntry>>,
}

impl Tables {
    pub fn new() -> Self {
        Tables::default()
    }

    /// Records the contents of table `name` of the ruleset `anchor`.
    pub fn insert(&mut self, anchor: &str, name: &str, entries: Vec<TableEntry>) {
        self.known
            .insert((anchor.to_string(), name.to_string()), entries);
    }

    /// The contents a rule of ruleset `anchor` sees for `<name>`: the
    /// anchor's own table, else the main ruleset's (pf falls back to the
    /// root table when the anchor defines none).
    pub fn get(&self, anchor: &str, name: &str) -> Option<&[TableEntry]> {
        let key = |a: &str| (a.to_string(), name.to_string());
        self.known
            .get(&key(anchor))
            .or_else(|| self.known.get(&key("")))
            .map(Vec::as_slice)
    }

    pub fn is_empty(&self) -> bool {
        self.known.is_empty()
    }

    /// Is table `name` of exactly the ruleset `anchor` known (no fallback)?
    pub fn has(&self, anchor: &str, name: &str) -> bool {
        self.known
            .contains_key(&(anchor.to_string(), name.to_string()))
    }

    /// Is `addr` in the table? pf takes the longest matching prefix, and
    /// a negated entry (`!192.0.2.0/24`) means "not in the table".
    pub fn contains(entries: &[TableEntry], addr: IpAddr) -> bool {
        entries
            .iter()
            .filter(|e| e.net.contains(&addr))
            .max_by_key(|e| e.net.prefix_len())
            .is_some_and(|e| !e.negated)
    }
}

fn port_value(p: &Port) -> Result<u16, String> {
    match p {
        Port::Num(n) => Ok(*n),
        Port::Name(name) => {
            service_port(name).ok_or_else(|| format!("unknown service name `{name}`"))
        }
    }
}

/// Does one `port …` criterion hold for `port`?
pub(crate) fn match_port(spec: &PortSpec, port: Option<u16>) -> Match {
    let Some(p) = port else {
        return Match::Unknown("port not known".into());
    };
    let a = match port_value(&spec.a) {
        Ok(a) => a,
        Err(e) => return Match::Unknown(e),
    };
    let b = match spec.b.as_ref().map(port_value).transpose() {
        Ok(b) => b,
        Err(e) => return Match::Unknown(e),
    };
    let two = |f: fn(u16, u16, u16) -> bool| match b {
        Some(b) => Match::from_bool(f(p, a, b)),
        None => Match::Unknown("port range without an upper bound".into()),
    };
    match spec.op {
        PortOp::Eq => Match::from_bool(p == a),
        PortOp::Ne => Match::from_bool(p != a),
        PortOp::Lt => Match::from_bool(p < a),
        PortOp::Le => Match::from_bool(p <= a),
        PortOp::Gt => Match::from_bool(p > a),
        PortOp::Ge => Match::from_bool(p >= a),
        PortOp::Range => two(|p, a, b| a <= p && p <= b),
        PortOp::Inside => two(|p, a, b| a < p && p < b),
        PortOp::Outside => two(|p, a, b| p < a || p > b),
    }
}

/// One `port …` criterion compiled for many known ports: `holds(p)` is
/// `match_port(spec, Some(p)).is_yes()`, without the lookups and the
/// [`Match`] of each call (the states' flows test every criterion of the
/// ruleset against each state's port). An unknown answer holds for no port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct PortTest {
    lo: u16,
    hi: u16,
    /// True: holds inside `lo..=hi`; false: outside it.
    inside: bool,
}

impl PortTest {
    /// Holds for no port.
    const NEVER: PortTest = PortTest {
        lo: 1,
        hi: 0,
        inside: true,
    };

    pub(crate) fn of(spec: &PortSpec) -> PortTest {
        let Ok(a) = port_value(&spec.a) else {
            return Self::NEVER;
        };
        let b = match spec.b.as_ref().map(port_value).transpose() {
            Ok(b) => b,
            Err(_) => return Self::NEVER,
        };
        let within = |lo: u16, hi: u16| PortTest {
            lo,
            hi,
            inside: true,
        };
        let between = |f: fn(u16, u16) -> PortTest| b.map_or(Self::NEVER, |b| f(a, b));
        match spec.op {
            PortOp::Eq => within(a, a),
            PortOp::Ne => PortTest {
                inside: false,
                ..within(a, a)
            },
            PortOp::Lt => a.checked_sub(1).map_or(Self::NEVER, |hi| within(0, hi)),
            PortOp::Le => within(0, a),
            PortOp::Gt => a
                .checked_add(1)
                .map_or(Self::NEVER, |lo| within(lo, u16::MAX)),
            PortOp::Ge => within(a, u16::MAX),
            PortOp::Range => between(|a, b| PortTest {
                lo: a,
                hi: b,
                inside: true,
            }),
            // `a < p < b`: an empty range when nothing lies between.
            PortOp::Inside => between(|a, b| match (a.checked_add(1), b.checked_sub(1)) {
                (Some(lo), Some(hi)) => PortTest {
                    lo,
                    hi,
                    inside: true,
                },
                _ => Self::NEVER,
            }),
            // `p < a || p > b`: outside `a..=b` (every port when a > b).
            PortOp::Outside => between(|a, b| PortTest {
                lo: a,
                hi: b,
                inside: false,
            }),
        }
    }

    pub(crate) fn holds(self, p: u16) -> bool {
        (self.lo <= p && p <= self.hi) == self.inside
    }
}

/// Does one address element hold for `addr` (`None` = not known)?
pub fn match_addr(spec: &AddrSpec, addr: Option<IpAddr>) -> Match {
    match_addr_in(spec, addr, &Scope::default())
}

/// What a rule's addresses are checked against besides the packet: the
/// known table contents, and the ruleset (anchor path) the rule is in,
/// which picks the table.
#[derive(Debug, Clone, Copy, Default)]
pub struct Scope<'t> {
    pub tables: Option<&'t Tables>,
    pub anchor: &'t str,
}

/// [`match_addr`] with known table contents.
///
/// Reasons of [`Match::Unknown`] that name a checkable condition start
/// with `if ` (`if table <www> contains 2001:db8::10`), so callers can
/// say "rule @14 may match if …".
pub(crate) fn match_addr_in(spec: &AddrSpec, addr: Option<IpAddr>, scope: &Scope<'_>) -> Match {
    let negate = |m: Match, negated: bool| match (m, negated) {
        (Match::Yes, true) => Match::No,
        (Match::No, true) => Match::Yes,
        (m, _) => m,
    };
    let known = |f: &dyn Fn(IpAddr) -> bool| match addr {
        Some(a) => Match::from_bool(f(a)),
        None => Match::Unknown("address not known".into()),
    };
    match spec {
        AddrSpec::Any => Match::Yes,
        AddrSpec::Net { net, negated } => negate(known(&|a| net.contains(&a)), *negated),
        AddrSpec::Range { from, to, negated } => negate(
            known(&|a| same_family(a, *from) && *from <= a && a <= *to),
            *negated,
        ),
        AddrSpec::Table { name, negated } => {
            match (scope.tables.and_then(|t| t.get(scope.anchor, name)), addr) {
                (Some(entries), Some(a)) => {
                    negate(Match::from_bool(Tables::contains(entries, a)), *negated)
                }
                (_, Some(a)) => Match::Unknown(format!(
                    "if table <{name}> {} {a}",
                    if *negated {
                        "does not contain"
                    } else {
                        "contains"
                    }
                )),
                (_, None) => Match::Unknown(format!("table <{name}>")),
            }
        }
        AddrSpec::Dynamic { iface, negated, .. } => match addr {
            Some(a) => Match::Unknown(format!(
                "if {a} {} an address of interface ({iface})",
                if *negated { "is not" } else { "is" }
            )),
            None => Match::Unknown(format!("address of interface ({iface})")),
        },
        AddrSpec::Other { text, .. } => Match::Unknown(format!("address `{text}`")),
    }
}

fn same_family(a: IpAddr, b: IpAddr) -> bool {
    a.is_ipv4() == b.is_ipv4()
}

/// Does a `from`/`to` side hold? Address and port lists follow pf: pfctl
/// expands `{ a, !b }` into one rule per element, so the side holds when any
/// element holds (which is why `{ a, !b }` matches nearly everything).
pub fn match_host(spec: &HostSpec, addr: Option<IpAddr>, port: Option<u16>) -> Match {
    match_host_in(spec, addr, port, &Scope::default())
}

/// [`match_host`] with known table contents.
pub(crate) fn match_host_in(
    spec: &HostSpec,
    addr: Option<IpAddr>,
    port: Option<u16>,
    scope: &Scope<'_>,
) -> Match {
    let addrs = if spec.addrs.is_empty() {
        Match::Yes
    } else {
        any_of(spec.addrs.iter().map(|a| match_addr_in(a, addr, scope)))
    };
    addrs.and(|| {
        if spec.ports.is_empty() {
            Match::Yes
        } else {
            any_of(spec.ports.iter().map(|p| match_port(p, port)))
        }
    })
}

fn any_of(items: impl Iterator<Item = Match>) -> Match {
    items.fold(Match::No, |acc, m| acc.or(|| m))
}

/// Interface names end in a unit number (`em0`, `vlan100`); group names
/// (`egress`, `lan`) do not, as pf requires.
pub(crate) fn is_group_name(name: &str) -> bool {
    !name.ends_with(|c: char| c.is_ascii_digit())
}

/// Does `on [!] iface` hold for the packet's interface?
pub(crate) fn match_iface(spec: &IfaceSpec, iface: &str) -> Match {
    let m = if &*spec.name == iface {
        Match::Yes
    } else if is_group_name(&spec.name) {
        Match::Unknown(format!(
            "if {iface} {} in interface group `{}`",
            if spec.negated { "is not" } else { "is" },
            spec.name
        ))
    } else {
        Match::No
    };
    match (m, spec.negated) {
        (Match::Yes, true) => Match::No,
        (Match::No, true) => Match::Yes,
        (m, _) => m,
    }
}

fn match_proto(rule: &Rule, pkt: &Packet) -> Match {
    if rule.protos.is_empty() {
        return Match::Yes;
    }
    let want = proto_number(&pkt.proto);
    any_of(rule.protos.iter().map(|p| match (proto_number(p), want) {
        (Some(a), Some(b)) => Match::from_bool(a == b),
        _ if **p == *pkt.proto => Match::Yes,
        _ => Match::Unknown(format!("protocol `{p}`")),
    }))
}

fn match_family(rule: &Rule, pkt: &Packet) -> Match {
    Match::from_bool(rule.family.is_none_or(|f| f == pkt.family))
}

fn match_flags(facts: &RuleFacts, pkt: &Packet) -> Match {
    if proto_number(&pkt.proto) != Some(6) {
        return Match::Yes;
    }
    match (&facts.flags, pkt.tcp_flags) {
        (Ok(FlagsSpec::Any), _) => Match::Yes,
        (Ok(spec), Some(bits)) => Match::from_bool(spec.matches(bits)),
        (Ok(_), None) => Match::Unknown("TCP flags of the packet not known".into()),
        (Err(text), _) => Match::Unknown(format!("unreadable `{text}`")),
    }
}

/// The criteria of a rule that the model keeps only in its text (`flags`,
/// `icmp-type`, `user`, `tos`…), read once. Matching a packet then needs no
/// text: lint evaluates the same rules for many packets (every server state
/// of a poll), and re-reading the words each time dominated its cost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RuleFacts {
    /// The `flags` criterion; `Err` carries unreadable text.
    pub flags: Result<FlagsSpec, String>,
    /// `icmp-type` / `icmp6-type` is present.
    pub icmp_type: bool,
    /// Why the rule cannot be matched from a listing (see [`matches`]).
    pub opaque: Option<String>,
}

impl RuleFacts {
    /// Reads the text-derived criteria of `rule`.
    pub fn of(rule: &Rule) -> RuleFacts {
        let w = words(&rule.text);
        RuleFacts {
            flags: flags_of(&w),
            icmp_type: w.iter().any(|t| *t == "icmp-type" || *t == "icmp6-type"),
            opaque: opaque_criteria(rule, &w),
        }
    }
}

fn match_icmp_type(facts: &RuleFacts, pkt: &Packet) -> Match {
    let is_icmp = matches!(proto_number(&pkt.proto), Some(1 | 58));
    if facts.icmp_type && is_icmp {
        Match::Unknown("ICMP type of the packet not known".into())
    } else {
        Match::Yes
    }
}

/// Does `rule` match `pkt`? Checks every criterion pf checks before the
/// action: direction, interface, family, protocol, addresses and ports,
/// TCP flags, ICMP type, and the criteria that cannot be known from a
/// listing (which make the answer [`Match::Unknown`] unless another
/// criterion already says no).
pub fn matches(rule: &Rule, pkt: &Packet) -> Match {
    matches_with(rule, pkt, true)
}

/// [`matches`], optionally blind to the rule's `flags` (to tell which rule
/// a packet was written for when only `flags S/SA` keeps it from matching).
pub(crate) fn matches_with(rule: &Rule, pkt: &Packet, check_flags: bool) -> Match {
    matches_in(rule, pkt, check_flags, None)
}

/// [`matches_with`], with known table contents: a rule naming a table
/// listed in `tables` answers yes or no for the table's addresses.
pub(crate) fn matches_in(
    rule: &Rule,
    pkt: &Packet,
    check_flags: bool,
    tables: Option<&Tables>,
) -> Match {
    matches_compiled(rule, &RuleFacts::of(rule), pkt, check_flags, tables)
}

/// [`matches_in`] with the rule's text already read (`facts` must be
/// [`RuleFacts::of`] this rule): what a ruleset evaluating many packets calls.
pub(crate) fn matches_compiled(
    rule: &Rule,
    facts: &RuleFacts,
    pkt: &Packet,
    check_flags: bool,
    tables: Option<&Tables>,
) -> Match {
    let scope = Scope {
        tables,
        anchor: &rule.anchor_path,
    };
    Match::from_bool(rule.direction.is_none_or(|d| d == pkt.direction))
        .and(|| {
            rule.iface
                .as_ref()
                .map_or(Match::Yes, |i| match_iface(i, &pkt.iface))
        })
        .and(|| match_family(rule, pkt))
        .and(|| match_proto(rule, pkt))
        .and(|| match_host_in(&rule.from, pkt.src, pkt.src_port, &scope))
        .and(|| match_host_in(&rule.to, pkt.dst, pkt.dst_port, &scope))
        .and(|| {
            if check_flags {
                match_flags(facts, pkt)
            } else {
                Match::Yes
            }
        })
        .and(|| match_icmp_type(facts, pkt))
        .and(|| facts.opaque.clone().map_or(Match::Yes, Match::Unknown))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_tests_answer_as_match_port() {
        let ops = [
            PortOp::Eq,
            PortOp::Ne,
            PortOp::Lt,
            PortOp::Le,
            PortOp::Gt,
            PortOp::Ge,
            PortOp::Range,
            PortOp::Inside,
            PortOp::Outside,
        ];
        let values = [0, 1, 2, 53, 443, 1024, 1025, 65534, 65535];
        let mut ports: Vec<Port> = values.iter().map(|v| Port::Num(*v)).collect();
        ports.push(Port::Name("https".into()));
        ports.push(Port::Name("no-such-service".into()));
        let mut probes: Vec<u16> = (0..=2048).collect();
        probes.extend([65533, 65534, 65535]);
        for op in ops {
            for a in &ports {
                let bs = ports.iter().map(|b| Some(b.clone())).chain([None]);
                for b in bs {
                    let spec = PortSpec {
                        op,
                        a: a.clone(),
                        b,
                    };
                    let test = PortTest::of(&spec);
                    for p in &probes {
                        assert_eq!(
                            test.holds(*p),
                            match_port(&spec, Some(*p)).is_yes(),
                            "{spec:?} port {p}"
                        );
                    }
                }
            }
        }
    }

    #[test]
    fn words_keep_quoted_labels_whole() {
        assert_eq!(
            words(r#"pass in label "user x" quick"#),
            ["pass", "in", "label", "\"user x\"", "quick"]
        );
    }

    #[test]
    fn flag_letters_round_trip() {
        assert_eq!(
            parse_flag_letters("SA"),
            Some(tcp_flags::SYN | tcp_flags::ACK)
        );
        assert_eq!(flags_text(tcp_flags::SYN | tcp_flags::ACK), "SA");
        assert_eq!(parse_flag_letters("SX"), None);
    }

    #[test]
    fn match_combinators_order_no_over_unknown_over_yes() {
        let u = || Match::Unknown("x".into());
        assert_eq!(Match::Yes.and(u), u());
        assert_eq!(u().and(|| Match::No), Match::No);
        assert_eq!(u().or(|| Match::Yes), Match::Yes);
        assert_eq!(Match::No.or(u), u());
    }

    #[test]
    fn known_tables_answer_yes_or_no_and_fall_back_to_the_main_ruleset() {
        let addr: IpAddr = "2001:db8::10".parse().expect("address");
        let table = |negated| AddrSpec::Table {
            name: "www".into(),
            negated,
        };
        let mut tables = Tables::new();
        tables.insert(
            "",
            "www",
            vec![TableEntry {
                net: "2001:db8::/64".parse().expect("prefix"),
                negated: false,
            }],
        );
        let main = Scope {
            tables: Some(&tables),
            anchor: "",
        };
        assert_eq!(match_addr_in(&table(false), Some(addr), &main), Match::Yes);
        assert_eq!(match_addr_in(&table(true), Some(addr), &main), Match::No);
        // An anchor without its own <www> sees the main ruleset's.
        let anchored = Scope {
            tables: Some(&tables),
            anchor: "relayd",
        };
        assert_eq!(
            match_addr_in(&table(false), Some(addr), &anchored),
            Match::Yes
        );
        tables.insert("relayd", "www", Vec::new());
        let anchored = Scope {
            tables: Some(&tables),
            anchor: "relayd",
        };
        assert_eq!(
            match_addr_in(&table(false), Some(addr), &anchored),
            Match::No
        );
        // Unknown table: a condition the admin can check.
        assert_eq!(
            match_addr(&table(true), Some(addr)),
            Match::Unknown("if table <www> does not contain 2001:db8::10".into())
        );
    }
}
