//! Which rule decides a packet, under pf's rules: the last matching rule
//! wins, `quick` stops at the rule, `match` rules do not decide, anchors are
//! evaluated where they stand (when the anchor rule's own criteria match),
//! and with no matching rule pf's default rule passes the packet.
//!
//! Rules whose match cannot be known from the listing (tables, tags, …) do
//! not decide; they are kept as [`Uncertain`] when they could change the
//! outcome, so callers can say "may" instead of guessing.

use std::collections::BTreeMap;

use super::dialect::{self, Dialect};
use super::matcher::{self, Match, Packet, RuleFacts, Tables};
use crate::model::{Action, Direction, Rule, RuleKey, RuleRoute};

/// A rule of a listing, with the key its states would print.
#[derive(Debug, Clone, Copy)]
pub struct RuleRef<'a> {
    pub rule: &'a Rule,
    pub key: RuleKey,
}

/// What decided a packet.
#[derive(Debug, Clone, Copy)]
pub enum Decider<'a> {
    Rule(RuleRef<'a>),
    /// pf's default rule: passes, creates no state (its `keep_state` is 0
    /// in both OpenBSD and FreeBSD kernels). FreeBSD still creates a state
    /// for it when a nat/rdr rule translated the packet; such states print
    /// no `rule` item.
    Default,
}

impl<'a> Decider<'a> {
    pub fn key(&self) -> RuleKey {
        match self {
            Decider::Rule(r) => r.key,
            Decider::Default => RuleKey {
                anchor: None,
                number: None,
            },
        }
    }

    pub fn rule(&self) -> Option<&'a Rule> {
        match self {
            Decider::Rule(r) => Some(r.rule),
            Decider::Default => None,
        }
    }

    /// The rule as printed, or `(default rule)`.
    pub fn text(&self) -> String {
        match self {
            Decider::Rule(r) => r.rule.text.clone(),
            Decider::Default => "(default rule: pass, no state)".into(),
        }
    }

    /// `@3`, `@1:0`, or `the default rule`.
    pub fn name(&self) -> String {
        match self {
            Decider::Rule(r) => format!("rule {}", r.key),
            Decider::Default => "the default rule".into(),
        }
    }

    pub fn same(&self, other: &Decider<'_>) -> bool {
        match (self, other) {
            (Decider::Rule(a), Decider::Rule(b)) => std::ptr::eq(a.rule, b.rule),
            (Decider::Default, Decider::Default) => true,
            _ => false,
        }
    }
}

/// A rule that might have matched (the listing cannot tell) and would then
/// have changed the outcome.
#[derive(Debug, Clone)]
pub struct Uncertain<'a> {
    pub rule: RuleRef<'a>,
    pub reason: String,
}

/// The outcome of evaluating one packet against a ruleset.
#[derive(Debug, Clone)]
pub struct Decision<'a> {
    pub decider: Decider<'a>,
    /// `match` rules that matched on the way (they can set `route-to` on
    /// OpenBSD and FreeBSD 14+).
    pub matched: Vec<RuleRef<'a>>,
    pub uncertain: Vec<Uncertain<'a>>,
    /// Things the model does not cover for this packet (anchors not listed…).
    pub notes: Vec<String>,
    /// The dialect whose pf decided (state and routing rules differ).
    pub dialect: Dialect,
    /// FreeBSD family: the translation (nat/rdr/binat) or `scrub …
    /// reassemble tcp` rule that makes pf keep state for this packet even
    /// when the deciding rule says `no state` (`pf_test_rule`).
    pub keeps_state_for: Option<RuleRef<'a>>,
}

impl<'a> Decision<'a> {
    pub fn passes(&self) -> bool {
        self.decider.rule().is_none_or(|r| r.action == Action::Pass)
    }

    /// Does the decision create a state for the packet? The rule's state
    /// keyword, or on the FreeBSD family a translation / TCP reassembly
    /// (`pf_test_rule`: `r->keep_state || nr != NULL || PFDESC_TCP_NORM`).
    pub fn keeps_state(&self) -> bool {
        self.passes()
            && (self.decider.rule().is_some_and(Rule::keeps_state)
                || self.keeps_state_for.is_some())
    }

