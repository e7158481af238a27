//! `report --format openmetrics`: the verdicts as metrics, for
//! node_exporter's textfile collector or a Prometheus scrape (the
//! OpenMetrics 1.0 text format: `# TYPE`, `# HELP`, `# UNIT` per family,
//! then its samples, and `# EOF` last).
//!
//! Every family carries a `host` label (`localhost`, the ssh host, or
//! `recorded`: see [`Scrape`]), so the files of several routers can be
//! scraped side by side. Label values that came from pfctl (anchor names)
//! or from the command line (the host) are first neutralised
//! ([`crate::sanitize::neutralize`]: no control or bidi characters), then
//! escaped as the format asks (`\\`, `\"`, `\n`).

use std::io::{self, Write};

use crate::analyze::{Analysis, RuleRow, Verdict};
use crate::sanitize::neutralize;

use super::rule_label;

/// What the metrics say about where they come from, besides the analysis.
#[derive(Debug, Clone, PartialEq)]
pub struct Scrape {
    /// The `host` label: `localhost` for a local pfctl, the ssh host, or
    /// `recorded` for `--from`.
    pub host: String,
    /// Seconds the last poll took (wall time of fetching and parsing);
    /// `None` leaves the family out.
    pub poll_seconds: Option<f64>,
}

impl Default for Scrape {
    fn default() -> Self {
        Scrape {
            host: "localhost".to_string(),
            poll_seconds: None,
        }
    }
}

/// A gauge with one sample per host: name, help, value.
type HostGauge = (&'static str, &'static str, fn(&Analysis) -> u64);

/// Writes the metrics of `a`, ending with `# EOF`.
pub fn write(a: &Analysis, scrape: &Scrape, out: &mut dyn Write) -> io::Result<()> {
    write_hosts(&[(a, scrape)], &[], out)
}

/// The metrics of several hosts in one document (a fleet, issue #17):
/// each family once, with one sample set per host (`host` label), as
/// OpenMetrics wants a family's samples together. `failed` names the hosts
/// whose poll failed: `pfblame_poll_failed{host} 1`, and nothing else
/// about them.
pub(crate) fn write_hosts(
    hosts: &[(&Analysis, &Scrape)],
    failed: &[&str],
    out: &mut dyn Write,
) -> io::Result<()> {
    let label = |s: &Scrape| format!("host=\"{}\"", label_value(&s.host));

    family(
        out,
        "pfblame",
        "info",
        "pfblame's version and the pf dialect the verdicts hold for.",
        None,
    )?;
    for (a, s) in hosts {
        let dialect = a
            .dialect
            .as_ref()
            .map_or_else(|| "unknown".to_string(), |d| d.dialect.to_string());
        writeln!(
            out,
            "pfblame_info{{{},version=\"{}\",dialect=\"{}\"}} 1",
            label(s),
            label_value(env!("CARGO_PKG_VERSION")),
            label_value(&dialect)
        )?;
    }

    family(
        out,
        "pfblame_rule_server_states",
        "gauge",
        "Server states created by one rule, with the rule's verdict.",
        None,
    )?;
    for (a, s) in hosts {
        for row in a.rows.iter().filter(|r| r.server_states > 0) {
            let Some(verdict) = row.verdict else { continue };
            writeln!(
                out,
                "pfblame_rule_server_states{{{},anchor=\"{}\",rule=\"{}\",verdict=\"{}\"}} {}",
                label(s),
                label_value(&row.anchor_path),
                label_value(&rule_label(row, a.generation.number)),
                verdict.word(),
                row.server_states
            )?;
        }
    }

    family(
        out,
        "pfblame_rules",
        "gauge",
        "Rules with server states, by verdict.",
        None,
    )?;
    for (a, s) in hosts {
        for v in Verdict::ALL {
            writeln!(
                out,
                "pfblame_rules{{{},verdict=\"{}\"}} {}",
                label(s),
                v.word(),
                rules_with(a, v)
            )?;
        }
    }

    let per_host: [HostGauge; 4] = [
        (
            "pfblame_harmful_rules",
            "Rules whose states misroute or drop the servers' replies (bypass or blocked).",
            |a| harmful_rules(a) as u64,
        ),
        (
            "pfblame_server_states",
            "States of the server addresses (and ports) in the state table.",
            |a| a.server_states,
        ),
        ("pfblame_states", "States in the state table.", |a| {
            a.total_states
        }),
        (
            "pfblame_parse_errors",
            "Lines of pfctl output that could not be read (error diagnostics).",
            |a| parse_errors(a) as u64,
        ),
    ];
    for (name, help, value) in per_host {
        family(out, name, "gauge", help, None)?;
        for (a, s) in hosts {
            writeln!(out, "{name}{{{}}} {}", label(s), value(a))?;
        }
    }
    write_carp(hosts, &label, out)?;
    if hosts.iter().any(|(_, s)| s.poll_seconds.is_some()) {
        family(
            out,
            "pfblame_poll_duration_seconds",
            "gauge",
            "Seconds the last poll took (running pfctl or reading the recording, and parsing).",
            Some("seconds"),
        )?;
        for (_, s) in hosts {
            if let Some(secs) = s.poll_seconds {
                writeln!(
                    out,
                    "pfblame_poll_duration_seconds{{{}}} {}",
                    label(s),
                    number(secs)
                )?;
            }
        }
    }
    if hosts.iter().any(|(a, _)| a.taken_at.is_some()) {
        family(
            out,
            "pfblame_sample_timestamp_seconds",
            "gauge",
            "When the analysed sample was taken (Unix time; a recording's own time).",
            Some("seconds"),
        )?;
        for (a, s) in hosts {
            if let Some(taken) = a.taken_at {
                let secs = taken.timestamp_millis() as f64 / 1000.0;
                writeln!(
                    out,
                    "pfblame_sample_timestamp_seconds{{{}}} {}",
                    label(s),
                    number(secs)
                )?;
            }
        }
    }
    if !failed.is_empty() {
        family(
            out,
            "pfblame_poll_failed",
            "gauge",
            "1 for a host of the fleet whose poll failed (its other metrics are left out).",
            None,
        )?;
        for host in failed {
            writeln!(
                out,
                "pfblame_poll_failed{{host=\"{}\"}} 1",
                label_value(host)
            )?;
        }
    }
    writeln!(out, "# EOF")
}

