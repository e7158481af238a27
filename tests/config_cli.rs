//! The configuration file end to end: a profile stands for its options, the
//! command line wins over the file, a bad file is exit 78 with line and
//! column, and `pfblame config --print` shows what is in force.

mod cli_support;

use std::fs;
use std::path::Path;
use std::process::Output;

use cli_support::{json, pfblame_at_home, run, stderr, stdout, write_config};

const SCENARIO: &str = "fixtures/scenarios/dual-prefix";

/// `report --from` the scenario with `args`, in `home`.
fn report(home: &Path, args: &[&str]) -> Output {
    let mut all = vec!["report", "--from", SCENARIO];
    all.extend_from_slice(args);
    run(&mut pfblame_at_home(home), &all)
}

/// With `config` and its profile `profile`: `report --from` the scenario.
fn profiled(home: &Path, config: &str, profile: &str, args: &[&str]) -> Output {
    let mut all = vec![
        "--config", config, "-P", profile, "report", "--from", SCENARIO,
    ];
    all.extend_from_slice(args);
    run(&mut pfblame_at_home(home), &all)
}

const WEB: &str = r#"
# defaults for every command; pfctl and ssh give way to --from
allow = ["3:1"]
pfctl = "doas pfctl"
ssh = "fw"

[profiles.web]
server = ["2001:db8:bbbb:1::10"]
port = [443]

[profiles.ssh]
server = "2001:db8:bbbb:1::10"
port = 22
allow = ["19"]
"#;

#[test]
fn a_profile_gives_the_same_report_as_its_options() {
    let home = tempfile::tempdir().expect("temp dir");
    let config = write_config(home.path(), WEB);
    for format in ["text", "json"] {
        let explicit = report(
            home.path(),
            &[
                "-s",
                "2001:db8:bbbb:1::10",
                "-p",
                "443",
                "--allow",
                "3:1",
                "--format",
                format,
            ],
        );
        let profiled = profiled(home.path(), &config, "web", &["--format", format]);
        assert_eq!(explicit.status.code(), Some(1), "{explicit:?}");
        assert_eq!(
            profiled.status.code(),
            explicit.status.code(),
            "{profiled:?}"
        );
        assert!(!explicit.stdout.is_empty());
        assert_eq!(stdout(&profiled), stdout(&explicit), "{format}");
    }
}

#[test]
fn the_profile_can_follow_the_subcommand_and_come_from_the_environment() {
    let home = tempfile::tempdir().expect("temp dir");
    let config = write_config(home.path(), WEB);
    let explicit = report(
        home.path(),
        &["-s", "2001:db8:bbbb:1::10", "-p", "22", "--allow", "19"],
    );
    let after = run(
        pfblame_at_home(home.path()).env("PFBLAME_CONFIG", &config),
        &["report", "--from", SCENARIO, "--profile", "ssh"],
    );
    assert_eq!(after.status.code(), explicit.status.code(), "{after:?}");
    assert_eq!(after.stdout, explicit.stdout);
}

#[test]
fn the_command_line_wins_over_the_file() {
    let home = tempfile::tempdir().expect("temp dir");
    let config = write_config(home.path(), WEB);
    // -p 22 replaces the profile's 443 (lists are replaced, not joined).
    let explicit = report(
        home.path(),
        &[
            "-s",
            "2001:db8:bbbb:1::10",
            "-p",
            "22",
            "--allow",
            "3:1",
            "--format",
            "json",
        ],
    );
    let overridden = profiled(
        home.path(),
        &config,
        "web",
        &["-p", "22", "--format", "json"],
    );
    assert_eq!(overridden.stdout, explicit.stdout);
    assert_eq!(json(&overridden)["ports"], serde_json::json!([22]));
}

#[test]
fn the_default_location_is_read() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join(".config/pfblame");
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(dir.join("config.toml"), WEB).expect("write");
    let out = run(
        &mut pfblame_at_home(home.path()),
        &[
            "-P", "web", "report", "--from", SCENARIO, "--format", "json",
        ],
    );
    let json = json(&out);
    assert_eq!(json["servers"], serde_json::json!(["2001:db8:bbbb:1::10"]));
    assert_eq!(json["ports"], serde_json::json!([443]));
}

/// `--config FILE report --from` the scenario.
fn with_config(home: &Path, config: &str) -> Output {
    run(
        &mut pfblame_at_home(home),
        &["--config", config, "report", "--from", SCENARIO],
    )
}

#[test]
fn a_bad_file_is_exit_78_with_line_and_column() {
    let home = tempfile::tempdir().expect("temp dir");
    for (text, at) in [
        (
            "[profiles.web]\nserver = [\"2001:db8::10\"\nport = [443]\n",
            ":3:",
        ),
        ("allow = [\"3:1\"]\nsever = \"2001:db8::10\"\n", ":2:1:"),
        ("[profiles.web]\nport = [\"https\"]\n", ":2:"),
    ] {
        let config = write_config(home.path(), text);
        let out = with_config(home.path(), &config);
        let stderr = stderr(&out);
        assert_eq!(out.status.code(), Some(78), "{text}: {stderr}");
        assert!(
            stderr.contains(&format!("{config}{at}")),
            "{text}: {stderr}"
        );
        assert!(out.stdout.is_empty());
    }
}

#[test]
fn a_bad_value_is_refused_like_the_option_would_be() {
    let home = tempfile::tempdir().expect("temp dir");
    let config = write_config(home.path(), "server = [\"not an address\"]\n");
    let out = with_config(home.path(), &config);
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert!(stderr(&out).contains("not an address"), "{out:?}");
}

#[test]
fn unknown_profile_or_missing_file_is_an_error() {
    let home = tempfile::tempdir().expect("temp dir");
    let config = write_config(home.path(), WEB);
    let out = profiled(home.path(), &config, "mail", &[]);
    assert_eq!(out.status.code(), Some(78));
    assert!(stderr(&out).contains("web, ssh") || stderr(&out).contains("ssh, web"));
    let missing = home.path().join("nope.toml").display().to_string();
    let out = with_config(home.path(), &missing);
    assert_eq!(out.status.code(), Some(66), "{out:?}");
    let out = run(
        &mut pfblame_at_home(home.path()),
        &["-P", "web", "report", "--from", SCENARIO],
    );
    assert_eq!(
        out.status.code(),
        Some(78),
        "a profile without any file: {out:?}"
    );
}

#[test]
fn config_print_shows_the_file_the_profile_and_the_settings() {
    let home = tempfile::tempdir().expect("temp dir");
    let config = write_config(home.path(), WEB);
    let out = run(
        &mut pfblame_at_home(home.path()),
        &["--config", &config, "-P", "web", "config", "--print"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = stdout(&out);
    assert!(text.contains(&format!("# file: {config}")), "{text}");
    assert!(text.contains("# profile: web"), "{text}");
    let settings: toml::Table = toml::from_str(&text).expect("the settings are TOML");
    assert_eq!(
        settings["port"],
        toml::Value::Array(vec![toml::Value::Integer(443)])
    );
    assert_eq!(
        settings["allow"],
        toml::Value::Array(vec![toml::Value::String("3:1".into())])
    );
    let none = run(&mut pfblame_at_home(home.path()), &["config", "--print"]);
    assert!(stdout(&none).contains("# file: none"), "{none:?}");
}
