//! Live pfctl: the `auto` and `per-rule` strategies.
//!
//! `auto` runs `pfctl -a '*' -vvsr` and `pfctl -vvss` per poll: the `-vv`
//! states name the rule (and anchor) that created them, so one run answers
//! for every rule at once.
//!
//! `per-rule` is what the classic shell loop does, without its waste: it
//! lists the rules, then runs `pfctl -vvss -R n` only for the rule numbers
//! whose `States:` counter is above zero in any ruleset, main or anchor, a
//! few at a time. Two properties of `-R` shape it:
//!
//! - `-R n` compares the rule number only, ignoring anchors
//!   (`pfctl_show_states()` in OpenBSD's sbin/pfctl/pfctl.c prints a state
//!   when `ntohl(p->rule) == shownr`; `pf_state_export()` in sys/net/pf.c
//!   exports `st->rule.ptr->nr`, the number inside the state's own
//!   ruleset). So `-R 3` returns rule 3 of the main ruleset and rule 3 of
//!   every anchor: one run per number covers them all, and each state is
//!   attributed by its own `-vv` items (`anchor M, rule N`), never by the
//!   number asked for. The runs are separate snapshots, so a state is
//!   counted once per poll by its id ([`super::dedup`]).
//! - States of pf's default rule carry no rule number, and states of rules
//!   from an earlier ruleset only show up when the current rule with that
//!   number has states: `-R` misses them. The first poll warns about this.
//!
//! `-R` exists on OpenBSD only; FreeBSD's pfctl rejects it, which switches
//! the source to `auto` for this and every later poll.

use std::collections::{BTreeSet, VecDeque};
use std::time::Duration;

use chrono::Utc;

use super::Strategy;
use super::dedup::{Dedup, SeenStates, duplicates_warning};
use super::process::{Spawned, display_argv, quote_stderr};
use super::quote;
use super::{NO_RULES_WARNING, PollMeta, PollSink, Run, Source, SourceError, strategy_name};
use crate::model::{Action, Rule};

/// Arguments of the rules run: every ruleset, with counters and `@N`.
pub(crate) const RULES_ARGS: [&str; 3] = ["-a", "*", "-vvsr"];
/// Arguments of the states run.
pub(crate) const STATES_ARGS: [&str; 1] = ["-vvss"];
/// Arguments of the states run when nothing needs the ids: `-vss` prints
/// the same states without their id line (`print_state()` in pfctl's
/// `pf_print_state.c` prints `id:`/`creatorid:` only for `-vv`), 17% less
/// text on a generated table (docs/performance.md).
pub(crate) const STATES_ARGS_NO_IDS: [&str; 1] = ["-vss"];
/// Arguments of the info run.
pub(crate) const INFO_ARGS: [&str; 1] = ["-vsi"];
/// Arguments of the translation rules run (FreeBSD, macOS: nat, rdr and
/// binat rules are a ruleset of their own, `pfctl_show_nat()`).
pub const NAT_ARGS: [&str; 3] = ["-a", "*", "-vvsn"];
/// The CARP status command (`--carp`), run where pfctl runs and the way
/// it runs (argv, or one quoted word through ssh). Plain `ifconfig`, for
/// every BSD: OpenBSD's `ifconfig -g carp` prints only the group's demote
/// counter (`printgroupattribs()` in sbin/ifconfig/ifconfig.c), and
/// `ifconfig carp` (the group's members) has no FreeBSD equivalent, where
/// the `carp:` lines sit under the parent interface. Not run under the
/// `--pfctl` wrapper (doas): reading the status needs no privilege.
pub const IFCONFIG_ARGV: [&str; 1] = ["ifconfig"];
/// Per-rule runs started ahead of the one being read.
pub(crate) const PER_RULE_CONCURRENCY: usize = 4;

/// Lines FreeBSD prints on stderr for every `-v` run without ALTQ: noise.
const ALTQ_NOISE: [&str; 2] = [
    "No ALTQ support in kernel",
    "ALTQ related functions disabled",
];

