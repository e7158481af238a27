//! Property tests of the states parser and printer:
//! * no input makes the parser panic;
//! * a generated state printed with `write_state` (every flavor, every
//!   verbosity) parses back to the same state, for the fields that the
//!   verbosity prints.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use pfblame::model::{
    Direction, Endpoint, HostAddr, Port, RouteKind, SeqWindow, State, StateRoute,
};
use pfblame::parse::states::{looks_like_state, parse_states, read_states};
use pfblame::print::states::write_state;
use pfblame::print::{Flavor, Verbosity};
use proptest::prelude::*;
use proptest::sample::select;

/// Modest by default so CI stays fast; `PROPTEST_CASES=N` runs more.
fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(256)
}

const GOOD_LINES: &[&str] = &[
    "all tcp 203.0.113.5:61024 (192.168.1.10:51514) -> 93.184.216.34:443       ESTABLISHED:ESTABLISHED",
    "all tcp 10.0.0.7:8080 ((3) 10.2.2.2:80) <- 198.51.100.8:51000 {192.0.2.1}       CLOSED:SYN_SENT",
    "all tcp 2001:db8::10[443] <- 2001:db8:ffff::77[50412]       <BAD STATE LEVELS 1:2>",
    "   [3819234101 + 66560] wscale 7  [2234550001 + 65535] wscale 8",
    "   age 123:04:05, expires in 23:59:59, 1:2 pkts, 3:4 bytes, anchor 1, rule 2, log (all)",
    "   id: 0000000065a1b2c3 creatorid: 1a2b3c4d route-to: 192.0.2.254@em1 rtable: 1",
    "   origif: em2",
    "ALL tcp 10.0.0.5:80 <- 203.0.113.1:8080 <- 198.51.100.9:4444       ESTABLISHED:ESTABLISHED",
];

/// Lines made of the characters that matter to the grammar.
fn grammar_soup() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r"[ \t\n\r0-9a-fA-Z:.\[\](){}<>\-+,@?/!]{0,160}")
        .expect("valid regex")
}

/// A good line with a few characters replaced or inserted.
fn mutated_line() -> impl Strategy<Value = String> {
    (
        select(GOOD_LINES),
        proptest::collection::vec(
            (any::<prop::sample::Index>(), any::<char>(), any::<bool>()),
            1..4,
        ),
    )
        .prop_map(|(line, edits)| {
            let mut chars: Vec<char> = line.chars().collect();
            for (at, c, insert) in edits {
                let i = at.index(chars.len() + 1);
                if insert || i == chars.len() {
                    chars.insert(i, c);
                } else {
                    chars[i] = c;
                }
            }
            chars.into_iter().collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(cases()))]

    #[test]
    fn arbitrary_text_never_panics(text in any::<String>()) {
        let (_, diags) = parse_states(&text);
        prop_assert!(diags.iter().all(|d| d.line >= 1 && d.column >= 1));
        let _ = looks_like_state(&text);
    }

    #[test]
    fn grammar_like_text_never_panics(text in grammar_soup()) {
        let (states, diags) = parse_states(&text);
        for d in &diags {
            let line = text.split('\n').nth(d.line - 1).unwrap_or("");
            prop_assert!(d.column <= line.chars().count() + 1, "{d:?} on {line:?}");
        }
        // Streaming gives the same answer as the in-memory parser.
        let mut streamed = Vec::new();
        let mut sdiags = Vec::new();
        read_states(text.as_bytes(), |s| streamed.push(s), &mut sdiags).expect("read");
        prop_assert_eq!(streamed, states);
        prop_assert_eq!(sdiags, diags);
    }

    #[test]
    fn mutated_lines_never_panic(lines in proptest::collection::vec(mutated_line(), 1..6)) {
        let text = lines.join("\n");
        let (_, diags) = parse_states(&text);
        let count = text.split('\n').count();
        prop_assert!(diags.iter().all(|d| d.line >= 1 && d.line <= count));
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut diags = Vec::new();
        read_states(bytes.as_slice(), |_| {}, &mut diags).expect("read");
    }

    #[test]
    fn printed_states_parse_back(
        (flavor, states) in flavor_and_states(),
        verbosity in select(&[Verbosity::Plain, Verbosity::V, Verbosity::VV][..]),
    ) {
        let mut text = String::new();
        let mut expected = Vec::new();
        for s in &states {
            let line = text.lines().count() + 1;
            write_state(&mut text, s, flavor, verbosity).expect("write to String");
            expected.push(visible(s, flavor, verbosity, line));
        }
        let (parsed, diags) = parse_states(&text);
        prop_assert!(diags.is_empty(), "{:?}\n{}", diags, text);
        prop_assert_eq!(parsed, expected, "{}", text);
    }

    #[test]
    fn kill_keys_name_the_hosts(s in state(Flavor::FreeBsd)) {
        // FreeBSD states have numeric addresses and ports and no rdomain,
        // so every one of them can be named by a key.
        let key = pfblame::kill::state_key(&s);
        prop_assert!(key.is_ok(), "{:?}", key);
        let key = key.unwrap_or_default();
        let prefix = format!("{} ", s.proto);
        prop_assert!(key.starts_with(&prefix), "{}", key);
        prop_assert!(key.contains(" -> ") || key.contains(" <- "));
        let bracketed = key.contains('(') || key.contains('{');
        prop_assert!(!bracketed, "{}", key);
    }
}

