//! The analysis over the bundled scenarios, through the real parsers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod report_support;

use pfblame::analyze::{Resolution, Verdict};
use pfblame::commands::report::exit_status;
use pfblame::exit::Exit;
use report_support::{analyses, blamed, config, scenario};

const WWW_HE: &str = "2001:db8:bbbb:1::10";
const WWW_ISP: &str = "2001:db8:aaaa:1::10";

fn s(label: &str, n: u64, v: &'static str) -> (String, u64, &'static str) {
    (label.to_string(), n, v)
}

#[test]
fn the_stray_rule_and_only_it_with_port_443() {
    let a = analyses(&scenario("dual-prefix"), &config(&[WWW_HE], &[443], &[]));
    let first = &a[0];
    assert!(first.diagnostics.is_empty(), "{:#?}", first.diagnostics);
    assert_eq!(first.total_states, 24);
    assert_eq!(blamed(first), [s("@14", 4, "bypass")]);
    let r = first.blamed()[0];
    assert_eq!(r.resolution, Resolution::Found);
    assert_eq!(
        r.rule.as_ref().unwrap().text,
        "pass out quick on em1 inet6 proto tcp from any to <www:2> port = 443 flags S/SA"
    );
    assert_eq!(
        r.reason,
        "keeps state: 4 states for 2001:db8:bbbb:1::10; the replies in on em1 match them and \
         skip the routing of rule @17"
    );
    assert_eq!(exit_status(first), Exit::Found);
    for later in &a[1..] {
        assert_eq!(later.blamed().len(), 1);
        assert_eq!(later.blamed()[0].key.to_string(), "@14");
    }
}

#[test]
fn ipv6_spellings_and_prefixes_find_the_same_states() {
    for server in [
        "2001:db8:bbbb:1:0:0:0:10",
        "2001:0db8:bbbb:0001::0010",
        "2001:db8:bbbb:1::/64",
        "2001:db8:bbbb::/48",
    ] {
        let a = analyses(
            &scenario("dual-prefix/0001"),
            &config(&[server], &[443], &[]),
        );
        assert_eq!(blamed(&a[0]), [s("@14", 4, "bypass")], "{server}");
    }
}

#[test]
fn without_port_the_ssh_rule_shows_and_allow_accepts_it() {
    let dir = scenario("dual-prefix/0001");
    let a = analyses(&dir, &config(&[WWW_HE], &[], &[]));
    assert_eq!(
        blamed(&a[0]),
        [s("@14", 4, "bypass"), s("@19", 2, "stateful")]
    );
    let a = analyses(&dir, &config(&[WWW_HE], &[], &["19"]));
    assert_eq!(
        blamed(&a[0]),
        [s("@14", 4, "bypass"), s("@19", 2, "allowed")]
    );
    assert_eq!(exit_status(&a[0]), Exit::Found);
    let a = analyses(&dir, &config(&[WWW_HE], &[], &["19", "14"]));
    assert!(!a[0].has_failures());
    assert_eq!(exit_status(&a[0]), Exit::Ok);
}

#[test]
fn port_is_matched_on_the_server_side() {
    let dir = scenario("dual-prefix/0001");
    // Through the ISP prefix, stateful rules in on em0 and out on em1 both
    // hold states; nothing routes the ISP prefix's replies, so they are
    // harmless (`stateful`).
    let a = analyses(&dir, &config(&[WWW_ISP], &[443], &[]));
    assert_eq!(
        blamed(&a[0]),
        [s("@12", 1, "stateful"), s("@14", 1, "stateful")]
    );
    assert_eq!(exit_status(&a[0]), Exit::Ok);
    // The server's own DNS lookup goes to remote port 53 from an ephemeral
    // port: not a server state for port 53.
    let a = analyses(&dir, &config(&[WWW_ISP], &[53], &[]));
    assert!(a[0].blamed().is_empty());
    assert_eq!(exit_status(&a[0]), Exit::Ok);
    let a = analyses(&dir, &config(&[WWW_ISP], &[38211], &[]));
    assert_eq!(
        blamed(&a[0]),
        [s("@1", 1, "stateful"), s("@8", 1, "stateful")]
    );
}

#[test]
fn anchored_rules_resolve_to_the_ftp_proxy_child_ruleset() {
    // The office host's IPv4 address (the stack side of NAT states too).
    let a = analyses(
        &scenario("dual-prefix/0001"),
        &config(&["192.0.2.140"], &[], &[]),
    );
    let rows = a[0].blamed();
    let ftp: Vec<_> = rows.iter().filter(|r| r.key.anchor.is_some()).collect();
    assert_eq!(ftp.len(), 2);
    for (r, n) in ftp.iter().zip([0, 1]) {
        assert_eq!(r.key.to_string(), format!("@3:{n}"));
        assert_eq!(r.anchor_path, "ftp-proxy/29137.1");
        assert_eq!(r.resolution, Resolution::Found);
        assert!(
            r.rule
                .as_ref()
                .unwrap()
                .text
                .contains("from 192.0.2.140 to 198.51.100.21 port = 50123")
        );
    }
    // NAT: the office address is the parenthesised stack key of @5's state.
    assert!(rows.iter().any(|r| r.key.to_string() == "@5"));
    let a = analyses(
        &scenario("dual-prefix/0001"),
        &config(&["192.0.2.140"], &[], &["3:0", "3:1", "1", "4", "5", "9"]),
    );
    assert!(!a[0].has_failures(), "{:#?}", blamed(&a[0]));
}

