//! Fleets (issue #17) end to end: `report` over the bundled CARP-pair
//! recordings (`fixtures/scenarios/carp-pair*`, one directory per host),
//! and over a stand-in ssh (tests/fake-ssh with FAKE_SSH_HOSTS) that maps
//! each host name to a fake pfctl recording: two hosts with synced states,
//! one that hangs (its banner, the others still reported), one with a
//! different ruleset.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod cli_support;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use assert_cmd::Command;
use cli_support::{
    MANIFEST, assert_contains, json, pfblame, row_where, run, scenario, stderr, stdout as text,
};
use serde_json::Value;

const SERVER: &str = "2001:db8::10";
const FAKE_PFCTL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fake-pfctl");

/// `report --from DIR -s SERVER` and `extra`.
fn report_from(dir: &Path, server: &str, extra: &[&str]) -> Output {
    let mut args = vec!["report", "--from", dir.to_str().unwrap(), "-s", server];
    args.extend_from_slice(extra);
    run(&mut pfblame(), &args)
}

/// `report --from DIR -s SERVER --format FORMAT`.
fn replay(dir: &Path, format: &str) -> Output {
    report_from(dir, SERVER, &["--format", format])
}

fn replay_json(dir: &Path) -> Output {
    replay(dir, "json")
}

/// The merged rule whose text holds `text_part`.
fn rule<'a>(report: &'a Value, text_part: &str) -> &'a Value {
    row_where(report, "rules", |r| {
        r["text"].as_str().is_some_and(|t| t.contains(text_part))
    })
}

/// The poll line of host `name`.
fn polled<'a>(report: &'a Value, name: &str) -> &'a Value {
    row_where(report, "hosts", |h| h["name"] == name)
}

/// The poll line of `host`, which failed on its timeout of `secs` s.
fn timed_out<'a>(report: &'a Value, host: &str, secs: &str) -> &'a Value {
    let hung = polled(report, host);
    assert_eq!(hung["ok"], false, "{hung:#}");
    let error = hung["error"].as_str().unwrap_or_default();
    assert_contains(error, &format!("did not finish within {secs} s"));
    hung
}

/// A merged row's numbers on `host`.
fn host_of<'a>(row: &'a Value, host: &str) -> &'a Value {
    row_where(row, "hosts", |h| h["host"] == host)
}

#[test]
fn the_backups_imported_states_are_blamed_on_the_masters_rule() {
    let dir = scenario("carp-pair");
    let out = replay_json(&dir);
    assert_eq!(out.status.code(), Some(1), "the master's @2 bypasses");
    let r = json(&out);
    assert_eq!(r["hosts"].as_array().unwrap().len(), 2);
    assert_eq!(r["hosts"][0]["hostid"], "0a0a0001");
    assert_eq!(r["hosts"][1]["imported_states"], 3);
    // Synced states count once.
    assert_eq!(r["server_states"], 3);
    // The backup shows the anchor rule's state with no rule (pf_state_import
    // never resolves anchor rules); the merge names the master's rule.
    let admin = rule(&r, "port = 22");
    assert_eq!(admin["anchor_path"], "admin");
    assert_eq!(admin["judged_on"], "fw-a");
    assert_eq!(host_of(admin, "fw-b")["without_rule"], 1);
    assert_eq!(host_of(admin, "fw-b")["server_states"], 1);
    // Same text on both boxes: one row, counts per host.
    let stray = rule(&r, "port = 443 flags S/SA");
    assert_eq!(stray["verdict"], "bypass");
    assert_eq!(stray["server_states"], 2);
    assert_eq!(host_of(stray, "fw-a")["number"], 2);
    assert_eq!(host_of(stray, "fw-b")["number"], 2);
    assert_eq!(host_of(stray, "fw-b")["server_states"], 2);
    assert_eq!(r["fleet_findings"].as_array().unwrap().len(), 0);
    // No default-rule row is left over: every state found its rule.
    assert!(
        r["rules"]
            .as_array()
            .unwrap()
            .iter()
            .all(|x| !x["text"].is_null())
    );
    // Each host keeps its own report, where the backup alone cannot tell.
    let backup = &r["hosts"][1]["report"];
    assert!(
        backup["rules"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["number"].is_null())
    );
}

