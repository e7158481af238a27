//! One rule line (without `@N`, indentation and a trailing ` {`) to a
//! [`Rule`]. Keywords are accepted in any order, because OpenBSD and FreeBSD
//! order them differently (FreeBSD prints `route-to` before the address
//! family); a token that is not understood goes to `Rule::unknown` with a
//! warning and parsing goes on.

use crate::model::{
    Action, Direction, Family, HostSpec, IfaceSpec, PortOp, PortSpec, RouteKind, Rule, RuleRoute,
    StatePolicy,
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
/// Returns `Err` when the line does not start with a rule action at all.
pub fn parse_rule_text(text: &str, counted: bool) -> Result<(Rule, Vec<Issue>), Issue> {
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
    };
    let mut rule = p.action(first)?;
    p.action_modifiers(&mut rule);
    while let Some(tok) = p.bump() {
        p.keyword(tok, &mut rule);
    }
    if rule.action == Action::Pass && rule.state.is_none() {
        // OpenBSD omits `keep state`, the default, unless options follow.
        rule.state = Some(StatePolicy::Keep);
    }
    rule.text = text.to_owned();
    Ok((rule, p.issues))
}

struct LineParser<'a> {
    text: &'a str,
    toks: Vec<Tok<'a>>,
    pos: usize,
    counted: bool,
    issues: Vec<Issue>,
}

