//! Parser throughput: `cargo bench --bench parse`.
//!
//! The input is generated in memory by the project's table generator
//! (`examples/gen_table.rs`, included as a module), so every run parses the
//! same synthetic `-vvss` / `-vvsr` text. Throughput is reported per state
//! (or rule) via divan's item counter.

use std::sync::LazyLock;

use divan::Bencher;
use divan::counter::{BytesCount, ItemsCount};
use pfblame::parse::{parse_any, read_any, rules, states};
use pfblame::print::Flavor;

#[path = "../examples/gen_table.rs"]
#[allow(dead_code)]
mod gen_table;

/// States in the in-memory table (the target is stated per state).
const STATES: u64 = 100_000;

/// Anchors wrapped around copies of the generated ruleset for the rules bench.
const RULE_COPIES: usize = 300;

struct Input {
    states: String,
    rules: String,
    rules_count: u64,
    mixed: String,
}

static INPUT: LazyLock<Input> = LazyLock::new(|| {
    let opts = gen_table::Options::new(STATES, Flavor::OpenBsd, 42);
    let (rules, states, _) = gen_table::generate(&opts);
    let big_rules = many_rules(&rules);
    let (parsed, diags) = rules::parse_rules(&big_rules);
    assert!(
        diags.is_empty(),
        "generated rules do not parse: {:?}",
        &diags[..1]
    );
    let rules_count = parsed.len() as u64;
    let mixed = format!("FILTER RULES:\n{rules}\nSTATES:\n{states}");
    Input {
        states,
        rules: big_rules,
        rules_count,
        mixed,
    }
});

/// A large ruleset: the generated one, copied into `RULE_COPIES` anchors
/// (rule numbers restart in every anchor, so the listing stays valid).
fn many_rules(rules: &str) -> String {
    let mut out = String::with_capacity(rules.len() * (RULE_COPIES + 1));
    out.push_str(rules);
    let base = rules.lines().filter(|l| l.starts_with('@')).count();
    for i in 0..RULE_COPIES {
        // Main-ruleset numbers continue after the generated rules.
        out.push_str(&format!(
            "@{} anchor \"copy{i}\" all {{\n  [ Evaluations: 1  Packets: 1  Bytes: 1  States: 0 ]\n  [ Inserted: uid 0 pid 1 State Creations: 0 ]\n",
            base + i
        ));
        out.push_str(rules);
        out.push_str("}\n");
    }
    out
}

fn main() {
    divan::main();
}

/// `parse_states` on a whole `-vvss` listing held in memory.
#[divan::bench(sample_count = 20)]
fn states_in_memory(bencher: Bencher) {
    let input = &*INPUT;
    bencher
        .counter(ItemsCount::new(STATES))
        .bench(|| states::parse_states(divan::black_box(&input.states)));
}

/// `read_states` streaming the same listing from a reader, states dropped
/// as they come (what `record`/`report` do with a pipe).
#[divan::bench(sample_count = 20)]
fn states_streaming(bencher: Bencher) {
    let input = &*INPUT;
    bencher.counter(ItemsCount::new(STATES)).bench(|| {
        let mut n = 0u64;
        let mut diags = Vec::new();
        let r = states::read_states(
            divan::black_box(input.states.as_bytes()),
            |s| {
                divan::black_box(&s);
                n += 1;
            },
            &mut diags,
        );
        assert!(r.is_ok() && diags.is_empty());
        n
    });
}

/// Bytes per second of the same listing (for comparing with disk and pipes).
#[divan::bench(sample_count = 10)]
fn states_bytes(bencher: Bencher) {
    let input = &*INPUT;
    bencher
        .counter(BytesCount::of_str(&input.states))
        .bench(|| states::parse_states(divan::black_box(&input.states)));
}

/// `parse_rules` on a large `-a '*' -vvsr` listing with nested anchors.
#[divan::bench(sample_count = 20)]
fn rules_in_memory(bencher: Bencher) {
    let input = &*INPUT;
    bencher
        .counter(ItemsCount::new(input.rules_count))
        .bench(|| rules::parse_rules(divan::black_box(&input.rules)));
}

/// `parse_any` on a `pfctl -sa`-like file: rules, then 100k states.
#[divan::bench(sample_count = 20)]
fn any_mixed(bencher: Bencher) {
    let input = &*INPUT;
    bencher
        .counter(ItemsCount::new(STATES))
        .bench(|| parse_any(divan::black_box(&input.mixed)));
}

/// `read_any` (the `--from FILE` path) on the same mixed file.
#[divan::bench(sample_count = 20)]
fn any_mixed_reader(bencher: Bencher) {
    let input = &*INPUT;
    bencher
        .counter(ItemsCount::new(STATES))
        .bench(|| read_any(divan::black_box(input.mixed.as_bytes())));
}
