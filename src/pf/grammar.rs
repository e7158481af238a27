//! What pfctl accepts: the checks a suggested rule line must pass before
//! pfblame prints it as a fix. Each check names the code it follows.
//!
//! OpenBSD: `rule_consistent()` in sbin/pfctl/parse.y (read in the
//! OpenBSD 7.x tree): "route-to, reply-to and dup-to require keep state",
//! "route-to, reply-to and dup-to are not supported on match rules" (and on
//! block rules), "keep state is great, but only for pass rules", and
//! `collapse_redirspec()`: "@if not permitted for routing".
//! FreeBSD: its parse.y `pfrule` production is
//! `action dir logquick interface route af proto fromto filter_opts`, so
//! a route option stands before the address family and the addresses.

use super::dialect::Dialect;
use super::matcher::words;

const ROUTES: [&str; 3] = ["route-to", "reply-to", "dup-to"];

/// The problems pfctl of `dialect` would report for `line` (a pf.conf rule
/// line); empty when it would load.
pub fn problems(dialect: Dialect, line: &str) -> Vec<String> {
    let w = words(line);
    let mut out = Vec::new();
    let action = w.first().copied().unwrap_or_default();
    let route = w.iter().position(|t| ROUTES.contains(t));
    let no_state = w.windows(2).any(|p| p == ["no", "state"]);
    let keeps = w
        .windows(2)
        .any(|p| matches!(p[0], "keep" | "modulate" | "synproxy") && p[1] == "state");
    if dialect.is_openbsd() && keeps && action != "pass" {
        out.push("keep state is great, but only for pass rules".to_string());
    }
    if let Some(r) = route {
        if dialect.routes_only_through_states() && no_state {
            out.push("route-to, reply-to and dup-to require keep state".to_string());
        }
        if dialect.is_openbsd() && action == "match" {
            out.push("route-to, reply-to and dup-to are not supported on match rules".into());
        }
        if dialect.is_openbsd() && action == "block" {
            out.push("route-to, reply-to and dup-to are not supported on block rules".into());
        }
        let target = w.get(r + 1).copied().unwrap_or_default();
        if dialect.routes_only_through_states() && target.contains('@') {
            out.push("@if not permitted for routing".to_string());
        }
        if dialect.translation_keeps_state() {
            let later = ["inet", "inet6", "proto", "from", "all"];
            if let Some(p) = w.iter().position(|t| later.contains(t))
                && p < r
            {
                out.push(format!(
                    "syntax error: `{}` must stand before `{}` (route, then af, proto, addresses)",
                    w[r], w[p]
                ));
            }
        }
    }
    if let Some(f) = w.iter().position(|t| *t == "flags") {
        let ok = w.get(f + 1).is_some_and(|a| {
            *a == "any" || {
                let (set, mask) = a.split_once('/').unwrap_or((a, "FSRPAUEW"));
                super::matcher::parse_flag_letters(set).is_some()
                    && super::matcher::parse_flag_letters(mask).is_some()
            }
        });
        if !ok {
            out.push("flags needs `any` or `X/Y` flag letters".into());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openbsd_refuses_route_to_without_state() {
        let line = "pass in quick on em1 inet6 proto tcp from 2001:db8::10 port 443 no state route-to 2001:db8::1";
        assert_eq!(
            problems(Dialect::OpenBsd, line),
            ["route-to, reply-to and dup-to require keep state"]
        );
        assert!(problems(Dialect::OpenBsd68, line).is_empty());
    }

    #[test]
    fn openbsd_takes_route_to_with_flags_any_and_refuses_at_if() {
        let ok = "pass in quick on em1 inet6 proto tcp from 2001:db8::10 port 443 flags any route-to 2001:db8::1";
        assert!(problems(Dialect::OpenBsd, ok).is_empty());
        let at_if = "pass in quick on em1 inet6 proto tcp from 2001:db8::10 flags any route-to 2001:db8::1@gif0";
        assert_eq!(
            problems(Dialect::OpenBsd, at_if),
            ["@if not permitted for routing"]
        );
        assert!(!problems(Dialect::OpenBsd, "match in on em1 route-to 2001:db8::1").is_empty());
    }

    #[test]
    fn freebsd_wants_the_route_before_the_address_family() {
        let good = "pass in quick on em1 route-to (gif0 2001:db8::1) inet6 proto tcp from 2001:db8::10 to any no state";
        assert!(problems(Dialect::FreeBsd, good).is_empty());
        let bad = "pass in quick on em1 inet6 proto tcp from 2001:db8::10 to any no state route-to (gif0 2001:db8::1)";
        assert_eq!(problems(Dialect::FreeBsd, bad).len(), 1);
    }

    #[test]
    fn flags_must_be_readable() {
        assert!(problems(Dialect::OpenBsd, "pass in flags S/SA").is_empty());
        assert!(!problems(Dialect::OpenBsd, "pass in flags XY").is_empty());
    }
}
