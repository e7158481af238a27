//! Synthetic pf tables for benchmarks and scale tests (a development tool).
//!
//!     cargo run --release --example gen_table -- --states 1000000 \
//!         --flavor openbsd --seed 1 --out /tmp/t1m [--server 2001:db8::10] [--verbosity v]
//!
//! Writes `DIR/rules.txt` (`pfctl -a '*' -vvsr`, with anchors) and
//! `DIR/states.txt` (`pfctl -vvss`), deterministic from the seed. States are
//! streamed to the file one at a time, never held in memory; the rules are
//! written afterwards so their `States:` counters match the states exactly.
//! Both files are printed by the project's own printers
//! (`print::states::write_state`, `print::rules::write_rule`), so the text is
//! what the parsers accept.
//!
//! The benches include this file as a module (`#[path]`) to generate their
//! input in memory.

use std::fmt::Write as _;
use std::io::{self, BufWriter, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::sync::Arc;

use pfblame::model::{
    Counters, Direction, Endpoint, HostAddr, Port, RouteKind, Rule, SeqWindow, State, StateRoute,
};
use pfblame::parse::rules::parse_rule_text;
use pfblame::print::rules::write_rule;
use pfblame::print::states::write_state;
use pfblame::print::{Flavor, Verbosity};

/// splitmix64: tiny, fast, good enough for synthetic data, and stable.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0); the modulo bias is irrelevant here.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `pct` percent.
    pub fn pct(&mut self, pct: u64) -> bool {
        self.below(100) < pct
    }
}

/// What the generator is asked for.
#[derive(Debug, Clone)]
pub struct Options {
    pub states: u64,
    pub flavor: Flavor,
    pub seed: u64,
    pub server: IpAddr,
    /// Percent of states that involve the server address.
    pub server_pct: u64,
    /// How the states are printed: `-vvss` (default) or `-vss`.
    pub verbosity: Verbosity,
}

impl Options {
    pub fn new(states: u64, flavor: Flavor, seed: u64) -> Self {
        Options {
            states,
            flavor,
            seed,
            server: IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 0x10)),
            server_pct: 3,
            verbosity: Verbosity::VV,
        }
    }
}

/// Protocol class of a rule, and so of the states it creates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Proto {
    Tcp,
    Udp,
    Icmp,
    /// Any protocol: tcp, udp or icmp by chance.
    Any,
    Esp,
    Carp,
    Gre,
}

/// Address translation done by a rule's states.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Nat {
    None,
    /// Outbound source NAT (`nat-to`).
    Src,
    /// Inbound redirection (`rdr-to`).
    Rdr,
}

/// Which address family a rule's states use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fam {
    V4,
    V6,
    Both,
}

/// One rule of the synthetic ruleset.
struct Tpl {
    /// Rule text in OpenBSD form, `{server}` / `{gw}` substituted.
    text: String,
    /// Relative share of the (non-server) states; 0 = creates none.
    weight: u64,
    proto: Proto,
    fam: Fam,
    dir: Direction,
    nat: Nat,
    /// Server states come from this rule (weight among server states).
    server_weight: u64,
    /// Server port of the rule's server states.
    port: u16,
    route_to: bool,
}

fn tpl(text: &str, weight: u64, proto: Proto, fam: Fam, dir: Direction) -> Tpl {
    Tpl {
        text: text.to_owned(),
        weight,
        proto,
        fam,
        dir,
        nat: Nat::None,
        server_weight: 0,
        port: 443,
        route_to: false,
    }
}

/// A ruleset: the main rules, with anchor calls holding their own rules.
struct Ruleset {
    /// `(template, children)`: children non-empty for an anchor call.
    main: Vec<(Tpl, Vec<Tpl>)>,
}

