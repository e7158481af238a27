//! Pure analysis: which rules created the states of the server addresses,
//! and why that matters.
//!
//! Input is a [`Sample`] (one parsed poll, built by the poll layer's
//! `crate::poll::SampleBuilder`);
//! output an [`Analysis`] that the TUI and the reports read, made by
//! [`analyze`]. Nothing here runs pfctl or parses text, and time comes from
//! the sample, never from the clock.
//!
//! The types below are the interface shared with `tui` and `report`.
//! Fields may be added; renaming one is an interface change.

pub mod fleet;
mod kept;
mod resolve;

pub use crate::pf::{Allow, Servers, Verdict, allow_text, net_text, parse_allow, port_number};
pub use kept::{KeptStates, Recycler};
pub use resolve::{Lookup, RuleIndex};

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::model::{
    Action, Diagnostic, Direction, Endpoint, Family, Info, RouteKind, Rule, RuleKey, State,
    StatePolicy,
};
use crate::pf::Dialect;
use crate::pf::dialect::{self, Detected};
use crate::source::PollMeta;

/// Settings of an analysis.
#[derive(Debug, Clone, Default)]
pub struct Config {
    pub servers: Servers,
    /// Rules whose server states are expected (`--allow`).
    pub allow: Allow,
    /// Keep every state in the sample (the TUI's "all states" toggle), not
    /// just the server states.
    pub keep_all_states: bool,
    /// `--pf`: the pf dialect, instead of detecting it from the listings.
    pub dialect: Option<Dialect>,
    /// The dialect `record` wrote into the recording's `meta.toml`: used
    /// when `--pf` is not given.
    pub recorded_dialect: Option<Dialect>,
    /// `--reply-via`: where the server's replies should leave when the
    /// ruleset names no route-to/reply-to for them.
    pub reply_via: Option<String>,
}

/// One poll, parsed.
#[derive(Debug, Clone, Default)]
pub struct Sample {
    pub taken_at: Option<DateTime<Utc>>,
    pub rules: Vec<Rule>,
    /// The states kept: server states, or all with `keep_all_states`, in
    /// the compact store (a million states are ~90 MB, not ~450).
    pub states: crate::model::store::StateStore,
    /// Every state seen, kept or not.
    pub total_states: u64,
    /// Every state seen, counted by the rule that created it.
    pub states_per_rule: BTreeMap<RuleKey, u64>,
    pub diagnostics: Vec<Diagnostic>,
    pub meta: Option<PollMeta>,
    /// `pfctl -vsi`, when the source had it (live polls ask for it, a
    /// recording may hold `info.txt`): its `Hostid` tells pfsync imports.
    pub info: Option<Info>,
    /// The CARP status from `ifconfig` (`--carp`, a recording's
    /// `carp.txt`); `None` when unknown.
    pub carp: Option<crate::model::carp::Carp>,
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
    /// Index of the rule in [`Sample::rules`]; `None` for rows of keys the
    /// listing lacks (default rule, missing or ambiguous numbers).
    pub index: Option<usize>,
    /// For [`Resolution::Ambiguous`] rows: the rows of the rules that could be meant.
    pub candidates: Vec<usize>,
    /// Server states older than the last ruleset change: they may have been
    /// created by the previous ruleset's rule with this number.
    pub older_states: u64,
    /// States of any address this rule created per second since the previous
    /// poll, from its `State Creations` counter (same ruleset only).
    pub creations_rate: Option<f64>,
    /// The server addresses its server states involve (sorted, distinct).
    pub server_addrs: Vec<IpAddr>,
    /// The ruleset generation the rule belongs to. Older than
    /// [`Analysis::generation`] for rows carried over a reload: states seen
    /// before the reload keep the rule that created them, even if the new
    /// listing has another rule with that number.
    pub generation: u32,
    /// Server states that cannot have been created by this rule as listed
    /// (direction, protocol or address family differ): the ruleset changed
    /// since they were created, and the number now names another rule.
    pub mismatched_states: u64,
    /// The connection of one of its server states walked through pf with
    /// that state in the table ([`crate::pf::path::walk`]): where the
    /// replies really leave. `None` when no route-to/reply-to path of the
    /// ruleset (or `--reply-via`) covers the state's connection.
    pub reply_path: Option<crate::pf::path::ReplyPath>,
    /// The host whose ruleset the row belongs to, in the TUI's view of a
    /// fleet (`crate::fleet::combined`); `None` for one firewall.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
}

impl Default for RuleRow {
    /// An empty row of the default rule's key; lets callers write
    /// `RuleRow { key, ..RuleRow::default() }` and keep compiling when fields
    /// are added. `generation` 0 means "not known" and reads as current.
    fn default() -> Self {
        empty_row(
            RuleKey {
                anchor: None,
                number: None,
            },
            String::new(),
            Resolution::Found,
        )
    }
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
    pub states: KeptStates,
    pub generation: Generation,
    pub diagnostics: Vec<Diagnostic>,
    /// Things to tell the user (ruleset changed, per-rule fallback…).
    pub warnings: Vec<String>,
    /// Parallel to `states`: true when the state is older than the last
    /// ruleset change, so its rule number may refer to the previous ruleset.
    pub older_than_ruleset: Vec<bool>,
    /// Seconds since the previous sample (`None` for the first one).
    pub interval: Option<f64>,
    /// Server states that appeared / disappeared since the previous sample.
    pub new_server_states: Option<u64>,
    pub gone_server_states: Option<u64>,
    /// How many samples led to this analysis (1 for the first).
    pub samples: u32,
    /// Why the server states matter: which rule's states make packets skip
    /// which `route-to` / `reply-to` rule ([`crate::lint::findings`] over
    /// the server states of rules of the current ruleset), most severe first.
    pub findings: Vec<crate::lint::Finding>,
    /// For an analysis that joins several hosts' rows (a fleet's), the
    /// hosts each finding holds for, beside `findings`; empty for one
    /// host. Rules on two hosts share numbers, so a finding about one
    /// host's `@2` must not mark the other host's `@2`.
    #[serde(skip)]
    pub finding_hosts: Vec<Vec<String>>,
    /// The pf dialect the verdicts hold for, and how it was chosen.
    pub dialect: Option<Detected>,
    /// `Hostid` of `pfctl -si`, from this sample or an earlier one.
    pub hostid: Option<u32>,
    /// `Checksum` of `pfctl -si` (the ruleset's), from this sample or an
    /// earlier one: a fleet compares it between hosts.
    pub checksum: Option<String>,
    /// CARP status of this poll (`ifconfig`), when read: informative, no
    /// verdict uses it (states on a BACKUP are pfsync's copies, which the
    /// creatorid already tells).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carp: Option<crate::model::carp::Carp>,
}

