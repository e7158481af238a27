//! Where pfctl output comes from: live pfctl (argv, never a shell, with a
//! timeout), a recorded directory or file, or a replay of numbered polls.
//! Every command reads its input through [`Source`], so offline mode is just
//! another source.

use std::collections::BTreeMap;
use std::io::{self, BufRead};
use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};

mod check;
mod dedup;
pub mod demo;
pub mod fleet;
mod live;
mod process;
pub mod quote;
mod recorded;
pub mod tables;

pub use check::{BINARY_SNIFF, Checked};
pub use live::{
    HostTimeout, IFCONFIG_ARGV, LiveOptions, LiveSource, NAT_ARGS, Pfctl, PfctlOptions, Translation,
};
pub use process::{display_argv, end_running as end_running_pfctl};
pub use recorded::{
    CARP_FILE, INFO_FILE, META_FILE, NAT_FILE, RULES_FILE, ReplaySource, SERVICES_FILE,
    SINGLE_POLL_TMP, STATES_FILE, is_poll_tmp_name, load_dir, per_rule_file, poll_tmp_name,
    recorded_dialect, recorded_services,
};

/// How states are fetched (`--strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Strategy {
    /// One `pfctl -vvss` per poll; rule numbers are read from the states.
    Auto,
    /// `pfctl -vvss -R n` for each rule with states (OpenBSD only).
    PerRule,
}

/// Which source to open: a recording (`from`) or live pfctl.
#[derive(Debug, Clone)]
pub struct Options {
    /// Recorded directory or file instead of live pfctl.
    pub from: Option<PathBuf>,
    pub pfctl: PfctlOptions,
    pub strategy: Strategy,
    /// Tells from the first rules listing whether this pfctl keeps
    /// translation rules apart (FreeBSD, macOS: `pfctl -sn`), so that live
    /// polls also read them; `None` never runs `-sn`. The dialect is the
    /// pf engine's to tell (`crate::pf::dialect`), so the caller passes it.
    pub translation: Option<fn(&str) -> bool>,
}

/// The warning given when the rules listing is empty.
pub const NO_RULES_WARNING: &str = "pf may be disabled: pfctl printed no rules";

/// One recorded poll held in memory (the embedded demo, tests, and
/// [`load_dir`]). `per_rule` maps a rule number to its `-R n` listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RecordedPoll {
    pub taken_at: Option<DateTime<Utc>>,
    pub rules: String,
    pub states: String,
    pub info: Option<String>,
    /// FreeBSD/macOS translation rules (`pfctl -a '*' -vvsn`), as a
    /// recording's `nat.txt` holds them.
    pub translation_rules: Option<String>,
    pub per_rule: BTreeMap<u32, String>,
    /// `ifconfig` output (a recording's `carp.txt`): the CARP status.
    pub carp: Option<String>,
}

/// Receives one poll's output, in this order: rules, then states (once for
/// `auto`, once per rule for `per-rule`), then info if any.
///
/// States are streamed: a table of a million states is never held as text.
pub trait PollSink {
    /// The rules listing (`pfctl -a '*' -vvsr`). Small, so it comes whole.
    fn rules(&mut self, text: &str);
    /// A state listing. `rule` is `Some(n)` for a per-rule run (`-R n`).
    fn states(&mut self, rule: Option<u32>, input: &mut dyn BufRead) -> io::Result<()>;
    /// `pfctl -vsi`, when the source has it.
    fn info(&mut self, _text: &str) {}
    /// FreeBSD/macOS translation rules (`pfctl -a '*' -vvsn`, a recording's
    /// `nat.txt`), when the source has them; comes right after the rules.
    fn translation_rules(&mut self, _text: &str) {}
    /// `ifconfig` output, when the source has it (`--carp`, a recording's
    /// `carp.txt`); comes last. Informative: it never fails a poll.
    fn carp(&mut self, _text: &str) {}
}

/// One pfctl run (or one recorded file read) of a poll.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// The argv that was run, or `["read", path]` for a recording.
    pub argv: Vec<String>,
    /// Exit status; `None` when killed (timeout) or not a process.
    pub status: Option<i32>,
    /// Standard error, as text (ALTQ noise and warnings land here).
    pub stderr: String,
    pub duration: Duration,
    /// Bytes of standard output read.
    pub bytes: u64,
}

/// What a poll produced besides the data handed to the [`PollSink`].
#[derive(Debug, Clone, PartialEq)]
pub struct PollMeta {
    /// When the poll was taken: the clock for live polls, `meta.toml` or the
    /// file's modification time for recordings.
    pub taken_at: DateTime<Utc>,
    pub runs: Vec<Run>,
    /// Things the user should know (fallback from per-rule to auto, stderr noise…).
    pub warnings: Vec<String>,
    /// For replays: which poll of how many (1-based).
    pub position: Option<(usize, usize)>,
}

