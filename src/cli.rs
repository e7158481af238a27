//! Command line (a stable contract: see `shared/design.md`).

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "pfblame",
    version,
    about = "Which pf rule is to blame for this state? Finds the rules that created states for a server address.",
    long_about = None,
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
}

/// Where pfctl output comes from, shared by every command that analyses it.
#[derive(Debug, Clone, Args)]
pub struct SourceArgs {
    /// pfctl command, split into words like a shell would (e.g. 'doas pfctl',
    /// 'ssh fw doas pfctl'), then run without a shell.
    #[arg(long, value_name = "CMD", default_value = "pfctl")]
    pub pfctl: String,

    /// Recorded directory or file instead of live pfctl.
    #[arg(long, value_name = "PATH")]
    pub from: Option<PathBuf>,

    /// Seconds between polls.
    #[arg(short = 'i', long, value_name = "SECS", default_value_t = 2.0)]
    pub interval: f64,

    /// Seconds one pfctl run may take before it is killed.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub timeout: f64,

    /// How states are fetched: one `-vvss` (auto) or `-s states -R n` per rule.
    #[arg(long, value_enum, default_value_t = Strategy::Auto)]
    pub strategy: Strategy,
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

    /// A rule whose server states are expected: N (main ruleset) or ANCHOR:N (repeatable).
    #[arg(long = "allow", value_name = "[ANCHOR:]N")]
    pub allow: Vec<String>,
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
    pub source: SourceArgs,
    /// Number of polls to record (more than one writes 0001/, 0002/, …).
    #[arg(long, value_name = "N", default_value_t = 1)]
    pub count: u32,
    /// Also record `pfctl -vvss -R n` for every rule with states.
    #[arg(long)]
    pub per_rule: bool,
    /// Directory to write.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Args)]
pub struct LintArgs {
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub servers: ServerArgs,
    #[command(flatten)]
    pub color: ColorArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,
}

#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    #[command(flatten)]
    pub color: ColorArgs,
    /// Seconds between replayed polls.
    #[arg(short = 'i', long, value_name = "SECS", default_value_t = 2.0)]
    pub interval: f64,
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
pub enum Strategy {
    /// One `pfctl -vvss` per poll; rule numbers are read from the states.
    Auto,
    /// `pfctl -vvss -R n` for each rule with states (OpenBSD only).
    PerRule,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ParseFormat {
    Json,
    Text,
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
    pub fn enabled(self, is_terminal: bool) -> bool {
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