fn ruleset(server: IpAddr) -> Ruleset {
    use Direction::{In, Out};
    let (inet, gw) = match server {
        IpAddr::V4(_) => ("inet", "192.0.2.254"),
        IpAddr::V6(_) => ("inet6", "2001:db8:ffff::1"),
    };
    let sfam = if server.is_ipv4() { Fam::V4 } else { Fam::V6 };
    let sub = |t: &str| {
        t.replace("{server}", &server.to_string())
            .replace("{gw}", gw)
    };
    let with = |mut t: Tpl, f: &dyn Fn(&mut Tpl)| {
        f(&mut t);
        t
    };
    let mut main = vec![
        (
            tpl("block return all", 0, Proto::Any, Fam::Both, In),
            vec![],
        ),
        (
            with(
                tpl("pass out all flags S/SA", 30, Proto::Any, Fam::Both, Out),
                &|t| {
                    t.server_weight = 25;
                },
            ),
            vec![],
        ),
        (
            tpl(
                "pass in on em0 inet proto tcp from any to 192.0.2.0/24 port = 22 flags S/SA",
                3,
                Proto::Tcp,
                Fam::V4,
                In,
            ),
            vec![],
        ),
        (
            with(
                tpl(
                    &sub(&format!(
                        "pass in on em0 {inet} proto tcp from any to {{server}} port = 443 flags S/SA"
                    )),
                    0,
                    Proto::Tcp,
                    sfam,
                    In,
                ),
                &|t| t.server_weight = 50,
            ),
            vec![],
        ),
        (
            with(
                tpl(
                    "pass out on em0 inet from 10.0.0.0/8 to any flags S/SA nat-to (em0:0)",
                    20,
                    Proto::Any,
                    Fam::V4,
                    Out,
                ),
                &|t| t.nat = Nat::Src,
            ),
            vec![],
        ),
        (
            with(
                tpl(
                    "pass in on em0 inet proto tcp from any to any port = 80 flags S/SA rdr-to 10.0.0.80",
                    6,
                    Proto::Tcp,
                    Fam::V4,
                    In,
                ),
                &|t| t.nat = Nat::Rdr,
            ),
            vec![],
        ),
        (
            tpl("anchor \"web\" all", 0, Proto::Any, Fam::Both, In),
            vec![
                tpl(
                    "pass in quick on em0 inet6 proto tcp from any to 2001:db8:80::/64 port = 80 flags S/SA keep state (tcp.established 600)",
                    8,
                    Proto::Tcp,
                    Fam::V6,
                    In,
                ),
                with(
                    tpl(
                        &sub(&format!(
                            "pass in quick on em0 {inet} proto tcp from any to {{server}} port = 8443 flags S/SA"
                        )),
                        0,
                        Proto::Tcp,
                        sfam,
                        In,
                    ),
                    &|t| {
                        t.server_weight = 10;
                        t.port = 8443;
                    },
                ),
                tpl(
                    "block return in quick on em0 inet proto tcp from any to 192.0.2.80",
                    0,
                    Proto::Tcp,
                    Fam::V4,
                    In,
                ),
            ],
        ),
        (
            tpl(
                "pass in on em0 proto udp from any to any port = 53",
                12,
                Proto::Udp,
                Fam::Both,
                In,
            ),
            vec![],
        ),
        (
            tpl("pass quick proto esp all", 2, Proto::Esp, Fam::Both, In),
            vec![],
        ),
        (
            tpl(
                "pass quick on em2 proto carp all",
                1,
                Proto::Carp,
                Fam::V4,
                Out,
            ),
            vec![],
        ),
        (
            tpl("pass in on gif0 proto gre all", 1, Proto::Gre, Fam::V4, In),
            vec![],
        ),
        (
            tpl("anchor \"vpn\" all", 0, Proto::Any, Fam::Both, In),
            vec![
                tpl(
                    "pass in quick on enc0 inet proto udp from any to any port = 500",
                    2,
                    Proto::Udp,
                    Fam::V4,
                    In,
                ),
                tpl(
                    "pass in quick on enc0 proto esp all",
                    1,
                    Proto::Esp,
                    Fam::V4,
                    In,
                ),
                with(
                    tpl(
                        "pass out quick on enc0 all flags S/SA",
                        4,
                        Proto::Any,
                        Fam::Both,
                        Out,
                    ),
                    &|t| t.server_weight = 5,
                ),
            ],
        ),
        (
            tpl("pass in inet proto icmp all", 3, Proto::Icmp, Fam::V4, In),
            vec![],
        ),
        (
            tpl(
                "pass in inet6 proto ipv6-icmp all",
                2,
                Proto::Icmp,
                Fam::V6,
                In,
            ),
            vec![],
        ),
        (
            tpl("anchor \"relayd\" all", 0, Proto::Any, Fam::Both, In),
            vec![with(
                tpl(
                    &sub(&format!(
                        "pass in quick on em1 {inet} proto tcp from {{server}} port = 443 to any flags S/SA route-to {{gw}}@gif0"
                    )),
                    1,
                    Proto::Tcp,
                    sfam,
                    In,
                ),
                &|t| {
                    t.server_weight = 10;
                    t.route_to = true;
                },
            )],
        ),
    ];
    // Filler rules: busy rulesets have many rules that each own a few states.
    for i in 0..15u16 {
        let port = 1000 + i * 7;
        main.push((
            tpl(
                &format!("pass in on em1 proto tcp from any to any port = {port} flags S/SA"),
                1,
                Proto::Tcp,
                Fam::Both,
                In,
            ),
            vec![],
        ));
    }
    Ruleset { main }
}

