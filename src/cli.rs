//! Command line (a stable contract: see `shared/design.md`).
//!
//! Each subcommand takes only the options that mean something for it, and
//! an option means the same wherever it is written: options of the default
//! `watch` command given *before* a subcommand (`pfblame --from X report`)
//! are refused with a usage error ([`parse_from`]) rather than ignored, so
//! pfblame never acts on a source the user did not name.
//!
//! The clap types stop at `src/commands/`: each command converts them to the
//! core types ([`crate::source::Options`]) before anything runs.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use clap::parser::ValueSource;
use clap::{Args, CommandFactory, FromArgMatches, Parser, Subcommand, ValueEnum};

pub use crate::report::Format;
pub use crate::source::Strategy;
use crate::source::{HostTimeout, Options, PfctlOptions};

/// `--version`: the version, git commit, build date and target (build.rs).
pub(crate) const LONG_VERSION: &str = concat!(
    env!("CARGO_PKG_VERSION"),
    " (commit ",
    env!("PFBLAME_GIT_COMMIT"),
    ", built ",
    env!("PFBLAME_BUILD_DATE"),
    ", ",
    env!("PFBLAME_TARGET"),
    ")"
);

const AFTER_HELP: &str = "\
Examples:
  doas pfblame -s 2001:db8::10                      watch live, on the router
  pfblame --ssh fw --pfctl 'doas pfctl' -s 2001:db8::10 -p 443
                                                    watch a router over ssh
  pfblame report --from DIR -s 192.0.2.10 --format json
                                                    report on a recording

Exit status:
  0   ok, nothing found
  1   report: replies misrouted or blocked by server states; lint: predicted
  2   usage error
  65  input could not be parsed
  66  input path missing
  69  pfctl not found, not runnable, timed out or failed
  70  internal error
  77  permission denied (run as root or with doas)
  78  the configuration file is invalid
  check (a Nagios/Icinga plugin): 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN";

#[derive(Debug, Parser)]
#[command(
    name = "pfblame",
    version = LONG_VERSION,
    about = "Which pf rule is to blame for this state? Finds the rules that created states for a server address.",
    long_about = None,
    after_help = AFTER_HELP,
    args_conflicts_with_subcommands = false,
    subcommand_negates_reqs = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Options of the default `watch` command.
    #[command(flatten)]
    pub watch: WatchArgs,

    /// Configuration file (default: $PFBLAME_CONFIG, then
    /// $XDG_CONFIG_HOME/pfblame/config.toml, then /etc/pfblame.toml).
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Use the settings of [profiles.NAME] of the configuration file.
    #[arg(short = 'P', long, global = true, value_name = "NAME")]
    pub profile: Option<String>,
}

/// Parses the command line like [`Parser::try_parse_from`], and refuses
/// options of the default command written before a subcommand: clap would
/// accept them for `watch` and the subcommand would silently ignore them
/// (`pfblame --from REC report --kill` polled the live pfctl).
pub fn parse_from<I, T>(args: I) -> Result<Cli, clap::Error>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let mut command = Cli::command();
    let matches = command.try_get_matches_from_mut(args)?;
    if let Some((sub, _)) = matches.subcommand() {
        let early: Vec<String> = command
            .get_arguments()
            // Global options (--config, --profile) belong anywhere.
            .filter(|a| !a.is_global_set())
            .filter(|a| matches.value_source(a.get_id().as_str()) == Some(ValueSource::CommandLine))
            .map(|a| match (a.get_long(), a.get_short()) {
                (Some(long), _) => format!("--{long}"),
                (None, Some(short)) => format!("-{short}"),
                (None, None) => a.get_id().to_string(),
            })
            .collect();
        if !early.is_empty() {
            return Err(command.error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "{} given before the subcommand `{sub}`: options go after it \
                     (pfblame {sub} {} …), nothing was run",
                    early.join(", "),
                    early.join(" … ")
                ),
            ));
        }
    }
    Cli::from_arg_matches(&matches).map_err(|e| e.format(&mut command))
}

/// Parses `std::env::args_os()` (see [`parse_from`]).
pub fn parse() -> Result<Cli, clap::Error> {
    parse_from(std::env::args_os())
}