#[test]
fn different_rulesets_are_a_finding_that_says_which_rules_differ() {
    let dir = scenario("carp-pair-mismatch");
    let out = replay_json(&dir);
    assert_eq!(out.status.code(), Some(1));
    let r = json(&out);
    let f = &r["fleet_findings"][0];
    assert_eq!(f["kind"], "ruleset-mismatch");
    let a = f["only_on"]["fw-a"][0].as_str().unwrap();
    let b = f["only_on"]["fw-b"][0].as_str().unwrap();
    assert!(a.starts_with("@2 ") && a.ends_with("flags S/SA"), "{a}");
    assert!(b.starts_with("@2 ") && b.ends_with("no state"), "{b}");
    assert!(f["message"].as_str().unwrap().contains("pf_state_import"));
    // Two states lost rule 2, one the anchor rule.
    assert_eq!(f["imported_without_rule"], 3);
    let stray = rule(&r, "port = 443 flags S/SA");
    let backup = host_of(stray, "fw-b");
    assert_eq!(backup["listed"], false);
    assert_eq!(backup["without_rule"], 2);
    // The text report carries the same finding and the host sections.
    let out = run(
        &mut pfblame(),
        &["report", "--from", dir.to_str().unwrap(), "-s", SERVER],
    );
    let t = text(&out);
    assert!(
        t.contains("ruleset-mismatch: the rulesets of fw-a and fw-b differ"),
        "{t}"
    );
    assert!(
        t.contains("== host fw-a ==") && t.contains("== host fw-b =="),
        "{t}"
    );
}

/// A fleet behind the stand-in ssh: HOSTS/<name>/ holds each host's
/// recording (and `mode` for fake-pfctl's failure modes).
struct Fleet {
    _dir: tempfile::TempDir,
    bin: PathBuf,
    hosts: PathBuf,
}

impl Fleet {
    fn new() -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let bin = dir.path().join("bin");
        let hosts = dir.path().join("hosts");
        fs::create_dir_all(&bin).unwrap();
        std::os::unix::fs::symlink(Path::new(MANIFEST).join("tests/fake-ssh"), bin.join("ssh"))
            .unwrap();
        // The remote side's ifconfig (fake-ssh runs the line with this
        // PATH): the host's carp.txt, a hang, or a failure without one.
        let ifconfig = bin.join("ifconfig");
        fs::write(
            &ifconfig,
            "#!/bin/sh\n\
             [ -e \"$FAKE_PFCTL_DIR/ifconfig-hang\" ] && exec sleep 600\n\
             exec cat \"$FAKE_PFCTL_DIR/carp.txt\"\n",
        )
        .unwrap();
        fs::set_permissions(
            &ifconfig,
            std::os::unix::fs::PermissionsExt::from_mode(0o755),
        )
        .unwrap();
        Fleet {
            _dir: dir,
            bin,
            hosts,
        }
    }

    fn host(&self, name: &str, from: &Path, mode: Option<&str>) {
        let home = self.hosts.join(name);
        fs::create_dir_all(&home).unwrap();
        for f in ["rules.txt", "states.txt", "info.txt"] {
            fs::copy(from.join(f), home.join(f)).unwrap();
        }
        if from.join("carp.txt").is_file() {
            fs::copy(from.join("carp.txt"), home.join("carp.txt")).unwrap();
        }
        if let Some(mode) = mode {
            fs::write(home.join("mode"), mode).unwrap();
        }
    }

    /// `pfblame SUB` with the stand-in ssh first on PATH, pointed at the
    /// hosts' recordings.
    fn command(&self, sub: &str) -> Command {
        let path = format!(
            "{}:{}",
            self.bin.display(),
            std::env::var("PATH").unwrap_or_default()
        );
        let mut cmd = pfblame();
        cmd.arg(sub)
            .env("PATH", path)
            .env("FAKE_SSH_HOSTS", &self.hosts)
            .timeout(Duration::from_secs(60));
        cmd
    }

    /// [`Fleet::command`] with the fake pfctl as the remote command.
    fn with_fake_pfctl(&self, sub: &str) -> Command {
        let mut cmd = self.command(sub);
        cmd.args(["--pfctl", FAKE_PFCTL]);
        cmd
    }

    fn record(&self, dir: &Path, args: &[&str]) -> Output {
        self.with_fake_pfctl("record")
            .args(args)
            .arg(dir)
            .output()
            .unwrap()
    }

    fn report(&self, args: &[&str]) -> (Output, Duration) {
        let start = Instant::now();
        let out = self
            .with_fake_pfctl("report")
            .args(args)
            .args(["-s", SERVER, "--format", "json"])
            .output()
            .unwrap();
        (out, start.elapsed())
    }
}