/// A rule that creates states, as the states name it.
struct Creator {
    anchor: Option<u32>,
    rule: u32,
    weight: u64,
    server_weight: u64,
    proto: Proto,
    fam: Fam,
    dir: Direction,
    nat: Nat,
    port: u16,
    route_to: bool,
}

fn creators(rs: &Ruleset) -> Vec<Creator> {
    let mut out = Vec::new();
    let mut add = |anchor, rule, t: &Tpl| {
        if t.weight > 0 || t.server_weight > 0 {
            out.push(Creator {
                anchor,
                rule,
                weight: t.weight,
                server_weight: t.server_weight,
                proto: t.proto,
                fam: t.fam,
                dir: t.dir,
                nat: t.nat,
                port: t.port,
                route_to: t.route_to,
            });
        }
    };
    for (m, (t, children)) in rs.main.iter().enumerate() {
        let m = m as u32;
        add(None, m, t);
        for (n, c) in children.iter().enumerate() {
            add(Some(m), n as u32, c);
        }
    }
    out
}

/// Picks an index by weight.
fn pick(rng: &mut Rng, weights: &[u64]) -> usize {
    let total: u64 = weights.iter().sum();
    let mut x = rng.below(total.max(1));
    for (i, w) in weights.iter().enumerate() {
        if x < *w {
            return i;
        }
        x -= w;
    }
    0
}

/// States per creating rule, counted while the states are written.
#[derive(Debug, Clone, Default)]
pub struct Tally {
    /// Same order as the generator's creators.
    counts: Vec<u64>,
    keys: Vec<(Option<u32>, u32)>,
    pub server_states: u64,
    pub default_rule: u64,
    pub states_bytes: u64,
}

impl Tally {
    pub fn states_of(&self, anchor: Option<u32>, rule: u32) -> u64 {
        self.keys
            .iter()
            .zip(&self.counts)
            .filter(|(k, _)| **k == (anchor, rule))
            .map(|(_, c)| *c)
            .sum()
    }
}

/// Streams the state table.
pub struct StateGen {
    opts: Options,
    rng: Rng,
    creators: Vec<Creator>,
    weights: Vec<u64>,
    server_weights: Vec<u64>,
    tally: Tally,
    iface_all: Arc<str>,
    iface_em0: Arc<str>,
    protos: [Arc<str>; 7],
    peer: [Arc<str>; 9],
    buf: String,
}

