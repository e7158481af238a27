//! Live pfctl through the real process path (`source::open` + `poll`),
//! against the fake pfctl (`tests/fake-pfctl`).

mod source_support;

use std::time::{Duration, Instant};

use pfblame::cli::Strategy;
use pfblame::exit::Exit;
use pfblame::source::{self, NO_RULES_WARNING, SourceError};
use source_support::{Fake, Tally, openbsd_main_expected};

fn poll(
    fake: &Fake,
    strategy: Strategy,
) -> (Result<pfblame::source::PollMeta, SourceError>, Tally) {
    let mut src = source::open(&fake.args(strategy, 10.0)).expect("opens");
    let mut tally = Tally::default();
    let meta = src.poll(&mut tally);
    (meta, tally)
}

fn words(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

#[test]
fn auto_runs_pfctl_twice_per_poll() {
    let fake = Fake::new("openbsd-main");
    let mut src = source::open(&fake.args(Strategy::Auto, 10.0)).expect("opens");
    assert!(src.is_live());
    // The first poll also reads `pfctl -vsi` once (its Hostid tells pfsync
    // imports); later polls run rules and states only.
    for runs in [3, 2] {
        let mut tally = Tally::default();
        let meta = src.poll(&mut tally).expect("poll succeeds");
        assert_eq!(meta.runs.len(), runs);
        assert!(meta.warnings.is_empty(), "{:?}", meta.warnings);
        assert_eq!(tally.calls, [None]);
    }
    let expected = [words(&["-a", "*", "-vvsr"]), words(&["-vvss"])];
    let log = fake.invocations();
    assert_eq!(log.len(), 5, "{log:?}");
    assert_eq!(log[..2], expected);
    assert_eq!(log[2], words(&["-vsi"]));
    assert_eq!(log[3..], expected);
}

#[test]
fn auto_attributes_every_state_of_the_recording() {
    let (meta, tally) = poll(&Fake::new("openbsd-main"), Strategy::Auto);
    let meta = meta.expect("poll succeeds");
    assert_eq!(tally.per_key, openbsd_main_expected());
    assert_eq!(tally.rules, 7);
    assert!(tally.diagnostics.is_empty(), "{:?}", tally.diagnostics);
    assert!(meta.runs.iter().all(|r| r.status == Some(0)));
    assert_eq!(meta.runs[1].bytes, tally.bytes);
}

#[test]
fn per_rule_runs_once_plus_once_per_rule_with_states() {
    let fake = Fake::new("openbsd-main");
    let (meta, tally) = poll(&fake, Strategy::PerRule);
    let meta = meta.expect("poll succeeds");
    // Rules 1, 2, 4 and 6 have states; 0, 3 and 5 do not.
    let log = fake.invocations();
    assert_eq!(log.len(), 6, "{log:?}");
    assert_eq!(log[0], words(&["-a", "*", "-vvsr"]));
    assert_eq!(log[5], words(&["-vsi"]), "the first poll reads -vsi once");
    let mut per_rule: Vec<Vec<String>> = log[1..5].to_vec();
    per_rule.sort();
    assert_eq!(
        per_rule,
        [
            words(&["-vvss", "-R", "1"]),
            words(&["-vvss", "-R", "2"]),
            words(&["-vvss", "-R", "4"]),
            words(&["-vvss", "-R", "6"]),
        ]
    );
    assert_eq!(tally.calls, [Some(1), Some(2), Some(4), Some(6)]);
    assert_eq!(tally.foreign, 0);
    assert_eq!(meta.runs.len(), 6);
    // The first per-rule poll says what -R cannot see.
    assert!(meta.warnings.iter().any(|w| w.contains("default rule")));
}

#[test]
fn both_strategies_give_the_same_attribution() {
    let (auto_meta, auto) = poll(&Fake::new("openbsd-main"), Strategy::Auto);
    let (rule_meta, per_rule) = poll(&Fake::new("openbsd-main"), Strategy::PerRule);
    auto_meta.expect("auto succeeds");
    rule_meta.expect("per-rule succeeds");
    assert_eq!(auto.total(), 7);
    assert_eq!(auto.per_key, per_rule.per_key);
}

#[test]
fn per_rule_runs_each_number_once_for_the_main_ruleset_and_anchors() {
    let fake = Fake::new("openbsd-anchors");
    let (meta, per_rule) = poll(&fake, Strategy::PerRule);
    let meta = meta.expect("poll succeeds");
    // Main @1 and @2 have states, and @0 of anchor "web"; the anchor call
    // @3 counts its rules' states but owns none. No fallback to one -vvss.
    let mut runs: Vec<Vec<String>> = fake
        .invocations()
        .into_iter()
        .filter(|argv| argv.contains(&"-R".to_string()))
        .collect();
    runs.sort();
    assert_eq!(
        runs,
        [
            words(&["-vvss", "-R", "0"]),
            words(&["-vvss", "-R", "1"]),
            words(&["-vvss", "-R", "2"]),
        ]
    );
    assert!(
        !meta
            .warnings
            .iter()
            .any(|w| w.contains("fetched every state")),
        "{:?}",
        meta.warnings
    );
    assert_eq!(per_rule.calls, [Some(0), Some(1), Some(2)]);
    // Each state is attributed by its own `anchor M, rule N`: the anchor's
    // rule 0 is told from the main rule 0 (which has none).
    let (_, auto) = poll(&Fake::new("openbsd-anchors"), Strategy::Auto);
    let mut expected = auto.per_key.clone();
    // -R never lists states without a rule number (the first poll says so).
    assert_eq!(expected.remove(&(None, None)), Some(1));
    assert_eq!(per_rule.per_key, expected);
    assert_eq!(per_rule.per_key.get(&(Some(3), Some(0))), Some(&2));
    assert!(meta.warnings.iter().any(|w| w.contains("default rule")));
}

/// A recording where rule 3 of the main ruleset and rule 3 of anchor
/// "relayd/www" (called by @4) both own states, and where one state (id
/// ...0a) is printed once under rule 1 and once under rule 3.
fn anchored_rule_3(dir: &std::path::Path) {
    let counters = |states: u32| {
        format!(
            "  [ Evaluations: 10        Packets: 10        Bytes: 1000        States: {states}     ]\n"
        )
    };
    let rules = [
        ("@0 block return all\n", 0),
        ("@1 pass out all flags S/SA\n", 1),
        (
            "@2 pass in on em0 inet proto tcp from any to 192.0.2.10 port = 22 flags S/SA\n",
            0,
        ),
        (
            "@3 pass in on em0 inet proto tcp from any to 192.0.2.10 port = 443 flags S/SA\n",
            1,
        ),
        ("@4 anchor \"relayd/*\" all {\n", 2),
        (
            "@3 pass in quick on em0 inet proto tcp from any to 192.0.2.80 port = 80 flags S/SA\n",
            2,
        ),
    ];
    let mut text = String::new();
    for (line, states) in rules {
        text.push_str(line);
        text.push_str(&counters(states));
    }
    text.push_str("}\n");
    std::fs::write(dir.join("rules.txt"), text).expect("write rules");
    let state = |key: &str, items: &str, id: &str| {
        format!(
            "all tcp {key}       ESTABLISHED:ESTABLISHED\n   \
             age 00:00:40, expires in 00:09:59, 8:7 pkts, 700:9100 bytes, {items}\n   \
             id: {id} creatorid: 4e1f00c2\n"
        )
    };
    let states = [
        state(
            "192.0.2.10:443 <- 203.0.113.7:40000",
            "rule 3",
            "64f1a2b300000a01",
        ),
        state(
            "192.0.2.80:80 <- 203.0.113.8:40001",
            "anchor 4, rule 3",
            "64f1a2b300000a02",
        ),
        state(
            "192.0.2.80:80 <- 203.0.113.9:40002",
            "anchor 4, rule 3",
            "64f1a2b300000a03",
        ),
        state(
            "192.0.2.1:41022 -> 198.51.100.20:443",
            "rule 1",
            "64f1a2b300000a0a",
        ),
        state(
            "192.0.2.1:41022 -> 198.51.100.20:443",
            "rule 3",
            "64f1a2b300000a0a",
        ),
    ];
    std::fs::write(dir.join("states.txt"), states.concat()).expect("write states");
}

#[test]
fn per_rule_finds_anchor_and_main_rule_3_and_counts_a_repeated_state_once() {
    let recording = tempfile::tempdir().expect("tempdir");
    anchored_rule_3(recording.path());
    let mut fake = Fake::new("openbsd-main");
    fake.recording = recording.path().to_path_buf();
    let (meta, tally) = poll(&fake, Strategy::PerRule);
    let meta = meta.expect("poll succeeds");
    assert!(tally.diagnostics.is_empty(), "{:?}", tally.diagnostics);
    assert_eq!(tally.calls, [Some(1), Some(3)]);
    assert_eq!(tally.per_key.get(&(None, Some(3))), Some(&1));
    assert_eq!(tally.per_key.get(&(Some(4), Some(3))), Some(&2));
    // The state listed by both -R 1 and -R 3 counts once, under the run
    // that listed it first.
    assert_eq!(tally.per_key.get(&(None, Some(1))), Some(&1));
    assert_eq!(tally.total(), 4);
    assert!(
        meta.warnings
            .iter()
            .any(|w| w.contains("1 state record repeated")),
        "{:?}",
        meta.warnings
    );
}

#[test]
fn freebsd_rejects_r_and_the_source_falls_back_to_auto_for_good() {
    let fake = Fake::new("openbsd-main").mode("freebsd");
    let mut src = source::open(&fake.args(Strategy::PerRule, 10.0)).expect("opens");
    let mut first = Tally::default();
    let meta = src.poll(&mut first).expect("poll falls back");
    assert!(
        meta.warnings
            .iter()
            .any(|w| w.contains("-R") && w.contains("falling back to --strategy auto")),
        "{:?}",
        meta.warnings
    );
    assert!(
        meta.warnings
            .iter()
            .any(|w| w.contains("unknown command line argument"))
    );
    // The sink saw one full listing, never a per-rule one.
    assert_eq!(first.calls, [None]);
    assert_eq!(first.per_key, openbsd_main_expected());
    assert!(src.describe().contains("auto"), "{}", src.describe());

    let before = fake.invocations().len();
    let mut second = Tally::default();
    let meta = src.poll(&mut second).expect("second poll");
    let log = fake.invocations();
    assert_eq!(log.len() - before, 2, "{log:?}");
    assert!(
        log[before..]
            .iter()
            .all(|argv| !argv.contains(&"-R".to_string()))
    );
    assert!(meta.warnings.is_empty(), "{:?}", meta.warnings);
    assert_eq!(second.per_key, openbsd_main_expected());
}

#[test]
fn live_polls_follow_numbered_recordings() {
    let fake = Fake::new("openbsd-polls");
    let mut src = source::open(&fake.args(Strategy::Auto, 10.0)).expect("opens");
    let rule2 = |t: &Tally| t.per_key.get(&(None, Some(2))).copied();
    let mut counts = Vec::new();
    for _ in 0..3 {
        let mut t = Tally::default();
        src.poll(&mut t).expect("poll");
        counts.push(rule2(&t));
    }
    assert_eq!(counts, [Some(3), Some(5), Some(5)]);
}

#[test]
fn missing_pfctl_is_unavailable_and_names_what_was_looked_for() {
    let mut args = Fake::new("openbsd-main").args(Strategy::Auto, 10.0);
    args.pfctl.command = "/nonexistent/bin/pfctl".into();
    let mut src = source::open(&args).expect("opening does not run pfctl");
    let err = src.poll(&mut Tally::default()).expect_err("poll fails");
    assert!(matches!(err, SourceError::NotFound { .. }), "{err:?}");
    assert_eq!(Exit::from(&err), Exit::Unavailable);
    assert!(err.to_string().contains("/nonexistent/bin/pfctl"), "{err}");
}

#[test]
fn permission_denied_asks_for_root_or_doas() {
    let fake = Fake::new("openbsd-main").mode("denied");
    let (meta, tally) = poll(&fake, Strategy::Auto);
    let err = meta.expect_err("poll fails");
    assert!(
        matches!(err, SourceError::PermissionDenied { .. }),
        "{err:?}"
    );
    assert_eq!(Exit::from(&err), Exit::NoPerm);
    let msg = err.to_string();
    assert!(msg.contains("/dev/pf: Permission denied"), "{msg}");
    assert!(msg.contains("root") && msg.contains("doas"), "{msg}");
    assert!(tally.rules_text.is_empty());
}

#[cfg(unix)]
#[test]
fn a_pfctl_that_cannot_be_executed_is_unrunnable_not_permission_denied() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("pfctl");
    std::fs::write(&path, "#!/bin/sh\n").expect("write");
    let mut args = Fake::new("openbsd-main").args(Strategy::Auto, 10.0);
    args.pfctl.command = path.display().to_string();
    let err = source::open(&args)
        .expect("opens")
        .poll(&mut Tally::default())
        .expect_err("poll fails");
    // Root would not help: a file without x permission is not runnable.
    assert_eq!(Exit::from(&err), Exit::Unavailable, "{err}");
    assert!(err.to_string().contains("not executable"), "{err}");
}

