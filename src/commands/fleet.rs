//! `report` over several hosts (issue #17): `--ssh` repeated, `--host
//! NAME=COMMAND`, or `--from` a fleet recording. Every host is polled at
//! once ([`crate::fleet::Fleet`]); a host that fails gets its own line and
//! the others are still reported.
//!
//! Exit status, over the whole fleet: 1 when any host's report would exit
//! 1, or a merged rule fails (bypass/blocked; with `--strict` also
//! stateful/unexplained); else the status of the first host whose poll
//! failed (69 unreachable or timed out, 77, 66, 65…); else 65 when a host's
//! input could not be read at all; else 0.

use std::io::{self, IsTerminal, Write};
use std::sync::Arc;
use std::time::Duration;

use super::check::{Outcome, Status, judge};
use super::monitor;
use super::report::{RunTotals, exit_status_with, fewer_samples, recording_end};
use crate::analyze::Config;
use crate::cli::{Format, ReportArgs};
use crate::exit::{Exit, Failure, is_broken_pipe};
use crate::fleet::{Fleet, HostPoll, merged};
use crate::report::Options;
use crate::report::fleet::{HostReport, write};
use crate::report::openmetrics::Scrape;
use crate::sanitize::neutralize;

/// Runs `report` on the fleet.
pub fn report(args: &ReportArgs, cfg: &Config, fleet: Fleet) -> anyhow::Result<Exit> {
    if args.kill {
        return Err(Failure::new(
            Exit::Usage,
            "report --kill refused with several hosts: run it for one host (--ssh HOST once), or \
             use the TUI's K with --allow-kill, which removes a row's states on that row's host \
             (nothing was run)",
        )
        .into());
    }
    let (polls, notes) = sample(fleet, cfg, args.samples, args.source.interval());
    let fleet_analysis = merged(&polls);
    let errors: Vec<String> = polls
        .iter()
        .map(|p| p.outcome.as_deref().err().map(ToString::to_string))
        .map(Option::unwrap_or_default)
        .collect();
    let hosts: Vec<HostReport<'_>> = polls
        .iter()
        .zip(&errors)
        .map(|(p, e)| HostReport {
            name: &p.name,
            analysis: p.outcome.as_deref().map_err(|_| e.as_str()),
            checksum: p.checksum.as_deref(),
            poll_seconds: p.duration.as_secs_f64(),
            live: p.live,
        })
        .collect();
    let strict = args.servers.pf.strict;
    let status = fleet_status(&polls, fleet_analysis.fails(strict), strict);
    let mut err = io::stderr().lock();
    for note in &notes {
        writeln!(err, "pfblame: {note}")?;
    }
    for (p, e) in polls.iter().zip(&errors) {
        if p.outcome.is_err() {
            writeln!(err, "pfblame: {}: {}", neutralize(&p.name), neutralize(e))?;
        }
    }
    let opts = Options {
        color: args.color.color.enabled(io::stdout().is_terminal()),
        ..Options::default()
    };
    let result = monitor::emit(args.output.as_deref(), |out| match args.format {
        Format::Json => {
            let mut safe = crate::sanitize::JsonSafe::new(out);
            write(&hosts, &fleet_analysis, args.format, &opts, &mut safe)?;
            safe.into_inner().map(drop)
        }
        Format::OpenMetrics => openmetrics(&polls, out),
        format => write(&hosts, &fleet_analysis, format, &opts, out),
    });
    match result {
        Err(e) if is_broken_pipe(&e) => Ok(status),
        other => other.map(|()| status),
    }
}

