//! Whole listings as pfctl prints them (`pfblame parse --format pfctl`):
//! each parsed rule and state written back the way the pfctl that made it
//! prints it, so a round trip can be checked by hand (`diff`).
//!
//! A rule keeps the order its pfctl printed its parts in
//! ([`crate::print::rules::rule_line`]); a state does not, so its printer
//! is chosen from what the state shows ([`state_style`]).

use std::fmt::{self, Write};

use crate::model::{RouteKind, Rule, State};
use crate::print::rules::{rule_line, write_counters_for};
use crate::print::states::write_state;
use crate::print::{Flavor, Verbosity};

/// Which pfctl printed `s`, and with how many `-v`, judged from what it
/// holds: `-vv` ids, `-v` age lines; FreeBSD's id-line items (`rtable:`,
/// `origif:`, `route-to:` with an interface or of another kind) or
/// OpenBSD's rdomains and `{addr}` (printed at every verbosity).
pub(crate) fn state_style(s: &State) -> (Flavor, Verbosity) {
    let verbosity = if s.id.is_some() {
        Verbosity::VV
    } else if s.verbose {
        Verbosity::V
    } else {
        Verbosity::Plain
    };
    let rdomain = s.addrs().any(|e| e.rdomain.is_some());
    let freebsd_route = s.route.as_ref().is_some_and(|r| {
        verbosity == Verbosity::VV && (r.kind != RouteKind::RouteTo || r.iface.is_some())
    });
    let flavor = if !rdomain && (s.rtable.is_some() || s.origif.is_some() || freebsd_route) {
        Flavor::FreeBsd
    } else {
        Flavor::OpenBsd
    };
    (flavor, verbosity)
}

/// One state as its pfctl printed it.
pub fn write_state_as_printed(out: &mut impl Write, s: &State) -> fmt::Result {
    let (flavor, verbosity) = state_style(s);
    write_state(out, s, flavor, verbosity)
}

/// Rules as listed: each rule line (with `@N` when it was printed, and
/// its indentation), ` {` when it opened an anchor block, its counter
/// lines, then the lines after it that are not rules (`}`, wildcard child
/// headers), as the parser recorded them ([`crate::model::Listing`]).
pub fn write_rules(out: &mut impl Write, rules: &[Rule]) -> fmt::Result {
    for r in rules {
        let l = &r.listing;
        write!(out, "{:1$}", "", l.indent)?;
        out.write_str(&rule_line(r))?;
        out.write_str(if l.opens { " {\n" } else { "\n" })?;
        write_counters_for(out, r)?;
        for (indent, text) in &l.after {
            writeln!(out, "{:indent$}{text}", "")?;
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::parse::parse_any;

    fn reprint(text: &str) -> String {
        let p = parse_any(text);
        assert!(p.diagnostics.is_empty(), "{:?}", p.diagnostics);
        let mut s = String::new();
        for st in &p.states {
            write_state_as_printed(&mut s, st).unwrap();
        }
        write_rules(&mut s, &p.rules).unwrap();
        s
    }

    #[test]
    fn rules_with_anchor_blocks_print_back() {
        let text = "pass in on em0 route-to (gif0 2001:db8::1) inet6 proto tcp from any to 2001:db8::10 port = https flags S/SA keep state\nanchor \"foo\" in on lo0 all {\nblock drop all\n}\nblock return in all\n";
        assert_eq!(reprint(text), text);
    }

    #[test]
    fn openbsd_and_freebsd_states_print_back() {
        let text = "all tcp 192.0.2.1:443 <- 198.51.100.7:50000       ESTABLISHED:ESTABLISHED\n";
        assert_eq!(reprint(text), text);
    }
}
