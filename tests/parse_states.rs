//! Fixture-driven tests of the states parser: one YAML snapshot per file in
//! `fixtures/states/`, plus explicit checks of the tricky mappings.

use std::io::{BufReader, Cursor, Read};
use std::net::IpAddr;

use pfblame::model::{Diagnostic, Direction, Endpoint, HostAddr, Port, RouteKind, Severity, State};
use pfblame::parse::states::{StatesParser, looks_like_state, parse_states, read_states};
use serde::Serialize;

#[derive(Serialize)]
struct Snapshot<'a> {
    states: &'a [State],
    diagnostics: &'a [Diagnostic],
}

fn fixture(name: &str) -> String {
    let path = format!("{}/fixtures/states/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn ip(s: &str) -> HostAddr {
    HostAddr::Ip(s.parse::<IpAddr>().expect("test address"))
}

fn ep(addr: &str, port: Option<u16>) -> Endpoint {
    Endpoint::new(ip(addr), port.map(Port::Num))
}

/// Parses `text`, requiring no diagnostics.
fn clean(text: &str) -> Vec<State> {
    let (states, diags) = parse_states(text);
    assert!(diags.is_empty(), "unexpected diagnostics: {diags:#?}");
    states
}

#[test]
fn snapshots_of_every_fixture() {
    insta::glob!("../fixtures/states", "*.txt", |path| {
        let text = std::fs::read_to_string(path).expect("fixture is UTF-8");
        let (states, diagnostics) = parse_states(&text);
        insta::assert_yaml_snapshot!(Snapshot {
            states: &states,
            diagnostics: &diagnostics,
        });
    });
}

#[test]
fn fixtures_other_than_malformed_parse_cleanly() {
    let dir = format!("{}/fixtures/states", env!("CARGO_MANIFEST_DIR"));
    let mut seen = 0;
    for entry in std::fs::read_dir(dir).expect("fixture dir") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if !name.ends_with(".txt") || name == "malformed.txt" {
            continue;
        }
        let text = std::fs::read_to_string(&path).expect("fixture");
        let (states, diags) = parse_states(&text);
        assert!(diags.is_empty(), "{name}: {diags:#?}");
        let main_lines = text.lines().filter(|l| !l.starts_with(' ')).count();
        assert_eq!(states.len(), main_lines, "{name}: one state per main line");
        seen += 1;
    }
    assert!(seen >= 12, "only {seen} fixtures found");
}

#[test]
fn arrow_gives_who_opened_the_connection() {
    let s = clean(&fixture("openbsd-plain.txt"));
    // `192.168.1.10:51514 -> 93.184.216.34:443`
    assert_eq!(s[0].direction, Direction::Out);
    assert_eq!(s[0].src, ep("192.168.1.10", Some(51514)));
    assert_eq!(s[0].dst, ep("93.184.216.34", Some(443)));
    // `192.168.1.20:8080 (203.0.113.5:80) <- 198.51.100.7:49152`: the client
    // on the right opened it, to the rdr target on the left.
    assert_eq!(s[2].direction, Direction::In);
    assert_eq!(s[2].src, ep("198.51.100.7", Some(49152)));
    assert_eq!(s[2].dst, ep("192.168.1.20", Some(8080)));
    assert_eq!(s[2].dst_nat.as_deref(), Some(&ep("203.0.113.5", Some(80))));
    assert_eq!(s[2].src_nat, None);
}

#[test]
fn nat_parentheses_stay_on_their_side() {
    let s = clean(&fixture("openbsd-plain.txt"));
    // Outbound NAT: the translated address first, the internal one in parentheses.
    assert_eq!(s[1].src, ep("203.0.113.5", Some(61024)));
    assert_eq!(
        s[1].src_nat.as_deref(),
        Some(&ep("192.168.1.10", Some(51514)))
    );
    assert_eq!(s[1].dst_nat, None);
    // af-to: both sides translated, across families, and inbound.
    assert_eq!(s[8].direction, Direction::In);
    assert_eq!(
        s[8].src_nat.as_deref(),
        Some(&ep("2001:db8::1", Some(52431)))
    );
    assert_eq!(s[8].dst, ep("198.51.100.5", Some(80)));
    assert_eq!(
        s[8].dst_nat.as_deref(),
        Some(&ep("64:ff9b::c633:6405", Some(80)))
    );
}

