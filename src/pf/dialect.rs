//! Which pf a listing comes from. The verdicts depend on it: OpenBSD 6.9+
//! routes only through states and refuses `route-to … no state`, FreeBSD
//! routes from the deciding rule and keeps state for translated packets
//! even under `no state`, and each prints its listings a little
//! differently, which is how the dialect is told from the text.

use std::fmt;

use serde::Serialize;

use crate::model::{Action, RouteKind, Rule, State, StatePolicy};

/// A pf dialect (the `--pf` values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Dialect {
    /// OpenBSD 6.9 and later (7.x).
    #[value(name = "openbsd")]
    #[serde(rename = "openbsd")]
    OpenBsd,
    /// OpenBSD 6.8 and older: `route-to … no state` still accepted.
    #[value(name = "openbsd-6.8")]
    #[serde(rename = "openbsd-6.8")]
    OpenBsd68,
    /// FreeBSD 13, 14, 15.
    #[value(name = "freebsd")]
    #[serde(rename = "freebsd")]
    FreeBsd,
    #[value(name = "pfsense")]
    #[serde(rename = "pfsense")]
    PfSense,
    #[value(name = "opnsense")]
    #[serde(rename = "opnsense")]
    OpnSense,
    #[value(name = "macos")]
    #[serde(rename = "macos")]
    MacOs,
}

impl fmt::Display for Dialect {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl Dialect {
    /// The `--pf` spelling.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::OpenBsd => "openbsd",
            Dialect::OpenBsd68 => "openbsd-6.8",
            Dialect::FreeBsd => "freebsd",
            Dialect::PfSense => "pfsense",
            Dialect::OpnSense => "opnsense",
            Dialect::MacOs => "macos",
        }
    }

    /// OpenBSD 6.9+: `rule_consistent()` (sbin/pfctl/parse.y) refuses
    /// "route-to, reply-to and dup-to require keep state", and `pf_test()`
    /// calls `pf_route()` only for a state whose `rt` was set by
    /// `pf_set_rt_ifp()` from the rule that created it (sys/net/pf.c 1.1218).
    /// So routing happens only through states.
    pub(crate) fn routes_only_through_states(self) -> bool {
        self == Dialect::OpenBsd
    }

    /// The FreeBSD family (FreeBSD, pfSense, OPNsense; macOS's pf is an
    /// old FreeBSD import): `pf_test_rule()` creates a state when
    /// `r->keep_state || nr != NULL || (pd->flags & PFDESC_TCP_NORM)`, so a
    /// nat/rdr translation or `scrub … reassemble tcp` keeps state even
    /// under a `no state` filter rule.
    pub(crate) fn translation_keeps_state(self) -> bool {
        matches!(
            self,
            Dialect::FreeBsd | Dialect::PfSense | Dialect::OpnSense | Dialect::MacOs
        )
    }

    /// OpenBSD's parse.y refuses route-to on `match` rules ("route-to,
    /// reply-to and dup-to are not supported on match rules"), and the
    /// kernel could not use it anyway: in sys/net/pf.c 1.1218 (2025-07-07)
    /// `pf_rule_to_actions()` copies queues, rtable, log, tos, ttl, mss,
    /// prio and delay but no `rt`, and `pf_set_rt_ifp()` takes the routing
    /// from `st->rule.ptr`, the pass rule that created the state. So match
    /// rules never route there.
    /// FreeBSD: the 14-era `struct pf_rule_actions` (sys/net/pfvar.h) has no
    /// routing fields, while the 15-era one (with `pf_test_ctx` and NAT64)
    /// carries `rt`, `rt_addr` and `rt_kif`, so routing travels in the
    /// actions there. Whether FreeBSD 15's `pf_rule_to_actions()` fills them
    /// from match rules was not readable (its pf.c is not in the sources
    /// pfblame was checked against), so pfblame follows the listing: a match
    /// rule printed with route-to is taken to route.
    pub(crate) fn match_rules_route(self) -> bool {
        !matches!(self, Dialect::OpenBsd | Dialect::OpenBsd68)
    }

    /// States without a `rule N` item: who made them.
    pub(crate) fn ruleless_cause(self) -> &'static str {
        if self.is_openbsd() {
            // OpenBSD's default rule never keeps state; `pf_state_import()`
            // (pfsync) falls back to the default rule when the peer's
            // ruleset checksum differs or the rule sits in an anchor.
            "imported by pfsync from a peer (OpenBSD's default rule keeps no state; pfsync \
             names the default rule when the peer's ruleset differs or the rule is in an anchor)"
        } else {
            "made for a translated packet (nat/rdr/binat) or a `scrub … reassemble tcp` \
             normalised one, which keep state even when no rule does (pf_test_rule), or \
             imported by pfsync"
        }
    }

    pub(crate) fn is_openbsd(self) -> bool {
        matches!(self, Dialect::OpenBsd | Dialect::OpenBsd68)
    }

    /// The dialect named `name` (the `--pf` spelling, as `record` writes it
    /// into `meta.toml`).
    pub(crate) fn from_name(name: &str) -> Option<Dialect> {
        <Dialect as clap::ValueEnum>::value_variants()
            .iter()
            .copied()
            .find(|d| d.name() == name.trim())
    }
}

