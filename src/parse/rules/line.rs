//! One rule line (without `@N`, indentation and a trailing ` {`) to a
//! [`Rule`]. Keywords are accepted in any order, because OpenBSD and FreeBSD
//! order them differently (FreeBSD prints `route-to` before the address
//! family); a token that is not understood goes to `Rule::unknown` with a
//! warning and parsing goes on.

use crate::model::{
    Action, AnchorKind, Clause, Direction, Family, HostSpec, IcmpType, IfaceSpec, PoolOpts,
    PoolType, PortOp, PortSpec, RouteKind, Rule, RuleRoute, StatePolicy,
};

use super::addr::{
    addr_token, binary_op, pool_element, port_value, range_token, strip_bang, unary, unary_op,
};
use super::tokens::{Tok, tokenize};

/// A problem found in a line, at a 1-based column of the parsed text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issue {
    pub col: usize,
    pub error: bool,
    pub message: String,
}

impl Issue {
    pub fn warning(col: usize, message: impl Into<String>) -> Self {
        Issue {
            col,
            error: false,
            message: message.into(),
        }
    }

    pub fn error(col: usize, message: impl Into<String>) -> Self {
        Issue {
            col,
            error: true,
            message: message.into(),
        }
    }
}

/// Parses the text of one rule. `counted` says the listing is `-vv` (it has
/// `@N`), where pfctl appends address counts to tables and dynamic addresses.
/// `legacy` says a 2002–2004 pfctl printed it (its rule lines end in a
/// blank): then a pass rule without a state keyword is stateless.
/// Returns `Err` when the line does not start with a rule action at all.
pub fn parse_rule_text(
    text: &str,
    counted: bool,
    legacy: bool,
) -> Result<(Rule, Vec<Issue>), Issue> {
    let toks = tokenize(text);
    let first = toks
        .first()
        .copied()
        .ok_or_else(|| Issue::error(1, "empty rule"))?;
    let mut p = LineParser {
        text,
        toks,
        pos: 1,
        counted,
        issues: Vec::new(),
        counts: Vec::new(),
        bare: false,
        in_list: false,
        host_bare: false,
    };
    let mut rule = p.action(first)?;
    p.action_modifiers(&mut rule);
    while let Some(tok) = p.bump() {
        match p.keyword(tok, &mut rule) {
            Step::Clause(c) => rule.layout.push(c),
            Step::Joined => {}
            Step::Verbatim => {
                // Recognised but not modelled (or unknown): kept as printed, in place.
                let end = p.prev_end().unwrap_or(tok.end());
                let words = p.text.get(tok.start..end).unwrap_or(tok.text);
                rule.layout.push(Clause::Verbatim(words.into()));
            }
        }
    }
    if rule.action == Action::Pass && rule.state.is_none() {
        // pfctl prints no state keyword for the default: `keep state` since
        // OpenBSD 4.1 (print_rule() omits it unless options follow), none
        // before, when pass rules were stateless unless told otherwise.
        rule.state = Some(if legacy {
            StatePolicy::No
        } else {
            StatePolicy::Keep
        });
        rule.state_implied = true;
    }
    rule.addr_counts = std::mem::take(&mut p.counts);
    rule.bare_ports = p.host_bare;
    rule.text = text.to_owned();
    Ok((rule, p.issues))
}

/// What one keyword (and its values) became.
enum Step {
    /// A modelled part of the rule.
    Clause(Clause),
    /// A part of a clause already placed (`to` after `from`).
    Joined,
    /// Recognised but not modelled, or unknown: kept as printed.
    Verbatim,
}

struct LineParser<'a> {
    text: &'a str,
    toks: Vec<Tok<'a>>,
    pos: usize,
    counted: bool,
    issues: Vec<Issue>,
    /// `-vv` address counts seen, in order.
    counts: Vec<Box<str>>,
    /// A host port `= N` was printed without its `=`.
    bare: bool,
    /// Inside `port { … }`.
    in_list: bool,
    /// `bare` was set by a host port.
    host_bare: bool,
}

/// Keywords that stand alone (recognised, kept only in `text`).
const FLAG_WORDS: &[&str] = &[
    "all",
    "once",
    "allow-opts",
    "fragment",
    "no-df",
    "random-id",
    "divert-reply",
    "prefer-ipv6-nexthop",
    "endpoint-independent",
    "sloppy",
];

/// Keywords followed by exactly one value (recognised, kept only in `text`).
const VALUE_WORDS: &[&str] = &[
    "flags",
    "tos",
    "prio",
    "max-pkt-rate",
    "max-pkt-size",
    "min-ttl",
    "max-mss",
    "set-tos",
    "probability",
    "queue",
    "pipe",
    "dnpipe",
    "dnqueue",
    "received-on",
    "!received-on",
    "set",
];