    /// The routing applied to this packet: the deciding rule's, else (where
    /// the dialect lets match rules route) the last `match` rule's. On
    /// OpenBSD 6.9+ pf routes only through the state the rule creates
    /// (`pf_test` → `pf_route` when `st->rt`), so a rule that keeps no
    /// state routes nothing there (and pfctl would not load it).
    pub fn route(&self) -> Option<&'a RuleRoute> {
        if !self.passes() {
            return None;
        }
        if self.dialect.routes_only_through_states() && !self.keeps_state() {
            return None;
        }
        self.decider
            .rule()
            .and_then(|r| r.route.as_ref())
            .or_else(|| {
                if !self.dialect.match_rules_route() {
                    return None;
                }
                self.matched
                    .iter()
                    .rev()
                    .find_map(|m| m.rule.route.as_ref())
            })
    }
}

/// A rules listing indexed by ruleset (anchor path).
///
/// Everything a packet's evaluation would otherwise recompute per rule is
/// computed once here: the text-derived criteria ([`RuleFacts`]), each
/// rule's enclosing anchor and state key. Lint evaluates one listing for
/// every distinct flow of a poll, so this is paid once per poll.
#[derive(Debug)]
pub struct Ruleset<'a> {
    rules: &'a [Rule],
    /// Known table contents; tables not in it match as unknown.
    tables: Option<&'a Tables>,
    /// Ruleset path → indices into `rules`, in listing order.
    paths: BTreeMap<&'a str, Vec<usize>>,
    /// Per rule (same index): its text-derived criteria.
    facts: Vec<RuleFacts>,
    /// Per rule: the anchor rule whose ruleset holds it.
    enclosing: Vec<Option<usize>>,
    /// Per rule: the key its states print.
    keys: Vec<RuleKey>,
    /// Rule key → the non-scrub rules with it (see [`Ruleset::find`]).
    by_key: BTreeMap<RuleKey, Vec<usize>>,
    /// Whose pf evaluates (detected from the listing unless set).
    dialect: Dialect,
}

/// Tells how evaluation goes on after a ruleset (or a rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    Continue,
    Stop,
}

#[derive(Debug)]
struct Walk<'a> {
    decider: Decider<'a>,
    /// Definite pass/block matches so far (for `anchor … quick`).
    definite: usize,
    matched: Vec<RuleRef<'a>>,
    uncertain: Vec<Uncertain<'a>>,
    notes: Vec<String>,
}

/// Options of an evaluation.
#[derive(Debug, Clone, Copy, Default)]
pub struct EvalOptions<'r> {
    /// Treat every rule's `flags` as `flags any`: tells which rule a packet
    /// was *written* for, when only a `flags S/SA` keeps it from matching.
    pub ignore_flags: bool,
    /// Assume this rule matches (one whose match the listing cannot tell,
    /// see [`Decision::uncertain`]), together with the anchors around it:
    /// gives the decision "if it matches". Compared by address.
    pub assume: Option<&'r Rule>,
}

impl<'a> Ruleset<'a> {
    pub fn new(rules: &'a [Rule]) -> Self {
        let mut paths: BTreeMap<&'a str, Vec<usize>> = BTreeMap::new();
        for (i, r) in rules.iter().enumerate() {
            paths.entry(r.anchor_path.as_str()).or_default().push(i);
        }
        let mut rs = Ruleset {
            rules,
            tables: None,
            paths,
            facts: rules.iter().map(RuleFacts::of).collect(),
            enclosing: Vec::new(),
            keys: Vec::new(),
            by_key: BTreeMap::new(),
            dialect: dialect::detect(None, rules, &[]).dialect,
        };
        rs.enclosing = rs.enclosing_anchors();
        rs.keys = (0..rules.len()).map(|i| rs.compute_key(i)).collect();
        for (i, r) in rules.iter().enumerate() {
            if r.number.is_some() && r.in_filter_ruleset() {
                rs.by_key.entry(rs.keys[i]).or_default().push(i);
            }
        }
        rs
    }

