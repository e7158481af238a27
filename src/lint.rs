//! Why does a state break routing? Explains the route-to bypass: which
//! stateful rule's states make packets skip which `route-to` / `reply-to`
//! rule, and what to change.
//!
//! How pf matches packets to states (OpenBSD `pf_find_state`; FreeBSD is
//! the same): a packet is looked up by a key whose address order depends on
//! its direction (inbound `src,dst`; outbound `dst,src`), and states float
//! across interfaces unless `if-bound`. So a state created by a packet
//! going one way catches the packets of the same connection that go the
//! *other* way through the *other* direction: a state made by the request
//! leaving on the LAN (`out on em1`) catches the replies arriving on the LAN
//! (`in on em1`), which then skip the ruleset — and the `route-to` rule that
//! would have decided them. A forwarded connection has up to two states, one
//! per side, and each side's hops are independent of the other's.
//!
//! - [`evaluate`]: which rule decides a packet (last match, `quick`,
//!   `match`, anchors, default rule).
//! - [`flow`]: the hops of a connection, and the findings they lead to.
//! - [`possible`]: rules the listing cannot decide (tables, groups…): what
//!   happens if they match, and the possible bypasses that follow.
//! - [`predict`]: `pfblame lint` — paths derived from the ruleset alone.
//! - [`states`]: the same verdicts for real server states (report, TUI).
//! - [`tables`]: table contents from recordings (`tables/NAME.txt`) or
//!   `pfctl -t NAME -T show`.
//! - [`render`]: text, JSON and markdown output of `lint`.

pub mod flow;
pub mod possible;
pub mod predict;
pub mod render;
pub mod states;
pub mod tables;

use serde::Serialize;

use crate::model::{Rule, RuleKey};

pub use crate::pf::evaluate::{Decider, Decision, Ruleset};
pub use predict::{LintReport, predict, predict_with};
pub use states::{FindingsStats, findings, findings_in, findings_of, findings_with_stats};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum FindingSeverity {
    /// Server states that do not break routing (yet), or that might.
    Warning,
    /// Replies skip a `route-to`/`reply-to` rule, or never match the rule
    /// written for them.
    Error,
}

/// What a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FindingKind {
    /// States of a rule without routing catch packets that a
    /// `route-to`/`reply-to` rule would otherwise decide.
    Bypass,
    /// A stateful rule (so `flags S/SA`) is written for reply packets, which
    /// never have SYN alone: they are decided by another rule.
    MissedReplies,
    /// A stateful rule creates states for the server; they catch no packet
    /// a routing rule would decide.
    ServerStates,
    /// A bypass that happens if a condition the listing cannot check holds
    /// (a table holds the server, an interface is in a group…): see
    /// `condition` and `check`.
    PossibleBypass,
}

/// A rule named by a finding: the key states print, and the rule text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FindingRule {
    /// `anchor M` of the states (null for the main ruleset).
    pub anchor: Option<u32>,
    /// `rule N` (`@N`); null for the default rule.
    pub number: Option<u32>,
    pub anchor_path: String,
    pub text: String,
}

impl FindingRule {
    pub fn key(&self) -> RuleKey {
        RuleKey {
            anchor: self.anchor,
            number: self.number,
        }
    }

    pub(crate) fn from_decider(d: &Decider<'_>) -> Self {
        let key = d.key();
        FindingRule {
            anchor: key.anchor,
            number: key.number,
            anchor_path: d.rule().map(|r| r.anchor_path.clone()).unwrap_or_default(),
            text: d.text(),
        }
    }

    pub(crate) fn from_rule(key: RuleKey, rule: Option<&Rule>) -> Self {
        FindingRule {
            anchor: key.anchor,
            number: key.number,
            anchor_path: rule.map(|r| r.anchor_path.clone()).unwrap_or_default(),
            text: rule.map_or_else(
                || match key.number {
                    None => "(default rule: pass, no state)".into(),
                    Some(_) => "(not in the current rules listing)".into(),
                },
                |r| r.text.clone(),
            ),
        }
    }
}

