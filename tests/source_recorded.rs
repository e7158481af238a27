//! Recorded sources: `--from DIR`, numbered polls, `--from FILE`, in-memory
//! replays and `load_dir`.

mod source_support;

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use chrono::{DateTime, TimeZone, Utc};
use pfblame::cli::Strategy;
use pfblame::exit::Exit;
use pfblame::source::{
    self, NO_RULES_WARNING, PollSink, RecordedPoll, ReplaySource, Source, SourceError, load_dir,
};
use source_support::{Tally, from_args, openbsd_main_expected, recording};

fn utc(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s)
        .expect("valid stamp")
        .with_timezone(&Utc)
}

#[test]
fn a_recorded_directory_plays_rules_states_and_info() {
    let mut src =
        source::open(&from_args(&recording("openbsd-main"), Strategy::Auto)).expect("opens");
    assert!(!src.is_live());
    assert!(
        src.describe().starts_with("recorded: "),
        "{}",
        src.describe()
    );
    let mut tally = Tally::default();
    let meta = src.poll(&mut tally).expect("poll");
    assert_eq!(meta.taken_at, utc("2024-05-01T09:59:00Z"));
    assert_eq!(meta.position, Some((1, 1)));
    assert_eq!(tally.per_key, openbsd_main_expected());
    assert_eq!(tally.rules, 7);
    assert!(
        tally
            .info
            .as_deref()
            .is_some_and(|i| i.starts_with("Status: Enabled"))
    );
    assert!(meta.runs.iter().all(|r| r.argv[0] == "read"));
    assert!(meta.warnings.is_empty(), "{:?}", meta.warnings);
}

#[test]
fn without_meta_toml_the_time_is_the_files_mtime() {
    let path = recording("openbsd-anchors");
    let mtime: DateTime<Utc> = fs::metadata(path.join("states.txt"))
        .and_then(|m| m.modified())
        .expect("mtime")
        .into();
    let mut src = source::open(&from_args(&path, Strategy::Auto)).expect("opens");
    let meta = src.poll(&mut Tally::default()).expect("poll");
    assert_eq!(meta.taken_at, mtime);
}

#[test]
fn numbered_polls_replay_in_order_and_stay_on_the_last() {
    let mut src =
        source::open(&from_args(&recording("openbsd-polls"), Strategy::Auto)).expect("opens");
    assert!(src.describe().contains("2 polls"), "{}", src.describe());
    let mut seen = Vec::new();
    for _ in 0..3 {
        let mut t = Tally::default();
        let meta = src.poll(&mut t).expect("poll");
        seen.push((
            meta.position,
            meta.taken_at,
            t.per_key.get(&(None, Some(2))).copied(),
        ));
    }
    let first = utc("2024-05-01T10:00:00Z");
    let second = utc("2024-05-01T10:00:02Z");
    assert_eq!(
        seen,
        [
            (Some((1, 2)), first, Some(3)),
            (Some((2, 2)), second, Some(5)),
            (Some((2, 2)), second, Some(5)),
        ]
    );
}

#[test]
fn a_pfctl_sa_file_is_split_into_its_sections() {
    let path = recording("single-files/openbsd-vvsa.txt");
    let mut src = source::open(&from_args(&path, Strategy::Auto)).expect("opens");
    let mut tally = Tally::default();
    let meta = src.poll(&mut tally).expect("poll");
    assert_eq!(tally.per_key, openbsd_main_expected());
    assert_eq!(tally.rules, 7);
    assert!(!tally.rules_text.contains("FILTER RULES:"));
    assert!(!tally.rules_text.contains("tcp.first"));
    let info = tally.info.expect("INFO section");
    assert!(info.starts_with("Status: Enabled"), "{info}");
    assert!(!info.contains("TIMEOUTS"), "{info}");
    assert!(tally.diagnostics.is_empty(), "{:?}", tally.diagnostics);
    assert!(meta.warnings.is_empty(), "{:?}", meta.warnings);
}