#[test]
fn a_hanging_host_gets_its_banner_and_the_others_are_still_reported() {
    let fleet = Fleet::new();
    let pair = scenario("carp-pair");
    fleet.host("fw-a", &pair.join("fw-a"), None);
    fleet.host("fw-b", &pair.join("fw-b"), None);
    fleet.host("fw-c", &pair.join("fw-a"), Some("hang"));
    fleet.host("fw-d", &pair.join("fw-a"), Some("hang"));
    let (out, took) = fleet.report(&[
        "--ssh",
        "fw-a",
        "--host",
        "fw-b=ssh -oBatchMode=yes fw-b",
        "--ssh",
        "fw-c",
        "--ssh",
        "fw-d",
        "--timeout",
        "15",
    ]);
    let r = json(&out);
    let names: Vec<&str> = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap())
        .collect();
    // --ssh hosts first, then --host ones.
    assert_eq!(names, ["fw-a", "fw-c", "fw-d", "fw-b"]);
    assert_eq!(polled(&r, "fw-a")["ok"], true, "{:#}", polled(&r, "fw-a"));
    assert_eq!(
        polled(&r, "fw-b")["ok"],
        true,
        "--host NAME=COMMAND: {:#}",
        polled(&r, "fw-b")
    );
    timed_out(&r, "fw-c", "15.0");
    let stderr = stderr(&out);
    assert!(stderr.contains("fw-c: "), "{stderr}");
    // The pair is merged as from the recording, despite fw-c.
    assert_eq!(r["server_states"], 3);
    assert_eq!(host_of(rule(&r, "port = 22"), "fw-b")["without_rule"], 1);
    // A bypass outranks the host that could not be polled.
    assert_eq!(out.status.code(), Some(1));
    // In parallel: the whole report takes less than the hosts' polls one
    // after the other (the two hanging hosts alone are 2 x 15 s).
    let polls: f64 = r["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["poll_seconds"].as_f64().unwrap())
        .sum();
    assert!(polls >= 30.0, "{polls}");
    assert!(
        took.as_secs_f64() < polls,
        "took {took:?}, the polls {polls} s"
    );
}

#[test]
fn a_host_down_without_findings_exits_with_its_failure() {
    let fleet = Fleet::new();
    let pair = scenario("carp-pair");
    fleet.host("fw-a", &pair.join("fw-a"), None);
    fleet.host("fw-c", &pair.join("fw-a"), Some("hang"));
    let (out, _) = fleet.report(&[
        "--ssh",
        "fw-a",
        "--ssh",
        "fw-c",
        "--ssh",
        "fw-nowhere",
        "--timeout",
        "15",
        "--allow",
        "2",
    ]);
    let r = json(&out);
    assert_eq!(polled(&r, "fw-a")["ok"], true, "{:#}", polled(&r, "fw-a"));
    assert_eq!(polled(&r, "fw-nowhere")["ok"], false);
    assert_eq!(out.status.code(), Some(69), "{}", stderr(&out));
}

#[test]
fn a_host_with_another_ruleset_behind_ssh_gives_the_checksum_finding() {
    let fleet = Fleet::new();
    let pair = scenario("carp-pair-mismatch");
    fleet.host("fw-a", &pair.join("fw-a"), None);
    fleet.host("fw-b", &pair.join("fw-b"), None);
    let (out, _) = fleet.report(&["--ssh", "fw-a", "--ssh", "fw-b"]);
    let r = json(&out);
    assert_eq!(r["fleet_findings"][0]["kind"], "ruleset-mismatch");
    assert_eq!(
        r["hosts"][1]["checksum"],
        "0x5555eeee6666ffff77770000888899aa"
    );
}