/// How live pfctl is run, as the command line gave it (`--pfctl`,
/// `--ssh`, `--ssh-opt`, `--timeout`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PfctlOptions {
    /// The pfctl command: local, or the remote command under `ssh`.
    pub command: String,
    /// Hosts to run it on through ssh. One host per [`Pfctl`]: several
    /// are a fleet, polled by `crate::source::fleet` one `Pfctl` each.
    pub ssh: Vec<String>,
    /// `--host NAME=COMMAND`: other transports (see `crate::source::fleet`).
    pub hosts: Vec<String>,
    /// Words handed to ssh before the host.
    pub ssh_opts: Vec<String>,
    /// The timeout of each pfctl run, unless `host_timeouts` names the host.
    pub timeout: Duration,
    /// `--host-timeout NAME=SECS`: a fleet host's own timeout.
    pub host_timeouts: Vec<HostTimeout>,
    /// `--carp`: also run [`IFCONFIG_ARGV`] each poll.
    pub carp: bool,
}

/// `--host-timeout NAME=SECS`: the pfctl runs of fleet host NAME may take
/// SECS each, in place of `--timeout` (a host behind a slow link).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostTimeout {
    pub name: String,
    pub timeout: Duration,
}

impl PfctlOptions {
    /// Local `pfctl`-like command with a timeout (tests, screenshots).
    pub fn local(command: &str, timeout: Duration) -> Self {
        PfctlOptions {
            command: command.to_string(),
            ssh: Vec::new(),
            ssh_opts: Vec::new(),
            hosts: Vec::new(),
            timeout,
            host_timeouts: Vec::new(),
            carp: false,
        }
    }
}

/// Where pfctl runs.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Via {
    /// Here: the words are the argv.
    Local,
    /// `ssh OPTS HOST -- LINE`: ssh joins the words after the host with
    /// spaces and the remote shell splits them again, so every remote word
    /// is quoted with [`quote::join`] and handed to ssh as one word.
    Ssh { opts: Vec<String>, host: String },
    /// `--host NAME=COMMAND`: COMMAND's words, then the quoted line as its
    /// last word, as for ssh (the transport hands it to a remote shell).
    Transport { words: Vec<String> },
}

/// The pfctl command: words split like a shell would, run without one
/// (locally), or on one host through ssh with every remote word quoted.
#[derive(Debug, Clone)]
pub struct Pfctl {
    words: Vec<String>,
    text: String,
    timeout: Duration,
    via: Via,
}

fn invalid(option: &str, detail: impl Into<String>) -> SourceError {
    SourceError::InvalidOption {
        option: option.into(),
        detail: detail.into(),
    }
}

/// True for a word that runs ssh (`ssh`, `/usr/bin/ssh`, `autossh`). A
/// `--pfctl` holding one would hand pfblame's arguments to a remote shell
/// unquoted; `--ssh HOST` is the way to go remote.
fn is_ssh_word(word: &str) -> bool {
    std::path::Path::new(word)
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.ends_with("ssh"))
}

impl Pfctl {
    /// A local command: splits `command` into words (shell rules, no
    /// expansion) and checks the timeout.
    pub fn new(command: &str, timeout_secs: f64) -> Result<Self, SourceError> {
        let timeout = Duration::try_from_secs_f64(timeout_secs)
            .ok()
            .filter(|t| !t.is_zero())
            .ok_or_else(|| {
                invalid(
                    "--timeout",
                    format!("{timeout_secs} is not a positive number of seconds"),
                )
            })?;
        Self::from_options(&PfctlOptions::local(command, timeout))
    }

