//! Fast paths for the continuation lines of a state: byte-level parsers for
//! the lines pfctl prints (sequence windows, the age line, the plain id
//! line) that accept a *subset* of what the full nom-style parsers accept
//! without a diagnostic, and return the same values. `None` means "not
//! vouched for": the caller then runs the full parser, which decides and
//! reports. The tests below mutate printed lines and check that wherever a
//! fast path answers, the full parser answers the same.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::model::{Endpoint, HostAddr, Port, SeqWindow};

/// A byte cursor. Every method is inlined: these run a dozen times per
/// line, and a call costs more than the work.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    #[inline(always)]
    fn new(b: &'a [u8]) -> Self {
        Cursor { b, i: 0 }
    }

    #[inline(always)]
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline(always)]
    fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    #[inline(always)]
    fn byte(&mut self, want: u8) -> Option<()> {
        if self.peek() == Some(want) {
            self.i += 1;
            Some(())
        } else {
            None
        }
    }

    #[inline(always)]
    fn bytes(&mut self, want: &[u8]) -> Option<()> {
        let end = self.i + want.len();
        if self.b.get(self.i..end)? == want {
            self.i = end;
            Some(())
        } else {
            None
        }
    }

    /// Blanks (spaces, tabs); returns how many.
    #[inline(always)]
    fn blanks(&mut self) -> usize {
        let start = self.i;
        while let Some(b' ' | b'\t') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }

    #[inline(always)]
    fn blanks1(&mut self) -> Option<()> {
        (self.blanks() > 0).then_some(())
    }

    /// 1 to `max` decimal digits (`max` at most 19: no overflow).
    #[inline(always)]
    fn decimal(&mut self, max: usize) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(&c) = self.b.get(self.i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            // Wraps only past 19 digits, which are refused below.
            v = v.wrapping_mul(10).wrapping_add(u64::from(d));
            self.i += 1;
        }
        let n = self.i - start;
        (n > 0 && n <= max).then_some(v)
    }

    /// A `u32` as `dec_u32` reads it (at most 10 digits here).
    #[inline(always)]
    fn dec_u32(&mut self) -> Option<u32> {
        u32::try_from(self.decimal(10)?).ok()
    }

    /// 1 to `max` hexadecimal digits (`max` at most 16).
    #[inline(always)]
    fn hex(&mut self, max: usize) -> Option<u64> {
        let start = self.i;
        let mut v: u64 = 0;
        while let Some(&c) = self.b.get(self.i) {
            let d = match c {
                b'0'..=b'9' => c - b'0',
                b'a'..=b'f' => c - b'a' + 10,
                b'A'..=b'F' => c - b'A' + 10,
                _ => break,
            };
            v = v.wrapping_shl(4) | u64::from(d);
            self.i += 1;
        }
        let n = self.i - start;
        (n > 0 && n <= max).then_some(v)
    }
}

/// `[seqlo + win](+diff) wscale N  [seqlo + win](+diff) wscale N`, as
/// `seq_line` reads it (in printed order).
pub(super) fn seq_line(body: &[u8]) -> Option<(SeqWindow, SeqWindow)> {
    let mut c = Cursor::new(body);
    let a = seq_window(&mut c)?;
    c.blanks1()?;
    let b = seq_window(&mut c)?;
    c.blanks();
    c.at_end().then_some((a, b))
}

/// One window, as `seq_window` reads it.
#[inline(always)]
fn seq_window(c: &mut Cursor<'_>) -> Option<SeqWindow> {
    c.byte(b'[')?;
    let seqlo = c.dec_u32()?;
    c.blanks1()?;
    c.byte(b'+')?;
    c.blanks1()?;
    let window = c.dec_u32()?;
    c.byte(b']')?;
    let mut seqdiff = None;
    if c.bytes(b"(+").is_some() {
        seqdiff = Some(c.dec_u32()?);
        c.byte(b')')?;
    }
    // `wscale` may follow after blanks; without it the blanks stay unread.
    let before = c.i;
    c.blanks();
    let mut wscale = None;
    if c.bytes(b"wscale").is_some() {
        c.blanks1()?;
        wscale = Some(u8::try_from(c.decimal(3)?).ok()?);
    } else {
        c.i = before;
    }
    Some(SeqWindow {
        seqlo,
        window,
        seqdiff,
        wscale,
    })
}

