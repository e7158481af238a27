//! The compact state store (`model::store`, issue #16 target 1) gives back
//! every state exactly as parsed: on every fixture file, on generated
//! tables of both flavours, and on the pfctl oracle corpus in
//! `../shared/pfctl-oracle` (skipped with a message when it is missing;
//! `PFBLAME_CORPORA=required` makes that a failure). It also stays compact
//! on a generated table: the figure docs/performance.md quotes. The
//! column-reading tests the TUI uses instead of building states (address
//! prefixes for the `/` filter, the 5-tuple a state without an id is found
//! again by, the owner's tag word) answer what the built state answers.
#![allow(clippy::unwrap_used)]

use ipnet::IpNet;
use pfblame::model::State;
use pfblame::model::store::{NetProbe, StateStore};
use pfblame::parse::states::read_states;
use pfblame::print::Flavor;

mod corpus_support;
#[path = "../examples/gen_table.rs"]
#[allow(dead_code)]
mod gen_table;

fn parsed(input: &[u8]) -> Vec<State> {
    let mut states = Vec::new();
    let mut diags = Vec::new();
    read_states(input, |s| states.push(s), &mut diags).unwrap();
    states
}

/// Pushes every state, then reads each back (by index, by iteration and
/// through the cheap accessors) and compares with the parsed one.
fn round_trip(name: &str, states: &[State]) -> StateStore {
    let mut store = StateStore::new();
    for s in states {
        store.push(s);
    }
    assert_eq!(store.len(), states.len(), "{name}");
    for (i, s) in states.iter().enumerate() {
        assert_eq!(store.get(i).as_ref(), Some(s), "{name}: state {i}");
        assert_eq!(store.rule_key(i), Some(s.rule_key()), "{name}: rule {i}");
        assert_eq!(store.age(i), s.age, "{name}: age {i}");
        assert_eq!(store.verbose(i), s.verbose, "{name}: verbose {i}");
        let id = s.id.map(|id| (id, s.creator_id));
        assert_eq!(store.id(i), id, "{name}: id {i}");
    }
    assert!(store.iter().eq(states.iter().cloned()), "{name}: iter");
    assert_eq!(store.any_id(), states.iter().any(|s| s.id.is_some()));
    columns_answer_as_the_states(name, &mut store, states);
    store
}

/// Prefixes around the state's own addresses (so both answers happen).
fn nets_near(s: &State) -> Vec<IpNet> {
    let mut nets = Vec::new();
    for ip in s.addrs().filter_map(|e| e.addr.ip()) {
        let lens: &[u8] = if ip.is_ipv4() {
            &[0, 1, 8, 24, 31, 32]
        } else {
            &[0, 1, 16, 64, 120, 127, 128]
        };
        nets.extend(lens.iter().filter_map(|l| IpNet::new(ip, *l).ok()));
    }
    nets
}

fn touches(s: &State, net: &IpNet) -> bool {
    s.addrs()
        .any(|e| e.addr.ip().is_some_and(|ip| net.contains(&ip)))
}

fn same_tuple(s: &State, other: &State) -> bool {
    s.id.is_none()
        && s.proto == other.proto
        && s.direction == other.direction
        && s.src == other.src
        && s.dst == other.dst
}

/// `touches`, `has_tuple` and the tags against the built states: each
/// state with the prefixes and tuple of itself and of the state before it.
fn columns_answer_as_the_states(name: &str, store: &mut StateStore, states: &[State]) {
    for (i, s) in states.iter().enumerate() {
        let before = &states[i.saturating_sub(1)];
        for net in nets_near(s).iter().chain(&nets_near(before)) {
            let probe = NetProbe::new(*net);
            assert_eq!(
                store.touches(i, &probe),
                touches(s, net),
                "{name}: {i} in {net}"
            );
        }
        for other in [s, before] {
            let has = store.has_tuple(i, &other.proto, other.direction, &other.src, &other.dst);
            assert_eq!(has, same_tuple(s, other), "{name}: tuple of {i}");
        }
        store.set_tag(i, i as u32 * 7 + 1);
    }
    for i in 0..states.len() {
        assert_eq!(store.tag(i), i as u32 * 7 + 1, "{name}: tag {i}");
    }
    assert_eq!(store.tags().len(), states.len());
    for net in [
        "0.0.0.0/0",
        "::/0",
        "10.0.0.0/8",
        "2001:db8::/32",
        "192.0.2.0/24",
        "2001:db8:dead::/48",
        "::1/128",
        "3fff::/16",
    ] {
        let net: IpNet = net.parse().unwrap();
        let probe = NetProbe::new(net);
        let want: Vec<usize> = (0..states.len())
            .filter(|i| touches(&states[*i], &net))
            .collect();
        assert_eq!(
            store.touching(&probe).collect::<Vec<_>>(),
            want,
            "{name}: {net}"
        );
    }
    assert!(!store.touches(states.len(), &NetProbe::new("::/0".parse().unwrap())));
}

#[test]
fn every_fixture_state_comes_back_unchanged() {
    let files = corpus_support::fixture_files();
    let mut total = 0;
    for f in &files {
        let states = parsed(&std::fs::read(f).unwrap());
        total += states.len();
        round_trip(&f.display().to_string(), &states);
    }
    assert!(total > 300, "only {total} fixture states");
}

#[test]
fn every_oracle_state_comes_back_unchanged() {
    let Some(files) = corpus_support::oracle_listings() else {
        return;
    };
    let mut whole = 0;
    let mut total = 0;
    for f in &files {
        let states = parsed(&std::fs::read(f).unwrap());
        let store = round_trip(&f.display().to_string(), &states);
        whole += store.whole_count();
        total += states.len();
    }
    // The corpus is made of the rare cases (names, flags, translations,
    // 64-bit counters): many are kept whole, and still come back.
    assert!(whole > 0 && whole < total, "{whole} of {total} kept whole");
}

#[test]
fn generated_tables_come_back_unchanged_and_compact() {
    for flavor in [Flavor::OpenBsd, Flavor::FreeBsd] {
        let (_, text, _) = gen_table::generate(&gen_table::Options::new(20_000, flavor, 5));
        let states = parsed(text.as_bytes());
        let mut store = round_trip(&format!("generated {flavor:?}"), &states);
        store.shrink_to_fit();
        let per_state = store.heap_bytes() / states.len();
        eprintln!(
            "{flavor:?}: {per_state} bytes per state, {} of {} kept whole; {:?}",
            store.whole_count(),
            states.len(),
            store.shape()
        );
        // A parsed `State` is 400 bytes before its boxes and strings.
        assert!(per_state <= 120, "{flavor:?}: {per_state} bytes per state");
    }
}