    /// For every rule, the anchor rule whose ruleset holds it: the first
    /// anchor rule in the listing that evaluates the rule's ruleset.
    fn enclosing_anchors(&self) -> Vec<Option<usize>> {
        let mut owner: BTreeMap<&'a str, usize> = BTreeMap::new();
        for (a, r) in self.rules.iter().enumerate() {
            if r.action == Action::Anchor {
                for t in self.anchor_targets(a) {
                    owner.entry(t).or_insert(a);
                }
            }
        }
        self.rules
            .iter()
            .map(|r| match r.anchor_path.as_str() {
                "" => None,
                path => owner.get(path).copied(),
            })
            .collect()
    }

    /// The index of `rule` in the listing, when it is one of its rules
    /// (compared by address).
    fn index_of(&self, rule: &Rule) -> Option<usize> {
        let size = std::mem::size_of::<Rule>();
        let offset = (rule as *const Rule as usize).checked_sub(self.rules.as_ptr() as usize)?;
        let idx = offset / size.max(1);
        self.rules
            .get(idx)
            .filter(|r| std::ptr::eq(*r, rule))
            .map(|_| idx)
    }

    /// A ruleset whose table references are checked against `tables`.
    pub(crate) fn with_tables(rules: &'a [Rule], tables: &'a Tables) -> Self {
        let mut rs = Ruleset::new(rules);
        rs.tables = Some(tables);
        rs
    }

    /// The same ruleset evaluated by `dialect`'s pf.
    pub(crate) fn with_dialect(mut self, dialect: Dialect) -> Self {
        self.dialect = dialect;
        self
    }

    pub fn dialect(&self) -> Dialect {
        self.dialect
    }