#[test]
fn a_states_file_is_recognised_by_its_content() {
    let path = recording("single-files/openbsd-vvss.txt");
    let mut src = source::open(&from_args(&path, Strategy::Auto)).expect("opens");
    let mut tally = Tally::default();
    let meta = src.poll(&mut tally).expect("poll");
    assert_eq!(tally.per_key, openbsd_main_expected());
    assert!(tally.rules_text.is_empty());
    assert!(
        meta.warnings.iter().any(|w| w.contains("states only")),
        "{:?}",
        meta.warnings
    );
}

#[test]
fn a_rules_file_is_recognised_by_its_content() {
    let path = recording("openbsd-main/rules.txt");
    let mut src = source::open(&from_args(&path, Strategy::Auto)).expect("opens");
    let mut tally = Tally::default();
    let meta = src.poll(&mut tally).expect("poll");
    assert_eq!(tally.rules, 7);
    assert_eq!(tally.total(), 0);
    assert!(
        meta.warnings.iter().any(|w| w.contains("rules only")),
        "{:?}",
        meta.warnings
    );
}

#[test]
fn a_missing_path_is_no_input() {
    let err = source::open(&from_args(&recording("no-such-recording"), Strategy::Auto))
        .err()
        .expect("missing");
    assert!(matches!(err, SourceError::MissingInput { .. }), "{err:?}");
    assert_eq!(Exit::from(&err), Exit::NoInput);
    assert!(err.to_string().contains("no-such-recording"), "{err}");
}

#[test]
fn a_directory_without_the_layout_is_no_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("notes.txt"), "hello").expect("write");
    let err = source::open(&from_args(dir.path(), Strategy::Auto))
        .err()
        .expect("not a recording");
    assert!(matches!(err, SourceError::NoRecording { .. }), "{err:?}");
    // The README's table: a missing input is 66.
    assert_eq!(Exit::from(&err), Exit::NoInput);
    assert!(err.to_string().contains("rules.txt"), "{err}");
}

#[test]
fn a_bad_meta_toml_is_a_bad_recording() {
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("rules.txt"), "").expect("write");
    fs::write(dir.path().join("meta.toml"), "taken_at = \"yesterday\"").expect("write");
    let err = source::open(&from_args(dir.path(), Strategy::Auto))
        .err()
        .expect("bad meta");
    assert_eq!(Exit::from(&err), Exit::DataErr);
    assert!(err.to_string().contains("taken_at"), "{err}");
}

#[test]
fn per_rule_replays_use_the_states_r_files() {
    let dir = tempfile::tempdir().expect("tempdir");
    let main = recording("openbsd-main");
    fs::copy(main.join("rules.txt"), dir.path().join("rules.txt")).expect("copy");
    fs::copy(main.join("states.txt"), dir.path().join("states.txt")).expect("copy");
    let states = fs::read_to_string(main.join("states.txt")).expect("read");
    // Two per-rule files, cut from the full listing by hand: rule 4 and rule 6.
    let lines: Vec<&str> = states.lines().collect();
    let find = |rule: &str| -> String {
        let age = lines
            .iter()
            .position(|l| l.ends_with(rule))
            .expect("state of the rule");
        lines[age - 2..=age + 1].join("\n") + "\n"
    };
    fs::write(dir.path().join("states-R4.txt"), find("rule 4")).expect("write");
    fs::write(dir.path().join("states-R6.txt"), find("rule 6")).expect("write");

    let mut auto = Tally::default();
    source::open(&from_args(dir.path(), Strategy::Auto))
        .expect("opens")
        .poll(&mut auto)
        .expect("poll");
    assert_eq!(auto.calls, [None]);
    assert_eq!(auto.per_key, openbsd_main_expected());

    let mut per_rule = Tally::default();
    source::open(&from_args(dir.path(), Strategy::PerRule))
        .expect("opens")
        .poll(&mut per_rule)
        .expect("poll");
    assert_eq!(per_rule.calls, [Some(4), Some(6)]);
    assert_eq!(per_rule.foreign, 0);
    assert_eq!(
        per_rule.per_key,
        BTreeMap::from([((None, Some(4)), 1), ((None, Some(6)), 1)])
    );
}

