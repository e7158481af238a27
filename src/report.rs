//! One-shot output of an [`crate::analyze::Analysis`]: text, JSON, markdown.
//!
//! Renderers only read the analysis; everything from pfctl (rule text,
//! anchor names, interface names) goes through [`crate::sanitize::neutralize`]
//! before it reaches a terminal or a document.

pub mod fleet;
pub mod json;
pub mod markdown;
pub mod openmetrics;
pub mod text;

use std::io::{self, Write};

use crate::analyze::{Analysis, Resolution, RuleRow, allow_text};
use crate::lint::{Finding, FindingSeverity};
use crate::model::{Endpoint, State};
use crate::sanitize::neutralize;

/// Output format of `report` and `lint` (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
    /// report: metrics for node_exporter's textfile collector or a scrape.
    #[value(name = "openmetrics")]
    OpenMetrics,
}

/// How to render.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// ANSI colour (text only); decided by the caller from `--color` and the terminal.
    pub color: bool,
    /// Example states shown per blamed rule.
    pub examples: usize,
    /// Rules listed without `--server` (the busiest ones).
    pub top: usize,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            color: false,
            examples: 3,
            top: 10,
        }
    }
}

/// Writes the report in `format`.
pub fn write(
    analysis: &Analysis,
    format: Format,
    opts: &Options,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        Format::Text => text::write(analysis, opts, out),
        Format::Json => json::write(analysis, opts, out),
        Format::Markdown => markdown::write(analysis, opts, out),
        // `host` localhost and no poll duration: callers that know better
        // (`report`) call [`openmetrics::write`] with their [`openmetrics::Scrape`].
        Format::OpenMetrics => openmetrics::write(analysis, &openmetrics::Scrape::default(), out),
    }
}

/// The rows to show: the blamed ones with `--server`, else the busiest.
pub(crate) fn rows_to_show<'a>(a: &'a Analysis, opts: &Options) -> Vec<(usize, &'a RuleRow)> {
    let chosen: Vec<&RuleRow> = if a.servers.is_empty() {
        a.busiest(opts.top)
    } else {
        a.blamed()
    };
    chosen
        .into_iter()
        .filter_map(|r| Some((row_index(a, r)?, r)))
        .collect()
}

fn row_index(a: &Analysis, row: &RuleRow) -> Option<usize> {
    a.rows.iter().position(|r| std::ptr::eq(r, row))
}

/// Up to `n` server states of row `row`, newest first (the ones a user can
/// still catch in the act).
///
/// The row's states are ordered by the store's age column, and built in
/// that order until `n` match and an older one comes: a row of thousands
/// of states builds a few, not all (the order by age, then line, is the
/// same).
pub(crate) fn examples(a: &Analysis, row: usize, n: usize) -> Vec<State> {
    if n == 0 {
        return Vec::new();
    }
    let age_key = |age: Option<u64>| age.unwrap_or(u64::MAX);
    let mut order: Vec<(u64, usize)> = a
        .states
        .rows()
        .enumerate()
        .filter(|(_, r)| *r == row)
        .map(|(i, _)| (age_key(a.states.age(i)), i))
        .collect();
    order.sort_unstable();
    let mut states = Vec::new();
    // The age of the n-th matching state: every state as young is built too.
    let mut cutoff = None;
    for (age, i) in order {
        if cutoff.is_some_and(|c| age > c) {
            break;
        }
        let Some(s) = a.states.state(i).filter(|s| a.servers.matches(s)) else {
            continue;
        };
        states.push(s);
        if states.len() == n {
            cutoff = Some(age);
        }
    }
    states.sort_by_key(|s| (age_key(s.age), s.line));
    states.truncate(n);
    states
}

/// `@14`, `@3:0` (anchor 3, rule 0), `default`; `@14 (gen 1)` for a rule
/// of an older ruleset than the analysis's (`generation`).
pub(crate) fn rule_label(row: &RuleRow, generation: u32) -> String {
    if row.generation == generation || row.generation == 0 {
        row.key.to_string()
    } else {
        format!("{} (gen {})", row.key, row.generation)
    }
}