/// True when the pfctl that printed `rules_text` (a `-vvsr` listing) keeps
/// translation rules in rulesets of their own, listed by `pfctl -sn`: the
/// FreeBSD family and macOS. OpenBSD has no `-sn` (nat-to and rdr-to are
/// filter rule options there), and an empty listing is taken for OpenBSD
/// (see [`detect`]), so nothing is run that its pfctl would refuse.
pub fn lists_translation_rules(rules_text: &str) -> bool {
    let (rules, _) = crate::parse::rules::parse_rules(rules_text);
    detect(None, &rules, &[]).dialect.translation_keeps_state()
}

/// The dialect of an analysis: `--pf` wins, then the one the recording
/// names (`record` keeps it in `meta.toml`), else what the listings tell.
pub(crate) fn choose(
    forced: Option<Dialect>,
    recorded: Option<Dialect>,
    rules: &[Rule],
    states: &[State],
) -> Detected {
    choose_with(forced, recorded, rules, &StateClues::of(states))
}

/// How the dialect of an analysis was chosen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Detected {
    pub dialect: Dialect,
    /// `--pf`, `detected` or `assumed` (nothing in the listing tells).
    pub how: &'static str,
    /// What gave it away (`pass rules print no keep state`, …).
    pub evidence: Vec<String>,
}

impl Detected {
    /// `openbsd (detected: …)`, for headers: the two strongest clues (the
    /// decisive one, for OpenBSD 6.8, comes last and is always shown).
    pub fn describe(&self) -> String {
        let shown: Vec<&str> = match self.evidence.as_slice() {
            [] => return format!("{} ({})", self.dialect, self.how),
            [one] => vec![one],
            [first, .., last] => vec![first, last],
        };
        format!("{} ({}: {})", self.dialect, self.how, shown.join("; "))
    }
}

/// Votes for each dialect family from the listings.
#[derive(Debug, Default)]
struct Votes {
    openbsd: Vec<String>,
    freebsd: Vec<String>,
    pfsense: Vec<String>,
    opnsense: Vec<String>,
    macos: Vec<String>,
    old_openbsd: Vec<String>,
}

impl Votes {
    /// Adds `other`'s votes after these, each clue once (as [`note`] does).
    fn merge(&mut self, other: &Votes) {
        let pairs = [
            (&mut self.openbsd, &other.openbsd),
            (&mut self.freebsd, &other.freebsd),
            (&mut self.pfsense, &other.pfsense),
            (&mut self.opnsense, &other.opnsense),
            (&mut self.macos, &other.macos),
            (&mut self.old_openbsd, &other.old_openbsd),
        ];
        for (mine, theirs) in pairs {
            for what in theirs {
                note(mine, what);
            }
        }
    }
}

fn note(list: &mut Vec<String>, what: &str) {
    if !list.iter().any(|w| w == what) {
        list.push(what.to_string());
    }
}

/// How many states [`detect`] looks at (the first ones of the listing).
pub(crate) const STATE_CLUES: usize = 10_000;

/// Tells the dialect from how pfctl printed the rules and states, unless
/// `forced` (`--pf`). Each clue follows the printing code of that OS
/// (see `pfctl-formats.md`): OpenBSD's `print_rule()` omits `keep state`
/// (the default) and prints route-to after the addresses; FreeBSD prints
/// `keep state`, puts route-to before the address family, prints states'
/// routing on the id line (`route-to:`, `gateway:`) and `origif:`;
/// pfSense numbers rules `@N(id)` and prints `gateway:`; OPNsense prints
/// `rlabel`; macOS names floating states `ALL`.
pub(crate) fn detect(forced: Option<Dialect>, rules: &[Rule], states: &[State]) -> Detected {
    detect_with(forced, rules, &StateClues::of(states))
}