    /// FreeBSD family: the first translation rule for the packet's
    /// direction that translates it (`pf_get_translation` takes the first
    /// match; `no nat` / `no rdr` match and translate nothing), else a
    /// `scrub … reassemble tcp` rule matching a TCP packet. Either makes
    /// `pf_test_rule` keep state. `None` on OpenBSD, where translation is
    /// a filter-rule option and needs keep state anyway.
    fn state_keeping_translation(&self, pkt: &Packet) -> Option<RuleRef<'a>> {
        if !self.dialect.translation_keeps_state() {
            return None;
        }
        for (idx, rule) in self.rules.iter().enumerate() {
            let Action::Other(kind) = &rule.action else {
                continue;
            };
            let dirs: &[Direction] = match &**kind {
                "nat" | "no nat" => &[Direction::Out],
                "rdr" | "no rdr" => &[Direction::In],
                "binat" | "no binat" => &[Direction::In, Direction::Out],
                _ => continue,
            };
            if !dirs.contains(&pkt.direction) || !self.rule_matches_at(idx, pkt, false).is_yes() {
                continue;
            }
            if kind.starts_with("no ") {
                break;
            }
            return Some(RuleRef {
                rule,
                key: self.key_of(idx),
            });
        }
        let tcp = matcher::proto_number(&pkt.proto) == Some(6);
        self.rules
            .iter()
            .enumerate()
            .filter(|(_, r)| r.scrub && tcp && r.text.contains("reassemble tcp"))
            .find(|(idx, _)| self.rule_matches_at(*idx, pkt, false).is_yes())
            .map(|(idx, rule)| RuleRef {
                rule,
                key: self.key_of(idx),
            })
    }

    /// The known table contents, if any.
    pub fn tables(&self) -> Option<&'a Tables> {
        self.tables
    }

    /// Does `rule` match `pkt`, with the known tables? (Its own criteria
    /// only; anchors around it are not checked.)
    pub(crate) fn rule_matches(&self, rule: &Rule, pkt: &Packet, check_flags: bool) -> Match {
        match self.index_of(rule) {
            Some(idx) => self.rule_matches_at(idx, pkt, check_flags),
            None => matcher::matches_in(rule, pkt, check_flags, self.tables),
        }
    }

    /// [`Self::rule_matches`] for the rule at `idx`, with its facts read once.
    fn rule_matches_at(&self, idx: usize, pkt: &Packet, check_flags: bool) -> Match {
        matcher::matches_compiled(
            &self.rules[idx],
            &self.facts[idx],
            pkt,
            check_flags,
            self.tables,
        )
    }

    /// The anchor rules around `rule`, innermost first (what must match
    /// for pf to reach it).
    pub(crate) fn anchors_around(&self, rule: &Rule) -> Vec<&'a Rule> {
        let mut out = Vec::new();
        let mut idx = self.rules.iter().position(|r| std::ptr::eq(r, rule));
        while let Some(a) = idx.and_then(|i| self.enclosing_anchor(i)) {
            if out.len() > 64 {
                break;
            }
            out.push(&self.rules[a]);
            idx = Some(a);
        }
        out
    }

    pub fn rules(&self) -> &'a [Rule] {
        self.rules
    }

    /// Every interface a rule names (`on X`, route targets), groups excluded.
    pub fn interfaces(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut add = |name: &str| {
            if !matcher::is_group_name(name) && !out.iter().any(|o| o == name) {
                out.push(name.to_string());
            }
        };
        for r in self.rules {
            if let Some(i) = &r.iface {
                add(&i.name);
            }
            if let Some(rt) = &r.route {
                rt.ifaces.iter().for_each(|i| add(i));
            }
        }
        out
    }

    /// The key a state would print for the rule at `idx`: the enclosing
    /// anchor rule's number, then the rule's own.
    pub(crate) fn key_of(&self, idx: usize) -> RuleKey {
        self.keys
            .get(idx)
            .copied()
            .unwrap_or_else(|| self.compute_key(idx))
    }

    fn compute_key(&self, idx: usize) -> RuleKey {
        let rule = &self.rules[idx];
        RuleKey {
            anchor: self
                .enclosing_anchor(idx)
                .and_then(|a| self.rules[a].number),
            number: rule.number,
        }
    }

    /// The anchor rule whose ruleset holds the rule at `idx`.
    fn enclosing_anchor(&self, idx: usize) -> Option<usize> {
        self.enclosing.get(idx).copied().flatten()
    }

    /// Resolves a rule key (as a state prints it) to the rule, when exactly
    /// one rule of the listing has it.
    pub fn find(&self, key: RuleKey) -> Option<RuleRef<'a>> {
        match self.by_key.get(&key)?.as_slice() {
            &[only] => Some(RuleRef {
                rule: &self.rules[only],
                key,
            }),
            _ => None,
        }
    }

    /// The rulesets an anchor rule evaluates, in order.
    fn anchor_targets(&self, idx: usize) -> Vec<&'a str> {
        let rule = &self.rules[idx];
        let parent = rule.anchor_path.as_str();
        let Some(name) = rule.anchor_name.as_deref() else {
            // Unnamed inline anchor: its rules follow it in the listing.
            return self
                .rules
                .get(idx + 1)
                .map(|next| next.anchor_path.as_str())
                .filter(|p| *p != parent && is_child(parent, p))
                .into_iter()
                .collect();
        };
        let name = name.trim_matches('"');
        let (base, wildcard) = match name.strip_suffix('*') {
            Some(b) => (b.trim_end_matches('/'), true),
            None => (name, false),
        };
        let full = resolve(parent, base);
        if wildcard {
            let mut kids: Vec<(&'a str, usize)> = self
                .paths
                .iter()
                .filter(|(p, _)| is_direct_child(&full, p))
                .map(|(p, idxs)| (*p, idxs.first().copied().unwrap_or(usize::MAX)))
                .collect();
            kids.sort_by_key(|(_, first)| *first);
            return kids.into_iter().map(|(p, _)| p).collect();
        }
        let lookup = |p: &str| self.paths.get_key_value(p).map(|(k, _)| *k);
        lookup(&full).or_else(|| lookup(base)).into_iter().collect()
    }

    /// Evaluates `pkt` from the main ruleset.
    pub fn evaluate(&self, pkt: &Packet) -> Decision<'a> {
        self.evaluate_with(pkt, EvalOptions::default())
    }

    pub(crate) fn evaluate_with(&self, pkt: &Packet, opts: EvalOptions<'_>) -> Decision<'a> {
        let mut walk = Walk {
            decider: Decider::Default,
            definite: 0,
            matched: Vec::new(),
            uncertain: Vec::new(),
            notes: Vec::new(),
        };
        self.walk("", pkt, opts, None, &mut walk, 0);
        Decision {
            decider: walk.decider,
            matched: walk.matched,
            uncertain: walk.uncertain,
            notes: walk.notes,
            dialect: self.dialect,
            keeps_state_for: self.state_keeping_translation(pkt),
        }
    }

    /// Walks one ruleset. `doubt` is set inside anchors whose own criteria
    /// could not be decided: matches there are only possible.
    fn walk(
        &self,
        path: &str,
        pkt: &Packet,
        opts: EvalOptions<'_>,
        doubt: Option<&str>,
        w: &mut Walk<'a>,
        depth: usize,
    ) -> Flow {
        // pf limits anchor nesting too; this guards against a listing that
        // (wrongly) names its own ancestor.
        if depth > 64 {
            w.notes.push(format!("anchor nesting too deep at `{path}`"));
            return Flow::Continue;
        }
        let Some(idxs) = self.paths.get(path) else {
            return Flow::Continue;
        };
        for &idx in idxs {
            let rule = &self.rules[idx];
            if rule.expired || !rule.in_filter_ruleset() {
                continue;
            }
            let r = RuleRef {
                rule,
                key: self.key_of(idx),
            };
            let m = if opts.assume.is_some_and(|a| std::ptr::eq(a, rule)) {
                // "If it matches": the anchors around it matched too.
                Match::Yes
            } else {
                match (self.rule_matches_at(idx, pkt, !opts.ignore_flags), doubt) {
                    (Match::Yes, Some(why)) => Match::Unknown(why.to_string()),
                    (m, _) => m,
                }
            };
            let flow = match rule.action {
                Action::Anchor => self.enter_anchor(idx, r, m, pkt, opts, w, depth),
                Action::Pass | Action::Block => decide(r, m, w),
                Action::Match => {
                    note_match(r, m, w);
                    Flow::Continue
                }
                Action::Scrub | Action::Other(_) => Flow::Continue,
            };
            if flow == Flow::Stop {
                return Flow::Stop;
            }
        }
        Flow::Continue
    }

    #[allow(clippy::too_many_arguments)]
    fn enter_anchor(
        &self,
        idx: usize,
        r: RuleRef<'a>,
        m: Match,
        pkt: &Packet,
        opts: EvalOptions<'_>,
        w: &mut Walk<'a>,
        depth: usize,
    ) -> Flow {
        let assumed_inside = opts.assume.is_some_and(|a| {
            self.anchors_around(a)
                .iter()
                .any(|x| std::ptr::eq(*x, r.rule))
        });
        let doubt = match &m {
            // Assuming a rule inside matches means this anchor matched.
            _ if assumed_inside => None,
            Match::No => return Flow::Continue,
            Match::Yes => None,
            // Keep condition-shaped reasons (`if …`) checkable.
            Match::Unknown(why) if why.starts_with("if ") => {
                Some(format!("{why} (anchor rule {})", r.key))
            }
            Match::Unknown(why) => Some(format!("anchor rule {}: {why}", r.key)),
        };
        let targets = self.anchor_targets(idx);
        if targets.is_empty() {
            w.notes.push(format!(
                "anchor rule {} ({}) is entered but its rules are not in the listing (use pfctl -a '*' -vvsr)",
                r.key, r.rule.text
            ));
            return Flow::Continue;
        }
        let before = w.definite;
        for t in targets {
            if self.walk(t, pkt, opts, doubt.as_deref(), w, depth + 1) == Flow::Stop {
                return Flow::Stop;
            }
        }
        // `anchor … quick` stops only when the last matching pass/block rule
        // sits directly in this anchor's ruleset: read in OpenBSD's
        // sys/net/pf.c 1.1218 (2025-07-07), `pf_match_rule()` sets
        // `*ctx->am = ctx->a` (the innermost anchor call) when a pass/block
        // rule matches, and on leaving an anchor returns PF_TEST_QUICK only
        // `if (r->quick == PF_TEST_QUICK && *ctx->am == r)`. A match in a
        // nested anchor names the nested call, so it does not stop here.
        let direct = w
            .decider
            .rule()
            .and_then(|d| self.index_of(d))
            .and_then(|i| self.enclosing_anchor(i))
            == Some(idx);
        if r.rule.quick && w.definite > before && direct {
            return Flow::Stop;
        }
        Flow::Continue
    }
}

