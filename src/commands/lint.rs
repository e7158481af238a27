//! `pfblame lint`: predict spurious states from the rules alone.
//!
//! Reads one rules listing (live `pfctl -a '*' -vvsr`, or `--from` a file,
//! a recorded directory's `rules.txt`, or the last poll of a recorded
//! sequence), derives the server's paths from its `route-to`/`reply-to`
//! rules, and says which stateful rules would create states that make
//! packets skip them. Tables the rules name are read when possible
//! (recording: `tables/NAME.txt`; live: `pfctl -t NAME -T show`); rules
//! naming tables that stay unknown give possible findings. Exit 1 when it
//! finds something (possible findings included), 0 when clean.

use std::fs;
use std::io::{self, BufRead, Write};
use std::path::{Path, PathBuf};

use ipnet::IpNet;

use crate::cli::{Format, LintArgs, ServerArgs};
use crate::exit::{Exit, Failure};
use crate::lint::FindingRule;
use crate::lint::tables::{self, Loaded};
use crate::lint::{self, LintReport, render};
use crate::model::{Diagnostic, Rule};
use crate::pf::matcher::Tables;
use crate::pf::{Allow, Servers};
use crate::source::{Options as SourceArgs, PollSink, SourceError};

mod fleet;

/// Runs the command.
pub fn run(args: &LintArgs) -> anyhow::Result<Exit> {
    if args.format == Format::OpenMetrics {
        return Err(openmetrics_refused().into());
    }
    let servers = servers(&args.servers)?;
    let allow =
        crate::pf::parse_allow(&args.servers.allow).map_err(|e| Failure::new(Exit::Usage, e))?;
    let source = args.source.options();
    if let Some(hosts) = fleet::hosts_to_lint(args, &source)? {
        return fleet::run(args, &source, &hosts, &servers, &allow);
    }
    let (text, table_dirs) = match &args.conf {
        Some(conf) => (candidate_text(&source, conf)?, Vec::new()),
        None => rules_text(&source)?,
    };
    let recorded = match (&args.conf, &source.from) {
        (None, Some(from)) => crate::cli::recorded_dialect(from),
        _ => None,
    };
    let listing = Listing {
        text: &text,
        recorded_dialect: recorded,
        who: "",
    };
    let (report, exit, tables) = lint_listing(&listing, args, &servers, &allow, |rules| {
        load_tables(&source, &table_dirs, rules)
    })?;
    if args.compare {
        let (now_text, _) = rules_text(&source)?;
        let (now_rules, _) = crate::parse::rules::parse_rules(&now_text);
        let opts = lint::predict::PredictOptions {
            dialect: args.servers.pf.pf,
            recorded_dialect: recorded,
            reply_via: args.servers.pf.reply_via.clone(),
        };
        let (now, _) = lint_rules_in(
            &now_rules,
            &servers,
            &allow,
            &tables,
            &opts,
            args.servers.pf.strict,
        );
        let table = compare_text(&compare(&now, &report));
        io::stdout().lock().write_all(table.as_bytes())?;
        return Ok(exit);
    }
    let out = match args.format {
        Format::Text => render::text(&report),
        Format::Json => crate::sanitize::json_safe(&render::json(&report)?).into_owned() + "\n",
        Format::Markdown => render::markdown(&report),
        Format::OpenMetrics => return Err(openmetrics_refused().into()),
    };
    io::stdout().lock().write_all(out.as_bytes())?;
    Ok(exit)
}

/// One rules listing to lint, and where it came from.
pub(crate) struct Listing<'a> {
    pub text: &'a str,
    /// The dialect a recording's `meta.toml` names.
    pub recorded_dialect: Option<crate::pf::Dialect>,
    /// `fw-a: ` before its diagnostics on stderr (a fleet's host), or "".
    pub who: &'a str,
}

