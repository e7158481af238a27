//! Removing spurious states. After the ruleset is fixed, old states keep
//! bypassing `route-to` until they expire; killing them ends that at once.
//!
//! Rules for callers, enforced by the types:
//! 1. only with `--allow-kill`, never on a recorded source (`--from`):
//!    [`KillGuard::new`] refuses otherwise;
//! 2. only after the user saw the exact commands ([`confirm_text`]) and
//!    said yes: [`KillGuard::confirm`] turns the guard into the
//!    [`Confirmed`] token that [`execute`] requires;
//! 3. pfctl is run without a shell, one command per state (`-k id` when the
//!    state printed its id, else `-k key`, never for a state whose id line
//!    was there but unreadable), each with a timeout;
//! 4. never on incomplete data: a poll with error diagnostics is refused
//!    ([`check_complete`]), since the states to remove may be misread.

use std::io::Read;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use crate::model::{Direction, Endpoint, HostAddr, Port, State};
use crate::pf::matcher;

/// Why killing was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KillRefused {
    #[error("removing states needs --allow-kill")]
    NotAllowed,
    #[error("cannot remove states of a recording (--from): there is no live pfctl")]
    Recorded,
    #[error("removing states was not confirmed")]
    NotConfirmed,
    #[error(
        "not removing states: the listing had lines that could not be read, so the states \
         to remove may be incomplete or misread"
    )]
    Incomplete,
}

/// Refuses to kill on a poll with error diagnostics.
pub(crate) fn check_complete(diagnostics: &[crate::model::Diagnostic]) -> Result<(), KillRefused> {
    if diagnostics
        .iter()
        .any(|d| d.severity == crate::model::Severity::Error)
    {
        Err(KillRefused::Incomplete)
    } else {
        Ok(())
    }
}

/// Permission to kill, checked once from the command line.
#[derive(Debug)]
pub struct KillGuard {
    _private: (),
}

/// A guard whose commands the user confirmed. Only [`KillGuard::confirm`]
/// makes one.
#[derive(Debug)]
pub struct Confirmed {
    _private: (),
}

impl KillGuard {
    /// `allow_kill` is `--allow-kill`; `source_is_live` is
    /// [`crate::source::Source::is_live`].
    pub fn new(allow_kill: bool, source_is_live: bool) -> Result<KillGuard, KillRefused> {
        if !allow_kill {
            return Err(KillRefused::NotAllowed);
        }
        if !source_is_live {
            return Err(KillRefused::Recorded);
        }
        Ok(KillGuard { _private: () })
    }

    /// The user's answer to [`confirm_text`] (`--yes` counts as yes).
    pub fn confirm(self, answered_yes: bool) -> Result<Confirmed, KillRefused> {
        if answered_yes {
            Ok(Confirmed { _private: () })
        } else {
            Err(KillRefused::NotConfirmed)
        }
    }
}

/// Per-state pfctl arguments (without the pfctl command itself), one
/// vector per state, duplicates removed. States that cannot be named are
/// left out; see [`plan_with_skips`] for why.
pub fn plan(states: &[State]) -> Vec<Vec<String>> {
    plan_with_skips(states).0
}

/// [`plan`], plus one line per state that could not be named (no id, and a
/// key pfctl cannot take: host names, rdomains, unknown service names).
pub fn plan_with_skips(states: &[State]) -> (Vec<Vec<String>>, Vec<String>) {
    let mut out: Vec<Vec<String>> = Vec::new();
    let mut skipped = Vec::new();
    for s in states {
        let argv = match kill_args(s) {
            Ok(a) => a,
            Err(why) => {
                skipped.push(format!("state at line {}: {why}", s.line));
                continue;
            }
        };
        if !out.contains(&argv) {
            out.push(argv);
        }
    }
    (out, skipped)
}

fn kill_args(s: &State) -> Result<Vec<String>, String> {
    if s.flags.iter().any(|f| &**f == crate::model::ID_UNREADABLE) {
        return Err(
            "its id line could not be read, and `-k key` could also remove a state \
             of another rule: left alone"
                .into(),
        );
    }
    // pfctl refuses id 0 ("cannot kill id 0").
    if let Some(id) = s.id.filter(|&id| id != 0) {
        let id = match s.creator_id {
            Some(c) => format!("{id:016x}/{c:08x}"),
            None => format!("{id:016x}"),
        };
        return Ok(vec!["-k".into(), "id".into(), "-k".into(), id]);
    }
    Ok(vec!["-k".into(), "key".into(), "-k".into(), state_key(s)?])
}

