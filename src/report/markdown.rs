//! `report --format markdown`: for pasting into a forum post or an issue.
//! Table cells escape `|`; pfctl text sits in code spans or blocks.

use std::io::{self, Write};

use super::text::verdict_text;
use super::{
    Options, examples, row_fix, rows_to_show, rule_label, rule_text, severity_text, state_line,
};
use crate::analyze::{Analysis, RuleRow, Verdict, net_text};
use crate::sanitize::neutralize;

pub fn write(a: &Analysis, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    write_titled(a, "### pfblame report", opts, out)
}

/// [`write`] under the heading `title` (a fleet's host sections sit one
/// level below the fleet's own heading).
pub(super) fn write_titled(
    a: &Analysis,
    title: &str,
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "{title}")?;
    writeln!(out)?;
    if let Some(t) = a.taken_at {
        writeln!(out, "- taken at: {}", t.format("%Y-%m-%d %H:%M:%S UTC"))?;
    }
    if !a.servers.is_empty() {
        let nets: Vec<String> = a.servers.nets.iter().map(|n| code(&net_text(n))).collect();
        write!(out, "- servers: {}", nets.join(", "))?;
        if !a.servers.ports.is_empty() {
            let ports: Vec<String> = a.servers.ports.iter().map(u16::to_string).collect();
            write!(out, " port {}", ports.join(", "))?;
        }
        writeln!(out)?;
    }
    writeln!(out, "- states: {}", super::states_summary(a))?;
    if let Some(c) = &a.carp {
        writeln!(out, "- CARP: {}", inline(&c.summary()))?;
    }
    if a.generation.number > 1 {
        writeln!(
            out,
            "- ruleset: generation {} (changed during this run)",
            a.generation.number
        )?;
    }
    for w in &a.warnings {
        writeln!(out, "- **warning:** {}", inline(w))?;
    }
    if !a.diagnostics.is_empty() {
        writeln!(
            out,
            "- {} line(s) of pfctl output could not be fully read",
            a.diagnostics.len()
        )?;
    }
    writeln!(out)?;

    let rows = rows_to_show(a, opts);
    if a.servers.is_empty() {
        writeln!(
            out,
            "No `--server` given: the rules that own the most states."
        )?;
        writeln!(out)?;
    } else if rows.is_empty() {
        writeln!(out, "No state in the table belongs to the servers.")?;
        return Ok(());
    }
    table(a, &rows, out)?;
    if a.servers.is_empty() {
        return Ok(());
    }
    for (i, row) in &rows {
        writeln!(out)?;
        details(a, *i, row, opts, out)?;
    }
    Ok(())
}

fn table(a: &Analysis, rows: &[(usize, &RuleRow)], out: &mut dyn Write) -> io::Result<()> {
    let by_server = !a.servers.is_empty();
    let rates = by_server && a.samples > 1;
    let mut head = vec![
        "rule",
        "anchor",
        if by_server { "server states" } else { "states" },
    ];
    if rates {
        head.extend(["new", "per second"]);
    }
    if by_server {
        head.push("verdict");
    }
    head.push("rule text");
    writeln!(out, "| {} |", head.join(" | "))?;
    writeln!(out, "|{}", "---|".repeat(head.len()))?;
    for (_, row) in rows {
        let mut cells = vec![
            code(&rule_label(row, a.generation.number)),
            if row.anchor_path.is_empty() {
                String::new()
            } else {
                code(&row.anchor_path)
            },
            if by_server {
                row.server_states
            } else {
                row.all_states
            }
            .to_string(),
        ];
        if rates {
            cells.push(row.new_states.map_or("-".into(), |n| n.to_string()));
            cells.push(row.rate.map_or("-".into(), |r| format!("{r:.2}")));
        }
        if by_server {
            cells.push(verdict_cell(row.verdict));
        }
        cells.push(code(&rule_text(row)));
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    Ok(())
}

fn details(
    a: &Analysis,
    index: usize,
    row: &RuleRow,
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(
        out,
        "**{}** {}: {}",
        code(&rule_label(row, a.generation.number)),
        verdict_text(row.verdict),
        inline(&row.reason)
    )?;
    findings(a, index, out)?;
    if !row.verdict.is_some_and(Verdict::is_failure) {
        return Ok(());
    }
    let states = examples(a, index, opts.examples);
    if !states.is_empty() {
        writeln!(out)?;
        writeln!(out, "```")?;
        for s in &states {
            writeln!(out, "{}", state_line(s).replace("```", "'''"))?;
        }
        writeln!(out, "```")?;
    }
    writeln!(out)?;
    writeln!(out, "Fix: {}", inline(&row_fix(a, index, row)))
}

/// The findings about a row as a list under its reason.
fn findings(a: &Analysis, index: usize, out: &mut dyn Write) -> io::Result<()> {
    let mut any = false;
    for f in a.findings_for(index) {
        if !any {
            writeln!(out)?;
            any = true;
        }
        writeln!(
            out,
            "- **{}:** {}",
            severity_text(f.severity),
            inline(&f.message)
        )?;
        if let Some(b) = &f.bypassed_rule {
            writeln!(
                out,
                "  - skips {}: {}",
                code(&b.key().to_string()),
                code(&b.text)
            )?;
        }
    }
    Ok(())
}

/// A verdict in a table cell: failures in bold.
pub(super) fn verdict_cell(v: Option<Verdict>) -> String {
    match v {
        Some(v) if v.is_failure() => format!("**{}**", v.word()),
        v => verdict_text(v).to_string(),
    }
}

/// A code span that cannot be broken by the text (backticks, `|` in tables).
pub(super) fn code(text: &str) -> String {
    let t = neutralize(text).replace('`', "'").replace('|', "\\|");
    format!("`{t}`")
}

/// Prose with pfctl text inside: keep our own backticks, escape table pipes.
pub(super) fn inline(text: &str) -> String {
    neutralize(text).replace('|', "\\|")
}