/// `pfblame_carp_master{host,iface,vhid}`: 1 for a vhid the host is MASTER
/// of, 0 for BACKUP, INIT or unknown; only for hosts whose ifconfig was
/// read (`--carp`, `carp.txt`), so that "unknown" is no sample at all.
fn write_carp(
    hosts: &[(&Analysis, &Scrape)],
    label: &dyn Fn(&Scrape) -> String,
    out: &mut dyn Write,
) -> io::Result<()> {
    let with_carp: Vec<(&crate::model::carp::Carp, &Scrape)> = hosts
        .iter()
        .filter_map(|(a, s)| Some((a.carp.as_ref()?, *s)))
        .collect();
    if with_carp.iter().all(|(c, _)| c.vhids.is_empty()) {
        return Ok(());
    }
    family(
        out,
        "pfblame_carp_master",
        "gauge",
        "1 when the host is CARP MASTER of the vhid on the interface, 0 otherwise (BACKUP, INIT), from ifconfig.",
        None,
    )?;
    for (carp, s) in with_carp {
        for v in &carp.vhids {
            writeln!(
                out,
                "pfblame_carp_master{{{},iface=\"{}\",vhid=\"{}\"}} {}",
                label(s),
                label_value(&v.iface),
                v.vhid,
                u8::from(v.state == crate::model::carp::CarpState::Master)
            )?;
        }
    }
    Ok(())
}

/// `# TYPE`, `# UNIT` (when given; the name must then end in `_UNIT`) and
/// `# HELP` of one family.
fn family(
    out: &mut dyn Write,
    name: &str,
    kind: &str,
    help: &str,
    unit: Option<&str>,
) -> io::Result<()> {
    writeln!(out, "# TYPE {name} {kind}")?;
    if let Some(unit) = unit {
        writeln!(out, "# UNIT {name} {unit}")?;
    }
    writeln!(out, "# HELP {name} {}", help_text(help))
}

fn rules_with(a: &Analysis, v: Verdict) -> usize {
    counted(a).filter(|r| r.verdict == Some(v)).count()
}

/// Rules with server states and a verdict (the rows the metrics describe).
fn counted(a: &Analysis) -> impl Iterator<Item = &RuleRow> {
    a.rows
        .iter()
        .filter(|r| r.server_states > 0 && r.verdict.is_some())
}

/// Rules whose verdict is `bypass` or `blocked`.
pub(crate) fn harmful_rules(a: &Analysis) -> usize {
    counted(a)
        .filter(|r| r.verdict.is_some_and(Verdict::is_failure))
        .count()
}

/// Error diagnostics of the sample (lines that could not be read).
pub(crate) fn parse_errors(a: &Analysis) -> usize {
    a.diagnostics
        .iter()
        .filter(|d| d.severity == crate::model::Severity::Error)
        .count()
}

/// A label value: neutralised, then escaped as OpenMetrics asks (backslash,
/// double quote and line feed; neutralising has already made any line feed
/// a visible `\x0a`, the escape is kept for the format's sake).
pub fn label_value(text: &str) -> String {
    escape(&neutralize(text))
}

/// HELP text: the same escapes (the format's `escaped-string` for both).
fn help_text(text: &str) -> String {
    escape(&neutralize(text))
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// A float as OpenMetrics writes it (finite; never `NaN`).
fn number(x: f64) -> String {
    if x.is_finite() {
        format!("{x}")
    } else {
        "0".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_neutralised() {
        assert_eq!(label_value(r#"a\b"c"#), r#"a\\b\"c"#);
        // A raw line feed never survives: neutralised to a visible escape,
        // whose backslash is then escaped.
        assert_eq!(label_value("a\nb"), r"a\\x0ab");
        assert_eq!(label_value("x\x1b[31m"), r"x\\x1b[31m");
        assert_eq!(escape("a\nb"), r"a\nb");
        assert_eq!(help_text(r#"say "hi"\"#), r#"say \"hi\"\\"#);
    }

    #[test]
    fn empty_analysis_still_ends_with_eof() {
        let mut out = Vec::new();
        write(&Analysis::default(), &Scrape::default(), &mut out).expect("write to a Vec");
        let text = String::from_utf8(out).expect("utf-8");
        assert!(text.ends_with("# EOF\n"), "{text}");
        assert!(text.contains("pfblame_harmful_rules{host=\"localhost\"} 0\n"));
        assert!(!text.contains("pfblame_poll_duration_seconds"));
    }

    #[test]
    fn numbers_are_finite() {
        assert_eq!(number(0.25), "0.25");
        assert_eq!(number(f64::NAN), "0");
    }
}
