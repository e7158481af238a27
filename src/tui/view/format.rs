//! Text helpers shared by the views: numbers, durations, rule and state
//! forms. Everything that came from pfctl goes through [`clean`].

use std::borrow::Cow;
use std::time::Duration;

use chrono::{DateTime, Utc};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::analyze::{Resolution, RuleRow};
use crate::model::{
    Action, AddrSpec, Endpoint, HostSpec, PortOp, PortSpec, Rule, State, StatePolicy,
};
use crate::sanitize::neutralize;

/// Text from pfctl, safe for the terminal.
pub fn clean(text: &str) -> Cow<'_, str> {
    neutralize(text)
}

/// `1234` → `1.2K`, `5_000_000` → `4.8M` (powers of 1024, like pfctl's peers).
pub(crate) fn human(n: u64) -> String {
    const UNITS: [&str; 5] = ["K", "M", "G", "T", "P"];
    if n < 1024 {
        return n.to_string();
    }
    let mut v = n as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    // Below 9.95 one decimal still rounds to a single digit (9.9, not 10.0).
    if v < 9.95 {
        format!("{v:.1}{}", UNITS[unit])
    } else {
        format!("{v:.0}{}", UNITS[unit])
    }
}

/// Seconds as pfctl prints ages and expiries: `hh:mm:ss`, hours unbounded.
pub(crate) fn hms(secs: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// A duration for the header: `850 ms`, `2.4 s`.
pub fn elapsed(d: Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}

/// An interval: `2s`, `0.5s`.
pub fn interval(d: Duration) -> String {
    let s = d.as_secs_f64();
    if (s - s.round()).abs() < 1e-9 {
        format!("{s:.0}s")
    } else {
        format!("{s:.1}s")
    }
}

/// A poll time: `12:00:04Z` (UTC, from the sample, never the clock).
pub(crate) fn clock(t: Option<DateTime<Utc>>) -> String {
    t.map_or_else(
        || "--:--:--".to_string(),
        |t| t.format("%H:%M:%SZ").to_string(),
    )
}

/// A rate of new states per second: blank when unknown.
pub fn rate(r: Option<f64>) -> String {
    match r {
        None => String::new(),
        Some(0.0) => "0".to_string(),
        Some(r) if r < 10.0 => format!("{r:.1}"),
        Some(r) => format!("{r:.0}"),
    }
}

/// The rule column: `@5`, `@1:2`, `default`, `@9?` when the rule is
/// missing, `@19 g1` for a rule of an earlier ruleset generation (`current`).
pub(crate) fn rule_label(row: &RuleRow, current: u32) -> String {
    let label = match row.resolution {
        Resolution::Missing => format!("{}?", row.key),
        Resolution::Ambiguous { .. } => format!("{}*", row.key),
        _ => row.key.to_string(),
    };
    if row.generation < current && row.rule.is_some() {
        format!("{label} g{}", row.generation)
    } else {
        label
    }
}

/// Drops what nearly every pass rule prints and says nothing in a one-line
/// form: `flags S/SA`, and a bare `keep state` (kept when options follow).
fn strip_noise(text: &str) -> String {
    let words: Vec<&str> = text.split_whitespace().collect();
    let mut out = Vec::with_capacity(words.len());
    let mut i = 0;
    while i < words.len() {
        let pair = (words[i], words.get(i + 1).copied(), words.get(i + 2));
        match pair {
            ("flags", Some("S/SA"), _) => i += 2,
            ("keep", Some("state"), next) if next.is_none_or(|n| !n.starts_with('(')) => i += 2,
            _ => {
                out.push(words[i]);
                i += 1;
            }
        }
    }
    out.join(" ")
}

/// A short one-line form of the row's rule: the anchor in brackets, the rule
/// text without default noise; or what the row stands for when no rule does.
pub(crate) fn rule_short(row: &RuleRow) -> String {
    let mut text = match (&row.rule, &row.resolution) {
        (Some(rule), _) => strip_noise(&clean(&rule.text)),
        (None, Resolution::DefaultRule) => "(pf's default rule: no rule matched)".to_string(),
        (None, Resolution::Missing) => {
            format!(
                "(no rule {} in the current ruleset: changed since?)",
                row.key
            )
        }
        (None, Resolution::Ambiguous { candidates }) => {
            format!("({candidates} rules could be meant)")
        }
        (None, Resolution::Found) => String::new(),
    };
    if !row.anchor_path.is_empty() {
        text = format!("[{}] {text}", clean(&row.anchor_path));
    }
    text
}

/// Cuts `text` to `width` columns, ending with `…` when anything was cut:
/// a cut is never silent.
pub fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let keep: String = text.chars().take(width - 1).collect();
    format!("{keep}…")
}