/// The values of an age line (`None` where the line has no such item).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct AgeLine {
    pub age: Option<u64>,
    pub expires: Option<u64>,
    pub packets: Option<(u64, u64)>,
    pub bytes: Option<(u64, u64)>,
    pub anchor: Option<u32>,
    pub rule: Option<u32>,
    /// The line has items kept as flags (`sloppy`, `log (all)`…).
    pub flags: bool,
}

/// An age line (`body` starts with `age `) whose every item `age_item`
/// accepts without a diagnostic; `None` otherwise. Flags are only noted:
/// a caller that keeps them runs the full parser for such a line.
pub(super) fn age_line(body: &[u8]) -> Option<AgeLine> {
    plain_age_line(body).or_else(|| any_age_line(body))
}

/// The age line as pfctl prints it: `age D, expires in D, N:N pkts, N:N
/// bytes[, anchor M][, rule N]`, read straight through.
#[inline(always)]
fn plain_age_line(body: &[u8]) -> Option<AgeLine> {
    let mut c = Cursor::new(body);
    c.bytes(b"age ")?;
    let age = duration(&mut c)?;
    c.bytes(b", expires in ")?;
    let expires = duration(&mut c)?;
    c.bytes(b", ")?;
    let packets = counts(&mut c)?;
    c.bytes(b" pkts, ")?;
    let bytes = counts(&mut c)?;
    c.bytes(b" bytes")?;
    let mut v = AgeLine {
        age: Some(age),
        expires: Some(expires),
        packets: Some(packets),
        bytes: Some(bytes),
        ..AgeLine::default()
    };
    if c.bytes(b", anchor ").is_some() {
        v.anchor = Some(c.dec_u32()?);
    }
    if c.bytes(b", rule ").is_some() {
        v.rule = Some(c.dec_u32()?);
    }
    c.at_end().then_some(v)
}

/// Any age line: items in any order, flags.
fn any_age_line(body: &[u8]) -> Option<AgeLine> {
    let mut v = AgeLine::default();
    for item in body.split(|b| *b == b',') {
        let item = trim_blanks(item);
        match item.first()? {
            b'a' => {
                if let Some(r) = item.strip_prefix(b"age ") {
                    v.age = Some(whole(r, duration)?);
                } else if let Some(r) = item.strip_prefix(b"anchor ") {
                    v.anchor = Some(whole(r, |c| c.dec_u32())?);
                } else {
                    flag(item, &mut v)?;
                }
            }
            b'e' => match item.strip_prefix(b"expires in ") {
                Some(r) => v.expires = Some(whole(r, duration)?),
                None => flag(item, &mut v)?,
            },
            b'r' => match item.strip_prefix(b"rule ") {
                Some(r) => v.rule = Some(whole(r, |c| c.dec_u32())?),
                None => flag(item, &mut v)?,
            },
            b'0'..=b'9' => {
                if let Some(r) = item.strip_suffix(b" pkts") {
                    v.packets = Some(whole(r, counts)?);
                } else {
                    let r = item.strip_suffix(b" bytes")?;
                    v.bytes = Some(whole(r, counts)?);
                }
            }
            _ => flag(item, &mut v)?,
        }
    }
    Some(v)
}

fn trim_blanks(mut b: &[u8]) -> &[u8] {
    while let [b' ' | b'\t', rest @ ..] = b {
        b = rest;
    }
    while let [rest @ .., b' ' | b'\t'] = b {
        b = rest;
    }
    b
}

