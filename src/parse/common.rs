//! Leaf parsers shared by the state and rule parsers (addresses, ports,
//! numbers, durations).
//!
//! Every parser works on `&str` with nom 8 and fails with an [`Expected`]
//! error that remembers *where* it stopped and *what* it wanted there, so a
//! caller can turn it into a [`crate::model::Diagnostic`] with a column
//! ([`column_of`]) and an "expected …" message.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nom::IResult;
use nom::bytes::complete::{tag, take_till1, take_while1};
use nom::error::{ErrorKind, ParseError};

use crate::model::{Endpoint, HostAddr, Port};

/// Parse failure: the position where parsing stopped and what was wanted there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Expected<'a> {
    /// The unparsed rest of the input (a sub-slice of the parsed line).
    pub at: &'a str,
    /// What was expected, as a noun phrase (`"IPv4 address"`).
    pub what: &'static str,
}

impl<'a> ParseError<&'a str> for Expected<'a> {
    fn from_error_kind(input: &'a str, kind: ErrorKind) -> Self {
        let what = match kind {
            ErrorKind::Digit => "digits",
            ErrorKind::Tag | ErrorKind::Char => "a keyword or punctuation",
            ErrorKind::Space | ErrorKind::MultiSpace => "whitespace",
            _ => "valid input",
        };
        Expected { at: input, what }
    }

    fn append(_: &'a str, _: ErrorKind, other: Self) -> Self {
        // Keep the innermost (most precise) position and message.
        other
    }
}

/// Result of the leaf parsers.
pub type PResult<'a, T> = IResult<&'a str, T, Expected<'a>>;

/// A recoverable failure at `at`.
pub fn fail<'a, T>(at: &'a str, what: &'static str) -> PResult<'a, T> {
    Err(nom::Err::Error(Expected { at, what }))
}

/// Replaces the message of a failed parse by `what`, at the parser's start.
pub fn expect<'a, T>(input: &'a str, what: &'static str, r: PResult<'a, T>) -> PResult<'a, T> {
    r.map_err(|e| e.map(|_| Expected { at: input, what }))
}

/// 1-based character column of `at` inside `line` (`at` must be a sub-slice
/// of `line`; anything else yields column 1 rather than a panic).
pub fn column_of(line: &str, at: &str) -> usize {
    let start = line.as_ptr() as usize;
    let at_start = at.as_ptr() as usize;
    let inside = at_start >= start && at_start + at.len() <= start + line.len();
    if !inside {
        return 1;
    }
    match line.get(..at_start - start) {
        Some(prefix) => prefix.chars().count() + 1,
        None => 1,
    }
}

/// Blank characters between tokens (pfctl prints spaces; tabs are tolerated).
pub fn is_blank(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// Number of leading blank bytes (blanks are ASCII, so this is a char boundary).
fn blank_len(input: &str) -> usize {
    input
        .bytes()
        .position(|b| b != b' ' && b != b'\t')
        .unwrap_or(input.len())
}

/// Skips optional blanks.
pub fn blank0(input: &str) -> &str {
    &input[blank_len(input)..]
}

/// One or more blanks.
pub fn blank1(input: &str) -> PResult<'_, &str> {
    match blank_len(input) {
        0 => fail(input, "a space"),
        n => Ok((&input[n..], &input[..n])),
    }
}

/// A non-blank token (interface names, protocol names, flags).
pub fn word(input: &str) -> PResult<'_, &str> {
    // Byte search: the delimiters are ASCII, so the split is a char boundary.
    match input.bytes().position(|b| b == b' ' || b == b'\t') {
        Some(0) => fail(input, "a word"),
        Some(n) => Ok((&input[n..], &input[..n])),
        None if input.is_empty() => fail(input, "a word"),
        None => Ok(("", input)),
    }
}

/// Exactly `kw` (a keyword or punctuation).
pub fn keyword<'a>(input: &'a str, kw: &'static str, what: &'static str) -> PResult<'a, &'a str> {
    expect(input, what, tag(kw)(input))
}

