//! Joins the `(anchor, rule)` numbers that states print to the rules of the
//! listing (`pfctl -a '*' -vvsr`).
//!
//! `rule N` counts within one ruleset; `anchor M` is the `@M` of the
//! anchor-call rule through which pf entered that ruleset, numbered in the
//! caller's ruleset. So a rule inside an anchor is found by first finding the
//! anchor-call rules numbered M, then rule N in the ruleset(s) each one enters.
//! A wildcard (`anchor "ftp-proxy/*"`) enters several child rulesets, so the
//! pair may name several rules: that is reported as ambiguous, never guessed.
//!
//! FreeBSD scrub rules are numbered separately from filter rules: only filter
//! rules can own states, so scrub rules are left out of the index.

use std::collections::HashMap;

use crate::model::{Action, Rule, RuleKey};

/// Maps the keys states print to rule indices of the listing.
#[derive(Debug, Default)]
pub struct RuleIndex {
    by_key: HashMap<RuleKey, Vec<usize>>,
    /// For each listed rule, the key a state created by it would print.
    key_of: Vec<Option<RuleKey>>,
    /// Anchor-call rule indices by their own number (any ruleset).
    calls_by_number: HashMap<u32, Vec<usize>>,
}

/// How one key resolved against the index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    Found(usize),
    Missing,
    Ambiguous(Vec<usize>),
    Default,
}

impl RuleIndex {
    pub fn build(rules: &[Rule]) -> Self {
        let mut index = RuleIndex {
            key_of: vec![None; rules.len()],
            ..RuleIndex::default()
        };
        for (i, rule) in rules.iter().enumerate() {
            if !rule.in_filter_ruleset() {
                continue;
            }
            if let (true, Some(n)) = (rule.anchor_path.is_empty(), rule.number) {
                index.key_of[i] = Some(RuleKey {
                    anchor: None,
                    number: Some(n),
                });
            }
            if let (Action::Anchor, Some(m)) = (&rule.action, rule.number) {
                index.calls_by_number.entry(m).or_default().push(i);
                for child in entered_rules(rules, i) {
                    if let (Some(n), None) = (rules[child].number, index.key_of[child]) {
                        index.key_of[child] = Some(RuleKey {
                            anchor: Some(m),
                            number: Some(n),
                        });
                    }
                }
            }
        }
        for (i, key) in index.key_of.iter().enumerate() {
            if let Some(key) = key {
                index.by_key.entry(*key).or_default().push(i);
            }
        }
        index
    }

    /// The key a state created by listed rule `i` prints, if it can be known.
    pub(crate) fn key_of(&self, i: usize) -> Option<RuleKey> {
        self.key_of.get(i).copied().flatten()
    }

    pub fn lookup(&self, key: RuleKey) -> Lookup {
        if key.number.is_none() {
            return Lookup::Default;
        }
        match self.by_key.get(&key).map(Vec::as_slice) {
            None | Some([]) => Lookup::Missing,
            Some([one]) => Lookup::Found(*one),
            Some(many) => Lookup::Ambiguous(many.to_vec()),
        }
    }

    /// Listed anchor-call rules numbered `m` (to name the anchor of a key
    /// whose rule is missing).
    pub(crate) fn anchor_calls(&self, m: u32) -> &[usize] {
        self.calls_by_number.get(&m).map_or(&[], Vec::as_slice)
    }
}

/// The rules of the ruleset(s) that the anchor-call rule at `call` enters
/// directly (not those of anchors nested deeper).
///
/// With `-a '*'` pfctl prints an anchor's contents right after the call rule
/// (`anchor "x" all {` … `}`), so the contents are the following rules up to
/// the next rule of the caller's own ruleset (or of one of its ancestors).
/// Among them, the entered rulesets are the shallowest ones. When the listing
/// does not show the contents there, the anchor's name is used instead.
fn entered_rules(rules: &[Rule], call: usize) -> Vec<usize> {
    let caller = rules[call].anchor_path.as_str();
    let mut block = Vec::new();
    for (i, rule) in rules.iter().enumerate().skip(call + 1) {
        // Unnumbered anchor lines are the headers pfctl synthesises for the
        // children of wildcard anchors: not rules, and not the block's end.
        if rule.action == Action::Anchor && rule.number.is_none() {
            continue;
        }
        if rule.anchor_path == caller || is_ancestor(&rule.anchor_path, caller) {
            break;
        }
        if rule.number.is_some() && rule.in_filter_ruleset() {
            block.push(i);
        }
    }
    if block.is_empty() {
        return by_name(rules, call);
    }
    let depth = block
        .iter()
        .map(|&i| depth(&rules[i].anchor_path))
        .min()
        .unwrap_or(0);
    block.retain(|&i| depth_of(rules, i) == depth);
    block
}

