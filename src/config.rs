//! The configuration file: default servers, ports, allowed rules and pfctl
//! settings, and named profiles, so that `pfblame -P web` stands for a set of
//! options.
//!
//! ```toml
//! server = ["2001:db8::10"]
//! pfctl = "doas pfctl"
//!
//! [profiles.web]
//! server = ["2001:db8:bbbb:1::10"]
//! port = [443]
//! allow = ["19"]
//! ```
//!
//! Keys are the long option names. The file is merged into the command
//! line *before* clap parses it: every setting the command line did not
//! give (and that does not conflict with an option it gave) is appended as
//! `--key=value`, so the command line always wins, each command takes only
//! the keys it has options for, and every value is checked by the same
//! parser as a typed option. Reading the file and the environment is kept
//! apart from the pure parse and merge below.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::parser::ValueSource;
use serde::{Deserialize, Serialize};

use crate::exit::{Exit, Failure};

/// The keys of the file, which are also the long option names.
pub(crate) const KEYS: [&str; 13] = [
    "server",
    "port",
    "allow",
    "ssh",
    "host",
    "ssh-opt",
    "pfctl",
    "interval",
    "timeout",
    "host-timeout",
    "strategy",
    "color",
    "carp",
];

/// One value or a list (`server = "2001:db8::10"` or `server = ["…", "…"]`).
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(T),
    Many(Vec<T>),
}

impl<T: Clone> OneOrMany<T> {
    fn to_vec(&self) -> Vec<T> {
        match self {
            OneOrMany::One(v) => vec![v.clone()],
            OneOrMany::Many(v) => v.clone(),
        }
    }
}

/// A number of seconds, written as an integer or a float.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize, Serialize)]
#[serde(untagged)]
pub enum Number {
    Int(i64),
    Float(f64),
}

impl Number {
    fn text(self) -> String {
        match self {
            Number::Int(i) => i.to_string(),
            Number::Float(f) => f.to_string(),
        }
    }
}

/// The settings of the file's top level or of one profile.
#[derive(Debug, Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<OneOrMany<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub port: Option<OneOrMany<u16>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allow: Option<OneOrMany<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ssh: Option<OneOrMany<String>>,
    /// Fleet hosts reached by a command, `NAME=COMMAND` (issue #17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<OneOrMany<String>>,
    #[serde(default, rename = "ssh-opt", skip_serializing_if = "Option::is_none")]
    pub ssh_opt: Option<OneOrMany<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pfctl: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<Number>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timeout: Option<Number>,
    /// A fleet host's own timeout, `NAME=SECS`.
    #[serde(
        default,
        rename = "host-timeout",
        skip_serializing_if = "Option::is_none"
    )]
    pub host_timeout: Option<OneOrMany<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub color: Option<String>,
    /// `carp = true`: `--carp`, the CARP status from ifconfig (issue #17).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub carp: Option<bool>,
    /// `[profiles.NAME]` (top level only).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub profiles: BTreeMap<String, Settings>,
}

impl Settings {
    /// `(key, values)` for every key that is set, in [`KEYS`] order.
    pub fn pairs(&self) -> Vec<(&'static str, Vec<String>)> {
        let strings = |v: &Option<OneOrMany<String>>| v.as_ref().map(OneOrMany::to_vec);
        let one = |v: &Option<String>| v.clone().map(|v| vec![v]);
        let seconds = |v: &Option<Number>| v.map(|n| vec![n.text()]);
        let values = [
            strings(&self.server),
            self.port
                .as_ref()
                .map(|p| p.to_vec().iter().map(u16::to_string).collect()),
            strings(&self.allow),
            strings(&self.ssh),
            strings(&self.host),
            strings(&self.ssh_opt),
            one(&self.pfctl),
            seconds(&self.interval),
            seconds(&self.timeout),
            strings(&self.host_timeout),
            one(&self.strategy),
            one(&self.color),
            self.carp.map(|on| vec![on.to_string()]),
        ];
        KEYS.iter()
            .zip(values)
            .filter_map(|(k, v)| v.map(|v| (*k, v)))
            .collect()
    }

