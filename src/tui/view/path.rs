//! The path of a connection through the router, drawn: the hops of a
//! request (client → tunnel in → LAN out → server) and of its reply, each
//! with what decides it, the bypassed hop marked.
//!
//! The diagram is drawn from a small view model ([`PathDiagram`]) so that
//! it does not depend on where the hops come from: [`from_finding`] fills it
//! from today's finding data (the stateful rule, its interface and
//! direction, the skipped `route-to` rule and its interface); a reply-path
//! engine can fill it later through that one function.

use ratatui::text::{Line, Span};

use crate::analyze::Analysis;
use crate::lint::Finding;
use crate::model::{Direction, Rule, RuleKey};
use crate::tui::theme::{BYPASS_SYMBOL, Theme};
use crate::tui::view::format::clean;

/// One hop: a packet crossing one interface of the router in one direction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hop {
    /// `request` or `reply`.
    pub label: &'static str,
    /// The interface (`gif0`), or where the packet really goes when no rule
    /// names it (`routing table`).
    pub interface: String,
    /// `None` when the hop is not a pf interface pass (the routing table).
    pub direction: Option<Direction>,
    /// `tunnel`, `LAN`, or empty.
    pub role: &'static str,
    /// What decides the hop: `@14 keeps state`, `state of @14 (skips @17)`.
    pub decided_by: String,
    /// The hop does not go the way the ruleset intends.
    pub bypassed: bool,
}

/// The whole path: the request's hops, then the reply's.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathDiagram {
    pub request: Vec<Hop>,
    pub reply: Vec<Hop>,
    /// What happens to the replies in the end, in words.
    pub outcome: String,
}

fn rule_of(a: &Analysis, key: RuleKey) -> Option<&Rule> {
    a.rows
        .iter()
        .find(|r| r.key == key)
        .and_then(|r| r.rule.as_ref())
}

fn iface_of(rule: &Rule) -> Option<String> {
    rule.iface
        .as_ref()
        .filter(|i| !i.negated)
        .map(|i| clean(&i.name).into_owned())
}

/// The adapter: the diagram of a route-to bypass, from the finding and the
/// rules it names. `None` when the finding is not a bypass or the rules do
/// not name the interfaces (a floating rule, no route-to interface).
///
/// The hops follow pf's order on a router: a request is filtered in on the
/// interface it arrives on and out on the one it leaves by; a packet that
/// matches a state skips the ruleset on that pass (`pf_test` tries the
/// state lookup, `pf_test_state*` / `pf_find_state`, first and evaluates the
/// ruleset, `pf_test_rule`, only when no state matched; see [`crate::lint`]
/// for the key order that makes one direction's state catch the other's
/// packets). A state created out on the LAN is
/// found again by the reply in on the LAN, so the route-to rule for that
/// pass never runs and the reply leaves by the routing table.
pub(crate) fn from_finding(f: &Finding, a: &Analysis) -> Option<PathDiagram> {
    let bypassed = f.bypassed_rule.as_ref()?;
    let stateful = rule_of(a, f.stateful_rule.key())?;
    let routing = rule_of(a, bypassed.key())?;
    let lan = iface_of(routing).or_else(|| iface_of(stateful))?;
    let tunnel = routing
        .route
        .as_ref()
        .and_then(|r| r.ifaces.first())
        .map(|i| clean(i).into_owned())?;
    let s_key = f.stateful_rule.key();
    let b_key = bypassed.key();
    let s_dir = stateful.direction;
    let s_if = iface_of(stateful);
    // Which request hop creates the state: the stateful rule's own pass.
    let creates = |dir: Direction, iface: &str| {
        s_dir.is_none_or(|d| d == dir) && s_if.as_deref().is_none_or(|i| i == iface)
    };
    let request_hop = |dir: Direction, iface: &str, role: &'static str| Hop {
        label: "request",
        interface: iface.to_string(),
        direction: Some(dir),
        role,
        decided_by: if creates(dir, iface) {
            format!("{s_key} passes it and keeps state")
        } else {
            "the ruleset".to_string()
        },
        bypassed: false,
    };
    let request = vec![
        request_hop(Direction::In, &tunnel, "tunnel"),
        request_hop(Direction::Out, &lan, "LAN"),
    ];
    let reply = vec![
        Hop {
            label: "reply",
            interface: lan.clone(),
            direction: routing.direction.or(Some(Direction::In)),
            role: "LAN",
            decided_by: format!("state of {s_key}: ruleset skipped, {b_key} route-to not run"),
            bypassed: true,
        },
        Hop {
            label: "reply",
            interface: "routing table".to_string(),
            direction: None,
            role: "",
            decided_by: format!("default route, not {tunnel} ({b_key})"),
            bypassed: true,
        },
    ];
    Some(PathDiagram {
        request,
        reply,
        outcome: format!(
            "client: replies come back by the wrong way, not through {tunnel} (dropped upstream)"
        ),
    })
}

