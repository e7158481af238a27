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

use super::monitor;
use super::report::exit_status_with;
use crate::analyze::Config;
use crate::cli::{Format, ReportArgs};
use crate::exit::{Exit, Failure, is_broken_pipe};
use crate::fleet::{Fleet, HostPoll, merged};
use crate::report::Options;
use crate::report::fleet::{HostReport, write};
use crate::sanitize::neutralize;

/// Runs `report` on the fleet.
pub fn report(args: &ReportArgs, cfg: &Config, mut fleet: Fleet) -> anyhow::Result<Exit> {
    if args.kill {
        return Err(Failure::new(
            Exit::Usage,
            "report --kill refused: not with several hosts yet; run it for one host (nothing was run)",
        )
        .into());
    }
    if args.format == Format::OpenMetrics {
        return Err(Failure::new(
            Exit::Usage,
            "--format openmetrics is not available for several hosts yet; run one report per host",
        )
        .into());
    }
    let mut polls = fleet.poll(cfg);
    for _ in 1..args.samples {
        if fleet.is_live() {
            std::thread::sleep(args.source.interval());
        }
        polls = fleet.poll(cfg);
    }
    let fleet_analysis = merged(&polls);
    let errors: Vec<String> = polls
        .iter()
        .map(|p| p.outcome.as_ref().err().map(ToString::to_string))
        .map(Option::unwrap_or_default)
        .collect();
    let hosts: Vec<HostReport<'_>> = polls
        .iter()
        .zip(&errors)
        .map(|(p, e)| HostReport {
            name: &p.name,
            analysis: p.outcome.as_ref().map_err(|_| e.as_str()),
            checksum: p.checksum.as_deref(),
            poll_seconds: p.duration.as_secs_f64(),
        })
        .collect();
    let strict = args.servers.pf.strict;
    let status = fleet_status(&polls, fleet_analysis.fails(strict), strict);
    let mut err = io::stderr().lock();
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
        format => write(&hosts, &fleet_analysis, format, &opts, out),
    });
    match result {
        Err(e) if is_broken_pipe(&e) => Ok(status),
        other => other.map(|()| status),
    }
}

/// The fleet's exit status (see the module documentation).
pub fn fleet_status(polls: &[HostPoll], merged_fails: bool, strict: bool) -> Exit {
    let per_host: Vec<Exit> = polls
        .iter()
        .filter_map(|p| p.outcome.as_ref().ok())
        .map(|a| exit_status_with(a, strict))
        .collect();
    if merged_fails || per_host.contains(&Exit::Found) {
        return Exit::Found;
    }
    if let Some(e) = polls.iter().find_map(|p| p.outcome.as_ref().err()) {
        return Exit::from(e);
    }
    if per_host.contains(&Exit::DataErr) {
        return Exit::DataErr;
    }
    Exit::Ok
}
