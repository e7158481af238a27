//! `report` over a fleet (issue #17): one line per host (or its failure),
//! the fleet's findings, the merged rules with their counts per host, then
//! each host's own report. JSON: the merged report at the top level (the
//! fields of a one-host report, with `rules` merged) and a `hosts` array
//! holding each host's own report.

use std::io::{self, Write};

use serde::Serialize;

use super::{Format, Options, json};
use crate::analyze::fleet::{FleetAnalysis, FleetFinding, FleetRow};
use crate::analyze::{Analysis, Verdict, net_text};
use crate::lint::Finding;
use crate::model::Diagnostic;
use crate::model::carp::carp_line;
use crate::sanitize::neutralize;

/// One host as the report shows it.
#[derive(Debug, Clone, Copy)]
pub struct HostReport<'a> {
    pub name: &'a str,
    /// The analysis, or the error that stands for it.
    pub analysis: Result<&'a Analysis, &'a str>,
    pub checksum: Option<&'a str>,
    pub poll_seconds: f64,
    /// Live pfctl: the text report shows the poll's duration (a replay's
    /// is noise).
    pub live: bool,
}

/// Writes the fleet report in `format` (text, markdown or JSON).
pub fn write(
    hosts: &[HostReport<'_>],
    fleet: &FleetAnalysis,
    format: Format,
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut *out, &build(hosts, fleet, opts))?;
            writeln!(out)
        }
        Format::Markdown => write_markdown(hosts, fleet, opts, out),
        _ => write_text(hosts, fleet, opts, out),
    }
}

