//! `pfblame check`: a Nagios/Icinga plugin. One poll, one line on stdout,
//! and the plugin convention's exit status:
//!
//! | status | when |
//! |---|---|
//! | 0 OK | no rule's states misroute or drop the servers' replies |
//! | 1 WARNING | a rule is `unexplained` (with `--strict` also `stateful`) |
//! | 2 CRITICAL | a rule is `bypass` or `blocked`, or an error finding about a rule not allowed says replies are misrouted (what makes `report` exit 1) |
//! | 3 UNKNOWN | the poll failed: any source error, unreadable pfctl output, bad options (usage errors included, even clap's) |
//!
//! CRITICAL wins over UNKNOWN: a bypass that was read is real even when
//! other lines could not be read. The line is `STATUS - text | perfdata`,
//! perfdata in Nagios format (`label=value;warn;crit;min;max`). `check`
//! never exits with another status (no 65, 69…): a plugin's caller reads
//! anything above 3 as a broken plugin.

use std::ffi::OsString;
use std::io::{self, Write};
use std::process::ExitCode;

use super::monitor::Timed;
use super::report::{collect, exit_status_with};
use crate::analyze::{Analysis, RuleRow, Verdict};
use crate::cli::CheckArgs;
use crate::exit::Exit;
use crate::lint::FindingSeverity;
use crate::report::openmetrics::parse_errors;
use crate::report::{rule_label, skipped_rules};
use crate::sanitize::neutralize;

/// A plugin status.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Ok = 0,
    Warning = 1,
    Critical = 2,
    Unknown = 3,
}

impl Status {
    pub fn word(self) -> &'static str {
        match self {
            Status::Ok => "OK",
            Status::Warning => "WARNING",
            Status::Critical => "CRITICAL",
            Status::Unknown => "UNKNOWN",
        }
    }

    pub fn code(self) -> u8 {
        self as u8
    }
}

/// What the plugin prints: `STATUS - summary | perfdata`.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub status: Status,
    pub summary: String,
    pub perfdata: String,
}

impl Outcome {
    fn unknown(why: &str) -> Self {
        Outcome {
            status: Status::Unknown,
            summary: plugin_text(why),
            perfdata: String::new(),
        }
    }

    /// The one line (no line feed).
    pub fn line(&self) -> String {
        if self.perfdata.is_empty() {
            format!("{} - {}", self.status.word(), self.summary)
        } else {
            format!(
                "{} - {} | {}",
                self.status.word(),
                self.summary,
                self.perfdata
            )
        }
    }
}

/// Runs the plugin and returns its exit status; prints the line whatever
/// happens.
pub fn run(args: &CheckArgs) -> ExitCode {
    match fleet(args) {
        Ok(Some(outcome)) => return print(&outcome),
        Ok(None) => {}
        Err(e) => return print(&Outcome::unknown(&format!("{e:#}"))),
    }
    let outcome = match poll(args) {
        Ok((analysis, poll_seconds)) => judge(&analysis, args.servers.pf.strict, poll_seconds),
        Err(e) => Outcome::unknown(&format!("{e:#}")),
    };
    print(&outcome)
}

fn print(outcome: &Outcome) -> ExitCode {
    // A closed stdout cannot be reported anywhere; the status still is.
    let _ = writeln!(io::stdout().lock(), "{}", outcome.line());
    ExitCode::from(outcome.status.code())
}

/// True when the command line runs `check` (its first argument), so that
/// clap's usage errors become UNKNOWN too.
pub fn invoked(args: &[OsString]) -> bool {
    args.get(1).is_some_and(|a| a == "check")
}

/// A usage error of `check` found by clap: UNKNOWN with clap's first line.
pub fn usage_error(e: &clap::Error) -> ExitCode {
    let text = e.to_string();
    let first = text
        .lines()
        .map(|l| l.trim_start_matches("error: ").trim())
        .find(|l| !l.is_empty())
        .unwrap_or("usage error");
    print(&Outcome::unknown(&format!("usage: {first}")))
}

/// Several hosts (issue #17): one line for the fleet
/// ([`super::fleet::check`]), or `None` for a single source.
fn fleet(args: &CheckArgs) -> anyhow::Result<Option<Outcome>> {
    let Some(fleet) = crate::fleet::Fleet::open(&args.source.options())? else {
        return Ok(None);
    };
    if args.servers.servers.is_empty() {
        anyhow::bail!("check needs --server ADDR[/LEN]: the verdicts are about a server's replies");
    }
    let cfg = args.servers.config().map_err(anyhow::Error::msg)?;
    Ok(Some(super::fleet::check(
        fleet,
        &cfg,
        args.servers.pf.strict,
    )))
}

