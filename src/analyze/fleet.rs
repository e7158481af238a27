//! The merge of several hosts' analyses (issue #17): a CARP pair with
//! pfsync, or a fleet of firewalls, as one list of rules.
//!
//! pf facts it relies on (OpenBSD `sys/net/pf.c`, `pf_state_import`):
//! - a state keeps its `id` and `creatorid` when pfsync copies it to a
//!   peer, and `creatorid` is the creator's `Hostid` (`pfctl -si`). So
//!   `(id, creatorid)` is one state wherever it lives, and its rule is a
//!   rule of the creator's ruleset;
//! - the peer gives an imported state its rule number only when the
//!   rulesets' checksums match (`PFSYNC_SI_CKSUM`) and the rule is not in
//!   an anchor (`sp->anchor == -1`); otherwise the copy belongs to pf's
//!   default rule and prints no `rule` item. The creator's copy still
//!   names the rule, so the merge takes the rule from it.
//!
//! Pure: no polling, no clock. Each host is analysed on its own first
//! ([`super::analyze`]); this reads those analyses.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::Serialize;

use super::{Analysis, Resolution, RuleRow, Verdict};
use crate::model::{RuleKey, State};

/// One host's part of the merge.
#[derive(Debug, Clone, Copy)]
pub struct HostInput<'a> {
    pub name: &'a str,
    pub analysis: &'a Analysis,
    /// `Checksum` of `pfctl -si`, when known.
    pub checksum: Option<&'a str>,
}

/// A host where a merged rule is listed or where its states live.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostRule {
    pub host: String,
    /// The rule's number there (`None`: that host does not list the rule;
    /// the states there were imported from the creator).
    pub key: Option<RuleKey>,
    /// Server states of this rule that live on this host.
    pub server_states: u64,
    /// Of those, the copies this host gives to pf's default rule (imported
    /// from the creator: the rule is in an anchor, or the checksums differ).
    pub without_rule: u64,
}

/// One row of the merged rules: a rule with the same anchor and text on
/// every host that lists it, or one host's row without a rule text (pf's
/// default rule, a number the listing lacks).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetRow {
    pub anchor_path: String,
    /// The rule as pfctl printed it; `None` for rows without a rule.
    pub text: Option<String>,
    /// Where it is listed and where its states live, in host order.
    pub hosts: Vec<HostRule>,
    /// Distinct server states: a state synced to several hosts counts once.
    pub server_states: u64,
    /// Copies of them on hosts that did not create them (pfsync imports).
    pub imported: u64,
    pub verdict: Option<Verdict>,
    /// The verdict's reason, from the host whose rule created the states.
    pub reason: String,
    /// That host.
    pub judged_on: Option<String>,
}

impl FleetRow {
    /// `@2` or `@5:0`: the rule's key in `host`'s listing, or `rule` when
    /// that host does not list it.
    pub fn key_text_on(&self, host: &str) -> String {
        self.hosts
            .iter()
            .find(|h| h.host == host)
            .and_then(|h| h.key)
            .map_or_else(|| "rule".to_string(), |k| k.to_string())
    }
}

/// One server state of the fleet.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetState {
    /// The creator's copy when it was seen, else the first copy.
    pub state: State,
    /// The host whose `Hostid` is the state's `creatorid` (`None`: no
    /// polled host has it).
    pub creator: Option<String>,
    /// The hosts holding a copy, in host order.
    pub lives_on: Vec<String>,
    /// Index into [`FleetAnalysis::rows`].
    pub row: usize,
}

/// A finding about the fleet as a whole.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FleetFinding {
    /// `ruleset-mismatch`.
    pub kind: &'static str,
    pub hosts: Vec<String>,
    /// Rules (`@N text`, anchor rules as `anchor/@N text`) listed on one
    /// host only, per host.
    pub only_on: BTreeMap<String, Vec<String>>,
    /// States imported between these hosts that show no rule there.
    pub imported_without_rule: u64,
    pub message: String,
}

/// What one host contributed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HostSummary {
    pub name: String,
    /// `Hostid` of `pfctl -si`, 8 hex digits.
    pub hostid: Option<String>,
    pub checksum: Option<String>,
    pub total_states: u64,
    pub server_states: u64,
    /// Server states whose creator is another host (imported by pfsync).
    pub imported_states: u64,
}

/// The merged view of the hosts that answered.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct FleetAnalysis {
    pub hosts: Vec<HostSummary>,
    /// Merged rows owning server states, most states first.
    pub rows: Vec<FleetRow>,
    pub states: Vec<FleetState>,
    /// Distinct server states of the fleet.
    pub server_states: u64,
    pub findings: Vec<FleetFinding>,
}

