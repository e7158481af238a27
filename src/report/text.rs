//! The human report: a header, a table of the rules to blame, then for each
//! a reason, a few example states and a one-line fix.
//!
//! ```text
//! pfblame report, 2025-10-14 09:30:00 UTC
//! servers: 2001:db8:bbbb:1::10 port 443
//! states:  24 in the table, 4 for the servers
//!
//! RULE  ANCHOR  SERVER STATES  VERDICT  RULE TEXT
//! @14   -       4              bypass   pass out quick on em1 …
//!
//! @14 bypass: keeps state: …
//!   e.g. all tcp … -> …  SYN_SENT:SYN_SENT, out, age 00:00:41
//!   fix: add `no state` to @14 …
//! ```

use std::io::{self, Write};

use super::{
    Options, examples, row_fix, rows_to_show, rule_label, rule_text, severity_text, skipped_line,
    skipped_rules, state_line,
};
use crate::analyze::{Analysis, RuleRow, Verdict, net_text};
use crate::lint::FindingSeverity;
use crate::sanitize::neutralize;

const RED: &str = "\x1b[1;31m";
const GREEN: &str = "\x1b[32m";
const YELLOW: &str = "\x1b[33m";
const BOLD: &str = "\x1b[1m";
const RESET: &str = "\x1b[0m";

struct Paint(bool);

impl Paint {
    fn apply(&self, code: &str, text: &str) -> String {
        if self.0 {
            format!("{code}{text}{RESET}")
        } else {
            text.to_string()
        }
    }
}

pub fn write(a: &Analysis, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    let paint = Paint(opts.color);
    header(a, out)?;
    for w in &a.warnings {
        writeln!(out, "{} {}", paint.apply(YELLOW, "warning:"), neutralize(w))?;
    }
    writeln!(out)?;
    let rows = rows_to_show(a, opts);
    if a.servers.is_empty() {
        writeln!(
            out,
            "No --server given: the rules that own the most states (of any address)."
        )?;
        writeln!(out)?;
        table(a, &rows, &paint, out)?;
        return diagnostics_note(a, out);
    }
    if rows.is_empty() {
        writeln!(
            out,
            "{} no state in the table belongs to the servers.",
            paint.apply(GREEN, "ok:")
        )?;
        return diagnostics_note(a, out);
    }
    table(a, &rows, &paint, out)?;
    for (i, row) in &rows {
        writeln!(out)?;
        details(a, *i, row, opts, &paint, out)?;
    }
    writeln!(out)?;
    summary(a, &paint, out)?;
    diagnostics_note(a, out)
}

fn header(a: &Analysis, out: &mut dyn Write) -> io::Result<()> {
    match a.taken_at {
        Some(t) => writeln!(out, "pfblame report, {}", t.format("%Y-%m-%d %H:%M:%S UTC"))?,
        None => writeln!(out, "pfblame report")?,
    }
    if !a.servers.is_empty() {
        let nets: Vec<String> = a.servers.nets.iter().map(net_text).collect();
        let mut line = nets.join(", ");
        if !a.servers.ports.is_empty() {
            let ports: Vec<String> = a.servers.ports.iter().map(u16::to_string).collect();
            line.push_str(&format!(" port {}", ports.join(", ")));
        }
        writeln!(out, "servers: {line}")?;
    }
    writeln!(out, "states:  {}", super::states_summary(a))?;
    if let Some(d) = &a.dialect {
        writeln!(out, "pf:      {}", neutralize(&d.describe()))?;
    }
    // Only when ifconfig was read (--carp, a recording's carp.txt): one
    // firewall's report stays as it was otherwise.
    if let Some(c) = &a.carp {
        writeln!(out, "carp:    {}", neutralize(&c.summary()))?;
    }
    if a.generation.number > 1 {
        writeln!(
            out,
            "ruleset: generation {} (changed during this run)",
            a.generation.number
        )?;
    }
    Ok(())
}

