//! The `K` key end to end, without a terminal: `watch --allow-kill` against
//! the fake pfctl (`tests/fake-pfctl`) replaying the bundled scenario's first
//! poll, through the same code as the real command (`KillAccess::for_source`,
//! `tui::start::prepare`, the UI loop `tui::run`, the collector thread). Pressing
//! `K` then `y` must run exactly one `pfctl -k id -k <id>/<creatorid>` per
//! stray server state of @14, as the fixture lists them, and poll again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_support;

use std::fs;
use std::path::PathBuf;

use cli_support::{Collector, feed, json_lines, key, root};
use pfblame::cli::WatchArgs;
use pfblame::kill::KillRefused;
use pfblame::tui::event::{Control, Event};
use pfblame::tui::kill::KillAccess;
use pfblame::tui::start;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const WWW_HE: &str = "2001:db8:bbbb:1::10";

fn poll_dir() -> PathBuf {
    root().join("fixtures/scenarios/dual-prefix/0001")
}

fn watch_args(extra: &[&str]) -> WatchArgs {
    let mut argv = vec!["pfblame", "watch", "-s", WWW_HE, "-p", "443"];
    argv.extend_from_slice(extra);
    cli_support::watch_args(&argv)
}

/// The fake pfctl, its variables passed through `env` (no shared process
/// environment between tests).
struct Fake {
    logs: tempfile::TempDir,
}

impl Fake {
    fn new() -> Self {
        Fake {
            logs: tempfile::tempdir().unwrap(),
        }
    }

    fn log(&self) -> PathBuf {
        self.logs.path().join("pfctl.log")
    }

    fn kill_log(&self) -> PathBuf {
        self.logs.path().join("kill.log")
    }

    fn command(&self) -> String {
        let words = [
            "env".to_string(),
            format!("FAKE_PFCTL_DIR={}", poll_dir().display()),
            format!("FAKE_PFCTL_LOG={}", self.log().display()),
            format!("FAKE_PFCTL_KILL_LOG={}", self.kill_log().display()),
            root().join("tests/fake-pfctl").display().to_string(),
        ];
        shlex::try_join(words.iter().map(String::as_str)).unwrap()
    }
}

/// `<id>/<creatorid>` of the states in the poll's `states.txt` created by
/// `rule` whose server side is `WWW_HE` port `port`, read from the text
/// directly (not through pfblame's parser).
fn ids_in_fixture(rule: u32, port: u16) -> Vec<String> {
    let text = fs::read_to_string(poll_dir().join("states.txt")).unwrap();
    let mut out = Vec::new();
    let mut records: Vec<Vec<&str>> = Vec::new();
    for line in text.lines() {
        match records.last_mut() {
            Some(r) if line.starts_with(' ') => r.push(line),
            _ => records.push(vec![line]),
        }
    }
    for record in records {
        let on_port = record[0].contains(&format!("{WWW_HE}[{port}]"));
        let by_rule = record
            .iter()
            .any(|l| l.trim_start().starts_with("age ") && l.ends_with(&format!("rule {rule}")));
        if on_port && by_rule {
            let id_line = record
                .iter()
                .find(|l| l.trim_start().starts_with("id:"))
                .unwrap();
            // id: <id> creatorid: <creatorid>
            let words: Vec<&str> = id_line.split_whitespace().collect();
            out.push(format!("{}/{}", words[1], words[3]));
        }
    }
    out
}

#[test]
fn the_fixture_has_four_stray_states_of_rule_14() {
    // Guards the expectations below against a changed scenario.
    assert_eq!(ids_in_fixture(14, 443).len(), 4);
}

