//! FreeBSD/macOS translation rules (`pfctl -a '*' -vvsn`): read by live
//! polls and `record` (into `nat.txt`) where the listing is FreeBSD's, never
//! run on OpenBSD (no `-sn` there), and replayed from `nat.txt`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_support;
mod source_support;

use std::fs;
use std::path::Path;

use cli_support::{json, pfblame, row_where};
use pfblame::analyze::{Config, Servers, Verdict};
use pfblame::cli::Strategy;
use pfblame::pf::Dialect;
use pfblame::poll::Session;
use pfblame::source::{self, RecordedPoll, ReplaySource, Source};
use source_support::{Fake, Tally, fake_pfctl, from_args};

const FREEBSD_RULES: &str = "@0 block drop in all\n\
  [ Evaluations: 10        Packets: 10        Bytes: 1000        States: 0     ]\n\
@1 pass in on em0 inet proto tcp from any to 192.0.2.10 port = 22 flags S/SA keep state\n\
  [ Evaluations: 10        Packets: 10        Bytes: 1000        States: 1     ]\n";
const FREEBSD_NAT: &str = "@0 nat on em1 inet from 10.0.0.0/24 to any -> (em1) round-robin\n\
  [ Evaluations: 97        Packets: 0         Bytes: 0           States: 0     ]\n\
@0 rdr pass on em0 inet proto tcp from any to 192.0.2.10 port = 8080 -> 10.0.0.5 port 80\n\
  [ Evaluations: 5         Packets: 5         Bytes: 300         States: 1     ]\n";
const STATES: &str = "all tcp 192.0.2.10:22 <- 203.0.113.5:40000       ESTABLISHED:ESTABLISHED\n   \
age 00:00:40, expires in 00:09:59, 8:7 pkts, 700:9100 bytes, rule 1\n   \
id: 64f1a2b300000a01 creatorid: 4e1f00c2\n";

/// An `rdr pass` state: FreeBSD records no filter rule for it.
const RDR_STATE: &str = "all tcp 10.0.0.5:80 (192.0.2.10:8080) <- 203.0.113.5:40000       ESTABLISHED:ESTABLISHED\n   \
age 00:00:40, expires in 00:09:59, 8:7 pkts, 700:9100 bytes\n   \
id: 64f1a2b300000a01 creatorid: 4e1f00c2\n";

fn freebsd_recording(dir: &Path) {
    fs::write(dir.join("rules.txt"), FREEBSD_RULES).unwrap();
    fs::write(dir.join("nat.txt"), FREEBSD_NAT).unwrap();
    fs::write(dir.join("states.txt"), STATES).unwrap();
}

/// `pfblame record` into `dir` over the fake pfctl; it must succeed.
fn record(fake: &Fake, dir: &Path) {
    pfblame()
        .arg("record")
        .arg("--pfctl")
        .arg(fake_pfctl())
        .arg(dir)
        .envs(fake.env())
        .assert()
        .success();
}

fn nat_runs(fake: &Fake) -> usize {
    fake.invocations()
        .iter()
        .filter(|argv| argv.iter().any(|a| a == "-vvsn"))
        .count()
}

#[test]
fn freebsd_live_polls_read_the_translation_rules() {
    let rec = tempfile::tempdir().unwrap();
    freebsd_recording(rec.path());
    let mut fake = Fake::new("openbsd-main").mode("freebsd");
    fake.recording = rec.path().to_path_buf();
    let mut src = source::open(&fake.args(Strategy::Auto, 10.0)).unwrap();
    for _ in 0..2 {
        let mut tally = Tally::default();
        let meta = src.poll(&mut tally).expect("poll");
        assert!(meta.warnings.is_empty(), "{:?}", meta.warnings);
        assert_eq!(tally.translation.as_deref(), Some(FREEBSD_NAT));
    }
    assert_eq!(nat_runs(&fake), 2, "{:?}", fake.invocations());
    assert!(
        fake.invocations()
            .contains(&vec!["-a".to_string(), "*".into(), "-vvsn".into()])
    );
}

#[test]
fn openbsd_live_polls_never_run_sn() {
    let fake = Fake::new("openbsd-main");
    let mut src = source::open(&fake.args(Strategy::Auto, 10.0)).unwrap();
    let mut tally = Tally::default();
    let meta = src.poll(&mut tally).expect("poll");
    assert!(meta.warnings.is_empty(), "{:?}", meta.warnings);
    assert_eq!(tally.translation, None);
    assert_eq!(nat_runs(&fake), 0, "{:?}", fake.invocations());
}