#[test]
fn deltas_and_rates_over_the_polls() {
    let a = analyses(&scenario("dual-prefix"), &config(&[WWW_HE], &[443], &[]));
    assert_eq!(a.len(), 4);
    let per_poll: Vec<_> = a
        .iter()
        .map(|x| {
            let r = x.blamed()[0];
            (r.server_states, r.new_states, r.gone_states)
        })
        .collect();
    assert_eq!(
        per_poll,
        [
            (4, None, None),
            (6, Some(2), Some(0)),
            (6, Some(1), Some(1)),
            (7, Some(1), Some(0))
        ]
    );
    let rate = a[1].blamed()[0].rate.unwrap();
    assert!((rate - 2.0 / 3.0).abs() < 1e-9, "{rate}");
    assert_eq!(a[1].interval, Some(3.0));
    assert_eq!(a[3].samples, 4);
    // The rule's own counter agrees: State Creations grew by the new states.
    let creations = a[1].blamed()[0].creations_rate.unwrap();
    assert!((creations - 2.0 / 3.0).abs() < 1e-9, "{creations}");
    assert!(a.iter().all(|x| x.generation.number == 1));
}

#[test]
fn reload_is_a_new_generation_and_old_states_keep_their_rule() {
    let a = analyses(&scenario("reload"), &config(&[WWW_HE], &[443], &[]));
    assert_eq!(blamed(&a[0]), [s("@14", 3, "bypass")]);
    assert_eq!(a[0].generation.number, 1);

    let after = &a[1];
    assert_eq!(after.generation.number, 2);
    assert!(
        after.warnings.iter().any(|w| w.contains("ruleset changed")),
        "{:?}",
        after.warnings
    );
    let rows = after.blamed();
    // Seen before the reload: still the old stray rule (generation 1).
    let old = rows
        .iter()
        .find(|r| r.generation == 1)
        .expect("carried row");
    assert_eq!(old.key.to_string(), "@14");
    assert_eq!(old.server_states, 3);
    assert!(
        old.rule
            .as_ref()
            .unwrap()
            .text
            .starts_with("pass out quick on em1")
    );
    // Created just before the reload, first seen after it: the new @14 is an
    // inbound rule, so the outbound state cannot be its: flagged, not blamed blindly.
    let new = rows
        .iter()
        .find(|r| r.generation == 2)
        .expect("current row");
    assert_eq!(new.key.to_string(), "@14");
    assert_eq!(new.server_states, 1);
    assert_eq!(new.mismatched_states, 1);
    assert_eq!(new.older_states, 1);
    assert!(
        new.rule
            .as_ref()
            .unwrap()
            .text
            .starts_with("pass in on em0")
    );
    assert!(
        new.reason
            .contains("as listed now cannot have created them"),
        "{}",
        new.reason
    );

    // Fifty seconds later the old states have expired: nothing spurious.
    assert_eq!(a[2].generation.number, 2);
    assert!(a[2].blamed().is_empty());
    assert_eq!(exit_status(&a[2]), Exit::Ok);
}

#[test]
fn after_a_reload_alone_a_vanished_rule_number_is_missing() {
    let a = analyses(&scenario("reload/0002"), &config(&[WWW_HE], &[], &[]));
    let rows = a[0].blamed();
    let missing = rows
        .iter()
        .find(|r| r.key.to_string() == "@19")
        .expect("ssh row");
    assert_eq!(missing.resolution, Resolution::Missing);
    assert!(missing.rule.is_none());
    assert_eq!(missing.server_states, 2);
    assert!(
        missing.reason.contains(
            "is not in the current listing: the ruleset was reloaded before the first poll"
        )
    );
    // The new ssh connection has the new number.
    let ssh = rows.iter().find(|r| r.key.to_string() == "@17").unwrap();
    assert_eq!(ssh.server_states, 2);
    // ssh is not routed by any rule: harmless.
    assert_eq!(ssh.verdict, Some(Verdict::Stateful));
    let stray = rows.iter().find(|r| r.key.to_string() == "@14").unwrap();
    assert_eq!(stray.mismatched_states, stray.server_states);
}

#[test]
fn without_servers_the_busiest_rules() {
    let a = analyses(&scenario("dual-prefix/0001"), &config(&[], &[], &[]));
    assert_eq!(a[0].server_states, 0);
    assert!(a[0].states.is_empty());
    let top: Vec<(String, u64)> = a[0]
        .busiest(3)
        .iter()
        .map(|r| (r.key.to_string(), r.all_states))
        .collect();
    // Ties keep listing order.
    assert_eq!(
        top,
        [("@1".into(), 5), ("@14".into(), 5), ("@19".into(), 2)]
    );
    assert_eq!(exit_status(&a[0]), Exit::Ok);
}

#[test]
fn every_poll_of_the_scenarios_reads_cleanly() {
    for name in ["dual-prefix", "reload"] {
        let a = analyses(&scenario(name), &config(&[], &[], &[]));
        assert!(a.len() >= 3, "{name}");
        for (i, x) in a.iter().enumerate() {
            assert!(
                x.diagnostics.is_empty(),
                "{name} poll {}: {:#?}",
                i + 1,
                x.diagnostics
            );
            assert!(x.warnings.is_empty() || i > 0, "{name}: {:?}", x.warnings);
            assert!(x.total_states > 20, "{name} poll {}", i + 1);
            // Every state names a rule the listing has, except right after the reload.
            let missing: u64 = x
                .rows
                .iter()
                .filter(|r| r.resolution == Resolution::Missing)
                .map(|r| r.all_states)
                .sum();
            if name == "dual-prefix" {
                assert_eq!(missing, 0, "{name} poll {}", i + 1);
            }
        }
    }
}
