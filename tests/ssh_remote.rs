//! `--ssh HOST` end to end (issue #10.2): a stand-in `ssh` (tests/fake-ssh,
//! first in PATH) joins its arguments after the host with spaces and hands
//! them to `sh -c`, as OpenSSH does. Hostile labels, interface names,
//! protocols, anchor and table names must reach the (fake) pfctl as exactly
//! the intended argv, create nothing "on the router", and the kill
//! confirmation must show exactly the argv that ran.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use pfblame::source::quote;

const MANIFEST: &str = env!("CARGO_MANIFEST_DIR");

/// Every hostile word at once: globs, `->`, command substitution, `;`,
/// both quotes, backquotes, a redirection.
const EVIL_PROTO: &str = r#"t'c"p;$(touch${IFS}PWN1)`touch${IFS}PWN2`*->>PWN3"#;
const EVIL_IFACE: &str = "em1;$(touch${IFS}PWN4)*";
const EVIL_LABEL: &str = r#"x'$(touch PWN5);*->"y"#;

struct Router {
    _dir: tempfile::TempDir,
    /// The fake ssh's cwd: where a shell injection would create files.
    remote: PathBuf,
    bin: PathBuf,
    rec: PathBuf,
    log: PathBuf,
    kill_log: PathBuf,
    ssh_log: PathBuf,
}

impl Router {
    fn new(rules: &str, states: &str) -> Router {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        let (remote, bin, rec) = (root.join("remote"), root.join("bin"), root.join("rec"));
        for d in [&remote, &bin, &rec] {
            fs::create_dir(d).unwrap();
        }
        std::os::unix::fs::symlink(Path::new(MANIFEST).join("tests/fake-ssh"), bin.join("ssh"))
            .unwrap();
        fs::write(rec.join("rules.txt"), rules).unwrap();
        fs::write(rec.join("states.txt"), states).unwrap();
        Router {
            _dir: dir,
            remote,
            bin,
            rec,
            log: root.join("pfctl.log"),
            kill_log: root.join("kill.log"),
            ssh_log: root.join("ssh.log"),
        }
    }

    /// The command "on the router": the fake pfctl with its environment.
    fn pfctl(&self) -> String {
        quote::join(&[
            "env".to_string(),
            format!("FAKE_PFCTL_DIR={}", self.rec.display()),
            format!("FAKE_PFCTL_LOG={}", self.log.display()),
            format!("FAKE_PFCTL_KILL_LOG={}", self.kill_log.display()),
            format!("{MANIFEST}/tests/fake-pfctl"),
        ])
    }

    fn run(&self, args: &[&str]) -> std::process::Output {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let pfctl = self.pfctl();
        let mut all = vec![
            args[0],
            "--ssh",
            "fw",
            "--ssh-opt=-oBatchMode=yes",
            "--pfctl",
            &pfctl,
        ];
        all.extend(&args[1..]);
        Command::cargo_bin("pfblame")
            .unwrap()
            .current_dir(&self.remote)
            .env("PATH", path)
            .env("FAKE_SSH_LOG", &self.ssh_log)
            .args(&all)
            .output()
            .unwrap()
    }