/// One poll; the analysis and the poll's seconds.
fn poll(args: &CheckArgs) -> anyhow::Result<(Analysis, Option<f64>)> {
    if args.servers.servers.is_empty() {
        anyhow::bail!("check needs --server ADDR[/LEN]: the verdicts are about a server's replies");
    }
    let cfg = args
        .servers
        .config_for(args.source.from.as_deref())
        .map_err(anyhow::Error::msg)?;
    let mut source = crate::source::open(&args.source.options())?;
    let mut timed = Timed::new(source.as_mut());
    let (analysis, _notes) = collect(&mut timed, &cfg, 1, std::time::Duration::ZERO)?;
    Ok((analysis, timed.last.map(|d| d.as_secs_f64())))
}

/// The plugin's verdict on one analysis (see the module documentation).
pub(crate) fn judge(a: &Analysis, strict: bool, poll_seconds: Option<f64>) -> Outcome {
    let perfdata = perfdata(a, poll_seconds);
    let status = exit_status_with(a, false);
    let errors = parse_errors(a);
    let (status, summary) = if status == Exit::DataErr {
        (
            Status::Unknown,
            format!("nothing could be read from the pfctl output ({errors} unreadable lines)"),
        )
    } else if status == Exit::Found {
        (Status::Critical, join(critical_rows(a)))
    } else if errors > 0 {
        (
            Status::Unknown,
            format!("{errors} lines of pfctl output could not be read (see pfblame report)"),
        )
    } else {
        let warned = warning_rows(a, strict);
        if warned.is_empty() {
            (Status::Ok, ok_summary(a))
        } else {
            (
                Status::Warning,
                format!("{}; pfblame report says why", join(warned)),
            )
        }
    };
    Outcome {
        status,
        summary: plugin_text(&summary),
        perfdata,
    }
}

/// `@14 bypasses route-to @17 (7 states)`, one per rule that makes
/// `report` exit 1.
fn critical_rows(a: &Analysis) -> Vec<String> {
    let generation = a.generation.number;
    a.rows
        .iter()
        .enumerate()
        .filter(|(i, r)| r.server_states > 0 && is_critical(a, *i, r))
        .map(|(i, r)| {
            let what = match r.verdict {
                Some(Verdict::Blocked) => "blocks the replies".to_string(),
                _ => bypass_text(a, i),
            };
            format!(
                "{} {what} ({})",
                rule_label(r, generation),
                states(r.server_states)
            )
        })
        .collect()
}

fn is_critical(a: &Analysis, index: usize, row: &RuleRow) -> bool {
    row.verdict.is_some_and(Verdict::is_failure)
        || (row.verdict != Some(Verdict::Allowed)
            && a.findings_for(index)
                .any(|f| f.severity == FindingSeverity::Error))
}

/// `bypasses route-to @17`, `bypasses reply-to @1 and route-to @3`,
/// `bypasses its own reply-to` (an if-bound reply-to state), or
/// `bypasses the replies' routing` (`--reply-via`, no rule to name).
fn bypass_text(a: &Analysis, index: usize) -> String {
    let skipped = skipped_rules(a, index);
    if skipped.is_empty() {
        return "bypasses the replies' routing".to_string();
    }
    let own = a.rows.get(index).map(|r| r.key.to_string());
    let named: Vec<String> = skipped
        .iter()
        .map(|label| {
            let word = routing_word(a, index, label);
            if own.as_deref() == Some(label.as_str()) {
                format!("its own {word}")
            } else {
                format!("{word} {label}")
            }
        })
        .collect();
    format!("bypasses {}", named.join(" and "))
}

/// `reply-to` or `route-to`: what the skipped rule `label` routes with.
fn routing_word(a: &Analysis, index: usize, label: &str) -> &'static str {
    let text = a
        .findings_for(index)
        .filter_map(|f| f.bypassed_rule.as_ref())
        .find(|b| b.key().to_string() == label)
        .map(|b| b.text.as_str())
        .unwrap_or_default();
    if text.contains("reply-to") {
        "reply-to"
    } else {
        "route-to"
    }
}

/// `default unexplained (2 states)`, for `unexplained` rows (and
/// `stateful` ones with `--strict`).
fn warning_rows(a: &Analysis, strict: bool) -> Vec<String> {
    let generation = a.generation.number;
    a.rows
        .iter()
        .filter(|r| r.server_states > 0)
        .filter_map(|r| {
            let v = r.verdict?;
            let warns = v == Verdict::Unexplained || (strict && v == Verdict::Stateful);
            warns.then(|| {
                format!(
                    "{} {} ({})",
                    rule_label(r, generation),
                    v.word(),
                    states(r.server_states)
                )
            })
        })
        .collect()
}