    /// The command the options describe; refuses what would run something
    /// other than what the user named (see [`is_ssh_word`]).
    pub(crate) fn from_options(o: &PfctlOptions) -> Result<Self, SourceError> {
        let command = &o.command;
        let words = shlex::split(command).ok_or_else(|| {
            invalid(
                "--pfctl",
                format!("cannot split `{command}` into words (unbalanced quote?)"),
            )
        })?;
        if words.is_empty() {
            return Err(invalid("--pfctl", "the command is empty"));
        }
        if words.iter().any(|w| is_ssh_word(w)) {
            return Err(invalid(
                "--pfctl",
                format!(
                    "`{command}` runs ssh; use --ssh HOST (and --pfctl for the command on \
                     the host, e.g. --ssh fw --pfctl 'doas pfctl'), which quotes every \
                     word for the remote shell"
                ),
            ));
        }
        if !o.host_timeouts.is_empty() {
            return Err(invalid(
                "--host-timeout",
                "names hosts of a fleet (two or more --ssh or --host); for one host use --timeout",
            ));
        }
        if o.timeout.is_zero() {
            return Err(invalid("--timeout", "must be a positive number of seconds"));
        }
        let via = match o.ssh.as_slice() {
            [] => Via::Local,
            [host] if host.is_empty() || host.starts_with('-') => {
                return Err(invalid("--ssh", format!("`{host}` is not a host name")));
            }
            [host] => Via::Ssh {
                opts: o.ssh_opts.clone(),
                host: host.clone(),
            },
            _ => {
                return Err(invalid(
                    "--ssh",
                    "given more than once: several hosts are a fleet, which `report` polls \
                     (one host at a time elsewhere for now)",
                ));
            }
        };
        let text = match &via {
            Via::Local => command.clone(),
            Via::Ssh { host, .. } => format!("{command} on {host} (ssh)"),
            Via::Transport { .. } => command.clone(),
        };
        Ok(Pfctl {
            words,
            text,
            timeout: o.timeout,
            via,
        })
    }

    /// `--host NAME=COMMAND`: the pfctl command of `o` run through the
    /// transport `words` (COMMAND split into argv, no shell here), every
    /// remote word quoted into one last word like `--ssh` does.
    pub fn through(o: &PfctlOptions, name: &str, words: Vec<String>) -> Result<Self, SourceError> {
        if words.is_empty() {
            return Err(invalid("--host", format!("`{name}` has an empty command")));
        }
        let local = PfctlOptions {
            ssh: Vec::new(),
            ..o.clone()
        };
        let mut pfctl = Self::from_options(&local)?;
        pfctl.text = format!("{} on {name} ({})", o.command, display_argv(&words));
        pfctl.via = Via::Transport { words };
        Ok(pfctl)
    }

    /// The command as the user gave it.
    pub fn command(&self) -> &str {
        &self.text
    }

    pub fn timeout(&self) -> Duration {
        self.timeout
    }

    /// True when pfctl runs on another host through ssh.
    pub(crate) fn is_remote(&self) -> bool {
        matches!(self.via, Via::Ssh { .. } | Via::Transport { .. })
    }

    /// The full argv run for pfctl with `args` appended: the words as they
    /// are locally, or `ssh OPTS HOST -- LINE` with LINE the quoted words.
    pub fn argv(&self, args: &[&str]) -> Vec<String> {
        let mut words = self.words.clone();
        words.extend(args.iter().map(|a| a.to_string()));
        match &self.via {
            Via::Local => words,
            Via::Ssh { opts, host } => {
                let mut argv = vec!["ssh".to_string()];
                argv.extend(opts.iter().cloned());
                argv.push(host.clone());
                argv.push("--".into());
                argv.push(quote::join(&words));
                argv
            }
            Via::Transport { words: transport } => {
                let mut argv = transport.clone();
                argv.push(quote::join(&words));
                argv
            }
        }
    }

    /// Another command run the same way as this pfctl: on the same host
    /// through the same transport, remote words quoted alike, with the
    /// same timeout (`ifconfig` for `--carp`).
    pub(crate) fn sibling(&self, command: &[&str]) -> Pfctl {
        Pfctl {
            words: command.iter().map(|w| w.to_string()).collect(),
            text: format!("{} (beside {})", command.join(" "), self.text),
            timeout: self.timeout,
            via: self.via.clone(),
        }
    }

    /// Starts one run; read it with [`Spawned::consume`].
    pub(crate) fn start(&self, args: &[&str]) -> Result<Spawned, SourceError> {
        Spawned::start(&self.argv(args), self.timeout)
    }