#[test]
fn host_options_are_checked_before_anything_runs() {
    for bad in [
        vec!["--host", "fw"],
        vec!["--host", "-x=ssh fw"],
        vec!["--ssh", "fw", "--host", "fw=ssh fw"],
        // A --host-timeout names a host of the fleet, once, with seconds
        // like --timeout's; one host has --timeout alone.
        vec!["--ssh", "fw-a", "--ssh", "fw-b", "--host-timeout", "fw-x=3"],
        vec!["--ssh", "fw-a", "--ssh", "fw-b", "--host-timeout", "fw-a"],
        vec!["--ssh", "fw-a", "--ssh", "fw-b", "--host-timeout", "fw-a=0"],
        vec![
            "--ssh",
            "fw-a",
            "--ssh",
            "fw-b",
            "--host-timeout",
            "fw-a=3",
            "--host-timeout",
            "fw-a=4",
        ],
        vec!["--ssh", "fw-a", "--host-timeout", "fw-a=3"],
    ] {
        let mut args = vec!["report", "-s", SERVER];
        args.extend(bad.iter().copied());
        let out = run(&mut pfblame(), &args);
        assert_eq!(out.status.code(), Some(2), "{bad:?}: {}", stderr(&out));
    }
}

#[test]
fn record_writes_one_directory_per_host_that_replays_as_the_fleet() {
    let fleet = Fleet::new();
    let pair = scenario("carp-pair");
    fleet.host("fw-a", &pair.join("fw-a"), None);
    fleet.host("fw-b", &pair.join("fw-b"), None);
    let out_dir = tempfile::tempdir().unwrap();
    let rec = out_dir.path().join("rec");
    let out = fleet.record(
        &rec,
        &[
            "--ssh", "fw-a", "--ssh", "fw-b", "--count", "2", "-i", "0.1",
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    for host in ["fw-a", "fw-b"] {
        for poll in ["0001", "0002"] {
            for f in ["rules.txt", "states.txt", "info.txt", "meta.toml"] {
                assert!(
                    rec.join(host).join(poll).join(f).is_file(),
                    "{host}/{poll}/{f}"
                );
            }
        }
    }
    let replay = replay_json(&rec);
    let r = json(&replay);
    assert_eq!(r["hosts"].as_array().unwrap().len(), 2);
    assert_eq!(host_of(rule(&r, "port = 22"), "fw-b")["without_rule"], 1);
    // One host replays alone too.
    let one = replay_json(&rec.join("fw-b"));
    assert!(json(&one).get("hosts").is_none());
}

#[test]
fn check_judges_every_host_and_critical_wins_over_a_host_down() {
    let dir = scenario("carp-pair");
    let out = run(
        &mut pfblame(),
        &["check", "--from", dir.to_str().unwrap(), "-s", SERVER],
    );
    assert_eq!(out.status.code(), Some(2));
    let line = text(&out);
    assert!(line.starts_with("CRITICAL - fw-a: CRITICAL "), "{line}");
    assert!(
        line.contains("fw-b: CRITICAL") && line.contains("fw-b/bypass=1"),
        "{line}"
    );
    assert_eq!(line.lines().count(), 1);

    let fleet = Fleet::new();
    fleet.host("fw-a", &dir.join("fw-a"), None);
    fleet.host("fw-c", &dir.join("fw-a"), Some("hang"));
    let check = |allow: &[&str]| {
        fleet
            .with_fake_pfctl("check")
            .args([
                "--ssh",
                "fw-a",
                "--ssh",
                "fw-c",
                "--timeout",
                "15",
                "-s",
                SERVER,
            ])
            .args(allow)
            .output()
            .unwrap()
    };
    let out = check(&[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_contains(&text(&out), "fw-c: UNKNOWN the poll failed");
    let out = check(&["--allow", "2"]);
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).starts_with("UNKNOWN - fw-a: OK"),
        "{}",
        text(&out)
    );
}

#[test]
fn the_configuration_file_lists_the_hosts() {
    let fleet = Fleet::new();
    let pair = scenario("carp-pair");
    fleet.host("fw-a", &pair.join("fw-a"), None);
    fleet.host("fw-b", &pair.join("fw-b"), None);
    let conf = fleet.hosts.join("pfblame.toml");
    fs::write(
        &conf,
        format!(
            "ssh = [\"fw-a\"]\nhost = [\"backup=ssh fw-b\"]\npfctl = \"{FAKE_PFCTL}\"\ntimeout = 20\ncarp = true\n"
        ),
    )
    .unwrap();
    let out = fleet
        .command("report")
        .args(["-s", SERVER, "--format", "json"])
        .env("PFBLAME_CONFIG", &conf)
        .output()
        .unwrap();
    let r = json(&out);
    assert_eq!(polled(&r, "fw-a")["ok"], true);
    assert_eq!(
        polled(&r, "backup")["ok"],
        true,
        "{:#}",
        polled(&r, "backup")
    );
    assert_eq!(host_of(rule(&r, "port = 22"), "backup")["without_rule"], 1);
    // `carp = true` is --carp: ifconfig ran beside pfctl on each host.
    assert_eq!(carp_of(&r, "fw-a")["state"], "MASTER");
    assert_eq!(carp_of(&r, "backup")["state"], "BACKUP");
}

#[test]
fn a_host_timeout_bounds_that_host_only_from_the_command_line_or_the_file() {
    let fleet = Fleet::new();
    let pair = scenario("carp-pair");
    fleet.host("fw-a", &pair.join("fw-a"), None);
    fleet.host("fw-c", &pair.join("fw-a"), Some("hang"));
    let conf = fleet.hosts.join("pfblame.toml");
    fs::write(&conf, "host-timeout = [\"fw-c=2\"]\n").unwrap();
    let hosts = ["--ssh", "fw-a", "--ssh", "fw-c", "--timeout", "30"];
    let mut flag = hosts.to_vec();
    flag.extend(["--host-timeout", "fw-c=2"]);
    let (by_flag, _) = fleet.report(&flag);
    let by_file = fleet
        .with_fake_pfctl("report")
        .args(hosts)
        .args(["-s", SERVER, "--format", "json"])
        .env("PFBLAME_CONFIG", &conf)
        .output()
        .unwrap();
    for out in [by_flag, by_file] {
        let r = json(&out);
        assert_eq!(polled(&r, "fw-a")["ok"], true, "{:#}", polled(&r, "fw-a"));
        let hung = timed_out(&r, "fw-c", "2.0");
        // --timeout (30 s) would have held it for 30 s.
        assert!(hung["poll_seconds"].as_f64().unwrap() < 30.0, "{hung:#}");
    }
    // In markdown, the failure is the host's row of the hosts' table.
    let md = fleet
        .with_fake_pfctl("report")
        .args(&flag)
        .args(["-s", SERVER, "--format", "markdown"])
        .output()
        .unwrap();
    let md = text(&md);
    assert_tables_are_even(&md);
    let row = md
        .lines()
        .find(|l| l.starts_with("| `fw-c` |"))
        .unwrap_or_else(|| panic!("no fw-c row: {md}"));
    assert_contains(row, "**failed** after ");
    assert_contains(row, "did not finish within 2.0 s");
}

/// A fleet recording of two hosts, each a copy of the bundled dual-prefix
/// scenario (four polls whose states come and go).
fn two_host_replay() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let from = scenario("dual-prefix");
    for host in ["fw-a", "fw-b"] {
        for poll in ["0001", "0002", "0003", "0004"] {
            let to = dir.path().join(host).join(poll);
            fs::create_dir_all(&to).unwrap();
            for f in fs::read_dir(from.join(poll)).unwrap() {
                let f = f.unwrap();
                fs::copy(f.path(), to.join(f.file_name())).unwrap();
            }
        }
    }
    dir
}

/// `report --from DIR --samples N` for the dual-prefix server, as JSON.
fn sampled(dir: &Path, samples: &str) -> Output {
    report_from(
        dir,
        "2001:db8:bbbb:1::10",
        &["--samples", samples, "--format", "json"],
    )
}

#[test]
fn samples_over_a_fleet_give_each_host_the_rates_of_the_whole_run() {
    let rec = two_host_replay();
    for samples in ["3", "6"] {
        let fleet = sampled(rec.path(), samples);
        let r = json(&fleet);
        for host in ["fw-a", "fw-b"] {
            let alone = sampled(&rec.path().join(host), samples);
            let alone = json(&alone);
            // More than one interval: the run's rates differ from the last
            // interval's (the scenario's states change every poll).
            assert!(alone["samples"].as_u64().unwrap() >= 3, "{alone:#}");
            assert_eq!(
                polled(&r, host)["report"],
                alone,
                "{host} with --samples {samples}: the fleet's report of it is its own report"
            );
        }
    }
    // Past the recording's end, the fleet says so as one host does.
    let out = sampled(rec.path(), "6");
    assert_contains(
        &stderr(&out),
        "the recording has 4 polls: reporting on 4 samples instead of 6",
    );
}

/// Every row of each markdown table in `md` has as many cells as its header.
fn assert_tables_are_even(md: &str) {
    let mut columns = None;
    for line in md.lines() {
        if !line.starts_with('|') {
            columns = None;
            continue;
        }
        let cells = line.replace("\\|", "").matches('|').count();
        let want = *columns.get_or_insert(cells);
        assert_eq!(cells, want, "{line}");
    }
}

#[test]
fn markdown_over_a_fleet_is_markdown() {
    let dir = scenario("carp-pair-mismatch");
    let out = replay(&dir, "markdown");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let md = text(&out);
    assert!(md.starts_with("### pfblame fleet report\n"), "{md}");
    assert!(!md.contains("== host"), "the text layout: {md}");
    assert!(md.contains("\n- **ruleset-mismatch:** "), "{md}");
    for host in ["fw-a", "fw-b"] {
        assert!(md.contains(&format!("\n| `{host}` | ")), "{host} row: {md}");
        assert!(
            md.contains(&format!("\n#### host `{host}`\n")),
            "{host}: {md}"
        );
    }
    assert_tables_are_even(&md);
    // The merged bypass row: its verdict in bold, its counts per host.
    assert!(
        md.lines().any(|l| l.starts_with("| **bypass** |")
            && l.contains("`fw-a` `@2`: 2 states")
            && l.contains("`fw-b` not listed")),
        "{md}"
    );
}

/// The CARP part of host `name`'s entry.
fn carp_of<'a>(report: &'a Value, name: &str) -> &'a Value {
    &polled(report, name)["carp"]
}