/// `tcp 2001:db8::10[443] <- 2001:db8:ffff::1[50000]`: the protocol and
/// hosts as pfctl prints them (no NAT parentheses), the form `-k key` reads.
///
/// The kernel looks such a key up for both directions (OpenBSD
/// `DIOCKILLSTATES`), so it also removes the connection's state on the
/// other side of the firewall, if any; `-k id` removes exactly one state.
pub fn state_key(s: &State) -> Result<String, String> {
    let src = key_host(&s.src)?;
    let dst = key_host(&s.dst)?;
    if s.proto.contains(char::is_whitespace) || s.proto.is_empty() {
        return Err(format!("protocol `{}` cannot be given to pfctl", s.proto));
    }
    Ok(match s.direction {
        Direction::Out => format!("{} {src} -> {dst}", s.proto),
        Direction::In => format!("{} {dst} <- {src}", s.proto),
    })
}

fn key_host(e: &Endpoint) -> Result<String, String> {
    if e.rdomain.is_some() {
        return Err("rdomain states need -k id (no id printed: use pfctl -vvss)".into());
    }
    let ip: IpAddr = match &e.addr {
        HostAddr::Ip(ip) => *ip,
        HostAddr::Name(n) => {
            return Err(format!("host name `{n}` instead of an address (pfctl -r?)"));
        }
    };
    let port = match &e.port {
        None => None,
        Some(Port::Num(n)) => Some(*n),
        Some(Port::Name(n)) => {
            Some(matcher::service_port(n).ok_or_else(|| format!("unknown service name `{n}`"))?)
        }
    };
    // As pfctl prints a host: `a.b.c.d:port`, `v6addr[port]`.
    Ok(Endpoint::new(HostAddr::Ip(ip), port.map(Port::Num)).to_string())
}

/// An argv as a local shell user would type it (the one quoting function).
fn display(argv: &[String]) -> String {
    crate::source::quote::join(argv)
}

/// The plan as `pfctl` will run it, built by [`crate::source::Pfctl::argv`]
/// like every poll, so what the user confirms is what runs. Locally: the
/// command's own argv (the prefix) and each kill's arguments. Through
/// `--ssh`: an empty prefix and each command's whole argv, since the kill's
/// arguments are quoted into the one remote command line
/// (`ssh fw -- 'doas pfctl -k id -k …'`).
pub(crate) fn as_run_by(
    pfctl: &crate::source::Pfctl,
    plan: &[Vec<String>],
) -> (Vec<String>, Vec<Vec<String>>) {
    let full = |args: &Vec<String>| {
        let words: Vec<&str> = args.iter().map(String::as_str).collect();
        pfctl.argv(&words)
    };
    if pfctl.is_remote() {
        return (Vec::new(), plan.iter().map(full).collect());
    }
    let prefix = pfctl.argv(&[]);
    let plan = plan
        .iter()
        .map(|args| full(args).split_off(prefix.len()))
        .collect();
    (prefix, plan)
}

/// What the user must see before saying yes: the exact commands.
pub fn confirm_text(pfctl_argv_prefix: &[String], plan: &[Vec<String>]) -> String {
    let mut s = format!(
        "pfblame will remove {} state{} by running:\n",
        plan.len(),
        if plan.len() == 1 { "" } else { "s" }
    );
    for argv in plan {
        let full: Vec<String> = pfctl_argv_prefix.iter().chain(argv).cloned().collect();
        s.push_str("  ");
        s.push_str(&crate::sanitize::neutralize(&display(&full)));
        s.push('\n');
    }
    s
}

/// The result of the commands that ran.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KillOutcome {
    /// Commands that ran and exited 0.
    pub succeeded: usize,
    /// Commands that failed: the command and why.
    pub failed: Vec<(String, String)>,
    /// States pfctl said it killed (`killed N states` on stderr).
    pub killed: u64,
}

/// Why the commands could not be run at all.
#[derive(Debug, thiserror::Error)]
pub enum KillError {
    #[error("no pfctl command given")]
    EmptyCommand,
    #[error("could not run `{program}`: {source}")]
    Spawn {
        program: String,
        #[source]
        source: std::io::Error,
    },
}

/// Runs `prefix + argv` for every planned command, without a shell, each
/// killed after `timeout`. Stops at the first command that cannot be
/// started (pfctl missing); a command that fails is recorded and the next
/// one still runs.
pub fn execute(
    _confirmed: &Confirmed,
    pfctl_argv_prefix: &[String],
    plan: &[Vec<String>],
    timeout: Duration,
) -> Result<KillOutcome, KillError> {
    let mut outcome = KillOutcome::default();
    for argv in plan {
        let full: Vec<String> = pfctl_argv_prefix.iter().chain(argv).cloned().collect();
        let shown = display(&full);
        let (program, args) = full.split_first().ok_or(KillError::EmptyCommand)?;
        match run_one(program, args, timeout)? {
            Ran::Ok(stderr) => {
                outcome.succeeded += 1;
                outcome.killed += killed_count(&stderr);
            }
            Ran::Failed(why) => outcome.failed.push((shown, why)),
        }
    }
    Ok(outcome)
}