/// What parsing `write_state(s, flavor, verbosity)` can give back.
fn visible(s: &State, flavor: Flavor, verbosity: Verbosity, line: usize) -> State {
    let mut e = s.clone();
    e.line = line;
    // The old format omits `lan` when it equals `gwy`: then it is a plain state.
    let lan = match s.direction {
        Direction::Out => &s.src,
        Direction::In => &s.dst,
    };
    if s.gateway.as_deref() == Some(lan) {
        e.gateway = None;
    }
    let freebsd = matches!(flavor, Flavor::FreeBsd | Flavor::PfSense);
    if verbosity == Verbosity::Plain {
        e.seq = None;
        e.age = None;
        e.expires = None;
        e.packets = None;
        e.bytes = None;
        e.anchor = None;
        e.rule = None;
        e.flags.clear();
    }
    if verbosity < Verbosity::VV {
        e.id = None;
        e.creator_id = None;
        if freebsd {
            e.route = None;
            e.rtable = None;
            e.origif = None;
        }
    }
    e.verbose = verbosity >= Verbosity::V;
    e
}

fn flavor_and_states() -> impl Strategy<Value = (Flavor, Vec<State>)> {
    select(
        &[
            Flavor::OpenBsd,
            Flavor::FreeBsd,
            Flavor::PfSense,
            Flavor::MacOs,
        ][..],
    )
    .prop_flat_map(|f| (Just(f), proptest::collection::vec(state(f), 1..4)))
}

fn ipv4() -> impl Strategy<Value = IpAddr> {
    any::<u32>().prop_map(|n| IpAddr::V4(Ipv4Addr::from(n)))
}

fn ipv6() -> impl Strategy<Value = IpAddr> {
    prop_oneof![
        any::<u128>().prop_map(|n| IpAddr::V6(Ipv6Addr::from(n))),
        // Short forms with long zero runs, where text forms differ most.
        (any::<u16>(), any::<u16>())
            .prop_map(|(a, b)| { IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, a, b)) }),
        any::<u32>().prop_map(|n| IpAddr::V6(Ipv4Addr::from(n).to_ipv6_mapped())),
    ]
}

fn name() -> impl Strategy<Value = Box<str>> {
    proptest::string::string_regex("[a-z][a-z0-9-]{0,10}")
        .expect("valid regex")
        .prop_map(String::into_boxed_str)
}

/// An address of family `v6`; OpenBSD `-r` may print host names instead.
fn host_addr(v6: bool, names: bool) -> BoxedStrategy<HostAddr> {
    let ip = if v6 { ipv6().boxed() } else { ipv4().boxed() };
    if names {
        prop_oneof![
            8 => ip.prop_map(HostAddr::Ip),
            1 => name().prop_map(HostAddr::Name),
            1 => Just(HostAddr::Name("?".into())),
        ]
        .boxed()
    } else {
        ip.prop_map(HostAddr::Ip).boxed()
    }
}

fn port(with_port: bool, names: bool) -> BoxedStrategy<Option<Port>> {
    if !with_port {
        return Just(None).boxed();
    }
    if names {
        prop_oneof![
            3 => any::<u16>().prop_map(|p| Some(Port::Num(p))),
            1 => name().prop_map(|n| Some(Port::Name(n))),
        ]
        .boxed()
    } else {
        any::<u16>().prop_map(|p| Some(Port::Num(p))).boxed()
    }
}

fn endpoint(flavor: Flavor, v6: bool, with_port: bool) -> BoxedStrategy<Endpoint> {
    let openbsd = flavor == Flavor::OpenBsd;
    let rdomain = if openbsd {
        prop_oneof![3 => Just(None), 1 => any::<u32>().prop_map(Some)].boxed()
    } else {
        Just(None).boxed()
    };
    (host_addr(v6, openbsd), port(with_port, openbsd), rdomain)
        .prop_map(|(addr, port, rdomain)| Endpoint {
            addr,
            port,
            rdomain,
        })
        .boxed()
}

