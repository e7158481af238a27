//! States as pfctl prints them (pfctl-formats.md §1.3–1.6), and the
//! `pfctl -k key` argument that names one state.
//!
//! What each flavor prints differently:
//! * OpenBSD: rdomain prefixes `(N) ` and the route-to address in braces on
//!   the main line (after the left side for inbound states, after the right
//!   side for outbound ones); the `-vv` line is only `id: … creatorid: …`.
//! * FreeBSD (and pfSense/OPNsense): no rdomain, no braces; the `-vv` line
//!   carries ` route-to: addr@if` (or `reply-to:`, `dup-to:`, `gateway:`)
//!   and ` rtable: N`, and `origif:` gets its own line. pfSense prints a
//!   `gateway` route as `   gateway: addr` (three spaces).
//! * macOS: like OpenBSD without rdomains and braces; old three-address
//!   states (`gateway` set) print as `lan <- gwy <- ext`.
//!
//! Flags are printed on the age line in model order, whatever their origin.

use std::fmt::{self, Write};

use crate::model::{Direction, Endpoint, HostAddr, RouteKind, SeqWindow, State};
use crate::print::{Flavor, Verbosity};

/// Writes `s` as `flavor`'s `pfctl -ss` (`Plain`), `-vss` (`V`) or `-vvss`
/// (`VV`) prints it, every line ending in `\n`. Values the model lacks at
/// that verbosity print as zero.
pub fn write_state(
    out: &mut impl Write,
    s: &State,
    flavor: Flavor,
    verbosity: Verbosity,
) -> fmt::Result {
    write_main_line(out, s, flavor)?;
    if verbosity >= Verbosity::V {
        if let Some(seq) = &s.seq {
            // Inbound states print the responder first (see `write_pair`).
            let (a, b) = match s.direction {
                Direction::In => (&seq.1, &seq.0),
                Direction::Out => (&seq.0, &seq.1),
            };
            out.write_str("   ")?;
            write_seq(out, a)?;
            out.write_str("  ")?;
            write_seq(out, b)?;
            out.write_char('\n')?;
        }
        write_age_line(out, s)?;
    }
    if verbosity >= Verbosity::VV {
        write_id_line(out, s, flavor)?;
        if is_freebsd(flavor)
            && let Some(origif) = &s.origif
        {
            writeln!(out, "   origif: {origif}")?;
        }
    }
    Ok(())
}

fn is_freebsd(flavor: Flavor) -> bool {
    matches!(flavor, Flavor::FreeBsd | Flavor::PfSense)
}

/// af-to: a side whose translated key has the other address family.
fn is_afto(s: &State) -> bool {
    let differs = |a: &Endpoint, b: Option<&Endpoint>| match (&a.addr, b.map(|b| &b.addr)) {
        (HostAddr::Ip(x), Some(HostAddr::Ip(y))) => x.is_ipv4() != y.is_ipv4(),
        _ => false,
    };
    differs(&s.src, s.src_nat.as_deref()) || differs(&s.dst, s.dst_nat.as_deref())
}

type SideRef<'a> = (&'a Endpoint, Option<&'a Endpoint>);

/// Left host, its translation, arrow, right host, its translation.
fn sides(
    s: &State,
) -> (
    &Endpoint,
    Option<&Endpoint>,
    &'static str,
    &Endpoint,
    Option<&Endpoint>,
) {
    let src: SideRef<'_> = (&s.src, s.src_nat.as_deref());
    let dst: SideRef<'_> = (&s.dst, s.dst_nat.as_deref());
    // pfctl prints `->` for outbound states and inbound af-to states.
    if s.direction == Direction::Out || is_afto(s) {
        (src.0, src.1, "->", dst.0, dst.1)
    } else {
        (dst.0, dst.1, "<-", src.0, src.1)
    }
}

fn write_main_line(out: &mut impl Write, s: &State, flavor: Flavor) -> fmt::Result {
    // The 2002 format had no interface column (parsed as an empty iface).
    if !s.iface.is_empty() {
        write!(out, "{} ", s.iface)?;
    }
    write!(out, "{} ", s.proto)?;
    let rdomains = flavor == Flavor::OpenBsd;
    if let Some(gwy) = &s.gateway {
        write_three_address(out, s, gwy, rdomains)?;
    } else {
        let (left, left_nat, arrow, right, right_nat) = sides(s);
        let brace = match flavor {
            Flavor::OpenBsd => s.route.as_ref().and_then(|r| r.addr.as_ref()),
            _ => None,
        };
        write_side(out, left, left_nat, rdomains)?;
        if s.direction == Direction::In
            && let Some(addr) = brace
        {
            write!(out, " {{{addr}}}")?;
        }
        write!(out, " {arrow} ")?;
        write_side(out, right, right_nat, rdomains)?;
        if s.direction == Direction::Out
            && let Some(addr) = brace
        {
            write!(out, " {{{addr}}}")?;
        }
    }
    // `"    "` then `"   %s:%s\n"`: seven spaces before the pair.
    out.write_str("       ")?;
    write_pair(out, s)?;
    out.write_char('\n')
}

