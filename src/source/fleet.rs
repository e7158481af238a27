//! Several firewalls at once (issue #17): which hosts the options name,
//! and one [`Source`] for each.
//!
//! - `--ssh HOST`, repeated: one host each, run like a single `--ssh`
//!   (`ssh [--ssh-opt…] HOST -- LINE`, every remote word quoted).
//! - `--host NAME=COMMAND`: COMMAND is split into words like `--pfctl`
//!   (shell rules, no expansion, never run by a shell here) and is given
//!   the pfctl command line as one last word, quoted with
//!   [`super::quote::join`]: the transport hands it to a shell on the host,
//!   as ssh does (`fw2=ssh -J jump fw2`, `fw3=ssh -p 2222 fw3`).
//! - `--from DIR` where DIR holds one recording per host
//!   (`DIR/HOST/rules.txt`… or `DIR/HOST/0001/`…): the layout `record`
//!   writes for a fleet, detected by [`fleet_recording`].
//!
//! Polling them in parallel, and merging what they hold, are the upper
//! layers' business (`crate::fleet`, `crate::analyze::fleet`).

use std::fs;
use std::path::{Path, PathBuf};

use super::{
    Checked, HostTimeout, LiveSource, META_FILE, Options, Pfctl, RULES_FILE, ReplaySource,
    STATES_FILE, Source, SourceError,
};

/// How one host of a fleet is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transport {
    /// `--ssh HOST`.
    Ssh(String),
    /// `--host NAME=COMMAND`: COMMAND's words.
    Command(Vec<String>),
    /// One host's directory of a fleet recording.
    Recorded(PathBuf),
}

/// One host of a fleet: the name it is shown under, and how it is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostSpec {
    pub name: String,
    pub transport: Transport,
}

fn invalid(detail: impl Into<String>) -> SourceError {
    SourceError::InvalidOption {
        option: "--host".into(),
        detail: detail.into(),
    }
}

/// Splits `NAME=COMMAND` of `--host`; COMMAND split into words like a
/// shell would (no expansion), never run by one.
pub(crate) fn parse_host(text: &str) -> Result<HostSpec, SourceError> {
    let (name, command) = text
        .split_once('=')
        .ok_or_else(|| invalid(format!("`{text}` is not NAME=COMMAND")))?;
    let name = name.trim();
    if !is_host_name(name) {
        return Err(invalid(format!(
            "`{name}` is not a host name (letters, digits, `.`, `-`, `_`; not starting with `-`)"
        )));
    }
    let words = shlex::split(command).ok_or_else(|| {
        invalid(format!(
            "cannot split `{command}` into words (unbalanced quote?)"
        ))
    })?;
    if words.is_empty() {
        return Err(invalid(format!("`{name}` has an empty command")));
    }
    Ok(HostSpec {
        name: name.to_string(),
        transport: Transport::Command(words),
    })
}

/// A name shown in reports, used as a metrics label and as a directory
/// name of a fleet recording: nothing a path or a terminal would read.
pub(crate) fn is_host_name(name: &str) -> bool {
    !name.is_empty()
        && !name.starts_with(['-', '.'])
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_' | b'@' | b':'))
}

/// The hosts the options name, in the order given (`--ssh` first, then
/// `--host`), or the hosts of a fleet recording. `None` when the options
/// name one source the ordinary way (`--from` a recording of one host,
/// local pfctl, a single `--ssh`).
pub fn hosts(o: &Options) -> Result<Option<Vec<HostSpec>>, SourceError> {
    if let Some(path) = &o.from {
        return Ok(fleet_recording(path)?.map(|dirs| {
            dirs.into_iter()
                .map(|(name, dir)| HostSpec {
                    name,
                    transport: Transport::Recorded(dir),
                })
                .collect()
        }));
    }
    let p = &o.pfctl;
    if p.hosts.is_empty() && p.ssh.len() <= 1 {
        // `Pfctl::from_options` refuses `--host-timeout` for one host.
        return Ok(None);
    }
    let mut specs = Vec::new();
    for h in &p.ssh {
        // The name becomes a directory of a fleet recording and a label.
        if !is_host_name(h) {
            return Err(SourceError::InvalidOption {
                option: "--ssh".into(),
                detail: format!(
                    "`{h}` cannot name a host of a fleet (letters, digits, `.`, `-`, `_`, `@`, `:`; not starting with `-` or `.`)"
                ),
            });
        }
        specs.push(HostSpec {
            name: h.clone(),
            transport: Transport::Ssh(h.clone()),
        });
    }
    for text in &p.hosts {
        specs.push(parse_host(text)?);
    }
    let mut seen = std::collections::BTreeSet::new();
    for s in &specs {
        if !seen.insert(s.name.as_str()) {
            return Err(invalid(format!("`{}` is named twice", s.name)));
        }
    }
    check_host_timeouts(&p.host_timeouts, &seen)?;
    Ok(Some(specs))
}