impl FleetAnalysis {
    /// True when a merged row's verdict fails (`bypass`/`blocked`, with
    /// `strict` also `stateful`/`unexplained`).
    pub fn fails(&self, strict: bool) -> bool {
        self.rows
            .iter()
            .any(|r| r.verdict.is_some_and(|v| v.fails(strict)))
    }
}

/// Who a state is across hosts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum StateId {
    /// `id` and `creatorid` printed (`-vv`): the same state on every host.
    Synced(u64, u32),
    /// Without them a state cannot be matched: (host, index).
    Local(usize, usize),
}

/// Which merged row a host's row goes to.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum RowId {
    Rule(String, String),
    Other(usize, u32, RuleKey),
}

fn row_id(host: usize, row: &RuleRow) -> RowId {
    match &row.rule {
        Some(rule) => RowId::Rule(row.anchor_path.clone(), rule.text.clone()),
        None => RowId::Other(host, row.generation, row.key),
    }
}

/// Merges the hosts' analyses (see the module documentation).
pub fn merge(hosts: &[HostInput<'_>]) -> FleetAnalysis {
    let by_hostid: HashMap<u32, usize> = hosts
        .iter()
        .enumerate()
        .filter_map(|(i, h)| Some((h.analysis.hostid?, i)))
        .collect();
    let mut groups: BTreeMap<StateId, Vec<(usize, usize)>> = BTreeMap::new();
    for (h, host) in hosts.iter().enumerate() {
        let a = host.analysis;
        for (i, (s, _)) in a.states.iter().enumerate() {
            if !a.servers.matches(&s) {
                continue;
            }
            let id = match (s.id, s.creator_id) {
                (Some(id), Some(c)) => StateId::Synced(id, c),
                _ => StateId::Local(h, i),
            };
            groups.entry(id).or_default().push((h, i));
        }
    }
    let mut merged = Merged::new(hosts);
    let mut imported_per_host = vec![0u64; hosts.len()];
    for (id, copies) in &groups {
        let creator = match id {
            StateId::Synced(_, c) => by_hostid.get(c).copied(),
            StateId::Local(h, _) => Some(*h),
        };
        for (h, _) in copies {
            if creator.is_some_and(|c| c != *h) || (creator.is_none() && by_hostid.len() > 1) {
                imported_per_host[*h] += 1;
            }
        }
        let Some(&(h, i)) = attribution(hosts, copies, creator) else {
            continue;
        };
        let Some((state, row_index)) = hosts[h].analysis.states.get(i) else {
            continue;
        };
        let Some(row) = hosts[h].analysis.rows.get(row_index) else {
            continue;
        };
        let m = merged.row(h, row);
        merged.count(m, h, row, copies, creator);
        merged.states.push(FleetState {
            state,
            creator: creator.map(|c| hosts[c].name.to_string()),
            lives_on: copies
                .iter()
                .map(|(h, _)| hosts[*h].name.to_string())
                .collect(),
            row: m,
        });
    }
    let findings = checksum_findings(hosts, &groups, &by_hostid);
    let summaries = hosts
        .iter()
        .zip(&imported_per_host)
        .map(|(h, imported)| HostSummary {
            name: h.name.to_string(),
            hostid: h.analysis.hostid.map(|id| format!("{id:08x}")),
            checksum: h.checksum.map(str::to_string),
            total_states: h.analysis.total_states,
            server_states: h.analysis.server_states,
            imported_states: *imported,
        })
        .collect();
    merged.finish(summaries, findings)
}

/// The copy whose row names the state's rule: the creator's, else one
/// whose host resolved a rule (the checksums matched), else the first.
fn attribution<'c>(
    hosts: &[HostInput<'_>],
    copies: &'c [(usize, usize)],
    creator: Option<usize>,
) -> Option<&'c (usize, usize)> {
    let row_of = |(h, i): &(usize, usize)| {
        let a = hosts[*h].analysis;
        a.states.row(*i).and_then(|r| a.rows.get(r))
    };
    copies
        .iter()
        .find(|(h, _)| Some(*h) == creator)
        .or_else(|| {
            copies
                .iter()
                .find(|c| row_of(c).is_some_and(|r| r.rule.is_some()))
        })
        .or_else(|| copies.first())
}

/// The merged rows under construction.
struct Merged<'h, 'a> {
    hosts: &'h [HostInput<'a>],
    rows: Vec<FleetRow>,
    ids: HashMap<RowId, usize>,
    states: Vec<FleetState>,
}