#[test]
fn route_braces_and_rdomains() {
    let s = clean(&fixture("openbsd-plain.txt"));
    let out = s[9].route.as_ref().expect("outbound route-to");
    assert_eq!(
        (out.kind, out.addr.clone()),
        (RouteKind::RouteTo, Some(ip("192.0.2.254")))
    );
    assert_eq!(s[9].direction, Direction::Out);
    let inb = s[10].route.as_ref().expect("inbound route-to");
    assert_eq!(inb.addr, Some(ip("2001:470:1f0a::1")));
    assert_eq!(s[10].direction, Direction::In);
    assert_eq!(s[10].dst, ep("2001:db8::10", Some(443)));
    assert_eq!(s[11].src.rdomain, Some(3));
    assert_eq!(s[11].dst.rdomain, Some(3));
    let nat = s[12]
        .dst_nat
        .as_ref()
        .expect("rdomain inside the parentheses");
    assert_eq!((nat.rdomain, nat.addr.clone()), (Some(3), ip("10.2.2.2")));
    assert_eq!(s[12].dst.rdomain, None);
}

#[test]
fn ipv6_text_forms_compare_equal() {
    let a =
        clean("all tcp 2001:db8:0:0::1[443] <- 2001:db8::2[5000]       ESTABLISHED:ESTABLISHED\n");
    let b = clean(
        "all tcp 2001:db8::1[443] <- 2001:0db8:0000::2[5000]       ESTABLISHED:ESTABLISHED\n",
    );
    assert_eq!(a[0].dst, b[0].dst);
    assert_eq!(a[0].src, b[0].src);
    assert_eq!(a[0].dst, ep("2001:db8::1", Some(443)));
}

#[test]
fn openbsd_vv_details() {
    let s = clean(&fixture("openbsd-vv.txt"));
    assert!(s.iter().all(
        |s| s.verbose && s.id.is_some() && s.creator_id == Some(0x4e1f00c2)
            || s.creator_id == Some(u32::MAX)
    ));
    // Anchor and rule identify the rule together.
    assert_eq!((s[3].anchor, s[3].rule), (Some(2), Some(0)));
    // The default rule prints no rule item.
    let last = s.last().expect("states");
    assert_eq!((last.anchor, last.rule), (None, None));
    // Long-lived state: hours above 99 and 64-bit counters.
    let long = s.iter().find(|s| &*s.iface == "vio0").expect("vio0 state");
    assert_eq!(long.age, Some(123 * 3600 + 4 * 60 + 5));
    assert_eq!(long.packets, Some((u64::MAX, 1 << 32)));
    assert_eq!(long.id, Some(u64::MAX));
    // Protocol names and numbers are kept as printed.
    let protos: Vec<&str> = s.iter().map(|s| &*s.proto).collect();
    for p in [
        "esp",
        "carp",
        "pfsync",
        "igmp",
        "200",
        "icmp",
        "ipv6-icmp",
        "udp",
    ] {
        assert!(protos.contains(&p), "missing {p}");
    }
    let bad = s
        .iter()
        .find(|s| s.src.port == Some(Port::Num(1235)))
        .expect("bad levels");
    // Inbound: printed responder first (`12:3`), stored initiator first.
    assert_eq!((&*bad.src_state, &*bad.dst_state), ("3", "12"));
    let proxy = s
        .iter()
        .find(|s| s.src.port == Some(Port::Num(1234)))
        .expect("synproxy");
    assert_eq!((&*proxy.src_state, &*proxy.dst_state), ("PROXY", "SRC"));
}

#[test]
fn freebsd_id_line_routes() {
    let s = clean(&fixture("freebsd14-vv.txt"));
    let r = s[0].route.as_ref().expect("route-to");
    assert_eq!(r.kind, RouteKind::RouteTo);
    assert_eq!(r.addr, Some(ip("192.0.2.254")));
    assert_eq!(r.iface.as_deref(), Some("em1"));
    assert_eq!(s[0].rtable, Some(1));
    assert_eq!(s[0].origif.as_deref(), Some("em2"));
    let kinds: Vec<Option<RouteKind>> =
        s.iter().map(|s| s.route.as_ref().map(|r| r.kind)).collect();
    for k in [RouteKind::ReplyTo, RouteKind::DupTo, RouteKind::Gateway] {
        assert!(kinds.contains(&Some(k)), "missing {k}");
    }
    let no_iface = s.iter().find(|s| s.id == Some(0x65a1b2ca)).expect("state");
    assert_eq!(no_iface.route.as_ref().and_then(|r| r.iface.clone()), None);
    let many = &s[4];
    assert_eq!(many.flags.len(), 15, "{:?}", many.flags);
    assert_eq!(&*many.flags[9], "dummynet pipe (1 2)");
}