/// Columns: rule, anchor, states, [new, rate,] verdict, text (last: it is long).
fn table(
    a: &Analysis,
    rows: &[(usize, &RuleRow)],
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let by_server = !a.servers.is_empty();
    let rates = a.samples > 1 && by_server;
    let mut cells: Vec<Vec<String>> = vec![{
        let mut h = vec!["RULE".to_string(), "ANCHOR".to_string()];
        h.push(if by_server { "SERVER STATES" } else { "STATES" }.to_string());
        if rates {
            h.push("NEW".to_string());
            h.push("PER SEC".to_string());
        }
        if by_server {
            h.push("VERDICT".to_string());
        }
        h.push("RULE TEXT".to_string());
        h
    }];
    for (_, row) in rows {
        let mut c = vec![rule_label(row, a.generation.number), anchor_cell(row)];
        c.push(
            if by_server {
                row.server_states
            } else {
                row.all_states
            }
            .to_string(),
        );
        if rates {
            c.push(row.new_states.map_or("-".into(), |n| n.to_string()));
            c.push(row.rate.map_or("-".into(), |r| format!("{r:.2}")));
        }
        if by_server {
            c.push(verdict_text(row.verdict).to_string());
        }
        c.push(rule_text(row));
        cells.push(c);
    }
    let cols = cells[0].len();
    let widths: Vec<usize> = (0..cols)
        .map(|i| {
            cells
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    for (n, row) in cells.iter().enumerate() {
        let mut line = String::new();
        for (i, cell) in row.iter().enumerate() {
            let last = i + 1 == cols;
            let padded = if last {
                cell.clone()
            } else {
                format!("{cell:<w$}  ", w = widths[i])
            };
            let is_verdict = by_server && i + 2 == cols && n > 0;
            line.push_str(&match (n, is_verdict) {
                (0, _) => paint.apply(BOLD, &padded),
                (_, true) => paint.apply(verdict_colour(cell), &padded),
                _ => padded,
            });
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    Ok(())
}

fn anchor_cell(row: &RuleRow) -> String {
    if row.anchor_path.is_empty() {
        "-".to_string()
    } else {
        neutralize(&row.anchor_path).into_owned()
    }
}

pub(crate) fn verdict_text(v: Option<Verdict>) -> &'static str {
    v.map_or("-", Verdict::word)
}

fn verdict_colour(cell: &str) -> &'static str {
    match cell.split_whitespace().next() {
        Some("bypass" | "blocked") => RED,
        Some("unexplained" | "stateful") => YELLOW,
        _ => GREEN,
    }
}

fn details(
    a: &Analysis,
    index: usize,
    row: &RuleRow,
    opts: &Options,
    paint: &Paint,
    out: &mut dyn Write,
) -> io::Result<()> {
    let verdict = verdict_text(row.verdict);
    let colour = verdict_colour(verdict);
    writeln!(
        out,
        "{} {}: {}",
        paint.apply(BOLD, &rule_label(row, a.generation.number)),
        paint.apply(colour, verdict),
        neutralize(&row.reason)
    )?;
    findings(a, index, paint, out)?;
    if !row.verdict.is_some_and(Verdict::is_failure) {
        return Ok(());
    }
    let shown = examples(a, index, opts.examples);
    if !shown.is_empty() {
        writeln!(out, "  states (newest first):")?;
    }
    for s in &shown {
        writeln!(out, "    {}", state_line(s))?;
    }
    let more = row.server_states.saturating_sub(shown.len() as u64);
    if more > 0 {
        writeln!(out, "    … and {more} more")?;
    }
    writeln!(out, "  fix: {}", row_fix(a, index, row))
}

/// The findings about a row, right under its reason: severity and message,
/// then the rule the replies skip.
fn findings(a: &Analysis, index: usize, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    for f in a.findings_for(index) {
        let colour = match f.severity {
            FindingSeverity::Error => RED,
            FindingSeverity::Warning => YELLOW,
        };
        writeln!(
            out,
            "  {} {}",
            paint.apply(colour, &format!("{}:", severity_text(f.severity))),
            neutralize(&f.message)
        )?;
        if let Some(line) = skipped_line(f) {
            writeln!(out, "    {line}")?;
        }
    }
    Ok(())
}

fn summary(a: &Analysis, paint: &Paint, out: &mut dyn Write) -> io::Result<()> {
    let failing: Vec<String> = rows_to_show(a, &Options::default())
        .into_iter()
        .filter(|(_, r)| r.verdict.is_some_and(Verdict::is_failure))
        .map(|(i, r)| {
            let label = rule_label(r, a.generation.number);
            match skipped_rules(a, i).as_slice() {
                [] => label,
                skipped => format!("{label} (bypasses {})", skipped.join(", ")),
            }
        })
        .collect();
    if failing.is_empty() {
        writeln!(
            out,
            "{} no rule's states misroute or drop the servers' replies.",
            paint.apply(GREEN, "ok:")
        )
    } else {
        writeln!(
            out,
            "{} replies misrouted or dropped by the states of {} rule{}: {}",
            paint.apply(RED, "bypass:"),
            failing.len(),
            if failing.len() == 1 { "" } else { "s" },
            failing.join(", ")
        )
    }
}

fn diagnostics_note(a: &Analysis, out: &mut dyn Write) -> io::Result<()> {
    if !a.diagnostics.is_empty() {
        writeln!(
            out,
            "note: {} line{} of pfctl output could not be fully read (details on stderr)",
            a.diagnostics.len(),
            if a.diagnostics.len() == 1 { "" } else { "s" }
        )?;
    }
    Ok(())
}
