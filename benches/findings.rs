//! `lint::findings` over many server states: the cost `report` and the
//! TUI's `watch` pay on every poll. The states are generated pfctl text
//! (parsed once, outside the timed part) over the dual-prefix scenario's
//! rules: most are the stray rule @14's states that bypass route-to @17,
//! the rest are spread over a few other rules, in and out, each from its
//! own client address and port.

use std::fmt::Write as _;

use pfblame::analyze::Servers;
use pfblame::lint::{findings, findings_with_stats};
use pfblame::model::{Rule, State};
use pfblame::parse::parse_any;

fn main() {
    divan::main();
}

const RULES: &str = include_str!("../fixtures/scenarios/dual-prefix/0001/rules.txt");

/// One generated state: `(rule, proto, arrow line)` shapes, cycled.
fn state_text(out: &mut String, i: u32) {
    let client = format!("2001:db8:dddd:{:x}::{:x}", i / 1000, i % 1000 + 1);
    let cport = 1024 + i % 60_000;
    let (line, rule) = match i % 10 {
        // The stray rule: out on em1 to the tunnel server (bypass of @17).
        0..=5 => (
            format!(
                "all tcp {client}[{cport}] -> 2001:db8:bbbb:1::10[443]       SYN_SENT:SYN_SENT"
            ),
            14,
        ),
        // In on em0 to the other prefix's server.
        6 => (
            format!(
                "all tcp 2001:db8:aaaa:1::10[443] <- {client}[{cport}]       ESTABLISHED:ESTABLISHED"
            ),
            12,
        ),
        // ssh from the other prefix, both directions of rule @19.
        7 => (
            format!(
                "all tcp 2001:db8:bbbb:1::10[22] <- 2001:db8:aaaa:2::{:x}[{cport}]       ESTABLISHED:ESTABLISHED",
                i % 4000 + 1
            ),
            19,
        ),
        8 => (
            format!(
                "all tcp 2001:db8:aaaa:2::{:x}[{cport}] -> 2001:db8:bbbb:1::10[22]       ESTABLISHED:ESTABLISHED",
                i % 4000 + 1
            ),
            19,
        ),
        // The server's own DNS queries, kept by `pass all`.
        _ => (
            format!("all udp 2001:db8:aaaa:1::10[{cport}] -> {client}[53]       MULTIPLE:SINGLE"),
            1,
        ),
    };
    let _ = writeln!(
        out,
        "{line}\n   age 00:00:02, expires in 00:00:30, 1:0 pkts, 80:0 bytes, rule {rule}\n   id: {:016x} creatorid: 5f2e1a07",
        0x6543_a1f2_0010_0000_u64 + u64::from(i)
    );
}

fn inputs(n: u32) -> (Vec<Rule>, Vec<State>, Servers) {
    let mut text = String::new();
    for i in 0..n {
        state_text(&mut text, i);
    }
    let states = parse_any(&text).states;
    assert_eq!(states.len(), n as usize, "generated states must all parse");
    let rules = parse_any(RULES).rules;
    let servers = Servers::parse(
        &["2001:db8:bbbb:1::10".into(), "2001:db8:aaaa:1::10".into()],
        &[],
    )
    .expect("servers");
    (rules, states, servers)
}

#[divan::bench(args = [5_000, 50_000], sample_count = 10)]
fn server_states(bencher: divan::Bencher, n: u32) {
    let (rules, states, servers) = inputs(n);
    // The work is proportional to the flows, not the states.
    let (_, stats) = findings_with_stats(&rules, &states, &servers);
    assert!(stats.flows < 200, "{stats:?}");
    eprintln!("{n} states: {stats:?}");
    bencher.bench_local(|| findings(&rules, &states, &servers));
}