/// What OpenBSD's ifconfig prints for a master (more than `carp.txt`
/// keeps: addresses, media, other interfaces).
const OPENBSD_IFCONFIG: &str = "\
lo0: flags=2008049<UP,LOOPBACK,RUNNING,MULTICAST,LRO> mtu 32768
\tinet 127.0.0.1 netmask 0xff000000
em0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500
\tlladdr 52:54:00:12:34:56
\tinet 192.0.2.2 netmask 0xffffff00 broadcast 192.0.2.255
carp0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500
\tlladdr 00:00:5e:00:01:01
\tcarp: MASTER carpdev em0 vhid 1 advbase 1 advskew 0
\tgroups: carp
\tinet 192.0.2.1 netmask 0xffffff00 broadcast 192.0.2.255
";

#[test]
fn carp_status_is_read_beside_pfctl_and_never_fails_a_poll() {
    let fleet = Fleet::new();
    let pair = scenario("carp-pair");
    fleet.host("fw-a", &pair.join("fw-a"), None);
    fs::write(fleet.hosts.join("fw-a/carp.txt"), OPENBSD_IFCONFIG).unwrap();
    fleet.host("fw-b", &pair.join("fw-b"), None);
    // fw-c has no carp.txt: its ifconfig fails. fw-d's hangs.
    fleet.host("fw-c", &pair.join("fw-b"), None);
    fs::remove_file(fleet.hosts.join("fw-c/carp.txt")).unwrap();
    fleet.host("fw-d", &pair.join("fw-b"), None);
    fs::write(fleet.hosts.join("fw-d/ifconfig-hang"), "").unwrap();
    let hosts = [
        "--ssh",
        "fw-a",
        "--ssh",
        "fw-b",
        "--ssh",
        "fw-c",
        "--ssh",
        "fw-d",
        "--timeout",
        "3",
    ];
    let (without, _) = fleet.report(&hosts);
    let plain = json(&without);
    for h in ["fw-a", "fw-b", "fw-c", "fw-d"] {
        assert_eq!(carp_of(&plain, h), &Value::Null, "no --carp: {h}");
    }
    let log = fleet.hosts.join("ssh.log");
    let mut with_carp: Vec<&str> = hosts.to_vec();
    with_carp.push("--carp");
    let out = fleet
        .with_fake_pfctl("report")
        .env("FAKE_SSH_LOG", &log)
        .args(&with_carp)
        .args(["-s", SERVER, "--format", "json"])
        .output()
        .unwrap();
    let r = json(&out);
    assert_eq!(
        carp_of(&r, "fw-a")["state"],
        "MASTER",
        "{:#}",
        polled(&r, "fw-a")
    );
    let vhid = &carp_of(&r, "fw-a")["vhids"][0];
    assert_eq!(
        (&vhid["iface"], &vhid["vhid"], &vhid["carpdev"]),
        (&Value::from("carp0"), &Value::from(1), &Value::from("em0"))
    );
    assert_eq!(carp_of(&r, "fw-b")["state"], "BACKUP");
    // A failed or hanging ifconfig: CARP unknown, the poll still good.
    for h in ["fw-c", "fw-d"] {
        assert_eq!(polled(&r, h)["ok"], true, "{h}: {:#}", polled(&r, h));
        assert_eq!(carp_of(&r, h), &Value::Null, "{h}");
        assert_eq!(
            polled(&r, h)["server_states"],
            polled(&plain, h)["server_states"]
        );
    }
    let warned = r["warnings"].to_string();
    assert_contains(&warned, "fw-c: `ifconfig` failed");
    assert_contains(&warned, "fw-d: `ifconfig` failed");
    assert_contains(&warned, "did not finish within 3.0 s");
    assert_eq!(
        out.status.code(),
        without.status.code(),
        "CARP changes no verdict"
    );
    // Run the way pfctl is: through the same ssh, one quoted word.
    let runs = fs::read_to_string(&log).unwrap();
    for host in ["fw-a", "fw-b", "fw-c", "fw-d"] {
        assert!(
            runs.lines()
                .any(|l| l == format!("[\"{host}\", \"--\", \"ifconfig\"]")),
            "{host}: {runs}"
        );
    }
    // The text report says it on each host's line.
    let (text_out, _) = (
        fleet
            .with_fake_pfctl("report")
            .args(["--ssh", "fw-a", "--ssh", "fw-c", "--carp", "-s", SERVER])
            .output()
            .unwrap(),
        (),
    );
    let shown = text(&text_out);
    assert_contains(&shown, "host fw-a: CARP MASTER (carp0 vhid 1), Hostid");
    assert_contains(&shown, "host fw-c: CARP unknown, Hostid");
    // One host: its report gets the line; without --carp it has none.
    let one = |extra: &[&str]| {
        let out = fleet
            .with_fake_pfctl("report")
            .args(["--ssh", "fw-b", "-s", SERVER])
            .args(extra)
            .output()
            .unwrap();
        text(&out)
    };
    assert_contains(&one(&["--carp"]), "\ncarp:    BACKUP (carp0 vhid 1)\n");
    assert!(!one(&[]).contains("carp:"));
}