impl<'h, 'a> Merged<'h, 'a> {
    fn new(hosts: &'h [HostInput<'a>]) -> Self {
        Merged {
            hosts,
            rows: Vec::new(),
            ids: HashMap::new(),
            states: Vec::new(),
        }
    }

    /// The merged row of host `h`'s row, made on first use with every host
    /// that lists the same rule.
    fn row(&mut self, h: usize, row: &RuleRow) -> usize {
        let id = row_id(h, row);
        if let Some(&m) = self.ids.get(&id) {
            return m;
        }
        let listed: Vec<HostRule> = match &id {
            RowId::Rule(path, text) => self
                .hosts
                .iter()
                .filter_map(|host| {
                    let a = host.analysis;
                    let key = a
                        .rows
                        .iter()
                        .filter(|r| r.generation == a.generation.number || r.generation == 0)
                        .find(|r| {
                            &r.anchor_path == path
                                && r.rule.as_ref().is_some_and(|x| &x.text == text)
                        })?
                        .key;
                    Some(HostRule {
                        host: host.name.to_string(),
                        key: Some(key),
                        server_states: 0,
                        without_rule: 0,
                    })
                })
                .collect(),
            RowId::Other(..) => vec![HostRule {
                host: self.hosts[h].name.to_string(),
                key: Some(row.key),
                server_states: 0,
                without_rule: 0,
            }],
        };
        self.rows.push(FleetRow {
            anchor_path: row.anchor_path.clone(),
            text: row.rule.as_ref().map(|r| r.text.clone()),
            hosts: listed,
            server_states: 0,
            imported: 0,
            verdict: None,
            reason: String::new(),
            judged_on: None,
        });
        let m = self.rows.len() - 1;
        self.ids.insert(id, m);
        m
    }

    /// Counts one state (all its copies) for merged row `m`, judged by
    /// host `h`'s row `row`.
    fn count(
        &mut self,
        m: usize,
        h: usize,
        row: &RuleRow,
        copies: &[(usize, usize)],
        creator: Option<usize>,
    ) {
        let hosts = self.hosts;
        let ruleless = |(c, i): &(usize, usize)| {
            let a = hosts[*c].analysis;
            a.states
                .row(*i)
                .and_then(|r| a.rows.get(r))
                .is_some_and(|r| r.resolution == Resolution::DefaultRule)
        };
        let fleet_row = &mut self.rows[m];
        fleet_row.server_states += 1;
        for copy in copies {
            let c = copy.0;
            let name = hosts[c].name;
            if creator.is_some_and(|k| k != c) {
                fleet_row.imported += 1;
            }
            let without = u64::from(row.rule.is_some() && ruleless(copy));
            match fleet_row.hosts.iter_mut().find(|r| r.host == name) {
                Some(r) => {
                    r.server_states += 1;
                    r.without_rule += without;
                }
                None => fleet_row.hosts.push(HostRule {
                    host: name.to_string(),
                    key: None,
                    server_states: 1,
                    without_rule: without,
                }),
            }
        }
        let worse = match (fleet_row.verdict, row.verdict) {
            (None, Some(_)) => true,
            (Some(now), Some(v)) => v.is_failure() && !now.is_failure(),
            _ => false,
        };
        if worse {
            fleet_row.verdict = row.verdict;
            fleet_row.reason = row.reason.clone();
            fleet_row.judged_on = Some(self.hosts[h].name.to_string());
        }
    }

    fn finish(mut self, hosts: Vec<HostSummary>, findings: Vec<FleetFinding>) -> FleetAnalysis {
        let order: Vec<String> = self.hosts.iter().map(|h| h.name.to_string()).collect();
        for row in &mut self.rows {
            row.hosts
                .sort_by_key(|r| order.iter().position(|n| *n == r.host));
        }
        // Most states first; the states keep pointing at their rows.
        let mut by_count: Vec<usize> = (0..self.rows.len()).collect();
        by_count.sort_by_key(|&i| std::cmp::Reverse(self.rows[i].server_states));
        let mut new_index = vec![0; self.rows.len()];
        for (new, &old) in by_count.iter().enumerate() {
            new_index[old] = new;
        }
        for s in &mut self.states {
            s.row = new_index[s.row];
        }
        let mut rows: Vec<Option<FleetRow>> = self.rows.into_iter().map(Some).collect();
        let rows: Vec<FleetRow> = by_count.iter().filter_map(|&i| rows[i].take()).collect();
        FleetAnalysis {
            hosts,
            server_states: self.states.len() as u64,
            rows,
            states: self.states,
            findings,
        }
    }
}