/// Succeeds only at the end of the input (trailing blanks allowed).
pub fn end_of_line<'a>(input: &'a str, what: &'static str) -> PResult<'a, ()> {
    let rest = blank0(input);
    if rest.is_empty() {
        Ok((rest, ()))
    } else {
        fail(rest, what)
    }
}

/// Decimal digits as a `u64`; more than 64 bits is an error, not a wrap.
/// One pass over the bytes: this runs several times per state line.
pub fn dec_u64(input: &str) -> PResult<'_, u64> {
    let bytes = input.as_bytes();
    let mut value: u64 = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if !b.is_ascii_digit() {
            break;
        }
        value = match value
            .checked_mul(10)
            .and_then(|v| v.checked_add(u64::from(b - b'0')))
        {
            Some(v) => v,
            None => return fail(input, "a number below 2^64"),
        };
        i += 1;
    }
    if i == 0 {
        return fail(input, "a number");
    }
    Ok((&input[i..], value))
}

/// Decimal `u32` (rule and anchor numbers, rdomains, rtables).
pub fn dec_u32(input: &str) -> PResult<'_, u32> {
    let (rest, v) = dec_u64(input)?;
    match u32::try_from(v) {
        Ok(v) => Ok((rest, v)),
        Err(_) => fail(input, "a number below 2^32"),
    }
}

/// Decimal `u8` (window scale).
pub fn dec_u8(input: &str) -> PResult<'_, u8> {
    let (rest, v) = dec_u64(input)?;
    match u8::try_from(v) {
        Ok(v) => Ok((rest, v)),
        Err(_) => fail(input, "a number below 256"),
    }
}

/// Hexadecimal number of at most `max_digits` significant digits
/// (`%016llx` ids, `%08x` creator ids). Leading zeros are optional.
pub fn hex_u64(input: &str, max_digits: usize) -> PResult<'_, u64> {
    let max_digits = max_digits.min(16);
    let mut value: u64 = 0;
    let mut significant = 0;
    let mut len = 0;
    for b in input.bytes() {
        let Some(d) = char::from(b).to_digit(16) else {
            break;
        };
        if value != 0 || d != 0 {
            significant += 1;
            if significant > max_digits {
                return fail(input, "a shorter hexadecimal number");
            }
        }
        value = value << 4 | u64::from(d);
        len += 1;
    }
    if len == 0 {
        return fail(input, "a hexadecimal number");
    }
    Ok((&input[len..], value))
}

/// `%016llx`: a 64-bit state id.
pub fn hex_id(input: &str) -> PResult<'_, u64> {
    hex_u64(input, 16)
}

/// `%08x`: a 32-bit creator id.
pub fn hex_creator(input: &str) -> PResult<'_, u32> {
    let (rest, v) = hex_u64(input, 8)?;
    match u32::try_from(v) {
        Ok(v) => Ok((rest, v)),
        Err(_) => fail(input, "an 8-digit hexadecimal number"),
    }
}

/// `HH:MM:SS` (`%.2u:%.2u:%.2u`) as seconds. Hours are unbounded (`123:04:05`).
pub fn duration(input: &str) -> PResult<'_, u64> {
    let (rest, hours) = expect(input, "a duration HH:MM:SS", dec_u64(input))?;
    let (rest, _) = keyword(rest, ":", "':' in a duration HH:MM:SS")?;
    let (rest, minutes) = sexagesimal(rest)?;
    let (rest, _) = keyword(rest, ":", "':' in a duration HH:MM:SS")?;
    let (rest, seconds) = sexagesimal(rest)?;
    let total = hours
        .checked_mul(3600)
        .and_then(|h| h.checked_add(minutes * 60 + seconds));
    match total {
        Some(t) => Ok((rest, t)),
        None => fail(input, "a duration below 2^64 seconds"),
    }
}

