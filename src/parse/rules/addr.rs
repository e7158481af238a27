//! Leaf parsers for the address, port and pool parts of a rule line.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::model::{AddrSpec, Port, PortOp, PortSpec};

/// Splits a leading `!` (pfctl prints `! addr`, lists may hold `!addr`).
pub(crate) fn strip_bang(tok: &str) -> (bool, &str) {
    match tok.strip_prefix('!') {
        Some(rest) => (true, rest.trim_start()),
        None => (false, tok),
    }
}

/// An address or a prefix: `192.0.2.1`, `2001:db8::/32`.
pub(crate) fn ip_net(s: &str) -> Option<IpNet> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(IpNet::from(ip));
    }
    let (addr, len) = s.split_once('/')?;
    let ip: IpAddr = addr.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    IpNet::new(ip, len).ok()
}

/// `<name>`, `<name:N>`, `<name:*>`: the table name (the `-vv` count is dropped).
pub(crate) fn table_name(s: &str) -> Option<&str> {
    let inner = s.strip_prefix('<')?.strip_suffix('>')?;
    Some(match inner.rsplit_once(':') {
        Some((name, n)) if is_count(n) => name,
        _ => inner,
    })
}

fn is_count(s: &str) -> bool {
    s == "*" || (!s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
}

/// `(em0)`, `(em0:network)`, `(em0:0)`, `(em0:network:1)`, `(lo0)/24`.
/// With `counted` (a `-vv` listing), a last `:N`/`:*` is the address count
/// that pfctl adds, not a modifier.
pub fn dynamic(s: &str, counted: bool, negated: bool) -> Option<AddrSpec> {
    let rest = s.strip_prefix('(')?;
    let (inner, after) = rest.split_once(')')?;
    let prefix = match after {
        "" => None,
        _ => Some(after.strip_prefix('/')?.parse::<u8>().ok()?),
    };
    if inner.is_empty() || inner.contains(char::is_whitespace) {
        return None;
    }
    let mut parts: Vec<&str> = inner.split(':').collect();
    if counted && parts.len() > 1 && parts.last().is_some_and(|p| is_count(p)) {
        parts.pop();
    }
    let iface = parts.first()?;
    let modifier = (parts.len() > 1).then(|| parts[1..].join(":").into_boxed_str());
    Some(AddrSpec::Dynamic {
        iface: (*iface).into(),
        modifier,
        prefix,
        negated,
    })
}

/// One address element that is a single token (ranges and `route "x"` take
/// two or three tokens and are handled by the caller).
pub(crate) fn addr_token(tok: &str, counted: bool) -> AddrSpec {
    let (negated, body) = strip_bang(tok);
    if body == "any" && !negated {
        return AddrSpec::Any;
    }
    if let Some(net) = ip_net(body) {
        return AddrSpec::Net { net, negated };
    }
    if let Some(name) = table_name(body) {
        return AddrSpec::Table {
            name: name.into(),
            negated,
        };
    }
    if let Some(d) = dynamic(body, counted, negated) {
        return d;
    }
    AddrSpec::Other {
        text: body.into(),
        negated,
    }
}

/// A port value: a number, or a service name (FreeBSD prints names).
/// A number too big for a port is kept as text; the caller warns.
pub(crate) fn port_value(s: &str) -> (Port, bool) {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        match s.parse::<u16>() {
            Ok(n) => (Port::Num(n), true),
            Err(_) => (Port::Name(s.into()), false),
        }
    } else {
        (Port::Name(s.into()), true)
    }
}

/// A unary port operator token.
pub(crate) fn unary_op(s: &str) -> Option<PortOp> {
    Some(match s {
        "=" => PortOp::Eq,
        "!=" => PortOp::Ne,
        "<" => PortOp::Lt,
        "<=" => PortOp::Le,
        ">" => PortOp::Gt,
        ">=" => PortOp::Ge,
        _ => return None,
    })
}

/// A binary port operator token (`a >< b`, `a <> b`).
pub(crate) fn binary_op(s: &str) -> Option<PortOp> {
    match s {
        "><" => Some(PortOp::Inside),
        "<>" => Some(PortOp::Outside),
        _ => None,
    }
}

/// `a:b` inclusive range in one token.
pub(crate) fn range_token(s: &str) -> Option<(&str, &str)> {
    let (a, b) = s.split_once(':')?;
    (!a.is_empty() && !b.is_empty() && !b.contains(':')).then_some((a, b))
}

/// Builds a single-operand port spec.
pub(crate) fn unary(op: PortOp, a: Port) -> PortSpec {
    PortSpec { op, a, b: None }
}

