//! Output of `pfblame lint`: text, JSON and markdown. Also
//! [`finding_lines`], for the report and the TUI details pane.

use std::fmt::Write as _;

use super::predict::LintReport;
use super::{Finding, FindingKind, FindingSeverity};
use crate::sanitize;

/// The lines of one finding: `error: message`, `  path: …`, `  fix: …`;
/// a possible bypass says so first and adds `  if: …` and `  check: …`.
/// Control characters of rule text are neutralised.
pub(crate) fn finding_lines(f: &Finding) -> Vec<String> {
    let sev = severity_text(f.severity);
    let what = if f.kind == FindingKind::PossibleBypass {
        "possible bypass: "
    } else {
        ""
    };
    let mut lines = vec![format!("{sev}: {what}{}", clean(&f.message))];
    if let Some(c) = &f.condition {
        lines.push(format!("  if: {}", clean(c)));
    }
    if let Some(c) = &f.check {
        lines.push(format!("  check: {}", clean(c)));
    }
    lines.push(format!("  path: {}", clean(&f.path)));
    lines.push(format!("  fix: {}", clean(&f.fix)));
    lines
}

fn severity_text(s: FindingSeverity) -> &'static str {
    match s {
        FindingSeverity::Error => "error",
        FindingSeverity::Warning => "warning",
    }
}

fn clean(s: &str) -> String {
    sanitize::neutralize(s).into_owned()
}

/// Human-readable lint report.
pub fn text(r: &LintReport) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "pf: {}", clean(&r.dialect_source.describe()));
    for p in &r.paths {
        let _ = writeln!(out, "path: {}", clean(&p.description));
        let _ = writeln!(
            out,
            "  routing rule {}: {}",
            p.routing_rule.key(),
            clean(&p.routing_rule.text)
        );
        for h in &p.hops {
            let _ = writeln!(
                out,
                "  {:<22} {} by {}{}{}",
                // The hop names an interface: pfctl's text.
                clean(&h.hop.to_string()),
                match h.action.as_str() {
                    "pass" => "passed",
                    "block" => "blocked",
                    other => other,
                },
                decider_name(&h.decided_by),
                if h.keeps_state {
                    ", keeps state"
                } else {
                    ", no state"
                },
                h.route
                    .as_ref()
                    .map(|r| format!(", {}", clean(r)))
                    .unwrap_or_default()
            );
            for u in h.uncertain.iter().chain(&h.notes) {
                let _ = writeln!(out, "    note: {}", clean(u));
            }
        }
        let _ = writeln!(out, "  {}", clean(&reply_path_line(&p.reply_path)));
        out.push('\n');
    }
    for n in &r.notes {
        let _ = writeln!(out, "note: {}", clean(n));
    }
    if r.findings.is_empty() {
        out.push_str("no stateful rule creates states for the server on these paths\n");
    }
    for f in &r.findings {
        for l in finding_lines(f) {
            out.push_str(&l);
            out.push('\n');
        }
    }
    if !r.verdicts.is_empty() {
        out.push('\n');
        for v in &r.verdicts {
            let _ = writeln!(
                out,
                "{} {}: {}",
                v.rule.key(),
                v.verdict.word(),
                clean(&v.reason)
            );
        }
    }
    out
}

/// `replies leave on gif0 (intended: gif0)`, or says where they go instead.
pub(crate) fn reply_path_line(p: &crate::pf::path::ReplyPath) -> String {
    let exit = p
        .egress
        .as_deref()
        .map_or("by the routing table".to_string(), |e| format!("on {e}"));
    match (&p.intended, p.blocked, p.misrouted()) {
        (_, true, _) => "the connection is blocked on this path".to_string(),
        (None, _, _) => format!("replies leave {exit} (no routing asked for them)"),
        (Some(i), _, true) => format!("replies leave {exit}, not on {i}: misrouted"),
        (Some(i), _, false) => format!("replies leave {exit} (intended: {i})"),
    }
}

fn decider_name(r: &super::FindingRule) -> String {
    match r.number {
        None => "default rule".into(),
        Some(_) => format!("{}", r.key()),
    }
}

/// Bumped when a field of `lint --format json` changes meaning or
/// disappears (additions keep it); `docs/schema/lint.json` describes it.
pub(crate) const SCHEMA_VERSION: u32 = 1;

/// The lint report as one JSON object (`schema_version`, `servers`,
/// `paths`, `findings`, `notes`).
pub fn json(r: &LintReport) -> serde_json::Result<String> {
    #[derive(serde::Serialize)]
    struct Versioned<'a> {
        schema_version: u32,
        #[serde(flatten)]
        report: &'a LintReport,
    }
    serde_json::to_string_pretty(&Versioned {
        schema_version: SCHEMA_VERSION,
        report: r,
    })
}

/// Markdown: a table of findings, then the paths.
pub fn markdown(r: &LintReport) -> String {
    let mut out = String::from("# pfblame lint\n\n");
    if r.findings.is_empty() {
        out.push_str("No stateful rule creates states for the server on these paths.\n\n");
    } else {
        out.push_str("| severity | rule | skips | message | fix |\n|---|---|---|---|---|\n");
        for f in &r.findings {
            let possible = f.kind == FindingKind::PossibleBypass;
            let check = f
                .check
                .as_deref()
                .map(|c| format!(" (check first: `{}`)", md_code(c)))
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "| {}{} | `{}` | {} | {} | {}{check} |",
                severity_text(f.severity),
                if possible { " (possible)" } else { "" },
                f.stateful_rule.key(),
                f.bypassed_rule
                    .as_ref()
                    .map(|b| format!("`{}`", b.key()))
                    .unwrap_or_else(|| "—".into()),
                md_cell(&f.message),
                md_cell(&f.fix)
            );
        }
        out.push('\n');
    }
    for p in &r.paths {
        let _ = writeln!(out, "## {}\n", md_cell(&p.description));
        out.push_str("| hop | action | decided by | state | route |\n|---|---|---|---|---|\n");
        for h in &p.hops {
            let _ = writeln!(
                out,
                "| {} | {} | `{}` | {} | {} |",
                md_cell(&h.hop.to_string()),
                md_cell(&h.action.to_string()),
                decider_name(&h.decided_by),
                if h.keeps_state { "keeps" } else { "no" },
                h.route
                    .as_deref()
                    .map(md_cell)
                    .unwrap_or_else(|| "—".into())
            );
        }
        out.push('\n');
    }
    for n in &r.notes {
        let _ = writeln!(out, "- note: {}", md_cell(n));
    }
    out
}

/// Text inside a code span of a table cell: no backticks, no pipes.
fn md_code(s: &str) -> String {
    md_cell(s).replace('`', "'")
}

/// A table cell: pipes escaped, and `<` outside code spans written as
/// `&lt;` so `table <www>` is not taken for an HTML tag.
fn md_cell(s: &str) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for c in clean(s).chars() {
        match c {
            '`' => {
                in_code = !in_code;
                out.push(c);
            }
            '<' if !in_code => out.push_str("&lt;"),
            '|' => out.push_str("\\|"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_cells_escape_pipes_and_tags_outside_code() {
        assert_eq!(md_cell("table <www> | `<x>`"), "table &lt;www> \\| `<x>`");
        assert_eq!(md_code("a`b|c"), "a'b\\|c");
    }

    #[test]
    fn severities_read_as_words() {
        assert_eq!(severity_text(FindingSeverity::Error), "error");
        assert_eq!(severity_text(FindingSeverity::Warning), "warning");
    }
}