/// A protocol with the peer-state pairs pfctl prints for it.
fn proto_and_pair(flavor: Flavor) -> BoxedStrategy<(&'static str, bool, (String, String))> {
    const TCP: &[&str] = &[
        "CLOSED",
        "LISTEN",
        "SYN_SENT",
        "SYN_RCVD",
        "ESTABLISHED",
        "CLOSE_WAIT",
        "FIN_WAIT_1",
        "CLOSING",
        "LAST_ACK",
        "FIN_WAIT_2",
        "TIME_WAIT",
    ];
    const OTHERS: &[&str] = &["NO_TRAFFIC", "SINGLE", "MULTIPLE"];
    const SCTP: &[&str] = &[
        "CLOSED",
        "BOUND",
        "LISTEN",
        "COOKIE_WAIT",
        "COOKIE_ECHOED",
        "ESTABLISHED",
        "SHUTDOWN_SENT",
        "SHUTDOWN_RECEIVED",
        "SHUTDOWN_ACK_SENT",
        "SHUTDOWN_PENDING",
        "?",
    ];
    let names = |list: &'static [&'static str]| {
        (select(list), select(list)).prop_map(|(a, b)| (a.to_owned(), b.to_owned()))
    };
    let levels = (0u32..100, 0u32..100).prop_map(|(a, b)| (a.to_string(), b.to_string()));
    let tcp = prop_oneof![
        8 => names(TCP),
        1 => select(&["SRC", "DST"][..]).prop_map(|w| ("PROXY".to_owned(), w.to_owned())),
        1 => levels.clone(),
    ];
    let mut choices = vec![
        tcp.prop_map(|p| ("tcp", true, p)).boxed(),
        names(OTHERS).prop_map(|p| ("udp", true, p)).boxed(),
        levels.clone().prop_map(|p| ("icmp", true, p)).boxed(),
        levels.prop_map(|p| ("ipv6-icmp", true, p)).boxed(),
        names(OTHERS).prop_map(|p| ("esp", false, p)).boxed(),
        names(OTHERS).prop_map(|p| ("200", false, p)).boxed(),
    ];
    if matches!(flavor, Flavor::FreeBsd | Flavor::PfSense) {
        choices.push(names(SCTP).prop_map(|p| ("sctp", true, p)).boxed());
    }
    proptest::strategy::Union::new(choices).boxed()
}

fn seq_window(wscale: bool) -> impl Strategy<Value = SeqWindow> {
    (
        any::<u32>(),
        any::<u32>(),
        proptest::option::of(any::<u32>()),
        0u8..16,
    )
        .prop_map(move |(seqlo, window, seqdiff, ws)| SeqWindow {
            seqlo,
            window,
            seqdiff,
            wscale: wscale.then_some(ws),
        })
}

const FLAGS: &[&str] = &[
    "sloppy",
    "pflow",
    "source-track",
    "sticky-address",
    "no-sync",
    "set-tos 0x10",
    "set-prio (0x01 0x02)",
    "dummynet pipe (1 2)",
    "log (all)",
    "max-mss 1400",
    "limit source-track global",
    "NAT/RDR sticky-address",
    "rlabel 7",
    "tag 5",
    "flowhash 0x1a2b3c4d",
];

/// Main-line shape: plain, NAT on either side, af-to, or three addresses.
#[derive(Debug, Clone, Copy)]
enum Shape {
    Plain,
    Nat,
    AfTo,
    ThreeAddress,
}

fn shape(flavor: Flavor) -> BoxedStrategy<Shape> {
    match flavor {
        Flavor::OpenBsd => {
            prop_oneof![Just(Shape::Plain), Just(Shape::Nat), Just(Shape::AfTo)].boxed()
        }
        Flavor::FreeBsd => {
            prop_oneof![Just(Shape::Plain), Just(Shape::Nat), Just(Shape::AfTo)].boxed()
        }
        Flavor::PfSense => prop_oneof![Just(Shape::Plain), Just(Shape::Nat)].boxed(),
        Flavor::MacOs => prop_oneof![Just(Shape::Plain), Just(Shape::ThreeAddress)].boxed(),
    }
}

fn route(flavor: Flavor) -> BoxedStrategy<Option<StateRoute>> {
    let addr = prop_oneof![ipv4(), ipv6()].prop_map(HostAddr::Ip);
    match flavor {
        Flavor::OpenBsd => proptest::option::of(addr.prop_map(|a| StateRoute {
            kind: RouteKind::RouteTo,
            addr: Some(a),
            iface: None,
        }))
        .boxed(),
        Flavor::FreeBsd | Flavor::PfSense => proptest::option::of(
            (
                select(
                    &[
                        RouteKind::RouteTo,
                        RouteKind::ReplyTo,
                        RouteKind::DupTo,
                        RouteKind::Gateway,
                    ][..],
                ),
                addr,
                proptest::option::of(iface()),
            )
                .prop_map(|(kind, a, iface)| StateRoute {
                    kind,
                    addr: Some(a),
                    iface,
                }),
        )
        .boxed(),
        Flavor::MacOs => Just(None).boxed(),
    }
}