impl StateGen {
    pub fn new(opts: Options) -> Self {
        let creators = creators(&ruleset(opts.server));
        let weights = creators.iter().map(|c| c.weight).collect();
        let server_weights = creators.iter().map(|c| c.server_weight).collect();
        let tally = Tally {
            counts: vec![0; creators.len()],
            keys: creators.iter().map(|c| (c.anchor, c.rule)).collect(),
            ..Tally::default()
        };
        let a = |s: &str| -> Arc<str> { Arc::from(s) };
        StateGen {
            rng: Rng::new(opts.seed),
            opts,
            creators,
            weights,
            server_weights,
            tally,
            iface_all: a("all"),
            iface_em0: a("em0"),
            protos: [
                a("tcp"),
                a("udp"),
                a("icmp"),
                a("ipv6-icmp"),
                a("esp"),
                a("carp"),
                a("gre"),
            ],
            peer: [
                a("ESTABLISHED"),
                a("FIN_WAIT_2"),
                a("TIME_WAIT"),
                a("SYN_SENT"),
                a("CLOSED"),
                a("MULTIPLE"),
                a("SINGLE"),
                a("NO_TRAFFIC"),
                a("0"),
            ],
            buf: String::with_capacity(512),
        }
    }

    /// Writes all states to `w`; returns what was written, per rule.
    pub fn write_all(mut self, w: &mut impl Write) -> io::Result<Tally> {
        for i in 0..self.opts.states {
            let s = self.state(i);
            self.buf.clear();
            // Writing into a String cannot fail.
            let _ = write_state(&mut self.buf, &s, self.opts.flavor, self.opts.verbosity);
            w.write_all(self.buf.as_bytes())?;
            self.tally.states_bytes += self.buf.len() as u64;
        }
        Ok(self.tally)
    }

    /// The `i`-th state.
    pub fn state(&mut self, i: u64) -> State {
        let server = self.rng.below(1000) < self.opts.server_pct * 10;
        let default_rule = !server && self.rng.below(1000) == 0;
        let ci = if server {
            pick(&mut self.rng, &self.server_weights)
        } else {
            pick(&mut self.rng, &self.weights)
        };
        let c = &self.creators[ci];
        let (anchor, rule, dir, nat, cport, route_to) =
            (c.anchor, c.rule, c.dir, c.nat, c.port, c.route_to);
        let v6 = match (server, c.fam) {
            (true, _) => self.opts.server.is_ipv6(),
            (false, Fam::V4) => false,
            (false, Fam::V6) => true,
            (false, Fam::Both) => self.rng.pct(30),
        };
        let proto = match c.proto {
            _ if server => Proto::Tcp,
            Proto::Any => match self.rng.below(10) {
                0..=6 => Proto::Tcp,
                7 | 8 => Proto::Udp,
                _ => Proto::Icmp,
            },
            p => p,
        };
        let mut s = self.skeleton(i, proto, v6, dir);
        if server {
            self.make_server_state(&mut s, cport, route_to);
            self.tally.server_states += 1;
        } else if proto == Proto::Tcp || proto == Proto::Udp {
            self.translate(&mut s, nat, v6);
        }
        if default_rule {
            self.tally.default_rule += 1;
        } else {
            s.anchor = anchor;
            s.rule = Some(rule);
            self.tally.counts[ci] += 1;
        }
        s
    }

    fn host(&mut self, v6: bool, inside: bool) -> HostAddr {
        let r = self.rng.next_u64();
        HostAddr::Ip(match (v6, inside) {
            (false, true) => IpAddr::V4(Ipv4Addr::from(0x0a00_0000 | (r as u32 & 0x00ff_ffff))),
            (false, false) => {
                // Public-looking addresses, away from 10/8.
                let a = 11 + (r % 200) as u32;
                IpAddr::V4(Ipv4Addr::from((a << 24) | ((r >> 8) as u32 & 0x00ff_ffff)))
            }
            (true, true) => IpAddr::V6(Ipv6Addr::from(
                (0x2001_0db8_0001u128 << 80) | (r as u128 & 0xffff_ffff),
            )),
            (true, false) => IpAddr::V6(Ipv6Addr::from(
                (0x2a00u128 << 112) | ((r as u128) << 32) | ((r >> 32) as u128 & 0xffff),
            )),
        })
    }

