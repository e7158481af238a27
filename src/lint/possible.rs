//! "May match": rules whose match the listing cannot tell — tables whose
//! contents are not known, interface groups, dynamic interface addresses.
//! Such a rule does not decide a packet in [`crate::pf::evaluate`]; it is kept
//! as uncertain. Here each one is assumed to match, the packet is evaluated
//! again (pf's last match wins and `quick` still hold, so a later
//! non-quick rule takes over only if no later rule matches, and an earlier
//! quick rule stops evaluation), and when that alternative decider keeps
//! state on a path a routing rule decides, the bypass is a *possible* one:
//! it happens exactly when the condition holds, which the admin can check.

use super::flow::{self, Hop};
use super::{Finding, FindingKind, FindingRule, FindingSeverity};
use crate::model::{AddrSpec, Rule, RuleKey};
use crate::pf::evaluate::{Decision, EvalOptions, Ruleset};
use crate::pf::matcher::{self};

/// What must hold for an alternative decision.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    /// The rule assumed to match.
    pub rule: RuleKey,
    /// `table <www> contains 2001:db8::10`, or `rule @9 matches (…)`.
    pub text: String,
    /// The matcher's reason (`if table <www> contains …`, `tagged …`).
    pub reason: String,
    /// Commands that check the condition on the router.
    pub checks: Vec<String>,
}

/// The decision of a hop if a rule the listing cannot decide matches.
#[derive(Debug, Clone)]
pub struct Alternative<'a> {
    pub decision: Decision<'a>,
    pub condition: Condition,
}

/// Alternatives to `d` (the decision of `hop`): one per uncertain rule
/// whose match would change who decides, whether a state is kept, or the
/// routing.
pub fn alternatives<'a>(rs: &Ruleset<'a>, hop: &Hop, d: &Decision<'a>) -> Vec<Alternative<'a>> {
    let mut out = Vec::new();
    for u in &d.uncertain {
        let alt = rs.evaluate_with(
            &hop.packet,
            EvalOptions {
                assume: Some(u.rule.rule),
                ..EvalOptions::default()
            },
        );
        let changed = !alt.decider.same(&d.decider)
            || alt.keeps_state() != d.keeps_state()
            || alt.passes() != d.passes()
            || alt.route() != d.route();
        if !changed {
            continue;
        }
        out.push(Alternative {
            decision: alt,
            condition: Condition {
                rule: u.rule.key,
                text: condition_text(u.rule.key, &u.reason),
                reason: u.reason.clone(),
                checks: checks(rs, u.rule.rule),
            },
        });
    }
    out
}

/// Matcher reasons that name a checkable condition start with `if `.
fn condition_text(key: RuleKey, reason: &str) -> String {
    match reason.strip_prefix("if ") {
        Some(cond) => cond.to_string(),
        None => format!("rule {key} matches ({reason})"),
    }
}

/// How to check what makes `rule` (and the anchors around it) uncertain:
/// `pfctl -t NAME -T show` for tables whose contents are not known,
/// `ifconfig` for interface groups and dynamic addresses.
fn checks(rs: &Ruleset<'_>, rule: &Rule) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |c: String| {
        if !out.contains(&c) {
            out.push(c);
        }
    };
    for r in std::iter::once(rule).chain(rs.anchors_around(rule)) {
        if let Some(i) = &r.iface
            && matcher::is_group_name(&i.name)
        {
            add(format!(
                "ifconfig {} (lists the group's interfaces)",
                i.name
            ));
        }
        for a in r.from.addrs.iter().chain(&r.to.addrs) {
            match a {
                AddrSpec::Table { name, .. }
                    if rs
                        .tables()
                        .and_then(|t| t.get(&r.anchor_path, name))
                        .is_none() =>
                {
                    add(table_check(&r.anchor_path, name));
                }
                AddrSpec::Dynamic { iface, .. } => add(format!("ifconfig {iface}")),
                _ => {}
            }
        }
    }
    out
}

/// `pfctl -t www -T show`, or `pfctl -a 'relayd' -t www -T show` for a
/// table of an anchor.
///
/// Names are quoted for a shell (`source::quote`): the user pastes this, and
/// a table or anchor name may hold `;`, `$(…)` or quotes.
pub(crate) fn table_check(anchor: &str, name: &str) -> String {
    use crate::source::quote::quote;
    let name = quote(name);
    if anchor.is_empty() {
        format!("pfctl -t {name} -T show")
    } else {
        // Always quoted, as pfctl's own examples write anchors.
        let anchor = quote(anchor);
        let anchor = if anchor.starts_with('\'') {
            anchor
        } else {
            format!("'{anchor}'")
        };
        format!("pfctl -a {anchor} -t {name} -T show")
    }
}

/// The decision of each hop as the listing gives it, then its alternatives.
fn outcomes<'x, 'a>(
    d: &'x Decision<'a>,
    alts: &'x [Alternative<'a>],
) -> impl Iterator<Item = (&'x Decision<'a>, Option<&'x Condition>)> {
    std::iter::once((d, None)).chain(alts.iter().map(|a| (&a.decision, Some(&a.condition))))
}

