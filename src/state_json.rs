//! The JSON of a [`State`], written by hand: byte for byte what
//! `serde_json::to_writer` writes from the `Serialize` derive in
//! `model.rs` (the contract) and [`crate::sanitize::json_safe`] then makes
//! terminal-safe, without `core::fmt`. `pfblame parse --format
//! json` writes millions of states; through serde, two thirds of its time
//! went into formatting addresses and numbers with `fmt` and escaping
//! strings. The tests compare both writers on every fixture and on
//! generated tables, and the address and number writers with std's
//! `Display`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use crate::model::{Endpoint, HostAddr, Port, SeqWindow, State, StateRoute};

/// Appends the JSON object of `s` (as `serde_json::to_writer(s)` through
/// [`crate::sanitize::JsonSafe`]). For many states, [`StateWriter`] is
/// cheaper (same bytes).
pub fn write_state(out: &mut Vec<u8>, s: &State) {
    StateWriter::default().write(out, s);
}

/// Writes states one after another, as [`write_state`] does, remembering
/// the escaped JSON of the interface, protocol and peer-state strings it
/// wrote. The parser interns those (`Arc<str>` shared by the states that
/// repeat them), so a state that holds an `Arc` written before gets the
/// remembered bytes without escaping its text again: escaping four short
/// strings byte by byte was ~600 instructions per state.
#[derive(Debug, Default)]
pub struct StateWriter {
    iface: StrCache,
    proto: StrCache,
    src_state: StrCache,
    dst_state: StrCache,
}

/// The strings of one field: a table has a few protocols and peer states
/// in any order, so one remembered string would miss most of the time.
#[derive(Debug, Default)]
struct StrCache {
    entries: Vec<CachedStr>,
    /// The entry that matched last (consecutive states often repeat it).
    last: usize,
}

/// Strings remembered per field; beyond, the others are escaped each time.
const CACHED_PER_FIELD: usize = 16;

impl StrCache {
    #[inline(always)]
    fn write(&mut self, out: &mut Vec<u8>, s: &Arc<str>) {
        if let Some(e) = self.entries.get(self.last)
            && e.holds(s)
        {
            e.copy_to(out);
            return;
        }
        self.search(out, s);
    }

    fn search(&mut self, out: &mut Vec<u8>, s: &Arc<str>) {
        if let Some(i) = self.entries.iter().position(|e| e.holds(s)) {
            self.last = i;
            self.entries[i].copy_to(out);
            return;
        }
        let start = out.len();
        write_str(out, s);
        if self.entries.len() < CACHED_PER_FIELD
            && let Some(e) = CachedStr::new(s, out.get(start..).unwrap_or_default())
        {
            self.last = self.entries.len();
            self.entries.push(e);
        }
    }
}

/// The longest escaped string (with its quotes) [`CachedStr`] keeps: a
/// copy of this constant size needs no `memcpy` call.
const CACHED: usize = 32;

/// The JSON of one interned string.
#[derive(Debug)]
struct CachedStr {
    /// The string. Holding the `Arc` keeps its allocation alive, so an
    /// equal pointer is the same (immutable) text, never a new string at a
    /// reused address.
    text: Arc<str>,
    /// Its escaped JSON, quotes included, in the first `len` bytes.
    json: [u8; CACHED],
    len: usize,
}

impl CachedStr {
    /// `None` when the JSON is longer than [`CACHED`].
    fn new(text: &Arc<str>, escaped: &[u8]) -> Option<Self> {
        let mut json = [0u8; CACHED];
        json.get_mut(..escaped.len())?.copy_from_slice(escaped);
        Some(CachedStr {
            text: Arc::clone(text),
            json,
            len: escaped.len(),
        })
    }

    #[inline(always)]
    fn holds(&self, s: &Arc<str>) -> bool {
        Arc::ptr_eq(&self.text, s)
    }

    #[inline(always)]
    fn copy_to(&self, out: &mut Vec<u8>) {
        let start = out.len();
        out.extend_from_slice(&self.json);
        out.truncate(start + self.len);
    }
}

