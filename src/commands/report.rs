//! `pfblame report`: poll the source `--samples` times, analyse, print one
//! report (text, JSON or markdown) on stdout.
//!
//! Exit status: 1 if any rule created spurious server states, else 0 (also
//! without `--server`, where the busiest rules are listed). Lines of pfctl
//! output that could not be read are printed on stderr as diagnostics and do
//! not change the status, unless nothing at all could be read from input that
//! had errors: then 65 (the report is still printed). Source failures keep
//! their own statuses (66, 69, 77); bad options exit 2.

use std::collections::HashMap;
use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use crate::analyze::{Analysis, Config, SampleBuilder, analyze};
use crate::cli::{Format, ReportArgs};
use crate::exit::{Exit, Failure};
use crate::model::{RuleKey, Severity};
use crate::report::{self, Options};
use crate::sanitize::neutralize;
use crate::source::{Source, SourceError};

pub fn run(args: &ReportArgs) -> anyhow::Result<Exit> {
    let cfg = Config::from_args(&args.servers).map_err(|e| Failure::new(Exit::Usage, e))?;
    if args.kill {
        return Err(Failure::new(
            Exit::Usage,
            "report --kill is not available yet: remove states with `pfctl -k id -k <id>`",
        )
        .into());
    }
    if args.samples == 0 {
        return Err(Failure::new(Exit::Usage, "--samples must be at least 1").into());
    }
    let interval = interval(args.source.interval)?;
    let mut source = crate::source::open(&args.source)?;
    let (analysis, notes) = collect(source.as_mut(), &cfg, args.samples, interval)?;

    let mut err = io::stderr().lock();
    for note in &notes {
        writeln!(err, "pfblame: {note}")?;
    }
    print_diagnostics(&analysis, args.format, &mut err)?;

    let opts = Options {
        color: args.color.color.enabled(io::stdout().is_terminal()),
        ..Options::default()
    };
    let mut out = io::BufWriter::new(io::stdout().lock());
    report::write(&analysis, args.format, &opts, &mut out)?;
    out.flush()?;
    Ok(exit_status(&analysis))
}

/// The exit status of a finished report (see the module documentation).
pub fn exit_status(a: &Analysis) -> Exit {
    let errors = a.diagnostics.iter().any(|d| d.severity == Severity::Error);
    let nothing_read = a.total_states == 0 && a.rows.is_empty();
    if errors && nothing_read {
        Exit::DataErr
    } else if a.has_spurious() {
        Exit::Found
    } else {
        Exit::Ok
    }
}

fn interval(secs: f64) -> Result<Duration, Failure> {
    Duration::try_from_secs_f64(secs).map_err(|_| {
        Failure::new(
            Exit::Usage,
            format!("invalid --interval {secs}: expected a number of seconds ≥ 0"),
        )
    })
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
    let mut prev: Option<Analysis> = None;
    let mut run = RunTotals::default();
    for i in 0..samples {
        if i > 0 && source.is_live() {
            std::thread::sleep(interval);
        }
        let mut builder = SampleBuilder::new(cfg);
        let meta = source.poll(&mut builder)?;
        let position = meta.position;
        let sample = builder.finish(Some(meta));
        let a = analyze(prev.as_ref(), &sample, cfg);
        run.add(&a);
        prev = Some(a);
        let last = i + 1 == samples;
        if !source.is_live() && !last {
            let end = match position {
                Some((k, n)) => (k >= n).then(|| format!("the recording has {n} polls")),
                None => Some("the recording is a single poll".to_string()),
            };
            if let Some(why) = end {
                notes.push(format!(
                    "{why}: reporting on {} sample{} instead of {samples}",
                    i + 1,
                    if i == 0 { "" } else { "s" }
                ));
                break;
            }
        }
    }
    match prev {
        Some(mut a) => {
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

/// New and gone server states over the whole run, so that a report of
/// several samples gives rates over all of them, not just the last interval.
#[derive(Debug, Default)]
struct RunTotals {
    first: Option<chrono::DateTime<chrono::Utc>>,
    per_rule: HashMap<(u32, RuleKey), (u64, u64)>,
    new: u64,
    gone: u64,
}

impl RunTotals {
    fn add(&mut self, a: &Analysis) {
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
    fn apply(&self, a: &mut Analysis) {
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
        a.rows[0].verdict = Some(Verdict::Spurious);
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

    #[test]
    fn bad_interval_is_a_usage_error() {
        assert!(interval(2.0).is_ok());
        assert_eq!(interval(-1.0).map_err(|f| f.exit).err(), Some(Exit::Usage));
        assert_eq!(
            interval(f64::NAN).map_err(|f| f.exit).err(),
            Some(Exit::Usage)
        );
    }
}