#[test]
fn hostile_carp_text_is_neutralised_everywhere_it_is_printed() {
    let dir = tempfile::tempdir().unwrap();
    let pair = scenario("carp-pair");
    for host in ["fw-a", "fw-b"] {
        let home = dir.path().join(host);
        fs::create_dir_all(&home).unwrap();
        for f in ["rules.txt", "states.txt", "info.txt", "meta.toml"] {
            fs::copy(pair.join(host).join(f), home.join(f)).unwrap();
        }
        fs::write(
            home.join("carp.txt"),
            "carp0: flags=8843<UP> mtu 1500\n\
             \tcarp: MASTER carpdev em0\x1b]52;c;AAAA\x07 vhid 1 advbase 1 advskew 0\n\
             carp1: flags=8843<UP> mtu 1500\n\
             \tcarp: BACKUP vhid 2 \x1b[2Jfrob 1\n",
        )
        .unwrap();
    }
    for format in ["text", "markdown", "json", "openmetrics"] {
        let out = replay(dir.path(), format);
        let all = format!("{}{}", text(&out), stderr(&out));
        assert!(
            !all.contains('\x1b') && !all.contains('\x07'),
            "{format}: {all:?}"
        );
    }
    // The bad line is a warning with its place, and the good one counts.
    let r = json(&replay_json(dir.path()));
    let d = &polled(&r, "fw-a")["report"]["diagnostics"][0];
    assert_eq!(
        (&d["line"], &d["column"]),
        (&Value::from(4), &Value::from(22))
    );
    assert_eq!(d["severity"], "warning");
    assert_contains(
        d["message"].as_str().unwrap(),
        "ifconfig: unknown CARP field",
    );
    assert_eq!(carp_of(&r, "fw-a")["state"], "MASTER");
    assert_eq!(
        carp_of(&r, "fw-a")["vhids"][0]["carpdev"],
        "em0\x1b]52;c;AAAA\x07"
    );
}