#[test]
fn in_memory_replays_step_through_and_stay_on_the_last() {
    let main = recording("openbsd-main");
    let rules = fs::read_to_string(main.join("rules.txt")).expect("read");
    let states = fs::read_to_string(main.join("states.txt")).expect("read");
    let t0 = Utc
        .with_ymd_and_hms(2024, 1, 1, 0, 0, 0)
        .single()
        .expect("valid");
    let polls = vec![
        RecordedPoll {
            taken_at: Some(t0),
            rules: rules.clone(),
            states: String::new(),
            info: None,
            translation_rules: None,
            per_rule: BTreeMap::new(),
            carp: None,
        },
        RecordedPoll {
            taken_at: None,
            rules: String::new(),
            states: states.clone(),
            info: Some("Status: Enabled\n".into()),
            translation_rules: None,
            per_rule: BTreeMap::from([(9, "".to_string())]),
            carp: None,
        },
    ];
    let mut src = ReplaySource::from_memory(polls).with_description("demo: test");
    assert_eq!(src.describe(), "demo: test");
    assert_eq!(src.len(), 2);

    let mut first = Tally::default();
    let meta = src.poll(&mut first).expect("poll 1");
    assert_eq!((meta.taken_at, meta.position), (t0, Some((1, 2))));
    assert_eq!((first.rules, first.total()), (7, 0));

    for _ in 0..2 {
        let mut t = Tally::default();
        let meta = src.poll(&mut t).expect("poll 2");
        assert_eq!(meta.position, Some((2, 2)));
        assert_eq!(t.per_key, openbsd_main_expected());
        assert_eq!(t.calls, [None]);
        assert_eq!(t.info.as_deref(), Some("Status: Enabled\n"));
        assert!(meta.warnings.iter().any(|w| w == NO_RULES_WARNING));
    }

    let mut per_rule = ReplaySource::from_memory(vec![RecordedPoll {
        per_rule: BTreeMap::from([(9, String::new())]),
        ..RecordedPoll::default()
    }])
    .with_strategy(Strategy::PerRule);
    let mut t = Tally::default();
    per_rule.poll(&mut t).expect("poll");
    assert_eq!(t.calls, [Some(9)]);
}

#[test]
fn an_empty_replay_is_an_error_not_a_panic() {
    let mut src = ReplaySource::from_memory(Vec::new());
    assert!(src.is_empty());
    let err = src.poll(&mut Tally::default()).expect_err("no polls");
    assert_eq!(Exit::from(&err), Exit::DataErr);
}

#[test]
fn load_dir_reads_numbered_polls_into_memory() {
    let polls = load_dir(&recording("openbsd-polls")).expect("loads");
    assert_eq!(polls.len(), 2);
    assert_eq!(polls[0].taken_at, Some(utc("2024-05-01T10:00:00Z")));
    assert_eq!(polls[1].taken_at, Some(utc("2024-05-01T10:00:02Z")));
    let on_disk = fs::read_to_string(recording("openbsd-polls/0002/states.txt")).expect("read");
    assert_eq!(polls[1].states, on_disk);
    assert!(polls[0].info.is_none());

    // And the memory replay of what was loaded gives what the disk gives.
    let mut mem = ReplaySource::from_memory(polls);
    let mut disk =
        source::open(&from_args(&recording("openbsd-polls"), Strategy::Auto)).expect("opens");
    for _ in 0..2 {
        let (mut a, mut b) = (Tally::default(), Tally::default());
        let ma = mem.poll(&mut a).expect("memory");
        let mb = disk.poll(&mut b).expect("disk");
        assert_eq!(a.per_key, b.per_key);
        assert_eq!(ma.taken_at, mb.taken_at);
    }
}

