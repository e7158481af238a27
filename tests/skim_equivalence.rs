//! The skimming state reader (`parse::states::skim`, what `report` and the
//! TUI use through `SampleBuilder`) gives exactly the answers of the full
//! parser (`read_states`): the same per-rule counts, the same kept states,
//! the same diagnostics. Run on every fixture file, on generated tables and
//! on the pfctl oracle corpus in `../shared/pfctl-oracle` (skipped with a
//! message when it is missing; `PFBLAME_CORPORA=required` makes that a
//! failure).
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use pfblame::analyze::{Config, Sample, Servers};
use pfblame::model::{Diagnostic, Endpoint, RuleKey, State};
use pfblame::parse::states::read_states;
use pfblame::parse::states::skim::{Counted, SkimSink, skim_states};
use pfblame::poll::SampleBuilder;
use pfblame::print::Flavor;
use pfblame::source::PollSink;

mod corpus_support;
#[path = "../examples/gen_table.rs"]
#[allow(dead_code)]
mod gen_table;

/// Which states a run keeps, decided on endpoints only (as the skim must).
#[derive(Debug, Clone, Copy)]
enum Want {
    Nothing,
    Everything,
    /// States with an endpoint on an even port: a mix of both paths.
    EvenPort,
    /// States with an address whose last byte is a multiple of 3 (the
    /// endpoints come in another order than `State::addrs`: only a set
    /// property can be asked).
    SomeAddresses,
}

impl Want {
    fn wants<'a>(self, mut eps: impl Iterator<Item = &'a Endpoint>) -> bool {
        match self {
            Want::Nothing => false,
            Want::Everything => true,
            Want::EvenPort => eps.any(|e| {
                e.port
                    .as_ref()
                    .and_then(|p| p.number())
                    .is_some_and(|p| p % 2 == 0)
            }),
            Want::SomeAddresses => eps.any(|e| {
                e.addr.ip().is_some_and(|ip| {
                    let last = match ip {
                        std::net::IpAddr::V4(a) => a.octets()[3],
                        std::net::IpAddr::V6(a) => a.octets()[15],
                    };
                    last % 3 == 0
                })
            }),
        }
    }
}

/// What a reader produced.
#[derive(Debug, PartialEq)]
struct Answer {
    per_rule: BTreeMap<RuleKey, u64>,
    kept: Vec<State>,
    diagnostics: Vec<Diagnostic>,
}

fn full(input: &[u8], want: Want) -> Answer {
    let mut a = Answer {
        per_rule: BTreeMap::new(),
        kept: Vec::new(),
        diagnostics: Vec::new(),
    };
    let mut diags = Vec::new();
    read_states(
        input,
        |s| {
            *a.per_rule.entry(s.rule_key()).or_insert(0) += 1;
            if want.wants(s.addrs()) {
                a.kept.push(s);
            }
        },
        &mut diags,
    )
    .unwrap();
    a.diagnostics = diags;
    a
}

struct Collect {
    want: Want,
    answer: Answer,
}

impl SkimSink for Collect {
    fn wants(&mut self, endpoints: &[&Endpoint]) -> bool {
        self.want.wants(endpoints.iter().copied())
    }

    fn state(&mut self, state: State) {
        *self.answer.per_rule.entry(state.rule_key()).or_insert(0) += 1;
        self.answer.kept.push(state);
    }

    fn counted(&mut self, state: Counted) {
        *self.answer.per_rule.entry(state.rule_key()).or_insert(0) += 1;
    }
}

fn skimmed(input: &[u8], want: Want) -> Answer {
    skimmed_from(input, want)
}

/// [`skimmed`] from any reader (its buffer size decides which lines reach
/// the skim whole, and which at the end of a buffer).
fn skimmed_from(input: impl std::io::BufRead, want: Want) -> Answer {
    let mut sink = Collect {
        want,
        answer: Answer {
            per_rule: BTreeMap::new(),
            kept: Vec::new(),
            diagnostics: Vec::new(),
        },
    };
    let mut diags = Vec::new();
    skim_states(input, &mut sink, &mut diags).unwrap();
    sink.answer.diagnostics = diags;
    sink.answer
}

/// The sample `SampleBuilder` made before skimming: every state parsed,
/// counted, and kept when it is a server state; the kept states also as
/// parsed (the sample holds them in its compact store, which must give
/// them back unchanged).
fn full_sample(input: &[u8], servers: &Servers, rule: Option<u32>) -> (Sample, Vec<State>) {
    let mut sample = Sample::default();
    let mut kept = Vec::new();
    let mut diags = Vec::new();
    read_states(
        input,
        |mut s| {
            if let (Some(n), false) = (rule, s.verbose) {
                s.rule = Some(n);
            }
            sample.total_states += 1;
            *sample.states_per_rule.entry(s.rule_key()).or_insert(0) += 1;
            if servers.matches(&s) {
                sample.states.push(&s);
                kept.push(s);
            }
        },
        &mut diags,
    )
    .unwrap();
    sample.diagnostics = diags;
    (sample, kept)
}