/// Polls the fleet `samples` times (sleeping `interval` between live
/// polls). Each host's last analysis then has its new and gone states and
/// rates over the whole run, as `report` gives for one host
/// ([`RunTotals`]), not over the last interval only. A fleet recording
/// with fewer polls than asked ends early, with a note.
fn sample(
    mut fleet: Fleet,
    cfg: &Config,
    samples: u32,
    interval: Duration,
) -> (Vec<HostPoll>, Vec<String>) {
    let mut totals: Vec<RunTotals> = Vec::new();
    let mut polls = Vec::new();
    let mut notes = Vec::new();
    for i in 0..samples {
        if i > 0 && fleet.is_live() {
            std::thread::sleep(interval);
        }
        polls = fleet.poll(cfg);
        totals.resize_with(polls.len(), RunTotals::default);
        for (run, p) in totals.iter_mut().zip(&polls) {
            if let Ok(a) = &p.outcome {
                run.add(a);
            }
        }
        if !fleet.is_live() && i + 1 < samples {
            // Every host's recording at its end: a further poll would only
            // play the last ones again.
            let ends: Option<Vec<String>> =
                polls.iter().map(|p| recording_end(p.position)).collect();
            if let Some(why) = ends.and_then(|e| e.into_iter().next()) {
                notes.push(fewer_samples(&why, i + 1, samples));
                break;
            }
        }
    }
    // The hosts' sessions hold the other reference to each last analysis:
    // without them, `make_mut` changes it in place instead of copying.
    drop(fleet);
    for (run, p) in totals.iter().zip(&mut polls) {
        if let Ok(a) = &mut p.outcome {
            run.apply(Arc::make_mut(a));
        }
    }
    (polls, notes)
}

/// `--format openmetrics`: every family once, a sample set per host.
fn openmetrics(polls: &[HostPoll], out: &mut dyn Write) -> io::Result<()> {
    let scrapes: Vec<(&crate::analyze::Analysis, Scrape)> = polls
        .iter()
        .filter_map(|p| {
            Some((
                p.outcome.as_deref().ok()?,
                Scrape {
                    host: p.name.clone(),
                    poll_seconds: Some(p.duration.as_secs_f64()),
                },
            ))
        })
        .collect();
    let hosts: Vec<(&crate::analyze::Analysis, &Scrape)> =
        scrapes.iter().map(|(a, s)| (*a, s)).collect();
    let failed: Vec<&str> = polls
        .iter()
        .filter(|p| p.outcome.is_err())
        .map(|p| p.name.as_str())
        .collect();
    crate::report::openmetrics::write_hosts(&hosts, &failed, out)
}

/// `check` over the fleet: each host judged as `check` judges one, the
/// worst status wins with CRITICAL above UNKNOWN (a bypass read on one box
/// is real even when another box could not be polled), then WARNING, OK.
/// The summary names each host; perfdata labels are prefixed `HOST/`.
pub fn check(mut fleet: Fleet, cfg: &Config, strict: bool) -> Outcome {
    let polls = fleet.poll(cfg);
    let outcomes: Vec<(String, Outcome)> = polls
        .iter()
        .map(|p| {
            let outcome = match &p.outcome {
                Ok(a) => judge(a, strict, Some(p.duration.as_secs_f64())),
                Err(e) => Outcome {
                    status: Status::Unknown,
                    summary: format!("the poll failed: {e}"),
                    perfdata: String::new(),
                },
            };
            (p.name.clone(), outcome)
        })
        .collect();
    let rank = |s: Status| match s {
        Status::Critical => 3,
        Status::Unknown => 2,
        Status::Warning => 1,
        Status::Ok => 0,
    };
    let status = outcomes
        .iter()
        .map(|(_, o)| o.status)
        .max_by_key(|s| rank(*s))
        .unwrap_or(Status::Unknown);
    let summary = outcomes
        .iter()
        .map(|(h, o)| format!("{}: {} {}", neutralize(h), o.status.word(), o.summary))
        .collect::<Vec<_>>()
        .join("; ");
    let perfdata = outcomes
        .iter()
        .flat_map(|(h, o)| {
            let host = neutralize(h).replace([' ', '=', '\''], "_");
            o.perfdata
                .split_whitespace()
                .map(move |item| format!("{host}/{item}"))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .join(" ");
    Outcome {
        status,
        summary: summary.replace(['|', '\n'], " "),
        perfdata,
    }
}

/// The fleet's exit status (see the module documentation).
pub(crate) fn fleet_status(polls: &[HostPoll], merged_fails: bool, strict: bool) -> Exit {
    let per_host: Vec<Exit> = polls
        .iter()
        .filter_map(|p| p.outcome.as_deref().ok())
        .map(|a| exit_status_with(a, strict))
        .collect();
    if merged_fails || per_host.contains(&Exit::Found) {
        return Exit::Found;
    }
    if let Some(e) = polls.iter().find_map(|p| p.outcome.as_deref().err()) {
        return Exit::from(e);
    }
    if per_host.contains(&Exit::DataErr) {
        return Exit::DataErr;
    }
    Exit::Ok
}