/// Every `--host-timeout` names a host of the fleet, once: a misspelt name
/// would otherwise leave that host on the default timeout, unnoticed.
fn check_host_timeouts(
    timeouts: &[HostTimeout],
    names: &std::collections::BTreeSet<&str>,
) -> Result<(), SourceError> {
    let refuse = |detail: String| SourceError::InvalidOption {
        option: "--host-timeout".into(),
        detail,
    };
    let mut given = std::collections::BTreeSet::new();
    for t in timeouts {
        if !names.contains(t.name.as_str()) {
            let known: Vec<&str> = names.iter().copied().collect();
            return Err(refuse(format!(
                "`{}` is not a host of the fleet (hosts: {})",
                t.name,
                known.join(", ")
            )));
        }
        if !given.insert(t.name.as_str()) {
            return Err(refuse(format!("`{}` is given twice", t.name)));
        }
    }
    Ok(())
}

/// The pfctl options of one live host: `--timeout`, or the host's own
/// `--host-timeout`.
fn options_of_host(name: &str, o: &super::PfctlOptions) -> super::PfctlOptions {
    let timeout = o
        .host_timeouts
        .iter()
        .find(|t| t.name == name)
        .map_or(o.timeout, |t| t.timeout);
    super::PfctlOptions {
        timeout,
        host_timeouts: Vec::new(),
        ..o.clone()
    }
}

/// The pfctl command of a live host (`None` for a recorded one).
pub(crate) fn host_pfctl(spec: &HostSpec, o: &Options) -> Result<Option<Pfctl>, SourceError> {
    let own = options_of_host(&spec.name, &o.pfctl);
    Ok(match &spec.transport {
        Transport::Ssh(host) => {
            let one = super::PfctlOptions {
                ssh: vec![host.clone()],
                hosts: Vec::new(),
                ..own
            };
            Some(Pfctl::from_options(&one)?)
        }
        Transport::Command(words) => Some(Pfctl::through(&own, &spec.name, words.clone())?),
        Transport::Recorded(_) => None,
    })
}

/// Opens one host's source: live pfctl through its transport (reading
/// `pfctl -vsi` once, for its Hostid and Checksum), or its recording.
pub(crate) fn open_host(spec: &HostSpec, o: &Options) -> Result<Box<dyn Source>, SourceError> {
    let live = |pfctl: Pfctl| -> Box<dyn Source> {
        Box::new(Checked::new(
            LiveSource::new(
                pfctl,
                super::LiveOptions {
                    strategy: o.strategy,
                    translation: o
                        .translation
                        .map_or(super::Translation::Off, super::Translation::Decide),
                    carp: o.pfctl.carp,
                    ..super::LiveOptions::default()
                },
            )
            .with_info_once(),
        ))
    };
    match (&spec.transport, host_pfctl(spec, o)?) {
        (_, Some(pfctl)) => Ok(live(pfctl)),
        (Transport::Recorded(dir), None) => Ok(Box::new(Checked::new(
            ReplaySource::open(dir)?.with_strategy(o.strategy),
        ))),
        (_, None) => Err(invalid(format!("`{}` has no pfctl command", spec.name))),
    }
}

/// True for a directory that is one host's recording: its own files, or
/// numbered polls.
fn is_recording(dir: &Path) -> bool {
    if dir.join(RULES_FILE).is_file() || dir.join(STATES_FILE).is_file() {
        return true;
    }
    fs::read_dir(dir).is_ok_and(|entries| {
        entries.flatten().any(|e| {
            let name = e.file_name();
            let name = name.to_string_lossy();
            is_poll_number(&name) && e.path().join(META_FILE).is_file()
        })
    })
}

fn is_poll_number(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_digit())
}

