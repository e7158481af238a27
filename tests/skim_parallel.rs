//! The state listing skimmed on several threads (`parse::states::chunks`,
//! what `SampleBuilder` does on a machine with more than one core) gives
//! exactly the serial answers: the same counts, the same kept states in the
//! same order, the same diagnostics in the same order with the same lines
//! and columns. Blocks are made small so that a listing is cut in many
//! places (and, on long stretches without a place to cut, finished on the
//! calling thread). Run on every fixture file, on generated tables, on
//! damaged input and on the pfctl oracle corpus (skipped with a message
//! when it is missing; `PFBLAME_CORPORA=required` makes that a failure).
#![allow(clippy::unwrap_used)]

use pfblame::analyze::{Config, Sample, Servers};
use pfblame::model::{Diagnostic, Endpoint, State};
use pfblame::parse::states::chunks::{Chunking, CountSink, skim_states_chunked};
use pfblame::parse::states::skim::{Counted, SkimSink, skim_states};
use pfblame::poll::SampleBuilder;
use pfblame::print::Flavor;
use pfblame::source::PollSink;

mod corpus_support;
#[path = "../examples/gen_table.rs"]
#[allow(dead_code)]
mod gen_table;

/// Block sizes that cut inside lines, between lines and between states.
const BLOCKS: &[usize] = &[1, 5, 64, 301, 4096];

/// What a sample holds that comes from the states listing.
#[derive(Debug, PartialEq)]
struct Answer {
    total: u64,
    per_rule: Vec<(pfblame::model::RuleKey, u64)>,
    states: Vec<State>,
    diagnostics: Vec<Diagnostic>,
}

fn answer(s: Sample) -> Answer {
    Answer {
        total: s.total_states,
        per_rule: s.states_per_rule.into_iter().collect(),
        states: s.states.iter().collect(),
        diagnostics: s.diagnostics,
    }
}

fn sample(cfg: &Config, chunking: Chunking, rule: Option<u32>, input: &[u8]) -> Answer {
    let mut b = SampleBuilder::new(cfg).with_chunking(chunking);
    b.states(rule, &mut &input[..]).unwrap();
    answer(b.finish(None))
}

/// Serial and parallel samples of `input`, server states only (the first
/// state's destination) and every state, with and without `-R`.
fn check(name: &str, input: &[u8]) {
    let everything = Config {
        keep_all_states: true,
        ..Config::default()
    };
    let first = sample(&everything, Chunking::SERIAL, None, input)
        .states
        .into_iter()
        .next();
    let servers: Vec<String> = first
        .and_then(|s| s.dst.addr.ip())
        .iter()
        .map(|ip| ip.to_string())
        .collect();
    let server = Config {
        servers: Servers::parse(&servers, &[]).unwrap(),
        ..Config::default()
    };
    for (what, cfg) in [("server", &server), ("every state", &everything)] {
        for rule in [None, Some(3)] {
            let serial = sample(cfg, Chunking::SERIAL, rule, input);
            for &block in BLOCKS {
                for threads in [2, 3] {
                    let parallel = sample(cfg, Chunking::new(threads, block), rule, input);
                    same(
                        &serial,
                        &parallel,
                        &format!("{name}, {what}, -R {rule:?}, {threads} threads, block {block}"),
                    );
                }
            }
        }
    }
}

/// Equal answers, with a short message naming the first difference.
fn same(serial: &Answer, parallel: &Answer, what: &str) {
    assert_eq!(serial.total, parallel.total, "{what}: total");
    assert_eq!(serial.per_rule, parallel.per_rule, "{what}: per rule");
    assert_eq!(
        serial.states.len(),
        parallel.states.len(),
        "{what}: number of kept states"
    );
    for (s, p) in serial.states.iter().zip(&parallel.states) {
        assert_eq!(s, p, "{what}: state of line {}", s.line);
    }
    assert_eq!(
        serial.diagnostics, parallel.diagnostics,
        "{what}: diagnostics"
    );
}

#[test]
fn parallel_equals_serial_on_every_fixture() {
    for f in &corpus_support::fixture_files() {
        check(&f.display().to_string(), &std::fs::read(f).unwrap());
    }
}

#[test]
fn parallel_equals_serial_on_generated_tables() {
    for flavor in [Flavor::OpenBsd, Flavor::FreeBsd] {
        let (_, states, _) = gen_table::generate(&gen_table::Options::new(3000, flavor, 7));
        check(&format!("generated {flavor:?}"), states.as_bytes());
    }
}