impl Analysis {
    /// Rows that own at least one server state, most first.
    pub fn blamed(&self) -> Vec<&RuleRow> {
        let mut rows: Vec<&RuleRow> = self.rows.iter().filter(|r| r.server_states > 0).collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.server_states));
        rows
    }

    /// Rows that own at least one state of any address, most first (the
    /// report without `--server`).
    pub fn busiest(&self, n: usize) -> Vec<&RuleRow> {
        let mut rows: Vec<&RuleRow> = self.rows.iter().filter(|r| r.all_states > 0).collect();
        rows.sort_by_key(|r| std::cmp::Reverse(r.all_states));
        rows.truncate(n);
        rows
    }

    /// The kept states that belong to row `row`.
    pub fn states_of(&self, row: usize) -> impl Iterator<Item = State> + '_ {
        self.states
            .rows()
            .enumerate()
            .filter(move |(_, r)| *r == row)
            .filter_map(|(i, _)| self.states.state(i))
    }

    /// True when any row's states misroute or drop the replies
    /// (`bypass` or `blocked`).
    pub fn has_failures(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.verdict.is_some_and(Verdict::is_failure))
    }

    /// [`Self::has_failures`], and with `--strict` also `stateful` and
    /// `unexplained` rows.
    pub fn fails(&self, strict: bool) -> bool {
        self.rows
            .iter()
            .any(|r| r.verdict.is_some_and(|v| v.fails(strict)))
    }

    /// The findings about row `row` (an index into `rows`): those whose
    /// stateful rule is that row's rule. Rows of an older ruleset (carried
    /// over a reload) have none: findings are about the current listing.
    pub fn findings_for(&self, row: usize) -> impl Iterator<Item = &crate::lint::Finding> {
        let row = self
            .rows
            .get(row)
            .filter(|r| r.generation == self.generation.number || r.generation == 0);
        let key = row.map(|r| r.key);
        let host = row.and_then(|r| r.host.as_deref());
        self.findings
            .iter()
            .enumerate()
            .filter(move |(i, f)| {
                Some(f.stateful_rule.key()) == key && self.finding_holds_on(*i, host)
            })
            .map(|(_, f)| f)
    }

    /// Does finding `i` hold for a row of `host`? Always, unless the
    /// analysis joins several hosts and names others for it.
    fn finding_holds_on(&self, i: usize, host: Option<&str>) -> bool {
        match (self.finding_hosts.get(i), host) {
            (Some(hosts), Some(host)) => hosts.iter().any(|h| h == host),
            _ => true,
        }
    }

    /// True when any finding is an error (replies skip a routing rule).
    pub fn has_errors(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity == crate::lint::FindingSeverity::Error)
    }
}

/// Identifies a ruleset: FNV-1a over each rule's anchor path, number, kind
/// and text, not its counters. It changes exactly when the ruleset is
/// reloaded with different rules, and is the same on every platform and
/// Rust version (so it can be recorded and compared).
pub(crate) fn fingerprint(rules: &[Rule]) -> u64 {
    let mut h = Fnv::default();
    for r in rules {
        h.write(r.anchor_path.as_bytes());
        h.write(&[0]);
        match r.number {
            Some(n) => h.write(&n.to_le_bytes()),
            None => h.write(b"-"),
        }
        h.write(&[u8::from(r.scrub)]);
        h.write(r.text.as_bytes());
        h.write(&[0xff]);
    }
    h.0
}

/// 64-bit FNV-1a.
struct Fnv(u64);