/// Minutes or seconds of a duration: 0–59.
fn sexagesimal(input: &str) -> PResult<'_, u64> {
    let (rest, v) = expect(input, "minutes or seconds (00-59)", dec_u64(input))?;
    if v < 60 {
        Ok((rest, v))
    } else {
        fail(input, "minutes or seconds (00-59)")
    }
}

/// `a:b` of two `u64` counters (`%llu:%llu`).
pub fn counter_pair(input: &str) -> PResult<'_, (u64, u64)> {
    let (rest, a) = dec_u64(input)?;
    let (rest, _) = keyword(rest, ":", "':' between two counters")?;
    let (rest, b) = dec_u64(rest)?;
    Ok((rest, (a, b)))
}

/// OpenBSD rdomain prefix `(N) ` of a host.
pub fn rdomain(input: &str) -> PResult<'_, u32> {
    let (rest, _) = keyword(input, "(", "'(' of an rdomain")?;
    let (rest, n) = dec_u32(rest)?;
    let (rest, _) = keyword(rest, ")", "')' after an rdomain number")?;
    let (rest, _) = blank1(rest)?;
    Ok((rest, n))
}

/// An IPv4 address in dotted-quad form (`inet_ntop`: no leading zeros).
/// Hand-written: two of these on every state line.
pub fn ipv4(input: &str) -> PResult<'_, Ipv4Addr> {
    let bytes = input.as_bytes();
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if bytes.get(i) != Some(&b'.') {
                return fail(input, "an IPv4 address");
            }
            i += 1;
        }
        let start = i;
        let mut v: u32 = 0;
        while let Some(&b) = bytes.get(i) {
            if !b.is_ascii_digit() || i - start == 3 {
                break;
            }
            v = v * 10 + u32::from(b - b'0');
            i += 1;
        }
        let leading_zero = i - start > 1 && bytes[start] == b'0';
        match u8::try_from(v) {
            Ok(v) if i > start && !leading_zero => *octet = v,
            _ => return fail(input, "an IPv4 address"),
        }
    }
    // `1.2.3.4.5` and `1.2.3.4567` are not addresses followed by something.
    if matches!(bytes.get(i), Some(b) if b.is_ascii_digit() || *b == b'.') {
        return fail(input, "an IPv4 address");
    }
    Ok((&input[i..], Ipv4Addr::from(octets)))
}

/// An IPv6 address in any valid text form (`2001:db8:0:0::1`, `::ffff:1.2.3.4`).
pub fn ipv6(input: &str) -> PResult<'_, Ipv6Addr> {
    let (rest, text) = expect(
        input,
        "an IPv6 address",
        take_while1(|c: char| c.is_ascii_hexdigit() || c == ':' || c == '.')(input),
    )?;
    match text.parse() {
        Ok(a) => Ok((rest, a)),
        Err(_) => fail(input, "an IPv6 address"),
    }
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A host name as printed with `-r` (short name, `NI_NOFQDN`), or `?` when
/// the address could not be formatted.
pub fn host_name(input: &str) -> PResult<'_, &str> {
    if let Some(rest) = input.strip_prefix('?') {
        return Ok((rest, "?"));
    }
    expect(input, "a host name", take_while1(is_name_char)(input))
}

/// A service name as printed with OpenBSD `-P` (`ssh`, `https`, `http-alt`).
pub fn service_name(input: &str) -> PResult<'_, &str> {
    expect(
        input,
        "a port number or service name",
        take_while1(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))(
            input,
        ),
    )
}

/// A port: decimal `u16`, or a `-P` service name.
pub fn port(input: &str) -> PResult<'_, Port> {
    if input.starts_with(|c: char| c.is_ascii_digit()) {
        let (rest, v) = dec_u64(input)?;
        // A digit-led name (`3com-tsmux`) continues with name characters.
        if rest.starts_with(|c: char| is_name_char(c) || c == '+') {
            let (rest, name) = service_name(input)?;
            return Ok((rest, Port::Name(name.into())));
        }
        return match u16::try_from(v) {
            Ok(p) => Ok((rest, Port::Num(p))),
            Err(_) => fail(input, "a port number (0-65535)"),
        };
    }
    let (rest, name) = service_name(input)?;
    Ok((rest, Port::Name(name.into())))
}