    /// The profile's settings over these (a profile's key replaces the
    /// top-level one; lists are not concatenated).
    fn overlaid_by(&self, p: &Settings) -> Settings {
        Settings {
            server: p.server.clone().or_else(|| self.server.clone()),
            port: p.port.clone().or_else(|| self.port.clone()),
            allow: p.allow.clone().or_else(|| self.allow.clone()),
            ssh: p.ssh.clone().or_else(|| self.ssh.clone()),
            host: p.host.clone().or_else(|| self.host.clone()),
            ssh_opt: p.ssh_opt.clone().or_else(|| self.ssh_opt.clone()),
            pfctl: p.pfctl.clone().or_else(|| self.pfctl.clone()),
            interval: p.interval.or(self.interval),
            timeout: p.timeout.or(self.timeout),
            host_timeout: p.host_timeout.clone().or_else(|| self.host_timeout.clone()),
            strategy: p.strategy.clone().or_else(|| self.strategy.clone()),
            color: p.color.clone().or_else(|| self.color.clone()),
            carp: p.carp.or(self.carp),
            profiles: BTreeMap::new(),
        }
    }
}

/// Parses a configuration file. Errors say where: `FILE:LINE:COLUMN: …`.
pub fn parse(text: &str, name: &str) -> Result<Settings, String> {
    let settings: Settings = toml::from_str(text).map_err(|e| {
        let at = e
            .span()
            .map(|s| line_column(text, s.start))
            .map_or_else(String::new, |(l, c)| format!(":{l}:{c}"));
        format!("{name}{at}: {}", e.message())
    })?;
    if let Some((profile, _)) = settings
        .profiles
        .iter()
        .find(|(_, p)| !p.profiles.is_empty())
    {
        return Err(format!(
            "{name}: profile `{profile}` has its own profiles; profiles do not nest"
        ));
    }
    Ok(settings)
}

/// 1-based line and column (in characters) of a byte offset.
fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let before = text.get(..offset.min(text.len())).unwrap_or(text);
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

/// The settings in force: the top level, with the profile's over it.
pub(crate) fn effective(
    file: &Settings,
    profile: Option<&str>,
    name: &str,
) -> Result<Settings, String> {
    let Some(wanted) = profile else {
        return Ok(file.overlaid_by(&Settings::default()));
    };
    match file.profiles.get(wanted) {
        Some(p) => Ok(file.overlaid_by(p)),
        None => {
            let known: Vec<&str> = file.profiles.keys().map(String::as_str).collect();
            Err(format!(
                "{name}: no profile `{wanted}` (profiles: {})",
                if known.is_empty() {
                    "none".to_string()
                } else {
                    known.join(", ")
                }
            ))
        }
    }
}

/// `argv` with the settings that the command line did not give appended
/// as `--key=value`, for the subcommand it names (or the default command).
/// A setting is left out when the command has no such option, when the
/// command line gave it, or when an option the command line gave conflicts
/// with it (`--from` and `--ssh`). An `argv` clap cannot parse is returned
/// unchanged, so that its error is the usual one.
pub(crate) fn merge_args(
    argv: &[OsString],
    cmd: &clap::Command,
    settings: &Settings,
) -> Vec<OsString> {
    let mut cmd = cmd.clone();
    cmd.build();
    let Ok(matches) = cmd.clone().try_get_matches_from(argv) else {
        return argv.to_vec();
    };
    let (active, active_matches) = match matches.subcommand() {
        Some((name, sub)) => match cmd.find_subcommand(name) {
            Some(c) => (c, sub),
            None => return argv.to_vec(),
        },
        None => (&cmd, &matches),
    };
    let given = |id: &str| active_matches.value_source(id) == Some(ValueSource::CommandLine);
    let mut added: Vec<OsString> = Vec::new();
    for (key, values) in settings.pairs() {
        let Some(arg) = active.get_arguments().find(|a| a.get_long() == Some(key)) else {
            continue;
        };
        let id = arg.get_id().as_str();
        let conflicting = active
            .get_arguments()
            .filter(|other| given(other.get_id().as_str()))
            .any(|other| {
                active
                    .get_arg_conflicts_with(other)
                    .iter()
                    .any(|c| c.get_id() == arg.get_id())
            });
        if given(id) || conflicting {
            continue;
        }
        // A flag (`carp = true`) is its bare option; `false` adds nothing.
        if !arg.get_action().takes_values() {
            if values.iter().any(|v| v == "true") {
                added.push(OsString::from(format!("--{key}")));
            }
            continue;
        }
        added.extend(
            values
                .iter()
                .map(|v| OsString::from(format!("--{key}={v}"))),
        );
    }
    // Before a `--`, which would make them positional.
    let at = argv.iter().position(|a| a == "--").unwrap_or(argv.len());
    let mut out = argv[..at].to_vec();
    out.extend(added);
    out.extend_from_slice(&argv[at..]);
    out
}