fn depth_of(rules: &[Rule], i: usize) -> usize {
    depth(&rules[i].anchor_path)
}

/// Fallback when an anchor's contents are not printed after its call rule:
/// the rulesets named `caller/name` (or `name` for `/absolute` names), and for
/// `name/*` their direct children.
fn by_name(rules: &[Rule], call: usize) -> Vec<usize> {
    let Some(name) = rules[call].anchor_name.as_deref() else {
        return Vec::new();
    };
    let caller = rules[call].anchor_path.as_str();
    let (name, wildcard) = match name.strip_suffix("/*") {
        Some(base) => (base, true),
        None if name == "*" => ("", true),
        None => (name, false),
    };
    let target = match name.strip_prefix('/') {
        Some(abs) => abs.to_string(),
        None if caller.is_empty() => name.to_string(),
        None if name.is_empty() => caller.to_string(),
        None => format!("{caller}/{name}"),
    };
    rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.number.is_some() && r.in_filter_ruleset())
        .filter(|(_, r)| {
            if wildcard {
                r.anchor_path
                    .strip_prefix(target.as_str())
                    .and_then(|rest| {
                        if target.is_empty() {
                            Some(rest)
                        } else {
                            rest.strip_prefix('/')
                        }
                    })
                    .is_some_and(|child| !child.is_empty() && !child.contains('/'))
            } else {
                r.anchor_path == target
            }
        })
        .map(|(i, _)| i)
        .collect()
}

fn depth(path: &str) -> usize {
    if path.is_empty() {
        0
    } else {
        path.split('/').count()
    }
}

