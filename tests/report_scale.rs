//! Findings at scale: a table where every state is a server state of the
//! stray rule. The bypass verdict must count every one of them, and the
//! findings only look at server states.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod report_support;

use std::fmt::Write as _;
use std::time::Instant;

use pfblame::analyze::analyze;
use pfblame::lint::{FindingKind, FindingSeverity};
use pfblame::poll::SampleBuilder;
use pfblame::source::PollSink;
use report_support::{config, scenario};

/// Large enough to show a per-state cost (debug: about 0.2 ms a state,
/// dominated by the matcher re-reading rule text), small enough for CI.
const N: u32 = 5_000;

/// `N` SYN_SENT states of the stray rule @14, each from another client.
fn states_text() -> String {
    let mut t = String::new();
    for i in 0..N {
        let _ = writeln!(
            t,
            "all tcp 2001:db8:dddd:{:x}::{:x}[{}] -> 2001:db8:bbbb:1::10[443]       SYN_SENT:SYN_SENT\n   \
             [1 + 64800]  [0 + 65535]\n   \
             age 00:00:02, expires in 00:00:30, 1:0 pkts, 80:0 bytes, rule 14\n   \
             id: {:016x} creatorid: 5f2e1a07",
            i / 1000,
            i % 1000 + 1,
            1024 + i % 60_000,
            0x6543_a1f2_0010_0000_u64 + u64::from(i)
        );
    }
    t
}

#[test]
fn every_server_state_of_the_stray_rule_is_counted() {
    let cfg = config(&["2001:db8:bbbb:1::10"], &[443], &[]);
    let rules = std::fs::read_to_string(scenario("dual-prefix/0001").join("rules.txt")).unwrap();
    let text = states_text();
    let mut b = SampleBuilder::new(&cfg);
    b.rules(&rules);
    b.states(None, &mut text.as_bytes()).unwrap();
    let sample = b.finish(None);
    assert_eq!(sample.states.len(), N as usize);

    let started = Instant::now();
    let a = analyze(None, &sample, &cfg);
    eprintln!("analyze of {N} server states: {:?}", started.elapsed());

    assert_eq!(a.findings.len(), 1, "{:#?}", a.findings);
    let f = &a.findings[0];
    assert_eq!(f.kind, FindingKind::Bypass);
    assert_eq!(f.severity, FindingSeverity::Error);
    assert_eq!(f.states, u64::from(N));
    assert_eq!(f.bypassed_rule.as_ref().unwrap().number, Some(17));
    assert!(
        f.message.contains("skip route-to rule @17"),
        "{}",
        f.message
    );
}
