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
    pub(crate) fn server_endpoint<'s>(&self, state: &'s State) -> Option<&'s Endpoint> {
        self.find_server_endpoint(state.addrs())
    }

    /// The first of `endpoints` that is a server endpoint (see
    /// [`Self::server_endpoint`]).
    pub(crate) fn find_server_endpoint<'s>(
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

/// A port as a number. With OpenBSD `-P`, pfctl prints service names: they
/// are mapped back (one table, [`crate::services`]) so `--port 443` still
/// matches `https`.
pub fn port_number(port: &Port) -> Option<u16> {
    port.number()
}

/// One `--allow` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AllowSpec {
    /// `N`, `@N`, `M:N` or `default`: the numbers a state prints as
    /// `anchor M, rule N`. They name other rules after a reload.
    Key(RuleKey),
    /// `label:NAME`: every rule carrying `label "NAME"`, wherever it sits.
    Label(String),
    /// `relayd/*`, `relayd/www`: every rule inside an anchor whose path (as
    /// pfctl prints it, without a leading `/`) matches the glob.
    Anchor(String),
}

/// The `--allow` values: rules whose server states are expected. The
/// only parser of the option (report, check, lint, watch and the config
/// file all go through [`parse_allow`]).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allow {
    /// Each value as the user wrote it, and what it means.
    specs: Vec<(String, AllowSpec)>,
}

impl Allow {
    pub fn is_empty(&self) -> bool {
        self.specs.is_empty()
    }

    pub fn specs(&self) -> impl Iterator<Item = &AllowSpec> {
        self.specs.iter().map(|(_, s)| s)
    }

    /// The `--allow` value (as written) that covers the rule `key` of the
    /// ruleset `anchor_path` with `labels`, if any. Numbers are tried first
    /// (the most precise); `key` is `None` when the numbers no longer name
    /// this rule (it belongs to an earlier ruleset).
    pub(crate) fn matching(
        &self,
        key: Option<RuleKey>,
        anchor_path: &str,
        labels: &[Box<str>],
    ) -> Option<&str> {
        let by = |want: fn(&AllowSpec) -> bool| {
            self.specs
                .iter()
                .filter(|(_, s)| want(s))
                .find(|(_, s)| s.covers(key, anchor_path, labels))
                .map(|(text, _)| text.as_str())
        };
        by(|s| matches!(s, AllowSpec::Key(_))).or_else(|| by(|_| true))
    }
}

impl AllowSpec {
    fn covers(&self, key: Option<RuleKey>, anchor_path: &str, labels: &[Box<str>]) -> bool {
        match self {
            AllowSpec::Key(k) => Some(*k) == key,
            AllowSpec::Label(name) => labels.iter().any(|l| **l == **name),
            AllowSpec::Anchor(glob) => anchor_matches(glob, anchor_path),
        }
    }
}

/// `relayd/*` covers the rules of `relayd` itself and of every anchor
/// below it (what `pfctl -a 'relayd/*' -sr` lists); otherwise `*` matches
/// any run of characters (`/` included) and `?` one character. The main
/// ruleset is in no anchor: no glob covers it.
fn anchor_matches(glob: &str, path: &str) -> bool {
    if path.is_empty() {
        return false;
    }
    if let Some(parent) = glob.strip_suffix("/*")
        && path == parent
    {
        return true;
    }
    glob_matches(glob.as_bytes(), path.as_bytes())
}

/// `*` and `?` globbing, iterative (no backtracking blow-up).
fn glob_matches(glob: &[u8], text: &[u8]) -> bool {
    let (mut g, mut t) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while t < text.len() {
        match glob.get(g) {
            Some(b'*') => {
                star = Some((g, t));
                g += 1;
            }
            Some(c) if *c == b'?' || *c == text[t] => {
                g += 1;
                t += 1;
            }
            _ => match star {
                Some((sg, st)) => {
                    g = sg + 1;
                    t = st + 1;
                    star = Some((sg, st + 1));
                }
                None => return false,
            },
        }
    }
    glob[g..].iter().all(|c| *c == b'*')
}

/// Parses `--allow` values: `N` (main ruleset), `M:N` (rule N of the anchor
/// called by rule M), `default` (pf's default rule) — the numbers a state
/// prints as `anchor M, rule N` — or, to survive reloads, `label:NAME` and
/// an anchor path glob (`relayd/*`).
pub fn parse_allow(specs: &[String]) -> Result<Allow, String> {
    let specs = specs
        .iter()
        .map(|s| Ok((s.trim().to_string(), parse_allow_one(s)?)))
        .collect::<Result<Vec<_>, String>>()?;
    Ok(Allow { specs })
}

