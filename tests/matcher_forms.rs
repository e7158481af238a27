//! The rule matcher on every address, port and interface form.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure

mod lint_support;

use lint_support::*;
use pfblame::model::{AddrSpec, Direction, Family, PortOp};
use pfblame::pf::matcher::{Match, Packet, matches, tcp_flags};

fn pkt(dst: &str, dst_port: u16) -> Packet {
    Packet {
        family: if dst.contains(':') {
            Family::Inet6
        } else {
            Family::Inet
        },
        proto: "tcp".into(),
        src: Some(
            if dst.contains(':') {
                "2001:db8:ffff::1"
            } else {
                "198.51.100.7"
            }
            .parse()
            .unwrap(),
        ),
        src_port: Some(50000),
        dst: Some(dst.parse().unwrap()),
        dst_port: Some(dst_port),
        iface: "em1".into(),
        direction: Direction::Out,
        tcp_flags: Some(tcp_flags::SYN),
    }
}

fn to(a: AddrSpec) -> pfblame::model::Rule {
    rule(1).no_state().to(a).build()
}

#[test]
fn prefixes_and_hosts() {
    assert_eq!(
        matches(&to(net("2001:db8::/64")), &pkt("2001:db8::10", 443)),
        Match::Yes
    );
    assert_eq!(
        matches(&to(net("2001:db8:1::/64")), &pkt("2001:db8::10", 443)),
        Match::No
    );
    assert_eq!(
        matches(&to(net("2001:db8::10/128")), &pkt("2001:db8:0:0::10", 443)),
        Match::Yes
    );
    assert_eq!(
        matches(&to(net("10.0.0.0/8")), &pkt("10.1.2.3", 443)),
        Match::Yes
    );
    // An IPv4 prefix never holds for an IPv6 packet.
    assert_eq!(
        matches(&to(net("10.0.0.0/8")), &pkt("2001:db8::10", 443)),
        Match::No
    );
}

#[test]
fn negations() {
    assert_eq!(
        matches(&to(not_net("2001:db8::/64")), &pkt("2001:db8::10", 443)),
        Match::No
    );
    assert_eq!(
        matches(&to(not_net("2001:db8:1::/64")), &pkt("2001:db8::10", 443)),
        Match::Yes
    );
}

#[test]
fn ranges_inclusive_and_negated() {
    let range = |neg| AddrSpec::Range {
        from: "10.0.0.5".parse().unwrap(),
        to: "10.0.0.9".parse().unwrap(),
        negated: neg,
    };
    assert_eq!(matches(&to(range(false)), &pkt("10.0.0.5", 1)), Match::Yes);
    assert_eq!(matches(&to(range(false)), &pkt("10.0.0.9", 1)), Match::Yes);
    assert_eq!(matches(&to(range(false)), &pkt("10.0.0.10", 1)), Match::No);
    assert_eq!(matches(&to(range(true)), &pkt("10.0.0.10", 1)), Match::Yes);
    assert_eq!(
        matches(&to(range(false)), &pkt("2001:db8::10", 1)),
        Match::No
    );
}

#[test]
fn lists_follow_pf_expansion() {
    // `{ 2001:db8:1::/64, !2001:db8::/64 }` is two rules: the second holds
    // for everything outside 2001:db8::/64, the first for 2001:db8:1::/64.
    let r = rule(1)
        .no_state()
        .to(net("2001:db8:1::/64"))
        .to(not_net("2001:db8::/64"))
        .build();
    assert_eq!(matches(&r, &pkt("2001:db8:1::5", 1)), Match::Yes);
    assert_eq!(matches(&r, &pkt("2001:db8:2::5", 1)), Match::Yes);
    assert_eq!(matches(&r, &pkt("2001:db8::10", 1)), Match::No);
}

#[test]
fn tables_dynamic_and_names_are_unknown() {
    let table = AddrSpec::Table {
        name: "servers".into(),
        negated: false,
    };
    let dynamic = AddrSpec::Dynamic {
        iface: "em0".into(),
        modifier: None,
        prefix: None,
        negated: false,
    };
    let name = AddrSpec::Other {
        text: "www.example.org".into(),
        negated: false,
    };
    for a in [table, dynamic, name] {
        assert!(matches!(
            matches(&to(a), &pkt("2001:db8::10", 443)),
            Match::Unknown(_)
        ));
    }
    // Another criterion that fails still says no.
    let r = rule(1)
        .no_state()
        .dir_in()
        .to(AddrSpec::Table {
            name: "t".into(),
            negated: false,
        })
        .build();
    assert_eq!(matches(&r, &pkt("2001:db8::10", 443)), Match::No);
}

#[test]
fn unknown_address_of_the_client() {
    let mut p = pkt("2001:db8::10", 443);
    p.src = None;
    let any_src = rule(1).no_state().to(net("2001:db8::10/128")).build();
    assert_eq!(matches(&any_src, &p), Match::Yes);
    let some_src = rule(1).no_state().from(net("2001:db8:ffff::/48")).build();
    assert!(matches!(matches(&some_src, &p), Match::Unknown(_)));
}