/// `anchor/@N text` for a rule of the current listing.
fn rule_words(row: &RuleRow) -> Option<(String, String)> {
    let rule = row.rule.as_ref()?;
    let label = match (row.anchor_path.as_str(), row.key.number) {
        ("", Some(n)) => format!("@{n} {}", rule.text),
        ("", None) => rule.text.clone(),
        (path, Some(n)) => format!("{path}/@{n} {}", rule.text),
        (path, None) => format!("{path}/{}", rule.text),
    };
    Some((format!("{}\0{}", row.anchor_path, rule.text), label))
}

fn listed_rules(a: &Analysis) -> Vec<(String, String)> {
    a.rows
        .iter()
        .filter(|r| r.index.is_some() && r.generation == a.generation.number)
        .filter_map(rule_words)
        .collect()
}

/// The `Checksum`s of the hosts differ: which rules differ, and how many
/// states imported between them lost their rule.
fn checksum_findings(
    hosts: &[HostInput<'_>],
    groups: &BTreeMap<StateId, Vec<(usize, usize)>>,
    by_hostid: &HashMap<u32, usize>,
) -> Vec<FleetFinding> {
    let with_sum: Vec<(usize, &str)> = hosts
        .iter()
        .enumerate()
        .filter_map(|(i, h)| Some((i, h.checksum?)))
        .collect();
    let Some(&(first, first_sum)) = with_sum.first() else {
        return Vec::new();
    };
    let mut findings = Vec::new();
    for &(other, sum) in with_sum.iter().skip(1) {
        if sum.eq_ignore_ascii_case(first_sum) {
            continue;
        }
        let pair = [first, other];
        let rules_of = |h: usize| listed_rules(hosts[h].analysis);
        let (a, b) = (rules_of(first), rules_of(other));
        let keys =
            |v: &[(String, String)]| v.iter().map(|(k, _)| k.clone()).collect::<BTreeSet<_>>();
        let (ka, kb) = (keys(&a), keys(&b));
        let only = |v: &[(String, String)], other: &BTreeSet<String>| -> Vec<String> {
            v.iter()
                .filter(|(k, _)| !other.contains(k))
                .map(|(_, l)| l.clone())
                .collect()
        };
        let mut only_on = BTreeMap::new();
        only_on.insert(hosts[first].name.to_string(), only(&a, &kb));
        only_on.insert(hosts[other].name.to_string(), only(&b, &ka));
        let lost = imported_without_rule(hosts, groups, by_hostid, pair);
        let names = [hosts[first].name, hosts[other].name];
        let list = |h: &str| {
            let v = only_on.get(h).cloned().unwrap_or_default();
            if v.is_empty() {
                "none".to_string()
            } else {
                v.join("; ")
            }
        };
        let message = format!(
            "the rulesets of {a} and {b} differ (Checksum {first_sum} on {a}, {sum} on {b}): \
             only on {a}: {}; only on {b}: {}. pfsync gives an imported state its rule number \
             only when the checksums match and the rule is not in an anchor (pf_state_import), \
             so {lost} state{} imported between them show{} no rule on the importing host; \
             pfblame names the creator's rule from the creator's copy",
            list(names[0]),
            list(names[1]),
            if lost == 1 { "" } else { "s" },
            if lost == 1 { "s" } else { "" },
            a = names[0],
            b = names[1],
        );
        findings.push(FleetFinding {
            kind: "ruleset-mismatch",
            hosts: names.iter().map(|n| n.to_string()).collect(),
            only_on,
            imported_without_rule: lost,
            message,
        });
    }
    findings
}

/// Copies, on one host of `pair`, of states the other created, that the
/// importing host gives to pf's default rule.
fn imported_without_rule(
    hosts: &[HostInput<'_>],
    groups: &BTreeMap<StateId, Vec<(usize, usize)>>,
    by_hostid: &HashMap<u32, usize>,
    pair: [usize; 2],
) -> u64 {
    let mut n = 0;
    for (id, copies) in groups {
        let StateId::Synced(_, c) = id else { continue };
        let Some(&creator) = by_hostid.get(c) else {
            continue;
        };
        if !pair.contains(&creator) {
            continue;
        }
        for &(h, i) in copies {
            let a = hosts[h].analysis;
            let ruleless = a
                .states
                .row(i)
                .and_then(|r| a.rows.get(r))
                .is_some_and(|r| r.resolution == Resolution::DefaultRule);
            if h != creator && pair.contains(&h) && ruleless {
                n += 1;
            }
        }
    }
    n
}