impl Default for Fnv {
    fn default() -> Self {
        Fnv(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv {
    fn write(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0000_0100_0000_01b3);
        }
    }
}

/// Analyses one sample. `prev` is the analysis of the previous sample of the
/// same source (for deltas, rates and ruleset generations), `None` for the
/// first. Pure: the same inputs give the same analysis.
pub fn analyze(prev: Option<&Analysis>, sample: &Sample, cfg: &Config) -> Analysis {
    analyze_states(prev, sample, sample.states.clone(), cfg)
}

/// [`analyze`], taking the sample: its states move into the analysis
/// instead of being copied, so a poll that kept every state never has
/// two copies of them (the TUI's pipeline).
pub fn analyze_owned(prev: Option<&Analysis>, mut sample: Sample, cfg: &Config) -> Analysis {
    let states = std::mem::take(&mut sample.states);
    analyze_states(prev, &sample, states, cfg)
}

/// The analysis of `sample`, whose kept states are `kept` (the sample's
/// own `states` are not read).
fn analyze_states(
    prev: Option<&Analysis>,
    sample: &Sample,
    mut kept: crate::model::store::StateStore,
    cfg: &Config,
) -> Analysis {
    let index = RuleIndex::build(&sample.rules);
    let generation = next_generation(prev, sample);
    let mut rows = Rows::new(&sample.rules, &index, generation.number);
    for (key, n) in &sample.states_per_rule {
        let r = rows.row_for(*key);
        rows.rows[r].all_states += n;
    }
    let since_change = match (generation.changed_at, sample.taken_at) {
        (Some(changed), Some(now)) => Some((now - changed).num_seconds().max(0)),
        _ => None,
    };

    let by_id = prev.is_some_and(|p| p.states.any_id()) && kept.any_id();
    // States already seen under an older ruleset keep the rule they had
    // (their rows are looked at first: only those states are built).
    let before: HashMap<Ident, &RuleRow> = prev
        .map(|p| {
            p.states
                .rows()
                .enumerate()
                .filter_map(|(i, r)| Some((i, p.rows.get(r)?)))
                .filter(|(_, row)| row.generation != generation.number)
                .filter_map(|(i, row)| Some((ident(&p.states.state(i)?, by_id), row)))
                .collect()
        })
        .unwrap_or_default();

    let mut older_than_ruleset = Vec::with_capacity(kept.len());
    // By row number (rows are few): no hashing per state.
    let mut addrs: Vec<BTreeSet<IpAddr>> = Vec::new();
    let mut row_facts: Vec<RowFacts> = Vec::new();
    let mut server_states = 0;
    let mut clues = dialect::StateClues::default();
    // Each kept state is built once, here; the server states are kept
    // built for the findings, the reply paths and the deltas.
    let mut built: Vec<Built> = Vec::new();
    for i in 0..kept.len() {
        // Nothing here reads the sequence windows: not built.
        let Some(state) = kept.get_without_windows(i) else {
            continue;
        };
        let s = &state;
        clues.add(s);
        // No earlier ruleset (the first poll): no ident to build.
        let carried = match before.is_empty() {
            true => None,
            false => before.get(&ident(s, by_id)),
        };
        let (row, older) = match carried {
            Some(old) => (rows.carry(old, s.rule_key()), true),
            None => {
                let older = match (since_change, s.age) {
                    (Some(since), Some(age)) => i64::try_from(age).map_or(true, |age| age > since),
                    _ => false,
                };
                (rows.row_for(s.rule_key()), older)
            }
        };
        if let Some(ep) = cfg.servers.server_endpoint(s) {
            server_states += 1;
            let r = &mut rows.rows[row];
            r.server_states += 1;
            r.older_states += u64::from(older);
            let fits_rule = r.rule.as_ref().is_none_or(|rule| fits(rule, s));
            if !fits_rule {
                r.mismatched_states += 1;
            }
            if let Some(ip) = ep.addr.ip() {
                at_row(&mut addrs, row).insert(ip);
            }
            let facts = at_row(&mut row_facts, row);
            facts.routed |= s.route.as_ref().is_some_and(|r| {
                r.kind != RouteKind::Gateway
                    || r.addr
                        .as_ref()
                        .and_then(|a| a.ip())
                        .is_some_and(|ip| !ip.is_unspecified())
            });
            if let Some(c) = s.creator_id {
                facts.creators.insert(c);
            }
            let end = ServerEnd::of(s, ep);
            built.push(Built {
                row,
                fits_rule,
                end,
                state,
            });
        }
        // Each state's row is its tag in the store (no `Vec` beside it).
        kept.set_tag(i, u32::try_from(row).unwrap_or(u32::MAX));
        older_than_ruleset.push(older);
    }
    let states = KeptStates::from_tagged(kept);
    for (row, set) in addrs.into_iter().enumerate() {
        if !set.is_empty() {
            rows.rows[row].server_addrs = set.into_iter().collect();
        }
    }

    let mut warnings: Vec<String> = sample
        .meta
        .as_ref()
        .map(|m| m.warnings.clone())
        .unwrap_or_default();

    let interval = match (prev.and_then(|p| p.taken_at), sample.taken_at) {
        (Some(before), Some(now)) => Some((now - before).num_milliseconds() as f64 / 1000.0),
        _ => None,
    };
    if interval.is_some_and(|dt| dt <= 0.0) {
        warnings.push("samples are not in time order: no rates".to_string());
    }
    let (mut new_server_states, mut gone_server_states) = (None, None);
    if let Some(prev) = prev {
        let (new, gone) = apply_deltas(prev, &built, cfg, &mut rows, interval, &before, by_id);
        new_server_states = Some(new);
        gone_server_states = Some(gone);
        if prev.generation.fingerprint == generation.fingerprint {
            apply_creation_rates(prev, &mut rows.rows, &sample.rules, interval);
        }
    }

    let current: HashMap<RuleKey, &str> = rows
        .rows
        .iter()
        .filter(|r| r.generation == generation.number)
        .filter_map(|r| Some((r.key, r.rule.as_ref()?.text.as_str())))
        .collect();
    let allowed: Vec<Option<String>> = rows
        .rows
        .iter()
        .map(|r| is_allowed(r, cfg, generation.number, &current))
        .collect();
    let detected = dialect::choose_with(cfg.dialect, cfg.recorded_dialect, &sample.rules, &clues);
    let findings = server_findings(
        sample,
        &rows.rows,
        &built,
        cfg,
        generation.number,
        detected.dialect,
    );
    attach_reply_paths(
        sample,
        &mut rows.rows,
        &built,
        cfg,
        generation.number,
        detected.dialect,
    );
    drop(built);
    let ctx = JudgeCtx {
        no_listing: sample.rules.is_empty(),
        generation: generation.number,
        reloaded: generation.changed_at.is_some(),
        dialect: detected.dialect,
        hostid: sample
            .info
            .as_ref()
            .and_then(|i| i.hostid.as_deref())
            .and_then(parse_hostid)
            .or(prev.and_then(|p| p.hostid)),
        translation: translation_rule(&sample.rules, detected.dialect),
    };
    for (i, (row, allowed)) in rows.rows.iter_mut().zip(allowed).enumerate() {
        let facts = row_facts.get_mut(i).map(std::mem::take).unwrap_or_default();
        let mine: Vec<&crate::lint::Finding> = findings
            .iter()
            .filter(|f| {
                (row.generation == generation.number || row.generation == 0)
                    && f.stateful_rule.key() == row.key
            })
            .collect();
        judge(row, allowed, &ctx, &facts, &mine);
    }
    warnings.extend(listing_warnings(sample, &rows.rows, &states));
    if generation.changed_at.is_some() && generation.changed_at == sample.taken_at {
        warnings.push(reload_warning(&rows.rows, generation.number));
    }

    Analysis {
        taken_at: sample.taken_at,
        servers: cfg.servers.clone(),
        total_states: sample.total_states,
        server_states,
        rows: rows.rows,
        states,
        generation,
        diagnostics: sample.diagnostics.clone(),
        warnings,
        older_than_ruleset,
        interval,
        new_server_states,
        gone_server_states,
        samples: prev.map_or(1, |p| p.samples.saturating_add(1)),
        findings,
        finding_hosts: Vec::new(),
        dialect: Some(detected),
        hostid: ctx.hostid,
        checksum: sample
            .info
            .as_ref()
            .and_then(|i| i.checksum.as_deref().map(str::to_string))
            .or_else(|| prev.and_then(|p| p.checksum.clone())),
        carp: sample.carp.clone(),
    }
}

/// Findings for the server states whose rule belongs to the current
/// listing. States carried over a reload name rules of an older ruleset,
/// and states that do not fit their rule as listed now were made by the
/// rule that had the number before a reload: blaming the current rule for
/// them would be wrong. Only server states go in, so the cost follows the
/// server's states, not the whole table.
fn server_findings(
    sample: &Sample,
    rows: &[RuleRow],
    built: &[Built],
    cfg: &Config,
    generation: u32,
    dialect: Dialect,
) -> Vec<crate::lint::Finding> {
    if cfg.servers.is_empty() || sample.rules.is_empty() {
        return Vec::new();
    }
    let current: Vec<&State> = built
        .iter()
        .filter(|b| b.fits_rule && rows.get(b.row).is_some_and(|r| r.generation == generation))
        .map(|b| &b.state)
        .collect();
    crate::lint::findings_in(&sample.rules, &current, &cfg.servers, dialect).0
}

/// Walks, for each current row with server states, the connection of its
/// first server state with that state already in the table, on the paths
/// the ruleset's route-to/reply-to rules (or `--reply-via`) give.
fn attach_reply_paths(
    sample: &Sample,
    rows: &mut [RuleRow],
    built: &[Built],
    cfg: &Config,
    generation: u32,
    dialect: Dialect,
) {
    use crate::pf::path::{Leg, PathState, walk};
    if cfg.servers.is_empty() || sample.rules.is_empty() {
        return;
    }
    let opts = crate::lint::predict::PredictOptions {
        dialect: Some(dialect),
        reply_via: cfg.reply_via.clone(),
        ..Default::default()
    };
    let report = crate::lint::predict::predict_in(
        &sample.rules,
        &cfg.servers,
        &crate::pf::matcher::Tables::new(),
        &opts,
    );
    if report.paths.is_empty() {
        return;
    }
    let rs = crate::pf::evaluate::Ruleset::new(&sample.rules).with_dialect(dialect);
    // By row number: the rows that have their path.
    let mut done = vec![false; rows.len()];
    for b in built {
        let (r, s) = (b.row, &b.state);
        let Some(row) = rows.get_mut(r) else {
            continue;
        };
        if row.server_states == 0 || row.generation != generation || done[r] {
            continue;
        }
        let ServerEnd {
            server_is_dst,
            server: Some(server),
            port,
        } = b.end
        else {
            continue;
        };
        let leg = if server_is_dst {
            Leg::Request
        } else {
            Leg::Reply
        };
        let bound = !matches!(&*s.iface, "all" | "ALL");
        let rule_if = row
            .rule
            .as_ref()
            .and_then(|r| r.iface.as_ref())
            .filter(|i| !i.negated)
            .map(|i| i.name.to_string());
        let made_if = if bound {
            Some(s.iface.to_string())
        } else {
            rule_if
        };
        let fits = |c: &crate::pf::path::Connection| {
            let side = match (leg, s.direction) {
                (Leg::Request, Direction::In) | (Leg::Reply, Direction::Out) => &c.client_if,
                _ => &c.server_if,
            };
            c.server == server && c.port == port && made_if.as_deref().is_none_or(|i| i == side)
        };
        let Some(conn) = report.paths.iter().map(|p| &p.connection).find(|c| fits(c)) else {
            continue;
        };
        let existing = PathState {
            creator: s.rule_key(),
            direction: s.direction,
            leg,
            bound_to: bound.then(|| s.iface.to_string()),
            route: row.rule.as_ref().and_then(|r| r.route.clone()),
            existing: true,
        };
        row.reply_path = Some(walk(&rs, conn, &[existing], cfg.reply_via.as_deref()));
        done[r] = true;
    }
}

/// A server state, built once by the analysis, with what the later steps
/// ask of it.
struct Built {
    /// Its row in the rows table.
    row: usize,
    /// Could its row's rule (if listed) have created it (see [`fits`])?
    fits_rule: bool,
    end: ServerEnd,
    state: State,
}

/// The server end of a server state (see [`Servers::server_endpoint`]).
#[derive(Debug, Clone, Copy)]
struct ServerEnd {
    /// The server end is the destination (or its translation): the
    /// client opened the connection.
    server_is_dst: bool,
    server: Option<IpAddr>,
    port: Option<u16>,
}

impl ServerEnd {
    fn of(s: &State, ep: &Endpoint) -> ServerEnd {
        ServerEnd {
            server_is_dst: std::ptr::eq(ep, &s.dst)
                || s.dst_nat.as_deref().is_some_and(|d| std::ptr::eq(ep, d)),
            server: ep.addr.ip(),
            port: ep.port.as_ref().and_then(|p| p.number()),
        }
    }
}

/// The entry of row `row` in a table by row number, grown as rows are
/// added.
fn at_row<T: Default>(table: &mut Vec<T>, row: usize) -> &mut T {
    if table.len() <= row {
        table.resize_with(row + 1, T::default);
    }
    &mut table[row]
}

/// The rows of an analysis under construction: one per listed rule (same
/// index as the rule), then one per key that the listing cannot answer.
struct Rows<'a> {
    rules: &'a [Rule],
    index: &'a RuleIndex,
    generation: u32,
    rows: Vec<RuleRow>,
    /// Looked up once per kept state: foldhash, not SipHash.
    by_key: HashMap<RuleKey, usize, foldhash::fast::RandomState>,
    carried: HashMap<(u32, RuleKey), usize>,
}

