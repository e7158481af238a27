//! `pfblame report`: poll the source `--samples` times, analyse, print one
//! report (text, JSON, markdown or OpenMetrics) on stdout, or with
//! `--output FILE` into FILE, replaced atomically.
//!
//! Exit status: 1 if any rule's verdict is `bypass` or `blocked` (its
//! states misroute or drop the servers' replies), or a finding about a rule
//! not allowed says so; with `--strict` also on `stateful` and
//! `unexplained`; else 0 (also
//! without `--server`, where the busiest rules are listed). Lines of pfctl
//! output that could not be read are printed on stderr as diagnostics and do
//! not change the status, unless nothing at all could be read from input that
//! had errors: then 65 (the report is still printed). Source failures keep
//! their own statuses (66, 69, 77); bad options exit 2.
//!
//! `--kill` removes the spurious server states after the report: only with
//! `--allow-kill`, never on a recording, and only after the user saw the
//! exact pfctl commands and answered yes (`--yes` for scripts). Refusals
//! exit 2 before anything is polled; a declined confirmation keeps the
//! report's status; a kill that fails exits with the kill's status.

use std::collections::HashMap;
use std::io::{self, BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use super::monitor::{self, Timed};
use crate::analyze::{Analysis, Config, Verdict};
use crate::cli::{Format, ReportArgs};
use crate::exit::{Exit, Failure, is_broken_pipe};
use crate::kill::{self, KillGuard, KillRefused};
use crate::lint::FindingSeverity;
use crate::model::{RuleKey, Severity, State};
use crate::poll::Session;
use crate::report::openmetrics::{self, Scrape};
use crate::report::{self, Options};
use crate::sanitize::neutralize;
use crate::source::{Pfctl, Source, SourceError};

pub fn run(args: &ReportArgs) -> anyhow::Result<Exit> {
    let cfg = args
        .servers
        .config_for(args.source.from.as_deref())
        .map_err(|e| Failure::new(Exit::Usage, e))?;
    if args.samples == 0 {
        return Err(Failure::new(Exit::Usage, "--samples must be at least 1").into());
    }
    if let Some(fleet) = crate::fleet::Fleet::open(&args.source.options())? {
        return super::fleet::report(args, &cfg, fleet);
    }
    let interval = args.source.interval();
    let mut source = crate::source::open(&args.source.options())?;
    // Refuse before polling, so a refused kill runs nothing at all.
    let killer = if args.kill {
        let guard = KillGuard::new(args.allow_kill, source.is_live()).map_err(refusal)?;
        Some((guard, Pfctl::from_options(&args.source.pfctl.options())?))
    } else {
        None
    };
    let mut timed = Timed::new(source.as_mut());
    let (analysis, notes) = collect(&mut timed, &cfg, args.samples, interval)?;
    let scrape = Scrape {
        host: monitor::host_label(&args.source),
        poll_seconds: timed.last.map(|d| d.as_secs_f64()),
    };
    let status = exit_status_with(&analysis, args.servers.pf.strict);

    let mut err = io::stderr().lock();
    match write_report(&analysis, &notes, &scrape, args, &mut err) {
        // `pfblame report | head`: the reader has what it wanted; the status
        // stays the report's (no kill runs without its output being seen).
        Err(e) if is_broken_pipe(&e) => return Ok(status),
        other => other?,
    }
    match killer {
        Some((guard, pfctl)) => {
            let mut stdin = io::stdin().lock();
            let interactive = io::stdin().is_terminal();
            let ask = Ask {
                yes: args.yes,
                interactive,
                input: &mut stdin,
            };
            let strict = args.servers.pf.strict;
            kill_spurious(&analysis, guard, &pfctl, ask, strict, &mut err)
                .map(|k| k.unwrap_or(status))
        }
        None => Ok(status),
    }
}

/// Notes and diagnostics on stderr, then the report on stdout.
fn write_report(
    analysis: &Analysis,
    notes: &[String],
    scrape: &Scrape,
    args: &ReportArgs,
    err: &mut dyn Write,
) -> anyhow::Result<()> {
    for note in notes {
        writeln!(err, "pfblame: {note}")?;
    }
    print_diagnostics(analysis, args.format, err)?;
    let opts = Options {
        color: args.color.color.enabled(io::stdout().is_terminal()),
        ..Options::default()
    };
    // Standard output, or with --output a file replaced atomically.
    monitor::emit(args.output.as_deref(), |out| match args.format {
        Format::Json => {
            let mut safe = crate::sanitize::JsonSafe::new(out);
            report::write(analysis, args.format, &opts, &mut safe)?;
            safe.into_inner().map(drop)
        }
        Format::OpenMetrics => openmetrics::write(analysis, scrape, out),
        format => report::write(analysis, format, &opts, out),
    })
}

/// The exit status of a finished report (see the module documentation).
/// Findings of allowed rules are shown but do not change it: `--allow`
/// says their states are expected.
pub fn exit_status(a: &Analysis) -> Exit {
    exit_status_with(a, false)
}

/// [`exit_status`], with `--strict`.
pub(crate) fn exit_status_with(a: &Analysis, strict: bool) -> Exit {
    let errors = a.diagnostics.iter().any(|d| d.severity == Severity::Error);
    let nothing_read = a.total_states == 0 && a.rows.is_empty();
    if errors && nothing_read {
        Exit::DataErr
    } else if a.fails(strict) || has_unallowed_errors(a) {
        Exit::Found
    } else {
        Exit::Ok
    }
}

/// True when an error finding concerns a rule the user did not allow.
fn has_unallowed_errors(a: &Analysis) -> bool {
    (0..a.rows.len()).any(|i| {
        a.rows[i].verdict != Some(Verdict::Allowed)
            && a.findings_for(i)
                .any(|f| f.severity == FindingSeverity::Error)
    })
}

/// A refused `--kill` as a usage error that says what is missing.
fn refusal(why: KillRefused) -> Failure {
    let hint = match why {
        KillRefused::NotAllowed => {
            "report --kill refused: removing states needs --allow-kill (nothing was run)"
        }
        KillRefused::Recorded => {
            "report --kill refused: not possible with --from, a recording has no live pfctl \
             (nothing was run)"
        }
        KillRefused::NotConfirmed => {
            "report --kill refused: no answer to the confirmation on standard input; \
             use --yes to remove the states without asking (nothing was run)"
        }
        KillRefused::Incomplete => {
            "report --kill refused: the pfctl output had lines that could not be read \
             (see the diagnostics), so the states to remove may be incomplete or misread \
             (nothing was run)"
        }
    };
    // Bad input, not a bad command line: the status says so.
    let exit = if why == KillRefused::Incomplete {
        Exit::DataErr
    } else {
        Exit::Usage
    };
    Failure::new(exit, hint)
}

/// How the confirmation is answered.
pub struct Ask<'a> {
    /// `--yes`: answered without asking.
    pub yes: bool,
    /// Standard input is a terminal (the prompt is then shown).
    pub interactive: bool,
    pub input: &'a mut dyn BufRead,
}

