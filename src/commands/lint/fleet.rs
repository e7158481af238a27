//! `lint` over several hosts (issue #17): `--ssh` repeated, `--host
//! NAME=COMMAND`, or `--from` a fleet recording. Each host's ruleset is
//! read and linted on its own thread (a host that hangs costs its own
//! timeout), with its own tables, and reported under its name.
//!
//! Exit status, over the whole fleet, as `report`'s: 1 when any host's
//! lint finds something; else the status of the first host that could not
//! be read (69 unreachable or timed out, 77, 66, 65…); else 0.

use std::io::{self, Write};

use serde::Serialize;

use super::{Listing, RulesOnly, lint_listing, read_recorded_rules, table_dirs};
use crate::cli::{Format, LintArgs};
use crate::exit::{Exit, Failure, exit_for, one_line};
use crate::lint::{LintReport, render, tables};
use crate::pf::{Allow, Servers};
use crate::sanitize::neutralize;
use crate::source::Options;
use crate::source::fleet::{HostSpec, Transport, host_pfctl, hosts, open_host};

/// The fleet the options name, or `None` for one host. `--conf` and
/// `--compare` name one candidate ruleset: with several hosts they are a
/// usage error, before any host is read.
pub(super) fn hosts_to_lint(
    args: &LintArgs,
    source: &Options,
) -> Result<Option<Vec<HostSpec>>, Failure> {
    let specs = hosts(source).map_err(|e| Failure::new(Exit::from(&e), e.to_string()))?;
    if specs.is_some() && (args.conf.is_some() || args.compare) {
        return Err(Failure::new(
            Exit::Usage,
            "lint --conf/--compare checks one candidate ruleset: name one host (nothing was run)",
        ));
    }
    Ok(specs)
}

/// One host's lint, or why its ruleset could not be read.
struct HostLint {
    name: String,
    outcome: Result<(LintReport, Exit), (Exit, String)>,
}

/// Lints every host and reports each under its name.
pub(super) fn run(
    args: &LintArgs,
    source: &Options,
    specs: &[HostSpec],
    servers: &Servers,
    allow: &Allow,
) -> anyhow::Result<Exit> {
    let linted: Vec<HostLint> = std::thread::scope(|scope| {
        let running: Vec<_> = specs
            .iter()
            .map(|spec| {
                let handle = scope.spawn(move || lint_host(spec, args, source, servers, allow));
                (spec.name.clone(), handle)
            })
            .collect();
        running
            .into_iter()
            .map(|(name, handle)| HostLint {
                outcome: handle.join().unwrap_or_else(|_| {
                    Err((
                        Exit::Internal,
                        "the lint of this host panicked (a bug in pfblame)".into(),
                    ))
                }),
                name,
            })
            .collect()
    });
    let mut err = io::stderr().lock();
    for h in &linted {
        if let Err((_, why)) = &h.outcome {
            writeln!(err, "pfblame: {}: {}", neutralize(&h.name), neutralize(why))?;
        }
    }
    let out = match args.format {
        Format::Json => crate::sanitize::json_safe(&json(&linted)?).into_owned() + "\n",
        Format::Markdown => markdown(&linted),
        _ => text(&linted),
    };
    match io::stdout().lock().write_all(out.as_bytes()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {}
        other => other?,
    }
    Ok(fleet_exit(&linted))
}

/// 1 when any host's lint found something; else the first failure's.
fn fleet_exit(linted: &[HostLint]) -> Exit {
    if linted
        .iter()
        .any(|h| matches!(h.outcome, Ok((_, Exit::Found))))
    {
        return Exit::Found;
    }
    linted
        .iter()
        .find_map(|h| h.outcome.as_ref().err().map(|(exit, _)| *exit))
        .unwrap_or(Exit::Ok)
}