/// The rule text as printed by pfctl, or what stands in for it.
pub(crate) fn rule_text(row: &RuleRow) -> String {
    match (&row.rule, &row.resolution) {
        (Some(rule), _) => neutralize(&rule.text).into_owned(),
        (None, Resolution::DefaultRule) => "(pf's default rule)".to_string(),
        (None, Resolution::Missing) => "(not in the current listing)".to_string(),
        (None, Resolution::Ambiguous { candidates }) => {
            format!("(one of {candidates} rules: wildcard or nested anchor)")
        }
        (None, Resolution::Found) => "(unknown)".to_string(),
    }
}

/// One state on one line: `tcp A -> B SYN_SENT:SYN_SENT, out, age 00:00:41`,
/// with A the side that opened the connection.
pub(crate) fn state_line(s: &State) -> String {
    let mut t = format!(
        "{} {} {}{} -> {}{}  {}:{}",
        neutralize(&s.iface),
        neutralize(&s.proto),
        endpoint(&s.src),
        nat(s.src_nat.as_deref()),
        endpoint(&s.dst),
        nat(s.dst_nat.as_deref()),
        neutralize(&s.src_state),
        neutralize(&s.dst_state),
    );
    t.push_str(&format!(", {}", s.direction));
    if let Some(age) = s.age {
        t.push_str(&format!(", age {}", hms(age)));
    }
    if let Some(id) = s.id {
        t.push_str(&format!(", id {id:016x}"));
    }
    t
}

fn endpoint(e: &Endpoint) -> String {
    neutralize(&e.to_string()).into_owned()
}

fn nat(e: Option<&Endpoint>) -> String {
    e.map(|e| format!(" ({})", endpoint(e))).unwrap_or_default()
}

/// `hh:mm:ss` as pfctl prints ages (hours unbounded).
pub(crate) fn hms(secs: u64) -> String {
    format!(
        "{:02}:{:02}:{:02}",
        secs / 3600,
        secs % 3600 / 60,
        secs % 60
    )
}

/// True when the row's states cannot have been made by its rule as listed
/// now: a rule of an older ruleset, or states that do not fit the rule.
fn is_stale(row: &RuleRow, generation: u32) -> bool {
    (row.generation != generation && row.generation != 0)
        || (row.mismatched_states > 0 && row.mismatched_states == row.server_states)
}

/// `error` / `warning`.
pub(crate) fn severity_text(s: FindingSeverity) -> &'static str {
    match s {
        FindingSeverity::Error => "error",
        FindingSeverity::Warning => "warning",
    }
}

/// The fix line of row `index`: when its states make replies skip a
/// routing rule, the finding's fix (add `no state`, then remove the
/// states: `--allow` would hide a routing bug); otherwise [`fix_hint`].
pub(crate) fn row_fix(a: &Analysis, index: usize, row: &RuleRow) -> String {
    let generation = a.generation.number;
    let mut fixes: Vec<&str> = Vec::new();
    for f in a
        .findings_for(index)
        .filter(|f| f.severity == FindingSeverity::Error)
    {
        if !fixes.contains(&f.fix.as_str()) {
            fixes.push(&f.fix);
        }
    }
    if fixes.is_empty() || is_stale(row, generation) {
        fix_hint(row, generation)
    } else {
        neutralize(&fixes.join("; ")).into_owned()
    }
}

/// The routing rules a row's states make packets skip (`@17`), in order.
pub(crate) fn skipped_rules(a: &Analysis, index: usize) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for b in a
        .findings_for(index)
        .filter_map(|f| f.bypassed_rule.as_ref())
    {
        let label = b.key().to_string();
        if !out.contains(&label) {
            out.push(label);
        }
    }
    out
}

/// The line under a finding's headline: the skipped rule as listed (the
/// message names it by number only). The message itself says when the
/// states' own routing confirms the verdict.
pub(crate) fn skipped_line(f: &Finding) -> Option<String> {
    f.bypassed_rule
        .as_ref()
        .map(|b| format!("skips {}: {}", b.key(), neutralize(&b.text)))
}