/// One word of a rule's compact form; addresses may be shortened in the
/// middle when the column is narrow (their ends tell them apart).
struct Part {
    text: String,
    address: bool,
    /// A shorter form, used when the whole does not fit (`rt gif0`).
    short: Option<String>,
    /// Left out when nothing else makes it fit (`→ any` after a source).
    optional: bool,
}

fn word(text: impl Into<String>) -> Part {
    Part {
        text: text.into(),
        address: false,
        short: None,
        optional: false,
    }
}

fn addr_word(text: String) -> Part {
    Part {
        address: true,
        ..word(text)
    }
}

fn bang(negated: bool) -> &'static str {
    if negated { "!" } else { "" }
}

fn addr_text(a: &AddrSpec) -> String {
    match a {
        AddrSpec::Any => "any".to_string(),
        AddrSpec::Net { net, negated } => {
            let host = net.prefix_len() == net.max_prefix_len();
            let text = if host {
                net.addr().to_string()
            } else {
                net.to_string()
            };
            format!("{}{text}", bang(*negated))
        }
        AddrSpec::Range { from, to, negated } => format!("{}{from}-{to}", bang(*negated)),
        AddrSpec::Table { name, negated } => format!("{}<{}>", bang(*negated), clean(name)),
        AddrSpec::Dynamic {
            iface,
            modifier,
            prefix,
            negated,
        } => {
            let m = modifier
                .as_ref()
                .map(|m| format!(":{}", clean(m)))
                .unwrap_or_default();
            let p = prefix.map(|p| format!("/{p}")).unwrap_or_default();
            format!("{}({}{m}){p}", bang(*negated), clean(iface))
        }
        AddrSpec::Other { text, negated } => format!("{}{}", bang(*negated), clean(text)),
    }
}

fn port_text(p: &PortSpec) -> String {
    let (a, b) = (p.a.to_string(), p.b.as_ref().map(ToString::to_string));
    let text = match (p.op, b) {
        (PortOp::Eq, _) => a,
        (PortOp::Range, Some(b)) => format!("{a}-{b}"),
        (PortOp::Inside, Some(b)) => format!("{a}><{b}"),
        (PortOp::Outside, Some(b)) => format!("{a}<>{b}"),
        (PortOp::Ne, _) => format!("!={a}"),
        (PortOp::Lt, _) => format!("<{a}"),
        (PortOp::Le, _) => format!("<={a}"),
        (PortOp::Gt, _) => format!(">{a}"),
        (PortOp::Ge, _) => format!(">={a}"),
        (_, None) => a,
    };
    clean(&text).into_owned()
}

/// `<www> :443`, `any :6000-6010`, `2001:db8::/64`; `udp` prefixes the
/// port when the protocol is not tcp (tcp is what nearly every rule here is).
fn host_parts(h: &HostSpec, proto: &str, out: &mut Vec<Part>) {
    let addrs: Vec<String> = h.addrs.iter().map(addr_text).collect();
    out.push(addr_word(if addrs.is_empty() {
        "any".to_string()
    } else {
        addrs.join(",")
    }));
    if !h.ports.is_empty() {
        let ports: Vec<String> = h.ports.iter().map(port_text).collect();
        out.push(word(format!("{proto}:{}", ports.join(","))));
    }
}