enum Ran {
    Ok(String),
    Failed(String),
}

fn run_one(program: &str, args: &[String], timeout: Duration) -> Result<Ran, KillError> {
    let mut child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|source| KillError::Spawn {
            program: program.to_string(),
            source,
        })?;
    // Read stderr on a thread so a chatty child cannot block on a full pipe.
    let reader = child.stderr.take().map(|mut e| {
        thread::spawn(move || {
            let mut s = String::new();
            let _ = e.read_to_string(&mut s);
            s
        })
    });
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(st)) => break Some(st),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                break None;
            }
            Ok(None) => thread::sleep(Duration::from_millis(10)),
            Err(e) => return Ok(Ran::Failed(format!("waiting for it: {e}"))),
        }
    };
    let stderr = reader.and_then(|h| h.join().ok()).unwrap_or_default();
    Ok(match status {
        None => Ran::Failed(format!(
            "did not finish within {:.1} s and was killed",
            timeout.as_secs_f64()
        )),
        Some(st) if st.success() => Ran::Ok(stderr),
        Some(st) => Ran::Failed(format!("{st}: {}", stderr.trim())),
    })
}

/// Sums `killed N states` lines (pfctl prints them on stderr).
fn killed_count(stderr: &str) -> u64 {
    stderr
        .lines()
        .filter_map(|l| l.trim().strip_prefix("killed "))
        .filter_map(|rest| rest.split_whitespace().next()?.parse::<u64>().ok())
        .sum()
}

#[cfg(test)]
mod tests {
    use crate::parse::states::parse_states;

    #[test]
    fn keys_follow_the_state_line_and_refuse_rdomains() {
        let (states, _) = parse_states(
            "all tcp 10.0.0.1:80 (203.0.113.5:80) <- 10.0.0.101:32123       ESTABLISHED:ESTABLISHED\n\
             all udp 2001:db8::10[40000] -> 2001:db8:53::53[53] {2001:db8::1}       MULTIPLE:SINGLE\n\
             all tcp (2) 10.0.0.1:80 <- 10.0.0.101:32123       ESTABLISHED:ESTABLISHED\n",
        );
        assert_eq!(
            state_key(&states[0]).as_deref(),
            Ok("tcp 10.0.0.1:80 <- 10.0.0.101:32123")
        );
        assert_eq!(
            state_key(&states[1]).as_deref(),
            Ok("udp 2001:db8::10[40000] -> 2001:db8:53::53[53]")
        );
        assert!(state_key(&states[2]).is_err(), "rdomain states need -k id");
    }

    use super::*;

    #[test]
    fn an_unreadable_id_line_never_falls_back_to_the_key() {
        let (states, diags) = parse_states(
            "all tcp 10.0.0.1:80 <- 10.0.0.101:32123       ESTABLISHED:ESTABLISHED\n\
             \x20  id: 64f1zzzz00000a11 creatorid: 4e1f00c2\n\
             all tcp 10.0.0.1:80 <- 10.0.0.102:32123       ESTABLISHED:ESTABLISHED\n",
        );
        assert_eq!(states.len(), 2);
        assert!(!diags.is_empty(), "the bad id line is a diagnostic");
        let (plan, skipped) = plan_with_skips(&states);
        assert_eq!(
            plan,
            vec![vec![
                "-k",
                "key",
                "-k",
                "tcp 10.0.0.1:80 <- 10.0.0.102:32123"
            ]],
            "only the state without an id line is named by its key"
        );
        assert_eq!(skipped.len(), 1);
        assert!(
            skipped[0].contains("id line could not be read"),
            "{skipped:?}"
        );
    }

    #[test]
    fn incomplete_polls_are_refused() {
        use crate::model::{Diagnostic, Severity};
        let d = |severity| Diagnostic {
            line: 1,
            column: 1,
            severity,
            message: String::new(),
            text: String::new(),
        };
        assert_eq!(check_complete(&[d(Severity::Warning)]), Ok(()));
        assert_eq!(
            check_complete(&[d(Severity::Warning), d(Severity::Error)]),
            Err(KillRefused::Incomplete)
        );
    }

    #[test]
    fn killed_lines_are_summed() {
        assert_eq!(killed_count("killed 2 states\nkilled 1 states\nnoise\n"), 3);
    }
}
