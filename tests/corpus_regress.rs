//! The rule listings of pfctl's own regression suites (`../shared/pfctl-regress`:
//! OpenBSD and FreeBSD `pfctl -nvf` `*.ok`, OpenBSD loaded rulesets `*.loaded`).
//!
//! - every line of every file: no error diagnostic (rule lines, counters,
//!   `set`, macros, `table`, `queue`, `altq`, `ether`, … are all recognised);
//! - rule lines of current-era files: no unknown token;
//! - semantic fields (action, direction, quick, interface, af, proto,
//!   addresses, ports, state, route target and options) agree with the
//!   small token reader below, which shares no code with the parser;
//! - current-era rule lines print back byte for byte (`print(parse(line))`);
//! - every service name in a port is in the one service table.
//!
//! The era of each file comes from SOURCES.md (`legacy` = a 2002–2004 pfctl).
#![allow(clippy::unwrap_used)]

mod corpus_support;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use pfblame::model::{AddrSpec, PortOp, PortSpec, Rule, Severity, StatePolicy};
use pfblame::parse::parse_any;

/// File name (as SOURCES.md writes it, `openbsd/pf1.ok`) → legacy?
fn eras(dir: &Path) -> HashMap<String, bool> {
    let text = std::fs::read_to_string(dir.join("SOURCES.md")).unwrap();
    text.lines()
        .filter_map(|l| {
            let cols: Vec<&str> = l.split('|').map(str::trim).collect();
            let era = *cols.get(5)?;
            (era == "legacy" || era == "current").then(|| (cols[1].to_owned(), era == "legacy"))
        })
        .collect()
}

// ---- the independent token reader --------------------------------------