/// Parses a complete address text (no port): IPv6 if it has a colon, IPv4
/// if it is made of digits and dots, otherwise a host name or `?`.
pub fn host_addr(text: &str) -> PResult<'_, HostAddr> {
    if text.contains(':') {
        let (rest, a) = ipv6(text)?;
        return whole(
            rest,
            HostAddr::Ip(IpAddr::V6(a)),
            "the end of an IPv6 address",
        );
    }
    if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        let (rest, a) = ipv4(text)?;
        return whole(
            rest,
            HostAddr::Ip(IpAddr::V4(a)),
            "the end of an IPv4 address",
        );
    }
    let (rest, name) = host_name(text)?;
    whole(rest, HostAddr::Name(name.into()), "a host address")
}

fn whole<'a, T>(rest: &'a str, value: T, what: &'static str) -> PResult<'a, T> {
    if rest.is_empty() {
        Ok((rest, value))
    } else {
        fail(rest, what)
    }
}

/// Characters that end a host token on a state line.
fn is_host_end(c: char) -> bool {
    is_blank(c) || c == ')' || c == '}'
}

/// One end of a state key as `print_host()` prints it: an optional
/// `(rdomain) ` prefix, the address, and the port (`a.b.c.d:p`,
/// `v6addr[p]`, `name:p`), or a port-less address.
pub fn endpoint(input: &str) -> PResult<'_, Endpoint> {
    let (input, rdomain) = if input.starts_with('(') {
        let (rest, rd) = rdomain(input)?;
        (rest, Some(rd))
    } else {
        (input, None)
    };
    if let Some((rest, addr, port)) = ipv4_endpoint(input) {
        return Ok((
            rest,
            Endpoint {
                addr,
                port,
                rdomain,
            },
        ));
    }
    let (rest, token) = expect(input, "a host", take_till1(is_host_end)(input))?;
    let (addr_text, port_text) = split_host_port(token);
    let (_, addr) = host_addr(addr_text)?;
    let port = match port_text {
        None => None,
        Some(p) => {
            let (after, port) = port(p)?;
            whole(after, (), "the end of a port")?;
            Some(port)
        }
    };
    Ok((
        rest,
        Endpoint {
            addr,
            port,
            rdomain,
        },
    ))
}

/// Fast path of [`endpoint`] for the common `a.b.c.d[:port]`; `None` sends
/// everything else (names, service names, errors) down the general path.
fn ipv4_endpoint(input: &str) -> Option<(&str, HostAddr, Option<Port>)> {
    let (rest, a) = ipv4(input).ok()?;
    let (rest, port) = match rest.strip_prefix(':') {
        Some(p) => {
            let (r, n) = dec_u64(p).ok()?;
            (r, Some(Port::Num(u16::try_from(n).ok()?)))
        }
        None => (rest, None),
    };
    match rest.chars().next() {
        Some(c) if !is_host_end(c) => None,
        _ => Some((rest, HostAddr::Ip(IpAddr::V4(a)), port)),
    }
}

