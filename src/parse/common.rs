//! Leaf parsers shared by the state and rule parsers (addresses, ports,
//! numbers, durations).
//!
//! Every parser works on `&str` with nom 8 and fails with an [`Expected`]
//! error that remembers *where* it stopped and *what* it wanted there, so a
//! caller can turn it into a [`crate::model::Diagnostic`] with a column
//! ([`column_of`]) and an "expected …" message.

use std::io::{self, BufRead};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use nom::IResult;
use nom::bytes::complete::{take_till1, take_while1};
use nom::error::{ErrorKind, ParseError};

use crate::model::{Diagnostic, Endpoint, HostAddr, Port, Severity};

/// Parse failure: the position where parsing stopped and what was wanted there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Expected<'a> {
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
pub(crate) type PResult<'a, T> = IResult<&'a str, T, Expected<'a>>;

/// A recoverable failure at `at`.
pub(crate) fn fail<'a, T>(at: &'a str, what: &'static str) -> PResult<'a, T> {
    Err(nom::Err::Error(Expected { at, what }))
}

/// Replaces the message of a failed parse by `what`, at the parser's start.
pub(crate) fn expect<'a, T>(
    input: &'a str,
    what: &'static str,
    r: PResult<'a, T>,
) -> PResult<'a, T> {
    r.map_err(|e| e.map(|_| Expected { at: input, what }))
}

/// 1-based character column of `at` inside `line` (`at` must be a sub-slice
/// of `line`; anything else yields column 1 rather than a panic).
pub(crate) fn column_of(line: &str, at: &str) -> usize {
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
pub(crate) fn is_blank(c: char) -> bool {
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
pub(crate) fn blank0(input: &str) -> &str {
    &input[blank_len(input)..]
}

/// One or more blanks.
pub(crate) fn blank1(input: &str) -> PResult<'_, &str> {
    match blank_len(input) {
        0 => fail(input, "a space"),
        n => Ok((&input[n..], &input[..n])),
    }
}

/// A non-blank token (interface names, protocol names, flags).
pub(crate) fn word(input: &str) -> PResult<'_, &str> {
    // Byte search: the delimiters are ASCII, so the split is a char boundary.
    match input.bytes().position(|b| b == b' ' || b == b'\t') {
        Some(0) => fail(input, "a word"),
        Some(n) => Ok((&input[n..], &input[..n])),
        None if input.is_empty() => fail(input, "a word"),
        // The empty rest points at the end of the line, for error columns.
        None => Ok((&input[input.len()..], input)),
    }
}

/// Exactly `kw` (a keyword or punctuation).
pub(crate) fn keyword<'a>(
    input: &'a str,
    kw: &'static str,
    what: &'static str,
) -> PResult<'a, &'a str> {
    // A plain prefix test (what nom's `tag` does, without its machinery: this
    // runs a dozen times per state).
    match input.strip_prefix(kw) {
        Some(rest) => Ok((rest, &input[..kw.len()])),
        None => fail(input, what),
    }
}

/// Succeeds only at the end of the input (trailing blanks allowed).
pub(crate) fn end_of_line<'a>(input: &'a str, what: &'static str) -> PResult<'a, ()> {
    let rest = blank0(input);
    if rest.is_empty() {
        Ok((rest, ()))
    } else {
        fail(rest, what)
    }
}

/// Decimal digits as a `u64`; more than 64 bits is an error, not a wrap.
/// One pass over the bytes: this runs several times per state line.
pub(crate) fn dec_u64(input: &str) -> PResult<'_, u64> {
    let bytes = input.as_bytes();
    let mut value: u64 = 0;
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let d = b.wrapping_sub(b'0');
        if d > 9 {
            break;
        }
        // 19 digits cannot overflow: only longer numbers pay for checks.
        value = if i < 19 {
            value * 10 + u64::from(d)
        } else {
            match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(d)))
            {
                Some(v) => v,
                None => return fail(input, "a number below 2^64"),
            }
        };
        i += 1;
    }
    if i == 0 {
        return fail(input, "a number");
    }
    Ok((&input[i..], value))
}

/// Decimal `u32` (rule and anchor numbers, rdomains, rtables).
pub(crate) fn dec_u32(input: &str) -> PResult<'_, u32> {
    let (rest, v) = dec_u64(input)?;
    match u32::try_from(v) {
        Ok(v) => Ok((rest, v)),
        Err(_) => fail(input, "a number below 2^32"),
    }
}