impl<'a> LineParser<'a> {
    fn peek(&self) -> Option<&'a str> {
        self.toks.get(self.pos).map(|t| t.text)
    }

    fn bump(&mut self) -> Option<Tok<'a>> {
        let t = self.toks.get(self.pos).copied();
        if t.is_some() {
            self.pos += 1;
        }
        t
    }

    /// Byte offset just past the last token taken.
    fn prev_end(&self) -> Option<usize> {
        self.pos
            .checked_sub(1)
            .and_then(|i| self.toks.get(i))
            .map(Tok::end)
    }

    fn eat(&mut self, word: &str) -> bool {
        if self.peek() == Some(word) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn end_col(&self) -> usize {
        self.text.chars().count() + 1
    }

    /// The next token as the value of `key`; warns when the line ends.
    fn value(&mut self, key: &Tok<'_>) -> Option<Tok<'a>> {
        let v = self.bump();
        if v.is_none() {
            let col = self.end_col();
            // The line ends where a value must follow: it was cut.
            self.issues.push(Issue::error(
                col,
                format!("`{}` needs a value, the line ends", key.text),
            ));
        }
        v
    }

    fn unknown(&mut self, tok: Tok<'_>, rule: &mut Rule) {
        rule.unknown.push(tok.text.into());
        self.issues.push(Issue::warning(
            tok.col,
            format!("unrecognised token `{}`", tok.text),
        ));
    }

    fn action(&mut self, first: Tok<'a>) -> Result<Rule, Issue> {
        let action = match first.text {
            "pass" => Action::Pass,
            "block" => Action::Block,
            "match" => Action::Match,
            "scrub" => Action::Scrub,
            "anchor" | "nat-anchor" | "rdr-anchor" | "binat-anchor" | "scrub-anchor"
            | "dummynet-anchor" => Action::Anchor,
            // macOS `dummynet` rules (DUMMYNET RULES: section).
            "nat" | "rdr" | "binat" | "dummynet" => Action::Other(first.text.into()),
            "no" => match self.peek() {
                Some(w @ ("nat" | "rdr" | "binat" | "scrub")) => {
                    self.pos += 1;
                    Action::Other(format!("no {w}").into())
                }
                _ => return Err(Issue::error(first.col, "expected a rule action after `no`")),
            },
            t if t.starts_with("anchor(") => Action::Anchor,
            t if t.starts_with("action(") => Action::Other(t.into()),
            _ => {
                return Err(Issue::error(
                    first.col,
                    format!(
                        "expected a rule (pass, block, match, anchor…), found `{}`",
                        first.text
                    ),
                ));
            }
        };
        let mut rule = Rule::new(action);
        rule.anchor_kind = match first.text {
            "nat-anchor" => Some(AnchorKind::NatAnchor),
            "rdr-anchor" => Some(AnchorKind::RdrAnchor),
            "binat-anchor" => Some(AnchorKind::BinatAnchor),
            "scrub-anchor" => Some(AnchorKind::ScrubAnchor),
            "dummynet-anchor" => Some(AnchorKind::DummynetAnchor),
            _ => None,
        };
        // macOS prints `scrub-anchor` among its scrub rules, numbered with them.
        rule.scrub = rule.action == Action::Scrub || first.text == "scrub-anchor";
        Ok(rule)
    }

    /// What may directly follow the action: anchor name, block policy, `pass`.
    fn action_modifiers(&mut self, rule: &mut Rule) {
        match &rule.action {
            Action::Anchor => {
                if let Some(name) = self.peek().and_then(unquote) {
                    rule.anchor_name = Some(name.into());
                    self.pos += 1;
                }
            }
            Action::Block => {
                if let Some(p) = self.peek()
                    && (matches!(
                        p,
                        "drop" | "return" | "return-rst" | "return-icmp" | "return-icmp6"
                    ) || p.starts_with("return-rst(")
                        || p.starts_with("return-icmp(")
                        || p.starts_with("return-icmp6("))
                {
                    rule.block_policy = Some(p.into());
                    self.pos += 1;
                }
            }
            Action::Other(a) if matches!(&**a, "nat" | "rdr" | "binat") => {
                rule.nat_pass = self.eat("pass");
            }
            _ => {}
        }
    }

    fn keyword(&mut self, tok: Tok<'a>, rule: &mut Rule) -> Step {
        let clause = match tok.text {
            "in" | "out" => {
                rule.direction = Some(if tok.text == "in" {
                    Direction::In
                } else {
                    Direction::Out
                });
                Clause::Direction
            }
            "log" => {
                rule.log = true;
                if let Some(group) = self.peek().filter(|t| t.starts_with('(')) {
                    self.pos += 1;
                    rule.log_opts = Some(inner(group).into());
                }
                Clause::Log
            }
            // 2002–2004: `log-all` is today's `log (all)`.
            "log-all" => {
                rule.log = true;
                rule.log_opts = Some("all".into());
                return Step::Verbatim;
            }
            "quick" => {
                rule.quick = true;
                Clause::Quick
            }
            "on" => match self.on(&tok, rule) {
                true => Clause::On,
                false => return Step::Verbatim,
            },
            "inet" | "inet6" => {
                rule.family = Some(if tok.text == "inet" {
                    Family::Inet
                } else {
                    Family::Inet6
                });
                Clause::Family
            }
            "proto" => {
                self.proto(&tok, rule);
                Clause::Proto
            }
            "all" if !rule.layout.contains(&Clause::Hosts) => Clause::Hosts,
            "from" | "to" => {
                if tok.text == "from" {
                    rule.from = self.host(&tok, true);
                } else {
                    rule.to = self.host(&tok, false);
                }
                if rule.layout.contains(&Clause::Hosts) {
                    // `from … to …` is one clause; the printer writes both.
                    return Step::Joined;
                }
                Clause::Hosts
            }
            "flags" => match self.value(&tok) {
                Some(v) => {
                    rule.flags = Some(v.text.into());
                    Clause::Flags
                }
                None => return Step::Verbatim,
            },
            "icmp-type" | "icmp6-type" | "ipv6-icmp-type" => {
                let kind = self.value(&tok);
                let code = if self.eat("code") {
                    self.value(&tok)
                } else {
                    None
                };
                if let Some(kind) = kind {
                    rule.icmp_type = Some(IcmpType {
                        v6: tok.text != "icmp-type",
                        kind: kind.text.into(),
                        code: code.map(|c| c.text.into()),
                    });
                }
                if tok.text == "ipv6-icmp-type" {
                    // The 2002 spelling: printed as it was.
                    return Step::Verbatim;
                }
                Clause::IcmpType
            }
            "no" if self.peek() == Some("state") => {
                self.pos += 1;
                rule.state = Some(StatePolicy::No);
                Clause::State
            }
            "keep" | "modulate" | "synproxy" if self.peek() == Some("state") => {
                self.pos += 1;
                rule.state = Some(match tok.text {
                    "keep" => StatePolicy::Keep,
                    "modulate" => StatePolicy::Modulate,
                    _ => StatePolicy::Synproxy,
                });
                if let Some(group) = self.peek().filter(|t| t.starts_with('(')) {
                    self.pos += 1;
                    rule.state_opts = split_group(group);
                }
                Clause::State
            }
            // FreeBSD scrub `fragment no reassemble`.
            "no" if self.peek() == Some("reassemble") => {
                self.pos += 1;
                return Step::Verbatim;
            }
            "state" | "source" if self.peek() == Some("limiter") => {
                self.limiter();
                return Step::Verbatim;
            }
            "scrub" => {
                if self.peek().is_some_and(|t| t.starts_with('(')) {
                    self.pos += 1;
                }
                return Step::Verbatim;
            }
            "reassemble" => {
                self.eat("tcp");
                return Step::Verbatim;
            }
            "label" => match self.value(&tok) {
                Some(v) => {
                    let label = unquote(v.text).unwrap_or_else(|| {
                        self.issues.push(Issue::warning(
                            v.col,
                            "label is not a complete quoted string, kept as printed",
                        ));
                        v.text
                    });
                    rule.labels.push(label.into());
                    Clause::Label(rule.labels.len() - 1)
                }
                None => return Step::Verbatim,
            },
            "ridentifier" => {
                let Some(v) = self.value(&tok) else {
                    return Step::Verbatim;
                };
                match v.text.parse() {
                    Ok(n) if rule.ridentifier.is_none() => {
                        rule.ridentifier = Some(n);
                        Clause::Ridentifier
                    }
                    Ok(_) => return Step::Verbatim,
                    Err(_) => {
                        self.bad_number(v);
                        return Step::Verbatim;
                    }
                }
            }
            "tag" => match self.value(&tok) {
                Some(v) => {
                    rule.tag = Some(v.text.into());
                    Clause::Tag
                }
                None => return Step::Verbatim,
            },
            "tagged" => match self.value(&tok) {
                Some(v) => {
                    rule.tagged = Some(v.text.into());
                    Clause::Tagged
                }
                None => return Step::Verbatim,
            },
            "!" if self.peek() == Some("tagged") => {
                self.pos += 1;
                // Negation is kept in the value so `! tagged x` differs from `tagged x`.
                match self.value(&tok) {
                    Some(v) => {
                        rule.tagged = Some(format!("! {}", v.text).into());
                        Clause::Tagged
                    }
                    None => return Step::Verbatim,
                }
            }
            "rtable" => {
                let Some(v) = self.value(&tok) else {
                    return Step::Verbatim;
                };
                match v.text.parse() {
                    Ok(n) => {
                        rule.rtable = Some(n);
                        Clause::Rtable
                    }
                    Err(_) => {
                        self.bad_number(v);
                        return Step::Verbatim;
                    }
                }
            }
            "user" | "group" => {
                let mut ignored = Vec::new();
                self.port_spec(&tok, &mut ignored);
                return Step::Verbatim;
            }
            "divert-to" => {
                self.value(&tok);
                if self.eat("port") {
                    self.value(&tok);
                }
                return Step::Verbatim;
            }
            "divert-packet" => {
                if self.eat("port") {
                    self.value(&tok);
                }
                return Step::Verbatim;
            }
            "nat-to" | "binat-to" | "rdr-to" | "->" => {
                let Some(pool) = self.pool(&tok) else {
                    return Step::Verbatim;
                };
                let rdr = match tok.text {
                    "rdr-to" => true,
                    "->" => matches!(&rule.action, Action::Other(a) if a.contains("rdr")),
                    _ => false,
                };
                rule.binat_to = tok.text == "binat-to";
                if rdr {
                    rule.rdr_to = Some(pool.target);
                    rule.rdr_pool = pool.opts;
                    Clause::RdrTo
                } else {
                    rule.nat_to = Some(pool.target);
                    rule.nat_pool = pool.opts;
                    Clause::NatTo
                }
            }
            "af-to" => {
                self.af_to(&tok, rule);
                Clause::AfTo
            }
            "route-to" | "reply-to" | "dup-to" => {
                self.route(&tok, rule);
                Clause::Route
            }
            "#" if self.peek() == Some("expired") => {
                self.pos += 1;
                rule.expired = true;
                Clause::Expired
            }
            // Old route option and scrub words (2002–2004 printers).
            "fastroute" | "drop-ovl" | "crop" => return Step::Verbatim,
            t if FLAG_WORDS.contains(&t) => return Step::Verbatim,
            t if VALUE_WORDS.contains(&t) => {
                self.value(&tok);
                return Step::Verbatim;
            }
            // `prio(a, b)`: two priorities (pfctl 5.x printed it without `set`).
            t if t.starts_with("dnpipe(")
                || t.starts_with("prio(")
                || t.starts_with("dnqueue(")
                || t.starts_with("queue(") =>
            {
                return Step::Verbatim;
            }
            _ => {
                self.unknown(tok, rule);
                return Step::Verbatim;
            }
        };
        Step::Clause(clause)
    }

    fn bad_number(&mut self, v: Tok<'_>) {
        self.issues.push(Issue::warning(
            v.col,
            format!("`{}` is not a number in range", v.text),
        ));
    }

    /// `on [!] IFACE`; false for `on rdomain N` (kept verbatim) or a cut line.
    fn on(&mut self, key: &Tok<'_>, rule: &mut Rule) -> bool {
        let Some(mut v) = self.value(key) else {
            return false;
        };
        let mut negated = false;
        if v.text == "!" {
            negated = true;
            let Some(n) = self.value(key) else {
                return false;
            };
            v = n;
        }
        if v.text == "rdomain" {
            self.value(key);
            return false;
        }
        let (bang, name) = strip_bang(v.text);
        rule.iface = Some(IfaceSpec {
            name: name.into(),
            negated: negated || bang,
        });
        true
    }

    fn proto(&mut self, key: &Tok<'_>, rule: &mut Rule) {
        if self.eat("{") {
            while let Some(t) = self.bump() {
                if t.text == "}" {
                    return;
                }
                let p = t.text.trim_end_matches(',');
                if !p.is_empty() {
                    rule.protos.push(p.into());
                }
            }
            let col = self.end_col();
            self.issues
                .push(Issue::warning(col, "protocol list has no closing `}`"));
        } else if let Some(v) = self.value(key) {
            rule.protos.push(v.text.into());
        }
    }

    /// `from`/`to`: address (or list), then `port …`, then (source) `os "…"`.
    fn host(&mut self, key: &Tok<'_>, is_from: bool) -> HostSpec {
        let mut hs = HostSpec::default();
        if self.eat("{") {
            self.addr_list(&mut hs);
        } else {
            let negated = self.eat("!");
            if negated && self.peek() == Some("{") {
                self.pos += 1;
                self.addr_list(&mut hs);
            } else if let Some(t) = self.value(key) {
                self.addr_element(t, negated, &mut hs);
            }
        }
        if self.peek() == Some("port") {
            let port_tok = self.bump();
            if let Some(pt) = port_tok {
                let bare = self.bare;
                self.port_spec(&pt, &mut hs.ports);
                // Only host ports count (`user`/`group` use the same reader).
                self.host_bare |= self.bare && !bare;
            }
        }
        if is_from && self.eat("os") {
            hs.os = self
                .value(key)
                .map(|v| unquote(v.text).unwrap_or(v.text).into());
        }
        hs
    }

    fn addr_list(&mut self, hs: &mut HostSpec) {
        let mut negated = false;
        while let Some(t) = self.bump() {
            match t.text {
                "}" => return,
                "!" => negated = true,
                "," => {}
                _ => {
                    self.addr_element(t, negated, hs);
                    negated = false;
                }
            }
        }
        let col = self.end_col();
        self.issues
            .push(Issue::warning(col, "address list has no closing `}`"));
    }

    /// One address: `a`, `a/n`, `a - b`, `<t>`, `(if)`, `route "x"`, names.
    fn addr_element(&mut self, t: Tok<'a>, negated: bool, hs: &mut HostSpec) {
        use crate::model::AddrSpec;
        let text = t.text.trim_end_matches(',');
        let (bang, body) = strip_bang(text);
        let negated = negated || bang;
        if body == "route"
            && let Some(label) = self.peek().filter(|p| p.starts_with('"'))
        {
            self.pos += 1;
            hs.addrs.push(AddrSpec::Other {
                text: format!("route {}", label.trim_end_matches(',')).into(),
                negated,
            });
            return;
        }
        if self.peek() == Some("-")
            && let Ok(from) = body.parse()
        {
            let to = self
                .toks
                .get(self.pos + 1)
                .map(|t| t.text.trim_end_matches(','));
            if let Some(to) = to.and_then(|s| s.parse().ok()) {
                self.pos += 2;
                hs.addrs.push(AddrSpec::Range { from, to, negated });
                return;
            }
        }
        let mut spec = addr_token(body, self.counted);
        if let Some(n) = printed_count(body, &spec, self.counted) {
            self.counts.push(n.into());
        }
        set_negated(&mut spec, negated);
        if spec != AddrSpec::Any {
            hs.addrs.push(spec);
        }
    }

    /// `port = 80`, `port 6000:6010`, `port 1 >< 9`, `port { 80 443 }`;
    /// also `user`/`group`, which use the same operators.
    fn port_spec(&mut self, key: &Tok<'_>, out: &mut Vec<PortSpec>) {
        if self.eat("{") {
            self.in_list = true;
            while let Some(t) = self.peek() {
                if t == "}" {
                    self.pos += 1;
                    self.in_list = false;
                    return;
                }
                self.port_item(key, out);
            }
            self.in_list = false;
            let col = self.end_col();
            self.issues
                .push(Issue::warning(col, "port list has no closing `}`"));
        } else {
            self.port_item(key, out);
        }
    }

    fn port_item(&mut self, key: &Tok<'_>, out: &mut Vec<PortSpec>) {
        let Some(t) = self.value(key) else { return };
        let text = t.text.trim_end_matches(',');
        if let Some(op) = unary_op(text) {
            if let Some(v) = self.value(key) {
                let a = self.port(v);
                out.push(unary(op, a));
            }
        } else if let Some((a, b)) = range_token(text) {
            let (a, b) = (self.port_str(a, t), self.port_str(b, t));
            out.push(PortSpec {
                op: PortOp::Range,
                a,
                b: Some(b),
            });
        } else {
            let a = self.port(t);
            if let Some(op) = self.peek().and_then(binary_op) {
                self.pos += 1;
                if let Some(v) = self.value(key) {
                    let b = self.port(v);
                    out.push(PortSpec { op, a, b: Some(b) });
                }
            } else {
                self.bare |= !self.in_list;
                out.push(unary(PortOp::Eq, a));
            }
        }
    }

    fn port(&mut self, t: Tok<'_>) -> crate::model::Port {
        self.port_str(t.text.trim_end_matches(','), t)
    }

    fn port_str(&mut self, s: &str, t: Tok<'_>) -> crate::model::Port {
        let (p, ok) = port_value(s);
        if !ok {
            self.issues.push(Issue::warning(
                t.col,
                format!("port `{s}` is out of range, kept as text"),
            ));
        }
        p
    }

    /// FreeBSD 15 / OpenBSD 2026 `state limiter id 1` or `source limiter x (no-match)`.
    fn limiter(&mut self) {
        self.pos += 1; // `limiter`
        self.eat("id");
        self.bump(); // the limiter's id or name
        if self.peek().is_some_and(|t| t.starts_with('(')) {
            self.pos += 1;
        }
    }

    /// A pool and its options; `target` is the pool as printed, without
    /// its options (pfctl `print_pool()` prints them after the addresses).
    fn pool(&mut self, key: &Tok<'_>) -> Option<Pool> {
        let first = self.value(key)?;
        let (mut ifaces, mut addrs) = (Vec::new(), Vec::new());
        let mut end = first.end();
        if first.text == "{" {
            let mut closed = false;
            while let Some(t) = self.bump() {
                end = t.end();
                if t.text == "}" {
                    closed = true;
                    break;
                }
                pool_element(t.text, &mut ifaces, &mut addrs);
            }
            if !closed {
                let col = self.end_col();
                self.issues
                    .push(Issue::warning(col, "address pool has no closing `}`"));
            }
        } else {
            pool_element(first.text, &mut ifaces, &mut addrs);
        }
        let target = self.text.get(first.start..end).unwrap_or(first.text).into();
        let mut opts = PoolOpts::default();
        while let Some(opt) = self.peek() {
            let kind = match opt {
                "bitmask" => Some(PoolType::Bitmask),
                "least-states" => Some(PoolType::LeastStates),
                "random" => Some(PoolType::Random),
                "source-hash" => Some(PoolType::SourceHash),
                "round-robin" => Some(PoolType::RoundRobin),
                _ => None,
            };
            match opt {
                _ if kind.is_some() => {
                    self.pos += 1;
                    opts.kind = kind;
                    if opt == "source-hash"
                        && let Some(k) = self.peek().filter(|h| h.starts_with("0x"))
                    {
                        self.pos += 1;
                        opts.key = Some(k.into());
                    }
                }
                "sticky-address" => opts.sticky_address = true,
                "static-port" => opts.static_port = true,
                "endpoint-independent" => opts.endpoint_independent = true,
                "prefer-ipv6-nexthop" => opts.prefer_ipv6_nexthop = true,
                "port" | "map-e-portset" => {
                    self.pos += 1;
                    let v = self.value(key).map(|t| t.text.into());
                    if opt == "port" {
                        opts.port = v;
                    } else {
                        opts.map_e_portset = v;
                    }
                    continue;
                }
                _ => break,
            }
            if kind.is_none() {
                self.pos += 1;
            }
        }
        Some(Pool {
            end: self.prev_end().unwrap_or(end),
            target,
            opts,
            ifaces,
            addrs,
        })
    }

    fn af_to(&mut self, key: &Tok<'_>, rule: &mut Rule) {
        let Some(fam) = self.value(key) else { return };
        let mut end = fam.end();
        for side in ["from", "to"] {
            if self.eat(side)
                && let Some(p) = self.pool(key)
            {
                end = p.end;
            }
        }
        rule.af_to = Some(self.text.get(fam.start..end).unwrap_or(fam.text).into());
    }

    fn route(&mut self, key: &Tok<'_>, rule: &mut Rule) {
        let kind = match key.text {
            "route-to" => RouteKind::RouteTo,
            "reply-to" => RouteKind::ReplyTo,
            _ => RouteKind::DupTo,
        };
        if let Some(p) = self.pool(key) {
            rule.route = Some(RuleRoute {
                kind,
                target: p.target,
                pool: p.opts,
                ifaces: p.ifaces,
                addrs: p.addrs,
            });
        }
    }
}

struct Pool {
    /// Byte offset just past the pool and its options.
    end: usize,
    target: Box<str>,
    opts: PoolOpts,
    ifaces: Vec<Box<str>>,
    addrs: Vec<std::net::IpAddr>,
}

fn set_negated(spec: &mut crate::model::AddrSpec, neg: bool) {
    use crate::model::AddrSpec;
    match spec {
        AddrSpec::Any => {
            if neg {
                *spec = AddrSpec::Other {
                    text: "any".into(),
                    negated: true,
                };
            }
        }
        AddrSpec::Net { negated, .. }
        | AddrSpec::Range { negated, .. }
        | AddrSpec::Table { negated, .. }
        | AddrSpec::Dynamic { negated, .. }
        | AddrSpec::Other { negated, .. } => *negated = *negated || neg,
    }
}

/// `"x"` → `x` (the inside is kept raw: pfctl does not escape it).
fn unquote(s: &str) -> Option<&str> {
    s.strip_prefix('"')?.strip_suffix('"')
}

/// The `-vv` count pfctl appended to a table (`<t:3>`, `<t:*>`) or, in a
/// counted listing, to an interface address (`(em0:1)`).
fn printed_count<'t>(
    body: &'t str,
    spec: &crate::model::AddrSpec,
    counted: bool,
) -> Option<&'t str> {
    use crate::model::AddrSpec;
    let inner = match spec {
        AddrSpec::Table { .. } => body.strip_prefix('<')?.strip_suffix('>')?,
        AddrSpec::Dynamic { .. } if counted => body.strip_prefix('(')?.split(')').next()?,
        _ => return None,
    };
    let (_, n) = inner.rsplit_once(':')?;
    (n == "*" || (!n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))).then_some(n)
}

