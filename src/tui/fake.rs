//! Hand-made analyses for the TUI's tests, examples and benchmarks.
//!
//! The values follow the dual-prefix story of `shared/design.md`: a server
//! `2001:db8::10` (port 443) reached through an ISP prefix and a tunnel; rule
//! `@5` keeps state on the LAN side, so its states catch the replies that
//! `@3`'s `route-to` should have sent through the tunnel. They are written by
//! hand (not parsed), so the TUI can be tested on its own.

use std::net::{IpAddr, Ipv6Addr};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

use crate::analyze::{
    Analysis, Config, Generation, Resolution, RuleRow, Sample, Servers, Verdict, analyze,
};
use crate::model::{
    Action, Counters, Direction, Endpoint, HostAddr, Port, RouteKind, Rule, RuleKey, RuleRoute,
    State, StatePolicy, StateRoute,
};
use crate::source::{PollMeta, Run};
use crate::tui::snapshot::{NewStateTracker, Snapshot};

/// The time of the first hand-made poll.
pub fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0)
        .single()
        .unwrap_or_default()
}

fn v6(last: u16, host: u16) -> IpAddr {
    IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, last, 0, 0, 0, host))
}

/// The server of the story: `2001:db8::10`.
pub fn server() -> IpAddr {
    v6(0, 0x10)
}

fn ep(addr: IpAddr, port: u16) -> Endpoint {
    Endpoint::new(HostAddr::Ip(addr), Some(Port::Num(port)))
}

/// A rule of the listing, as pfctl -vvsr would print it.
pub fn rule(number: u32, anchor_path: &str, text: &str, state: Option<StatePolicy>) -> Rule {
    let action = match text.split_whitespace().next() {
        Some("block") => Action::Block,
        Some("anchor") => Action::Anchor,
        _ => Action::Pass,
    };
    let route = text.contains("route-to").then(|| RuleRoute {
        kind: RouteKind::RouteTo,
        target: "(gif0 2001:db8:ffff::1)".into(),
        pool: Default::default(),
        ifaces: vec!["gif0".into()],
        addrs: vec![v6(0xffff, 1)],
    });
    Rule {
        line: 1 + 3 * number as usize,
        number: Some(number),
        anchor_path: anchor_path.to_string(),
        direction: if text.contains(" in ") {
            Some(Direction::In)
        } else if text.contains(" out ") {
            Some(Direction::Out)
        } else {
            None
        },
        quick: text.contains("quick"),
        state,
        route,
        text: text.to_string(),
        counters: Some(Counters {
            evaluations: 18273,
            packets: 9120 + u64::from(number) * 37,
            bytes: 7_012_345 + u64::from(number) * 1000,
            states: 0,
            state_creations: Some(180 + u64::from(number)),
            ..Counters::default()
        }),
        ..Rule::new(action)
    }
}

/// A TCP state of the server: a client of `prefix` (ISP `1` or tunnel
/// `0xaaaa`) talking to the server's port 443.
pub fn server_state(rule: u32, client: u16, prefix: u16, id: u64) -> State {
    State {
        line: id as usize,
        iface: Arc::from(if prefix == 1 { "em0" } else { "all" }),
        proto: Arc::from("tcp"),
        direction: Direction::In,
        src: ep(v6(prefix, client), 50000 + client),
        dst: ep(server(), 443),
        src_nat: None,
        dst_nat: None,
        gateway: None,
        src_state: Arc::from("ESTABLISHED"),
        dst_state: Arc::from("ESTABLISHED"),
        age: Some(60 * u64::from(client) + 7),
        expires: Some(86_390 - u64::from(client)),
        packets: Some((12 + u64::from(client), 10 + u64::from(client))),
        bytes: Some((1840 + 100 * u64::from(client), 35_210 + u64::from(client))),
        anchor: None,
        rule: Some(rule),
        flags: vec![],
        id: Some(0x6640_0000_0000_0000 + id),
        creator_id: Some(0x8c7e_1f2a),
        route: None,
        rtable: None,
        origif: None,
        seq: None,
        verbose: true,
    }
}

/// A row as the real analysis makes it for `rule` (so every field the
/// analysis adds is filled), with the figures of the story set on top.
fn template(rule: Option<Rule>) -> RuleRow {
    let sample = Sample {
        rules: rule.into_iter().collect(),
        ..Sample::default()
    };
    let mut rows = analyze(None, &sample, &Config::default()).rows;
    rows.truncate(1);
    rows.pop()
        .unwrap_or_else(|| panic!("the analysis made no row"))
}

fn row(
    rule: Rule,
    server_states: u64,
    all_states: u64,
    verdict: Option<Verdict>,
    reason: &str,
) -> RuleRow {
    let mut row = template(Some(rule));
    row.server_states = server_states;
    row.all_states = all_states;
    row.new_states = Some(server_states.min(2));
    row.gone_states = Some(0);
    row.rate = Some(server_states as f64 / 4.0);
    row.verdict = verdict;
    row.reason = reason.to_string();
    row
}