#[test]
fn record_carp_keeps_the_carp_lines_and_replays_them() {
    let fleet = Fleet::new();
    let pair = scenario("carp-pair");
    fleet.host("fw-a", &pair.join("fw-a"), None);
    fs::write(fleet.hosts.join("fw-a/carp.txt"), OPENBSD_IFCONFIG).unwrap();
    fleet.host("fw-b", &pair.join("fw-b"), None);
    let out_dir = tempfile::tempdir().unwrap();
    let rec = out_dir.path().join("rec");
    let out = fleet.record(&rec, &["--ssh", "fw-a", "--ssh", "fw-b", "--carp"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let kept = fs::read_to_string(rec.join("fw-a/carp.txt")).unwrap();
    assert_contains(
        &kept,
        "\tcarp: MASTER carpdev em0 vhid 1 advbase 1 advskew 0\n",
    );
    assert!(!kept.contains("inet"), "addresses are not kept: {kept}");
    let replay = json(&replay_json(&rec));
    assert_eq!(carp_of(&replay, "fw-a")["state"], "MASTER");
    assert_eq!(carp_of(&replay, "fw-b")["state"], "BACKUP");
    // Without --carp nothing is run nor written.
    let plain = out_dir.path().join("plain");
    let out = fleet.record(&plain, &["--ssh", "fw-a", "--ssh", "fw-b"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!plain.join("fw-a/carp.txt").exists());
}

#[test]
fn the_bundled_pair_shows_its_master_and_its_backup() {
    let dir = scenario("carp-pair");
    let shown = text(&replay(&dir, "text"));
    assert_contains(&shown, "host fw-a: CARP MASTER (carp0 vhid 1), ");
    assert_contains(&shown, "host fw-b: CARP BACKUP (carp0 vhid 1), ");
    let md = text(&replay(&dir, "markdown"));
    assert_contains(&md, "| `fw-b` | BACKUP (carp0 vhid 1) | ");
    assert_contains(&md, "- CARP: MASTER (carp0 vhid 1)\n");
    assert_tables_are_even(&md);
    // The backup's states are pfsync's copies: not blamed on fw-b.
    let r = json(&replay_json(&dir));
    assert_eq!(polled(&r, "fw-b")["imported_states"], 3);
}

#[test]
fn lint_over_a_fleet_reports_each_host_and_exits_for_the_fleet() {
    // The recording: both hosts' rulesets carry the @2 bypass.
    let dir = scenario("carp-pair-mismatch");
    let out = run(
        &mut pfblame(),
        &["lint", "--from", dir.to_str().unwrap(), "-s", SERVER],
    );
    let shown = text(&out);
    assert!(shown.starts_with("host fw-a:\n"), "{shown}");
    assert_contains(&shown, "\nhost fw-b:\n");
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    // Live, through the stand-in ssh, with a host down: each host is
    // linted alone; a finding on one host wins over the host down.
    let fleet = Fleet::new();
    let pair = scenario("carp-pair");
    fleet.host("fw-a", &pair.join("fw-a"), None);
    let lint = |extra: &[&str], format: &str| {
        fleet
            .with_fake_pfctl("lint")
            .args(extra)
            .args(["-s", SERVER, "--format", format])
            .output()
            .unwrap()
    };
    let out = lint(&["--ssh", "fw-a", "--ssh", "fw-nowhere"], "json");
    let r = json(&out);
    assert_eq!(polled(&r, "fw-a")["ok"], true);
    assert_eq!(polled(&r, "fw-a")["exit"], 1);
    assert!(
        polled(&r, "fw-a")["report"]["findings"]
            .as_array()
            .is_some_and(|f| !f.is_empty())
    );
    assert_eq!(polled(&r, "fw-nowhere")["ok"], false);
    assert_eq!(polled(&r, "fw-nowhere")["exit"], 69);
    assert_eq!(out.status.code(), Some(1));
    // Allowed away, the host down is the fleet's status.
    let out = lint(
        &["--ssh", "fw-a", "--ssh", "fw-nowhere", "--allow", "2"],
        "text",
    );
    assert_contains(&text(&out), "host fw-nowhere: LINT FAILED: ");
    assert_eq!(out.status.code(), Some(69), "{}", stderr(&out));
    let md = text(&lint(&["--ssh", "fw-a", "--ssh", "fw-nowhere"], "markdown"));
    assert_contains(&md, "\n#### host `fw-a`\n");
    assert_contains(&md, "\n#### host `fw-nowhere`\n\n**lint failed:** ");
    // One candidate ruleset is for one host.
    let out = lint(
        &["--ssh", "fw-a", "--ssh", "fw-b", "--conf", "/etc/pf.conf"],
        "text",
    );
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
}
