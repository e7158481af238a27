//! The `K` key: removing the selected rule's spurious server states from the
//! watch screen, with the same guard and commands as `report --kill`
//! ([`crate::kill`]).
//!
//! The app plans and shows the commands ([`KillPrompt`]); on `y` it turns a
//! fresh [`KillGuard`] into a [`Confirmed`] token and hands a [`KillJob`]
//! to the collector thread, which runs pfctl (so the UI never waits, and
//! kills never race a poll) and polls again at once.

use std::time::Duration;

use crate::analyze::{Analysis, Verdict};
use crate::kill::{self, Confirmed, KillGuard, KillOutcome, KillRefused};
use crate::model::{RuleKey, State};
use crate::source::{Pfctl, PfctlOptions, Source, SourceError};

/// Whether `K` may remove states, decided once at start.
#[derive(Debug, Clone)]
pub enum KillAccess {
    /// `--allow-kill` on a live source: the pfctl to run.
    Allowed(Pfctl),
    /// `--allow-kill` on a live fleet: each host's pfctl, run through its
    /// own transport, for the rows of that host (a row names its host).
    Hosts(Vec<(String, Pfctl)>),
    /// Refused, and why (shown when `K` is pressed).
    Refused(KillRefused),
}

impl KillAccess {
    /// `--allow-kill` and whether the source is live. A recording is named
    /// first: there, `--allow-kill` would not help.
    pub fn new(allow_kill: bool, source_is_live: bool, pfctl: Option<Pfctl>) -> Self {
        match (KillGuard::new(allow_kill, source_is_live), pfctl) {
            (Ok(_), Some(p)) => KillAccess::Allowed(p),
            _ if !source_is_live => KillAccess::Refused(KillRefused::Recorded),
            _ => KillAccess::Refused(KillRefused::NotAllowed),
        }
    }

    /// What `K` may do on `source`: with `allow_kill` on a live source, run
    /// the same pfctl command (argv and timeout) as its polls.
    pub fn for_source(
        allow_kill: bool,
        source: &dyn Source,
        pfctl: &PfctlOptions,
    ) -> Result<Self, SourceError> {
        let live = source.is_live();
        let pfctl = if live && allow_kill {
            Some(Pfctl::from_options(pfctl)?)
        } else {
            None
        };
        Ok(Self::new(allow_kill, live, pfctl))
    }

    /// What `K` may do on a fleet: with `allow_kill` and every host live,
    /// each host's own pfctl command (argv through its transport, its
    /// timeout), the one its polls run. A fleet with a recorded host is
    /// refused as a recording.
    pub fn for_fleet(
        allow_kill: bool,
        fleet_is_live: bool,
        options: &crate::source::Options,
    ) -> Result<Self, SourceError> {
        let specs = crate::source::fleet::hosts(options)?.unwrap_or_default();
        let mut hosts = Vec::new();
        for spec in &specs {
            if let Some(pfctl) = crate::source::fleet::host_pfctl(spec, options)? {
                hosts.push((spec.name.clone(), pfctl));
            }
        }
        let all_live = fleet_is_live && !specs.is_empty() && hosts.len() == specs.len();
        Ok(match KillGuard::new(allow_kill, all_live) {
            Ok(_) => KillAccess::Hosts(hosts),
            Err(_) if !all_live => KillAccess::Refused(KillRefused::Recorded),
            Err(_) => KillAccess::Refused(KillRefused::NotAllowed),
        })
    }

    /// The pfctl that removes the states of a row of `host` (`None` for
    /// one firewall's rows).
    pub(crate) fn pfctl_for(&self, host: Option<&str>) -> Result<&Pfctl, String> {
        match (self, host) {
            (KillAccess::Refused(why), _) => Err(refusal_text(*why).to_string()),
            (KillAccess::Allowed(pfctl), _) => Ok(pfctl),
            (KillAccess::Hosts(hosts), Some(name)) => hosts
                .iter()
                .find(|(h, _)| h == name)
                .map(|(_, p)| p)
                .ok_or_else(|| format!("K: no pfctl command for host {name}")),
            (KillAccess::Hosts(_), None) => {
                Err("K: this row names no host: nothing was run".to_string())
            }
        }
    }