/// True when the parser read the rule's structure (a rule it could not
/// read keeps its printed text in the table).
fn structured(r: &Rule) -> bool {
    r.iface.is_some()
        || !r.protos.is_empty()
        || !r.from.addrs.is_empty()
        || !r.to.addrs.is_empty()
        || !r.from.ports.is_empty()
        || !r.to.ports.is_empty()
}

/// The compact form of a rule, built from the parsed fields: what tells
/// rules apart first (`out em1 → <www> :443 keep`). `pass` is implied; the
/// family and `flags S/SA` are left out (the details pane has the text).
fn compact_parts(r: &Rule) -> Vec<Part> {
    let mut out = Vec::new();
    match &r.action {
        Action::Pass => {}
        Action::Anchor => {
            out.push(word("anchor"));
            if let Some(name) = &r.anchor_name {
                out.push(word(clean(name).into_owned()));
            }
        }
        other => out.push(word(other.to_string())),
    }
    if let Some(d) = r.direction {
        out.push(word(d.to_string()));
    }
    if let Some(i) = &r.iface {
        out.push(word(format!("{}{}", bang(i.negated), clean(&i.name))));
    }
    let protos: Vec<String> = r.protos.iter().map(|p| clean(p).into_owned()).collect();
    let proto = protos.join(",");
    let shown_proto = if proto == "tcp" { "" } else { proto.as_str() };
    let from_any = r.from.addrs.is_empty() && r.from.ports.is_empty();
    let to_any = r.to.addrs.is_empty() && r.to.ports.is_empty();
    if !from_any {
        host_parts(&r.from, shown_proto, &mut out);
    }
    let first_to = out.len();
    out.push(word("→"));
    host_parts(&r.to, shown_proto, &mut out);
    if !from_any && to_any {
        // `2001:db8::10 :443 → any`: the `→ any` can go when room is short.
        for p in &mut out[first_to..] {
            p.optional = true;
        }
    }
    if r.to.ports.is_empty() && r.from.ports.is_empty() && !shown_proto.is_empty() {
        out.push(word(shown_proto.to_string()));
    }
    match r.state {
        Some(StatePolicy::Keep) => out.push(word("keep")),
        Some(StatePolicy::No) => out.push(Part {
            short: Some("nostate".into()),
            ..word("no state")
        }),
        Some(StatePolicy::Modulate) => out.push(word("modulate")),
        Some(StatePolicy::Synproxy) => out.push(word("synproxy")),
        None => {}
    }
    if let Some(route) = &r.route {
        let target = if route.ifaces.is_empty() {
            clean(&route.target).into_owned()
        } else {
            route
                .ifaces
                .iter()
                .map(|i| clean(i).into_owned())
                .collect::<Vec<_>>()
                .join(",")
        };
        let short = match route.kind {
            crate::model::RouteKind::RouteTo => "rt",
            crate::model::RouteKind::ReplyTo => "reply",
            crate::model::RouteKind::DupTo => "dup",
            crate::model::RouteKind::Gateway => "gw",
        };
        out.push(Part {
            short: Some(format!("{short} {target}")),
            ..word(format!("{} {target}", route.kind))
        });
    }
    for (what, to) in [
        ("nat-to", &r.nat_to),
        ("rdr-to", &r.rdr_to),
        ("af-to", &r.af_to),
    ] {
        if let Some(t) = to {
            out.push(word(format!("{what} {}", clean(t))));
        }
    }
    out
}