impl<'a> Rows<'a> {
    fn new(rules: &'a [Rule], index: &'a RuleIndex, generation: u32) -> Self {
        let rows = rules
            .iter()
            .enumerate()
            .map(|(i, rule)| {
                let key = index.key_of(i).unwrap_or(RuleKey {
                    anchor: None,
                    number: rule.number.filter(|_| rule.anchor_path.is_empty()),
                });
                let resolution = match index.key_of(i).map(|k| index.lookup(k)) {
                    Some(Lookup::Ambiguous(c)) => Resolution::Ambiguous {
                        candidates: c.len(),
                    },
                    _ => Resolution::Found,
                };
                let mut row = empty_row(key, rule.anchor_path.clone(), resolution);
                row.rule = Some(rule.clone());
                row.index = Some(i);
                row.generation = generation;
                row
            })
            .collect();
        Rows {
            rules,
            index,
            generation,
            rows,
            by_key: HashMap::default(),
            carried: HashMap::new(),
        }
    }

    /// The row for a state that an older ruleset's rule `old` created (one
    /// copy of that rule's row per rule). The state was counted under `key`
    /// in the current listing: the count moves to the old rule.
    fn carry(&mut self, old: &RuleRow, key: RuleKey) -> usize {
        let row = self.carried_row(old);
        let counted = self.row_for(key);
        self.rows[counted].all_states = self.rows[counted].all_states.saturating_sub(1);
        self.rows[row].all_states += 1;
        row
    }

