//! Property tests: the rules and mixed-input parsers never panic, and a
//! generated rule printed the way OpenBSD or FreeBSD prints it parses back to
//! the same structured fields at `-sr`, `-vsr` and `-vvsr`.
#![allow(clippy::unwrap_used)]

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use pfblame::model::{
    Action, AddrSpec, Counters, Direction, Family, HostSpec, IfaceSpec, PoolOpts, PoolType, Port,
    PortOp, PortSpec, RouteKind, Rule, RuleRoute, StatePolicy,
};
use pfblame::parse::info::parse_info;
use pfblame::parse::parse_any;
use pfblame::parse::rules::parse_rules;
use pfblame::print::rules::rule_to_string;
use pfblame::print::{Flavor, Verbosity};
use proptest::prelude::*;
use proptest::sample::select;

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 200,
        ..ProptestConfig::default()
    }
}

/// Tokens that steer the parser into its less common paths.
const WORDS: &[&str] = &[
    "pass",
    "block",
    "anchor",
    "@0",
    "@1(7)",
    "{",
    "}",
    "(",
    ")",
    "\"",
    "from",
    "to",
    "port",
    "=",
    "><",
    "!",
    "-",
    "route-to",
    "(em0",
    "192.0.2.1",
    "2001:db8::1",
    "<t:1>",
    "keep",
    "state",
    "(max",
    "label",
    "\"a b\"",
    "# expired",
    "[",
    "]",
    "Evaluations:",
    "18446744073709551616",
    "Inserted:",
    "uid",
    "STATES:",
    "FILTER RULES:",
    "Status:",
    "all",
    "->",
    "   age",
    "\r",
    "\n",
    "af-to",
    "inet6",
    "nat-to",
    "source-hash",
    "0x",
    "limiter",
    "é",
];

proptest! {
    #![proptest_config(config())]

    #[test]
    fn arbitrary_text_never_panics(s in "\\PC*") {
        let _ = parse_rules(&s);
        let _ = parse_any(&s);
        let _ = parse_info(&s);
    }

    #[test]
    fn rule_like_text_never_panics(words in prop::collection::vec(select(WORDS), 0..40),
                                   seps in prop::collection::vec(select(&[" ", "\n", "  ", ""][..]), 40)) {
        let mut s = String::new();
        for (w, sep) in words.iter().zip(seps.iter()) {
            s.push_str(w);
            s.push_str(sep);
        }
        let (rules, diags) = parse_rules(&s);
        for d in &diags {
            prop_assert!(d.line >= 1 && d.column >= 1);
        }
        for r in &rules {
            prop_assert!(r.line >= 1);
        }
        let _ = parse_any(&s);
    }

    #[test]
    fn printed_rules_parse_back(
        rule in arb_rule(),
        flavor in select(&[Flavor::OpenBsd, Flavor::FreeBsd][..]),
        verbosity in select(&[Verbosity::Plain, Verbosity::V, Verbosity::VV][..]),
    ) {
        let mut rule = rule;
        if flavor != Flavor::OpenBsd {
            rule.expired = false;
        }
        let text = rule_to_string(&rule, flavor, verbosity);
        let (parsed, diags) = parse_rules(&text);
        prop_assert!(diags.is_empty(), "{text}\n{diags:#?}");
        prop_assert_eq!(parsed.len(), 1, "{}", text);
        let got = &parsed[0];
        prop_assert!(got.unknown.is_empty(), "{text}\n{:?}", got.unknown);
        let want = expected(&rule, flavor, verbosity, got);
        prop_assert_eq!(got, &want, "{}", text);
    }
}

/// What the parser should give back: the generated rule, minus what this
/// flavor and verbosity do not print.
fn expected(r: &Rule, flavor: Flavor, v: Verbosity, got: &Rule) -> Rule {
    let mut w = r.clone();
    w.line = 1;
    w.text = got.text.clone();
    // How it was printed (order, `-vv` counts), not what it means.
    w.layout = got.layout.clone();
    w.addr_counts = got.addr_counts.clone();
    // The printer writes `flags S/SA` for stateful TCP pass rules, and
    // OpenBSD leaves out a plain `keep state`.
    let tcp = r.protos.is_empty() || r.protos.iter().any(|p| &**p == "tcp");
    if r.action == Action::Pass && r.keeps_state() && tcp {
        w.flags = Some("S/SA".into());
    }
    w.state_implied =
        flavor == Flavor::OpenBsd && r.state == Some(StatePolicy::Keep) && r.state_opts.is_empty();
    if v != Verbosity::VV {
        // Not printed: the parser numbers the rule by its position.
        w.number = Some(0);
        w.number_inferred = true;
    }
    w.listing = got.listing.clone();
    w.counters = match v {
        Verbosity::Plain => None,
        _ => r.counters.clone().map(|mut c| {
            if flavor == Flavor::OpenBsd {
                c.source_nodes = None;
            }
            if flavor == Flavor::OpenBsd || v != Verbosity::VV {
                c.last_active = None;
            }
            c
        }),
    };
    w
}