/// Joins the parts into `width` columns: short forms first (`rt gif0`),
/// then optional parts go (`→ any`), then addresses are shortened in the
/// middle (down to 8 columns), then the end is cut with `…`.
fn fit_parts(mut parts: Vec<Part>, width: usize) -> String {
    let len = |parts: &[Part]| -> usize {
        parts.iter().map(|p| p.text.chars().count()).sum::<usize>() + parts.len().saturating_sub(1)
    };
    if len(&parts) > width {
        for p in &mut parts {
            if let Some(short) = p.short.take() {
                p.text = short;
            }
        }
    }
    if len(&parts) > width {
        parts.retain(|p| !p.optional);
    }
    loop {
        let over = len(&parts).saturating_sub(width);
        if over == 0 {
            break;
        }
        let Some(longest) = parts
            .iter_mut()
            .filter(|p| p.address && p.text.chars().count() > 8)
            .max_by_key(|p| p.text.chars().count())
        else {
            break;
        };
        let n = longest.text.chars().count();
        let to = n.saturating_sub(over).max(8);
        longest.text = fit_middle(&longest.text, to);
    }
    let joined: Vec<&str> = parts.iter().map(|p| p.text.as_str()).collect();
    cut(&joined.join(" "), width)
}

/// The rules table's text for a row, fitted to `width` columns: the anchor
/// in brackets, then the rule's compact form (or its text without default
/// noise when the parser could not read it); a cut ends with `…`.
pub(crate) fn rule_compact(row: &RuleRow, width: usize) -> String {
    let parts = match &row.rule {
        Some(r) if structured(r) => {
            let anchor =
                (!row.anchor_path.is_empty()).then(|| format!("[{}]", clean(&row.anchor_path)));
            let mut parts: Vec<Part> = anchor.into_iter().map(word).collect();
            parts.extend(compact_parts(r));
            parts
        }
        _ => vec![word(rule_short(row))],
    };
    fit_parts(parts, width)
}

/// Heights of the sparkline: a poll with no new state is the lowest bar,
/// any other count at least the second, so a drop to zero shows.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// The last `width` values as a sparkline, oldest left; blank cells before
/// the first poll. Scaled to the largest value shown.
pub(crate) fn sparkline(values: &[u64], width: usize) -> String {
    let shown = &values[values.len().saturating_sub(width)..];
    let max = shown.iter().copied().max().unwrap_or(0);
    let mut out = " ".repeat(width - shown.len());
    for v in shown {
        out.push(bar(*v, max));
    }
    out
}

fn bar(v: u64, max: u64) -> char {
    if v == 0 || max == 0 {
        return BARS[0];
    }
    // 1..=max onto bars 1..=7 (the largest is the full block).
    let level = (v * 7).div_ceil(max).clamp(1, 7);
    BARS[usize::try_from(level).unwrap_or(7)]
}

/// A chart `rows` lines high of the values (one column per value, oldest
/// left), with eighth blocks for the top of each bar: the details pane's
/// history. A zero is an empty column above the baseline `▁`.
pub(crate) fn chart(values: &[u64], rows: usize) -> Vec<String> {
    let max = values.iter().copied().max().unwrap_or(0);
    let eighths = |v: u64| -> u64 {
        if max == 0 {
            0
        } else {
            // Non-zero values get at least two eighths: one is the baseline.
            let e = (v * 8 * rows as u64).div_ceil(max);
            if v > 0 { e.max(2) } else { 0 }
        }
    };
    (0..rows)
        .rev()
        .map(|row| {
            values
                .iter()
                .map(|v| {
                    let filled = eighths(*v).saturating_sub(row as u64 * 8);
                    match filled {
                        0 if row == 0 => '▁',
                        0 => ' ',
                        f if f >= 8 => '█',
                        f => BARS[usize::try_from(f - 1).unwrap_or(0)],
                    }
                })
                .collect()
        })
        .collect()
}

/// An endpoint with its translation, the way pfctl pairs them: `a (b)`.
pub fn endpoint(e: &Endpoint, nat: Option<&Endpoint>) -> String {
    let main = clean(&e.to_string()).into_owned();
    match nat {
        Some(n) => format!("{main} ({})", clean(&n.to_string())),
        None => main,
    }
}

