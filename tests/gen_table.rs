//! The synthetic table generator (`examples/gen_table.rs`) writes text the
//! parsers accept without a single diagnostic, deterministic from the seed,
//! with `States:` counters that match the states.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use pfblame::parse::{rules::parse_rules, states::parse_states};
use pfblame::print::Flavor;

#[path = "../examples/gen_table.rs"]
#[allow(dead_code)]
mod gen_table;

#[test]
fn generated_tables_parse_cleanly_and_counters_match() {
    for flavor in [Flavor::OpenBsd, Flavor::FreeBsd] {
        let opts = gen_table::Options::new(5000, flavor, 7);
        let (rules_text, states_text, tally) = gen_table::generate(&opts);
        let (states, sd) = parse_states(&states_text);
        let (rules, rd) = parse_rules(&rules_text);
        assert!(sd.is_empty(), "{flavor:?}: {:?}", &sd[..1]);
        assert!(rd.is_empty(), "{flavor:?}: {:?}", &rd[..1]);
        assert_eq!(states.len(), 5000);
        assert_eq!(tally.states_bytes as usize, states_text.len());

        // Every state names a rule that exists, and each rule's `States:`
        // counter is the number of states naming it.
        let mut per_key: BTreeMap<(Option<u32>, Option<u32>), u64> = BTreeMap::new();
        for s in &states {
            *per_key.entry((s.anchor, s.rule)).or_default() += 1;
        }
        let anchors: BTreeMap<&str, u32> = rules
            .iter()
            .filter(|r| r.anchor_path.is_empty())
            .filter_map(|r| Some((r.anchor_name.as_deref()?, r.number?)))
            .collect();
        for r in &rules {
            let anchor = match r.anchor_path.as_str() {
                "" => None,
                path => Some(anchors[path]),
            };
            let own = per_key.get(&(anchor, r.number)).copied().unwrap_or(0);
            let states_counter = r.counters.as_ref().unwrap().states;
            if r.anchor_name.is_some() {
                let m = r.number.unwrap();
                let inside: u64 = per_key
                    .iter()
                    .filter(|((a, _), _)| *a == Some(m))
                    .map(|(_, n)| n)
                    .sum();
                assert_eq!(states_counter, own + inside, "{flavor:?} {}", r.text);
            } else {
                assert_eq!(states_counter, own, "{flavor:?} {}", r.text);
            }
        }
        assert_eq!(
            per_key.get(&(None, None)).copied().unwrap_or(0),
            tally.default_rule
        );
        // A few percent of the states are the server's, over several protocols.
        let server: std::net::IpAddr = "2001:db8::10".parse().unwrap();
        let n = states
            .iter()
            .filter(|s| s.src.addr.ip() == Some(server) || s.dst.addr.ip() == Some(server))
            .count() as u64;
        assert_eq!(n, tally.server_states);
        assert!((50..400).contains(&n), "{n} server states");
        let protos: std::collections::BTreeSet<&str> = states.iter().map(|s| &*s.proto).collect();
        for p in ["tcp", "udp", "icmp", "ipv6-icmp", "esp", "carp", "gre"] {
            assert!(protos.contains(p), "{flavor:?}: no {p} state");
        }
        assert!(states.iter().any(|s| s.src_nat.is_some()), "no NAT state");
        assert!(states.iter().any(|s| s.dst_nat.is_some()), "no rdr state");
        assert!(
            states.iter().any(|s| s.route.is_some()),
            "no route-to state"
        );
        assert!(states.iter().any(|s| s.anchor.is_some()), "no anchor state");
    }
}

#[test]
fn the_seed_decides_everything() {
    let a = gen_table::generate(&gen_table::Options::new(300, Flavor::OpenBsd, 1));
    let b = gen_table::generate(&gen_table::Options::new(300, Flavor::OpenBsd, 1));
    let c = gen_table::generate(&gen_table::Options::new(300, Flavor::OpenBsd, 2));
    assert_eq!((&a.0, &a.1), (&b.0, &b.1));
    assert_ne!(a.1, c.1);
}