/// `3 hosts (1 failed to poll), 4 distinct server states`.
fn headline(hosts: &[HostReport<'_>], fleet: &FleetAnalysis) -> String {
    let failed = hosts.iter().filter(|h| h.analysis.is_err()).count();
    format!(
        "{} host{}{}, {} distinct server state{}",
        hosts.len(),
        if hosts.len() == 1 { "" } else { "s" },
        if failed > 0 {
            format!(" ({failed} failed to poll)")
        } else {
            String::new()
        },
        fleet.server_states,
        if fleet.server_states == 1 { "" } else { "s" }
    )
}

fn verdict_word(v: Option<Verdict>) -> String {
    v.map_or_else(|| "-".to_string(), |v| v.word().to_ascii_uppercase())
}

fn host_line(h: &HostReport<'_>, fleet: &FleetAnalysis) -> String {
    match h.analysis {
        Err(why) => format!(
            "host {}: POLL FAILED{}: {}",
            neutralize(h.name),
            poll_time(h),
            neutralize(why)
        ),
        Ok(a) => {
            let summary = fleet.hosts.iter().find(|s| s.name == h.name);
            format!(
                "host {}: {}, Hostid {}, Checksum {}, {} states, {} server states ({} imported by pfsync){}",
                neutralize(h.name),
                neutralize(&carp_line(a.carp.as_ref())),
                summary
                    .and_then(|s| s.hostid.as_deref())
                    .unwrap_or("unknown"),
                neutralize(h.checksum.unwrap_or("unknown")),
                a.total_states,
                a.server_states,
                summary.map_or(0, |s| s.imported_states),
                poll_time(h)
            )
        }
    }
}

/// `, poll 0.42 s` for a live host.
fn poll_time(h: &HostReport<'_>) -> String {
    poll_seconds(h).map_or_else(String::new, |t| format!(", poll {t}"))
}

/// `0.42 s` for a live host; nothing for a replay.
fn poll_seconds(h: &HostReport<'_>) -> Option<String> {
    h.live.then(|| format!("{:.2} s", h.poll_seconds))
}

/// `@2 on fw-a, fw-b` / `anchor admin @0`: the rule and where it is listed.
fn row_label(row: &FleetRow) -> String {
    let text = row.text.as_deref().map_or_else(
        || "(no rule: pf's default rule or a number the listing lacks)".to_string(),
        |t| neutralize(t).into_owned(),
    );
    if row.anchor_path.is_empty() {
        text
    } else {
        format!("anchor {}: {text}", neutralize(&row.anchor_path))
    }
}

fn counts(row: &FleetRow) -> String {
    host_counts(row, |h| neutralize(h).into_owned(), |k| k.to_string())
}

/// `fw-a @2: 2 states; fw-b not listed: …`, with the host names and rule
/// keys written by `name` and `key` (plain, or as markdown code).
fn host_counts(
    row: &FleetRow,
    name: impl Fn(&str) -> String,
    key: impl Fn(&str) -> String,
) -> String {
    row.hosts
        .iter()
        .map(|h| {
            let key = h
                .key
                .map_or_else(|| "not listed".to_string(), |k| key(&k.to_string()));
            let shown = if h.without_rule > 0 {
                format!(" ({} shown there with no rule)", h.without_rule)
            } else {
                String::new()
            };
            format!(
                "{} {key}: {} state{}{shown}",
                name(&h.host),
                h.server_states,
                if h.server_states == 1 { "" } else { "s" }
            )
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn write_text(
    hosts: &[HostReport<'_>],
    fleet: &FleetAnalysis,
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "pfblame fleet report: {}", headline(hosts, fleet))?;
    for h in hosts {
        writeln!(out, "  {}", host_line(h, fleet))?;
    }
    if !fleet.findings.is_empty() {
        writeln!(out, "\nFleet findings:")?;
        for f in &fleet.findings {
            writeln!(out, "  {}: {}", f.kind, neutralize(&f.message))?;
        }
    }
    writeln!(out, "\nRules (merged over the hosts):")?;
    if fleet.rows.is_empty() {
        writeln!(out, "  no server states on any host")?;
    }
    for row in &fleet.rows {
        writeln!(
            out,
            "  {:<11} {}",
            verdict_word(row.verdict),
            row_label(row)
        )?;
        writeln!(
            out,
            "              {} distinct state{}, {}{}",
            row.server_states,
            if row.server_states == 1 { "" } else { "s" },
            counts(row),
            imported_note(row)
        )?;
        if let Some(host) = &row.judged_on {
            writeln!(
                out,
                "              judged on {}: {}",
                neutralize(host),
                neutralize(&row.reason)
            )?;
        }
    }
    for h in hosts {
        writeln!(out, "\n== host {} ==", neutralize(h.name))?;
        match h.analysis {
            Ok(a) => super::text::write(a, opts, out)?,
            Err(why) => writeln!(out, "POLL FAILED: {}", neutralize(why))?,
        }
    }
    Ok(())
}

/// ` (2 copies imported by pfsync)`, or nothing.
fn imported_note(row: &FleetRow) -> String {
    if row.imported == 0 {
        return String::new();
    }
    let copies = if row.imported == 1 { "copy" } else { "copies" };
    format!(" ({} {copies} imported by pfsync)", row.imported)
}

/// `--format markdown`: the same parts as the text report, as markdown
/// for an issue or a forum post: a table of the hosts, the fleet's
/// findings as a list, a table of the merged rules with the reasons below
/// it, then each host's own markdown report under a heading of its own.
fn write_markdown(
    hosts: &[HostReport<'_>],
    fleet: &FleetAnalysis,
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    use super::markdown::{code, inline, verdict_cell};
    writeln!(out, "### pfblame fleet report")?;
    writeln!(out)?;
    writeln!(out, "{}", headline(hosts, fleet))?;
    writeln!(out)?;
    writeln!(
        out,
        "| host | CARP | Hostid | Checksum | states | server states | imported by pfsync | poll |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|---|")?;
    for h in hosts {
        let summary = fleet.hosts.iter().find(|s| s.name == h.name);
        let cells = match h.analysis {
            Err(why) => [
                code(h.name),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                String::new(),
                match poll_seconds(h) {
                    Some(t) => format!("**failed** after {t}: {}", inline(why)),
                    None => format!("**failed:** {}", inline(why)),
                },
            ],
            Ok(a) => [
                code(h.name),
                inline(
                    &a.carp
                        .as_ref()
                        .map_or_else(|| "unknown".to_string(), |c| c.summary()),
                ),
                code(
                    summary
                        .and_then(|s| s.hostid.as_deref())
                        .unwrap_or("unknown"),
                ),
                code(h.checksum.unwrap_or("unknown")),
                a.total_states.to_string(),
                a.server_states.to_string(),
                summary.map_or(0, |s| s.imported_states).to_string(),
                poll_seconds(h).unwrap_or_default(),
            ],
        };
        writeln!(out, "| {} |", cells.join(" | "))?;
    }
    if !fleet.findings.is_empty() {
        writeln!(out)?;
        writeln!(out, "#### Fleet findings")?;
        writeln!(out)?;
        for f in &fleet.findings {
            writeln!(out, "- **{}:** {}", f.kind, inline(&f.message))?;
        }
    }
    writeln!(out)?;
    writeln!(out, "#### Rules (merged over the hosts)")?;
    writeln!(out)?;
    if fleet.rows.is_empty() {
        writeln!(out, "No server states on any host.")?;
    } else {
        writeln!(
            out,
            "| verdict | anchor | distinct states | per host | rule text |"
        )?;
        writeln!(out, "|---|---|---|---|---|")?;
        for row in &fleet.rows {
            let anchor = if row.anchor_path.is_empty() {
                String::new()
            } else {
                code(&row.anchor_path)
            };
            let text = row.text.as_deref().map_or_else(
                || "(no rule: pf's default rule or a number the listing lacks)".to_string(),
                code,
            );
            // Host names and keys hold no `|` (checked when named).
            let per_host = host_counts(row, code, code);
            writeln!(
                out,
                "| {} | {anchor} | {} | {per_host}{} | {text} |",
                verdict_cell(row.verdict),
                row.server_states,
                imported_note(row)
            )?;
        }
        writeln!(out)?;
        // Why: the verdict's reason, from the host it was judged on.
        for row in &fleet.rows {
            let Some(host) = row.judged_on.as_deref() else {
                continue;
            };
            let key = row.key_text_on(host);
            writeln!(
                out,
                "- {} {}: {}",
                code(host),
                code(&key),
                inline(&row.reason)
            )?;
        }
    }
    for h in hosts {
        writeln!(out)?;
        let title = format!("#### host {}", code(h.name));
        match h.analysis {
            Ok(a) => super::markdown::write_titled(a, &title, opts, out)?,
            Err(why) => {
                writeln!(out, "{title}")?;
                writeln!(out)?;
                writeln!(out, "**poll failed:** {}", inline(why))?;
            }
        }
    }
    Ok(())
}

/// A merged rule in the fields of a one-host report's rule, plus `hosts`.
#[derive(Debug, Serialize)]
struct FleetRuleDto<'a> {
    anchor: Option<u32>,
    anchor_path: &'a str,
    number: Option<u32>,
    text: Option<&'a str>,
    server_states: u64,
    verdict: Option<Verdict>,
    reason: &'a str,
    /// Where it is listed and where its states live.
    hosts: Vec<FleetHostRuleDto<'a>>,
    imported: u64,
    judged_on: Option<&'a str>,
}

#[derive(Debug, Serialize)]
struct FleetHostRuleDto<'a> {
    host: &'a str,
    anchor: Option<u32>,
    number: Option<u32>,
    listed: bool,
    server_states: u64,
    without_rule: u64,
}

#[derive(Debug, Serialize)]
struct HostDto<'a> {
    name: &'a str,
    ok: bool,
    error: Option<&'a str>,
    hostid: Option<&'a str>,
    checksum: Option<&'a str>,
    poll_seconds: f64,
    total_states: u64,
    server_states: u64,
    imported_states: u64,
    /// The CARP status from ifconfig; null when unknown (no `--carp`, or
    /// ifconfig failed or printed something else).
    carp: Option<json::CarpDto<'a>>,
    /// The host's own report (the one-host JSON), null when the poll failed.
    report: Option<json::Report<'a>>,
}

#[derive(Debug, Serialize)]
struct FleetReportDto<'a> {
    schema_version: u32,
    taken_at: Option<String>,
    servers: Vec<String>,
    ports: &'a [u16],
    /// Every host's state count added up (synced states count on each).
    total_states: u64,
    /// Distinct server states over the fleet.
    server_states: u64,
    rules: Vec<FleetRuleDto<'a>>,
    misrouted: bool,
    warnings: Vec<String>,
    diagnostics: Vec<&'a Diagnostic>,
    findings: Vec<&'a Finding>,
    fleet_findings: &'a [FleetFinding],
    hosts: Vec<HostDto<'a>>,
}

fn build<'a>(
    hosts: &[HostReport<'a>],
    fleet: &'a FleetAnalysis,
    opts: &Options,
) -> FleetReportDto<'a> {
    let answered: Vec<&'a Analysis> = hosts.iter().filter_map(|h| h.analysis.ok()).collect();
    let first = answered.first();
    let rules = fleet
        .rows
        .iter()
        .map(|r| {
            let key = r.hosts.iter().find_map(|h| h.key);
            FleetRuleDto {
                anchor: key.and_then(|k| k.anchor),
                anchor_path: &r.anchor_path,
                number: key.and_then(|k| k.number),
                text: r.text.as_deref(),
                server_states: r.server_states,
                verdict: r.verdict,
                reason: &r.reason,
                hosts: r
                    .hosts
                    .iter()
                    .map(|h| FleetHostRuleDto {
                        host: &h.host,
                        anchor: h.key.and_then(|k| k.anchor),
                        number: h.key.and_then(|k| k.number),
                        listed: h.key.is_some(),
                        server_states: h.server_states,
                        without_rule: h.without_rule,
                    })
                    .collect(),
                imported: r.imported,
                judged_on: r.judged_on.as_deref(),
            }
        })
        .collect();
    let host_dtos = hosts
        .iter()
        .map(|h| {
            let summary = fleet.hosts.iter().find(|s| s.name == h.name);
            HostDto {
                name: h.name,
                ok: h.analysis.is_ok(),
                error: h.analysis.err(),
                hostid: summary.and_then(|s| s.hostid.as_deref()),
                checksum: h.checksum,
                poll_seconds: h.poll_seconds,
                total_states: h.analysis.map_or(0, |a| a.total_states),
                server_states: h.analysis.map_or(0, |a| a.server_states),
                imported_states: summary.map_or(0, |s| s.imported_states),
                carp: h
                    .analysis
                    .ok()
                    .and_then(|a| a.carp.as_ref())
                    .map(json::carp_dto),
                report: h.analysis.ok().map(|a| json::build(a, opts)),
            }
        })
        .collect();
    let mut warnings: Vec<String> = Vec::new();
    for h in hosts {
        match h.analysis {
            Ok(a) => warnings.extend(a.warnings.iter().map(|w| format!("{}: {w}", h.name))),
            Err(why) => warnings.push(format!("{}: the poll failed: {why}", h.name)),
        }
    }
    FleetReportDto {
        schema_version: json::SCHEMA_VERSION,
        taken_at: answered
            .iter()
            .filter_map(|a| a.taken_at)
            .max()
            .map(|t| t.to_rfc3339()),
        servers: first
            .map(|a| a.servers.nets.iter().map(net_text).collect())
            .unwrap_or_default(),
        ports: first.map_or(&[][..], |a| &a.servers.ports[..]),
        total_states: answered.iter().map(|a| a.total_states).sum(),
        server_states: fleet.server_states,
        rules,
        misrouted: fleet.fails(false) || answered.iter().any(|a| a.has_failures()),
        warnings,
        diagnostics: answered.iter().flat_map(|a| a.diagnostics.iter()).collect(),
        findings: answered.iter().flat_map(|a| a.findings.iter()).collect(),
        fleet_findings: &fleet.findings,
        hosts: host_dtos,
    }
}