/// Short names of TCP (and UDP/other) peer states, for narrow screens.
fn short_state(name: &str) -> Option<&'static str> {
    Some(match name {
        "ESTABLISHED" => "EST",
        "SYN_SENT" => "SYN_S",
        "SYN_RCVD" => "SYN_R",
        "FIN_WAIT_1" => "FIN_W1",
        "FIN_WAIT_2" => "FIN_W2",
        "TIME_WAIT" => "TIME_W",
        "CLOSE_WAIT" => "CLOSE_W",
        "LAST_ACK" => "LAST_A",
        "MULTIPLE" => "MULT",
        "NO_TRAFFIC" => "NO_TR",
        _ => return None,
    })
}

/// The state pair: `ESTABLISHED:ESTABLISHED`, or `EST:EST` when narrow.
pub(crate) fn state_pair(s: &State, narrow: bool) -> String {
    let name = |x: &str| match short_state(x) {
        Some(short) if narrow => short.to_string(),
        _ => clean(x).into_owned(),
    };
    format!("{}:{}", name(&s.src_state), name(&s.dst_state))
}

/// Fits `text` in `width` columns by cutting its middle (`2001:db8…1[443]`),
/// so both the start of an address and its end (and port) stay visible.
pub(crate) fn fit_middle(text: &str, width: usize) -> String {
    let n = text.chars().count();
    if n <= width {
        return text.to_string();
    }
    if width == 0 {
        return String::new();
    }
    let keep = width - 1;
    let head = keep / 2;
    let tail = keep - head;
    let start: String = text.chars().take(head).collect();
    let end: String = text.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// A pair of counters `a:b` in human units.
pub fn pair(p: Option<(u64, u64)>) -> String {
    p.map_or_else(String::new, |(a, b)| format!("{}:{}", human(a), human(b)))
}

/// Wraps styled lines at spaces to `width` columns, as the details pane
/// shows them. Wrapping here (not in the `Paragraph`) tells the app how
/// many rows the pane's content takes, so scrolling stops at its end.
/// Continuation rows keep the line's own indentation; a word longer than
/// the width is cut.
pub(crate) fn wrap_lines(lines: Vec<Line<'static>>, width: u16) -> Vec<Line<'static>> {
    let width = usize::from(width.max(1));
    let mut out = Vec::new();
    for line in lines {
        if line.width() <= width {
            out.push(line);
            continue;
        }
        wrap_line(&line, width, &mut out);
    }
    out
}

fn char_width(ch: char) -> usize {
    if ch.is_ascii() {
        1
    } else {
        Span::raw(ch.to_string()).width()
    }
}

/// One line too wide for `width`, wrapped into `out`.
fn wrap_line(line: &Line<'static>, width: usize, out: &mut Vec<Line<'static>>) {
    let chars: Vec<(char, Style)> = line
        .spans
        .iter()
        .flat_map(|s| {
            let style = line.style.patch(s.style);
            s.content.chars().map(move |c| (c, style))
        })
        .collect();
    let indent = chars
        .iter()
        .take_while(|(c, _)| *c == ' ')
        .count()
        .min(width / 2);
    // Words: runs of non-spaces with the spaces after them.
    let mut words: Vec<&[(char, Style)]> = Vec::new();
    let mut start = 0;
    for i in 1..=chars.len() {
        let boundary = i == chars.len() || (chars[i].0 != ' ' && chars[i - 1].0 == ' ');
        if boundary {
            words.push(&chars[start..i]);
            start = i;
        }
    }
    let mut row: Vec<(char, Style)> = Vec::new();
    let mut used = 0;
    for word in words {
        let trimmed = word
            .iter()
            .rposition(|(c, _)| *c != ' ')
            .map_or(0, |p| p + 1);
        let word_width: usize = word[..trimmed].iter().map(|(c, _)| char_width(*c)).sum();
        if used > indent && used + word_width > width {
            out.push(styled_row(&row));
            row = vec![(' ', Style::new()); indent];
            used = indent;
        }
        for &(c, style) in word {
            let w = char_width(c);
            if used + w > width {
                if c == ' ' {
                    continue;
                }
                out.push(styled_row(&row));
                row = vec![(' ', Style::new()); indent];
                used = indent;
            }
            row.push((c, style));
            used += w;
        }
    }
    if row.len() > indent || out.is_empty() {
        out.push(styled_row(&row));
    }
}

/// Characters with styles back into spans (neighbours with one style joined).
fn styled_row(row: &[(char, Style)]) -> Line<'static> {
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut text = String::new();
    let mut current: Option<Style> = None;
    for &(c, style) in row {
        if current.is_some_and(|s| s != style) {
            spans.push(Span::styled(
                std::mem::take(&mut text),
                current.unwrap_or_default(),
            ));
        }
        current = Some(style);
        text.push(c);
    }
    if let Some(style) = current {
        spans.push(Span::styled(text, style));
    }
    let mut line = Line::from(spans);
    // Trailing spaces at a break are not content.
    if let Some(last) = line.spans.last_mut() {
        let kept = last.content.trim_end().to_string();
        last.content = kept.into();
    }
    line
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn cuts_are_marked() {
        assert_eq!(cut("pass out quick", 9), "pass out…");
        assert_eq!(cut("short", 9), "short");
        assert_eq!(cut("abc", 0), "");
    }

    #[test]
    fn sparkline_shows_zero_as_the_baseline_and_any_state_above_it() {
        assert_eq!(sparkline(&[0, 1, 8, 0], 6), "  ▁▂█▁");
        let s = sparkline(&[100, 1, 0], 3);
        assert_eq!(s.chars().next(), Some('█'));
        assert_ne!(s.chars().nth(1), Some('▁'), "1 of 100 is not zero: {s}");
        assert_eq!(s.chars().nth(2), Some('▁'));
        // Only the last `width` values.
        assert_eq!(sparkline(&[5, 5, 0], 1), "▁");
        let rows = chart(&[0, 4, 2], 2);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].chars().nth(1), Some('█'), "{rows:?}");
        assert_eq!(rows[1].chars().next(), Some('▁'), "{rows:?}");
        assert_eq!(rows[1].chars().nth(2), Some('█'), "{rows:?}");
    }

    #[test]
    fn compact_rule_tells_apart_what_differs() {
        use crate::model::{AddrSpec, IfaceSpec, Port, PortOp, PortSpec, RuleRoute};
        let port = |n| PortSpec {
            op: PortOp::Eq,
            a: Port::Num(n),
            b: None,
        };
        let mut rule = Rule {
            direction: Some(crate::model::Direction::Out),
            quick: true,
            iface: Some(IfaceSpec {
                name: "em1".into(),
                negated: false,
            }),
            protos: vec!["tcp".into()],
            state: Some(StatePolicy::Keep),
            text: "pass out quick on em1 inet6 proto tcp from any to <www:2> port = 443 flags S/SA"
                .into(),
            ..Rule::new(Action::Pass)
        };
        rule.to.addrs = vec![AddrSpec::Table {
            name: "www".into(),
            negated: false,
        }];
        rule.to.ports = vec![port(443)];
        let row = |r: &Rule| RuleRow {
            rule: Some(r.clone()),
            ..RuleRow::default()
        };
        assert_eq!(rule_compact(&row(&rule), 80), "out em1 → <www> :443 keep");
        let mut r80 = rule.clone();
        r80.to.ports = vec![port(80)];
        assert_eq!(rule_compact(&row(&r80), 80), "out em1 → <www> :80 keep");
        // A routing rule from the server: source side, no state, route-to.
        let mut rt = rule.clone();
        rt.direction = Some(crate::model::Direction::In);
        rt.from = rule.to.clone();
        rt.from.addrs = vec![AddrSpec::Net {
            net: "2001:db8:bbbb:1::10/128".parse().unwrap(),
            negated: false,
        }];
        rt.to = HostSpec::default();
        rt.state = Some(StatePolicy::No);
        rt.route = Some(RuleRoute {
            kind: crate::model::RouteKind::RouteTo,
            target: "2001:db8:cccc::1@gif0".into(),
            pool: Default::default(),
            ifaces: vec!["gif0".into()],
            addrs: vec![],
        });
        let wide = rule_compact(&row(&rt), 80);
        assert_eq!(
            wide,
            "in em1 2001:db8:bbbb:1::10 :443 → any no state route-to gif0"
        );
        // Narrow: short forms, then the address cut in its middle, then `…`.
        let narrow = rule_compact(&row(&rt), 40);
        assert!(narrow.chars().count() <= 40, "{narrow}");
        assert!(
            narrow.contains("rt gif0") && narrow.contains('…'),
            "{narrow}"
        );
        assert_eq!(narrow, "in em1 2001:…:1::10 :443 nostate rt gif0");
        let tiny = rule_compact(&row(&rt), 20);
        assert!(tiny.ends_with('…') && tiny.chars().count() == 20, "{tiny}");
        // udp shows its protocol with the port.
        let mut udp = rule.clone();
        udp.protos = vec!["udp".into()];
        udp.to.ports = vec![port(53)];
        assert_eq!(rule_compact(&row(&udp), 80), "out em1 → <www> udp:53 keep");
    }

    #[test]
    fn middle_cut_keeps_both_ends() {
        assert_eq!(fit_middle("2001:db8:bbbb:1::10[443]", 12), "2001:…0[443]");
        assert_eq!(fit_middle("short", 12), "short");
        assert_eq!(fit_middle("abc", 0), "");
    }

    #[test]
    fn numbers() {
        assert_eq!(human(999), "999");
        assert_eq!(human(1536), "1.5K");
        assert_eq!(human(35_210), "34K");
        assert_eq!(human(10_233), "10K");
        assert_eq!(human(5 * 1024 * 1024), "5.0M");
        assert_eq!(hms(67), "00:01:07");
        assert_eq!(hms(90_061), "25:01:01");
        assert_eq!(interval(Duration::from_millis(500)), "0.5s");
        assert_eq!(interval(Duration::from_secs(2)), "2s");
        assert_eq!(rate(Some(0.25)), "0.2");
        assert_eq!(rate(None), "");
    }

    #[test]
    fn short_rule_drops_noise_and_shows_anchor() {
        let mut row = crate::tui::fake::analysis().rows[5].clone();
        assert_eq!(
            rule_short(&row),
            "pass in on em0 inet6 proto tcp from any to any port = 443"
        );
        assert_eq!(
            strip_noise("pass in proto tcp flags S/SA keep state (max 10)"),
            "pass in proto tcp keep state (max 10)"
        );
        row.anchor_path = "relayd\x1b[2J".into();
        assert!(rule_short(&row).starts_with("[relayd\\x1b[2J] pass"));
    }

    #[test]
    fn wrapping_breaks_at_spaces_keeps_indent_and_styles() {
        use ratatui::style::Modifier;
        let bold = Style::new().add_modifier(Modifier::BOLD);
        let line = Line::from(vec![
            Span::styled("  fix: ", bold),
            Span::raw("add no state to rule @14"),
        ]);
        let rows = wrap_lines(vec![line], 16);
        let text: Vec<String> = rows.iter().map(|l| l.to_string()).collect();
        assert_eq!(text, ["  fix: add no", "  state to rule", "  @14"]);
        assert_eq!(rows[0].spans[0].style, bold);
        assert!(rows.iter().all(|l| l.width() <= 16));
        // A word longer than the width is cut, not lost.
        let long = wrap_lines(vec![Line::from("abcdefghij")], 4);
        let text: Vec<String> = long.iter().map(|l| l.to_string()).collect();
        assert_eq!(text.concat(), "abcdefghij");
        assert_eq!(wrap_lines(vec![Line::from("short")], 80).len(), 1);
    }
}