/// The diagram as lines for the details pane:
///
/// ```text
/// path (✗: bypassed)
/// client
///   │ request in  gif0           tunnel  the ruleset
///   │ request out em1            LAN     @14 passes it and keeps state
///   ▼
/// server
///   │ reply   in  em1            LAN   ✗ state of @14: …
///   │ reply       routing table        ✗ default route, not gif0 (@17)
///   ▼
/// client: replies come back by the wrong way …
/// ```
pub fn lines(d: &PathDiagram, t: Theme) -> Vec<Line<'static>> {
    let all: Vec<&Hop> = d.request.iter().chain(&d.reply).collect();
    let iface_w = all
        .iter()
        .map(|h| h.interface.chars().count())
        .max()
        .unwrap_or(0);
    let role_w = all.iter().map(|h| h.role.len()).max().unwrap_or(0);
    let hop_line = |h: &Hop| {
        let dir = match h.direction {
            Some(Direction::In) => "in ",
            Some(Direction::Out) => "out",
            None => "   ",
        };
        let mark = if h.bypassed {
            format!("{BYPASS_SYMBOL} ")
        } else {
            "  ".to_string()
        };
        let style = if h.bypassed { t.spurious() } else { t.label() };
        Line::from(vec![
            Span::raw("  │ "),
            Span::raw(format!(
                "{:<7} {dir} {:<iface_w$} {:<role_w$} ",
                h.label, h.interface, h.role
            )),
            Span::styled(format!("{mark}{}", h.decided_by), style),
        ])
    };
    let mut out = vec![Line::from(vec![
        Span::styled("path", t.title()),
        Span::styled(format!(" ({BYPASS_SYMBOL}: bypassed)"), t.label()),
    ])];
    out.push(Line::from("client"));
    out.extend(d.request.iter().map(hop_line));
    out.push(Line::from("  ▼"));
    out.push(Line::from("server"));
    out.extend(d.reply.iter().map(hop_line));
    out.push(Line::from("  ▼"));
    out.push(Line::from(Span::styled(d.outcome.clone(), t.spurious())));
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hops_come_in_order_and_the_bypass_is_marked() {
        let d = PathDiagram {
            request: vec![Hop {
                label: "request",
                interface: "gif0".into(),
                direction: Some(Direction::In),
                role: "tunnel",
                decided_by: "the ruleset".into(),
                bypassed: false,
            }],
            reply: vec![Hop {
                label: "reply",
                interface: "em1".into(),
                direction: Some(Direction::In),
                role: "LAN",
                decided_by: "state of @14".into(),
                bypassed: true,
            }],
            outcome: "dropped".into(),
        };
        let text: Vec<String> = lines(&d, Theme::new(false))
            .iter()
            .map(ToString::to_string)
            .collect();
        let at = |needle: &str| text.iter().position(|l| l.contains(needle)).unwrap();
        assert!(at("client") < at("gif0"));
        assert!(at("gif0") < at("server"));
        assert!(at("server") < at("em1"));
        assert!(text[at("em1")].contains("✗ state of @14"));
        assert!(!text[at("gif0")].contains('✗'));
    }
}
