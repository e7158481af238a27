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

use crate::analyze::Servers;
use crate::cli::{Format, LintArgs, ServerArgs};
use crate::exit::{Exit, Failure};
use crate::lint::tables::{self, Loaded};
use crate::lint::{self, LintReport, render};
use crate::matcher::Tables;
use crate::model::{Diagnostic, Rule, RuleKey};
use crate::source::{Options as SourceArgs, PollSink, SourceError};

/// Runs the command.
pub fn run(args: &LintArgs) -> anyhow::Result<Exit> {
    let servers = servers(&args.servers)?;
    let allow = allow_keys(&args.servers.allow)?;
    let source = args.source.options();
    let (text, table_dirs) = rules_text(&source)?;
    let (rules, diags) = crate::parse::rules::parse_rules(&text);
    report_diagnostics(&diags);
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
        )
        .into());
    }
    let loaded = load_tables(&source, &table_dirs, &rules);
    for (what, d) in &loaded.diagnostics {
        eprintln!("pfblame: {what} {d}");
    }
    let (mut report, exit) = lint_rules_with(&rules, &servers, &allow, &loaded.tables);
    report.notes.extend(loaded.notes);
    let out = match args.format {
        Format::Text => render::text(&report),
        Format::Json => crate::sanitize::json_safe(&render::json(&report)?).into_owned() + "\n",
        Format::Markdown => render::markdown(&report),
    };
    io::stdout().lock().write_all(out.as_bytes())?;
    Ok(exit)
}

/// The whole lint on parsed rules: findings minus the allowed rules, and
/// the exit status (1 when something is left).
pub fn lint_rules(rules: &[Rule], servers: &Servers, allow: &[RuleKey]) -> (LintReport, Exit) {
    lint_rules_with(rules, servers, allow, &Tables::new())
}

/// [`lint_rules`] with known table contents. Possible findings (a table
/// not known may hold the server) count: they also exit 1.
pub fn lint_rules_with(
    rules: &[Rule],
    servers: &Servers,
    allow: &[RuleKey],
    tables: &Tables,
) -> (LintReport, Exit) {
    let mut report = lint::predict_with(rules, servers, tables);
    report
        .findings
        .retain(|f| !allow.contains(&f.stateful_rule.key()));
    let exit = if lint::has_problems(&report.findings) {
        Exit::Found
    } else {
        Exit::Ok
    };
    (report, exit)
}

/// The contents of the tables the rules name: from the recording's
/// `tables/` directories, or from live `pfctl -t NAME -T show`.
fn load_tables(args: &SourceArgs, table_dirs: &[PathBuf], rules: &[Rule]) -> Loaded {
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

fn report_diagnostics(diags: &[Diagnostic]) {
    let mut err = io::stderr().lock();
    for d in diags.iter().take(STDERR_DIAGNOSTICS) {
        let _ = writeln!(err, "pfblame: rules {d}");
    }
    if diags.len() > STDERR_DIAGNOSTICS {
        let more = diags.len() - STDERR_DIAGNOSTICS;
        let _ = writeln!(err, "pfblame: rules: {more} more diagnostics not shown");
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

/// `--allow N` (main ruleset) or `--allow M:N` (anchor rule M, rule N).
pub fn allow_keys(items: &[String]) -> Result<Vec<RuleKey>, Failure> {
    items
        .iter()
        .map(|s| {
            let bad = || Failure::new(Exit::Usage, format!("--allow {s}: expected N or ANCHOR:N"));
            let (anchor, number) = match s.split_once(':') {
                Some((a, n)) => (Some(a.parse().map_err(|_| bad())?), n),
                None => (None, s.as_str()),
            };
            Ok(RuleKey {
                anchor,
                number: Some(number.parse().map_err(|_| bad())?),
            })
        })
        .collect()
}

/// The rules listing: `--from` read here (file, `DIR/rules.txt`, or the
/// last numbered poll's `rules.txt`), else one live poll. Also the
/// directories whose `tables/` may hold table contents: the poll's, then
/// the recording's.
fn rules_text(args: &SourceArgs) -> anyhow::Result<(String, Vec<PathBuf>)> {
    match &args.from {
        Some(path) => {
            let text = read_recorded_rules(path)?;
            Ok((text, table_dirs(path)))
        }
        None => Ok((live_rules(args)?, Vec::new())),
    }
}

/// Where a recording keeps its `tables/`: next to the rules listing read,
/// then at the top of the recording. A single file has none.
pub fn table_dirs(path: &Path) -> Vec<PathBuf> {
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
struct RulesOnly {
    text: String,
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