    /// Runs pfctl with `args` and returns its whole output (for small
    /// outputs: rules, info, kill commands). Fails like a poll does.
    pub fn run(&self, args: &[&str]) -> Result<(String, Run), SourceError> {
        let (out, run) = self.start(args)?.read_all()?;
        Ok((String::from_utf8_lossy(&out).into_owned(), run))
    }
}

/// What a live source fetches besides rules and states.
#[derive(Debug, Clone, Copy)]
pub struct LiveOptions {
    pub strategy: Strategy,
    /// Also run `pfctl -vsi` and hand it to [`PollSink::info`].
    pub info: bool,
    /// With `auto`: after `-vvss`, also run `-vvss -R n` for every rule
    /// number with states (what `record --per-rule` keeps).
    pub also_per_rule: bool,
    /// Whether to read the translation rules (`pfctl -a '*' -vvsn`).
    pub translation: Translation,
    /// Also run `ifconfig` each poll and hand it to [`PollSink::carp`].
    pub carp: bool,
}

/// Whether a live source reads translation rules. OpenBSD has no `-sn`
/// (since 4.7 nat and rdr are options of filter rules, which `-sr`
/// lists); FreeBSD and macOS list them apart.
#[derive(Debug, Clone, Copy)]
pub enum Translation {
    Off,
    On,
    /// Decided on the first poll from its rules listing by this test, then
    /// kept for the later polls.
    Decide(fn(&str) -> bool),
}

impl Default for LiveOptions {
    fn default() -> Self {
        LiveOptions {
            strategy: Strategy::Auto,
            info: false,
            also_per_rule: false,
            translation: Translation::Off,
            carp: false,
        }
    }
}

/// Live pfctl output, polled on demand.
#[derive(Debug)]
pub struct LiveSource {
    pfctl: Pfctl,
    options: LiveOptions,
    polls: u64,
    /// Run `pfctl -vsi` on the first poll only, and go on without it if it
    /// fails: its `Hostid` tells states imported by pfsync (a host id does
    /// not change between polls). Set by [`LiveSource::from_args`].
    info_once: bool,
    info_polled: bool,
    /// List states with their ids (`-vvss`) or without (`-vss`), see
    /// [`Source::want_ids`].
    ids: bool,
}

impl LiveSource {
    pub fn new(pfctl: Pfctl, options: LiveOptions) -> Self {
        LiveSource {
            pfctl,
            options,
            polls: 0,
            info_once: false,
            info_polled: false,
            ids: true,
        }
    }

    /// `--pfctl`, `--timeout` and `--strategy` from the command line.
    pub(crate) fn from_options(args: &super::Options) -> Result<Self, SourceError> {
        Ok(Self::new(
            Pfctl::from_options(&args.pfctl)?,
            LiveOptions {
                strategy: args.strategy,
                translation: args
                    .translation
                    .map_or(Translation::Off, Translation::Decide),
                carp: args.pfctl.carp,
                ..LiveOptions::default()
            },
        )
        .with_info_once())
    }

    /// Also read `pfctl -vsi` once, on the first poll (see `info_once`).
    pub(crate) fn with_info_once(mut self) -> Self {
        self.info_once = true;
        self
    }

    /// The strategy in force (per-rule falls back to auto on FreeBSD).
    pub fn strategy(&self) -> Strategy {
        self.options.strategy
    }

    pub fn pfctl(&self) -> &Pfctl {
        &self.pfctl
    }

    fn fetch_rules(&self, meta: &mut PollMeta) -> Result<String, SourceError> {
        let (out, run) = self.pfctl.start(&RULES_ARGS)?.read_all()?;
        let text = match String::from_utf8(out) {
            Ok(text) => text,
            Err(e) => {
                meta.warnings.push(format!(
                    "the output of `{}` is not text: is --pfctl really pfctl?",
                    display_argv(&run.argv)
                ));
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        };
        if text.contains('\0') && !meta.warnings.iter().any(|w| w.contains("not text")) {
            meta.warnings.push(format!(
                "the output of `{}` is not text: is --pfctl really pfctl?",
                display_argv(&run.argv)
            ));
        }
        if text.trim().is_empty() {
            meta.warnings.push(NO_RULES_WARNING.into());
        }
        note_run(meta, run);
        Ok(text)
    }

    fn fetch_states(
        &self,
        sink: &mut dyn PollSink,
        meta: &mut PollMeta,
    ) -> Result<(), SourceError> {
        let run = self
            .pfctl
            .start(self.states_args())?
            .consume(|r| sink.states(None, r))?;
        note_run(meta, run);
        Ok(())
    }

    /// The arguments of the `auto` states run.
    pub(crate) fn states_args(&self) -> &'static [&'static str] {
        if self.ids {
            &STATES_ARGS
        } else {
            &STATES_ARGS_NO_IDS
        }
    }