/// Checks a number of seconds (`--interval`, `--timeout`): positive, finite,
/// from 0.1 to 3600. The one place these options are validated.
pub fn seconds(text: &str) -> Result<Duration, String> {
    const MIN: f64 = 0.1;
    const MAX: f64 = 3600.0;
    let secs: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("`{text}` is not a number of seconds"))?;
    if !(MIN..=MAX).contains(&secs) {
        return Err(format!(
            "must be a positive number of seconds from {MIN} to {MAX}, not {text}"
        ));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Interactive TUI (the default command).
    Watch(WatchArgs),
    /// One-shot report of the rules that created server states.
    Report(ReportArgs),
    /// Parse pfctl output (states, rules, or `pfctl -sa`) and print it.
    Parse(ParseArgs),
    /// Capture live pfctl output into DIR, in the recorded layout.
    Record(RecordArgs),
    /// Predict spurious states from the rules alone.
    Lint(LintArgs),
    /// The TUI on the bundled recorded scenario (no BSD needed).
    Demo(DemoArgs),
    /// Show the configuration file in use and its effective settings.
    Config(ConfigArgs),
    /// Print a shell completion script (e.g. `source <(pfblame completions bash)`).
    Completions(CompletionsArgs),
    /// Nagios/Icinga plugin: one line; exit 0 OK, 1 WARNING, 2 CRITICAL, 3 UNKNOWN.
    Check(CheckArgs),
}

/// How live pfctl is run: locally, or on one host through ssh.
#[derive(Debug, Clone, Args)]
pub struct PfctlArgs {
    /// pfctl command, split into words like a shell would (e.g. 'doas pfctl'),
    /// then run without a shell; with --ssh, the command run on the host.
    /// It may not contain ssh: use --ssh HOST.
    #[arg(long, value_name = "CMD", default_value = "pfctl")]
    pub pfctl: String,

    /// Run pfctl on HOST through ssh (`ssh [--ssh-opt…] HOST -- CMD`), every
    /// remote word quoted for the remote shell.
    #[arg(long, value_name = "HOST")]
    pub ssh: Vec<String>,

    /// Another host of the fleet, reached by COMMAND (repeatable): COMMAND
    /// is split into words (no shell) and given the remote pfctl command
    /// line, quoted, as its last word, as ssh is (e.g. 'fw2=ssh -J jump fw2').
    #[arg(long = "host", value_name = "NAME=COMMAND")]
    pub hosts: Vec<String>,

    /// One word handed to ssh before HOST (repeatable), e.g. --ssh-opt=-p2222.
    #[arg(
        long = "ssh-opt",
        value_name = "OPT",
        allow_hyphen_values = true,
        requires = "ssh"
    )]
    pub ssh_opts: Vec<String>,

    /// Seconds one pfctl run may take before it is killed (0.1 to 3600);
    /// for every host of a fleet unless --host-timeout names it.
    #[arg(long, value_name = "SECS", default_value = "10", value_parser = seconds, allow_hyphen_values = true)]
    pub timeout: Duration,

    /// The timeout of one fleet host (repeatable), in place of --timeout:
    /// NAME is a --ssh HOST or a --host NAME (e.g. --host-timeout fw-c=30).
    #[arg(long = "host-timeout", value_name = "NAME=SECS", value_parser = host_timeout)]
    pub host_timeouts: Vec<HostTimeout>,

    /// Also read the CARP status each poll: `ifconfig` (no arguments, no
    /// doas) on the same host and through the same transport as pfctl,
    /// with the same timeout. A failure only leaves "CARP unknown".
    #[arg(long)]
    pub carp: bool,
}

/// `--host-timeout NAME=SECS`: SECS checked like `--timeout`; NAME is
/// checked against the fleet's hosts when they are known.
fn host_timeout(text: &str) -> Result<HostTimeout, String> {
    let (name, secs) = text
        .split_once('=')
        .ok_or_else(|| format!("`{text}` is not NAME=SECS"))?;
    Ok(HostTimeout {
        name: name.trim().to_string(),
        timeout: seconds(secs)?,
    })
}

impl PfctlArgs {
    pub fn options(&self) -> PfctlOptions {
        PfctlOptions {
            command: self.pfctl.clone(),
            ssh: self.ssh.clone(),
            ssh_opts: self.ssh_opts.clone(),
            hosts: self.hosts.clone(),
            timeout: self.timeout,
            host_timeouts: self.host_timeouts.clone(),
            carp: self.carp,
        }
    }
}

/// `-i/--interval`: seconds between polls.
#[derive(Debug, Clone, Args)]
pub struct IntervalArgs {
    /// Seconds between polls (0.1 to 3600).
    #[arg(short = 'i', long, value_name = "SECS", default_value = "2", value_parser = seconds, allow_hyphen_values = true)]
    pub interval: Duration,
}

/// `--strategy`.
#[derive(Debug, Clone, Args)]
pub struct StrategyArgs {
    /// How states are fetched: one `-vvss` (auto) or `-s states -R n` per rule.
    #[arg(long, value_enum, default_value_t = Strategy::Auto)]
    pub strategy: Strategy,
}