/// The rules of the story, in listing order.
pub fn rules() -> Vec<Rule> {
    use StatePolicy::{Keep, No};
    vec![
        rule(0, "", "block return all", None),
        rule(
            1,
            "",
            "pass in quick on gif0 inet6 proto tcp from any to 2001:db8::10 port = 443 flags S/SA no state",
            Some(No),
        ),
        rule(
            2,
            "",
            "pass out quick on em1 inet6 proto tcp from any to 2001:db8::10 port = 443 flags S/SA no state",
            Some(No),
        ),
        rule(
            3,
            "",
            "pass in quick on em1 inet6 proto tcp from 2001:db8::10 port = 443 to any flags S/SA no state route-to (gif0 2001:db8:ffff::1)",
            Some(No),
        ),
        rule(
            4,
            "",
            "pass out quick on gif0 inet6 proto tcp from 2001:db8::10 port = 443 to any flags S/SA no state",
            Some(No),
        ),
        rule(
            5,
            "",
            "pass in on em0 inet6 proto tcp from any to any port = 443 flags S/SA",
            Some(Keep),
        ),
        rule(6, "", "pass out all flags S/SA", Some(Keep)),
        rule(7, "", "anchor \"relayd/*\" all", None),
    ]
}

/// The hand-made analysis: `@5` owns five server states and is spurious,
/// `@6` owns one and is allowed, the default rule owns states of others.
pub fn analysis() -> Analysis {
    let rules = rules();
    let reason5 = "keeps state (no `no state`): 5 states for 2001:db8::10; replies match them and skip @3's route-to";
    let mut rows: Vec<RuleRow> = rules
        .into_iter()
        .map(|r| match r.number {
            Some(5) => row(r, 5, 9, Some(Verdict::Bypass), reason5),
            Some(6) => row(
                r,
                1,
                40,
                Some(Verdict::Allowed),
                "allowed with --allow 6: 1 state for 2001:db8::10",
            ),
            _ => row(r, 0, 0, None, ""),
        })
        .collect();
    let mut default_row = rows[0].clone();
    default_row.key = RuleKey {
        anchor: None,
        number: None,
    };
    default_row.rule = None;
    default_row.index = None;
    default_row.resolution = Resolution::DefaultRule;
    default_row.server_states = 0;
    default_row.all_states = 3;
    default_row.rate = Some(0.0);
    default_row.verdict = None;
    default_row.reason = String::new();
    rows.push(default_row);
    let mut states: Vec<(State, usize)> = (1..=5)
        .map(|c| (server_state(5, c, 1, u64::from(c)), 5))
        .collect();
    let mut out = server_state(6, 9, 0xaaaa, 9);
    out.direction = Direction::Out;
    out.iface = Arc::from("gif0");
    out.route = Some(Box::new(StateRoute {
        kind: RouteKind::RouteTo,
        addr: Some(HostAddr::Ip(v6(0xffff, 1))),
        iface: Some("gif0".into()),
    }));
    states.push((out, 6));
    Analysis {
        taken_at: Some(t0()),
        servers: Servers {
            nets: vec![ipnet::IpNet::from(server())],
            ports: vec![443],
        },
        total_states: 52,
        server_states: 6,
        rows,
        states: states.into_iter().collect(),
        generation: Generation {
            number: 1,
            fingerprint: 0x5eed,
            changed_at: None,
        },
        diagnostics: vec![],
        warnings: vec![],
        older_than_ruleset: vec![false; 6],
        ..Analysis::default()
    }
}

/// Poll metadata as a live source would report it.
pub fn meta(position: Option<(usize, usize)>) -> PollMeta {
    PollMeta {
        taken_at: t0(),
        runs: vec![Run {
            argv: vec!["pfctl".into(), "-vvss".into()],
            status: Some(0),
            stderr: String::new(),
            duration: Duration::from_millis(3),
            bytes: 14_336,
        }],
        warnings: vec![],
        position,
    }
}

/// The hand-made analysis as a snapshot (nothing marked new).
pub fn snapshot() -> Snapshot {
    Snapshot::build(
        Arc::new(analysis()),
        Some(meta(None)),
        Duration::from_millis(4),
        &mut NewStateTracker::default(),
    )
}

/// A big analysis: `n` server states spread over the story's rules, most on
/// the spurious `@5`, for timing the UI at scale.
pub fn big_analysis(n: usize) -> Analysis {
    let mut a = analysis();
    a.states = (0..n)
        .map(|i| {
            let rule = if i % 10 == 0 { 6 } else { 5 };
            let mut s = server_state(rule, (i % 15_000) as u16, (i / 15_000) as u16 + 1, i as u64);
            s.line = i + 1;
            (s, rule as usize)
        })
        .collect();
    let on6 = a.states.iter().filter(|(_, r)| *r == 6).count() as u64;
    for row in &mut a.rows {
        match row.key.number {
            Some(5) => row.server_states = n as u64 - on6,
            Some(6) => row.server_states = on6,
            _ => {}
        }
        row.all_states = row.all_states.max(row.server_states);
    }
    a.server_states = n as u64;
    a.total_states = n as u64 + 43;
    a.older_than_ruleset = vec![false; n];
    a
}
