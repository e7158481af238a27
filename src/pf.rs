//! The pf engine: how pf itself decides a packet, pure and dialect-aware.
//!
//! Nothing here knows about polls, reports or the TUI; `lint` and `analyze`
//! build on it, never the other way round.
//!
//! - [`dialect`]: which pf (OpenBSD 6.9+, OpenBSD ≤ 6.8, FreeBSD, pfSense,
//!   OPNsense, macOS) a listing comes from, and the behaviour that differs.
//! - [`matcher`]: does one rule match one packet (yes, no, cannot tell).
//! - [`evaluate`]: which rule decides a packet (last match, `quick`,
//!   anchors, `match` rules, the default rule).
//! - [`path`]: the hops of one connection, with the state or rule that
//!   decides each hop and where the server's replies really leave.
//! - [`grammar`]: the rule-consistency checks of `pfctl` (`rule_consistent`
//!   in sbin/pfctl/parse.y) that a suggested rule line must pass.
//! - [`servers`]: which states are the server's (`--server`, `--port`).

pub mod dialect;
pub mod evaluate;
pub mod grammar;
pub mod matcher;
pub mod path;
pub mod servers;

pub use dialect::Dialect;

use serde::Serialize;
pub use servers::{Allow, AllowSpec, Servers, allow_text, net_text, parse_allow, port_number};

/// What pfblame thinks of a rule that created server states: where its
/// states make the server's replies go. Exactly one per rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Its states make replies skip the intended routing.
    Bypass,
    /// Because of state handling, replies are dropped.
    Blocked,
    /// Its states carry the intended routing (a stateful route-to rule,
    /// `reply-to` on the inbound rule): the routing itself, not a fault.
    Routing,
    /// Has server states; the replies' routing is not affected.
    Stateful,
    /// The user said these states are expected (`--allow`).
    Allowed,
    /// pfblame cannot tell (the reason says why).
    Unexplained,
}

impl Verdict {
    /// Every verdict, in the order reports list them.
    pub const ALL: [Verdict; 6] = [
        Verdict::Bypass,
        Verdict::Blocked,
        Verdict::Routing,
        Verdict::Stateful,
        Verdict::Allowed,
        Verdict::Unexplained,
    ];

    /// The word shown in reports, JSON and the TUI.
    pub fn word(self) -> &'static str {
        match self {
            Verdict::Bypass => "bypass",
            Verdict::Blocked => "blocked",
            Verdict::Routing => "routing",
            Verdict::Stateful => "stateful",
            Verdict::Allowed => "allowed",
            Verdict::Unexplained => "unexplained",
        }
    }

    /// Replies are misrouted or dropped: `report` exits 1.
    pub(crate) fn is_failure(self) -> bool {
        matches!(self, Verdict::Bypass | Verdict::Blocked)
    }

    /// `--strict` also fails on these.
    pub(crate) fn fails_strict(self) -> bool {
        self.is_failure() || matches!(self, Verdict::Stateful | Verdict::Unexplained)
    }

    /// Does this verdict fail a run, with or without `--strict`? The one
    /// exit rule of report, check, lint and the fleet.
    pub(crate) fn fails(self, strict: bool) -> bool {
        if strict {
            self.fails_strict()
        } else {
            self.is_failure()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_verdict_has_its_own_word() {
        let words: Vec<&str> = Verdict::ALL.iter().map(|v| v.word()).collect();
        let mut unique = words.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), words.len(), "{words:?}");
        assert_eq!(Verdict::Bypass.word(), "bypass");
    }

    #[test]
    fn strict_fails_on_more_than_the_failures() {
        for v in Verdict::ALL {
            if v.is_failure() {
                assert!(v.fails_strict(), "{v:?}: a failure fails --strict too");
            }
        }
        assert!(Verdict::Bypass.is_failure() && Verdict::Blocked.is_failure());
        assert!(!Verdict::Stateful.is_failure() && Verdict::Stateful.fails_strict());
        assert!(!Verdict::Allowed.fails_strict() && !Verdict::Routing.fails_strict());
    }
}