/// The answer read from standard input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Answer {
    Yes,
    No,
    /// Standard input was closed or empty: nobody answered.
    None,
}

/// Reads one line: `y` / `yes` (any case) is yes, any other line no, end
/// of input no answer.
pub(crate) fn read_answer(input: &mut dyn BufRead) -> io::Result<Answer> {
    let mut line = String::new();
    if input.read_line(&mut line)? == 0 {
        return Ok(Answer::None);
    }
    let word = line.trim().to_ascii_lowercase();
    Ok(if word == "y" || word == "yes" {
        Answer::Yes
    } else {
        Answer::No
    })
}

/// The server states of the rows judged spurious (allowed rules' states are
/// expected and stay).
pub fn spurious_server_states(a: &Analysis) -> Vec<State> {
    failing_server_states(a, false)
}

/// The server states of the rows that make the report fail: `bypass` and
/// `blocked`, with `--strict` also `stateful` and `unexplained` (what the
/// exit status counts is what `--kill` removes; `allowed` never).
pub(crate) fn failing_server_states(a: &Analysis, strict: bool) -> Vec<State> {
    let fails = |v: Verdict| v.fails(strict);
    a.states
        .iter()
        .filter(|(s, r)| {
            a.rows
                .get(*r)
                .is_some_and(|row| row.verdict.is_some_and(fails))
                && a.servers.matches(s)
        })
        .map(|(s, _)| s.clone())
        .collect()
}

