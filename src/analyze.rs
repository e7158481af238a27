//! Pure analysis: which rules created the states of the server addresses,
//! and why that matters.
//!
//! Input is a [`Sample`] (one parsed poll); output an [`Analysis`] that the
//! TUI and the reports read. Nothing here runs pfctl or parses text, and time
//! comes from the sample, never from the clock.
//!
//! SKELETON: the types below are the interface shared with `tui` and
//! `report`. Fields may be added; renaming one is an interface change.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use ipnet::IpNet;
use serde::Serialize;

use crate::model::{Diagnostic, Rule, RuleKey, State};
use crate::source::PollMeta;

/// The server addresses and ports the user asked about.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Servers {
    pub nets: Vec<IpNet>,
    /// Empty means every port.
    pub ports: Vec<u16>,
}

/// Settings of an analysis.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub servers: Servers,
    /// Rules whose server states are expected (`--allow`).
    pub allow: Vec<RuleKey>,
    /// Keep every state in the sample (the TUI's "all states" toggle), not
    /// just the server states.
    pub keep_all_states: bool,
}

/// One poll, parsed.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub taken_at: Option<DateTime<Utc>>,
    pub rules: Vec<Rule>,
    /// The states kept: server states, or all with `keep_all_states`.
    pub states: Vec<State>,
    /// Every state seen, kept or not.
    pub total_states: u64,
    /// Every state seen, counted by the rule that created it.
    pub states_per_rule: BTreeMap<RuleKey, u64>,
    pub diagnostics: Vec<Diagnostic>,
    pub meta: Option<PollMeta>,
}

/// What pfblame thinks of a rule that created server states.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Its states make reply packets skip the ruleset (and so `route-to`).
    Spurious,
    /// The user said these states are expected (`--allow`).
    Allowed,
}

/// How a state's `(anchor, rule)` was matched to the rules listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Resolution {
    /// Exactly one rule of the listing has this number (in this anchor).
    Found,
    /// States with no `rule` item: pf's default rule.
    DefaultRule,
    /// No rule of the current listing has this number: the ruleset probably
    /// changed since the state was created.
    Missing,
    /// Several rules could be meant (nested or wildcard anchors).
    Ambiguous { candidates: usize },
}

/// One row of the rules table: a rule of the listing, or a key that states
/// name but the listing does not have.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RuleRow {
    pub key: RuleKey,
    /// Path of the anchor holding the rule (`""` for the main ruleset).
    pub anchor_path: String,
    /// The matched rule, when there is exactly one.
    pub rule: Option<Rule>,
    pub resolution: Resolution,
    /// States of the server addresses (and ports) this rule created.
    pub server_states: u64,
    /// All states this rule created.
    pub all_states: u64,
    /// Server states that appeared / disappeared since the previous poll.
    pub new_states: Option<u64>,
    pub gone_states: Option<u64>,
    /// Server states created per second since the previous poll.
    pub rate: Option<f64>,
    /// `None` for rules without server states.
    pub verdict: Option<Verdict>,
    /// Why: "keeps state (no `no state`): 5 states for 2001:db8::10; …".
    pub reason: String,
}

/// Ruleset generations: a change of the rules listing between polls.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Generation {
    /// 1 for the first ruleset seen, +1 on every change.
    pub number: u32,
    pub fingerprint: u64,
    /// When the current ruleset was first seen, if it changed during the run.
    pub changed_at: Option<DateTime<Utc>>,
}

/// The result of analysing one sample (and its predecessor, for deltas).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Analysis {
    pub taken_at: Option<DateTime<Utc>>,
    pub servers: Servers,
    pub total_states: u64,
    pub server_states: u64,
    /// Every rule of the listing, plus rows for keys the states name that the
    /// listing lacks (default rule, missing numbers). Listing order.
    pub rows: Vec<RuleRow>,
    /// The kept states (server states unless `keep_all_states`), each with
    /// the index of its row in `rows`.
    pub states: Vec<(State, usize)>,
    pub generation: Generation,
    pub diagnostics: Vec<Diagnostic>,
    /// Things to tell the user (ruleset changed, per-rule fallback…).
    pub warnings: Vec<String>,
}

impl Analysis {
    /// Rows that own at least one server state, most first.
    pub fn blamed(&self) -> Vec<&RuleRow> {
        let mut rows: Vec<&RuleRow> = self.rows.iter().filter(|r| r.server_states > 0).collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.server_states));
        rows
    }

    /// True when any row is spurious.
    pub fn has_spurious(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.verdict == Some(Verdict::Spurious))
    }
}