fn decide<'a>(r: RuleRef<'a>, m: Match, w: &mut Walk<'a>) -> Flow {
    match m {
        Match::No => Flow::Continue,
        Match::Yes => {
            w.decider = Decider::Rule(r);
            w.definite += 1;
            // Earlier doubtful rules that are not quick would be overridden
            // by this one anyway: only doubtful quick rules still matter.
            w.uncertain.retain(|u| u.rule.rule.quick);
            if r.rule.quick {
                Flow::Stop
            } else {
                Flow::Continue
            }
        }
        Match::Unknown(reason) => {
            w.uncertain.push(Uncertain { rule: r, reason });
            Flow::Continue
        }
    }
}

fn note_match<'a>(r: RuleRef<'a>, m: Match, w: &mut Walk<'a>) {
    match m {
        Match::Yes => w.matched.push(r),
        // A doubtful `match` only matters when it could set routing.
        Match::Unknown(reason) if r.rule.route.is_some() => {
            w.uncertain.push(Uncertain { rule: r, reason })
        }
        _ => {}
    }
}

fn resolve(parent: &str, name: &str) -> String {
    if let Some(abs) = name.strip_prefix('/') {
        abs.to_string()
    } else if parent.is_empty() {
        name.to_string()
    } else {
        format!("{parent}/{name}")
    }
}