    pub fn is_allowed(&self) -> bool {
        matches!(self, KillAccess::Allowed(_) | KillAccess::Hosts(_))
    }
}

/// Why `K` does nothing, in a few words for the banner.
pub(crate) fn refusal_text(why: KillRefused) -> &'static str {
    match why {
        KillRefused::NotAllowed => "K: kill needs --allow-kill (start pfblame with it)",
        KillRefused::Recorded => "K: kill is not possible on recorded data (--from, demo)",
        KillRefused::NotConfirmed => "K: nothing was removed",
        KillRefused::Incomplete => {
            "K: not removing: the last poll had unreadable lines (diagnostics), nothing was run"
        }
    }
}

/// The confirmation overlay's content: what will run, exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KillPrompt {
    pub rule: RuleKey,
    /// The pfctl command the arguments follow (`doas pfctl`); empty with
    /// `--ssh`, where each plan entry is the whole `ssh … HOST -- LINE` argv.
    pub prefix: Vec<String>,
    /// One argument list per state, built by `Pfctl::argv` like the polls.
    pub plan: Vec<Vec<String>>,
    /// [`kill::confirm_text`], one line each.
    pub lines: Vec<String>,
    /// States that cannot be named to pfctl, and why.
    pub skipped: Vec<String>,
    pub timeout: Duration,
}

/// The commands the collector runs, with the user's confirmation.
#[derive(Debug)]
pub struct KillJob {
    pub confirmed: Confirmed,
    pub prompt: KillPrompt,
}

impl PartialEq for KillJob {
    /// Two jobs are the same when they run the same commands.
    fn eq(&self, other: &Self) -> bool {
        self.prompt == other.prompt
    }
}

/// The server states of row `row` when it is judged spurious (an allowed
/// rule's states are expected and stay; a rule without verdict has none).
pub(crate) fn spurious_states_of(a: &Analysis, row: usize) -> Result<Vec<State>, String> {
    let Some(r) = a.rows.get(row) else {
        return Err("K: no rule selected".into());
    };
    match r.verdict {
        Some(v) if v.is_failure() => {}
        Some(Verdict::Allowed) => {
            return Err(format!(
                "K: {} is allowed (--allow): its states are expected and stay",
                r.key
            ));
        }
        _ => {
            return Err(format!(
                "K: {} has no spurious server state to remove",
                r.key
            ));
        }
    }
    Ok(a.states_of(row).filter(|s| a.servers.matches(s)).collect())
}

/// Plans the commands for row `row`; the error is the banner's message.
pub fn prompt(a: &Analysis, row: usize, pfctl: &Pfctl) -> Result<KillPrompt, String> {
    kill::check_complete(&a.diagnostics).map_err(|why| refusal_text(why).to_string())?;
    let states = spurious_states_of(a, row)?;
    let Some(key) = a.rows.get(row).map(|r| r.key) else {
        return Err("K: no rule selected".into());
    };
    let (plan, skipped) = kill::plan_with_skips(&states);
    if plan.is_empty() {
        return Err(match skipped.first() {
            Some(why) => format!("K: cannot remove the states of {key}: {why}"),
            None => format!("K: {key} has no spurious server state to remove"),
        });
    }
    let (prefix, plan) = kill::as_run_by(pfctl, &plan);
    let lines = kill::confirm_text(&prefix, &plan)
        .lines()
        .map(str::to_string)
        .collect();
    Ok(KillPrompt {
        rule: key,
        prefix,
        plan,
        lines,
        skipped,
        timeout: pfctl.timeout(),
    })
}

/// The user said yes: the job for the collector. Fails only when kills were
/// not allowed in the first place.
pub fn confirm(access: &KillAccess, prompt: KillPrompt) -> Result<KillJob, KillRefused> {
    let allowed = access.is_allowed();
    let confirmed = KillGuard::new(allowed, allowed)?.confirm(true)?;
    Ok(KillJob { confirmed, prompt })
}