fn parse_allow_one(spec: &str) -> Result<AllowSpec, String> {
    let bad = |why: &str| {
        format!(
            "invalid --allow `{spec}`{why}: expected N (rule N of the main ruleset), M:N (rule N \
             inside the anchor called by rule M, as a state prints `anchor M, rule N`), \
             `default`, label:NAME (rules with that label) or an anchor path glob such as \
             'relayd/*'"
        )
    };
    let t = spec.trim();
    if let Some(name) = t.strip_prefix("label:") {
        let name = name
            .strip_prefix('"')
            .and_then(|n| n.strip_suffix('"'))
            .unwrap_or(name);
        if name.is_empty() {
            return Err(bad(" (the label is empty)"));
        }
        return Ok(AllowSpec::Label(name.to_string()));
    }
    if t.contains(['/', '*', '?']) {
        let glob = t.trim_start_matches('/');
        if glob.is_empty() || glob.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(bad(""));
        }
        return Ok(AllowSpec::Anchor(glob.to_string()));
    }
    let t = t.trim_start_matches('@');
    if t == "default" {
        return Ok(AllowSpec::Key(RuleKey {
            anchor: None,
            number: None,
        }));
    }
    let number = |s: &str| s.trim().parse::<u32>().map_err(|_| bad(""));
    let key = match t.split_once(':') {
        None => RuleKey {
            anchor: None,
            number: Some(number(t)?),
        },
        Some((a, n)) => RuleKey {
            anchor: Some(number(a)?),
            number: Some(number(n)?),
        },
    };
    Ok(AllowSpec::Key(key))
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

    fn key(anchor: Option<u32>, number: Option<u32>) -> RuleKey {
        RuleKey { anchor, number }
    }

    /// A key that still names the rule.
    fn at(anchor: Option<u32>, number: Option<u32>) -> Option<RuleKey> {
        Some(key(anchor, number))
    }

    fn allow(specs: &[&str]) -> Allow {
        let specs: Vec<String> = specs.iter().map(|s| s.to_string()).collect();
        parse_allow(&specs).expect("valid")
    }

    #[test]
    fn allow_forms() {
        let a = allow(&["12", "3:0", "@4", "default", "label:ssh", "relayd/*"]);
        let specs: Vec<&AllowSpec> = a.specs().collect();
        assert_eq!(
            specs,
            [
                &AllowSpec::Key(key(None, Some(12))),
                &AllowSpec::Key(key(Some(3), Some(0))),
                &AllowSpec::Key(key(None, Some(4))),
                &AllowSpec::Key(key(None, None)),
                &AllowSpec::Label("ssh".into()),
                &AllowSpec::Anchor("relayd/*".into()),
            ]
        );
        assert_eq!(
            allow(&["label:\"web server\""]).specs().next(),
            Some(&AllowSpec::Label("web server".into()))
        );
        for bad in [
            "", "x", "3:", ":1", "1:2:3", "-1", "relayd:1", "label:", "/", "a b/*",
        ] {
            let e = parse_allow(&[bad.into()]).expect_err(bad);
            assert!(e.contains("--allow") && e.contains("label:NAME"), "{e}");
        }
    }

    #[test]
    fn labels_match_wherever_the_rule_sits() {
        let a = allow(&["label:ssh"]);
        let ssh: [Box<str>; 2] = ["mgmt".into(), "ssh".into()];
        assert_eq!(a.matching(at(None, Some(7)), "", &ssh), Some("label:ssh"));
        assert_eq!(
            a.matching(at(Some(2), Some(0)), "relayd/x", &ssh),
            Some("label:ssh")
        );
        assert_eq!(a.matching(at(None, Some(7)), "", &["sshd".into()]), None);
        assert_eq!(a.matching(at(None, Some(7)), "", &[]), None);
    }

    #[test]
    fn anchor_globs_match_paths_as_pfctl_prints_them() {
        let a = allow(&["relayd/*"]);
        for path in ["relayd", "relayd/www", "relayd/www/deep"] {
            assert!(
                a.matching(at(Some(3), Some(0)), path, &[]).is_some(),
                "{path}"
            );
        }
        for path in ["", "relaydx", "other/relayd/www"] {
            assert!(
                a.matching(at(Some(3), Some(0)), path, &[]).is_none(),
                "{path}"
            );
        }
        let a = allow(&["/ftp-proxy/?23*"]);
        assert!(
            a.matching(at(None, Some(1)), "ftp-proxy/1234", &[])
                .is_some()
        );
        assert!(
            a.matching(at(None, Some(1)), "ftp-proxy/5213", &[])
                .is_none()
        );
        // No glob covers the main ruleset, not even `*`.
        assert!(allow(&["*"]).matching(at(None, Some(1)), "", &[]).is_none());
        assert!(glob_matches(b"a*b*c", b"axxbyyc"));
        assert!(!glob_matches(b"a*b*c", b"axxbyy"));
    }

    #[test]
    fn a_number_is_preferred_as_the_reason() {
        let a = allow(&["relayd/*", "3:0"]);
        assert_eq!(
            a.matching(at(Some(3), Some(0)), "relayd/www", &[]),
            Some("3:0")
        );
        // A number that no longer names the rule leaves the glob.
        assert_eq!(a.matching(None, "relayd/www", &[]), Some("relayd/*"));
        assert_eq!(allow(&["3:0"]).matching(None, "relayd/www", &[]), None);
    }

    #[test]
    fn describe_drops_host_prefix_lengths() {
        let s = servers(&["2001:db8:0::10", "10.0.0.0/8"], &[443, 80, 443]);
        assert_eq!(s.describe(), "2001:db8::10, 10.0.0.0/8 port 80, 443");
    }
}