/// One explained problem: which rule's states make which packets skip
/// which rule, and what to change.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    pub severity: FindingSeverity,
    pub kind: FindingKind,
    /// The rule that creates the states (for `missed-replies`: the rule the
    /// replies miss).
    pub stateful_rule: FindingRule,
    /// The rule whose routing is skipped (for `missed-replies`: the rule
    /// that decides the replies instead). Null for `server-states`.
    pub bypassed_rule: Option<FindingRule>,
    /// Where: `state made by tcp to 2001:db8::10 port 443 out on em1 → catches replies in on em1`.
    pub path: String,
    /// Server states seen (0 when predicted from the rules alone).
    pub states: u64,
    /// True when the states' own routing info (FreeBSD `gateway: ::`)
    /// confirms that they carry no route.
    pub confirmed: bool,
    pub message: String,
    pub fix: String,
    /// For `possible-bypass`: what must hold for it to happen
    /// (`table <www> contains 2001:db8::10`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    /// For `possible-bypass`: how to check the condition on the router
    /// (`pfctl -t www -T show`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub check: Option<String>,
}

#[cfg(test)]
impl Finding {
    /// A finding with empty texts, for the tests of what reads findings.
    pub(crate) fn bare(
        severity: FindingSeverity,
        kind: FindingKind,
        stateful_rule: FindingRule,
        bypassed_rule: Option<FindingRule>,
        states: u64,
    ) -> Finding {
        Finding {
            severity,
            kind,
            stateful_rule,
            bypassed_rule,
            path: String::new(),
            states,
            confirmed: false,
            message: String::new(),
            fix: String::new(),
            condition: None,
            check: None,
        }
    }
}

/// True when any finding says the replies are (or, if its condition
/// holds, may be) misrouted or dropped: `lint` exits 1. Harmless server
/// states (`server-states` warnings) do not count.
pub(crate) fn has_problems(findings: &[Finding]) -> bool {
    findings
        .iter()
        .any(|f| f.severity == FindingSeverity::Error || f.kind == FindingKind::PossibleBypass)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;

    const DEFAULT_RULE: RuleKey = RuleKey {
        anchor: None,
        number: None,
    };

    fn finding(severity: FindingSeverity, kind: FindingKind) -> Finding {
        let rule = FindingRule::from_rule(DEFAULT_RULE, None);
        Finding::bare(severity, kind, rule, None, 0)
    }

    #[test]
    fn errors_and_possible_bypasses_are_problems_harmless_server_states_are_not() {
        use FindingKind::*;
        use FindingSeverity::*;
        assert!(!has_problems(&[]));
        assert!(!has_problems(&[finding(Warning, ServerStates)]));
        assert!(has_problems(&[finding(Error, Bypass)]));
        assert!(has_problems(&[finding(Error, MissedReplies)]));
        // A possible bypass is only a warning, yet lint must fail on it.
        assert!(has_problems(&[
            finding(Warning, ServerStates),
            finding(Warning, PossibleBypass),
        ]));
    }

    #[test]
    fn a_rule_missing_from_the_listing_is_named_as_such() {
        let default = FindingRule::from_rule(DEFAULT_RULE, None);
        assert_eq!(default.text, "(default rule: pass, no state)");
        assert_eq!(default.number, None);
        let key = RuleKey {
            anchor: Some(4),
            number: Some(7),
        };
        let gone = FindingRule::from_rule(key, None);
        assert_eq!(gone.text, "(not in the current rules listing)");
        assert_eq!(gone.anchor_path, "");
        assert_eq!(gone.key(), key);
    }

    #[test]
    fn a_listed_rule_gives_its_text_and_anchor_path() {
        let rule = Rule {
            anchor_path: "relayd/www".into(),
            text: "pass in on em0 proto tcp to port 443".into(),
            ..Rule::new(Action::Pass)
        };
        let key = RuleKey {
            anchor: Some(2),
            number: Some(0),
        };
        let named = FindingRule::from_rule(key, Some(&rule));
        assert_eq!(named.text, rule.text);
        assert_eq!(named.anchor_path, "relayd/www");
        assert_eq!((named.anchor, named.number), (Some(2), Some(0)));
    }
}