/// The clues of the first [`STATE_CLUES`] states, gathered one state at a
/// time: the analysis builds each kept state once and reads these from it,
/// instead of building the first states again for [`choose`].
#[derive(Debug, Default)]
pub(crate) struct StateClues {
    votes: Votes,
    seen: usize,
}

impl StateClues {
    /// The clues of a listing's states.
    fn of(states: &[State]) -> Self {
        let mut clues = StateClues::default();
        for s in states {
            clues.add(s);
        }
        clues
    }

    /// Reads the clues of `s`, the next state of the listing (states past
    /// the first [`STATE_CLUES`] are not looked at).
    pub(crate) fn add(&mut self, s: &State) {
        if self.seen < STATE_CLUES {
            self.seen += 1;
            state_clues(s, &mut self.votes);
        }
    }
}

/// [`choose`], from states' clues already gathered.
pub(crate) fn choose_with(
    forced: Option<Dialect>,
    recorded: Option<Dialect>,
    rules: &[Rule],
    clues: &StateClues,
) -> Detected {
    match (forced, recorded) {
        (None, Some(d)) => Detected {
            how: "recorded",
            ..detect_with(Some(d), rules, clues)
        },
        _ => detect_with(forced, rules, clues),
    }
}

/// [`detect`], from states' clues already gathered. The rules' clues come
/// first in each list, as when the states are read after the rules.
fn detect_with(forced: Option<Dialect>, rules: &[Rule], clues: &StateClues) -> Detected {
    let mut v = Votes::default();
    for r in rules {
        rule_clues(r, &mut v);
    }
    v.merge(&clues.votes);
    if let Some(d) = forced {
        let mut evidence = Vec::new();
        if d == Dialect::OpenBsd && !v.old_openbsd.is_empty() {
            evidence.push(format!(
                "but {}: pfctl of OpenBSD 6.9+ refuses that",
                v.old_openbsd.join(", ")
            ));
        }
        return Detected {
            dialect: d,
            how: "--pf",
            evidence,
        };
    }
    let (dialect, evidence) = if !v.macos.is_empty() {
        (Dialect::MacOs, v.macos)
    } else if !v.pfsense.is_empty() {
        (Dialect::PfSense, v.pfsense)
    } else if !v.opnsense.is_empty() {
        (Dialect::OpnSense, v.opnsense)
    } else if !v.freebsd.is_empty() && v.freebsd.len() >= v.openbsd.len() {
        (Dialect::FreeBsd, v.freebsd)
    } else if !v.openbsd.is_empty() && !v.old_openbsd.is_empty() {
        let mut e = v.openbsd;
        e.extend(v.old_openbsd);
        (Dialect::OpenBsd68, e)
    } else if !v.openbsd.is_empty() {
        (Dialect::OpenBsd, v.openbsd)
    } else {
        return Detected {
            dialect: Dialect::OpenBsd,
            how: "assumed",
            evidence: vec!["the listing does not tell; use --pf to say".into()],
        };
    };
    Detected {
        dialect,
        how: "detected",
        evidence,
    }
}

fn rule_clues(r: &Rule, v: &mut Votes) {
    let text = r.text.as_str();
    if r.action == Action::Pass {
        if r.state == Some(StatePolicy::Keep) && !text.contains("keep state") {
            note(&mut v.openbsd, "pass rules print no `keep state`");
        }
        if text.ends_with("keep state") || text.contains("keep state label") {
            note(&mut v.freebsd, "pass rules print `keep state`");
        }
        if r.route
            .as_ref()
            .is_some_and(|rt| rt.kind != RouteKind::Gateway)
            && r.state == Some(StatePolicy::No)
            && !text.contains(" keep state")
        {
            note(&mut v.old_openbsd, "a route-to rule is `no state`");
        }
    }
    if let Some(rt) = &r.route {
        // `collapse_redirspec()` of 6.9+ refuses `addr@if` pools ("@if not
        // permitted for routing"); OpenBSD ≤ 6.8 and FreeBSD print them.
        if rt.target.contains('@') && !text.contains(&format!("{} (", rt.kind)) {
            note(&mut v.old_openbsd, "a route-to pool names `addr@if`");
        }
        let route_pos = text.find(&format!("{} ", rt.kind));
        let af_pos = text.find(" inet");
        match (route_pos, af_pos) {
            (Some(rp), Some(ap)) if rp < ap => {
                note(&mut v.freebsd, "route-to printed before the address family")
            }
            (Some(rp), Some(ap)) if rp > ap => {
                note(&mut v.openbsd, "route-to printed after the addresses")
            }
            _ => {}
        }
    }
    if r.nat_to.is_some() || r.rdr_to.is_some() || r.af_to.is_some() {
        note(&mut v.openbsd, "nat-to/rdr-to/af-to on filter rules");
    }
    if let Action::Other(a) = &r.action
        && matches!(&**a, "nat" | "rdr" | "binat" | "no nat" | "no rdr")
    {
        note(&mut v.freebsd, "separate nat/rdr rules");
    }
    if r.ridentifier.is_some() {
        note(&mut v.pfsense, "rules numbered `@N(id)`");
    }
    if text.contains("com.apple") {
        note(&mut v.macos, "com.apple anchors");
    }
}