    fn ephemeral(&mut self) -> u16 {
        32768 + self.rng.below(28000) as u16
    }

    fn skeleton(&mut self, i: u64, proto: Proto, v6: bool, dir: Direction) -> State {
        let (pi, well_known) = match proto {
            Proto::Tcp => (
                0,
                [443u16, 80, 22, 25, 993, 8080][self.rng.below(6) as usize],
            ),
            Proto::Udp => (1, [53u16, 123, 500, 4500, 443][self.rng.below(5) as usize]),
            Proto::Icmp => (if v6 { 3 } else { 2 }, 0),
            Proto::Esp => (4, 0),
            Proto::Carp => (5, 0),
            Proto::Gre | Proto::Any => (6, 0),
        };
        let inside_src = dir == Direction::Out;
        let src_addr = self.host(v6, inside_src);
        let dst_addr = self.host(v6, !inside_src);
        let (sport, dport) = match proto {
            Proto::Tcp | Proto::Udp => (Some(self.ephemeral()), Some(well_known)),
            Proto::Icmp => {
                let id = self.rng.below(65536) as u16;
                (Some(id), Some(id))
            }
            _ => (None, None),
        };
        let (src_state, dst_state, seq) = self.peers(proto);
        let r = self.rng.next_u64();
        let age = r % 86_400;
        let pk = (r >> 20) % 5000 + 1;
        State {
            line: 0,
            iface: if self.rng.pct(90) {
                self.iface_all.clone()
            } else {
                self.iface_em0.clone()
            },
            proto: self.protos[pi].clone(),
            direction: dir,
            src: Endpoint::new(src_addr, sport.map(Port::Num)),
            dst: Endpoint::new(dst_addr, dport.map(Port::Num)),
            src_nat: None,
            dst_nat: None,
            gateway: None,
            src_state,
            dst_state,
            age: Some(age),
            expires: Some((r >> 40) % 86_400),
            packets: Some((pk, pk / 2 + 1)),
            bytes: Some((pk * 90, pk * 700)),
            anchor: None,
            rule: None,
            flags: if self.rng.below(50) == 0 {
                vec!["log".into()]
            } else {
                Vec::new()
            },
            id: Some(0x64f1_a2b3_0000_0000 | i),
            creator_id: Some(0x4e1f_00c2),
            route: None,
            rtable: None,
            origif: None,
            seq: seq.map(Box::new),
            verbose: true,
        }
    }

    /// Peer states (initiator first) and TCP sequence windows.
    fn peers(&mut self, proto: Proto) -> (Arc<str>, Arc<str>, Option<(SeqWindow, SeqWindow)>) {
        let p = |i: usize| self.peer[i].clone();
        match proto {
            Proto::Tcp => {
                let (a, b) = match self.rng.below(20) {
                    0 => (1, 1),
                    1 => (2, 2),
                    2 => (3, 4),
                    _ => (0, 0),
                };
                let r = self.rng.next_u64();
                let win = |x: u64| SeqWindow {
                    seqlo: x as u32,
                    window: 1024 + (x >> 48) as u32 % 64_000,
                    seqdiff: None,
                    wscale: Some((x >> 40) as u8 % 9),
                };
                (p(a), p(b), Some((win(r), win(r.rotate_left(17)))))
            }
            Proto::Udp | Proto::Esp | Proto::Gre | Proto::Any => match self.rng.below(3) {
                0 => (p(5), p(6), None),
                1 => (p(6), p(7), None),
                _ => (p(5), p(5), None),
            },
            Proto::Icmp => (p(8), p(8), None),
            Proto::Carp => (p(6), p(7), None),
        }
    }