/// Runs the job (on the collector thread). The text is for the banner;
/// `Err` when anything failed.
pub fn run(job: &KillJob) -> Result<String, String> {
    let p = &job.prompt;
    match kill::execute(&job.confirmed, &p.prefix, &p.plan, p.timeout) {
        Ok(outcome) => outcome_text(p, &outcome),
        Err(e) => Err(format!("removing the states of {} failed: {e}", p.rule)),
    }
}

/// `4 of 4 commands succeeded; pfctl reported 4 states killed`, as
/// `report --kill` says it, plus the first failure.
fn outcome_text(p: &KillPrompt, o: &KillOutcome) -> Result<String, String> {
    let n = p.plan.len();
    let mut text = format!(
        "{}: {} of {n} command{} succeeded; pfctl reported {} state{} killed",
        p.rule,
        o.succeeded,
        plural(n),
        o.killed,
        plural(o.killed as usize)
    );
    match o.failed.first() {
        None => Ok(text),
        Some((command, why)) => {
            text.push_str(&format!("; failed: {command}: {}", why.trim()));
            Err(crate::sanitize::neutralize(&text).into_owned())
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn a_recording_is_refused_as_such_even_with_allow_kill() {
        let pfctl = Pfctl::new("pfctl", 5.0).unwrap();
        assert!(matches!(
            KillAccess::new(true, false, Some(pfctl.clone())),
            KillAccess::Refused(KillRefused::Recorded)
        ));
        assert!(matches!(
            KillAccess::new(false, true, Some(pfctl.clone())),
            KillAccess::Refused(KillRefused::NotAllowed)
        ));
        assert!(KillAccess::new(true, true, Some(pfctl)).is_allowed());
        assert!(!KillAccess::new(true, true, None).is_allowed());
    }

    #[test]
    fn no_prompt_when_the_poll_had_errors() {
        let pfctl = Pfctl::new("pfctl", 5.0).unwrap();
        let mut a = crate::tui::fake::analysis();
        let spurious = a
            .rows
            .iter()
            .position(|r| r.verdict == Some(Verdict::Bypass))
            .unwrap();
        assert!(prompt(&a, spurious, &pfctl).is_ok());
        a.diagnostics.push(crate::model::Diagnostic {
            line: 3,
            column: 1,
            severity: crate::model::Severity::Error,
            message: "expected a state".into(),
            text: "garbage".into(),
        });
        let err = prompt(&a, spurious, &pfctl).unwrap_err();
        assert!(err.contains("unreadable lines"), "{err}");
    }

    #[test]
    fn refused_access_makes_no_job() {
        let access = KillAccess::Refused(KillRefused::NotAllowed);
        let prompt = KillPrompt {
            rule: RuleKey {
                anchor: None,
                number: Some(1),
            },
            prefix: vec!["pfctl".into()],
            plan: vec![vec!["-k".into(), "id".into()]],
            lines: vec![],
            skipped: vec![],
            timeout: Duration::from_secs(1),
        };
        assert!(confirm(&access, prompt).is_err());
    }

    #[test]
    fn outcomes_read_like_the_report() {
        let p = KillPrompt {
            rule: RuleKey {
                anchor: None,
                number: Some(14),
            },
            prefix: vec!["pfctl".into()],
            plan: vec![vec![]; 4],
            lines: vec![],
            skipped: vec![],
            timeout: Duration::from_secs(1),
        };
        let ok = KillOutcome {
            succeeded: 4,
            failed: vec![],
            killed: 4,
        };
        assert_eq!(
            outcome_text(&p, &ok).unwrap(),
            "@14: 4 of 4 commands succeeded; pfctl reported 4 states killed"
        );
        let bad = KillOutcome {
            succeeded: 3,
            failed: vec![("pfctl -k id -k 1".into(), "exit status: 1: no".into())],
            killed: 3,
        };
        let e = outcome_text(&p, &bad).unwrap_err();
        assert!(
            e.contains("3 of 4") && e.contains("failed: pfctl -k id -k 1"),
            "{e}"
        );
    }
}