    fn carried_row(&mut self, old: &RuleRow) -> usize {
        if let Some(&r) = self.carried.get(&(old.generation, old.key)) {
            return r;
        }
        let mut row = empty_row(old.key, old.anchor_path.clone(), old.resolution.clone());
        row.rule = old.rule.clone();
        row.generation = old.generation;
        let r = self.push(row);
        self.carried.insert((old.generation, old.key), r);
        r
    }

    /// The row that owns states printing `key`, adding one if needed.
    fn row_for(&mut self, key: RuleKey) -> usize {
        if let Some(&r) = self.by_key.get(&key) {
            return r;
        }
        let row = match self.index.lookup(key) {
            Lookup::Found(i) => i,
            Lookup::Default => self.push(empty_row(key, String::new(), Resolution::DefaultRule)),
            Lookup::Missing => {
                let path = self.anchor_path_of(key, &[]);
                self.push(empty_row(key, path, Resolution::Missing))
            }
            Lookup::Ambiguous(candidates) => {
                let path = self.anchor_path_of(key, &candidates);
                let mut row = empty_row(
                    key,
                    path,
                    Resolution::Ambiguous {
                        candidates: candidates.len(),
                    },
                );
                row.candidates = candidates;
                self.push(row)
            }
        };
        self.by_key.insert(key, row);
        row
    }

    fn push(&mut self, mut row: RuleRow) -> usize {
        if row.generation == 0 {
            row.generation = self.generation;
        }
        self.rows.push(row);
        self.rows.len() - 1
    }

    /// The anchor a key names, for rows without a rule: the candidates' common
    /// ruleset, else the name printed by the (single) anchor-call rule.
    fn anchor_path_of(&self, key: RuleKey, candidates: &[usize]) -> String {
        let paths: BTreeSet<&str> = candidates
            .iter()
            .map(|&i| self.rules[i].anchor_path.as_str())
            .collect();
        if paths.len() == 1 {
            return paths.into_iter().next().unwrap_or_default().to_string();
        }
        let Some(m) = key.anchor else {
            return String::new();
        };
        match self.index.anchor_calls(m) {
            [call] => self.rules[*call]
                .anchor_name
                .as_deref()
                .map(|n| n.trim_start_matches('/').to_string())
                .unwrap_or_default(),
            _ => String::new(),
        }
    }
}

fn empty_row(key: RuleKey, anchor_path: String, resolution: Resolution) -> RuleRow {
    RuleRow {
        key,
        anchor_path,
        rule: None,
        resolution,
        server_states: 0,
        all_states: 0,
        new_states: None,
        gone_states: None,
        rate: None,
        verdict: None,
        reason: String::new(),
        index: None,
        candidates: Vec::new(),
        older_states: 0,
        creations_rate: None,
        server_addrs: Vec::new(),
        generation: 0,
        mismatched_states: 0,
        reply_path: None,
        host: None,
    }
}

/// Could `rule` have created `state`? A rule with a direction, protocols or
/// an address family only creates states of that kind. (Addresses and ports
/// are not compared: tables, interface addresses and NAT make that unsure.)
fn fits(rule: &Rule, state: &State) -> bool {
    if rule.direction.is_some_and(|d| d != state.direction) {
        return false;
    }
    if !rule.protos.is_empty() && !rule.protos.iter().any(|p| **p == *state.proto) {
        return false;
    }
    let v6 = state.src.addr.ip().map(|ip| ip.is_ipv6());
    !matches!(
        (rule.family, v6, &rule.af_to),
        (Some(Family::Inet), Some(true), None) | (Some(Family::Inet6), Some(false), None)
    )
}

/// Carries the generation over, or starts a new one when the ruleset's
/// fingerprint differs from the previous sample's.
fn next_generation(prev: Option<&Analysis>, sample: &Sample) -> Generation {
    let fp = fingerprint(&sample.rules);
    match prev {
        None => Generation {
            number: 1,
            fingerprint: fp,
            changed_at: None,
        },
        Some(p) if p.generation.fingerprint == fp => p.generation.clone(),
        Some(p) => Generation {
            number: p.generation.number.saturating_add(1),
            fingerprint: fp,
            changed_at: sample.taken_at,
        },
    }
}

/// Who a state is across polls: its id when printed (`-vv`), else its
/// interface, protocol, direction and both ends.
#[derive(Debug, PartialEq, Eq, Hash)]
enum Ident {
    Id(u64, Option<u32>),
    Tuple(Arc<str>, Arc<str>, Direction, Endpoint, Endpoint),
}

/// `by_id`: both polls compared carry ids. The TUI lists states without
/// their id line (`-vss`) when nothing needs ids, and with it (`-vvss`)
/// when something does: across such a switch the same state must still be
/// the same, so then every state is compared by its tuple.
fn ident(s: &State, by_id: bool) -> Ident {
    match s.id {
        Some(id) if by_id => Ident::Id(id, s.creator_id),
        _ => Ident::Tuple(
            Arc::clone(&s.iface),
            Arc::clone(&s.proto),
            s.direction,
            s.src.clone(),
            s.dst.clone(),
        ),
    }
}

/// Indexes of the kept states of rows that own server states (with their
/// rows): a superset of the server states, found from the rows alone, so
/// a poll that kept every state builds only these.
fn server_indexes<'a>(
    states: &'a KeptStates,
    rows: &'a [RuleRow],
) -> impl Iterator<Item = (usize, usize)> + 'a {
    states
        .rows()
        .enumerate()
        .filter(|(_, r)| rows.get(*r).is_some_and(|row| row.server_states > 0))
}