/// `lan -> gwy -> ext` / `lan <- gwy <- ext`; `lan` is omitted when it
/// equals `gwy`, as the old code did.
fn write_three_address(
    out: &mut impl Write,
    s: &State,
    gwy: &Endpoint,
    rdomains: bool,
) -> fmt::Result {
    let (lan, ext, arrow) = match s.direction {
        Direction::Out => (&s.src, &s.dst, "->"),
        Direction::In => (&s.dst, &s.src, "<-"),
    };
    if lan != gwy {
        write_host(out, lan, rdomains)?;
        write!(out, " {arrow} ")?;
    }
    write_host(out, gwy, rdomains)?;
    write!(out, " {arrow} ")?;
    write_host(out, ext, rdomains)
}

fn write_side(
    out: &mut impl Write,
    host: &Endpoint,
    nat: Option<&Endpoint>,
    rdomains: bool,
) -> fmt::Result {
    write_host(out, host, rdomains)?;
    if let Some(nat) = nat {
        out.write_str(" (")?;
        write_host(out, nat, rdomains)?;
        out.write_char(')')?;
    }
    Ok(())
}

/// `print_host()`: `[(rdomain) ]addr[:port]` or `v6addr[port]`, as
/// [`Endpoint`]'s `Display` writes it; old formats had no rdomain prefix.
fn write_host(out: &mut impl Write, ep: &Endpoint, rdomains: bool) -> fmt::Result {
    if rdomains || ep.rdomain.is_none() {
        write!(out, "{ep}")
    } else {
        let plain = Endpoint {
            rdomain: None,
            ..ep.clone()
        };
        write!(out, "{plain}")
    }
}

fn is_level(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit())
}

/// The peer-state pair, responder first for inbound states as pfctl does
/// (`PROXY:SRC`/`PROXY:DST` name the whole state); TCP states holding raw
/// levels are "bad levels".
fn write_pair(out: &mut impl Write, s: &State) -> fmt::Result {
    let (a, b) = if s.direction == Direction::In && &*s.src_state != "PROXY" {
        (&*s.dst_state, &*s.src_state)
    } else {
        (&*s.src_state, &*s.dst_state)
    };
    if &*s.proto == "tcp" && is_level(a) && is_level(b) {
        write!(out, "<BAD STATE LEVELS {a}:{b}>")
    } else {
        write!(out, "{a}:{b}")
    }
}

fn write_seq(out: &mut impl Write, w: &SeqWindow) -> fmt::Result {
    write!(out, "[{} + {}]", w.seqlo, w.window)?;
    if let Some(d) = w.seqdiff {
        write!(out, "(+{d})")?;
    }
    if let Some(ws) = w.wscale {
        write!(out, " wscale {ws}")?;
    }
    Ok(())
}

/// `%.2u:%.2u:%.2u` of a number of seconds.
fn write_duration(out: &mut impl Write, secs: u64) -> fmt::Result {
    write!(
        out,
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    )
}

fn write_age_line(out: &mut impl Write, s: &State) -> fmt::Result {
    out.write_str("   age ")?;
    write_duration(out, s.age.unwrap_or(0))?;
    out.write_str(", expires in ")?;
    write_duration(out, s.expires.unwrap_or(0))?;
    let (p0, p1) = s.packets.unwrap_or((0, 0));
    let (b0, b1) = s.bytes.unwrap_or((0, 0));
    write!(out, ", {p0}:{p1} pkts, {b0}:{b1} bytes")?;
    if let Some(a) = s.anchor {
        write!(out, ", anchor {a}")?;
    }
    if let Some(r) = s.rule {
        write!(out, ", rule {r}")?;
    }
    for flag in &s.flags {
        write!(out, ", {flag}")?;
    }
    out.write_char('\n')
}