/// Splits a rule line into words; `"…"` and `( … )` stay whole.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let (mut depth, mut quoted) = (0i32, false);
    for c in line.chars() {
        match c {
            '"' => quoted = !quoted,
            '(' if !quoted => depth += 1,
            ')' if !quoted => depth -= 1,
            _ => {}
        }
        if c == ' ' && !quoted && depth == 0 {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
        } else {
            cur.push(c);
        }
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

const RULE_WORDS: &[&str] = &[
    "pass",
    "block",
    "match",
    "scrub",
    "anchor",
    "nat",
    "rdr",
    "binat",
    "nat-anchor",
    "rdr-anchor",
    "binat-anchor",
    "scrub-anchor",
    "no",
];

const POOL_WORDS: &[&str] = &[
    "round-robin",
    "random",
    "source-hash",
    "bitmask",
    "least-states",
    "sticky-address",
    "prefer-ipv6-nexthop",
];

/// What the reader sees in a rule line.
#[derive(Debug, Default, PartialEq)]
struct Seen {
    action: String,
    direction: Option<String>,
    quick: bool,
    iface: Option<String>,
    af: Option<String>,
    proto: Option<String>,
    from: (Vec<String>, Vec<String>),
    to: (Vec<String>, Vec<String>),
    state: Option<String>,
    route: Option<(String, String, Vec<String>)>,
}

/// `counted`: a `-vv` listing (rules have `@N`).
fn read_rule(line: &str, counted: bool) -> Seen {
    let w = words(line);
    let mut s = Seen::default();
    let mut i = 0;
    s.action = w[0].clone();
    if s.action == "no" {
        s.action = format!("no {}", w[1]);
        i = 1;
    }
    i += 1;
    let get = |i: usize| w.get(i).map(String::as_str);
    // Anchor name, block policy, `pass` of nat/rdr: right after the action.
    if get(i).is_some_and(|t| t.starts_with('"'))
        || get(i).is_some_and(|t| t == "drop" || t.starts_with("return"))
        || (get(i) == Some("pass") && matches!(w[0].as_str(), "nat" | "rdr" | "binat"))
    {
        i += 1;
    }
    if let Some(d @ ("in" | "out")) = get(i) {
        s.direction = Some(d.to_owned());
        i += 1;
    }
    while i < w.len() {
        let t = w[i].as_str();
        match t {
            "quick" => s.quick = true,
            "on" => {
                let mut name = w[i + 1].clone();
                if name == "!" {
                    name = format!("! {}", w[i + 2]);
                    i += 1;
                }
                s.iface = Some(name);
                i += 1;
            }
            "inet" | "inet6" if s.af.is_none() => s.af = Some(t.to_owned()),
            "proto" => {
                s.proto = Some(w[i + 1].clone());
                i += 1;
            }
            "all" if s.from.0.is_empty() => {}
            "from" | "to" => {
                let (addrs, ports, next) = host_part(&w, i + 1, counted);
                if t == "from" {
                    s.from = (addrs, ports);
                } else {
                    s.to = (addrs, ports);
                }
                i = next;
                continue;
            }
            "no" | "keep" | "modulate" | "synproxy" if get(i + 1) == Some("state") => {
                s.state = Some(t.to_owned());
                i += 1;
            }
            // `af-to inet6 from X [to Y]`: the translation, not the match.
            "af-to" => {
                i += 2;
                for side in ["from", "to"] {
                    if get(i) == Some(side) {
                        i += 2;
                    }
                }
                continue;
            }
            "route-to" | "reply-to" | "dup-to" => {
                let (target, next) = pool_target(&w, i + 1);
                let mut opts = Vec::new();
                let mut j = next;
                while let Some(o) = get(j).filter(|o| POOL_WORDS.contains(o)) {
                    opts.push(o.to_owned());
                    if o == "source-hash" && get(j + 1).is_some_and(|k| k.starts_with("0x")) {
                        j += 1;
                        opts.push(w[j].clone());
                    }
                    j += 1;
                }
                s.route = Some((t.to_owned(), target, opts));
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    s
}

/// A pool: one word, or `{ … }` (words joined by a blank).
fn pool_target(w: &[String], i: usize) -> (String, usize) {
    if w[i] != "{" {
        return (w[i].clone(), i + 1);
    }
    let end = (i..w.len()).find(|&j| w[j] == "}").unwrap();
    (w[i..=end].join(" "), end + 1)
}

/// Addresses and ports after `from`/`to`, up to the next keyword.
fn host_part(w: &[String], mut i: usize, counted: bool) -> (Vec<String>, Vec<String>, usize) {
    let (mut addrs, mut ports) = (Vec::new(), Vec::new());
    // An address is `any`, a keyword address, `<table>`, `(iface)`, `!…`,
    // or starts like an IP address; anything else ends the host part.
    let stop = |t: &str| {
        !(matches!(
            t,
            "!" | "any" | "self" | "no-route" | "urpf-failed" | "route"
        ) || t.starts_with(['<', '(', '!', ':'])
            || t.starts_with(|c: char| c.is_ascii_digit())
            || (t.contains(':')
                && t.chars()
                    .all(|c| c.is_ascii_hexdigit() || ":./".contains(c))))
    };
    // `-vv` listings append address counts (`<t:3>`, `(em0:1)`): not part of the address.
    let uncount = |t: &str| -> String {
        for (open, close) in [('<', '>'), ('(', ')')] {
            if let Some(inner) = t
                .trim_start_matches("! ")
                .strip_prefix(open)
                .and_then(|x| x.strip_suffix(close))
                && let Some((head, n)) = inner.rsplit_once(':')
                && (n == "*" || n.bytes().all(|b| b.is_ascii_digit()))
                && (open == '<' || counted)
            {
                let bang = if t.starts_with("! ") { "! " } else { "" };
                return format!("{bang}{open}{head}{close}");
            }
        }
        t.to_owned()
    };
    while let Some(t) = w.get(i) {
        if t == "port" || t == "to" || t == "os" || stop(t) {
            break;
        }
        if t == "route" {
            addrs.push(format!("route {}", w[i + 1]));
            i += 2;
            continue;
        }
        if w.get(i + 1).is_some_and(|n| n == "-") {
            addrs.push(format!("{t} - {}", w[i + 2]));
            i += 3;
            continue;
        }
        if t == "!" {
            addrs.push(uncount(&format!("! {}", w[i + 1])));
            i += 2;
            continue;
        }
        addrs.push(uncount(t));
        i += 1;
    }
    if w.get(i).is_some_and(|t| t == "port") {
        let a = &w[i + 1];
        if matches!(a.as_str(), "=" | "!=" | "<" | "<=" | ">" | ">=") {
            ports.push(format!("{a} {}", w[i + 2]));
            i += 3;
        } else if w.get(i + 2).is_some_and(|o| o == "><" || o == "<>") {
            ports.push(format!("{a} {} {}", w[i + 2], w[i + 3]));
            i += 4;
        } else if a.contains(':') {
            ports.push(a.clone());
            i += 2;
        } else {
            // `port 21` (old rdr) is `port = 21`.
            ports.push(format!("= {a}"));
            i += 2;
        }
    }
    if w.get(i).is_some_and(|t| t == "os") {
        i += 2;
    }
    (addrs, ports, i)
}

// ---- the parser's view, in the reader's terms ---------------------------

fn addr_text(a: &AddrSpec) -> String {
    let mut s = String::new();
    pfblame::print::rules::write_addr(&mut s, a, false).unwrap();
    s
}

fn port_text(p: &PortSpec) -> String {
    let b = p.b.as_ref().map(ToString::to_string).unwrap_or_default();
    match p.op {
        PortOp::Range => format!("{}:{b}", p.a),
        PortOp::Inside | PortOp::Outside => {
            format!("{} {} {b}", p.a, pfblame::print::rules::op_text(p.op))
        }
        op => format!("{} {}", pfblame::print::rules::op_text(op), p.a),
    }
}

fn parsed_view(r: &Rule) -> Seen {
    let host = |h: &pfblame::model::HostSpec| {
        let mut addrs: Vec<String> = h.addrs.iter().map(addr_text).collect();
        if addrs.is_empty() && (!h.ports.is_empty() || h.os.is_some()) {
            addrs.push("any".into());
        }
        (addrs, h.ports.iter().map(port_text).collect())
    };
    let (mut from, mut to) = (host(&r.from), host(&r.to));
    if from.0.is_empty() && !to.0.is_empty() {
        from.0.push("any".into());
    }
    if to.0.is_empty() && !from.0.is_empty() {
        to.0.push("any".into());
    }
    Seen {
        action: match &r.anchor_kind {
            Some(k) => k.to_string(),
            None => r.action.to_string(),
        },
        direction: r.direction.map(|d| d.to_string()),
        quick: r.quick,
        iface: r
            .iface
            .as_ref()
            .map(|i| format!("{}{}", if i.negated { "! " } else { "" }, i.name)),
        af: r.family.map(|f| {
            match f {
                pfblame::model::Family::Inet => "inet",
                pfblame::model::Family::Inet6 => "inet6",
            }
            .to_owned()
        }),
        proto: r.protos.first().map(|p| p.to_string()),
        from,
        to,
        state: match (r.state, r.state_implied) {
            (_, true) | (None, _) => None,
            (Some(StatePolicy::Keep), _) => Some("keep".into()),
            (Some(StatePolicy::No), _) => Some("no".into()),
            (Some(StatePolicy::Modulate), _) => Some("modulate".into()),
            (Some(StatePolicy::Synproxy), _) => Some("synproxy".into()),
        },
        route: r.route.as_ref().map(|rt| {
            let mut opts = Vec::new();
            if let Some(k) = rt.pool.kind {
                opts.push(k.to_string());
            }
            if let Some(key) = &rt.pool.key {
                opts.push(key.to_string());
            }
            if rt.pool.sticky_address {
                opts.push("sticky-address".into());
            }
            if rt.pool.prefer_ipv6_nexthop {
                opts.push("prefer-ipv6-nexthop".into());
            }
            (rt.kind.to_string(), rt.target.to_string(), opts)
        }),
    }
}

// ---- the run -------------------------------------------------------------

#[derive(Default)]
struct Counts {
    files: usize,
    lines: usize,
    rule_lines: usize,
    current_rule_lines: usize,
    errors: Vec<String>,
    unknown: Vec<String>,
    legacy_unknown: usize,
    disagree: Vec<String>,
    round_trip: Vec<String>,
    warnings: BTreeMap<String, usize>,
}

fn is_rule_line(body: &str) -> bool {
    let b = match body.strip_prefix('@') {
        Some(r) => r.split_once(' ').map_or("", |(_, t)| t),
        None => body,
    };
    let first = b.split(' ').next().unwrap_or("");
    RULE_WORDS.contains(&first)
        && (first != "no"
            || b.starts_with("no nat")
            || b.starts_with("no rdr")
            || b.starts_with("no binat")
            || b.starts_with("no scrub"))
}

fn check_file(path: &Path, legacy: bool, c: &mut Counts) {
    let name = path.file_name().unwrap().to_string_lossy().into_owned();
    let text = std::fs::read_to_string(path).unwrap();
    let parsed = parse_any(&text);
    c.files += 1;
    for d in &parsed.diagnostics {
        if d.severity == Severity::Error {
            c.errors
                .push(format!("{name}:{}: {} | {}", d.line, d.message, d.text));
        } else {
            let kind: String = d.message.chars().take(40).collect();
            *c.warnings.entry(kind).or_default() += 1;
        }
    }
    let by_line: HashMap<usize, &Rule> = parsed.rules.iter().map(|r| (r.line, r)).collect();
    for (n, line) in text.lines().enumerate() {
        c.lines += 1;
        let body = line.trim();
        if !is_rule_line(body) {
            continue;
        }
        c.rule_lines += 1;
        let Some(rule) = by_line.get(&(n + 1)) else {
            c.errors
                .push(format!("{name}:{}: no rule parsed | {line}", n + 1));
            continue;
        };
        // Every service name pfctl printed is in the one service table.
        for p in rule.from.ports.iter().chain(&rule.to.ports) {
            for port in std::iter::once(&p.a).chain(p.b.as_ref()) {
                if port.number().is_none() {
                    c.errors.push(format!(
                        "{name}:{}: unknown service `{port}` | {line}",
                        n + 1
                    ));
                }
            }
        }
        if !rule.unknown.is_empty() {
            if legacy {
                c.legacy_unknown += 1;
            } else {
                c.unknown
                    .push(format!("{name}:{}: {:?} | {line}", n + 1, rule.unknown));
            }
        }
        let text_only = body.strip_suffix(" {").unwrap_or(body);
        let seen = read_rule(&rule.text, body.starts_with('@'));
        let view = parsed_view(rule);
        if seen != view {
            c.disagree.push(format!(
                "{name}:{}: {line}\n  reader {seen:?}\n  parser {view:?}",
                n + 1
            ));
        }
        if !legacy {
            c.current_rule_lines += 1;
            let printed = pfblame::print::rules::rule_line(rule);
            if printed != text_only {
                c.round_trip.push(format!(
                    "{name}:{}:\n  line    {text_only}\n  printed {printed}",
                    n + 1
                ));
            }
        }
    }
}

#[test]
fn every_regress_listing_parses_agrees_and_round_trips() {
    let Some(dir) = corpus_support::corpus_dir("pfctl-regress") else {
        return;
    };
    let eras = eras(&dir);
    let mut c = Counts::default();
    for (sub, suffix) in [
        ("openbsd", ".ok"),
        ("freebsd", ".ok"),
        ("openbsd-loaded", ".loaded"),
    ] {
        for path in corpus_support::files(&dir.join(sub), suffix) {
            let key = format!("{sub}/{}", path.file_name().unwrap().to_string_lossy());
            let legacy = *eras
                .get(&key)
                .unwrap_or_else(|| panic!("{key} is not in SOURCES.md"));
            check_file(&path, legacy, &mut c);
        }
    }
    println!(
        "regress: {} files, {} lines, {} rule lines ({} current-era), {} errors, {} lines with unknown tokens (+{} in legacy files), {} disagreements, {} round-trip mismatches",
        c.files,
        c.lines,
        c.rule_lines,
        c.current_rule_lines,
        c.errors.len(),
        c.unknown.len(),
        c.legacy_unknown,
        c.disagree.len(),
        c.round_trip.len()
    );
    println!("warnings by kind: {:#?}", c.warnings);
    let show = |v: &[String]| v[..v.len().min(25)].join("\n");
    for (what, v) in [
        ("errors", &c.errors),
        ("unknown tokens", &c.unknown),
        ("disagreements", &c.disagree),
        ("round-trip mismatches", &c.round_trip),
    ] {
        if !v.is_empty() {
            println!("{what}:\n{}", show(v));
        }
    }
    assert!(c.files >= 250, "only {} files", c.files);
    assert!(c.errors.is_empty(), "errors:\n{}", show(&c.errors));
    assert!(
        c.unknown.is_empty(),
        "unknown tokens:\n{}",
        show(&c.unknown)
    );
    assert!(
        c.disagree.is_empty(),
        "disagreements:\n{}",
        show(&c.disagree)
    );
    assert!(
        c.round_trip.is_empty(),
        "round-trip mismatches:\n{}",
        show(&c.round_trip)
    );
}