/// True if `a` is a proper ancestor of `b` (`""` is everyone's ancestor).
fn is_ancestor(a: &str, b: &str) -> bool {
    if a.is_empty() {
        return !b.is_empty();
    }
    b.strip_prefix(a).is_some_and(|rest| rest.starts_with('/'))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::model::StatePolicy;

    /// A rule as the rules parser would produce it, for tests.
    pub(crate) fn rule(path: &str, number: Option<u32>, text: &str) -> Rule {
        let action = if text.starts_with("anchor") {
            Action::Anchor
        } else if text.starts_with("block") {
            Action::Block
        } else {
            Action::Pass
        };
        let state = match action {
            Action::Pass if text.contains("no state") => Some(StatePolicy::No),
            Action::Pass => Some(StatePolicy::Keep),
            _ => None,
        };
        let anchor_name = (action == Action::Anchor)
            .then(|| text.split('"').nth(1).map(Box::from))
            .flatten();
        Rule {
            number,
            anchor_path: path.to_string(),
            anchor_name,
            quick: text.contains("quick"),
            state,
            scrub: text.starts_with("scrub"),
            text: text.to_string(),
            ..Rule::new(action)
        }
    }

    fn key(anchor: Option<u32>, number: u32) -> RuleKey {
        RuleKey {
            anchor,
            number: Some(number),
        }
    }

    #[test]
    fn main_and_anchored_rules() {
        let rules = vec![
            rule("", Some(0), "block return all"),
            rule("", Some(1), "anchor \"relayd\" all"),
            rule("relayd", Some(0), "pass in quick proto tcp to port 80"),
            rule("relayd", Some(1), "pass in quick proto tcp to port 443"),
            rule("", Some(2), "pass all flags S/SA"),
        ];
        let idx = RuleIndex::build(&rules);
        assert_eq!(idx.lookup(key(None, 0)), Lookup::Found(0));
        assert_eq!(idx.lookup(key(None, 2)), Lookup::Found(4));
        assert_eq!(idx.lookup(key(Some(1), 1)), Lookup::Found(3));
        assert_eq!(idx.lookup(key(Some(1), 2)), Lookup::Missing);
        assert_eq!(idx.lookup(key(Some(0), 0)), Lookup::Missing);
        assert_eq!(idx.lookup(key(None, 3)), Lookup::Missing);
        assert_eq!(
            idx.lookup(RuleKey {
                anchor: None,
                number: None
            }),
            Lookup::Default
        );
        assert_eq!(idx.key_of(2), Some(key(Some(1), 0)));
    }

    #[test]
    fn nested_anchor_numbers_count_in_the_caller() {
        // `anchor M` of a nested rule is the inner call's number in "foo".
        let rules = vec![
            rule("", Some(0), "anchor \"foo\" all"),
            rule("foo", Some(0), "pass in on lo0 all"),
            rule("foo", Some(1), "anchor \"bar\" all"),
            rule("foo/bar", Some(0), "pass out all"),
            rule("foo", Some(2), "pass in all"),
            rule("", Some(1), "pass all"),
        ];
        let idx = RuleIndex::build(&rules);
        assert_eq!(idx.lookup(key(Some(0), 0)), Lookup::Found(1));
        assert_eq!(idx.lookup(key(Some(0), 2)), Lookup::Found(4));
        assert_eq!(idx.lookup(key(Some(1), 0)), Lookup::Found(3));
        assert_eq!(idx.lookup(key(None, 1)), Lookup::Found(5));
    }

    #[test]
    fn wildcard_children_are_ambiguous_when_numbers_repeat() {
        let rules = vec![
            rule("", Some(0), "anchor \"ftp-proxy/*\" all"),
            rule("ftp-proxy", None, "anchor \"1.1\" all"),
            rule("ftp-proxy/1.1", Some(0), "pass in quick inet proto tcp"),
            rule("ftp-proxy/1.1", Some(1), "pass out quick inet proto tcp"),
            rule("ftp-proxy", None, "anchor \"2.1\" all"),
            rule("ftp-proxy/2.1", Some(0), "pass in quick inet proto tcp"),
            rule("", Some(1), "pass all"),
        ];
        let idx = RuleIndex::build(&rules);
        assert_eq!(idx.lookup(key(Some(0), 0)), Lookup::Ambiguous(vec![2, 5]));
        assert_eq!(idx.lookup(key(Some(0), 1)), Lookup::Found(3));
        assert_eq!(idx.lookup(key(None, 1)), Lookup::Found(6));
    }

    #[test]
    fn scrub_rules_never_own_states() {
        // FreeBSD: scrub rules first, numbered from 0, then filter rules from 0.
        let rules = vec![
            rule("", Some(0), "scrub in all fragment reassemble"),
            rule("", Some(0), "block drop all"),
            rule("", Some(1), "pass out all keep state"),
        ];
        let idx = RuleIndex::build(&rules);
        assert_eq!(idx.lookup(key(None, 0)), Lookup::Found(1));
        assert_eq!(idx.key_of(0), None);
    }

    #[test]
    fn anchor_contents_found_by_name_when_listed_elsewhere() {
        let rules = vec![
            rule("", Some(0), "anchor \"a\" all"),
            rule("", Some(1), "anchor \"w/*\" all"),
            rule("", Some(2), "pass all"),
            rule("a", Some(0), "pass in all"),
            rule("w/x", Some(0), "pass out all"),
        ];
        let idx = RuleIndex::build(&rules);
        assert_eq!(idx.lookup(key(Some(0), 0)), Lookup::Found(3));
        assert_eq!(idx.lookup(key(Some(1), 0)), Lookup::Found(4));
    }

    #[test]
    fn unnumbered_listing_resolves_nothing() {
        let rules = vec![rule("", None, "pass all flags S/SA")];
        let idx = RuleIndex::build(&rules);
        assert_eq!(idx.lookup(key(None, 0)), Lookup::Missing);
    }

    #[test]
    fn ancestry() {
        assert!(is_ancestor("", "a"));
        assert!(is_ancestor("a", "a/b"));
        assert!(!is_ancestor("a", "ab"));
        assert!(!is_ancestor("a", "a"));
        assert_eq!(depth(""), 0);
        assert_eq!(depth("a/b"), 2);
    }
}