fn write_id_line(out: &mut impl Write, s: &State, flavor: Flavor) -> fmt::Result {
    write!(
        out,
        "   id: {:016x} creatorid: {:08x}",
        s.id.unwrap_or(0),
        s.creator_id.unwrap_or(0)
    )?;
    if is_freebsd(flavor) {
        if let Some(route) = &s.route
            && let Some(addr) = &route.addr
        {
            let sep = if flavor == Flavor::PfSense && route.kind == RouteKind::Gateway {
                "   "
            } else {
                " "
            };
            write!(out, "{sep}{}: {addr}", route.kind)?;
            if let Some(iface) = &route.iface {
                write!(out, "@{iface}")?;
            }
        }
        if let Some(rt) = s.rtable {
            write!(out, " rtable: {rt}")?;
        }
    }
    out.write_char('\n')
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::states::parse_states;

    fn reprint(text: &str, flavor: Flavor, verbosity: Verbosity) -> String {
        let (states, diags) = parse_states(text);
        assert!(diags.is_empty(), "{diags:#?}");
        let mut out = String::new();
        for s in &states {
            write_state(&mut out, s, flavor, verbosity).expect("write to String");
        }
        out
    }

    #[test]
    fn openbsd_vv_reprints_byte_for_byte() {
        let text = "\
all tcp 192.168.1.10:51514 -> 93.184.216.34:443       ESTABLISHED:ESTABLISHED
   [3819234101 + 66560] wscale 7  [2234550001 + 65535] wscale 8
   age 00:12:41, expires in 23:59:58, 1520:2210 pkts, 98311:2841730 bytes, rule 4
   id: 64f1a2b300000a11 creatorid: 4e1f00c2
all tcp 192.168.1.20:8080 (203.0.113.5:80) <- 198.51.100.7:49152       FIN_WAIT_2:FIN_WAIT_2
   [1000 + 65535](+4000123) wscale 2  [52000 + 16384] wscale 2
   age 01:02:03, expires in 00:00:45, 10:12 pkts, 1200:9800 bytes, source-track
   id: 64f1a2b300000a13 creatorid: 4e1f00c2
all tcp (3) 10.0.0.2:51514 ((4) 10.9.9.9:1) -> 93.184.216.34:443 {192.0.2.254}       <BAD STATE LEVELS 12:3>
   age 123:00:00, expires in 00:00:00, 0:0 pkts, 0:0 bytes, anchor 1, rule 2
   id: 0000000000000001 creatorid: 00000001
all tcp 192.0.2.1:52431 (2001:db8::1[52431]) -> 198.51.100.5:80 (64:ff9b::c633:6405[80])       ESTABLISHED:ESTABLISHED
   age 00:00:01, expires in 00:00:02, 1:2 pkts, 3:4 bytes
   id: 0000000000000002 creatorid: 00000001
";
        assert_eq!(reprint(text, Flavor::OpenBsd, Verbosity::VV), text);
    }

    #[test]
    fn freebsd_vv_reprints_byte_for_byte() {
        let text = "\
em0 tcp 198.51.100.2:61024 (10.0.0.5:51514) -> 93.184.216.34:443       ESTABLISHED:ESTABLISHED
   [3819234101 + 66560] wscale 7  [2234550001 + 65535] wscale 8
   age 00:12:41, expires in 23:59:58, 1520:2210 pkts, 98311:2841730 bytes, rule 7, log (all), max-mss 1400
   id: 0000000065a1b2c3 creatorid: 1a2b3c4d route-to: 192.0.2.254@em1 rtable: 1
   origif: em2
all sctp 10.0.0.5:5000 -> 10.0.1.9:5000       ESTABLISHED:ESTABLISHED
   age 00:00:10, expires in 00:00:50, 4:4 pkts, 400:400 bytes, rule 3, no-sync
   id: 0000000065a1b2c4 creatorid: 1a2b3c4d
";
        assert_eq!(reprint(text, Flavor::FreeBsd, Verbosity::VV), text);
    }

    #[test]
    fn pfsense_gateway_and_macos_three_addresses() {
        let text = "\
all tcp 10.0.0.5:1 -> 10.0.1.9:2       ESTABLISHED:ESTABLISHED
   age 00:00:10, expires in 00:00:50, 4:4 pkts, 400:400 bytes, rule 3
   id: 0000000065a1b2c4 creatorid: 1a2b3c4d   gateway: 0.0.0.0
";
        assert_eq!(reprint(text, Flavor::PfSense, Verbosity::VV), text);
        let text = "ALL tcp 10.0.0.5:80 <- 203.0.113.1:80 <- 198.51.100.9:4444       ESTABLISHED:ESTABLISHED\n";
        assert_eq!(reprint(text, Flavor::MacOs, Verbosity::Plain), text);
    }

    #[test]
    fn lower_verbosity_drops_lines() {
        let text = "all udp 10.0.0.1:53 -> 10.0.0.2:53       SINGLE:NO_TRAFFIC\n   age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 1\n   id: 0000000000000001 creatorid: 00000001\n";
        assert_eq!(
            reprint(text, Flavor::OpenBsd, Verbosity::Plain),
            "all udp 10.0.0.1:53 -> 10.0.0.2:53       SINGLE:NO_TRAFFIC\n"
        );
        assert_eq!(
            reprint(text, Flavor::OpenBsd, Verbosity::V).lines().count(),
            2
        );
    }
}
