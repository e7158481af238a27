//! Which states are "server states": parsing `--server`, `--port` and
//! `--allow`, and matching parsed addresses (never text) against them.

use std::net::IpAddr;

use ipnet::IpNet;

use serde::Serialize;

use crate::model::{Endpoint, Port, RuleKey, State};

/// The server addresses and ports the user asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Servers {
    pub nets: Vec<IpNet>,
    /// Empty means every port.
    pub ports: Vec<u16>,
}

impl Servers {
    /// Parses `--server ADDR[/LEN]` values (a bare address is a /32 or /128)
    /// and `--port` values. Errors name the offending value.
    pub fn parse(servers: &[String], ports: &[u16]) -> Result<Servers, String> {
        let nets = servers
            .iter()
            .map(|s| parse_net(s))
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(zero) = ports.iter().find(|p| **p == 0) {
            return Err(format!(
                "invalid --port {zero}: port 0 never appears in a state (pfctl prints no port for it)"
            ));
        }
        let mut ports = ports.to_vec();
        ports.sort_unstable();
        ports.dedup();
        Ok(Servers { nets, ports })
    }

    /// True when no server was given (`report` then lists the busiest rules).
    pub fn is_empty(&self) -> bool {
        self.nets.is_empty()
    }

    /// True if `ip` is inside one of the server prefixes.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.nets.iter().any(|n| n.contains(&ip))
    }

    /// The endpoint of `state` that makes it a server state: an address
    /// (either side, either key) inside a server prefix whose port is listed
    /// (any port when no `--port` was given). `None` if it is no server state.
    pub fn server_endpoint<'s>(&self, state: &'s State) -> Option<&'s Endpoint> {
        self.find_server_endpoint(state.addrs())
    }

    /// The first of `endpoints` that is a server endpoint (see
    /// [`Self::server_endpoint`]).
    pub fn find_server_endpoint<'s>(
        &self,
        mut endpoints: impl Iterator<Item = &'s Endpoint>,
    ) -> Option<&'s Endpoint> {
        if self.is_empty() {
            return None;
        }
        endpoints.find(|ep| {
            ep.addr.ip().is_some_and(|ip| self.contains(ip)) && self.port_listed(ep.port.as_ref())
        })
    }

    /// True for a server state (see [`Self::server_endpoint`]).
    pub fn matches(&self, state: &State) -> bool {
        self.server_endpoint(state).is_some()
    }

    fn port_listed(&self, port: Option<&Port>) -> bool {
        if self.ports.is_empty() {
            return true;
        }
        port.and_then(port_number)
            .is_some_and(|p| self.ports.contains(&p))
    }

    /// The prefixes as the user would write them (`2001:db8::10`, `10.0.0.0/8`).
    pub fn describe(&self) -> String {
        let nets: Vec<String> = self.nets.iter().map(net_text).collect();
        let mut text = nets.join(", ");
        if !self.ports.is_empty() {
            let ports: Vec<String> = self.ports.iter().map(u16::to_string).collect();
            text.push_str(&format!(" port {}", ports.join(", ")));
        }
        text
    }
}

/// A prefix as text, host prefixes without their `/32` or `/128`.
pub fn net_text(net: &IpNet) -> String {
    if net.prefix_len() == net.max_prefix_len() {
        net.addr().to_string()
    } else {
        net.to_string()
    }
}

fn parse_net(text: &str) -> Result<IpNet, String> {
    let t = text.trim();
    // `[2001:db8::1]` is how URLs write IPv6; accept it.
    let t = t
        .strip_prefix('[')
        .and_then(|r| r.strip_suffix(']'))
        .unwrap_or(t);
    if let Ok(ip) = t.parse::<IpAddr>() {
        return Ok(IpNet::from(ip));
    }
    t.parse::<IpNet>().map_err(|_| {
        format!(
            "invalid --server `{text}`: expected an IPv4 or IPv6 address, optionally with /LEN \
             (e.g. 2001:db8::10 or 192.0.2.0/24)"
        )
    })
}

/// A port as a number. With OpenBSD `-P`, pfctl prints service names: the
/// common ones are mapped back so `--port 443` still matches `https`.
pub fn port_number(port: &Port) -> Option<u16> {
    match port {
        Port::Num(n) => Some(*n),
        Port::Name(name) => SERVICES
            .iter()
            .find(|(n, _)| *n == name.as_ref())
            .map(|(_, p)| *p),
    }
}

const SERVICES: &[(&str, u16)] = &[
    ("ftp", 21),
    ("ssh", 22),
    ("smtp", 25),
    ("domain", 53),
    ("http", 80),
    ("www", 80),
    ("pop3", 110),
    ("imap", 143),
    ("https", 443),
    ("submission", 587),
    ("imaps", 993),
    ("pop3s", 995),
];

