//! The router's service-name table: a recording's `services.txt` names the
//! ports its listings print by name, and `record` keeps this host's
//! `/etc/services` (pfctl ran here) so that replays resolve them the same.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod source_support;

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use source_support::{Fake, fake_pfctl};

const RULES: &str = "@0 block return all\n\
  [ Evaluations: 10        Packets: 10        Bytes: 1000        States: 0     ]\n\
@1 pass in on em0 inet proto tcp from any to 192.0.2.10 flags S/SA\n\
  [ Evaluations: 10        Packets: 10        Bytes: 1000        States: 1     ]\n";
/// A state printed with a port name (OpenBSD's `pfctl -P`), as the router's
/// table spells it: `8443` is `myapp` there, and nowhere else.
const STATES: &str = "all tcp 192.0.2.10:myapp <- 203.0.113.5:40000       ESTABLISHED:ESTABLISHED\n   \
age 00:00:40, expires in 00:09:59, 8:7 pkts, 700:9100 bytes, rule 1\n   \
id: 64f1a2b300000a01 creatorid: 4e1f00c2\n";

fn server_states(dir: &Path) -> u64 {
    let out = Command::cargo_bin("pfblame")
        .unwrap()
        .env_remove("PFBLAME_CONFIG")
        .args([
            "report",
            "--format",
            "json",
            "-s",
            "192.0.2.10",
            "-p",
            "8443",
        ])
        .arg("--from")
        .arg(dir)
        .output()
        .unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON report");
    json["server_states"].as_u64().expect("server_states")
}

#[test]
fn a_recorded_table_resolves_the_names_the_listing_prints() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path();
    fs::write(dir.join("rules.txt"), RULES).unwrap();
    fs::write(dir.join("states.txt"), STATES).unwrap();
    // Without the router's table, `myapp` is no port pfblame knows.
    assert_eq!(server_states(dir), 0);
    // Bad lines are skipped; the good ones count.
    fs::write(
        dir.join("services.txt"),
        "# the router's /etc/services\nbroken x/tcp\n\u{1}\nmyapp\t8443/tcp\t\t# ours\n",
    )
    .unwrap();
    assert_eq!(server_states(dir), 1);
}

#[test]
fn record_keeps_this_hosts_table_in_its_first_poll() {
    let Some(system) = pfblame::services::read_table(Path::new(pfblame::services::SYSTEM_TABLE))
    else {
        eprintln!("no /etc/services here: nothing to keep");
        return;
    };
    let fake = Fake::new("openbsd-main");
    let out = tempfile::tempdir().unwrap();
    let polls = out.path().join("polls");
    Command::cargo_bin("pfblame")
        .unwrap()
        .arg("record")
        .arg("--pfctl")
        .arg(fake_pfctl())
        .args(["--count", "2", "-i", "0.1"])
        .arg(&polls)
        .envs(fake.env())
        .assert()
        .success();
    assert_eq!(
        fs::read_to_string(polls.join("0001/services.txt")).unwrap(),
        system
    );
    assert!(!polls.join("0002/services.txt").exists());
    assert_eq!(
        pfblame::source::recorded_services(&polls).as_deref(),
        Some(system.as_str())
    );
}