    fn make_server_state(&mut self, s: &mut State, port: u16, route_to: bool) {
        let server = HostAddr::Ip(self.opts.server);
        let client = self.host(self.opts.server.is_ipv6(), false);
        let cport = Some(Port::Num(self.ephemeral()));
        let sport = Some(Port::Num(port));
        if route_to {
            // Replies leave from the server: the state was opened by it.
            s.src = Endpoint::new(server, sport);
            s.dst = Endpoint::new(client, cport);
            s.route = Some(Box::new(StateRoute {
                kind: RouteKind::RouteTo,
                addr: Some(HostAddr::Ip(match self.opts.server {
                    IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 254)),
                    IpAddr::V6(_) => {
                        IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0xffff, 0, 0, 0, 0, 1))
                    }
                })),
                iface: match self.opts.flavor {
                    Flavor::OpenBsd | Flavor::MacOs => None,
                    _ => Some("gif0".into()),
                },
            }));
        } else {
            s.src = Endpoint::new(client, cport);
            s.dst = Endpoint::new(server, sport);
        }
    }

    fn translate(&mut self, s: &mut State, nat: Nat, v6: bool) {
        if v6 {
            return;
        }
        let public = HostAddr::Ip(IpAddr::V4(Ipv4Addr::new(203, 0, 113, 5)));
        match nat {
            Nat::Src => {
                let inside = s.src.clone();
                s.src = Endpoint::new(public, Some(Port::Num(self.ephemeral())));
                s.src_nat = Some(Box::new(inside));
            }
            Nat::Rdr => {
                let port = s.dst.port.clone();
                s.dst_nat = Some(Box::new(Endpoint::new(public, port)));
                s.dst = Endpoint::new(
                    HostAddr::Ip(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 80))),
                    s.dst.port.clone(),
                );
            }
            Nat::None => {}
        }
    }
}

/// Parses a template into a rule with `@N` and counters (panics on a bad
/// template: the templates are this file's constants, not input).
fn rule(text: &str, flavor: Flavor, number: u32, states: u64, rng: &mut Rng) -> Rule {
    let text = if flavor == Flavor::OpenBsd {
        text.to_owned()
    } else {
        // FreeBSD translates with separate nat/rdr rules.
        strip_translation(text)
    };
    let (mut r, issues) = match parse_rule_text(&text, false) {
        Ok(v) => v,
        Err(e) => panic!("bad template {text:?}: {e:?}"),
    };
    assert!(issues.is_empty(), "template {text:?}: {issues:?}");
    r.number = Some(number);
    // Rules that keep no state never created one.
    let created = if r.keeps_state() {
        states + rng.below(states * 3 + 10)
    } else {
        0
    };
    let packets = created * 12 + rng.below(1000);
    r.counters = Some(Counters {
        evaluations: created * 4 + rng.below(10_000),
        packets,
        bytes: packets * 700,
        states,
        state_creations: Some(created),
        inserted_uid: Some(0),
        inserted_pid: Some(31337),
        last_active: (flavor != Flavor::OpenBsd).then(|| "N/A".into()),
        source_nodes: None,
    });
    r
}

fn strip_translation(text: &str) -> String {
    let cut = [" nat-to ", " rdr-to "]
        .iter()
        .filter_map(|k| text.find(k))
        .min()
        .unwrap_or(text.len());
    text[..cut].to_owned()
}