/// Damaged states: invalid UTF-8, CRLF, NUL bytes, blank and `\r` lines,
/// orphans, broken items, lines too long to read.
fn damaged() -> Vec<u8> {
    let mut text: Vec<u8> = b"   age 00:00:01\n\
        all tcp 10.0.0.1:1 -> 10.0.0.2:2       ESTABLISHED:ESTABLISHED\r\n\
        \x20  [1 + 2]  [3 + 4] wscale 300\n\
        \r\n\
        \n\
        \x20  age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, anchor 1, rule 2, lo\xffg\n\
        \x20  id: 0000000000000001 creatorid: 00000001 rtable: 3\n\
        all tcp 10.0.0.1:99999 -> 10.0.0.2:2       ESTABLISHED:ESTABLISHED\n\
        \x20  age 00:00:01, rule 9\n\
        em\x000 tcp 10.0.0.3:1 -> 10.0.0.4:2       ESTABLISHED:ESTABLISHED\n\
        \x20  age 00:00:01, rule 9\n\
        \xff\xfe tcp 10.0.0.3:1 -> 10.0.0.4:2       ESTABLISHED:ESTABLISHED\n\
        \x20  age 00:00:01, rule 9\n\
        all udp 10.0.0.5:1 -> 10.0.0.6:3       SINGLE:NO_TRAFFIC\n\
        \x20  age 00:61:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 4\n\
        \x20  age 00:00:01, , rule 5\n\
        \x20  id: 0000000000000001 creatorid: 00000001\x00\n\
        \x20  origif: em0\n\
        \x20  bogus line\n"
        .to_vec();
    // A main line too long to read: its continuation lines go to the state
    // before it, so no cut may fall between them.
    text.extend(std::iter::repeat_n(b'x', 70_000));
    text.extend_from_slice(b"\n   age 00:00:01, rule 6\n");
    text.extend_from_slice(
        b"all udp 10.0.0.5:1 -> 10.0.0.6:3       SINGLE:NO_TRAFFIC\n\
        \x20  age 00:00:01, expires in 00:00:02, 7:7 pkts, 1:1 bytes, rule 4",
    );
    text
}

#[test]
fn parallel_equals_serial_on_damaged_input() {
    check("damaged", &damaged());
    // Long stretches without a place to cut (continuation lines only):
    // the rest is skimmed on the calling thread, with the same answers.
    let mut orphans = b"all udp 10.0.0.5:1 -> 10.0.0.6:3       SINGLE:NO_TRAFFIC\n".to_vec();
    for i in 0..40_000 {
        orphans.extend_from_slice(format!("   age 00:00:01, rule {}\n", i % 7).as_bytes());
    }
    orphans.extend_from_slice(&damaged());
    check("continuation lines only", &orphans);
}

/// Counts every state and keeps the even-numbered lines' states.
#[derive(Debug, Default)]
struct Counts {
    rules: std::collections::BTreeMap<(Option<u32>, Option<u32>), u64>,
}

impl CountSink for Counts {
    fn wants(&mut self, endpoints: &[&Endpoint]) -> bool {
        endpoints.iter().any(|e| {
            e.port
                .as_ref()
                .and_then(|p| p.number())
                .is_some_and(|p| p % 2 == 0)
        })
    }
    fn counted(&mut self, c: Counted) {
        *self.rules.entry((c.anchor, c.rule)).or_insert(0) += 1;
    }
}

struct Serial {
    counts: Counts,
    kept: Vec<State>,
}

impl SkimSink for Serial {
    fn wants(&mut self, endpoints: &[&Endpoint]) -> bool {
        self.counts.wants(endpoints)
    }
    fn state(&mut self, state: State) {
        self.kept.push(state);
    }
    fn counted(&mut self, c: Counted) {
        self.counts.counted(c);
    }
}

#[test]
fn diagnostics_beyond_the_cap_are_counted_as_in_one_thread() {
    // 3,000 unparsable main lines, each with a skipped continuation line:
    // 6,000 diagnostics, of which the first 1,000 are kept.
    let mut text = Vec::new();
    for i in 0..3000 {
        text.extend_from_slice(format!("garbage {i}\n   age 00:00:01, rule 1\n").as_bytes());
        if i % 100 == 0 {
            text.extend_from_slice(
                b"all udp 10.0.0.5:1 -> 10.0.0.6:4       SINGLE:NO_TRAFFIC\n   age 00:00:01, rule 3\n",
            );
        }
    }
    let mut serial = Serial {
        counts: Counts::default(),
        kept: Vec::new(),
    };
    let mut serial_diags = Vec::new();
    skim_states(&text[..], &mut serial, &mut serial_diags).unwrap();
    assert_eq!(serial_diags.len(), 1001, "the cap and its closing count");
    for block in [7, 300, 20_000] {
        let mut kept = Vec::new();
        let mut diags = Vec::new();
        let parts = skim_states_chunked(
            &text[..],
            Chunking::new(2, block),
            Counts::default,
            |s| kept.push(s),
            &mut diags,
        )
        .unwrap();
        assert_eq!(parts.len(), 2, "block {block}: two threads");
        let mut rules = std::collections::BTreeMap::new();
        for p in parts {
            for (k, n) in p.rules {
                *rules.entry(k).or_insert(0) += n;
            }
        }
        assert_eq!(rules, serial.counts.rules, "block {block}: counts");
        assert_eq!(kept, serial.kept, "block {block}: kept");
        assert_eq!(diags, serial_diags, "block {block}: diagnostics");
    }
}

#[test]
fn parallel_equals_serial_on_the_oracle_corpus() {
    let Some(files) = corpus_support::oracle_listings() else {
        return;
    };
    for f in &files {
        check(&f.display().to_string(), &std::fs::read(f).unwrap());
    }
}