/// A one-line suggestion for a spurious row of an analysis whose ruleset
/// generation is `generation`.
pub(crate) fn fix_hint(row: &RuleRow, generation: u32) -> String {
    let allow = format!("--allow {}", allow_text(row.key));
    let stale = is_stale(row, generation);
    let keeps_state = row.rule.as_ref().is_some_and(|r| r.keeps_state());
    match &row.resolution {
        Resolution::Found if keeps_state && !stale => format!(
            "if these states are expected: {allow}; if not, add `no state` to rule {} (or keep \
             the server's traffic away from it, e.g. put the route-to rules before it)",
            row.key
        ),
        Resolution::DefaultRule => format!(
            "add an explicit rule for this traffic (`no state` where replies must be routed); \
             if expected: {allow}"
        ),
        Resolution::Ambiguous { .. } => format!(
            "look at the anchors' rules with this number and add `no state` to the one meant; \
             if expected: {allow}"
        ),
        _ => format!(
            "these states predate the current ruleset: they expire on their own (or kill them \
             with pfctl -k); if expected: {allow}"
        ),
    }
}

/// "24 in the table, 4 for the servers (2 new, 1 gone in 3.0 s)": the
/// states line of the text and markdown reports.
pub(crate) fn states_summary(a: &Analysis) -> String {
    let mut line = format!("{} in the table", a.total_states);
    if !a.servers.is_empty() {
        line.push_str(&format!(", {} for the servers", a.server_states));
    }
    if let (Some(new), Some(gone)) = (a.new_server_states, a.gone_server_states) {
        match a.interval {
            Some(dt) => line.push_str(&format!(" ({new} new, {gone} gone in {dt:.1} s)")),
            None => line.push_str(&format!(" ({new} new, {gone} gone)")),
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The examples of a row: the youngest matching states, ties by line,
    /// as sorting every matching state of the row gives them.
    #[test]
    fn examples_are_the_youngest_matching_states_of_the_row() {
        use crate::analyze::Config;
        use crate::analyze::tests::state;
        use crate::pf::servers::Servers;
        let cfg = Config {
            servers: Servers::parse(&["2001:db8::10".into()], &[443]).expect("servers"),
            ..Config::default()
        };
        let mut b = crate::poll::SampleBuilder::new(&cfg);
        // Ages with ties and a missing one; port 22 states are kept (the
        // server's address) but do not match `--port 443`.
        let ages = [
            Some(5),
            Some(1),
            Some(1),
            None,
            Some(7),
            Some(1),
            Some(0),
            Some(5),
        ];
        for (k, age) in ages.into_iter().enumerate() {
            let port = if k % 3 == 2 { 22 } else { 443 };
            let mut s = state(
                "2001:db8:1::5",
                5000 + k as u16,
                "2001:db8::10",
                port,
                Some(3),
            );
            s.age = age;
            s.line = 100 - k;
            b.add_state(s);
        }
        let sample = b.finish(None);
        let a = crate::analyze::analyze(None, &sample, &cfg);
        let row = a
            .rows
            .iter()
            .position(|r| r.key.number == Some(3))
            .expect("the row of rule 3");
        let lines = |v: Vec<State>| v.iter().map(|s| s.line).collect::<Vec<_>>();
        for n in 0..=ages.len() + 1 {
            let mut all: Vec<State> = a.states_of(row).filter(|s| a.servers.matches(s)).collect();
            all.sort_by_key(|s| (s.age.unwrap_or(u64::MAX), s.line));
            all.truncate(n);
            assert_eq!(lines(examples(&a, row, n)), lines(all), "n = {n}");
        }
        // Age 0 (line 94), age 1 (line 99; 98 and 95 are port 22), then the
        // lower line of the two of age 5.
        assert_eq!(lines(examples(&a, row, 3)), [94, 99, 93]);
    }

    #[test]
    fn hms_has_unbounded_hours() {
        assert_eq!(hms(0), "00:00:00");
        assert_eq!(hms(94449), "26:14:09");
    }
}