/// Where pfctl output comes from, for the commands that poll it (watch, report).
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    #[command(flatten)]
    pub pfctl: PfctlArgs,

    /// Recorded directory or file instead of live pfctl.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["pfctl", "ssh", "hosts", "host_timeouts"])]
    pub from: Option<PathBuf>,

    #[command(flatten)]
    pub interval: IntervalArgs,

    #[command(flatten)]
    pub strategy: StrategyArgs,
}

impl SourceArgs {
    /// The source these options name.
    pub fn options(&self) -> Options {
        Options {
            from: self.from.clone(),
            pfctl: self.pfctl.options(),
            strategy: self.strategy.strategy,
            translation: Some(crate::pf::dialect::lists_translation_rules),
        }
    }

    pub fn interval(&self) -> Duration {
        self.interval.interval
    }

    pub fn strategy(&self) -> Strategy {
        self.strategy.strategy
    }
}

/// Where `lint` reads the rules: live pfctl or a recording (one listing,
/// so neither interval nor strategy).
#[derive(Debug, Clone, Args)]
pub struct RulesSourceArgs {
    #[command(flatten)]
    pub pfctl: PfctlArgs,

    /// Recorded directory or file instead of live pfctl.
    #[arg(long, value_name = "PATH", conflicts_with_all = ["pfctl", "ssh", "hosts", "host_timeouts"])]
    pub from: Option<PathBuf>,
}

impl RulesSourceArgs {
    pub fn options(&self) -> Options {
        Options {
            from: self.from.clone(),
            pfctl: self.pfctl.options(),
            strategy: Strategy::Auto,
            // lint reads the filter rules of one listing only.
            translation: None,
        }
    }
}

/// What `record` polls: live pfctl only (no --from).
#[derive(Debug, Clone, Args)]
pub struct RecordSourceArgs {
    #[command(flatten)]
    pub pfctl: PfctlArgs,

    #[command(flatten)]
    pub interval: IntervalArgs,

    #[command(flatten)]
    pub strategy: StrategyArgs,
}

impl RecordSourceArgs {
    pub fn interval(&self) -> Duration {
        self.interval.interval
    }

    pub fn strategy(&self) -> Strategy {
        self.strategy.strategy
    }
}

/// Which server addresses and ports to look at.
#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// Server address or prefix (IPv4 or IPv6; repeatable). A bare address is a /32 or /128.
    #[arg(short = 's', long = "server", value_name = "ADDR[/LEN]")]
    pub servers: Vec<String>,

    /// Only server states whose server-side port is listed (repeatable).
    #[arg(short = 'p', long = "port", value_name = "N")]
    pub ports: Vec<u16>,

    /// A rule whose server states are expected (repeatable): N (main ruleset),
    /// M:N (rule N of the anchor called by rule M, as states print `anchor M,
    /// rule N`), `default`, or, to survive reloads that renumber rules,
    /// label:NAME (rules with `label "NAME"`) or an anchor path glob such as
    /// 'relayd/*' (the rules of relayd and every anchor below it; `*` and `?`).
    #[arg(long = "allow", value_name = "RULE")]
    pub allow: Vec<String>,

    #[command(flatten)]
    pub pf: PfArgs,
}

impl ServerArgs {
    /// The analysis settings these options ask for: `--server`, `--port`
    /// and `--allow` parsed (the error is one line for the user, exit
    /// status 2), and `--pf`/`--reply-via`.
    pub fn config(&self) -> Result<crate::analyze::Config, String> {
        Ok(crate::analyze::Config {
            servers: crate::pf::Servers::parse(&self.servers, &self.ports)?,
            allow: crate::pf::servers::parse_allow(&self.allow)?,
            keep_all_states: false,
            dialect: self.pf.pf,
            recorded_dialect: None,
            reply_via: self.pf.reply_via.clone(),
        })
    }

    /// [`Self::config`] for a source: with `--from`, the dialect `record`
    /// kept in the recording (`--pf` still wins).
    pub(crate) fn config_for(&self, from: Option<&Path>) -> Result<crate::analyze::Config, String> {
        Ok(crate::analyze::Config {
            recorded_dialect: from.and_then(recorded_dialect),
            ..self.config()?
        })
    }
}

/// The dialect a recording names, if `record` wrote one pfblame knows.
pub fn recorded_dialect(from: &Path) -> Option<crate::pf::Dialect> {
    crate::source::recorded_dialect(from).and_then(|name| crate::pf::Dialect::from_name(&name))
}

/// Whose pf, and where the server's replies should go (the verdicts).
#[derive(Debug, Clone, Default, Args)]
pub struct PfArgs {
    /// The pf dialect (detected from the listings when not given).
    #[arg(long = "pf", value_enum, value_name = "DIALECT")]
    pub pf: Option<crate::pf::Dialect>,

