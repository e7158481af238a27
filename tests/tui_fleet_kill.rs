//! The `K` key over a fleet, end to end without a terminal: `watch
//! --allow-kill` on two hosts reached through the stand-in ssh
//! (`tests/fake-ssh` as a `--host` transport), each serving its part of the
//! bundled CARP pair through the fake pfctl. `K` on a row of fw-b must plan
//! and run `pfctl -k id -k <id>/<creatorid>` through fw-b's transport only,
//! with the same confirmation and quoting as one host's `K`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_support;

use std::fs;
use std::path::PathBuf;

use cli_support::{Collector, feed, json_lines, key, root};
use pfblame::cli::WatchArgs;
use pfblame::fleet::Fleet;
use pfblame::kill::KillRefused;
use pfblame::tui::action::Action;
use pfblame::tui::app::App;
use pfblame::tui::kill::KillAccess;
use pfblame::tui::start::prepare_fleet;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

const SERVER: &str = "2001:db8::10";

/// Two hosts behind the stand-in ssh, each with its own ssh log.
struct Pair {
    dir: tempfile::TempDir,
}

impl Pair {
    fn new() -> Pair {
        let dir = tempfile::tempdir().unwrap();
        for host in ["fw-a", "fw-b"] {
            let home = dir.path().join("hosts").join(host);
            fs::create_dir_all(&home).unwrap();
            let from = root().join("fixtures/scenarios/carp-pair").join(host);
            for f in ["rules.txt", "states.txt", "info.txt"] {
                fs::copy(from.join(f), home.join(f)).unwrap();
            }
        }
        Pair { dir }
    }

    fn ssh_log(&self, host: &str) -> PathBuf {
        self.dir.path().join(format!("{host}.ssh.log"))
    }

    /// `--host NAME=env FAKE_SSH_HOSTS=… FAKE_SSH_LOG=… fake-ssh NAME`.
    fn host_arg(&self, host: &str) -> String {
        let words = [
            "env".to_string(),
            format!("FAKE_SSH_HOSTS={}", self.dir.path().join("hosts").display()),
            format!("FAKE_SSH_LOG={}", self.ssh_log(host).display()),
            root().join("tests/fake-ssh").display().to_string(),
            host.to_string(),
        ];
        format!(
            "{host}={}",
            shlex::try_join(words.iter().map(String::as_str)).unwrap()
        )
    }

    fn args(&self, extra: &[&str]) -> WatchArgs {
        let fake_pfctl = root().join("tests/fake-pfctl").display().to_string();
        let (a, b) = (self.host_arg("fw-a"), self.host_arg("fw-b"));
        let mut argv = vec![
            "pfblame",
            "watch",
            "-s",
            SERVER,
            "--pfctl",
            &fake_pfctl,
            "--host",
            &a,
            "--host",
            &b,
            "-i",
            "600",
        ];
        argv.extend_from_slice(extra);
        cli_support::watch_args(&argv)
    }

    /// The `-k` runs that reached `host`, each the remote line's words.
    fn kills_on(&self, host: &str) -> Vec<String> {
        json_lines(&self.ssh_log(host))
            .into_iter()
            .filter_map(|argv| argv.last().cloned())
            .filter(|line| line.contains(" -k "))
            .collect()
    }
}

/// Keeps only `host`'s rows (`/NAME`, Enter): the cursor is on its first.
fn show_only(app: &mut App, host: &str) {
    app.update(Action::Command(pfblame::tui::action::Command::StartFilter));
    for c in host.chars() {
        app.update(Action::FilterChar(c));
    }
    app.update(Action::FilterAccept);
}

#[test]
fn k_on_the_backups_row_kills_on_the_backup_only() {
    let pair = Pair::new();
    let args = pair.args(&["--allow-kill"]);
    let options = args.source.options();
    let fleet = Fleet::open(&options).unwrap().expect("two hosts");
    let access = KillAccess::for_fleet(args.allow_kill, fleet.is_live(), &options).unwrap();
    assert!(access.is_allowed());
    let config = args.servers.config().unwrap();
    let interval = args.source.interval();
    let (mut app, pipeline) = prepare_fleet(fleet, config, interval, false).unwrap();
    app.kill = access;
    show_only(&mut app, "fw-b");
    let row = app.current_row().unwrap();
    assert_eq!(
        (row.host.as_deref(), row.key.to_string()),
        (Some("fw-b"), "@2".to_string())
    );

    let mut terminal = Terminal::new(TestBackend::new(160, 32)).unwrap();
    let (screen, controls) = feed(&mut terminal, &mut app, vec![key('K')]);
    assert!(controls.is_empty(), "nothing runs before the answer");
    assert!(
        screen.contains("pfblame will remove 2 states by running:"),
        "{screen}"
    );
    assert!(screen.contains("fake-ssh fw-b '"), "{screen}");
    // fw-b's own transport, the remote line quoted as for polls.
    let prompt = app.kill_prompt().unwrap();
    let shown = prompt.lines.join("\n");
    for id in ["6600000000000014/0a0a0001", "6600000000000015/0a0a0001"] {
        assert!(
            shown.contains(&format!("fake-pfctl -k id -k {id}'")),
            "{id}:\n{shown}"
        );
    }
    assert!(
        prompt
            .plan
            .iter()
            .all(|argv| argv.contains(&"fw-b".to_string()) && !argv.contains(&"fw-a".to_string())),
        "{:?}",
        prompt.plan
    );

    let (_, mut controls) = feed(&mut terminal, &mut app, vec![key('y')]);
    assert_eq!(controls.len(), 1, "{controls:?}");
    let job = controls.pop().unwrap();
    let collector = Collector::spawn(pipeline, interval);
    collector.send(job);
    let result = collector.kill_result();
    assert_eq!(
        result.as_deref(),
        Ok("@2: 2 of 2 commands succeeded; pfctl reported 2 states killed")
    );
    collector.quit();
    let mut on_b = pair.kills_on("fw-b");
    on_b.sort();
    assert_eq!(on_b.len(), 2, "{on_b:?}");
    assert!(
        on_b[0].ends_with("-k id -k 6600000000000014/0a0a0001"),
        "{on_b:?}"
    );
    assert!(
        on_b[1].ends_with("-k id -k 6600000000000015/0a0a0001"),
        "{on_b:?}"
    );
    assert!(pair.kills_on("fw-a").is_empty(), "nothing on the master");
}

#[test]
fn k_over_a_fleet_is_refused_without_allow_kill_and_on_recordings() {
    let pair = Pair::new();
    let args = pair.args(&[]);
    let options = args.source.options();
    assert!(matches!(
        KillAccess::for_fleet(false, true, &options).unwrap(),
        KillAccess::Refused(KillRefused::NotAllowed)
    ));
    let recorded = pfblame::source::Options {
        from: Some(root().join("fixtures/scenarios/carp-pair")),
        ..options
    };
    let fleet = Fleet::open(&recorded).unwrap().expect("a fleet recording");
    assert!(matches!(
        KillAccess::for_fleet(true, fleet.is_live(), &recorded).unwrap(),
        KillAccess::Refused(KillRefused::Recorded)
    ));
}