/// Writes `pfctl -a '*' -vvsr` for the ruleset, with the tallied counters.
pub fn write_rules(w: &mut impl Write, opts: &Options, tally: &Tally) -> io::Result<()> {
    let rs = ruleset(opts.server);
    let mut rng = Rng::new(opts.seed ^ 0x5eed);
    let mut buf = String::new();
    for (m, (t, children)) in rs.main.iter().enumerate() {
        let m = m as u32;
        let own = tally.states_of(None, m);
        let inside: u64 = (0..children.len() as u32)
            .map(|n| tally.states_of(Some(m), n))
            .sum();
        let r = rule(&t.text, opts.flavor, m, own + inside, &mut rng);
        let mut line = String::new();
        let _ = write_rule(&mut line, &r, opts.flavor, Verbosity::VV);
        if children.is_empty() {
            buf.push_str(&line);
        } else {
            // The anchor line opens its block before its counter lines.
            buf.push_str(&line.replacen('\n', " {\n", 1));
            for (n, c) in children.iter().enumerate() {
                let n = n as u32;
                let cr = rule(
                    &c.text,
                    opts.flavor,
                    n,
                    tally.states_of(Some(m), n),
                    &mut rng,
                );
                let _ = write_rule(&mut buf, &cr, opts.flavor, Verbosity::VV);
            }
            let _ = writeln!(buf, "}}");
        }
    }
    w.write_all(buf.as_bytes())
}

/// Generates both files in memory: `(rules, states, tally)`.
pub fn generate(opts: &Options) -> (String, String, Tally) {
    let mut states = Vec::with_capacity(opts.states as usize * 300);
    let tally = match StateGen::new(opts.clone()).write_all(&mut states) {
        Ok(t) => t,
        Err(e) => panic!("writing to memory failed: {e}"),
    };
    let mut rules = Vec::new();
    if let Err(e) = write_rules(&mut rules, opts, &tally) {
        panic!("writing to memory failed: {e}");
    }
    (
        String::from_utf8_lossy(&rules).into_owned(),
        String::from_utf8_lossy(&states).into_owned(),
        tally,
    )
}

fn usage() -> ! {
    eprintln!(
        "usage: gen_table --states N --flavor openbsd|freebsd --seed S --out DIR [--server ADDR] [--verbosity vv|v]"
    );
    std::process::exit(2)
}

fn parse_args() -> (Options, PathBuf) {
    let mut opts = Options::new(100_000, Flavor::OpenBsd, 1);
    let mut out = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut val = || args.next().unwrap_or_else(|| usage());
        match a.as_str() {
            "--states" => opts.states = val().parse().unwrap_or_else(|_| usage()),
            "--seed" => opts.seed = val().parse().unwrap_or_else(|_| usage()),
            "--server" => opts.server = val().parse().unwrap_or_else(|_| usage()),
            "--out" => out = Some(PathBuf::from(val())),
            "--verbosity" => {
                opts.verbosity = match val().as_str() {
                    "vv" => Verbosity::VV,
                    "v" => Verbosity::V,
                    _ => usage(),
                }
            }
            "--flavor" => {
                opts.flavor = match val().as_str() {
                    "openbsd" => Flavor::OpenBsd,
                    "freebsd" => Flavor::FreeBsd,
                    _ => usage(),
                }
            }
            _ => usage(),
        }
    }
    (opts, out.unwrap_or_else(|| usage()))
}

#[allow(dead_code)] // the benches include this file as a module
fn main() -> io::Result<()> {
    let (opts, dir) = parse_args();
    std::fs::create_dir_all(&dir)?;
    let mut states =
        BufWriter::with_capacity(1 << 20, std::fs::File::create(dir.join("states.txt"))?);
    let tally = StateGen::new(opts.clone()).write_all(&mut states)?;
    states.flush()?;
    let mut rules = BufWriter::new(std::fs::File::create(dir.join("rules.txt"))?);
    write_rules(&mut rules, &opts, &tally)?;
    rules.flush()?;
    eprintln!(
        "{} states ({} bytes, {} for {}, {} by the default rule) in {}",
        opts.states,
        tally.states_bytes,
        tally.server_states,
        opts.server,
        tally.default_rule,
        dir.display()
    );
    Ok(())
}