/// A 64-bit hash of an ident: two server states of one poll share one
/// with a chance of about one in 2^64 a pair (a state then counted as
/// neither new nor gone).
fn ident_hash(ident: &Ident) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    ident.hash(&mut h);
    h.finish()
}

/// New and gone server states per row, and new states per second.
/// Returns the totals (new, gone).
fn apply_deltas(
    prev: &Analysis,
    built: &[Built],
    cfg: &Config,
    rows: &mut Rows<'_>,
    interval: Option<f64>,
    carried: &HashMap<Ident, &RuleRow>,
    by_id: bool,
) -> (u64, u64) {
    // Each server state as the hash of its ident, with its index: a few
    // bytes a state, so a poll with every state kept compares no copies.
    let server_hashes = |kept: &KeptStates, rows: &[RuleRow]| -> Vec<(u64, usize, usize)> {
        server_indexes(kept, rows)
            .filter_map(|(i, r)| {
                let s = kept.state(i)?;
                cfg.servers
                    .matches(&s)
                    .then(|| (ident_hash(&ident(&s, by_id)), i, r))
            })
            .collect()
    };
    let before = server_hashes(&prev.states, &prev.rows);
    // This poll's server states are built already (the index is unused).
    let now: Vec<(u64, usize, usize)> = built
        .iter()
        .map(|b| (ident_hash(&ident(&b.state, by_id)), 0, b.row))
        .collect();
    let before_ids: HashSet<u64> = before.iter().map(|(h, _, _)| *h).collect();
    let now_ids: HashSet<u64> = now.iter().map(|(h, _, _)| *h).collect();

    let (mut new, mut gone) = (0, 0);
    let mut new_per_row: HashMap<usize, u64> = HashMap::new();
    let mut gone_per_row: HashMap<usize, u64> = HashMap::new();
    for (h, _, row) in &now {
        if !before_ids.contains(h) {
            *new_per_row.entry(*row).or_default() += 1;
            new += 1;
        }
    }
    for (h, i, _) in &before {
        if now_ids.contains(h) {
            continue;
        }
        let Some(s) = prev.states.state(*i) else {
            continue;
        };
        let row = match carried.get(&ident(&s, by_id)) {
            Some(old) => rows.carried_row(old),
            None => rows.row_for(s.rule_key()),
        };
        *gone_per_row.entry(row).or_default() += 1;
        gone += 1;
    }
    let dt = interval.filter(|dt| *dt > 0.0);
    for (i, row) in rows.rows.iter_mut().enumerate() {
        let n = new_per_row.get(&i).copied().unwrap_or(0);
        row.new_states = Some(n);
        row.gone_states = Some(gone_per_row.get(&i).copied().unwrap_or(0));
        row.rate = dt.map(|dt| n as f64 / dt);
    }
    (new, gone)
}

/// States created per second by each listed rule, from its `State Creations`
/// counter. Only meaningful within one ruleset generation (same listing).
fn apply_creation_rates(prev: &Analysis, rows: &mut [RuleRow], rules: &[Rule], dt: Option<f64>) {
    let Some(dt) = dt.filter(|dt| *dt > 0.0) else {
        return;
    };
    let before: HashMap<usize, u64> = prev
        .rows
        .iter()
        .filter_map(|r| {
            Some((
                r.index?,
                r.rule.as_ref()?.counters.as_ref()?.state_creations?,
            ))
        })
        .collect();
    for row in rows.iter_mut() {
        let Some(i) = row.index else { continue };
        let now = rules
            .get(i)
            .and_then(|r| r.counters.as_ref())
            .and_then(|c| c.state_creations);
        if let (Some(now), Some(then)) = (now, before.get(&i)) {
            // A counter that went down was reset: no rate rather than a wrong one.
            row.creations_rate = now.checked_sub(*then).map(|d| d as f64 / dt);
        }
    }
}

/// The `--allow` value that covers the row, if any. A label or an anchor
/// glob names the rule itself, so it holds across reloads. A number names
/// a rule of the current listing: a rule of an older ruleset is allowed by
/// number only if the current listing has the same rule under the same
/// number (a reload that kept it in place).
fn is_allowed(
    row: &RuleRow,
    cfg: &Config,
    generation: u32,
    current: &HashMap<RuleKey, &str>,
) -> Option<String> {
    let labels = row.rule.as_ref().map_or(&[][..], |r| r.labels.as_slice());
    let number_holds = row.generation == generation
        || matches!((&row.rule, current.get(&row.key)), (Some(old), Some(now)) if old.text == *now);
    cfg.allow
        .matching(number_holds.then_some(row.key), &row.anchor_path, labels)
        .map(str::to_string)
}

/// What the server states of one row show, gathered while attributing them.
#[derive(Debug, Default)]
struct RowFacts {
    /// Some state prints its own routing (`{addr}`, `route-to:`, a gateway).
    routed: bool,
    /// The `creatorid`s of the states.
    creators: BTreeSet<u32>,
}

/// What the verdicts of one analysis share.
struct JudgeCtx {
    no_listing: bool,
    generation: u32,
    /// The ruleset's fingerprint changed during this run: only then is a
    /// reload named as the cause.
    reloaded: bool,
    dialect: Dialect,
    /// `Hostid` of `pfctl -si`, when known.
    hostid: Option<u32>,
    /// FreeBSD family: a translation / `scrub reassemble tcp` rule of the
    /// listing (`@3 nat on em1 …`), which keeps state under `no state`.
    translation: Option<String>,
}

/// `0x4e1f00c2` → `0x4e1f00c2`.
fn parse_hostid(text: &str) -> Option<u32> {
    let t = text.trim();
    let hex = t
        .strip_prefix("0x")
        .or_else(|| t.strip_prefix("0X"))
        .unwrap_or(t);
    u32::from_str_radix(hex, 16).ok()
}

/// The first rule that makes the FreeBSD family keep state without a
/// stateful filter rule (`pf_test_rule`: `nr != NULL || PFDESC_TCP_NORM`).
fn translation_rule(rules: &[Rule], d: Dialect) -> Option<String> {
    if !d.translation_keeps_state() {
        return None;
    }
    rules
        .iter()
        .find(|r| {
            matches!(&r.action, Action::Other(a) if matches!(&**a, "nat" | "rdr" | "binat"))
                || (r.scrub && r.text.contains("reassemble tcp"))
        })
        .map(|r| match r.number {
            Some(n) => format!("@{n} {}", r.text),
            None => r.text.clone(),
        })
}