/// Runs `p` after optional blanks; it must read the whole value.
fn whole<T>(value: &[u8], p: impl FnOnce(&mut Cursor<'_>) -> Option<T>) -> Option<T> {
    let mut c = Cursor::new(value);
    c.blanks();
    let v = p(&mut c)?;
    c.at_end().then_some(v)
}

/// An unknown item is kept as a flag; one with a NUL byte is not pfctl
/// text (the full parser rejects the whole line).
fn flag(item: &[u8], v: &mut AgeLine) -> Option<()> {
    v.flags = true;
    (!item.contains(&0)).then_some(())
}

/// `HH:MM:SS` as seconds, as `duration` reads it (hours at most 12 digits).
#[inline(always)]
fn duration(c: &mut Cursor<'_>) -> Option<u64> {
    let h = c.decimal(12)?;
    c.byte(b':')?;
    let m = c.decimal(2).filter(|m| *m < 60)?;
    c.byte(b':')?;
    let s = c.decimal(2).filter(|s| *s < 60)?;
    Some(h * 3600 + m * 60 + s)
}

/// `a:b`, or the 2002 single total as `(total, 0)`, as `counts` reads them.
#[inline(always)]
fn counts(c: &mut Cursor<'_>) -> Option<(u64, u64)> {
    let a = c.decimal(19)?;
    if c.byte(b':').is_some() {
        return Some((a, c.decimal(19)?));
    }
    Some((a, 0))
}

/// The plain `id: HEX16 creatorid: HEX8` line, as `id_line` reads it
/// (FreeBSD's route and rtable suffixes and `(no-sync)` are left to it).
pub(super) fn id_line(body: &[u8]) -> Option<(u64, u32)> {
    printed_id_line(body).or_else(|| any_id_line(body))
}

/// The id line exactly as pfctl prints it (`id: %016llx creatorid: %08x`):
/// fixed positions, so only the digits need reading.
#[inline(always)]
fn printed_id_line(body: &[u8]) -> Option<(u64, u32)> {
    let (head, tail) = body.split_at_checked(40)?;
    if !(head.starts_with(b"id: ") && &head[20..32] == b" creatorid: ") {
        return None;
    }
    if !tail.iter().all(|c| *c == b' ' || *c == b'\t') {
        return None;
    }
    let id = hex_digits(&head[4..20])?;
    let creator = u32::try_from(hex_digits(&head[32..40])?).ok()?;
    Some((id, creator))
}

/// Hex digits (all of `digits`, at most 16) as a number.
#[inline(always)]
fn hex_digits(digits: &[u8]) -> Option<u64> {
    let mut v: u64 = 0;
    for &c in digits {
        let d = HEX[usize::from(c)];
        if d > 15 {
            return None;
        }
        v = v << 4 | u64::from(d);
    }
    Some(v)
}

/// The value of each hex digit; 255 for other bytes.
pub(super) const HEX: [u8; 256] = {
    let mut t = [255u8; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = match b {
            b'0'..=b'9' => b - b'0',
            b'a'..=b'f' => b - b'a' + 10,
            b'A'..=b'F' => b - b'A' + 10,
            _ => 255,
        };
        c += 1;
    }
    t
};

/// Any blanks around the id line's tokens.
fn any_id_line(body: &[u8]) -> Option<(u64, u32)> {
    let mut c = Cursor::new(body);
    c.bytes(b"id:")?;
    c.blanks();
    let id = c.hex(16)?;
    c.blanks1()?;
    c.bytes(b"creatorid:")?;
    c.blanks();
    let creator = u32::try_from(c.hex(8)?).ok()?;
    c.blanks();
    c.at_end().then_some((id, creator))
}

/// A state-line endpoint without rdomain: `a.b.c.d[:port]` or
/// `v6addr[[port]]` in the hex-only form pfctl prints, followed by the end
/// of the host token, as `common::endpoint` reads it. Returns the rest of
/// the input after the endpoint.
#[inline(always)]
pub(super) fn endpoint(input: &str) -> Option<(&str, Endpoint)> {
    let b = input.as_bytes();
    let (addr, port, used) = match ipv4(b) {
        Some((a, n)) => {
            let (port, used) = port_after(b, n, b':', None)?;
            (IpAddr::V4(a), port, used)
        }
        None => {
            let (a, n) = ipv6(b)?;
            let (port, used) = port_after(b, n, b'[', Some(b']'))?;
            (IpAddr::V6(a), port, used)
        }
    };
    // The host token ends at a blank, `)`, `}` or the end of the line.
    if !matches!(b.get(used), None | Some(b' ' | b'\t' | b')' | b'}')) {
        return None;
    }
    let rest = input.get(used..)?;
    Some((rest, Endpoint::new(HostAddr::Ip(addr), port)))
}

/// An optional port after `b[..at]`: `open` digits [`close`]; the port and
/// the length read.
#[inline(always)]
fn port_after(b: &[u8], at: usize, open: u8, close: Option<u8>) -> Option<(Option<Port>, usize)> {
    if b.get(at) != Some(&open) {
        return Some((None, at));
    }
    let mut c = Cursor { b, i: at + 1 };
    let port = u16::try_from(c.decimal(5)?).ok()?;
    if let Some(close) = close {
        c.byte(close)?;
    }
    Some((Some(Port::Num(port)), c.i))
}

/// Dotted quad without leading zeros (as `common::ipv4` accepts it), not
/// followed by a digit or a dot; the address and its length.
#[inline(always)]
pub(super) fn ipv4(b: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (k, octet) in octets.iter_mut().enumerate() {
        if k > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let start = i;
        let mut v: u32 = 0;
        while let Some(&c) = b.get(i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 || i - start == 3 {
                break;
            }
            v = v * 10 + u32::from(d);
            i += 1;
        }
        let n = i - start;
        if n == 0 || (n > 1 && b[start] == b'0') {
            return None;
        }
        *octet = u8::try_from(v).ok()?;
    }
    if matches!(b.get(i), Some(c) if c.is_ascii_digit() || *c == b'.') {
        return None;
    }
    Some((Ipv4Addr::from(octets), i))
}

/// The hex-only IPv6 forms (at most one `::`, no embedded IPv4), over the
/// same token `common::ipv6` takes (the run of hex digits, `:` and `.`);
/// `None` for anything else, which std's parser then decides. One pass
/// over the bytes: the groups are read as the token is found.
#[inline(always)]
pub(super) fn ipv6(b: &[u8]) -> Option<(Ipv6Addr, usize)> {
    let mut groups = [0u16; 8];
    let mut n = 0;
    // Index in `groups` where `::` stands, if the token has one.
    let mut gap = None;
    let mut i = 0;
    if b.starts_with(b"::") {
        gap = Some(0);
        i = 2;
    }
    // Reads groups until the token ends (a byte that is neither a hex
    // digit nor `:`); any malformed group, or a ninth, refuses the token.
    loop {
        let start = i;
        let mut v: u16 = 0;
        while let Some(&c) = b.get(i) {
            let d = HEX[usize::from(c)];
            if d > 15 {
                break;
            }
            v = v.wrapping_shl(4) | u16::from(d);
            i += 1;
        }
        match i - start {
            // `::` at the end of the token (or alone).
            0 if gap.is_some() && i == start && gap_ends_at(b, i) => break,
            1..=4 => {}
            _ => return None,
        }
        *groups.get_mut(n)? = v;
        n += 1;
        if b.get(i) != Some(&b':') {
            break;
        }
        i += 1;
        if b.get(i) == Some(&b':') {
            if gap.is_some() {
                return None;
            }
            gap = Some(n);
            i += 1;
        }
    }
    // The token must end here: a `.` means an embedded IPv4 address.
    if b.get(i) == Some(&b'.') || i == 0 {
        return None;
    }
    match gap {
        None if n == 8 => {}
        None => return None,
        Some(g) => {
            if n > 7 {
                return None;
            }
            // Moves the groups after `::` to the end.
            let tail = n - g;
            groups.copy_within(g..n, 8 - tail);
            groups[g..8 - tail].fill(0);
        }
    }
    Some((Ipv6Addr::from(groups), i))
}

/// True when the `::` just read ends the token (`i` is right after it and
/// no hex digit or `:` follows).
#[inline(always)]
fn gap_ends_at(b: &[u8], i: usize) -> bool {
    i >= 2
        && b.get(i - 2..i) == Some(b"::")
        && !matches!(b.get(i), Some(&c) if c == b':' || HEX[usize::from(c)] <= 15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::State;
    use crate::parse::states::skim::scratch_state;

    /// The full parser's values for one continuation body.
    fn full(body: &str) -> (State, usize) {
        let mut s = scratch_state();
        let mut diags = Vec::new();
        let line = format!("   {body}");
        crate::parse::states::slow_continuation(&mut s, 1, &line, body, &mut diags);
        (s, diags.len())
    }

    /// Where a fast path answers, the full parser gives the same values and
    /// no diagnostic. Returns whether the fast path answered.
    fn agrees(body: &str) -> bool {
        let b = body.as_bytes();
        let (s, diags) = full(body);
        if b.first() == Some(&b'[') {
            if let Some((x, y)) = seq_line(b) {
                assert_eq!(diags, 0, "{body:?}");
                assert_eq!(s.seq.as_deref(), Some(&(x, y)), "{body:?}");
                return true;
            }
        } else if b.starts_with(b"age ") {
            if let Some(v) = age_line(b) {
                assert_eq!(diags, 0, "{body:?}");
                let got = (v.age, v.expires, v.packets, v.bytes, v.anchor, v.rule);
                let want = (s.age, s.expires, s.packets, s.bytes, s.anchor, s.rule);
                assert_eq!(got, want, "{body:?}");
                assert_eq!(v.flags, !s.flags.is_empty(), "{body:?}");
                return true;
            }
        } else if let Some((id, creator)) = id_line(b) {
            assert_eq!(diags, 0, "{body:?}");
            assert_eq!((s.id, s.creator_id), (Some(id), Some(creator)), "{body:?}");
            assert!(s.route.is_none() && s.rtable.is_none() && s.flags.is_empty());
            return true;
        }
        false
    }

    #[test]
    fn fast_paths_take_what_pfctl_prints() {
        for body in [
            "[1952540566 + 53059] wscale 2  [3475871366 + 48412] wscale 7",
            "[1000 + 65535](+4000123)  [52000 + 16384]",
            "age 20:38:57, expires in 11:26:20, 1326:664 pkts, 119340:928200 bytes, anchor 2, rule 4",
            "age 00:00:01, expires in 00:00:02, 7 pkts, 900 bytes, rule 1, sloppy, log (all)",
            "id: 64f1a2b300000000 creatorid: 4e1f00c2",
        ] {
            assert!(agrees(body), "{body:?}");
        }
    }

    #[test]
    fn fast_paths_leave_the_rest_to_the_full_parser() {
        for body in [
            "[4294967296 + 2]  [1 + 1]",
            "[1 + 2]",
            "[1 + 2]wscale  [1 + 2]",
            "[1 + 2] wscale 256  [1 + 2]",
            "age 00:60:00, expires in 00:00:02",
            "age 00:00:01, , rule 1",
            "age 00:00:01, rule 4294967296",
            "age 00:00:01, 1:1 pkt",
            "age 00:00:01, lo\0g",
            "id: 64f1a2b300000000 creatorid: 4e1f00c2 rtable: 1",
            "id: 64f1a2b3000000001 creatorid: 4e1f00c2",
            "origif: em0",
            "garbage",
        ] {
            assert!(!agrees(body), "{body:?}");
        }
    }

    fn endpoint_agrees(text: &str) -> bool {
        let Some((rest, ep)) = endpoint(text) else {
            return false;
        };
        match crate::parse::common::endpoint(text) {
            Ok((r, e)) => assert_eq!((r, &e), (rest, &ep), "{text:?}"),
            Err(e) => panic!("fast endpoint accepted {text:?}, full parser: {e:?}"),
        }
        true
    }

    #[test]
    fn fast_endpoints_agree_with_the_full_parser() {
        for text in [
            "10.0.0.1:443 ->",
            "255.255.255.255",
            "2001:db8::10[443] <-",
            "::",
            "::1[22])",
            "1:2:3:4:5:6:7:8[65535]}",
            "1:2:3:4:5:6:7::",
            "fe80::1:2",
            "1::",
            "::1:2:3:4:5:6:7",
            "A:B::c[80]",
        ] {
            assert!(endpoint_agrees(text), "{text:?}");
        }
        for text in [
            "01.2.3.4:1",
            "1.2.3.4:65536",
            "1.2.3.4.5",
            "1.2.3.4:80x",
            "::ffff:1.2.3.4",
            "1::2::3",
            "1:2:3:4::5:6:7:8",
            "12345::1",
            ":::",
            "::1:",
            ":1::",
            "1::.",
            "1:2:3:4:5:6:7:8:9",
            "::1:2:3:4:5:6:7:8",
            "2001:db8::10[443",
            "host:80",
        ] {
            assert!(!endpoint_agrees(text), "{text:?}");
        }
    }

    proptest::proptest! {
        /// Random text over the address alphabet: wherever the fast path
        /// answers, the full parser answers the same.
        #[test]
        fn fast_endpoints_never_disagree(text in "[0-9a-fA-F:.\\[\\] )]{0,24}") {
            endpoint_agrees(&text);
        }

        /// Every address std prints (and its fully expanded form) is read.
        #[test]
        fn fast_endpoints_read_what_std_prints(groups: [u16; 8], v4: [u8; 4], port: u16) {
            let v6 = Ipv6Addr::from(groups);
            let printed = format!("{v6}[{port}]");
            if !printed.contains('.') {
                proptest::prop_assert!(endpoint_agrees(&printed), "{printed}");
            }
            let expanded = groups.iter().map(|g| format!("{g:x}")).collect::<Vec<_>>().join(":");
            proptest::prop_assert!(endpoint_agrees(&expanded), "{expanded}");
            let v4 = format!("{}:{port}", Ipv4Addr::from(v4));
            proptest::prop_assert!(endpoint_agrees(&v4), "{v4}");
        }
    }

    /// Mutations of printed lines (each byte replaced or deleted): wherever
    /// a fast path answers, the full parser agrees.
    #[test]
    fn fast_paths_never_accept_more_than_the_parser() {
        let seeds = [
            "[1952540566 + 53059] wscale 2  [3475871366 + 48412] wscale 7",
            "[1000 + 65535](+4000123)  [52000 + 16384]",
            "age 20:38:57, expires in 11:26:20, 1326:664 pkts, 119340:928200 bytes, anchor 2, rule 4",
            "age 00:00:01, expires in 00:00:02, 7 pkts, 900 bytes, rule 1, sloppy",
            "id: 64f1a2b300000000 creatorid: 4e1f00c2",
        ];
        let alphabet = b" \t:,[]()+0123456789abcdefgrwsxzABF\x00";
        let mut answered = 0;
        for seed in seeds {
            let b = seed.as_bytes();
            for i in 0..b.len() {
                for &c in alphabet {
                    for delete in [false, true] {
                        let mut m = b.to_vec();
                        if delete {
                            m.remove(i);
                        } else {
                            m[i] = c;
                        }
                        if let Ok(body) = String::from_utf8(m)
                            && agrees(&body)
                        {
                            answered += 1;
                        }
                    }
                }
            }
        }
        assert!(
            answered > 1000,
            "the mutations should keep many lines valid"
        );
    }
}
