//! `report --format json`: one object (the contract in `shared/design.md`:
//! `taken_at`, `servers`, `total_states`, `server_states`, `rules`,
//! `diagnostics`; more fields are additions). Dedicated DTOs keep the
//! contract independent of the analysis types.

use std::io::{self, Write};
use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;

use super::{Options, examples, row_fix, rows_to_show};
use crate::analyze::{Analysis, Resolution, RuleRow, Verdict, net_text};
use crate::lint::Finding;
use crate::model::{Diagnostic, Direction, Endpoint, State};

/// Bumped when a field changes meaning or disappears (additions keep it).
pub(crate) const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Serialize)]
pub struct Report<'a> {
    pub schema_version: u32,
    /// RFC 3339, from the sample (never the clock).
    pub taken_at: Option<String>,
    /// Server prefixes, host prefixes as bare addresses.
    pub servers: Vec<String>,
    pub ports: &'a [u16],
    pub total_states: u64,
    pub server_states: u64,
    /// Every rule that owns at least one server state, most first.
    pub rules: Vec<RuleDto<'a>>,
    /// Without `--server`: the rules owning the most states.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub busiest: Vec<RuleDto<'a>>,
    /// Some rule's states misroute or drop the replies (`bypass`/`blocked`).
    pub misrouted: bool,
    /// The pf dialect the verdicts hold for (`openbsd`, `freebsd`, …).
    pub dialect: Option<crate::pf::Dialect>,
    /// How it was chosen: `--pf`, `detected` or `assumed`, and the clues.
    pub dialect_source: Option<&'a crate::pf::dialect::Detected>,
    pub generation: GenerationDto,
    pub samples: u32,
    /// Seconds that `new_*`, `gone_*` and `rate` cover: the whole run for
    /// `report --samples N`.
    pub interval: Option<f64>,
    pub new_server_states: Option<u64>,
    pub gone_server_states: Option<u64>,
    pub warnings: &'a [String],
    pub diagnostics: &'a [Diagnostic],
    /// Why the server states matter, most severe first: which rule's states
    /// make packets skip which `route-to` / `reply-to` rule (`bypass`,
    /// error), or states that skip no routing rule (`server-states`,
    /// warning). The fields of `pfblame lint --format json`'s findings.
    pub findings: &'a [Finding],
    /// The CARP status, when ifconfig was read (`--carp`, `carp.txt`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub carp: Option<CarpDto<'a>>,
}

/// The CARP status of one host (`ifconfig`): `state` is the one state of
/// every vhid (`MASTER`, `BACKUP`, `INIT`, `<UNKNOWN>`), `mixed` when they
/// differ, `none` without a carp interface.
#[derive(Debug, Serialize)]
pub struct CarpDto<'a> {
    pub state: &'static str,
    pub vhids: &'a [crate::model::carp::CarpVhid],
}

pub(crate) fn carp_dto(c: &crate::model::carp::Carp) -> CarpDto<'_> {
    CarpDto {
        state: c.overall_word(),
        vhids: &c.vhids,
    }
}

#[derive(Debug, Serialize)]
pub struct RuleDto<'a> {
    /// `anchor M` as states print it (null for the main ruleset).
    pub anchor: Option<u32>,
    pub anchor_path: &'a str,
    /// `rule N` / `@N` (null for the default rule).
    pub number: Option<u32>,
    /// The rule as pfctl printed it (null when the listing has no such rule).
    pub text: Option<&'a str>,
    pub server_states: u64,
    pub all_states: u64,
    pub verdict: Option<Verdict>,
    pub reason: &'a str,
    pub fix: Option<String>,
    pub resolution: &'a Resolution,
    /// The ruleset generation the rule belongs to.
    pub generation: u32,
    /// 1-based line of the rule in the rules listing.
    pub line: Option<usize>,
    pub new_states: Option<u64>,
    pub gone_states: Option<u64>,
    /// New server states per second since the previous sample.
    pub rate: Option<f64>,
    pub creations_rate: Option<f64>,
    pub older_states: u64,
    pub mismatched_states: u64,
    pub server_addrs: &'a [IpAddr],
    pub examples: Vec<StateDto>,
    /// One server state's connection walked through pf: hops, intended
    /// and real exit of the replies.
    pub reply_path: Option<&'a crate::pf::path::ReplyPath>,
}