    /// The translation rules, when this pfctl lists them apart (decided on
    /// the first poll). A failed run is a warning, and is not tried again:
    /// the filter rules and states still answer.
    fn fetch_translation(&mut self, rules: &str, sink: &mut dyn PollSink, meta: &mut PollMeta) {
        if let Translation::Decide(lists) = self.options.translation {
            self.options.translation = if lists(rules) {
                Translation::On
            } else {
                Translation::Off
            };
        }
        if !matches!(self.options.translation, Translation::On) {
            return;
        }
        match self.pfctl.run(&NAT_ARGS) {
            Ok((text, run)) => {
                note_run(meta, run);
                sink.translation_rules(&text);
            }
            Err(e) => {
                meta.warnings.push(format!(
                    "`pfctl -a '*' -vvsn` failed ({e}): translation rules were not read"
                ));
                self.options.translation = Translation::Off;
            }
        }
    }

    /// `ifconfig`, for the CARP status. Informative: a failure (no
    /// ifconfig, a timeout, an error status) is a warning and leaves the
    /// status unknown; the next poll tries again.
    fn fetch_carp(&self, sink: &mut dyn PollSink, meta: &mut PollMeta) {
        match self.pfctl.sibling(&IFCONFIG_ARGV).run(&[]) {
            Ok((text, run)) => {
                note_run(meta, run);
                sink.carp(&text);
            }
            Err(e) => meta
                .warnings
                .push(format!("`ifconfig` failed ({e}): CARP status unknown")),
        }
    }

    fn fetch_info(&self, sink: &mut dyn PollSink, meta: &mut PollMeta) -> Result<(), SourceError> {
        let (text, run) = self.pfctl.run(&INFO_ARGS)?;
        note_run(meta, run);
        sink.info(&text);
        Ok(())
    }

    /// The per-rule part of a poll, with its fallbacks.
    fn poll_per_rule(
        &mut self,
        rules_text: &str,
        sink: &mut dyn PollSink,
        meta: &mut PollMeta,
    ) -> Result<(), SourceError> {
        let numbers = match plan_per_rule(rules_text) {
            Plan::Rules(numbers) => numbers,
            Plan::Auto(reason) => {
                meta.warnings.push(reason);
                return self.fetch_states(sink, meta);
            }
        };
        if self.polls == 1 {
            meta.warnings.push(
                "per-rule: `pfctl -R` cannot list states of pf's default rule, nor states \
                 of an earlier ruleset whose rule number now has no states; \
                 use --strategy auto to see every state"
                    .into(),
            );
        }
        let mut seen = SeenStates::default();
        let outcome = self.run_per_rule(&numbers, sink, meta, Some(&mut seen))?;
        if seen.dropped > 0 {
            meta.warnings.push(duplicates_warning(seen.dropped));
        }
        match outcome {
            PerRule::Done => Ok(()),
            PerRule::Rejected(stderr) => {
                meta.warnings
                    .push(rejected_warning(&stderr, "falling back to --strategy auto"));
                self.options.strategy = Strategy::Auto;
                self.fetch_states(sink, meta)
            }
        }
    }