/// Possible bypasses: a stateful decision at one hop whose state catches a
/// hop a routing rule decides, where at least one of the two decisions
/// holds only under a condition. Findings already made (definite ones, or
/// the same possible one) are not repeated.
pub(crate) fn possible_bypasses(
    hops: &[Hop],
    decisions: &[Decision<'_>],
    alts: &[Vec<Alternative<'_>>],
    out: &mut Vec<Finding>,
) {
    for (i, made) in hops.iter().enumerate() {
        for (da, ca) in outcomes(&decisions[i], &alts[i]) {
            if !da.keeps_state() {
                continue;
            }
            for j in flow::caught_hops(hops, i, da) {
                for (db, cb) in outcomes(&decisions[j], &alts[j]) {
                    if ca.is_none() && cb.is_none() {
                        continue;
                    }
                    if flow::skipped_route(made, da, &hops[j], db).is_none() {
                        continue;
                    }
                    let f = finding(made, da, ca, &hops[j], db, cb);
                    if !already(out, &f) {
                        out.push(f);
                    }
                }
            }
        }
    }
}

/// Is the same bypass (same rules, same path) already reported?
fn already(out: &[Finding], f: &Finding) -> bool {
    out.iter().any(|o| {
        matches!(o.kind, FindingKind::Bypass | FindingKind::PossibleBypass)
            && o.stateful_rule.key() == f.stateful_rule.key()
            && o.bypassed_rule.as_ref().map(FindingRule::key)
                == f.bypassed_rule.as_ref().map(FindingRule::key)
            && o.path == f.path
    })
}

fn finding(
    made: &Hop,
    da: &Decision<'_>,
    ca: Option<&Condition>,
    caught: &Hop,
    db: &Decision<'_>,
    cb: Option<&Condition>,
) -> Finding {
    let kind = db
        .route()
        .map_or_else(|| "route-to".into(), |r| r.kind.to_string());
    let stateful = format!(
        "{} keeps state for {}{}",
        da.decider.name(),
        made.flow_text(),
        ca.map(|c| format!(" if {}", c.text)).unwrap_or_default()
    );
    let effect = match cb {
        None => format!(
            "{} would match that state and skip {kind} rule {}",
            caught.label(),
            db.decider.key()
        ),
        Some(c) => format!(
            "if {}, {} are decided by {kind} rule {}, and would match that state and skip it",
            c.text,
            caught.label(),
            db.decider.key()
        ),
    };
    let conds: Vec<&Condition> = ca.into_iter().chain(cb).collect();
    let condition = conds
        .iter()
        .map(|c| c.text.as_str())
        .collect::<Vec<_>>()
        .join(" and ");
    let mut checks: Vec<&str> = Vec::new();
    for c in conds.iter().flat_map(|c| &c.checks) {
        if !checks.contains(&c.as_str()) {
            checks.push(c);
        }
    }
    Finding {
        severity: FindingSeverity::Warning,
        kind: FindingKind::PossibleBypass,
        stateful_rule: FindingRule::from_decider(&da.decider),
        bypassed_rule: Some(FindingRule::from_decider(&db.decider)),
        path: flow::path_text(made.flow_text(), caught.label()),
        states: 0,
        confirmed: false,
        message: format!("{stateful}; {effect}"),
        fix: flow::no_state_fix(&da.decider, made),
        condition: Some(condition),
        check: (!checks.is_empty()).then(|| checks.join("; ")),
    }
}

/// `rule @14 may match if table <www> contains 2001:db8::10: it would then
/// pass, keep state` — the hop note for an uncertain rule.
pub fn note(alt: &Alternative<'_>) -> String {
    let d = &alt.decision;
    let what = if !d.passes() {
        "block".to_string()
    } else {
        let state = if d.keeps_state() {
            "keep state"
        } else {
            "no state"
        };
        match d.route() {
            Some(r) => format!("pass, {state}, {}", flow::route_text(r)),
            None => format!("pass, {state}"),
        }
    };
    let c = &alt.condition;
    let when = if c.reason.starts_with("if ") {
        c.reason.clone()
    } else {
        format!("({})", c.reason)
    };
    format!(
        "rule {} may match {when}; {} would then decide: {what}",
        c.rule,
        d.decider.name()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_check_quotes_hostile_names_and_always_the_anchor() {
        assert_eq!(table_check("", "www"), "pfctl -t www -T show");
        assert_eq!(
            table_check("relayd", "www"),
            "pfctl -a 'relayd' -t www -T show"
        );
        let hostile = table_check("", "x;rm -rf /");
        assert!(hostile.starts_with("pfctl -t '"), "{hostile}");
        assert!(
            !hostile.contains("x;rm -rf / -T"),
            "the name is quoted: {hostile}"
        );
    }
}