/// A fleet recording: a directory that is not itself a recording and
/// holds one recording per host, in a subdirectory named after the host
/// (what `record` writes with several hosts). `(host, directory)` sorted
/// by name; `None` for anything else (a file, a one-host recording).
pub fn fleet_recording(path: &Path) -> Result<Option<Vec<(String, PathBuf)>>, SourceError> {
    if !path.is_dir() || is_recording(path) {
        return Ok(None);
    }
    let entries = fs::read_dir(path).map_err(|e| SourceError::Io {
        what: path.display().to_string(),
        source: e,
    })?;
    let mut hosts: Vec<(String, PathBuf)> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| Some((e.file_name().to_str()?.to_string(), e.path())))
        .filter(|(name, dir)| is_host_name(name) && !is_poll_number(name) && is_recording(dir))
        .collect();
    hosts.sort();
    Ok((!hosts.is_empty()).then_some(hosts))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::source::{PfctlOptions, Strategy};
    use std::time::Duration;

    fn options(ssh: &[&str], hosts: &[&str]) -> Options {
        Options {
            from: None,
            pfctl: PfctlOptions {
                ssh: ssh.iter().map(|s| s.to_string()).collect(),
                hosts: hosts.iter().map(|s| s.to_string()).collect(),
                ..PfctlOptions::local("doas pfctl", Duration::from_secs(1))
            },
            strategy: Strategy::Auto,
            translation: None,
        }
    }

    #[test]
    fn one_ssh_host_is_not_a_fleet_and_two_are() {
        assert!(
            hosts(&options(&["fw-a", "../up"], &[])).is_err(),
            "a fleet host's name becomes a directory: no path tricks"
        );
        assert_eq!(hosts(&options(&["fw"], &[])).unwrap(), None);
        let two = hosts(&options(&["fw-a", "fw-b"], &[])).unwrap().unwrap();
        assert_eq!(two.len(), 2);
        assert_eq!(two[1].transport, Transport::Ssh("fw-b".into()));
    }

    #[test]
    fn host_commands_are_split_without_a_shell() {
        let spec = parse_host("fw2=ssh -J 'jump host' fw2").unwrap();
        assert_eq!(spec.name, "fw2");
        assert_eq!(
            spec.transport,
            Transport::Command(vec![
                "ssh".into(),
                "-J".into(),
                "jump host".into(),
                "fw2".into()
            ])
        );
        for bad in [
            "fw2",
            "=ssh fw2",
            "-x=ssh fw",
            "fw=",
            "fw=ssh 'oops",
            "../x=ssh x",
        ] {
            assert!(parse_host(bad).is_err(), "{bad}");
        }
        assert!(
            hosts(&options(&["fw"], &["fw=ssh fw"])).is_err(),
            "named twice"
        );
    }

    #[test]
    fn remote_words_of_a_transport_are_quoted_into_one() {
        let o = options(&[], &["fw2=ssh -p 2222 fw2"]);
        let spec = &hosts(&o).unwrap().unwrap()[0];
        let Transport::Command(words) = &spec.transport else {
            panic!("a command");
        };
        let pfctl = Pfctl::through(&o.pfctl, "fw2", words.clone()).unwrap();
        assert_eq!(
            pfctl.argv(&["-a", "*", "-vvsr"]),
            ["ssh", "-p", "2222", "fw2", "doas pfctl -a '*' -vvsr"]
        );
        assert!(pfctl.is_remote());
    }

    fn with_timeouts(mut o: Options, timeouts: &[(&str, u64)]) -> Options {
        o.pfctl.host_timeouts = timeouts
            .iter()
            .map(|(name, secs)| HostTimeout {
                name: name.to_string(),
                timeout: Duration::from_secs(*secs),
            })
            .collect();
        o
    }

    fn timeout_of(o: &Options, name: &str) -> Duration {
        let specs = hosts(o).unwrap().unwrap();
        let spec = specs.iter().find(|s| s.name == name).unwrap();
        host_pfctl(spec, o).unwrap().unwrap().timeout()
    }

    #[test]
    fn a_host_timeout_overrides_the_default_for_that_host_only() {
        let o = with_timeouts(
            options(&["fw-a", "fw-b"], &["fw-c=ssh -J jump fw-c"]),
            &[("fw-b", 30), ("fw-c", 45)],
        );
        assert_eq!(timeout_of(&o, "fw-a"), Duration::from_secs(1), "--timeout");
        assert_eq!(timeout_of(&o, "fw-b"), Duration::from_secs(30));
        assert_eq!(timeout_of(&o, "fw-c"), Duration::from_secs(45), "--host");
    }

    #[test]
    fn a_host_timeout_must_name_a_host_of_the_fleet_once() {
        let fleet = || options(&["fw-a", "fw-b"], &[]);
        let err = hosts(&with_timeouts(fleet(), &[("fw-x", 5)])).unwrap_err();
        assert!(err.to_string().contains("`fw-x` is not a host"), "{err}");
        let err = hosts(&with_timeouts(fleet(), &[("fw-a", 5), ("fw-a", 6)])).unwrap_err();
        assert!(err.to_string().contains("given twice"), "{err}");
        // One host is no fleet: its timeout is --timeout.
        let one = with_timeouts(options(&["fw-a"], &[]), &[("fw-a", 5)]);
        assert_eq!(hosts(&one).unwrap(), None);
        let err = Pfctl::from_options(&one.pfctl).unwrap_err();
        assert!(err.to_string().contains("--timeout"), "{err}");
    }

    #[test]
    fn a_fleet_recording_is_told_from_a_one_host_recording() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios");
        let pair = fleet_recording(&root.join("carp-pair")).unwrap().unwrap();
        let names: Vec<&str> = pair.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["fw-a", "fw-b"]);
        assert_eq!(fleet_recording(&root.join("dual-prefix")).unwrap(), None);
        assert_eq!(fleet_recording(&root.join("openbsd-pfsync")).unwrap(), None);
    }
}