    /// Runs `-vvss -R n` for each number, up to [`PER_RULE_CONCURRENCY`] at
    /// once, handing the outputs to the sink in order. With `seen`, a state
    /// already handed on in this poll is left out (see [`super::dedup`]);
    /// without it (`record`), the listings pass as pfctl printed them.
    fn run_per_rule(
        &self,
        numbers: &[u32],
        sink: &mut dyn PollSink,
        meta: &mut PollMeta,
        mut seen: Option<&mut SeenStates>,
    ) -> Result<PerRule, SourceError> {
        let mut queue: VecDeque<u32> = numbers.iter().copied().collect();
        let mut running: VecDeque<(u32, Spawned)> = VecDeque::new();
        let mut done = 0usize;
        loop {
            while running.len() < PER_RULE_CONCURRENCY {
                let Some(n) = queue.pop_front() else { break };
                let arg = n.to_string();
                running.push_back((n, self.pfctl.start(&["-vvss", "-R", &arg])?));
            }
            let Some((n, spawned)) = running.pop_front() else {
                return Ok(PerRule::Done);
            };
            let consumed = spawned.consume(|r| match seen.as_deref_mut() {
                Some(seen) => sink.states(Some(n), &mut Dedup::new(r, seen)),
                None => sink.states(Some(n), r),
            });
            match consumed {
                Ok(run) => {
                    done += 1;
                    note_run(meta, run);
                }
                // Only a first refusal can fall back: after a success the
                // sink holds per-rule states that an auto run would repeat.
                Err(SourceError::Failed { stderr, .. }) if done == 0 && rejects_r(&stderr) => {
                    return Ok(PerRule::Rejected(stderr));
                }
                Err(e) => return Err(e),
            }
        }
    }
}

enum PerRule {
    Done,
    /// pfctl does not know `-R n` (FreeBSD); its stderr.
    Rejected(String),
}

/// What the per-rule strategy will do this poll.
#[derive(Debug, PartialEq, Eq)]
enum Plan {
    /// Run `-R n` for these rule numbers (any ruleset).
    Rules(Vec<u32>),
    /// Fetch every state at once, for this reason (a warning).
    Auto(String),
}

/// Decides the per-rule runs from the rules listing.
fn plan_per_rule(rules_text: &str) -> Plan {
    let (rules, _diagnostics) = crate::parse::rules::parse_rules(rules_text);
    plan_for(&rules)
}

fn plan_for(rules: &[Rule]) -> Plan {
    // Anchor lines may be synthesised by pfctl (children of `foo/*`): no
    // number, no counters. Only rules that can own states must have both.
    if rules
        .iter()
        .filter(|r| r.action != Action::Anchor)
        .any(|r| r.counters.is_none() || r.number.is_none())
    {
        return Plan::Auto(
            "per-rule: the rules listing lacks `@N` numbers or `States:` counters; \
             fetched every state with one `pfctl -vvss`"
                .into(),
        );
    }
    Plan::Rules(per_rule_numbers(rules))
}

/// The numbers to run `-R n` for: every rule of any ruleset (main or
/// anchor) whose `States:` counter is above zero, each number once. Anchor
/// calls are left out: their counter also counts their rules' states
/// (`STATE_INC_COUNTERS` in OpenBSD's pf.c bumps `anchor.ptr->states_cur`),
/// but no state records the anchor call as its rule.
pub(super) fn per_rule_numbers(rules: &[Rule]) -> Vec<u32> {
    let numbers: BTreeSet<u32> = rules
        .iter()
        .filter(|r| r.action != Action::Anchor)
        .filter(|r| r.counters.as_ref().is_some_and(|c| c.states > 0))
        .filter_map(|r| r.number)
        .collect();
    numbers.into_iter().collect()
}

/// FreeBSD: `pfctl: unknown command line argument: 5 ...` and usage, exit 1.
fn rejects_r(stderr: &str) -> bool {
    stderr.contains("unknown command line argument")
        || stderr.contains("illegal option")
        || stderr.contains("invalid option")
}

fn rejected_warning(stderr: &str, action: &str) -> String {
    format!(
        "this pfctl does not accept `-s states -R n` (only OpenBSD's does; it said: {}); {action}",
        // The first line says it; the usage text after it is noise here.
        quote_stderr(stderr.trim().lines().next().unwrap_or(""))
    )
}