    fn lines(path: &Path) -> Vec<Vec<String>> {
        fs::read_to_string(path)
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    fn invocations(&self) -> Vec<Vec<String>> {
        Self::lines(&self.log)
    }

    fn assert_nothing_created_remotely(&self) {
        let made: Vec<_> = fs::read_dir(&self.remote).unwrap().collect();
        assert!(made.is_empty(), "the remote shell created {made:?}");
    }
}

fn argv(words: &[&str]) -> Vec<String> {
    words.iter().map(|w| w.to_string()).collect()
}

fn rules() -> String {
    format!(
        "@0 block return all\n\
         \x20 [ Evaluations: 10        Packets: 0         Bytes: 0           States: 0     ]\n\
         @1 pass out on em1 proto tcp from any to 10.0.0.1 port = 80 flags S/SA label \"{EVIL_LABEL}\"\n\
         \x20 [ Evaluations: 20        Packets: 40        Bytes: 4000        States: 3     ]\n"
    )
}

fn states() -> String {
    format!(
        "{EVIL_IFACE} {EVIL_PROTO} 10.0.0.2:5000 -> 10.0.0.1:80       ESTABLISHED:ESTABLISHED\n\
         \x20  age 00:00:40, expires in 00:09:59, 8:7 pkts, 700:9100 bytes, rule 1\n\
         all tcp 10.0.0.3:5001 -> 10.0.0.1:80       ESTABLISHED:ESTABLISHED\n\
         \x20  age 00:00:41, expires in 00:09:58, 9:8 pkts, 800:9200 bytes, rule 1\n\
         \x20  id: 64f1a2b300000d02 creatorid: 4e1f00c2\n"
    )
}

#[test]
fn report_kill_over_ssh_runs_exactly_the_planned_argv() {
    let r = Router::new(&rules(), &states());
    // Nothing routes the server's replies here, so its states are
    // `stateful`: `--strict` makes them fail the report, and `--kill`
    // removes what fails it.
    let out = r.run(&[
        "report",
        "--strict",
        "-s",
        "10.0.0.1",
        "--kill",
        "--allow-kill",
        "--yes",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.code().is_some_and(|c| c == 0 || c == 1),
        "{stderr}"
    );
    r.assert_nothing_created_remotely();

    let calls = r.invocations();
    assert_eq!(calls[0], argv(&["-a", "*", "-vvsr"]), "{calls:?}");
    assert_eq!(calls[1], argv(&["-vvss"]), "{calls:?}");
    let key = format!("{EVIL_PROTO} 10.0.0.2:5000 -> 10.0.0.1:80");
    let mut kills = Router::lines(&r.kill_log);
    kills.sort();
    let mut want = vec![
        argv(&["key", &key]),
        argv(&["id", "64f1a2b300000d02/4e1f00c2"]),
    ];
    want.sort();
    assert_eq!(kills, want);

    // What ran is what was shown: every ssh argv of a kill, as displayed.
    let ssh_calls = Router::lines(&r.ssh_log);
    let kill_calls: Vec<_> = ssh_calls
        .iter()
        .filter(|a| a.last().is_some_and(|l| l.contains(" -k ")))
        .collect();
    assert_eq!(kill_calls.len(), 2, "{ssh_calls:?}");
    for call in kill_calls {
        let mut full = vec!["ssh".to_string()];
        full.extend(call.iter().cloned());
        let shown = format!("  {}\n", quote::join(&full));
        assert!(stderr.contains(&shown), "{shown:?} not in:\n{stderr}");
        assert_eq!(
            &call[..3],
            argv(&["-oBatchMode=yes", "fw", "--"]).as_slice()
        );
    }
}

#[test]
fn lint_over_ssh_passes_hostile_anchor_and_table_names_intact() {
    let anchor = r#"a';*$(touch PWN6)"#;
    let table = "w;$(touch${IFS}PWN7)";
    let rules = format!(
        "@1 pass out on em1 proto tcp from any to <{table}> port = 80 flags S/SA\n\
         @2 anchor \"{anchor}\" all {{\n\
         @0 pass out on em1 proto tcp from any to <t*> port = 80\n\
         }}\n"
    );
    let r = Router::new(&rules, "");
    let out = r.run(&["lint", "-s", "10.0.0.1", "-p", "80"]);
    assert!(out.status.code().is_some(), "{out:?}");
    r.assert_nothing_created_remotely();
    let calls = r.invocations();
    assert_eq!(calls[0], argv(&["-a", "*", "-vvsr"]), "{calls:?}");
    for want in [
        argv(&["-t", table, "-T", "show"]),
        argv(&["-a", anchor, "-t", "t*", "-T", "show"]),
    ] {
        assert!(calls.contains(&want), "{want:?} not in {calls:?}");
    }
}

#[test]
fn pfctl_running_ssh_is_refused_and_nothing_runs() {
    let r = Router::new(&rules(), &states());
    for cmd in [
        "ssh fw pfctl",
        "doas ssh fw pfctl",
        "env ssh fw pfctl",
        "sudo ssh fw pfctl",
    ] {
        let out = Command::cargo_bin("pfblame")
            .unwrap()
            .current_dir(&r.remote)
            .env("PATH", format!("{}:/usr/bin:/bin", r.bin.display()))
            .env("FAKE_SSH_LOG", &r.ssh_log)
            .args(["report", "--pfctl", cmd, "-s", "10.0.0.1"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{cmd}");
        assert!(String::from_utf8_lossy(&out.stderr).contains("--ssh HOST"));
    }
    assert!(!r.ssh_log.exists(), "ssh was run");
}

#[test]
fn report_kill_is_refused_when_the_listing_had_errors() {
    let bad = format!("{}this line is not a state\n", states());
    let r = Router::new(&rules(), &bad);
    let out = r.run(&[
        "report",
        "-s",
        "10.0.0.1",
        "--kill",
        "--allow-kill",
        "--yes",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(65), "{stderr}");
    assert!(stderr.contains("could not be read"), "{stderr}");
    assert!(!r.kill_log.exists(), "states were removed");
    assert_eq!(
        r.invocations().len(),
        3,
        "only the poll ran (rules, states, -vsi)"
    );
}

#[test]
fn lint_s_check_commands_quote_hostile_names_for_pasting() {
    let dir = tempfile::tempdir().unwrap();
    let rules = dir.path().join("rules.txt");
    fs::write(
        &rules,
        "@1 pass out on em1 proto tcp from any to <w;$(touch${IFS}PWN)> port = 80 flags S/SA\n\
         @2 anchor \"a';x\" all {\n\
         @0 pass out on em1 proto tcp from any to <t*> port = 80\n\
         }\n",
    )
    .unwrap();
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .args([
            "lint",
            "--from",
            rules.to_str().unwrap(),
            "-s",
            "10.0.0.1",
            "-p",
            "80",
        ])
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    for want in [
        "pfctl -t 'w;$(touch${IFS}PWN)' -T show",
        "pfctl -a 'a'\\'';x' -t 't*' -T show",
    ] {
        assert!(text.contains(want), "{want} not in:\n{text}");
    }
}