/// `no rule's states misroute the replies (1 routing, 1 stateful; 7 server states)`.
fn ok_summary(a: &Analysis) -> String {
    let counts: Vec<String> = Verdict::ALL
        .iter()
        .map(|v| (v, count(a, *v)))
        .filter(|(_, n)| *n > 0)
        .map(|(v, n)| format!("{n} {}", v.word()))
        .collect();
    let mut text = "no rule's states misroute the replies (".to_string();
    if !counts.is_empty() {
        text.push_str(&counts.join(", "));
        text.push_str("; ");
    }
    text.push_str(&format!("{} server states)", a.server_states));
    text
}

fn count(a: &Analysis, v: Verdict) -> usize {
    a.rows
        .iter()
        .filter(|r| r.server_states > 0 && r.verdict == Some(v))
        .count()
}

/// Nagios perfdata: rules per verdict (bypass and blocked critical above
/// 0, unexplained warning above 0), server states, all states, the poll's
/// seconds.
fn perfdata(a: &Analysis, poll_seconds: Option<f64>) -> String {
    let mut items: Vec<String> = Verdict::ALL
        .iter()
        .map(|v| {
            let thresholds = match v {
                Verdict::Bypass | Verdict::Blocked => ";0",
                Verdict::Unexplained => "0;",
                _ => ";",
            };
            format!("{}={};{thresholds};0", v.word(), count(a, *v))
        })
        .collect();
    items.push(format!("server_states={};;;0", a.server_states));
    items.push(format!("states={};;;0", a.total_states));
    if let Some(secs) = poll_seconds.filter(|s| s.is_finite()) {
        items.push(format!("poll={secs:.3}s;;;0"));
    }
    items.join(" ")
}

fn states(n: u64) -> String {
    format!("{n} state{}", if n == 1 { "" } else { "s" })
}

fn join(parts: Vec<String>) -> String {
    parts.join(", ")
}

/// Plugin text: neutralised (no control or bidi characters, so one line),
/// and without `|`, which would start the perfdata.
fn plugin_text(text: &str) -> String {
    neutralize(text).replace('|', "/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(number: u32, states: u64, verdict: Verdict) -> RuleRow {
        RuleRow {
            key: crate::model::RuleKey {
                anchor: None,
                number: Some(number),
            },
            server_states: states,
            verdict: Some(verdict),
            ..RuleRow::default()
        }
    }

    #[test]
    fn statuses_follow_the_verdicts() {
        let mut a = Analysis::default();
        assert_eq!(judge(&a, false, None).status, Status::Ok);
        a.rows.push(row(1, 2, Verdict::Stateful));
        assert_eq!(judge(&a, false, None).status, Status::Ok);
        assert_eq!(judge(&a, true, None).status, Status::Warning);
        a.rows.push(row(2, 3, Verdict::Unexplained));
        let warned = judge(&a, false, None);
        assert_eq!(warned.status, Status::Warning);
        assert!(
            warned.summary.starts_with("@2 unexplained (3 states)"),
            "{warned:?}"
        );
        a.rows.push(row(3, 1, Verdict::Blocked));
        let critical = judge(&a, false, None);
        assert_eq!(critical.status, Status::Critical);
        assert_eq!(critical.summary, "@3 blocks the replies (1 state)");
    }

    #[test]
    fn perfdata_has_thresholds_and_units() {
        let mut a = Analysis::default();
        a.rows.push(row(14, 7, Verdict::Bypass));
        a.server_states = 7;
        a.total_states = 24;
        let p = perfdata(&a, Some(0.0125));
        assert!(p.starts_with("bypass=1;;0;0 blocked=0;;0;0 "), "{p}");
        assert!(p.contains(" unexplained=0;0;;0 "), "{p}");
        assert!(
            p.ends_with(" server_states=7;;;0 states=24;;;0 poll=0.013s;;;0"),
            "{p}"
        );
    }

    #[test]
    fn plugin_text_stays_on_one_line_without_a_pipe() {
        assert_eq!(plugin_text("a|b\nc"), "a/b\\x0ac");
        let line = Outcome::unknown("x | y").line();
        assert_eq!(line, "UNKNOWN - x / y");
    }

    #[test]
    fn only_check_invocations_are_recognised() {
        let args = |a: &[&str]| a.iter().map(OsString::from).collect::<Vec<_>>();
        assert!(invoked(&args(&["pfblame", "check", "--from", "x"])));
        assert!(!invoked(&args(&["pfblame", "report", "check"])));
        assert!(!invoked(&args(&["pfblame"])));
    }
}