/// Parses `listing`, loads the tables its rules name with `load`, and
/// lints it as the options say: the report, its exit status (1 when
/// something is found), and the tables (for `--compare`). A listing with
/// no rule and parse errors is a failure (exit 65): nothing to lint.
pub(crate) fn lint_listing(
    listing: &Listing<'_>,
    args: &LintArgs,
    servers: &Servers,
    allow: &Allow,
    load: impl FnOnce(&[Rule]) -> Loaded,
) -> Result<(LintReport, Exit, Tables), Failure> {
    // `pfctl -nv` prints no `@N`: the rules parser numbers such rules by
    // position, per ruleset, the way pf will (`Rule::number_inferred`).
    let (rules, diags) = crate::parse::rules::parse_rules(listing.text);
    report_diagnostics(listing.who, &diags);
    let errors = diags
        .iter()
        .filter(|d| d.severity == crate::model::Severity::Error)
        .count();
    if rules.is_empty() && errors > 0 {
        // Nothing to lint, and not because the ruleset is empty.
        return Err(Failure::new(
            Exit::DataErr,
            format!(
                "the rules listing could not be parsed ({errors} errors): is --pfctl really pfctl?"
            ),
        ));
    }
    let loaded = load(&rules);
    for (what, d) in &loaded.diagnostics {
        eprintln!("pfblame: {}{what} {d}", listing.who);
    }
    let opts = lint::predict::PredictOptions {
        dialect: args.servers.pf.pf,
        recorded_dialect: listing.recorded_dialect,
        reply_via: args.servers.pf.reply_via.clone(),
    };
    let (mut report, exit) = lint_rules_in(
        &rules,
        servers,
        allow,
        &loaded.tables,
        &opts,
        args.servers.pf.strict,
    );
    report.notes.extend(loaded.notes);
    Ok((report, exit, loaded.tables))
}

/// `lint --format openmetrics` is a usage error: the metrics describe
/// live states, which `report` reads.
fn openmetrics_refused() -> Failure {
    Failure::new(
        Exit::Usage,
        "lint --format openmetrics: metrics are written by `report` (nothing was run)",
    )
}

/// The whole lint on parsed rules: findings minus the allowed rules, and
/// the exit status (1 when something is left).
pub fn lint_rules(rules: &[Rule], servers: &Servers, allow: &Allow) -> (LintReport, Exit) {
    lint_rules_with(rules, servers, allow, &Tables::new())
}

/// [`lint_rules`] with known table contents. Possible findings (a table
/// not known may hold the server) count: they also exit 1.
pub(crate) fn lint_rules_with(
    rules: &[Rule],
    servers: &Servers,
    allow: &Allow,
    tables: &Tables,
) -> (LintReport, Exit) {
    lint_rules_in(
        rules,
        servers,
        allow,
        tables,
        &lint::predict::PredictOptions::default(),
        false,
    )
}

/// [`lint_rules_with`] for a dialect / `--reply-via`, and `--strict`.
/// Exit 1 when a rule is predicted `bypass` or `blocked`, a finding says
/// the replies are (or, if a condition holds, may be) misrouted or
/// dropped; with `--strict` also for `stateful` and `unexplained` rules.
/// Allowed rules are left out.
pub fn lint_rules_in(
    rules: &[Rule],
    servers: &Servers,
    allow: &Allow,
    tables: &Tables,
    opts: &lint::predict::PredictOptions,
    strict: bool,
) -> (LintReport, Exit) {
    let mut report = lint::predict::predict_in(rules, servers, tables, opts);
    report
        .findings
        .retain(|f| allowed_by(allow, rules, &f.stateful_rule).is_none());
    for v in &mut report.verdicts {
        if let Some(by) = allowed_by(allow, rules, &v.rule) {
            v.verdict = crate::pf::Verdict::Allowed;
            v.reason = format!("allowed with --allow {by}: {}", v.reason);
        }
    }
    let failing = report.verdicts.iter().any(|v| v.verdict.fails(strict));
    let exit = if failing || lint::has_problems(&report.findings) {
        Exit::Found
    } else {
        Exit::Ok
    };
    (report, exit)
}

/// `pfctl -nvf FILE`: pfctl parses the candidate ruleset and prints it,
/// loading nothing (`-n`). Over `--pfctl 'ssh fw doas pfctl'` FILE is a
/// path on the router.
fn candidate_text(args: &SourceArgs, conf: &str) -> anyhow::Result<String> {
    let pfctl = crate::source::Pfctl::from_options(&args.pfctl)?;
    let (text, _) = pfctl.run(&["-n", "-v", "-f", conf])?;
    Ok(text)
}

