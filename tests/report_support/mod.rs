//! Test support: reads a recorded scenario (numbered poll directories) as a
//! [`Source`], without depending on `source::open`, so analysis and report
//! tests exercise the real parsers, `SampleBuilder` and `analyze`.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::io::BufReader;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use pfblame::analyze::{Analysis, Config, Servers, analyze, parse_allow};
use pfblame::poll::SampleBuilder;
use pfblame::source::{PollMeta, PollSink, Source, SourceError};

pub fn scenario(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fixtures/scenarios")
        .join(name)
}

/// Polls of a recorded directory: its numbered subdirectories in order, or
/// the directory itself when it is a single poll.
pub struct Recorded {
    polls: Vec<PathBuf>,
    next: usize,
}

impl Recorded {
    pub fn new(dir: &Path) -> Self {
        let mut polls: Vec<PathBuf> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.is_dir())
            .collect();
        polls.sort();
        if polls.is_empty() {
            polls.push(dir.to_path_buf());
        }
        Recorded { polls, next: 0 }
    }
}

fn taken_at(dir: &Path) -> DateTime<Utc> {
    let meta: toml::Table = fs::read_to_string(dir.join("meta.toml"))
        .unwrap()
        .parse()
        .unwrap();
    meta["taken_at"].as_str().unwrap().parse().unwrap()
}

impl Source for Recorded {
    fn describe(&self) -> String {
        "test recording".into()
    }
    fn is_live(&self) -> bool {
        false
    }
    fn poll(&mut self, sink: &mut dyn PollSink) -> Result<PollMeta, SourceError> {
        let dir = self.polls[self.next.min(self.polls.len() - 1)].clone();
        self.next += 1;
        sink.rules(&fs::read_to_string(dir.join("rules.txt")).unwrap());
        let f = fs::File::open(dir.join("states.txt")).unwrap();
        sink.states(None, &mut BufReader::new(f)).unwrap();
        Ok(PollMeta {
            taken_at: taken_at(&dir),
            runs: Vec::new(),
            warnings: Vec::new(),
            position: Some((self.next.min(self.polls.len()), self.polls.len())),
        })
    }
}

pub fn config(servers: &[&str], ports: &[u16], allow: &[&str]) -> Config {
    let servers: Vec<String> = servers.iter().map(|s| s.to_string()).collect();
    let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
    Config {
        servers: Servers::parse(&servers, ports).unwrap(),
        allow: parse_allow(&allow).unwrap(),
        keep_all_states: false,
        ..Config::default()
    }
}

/// The analysis of every poll of `dir`, each with its predecessor.
pub fn analyses(dir: &Path, cfg: &Config) -> Vec<Analysis> {
    let mut src = Recorded::new(dir);
    let n = src.polls.len();
    let mut out: Vec<Analysis> = Vec::new();
    for _ in 0..n {
        let mut b = SampleBuilder::new(cfg);
        let meta = src.poll(&mut b).unwrap();
        let sample = b.finish(Some(meta));
        let a = analyze(out.last(), &sample, cfg);
        out.push(a);
    }
    out
}

/// `(label, server states, verdict)` of the blamed rows, most first.
pub fn blamed(a: &Analysis) -> Vec<(String, u64, &'static str)> {
    a.blamed()
        .iter()
        .map(|r| {
            let v = match r.verdict {
                Some(v) => v.word(),
                None => "-",
            };
            (r.key.to_string(), r.server_states, v)
        })
        .collect()
}
