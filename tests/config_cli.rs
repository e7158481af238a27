//! The configuration file end to end: a profile stands for its options, the
//! command line wins over the file, a bad file is exit 78 with line and
//! column, and `pfblame config --print` shows what is in force.

use std::fs;
use std::path::Path;
use std::process::Output;

use assert_cmd::Command;

const SCENARIO: &str = "fixtures/scenarios/dual-prefix";

/// pfblame with no configuration of the machine's own: HOME and
/// XDG_CONFIG_HOME point at an empty directory and PFBLAME_CONFIG is unset.
fn pfblame(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("pfblame").expect("the binary is built");
    cmd.current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("HOME", home)
        .env("XDG_CONFIG_HOME", home.join(".config"))
        .env_remove("PFBLAME_CONFIG")
        .env("NO_COLOR", "1");
    cmd
}

fn run(cmd: &mut Command, args: &[&str]) -> Output {
    cmd.args(args).output().expect("pfblame runs")
}

fn write_config(dir: &Path, text: &str) -> String {
    let path = dir.join("pfblame.toml");
    fs::write(&path, text).expect("write the configuration");
    path.display().to_string()
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
        let explicit = run(
            &mut pfblame(home.path()),
            &[
                "report",
                "--from",
                SCENARIO,
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
        let profiled = run(
            &mut pfblame(home.path()),
            &[
                "--config", &config, "-P", "web", "report", "--from", SCENARIO, "--format", format,
            ],
        );
        assert_eq!(explicit.status.code(), Some(1), "{explicit:?}");
        assert_eq!(
            profiled.status.code(),
            explicit.status.code(),
            "{profiled:?}"
        );
        assert!(!explicit.stdout.is_empty());
        assert_eq!(
            String::from_utf8_lossy(&profiled.stdout),
            String::from_utf8_lossy(&explicit.stdout),
            "{format}"
        );
    }
}

#[test]
fn the_profile_can_follow_the_subcommand_and_come_from_the_environment() {
    let home = tempfile::tempdir().expect("temp dir");
    let config = write_config(home.path(), WEB);
    let explicit = run(
        &mut pfblame(home.path()),
        &[
            "report",
            "--from",
            SCENARIO,
            "-s",
            "2001:db8:bbbb:1::10",
            "-p",
            "22",
            "--allow",
            "19",
        ],
    );
    let after = run(
        pfblame(home.path()).env("PFBLAME_CONFIG", &config),
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
    let explicit = run(
        &mut pfblame(home.path()),
        &[
            "report",
            "--from",
            SCENARIO,
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
    let overridden = run(
        &mut pfblame(home.path()),
        &[
            "--config", &config, "-P", "web", "report", "--from", SCENARIO, "-p", "22", "--format",
            "json",
        ],
    );
    assert_eq!(overridden.stdout, explicit.stdout);
    let json: serde_json::Value = serde_json::from_slice(&overridden.stdout).expect("JSON");
    assert_eq!(json["ports"], serde_json::json!([22]));
}

#[test]
fn the_default_location_is_read() {
    let home = tempfile::tempdir().expect("temp dir");
    let dir = home.path().join(".config/pfblame");
    fs::create_dir_all(&dir).expect("mkdir");
    fs::write(dir.join("config.toml"), WEB).expect("write");
    let out = run(
        &mut pfblame(home.path()),
        &[
            "-P", "web", "report", "--from", SCENARIO, "--format", "json",
        ],
    );
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(json["servers"], serde_json::json!(["2001:db8:bbbb:1::10"]));
    assert_eq!(json["ports"], serde_json::json!([443]));
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
        let out = run(
            &mut pfblame(home.path()),
            &["--config", &config, "report", "--from", SCENARIO],
        );
        let stderr = String::from_utf8_lossy(&out.stderr);
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
    let out = run(
        &mut pfblame(home.path()),
        &["--config", &config, "report", "--from", SCENARIO],
    );
    assert_ne!(out.status.code(), Some(0), "{out:?}");
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("not an address"),
        "{out:?}"
    );
}

#[test]
fn unknown_profile_or_missing_file_is_an_error() {
    let home = tempfile::tempdir().expect("temp dir");
    let config = write_config(home.path(), WEB);
    let out = run(
        &mut pfblame(home.path()),
        &[
            "--config", &config, "-P", "mail", "report", "--from", SCENARIO,
        ],
    );
    assert_eq!(out.status.code(), Some(78));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("web, ssh")
            || String::from_utf8_lossy(&out.stderr).contains("ssh, web")
    );
    let missing = home.path().join("nope.toml").display().to_string();
    let out = run(
        &mut pfblame(home.path()),
        &["--config", &missing, "report", "--from", SCENARIO],
    );
    assert_eq!(out.status.code(), Some(66), "{out:?}");
    let out = run(
        &mut pfblame(home.path()),
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
        &mut pfblame(home.path()),
        &["--config", &config, "-P", "web", "config", "--print"],
    );
    assert_eq!(out.status.code(), Some(0), "{out:?}");
    let text = String::from_utf8_lossy(&out.stdout);
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
    let none = run(&mut pfblame(home.path()), &["config", "--print"]);
    assert!(
        String::from_utf8_lossy(&none.stdout).contains("# file: none"),
        "{none:?}"
    );
}