#[test]
fn load_dir_of_a_single_directory_keeps_info() {
    let polls = load_dir(&recording("openbsd-main")).expect("loads");
    assert_eq!(polls.len(), 1);
    assert!(
        polls[0]
            .info
            .as_deref()
            .is_some_and(|i| i.contains("current entries"))
    );
    assert!(polls[0].per_rule.is_empty());
}

/// A sink that refuses states: the error reaches the caller as `Io`.
struct Refuse;

impl PollSink for Refuse {
    fn rules(&mut self, _text: &str) {}
    fn states(
        &mut self,
        _rule: Option<u32>,
        _input: &mut dyn std::io::BufRead,
    ) -> std::io::Result<()> {
        Err(std::io::Error::other("sink is full"))
    }
}

#[test]
fn a_sink_error_fails_the_poll() {
    let mut src =
        source::open(&from_args(&recording("openbsd-main"), Strategy::Auto)).expect("opens");
    let err = src.poll(&mut Refuse).expect_err("sink error");
    assert!(matches!(err, SourceError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("sink is full"), "{err}");
}

/// `--from` on a FIFO or a device would block or never end: refused at once.
#[cfg(unix)]
#[test]
fn non_regular_files_are_refused_at_once() {
    let started = std::time::Instant::now();
    for path in ["/dev/zero", "/dev/null"] {
        let err = source::open(&from_args(Path::new(path), Strategy::Auto))
            .err()
            .expect("refused");
        assert!(err.to_string().contains("not a regular file"), "{err}");
        assert_eq!(Exit::from(&err), Exit::NoInput);
    }
    // A FIFO nobody writes to would block forever.
    let fifo_dir = tempfile::tempdir().expect("tempdir");
    let fifo = fifo_dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo");
    assert!(made.success());
    let err = source::open(&from_args(&fifo, Strategy::Auto))
        .err()
        .expect("refused");
    assert!(matches!(err, SourceError::NotAFile { .. }), "{err:?}");
    // A states.txt inside a recording that is a link to a device, too.
    let dir = tempfile::tempdir().expect("tempdir");
    fs::write(dir.path().join("rules.txt"), "@0 pass all\n").expect("write");
    std::os::unix::fs::symlink("/dev/zero", dir.path().join("states.txt")).expect("symlink");
    let err = source::open(&from_args(dir.path(), Strategy::Auto))
        .err()
        .expect("refused");
    assert!(err.to_string().contains("states.txt"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
}

/// What an interrupted `record` leaves (a `.0002.tmp`, or a numbered poll
/// without `meta.toml`) is skipped with a warning, never replayed as data.
#[test]
fn incomplete_polls_are_skipped_with_a_warning() {
    let dir = tempfile::tempdir().expect("tempdir");
    let good = recording("openbsd-polls/0001");
    let copy = |to: &Path, meta: bool| {
        fs::create_dir(to).expect("mkdir");
        for f in ["rules.txt", "states.txt"] {
            fs::copy(good.join(f), to.join(f)).expect("copy");
        }
        if meta {
            fs::copy(good.join("meta.toml"), to.join("meta.toml")).expect("copy");
        }
    };
    copy(&dir.path().join("0001"), true);
    copy(&dir.path().join(".0002.tmp"), false);
    copy(&dir.path().join("0003"), false);
    let mut src = source::open(&from_args(dir.path(), Strategy::Auto)).expect("opens");
    assert!(src.describe().contains("(1 polls)"), "{}", src.describe());
    let mut tally = Tally::default();
    let meta = src.poll(&mut tally).expect("plays");
    let warnings = meta.warnings.join("\n");
    assert!(warnings.contains(".0002.tmp"), "{warnings}");
    assert!(warnings.contains("0003: no meta.toml"), "{warnings}");
    assert_eq!(meta.position, Some((1, 1)));
}