fn state_clues(s: &State, v: &mut Votes) {
    if &*s.iface == "ALL" {
        note(&mut v.macos, "floating states print `ALL`");
    }
    if s.origif.is_some() || s.rtable.is_some() {
        note(&mut v.freebsd, "states print `origif:`/`rtable:`");
    }
    if s.flags.iter().any(|f| f.starts_with("rlabel")) {
        note(&mut v.opnsense, "states print `rlabel`");
    }
    if let Some(r) = &s.route {
        if r.kind == RouteKind::Gateway {
            note(&mut v.pfsense, "states print `gateway:`");
        } else if r.iface.is_some() {
            note(&mut v.freebsd, "states print `route-to:` with `@if`");
        } else {
            note(&mut v.openbsd, "states print their route as `{addr}`");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::rules::parse_rules;

    fn rules(text: &str) -> Vec<Rule> {
        parse_rules(text).0
    }

    #[test]
    fn openbsd_prints_no_keep_state_and_route_to_last() {
        let r = rules(
            "@0 pass in quick on em1 inet6 proto tcp from 2001:db8::10 port = 443 to any flags any route-to 2001:db8:ffff::1\n",
        );
        let d = detect(None, &r, &[]);
        assert_eq!(d.dialect, Dialect::OpenBsd, "{d:?}");
    }

    #[test]
    fn route_to_no_state_in_an_openbsd_listing_is_6_8() {
        let r = rules(
            "@0 pass in quick on em1 inet6 proto tcp from 2001:db8::10 port = 443 to any flags S/SA\n\
             @1 pass in quick on em1 inet6 proto tcp from 2001:db8::10 port = 443 to any no state route-to 2001:db8:ffff::1@gif0\n",
        );
        assert_eq!(detect(None, &r, &[]).dialect, Dialect::OpenBsd68);
        // Forcing 6.9+ on it says why that is doubtful.
        let forced = detect(Some(Dialect::OpenBsd), &r, &[]);
        assert_eq!(forced.dialect, Dialect::OpenBsd);
        assert!(
            forced.describe().contains("refuses"),
            "{}",
            forced.describe()
        );
    }

    #[test]
    fn freebsd_prints_keep_state_and_route_to_first() {
        let r = rules(
            "@2 pass in quick on em1 route-to (gif0 2001:db8::1) inet6 proto tcp from 2001:db8:10::10 port = https to any flags S/SA keep state\n",
        );
        assert_eq!(detect(None, &r, &[]).dialect, Dialect::FreeBsd);
    }

    #[test]
    fn pfsense_numbers_rules_with_ids() {
        let r = rules(
            "@4(1770000001) pass in quick on vtnet1 reply-to (vtnet1 192.168.1.1) inet proto tcp from any to 192.168.1.10 port = https flags S/SA keep state\n",
        );
        assert_eq!(detect(None, &r, &[]).dialect, Dialect::PfSense);
    }

    #[test]
    fn nothing_to_go_on_is_an_assumption() {
        let d = detect(None, &[], &[]);
        assert_eq!((d.dialect, d.how), (Dialect::OpenBsd, "assumed"));
    }

    #[test]
    fn dialect_behaviour_follows_pf_source() {
        assert!(Dialect::OpenBsd.routes_only_through_states());
        assert!(!Dialect::OpenBsd68.routes_only_through_states());
        assert!(Dialect::FreeBsd.translation_keeps_state());
        assert!(!Dialect::OpenBsd.translation_keeps_state());
        assert!(!Dialect::OpenBsd.match_rules_route());
    }
}