fn ifname() -> impl Strategy<Value = &'static str> {
    select(&["em0", "gif0", "vtnet1", "em0.100", "lo0"][..])
}

fn arb_net() -> impl Strategy<Value = IpNet> {
    prop_oneof![
        (any::<u32>(), 0u8..=32)
            .prop_map(|(a, l)| { IpNet::new(IpAddr::V4(Ipv4Addr::from(a)), l).unwrap() }),
        (any::<u128>(), 0u8..=128)
            .prop_map(|(a, l)| { IpNet::new(IpAddr::V6(Ipv6Addr::from(a)), l).unwrap() }),
    ]
}

fn arb_addr() -> impl Strategy<Value = AddrSpec> {
    let neg = any::<bool>();
    prop_oneof![
        (arb_net(), neg).prop_map(|(net, negated)| AddrSpec::Net { net, negated }),
        (any::<u32>(), any::<u32>(), neg).prop_map(|(a, b, negated)| AddrSpec::Range {
            from: IpAddr::V4(Ipv4Addr::from(a)),
            to: IpAddr::V4(Ipv4Addr::from(b)),
            negated
        }),
        (select(&["bruteforce", "web_hosts", "t"][..]), neg).prop_map(|(n, negated)| {
            AddrSpec::Table {
                name: n.into(),
                negated,
            }
        }),
        (
            ifname(),
            proptest::option::of(select(
                &["network", "broadcast", "peer", "0", "network:0"][..]
            )),
            proptest::option::of(0u8..=32),
            neg
        )
            .prop_map(|(i, m, p, negated)| AddrSpec::Dynamic {
                iface: i.into(),
                modifier: m.map(Into::into),
                prefix: p,
                negated
            }),
        (
            select(
                &[
                    "self",
                    "no-route",
                    "urpf-failed",
                    "route \"wan\"",
                    "host.example"
                ][..]
            ),
            neg
        )
            .prop_map(|(t, negated)| AddrSpec::Other {
                text: t.into(),
                negated
            }),
    ]
}

fn arb_port() -> impl Strategy<Value = Port> {
    prop_oneof![
        any::<u16>().prop_map(Port::Num),
        select(&["https", "domain", "ssh"][..]).prop_map(|s| Port::Name(s.into())),
    ]
}

