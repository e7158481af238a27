//! Analysis tests on hand-built model values (no parser involved).

use std::sync::Arc;

use chrono::{DateTime, TimeZone, Utc};

use super::resolve::tests::rule;
use super::*;
use crate::model::{Counters, HostAddr, Port};
use crate::poll::SampleBuilder;

fn ep(addr: &str, port: u16) -> Endpoint {
    let ip: IpAddr = addr.parse().expect("test address");
    Endpoint::new(HostAddr::Ip(ip), (port != 0).then_some(Port::Num(port)))
}

/// An outbound TCP state `src:sport -> dst:dport` created by main-ruleset rule `rule`.
pub(crate) fn state(src: &str, sport: u16, dst: &str, dport: u16, rule: Option<u32>) -> State {
    State {
        line: 1,
        iface: Arc::from("all"),
        proto: Arc::from("tcp"),
        direction: Direction::Out,
        src: ep(src, sport),
        dst: ep(dst, dport),
        src_nat: None,
        dst_nat: None,
        gateway: None,
        src_state: Arc::from("ESTABLISHED"),
        dst_state: Arc::from("ESTABLISHED"),
        age: Some(10),
        expires: Some(86390),
        packets: Some((1, 1)),
        bytes: Some((60, 60)),
        anchor: None,
        rule,
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

fn with_id(mut s: State, id: u64) -> State {
    s.id = Some(id);
    s.creator_id = Some(0x4e1f_00c2);
    s
}

fn anchored(mut s: State, anchor: u32) -> State {
    s.anchor = Some(anchor);
    s
}

fn aged(mut s: State, age: u64) -> State {
    s.age = Some(age);
    s
}

fn cfg(servers: &[&str], ports: &[u16], allow: &[&str]) -> Config {
    let servers: Vec<String> = servers.iter().map(|s| s.to_string()).collect();
    let allow: Vec<String> = allow.iter().map(|s| s.to_string()).collect();
    Config {
        servers: Servers::parse(&servers, ports).expect("servers"),
        allow: parse_allow(&allow).expect("allow"),
        keep_all_states: false,
        ..Config::default()
    }
}

fn at(secs: i64) -> Option<DateTime<Utc>> {
    Utc.timestamp_opt(1_760_000_000 + secs, 0).single()
}

fn sample(rules: Vec<Rule>, states: Vec<State>, cfg: &Config, secs: i64) -> Sample {
    let mut b = SampleBuilder::new(cfg);
    for s in states {
        b.add_state(s);
    }
    let mut s = b.finish(None);
    s.rules = rules;
    s.taken_at = at(secs);
    s
}

fn ruleset() -> Vec<Rule> {
    vec![
        rule("", Some(0), "block return all"),
        rule("", Some(1), "pass all flags S/SA"),
        rule("", Some(2), "anchor \"relayd\" all"),
        rule(
            "relayd",
            Some(0),
            "pass in quick inet6 proto tcp to port = 443 flags S/SA",
        ),
        rule(
            "",
            Some(3),
            "pass out quick on em1 inet6 proto tcp from any to <www:2> port = 443 flags S/SA",
        ),
        rule(
            "",
            Some(4),
            "pass inet6 proto tcp from 2001:db8:aaaa:2::/64 to <www:2> port = 22 flags S/SA",
        ),
        rule(
            "",
            Some(5),
            "pass in quick on gif0 inet6 proto tcp from any to 2001:db8::10 port = 443 no state",
        ),
    ]
}

const SERVER: &str = "2001:db8::10";

fn row(a: &Analysis, anchor: Option<u32>, number: Option<u32>) -> &RuleRow {
    a.rows
        .iter()
        .find(|r| r.key == RuleKey { anchor, number } && r.server_states > 0)
        .or_else(|| a.rows.iter().find(|r| r.key == RuleKey { anchor, number }))
        .expect("row for key")
}

#[test]
fn blames_the_stateful_rule_for_server_states() {
    let c = cfg(&[SERVER], &[443], &[]);
    let states = vec![
        state("2001:db8:dddd::1", 50001, "2001:db8:0:0::10", 443, Some(3)),
        state("2001:db8:dddd::2", 50002, "2001:db8::10", 443, Some(3)),
        state("2001:db8:aaaa:2::5", 50003, "2001:db8::10", 22, Some(4)),
        state("192.0.2.5", 50004, "198.51.100.7", 443, Some(1)),
    ];
    let a = analyze(None, &sample(ruleset(), states, &c, 0), &c);
    assert_eq!(a.total_states, 4);
    assert_eq!(a.server_states, 2);
    let blamed = a.blamed();
    assert_eq!(blamed.len(), 1, "only the port-443 rule: {blamed:#?}");
    let r = blamed[0];
    assert_eq!(
        r.key,
        RuleKey {
            anchor: None,
            number: Some(3)
        }
    );
    assert_eq!(r.index, Some(4));
    // No route-to/reply-to rule in this ruleset: the states misroute nothing.
    assert_eq!(r.verdict, Some(Verdict::Stateful));
    assert_eq!(
        r.reason,
        "keeps state: 2 states for 2001:db8::10; they catch no packet that a route-to/reply-to \
         rule would otherwise decide"
    );
    assert!(!a.has_failures());
    assert!(a.fails(true), "--strict fails on stateful rules");
    // Rules without server states get no verdict, but their states are counted.
    assert_eq!(row(&a, None, Some(1)).verdict, None);
    assert_eq!(row(&a, None, Some(1)).all_states, 1);
    assert_eq!(row(&a, None, Some(4)).all_states, 1);
    assert_eq!(row(&a, None, Some(4)).server_states, 0);
}

#[test]
fn port_filter_is_on_the_server_side_endpoint() {
    // The server talks to a remote port 443 from an ephemeral port: with
    // --port 443 that is no server state, since the server side is 40000.
    let c = cfg(&[SERVER], &[443], &[]);
    let s = state("2001:db8::10", 40000, "2001:db8:dddd::1", 443, Some(1));
    assert!(!c.servers.matches(&s));
    let c = cfg(&[SERVER], &[], &[]);
    assert!(c.servers.matches(&s));
    // The translated key counts too (rdr-to / nat-to).
    let mut s = state("2001:db8:dddd::1", 5000, "2001:db8:ffff::1", 443, Some(1));
    s.dst_nat = Some(Box::new(ep("2001:db8::10", 8443)));
    assert!(cfg(&[SERVER], &[8443], &[]).servers.matches(&s));
    assert!(!cfg(&[SERVER], &[443], &[]).servers.matches(&s));
}

#[test]
fn without_port_every_server_rule_shows_and_allow_marks_expected_ones() {
    let c = cfg(&[SERVER], &[], &["4"]);
    let states = vec![
        state("2001:db8:dddd::1", 50001, "2001:db8::10", 443, Some(3)),
        state("2001:db8:aaaa:2::5", 50003, "2001:db8::10", 22, Some(4)),
        state("2001:db8:aaaa:2::5", 50004, "2001:db8::10", 22, Some(4)),
    ];
    let a = analyze(None, &sample(ruleset(), states, &c, 0), &c);
    let blamed = a.blamed();
    assert_eq!(blamed.len(), 2);
    assert_eq!(blamed[0].key.number, Some(4));
    assert_eq!(blamed[0].verdict, Some(Verdict::Allowed));
    assert_eq!(
        blamed[0].reason,
        "allowed with --allow 4: 2 states for 2001:db8::10 are expected"
    );
    assert_eq!(blamed[1].verdict, Some(Verdict::Stateful));
    assert!(a.fails(true));

    let c = cfg(&[SERVER], &[], &["4", "3"]);
    let states = vec![state(
        "2001:db8:dddd::1",
        50001,
        "2001:db8::10",
        443,
        Some(3),
    )];
    let a = analyze(None, &sample(ruleset(), states, &c, 0), &c);
    assert!(!a.fails(true));
}

#[test]
fn anchored_rules_resolve_through_the_anchor_call() {
    let c = cfg(&[SERVER], &[], &[]);
    let states = vec![anchored(
        state("2001:db8:dddd::1", 50001, "2001:db8::10", 443, Some(0)),
        2,
    )];
    let a = analyze(None, &sample(ruleset(), states, &c, 0), &c);
    let r = a.blamed()[0];
    assert_eq!(
        r.key,
        RuleKey {
            anchor: Some(2),
            number: Some(0)
        }
    );
    assert_eq!(r.anchor_path, "relayd");
    assert_eq!(r.resolution, Resolution::Found);
    assert_eq!(r.index, Some(3));
    assert!(
        r.rule
            .as_ref()
            .is_some_and(|x| x.text.contains("port = 443"))
    );
    // Never confused with rule 0 of the main ruleset.
    assert_eq!(row(&a, None, Some(0)).server_states, 0);
}

#[test]
fn anchored_rules_can_be_allowed_with_m_colon_n() {
    let c = cfg(&[SERVER], &[], &["2:0"]);
    let states = vec![anchored(
        state("2001:db8:dddd::1", 50001, "2001:db8::10", 443, Some(0)),
        2,
    )];
    let a = analyze(None, &sample(ruleset(), states, &c, 0), &c);
    assert_eq!(a.blamed()[0].verdict, Some(Verdict::Allowed));
}

#[test]
fn default_rule_states_get_their_own_row() {
    let c = cfg(&[SERVER], &[], &[]);
    let states = vec![state("2001:db8:dddd::1", 50001, "2001:db8::10", 443, None)];
    let a = analyze(None, &sample(ruleset(), states, &c, 0), &c);
    let r = a.blamed()[0];
    assert_eq!(r.resolution, Resolution::DefaultRule);
    assert_eq!(r.key.to_string(), "default");
    assert!(r.rule.is_none());
    assert_eq!(r.index, None);
    // OpenBSD's default rule keeps no state: without `pfctl -si` there is
    // no Hostid to tell a pfsync import by.
    assert_eq!(r.verdict, Some(Verdict::Unexplained));
    assert!(
        r.reason.starts_with("no rule: imported by pfsync"),
        "{}",
        r.reason
    );
    let c = cfg(&[SERVER], &[], &["default"]);
    let states = vec![state("2001:db8:dddd::1", 50001, "2001:db8::10", 443, None)];
    let a = analyze(None, &sample(ruleset(), states, &c, 0), &c);
    assert!(!a.fails(true));
}

#[test]
fn a_rule_number_missing_from_the_listing_is_never_matched_to_another_rule() {
    let c = cfg(&[SERVER], &[], &[]);
    let states = vec![
        state("2001:db8:dddd::1", 50001, "2001:db8::10", 443, Some(17)),
        anchored(
            state("2001:db8:dddd::2", 50002, "2001:db8::10", 443, Some(4)),
            2,
        ),
    ];
    let a = analyze(None, &sample(ruleset(), states, &c, 0), &c);
    let blamed = a.blamed();
    assert_eq!(blamed.len(), 2);
    for r in &blamed {
        assert_eq!(r.resolution, Resolution::Missing);
        assert!(r.rule.is_none());
        assert!(
            r.reason.contains(
                "is not in the current listing: the ruleset was reloaded before the first poll"
            ),
            "{}",
            r.reason
        );
    }
    let anchored_row = blamed
        .iter()
        .find(|r| r.key.anchor == Some(2))
        .expect("row");
    assert_eq!(anchored_row.anchor_path, "relayd");
    // No listed rule got those states.
    assert!(
        a.rows
            .iter()
            .filter(|r| r.index.is_some())
            .all(|r| r.server_states == 0)
    );
    assert!(
        a.warnings
            .iter()
            .any(|w| w.contains("not in the current listing"))
    );
}

#[test]
fn a_state_naming_a_no_state_rule_says_the_ruleset_changed() {
    let c = cfg(&[SERVER], &[], &[]);
    let states = vec![state(
        "2001:db8:dddd::1",
        50001,
        "2001:db8::10",
        443,
        Some(5),
    )];
    let a = analyze(None, &sample(ruleset(), states, &c, 0), &c);
    let r = a.blamed()[0];
    assert_eq!(r.key.number, Some(5));
    assert!(
        r.reason.contains("is `no state` in the current listing"),
        "{}",
        r.reason
    );
}

#[test]
fn deltas_by_id_and_rates_over_the_interval() {
    let c = cfg(&[SERVER], &[], &[]);
    let s1 = with_id(state("2001:db8:dddd::1", 50001, SERVER, 443, Some(3)), 1);
    let s2 = with_id(state("2001:db8:dddd::2", 50002, SERVER, 443, Some(3)), 2);
    let s3 = with_id(state("2001:db8:dddd::3", 50003, SERVER, 443, Some(3)), 3);
    let s4 = with_id(state("2001:db8:dddd::4", 50004, SERVER, 443, Some(3)), 4);
    // Same 5-tuple as s1 but a new id: a new state.
    let s5 = with_id(state("2001:db8:dddd::1", 50001, SERVER, 443, Some(3)), 5);
    let first = analyze(None, &sample(ruleset(), vec![s1, s2.clone()], &c, 0), &c);
    assert_eq!(first.new_server_states, None);
    assert_eq!(row(&first, None, Some(3)).rate, None);
    let second = analyze(
        Some(&first),
        &sample(ruleset(), vec![s2, s3, s4, s5], &c, 4),
        &c,
    );
    assert_eq!(second.interval, Some(4.0));
    assert_eq!(second.samples, 2);
    assert_eq!(second.new_server_states, Some(3));
    assert_eq!(second.gone_server_states, Some(1));
    let r = row(&second, None, Some(3));
    assert_eq!(r.new_states, Some(3));
    assert_eq!(r.gone_states, Some(1));
    assert_eq!(r.rate, Some(0.75));
    assert_eq!(second.generation.number, 1);
}

#[test]
fn deltas_by_tuple_without_ids() {
    let c = cfg(&[SERVER], &[], &[]);
    let s1 = state("2001:db8:dddd::1", 50001, SERVER, 443, Some(3));
    let s2 = state("2001:db8:dddd::2", 50002, SERVER, 443, Some(3));
    let first = analyze(None, &sample(ruleset(), vec![s1.clone()], &c, 0), &c);
    let second = analyze(Some(&first), &sample(ruleset(), vec![s1, s2], &c, 2), &c);
    assert_eq!(row(&second, None, Some(3)).new_states, Some(1));
    assert_eq!(row(&second, None, Some(3)).gone_states, Some(0));
    assert_eq!(row(&second, None, Some(3)).rate, Some(0.5));
}

#[test]
fn a_gone_state_of_a_vanished_rule_still_counts() {
    let c = cfg(&[SERVER], &[], &[]);
    let s1 = state("2001:db8:dddd::1", 50001, SERVER, 443, Some(40));
    let first = analyze(None, &sample(ruleset(), vec![s1], &c, 0), &c);
    let second = analyze(Some(&first), &sample(ruleset(), vec![], &c, 2), &c);
    assert_eq!(second.gone_server_states, Some(1));
    assert_eq!(row(&second, None, Some(40)).gone_states, Some(1));
}

#[test]
fn ruleset_change_is_a_new_generation_and_marks_older_states() {
    let c = cfg(&[SERVER], &[], &[]);
    let old = with_id(state("2001:db8:dddd::1", 50001, SERVER, 443, Some(3)), 1);
    let first = analyze(
        None,
        &sample(ruleset(), vec![aged(old.clone(), 10)], &c, 0),
        &c,
    );
    assert_eq!(first.generation.number, 1);
    assert_eq!(first.generation.changed_at, None);

    // Counters change every poll: that is not a ruleset change.
    let mut counted = ruleset();
    counted[1].counters = Some(Counters {
        evaluations: 5,
        ..Counters::default()
    });
    let same = analyze(
        Some(&first),
        &sample(counted, vec![aged(old.clone(), 12)], &c, 2),
        &c,
    );
    assert_eq!(same.generation, first.generation);
    assert!(same.warnings.is_empty(), "{:?}", same.warnings);

    let mut changed = ruleset();
    changed.remove(1);
    for (i, r) in changed
        .iter_mut()
        .enumerate()
        .filter(|(_, r)| r.anchor_path.is_empty())
    {
        let _ = i;
        r.number = r.number.map(|n| n.saturating_sub(u32::from(n > 0)));
    }
    let new = with_id(state("2001:db8:dddd::9", 50009, SERVER, 443, Some(3)), 9);
    let third = analyze(
        Some(&same),
        &sample(
            changed.clone(),
            vec![aged(old.clone(), 16), aged(new.clone(), 0)],
            &c,
            6,
        ),
        &c,
    );
    assert_eq!(third.generation.number, 2);
    assert_eq!(third.generation.changed_at, at(6));
    assert_ne!(third.generation.fingerprint, first.generation.fingerprint);
    assert_eq!(third.older_than_ruleset, [true, false]);
    assert!(
        third.warnings.iter().any(|w| w.contains("ruleset changed")),
        "{:?}",
        third.warnings
    );
    // The state seen before the reload keeps the rule that created it,
    // though the new listing has another rule numbered 3.
    let old_row = &third.rows[third.states.row(0).expect("kept")];
    assert_eq!(old_row.generation, 1);
    assert_eq!(old_row.key.number, Some(3));
    assert_eq!(old_row.index, None);
    assert!(
        old_row
            .rule
            .as_ref()
            .is_some_and(|r| r.text.contains("port = 443"))
    );
    assert!(
        old_row.reason.contains("before the reload (generation 1)"),
        "{}",
        old_row.reason
    );
    let new_row = &third.rows[third.states.row(1).expect("kept")];
    assert_eq!(new_row.generation, 2);
    assert_eq!(new_row.key.number, Some(3));
    assert!(
        new_row
            .rule
            .as_ref()
            .is_some_and(|r| r.text.contains("port = 22"))
    );
    assert_eq!((old_row.server_states, new_row.server_states), (1, 1));
    assert_eq!(new_row.older_states, 0);

    // Later samples keep the generation and its time; only states older
    // than the change stay marked.
    let fourth = analyze(
        Some(&third),
        &sample(changed, vec![aged(old, 20), aged(new, 4)], &c, 10),
        &c,
    );
    assert_eq!(fourth.generation.number, 2);
    assert_eq!(fourth.generation.changed_at, at(6));
    assert_eq!(fourth.older_than_ruleset, [true, false]);
    assert_eq!(
        fourth.rows[fourth.states.row(0).expect("kept")].generation,
        1
    );
    assert!(
        !fourth
            .warnings
            .iter()
            .any(|w| w.contains("ruleset changed"))
    );
}

#[test]
fn a_state_first_seen_after_a_reload_may_belong_to_the_previous_ruleset() {
    // Created between the last poll of the old ruleset and the reload: the
    // number may be the old one. It is attributed to the current rule, with
    // a warning in its reason.
    let c = cfg(&[SERVER], &[], &[]);
    let first = analyze(None, &sample(ruleset(), vec![], &c, 0), &c);
    let mut changed = ruleset();
    changed[4].text =
        "pass out on em1 inet6 proto tcp from any to <www:2> port = 443 flags S/SA".into();
    let s = aged(state("2001:db8:dddd::1", 50001, SERVER, 443, Some(3)), 2);
    let second = analyze(Some(&first), &sample(changed, vec![s], &c, 4), &c);
    assert_eq!(second.generation.number, 2);
    assert_eq!(second.older_than_ruleset, [true]);
    let r = second.blamed()[0];
    assert_eq!(r.generation, 2);
    assert_eq!(r.older_states, 1);
    assert!(
        r.reason
            .contains("may have been created by the previous ruleset"),
        "{}",
        r.reason
    );
}

#[test]
fn allow_applies_to_a_carried_rule_only_if_it_kept_its_number() {
    let c = cfg(&[SERVER], &[], &["4"]);
    let ssh = with_id(state("2001:db8:aaaa:2::5", 50003, SERVER, 22, Some(4)), 7);
    let first = analyze(None, &sample(ruleset(), vec![ssh.clone()], &c, 0), &c);
    assert!(!first.fails(true));
    // Reload with a changed rule elsewhere: rule 4 is the same.
    let mut same4 = ruleset();
    same4[6].text.push_str(" label \"he\"");
    let second = analyze(Some(&first), &sample(same4, vec![ssh.clone()], &c, 2), &c);
    assert_eq!(second.generation.number, 2);
    assert!(!second.fails(true));
    // Reload that moved another rule to number 4: the old ssh rule is no
    // longer what `--allow 4` names.
    let mut moved = ruleset();
    moved.swap(4, 5);
    moved[4].number = Some(3);
    moved[5].number = Some(4);
    let third = analyze(Some(&second), &sample(moved, vec![ssh], &c, 4), &c);
    assert_eq!(third.generation.number, 3);
    assert!(third.fails(true));
}

#[test]
fn allow_by_label_follows_the_rule_across_a_reload_that_renumbers_it() {
    let c = cfg(&[SERVER], &[], &["label:ssh"]);
    let labelled = || {
        let mut rules = ruleset();
        rules[5].labels.push("ssh".into());
        rules
    };
    let ssh = with_id(state("2001:db8:aaaa:2::5", 50003, SERVER, 22, Some(4)), 7);
    let first = analyze(None, &sample(labelled(), vec![ssh.clone()], &c, 0), &c);
    let r = row(&first, None, Some(4));
    assert_eq!(r.verdict, Some(Verdict::Allowed));
    assert!(
        r.reason.starts_with("allowed with --allow label:ssh:"),
        "{}",
        r.reason
    );
    // The same reload that defeats `--allow 4`: the label still names it.
    let mut moved = labelled();
    moved.swap(4, 5);
    moved[4].number = Some(3);
    moved[5].number = Some(4);
    let second = analyze(Some(&first), &sample(moved, vec![ssh], &c, 4), &c);
    assert_eq!(second.generation.number, 2);
    assert!(!second.fails(true));
    // A label nobody carries allows nothing.
    let none = cfg(&[SERVER], &[], &["label:web"]);
    let ssh = with_id(state("2001:db8:aaaa:2::5", 50003, SERVER, 22, Some(4)), 7);
    let a = analyze(None, &sample(labelled(), vec![ssh], &none, 0), &none);
    assert_ne!(row(&a, None, Some(4)).verdict, Some(Verdict::Allowed));
}

#[test]
fn anchored_rules_can_be_allowed_by_anchor_path() {
    let states = || {
        vec![anchored(
            state("2001:db8:dddd::1", 50001, "2001:db8::10", 443, Some(0)),
            2,
        )]
    };
    for (spec, allowed) in [("relayd/*", true), ("relay?", true), ("other/*", false)] {
        let c = cfg(&[SERVER], &[], &[spec]);
        let a = analyze(None, &sample(ruleset(), states(), &c, 0), &c);
        let r = a.blamed()[0];
        assert_eq!(
            r.verdict == Some(Verdict::Allowed),
            allowed,
            "{spec}: {}",
            r.reason
        );
    }
}

#[test]
fn creation_rates_come_from_counters_within_a_generation() {
    let c = cfg(&[SERVER], &[], &[]);
    let mut rules1 = ruleset();
    rules1[1].counters = Some(Counters {
        state_creations: Some(100),
        ..Counters::default()
    });
    let mut rules2 = ruleset();
    rules2[1].counters = Some(Counters {
        state_creations: Some(110),
        ..Counters::default()
    });
    let first = analyze(None, &sample(rules1, vec![], &c, 0), &c);
    let second = analyze(Some(&first), &sample(rules2, vec![], &c, 5), &c);
    assert_eq!(second.rows[1].creations_rate, Some(2.0));
    assert_eq!(second.rows[0].creations_rate, None);
}

#[test]
fn fingerprint_ignores_counters_but_not_text_or_numbers() {
    let a = ruleset();
    let mut b = ruleset();
    b[0].counters = Some(Counters::default());
    assert_eq!(fingerprint(&a), fingerprint(&b));
    b[0].text = "block drop all".into();
    assert_ne!(fingerprint(&a), fingerprint(&b));
    let mut c = ruleset();
    c[0].number = Some(9);
    assert_ne!(fingerprint(&a), fingerprint(&c));
}

#[test]
fn busiest_rules_without_servers() {
    let c = Config::default();
    let states = vec![
        state("192.0.2.5", 50004, "198.51.100.7", 443, Some(1)),
        state("192.0.2.5", 50005, "198.51.100.7", 443, Some(1)),
        state("192.0.2.6", 50006, "198.51.100.8", 22, Some(4)),
    ];
    let a = analyze(None, &sample(ruleset(), states, &c, 0), &c);
    assert_eq!(a.server_states, 0);
    assert!(a.states.is_empty());
    assert!(!a.has_failures());
    let top = a.busiest(10);
    assert_eq!(top.len(), 2);
    assert_eq!((top[0].key.number, top[0].all_states), (Some(1), 2));
}

#[test]
fn allow_text_round_trips() {
    for k in ["12", "3:0", "default"] {
        let allow = parse_allow(&[k.to_string()]).expect("valid");
        match allow.specs().next() {
            Some(crate::pf::AllowSpec::Key(key)) => assert_eq!(allow_text(*key), k),
            other => panic!("{k}: {other:?}"),
        }
    }
}

#[test]
fn states_that_cannot_come_from_the_listed_rule_are_flagged() {
    // After a reload (read without the earlier poll) rule 3 is an inbound
    // rule: an outbound state naming it was created by the old rule 3.
    let c = cfg(&[SERVER], &[], &[]);
    let mut rules = ruleset();
    rules[4].direction = Some(Direction::In);
    rules[4].protos = vec!["tcp".into()];
    let out = state("2001:db8:dddd::1", 50001, SERVER, 443, Some(3));
    let mut inbound = state("2001:db8:dddd::2", 50002, SERVER, 443, Some(3));
    inbound.direction = Direction::In;
    let mut udp = inbound.clone();
    udp.proto = Arc::from("udp");
    let a = analyze(
        None,
        &sample(rules.clone(), vec![out, inbound.clone(), udp], &c, 0),
        &c,
    );
    let r = a.blamed()[0];
    assert_eq!(r.server_states, 3);
    assert_eq!(r.mismatched_states, 2);
    assert!(
        r.reason.contains("2 of them do not fit this rule"),
        "{}",
        r.reason
    );

    rules[4].family = Some(Family::Inet);
    let a = analyze(None, &sample(rules, vec![inbound], &c, 0), &c);
    assert_eq!(a.blamed()[0].mismatched_states, 1);
}

#[test]
fn a_reload_is_named_only_when_the_fingerprint_changed() {
    let c = cfg(&[SERVER], &[], &[]);
    let s = state("2001:db8:dddd::1", 50001, SERVER, 443, Some(17));
    let first = analyze(None, &sample(ruleset(), vec![s.clone()], &c, 0), &c);
    assert!(
        first.blamed()[0]
            .reason
            .contains("reloaded before the first poll"),
        "{}",
        first.blamed()[0].reason
    );
    let mut changed = ruleset();
    changed[1].text = "pass all flags S/SA label \"new\"".into();
    let second = analyze(Some(&first), &sample(changed, vec![s], &c, 2), &c);
    assert_eq!(second.generation.number, 2);
    let missing = second
        .blamed()
        .into_iter()
        .find(|r| r.resolution == Resolution::Missing)
        .expect("a missing row");
    assert!(
        missing.reason.contains("reloaded during this run"),
        "{}",
        missing.reason
    );
    assert_eq!(missing.verdict, Some(Verdict::Unexplained));
}

#[test]
fn pfsync_imports_are_told_by_a_hostid_seen_once() {
    let c = cfg(&[SERVER], &[], &[]);
    let mut imported = state("2001:db8:dddd::1", 50001, SERVER, 443, None);
    imported.creator_id = Some(0x77aa_0001);
    let mut first = sample(ruleset(), vec![imported.clone()], &c, 0);
    first.info = Some(crate::model::Info {
        hostid: Some("0x4e1f00c2".into()),
        ..crate::model::Info::default()
    });
    let a = analyze(None, &first, &c);
    let r = a.blamed()[0];
    assert_eq!(r.verdict, Some(Verdict::Stateful), "{}", r.reason);
    assert!(r.reason.contains("imported by pfsync"), "{}", r.reason);
    // Later polls do not read `pfctl -si` again: the Hostid carries over.
    let second = analyze(
        Some(&a),
        &sample(ruleset(), vec![imported.clone()], &c, 2),
        &c,
    );
    assert_eq!(second.blamed()[0].verdict, Some(Verdict::Stateful));
    // Made by this host itself: OpenBSD's default rule keeps no state.
    let mut own = imported;
    own.creator_id = Some(0x4e1f_00c2);
    let mine = analyze(Some(&a), &sample(ruleset(), vec![own], &c, 4), &c);
    assert_eq!(mine.blamed()[0].verdict, Some(Verdict::Unexplained));
}