/// Plans, confirms and runs the kill commands; messages go to `err` (stdout
/// holds the report). `Ok(None)` keeps the report's status; `Ok(Some(_))`
/// replaces it (a kill that failed).
pub(crate) fn kill_spurious(
    a: &Analysis,
    guard: KillGuard,
    pfctl: &Pfctl,
    ask: Ask<'_>,
    strict: bool,
    err: &mut dyn Write,
) -> anyhow::Result<Option<Exit>> {
    if let Err(why) = kill::check_complete(&a.diagnostics) {
        return Err(refusal(why).into());
    }
    let states = failing_server_states(a, strict);
    let (plan, skipped) = kill::plan_with_skips(&states);
    for why in &skipped {
        writeln!(err, "pfblame: cannot remove {}", neutralize(why))?;
    }
    if plan.is_empty() {
        writeln!(err, "pfblame: no spurious server state to remove")?;
        return Ok(None);
    }
    let (prefix, plan) = kill::as_run_by(pfctl, &plan);
    write!(err, "{}", kill::confirm_text(&prefix, &plan))?;
    let answered_yes = if ask.yes {
        writeln!(err, "pfblame: --yes given: removing them")?;
        true
    } else {
        if ask.interactive {
            write!(err, "Remove them? [y/N] ")?;
            err.flush()?;
        }
        match read_answer(ask.input)? {
            Answer::Yes => true,
            Answer::No => false,
            Answer::None => return Err(refusal(KillRefused::NotConfirmed).into()),
        }
    };
    let confirmed = match guard.confirm(answered_yes) {
        Ok(c) => c,
        Err(_) => {
            writeln!(err, "pfblame: no state was removed")?;
            return Ok(None);
        }
    };
    let outcome = match kill::execute(&confirmed, &prefix, &plan, pfctl.timeout()) {
        Ok(o) => o,
        Err(e) => return Err(Failure::new(Exit::from(&e), e.to_string()).into()),
    };
    writeln!(
        err,
        "pfblame: {} of {} command{} succeeded; pfctl reported {} state{} killed",
        outcome.succeeded,
        plan.len(),
        if plan.len() == 1 { "" } else { "s" },
        outcome.killed,
        if outcome.killed == 1 { "" } else { "s" }
    )?;
    for (command, why) in &outcome.failed {
        writeln!(
            err,
            "pfblame: failed: {}: {}",
            neutralize(command),
            neutralize(why)
        )?;
    }
    Ok((!outcome.failed.is_empty()).then_some(Exit::Unavailable))
}

/// Polls `samples` times (sleeping `interval` between live polls) and
/// returns the analysis of the last sample, with new/gone states and rates
/// over the whole run (`interval` is then the run's length).
/// A recording with fewer polls than asked ends early, with a note.
pub fn collect(
    source: &mut dyn Source,
    cfg: &Config,
    samples: u32,
    interval: Duration,
) -> Result<(Analysis, Vec<String>), SourceError> {
    let mut notes = Vec::new();
    let mut session = Session::new(cfg.clone());
    let mut run = RunTotals::default();
    for i in 0..samples {
        if i > 0 && source.is_live() {
            std::thread::sleep(interval);
        }
        let polled = session.poll(source)?;
        let position = polled.meta.position;
        run.add(&polled.analysis);
        let last = i + 1 == samples;
        if !source.is_live()
            && !last
            && let Some(why) = recording_end(position)
        {
            notes.push(fewer_samples(&why, i + 1, samples));
            break;
        }
    }
    match session.into_last() {
        Some(a) => {
            // The session held the only other reference: no copy.
            let mut a = Arc::unwrap_or_clone(a);
            run.apply(&mut a);
            Ok((a, notes))
        }
        // samples ≥ 1 is checked by the caller; keep this total anyway.
        None => Err(SourceError::BadRecording {
            path: source.describe(),
            detail: "no sample was taken".into(),
        }),
    }
}

/// Why a replay at `position` has no further poll (a replay plays its
/// last poll again): `None` while it has more.
pub(crate) fn recording_end(position: Option<(usize, usize)>) -> Option<String> {
    match position {
        Some((k, n)) => (k >= n).then(|| format!("the recording has {n} polls")),
        None => Some("the recording is a single poll".to_string()),
    }
}

/// The note of a replay that ended after `taken` of the `asked` samples.
pub(crate) fn fewer_samples(why: &str, taken: u32, asked: u32) -> String {
    let plural = if taken == 1 { "" } else { "s" };
    format!("{why}: reporting on {taken} sample{plural} instead of {asked}")
}

/// New and gone server states over the whole run, so that a report of
/// several samples gives rates over all of them, not just the last interval.
/// One per source: `collect` keeps one, a fleet report one per host.
#[derive(Debug, Default)]
pub(crate) struct RunTotals {
    first: Option<chrono::DateTime<chrono::Utc>>,
    per_rule: HashMap<(u32, RuleKey), (u64, u64)>,
    new: u64,
    gone: u64,
}

impl RunTotals {
    /// Counts one poll's analysis (the first only gives the run's start).
    pub(crate) fn add(&mut self, a: &Analysis) {
        if a.samples == 1 {
            self.first = a.taken_at;
            return;
        }
        for r in &a.rows {
            let e = self.per_rule.entry((r.generation, r.key)).or_default();
            e.0 += r.new_states.unwrap_or(0);
            e.1 += r.gone_states.unwrap_or(0);
        }
        self.new += a.new_server_states.unwrap_or(0);
        self.gone += a.gone_server_states.unwrap_or(0);
    }