fn is_child(parent: &str, path: &str) -> bool {
    parent.is_empty() || path.starts_with(&format!("{parent}/"))
}

fn is_direct_child(parent: &str, path: &str) -> bool {
    let rest = if parent.is_empty() {
        Some(path)
    } else {
        path.strip_prefix(parent).and_then(|r| r.strip_prefix('/'))
    };
    rest.is_some_and(|r| !r.is_empty() && !r.contains('/'))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(text: &str) -> Vec<Rule> {
        crate::parse::rules::parse_rules(text).0
    }

    #[test]
    fn find_gives_the_rule_of_a_key_and_interfaces_skip_groups() {
        let rs = rules(
            "@0 block in on egress all\n@1 pass in on em0 proto tcp to port 443 keep state\n@2 pass out on em1 route-to (em2 192.0.2.1) all\n",
        );
        let set = Ruleset::new(&rs);
        let key = RuleKey {
            anchor: None,
            number: Some(1),
        };
        let found = set.find(key).expect("rule @1");
        assert_eq!(found.key, key);
        assert!(found.rule.keeps_state() && found.rule.action == Action::Pass);
        let d = Decider::Rule(found);
        assert_eq!(d.key(), key);
        assert!(d.same(&Decider::Rule(found)));
        assert!(
            set.find(RuleKey {
                anchor: None,
                number: Some(9)
            })
            .is_none()
        );
        assert_eq!(set.interfaces(), ["em0", "em1", "em2"], "egress is a group");
    }
}