fn arb_port_spec() -> impl Strategy<Value = PortSpec> {
    const OPS: [PortOp; 9] = [
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
    (select(&OPS[..]), arb_port(), arb_port()).prop_map(|(op, a, b)| {
        let binary = matches!(op, PortOp::Range | PortOp::Inside | PortOp::Outside);
        PortSpec {
            op,
            a,
            b: binary.then_some(b),
        }
    })
}

fn arb_host(is_from: bool) -> impl Strategy<Value = HostSpec> {
    (
        prop::collection::vec(arb_addr(), 0..3),
        prop::collection::vec(arb_port_spec(), 0..3),
        proptest::option::of(Just("OpenBSD 7.4")),
    )
        .prop_map(move |(addrs, ports, os)| HostSpec {
            addrs,
            ports,
            os: os.filter(|_| is_from).map(Into::into),
        })
}

fn arb_route() -> impl Strategy<Value = RuleRoute> {
    (
        select(&[RouteKind::RouteTo, RouteKind::ReplyTo, RouteKind::DupTo][..]),
        ifname(),
        proptest::option::of(arb_net().prop_map(|n| n.addr())),
    )
        .prop_map(|(kind, i, addr)| RuleRoute {
            kind,
            target: match addr {
                Some(a) => format!("({i} {a})").into(),
                None => i.into(),
            },
            pool: Default::default(),
            ifaces: vec![i.into()],
            addrs: addr.into_iter().collect(),
        })
}

/// The generated pools as the parser reads them: the addresses, and the
/// options `print_pool()` prints after them.
fn pool_of(text: &str) -> (Box<str>, PoolOpts) {
    let rr = Some(PoolType::RoundRobin);
    let port = |p: &str| Some(p.into());
    match text {
        "10.0.0.2 port 22" => (
            "10.0.0.2".into(),
            PoolOpts {
                port: port("22"),
                ..PoolOpts::default()
            },
        ),
        "{ ::1, fe80::1 } round-robin" => (
            "{ ::1, fe80::1 }".into(),
            PoolOpts {
                kind: rr,
                ..PoolOpts::default()
            },
        ),
        "<web_hosts> port 8080 round-robin" => (
            "<web_hosts>".into(),
            PoolOpts {
                port: port("8080"),
                kind: rr,
                ..PoolOpts::default()
            },
        ),
        other => (other.into(), PoolOpts::default()),
    }
}

fn arb_counters() -> impl Strategy<Value = Counters> {
    (
        any::<[u64; 4]>(),
        proptest::option::of(any::<u64>()),
        any::<(u32, u32)>(),
        proptest::option::of(select(&["N/A", "Tue Mar  4 10:11:12 2025"][..])),
        proptest::option::of(any::<[u64; 4]>()),
    )
        .prop_map(|(c, sc, (uid, pid), la, sn)| Counters {
            evaluations: c[0],
            packets: c[1],
            bytes: c[2],
            states: c[3],
            state_creations: sc,
            inserted_uid: Some(uid.into()),
            inserted_pid: Some(pid.into()),
            last_active: la.map(Into::into),
            source_nodes: sn,
        })
}

const PROTOS: &[&[&str]] = &[&[], &["tcp"], &["udp"], &["tcp", "udp"], &["ipv6-icmp"]];

prop_compose! {
    fn arb_head()(
        action in select(&[Action::Pass, Action::Block, Action::Match][..]),
        direction in proptest::option::of(select(&[Direction::In, Direction::Out][..])),
        log in any::<bool>(),
        quick in any::<bool>(),
        iface in proptest::option::of((ifname(), any::<bool>())),
        family in proptest::option::of(select(&[Family::Inet, Family::Inet6][..])),
        protos in select(PROTOS),
        number in 0u32..5000,
    ) -> (Action, Option<Direction>, bool, bool, Option<IfaceSpec>, Option<Family>, Vec<Box<str>>, u32) {
        let iface = iface.map(|(n, negated)| IfaceSpec { name: n.into(), negated });
        (action, direction, log, quick, iface, family, protos.iter().map(|p| (*p).into()).collect(), number)
    }
}

prop_compose! {
    fn arb_rule()(
        head in arb_head(),
        from in arb_host(true),
        to in arb_host(false),
        state in select(&[StatePolicy::Keep, StatePolicy::No, StatePolicy::Modulate, StatePolicy::Synproxy][..]),
        opts in prop::collection::vec(select(&["max 100", "pflow", "source-track rule", "if-bound", "tcp.established 600"][..]), 0..3),
        route in proptest::option::of(arb_route()),
        labels in prop::collection::vec(select(&["dns", "a b", "USER_RULE: x"][..]), 0..3),
        tag in proptest::option::of(Just("T1")),
        tagged in proptest::option::of(select(&["T2", "! T3"][..])),
        rtable in proptest::option::of(0u32..256),
        nat in proptest::option::of(select(&["(egress:0)", "10.0.0.2 port 22", "{ ::1, fe80::1 } round-robin"][..])),
        rdr in proptest::option::of(select(&["<web_hosts> port 8080 round-robin", "10.0.0.10"][..])),
        af in proptest::option::of(Just("inet6 from 2001:db8::1 to 2001:db8::2")),
        expired in any::<bool>(),
        counters in proptest::option::of(arb_counters()),
    ) -> Rule {
        let (action, direction, log, quick, iface, family, protos, number) = head;
        let passes = action == Action::Pass;
        let state = passes.then_some(state);
        let state_opts = if state.is_some_and(|s| s != StatePolicy::No) {
            opts.into_iter().map(Into::into).collect()
        } else {
            Vec::new()
        };
        let translates = action != Action::Block;
        Rule {
            line: 1,
            number: Some(number),
            ridentifier: None,
            anchor_path: String::new(),
            action,
            anchor_name: None,
            direction,
            log,
            quick,
            iface,
            family,
            protos,
            from,
            to,
            state,
            state_opts,
            route,
            labels: labels.into_iter().map(Into::into).collect(),
            tag: tag.map(Into::into),
            tagged: tagged.map(Into::into),
            rtable,
            nat_to: nat.filter(|_| translates).map(|p| pool_of(p).0),
            nat_pool: nat.filter(|_| translates).map(|p| pool_of(p).1).unwrap_or_default(),
            rdr_to: rdr.filter(|_| translates).map(|p| pool_of(p).0),
            rdr_pool: rdr.filter(|_| translates).map(|p| pool_of(p).1).unwrap_or_default(),
            af_to: af.filter(|_| translates).map(Into::into),
            expired,
            scrub: false,
            text: String::new(),
            counters,
            unknown: Vec::new(),
            ..Rule::new(Action::Pass)
        }
    }
}