/// Pool options that may follow a `nat-to`/`rdr-to`/`route-to`/`->` pool.
const POOL_FLAGS: &[&str] = &[
    "bitmask",
    "random",
    "round-robin",
    "least-states",
    "sticky-address",
    "static-port",
    "endpoint-independent",
    "prefer-ipv6-nexthop",
];

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
            "nat" | "rdr" | "binat" => Action::Other(first.text.into()),
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
                    && (matches!(p, "drop" | "return" | "return-rst" | "return-icmp6")
                        || p.starts_with("return-rst(")
                        || p.starts_with("return-icmp(")
                        || p.starts_with("return-icmp6("))
                {
                    self.pos += 1;
                }
            }
            Action::Other(a) if matches!(&**a, "nat" | "rdr" | "binat") => {
                self.eat("pass");
            }
            _ => {}
        }
    }

    fn keyword(&mut self, tok: Tok<'a>, rule: &mut Rule) {
        match tok.text {
            "in" => rule.direction = Some(Direction::In),
            "out" => rule.direction = Some(Direction::Out),
            "log" => {
                rule.log = true;
                if self.peek().is_some_and(|t| t.starts_with('(')) {
                    self.pos += 1;
                }
            }
            "quick" => rule.quick = true,
            "on" => self.on(&tok, rule),
            "inet" => rule.family = Some(Family::Inet),
            "inet6" => rule.family = Some(Family::Inet6),
            "proto" => self.proto(&tok, rule),
            "from" => rule.from = self.host(&tok, true),
            "to" => rule.to = self.host(&tok, false),
            "user" | "group" => {
                let mut ignored = Vec::new();
                self.port_spec(&tok, &mut ignored);
            }
            "icmp-type" | "icmp6-type" => {
                self.value(&tok);
                if self.eat("code") {
                    self.value(&tok);
                }
            }
            "no" if self.peek() == Some("state") => {
                self.pos += 1;
                rule.state = Some(StatePolicy::No);
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
            }
            "state" | "source" if self.peek() == Some("limiter") => self.limiter(),
            "scrub" => {
                if self.peek().is_some_and(|t| t.starts_with('(')) {
                    self.pos += 1;
                }
            }
            "reassemble" => {
                self.eat("tcp");
            }
            "label" => {
                if let Some(v) = self.value(&tok) {
                    let label = unquote(v.text).unwrap_or_else(|| {
                        self.issues.push(Issue::warning(
                            v.col,
                            "label is not a complete quoted string, kept as printed",
                        ));
                        v.text
                    });
                    rule.labels.push(label.into());
                }
            }
            "ridentifier" => {
                if let Some(v) = self.value(&tok) {
                    match v.text.parse() {
                        Ok(n) => rule.ridentifier = rule.ridentifier.or(Some(n)),
                        Err(_) => self.bad_number(v),
                    }
                }
            }
            "tag" => rule.tag = self.value(&tok).map(|v| v.text.into()),
            "tagged" => rule.tagged = self.value(&tok).map(|v| v.text.into()),
            "!" if self.peek() == Some("tagged") => {
                self.pos += 1;
                // Negation is kept in the value so `! tagged x` differs from `tagged x`.
                rule.tagged = self.value(&tok).map(|v| format!("! {}", v.text).into());
            }
            "rtable" => {
                if let Some(v) = self.value(&tok) {
                    match v.text.parse() {
                        Ok(n) => rule.rtable = Some(n),
                        Err(_) => self.bad_number(v),
                    }
                }
            }
            "divert-to" => {
                self.value(&tok);
                if self.eat("port") {
                    self.value(&tok);
                }
            }
            "divert-packet" => {
                if self.eat("port") {
                    self.value(&tok);
                }
            }
            "nat-to" | "binat-to" => rule.nat_to = self.pool(&tok).map(|p| p.target),
            "rdr-to" => rule.rdr_to = self.pool(&tok).map(|p| p.target),
            "->" => {
                let target = self.pool(&tok).map(|p| p.target);
                match &rule.action {
                    Action::Other(a) if a.contains("rdr") => rule.rdr_to = target,
                    _ => rule.nat_to = target,
                }
            }
            "af-to" => self.af_to(&tok, rule),
            "route-to" | "reply-to" | "dup-to" => self.route(&tok, rule),
            "#" if self.peek() == Some("expired") => {
                self.pos += 1;
                rule.expired = true;
            }
            t if FLAG_WORDS.contains(&t) => {}
            t if VALUE_WORDS.contains(&t) => {
                self.value(&tok);
            }
            t if t.starts_with("dnpipe(")
                || t.starts_with("dnqueue(")
                || t.starts_with("queue(") => {}
            _ => self.unknown(tok, rule),
        }
    }

    fn bad_number(&mut self, v: Tok<'_>) {
        self.issues.push(Issue::warning(
            v.col,
            format!("`{}` is not a number in range", v.text),
        ));
    }

    fn on(&mut self, key: &Tok<'_>, rule: &mut Rule) {
        let Some(mut v) = self.value(key) else { return };
        let mut negated = false;
        if v.text == "!" {
            negated = true;
            let Some(n) = self.value(key) else { return };
            v = n;
        }
        if v.text == "rdomain" {
            self.value(key);
            return;
        }
        let (bang, name) = strip_bang(v.text);
        rule.iface = Some(IfaceSpec {
            name: name.into(),
            negated: negated || bang,
        });
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
                self.port_spec(&pt, &mut hs.ports);
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
        set_negated(&mut spec, negated);
        if spec != AddrSpec::Any {
            hs.addrs.push(spec);
        }
    }

    /// `port = 80`, `port 6000:6010`, `port 1 >< 9`, `port { 80 443 }`;
    /// also `user`/`group`, which use the same operators.
    fn port_spec(&mut self, key: &Tok<'_>, out: &mut Vec<PortSpec>) {
        if self.eat("{") {
            while let Some(t) = self.peek() {
                if t == "}" {
                    self.pos += 1;
                    return;
                }
                self.port_item(key, out);
            }
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

    /// A pool and its options; `target` is the text as printed.
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
        while let Some(opt) = self.peek() {
            if POOL_FLAGS.contains(&opt) {
                end = self.bump().map_or(end, |t| t.end());
            } else if opt == "port" || opt == "map-e-portset" {
                self.pos += 1;
                end = self.value(key).map_or(end, |t| t.end());
            } else if opt == "source-hash" {
                end = self.bump().map_or(end, |t| t.end());
                if self.peek().is_some_and(|h| h.starts_with("0x")) {
                    end = self.bump().map_or(end, |t| t.end());
                }
            } else {
                break;
            }
        }
        Some(Pool {
            end,
            target: self.text.get(first.start..end).unwrap_or(first.text).into(),
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
        parse_rule_text(s, false).unwrap()
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
        assert_eq!(
            &*route.target,
            "{ (em0 192.0.2.1), (em1 192.0.2.2) } round-robin sticky-address"
        );
        assert_eq!(route.ifaces.len(), 2);
        let (r, _) = rule("match out on lo0 inet6 all nat-to { ::1, fe80::1 } round-robin");
        assert_eq!(r.nat_to.as_deref(), Some("{ ::1, fe80::1 } round-robin"));
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
        assert_eq!(
            r.nat_to.as_deref(),
            Some("(vtnet1) round-robin endpoint-independent")
        );
        assert_eq!(r.state, None);
        assert_eq!(
            rule("no rdr on em0 all").0.action,
            Action::Other("no rdr".into())
        );
        assert!(parse_rule_text("garbage here", false).is_err());
    }
}