/// Decimal `u8` (window scale).
pub(crate) fn dec_u8(input: &str) -> PResult<'_, u8> {
    let (rest, v) = dec_u64(input)?;
    match u8::try_from(v) {
        Ok(v) => Ok((rest, v)),
        Err(_) => fail(input, "a number below 256"),
    }
}

/// Hexadecimal number of at most `max_digits` significant digits
/// (`%016llx` ids, `%08x` creator ids). Leading zeros are optional.
pub(crate) fn hex_u64(input: &str, max_digits: usize) -> PResult<'_, u64> {
    let max_digits = max_digits.min(16);
    let mut value: u64 = 0;
    let mut significant = 0;
    let mut len = 0;
    for b in input.bytes() {
        let d = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => break,
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
pub(crate) fn hex_id(input: &str) -> PResult<'_, u64> {
    hex_u64(input, 16)
}

/// `%08x`: a 32-bit creator id.
pub(crate) fn hex_creator(input: &str) -> PResult<'_, u32> {
    let (rest, v) = hex_u64(input, 8)?;
    match u32::try_from(v) {
        Ok(v) => Ok((rest, v)),
        Err(_) => fail(input, "an 8-digit hexadecimal number"),
    }
}

/// `HH:MM:SS` (`%.2u:%.2u:%.2u`) as seconds. Hours are unbounded (`123:04:05`).
pub(crate) fn duration(input: &str) -> PResult<'_, u64> {
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
pub(crate) fn counter_pair(input: &str) -> PResult<'_, (u64, u64)> {
    let (rest, a) = dec_u64(input)?;
    let (rest, _) = keyword(rest, ":", "':' between two counters")?;
    let (rest, b) = dec_u64(rest)?;
    Ok((rest, (a, b)))
}

/// OpenBSD rdomain prefix `(N) ` of a host.
pub(crate) fn rdomain(input: &str) -> PResult<'_, u32> {
    let (rest, _) = keyword(input, "(", "'(' of an rdomain")?;
    let (rest, n) = dec_u32(rest)?;
    let (rest, _) = keyword(rest, ")", "')' after an rdomain number")?;
    let (rest, _) = blank1(rest)?;
    Ok((rest, n))
}

/// An IPv4 address in dotted-quad form (`inet_ntop`: no leading zeros).
/// Hand-written: two of these on every state line.
pub(crate) fn ipv4(input: &str) -> PResult<'_, Ipv4Addr> {
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
pub(crate) fn ipv6(input: &str) -> PResult<'_, Ipv6Addr> {
    let len = input
        .bytes()
        .position(|b| !(b.is_ascii_hexdigit() || b == b':' || b == b'.'))
        .unwrap_or(input.len());
    if len == 0 {
        return fail(input, "an IPv6 address");
    }
    let (text, rest) = input.split_at(len);
    // Hand-written fast path for the hex-only forms pfctl prints; anything
    // it does not accept (embedded IPv4, errors) is decided by std.
    if let Some(a) = ipv6_hex(text.as_bytes()) {
        return Ok((rest, a));
    }
    match text.parse() {
        Ok(a) => Ok((rest, a)),
        Err(_) => fail(input, "an IPv6 address"),
    }
}

/// Hex groups separated by `:` with at most one `::` standing for one or
/// more zero groups. `None` for anything else (the caller falls back to
/// std's parser, so `Some` must only be returned where std agrees).
fn ipv6_hex(b: &[u8]) -> Option<Ipv6Addr> {
    let mut head = [0u16; 8];
    let mut tail = [0u16; 8];
    let (mut nh, mut nt) = (0, 0);
    let mut gap = false;
    let mut i = 0;
    if b.starts_with(b"::") {
        gap = true;
        i = 2;
        if i == b.len() {
            return Some(Ipv6Addr::UNSPECIFIED);
        }
    }
    loop {
        let start = i;
        let mut v: u32 = 0;
        while let Some(d) = b.get(i).and_then(|&c| char::from(c).to_digit(16)) {
            v = v * 16 + d;
            i += 1;
            if i - start > 4 {
                return None;
            }
        }
        if i == start {
            return None;
        }
        let group = u16::try_from(v).ok()?;
        if gap {
            *tail.get_mut(nt)? = group;
            nt += 1;
        } else {
            *head.get_mut(nh)? = group;
            nh += 1;
        }
        match b.get(i) {
            None => break,
            Some(b':') => {
                i += 1;
                if b.get(i) == Some(&b':') {
                    if gap {
                        return None;
                    }
                    gap = true;
                    i += 1;
                    if i == b.len() {
                        break;
                    }
                } else if i == b.len() {
                    return None;
                }
            }
            Some(_) => return None,
        }
    }
    let total = nh + nt;
    if (gap && total > 7) || (!gap && total != 8) {
        return None;
    }
    let mut groups = [0u16; 8];
    groups[..nh].copy_from_slice(&head[..nh]);
    groups[8 - nt..].copy_from_slice(&tail[..nt]);
    Some(Ipv6Addr::from(groups))
}

fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')
}

/// A host name as printed with `-r` (short name, `NI_NOFQDN`), or `?` when
/// the address could not be formatted.
pub(crate) fn host_name(input: &str) -> PResult<'_, &str> {
    if let Some(rest) = input.strip_prefix('?') {
        return Ok((rest, "?"));
    }
    expect(input, "a host name", take_while1(is_name_char)(input))
}

/// A service name as printed with OpenBSD `-P` (`ssh`, `https`, `http-alt`).
pub(crate) fn service_name(input: &str) -> PResult<'_, &str> {
    expect(
        input,
        "a port number or service name",
        take_while1(|c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '+'))(
            input,
        ),
    )
}

/// A port: decimal `u16`, or a `-P` service name.
pub(crate) fn port(input: &str) -> PResult<'_, Port> {
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
pub(crate) fn host_addr(text: &str) -> PResult<'_, HostAddr> {
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
pub(crate) fn endpoint(input: &str) -> PResult<'_, Endpoint> {
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
    if let Some((rest, addr, port)) = ipv6_endpoint(input) {
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

/// Fast path of [`endpoint`] for `v6addr[port]` and port-less IPv6
/// addresses; `None` sends everything else down the general path (which
/// then reports errors). A valid IPv6 address has at least two colons, so
/// the general path would never have split it as `addr:port` either.
fn ipv6_endpoint(input: &str) -> Option<(&str, HostAddr, Option<Port>)> {
    let (rest, a) = ipv6(input).ok()?;
    let (rest, port) = match rest.strip_prefix('[') {
        Some(p) => {
            let (r, n) = dec_u64(p).ok()?;
            let r = r.strip_prefix(']')?;
            (r, Some(Port::Num(u16::try_from(n).ok()?)))
        }
        None => (rest, None),
    };
    match rest.chars().next() {
        Some(c) if !is_host_end(c) => None,
        _ => Some((rest, HostAddr::Ip(IpAddr::V6(a)), port)),
    }
}

/// `str::trim`, without decoding chars for the usual line: blanks (space,
/// tab) before a printable ASCII byte, and a printable ASCII last byte.
/// `trim` stops at the first char at each end that is not whitespace, so
/// the answer is the same; any other line goes through `trim` itself.
pub fn trim_line(line: &str) -> &str {
    let bytes = line.as_bytes();
    let start = bytes
        .iter()
        .take_while(|&&b| b == b' ' || b == b'\t')
        .count();
    match (bytes.get(start), bytes.last()) {
        (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => {
            line.get(start..).unwrap_or(line)
        }
        _ => line.trim(),
    }
}

/// The lines of `text`, exactly as `text.split('\n')` gives them (a final
/// empty piece included), found with a vectorised byte search.
pub(crate) fn split_lines(text: &str) -> impl Iterator<Item = &str> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', text.as_bytes())
        .map(Some)
        .chain(std::iter::once(None))
        .map(move |nl| {
            let end = nl.unwrap_or(text.len());
            // `\n` is ASCII, so both ends are char boundaries.
            let line = text.get(start..end).unwrap_or("");
            start = end + 1;
            line
        })
}

/// Calls `f` with every line of `r` (without its `\n`), like repeated
/// The longest line read (bytes). pfctl's lines are far shorter (a label
/// is at most 63 bytes); a longer one is skipped whole, never held.
pub(crate) const MAX_LINE: usize = 64 * 1024;

/// The diagnostic for a [`TextLine::TooLong`].
pub(crate) fn too_long(line: usize, len: u64) -> Diagnostic {
    Diagnostic {
        line,
        column: 1,
        severity: Severity::Error,
        message: format!(
            "line {line} is {len} bytes long, longer than pfctl prints (at most {} KiB); skipped",
            MAX_LINE / 1024
        ),
        text: String::new(),
    }
}

/// One line from [`for_each_text_line`], without its `\n`.
pub(crate) enum TextLine<'a> {
    /// The line, valid UTF-8.
    Text(&'a str),
    /// The line's bytes: not valid UTF-8.
    Bytes(&'a [u8]),
    /// A line longer than [`MAX_LINE`], skipped: its length in bytes.
    TooLong(u64),
}

/// A line whose bytes began in an earlier buffer fill: held (at most
/// [`MAX_LINE`] bytes) or, once too long, only measured.
#[derive(Default)]
struct Straddle {
    carry: Vec<u8>,
    /// Bytes of an over-long line seen so far.
    skipping: Option<u64>,
}

impl Straddle {
    fn is_empty(&self) -> bool {
        self.carry.is_empty() && self.skipping.is_none()
    }

    /// The line that ends with `piece` (its last bytes, up to its `\n`).
    #[inline(always)]
    fn end_line(&mut self, piece: &[u8], f: &mut impl FnMut(TextLine<'_>)) {
        let len = self.carry.len() + piece.len();
        if let Some(seen) = self.skipping.take() {
            f(TextLine::TooLong(seen + piece.len() as u64));
        } else if len > MAX_LINE {
            f(TextLine::TooLong(len as u64));
            self.carry.clear();
        } else {
            self.carry.extend_from_slice(piece);
            f(checked(&self.carry));
            self.carry.clear();
        }
    }

    /// The bytes after a buffer's last `\n`: the start of the next line.
    fn keep(&mut self, rest: &[u8]) {
        match self.skipping.as_mut() {
            Some(seen) => *seen += rest.len() as u64,
            None if self.carry.len() + rest.len() > MAX_LINE => {
                self.skipping = Some((self.carry.len() + rest.len()) as u64);
                self.carry.clear();
            }
            None => self.carry.extend_from_slice(rest),
        }
    }

    /// The end of the input: a last line without `\n`.
    fn finish(self, f: &mut impl FnMut(TextLine<'_>)) {
        match self.skipping {
            Some(seen) => f(TextLine::TooLong(seen)),
            None if !self.carry.is_empty() => f(checked(&self.carry)),
            None => {}
        }
    }
}

fn checked(bytes: &[u8]) -> TextLine<'_> {
    match std::str::from_utf8(bytes) {
        Ok(text) => TextLine::Text(text),
        Err(_) => TextLine::Bytes(bytes),
    }
}

/// The next buffer fill of `r`, retried when interrupted.
fn fill(r: &mut impl BufRead) -> io::Result<&[u8]> {
    loop {
        match r.fill_buf() {
            Ok(_) => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    r.fill_buf()
}

/// Calls `f` with every line of `r`. Lines longer than
/// [`MAX_LINE`] are skipped, never held. Lines are found in the reader's
/// buffer (only a line that straddles two buffer fills is copied); the part of a buffer up to its last newline is checked for
/// UTF-8 once (splitting valid UTF-8 at `\n` leaves valid UTF-8), and only
/// a buffer that fails is checked line by line.
pub(crate) fn for_each_text_line<R: BufRead>(
    mut r: R,
    mut f: impl FnMut(TextLine<'_>),
) -> io::Result<()> {
    let mut straddle = Straddle::default();
    loop {
        let buf = fill(&mut r)?;
        if buf.is_empty() {
            break;
        }
        let lines_end = memchr::memrchr(b'\n', buf).map_or(0, |i| i + 1);
        let text = std::str::from_utf8(buf.get(..lines_end).unwrap_or_default()).ok();
        let mut start = 0;
        for_each_newline(buf, |nl| {
            let piece = buf.get(start..nl).unwrap_or_default();
            if !straddle.is_empty() || piece.len() > MAX_LINE {
                straddle.end_line(piece, &mut f);
            } else {
                match text.and_then(|t| t.get(start..nl)) {
                    Some(line) => f(TextLine::Text(line)),
                    None => f(checked(piece)),
                }
            }
            start = nl + 1;
        });
        straddle.keep(buf.get(start..).unwrap_or_default());
        let used = buf.len();
        r.consume(used);
    }
    straddle.finish(&mut f);
    Ok(())
}

/// Where [`for_each_line_fast`] hands the lines of a listing.
pub(crate) trait FastLines {
    /// At the start of a line that ends in the reader's buffer: `rest` holds
    /// that line and the ones after it, up to the buffer's last `\n`. Takes
    /// as many whole lines as it can itself (each at most [`MAX_LINE`]
    /// bytes), straight from the buffer, and returns their length with
    /// their `\n`s: 0 when it took none. The line after them goes to
    /// [`Self::line`], so `fast` must leave it untouched.
    fn fast(&mut self, rest: &[u8]) -> usize;
    /// Every line `fast` did not take, as [`for_each_text_line`] gives it.
    fn line(&mut self, line: TextLine<'_>);
}

/// [`for_each_text_line`] with a fast path: `h.fast` sees the lines that
/// end in the reader's buffer first, straight from the buffer, and finds
/// their ends itself; only the lines it leaves are searched for their `\n`
/// and checked for UTF-8 (one by one). No buffer-wide pass is made, so a
/// listing whose lines the fast path takes is read once.
pub(crate) fn for_each_line_fast<R: BufRead>(mut r: R, h: &mut impl FastLines) -> io::Result<()> {
    let mut straddle = Straddle::default();
    loop {
        let buf = fill(&mut r)?;
        if buf.is_empty() {
            break;
        }
        let lines_end = memchr::memrchr(b'\n', buf).map_or(0, |i| i + 1);
        let mut start = 0;
        if lines_end > 0 && !straddle.is_empty() {
            let nl = memchr::memchr(b'\n', buf).unwrap_or(0);
            straddle.end_line(buf.get(..nl).unwrap_or_default(), &mut |l| h.line(l));
            start = nl + 1;
        }
        while start < lines_end {
            let taken = h.fast(buf.get(start..lines_end).unwrap_or_default());
            debug_assert!(taken == 0 || buf.get(start + taken - 1) == Some(&b'\n'));
            start += taken;
            let Some(rest) = buf.get(start..lines_end).filter(|r| !r.is_empty()) else {
                break;
            };
            // `rest` ends with the buffer's last `\n`.
            let nl = memchr::memchr(b'\n', rest).map_or(lines_end - 1, |i| start + i);
            let piece = buf.get(start..nl).unwrap_or_default();
            if piece.len() > MAX_LINE {
                h.line(TextLine::TooLong(piece.len() as u64));
            } else {
                h.line(checked(piece));
            }
            start = nl + 1;
        }
        straddle.keep(buf.get(start.max(lines_end)..).unwrap_or_default());
        let used = buf.len();
        r.consume(used);
    }
    straddle.finish(&mut |l| h.line(l));
    Ok(())
}

/// Calls `f` with the position of every `\n` of `buf`, in order. Lines
/// are short (60-100 bytes): a search call per line costs more than
/// testing 8 bytes at a time for `\n` (SWAR: a byte of `w ^ 0x0a…` is zero
/// exactly where `w` has a newline; the test below sets its high bit).
/// Four words are tested together, so the 32-byte blocks without a
/// newline (most of them) cost one branch: 30% fewer instructions than
/// one word at a time (callgrind, on a generated `-vvss` table).
#[inline(always)]
pub(crate) fn for_each_newline(buf: &[u8], mut f: impl FnMut(usize)) {
    const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
    const NEWLINES: u64 = 0x0a0a_0a0a_0a0a_0a0a;
    // High bit of each byte: set iff that byte of `word` is a newline.
    #[inline(always)]
    fn newlines(word: &[u8]) -> u64 {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let x = u64::from_le_bytes(bytes) ^ NEWLINES;
        !(((x & LOW7).wrapping_add(LOW7)) | x | LOW7)
    }
    let mut base = 0;
    let mut blocks = buf.chunks_exact(32);
    for block in &mut blocks {
        let found = [
            newlines(&block[..8]),
            newlines(&block[8..16]),
            newlines(&block[16..24]),
            newlines(&block[24..]),
        ];
        if found.iter().any(|z| *z != 0) {
            for (k, &word) in found.iter().enumerate() {
                let mut zero = word;
                while zero != 0 {
                    f(base + 8 * k + (zero.trailing_zeros() / 8) as usize);
                    zero &= zero - 1;
                }
            }
        }
        base += 32;
    }
    for (i, &b) in blocks.remainder().iter().enumerate() {
        if b == b'\n' {
            f(base + i);
        }
    }
}

/// Diagnostics kept per input; the rest are counted exactly.
pub const MAX_DIAGNOSTICS: usize = 1000;

/// Caps the diagnostics of one input: the first [`MAX_DIAGNOSTICS`] are
/// kept, the others counted, and [`DiagCap::finish`] adds one closing
/// "… and N more". Garbage input therefore costs bounded memory.
#[derive(Debug, Default)]
pub(crate) struct DiagCap {
    dropped: u64,
    dropped_errors: u64,
}

impl DiagCap {
    /// Drops (and counts) what is beyond the cap. Call after each line.
    pub(crate) fn trim(&mut self, diags: &mut Vec<Diagnostic>) {
        if diags.len() <= MAX_DIAGNOSTICS {
            return;
        }
        for d in diags.drain(MAX_DIAGNOSTICS..) {
            self.dropped += 1;
            self.dropped_errors += u64::from(d.severity == Severity::Error);
        }
    }

    /// Counts what another cap dropped: the cap of a later part of the
    /// same input, whose kept diagnostics are appended and trimmed next
    /// (`parse::states::chunks`).
    pub(crate) fn add(&mut self, other: DiagCap) {
        self.dropped += other.dropped;
        self.dropped_errors += other.dropped_errors;
    }

    /// Adds the closing count, if anything was dropped.
    pub(crate) fn finish(mut self, diags: &mut Vec<Diagnostic>) {
        self.trim(diags);
        if self.dropped == 0 {
            return;
        }
        diags.push(Diagnostic {
            line: 0,
            column: 0,
            severity: if self.dropped_errors > 0 {
                Severity::Error
            } else {
                Severity::Warning
            },
            message: format!(
                "{OMITTED_PREFIX}{} more ({} errors) not shown: only the first {MAX_DIAGNOSTICS} are kept",
                self.dropped, self.dropped_errors
            ),
            text: String::new(),
        });
    }
}

const OMITTED_PREFIX: &str = "… and ";

/// How many diagnostics a closing "… and N more" of [`DiagCap`] stands for.
pub(crate) fn omitted(d: &Diagnostic) -> Option<u64> {
    if d.line != 0 {
        return None;
    }
    let message = d
        .message
        .rsplit(": ")
        .find(|m| m.starts_with(OMITTED_PREFIX))?;
    let count = message.strip_prefix(OMITTED_PREFIX)?;
    count.split(' ').next()?.parse().ok()
}

/// Longest line text copied into a diagnostic (bytes); longer lines are cut,
/// so a 10 MB line cannot be copied into every diagnostic it causes.
pub(crate) const MAX_DIAG_TEXT: usize = 4096;

/// The line as a diagnostic keeps it: at most [`MAX_DIAG_TEXT`] bytes, cut
/// on a character boundary and marked with `…`.
pub(crate) fn clip(line: &str) -> String {
    if line.len() <= MAX_DIAG_TEXT {
        return line.to_owned();
    }
    let mut end = MAX_DIAG_TEXT;
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &line[..end])
}

/// The 1-based column of the first NUL character, if the line has one.
/// pfctl prints C strings: a NUL means the input is not pfctl text (a
/// binary file, a damaged capture).
pub(crate) fn nul_column(line: &str) -> Option<usize> {
    let i = memchr::memchr(0, line.as_bytes())?;
    Some(line.get(..i).map_or(1, |p| p.chars().count() + 1))
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
#[allow(clippy::unwrap_used)]
mod tests {

    use super::*;

    #[test]
    fn trim_line_is_trim() {
        for line in [
            "",
            " ",
            "\t",
            "   age 00:00:01",
            "all tcp",
            "x ",
            " x",
            "\u{a0}x",
            "x\u{a0}",
            " \u{2003} x",
            "\t\tid: 1",
            " \r",
            "\x0bx",
            "é",
            " é ",
        ] {
            assert_eq!(trim_line(line), line.trim(), "{line:?}");
        }
    }

    #[test]
    fn split_lines_is_split_on_newline() {
        for t in ["", "\n", "a", "a\n", "a\nb", "\n\nx\r\n", "é\nü\n\n"] {
            let ours: Vec<&str> = split_lines(t).collect();
            let std: Vec<&str> = t.split('\n').collect();
            assert_eq!(ours, std, "{t:?}");
        }
    }

    #[test]
    fn lines_are_joined_across_buffer_fills() {
        let text = "first line\nsecond, longer line\n\nlast without newline";
        for cap in [1, 2, 3, 7, 64] {
            let r = io::BufReader::with_capacity(cap, text.as_bytes());
            let mut lines = Vec::new();
            for_each_text_line(r, |l| {
                if let TextLine::Text(l) = l {
                    lines.push(l.to_owned());
                }
            })
            .unwrap();
            assert_eq!(
                lines,
                text.split('\n').collect::<Vec<_>>(),
                "capacity {cap}"
            );
        }
        let mut n = 0;
        for_each_text_line("a\n".as_bytes(), |_| n += 1).unwrap();
        assert_eq!(n, 1, "a final newline ends the last line, it starts none");
    }

    #[test]
    fn an_over_long_line_is_skipped_whole_and_measured() {
        let mut text = b"short\n".to_vec();
        text.extend(std::iter::repeat_n(b'x', MAX_LINE * 3));
        text.extend_from_slice(b"\nafter\n");
        text.extend(std::iter::repeat_n(b'y', MAX_LINE + 1));
        for cap in [1000, 8192, 1 << 20] {
            let r = io::BufReader::with_capacity(cap, &text[..]);
            let mut seen = Vec::new();
            for_each_text_line(r, |l| {
                seen.push(match l {
                    TextLine::Text(t) => t.to_owned(),
                    TextLine::Bytes(b) => String::from_utf8_lossy(b).into_owned(),
                    TextLine::TooLong(n) => format!("too long: {n}"),
                })
            })
            .unwrap();
            let long = format!("too long: {}", MAX_LINE * 3);
            let last = format!("too long: {}", MAX_LINE + 1);
            assert_eq!(
                seen,
                ["short", long.as_str(), "after", last.as_str()],
                "capacity {cap}"
            );
        }
    }

    /// Every line as text, for comparing the two line readers.
    fn describe(l: TextLine<'_>) -> String {
        match l {
            TextLine::Text(t) => format!("text {t:?}"),
            TextLine::Bytes(b) => format!("bytes {b:?}"),
            TextLine::TooLong(n) => format!("too long: {n}"),
        }
    }

    /// Takes the lines that start with `f` itself (as a fast path would).
    struct TakeF(Vec<String>);

    impl TakeF {
        fn one(&mut self, rest: &[u8]) -> Option<usize> {
            if rest.first() != Some(&b'f') {
                return None;
            }
            let nl = memchr::memchr(b'\n', rest).filter(|&nl| nl <= MAX_LINE)?;
            let line = std::str::from_utf8(&rest[..nl]).ok()?;
            self.0.push(format!("fast {line:?}"));
            Some(nl + 1)
        }
    }

    impl FastLines for TakeF {
        fn fast(&mut self, rest: &[u8]) -> usize {
            let mut taken = 0;
            while let Some(n) = rest.get(taken..).and_then(|r| self.one(r)) {
                taken += n;
            }
            taken
        }
        fn line(&mut self, l: TextLine<'_>) {
            self.0.push(describe(l));
        }
    }

    /// The lines and events of the fast reader, with the fast path's lines
    /// written as the plain reader's.
    fn fast_reader_lines(text: &[u8], cap: usize) -> Vec<String> {
        let mut h = TakeF(Vec::new());
        for_each_line_fast(io::BufReader::with_capacity(cap, text), &mut h).unwrap();
        h.0.into_iter()
            .map(|l| l.replacen("fast ", "text ", 1))
            .collect()
    }

    fn plain_reader_lines(text: &[u8], cap: usize) -> Vec<String> {
        let mut seen = Vec::new();
        for_each_text_line(io::BufReader::with_capacity(cap, text), |l| {
            seen.push(describe(l))
        })
        .unwrap();
        seen
    }

    #[test]
    fn the_fast_reader_gives_the_plain_readers_lines() {
        let mut long = b"f".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_LINE));
        long.extend_from_slice(b"\nfine\n");
        long.extend(std::iter::repeat_n(b'y', MAX_LINE * 2));
        long.extend_from_slice(b"\nf\xff\nlast");
        for cap in [1, 2, 3, 7, 64, 1000, 8192, 1 << 20] {
            assert_eq!(
                fast_reader_lines(&long, cap),
                plain_reader_lines(&long, cap),
                "capacity {cap}"
            );
        }
    }

    proptest::proptest! {
        #[test]
        fn the_fast_reader_splits_any_bytes_as_the_plain_one(
            text in proptest::collection::vec(
                proptest::prop_oneof![
                    4 => proptest::sample::select(b"f\n\rab ".to_vec()),
                    1 => proptest::num::u8::ANY,
                ],
                0..200,
            ),
            cap in 1usize..40,
        ) {
            proptest::prop_assert_eq!(fast_reader_lines(&text, cap), plain_reader_lines(&text, cap));
        }
    }

    #[test]
    fn diagnostics_beyond_the_cap_are_counted_exactly() {
        let d = |severity| Diagnostic {
            line: 1,
            column: 1,
            severity,
            message: "x".into(),
            text: String::new(),
        };
        let mut cap = DiagCap::default();
        let mut diags = Vec::new();
        for i in 0..(MAX_DIAGNOSTICS + 1234) {
            diags.push(d(if i % 2 == 0 {
                Severity::Error
            } else {
                Severity::Warning
            }));
            cap.trim(&mut diags);
        }
        cap.finish(&mut diags);
        assert_eq!(diags.len(), MAX_DIAGNOSTICS + 1);
        let last = diags.last().unwrap();
        assert_eq!(omitted(last), Some(1234));
        assert!(last.message.contains("617 errors"), "{}", last.message);
        assert_eq!(omitted(&d(Severity::Error)), None);
    }

    #[test]
    fn ipv6_endpoints_take_the_fast_path_or_fall_back() {
        let (rest, e) = endpoint("2001:db8::1[443] ->").unwrap();
        assert_eq!((rest, e.port), (" ->", Some(Port::Num(443))));
        let (rest, e) = endpoint("2001:db8::1)").unwrap();
        assert_eq!((rest, e.port), (")", None));
        // A service name and an out-of-range port go down the general path.
        assert_eq!(
            endpoint("2001:db8::1[https]").unwrap().1.port,
            Some(Port::Name("https".into()))
        );
        assert!(endpoint("2001:db8::1[65536]").is_err());
        assert!(endpoint("2001:db8::1[80]x").is_err());
    }

    #[test]
    fn ipv6_fast_path_agrees_with_std() {
        let cases = [
            "::",
            "::1",
            "1::",
            "2001:db8::10",
            "2001:db8:0:0:0:0:0:1",
            "1:2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::",
            "::2:3:4:5:6:7:8",
            "1:2:3:4:5:6:7::8",
            "1::2::3",
            ":1",
            "1:",
            "1:::2",
            "12345::",
            "fffff::1",
            "1:2:3:4:5:6:7:8:9",
            "1:2:3:4:5:6:7",
            "::ffff:1.2.3.4",
            "2001:DB8::A",
            "0:0:0:0:0:0:0:0",
            "a:b",
            "",
            ":",
            ":::",
        ];
        for c in cases {
            let std: Option<Ipv6Addr> = c.parse().ok();
            let fast = ipv6_hex(c.as_bytes());
            assert!(
                fast.is_none() || fast == std,
                "{c}: fast {fast:?} std {std:?}"
            );
            let ours = ipv6(c).ok().filter(|(r, _)| r.is_empty()).map(|(_, a)| a);
            assert_eq!(ours, std, "{c}");
        }
        // Every compressed form std prints parses back through the fast path.
        let mut x: u128 = 0x2001_0db8_0000_0000_0000_0000_0000_0001;
        for _ in 0..2000 {
            x = x
                .wrapping_mul(0x9e37_79b9_7f4a_7c15_f39c_c060_5ced_c835)
                .rotate_left(17);
            for a in [x, x & !0xffff_ffff_0000, x & 0xffff] {
                let a = Ipv6Addr::from(a);
                assert_eq!(ipv6_hex(a.to_string().as_bytes()), Some(a), "{a}");
            }
        }
    }

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