/// One rule whose predicted verdict the candidate ruleset changes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub text: String,
    pub loaded: Option<crate::pf::Verdict>,
    pub candidate: Option<crate::pf::Verdict>,
}

impl Change {
    /// `fixes` (a failure goes away), `breaks` (one appears), else `changes`.
    pub fn effect(&self) -> &'static str {
        let bad = |v: Option<crate::pf::Verdict>| v.is_some_and(crate::pf::Verdict::is_failure);
        match (bad(self.loaded), bad(self.candidate)) {
            (true, false) => "fixes",
            (false, true) => "breaks",
            _ => "changes",
        }
    }
}

/// The verdicts that differ between the loaded and the candidate ruleset,
/// matched by rule text (numbers move when rules are added).
pub fn compare(loaded: &LintReport, candidate: &LintReport) -> Vec<Change> {
    let key = |t: &str| crate::lint::flow::stateless_text(t);
    let mut out: Vec<Change> = Vec::new();
    for v in &loaded.verdicts {
        let other = candidate
            .verdicts
            .iter()
            .find(|c| key(&c.rule.text) == key(&v.rule.text));
        if other.map(|c| c.verdict) != Some(v.verdict) {
            out.push(Change {
                text: v.rule.text.clone(),
                loaded: Some(v.verdict),
                candidate: other.map(|c| c.verdict),
            });
        }
    }
    for c in &candidate.verdicts {
        if !loaded
            .verdicts
            .iter()
            .any(|v| key(&v.rule.text) == key(&c.rule.text))
        {
            out.push(Change {
                text: c.rule.text.clone(),
                loaded: None,
                candidate: Some(c.verdict),
            });
        }
    }
    out
}

/// The comparison as a table.
pub(crate) fn compare_text(changes: &[Change]) -> String {
    use std::fmt::Write as _;
    if changes.is_empty() {
        return "the candidate ruleset changes no verdict\n".into();
    }
    let word = |v: Option<crate::pf::Verdict>| v.map_or("-", crate::pf::Verdict::word);
    let mut out = format!(
        "{:<8} {:<12} {:<12} RULE\n",
        "EFFECT", "LOADED", "CANDIDATE"
    );
    for c in changes {
        let _ = writeln!(
            out,
            "{:<8} {:<12} {:<12} {}",
            c.effect(),
            word(c.loaded),
            word(c.candidate),
            crate::sanitize::neutralize(&c.text)
        );
    }
    out
}

/// The contents of the tables the rules name: from the recording's
/// `tables/` directories, or from live `pfctl -t NAME -T show`.
pub(crate) fn load_tables(args: &SourceArgs, table_dirs: &[PathBuf], rules: &[Rule]) -> Loaded {
    let refs = tables::referenced(rules);
    if refs.is_empty() {
        return Loaded::default();
    }
    if args.from.is_some() {
        return tables::load_recorded(table_dirs, &refs);
    }
    match crate::source::Pfctl::from_options(&args.pfctl) {
        Ok(pfctl) => tables::load_live(&pfctl, &refs),
        // The rules were just read with the same options: cannot happen,
        // but say so rather than panic.
        Err(e) => Loaded {
            notes: vec![format!("tables not read: {e}")],
            ..Loaded::default()
        },
    }
}

/// Diagnostics repeated on stderr; the rest are counted (garbage output
/// would otherwise print one line per line of garbage).
const STDERR_DIAGNOSTICS: usize = 10;

fn report_diagnostics(who: &str, diags: &[Diagnostic]) {
    let mut err = io::stderr().lock();
    for d in diags.iter().take(STDERR_DIAGNOSTICS) {
        let _ = writeln!(err, "pfblame: {who}rules {d}");
    }
    if diags.len() > STDERR_DIAGNOSTICS {
        let more = diags.len() - STDERR_DIAGNOSTICS;
        let _ = writeln!(
            err,
            "pfblame: {who}rules: {more} more diagnostics not shown"
        );
    }
}

/// `-s ADDR[/LEN]` (a bare address is a host) and `-p N`. No server is a
/// usage error: lint has nothing to check without one.
pub fn servers(args: &ServerArgs) -> Result<Servers, Failure> {
    if args.servers.is_empty() {
        return Err(Failure::new(
            Exit::Usage,
            "lint needs the server address: -s ADDR[/LEN]",
        ));
    }
    let nets = args
        .servers
        .iter()
        .map(|s| parse_net(s))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Servers {
        nets,
        ports: args.ports.clone(),
    })
}