fn check(name: &str, input: &[u8]) {
    for want in [
        Want::Nothing,
        Want::Everything,
        Want::EvenPort,
        Want::SomeAddresses,
    ] {
        let (f, s) = (full(input, want), skimmed(input, want));
        assert_eq!(f.per_rule, s.per_rule, "{name}, {want:?}: per-rule counts");
        same_states(&f.kept, &s.kept, &format!("{name}, {want:?}"));
        assert_eq!(
            f.diagnostics, s.diagnostics,
            "{name}, {want:?}: diagnostics"
        );
    }
    // Through SampleBuilder, with the first state's destination as server.
    let first = full(input, Want::Everything).kept.into_iter().next();
    let server = first.and_then(|s| s.dst.addr.ip());
    let servers: Vec<String> = server.iter().map(|ip| ip.to_string()).collect();
    let cfg = Config {
        servers: Servers::parse(&servers, &[]).unwrap(),
        ..Config::default()
    };
    for rule in [None, Some(3)] {
        let (expected, kept) = full_sample(input, &cfg.servers, rule);
        let mut b = SampleBuilder::new(&cfg);
        b.states(rule, &mut &input[..]).unwrap();
        let got = b.finish(None);
        assert_eq!(got.total_states, expected.total_states, "{name}: total");
        assert_eq!(
            got.states_per_rule, expected.states_per_rule,
            "{name}: per rule"
        );
        let got_states: Vec<State> = got.states.iter().collect();
        same_states(&kept, &got_states, name);
        assert_eq!(
            expected.states.iter().collect::<Vec<_>>(),
            kept,
            "{name}: store"
        );
        let messages = |d: &[Diagnostic]| -> Vec<(usize, usize, String)> {
            d.iter()
                .map(|d| (d.line, d.column, d.message.clone()))
                .collect()
        };
        let expected_msgs: Vec<_> = messages(&expected.diagnostics)
            .into_iter()
            .map(|(l, c, m)| (l, c, format!("{}: {m}", listing(rule))))
            .collect();
        assert_eq!(
            messages(&got.diagnostics),
            expected_msgs,
            "{name}: diagnostics"
        );
    }
}

/// Equal state lists, with a short message naming the first difference.
fn same_states(full: &[State], skimmed: &[State], what: &str) {
    assert_eq!(full.len(), skimmed.len(), "{what}: number of kept states");
    for (f, s) in full.iter().zip(skimmed) {
        assert_eq!(f, s, "{what}: state of line {}", f.line);
    }
}

fn listing(rule: Option<u32>) -> String {
    match rule {
        Some(n) => format!("states listing (-R {n})"),
        None => "states listing".to_owned(),
    }
}

#[test]
fn skim_equals_full_on_every_fixture() {
    let files = corpus_support::fixture_files();
    for f in &files {
        check(&f.display().to_string(), &std::fs::read(f).unwrap());
    }
}

#[test]
fn skim_equals_full_on_generated_tables() {
    for flavor in [Flavor::OpenBsd, Flavor::FreeBsd] {
        let (_, states, _) = gen_table::generate(&gen_table::Options::new(3000, flavor, 11));
        check(&format!("generated {flavor:?}"), states.as_bytes());
        // Buffers around the skim's window (576 bytes): lines near a
        // buffer's end are read from a copy, the others in place.
        let whole = full(states.as_bytes(), Want::EvenPort);
        for cap in [577, 700, 1500, 8192] {
            let reader = std::io::BufReader::with_capacity(cap, states.as_bytes());
            assert_eq!(
                skimmed_from(reader, Want::EvenPort),
                whole,
                "{flavor:?}, buffer of {cap}"
            );
        }
    }
}

#[test]
fn skim_equals_full_on_damaged_input() {
    // Invalid UTF-8, CRLF, NUL bytes, cut lines, orphans and broken items
    // in the states that are skimmed.
    let text: &[u8] = b"   age 00:00:01\n\
        all tcp 10.0.0.1:1 -> 10.0.0.2:2       ESTABLISHED:ESTABLISHED\r\n\
        \x20  [1 + 2]  [3 + 4] wscale 300\n\
        \x20  age 00:00:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, anchor 1, rule 2, lo\xffg\n\
        \x20  id: 0000000000000001 creatorid: 00000001 rtable: 3\n\
        all tcp 10.0.0.1:99999 -> 10.0.0.2:2       ESTABLISHED:ESTABLISHED\n\
        \x20  age 00:00:01, rule 9\n\
        em\x000 tcp 10.0.0.3:1 -> 10.0.0.4:2       ESTABLISHED:ESTABLISHED\n\
        \x20  age 00:00:01, rule 9\n\
        all udp 10.0.0.5:1 -> 10.0.0.6:3       SINGLE:NO_TRAFFIC\n\
        \x20  age 00:61:01, expires in 00:00:02, 1:1 pkts, 1:1 bytes, rule 4\n\
        \x20  age 00:00:01, , rule 5\n\
        \x20  id: 0000000000000001 creatorid: 00000001\x00\n\
        \x20  origif: em0\n\
        \x20  bogus line\n\
        all udp 10.0.0.5:1 -> 10.0.0.6:3       SINGLE:NO_TRAFFIC\n\
        \x20  age 00:00:01, expires in 00:00:02, 7:7 pkts, 1:1 bytes, rule 4";
    check("damaged", text);
    // Every split of the input into reader buffers gives the same answer.
    for cap in [1, 2, 7, 64] {
        let reader = std::io::BufReader::with_capacity(cap, text);
        let mut sink = Collect {
            want: Want::EvenPort,
            answer: Answer {
                per_rule: BTreeMap::new(),
                kept: Vec::new(),
                diagnostics: Vec::new(),
            },
        };
        let mut diags = Vec::new();
        skim_states(reader, &mut sink, &mut diags).unwrap();
        sink.answer.diagnostics = diags;
        assert_eq!(sink.answer, full(text, Want::EvenPort), "buffer of {cap}");
    }
}

#[test]
fn skim_equals_full_on_the_oracle_corpus() {
    let Some(files) = corpus_support::oracle_listings() else {
        return;
    };
    for f in &files {
        check(&f.display().to_string(), &std::fs::read(f).unwrap());
    }
}