/// Splits `addr[port]`, `addr:port` (one colon only: IPv6 has several) and
/// bare addresses. An empty port text is returned as `Some("")`, so the port
/// parser reports it.
fn split_host_port(token: &str) -> (&str, Option<&str>) {
    if let Some(inner) = token.strip_suffix(']')
        && let Some(open) = inner.rfind('[')
    {
        return (&inner[..open], Some(&inner[open + 1..]));
    }
    let mut colons = token.match_indices(':');
    match (colons.next(), colons.next()) {
        (Some((i, _)), None) => (&token[..i], Some(&token[i + 1..])),
        _ => (token, None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok<T>(r: PResult<'_, T>) -> T {
        match r {
            Ok((_, v)) => v,
            Err(e) => panic!("parse failed: {e:?}"),
        }
    }

    fn err_what<T: std::fmt::Debug>(r: PResult<'_, T>) -> &'static str {
        match r {
            Err(nom::Err::Error(e) | nom::Err::Failure(e)) => e.what,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    #[test]
    fn ipv4_parses_and_rejects_bad_octets() {
        assert_eq!(ok(ipv4("192.168.1.10:80")), Ipv4Addr::new(192, 168, 1, 10));
        assert_eq!(err_what(ipv4("192.168.1.300")), "an IPv4 address");
        assert_eq!(err_what(ipv4("abc")), "an IPv4 address");
        assert_eq!(err_what(ipv4("010.0.0.1")), "an IPv4 address");
        assert_eq!(err_what(ipv4("1.2.3")), "an IPv4 address");
        assert_eq!(err_what(ipv4("1.2.3.4567")), "an IPv4 address");
        assert_eq!(ipv4("0.0.0.0 x"), Ok((" x", Ipv4Addr::UNSPECIFIED)));
    }

    #[test]
    fn ipv6_accepts_every_text_form_of_one_address() {
        let a = ok(ipv6("2001:db8:0:0::1"));
        let b = ok(ipv6("2001:db8::1"));
        assert_eq!(a, b);
        assert_eq!(
            ok(ipv6("::ffff:1.2.3.4")),
            Ipv4Addr::new(1, 2, 3, 4).to_ipv6_mapped()
        );
        assert_eq!(err_what(ipv6("2001:db8:::1")), "an IPv6 address");
    }

    #[test]
    fn endpoint_v4_with_port() {
        let (rest, e) = endpoint("10.0.0.1:22 -> x").expect("parses");
        assert_eq!(rest, " -> x");
        assert_eq!(e.addr, HostAddr::Ip("10.0.0.1".parse().expect("ip")));
        assert_eq!(e.port, Some(Port::Num(22)));
        assert_eq!(e.rdomain, None);
    }

    #[test]
    fn endpoint_v6_with_port_in_brackets() {
        let e = ok(endpoint("2001:db8:0:0::1[443])"));
        assert_eq!(e.addr, HostAddr::Ip("2001:db8::1".parse().expect("ip")));
        assert_eq!(e.port, Some(Port::Num(443)));
    }

    #[test]
    fn endpoint_without_port() {
        let e = ok(endpoint("198.51.100.1 -> "));
        assert_eq!(e.port, None);
        let e = ok(endpoint("2001:db8::1 -> "));
        assert_eq!(e.addr, HostAddr::Ip("2001:db8::1".parse().expect("ip")));
        assert_eq!(e.port, None);
    }

    #[test]
    fn endpoint_service_names_and_host_names() {
        let e = ok(endpoint("10.0.0.1:ssh"));
        assert_eq!(e.port, Some(Port::Name("ssh".into())));
        let e = ok(endpoint("2001:db8::1[https]"));
        assert_eq!(e.port, Some(Port::Name("https".into())));
        let e = ok(endpoint("gw-1.lan:http-alt"));
        assert_eq!(e.addr, HostAddr::Name("gw-1.lan".into()));
        assert_eq!(e.port, Some(Port::Name("http-alt".into())));
        let e = ok(endpoint("?:53"));
        assert_eq!(e.addr, HostAddr::Name("?".into()));
        assert_eq!(e.port, Some(Port::Num(53)));
    }

    #[test]
    fn endpoint_with_rdomain_prefix() {
        let (rest, e) = endpoint("(3) 10.2.2.2:80)").expect("parses");
        assert_eq!(rest, ")");
        assert_eq!(e.rdomain, Some(3));
        assert_eq!(e.port, Some(Port::Num(80)));
    }

    #[test]
    fn endpoint_rejects_bad_ports_and_addresses() {
        assert_eq!(
            err_what(endpoint("10.0.0.1:70000")),
            "a port number (0-65535)"
        );
        assert_eq!(
            err_what(endpoint("10.0.0.1:")),
            "a port number or service name"
        );
        assert_eq!(err_what(endpoint("10.0.0.999:1")), "an IPv4 address");
        assert_eq!(err_what(endpoint("a$b:1")), "a host address");
        assert_eq!(err_what(endpoint("")), "a host");
    }

    #[test]
    fn words_and_blanks() {
        assert_eq!(word("em0.100 tcp"), Ok((" tcp", "em0.100")));
        assert_eq!(word("ALL"), Ok(("", "ALL")));
        assert_eq!(err_what(word(" x")), "a word");
        assert_eq!(blank1(" \t x"), Ok(("x", " \t ")));
        assert_eq!(err_what(blank1("x")), "a space");
        assert_eq!(blank0("x"), "x");
    }

    #[test]
    fn rdomain_prefix() {
        assert_eq!(rdomain("(12) x"), Ok(("x", 12)));
        assert!(rdomain("(12)x").is_err());
        assert!(rdomain("(x) y").is_err());
    }

    #[test]
    fn durations_allow_long_hours() {
        assert_eq!(ok(duration("00:12:41")), 12 * 60 + 41);
        assert_eq!(ok(duration("123:04:05")), 123 * 3600 + 4 * 60 + 5);
        assert_eq!(err_what(duration("00:60:00")), "minutes or seconds (00-59)");
        assert_eq!(err_what(duration("1:2")), "':' in a duration HH:MM:SS");
        assert_eq!(
            err_what(duration("99999999999999999999:00:00")),
            "a duration HH:MM:SS"
        );
        assert_eq!(
            err_what(duration("9999999999999999:00:00")),
            "a duration below 2^64 seconds"
        );
    }

    #[test]
    fn u64_counters_and_overflow() {
        assert_eq!(ok(dec_u64("18446744073709551615")), u64::MAX);
        assert_eq!(
            err_what(dec_u64("18446744073709551616")),
            "a number below 2^64"
        );
        assert_eq!(err_what(dec_u32("4294967296")), "a number below 2^32");
        assert_eq!(err_what(dec_u64("x")), "a number");
    }

    #[test]
    fn counter_pairs() {
        assert_eq!(counter_pair("1520:2210 pkts"), Ok((" pkts", (1520, 2210))));
        assert_eq!(
            err_what(counter_pair("1520 pkts")),
            "':' between two counters"
        );
    }

    #[test]
    fn hex_ids() {
        assert_eq!(ok(hex_id("64f1a2b300000a11")), 0x64f1_a2b3_0000_0a11);
        assert_eq!(ok(hex_creator("4e1f00c2")), 0x4e1f_00c2);
        assert_eq!(
            err_what(hex_id("164f1a2b300000a11")),
            "a shorter hexadecimal number"
        );
        assert_eq!(
            err_what(hex_creator("123456789")),
            "a shorter hexadecimal number"
        );
        assert_eq!(err_what(hex_id("zz")), "a hexadecimal number");
    }

    #[test]
    fn ports_numeric_and_named() {
        assert_eq!(ok(port("65535")), Port::Num(65535));
        assert_eq!(ok(port("3com-tsmux")), Port::Name("3com-tsmux".into()));
        assert_eq!(err_what(port("65536")), "a port number (0-65535)");
    }

    #[test]
    fn host_addr_kinds() {
        assert_eq!(ok(host_addr("?")), HostAddr::Name("?".into()));
        assert_eq!(ok(host_addr("fw")), HostAddr::Name("fw".into()));
        assert!(matches!(ok(host_addr("::")), HostAddr::Ip(IpAddr::V6(_))));
        assert_eq!(err_what(host_addr("1.2.3.4.5")), "an IPv4 address");
        assert_eq!(
            err_what(host_addr("2001:db8::1x")),
            "the end of an IPv6 address"
        );
    }

    #[test]
    fn columns_are_characters_not_bytes() {
        let line = "é 10.0.0.x";
        let at = &line[3..];
        assert_eq!(column_of(line, at), 3);
        assert_eq!(column_of(line, "elsewhere"), 1);
    }
}