#[test]
fn record_keeps_nat_txt_and_replays_hand_it_over() {
    let rec = tempfile::tempdir().unwrap();
    freebsd_recording(rec.path());
    let mut fake = Fake::new("openbsd-main").mode("freebsd");
    fake.recording = rec.path().to_path_buf();
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("capture");
    record(&fake, &dir);
    assert_eq!(
        fs::read_to_string(dir.join("nat.txt")).unwrap(),
        FREEBSD_NAT
    );
    let meta = fs::read_to_string(dir.join("meta.toml")).unwrap();
    assert!(meta.contains("file = \"nat.txt\""), "{meta}");
    let mut src = source::open(&from_args(&dir, Strategy::Auto)).unwrap();
    let mut tally = Tally::default();
    src.poll(&mut tally).expect("replay");
    assert_eq!(tally.translation.as_deref(), Some(FREEBSD_NAT));
    // The analysis counts them as rules of their own rulesets: the state of
    // filter rule 1 stays with it, and the nat rule is what keeps state on
    // FreeBSD even under `no state` (the verdicts' translation cause).
    let out = pfblame()
        .args(["parse", "--format", "json"])
        .arg(dir.join("nat.txt"))
        .output()
        .unwrap();
    let json = json(&out);
    let rulesets: Vec<&str> = json["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|r| r["ruleset"].as_str())
        .collect();
    assert_eq!(rulesets, ["nat", "rdr"]);
}

#[test]
fn record_on_openbsd_writes_no_nat_txt() {
    let fake = Fake::new("openbsd-main");
    let out = tempfile::tempdir().unwrap();
    let dir = out.path().join("capture");
    record(&fake, &dir);
    assert!(!dir.join("nat.txt").exists());
    assert_eq!(nat_runs(&fake), 0);
}

/// The verdict of pf's default rule row in `report --format json`.
fn default_row(dir: &Path) -> (String, String) {
    let out = pfblame()
        .args([
            "report", "--format", "json", "--pf", "freebsd", "-s", "10.0.0.5",
        ])
        .arg("--from")
        .arg(dir)
        .output()
        .unwrap();
    let report = json(&out);
    // The default rule's row: the one without a number.
    let row = row_where(&report, "rules", |r| r["number"].is_null());
    (
        row["verdict"].as_str().unwrap().to_string(),
        row["reason"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_replayed_nat_txt_explains_states_no_filter_rule_made() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("rules.txt"), FREEBSD_RULES).unwrap();
    fs::write(dir.join("states.txt"), RDR_STATE).unwrap();
    let (without, _) = default_row(dir);
    assert_eq!(without, "unexplained");
    fs::write(dir.join("nat.txt"), FREEBSD_NAT).unwrap();
    let (with, reason) = default_row(dir);
    assert_eq!(with, "stateful", "{reason}");
    // It names a translation rule of nat.txt as the cause.
    assert!(
        FREEBSD_NAT
            .lines()
            .filter(|l| l.starts_with('@'))
            .any(|rule| reason.contains(rule)),
        "{reason}"
    );
}

/// The verdict of pf's default rule row of one poll of `source`, analysed
/// as FreeBSD for the rdr target.
fn default_verdict(source: &mut dyn Source) -> Option<Verdict> {
    let config = Config {
        servers: Servers::parse(&["10.0.0.5".to_string()], &[]).unwrap(),
        dialect: Some(Dialect::FreeBsd),
        ..Config::default()
    };
    let polled = Session::new(config).poll(source).expect("replay");
    polled
        .analysis
        .rows
        .iter()
        .find(|r| r.key.number.is_none())
        .and_then(|r| r.verdict)
}

#[test]
fn a_recording_held_in_memory_carries_its_translation_rules() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    freebsd_recording(dir);
    fs::write(dir.join("states.txt"), RDR_STATE).unwrap();
    let polls = source::load_dir(dir).unwrap();
    assert_eq!(polls.len(), 1);
    assert_eq!(polls[0].translation_rules.as_deref(), Some(FREEBSD_NAT));

    // Handed over like the recording on disk hands over nat.txt.
    let mut on_disk = source::open(&from_args(dir, Strategy::Auto)).unwrap();
    let mut in_memory = ReplaySource::from_memory(polls.clone());
    let (mut disk, mut memory) = (Tally::default(), Tally::default());
    on_disk.poll(&mut disk).unwrap();
    in_memory.poll(&mut memory).unwrap();
    assert_eq!(memory.translation.as_deref(), Some(FREEBSD_NAT));
    assert_eq!((memory.rules, &memory.per_key), (disk.rules, &disk.per_key));

    // And the analysis explains the state by the translation rule, as
    // from disk; without them the state stays unexplained.
    let from_disk = default_verdict(
        source::open(&from_args(dir, Strategy::Auto))
            .unwrap()
            .as_mut(),
    );
    let from_memory = default_verdict(&mut ReplaySource::from_memory(polls.clone()));
    assert_eq!(from_memory, Some(Verdict::Stateful));
    assert_eq!(from_memory, from_disk);
    let without = RecordedPoll {
        translation_rules: None,
        ..polls[0].clone()
    };
    assert_eq!(
        default_verdict(&mut ReplaySource::from_memory(vec![without])),
        Some(Verdict::Unexplained)
    );
}