/// Reads the interfaces and addresses named by a pool's elements:
/// `(if addr)`, `(if)`, `if`, `addr@if`, `addr`, `(if ?)`.
pub(crate) fn pool_element(elem: &str, ifaces: &mut Vec<Box<str>>, addrs: &mut Vec<IpAddr>) {
    let elem = elem.trim_end_matches(',');
    if let Some(inner) = elem.strip_prefix('(').and_then(|e| e.strip_suffix(')')) {
        let mut words = inner.split_whitespace();
        if let Some(ifname) = words.next() {
            push_iface_or_addr(ifname, ifaces, addrs);
        }
        for w in words {
            if let Some(net) = ip_net(w) {
                addrs.push(net.addr());
            }
        }
        return;
    }
    if let Some((addr, ifname)) = elem.split_once('@') {
        if let Some(net) = ip_net(addr) {
            addrs.push(net.addr());
        }
        ifaces.push(ifname.into());
        return;
    }
    push_iface_or_addr(elem, ifaces, addrs);
}

fn push_iface_or_addr(w: &str, ifaces: &mut Vec<Box<str>>, addrs: &mut Vec<IpAddr>) {
    if let Some(net) = ip_net(w) {
        addrs.push(net.addr());
    } else if !w.starts_with('<') && !w.starts_with('(') && w != "?" && !w.is_empty() {
        // A bare word in a pool is an interface name (`route-to gif0`); tables
        // and dynamic addresses are left to the `target` text.
        ifaces.push(w.split(':').next().unwrap_or(w).into());
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn nets_and_tables() {
        assert_eq!(ip_net("2001:db8::/32").map(|n| n.prefix_len()), Some(32));
        assert_eq!(ip_net("10.0.0.1").map(|n| n.prefix_len()), Some(32));
        assert_eq!(ip_net("10.0.0.1/33"), None);
        assert_eq!(ip_net("em0"), None);
        assert_eq!(table_name("<bruteforce:12>"), Some("bruteforce"));
        assert_eq!(table_name("<t:*>"), Some("t"));
        assert_eq!(table_name("<t>"), Some("t"));
    }

    #[test]
    fn dynamic_addresses() {
        assert_eq!(
            dynamic("(em0:network:1)", true, false),
            Some(AddrSpec::Dynamic {
                iface: "em0".into(),
                modifier: Some("network".into()),
                prefix: None,
                negated: false
            })
        );
        assert_eq!(
            dynamic("(em0:0)", false, true),
            Some(AddrSpec::Dynamic {
                iface: "em0".into(),
                modifier: Some("0".into()),
                prefix: None,
                negated: true
            })
        );
        assert_eq!(
            dynamic("(lo0)/24", false, false),
            Some(AddrSpec::Dynamic {
                iface: "lo0".into(),
                modifier: None,
                prefix: Some(24),
                negated: false
            })
        );
        assert_eq!(dynamic("(gif0 2001:db8::1)", false, false), None);
    }

    #[test]
    fn address_tokens() {
        assert_eq!(addr_token("any", false), AddrSpec::Any);
        assert!(matches!(
            addr_token("!10.0.0.0/8", false),
            AddrSpec::Net { negated: true, .. }
        ));
        assert_eq!(
            addr_token("self", false),
            AddrSpec::Other {
                text: "self".into(),
                negated: false
            }
        );
    }

    #[test]
    fn ports() {
        assert_eq!(port_value("443"), (Port::Num(443), true));
        assert_eq!(port_value("https"), (Port::Name("https".into()), true));
        assert_eq!(port_value("70000"), (Port::Name("70000".into()), false));
        assert_eq!(range_token("6000:6010"), Some(("6000", "6010")));
        assert_eq!(unary_op("<="), Some(PortOp::Le));
        assert_eq!(binary_op("<>"), Some(PortOp::Outside));
    }

    #[test]
    fn pool_elements() {
        let (mut i, mut a) = (Vec::new(), Vec::new());
        pool_element("(gif0 2001:db8::1),", &mut i, &mut a);
        pool_element("192.0.2.1@em1", &mut i, &mut a);
        pool_element("egress", &mut i, &mut a);
        pool_element("(lo0 ?)", &mut i, &mut a);
        assert_eq!(
            i,
            ["gif0".into(), "em1".into(), "egress".into(), "lo0".into()]
        );
        assert_eq!(
            a,
            [
                "2001:db8::1".parse::<IpAddr>().unwrap(),
                "192.0.2.1".parse().unwrap()
            ]
        );
    }
}