/// Keeps a finished run, turning unexpected stderr into a warning.
fn note_run(meta: &mut PollMeta, run: Run) {
    let noise: Vec<&str> = run
        .stderr
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !ALTQ_NOISE.contains(l))
        .collect();
    if !noise.is_empty() {
        meta.warnings.push(format!(
            "`{}` printed on stderr: {}",
            display_argv(&run.argv),
            quote_stderr(&noise.join("\n"))
        ));
    }
    meta.runs.push(run);
}

impl Source for LiveSource {
    fn describe(&self) -> String {
        format!(
            "{} (live, {})",
            self.pfctl.command(),
            strategy_name(self.options.strategy)
        )
    }

    fn is_live(&self) -> bool {
        true
    }

    fn want_ids(&mut self, want: bool) {
        self.ids = want;
    }

    fn poll(&mut self, sink: &mut dyn PollSink) -> Result<PollMeta, SourceError> {
        self.polls += 1;
        let mut meta = PollMeta {
            taken_at: Utc::now(),
            runs: Vec::new(),
            warnings: Vec::new(),
            position: None,
        };
        let rules = self.fetch_rules(&mut meta)?;
        sink.rules(&rules);
        self.fetch_translation(&rules, sink, &mut meta);
        match self.options.strategy {
            Strategy::Auto => {
                self.fetch_states(sink, &mut meta)?;
                if self.options.also_per_rule {
                    self.also_per_rule(&rules, sink, &mut meta)?;
                }
            }
            Strategy::PerRule => self.poll_per_rule(&rules, sink, &mut meta)?,
        }
        if self.options.carp {
            self.fetch_carp(sink, &mut meta);
        }
        if self.options.info {
            self.fetch_info(sink, &mut meta)?;
        } else if self.info_once && !self.info_polled {
            self.info_polled = true;
            if let Err(e) = self.fetch_info(sink, &mut meta) {
                meta.warnings.push(format!(
                    "`pfctl -vsi` failed ({e}): states imported by pfsync cannot be told by Hostid"
                ));
            }
        }
        Ok(meta)
    }
}