fn parse_net(s: &str) -> Result<IpNet, Failure> {
    s.parse::<IpNet>()
        .or_else(|_| s.parse::<std::net::IpAddr>().map(IpNet::from))
        .map_err(|_| Failure::new(Exit::Usage, format!("-s {s}: not an address or prefix")))
}

/// The `--allow` value that covers the rule a finding names: by its
/// numbers, or by the labels and anchor of the listed rule.
fn allowed_by<'a>(allow: &'a Allow, rules: &[Rule], named: &FindingRule) -> Option<&'a str> {
    let labels = rules
        .iter()
        .find(|r| r.anchor_path == named.anchor_path && r.number == named.number)
        .map_or(&[][..], |r| r.labels.as_slice());
    allow.matching(Some(named.key()), &named.anchor_path, labels)
}

/// The rules listing: `--from` read here (file, `DIR/rules.txt`, or the
/// last numbered poll's `rules.txt`), else one live poll. Also the
/// directories whose `tables/` may hold table contents: the poll's, then
/// the recording's.
fn rules_text(args: &SourceArgs) -> anyhow::Result<(String, Vec<PathBuf>)> {
    match &args.from {
        Some(path) => {
            let text = read_recorded_rules(path)?;
            crate::source::install_services(args);
            Ok((text, table_dirs(path)))
        }
        None => Ok((live_rules(args)?, Vec::new())),
    }
}

/// Where a recording keeps its `tables/`: next to the rules listing read,
/// then at the top of the recording. A single file has none.
pub(crate) fn table_dirs(path: &Path) -> Vec<PathBuf> {
    if !path.is_dir() {
        return Vec::new();
    }
    let mut dirs = Vec::new();
    if let Some(poll) = recorded_rules_file(path).and_then(|f| f.parent().map(Path::to_path_buf))
        && poll != path
    {
        dirs.push(poll);
    }
    dirs.push(path.to_path_buf());
    dirs
}

/// Finds and reads the rules listing of a recording.
pub fn read_recorded_rules(path: &Path) -> Result<String, SourceError> {
    let missing = || SourceError::MissingInput {
        path: path.display().to_string(),
    };
    let meta = fs::metadata(path).map_err(|_| missing())?;
    let file = if meta.is_dir() {
        recorded_rules_file(path).ok_or_else(|| SourceError::BadRecording {
            path: path.display().to_string(),
            detail: "no rules.txt (nor numbered polls holding one)".into(),
        })?
    } else {
        path.to_path_buf()
    };
    let bytes = fs::read(&file).map_err(|e| SourceError::Io {
        what: file.display().to_string(),
        source: e,
    })?;
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn recorded_rules_file(dir: &Path) -> Option<PathBuf> {
    let direct = dir.join("rules.txt");
    if direct.is_file() {
        return Some(direct);
    }
    // A sequence of polls: 0001/, 0002/, … — the last one is the newest.
    let mut polls: Vec<PathBuf> = fs::read_dir(dir)
        .ok()?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        })
        .filter(|p| p.join("rules.txt").is_file())
        .collect();
    polls.sort();
    polls.pop().map(|p| p.join("rules.txt"))
}

/// Collects the rules of one poll; states are not needed and not kept.
#[derive(Default)]
pub(crate) struct RulesOnly {
    text: String,
}

impl RulesOnly {
    pub(crate) fn into_text(self) -> String {
        self.text
    }
}

impl PollSink for RulesOnly {
    fn rules(&mut self, text: &str) {
        self.text = text.to_string();
    }

    fn states(&mut self, _rule: Option<u32>, input: &mut dyn BufRead) -> io::Result<()> {
        // Drain so a live pfctl is never blocked on a full pipe.
        io::copy(input, &mut io::sink()).map(|_| ())
    }
}

fn live_rules(args: &SourceArgs) -> anyhow::Result<String> {
    let mut source = crate::source::open(args)?;
    let mut sink = RulesOnly::default();
    source.poll(&mut sink)?;
    Ok(sink.text)
}