#[derive(Debug, Serialize)]
pub struct GenerationDto {
    pub number: u32,
    /// 16 hex digits.
    pub fingerprint: String,
    pub changed_at: Option<String>,
}

/// An example state, in the field names of `parse --format json`. Owned:
/// the analysis keeps its states in a compact store and builds each one
/// on demand.
#[derive(Debug, Serialize)]
pub struct StateDto {
    pub line: usize,
    pub iface: Arc<str>,
    pub proto: Arc<str>,
    pub direction: Direction,
    pub src: Endpoint,
    pub dst: Endpoint,
    pub src_nat: Option<Endpoint>,
    pub dst_nat: Option<Endpoint>,
    pub src_state: Arc<str>,
    pub dst_state: Arc<str>,
    pub age: Option<u64>,
    pub id: Option<String>,
}

pub fn build<'a>(a: &'a Analysis, opts: &Options) -> Report<'a> {
    let rows: Vec<RuleDto<'a>> = rows_to_show(a, opts)
        .into_iter()
        .map(|(i, r)| rule_dto(a, i, r, opts))
        .collect();
    let (rules, busiest) = if a.servers.is_empty() {
        (Vec::new(), rows)
    } else {
        (rows, Vec::new())
    };
    Report {
        schema_version: SCHEMA_VERSION,
        taken_at: a.taken_at.map(|t| t.to_rfc3339()),
        servers: a.servers.nets.iter().map(net_text).collect(),
        ports: &a.servers.ports,
        total_states: a.total_states,
        server_states: a.server_states,
        rules,
        busiest,
        misrouted: a.has_failures(),
        dialect: a.dialect.as_ref().map(|d| d.dialect),
        dialect_source: a.dialect.as_ref(),
        generation: GenerationDto {
            number: a.generation.number,
            fingerprint: format!("{:016x}", a.generation.fingerprint),
            changed_at: a.generation.changed_at.map(|t| t.to_rfc3339()),
        },
        samples: a.samples,
        interval: a.interval,
        new_server_states: a.new_server_states,
        gone_server_states: a.gone_server_states,
        warnings: &a.warnings,
        diagnostics: &a.diagnostics,
        findings: &a.findings,
        carp: a.carp.as_ref().map(carp_dto),
    }
}

fn rule_dto<'a>(a: &'a Analysis, index: usize, row: &'a RuleRow, opts: &Options) -> RuleDto<'a> {
    let failing = row.verdict.is_some_and(Verdict::is_failure);
    RuleDto {
        anchor: row.key.anchor,
        anchor_path: &row.anchor_path,
        number: row.key.number,
        text: row.rule.as_ref().map(|r| r.text.as_str()),
        server_states: row.server_states,
        all_states: row.all_states,
        verdict: row.verdict,
        reason: &row.reason,
        fix: failing.then(|| row_fix(a, index, row)),
        resolution: &row.resolution,
        generation: row.generation,
        line: row.rule.as_ref().map(|r| r.line),
        new_states: row.new_states,
        gone_states: row.gone_states,
        rate: row.rate,
        creations_rate: row.creations_rate,
        older_states: row.older_states,
        mismatched_states: row.mismatched_states,
        server_addrs: &row.server_addrs,
        reply_path: row.reply_path.as_ref(),
        examples: if a.servers.is_empty() {
            Vec::new()
        } else {
            examples(a, index, opts.examples)
                .into_iter()
                .map(state_dto)
                .collect()
        },
    }
}

fn state_dto(s: State) -> StateDto {
    StateDto {
        line: s.line,
        iface: s.iface,
        proto: s.proto,
        direction: s.direction,
        src: s.src,
        dst: s.dst,
        src_nat: s.src_nat.map(|e| *e),
        dst_nat: s.dst_nat.map(|e| *e),
        src_state: s.src_state,
        dst_state: s.dst_state,
        age: s.age,
        id: s.id.map(|id| format!("{id:016x}")),
    }
}

pub fn write(a: &Analysis, opts: &Options, out: &mut dyn Write) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, &build(a, opts))?;
    writeln!(out)
}