impl LiveSource {
    /// `record --per-rule`: the `-R n` listings next to the full one, for
    /// the same numbers as the per-rule strategy, as pfctl printed them (a
    /// replay drops repeated states); a pfctl without `-R` only costs the
    /// per-rule files.
    fn also_per_rule(
        &mut self,
        rules_text: &str,
        sink: &mut dyn PollSink,
        meta: &mut PollMeta,
    ) -> Result<(), SourceError> {
        let (rules, _) = crate::parse::rules::parse_rules(rules_text);
        let numbers = per_rule_numbers(&rules);
        if let PerRule::Rejected(stderr) = self.run_per_rule(&numbers, sink, meta, None)? {
            meta.warnings
                .push(rejected_warning(&stderr, "recorded no per-rule listings"));
            self.options.also_per_rule = false;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Counters;

    fn rule(number: u32, anchor_path: &str, action: Action, states: u64) -> Rule {
        Rule {
            line: 1,
            number: Some(number),
            anchor_path: anchor_path.into(),
            counters: Some(Counters {
                states,
                ..Counters::default()
            }),
            ..Rule::new(action)
        }
    }

    #[test]
    fn plan_runs_main_rules_with_states_only() {
        let rules = [
            rule(0, "", Action::Block, 0),
            rule(1, "", Action::Pass, 3),
            rule(2, "", Action::Pass, 0),
            rule(3, "", Action::Pass, 7),
        ];
        assert_eq!(plan_for(&rules), Plan::Rules(vec![1, 3]));
    }

    #[test]
    fn plan_runs_each_number_with_states_in_any_ruleset_once() {
        let rules = [
            rule(0, "", Action::Block, 0),
            rule(1, "", Action::Pass, 3),
            // The anchor call counts its rules' states: not a rule of its own.
            rule(2, "", Action::Anchor, 4),
            rule(0, "relayd/www", Action::Pass, 2),
            rule(1, "relayd/www", Action::Pass, 2),
            rule(5, "relayd/ssh", Action::Pass, 1),
        ];
        assert_eq!(plan_for(&rules), Plan::Rules(vec![0, 1, 5]));
    }

    #[test]
    fn plan_falls_back_without_counters() {
        let mut r = rule(1, "", Action::Pass, 3);
        r.counters = None;
        assert!(matches!(plan_for(&[r]), Plan::Auto(w) if w.contains("counters")));
    }

    fn ssh(host: &str, command: &str) -> PfctlOptions {
        PfctlOptions {
            ssh: vec![host.into()],
            ..PfctlOptions::local(command, Duration::from_secs(10))
        }
    }

    #[test]
    fn ssh_gets_every_remote_word_quoted_for_the_remote_shell() {
        let p = Pfctl::from_options(&ssh("fw", "doas pfctl")).expect("valid");
        assert_eq!(
            p.argv(&RULES_ARGS),
            ["ssh", "fw", "--", "doas pfctl -a '*' -vvsr"]
        );
        let key = "tcp 10.0.0.1:80 <- 10.0.0.2:5";
        assert_eq!(
            p.argv(&["-k", "key", "-k", key]).last().map(String::as_str),
            Some("doas pfctl -k key -k 'tcp 10.0.0.1:80 <- 10.0.0.2:5'")
        );
        let local = Pfctl::new("doas pfctl", 10.0).expect("valid");
        assert_eq!(
            local.argv(&RULES_ARGS),
            ["doas", "pfctl", "-a", "*", "-vvsr"]
        );
    }

    #[test]
    fn ssh_inside_pfctl_is_refused_wherever_it_stands() {
        for cmd in [
            "ssh fw doas pfctl",
            "doas ssh fw pfctl",
            "env ssh fw pfctl",
            "/usr/bin/ssh fw pfctl",
            "sudo autossh fw pfctl",
        ] {
            let err = Pfctl::new(cmd, 1.0).expect_err(cmd);
            assert!(err.to_string().contains("--ssh HOST"), "{err}");
        }
        assert!(Pfctl::from_options(&ssh("fw", "ssh fw2 pfctl")).is_err());
    }

    #[test]
    fn ssh_hosts_are_checked() {
        assert!(Pfctl::from_options(&ssh("-oProxyCommand=x", "pfctl")).is_err());
        let two = PfctlOptions {
            ssh: vec!["a".into(), "b".into()],
            ..PfctlOptions::local("pfctl", Duration::from_secs(1))
        };
        let err = Pfctl::from_options(&two).expect_err("two hosts");
        assert!(err.to_string().contains("more than once"), "{err}");
        let opts = PfctlOptions {
            ssh_opts: vec!["-p".into(), "2222".into()],
            ..ssh("fw", "pfctl")
        };
        assert_eq!(
            Pfctl::from_options(&opts).expect("valid").argv(&["-vsi"]),
            ["ssh", "-p", "2222", "fw", "--", "pfctl -vsi"]
        );
    }

    #[test]
    fn command_is_split_like_a_shell_without_expansion() {
        let p = Pfctl::new("'/opt/my tools/pfctl' -q", 1.0).expect("valid");
        assert_eq!(p.argv(&[]), ["/opt/my tools/pfctl", "-q"]);
        assert!(matches!(
            Pfctl::new("pfctl 'oops", 1.0),
            Err(SourceError::InvalidOption { .. })
        ));
        assert!(matches!(
            Pfctl::new("  ", 1.0),
            Err(SourceError::InvalidOption { .. })
        ));
        assert!(matches!(
            Pfctl::new("pfctl", 0.0),
            Err(SourceError::InvalidOption { .. })
        ));
        assert!(matches!(
            Pfctl::new("pfctl", -1.0),
            Err(SourceError::InvalidOption { .. })
        ));
        assert!(matches!(
            Pfctl::new("pfctl", f64::NAN),
            Err(SourceError::InvalidOption { .. })
        ));
    }

    #[test]
    fn freebsd_refusal_is_recognised() {
        assert!(rejects_r(
            "pfctl: unknown command line argument: 5 ...\nusage: pfctl [-AdeghMmNnOPqRrvz]"
        ));
        assert!(!rejects_r("pfctl: /dev/pf: Permission denied"));
    }
}