    /// Interface the server's replies should leave on, when the ruleset
    /// names no route-to/reply-to for them.
    #[arg(long = "reply-via", value_name = "IFACE")]
    pub reply_via: Option<String>,

    /// report, lint: also exit 1 on `stateful` and `unexplained` rules;
    /// check: `stateful` is a WARNING too.
    #[arg(long)]
    pub strict: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ColorArgs {
    /// When to use colour. NO_COLOR (non-empty) is honoured; this flag wins.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

#[derive(Debug, Clone, Args)]
pub struct WatchArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub servers: ServerArgs,
    #[command(flatten)]
    pub color: ColorArgs,
    /// Allow removing spurious states from the TUI (key K), after confirmation.
    #[arg(long)]
    pub allow_kill: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub servers: ServerArgs,
    #[command(flatten)]
    pub color: ColorArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Number of polls (rates need two or more).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub samples: u32,
    /// Remove the spurious server states (needs --allow-kill; asks first).
    #[arg(long)]
    pub kill: bool,
    /// Permit --kill.
    #[arg(long)]
    pub allow_kill: bool,
    /// Answer yes to the kill confirmation (for scripts).
    #[arg(long)]
    pub yes: bool,
    /// Write the report to FILE instead of standard output, atomically
    /// (a temporary file renamed over it: for node_exporter's textfile collector).
    #[arg(long, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// `check`: the source and server options of `report`.
#[derive(Debug, Clone, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub servers: ServerArgs,
}

#[derive(Debug, Clone, Args)]
pub struct ParseArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = ParseFormat::Json)]
    pub format: ParseFormat,
    /// File with pfctl output, or - for standard input.
    #[arg(value_name = "FILE|-")]
    pub file: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    #[command(flatten)]
    pub source: RecordSourceArgs,
    /// Number of polls to record (more than one writes 0001/, 0002/, …).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: u32,
    /// Also record `pfctl -vvss -R n` for every rule with states.
    #[arg(long)]
    pub per_rule: bool,
    /// The pf dialect, kept in `meta.toml` (detected from the listings when
    /// not given); replays of the recording use it.
    #[arg(long = "pf", value_enum, value_name = "DIALECT")]
    pub pf: Option<crate::pf::Dialect>,
    /// Directory to write.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub source: RulesSourceArgs,
    #[command(flatten)]
    pub servers: ServerArgs,
    #[command(flatten)]
    pub color: ColorArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
    /// Lint a candidate pf.conf instead: runs `pfctl -nvf FILE` (parses,
    /// loads nothing).
    #[arg(long, value_name = "FILE")]
    pub conf: Option<String>,
    /// With --conf: also read the loaded ruleset and print which verdicts
    /// the change would fix or break.
    #[arg(long, requires = "conf")]
    pub compare: bool,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub color: ColorArgs,
    /// Seconds between replayed polls (0.1 to 3600).
    #[arg(short = 'i', long, value_name = "SECS", default_value = "2", value_parser = seconds, allow_hyphen_values = true)]
    pub interval: Duration,
    /// The CARP pair instead (fixtures/scenarios/carp-pair): master and
    /// backup with pfsync-synced states, one screen.
    #[arg(long)]
    pub pair: bool,
}

#[derive(Debug, Clone, Args)]
pub struct ConfigArgs {
    /// Print the effective settings as TOML (the default action).
    #[arg(long)]
    pub print: bool,
}

#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for (POSIX sh and OpenBSD's ksh have no programmable completion).
    #[arg(value_enum, value_name = "SHELL")]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParseFormat {
    Json,
    Text,
    /// Rules and states printed back the way the pfctl that made them prints them.
    Pfctl,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Resolves `auto` against `NO_COLOR` (only when non-empty) and whether the
    /// output is a terminal. The flag wins over the environment.
    pub(crate) fn enabled(self, is_terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
                !no_color && is_terminal
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn bare_invocation_is_watch_with_options() {
        let cli = Cli::try_parse_from(["pfblame", "-s", "2001:db8::10", "-p", "443"])
            .expect("valid arguments");
        assert!(cli.command.is_none());
        assert_eq!(cli.watch.servers.servers, ["2001:db8::10"]);
        assert_eq!(cli.watch.servers.ports, [443]);
    }

    #[test]
    fn report_takes_shared_options() {
        let cli = Cli::try_parse_from([
            "pfblame", "report", "--from", "x", "-s", "10.0.0.1", "--format", "json", "--allow",
            "3:1",
        ])
        .expect("valid arguments");
        let Some(Command::Report(r)) = cli.command else {
            panic!("expected report");
        };
        assert_eq!(r.format, Format::Json);
        assert_eq!(r.servers.allow, ["3:1"]);
        assert_eq!(r.source.from.as_deref(), Some(std::path::Path::new("x")));
    }
}