#[test]
fn pfsense_gateway_after_creatorid() {
    let s = clean(&fixture("pfsense-vv.txt"));
    let addrs: Vec<Option<HostAddr>> = s
        .iter()
        .map(|s| s.route.as_ref().and_then(|r| r.addr.clone()))
        .collect();
    assert_eq!(
        addrs,
        [Some(ip("0.0.0.0")), Some(ip("203.0.113.1")), Some(ip("::"))]
    );
    assert!(
        s.iter()
            .all(|s| s.route.as_ref().map(|r| r.kind) == Some(RouteKind::Gateway))
    );
}

#[test]
fn macos_three_addresses_and_no_sync() {
    let s = clean(&fixture("macos-vv.txt"));
    assert_eq!(&*s[0].iface, "ALL");
    assert_eq!(s[1].direction, Direction::In);
    assert_eq!(s[1].src, ep("198.51.100.9", Some(4444)));
    assert_eq!(
        s[1].gateway.as_deref(),
        Some(&ep("203.0.113.1", Some(8080)))
    );
    assert_eq!(s[1].dst, ep("10.0.0.5", Some(80)));
    assert!(s[1].flags.iter().any(|f| &**f == "no-sync"));
    assert_eq!(s[2].direction, Direction::Out);
    assert_eq!(s[2].src, ep("192.168.2.2", Some(52000)));
    assert_eq!(s[2].gateway.as_deref(), Some(&ep("10.0.0.1", Some(52000))));
}

#[test]
fn service_and_host_names() {
    let s = clean(&fixture("openbsd-P-names.txt"));
    assert_eq!(s[0].dst.port, Some(Port::Name("https".into())));
    assert_eq!(s[3].dst.port, Some(Port::Name("domain".into())));
    assert_eq!(s[3].dst.addr, ip("2001:db8::10"));
    let s = clean(&fixture("openbsd-r-names.txt"));
    assert_eq!(s[0].src.addr, HostAddr::Name("laptop".into()));
    assert_eq!(s[2].src.addr, HostAddr::Name("?".into()));
    assert_eq!(s[2].src.port, Some(Port::Num(50412)));
}

#[test]
fn malformed_lines_are_reported_and_parsing_goes_on() {
    let (states, diags) = parse_states(&fixture("malformed.txt"));
    let lines: Vec<usize> = states.iter().map(|s| s.line).collect();
    assert_eq!(lines, [2, 7, 12, 18]);
    let at: Vec<(usize, usize, Severity)> = diags
        .iter()
        .map(|d| (d.line, d.column, d.severity))
        .collect();
    use Severity::{Error, Warning};
    assert_eq!(
        at,
        [
            (1, 4, Error),   // orphan continuation line
            (4, 22, Error),  // port 99999
            (5, 4, Warning), // skipped with the bad state
            (6, 4, Warning),
            (8, 11, Error),  // minutes 99
            (9, 45, Error),  // unknown id-line suffix
            (10, 33, Error), // no state pair
            (11, 20, Error), // `=>` is no arrow
            (13, 39, Error), // packets beyond 64 bits
            (13, 85, Error), // rule beyond 32 bits
            (14, 4, Error),  // unknown continuation line
            (15, 19, Error), // wscale beyond 8 bits
            (16, 9, Error),  // bad IPv6 address
            (17, 45, Error), // space inside a peer state
        ],
        "{diags:#?}"
    );
    assert!(
        diags
            .iter()
            .all(|d| d.message.starts_with("expected ") || d.message.starts_with("skipped"))
    );
    assert_eq!(diags[1].message, "expected a port number (0-65535)");
    // The states around the bad lines keep what could be read.
    assert_eq!(states[1].rule, Some(5));
    assert_eq!(states[1].age, None);
    assert_eq!(states[1].id, Some(0x64f1a2b300000a11));
    assert_eq!(states[2].rule, None);
    assert_eq!(states[2].bytes, Some((1, 1)));
    assert_eq!(states[3].rule, Some(3));
}

#[test]
fn read_states_streams_crlf_and_invalid_utf8() {
    let mut bytes = b"all tcp 10.0.0.1:1 -> 10.0.0.2:2       ESTABLISHED:ESTABLISHED\r\n".to_vec();
    bytes.extend_from_slice(
        b"   age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, caf\xe9\r\n",
    );
    bytes.extend_from_slice(b"em0 udp 10.0.0.1:53 -> 10.0.0.2:53       SINGLE:MULTIPLE");
    let mut states = Vec::new();
    let mut diags = Vec::new();
    read_states(
        BufReader::with_capacity(16, Cursor::new(bytes)),
        |s| states.push(s),
        &mut diags,
    )
    .expect("in-memory read");
    assert_eq!(states.len(), 2);
    assert_eq!(&*states[0].dst_state, "ESTABLISHED");
    assert_eq!(&*states[0].flags[0], "caf\u{fffd}");
    assert_eq!(states[1].line, 3);
    assert_eq!(diags.len(), 1, "{diags:#?}");
    assert_eq!(
        (diags[0].line, diags[0].column, diags[0].severity),
        (2, 63, Severity::Warning)
    );
}