#[test]
fn a_hung_pfctl_is_killed_at_the_timeout() {
    let fake = Fake::new("openbsd-main").mode("hang");
    let mut src = source::open(&fake.args(Strategy::Auto, 0.5)).expect("opens");
    let started = Instant::now();
    let err = src.poll(&mut Tally::default()).expect_err("poll times out");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(matches!(err, SourceError::Timeout { .. }), "{err:?}");
    assert_eq!(Exit::from(&err), Exit::Unavailable);
    let msg = err.to_string();
    assert!(msg.contains("0.5 s") && msg.contains("killed"), "{msg}");
}

#[test]
fn a_slow_pfctl_within_the_timeout_is_fine_and_beyond_it_is_not() {
    let fake = Fake::new("openbsd-main").mode("slow").delay(0.2);
    let (meta, tally) = poll(&fake, Strategy::Auto);
    meta.expect("slow but in time");
    assert_eq!(tally.per_key, openbsd_main_expected());

    let fake = Fake::new("openbsd-main").mode("slow").delay(3.0);
    let mut src = source::open(&fake.args(Strategy::Auto, 0.5)).expect("opens");
    let started = Instant::now();
    let err = src.poll(&mut Tally::default()).expect_err("too slow");
    assert!(matches!(err, SourceError::Timeout { .. }), "{err:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
}

#[test]
fn a_pfctl_killed_mid_listing_fails_the_poll_after_streaming() {
    let fake = Fake::new("openbsd-main").mode("die");
    let (meta, tally) = poll(&fake, Strategy::Auto);
    let err = meta.expect_err("poll fails");
    assert!(matches!(err, SourceError::Killed { .. }), "{err:?}");
    assert_eq!(Exit::from(&err), Exit::Unavailable);
    assert!(err.to_string().contains("signal"), "{err}");
    // Half of the listing had reached the sink: the caller must discard it.
    assert!(tally.bytes > 0);
    assert_eq!(tally.calls, [None]);
}

#[test]
fn a_failing_pfctl_has_its_stderr_quoted() {
    // Without FAKE_PFCTL_DIR the fake complains and exits 2.
    let fake = Fake::new("does-not-exist");
    let (meta, _) = poll(&fake, Strategy::Auto);
    let err = meta.expect_err("poll fails");
    match &err {
        SourceError::Failed { status, stderr, .. } => {
            assert_eq!(*status, 2);
            assert!(stderr.contains("FAKE_PFCTL_DIR"), "{stderr}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().contains("exit status 2"), "{err}");
}

#[test]
fn binary_junk_that_exits_0_is_a_failed_poll() {
    let fake = Fake::new("openbsd-main").mode("garbage");
    let (meta, tally) = poll(&fake, Strategy::Auto);
    let err = meta.expect_err("junk is not pfctl output");
    assert!(matches!(err, SourceError::NotPfctlOutput { .. }), "{err:?}");
    assert!(err.to_string().contains("binary data"), "{err}");
    assert_eq!(Exit::from(&err), Exit::DataErr);
    // Refused at the first block: no diagnostic per line of junk.
    assert!(tally.diagnostics.len() <= 1, "{:?}", tally.diagnostics);
}

#[test]
fn altq_noise_on_stderr_is_kept_but_not_warned_about() {
    let fake = Fake::new("openbsd-main").mode("altq");
    let (meta, tally) = poll(&fake, Strategy::Auto);
    let meta = meta.expect("poll succeeds");
    assert!(meta.warnings.is_empty(), "{:?}", meta.warnings);
    assert!(
        meta.runs
            .iter()
            .all(|r| r.stderr.contains("No ALTQ support in kernel"))
    );
    assert_eq!(tally.per_key, openbsd_main_expected());
}

#[test]
fn an_empty_ruleset_warns_that_pf_may_be_disabled() {
    let dir = tempfile::tempdir().expect("tempdir");
    std::fs::write(dir.path().join("rules.txt"), "").expect("write");
    std::fs::write(dir.path().join("states.txt"), "").expect("write");
    let mut fake = Fake::new("openbsd-main");
    fake.recording = dir.path().to_path_buf();
    let (meta, _) = poll(&fake, Strategy::Auto);
    let meta = meta.expect("poll succeeds");
    assert!(
        meta.warnings.iter().any(|w| w == NO_RULES_WARNING),
        "{:?}",
        meta.warnings
    );
}

#[test]
fn bad_source_options_are_usage_errors() {
    let mut args = Fake::new("openbsd-main").args(Strategy::Auto, 10.0);
    args.pfctl.command = "doas 'pfctl".into();
    let err = source::open(&args).err().expect("unbalanced quote");
    assert_eq!(Exit::from(&err), Exit::Usage);
    args.pfctl.command = "pfctl".into();
    args.pfctl.timeout = std::time::Duration::ZERO;
    let err = source::open(&args).err().expect("zero timeout");
    assert_eq!(Exit::from(&err), Exit::Usage);
    assert!(err.to_string().contains("--timeout"), "{err}");
}