/// Where the configuration came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// `--config FILE` or `PFBLAME_CONFIG`: must exist.
    Named(PathBuf),
    /// A default location that exists.
    Default(PathBuf),
}

impl Origin {
    pub fn path(&self) -> &Path {
        match self {
            Origin::Named(p) | Origin::Default(p) => p,
        }
    }
}

/// The file to read: `--config`, then `$PFBLAME_CONFIG`, then
/// `$XDG_CONFIG_HOME/pfblame/config.toml` (or `~/.config/…`), then
/// `/etc/pfblame.toml`. `env` looks up a variable, `exists` a path.
pub(crate) fn locate(
    explicit: Option<&Path>,
    env: &dyn Fn(&str) -> Option<OsString>,
    exists: &dyn Fn(&Path) -> bool,
) -> Option<Origin> {
    if let Some(p) = explicit {
        return Some(Origin::Named(p.to_path_buf()));
    }
    if let Some(p) = env("PFBLAME_CONFIG").filter(|v| !v.is_empty()) {
        return Some(Origin::Named(PathBuf::from(p)));
    }
    let user_dir = env("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| {
            env("HOME")
                .filter(|v| !v.is_empty())
                .map(|h| Path::new(&h).join(".config"))
        });
    let candidates = user_dir
        .map(|d| d.join("pfblame").join("config.toml"))
        .into_iter()
        .chain(std::iter::once(PathBuf::from("/etc/pfblame.toml")));
    candidates
        .into_iter()
        .find(|p| exists(p))
        .map(Origin::Default)
}

/// What [`apply`] found, for `pfblame config --print`.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    pub origin: Option<Origin>,
    pub profile: Option<String>,
    pub settings: Settings,
    /// The profiles the file defines.
    pub profiles: Vec<String>,
}

impl Loaded {
    /// The effective settings as TOML, with where they came from.
    pub fn describe(&self) -> Result<String, toml::ser::Error> {
        let mut out = String::new();
        match &self.origin {
            Some(o) => {
                let _ = writeln!(out, "# file: {}", o.path().display());
            }
            None => out.push_str("# file: none (no configuration file found)\n"),
        }
        if let Some(p) = &self.profile {
            let _ = writeln!(out, "# profile: {p}");
        }
        if !self.profiles.is_empty() {
            let _ = writeln!(out, "# profiles: {}", self.profiles.join(", "));
        }
        out.push_str("# options given on the command line win over these\n");
        out.push_str(&toml::to_string(&self.settings)?);
        Ok(out)
    }
}

/// Reads the configuration the command line names (or the default one)
/// and merges it into `argv`. Runs before clap's real parse; an `argv` it
/// cannot read is handed on unchanged.
pub fn apply(argv: Vec<OsString>, cmd: &clap::Command) -> Result<(Vec<OsString>, Loaded), Failure> {
    let Ok(matches) = cmd.clone().try_get_matches_from(&argv) else {
        return Ok((argv, Loaded::default()));
    };
    let explicit = global::<PathBuf>(&matches, "config");
    let profile = global::<String>(&matches, "profile");
    let env = |k: &str| std::env::var_os(k);
    let Some(origin) = locate(explicit.as_deref(), &env, &|p| p.is_file()) else {
        if let Some(p) = profile {
            return Err(config_error(format!(
                "--profile {p}: no configuration file (see `pfblame config --print`)"
            )));
        }
        return Ok((argv, Loaded::default()));
    };
    let name = origin.path().display().to_string();
    let text = std::fs::read_to_string(origin.path()).map_err(|e| {
        // Missing: 66; unreadable: 77; other I/O: 74 (as for any input).
        Failure::new(
            Exit::for_read_error(&e),
            format!("cannot read configuration {name}: {e}"),
        )
    })?;
    let file = parse(&text, &name).map_err(config_error)?;
    let settings = effective(&file, profile.as_deref(), &name).map_err(config_error)?;
    let merged = merge_args(&argv, cmd, &settings);
    let loaded = Loaded {
        origin: Some(origin),
        profile,
        profiles: file.profiles.keys().cloned().collect(),
        settings,
    };
    Ok((merged, loaded))
}