/// Sets the verdict and reason of a row that owns server states, from the
/// findings about its states (`mine`) and what the rule is.
fn judge(
    row: &mut RuleRow,
    allowed: Option<String>,
    ctx: &JudgeCtx,
    facts: &RowFacts,
    mine: &[&crate::lint::Finding],
) {
    use crate::lint::FindingKind;
    if row.server_states == 0 {
        return;
    }
    let n = row.server_states;
    let what = format!(
        "{n} state{} for {}",
        plural(n),
        addrs_text(&row.server_addrs)
    );
    let all_mismatched = row.mismatched_states == n;
    let bypass = mine.iter().find(|f| f.kind == FindingKind::Bypass);
    let blocked = mine
        .iter()
        .find(|f| f.kind == FindingKind::MissedReplies && f.message.contains("blocked"));
    let (verdict, mut reason) = if let Some(by) = allowed {
        (
            Verdict::Allowed,
            format!(
                "allowed with --allow {by}: {what} {} expected",
                if n == 1 { "is" } else { "are" }
            ),
        )
    } else if all_mismatched {
        (
            Verdict::Unexplained,
            format!(
                "rule {} as listed now cannot have created them (direction, protocol or address \
                 family differ): the ruleset changed since they were created: {what}",
                row.key
            ),
        )
    } else if let Some(f) = bypass {
        (
            Verdict::Bypass,
            format!(
                "{}: {what}; {}",
                cause(row, ctx, facts),
                bypass_text(f, row.key)
            ),
        )
    } else if let Some(f) = blocked {
        (
            Verdict::Blocked,
            format!("{}: {what}; {}", cause(row, ctx, facts), f.message),
        )
    } else {
        quiet_verdict(row, ctx, facts, &what)
    };
    row.verdict = Some(verdict);
    if row.mismatched_states > 0 && !all_mismatched {
        let k = row.mismatched_states;
        reason.push_str(&format!(
            "; {k} of them {} not fit this rule (direction, protocol or address family): the \
             ruleset changed since they were created and rule {} then was another rule",
            if k == 1 { "does" } else { "do" },
            row.key
        ));
    }
    if row.generation != ctx.generation {
        reason = format!(
            "rule of the ruleset before the reload (generation {}), seen with these states \
             before it: {reason}",
            row.generation
        );
    } else if row.older_states > 0 && row.mismatched_states == 0 {
        reason.push_str(&format!(
            "; {} of them {} older than the last ruleset change and may have been created by \
             the previous ruleset's rule {}",
            row.older_states,
            if row.older_states == 1 { "is" } else { "are" },
            row.key
        ));
    }
    row.reason = reason;
}

/// How a row's states bypass, for its reason: which packets they catch
/// (from the finding's path) and whose routing those skip.
fn bypass_text(f: &crate::lint::Finding, key: RuleKey) -> String {
    let Some(b) = &f.bypassed_rule else {
        return f.message.clone();
    };
    if b.key() == key {
        return "they are if-bound, so the replies leaving by another interface never match \
                them and the reply-to never applies"
            .into();
    }
    let caught = f
        .path
        .split_once("→ catches ")
        .map_or("the replies", |(_, c)| c);
    format!(
        "the {caught} match them and skip the routing of rule {}",
        b.key()
    )
}

/// The verdict of a row whose states misroute nothing: the routing
/// itself, harmless, or not explained by the listing.
fn quiet_verdict(row: &RuleRow, ctx: &JudgeCtx, facts: &RowFacts, what: &str) -> (Verdict, String) {
    let harmless = "they catch no packet that a route-to/reply-to rule would otherwise decide";
    match (&row.resolution, &row.rule) {
        (Resolution::Found, Some(rule)) if rule.action == Action::Pass => {
            if let Some(rt) = &rule.route {
                return (
                    Verdict::Routing,
                    format!(
                        "keeps state with {} {}: {what}; the states carry that routing for \
                         the rest of each connection",
                        rt.kind, rt.target
                    ),
                );
            }
            if facts.routed {
                return (
                    Verdict::Routing,
                    format!("{what} print their own routing; {harmless}"),
                );
            }
            match rule.state {
                Some(StatePolicy::No) => match &ctx.translation {
                    Some(t) => (
                        Verdict::Stateful,
                        format!(
                            "`no state`, but {} keeps state for translated packets (rule {t}): \
                             {what}; {harmless}",
                            ctx.dialect
                        ),
                    ),
                    None => (
                        Verdict::Unexplained,
                        format!("{}: {what}", cause(row, ctx, facts)),
                    ),
                },
                _ => (
                    Verdict::Stateful,
                    format!("{}: {what}; {harmless}", cause(row, ctx, facts)),
                ),
            }
        }
        (Resolution::DefaultRule, _) => ruleless_verdict(ctx, facts, what, harmless),
        _ => (
            Verdict::Unexplained,
            format!("{}: {what}", cause(row, ctx, facts)),
        ),
    }
}