#[test]
fn every_port_operator() {
    let cases: &[(PortOp, u16, Option<u16>, u16, bool)] = &[
        (PortOp::Eq, 443, None, 443, true),
        (PortOp::Eq, 443, None, 80, false),
        (PortOp::Ne, 443, None, 80, true),
        (PortOp::Ne, 443, None, 443, false),
        (PortOp::Lt, 1024, None, 1023, true),
        (PortOp::Lt, 1024, None, 1024, false),
        (PortOp::Le, 1024, None, 1024, true),
        (PortOp::Gt, 1024, None, 1025, true),
        (PortOp::Gt, 1024, None, 1024, false),
        (PortOp::Ge, 1024, None, 1024, true),
        (PortOp::Range, 6000, Some(6010), 6000, true),
        (PortOp::Range, 6000, Some(6010), 6010, true),
        (PortOp::Range, 6000, Some(6010), 6011, false),
        (PortOp::Inside, 6000, Some(6010), 6000, false),
        (PortOp::Inside, 6000, Some(6010), 6005, true),
        (PortOp::Inside, 6000, Some(6010), 6010, false),
        (PortOp::Outside, 6000, Some(6010), 6000, false),
        (PortOp::Outside, 6000, Some(6010), 5999, true),
        (PortOp::Outside, 6000, Some(6010), 6011, true),
        (PortOp::Outside, 6000, Some(6010), 6005, false),
    ];
    for &(op, a, b, p, want) in cases {
        let r = rule(1).no_state().to_port(port(op, a, b)).build();
        let got = matches(&r, &pkt("2001:db8::10", p));
        assert_eq!(
            got,
            if want { Match::Yes } else { Match::No },
            "{op:?} {a} {b:?} vs {p}"
        );
    }
}

#[test]
fn port_lists_and_named_ports() {
    let r = rule(1)
        .no_state()
        .to_port(port(PortOp::Eq, 80, None))
        .to_port(port(PortOp::Eq, 443, None))
        .build();
    assert_eq!(matches(&r, &pkt("2001:db8::10", 443)), Match::Yes);
    assert_eq!(matches(&r, &pkt("2001:db8::10", 22)), Match::No);
    let https = rule(1).no_state().to_port(named_port("https")).build();
    assert_eq!(matches(&https, &pkt("2001:db8::10", 443)), Match::Yes);
    assert_eq!(matches(&https, &pkt("2001:db8::10", 80)), Match::No);
    let odd = rule(1)
        .no_state()
        .to_port(named_port("no-such-service"))
        .build();
    assert!(matches!(
        matches(&odd, &pkt("2001:db8::10", 443)),
        Match::Unknown(_)
    ));
}

#[test]
fn interfaces_negation_and_groups() {
    let p = pkt("2001:db8::10", 443);
    assert_eq!(
        matches(&rule(1).no_state().on("em1").build(), &p),
        Match::Yes
    );
    assert_eq!(
        matches(&rule(1).no_state().on("em0").build(), &p),
        Match::No
    );
    assert_eq!(
        matches(&rule(1).no_state().not_on("em1").build(), &p),
        Match::No
    );
    assert_eq!(
        matches(&rule(1).no_state().not_on("em0").build(), &p),
        Match::Yes
    );
    assert!(matches!(
        matches(&rule(1).no_state().on("egress").build(), &p),
        Match::Unknown(_)
    ));
}

#[test]
fn direction_family_proto_and_all() {
    let p = pkt("2001:db8::10", 443);
    assert_eq!(
        matches(&rule(1).no_state().build(), &p),
        Match::Yes,
        "`all`"
    );
    assert_eq!(matches(&rule(1).no_state().dir_in().build(), &p), Match::No);
    assert_eq!(
        matches(&rule(1).no_state().dir_out().build(), &p),
        Match::Yes
    );
    assert_eq!(matches(&rule(1).no_state().inet().build(), &p), Match::No);
    assert_eq!(matches(&rule(1).no_state().inet6().build(), &p), Match::Yes);
    assert_eq!(
        matches(&rule(1).no_state().proto("udp").build(), &p),
        Match::No
    );
    assert_eq!(
        matches(&rule(1).no_state().proto("udp").proto("tcp").build(), &p),
        Match::Yes
    );
    assert_eq!(
        matches(&rule(1).no_state().proto("6").build(), &p),
        Match::Yes
    );
}

#[test]
fn tcp_flags_of_stateful_rules() {
    let stateful = rule(1).keep_state().proto("tcp").build();
    assert!(stateful.text.contains("flags S/SA"));
    let mut p = pkt("2001:db8::10", 443);
    assert_eq!(matches(&stateful, &p), Match::Yes, "SYN");
    p.tcp_flags = Some(tcp_flags::SYN | tcp_flags::ACK);
    assert_eq!(matches(&stateful, &p), Match::No, "SYN+ACK");
    let any = rule(1).keep_state().flags("any").proto("tcp").build();
    assert_eq!(matches(&any, &p), Match::Yes);
    // Flags do not apply to UDP.
    p.proto = "udp".into();
    assert_eq!(matches(&stateful, &p), Match::No, "proto tcp rule");
}

#[test]
fn opaque_criteria_are_unknown() {
    let p = pkt("2001:db8::10", 443);
    let tagged = rule(1).no_state().tagged("LAN").build();
    assert!(matches!(matches(&tagged, &p), Match::Unknown(_)));
    let user = rule(1).no_state().extra("user = 1000").build();
    assert!(matches!(matches(&user, &p), Match::Unknown(_)));
    let recv = rule(1).no_state().extra("received-on em2").build();
    assert!(matches!(matches(&recv, &p), Match::Unknown(_)));
    // Keywords inside a label are not criteria.
    let label = rule(1).no_state().extra("label \"user group\"").build();
    assert_eq!(matches(&label, &p), Match::Yes);
}