/// Parses `--allow` values: `N` (main ruleset), `M:N` (rule N of the anchor
/// called by rule M), or `default` (pf's default rule) — the numbers a state
/// prints as `anchor M, rule N`.
pub fn parse_allow(specs: &[String]) -> Result<Vec<RuleKey>, String> {
    specs.iter().map(|s| parse_allow_one(s)).collect()
}

fn parse_allow_one(spec: &str) -> Result<RuleKey, String> {
    let t = spec.trim().trim_start_matches('@');
    if t == "default" {
        return Ok(RuleKey {
            anchor: None,
            number: None,
        });
    }
    let bad = || {
        format!(
            "invalid --allow `{spec}`: expected N (rule N of the main ruleset), M:N (rule N \
             inside the anchor called by rule M, as a state prints `anchor M, rule N`) or `default`"
        )
    };
    let number = |s: &str| s.trim().parse::<u32>().map_err(|_| bad());
    match t.split_once(':') {
        None => Ok(RuleKey {
            anchor: None,
            number: Some(number(t)?),
        }),
        Some((a, n)) => Ok(RuleKey {
            anchor: Some(number(a)?),
            number: Some(number(n)?),
        }),
    }
}

/// `--allow` spelling of a key: `12`, `3:0`, `default`.
pub fn allow_text(key: RuleKey) -> String {
    match (key.anchor, key.number) {
        (_, None) => "default".to_string(),
        (None, Some(n)) => n.to_string(),
        (Some(a), Some(n)) => format!("{a}:{n}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn servers(s: &[&str], p: &[u16]) -> Servers {
        let s: Vec<String> = s.iter().map(|x| x.to_string()).collect();
        Servers::parse(&s, p).expect("valid servers")
    }

    #[test]
    fn bare_addresses_are_host_prefixes() {
        let s = servers(&["2001:db8::10", "192.0.2.10"], &[]);
        assert_eq!(s.nets[0].prefix_len(), 128);
        assert_eq!(s.nets[1].prefix_len(), 32);
        assert!(s.contains("2001:db8:0:0::10".parse().expect("ip")));
        assert!(!s.contains("2001:db8::11".parse().expect("ip")));
    }

    #[test]
    fn ipv6_spellings_compare_as_values() {
        let s = servers(&["2001:0DB8:0000:0000:0000:0000:0000:0010"], &[]);
        assert!(s.contains("2001:db8::10".parse().expect("ip")));
        let s = servers(&["[2001:db8::10]"], &[]);
        assert!(s.contains("2001:db8:0::10".parse().expect("ip")));
    }

    #[test]
    fn prefixes_contain_their_hosts() {
        let s = servers(&["2001:db8:bbbb:1::/64", "192.0.2.0/25"], &[]);
        assert!(s.contains("2001:db8:bbbb:1:0:0:0:99".parse().expect("ip")));
        assert!(!s.contains("2001:db8:bbbb:2::1".parse().expect("ip")));
        assert!(s.contains("192.0.2.127".parse().expect("ip")));
        assert!(!s.contains("192.0.2.128".parse().expect("ip")));
    }

    #[test]
    fn bad_servers_and_ports_are_errors() {
        let e = Servers::parse(&["2001:db8::zz".into()], &[]).expect_err("bad address");
        assert!(e.contains("2001:db8::zz"), "{e}");
        assert!(Servers::parse(&["10.0.0.0/33".into()], &[]).is_err());
        assert!(Servers::parse(&["fw.example.net".into()], &[]).is_err());
        assert!(Servers::parse(&["10.0.0.1".into()], &[0]).is_err());
    }

    #[test]
    fn allow_forms() {
        let a = parse_allow(&["12".into(), "3:0".into(), "@4".into(), "default".into()])
            .expect("valid");
        assert_eq!(
            a,
            [
                RuleKey {
                    anchor: None,
                    number: Some(12)
                },
                RuleKey {
                    anchor: Some(3),
                    number: Some(0)
                },
                RuleKey {
                    anchor: None,
                    number: Some(4)
                },
                RuleKey {
                    anchor: None,
                    number: None
                },
            ]
        );
        for bad in ["", "x", "3:", ":1", "1:2:3", "-1", "relayd:1"] {
            let e = parse_allow(&[bad.into()]).expect_err(bad);
            assert!(e.contains("--allow"), "{e}");
        }
    }

    #[test]
    fn describe_drops_host_prefix_lengths() {
        let s = servers(&["2001:db8:0::10", "10.0.0.0/8"], &[443, 80, 443]);
        assert_eq!(s.describe(), "2001:db8::10, 10.0.0.0/8 port 80, 443");
    }
}