#[test]
fn read_states_matches_parse_states_on_every_fixture() {
    for name in [
        "openbsd-vv.txt",
        "freebsd14-vv.txt",
        "malformed.txt",
        "macos-vv.txt",
    ] {
        let text = fixture(name);
        let (expected, expected_diags) = parse_states(&text);
        let mut states = Vec::new();
        let mut diags = Vec::new();
        read_states(text.as_bytes(), |s| states.push(s), &mut diags).expect("read");
        assert_eq!(states, expected, "{name}");
        assert_eq!(diags, expected_diags, "{name}");
    }
}

#[test]
fn hostile_input_never_panics() {
    let huge = format!("all tcp {}", "9".repeat(10 * 1024 * 1024));
    let (states, diags) = parse_states(&huge);
    assert!(states.is_empty());
    assert_eq!(diags.len(), 1);
    assert!(diags[0].text.len() < 8192, "diagnostic text is clipped");
    for text in [
        "",
        "\n\n\n",
        "\0\0\0",
        "all\0tcp 1.2.3.4:1 -> 5.6.7.8:2       A:B",
        "all tcp 1.2.3.4:1 -> 5.6.7.8:2       A:B\n   id: 0 creatorid: 0 route-to: @",
        "all tcp ((((((( -> )))))))       A:B",
        "all tcp [[[[ <- ]]]]       :",
        "all tcp 1.2.3.4:1 -> 5.6.7.8:2 {",
        "all tcp 1.2.3.4:1 -> 5.6.7.8:2 (",
        "x y z",
        "   [",
        "é ü 1.2.3.4:1 -> 5.6.7.8:2       ÄÄ:ÖÖ",
    ] {
        let _ = parse_states(text);
        let _ = looks_like_state(text);
    }
    // Binary garbage through the streaming reader.
    let garbage: Vec<u8> = (0..=255u8).cycle().take(64 * 1024).collect();
    let mut diags = Vec::new();
    read_states(garbage.as_slice(), |_| {}, &mut diags).expect("read");
    assert!(!diags.is_empty());
}

#[test]
fn numbers_beyond_64_bits_are_diagnostics() {
    let (states, diags) = parse_states(
        "all tcp 1.2.3.4:1 -> 5.6.7.8:2       A:B\n   age 99999999999999999999:00:00, expires in 00:00:00, 1:1 pkts, 1:1 bytes\n   id: 1ffffffffffffffff creatorid: 0\n",
    );
    assert_eq!(states.len(), 1);
    assert_eq!(states[0].age, None);
    assert_eq!(states[0].id, None);
    assert_eq!(diags.len(), 2);
    assert_eq!((diags[0].line, diags[0].column), (2, 8));
    assert_eq!((diags[1].line, diags[1].column), (3, 8));
}

#[test]
fn push_api_returns_states_when_the_next_one_starts() {
    let mut p = StatesParser::new();
    let mut diags = Vec::new();
    assert!(
        p.push(1, "all tcp 1.2.3.4:1 -> 5.6.7.8:2       A:B", &mut diags)
            .is_none()
    );
    assert!(
        p.push(
            2,
            "   age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes",
            &mut diags
        )
        .is_none()
    );
    let first = p
        .push(
            3,
            "all udp 1.2.3.4:1 -> 5.6.7.8:2       SINGLE:SINGLE",
            &mut diags,
        )
        .expect("first done");
    assert_eq!((first.line, first.age), (1, Some(1)));
    let second = p.finish(&mut diags).expect("second");
    assert_eq!(second.line, 3);
    assert!(p.finish(&mut diags).is_none());
    assert!(diags.is_empty());
}

/// A reader that fails after some bytes: errors propagate, nothing panics.
struct Failing(usize);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if self.0 == 0 {
            return Err(std::io::Error::other("boom"));
        }
        let n = buf.len().min(self.0);
        buf[..n].fill(b'a');
        self.0 -= n;
        Ok(n)
    }
}

#[test]
fn read_errors_are_returned() {
    let mut diags = Vec::new();
    let r = read_states(BufReader::new(Failing(100)), |_| {}, &mut diags);
    assert!(r.is_err());
}