/// `(all, to pflog1)` → `all, to pflog1`.
fn inner(group: &str) -> &str {
    let g = group.strip_prefix('(').unwrap_or(group);
    g.strip_suffix(')').unwrap_or(g)
}

/// `(max 10, pflow)` → `["max 10", "pflow"]`.
fn split_group(group: &str) -> Vec<Box<str>> {
    let inner = group.strip_prefix('(').unwrap_or(group);
    let inner = inner.strip_suffix(')').unwrap_or(inner);
    inner
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(Into::into)
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{AddrSpec, Port};

    fn rule(s: &str) -> (Rule, Vec<Issue>) {
        parse_rule_text(s, false, false).unwrap()
    }

    #[test]
    fn openbsd_pass_implies_keep_state() {
        let (r, issues) = rule(
            "pass in on egress inet6 proto tcp from any to 2001:db8::10 port = 443 flags S/SA",
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(r.state, Some(StatePolicy::Keep));
        assert_eq!(r.direction, Some(Direction::In));
        assert_eq!(r.family, Some(Family::Inet6));
        assert_eq!(r.protos, ["tcp".into()]);
        assert!(r.from.addrs.is_empty());
        assert_eq!(r.to.ports, [unary(PortOp::Eq, Port::Num(443))]);
    }

    #[test]
    fn block_match_and_anchor_have_no_state() {
        for s in [
            "block return all",
            "match in all scrub (no-df)",
            "anchor \"relayd/*\" all",
        ] {
            let (r, issues) = rule(s);
            assert!(issues.is_empty(), "{s}: {issues:?}");
            assert_eq!(r.state, None, "{s}");
        }
        assert_eq!(
            rule("anchor \"relayd/*\" all").0.anchor_name.as_deref(),
            Some("relayd/*")
        );
    }

    #[test]
    fn state_options_and_no_state() {
        let (r, _) = rule(
            "pass in all flags S/SA keep state (max 1000, source-track rule, overload <bf> flush global)",
        );
        assert_eq!(
            r.state_opts,
            [
                "max 1000".into(),
                "source-track rule".into(),
                "overload <bf> flush global".into()
            ]
        );
        assert_eq!(
            rule("pass in quick all no state").0.state,
            Some(StatePolicy::No)
        );
        assert_eq!(
            rule("pass all modulate state").0.state,
            Some(StatePolicy::Modulate)
        );
    }

    #[test]
    fn route_to_openbsd_and_freebsd_positions() {
        let (o, _) = rule(
            "pass in quick on em1 inet6 proto tcp from 2001:db8::10 port = 443 flags S/SA no state route-to (gif0 2001:db8::1)",
        );
        let (f, issues) = rule(
            "pass in on em1 route-to (gif0 2001:db8::1) inet6 proto tcp from 2001:db8::10 port = https flags S/SA keep state",
        );
        assert!(issues.is_empty(), "{issues:?}");
        for r in [&o, &f] {
            let route = r.route.as_ref().unwrap();
            assert_eq!(route.kind, RouteKind::RouteTo);
            assert_eq!(&*route.target, "(gif0 2001:db8::1)");
            assert_eq!(route.ifaces, ["gif0".into()]);
            assert_eq!(
                route.addrs,
                ["2001:db8::1".parse::<std::net::IpAddr>().unwrap()]
            );
            assert_eq!(r.family, Some(Family::Inet6));
        }
        assert_eq!(
            f.from.ports,
            [unary(PortOp::Eq, Port::Name("https".into()))]
        );
    }

    #[test]
    fn pool_lists_and_options() {
        let (r, _) = rule(
            "pass out route-to { (em0 192.0.2.1), (em1 192.0.2.2) } round-robin sticky-address all",
        );
        let route = r.route.unwrap();
        // Pool options are fields, never part of the target.
        assert_eq!(&*route.target, "{ (em0 192.0.2.1), (em1 192.0.2.2) }");
        assert_eq!(route.pool.kind, Some(PoolType::RoundRobin));
        assert!(route.pool.sticky_address);
        assert_eq!(route.ifaces.len(), 2);
        let (r, _) = rule(
            "pass in on vtnet0 route-to (vtnet1 2001:db8::1) prefer-ipv6-nexthop inet all flags S/SA keep state",
        );
        let route = r.route.unwrap();
        assert_eq!(&*route.target, "(vtnet1 2001:db8::1)");
        assert!(route.pool.prefer_ipv6_nexthop);
        assert_eq!(r.family, Some(Family::Inet));
        let (r, _) = rule("match out on lo0 inet6 all nat-to { ::1, fe80::1 } round-robin");
        assert_eq!(r.nat_to.as_deref(), Some("{ ::1, fe80::1 }"));
        assert_eq!(r.nat_pool.kind, Some(PoolType::RoundRobin));
        let (r, _) = rule(
            "nat on lo0 from any to any -> 127.0.0.0/24 source-hash 0x0123456789abcdef0123456789abcdef",
        );
        assert_eq!(r.nat_pool.kind, Some(PoolType::SourceHash));
        assert_eq!(
            r.nat_pool.key.as_deref(),
            Some("0x0123456789abcdef0123456789abcdef")
        );
        let (r, _) = rule(
            "pass in on lo0 proto tcp from any to 1.2.3.4 port = 2222 flags S/SA keep state nat-to 10.0.0.2 port 22 rdr-to 10.0.0.10",
        );
        assert_eq!(r.nat_pool.port.as_deref(), Some("22"));
        assert!(r.rdr_pool.is_empty());
        let (r, _) = rule(
            "pass in inet all flags S/SA keep state af-to inet6 from 2001:db8::1 to 2001:db8::2",
        );
        assert_eq!(
            r.af_to.as_deref(),
            Some("inet6 from 2001:db8::1 to 2001:db8::2")
        );
        assert_eq!(r.family, Some(Family::Inet));
    }

    #[test]
    fn port_operators() {
        let cases = [
            ("port != 22", PortOp::Ne),
            ("port < 1024", PortOp::Lt),
            ("port <= 1024", PortOp::Le),
            ("port > 1024", PortOp::Gt),
            ("port >= 1024", PortOp::Ge),
            ("port 6000:6010", PortOp::Range),
            ("port 1000 >< 2000", PortOp::Inside),
            ("port 1000 <> 2000", PortOp::Outside),
        ];
        for (p, op) in cases {
            let (r, issues) = rule(&format!("block in proto tcp from any to any {p}"));
            assert!(issues.is_empty(), "{p}: {issues:?}");
            assert_eq!(r.to.ports.len(), 1, "{p}");
            assert_eq!(r.to.ports[0].op, op, "{p}");
        }
        let (r, _) = rule("pass proto tcp from any to any port { 80 443 }");
        assert_eq!(r.to.ports.len(), 2);
    }

    #[test]
    fn addresses_and_negation() {
        let (r, issues) = rule(
            "pass in from ! 10.0.0.0/8 to { 192.0.2.1, !192.0.2.2, <t:3>, (em0:network), 10.1.0.1 - 10.1.0.9 } port = 80",
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert!(matches!(
            r.from.addrs[0],
            AddrSpec::Net { negated: true, .. }
        ));
        assert_eq!(r.to.addrs.len(), 5);
        assert!(matches!(r.to.addrs[1], AddrSpec::Net { negated: true, .. }));
        assert!(matches!(
            r.to.addrs[4],
            AddrSpec::Range { negated: false, .. }
        ));
        let (r, _) = rule("block in from no-route to route \"wan\" ");
        assert_eq!(
            r.to.addrs,
            [AddrSpec::Other {
                text: "route \"wan\"".into(),
                negated: false
            }]
        );
        let (r, _) = rule("pass in on ! lo0 from (lo0)/24 os \"OpenBSD 7.4\" to self");
        assert_eq!(r.iface.as_ref().map(|i| i.negated), Some(true));
        assert_eq!(r.from.os.as_deref(), Some("OpenBSD 7.4"));
    }

    #[test]
    fn unknown_tokens_warn_with_column() {
        let (r, issues) = rule("pass in frobnicate 7 all");
        assert_eq!(r.unknown, ["frobnicate".into(), "7".into()]);
        assert_eq!(issues[0].col, 9);
        assert!(!issues[0].error);
    }

    #[test]
    fn labels_tags_expired_and_freebsd_extras() {
        let (r, issues) = rule(
            "pass in all flags S/SA keep state label \"a b\" label \"c\" ridentifier 7 tag T ! tagged U rtable 2 once # expired",
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(r.labels, ["a b".into(), "c".into()]);
        assert_eq!(r.ridentifier, Some(7));
        assert_eq!(
            (r.tag.as_deref(), r.tagged.as_deref(), r.rtable),
            (Some("T"), Some("! U"), Some(2))
        );
        assert!(r.expired);
        let (_, issues) = rule(
            "pass in proto tcp from any to any port = domain flags S/SA keep state source limiter id 1 (no-match)",
        );
        assert!(issues.is_empty(), "{issues:?}");
        let (_, issues) = rule(
            "block return-icmp(port-unr, port-unr) log (all, to pflog1) quick on rdomain 3 all set ( prio 3 ) dnpipe(1, 2) max-pkt-size 128",
        );
        assert!(issues.is_empty(), "{issues:?}");
    }

    #[test]
    fn legacy_actions() {
        let (r, issues) = rule(
            "nat pass on vtnet1 inet from ! (vtnet1) to any -> (vtnet1) round-robin endpoint-independent",
        );
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(r.action, Action::Other("nat".into()));
        assert!(r.nat_pass);
        assert_eq!(r.nat_to.as_deref(), Some("(vtnet1)"));
        assert_eq!(r.nat_pool.kind, Some(PoolType::RoundRobin));
        assert!(r.nat_pool.endpoint_independent);
        assert_eq!(r.state, None);
        assert_eq!(
            rule("no rdr on em0 all").0.action,
            Action::Other("no rdr".into())
        );
        assert!(parse_rule_text("garbage here", false, false).is_err());
    }

    #[test]
    fn old_words_are_recognised() {
        for s in [
            "pass out fastroute all",
            "scrub in all fragment drop-ovl",
            "scrub in all fragment crop",
            "pass in log-all all",
            "pass in inet6 proto ipv6-icmp all ipv6-icmp-type echoreq",
            "pass out on lo0 proto tcp from any to any port = ssh flags S/SA prio(5, 2)",
            "scrub in on vtnet0 all fragment no reassemble",
        ] {
            let (r, issues) = rule(s);
            assert!(issues.is_empty(), "{s}: {issues:?}");
            assert!(r.unknown.is_empty(), "{s}: {:?}", r.unknown);
        }
        let (r, _) = rule("pass in log-all all");
        assert!(r.log);
        assert_eq!(r.log_opts.as_deref(), Some("all"));
        let (r, _) = rule("pass in inet6 proto ipv6-icmp all ipv6-icmp-type echoreq code 0");
        let t = r.icmp_type.unwrap();
        assert!(t.v6);
        assert_eq!((&*t.kind, t.code.as_deref()), ("echoreq", Some("0")));
    }

    #[test]
    fn anchor_kinds_keep_their_kind() {
        for (s, k) in [
            ("nat-anchor \"ftp-proxy/*\" all", AnchorKind::NatAnchor),
            ("rdr-anchor \"relayd/*\" all", AnchorKind::RdrAnchor),
            ("binat-anchor \"b\" all", AnchorKind::BinatAnchor),
            ("scrub-anchor \"s\" all", AnchorKind::ScrubAnchor),
            (
                "dummynet-anchor \"com.apple/*\" all",
                AnchorKind::DummynetAnchor,
            ),
        ] {
            let (r, issues) = rule(s);
            assert!(issues.is_empty(), "{s}: {issues:?}");
            assert_eq!(
                (r.action.clone(), r.anchor_kind),
                (Action::Anchor, Some(k)),
                "{s}"
            );
        }
        assert_eq!(rule("anchor \"a\" all").0.anchor_kind, None);
    }

    #[test]
    fn implied_state_depends_on_the_printer() {
        let (r, _) = rule("pass in all flags S/SA");
        assert_eq!((r.state, r.state_implied), (Some(StatePolicy::Keep), true));
        let (r, _) =
            parse_rule_text("pass in proto tcp from any to any port = 80", false, true).unwrap();
        assert_eq!((r.state, r.state_implied), (Some(StatePolicy::No), true));
        assert!(!r.keeps_state());
        let (r, _) = parse_rule_text("pass in all keep state", false, true).unwrap();
        assert_eq!((r.state, r.state_implied), (Some(StatePolicy::Keep), false));
        let (r, _) = rule("block in all");
        assert_eq!((r.state, r.state_implied), (None, false));
    }

    #[test]
    fn criteria_are_fields() {
        let (r, _) = rule("pass in inet proto icmp all icmp-type echoreq code 0 keep state");
        assert_eq!(
            r.icmp_type.as_ref().map(|t| (t.v6, &*t.kind)),
            Some((false, "echoreq"))
        );
        let (r, _) = rule("pass in proto tcp all flags S/SA");
        assert_eq!(r.flags.as_deref(), Some("S/SA"));
        let (r, _) = rule("block return-icmp(port-unr) log (all, to pflog1) in all");
        assert_eq!(r.block_policy.as_deref(), Some("return-icmp(port-unr)"));
        assert_eq!(r.log_opts.as_deref(), Some("all, to pflog1"));
    }
}