/// A source of pfctl output.
pub trait Source: Send {
    /// One line for the header: `pfctl (live, auto)`, `recorded: fixtures/…`.
    fn describe(&self) -> String;
    /// True for live pfctl (kills are possible, time comes from the clock).
    fn is_live(&self) -> bool;
    /// Fetches one poll and hands its output to `sink`.
    fn poll(&mut self, sink: &mut dyn PollSink) -> Result<PollMeta, SourceError>;
    /// Whether the next polls must carry state ids (and creator ids). A
    /// live source then lists states with `pfctl -vvss`, else with the
    /// smaller `-vss` (no id line). Sources start wanting them; a
    /// recording has what it has and ignores this.
    fn want_ids(&mut self, _want: bool) {}
}

/// Why a poll failed. Each kind maps to one exit status (`impl From<&SourceError>
/// for Exit` in `crate::exit`).
#[derive(Debug, thiserror::Error)]
pub enum SourceError {
    #[error("pfctl not found: could not run `{program}` ({detail})")]
    NotFound { program: String, detail: String },
    /// The program exists but could not be started (not executable, bad format…).
    #[error("could not run `{program}`: {detail}")]
    Unrunnable { program: String, detail: String },
    /// An option of the source is unusable (`--pfctl ''`, `--timeout 0`).
    #[error("invalid {option}: {detail}")]
    InvalidOption { option: String, detail: String },
    #[error(
        "permission denied running `{command}`: {detail}; run pfblame as root or with doas (--pfctl 'doas pfctl')"
    )]
    PermissionDenied { command: String, detail: String },
    #[error("`{command}` did not finish within {secs:.1} s and was killed")]
    Timeout { command: String, secs: f64 },
    #[error("`{command}` failed with exit status {status}: {stderr}")]
    Failed {
        command: String,
        status: i32,
        stderr: String,
    },
    #[error("`{command}` was killed by a signal: {stderr}")]
    Killed { command: String, stderr: String },
    #[error("{path}: no such file or directory")]
    MissingInput { path: String },
    /// A FIFO or a device: it would block forever or never end.
    #[error(
        "{path}: not a regular file (a FIFO or a device?); give a recorded file or directory, \
         or pipe the output into `pfblame parse -`"
    )]
    NotAFile { path: String },
    /// A directory given to `--from` that holds no recording.
    #[error(
        "{path}: no recording here: expected rules.txt and states.txt, or numbered poll \
         directories 0001/, 0002/, … (written by `pfblame record`)"
    )]
    NoRecording { path: String },
    #[error("{path}: {detail}")]
    BadRecording { path: String, detail: String },
    /// Output that is not what pfctl prints (an error message, a wrapper's
    /// noise, binary data): the poll failed, whatever the exit status said.
    #[error("not pfctl output: {what}: {detail}")]
    NotPfctlOutput { what: String, detail: String },
    #[error("reading {what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
}

/// Opens the source the options ask for: `--from PATH` (a recorded directory,
/// a directory of numbered polls, or a single file) or live `--pfctl CMD`.
pub fn open(args: &Options) -> Result<Box<dyn Source>, SourceError> {
    install_services(args);
    // Every poll is checked: output that is not pfctl's fails the poll.
    match &args.from {
        Some(path) if fleet::fleet_recording(path)?.is_some() => Err(SourceError::InvalidOption {
            option: "--from".into(),
            detail: format!(
                "{} holds one recording per host (a fleet): `report` reads it whole; for this \
                 command name one host's directory (--from {}/HOST)",
                path.display(),
                path.display()
            ),
        }),
        Some(path) => Ok(Box::new(Checked::new(
            ReplaySource::open(path)?.with_strategy(args.strategy),
        ))),
        None => Ok(Box::new(Checked::new(LiveSource::from_options(args)?))),
    }
}

/// Port names are printed by pfctl with the router's getservbyport(), so
/// they are resolved with the router's table where pfblame can read it:
/// the copy a recording keeps (`services.txt`), or `/etc/services` when
/// pfctl runs on this host. With `--ssh`, and for recordings without a
/// copy, the bundled selection (`crate::services`) is used. Returns the
/// table's text when one was installed.
pub(crate) fn install_services(args: &Options) -> Option<String> {
    let text = match &args.from {
        Some(path) => recorded_services(path)?,
        None if args.pfctl.ssh.is_empty() => {
            crate::services::read_table(std::path::Path::new(crate::services::SYSTEM_TABLE))?
        }
        None => return None,
    };
    crate::services::install(&text)?;
    Some(text)
}

/// `auto` / `per-rule`, as the option is spelled.
pub(crate) fn strategy_name(strategy: Strategy) -> &'static str {
    match strategy {
        Strategy::Auto => "auto",
        Strategy::PerRule => "per-rule",
    }
}
