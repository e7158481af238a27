//! Helpers shared by the source and record tests: the fake pfctl, and a
//! [`PollSink`] that tallies states per `(anchor, rule)` with the real parsers.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufRead, Read};
use std::path::{Path, PathBuf};
use std::time::Duration;

use pfblame::cli::Strategy;
use pfblame::model::Diagnostic;
use pfblame::source::PollSink;
use pfblame::source::{Options as SourceArgs, PfctlOptions};

pub fn manifest() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

pub fn fake_pfctl() -> PathBuf {
    manifest().join("tests/fake-pfctl")
}

pub fn recording(name: &str) -> PathBuf {
    manifest().join("fixtures/recordings").join(name)
}

/// A fake pfctl set-up: where it replays from, and where it logs.
pub struct Fake {
    pub tmp: tempfile::TempDir,
    pub recording: PathBuf,
    pub mode: Option<String>,
    pub delay: Option<f64>,
}

impl Fake {
    pub fn new(recording_name: &str) -> Self {
        Fake {
            tmp: tempfile::tempdir().expect("tempdir"),
            recording: recording(recording_name),
            mode: None,
            delay: None,
        }
    }

    pub fn mode(mut self, mode: &str) -> Self {
        self.mode = Some(mode.to_string());
        self
    }

    pub fn delay(mut self, secs: f64) -> Self {
        self.delay = Some(secs);
        self
    }

    pub fn log_path(&self) -> PathBuf {
        self.tmp.path().join("invocations.log")
    }

    pub fn counter_path(&self) -> PathBuf {
        self.tmp.path().join("poll-counter")
    }

    /// Environment for the fake, as `NAME=value` pairs.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = vec![
            (
                "FAKE_PFCTL_DIR".to_string(),
                self.recording.display().to_string(),
            ),
            (
                "FAKE_PFCTL_LOG".to_string(),
                self.log_path().display().to_string(),
            ),
            (
                "FAKE_PFCTL_COUNTER".to_string(),
                self.counter_path().display().to_string(),
            ),
        ];
        if let Some(m) = &self.mode {
            env.push(("FAKE_PFCTL_MODE".into(), m.clone()));
        }
        if let Some(d) = self.delay {
            env.push(("FAKE_PFCTL_DELAY".into(), d.to_string()));
        }
        env
    }

    /// A `--pfctl` command that runs the fake through `env`, so that tests
    /// running in parallel in one process never share environment variables.
    pub fn command(&self) -> String {
        let mut words = vec!["env".to_string()];
        words.extend(self.env().into_iter().map(|(k, v)| format!("{k}={v}")));
        words.push(fake_pfctl().display().to_string());
        shlex::try_join(words.iter().map(String::as_str)).expect("quotable")
    }

    pub fn args(&self, strategy: Strategy, timeout: f64) -> SourceArgs {
        SourceArgs {
            pfctl: PfctlOptions::local(&self.command(), Duration::from_secs_f64(timeout)),
            from: None,
            strategy,
            translation: Some(pfblame::pf::dialect::lists_translation_rules),
        }
    }

    /// Every invocation so far, as argv lists (without the program).
    pub fn invocations(&self) -> Vec<Vec<String>> {
        match fs::read_to_string(self.log_path()) {
            Ok(text) => text
                .lines()
                .map(|l| serde_json::from_str(l).expect("log line is JSON"))
                .collect(),
            Err(_) => Vec::new(),
        }
    }
}

pub fn from_args(path: &Path, strategy: Strategy) -> SourceArgs {
    SourceArgs {
        pfctl: PfctlOptions::local("pfctl", Duration::from_secs(10)),
        from: Some(path.to_path_buf()),
        strategy,
        translation: None,
    }
}

/// `(anchor, rule)` as states print them.
pub type Key = (Option<u32>, Option<u32>);

/// Tallies one poll with the real parsers.
#[derive(Debug, Default)]
pub struct Tally {
    pub rules: usize,
    pub rules_text: String,
    pub per_key: BTreeMap<Key, u64>,
    /// The `rule` argument of each `states` call, in order.
    pub calls: Vec<Option<u32>>,
    /// States of a per-rule call whose own rule number differs from the call's.
    pub foreign: u64,
    pub info: Option<String>,
    /// The translation rules handed over (FreeBSD/macOS `-vvsn`, `nat.txt`).
    pub translation: Option<String>,
    pub bytes: u64,
    pub diagnostics: Vec<Diagnostic>,
}

impl Tally {
    pub fn total(&self) -> u64 {
        self.per_key.values().sum()
    }
}

impl PollSink for Tally {
    fn rules(&mut self, text: &str) {
        let (rules, diags) = pfblame::parse::rules::parse_rules(text);
        self.rules = rules.len();
        self.rules_text = text.to_string();
        self.diagnostics.extend(diags);
    }

    fn states(&mut self, rule: Option<u32>, input: &mut dyn BufRead) -> io::Result<()> {
        self.calls.push(rule);
        let mut counted = CountBytes { inner: input, n: 0 };
        let mut diags = Vec::new();
        let mut found = Vec::new();
        let result = pfblame::parse::states::read_states(
            io::BufReader::new(&mut counted),
            |s| found.push((s.anchor, s.rule)),
            &mut diags,
        );
        self.bytes += counted.n;
        self.diagnostics.extend(diags);
        for key in found {
            if rule.is_some() && key.1 != rule {
                self.foreign += 1;
            }
            *self.per_key.entry(key).or_default() += 1;
        }
        result
    }

    fn info(&mut self, text: &str) {
        self.info = Some(text.to_string());
    }

    fn translation_rules(&mut self, text: &str) {
        self.translation = Some(text.to_string());
    }
}

struct CountBytes<'a> {
    inner: &'a mut dyn BufRead,
    n: u64,
}

impl Read for CountBytes<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.n += n as u64;
        Ok(n)
    }
}

/// The expected attribution of `openbsd-main` (from its README and counters).
pub fn openbsd_main_expected() -> BTreeMap<Key, u64> {
    BTreeMap::from([
        ((None, Some(1)), 2),
        ((None, Some(2)), 3),
        ((None, Some(4)), 1),
        ((None, Some(6)), 1),
    ])
}