impl StateWriter {
    /// Appends the JSON object of `s`, as [`write_state`].
    pub fn write(&mut self, out: &mut Vec<u8>, s: &State) {
        out.extend_from_slice(b"{\"line\":");
        write_u64(out, s.line as u64);
        out.extend_from_slice(b",\"iface\":");
        self.iface.write(out, &s.iface);
        out.extend_from_slice(b",\"proto\":");
        self.proto.write(out, &s.proto);
        out.extend_from_slice(match s.direction {
            crate::model::Direction::In => b",\"direction\":\"in\",\"src\":",
            crate::model::Direction::Out => b",\"direction\":\"out\",\"src\":",
        });
        write_endpoint(out, &s.src);
        out.extend_from_slice(b",\"dst\":");
        write_endpoint(out, &s.dst);
        out.extend_from_slice(b",\"src_nat\":");
        write_opt(out, s.src_nat.as_deref(), write_endpoint);
        out.extend_from_slice(b",\"dst_nat\":");
        write_opt(out, s.dst_nat.as_deref(), write_endpoint);
        if let Some(g) = &s.gateway {
            out.extend_from_slice(b",\"gateway\":");
            write_endpoint(out, g);
        }
        out.extend_from_slice(b",\"src_state\":");
        self.src_state.write(out, &s.src_state);
        out.extend_from_slice(b",\"dst_state\":");
        self.dst_state.write(out, &s.dst_state);
        out.extend_from_slice(b",\"age\":");
        write_opt(out, s.age, write_u64);
        out.extend_from_slice(b",\"expires\":");
        write_opt(out, s.expires, write_u64);
        out.extend_from_slice(b",\"packets\":");
        write_opt(out, s.packets, write_pair);
        out.extend_from_slice(b",\"bytes\":");
        write_opt(out, s.bytes, write_pair);
        out.extend_from_slice(b",\"anchor\":");
        write_opt(out, s.anchor, |o, v| write_u64(o, v.into()));
        out.extend_from_slice(b",\"rule\":");
        write_opt(out, s.rule, |o, v| write_u64(o, v.into()));
        out.extend_from_slice(b",\"flags\":[");
        for (i, f) in s.flags.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, f);
        }
        out.extend_from_slice(b"],\"id\":");
        write_opt(out, s.id, write_hex16_quoted);
        out.extend_from_slice(b",\"creator_id\":");
        write_opt(out, s.creator_id, write_hex8_quoted);
        out.extend_from_slice(b",\"route\":");
        write_opt(out, s.route.as_deref(), write_route);
        if let Some(t) = s.rtable {
            out.extend_from_slice(b",\"rtable\":");
            write_u64(out, t.into());
        }
        if let Some(o) = &s.origif {
            out.extend_from_slice(b",\"origif\":");
            write_str(out, o);
        }
        if let Some(seq) = &s.seq {
            out.extend_from_slice(b",\"seq\":[");
            write_window(out, &seq.0);
            out.push(b',');
            write_window(out, &seq.1);
            out.push(b']');
        }
        out.extend_from_slice(if s.verbose {
            b",\"verbose\":true}"
        } else {
            b",\"verbose\":false}"
        });
    }
}