/// States without a `rule` item. OpenBSD's default rule never keeps
/// state, so they were imported by pfsync (`pf_state_import` names the
/// default rule when the peer's ruleset checksum differs or the rule is in
/// an anchor): their `creatorid` is the peer's host id, not this host's
/// `Hostid`. On the FreeBSD family a translation keeps state for the
/// default rule too.
fn ruleless_verdict(
    ctx: &JudgeCtx,
    facts: &RowFacts,
    what: &str,
    harmless: &str,
) -> (Verdict, String) {
    let peers: Vec<String> = facts
        .creators
        .iter()
        .filter(|c| Some(**c) != ctx.hostid)
        .map(|c| format!("{c:08x}"))
        .collect();
    match ctx.hostid {
        Some(h) if !peers.is_empty() && !facts.creators.contains(&h) => (
            Verdict::Stateful,
            format!(
                "no rule: imported by pfsync from {} (creatorid {}; this host's Hostid is \
                 {h:08x}), made by a rule of the peer's ruleset: {what}; {harmless} here",
                if peers.len() == 1 { "a peer" } else { "peers" },
                peers.join(", ")
            ),
        ),
        _ if ctx.translation.is_some() => (
            Verdict::Stateful,
            format!(
                "no rule: {} (rule {}): {what}; {harmless}",
                ctx.dialect.ruleless_cause(),
                ctx.translation.as_deref().unwrap_or_default()
            ),
        ),
        // Listed without their id line (`pfctl -vss`, which the TUI polls
        // with when nothing needs ids): who created them is not known.
        Some(_) if facts.creators.is_empty() => (
            Verdict::Unexplained,
            format!(
                "no rule: {}; their creatorid was not listed (pfctl -vss), so pfsync imports \
                 cannot be told from this host's states: {what}",
                ctx.dialect.ruleless_cause()
            ),
        ),
        Some(h) => (
            Verdict::Unexplained,
            format!(
                "no rule, and created by this host (creatorid = Hostid {h:08x}): {}; cannot \
                 tell which rule made them: {what}",
                ctx.dialect.ruleless_cause()
            ),
        ),
        None => (
            Verdict::Unexplained,
            format!(
                "no rule: {}; compare their creatorid with `Hostid` of `pfctl -si` (record it \
                 as info.txt) to tell: {what}",
                ctx.dialect.ruleless_cause()
            ),
        ),
    }
}

/// Why a state names a rule the listing does not explain: a reload only
/// when this run saw the ruleset's fingerprint change.
fn reload_cause(ctx: &JudgeCtx) -> &'static str {
    if ctx.reloaded {
        "the ruleset was reloaded during this run (its fingerprint changed) after the state was \
         created, so the number now names another rule or none"
    } else {
        "the ruleset was reloaded before the first poll, or the rule is in a ruleset the listing \
         lacks (list the rules with pfctl -a '*' -vvsr)"
    }
}

/// What a rule did to own states.
fn cause(row: &RuleRow, ctx: &JudgeCtx, facts: &RowFacts) -> String {
    let _ = facts;
    match (&row.resolution, &row.rule) {
        (Resolution::DefaultRule, _) => format!("no rule: {}", ctx.dialect.ruleless_cause()),
        (Resolution::Missing, _) if ctx.no_listing => {
            format!("rule {} (no rules listing to look it up in)", row.key)
        }
        (Resolution::Missing, _) => format!(
            "rule {} is not in the current listing: {}",
            row.key,
            reload_cause(ctx)
        ),
        (Resolution::Ambiguous { candidates }, _) => format!(
            "rule {} names {candidates} rules of the listing (wildcard or nested anchors): \
             cannot tell which one created them",
            row.key
        ),
        (Resolution::Found, Some(rule)) => match (&rule.action, rule.state) {
            (Action::Pass, Some(StatePolicy::Modulate)) => "keeps state (modulate state)".into(),
            (Action::Pass, Some(StatePolicy::Synproxy)) => "keeps state (synproxy state)".into(),
            (Action::Pass, Some(StatePolicy::Keep)) => "keeps state".into(),
            (Action::Pass, Some(StatePolicy::No)) => match &ctx.translation {
                Some(t) => format!(
                    "`no state`, but {} keeps state for translated packets (rule {t})",
                    ctx.dialect
                ),
                None => format!(
                    "is `no state` in the current listing, yet states name it: {}",
                    reload_cause(ctx)
                ),
            },
            (action, _) => format!(
                "is a `{action}` rule in the current listing, which creates no state: {}",
                reload_cause(ctx)
            ),
        },
        (Resolution::Found, None) => format!("rule {}", row.key),
    }
}

fn addrs_text(addrs: &[IpAddr]) -> String {
    const SHOWN: usize = 3;
    let mut text: Vec<String> = addrs.iter().take(SHOWN).map(IpAddr::to_string).collect();
    if addrs.len() > SHOWN {
        text.push(format!("{} more", addrs.len() - SHOWN));
    }
    if text.is_empty() {
        "the servers".to_string()
    } else {
        text.join(", ")
    }
}

fn plural(n: u64) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// Says what a ruleset change means for the server states of this sample.
fn reload_warning(rows: &[RuleRow], generation: u32) -> String {
    let carried: u64 = rows
        .iter()
        .filter(|r| r.generation != generation)
        .map(|r| r.server_states)
        .sum();
    let unsure: u64 = rows
        .iter()
        .filter(|r| r.generation == generation)
        .map(|r| r.older_states)
        .sum();
    let mut w = format!(
        "the ruleset changed since the previous sample (now generation {generation}): rule \
         numbers may have moved"
    );
    if carried > 0 {
        w.push_str(&format!(
            "; {carried} server state{} seen before the change keep the rule that created them",
            plural(carried)
        ));
    }
    if unsure > 0 {
        w.push_str(&format!(
            "; {unsure} server state{} first seen after it may be older than the change and \
             name a rule of the previous ruleset",
            plural(unsure)
        ));
    }
    w
}

/// Warnings about what the input lacks for a full answer.
fn listing_warnings(sample: &Sample, rows: &[RuleRow], states: &KeptStates) -> Vec<String> {
    let mut w = Vec::new();
    if sample.rules.is_empty() && sample.total_states > 0 {
        w.push(
            "no rules listing: rule texts are unknown (record `pfctl -a '*' -vvsr` as rules.txt)"
                .to_string(),
        );
    } else if !sample.rules.is_empty() && sample.rules.iter().all(|r| r.number.is_none()) {
        w.push(
            "the rules listing has no rule numbers (@N): states cannot be matched to rules \
             (list the rules with `pfctl -a '*' -vvsr`)"
                .to_string(),
        );
    }
    if (0..states.len()).any(|i| !states.verbose(i)) {
        w.push(
            "some states were listed without -v: they name no rule (list them with `pfctl -vvss`)"
                .to_string(),
        );
    }
    let missing: u64 = rows
        .iter()
        .filter(|r| r.resolution == Resolution::Missing)
        .map(|r| r.server_states)
        .sum();
    if missing > 0 && !sample.rules.is_empty() {
        w.push(format!(
            "{missing} server state{} name rules that are not in the current listing \
             (ruleset changed since they were created?)",
            plural(missing)
        ));
    }
    w
}

#[cfg(test)]
pub(crate) mod tests;