#[test]
fn k_then_y_kills_exactly_the_stray_states_and_polls_again() {
    let fake = Fake::new();
    let args = watch_args(&["--pfctl", &fake.command(), "--allow-kill", "-i", "600"]);
    let source = pfblame::source::open(&args.source.options()).unwrap();
    let access = KillAccess::for_source(
        args.allow_kill,
        source.as_ref(),
        &args.source.pfctl.options(),
    )
    .unwrap();
    assert!(access.is_allowed());
    let config = args.servers.config().unwrap();
    let interval = args.source.interval();
    let (mut app, pipeline) = start::prepare(source, config, None, interval, false).unwrap();
    app.kill = access;
    assert_eq!(app.current_row().unwrap().key.to_string(), "@14");
    let polls_before = json_lines(&fake.log()).len();

    let mut terminal = Terminal::new(TestBackend::new(120, 32)).unwrap();
    let want = ids_in_fixture(14, 443);
    let (screen, controls) = feed(&mut terminal, &mut app, vec![key('K')]);
    assert!(controls.is_empty(), "nothing runs before the answer");
    assert!(
        screen.contains("pfblame will remove 4 states by running:"),
        "{screen}"
    );
    for id in &want {
        assert!(
            screen.contains(&format!("fake-pfctl -k id -k {id}")),
            "{id}:\n{screen}"
        );
    }
    assert!(json_lines(&fake.kill_log()).is_empty());

    let (screen, mut controls) = feed(&mut terminal, &mut app, vec![key('y')]);
    assert!(screen.contains("removing 4 states of @14…"), "{screen}");
    assert_eq!(controls.len(), 1, "{controls:?}");
    let job = controls.pop().unwrap();
    assert!(matches!(job, Control::Kill(_)));

    // The collector runs the commands, reports, and polls at once.
    let collector = Collector::spawn(pipeline, interval);
    collector.send(job);
    let result = collector.kill_result();
    assert_eq!(
        result.as_deref(),
        Ok("@14: 4 of 4 commands succeeded; pfctl reported 4 states killed")
    );
    assert!(matches!(collector.next_event(), Event::PollStarted));
    let polled = collector.next_event();
    assert!(matches!(polled, Event::Polled(_)), "{polled:?}");
    collector.quit();

    // Exactly those commands reached pfctl, one per state, by id.
    let kills = json_lines(&fake.kill_log());
    let mut got: Vec<String> = kills
        .iter()
        .map(|k| {
            assert_eq!(k.len(), 2, "{k:?}");
            assert_eq!(k[0], "id");
            k[1].clone()
        })
        .collect();
    let mut expected = want.clone();
    got.sort();
    expected.sort();
    assert_eq!(got, expected);
    let runs = json_lines(&fake.log());
    let kill_runs: Vec<&Vec<String>> = runs.iter().filter(|r| r.contains(&"-k".into())).collect();
    assert_eq!(kill_runs.len(), 4);
    for run in &kill_runs {
        assert_eq!(run.len(), 4);
        assert_eq!(run[..3], ["-k", "id", "-k"]);
    }
    assert!(runs.len() > polls_before + 4, "a poll followed the kills");

    // The result shows in the banner; the next key clears it.
    let (screen, _) = feed(&mut terminal, &mut app, vec![Event::Killed(result), polled]);
    assert!(
        screen.contains("@14: 4 of 4 commands succeeded; pfctl reported 4 states killed"),
        "{screen}"
    );
    let (screen, _) = feed(&mut terminal, &mut app, vec![key('j')]);
    assert!(!screen.contains("commands succeeded"), "{screen}");
}

#[test]
fn k_is_refused_without_allow_kill_and_on_a_recording() {
    let fake = Fake::new();
    let args = watch_args(&["--pfctl", &fake.command()]);
    let source = pfblame::source::open(&args.source.options()).unwrap();
    assert!(matches!(
        KillAccess::for_source(
            args.allow_kill,
            source.as_ref(),
            &args.source.pfctl.options()
        )
        .unwrap(),
        KillAccess::Refused(KillRefused::NotAllowed)
    ));
    let dir = poll_dir();
    let from = dir.to_str().unwrap();
    let args = watch_args(&["--from", from, "--allow-kill"]);
    let source = pfblame::source::open(&args.source.options()).unwrap();
    let access = KillAccess::for_source(
        args.allow_kill,
        source.as_ref(),
        &args.source.pfctl.options(),
    )
    .unwrap();
    assert!(matches!(access, KillAccess::Refused(KillRefused::Recorded)));

    // On screen: K says why, no confirmation, nothing run.
    let config = args.servers.config().unwrap();
    let interval = std::time::Duration::from_secs(2);
    let (mut app, _pipeline) = start::prepare(source, config, None, interval, false).unwrap();
    app.kill = access;
    let mut terminal = Terminal::new(TestBackend::new(120, 32)).unwrap();
    let (screen, controls) = feed(&mut terminal, &mut app, vec![key('K')]);
    assert!(controls.is_empty(), "{controls:?}");
    assert!(app.kill_prompt().is_none());
    assert!(
        screen.contains("kill is not possible on recorded data"),
        "{screen}"
    );
    // `y` without a confirmation only shows the selected state's command.
    let (screen, controls) = feed(&mut terminal, &mut app, vec![key('y')]);
    assert!(controls.is_empty(), "{controls:?}");
    assert!(app.kill_prompt().is_none());
    assert!(screen.contains("y: pfctl -k id -k "), "{screen}");
    assert!(json_lines(&fake.kill_log()).is_empty());
}