    /// Replaces the last interval's deltas with the run's.
    pub(crate) fn apply(&self, a: &mut Analysis) {
        if a.samples < 2 {
            return;
        }
        let span = match (self.first, a.taken_at) {
            (Some(first), Some(last)) => Some((last - first).num_milliseconds() as f64 / 1000.0),
            _ => None,
        };
        let span = span.filter(|s| *s > 0.0);
        for r in &mut a.rows {
            let (new, gone) = self
                .per_rule
                .get(&(r.generation, r.key))
                .copied()
                .unwrap_or_default();
            r.new_states = Some(new);
            r.gone_states = Some(gone);
            r.rate = span.map(|s| new as f64 / s);
        }
        a.new_server_states = Some(self.new);
        a.gone_server_states = Some(self.gone);
        a.interval = span;
    }
}

/// Diagnostics always go to stderr (stdout stays a clean report, e.g. for
/// `| jq`); JSON reports also carry them. Warnings are in text and markdown
/// reports already, so stderr repeats them only for JSON.
fn print_diagnostics(a: &Analysis, format: Format, err: &mut dyn Write) -> io::Result<()> {
    for d in &a.diagnostics {
        writeln!(err, "pfblame: {}", neutralize(&d.to_string()))?;
        if !d.text.is_empty() {
            writeln!(err, "    {}", neutralize(&d.text))?;
        }
    }
    if format == Format::Json {
        for w in &a.warnings {
            writeln!(err, "pfblame: warning: {}", neutralize(w))?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::{RuleRow, Verdict};
    use crate::model::Diagnostic;

    fn diag(severity: Severity) -> Diagnostic {
        Diagnostic {
            line: 1,
            column: 1,
            severity,
            message: "states listing: expected an arrow".into(),
            text: "garbage".into(),
        }
    }

    #[test]
    fn exit_status_follows_the_verdicts() {
        let mut a = Analysis::default();
        assert_eq!(exit_status(&a), Exit::Ok);
        a.rows.push(RuleRow {
            server_states: 1,
            verdict: Some(Verdict::Allowed),
            ..RuleRow::default()
        });
        assert_eq!(exit_status(&a), Exit::Ok);
        a.rows[0].verdict = Some(Verdict::Bypass);
        assert_eq!(exit_status(&a), Exit::Found);
        // Unreadable lines do not change the verdict when something was read.
        a.diagnostics.push(diag(Severity::Error));
        assert_eq!(exit_status(&a), Exit::Found);
    }

    #[test]
    fn nothing_readable_is_a_data_error() {
        let mut a = Analysis::default();
        a.diagnostics.push(diag(Severity::Warning));
        assert_eq!(exit_status(&a), Exit::Ok);
        a.diagnostics.push(diag(Severity::Error));
        assert_eq!(exit_status(&a), Exit::DataErr);
    }

    fn bypass_of(number: u32) -> crate::lint::Finding {
        let rule = |n: u32| crate::lint::FindingRule {
            anchor: None,
            number: Some(n),
            anchor_path: String::new(),
            text: String::new(),
        };
        crate::lint::Finding::bare(
            FindingSeverity::Error,
            crate::lint::FindingKind::Bypass,
            rule(number),
            Some(rule(17)),
            1,
        )
    }

    #[test]
    fn error_findings_of_rules_not_allowed_exit_1() {
        let key = RuleKey {
            anchor: None,
            number: Some(14),
        };
        let mut a = Analysis::default();
        a.rows.push(RuleRow {
            key,
            server_states: 1,
            verdict: Some(Verdict::Allowed),
            ..RuleRow::default()
        });
        a.findings.push(bypass_of(14));
        // Allowed: shown, but expected.
        assert_eq!(exit_status(&a), Exit::Ok);
        a.rows[0].verdict = None;
        assert_eq!(exit_status(&a), Exit::Found);
        // A finding about another rule is not this row's.
        a.findings[0] = bypass_of(15);
        assert_eq!(exit_status(&a), Exit::Ok);
    }

    #[test]
    fn answers_are_read_from_one_line() {
        let answer = |text: &str| read_answer(&mut text.as_bytes()).map_err(|e| e.to_string());
        assert_eq!(answer("y\n"), Ok(Answer::Yes));
        assert_eq!(answer(" YES \n"), Ok(Answer::Yes));
        assert_eq!(answer("yes"), Ok(Answer::Yes));
        assert_eq!(answer("n\n"), Ok(Answer::No));
        assert_eq!(answer("\n"), Ok(Answer::No));
        assert_eq!(answer("yep\ny\n"), Ok(Answer::No));
        assert_eq!(answer(""), Ok(Answer::None));
    }

    #[test]
    fn refusals_say_why() {
        assert!(
            refusal(KillRefused::NotAllowed)
                .message
                .contains("--allow-kill")
        );
        assert!(refusal(KillRefused::Recorded).message.contains("--from"));
        assert!(refusal(KillRefused::NotConfirmed).message.contains("--yes"));
        assert_eq!(refusal(KillRefused::Recorded).exit, Exit::Usage);
    }
}