fn write_opt<T>(out: &mut Vec<u8>, v: Option<T>, write: impl FnOnce(&mut Vec<u8>, T)) {
    match v {
        Some(v) => write(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

fn write_pair(out: &mut Vec<u8>, (a, b): (u64, u64)) {
    out.push(b'[');
    write_u64(out, a);
    out.push(b',');
    write_u64(out, b);
    out.push(b']');
}

fn write_endpoint(out: &mut Vec<u8>, e: &Endpoint) {
    out.extend_from_slice(b"{\"addr\":");
    write_host(out, &e.addr);
    out.extend_from_slice(b",\"port\":");
    match &e.port {
        Some(Port::Num(n)) => write_u64(out, (*n).into()),
        Some(Port::Name(n)) => write_str(out, n),
        None => out.extend_from_slice(b"null"),
    }
    if let Some(rd) = e.rdomain {
        out.extend_from_slice(b",\"rdomain\":");
        write_u64(out, rd.into());
    }
    out.push(b'}');
}

fn write_host(out: &mut Vec<u8>, h: &HostAddr) {
    match h {
        HostAddr::Ip(ip) => {
            // Address text never needs escaping.
            out.push(b'"');
            write_ip(out, ip);
            out.push(b'"');
        }
        HostAddr::Name(n) => write_str(out, n),
    }
}

fn write_route(out: &mut Vec<u8>, r: &StateRoute) {
    out.extend_from_slice(b"{\"kind\":\"");
    out.extend_from_slice(match r.kind {
        crate::model::RouteKind::RouteTo => b"route-to",
        crate::model::RouteKind::ReplyTo => b"reply-to",
        crate::model::RouteKind::DupTo => b"dup-to",
        crate::model::RouteKind::Gateway => b"gateway",
    });
    out.extend_from_slice(b"\",\"addr\":");
    write_opt(out, r.addr.as_ref(), write_host);
    out.extend_from_slice(b",\"iface\":");
    write_opt(out, r.iface.as_deref(), write_str);
    out.push(b'}');
}

fn write_window(out: &mut Vec<u8>, w: &SeqWindow) {
    out.extend_from_slice(b"{\"seqlo\":");
    write_u64(out, w.seqlo.into());
    out.extend_from_slice(b",\"window\":");
    write_u64(out, w.window.into());
    out.extend_from_slice(b",\"seqdiff\":");
    write_opt(out, w.seqdiff, |o, v| write_u64(o, v.into()));
    out.extend_from_slice(b",\"wscale\":");
    write_opt(out, w.wscale, |o, v| write_u64(o, v.into()));
    out.push(b'}');
}

/// A JSON string as serde_json escapes it (`"` and `\`, the C0 controls:
/// short forms for `\b \t \n \f \r`, `\u00xx` for the others), then as
/// [`crate::sanitize::json_safe`] makes it terminal-safe (DEL, C1 controls,
/// bidi and zero-width characters as `\uXXXX`).
pub(crate) fn write_str(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let b = s.as_bytes();
    let mut start = 0;
    for (i, &c) in b.iter().enumerate() {
        if c >= 0x20 && c != b'"' && c != b'\\' && c < 0x7f {
            continue;
        }
        if c >= 0x7f {
            // A character's first byte (continuation bytes are skipped).
            if (0x80..0xc0).contains(&c) || i < start {
                continue;
            }
            let Some(ch) = s.get(i..).and_then(|r| r.chars().next()) else {
                continue;
            };
            if crate::sanitize::is_unsafe(ch) {
                out.extend_from_slice(&b[start..i]);
                out.extend_from_slice(b"\\u");
                write_hex_min4(out, u32::from(ch));
                start = i + ch.len_utf8();
            }
            continue;
        }
        out.extend_from_slice(&b[start..i]);
        match c {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            0x08 => out.extend_from_slice(b"\\b"),
            b'\t' => out.extend_from_slice(b"\\t"),
            b'\n' => out.extend_from_slice(b"\\n"),
            0x0c => out.extend_from_slice(b"\\f"),
            b'\r' => out.extend_from_slice(b"\\r"),
            _ => {
                out.extend_from_slice(b"\\u00");
                out.push(HEX_DIGITS[usize::from(c >> 4)]);
                out.push(HEX_DIGITS[usize::from(c & 0xf)]);
            }
        }
        start = i + 1;
    }
    out.extend_from_slice(&b[start..]);
    out.push(b'"');
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

/// `{v:04x}`: lowercase hex, at least 4 digits.
fn write_hex_min4(out: &mut Vec<u8>, v: u32) {
    let mut buf = [0u8; 8];
    let mut n = 0;
    let mut x = v;
    while x != 0 || n < 4 {
        n += 1;
        buf[8 - n] = HEX_DIGITS[(x & 0xf) as usize];
        x >>= 4;
    }
    out.extend_from_slice(&buf[8 - n..]);
}

/// Decimal digits of `v` (as `Display`). One and two digits (wscale,
/// rule numbers, small counters) inline; the rest in [`write_u64_more`].
#[inline(always)]
pub(crate) fn write_u64(out: &mut Vec<u8>, v: u64) {
    if v < 10 {
        out.push(b'0' + v as u8);
    } else if v < 100 {
        out.extend_from_slice(&pair(v as usize));
    } else {
        write_u64_more(out, v);
    }
}

/// [`write_u64`] from three digits: numbers below 10^8 (ports, windows,
/// ages, counters) in 32-bit arithmetic without a loop, longer ones as a
/// head and eight padded digits, only the few above 10^16 through the
/// general loop. Inlined: the call cost a sixth of a number.
#[inline(always)]
fn write_u64_more(out: &mut Vec<u8>, v: u64) {
    if v < 10_000 {
        let (high, low) = (v as usize / 100, v as usize % 100);
        if high < 10 {
            let [a, b] = pair(low);
            out.extend_from_slice(&[b'0' + high as u8, a, b]);
        } else {
            let ([a, b], [c, d]) = (pair(high), pair(low));
            out.extend_from_slice(&[a, b, c, d]);
        }
    } else if v < 100_000_000 {
        write_below_1e8(out, v as u32);
    } else if v < 10_000_000_000_000_000 {
        write_below_1e8(out, (v / 100_000_000) as u32);
        out.extend_from_slice(&eight_digits((v % 100_000_000) as u32));
    } else {
        write_long_u64(out, v);
    }
}

/// `v` < 10^8 without leading zeros: its eight padded digits shifted to
/// the front of a word, appended whole (a constant-size copy) and cut to
/// length.
#[inline(always)]
fn write_below_1e8(out: &mut Vec<u8>, v: u32) {
    let digits = 1
        + usize::from(v >= 10)
        + usize::from(v >= 100)
        + usize::from(v >= 1_000)
        + usize::from(v >= 10_000)
        + usize::from(v >= 100_000)
        + usize::from(v >= 1_000_000)
        + usize::from(v >= 10_000_000);
    let word = u64::from_be_bytes(eight_digits(v)) << (8 * (8 - digits));
    let start = out.len();
    out.extend_from_slice(&word.to_be_bytes());
    out.truncate(start + digits);
}

/// `v` < 10^8 as eight digits, leading zeros included.
#[inline(always)]
fn eight_digits(v: u32) -> [u8; 8] {
    let (high, low) = ((v / 10_000) as usize, (v % 10_000) as usize);
    let ([a, b], [c, d]) = (pair(high / 100), pair(high % 100));
    let ([e, f], [g, h]) = (pair(low / 100), pair(low % 100));
    [a, b, c, d, e, f, g, h]
}

/// The two digits of `v` < 100 (one bounds check the compiler removes).
#[inline(always)]
fn pair(v: usize) -> [u8; 2] {
    DIGIT_PAIRS[v % 100]
}

/// [`PAIRS`] as one entry per number.
const DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut t = [[0u8; 2]; 100];
    let mut v = 0;
    while v < 100 {
        t[v] = [PAIRS[2 * v], PAIRS[2 * v + 1]];
        v += 1;
    }
    t
};

/// [`write_u64`] of any value.
fn write_long_u64(out: &mut Vec<u8>, mut v: u64) {
    // The number of digits: `bits * log10(2)` (1233 / 4096) is the digit
    // count or one less (`ilog10` costs three times as much).
    let bits = (64 - v.leading_zeros()) as usize;
    let mut digits = (bits * 1233) >> 12;
    if v >= POW10[digits] {
        digits += 1;
    }
    // Two digits per division, from a table (as the `itoa` crate does),
    // into a fixed-size buffer that is appended whole and then cut to
    // length: a copy of constant size needs no `memcpy` call (which was a
    // third of the cost of writing a number).
    let mut buf = [0u8; 20];
    let mut i = digits;
    while v >= 100 {
        let pair = usize::from((v % 100) as u8) * 2;
        v /= 100;
        i -= 2;
        buf[i..i + 2].copy_from_slice(&PAIRS[pair..pair + 2]);
    }
    if v >= 10 {
        let pair = usize::from(v as u8) * 2;
        buf[..2].copy_from_slice(&PAIRS[pair..pair + 2]);
    } else {
        buf[0] = b'0' + v as u8;
    }
    let len = out.len();
    out.extend_from_slice(&buf);
    out.truncate(len + digits);
}

/// `10^k` for every `k` a `u64` holds.
const POW10: [u64; 20] = {
    let mut t = [1u64; 20];
    let mut k = 1;
    while k < 20 {
        t[k] = t[k - 1] * 10;
        k += 1;
    }
    t
};

/// `00` to `99`.
const PAIRS: &[u8; 200] = b"0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

/// `"{v:016x}"`, with the quotes.
fn write_hex16_quoted(out: &mut Vec<u8>, v: u64) {
    out.extend_from_slice(&hex_quoted::<16, 18>(v));
}

/// `"{v:08x}"`, with the quotes.
fn write_hex8_quoted(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&hex_quoted::<8, 10>(v.into()));
}

/// The `D` low hex digits of `v` between quotes (`N` = `D` + 2): built in
/// a fixed-size array, so appending it is a constant-size copy (no
/// `memcpy` call, which cost as much as the digits).
#[inline(always)]
fn hex_quoted<const D: usize, const N: usize>(v: u64) -> [u8; N] {
    let mut buf = [b'"'; N];
    for (k, digit) in buf[1..=D].iter_mut().enumerate() {
        *digit = HEX_DIGITS[((v >> (4 * (D - 1 - k))) & 0xf) as usize];
    }
    buf
}

/// `v` in lowercase hex without leading zeros (as `{:x}`).
fn write_hex(out: &mut Vec<u8>, v: u16) {
    let mut started = false;
    for shift in [12, 8, 4, 0] {
        let d = (v >> shift) & 0xf;
        if d != 0 || started || shift == 0 {
            out.push(HEX_DIGITS[usize::from(d)]);
            started = true;
        }
    }
}

/// An address as std's `Display` writes it.
pub(crate) fn write_ip(out: &mut Vec<u8>, ip: &IpAddr) {
    match ip {
        IpAddr::V4(a) => write_ipv4(out, a),
        IpAddr::V6(a) => write_ipv6(out, a),
    }
}

/// Dotted quad (as `Display for Ipv4Addr`): each octet's text and its
/// dot from a table into a fixed 16-byte buffer, appended whole and cut to
/// length (a `write_u64` per octet cost four times as much).
pub(crate) fn write_ipv4(out: &mut Vec<u8>, a: &Ipv4Addr) {
    let mut buf = [0u8; 16];
    let mut n = 0;
    for o in a.octets() {
        let (text, len) = OCTETS[usize::from(o)];
        buf[n..n + 4].copy_from_slice(&text);
        n += usize::from(len);
    }
    let start = out.len();
    out.extend_from_slice(&buf);
    // Without the last octet's dot.
    out.truncate(start + n - 1);
}

/// Every octet as decimal digits followed by a dot, and that length.
const OCTETS: [([u8; 4], u8); 256] = {
    let mut t = [([0u8; 4], 0u8); 256];
    let mut v = 0;
    while v < 256 {
        let (h, d, u) = ((v / 100) as u8, (v / 10 % 10) as u8, (v % 10) as u8);
        t[v] = if v >= 100 {
            ([b'0' + h, b'0' + d, b'0' + u, b'.'], 4)
        } else if v >= 10 {
            ([b'0' + d, b'0' + u, b'.', 0], 3)
        } else {
            ([b'0' + u, b'.', 0, 0], 2)
        };
        v += 1;
    }
    t
};

/// RFC 5952 text as `Display for Ipv6Addr` writes it: IPv4-mapped
/// addresses as `::ffff:a.b.c.d`, otherwise lowercase groups with the
/// first longest run of two or more zero groups written `::`.
pub(crate) fn write_ipv6(out: &mut Vec<u8>, a: &Ipv6Addr) {
    if let Some(v4) = a.to_ipv4_mapped() {
        out.extend_from_slice(b"::ffff:");
        write_ipv4(out, &v4);
        return;
    }
    let g = a.segments();
    // The first longest run of zero groups.
    let (mut best_start, mut best_len) = (0, 0);
    let (mut start, mut len) = (0, 0);
    for (i, &s) in g.iter().enumerate() {
        if s == 0 {
            if len == 0 {
                start = i;
            }
            len += 1;
            if len > best_len {
                (best_start, best_len) = (start, len);
            }
        } else {
            len = 0;
        }
    }
    let groups = |out: &mut Vec<u8>, part: &[u16]| {
        for (i, s) in part.iter().enumerate() {
            if i > 0 {
                out.push(b':');
            }
            write_hex(out, *s);
        }
    };
    if best_len > 1 {
        groups(out, &g[..best_start]);
        out.extend_from_slice(b"::");
        groups(out, &g[best_start + best_len..]);
    } else {
        groups(out, &g);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).expect("writers write UTF-8")
    }

    #[test]
    fn addresses_and_numbers_as_display() {
        for a in [
            "::",
            "::1",
            "::ffff:1.2.3.4",
            "1::",
            "1:0:0:2::3",
            "2001:db8::10",
            "0:0:1::",
        ] {
            let ip: Ipv6Addr = a.parse().expect("valid");
            assert_eq!(text(|o| write_ipv6(o, &ip)), ip.to_string());
        }
        for v in 0..=20_000 {
            assert_eq!(text(|o| write_u64(o, v)), v.to_string());
        }
        for v in [0, 9, 10, 99, 100, u64::MAX] {
            assert_eq!(text(|o| write_u64(o, v)), v.to_string());
        }
        // Around every digit-count change and every bit-length change.
        for p in POW10 {
            for v in [p - 1, p, p + 1] {
                assert_eq!(text(|o| write_u64(o, v)), v.to_string());
            }
        }
        for k in 0..64 {
            for v in [(1u64 << k) - 1, 1 << k, (1u64 << k) + 1] {
                assert_eq!(text(|o| write_u64(o, v)), v.to_string());
            }
        }
        for o in 0..=255u8 {
            for ip in [Ipv4Addr::new(o, 0, 255, o), Ipv4Addr::new(9, o, o, 100)] {
                assert_eq!(text(|out| write_ipv4(out, &ip)), ip.to_string());
            }
        }
        assert_eq!(text(|o| write_hex8_quoted(o, 0x1a)), "\"0000001a\"");
        assert_eq!(
            text(|o| write_hex16_quoted(o, 0x1a)),
            "\"000000000000001a\""
        );
        assert_eq!(
            text(|o| write_hex16_quoted(o, u64::MAX)),
            format!("\"{:016x}\"", u64::MAX)
        );
    }

    #[test]
    fn cached_strings_as_write_str() {
        let long: Arc<str> = Arc::from("x".repeat(CACHED).as_str());
        let escaped: Arc<str> = Arc::from("a\"\u{202e}\u{7}");
        let em0: Arc<str> = Arc::from("em0");
        let mut texts = vec![
            Arc::clone(&em0),
            Arc::clone(&em0),
            Arc::from("em1"),
            Arc::from("em0"),
            Arc::clone(&long),
            Arc::clone(&long),
            Arc::clone(&escaped),
            Arc::clone(&escaped),
            Arc::from(""),
            em0,
        ];
        // More strings than the cache keeps, then the first ones again.
        let many: Vec<Arc<str>> = (0..CACHED_PER_FIELD + 3)
            .map(|i| Arc::from(format!("if{i}\\").as_str()))
            .collect();
        texts.extend(many.iter().cloned());
        texts.extend(many.iter().rev().cloned());
        let mut cache = StrCache::default();
        for t in &texts {
            let mut out = b"prefix".to_vec();
            cache.write(&mut out, t);
            assert_eq!(
                String::from_utf8_lossy(&out),
                format!("prefix{}", text(|o| write_str(o, t)))
            );
        }
        assert_eq!(cache.entries.len(), CACHED_PER_FIELD);
    }

    proptest! {
        #[test]
        fn ipv6_as_display(groups: [u16; 8], zeros in proptest::collection::vec(0usize..8, 0..6)) {
            let mut g = groups;
            for z in zeros {
                g[z] = 0;
            }
            let ip = Ipv6Addr::from(g);
            prop_assert_eq!(text(|o| write_ipv6(o, &ip)), ip.to_string());
        }

        #[test]
        fn numbers_of_every_length_as_display(v in 0u64..10_000_000_000, e in 0u32..20, w: u64) {
            for n in [v, v % 10u64.pow(e), w >> e, w % 10u64.pow(e)] {
                prop_assert_eq!(text(|out| write_u64(out, n)), n.to_string());
            }
        }

        #[test]
        fn ipv4_and_integers_as_display(o: [u8; 4], v: u64, w: u32) {
            let ip = Ipv4Addr::from(o);
            prop_assert_eq!(text(|out| write_ipv4(out, &ip)), ip.to_string());
            prop_assert_eq!(text(|out| write_u64(out, v)), v.to_string());
            prop_assert_eq!(text(|out| write_hex8_quoted(out, w)), format!("\"{w:08x}\""));
            prop_assert_eq!(text(|out| write_hex16_quoted(out, v)), format!("\"{v:016x}\""));
        }

        #[test]
        fn strings_as_serde_json_made_safe(s in "(\\PC|[\\x00-\\x1f\"\\\\\\x7f\\u{80}-\\u{9f}\\u{200b}-\\u{200f}\\u{202a}-\\u{202e}\\u{2066}-\\u{2069}\\u{feff}])*") {
            let ours = text(|o| write_str(o, &s));
            let serde = serde_json::to_string(&s).expect("serialises");
            prop_assert_eq!(ours, crate::sanitize::json_safe(&serde).into_owned());
        }
    }
}