fn config_error(message: String) -> Failure {
    Failure::new(Exit::Config, message)
}

/// A global option's value, wherever on the command line it was given.
fn global<T: Clone + Send + Sync + 'static>(m: &clap::ArgMatches, id: &str) -> Option<T> {
    let here = m.try_get_one::<T>(id).ok().flatten().cloned();
    here.or_else(|| m.subcommand().and_then(|(_, sub)| global::<T>(sub, id)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, ArgAction, Command};

    fn cmd() -> Command {
        let shared = |c: Command| {
            c.arg(
                Arg::new("servers")
                    .short('s')
                    .long("server")
                    .action(ArgAction::Append),
            )
            .arg(
                Arg::new("ports")
                    .short('p')
                    .long("port")
                    .action(ArgAction::Append),
            )
            .arg(Arg::new("from").long("from").conflicts_with("ssh"))
            .arg(Arg::new("ssh").long("ssh").action(ArgAction::Append))
            .arg(Arg::new("carp").long("carp").action(ArgAction::SetTrue))
            .arg(
                Arg::new("interval")
                    .short('i')
                    .long("interval")
                    .default_value("2"),
            )
        };
        shared(Command::new("pfblame"))
            .subcommand(shared(Command::new("report")))
            .subcommand(Command::new("parse").arg(Arg::new("file")))
    }

    fn args(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn strings(v: &[OsString]) -> Vec<String> {
        v.iter().map(|s| s.to_string_lossy().into_owned()).collect()
    }

    fn web() -> Settings {
        parse(
            "server = \"2001:db8::10\"\ninterval = 5\n[profiles.web]\nserver = [\"2001:db8:bbbb:1::10\"]\nport = [443]\nssh = \"fw\"\n",
            "c.toml",
        )
        .expect("valid")
    }

    #[test]
    fn a_profile_replaces_top_level_keys_and_keeps_the_others() {
        let s = effective(&web(), Some("web"), "c.toml").expect("profile exists");
        assert_eq!(
            s.server,
            Some(OneOrMany::Many(vec!["2001:db8:bbbb:1::10".into()]))
        );
        assert_eq!(s.interval, Some(Number::Int(5)));
        assert_eq!(s.port, Some(OneOrMany::Many(vec![443])));
        let none = effective(&web(), None, "c.toml").expect("top level");
        assert_eq!(none.port, None);
        assert!(none.profiles.is_empty());
    }

    #[test]
    fn an_unknown_profile_names_the_known_ones() {
        let e = effective(&web(), Some("mail"), "c.toml").expect_err("no such profile");
        assert!(e.contains("`mail`") && e.contains("web"), "{e}");
    }

    #[test]
    fn settings_go_after_the_subcommand_and_the_command_line_wins() {
        let s = effective(&web(), Some("web"), "c.toml").expect("ok");
        let out = merge_args(
            &args(&["pfblame", "report", "--from", "x", "-i", "1"]),
            &cmd(),
            &s,
        );
        // --server and --port come from the profile; --interval was given;
        // --ssh conflicts with the --from that was given.
        assert_eq!(
            strings(&out),
            [
                "pfblame",
                "report",
                "--from",
                "x",
                "-i",
                "1",
                "--server=2001:db8:bbbb:1::10",
                "--port=443"
            ]
        );
    }

    #[test]
    fn carp_true_is_the_bare_flag_and_false_or_the_command_line_adds_nothing() {
        let on = parse("carp = true\n", "c.toml").expect("a flag");
        let out = merge_args(&args(&["pfblame", "report", "-s", "a"]), &cmd(), &on);
        assert_eq!(strings(&out), ["pfblame", "report", "-s", "a", "--carp"]);
        let given = merge_args(&args(&["pfblame", "report", "--carp"]), &cmd(), &on);
        assert_eq!(strings(&given), ["pfblame", "report", "--carp"]);
        let off = parse("carp = false\n", "c.toml").expect("a flag");
        let out = merge_args(&args(&["pfblame", "report"]), &cmd(), &off);
        assert_eq!(strings(&out), ["pfblame", "report"]);
        assert!(parse("carp = \"yes\"\n", "c.toml").is_err());
    }

    #[test]
    fn the_default_command_gets_them_too_and_commands_without_the_option_do_not() {
        let s = effective(&web(), None, "c.toml").expect("ok");
        let watch = merge_args(&args(&["pfblame", "-p", "22"]), &cmd(), &s);
        assert_eq!(
            strings(&watch),
            [
                "pfblame",
                "-p",
                "22",
                "--server=2001:db8::10",
                "--interval=5"
            ]
        );
        let parse_cmd = merge_args(&args(&["pfblame", "parse", "f"]), &cmd(), &s);
        assert_eq!(strings(&parse_cmd), ["pfblame", "parse", "f"]);
    }

    #[test]
    fn settings_go_before_a_double_dash_and_bad_argv_is_left_alone() {
        let s = effective(&web(), None, "c.toml").expect("ok");
        let out = merge_args(&args(&["pfblame", "parse", "--", "-"]), &cmd(), &s);
        assert_eq!(strings(&out), ["pfblame", "parse", "--", "-"]);
        let bad = args(&["pfblame", "--no-such-option"]);
        assert_eq!(merge_args(&bad, &cmd(), &s), bad);
    }

    #[test]
    fn errors_give_line_and_column() {
        let e = parse("server = [\"a\"]\nport = [443\n", "c.toml").expect_err("unclosed");
        assert!(e.starts_with("c.toml:2:"), "{e}");
        let e = parse("sever = \"a\"\n", "c.toml").expect_err("unknown key");
        assert!(e.starts_with("c.toml:1:1:") && e.contains("sever"), "{e}");
        let e = parse("port = [99999]\n", "c.toml").expect_err("not a port");
        assert!(e.starts_with("c.toml:1:"), "{e}");
        let e = parse("[profiles.a.profiles.b]\nport = 1\n", "c.toml").expect_err("nested");
        assert!(e.contains("do not nest"), "{e}");
    }

    #[test]
    fn every_key_is_an_option_name_and_pairs_keep_key_order() {
        let all = parse(
            "server=\"a\"\nport=1\nallow=\"3:1\"\nssh=\"fw\"\nhost=[\"fw2=ssh -J jump fw2\"]\nssh-opt=[\"-p2222\"]\npfctl=\"doas pfctl\"\ninterval=1.5\ntimeout=30\nhost-timeout=[\"fw2=60\"]\nstrategy=\"auto\"\ncolor=\"never\"\ncarp=true\n",
            "c.toml",
        )
        .expect("every key");
        let keys: Vec<&str> = all.pairs().iter().map(|(k, _)| *k).collect();
        assert_eq!(keys, KEYS);
        assert_eq!(all.pairs()[7], ("interval", vec!["1.5".to_string()]));
    }

    #[test]
    fn locate_prefers_the_flag_then_the_environment_then_xdg_then_etc() {
        let env = |vars: &'static [(&'static str, &'static str)]| {
            move |k: &str| {
                vars.iter()
                    .find(|(n, _)| *n == k)
                    .map(|(_, v)| OsString::from(v))
            }
        };
        let all = |_: &Path| true;
        let none = |_: &Path| false;
        let flag = locate(
            Some(Path::new("/x.toml")),
            &env(&[("PFBLAME_CONFIG", "/y")]),
            &none,
        );
        assert_eq!(flag, Some(Origin::Named("/x.toml".into())));
        let var = locate(None, &env(&[("PFBLAME_CONFIG", "/y")]), &none);
        assert_eq!(var, Some(Origin::Named("/y".into())));
        let xdg = locate(
            None,
            &env(&[("XDG_CONFIG_HOME", "/cfg"), ("HOME", "/h")]),
            &all,
        );
        assert_eq!(
            xdg,
            Some(Origin::Default("/cfg/pfblame/config.toml".into()))
        );
        let home = locate(None, &env(&[("HOME", "/h")]), &all);
        assert_eq!(
            home,
            Some(Origin::Default("/h/.config/pfblame/config.toml".into()))
        );
        let etc = locate(None, &env(&[("HOME", "/h")]), &|p: &Path| {
            p == Path::new("/etc/pfblame.toml")
        });
        assert_eq!(etc, Some(Origin::Default("/etc/pfblame.toml".into())));
        assert_eq!(locate(None, &env(&[]), &none), None);
    }

    #[test]
    fn line_column_counts_characters() {
        assert_eq!(line_column("ab\ncé=", 6), (2, 3));
        assert_eq!(line_column("x", 0), (1, 1));
    }
}