fn iface() -> impl Strategy<Value = Box<str>> {
    proptest::string::string_regex("[a-z]{1,5}[0-9]{1,2}(\\.[0-9]{1,3})?")
        .expect("valid regex")
        .prop_map(String::into_boxed_str)
}

#[derive(Debug, Clone)]
struct Counters {
    age: u64,
    expires: u64,
    packets: (u64, u64),
    bytes: (u64, u64),
    anchor: Option<u32>,
    rule: Option<u32>,
    flags: Vec<Box<str>>,
    id: u64,
    creator_id: u32,
}

fn counters() -> impl Strategy<Value = Counters> {
    (
        (
            any::<u64>(),
            any::<u64>(),
            any::<(u64, u64)>(),
            any::<(u64, u64)>(),
        ),
        (
            proptest::option::of(any::<u32>()),
            proptest::option::of(any::<u32>()),
        ),
        proptest::collection::vec(select(FLAGS).prop_map(Box::from), 0..4),
        (any::<u64>(), any::<u32>()),
    )
        .prop_map(
            |((age, expires, packets, bytes), (anchor, rule), flags, (id, creator_id))| Counters {
                age,
                expires,
                packets,
                bytes,
                anchor,
                rule,
                flags,
                id,
                creator_id,
            },
        )
}

/// A state that `flavor`'s pfctl could print.
fn state(flavor: Flavor) -> impl Strategy<Value = State> {
    let freebsd = matches!(flavor, Flavor::FreeBsd | Flavor::PfSense);
    let iface_name = if flavor == Flavor::MacOs {
        Just(Box::<str>::from("ALL")).boxed()
    } else {
        prop_oneof![Just(Box::<str>::from("all")), iface()].boxed()
    };
    (
        (
            iface_name,
            proto_and_pair(flavor),
            shape(flavor),
            any::<bool>(),
            any::<bool>(),
        ),
        (counters(), route(flavor), any::<bool>()),
        (
            proptest::option::of(any::<u32>()),
            proptest::option::of(iface()),
        ),
    )
        .prop_flat_map(
            move |(
                (iface, (proto, ports, pair), shape, v6, out),
                (c, route, wscale),
                (rtable, origif),
            )| {
                let ep = |v6| endpoint(flavor, v6, ports);
                let direction = match shape {
                    // af-to rules are inbound only.
                    Shape::AfTo => Direction::In,
                    _ if out => Direction::Out,
                    _ => Direction::In,
                };
                let src_nat = match shape {
                    Shape::Nat => proptest::option::of(ep(v6)).boxed(),
                    Shape::AfTo => ep(!v6).prop_map(Some).boxed(),
                    _ => Just(None).boxed(),
                };
                let dst_nat = match shape {
                    Shape::Nat => proptest::option::of(ep(v6)).boxed(),
                    Shape::AfTo => ep(!v6).prop_map(Some).boxed(),
                    _ => Just(None).boxed(),
                };
                let gateway = match shape {
                    Shape::ThreeAddress => ep(v6).prop_map(Some).boxed(),
                    _ => Just(None).boxed(),
                };
                let seq = if proto == "tcp" {
                    proptest::option::of((seq_window(wscale), seq_window(wscale))).boxed()
                } else {
                    Just(None).boxed()
                };
                let route = if matches!(shape, Shape::ThreeAddress) {
                    None
                } else {
                    route.clone()
                };
                let (iface, pair, c, origif) =
                    (iface.clone(), pair.clone(), c.clone(), origif.clone());
                (ep(v6), ep(v6), src_nat, dst_nat, gateway, seq).prop_map(
                    move |(src, dst, src_nat, dst_nat, gateway, seq)| State {
                        line: 1,
                        iface: Arc::from(&*iface),
                        proto: Arc::from(proto),
                        direction,
                        src,
                        dst,
                        src_nat: src_nat.map(Box::new),
                        dst_nat: dst_nat.map(Box::new),
                        gateway: gateway.map(Box::new),
                        src_state: Arc::from(pair.0.as_str()),
                        dst_state: Arc::from(pair.1.as_str()),
                        age: Some(c.age),
                        expires: Some(c.expires),
                        packets: Some(c.packets),
                        bytes: Some(c.bytes),
                        anchor: c.anchor,
                        rule: c.rule,
                        flags: c.flags.clone(),
                        id: Some(c.id),
                        creator_id: Some(c.creator_id),
                        route: route.clone().map(Box::new),
                        rtable: if freebsd { rtable } else { None },
                        origif: if freebsd { origif.clone() } else { None },
                        seq: seq.map(Box::new),
                        verbose: true,
                    },
                )
            },
        )
}