/// Reads one host's rules (its recording's `rules.txt`, or one live poll
/// through its transport) and tables, and lints them.
fn lint_host(
    spec: &HostSpec,
    args: &LintArgs,
    source: &Options,
    servers: &Servers,
    allow: &Allow,
) -> Result<(LintReport, Exit), (Exit, String)> {
    let failed = |e: anyhow::Error| (exit_for(&e), one_line(&e));
    let who = format!("{}: ", spec.name);
    match &spec.transport {
        Transport::Recorded(dir) => {
            let text = read_recorded_rules(dir).map_err(|e| failed(e.into()))?;
            let dirs = table_dirs(dir);
            let listing = Listing {
                text: &text,
                recorded_dialect: crate::cli::recorded_dialect(dir),
                who: &who,
            };
            let (report, exit, _) = lint_listing(&listing, args, servers, allow, |rules| {
                tables::load_recorded(&dirs, &tables::referenced(rules))
            })
            .map_err(|e| failed(e.into()))?;
            Ok((report, exit))
        }
        Transport::Ssh(_) | Transport::Command(_) => {
            let pfctl = host_pfctl(spec, source)
                .map_err(|e| failed(e.into()))?
                .ok_or_else(|| (Exit::Internal, "no pfctl command for a live host".into()))?;
            let mut polled = open_host(spec, source).map_err(|e| failed(e.into()))?;
            let mut sink = RulesOnly::default();
            polled.poll(&mut sink).map_err(|e| failed(e.into()))?;
            let text = sink.into_text();
            let listing = Listing {
                text: &text,
                recorded_dialect: None,
                who: &who,
            };
            let (report, exit, _) = lint_listing(&listing, args, servers, allow, |rules| {
                let refs = tables::referenced(rules);
                if refs.is_empty() {
                    tables::Loaded::default()
                } else {
                    tables::load_live(&pfctl, &refs)
                }
            })
            .map_err(|e| failed(e.into()))?;
            Ok((report, exit))
        }
    }
}

/// `host fw-a:` and its lint, for each host; a host that could not be
/// read says why.
fn text(linted: &[HostLint]) -> String {
    let mut out = String::new();
    for (i, h) in linted.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        match &h.outcome {
            Ok((report, _)) => {
                out.push_str(&format!("host {}:\n", neutralize(&h.name)));
                out.push_str(&render::text(report));
            }
            Err((_, why)) => out.push_str(&format!(
                "host {}: LINT FAILED: {}\n",
                neutralize(&h.name),
                neutralize(why)
            )),
        }
    }
    out
}

fn markdown(linted: &[HostLint]) -> String {
    let mut out = String::from("### pfblame lint over a fleet\n");
    for h in linted {
        // Host names hold no markdown (checked when named).
        out.push_str(&format!("\n#### host `{}`\n\n", h.name));
        match &h.outcome {
            Ok((report, _)) => out.push_str(&render::markdown(report)),
            Err((_, why)) => out.push_str(&format!(
                "**lint failed:** {}\n",
                neutralize(why).replace('|', "\\|")
            )),
        }
    }
    out
}

#[derive(Serialize)]
struct FleetLintDto<'a> {
    schema_version: u32,
    hosts: Vec<HostLintDto<'a>>,
}

#[derive(Serialize)]
struct HostLintDto<'a> {
    name: &'a str,
    ok: bool,
    error: Option<&'a str>,
    /// This host's exit status alone (0 clean, 1 found, 69…).
    exit: u8,
    /// The host's own `lint --format json` document; null when it failed.
    report: Option<serde_json::Value>,
}

fn json(linted: &[HostLint]) -> anyhow::Result<String> {
    let hosts = linted
        .iter()
        .map(|h| {
            let (ok, error, exit, report) = match &h.outcome {
                Ok((report, exit)) => (
                    true,
                    None,
                    *exit,
                    Some(serde_json::from_str(&render::json(report)?)?),
                ),
                Err((exit, why)) => (false, Some(why.as_str()), *exit, None),
            };
            Ok(HostLintDto {
                name: &h.name,
                ok,
                error,
                exit: exit.code(),
                report,
            })
        })
        .collect::<anyhow::Result<Vec<_>>>()?;
    Ok(serde_json::to_string_pretty(&FleetLintDto {
        schema_version: 1,
        hosts,
    })?)
}
