//! Killing states: refused without --allow-kill or on a recording, and
//! exactly the planned commands are issued once confirmed.

#![allow(clippy::unwrap_used)] // tests: a panic is a failure

use std::sync::Arc;
use std::time::Duration;

use pfblame::kill::{self, KillGuard, KillRefused};
use pfblame::model::{Direction, Endpoint, HostAddr, Port, State};

fn state(line: usize, dir: Direction, src: &str, sport: u16, dst: &str, dport: u16) -> State {
    let ep = |a: &str, p: u16| Endpoint::new(HostAddr::Ip(a.parse().unwrap()), Some(Port::Num(p)));
    State {
        line,
        iface: Arc::from("all"),
        proto: Arc::from("tcp"),
        direction: dir,
        src: ep(src, sport),
        dst: ep(dst, dport),
        src_nat: None,
        dst_nat: None,
        gateway: None,
        src_state: Arc::from("ESTABLISHED"),
        dst_state: Arc::from("ESTABLISHED"),
        age: None,
        expires: None,
        packets: None,
        bytes: None,
        anchor: None,
        rule: Some(2),
        flags: Vec::new(),
        id: None,
        creator_id: None,
        route: None,
        rtable: None,
        origif: None,
        seq: None,
        verbose: true,
    }
}

#[test]
fn refused_without_allow_kill() {
    assert_eq!(
        KillGuard::new(false, true).unwrap_err(),
        KillRefused::NotAllowed
    );
    assert_eq!(
        KillGuard::new(false, false).unwrap_err(),
        KillRefused::NotAllowed
    );
}

#[test]
fn refused_on_a_recording() {
    assert_eq!(
        KillGuard::new(true, false).unwrap_err(),
        KillRefused::Recorded
    );
}

#[test]
fn refused_when_not_confirmed() {
    let guard = KillGuard::new(true, true).unwrap();
    assert_eq!(guard.confirm(false).unwrap_err(), KillRefused::NotConfirmed);
}

#[test]
fn plan_uses_ids_when_printed_and_keys_otherwise() {
    let mut with_id = state(
        1,
        Direction::Out,
        "2001:db8:ffff::1",
        50000,
        "2001:db8::10",
        443,
    );
    with_id.id = Some(0x64f1_a2b3_0000_0a11);
    with_id.creator_id = Some(0x4e1f_00c2);
    let inbound = state(4, Direction::In, "198.51.100.7", 49152, "192.0.2.10", 443);
    let duplicate = inbound.clone();
    let plan = kill::plan(&[with_id, inbound, duplicate]);
    assert_eq!(
        plan,
        vec![
            vec!["-k", "id", "-k", "64f1a2b300000a11/4e1f00c2"],
            vec![
                "-k",
                "key",
                "-k",
                "tcp 192.0.2.10:443 <- 198.51.100.7:49152"
            ],
        ]
    );
}

#[test]
fn ipv6_keys_and_unnameable_states() {
    let out = state(
        1,
        Direction::Out,
        "2001:db8:ffff::1",
        50000,
        "2001:db8::10",
        443,
    );
    assert_eq!(
        kill::state_key(&out).unwrap(),
        "tcp 2001:db8:ffff::1[50000] -> 2001:db8::10[443]"
    );
    let mut named = out.clone();
    named.src.addr = HostAddr::Name("client.example".into());
    let (plan, skipped) = kill::plan_with_skips(&[named]);
    assert!(plan.is_empty());
    assert_eq!(skipped.len(), 1);
    assert!(skipped[0].contains("host name"), "{}", skipped[0]);
}

#[test]
fn confirmation_shows_the_exact_commands() {
    let plan = kill::plan(&[state(
        1,
        Direction::Out,
        "2001:db8:ffff::1",
        50000,
        "2001:db8::10",
        443,
    )]);
    let text = kill::confirm_text(&["doas".into(), "pfctl".into()], &plan);
    assert_eq!(
        text,
        "pfblame will remove 1 state by running:\n  doas pfctl -k key -k 'tcp 2001:db8:ffff::1[50000] -> 2001:db8::10[443]'\n"
    );
}

fn recorder(log: &std::path::Path) -> Vec<String> {
    vec![
        "sh".into(),
        concat!(env!("CARGO_MANIFEST_DIR"), "/tests/kill-recorder.sh").into(),
        log.to_string_lossy().into_owned(),
    ]
}

#[test]
fn confirmed_kill_issues_exactly_the_planned_commands() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let mut a = state(
        1,
        Direction::Out,
        "2001:db8:ffff::1",
        50000,
        "2001:db8::10",
        443,
    );
    a.id = Some(0xabc);
    a.creator_id = Some(0x1);
    let b = state(
        4,
        Direction::In,
        "2001:db8:ffff::2",
        50001,
        "2001:db8::10",
        443,
    );
    let plan = kill::plan(&[a, b]);
    let ok = KillGuard::new(true, true).unwrap().confirm(true).unwrap();
    let outcome = kill::execute(&ok, &recorder(&log), &plan, Duration::from_secs(10)).unwrap();
    assert_eq!(outcome.succeeded, 2);
    assert_eq!(outcome.killed, 2);
    assert!(outcome.failed.is_empty());
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(
        logged,
        "-k|id|-k|0000000000000abc/00000001\n-k|key|-k|tcp 2001:db8::10[443] <- 2001:db8:ffff::2[50001]\n"
    );
}

#[test]
fn a_failing_command_is_reported_and_the_rest_still_run() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("log");
    let plan = vec![
        vec!["-k".to_string(), "id".into(), "-k".into(), "FAIL".into()],
        vec!["-k".to_string(), "id".into(), "-k".into(), "1".into()],
    ];
    let ok = KillGuard::new(true, true).unwrap().confirm(true).unwrap();
    let outcome = kill::execute(&ok, &recorder(&log), &plan, Duration::from_secs(10)).unwrap();
    assert_eq!(outcome.succeeded, 1);
    assert_eq!(outcome.failed.len(), 1);
    assert!(
        outcome.failed[0].1.contains("Operation not permitted"),
        "{:?}",
        outcome.failed
    );
    assert_eq!(std::fs::read_to_string(&log).unwrap().lines().count(), 2);
}

#[test]
fn missing_pfctl_is_an_error_with_exit_69() {
    let ok = KillGuard::new(true, true).unwrap().confirm(true).unwrap();
    let err = kill::execute(
        &ok,
        &["/nonexistent/pfctl".to_string()],
        &[vec!["-k".into(), "id".into(), "-k".into(), "1".into()]],
        Duration::from_secs(1),
    )
    .unwrap_err();
    assert_eq!(
        pfblame::exit::Exit::from(&err),
        pfblame::exit::Exit::Unavailable
    );
}
