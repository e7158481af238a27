//! The details pane: the selected rule in full (text, counters, verdict and
//! its reason), its findings (which routing rule its states make replies
//! skip, the path, the fix) and the selected state's `-vv` fields.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::analyze::{Analysis, Resolution, RuleRow, Verdict};
use crate::lint::{Finding, FindingSeverity};
use crate::model::State;
use crate::tui::app::{App, Focus};
use crate::tui::theme::BYPASS_SYMBOL;
use crate::tui::theme::Theme;
use crate::tui::view::format::{clean, endpoint, hms, human, pair, wrap_lines};
use crate::tui::view::rules::pane;

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let (at, max) = (app.details.scroll, app.details.max_scroll);
    let left = max - at;
    let more = if max == 0 {
        String::new()
    } else if app.focus == Focus::Details {
        format!(" · ↑↓ scroll {at}/{max}")
    } else {
        // Say how to get there: ↑↓ move the rules until the pane has focus.
        let s = if left == 1 { "" } else { "s" };
        format!(" · {left} more line{s} below: Tab, then ↓")
    };
    let long = format!(" Details · Enter: close{more} ");
    let room = usize::from(area.width.saturating_sub(2));
    let title = if long.chars().count() <= room {
        long
    } else if left > 0 {
        crate::tui::view::format::cut(&format!(" Details · {left} more ↓ "), room)
    } else {
        crate::tui::view::format::cut(" Details ", room)
    };
    let title = Line::from(title);
    let block = pane(app, title, Focus::Details);
    let lines = lines(app, area.width.saturating_sub(2));
    let p = Paragraph::new(lines)
        .block(block)
        .scroll((app.details.scroll, 0));
    frame.render_widget(p, area);
}

/// The pane's content wrapped to `width` columns: one entry per screen row.
pub fn lines(app: &App, width: u16) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let t = app.theme;
    let snap = app.snapshot.as_ref();
    let generation = snap.map_or(0, |s| s.analysis.generation.number);
    match (app.current_row(), app.current_row_index(), snap) {
        (Some(row), Some(index), Some(snap)) => {
            rule_lines(row, t, &mut lines);
            change_lines(row, generation, t, &mut lines);
            path_lines(&snap.analysis, index, t, &mut lines);
            finding_lines(&snap.analysis, index, t, &mut lines);
            lines.push(Line::from(""));
            count_lines(row, t, &mut lines);
            history_lines(
                &snap.history.of(row.key),
                snap.history.polls(),
                t,
                &mut lines,
            );
        }
        _ => lines.push(Line::from("no rule selected")),
    }
    if let Some(state) = app.current_state() {
        lines.push(Line::from(""));
        state_lines(&state, t, &mut lines);
    }
    wrap_lines(lines, width)
}

/// The row's findings, as `report` prints them: the headline (which
/// routing rule the states make replies skip), the skipped rule as listed,
/// then the path and the fix.
fn finding_lines(a: &Analysis, index: usize, t: Theme, out: &mut Vec<Line<'static>>) {
    let findings: Vec<&Finding> = a.findings_for(index).collect();
    if findings.is_empty() {
        return;
    }
    for f in findings {
        out.push(Line::from(""));
        let text = crate::lint::render::finding_lines(f);
        let (headline, rest) = text
            .split_first()
            .map_or(("", &[][..]), |(h, r)| (h.as_str(), r));
        let (mark, style) = match f.severity {
            FindingSeverity::Error => (format!("{BYPASS_SYMBOL} "), t.spurious()),
            FindingSeverity::Warning => ("! ".to_string(), t.warning()),
        };
        out.push(Line::from(Span::styled(format!("{mark}{headline}"), style)));
        let skipped = crate::report::skipped_line(f).map(|l| format!("  {l}"));
        for line in skipped.iter().chain(rest) {
            out.push(labelled(line, t));
        }
    }
}

/// The first bypass of the row, drawn as the connection's hops.
fn path_lines(a: &Analysis, index: usize, t: Theme, out: &mut Vec<Line<'static>>) {
    let diagram = a
        .findings_for(index)
        .find_map(|f| super::path::from_finding(f, a));
    if let Some(d) = diagram {
        out.push(Line::from(""));
        out.extend(super::path::lines(&d, t));
    }
}

/// Rows of the details pane's history chart.
const CHART_ROWS: usize = 3;

/// New server states per poll over the last polls, as a small bar chart:
/// a fix that works shows as the bars dropping to the baseline.
fn history_lines(values: &[u64], polls: usize, t: Theme, out: &mut Vec<Line<'static>>) {
    if values.is_empty() {
        return;
    }
    let max = values.iter().copied().max().unwrap_or(0);
    let last = values.last().copied().unwrap_or(0);
    out.push(Line::from(vec![
        label(t, "new server states per poll: "),
        Span::raw(format!(
            "last {polls} poll{}, most {max}, now {last}",
            if polls == 1 { "" } else { "s" }
        )),
    ]));
    for row in crate::tui::view::format::chart(values, CHART_ROWS) {
        out.push(Line::from(vec![
            Span::raw("  "),
            Span::styled(row, t.trend()),
        ]));
    }
}

/// `  path: text` with the label styled; the text is already neutralised.
fn labelled(line: &str, t: Theme) -> Line<'static> {
    match line.split_once(": ") {
        Some((key, text)) if !key.trim().contains(' ') => Line::from(vec![
            Span::styled(format!("{key}: "), t.label()),
            Span::raw(text.to_string()),
        ]),
        _ => Line::from(line.to_string()),
    }
}

fn label(t: Theme, text: &'static str) -> Span<'static> {
    Span::styled(text, t.label())
}

/// The rule's pf counters and its states in this poll.
fn count_lines(row: &RuleRow, t: Theme, out: &mut Vec<Line<'static>>) {
    if let Some(c) = row.rule.as_ref().and_then(|r| r.counters.as_ref()) {
        let created = c
            .state_creations
            .map(|n| format!(", {n} created"))
            .unwrap_or_default();
        out.push(Line::from(vec![
            label(t, "counters: "),
            Span::raw(format!(
                "{} evaluations, {} packets, {} bytes, {} states{created}",
                c.evaluations,
                c.packets,
                human(c.bytes),
                c.states
            )),
        ]));
    }
    out.push(Line::from(vec![
        label(t, "states: "),
        Span::raw(format!(
            "{} server, {} in all",
            row.server_states, row.all_states
        )),
        Span::raw(match (row.new_states, row.gone_states) {
            (Some(n), Some(g)) => format!(", {n} new and {g} gone since the previous poll"),
            _ => String::new(),
        }),
    ]));
}

/// The rule, its text and the verdict: what matters first.
fn rule_lines(row: &RuleRow, t: Theme, out: &mut Vec<Line<'static>>) {
    let anchor = if row.anchor_path.is_empty() {
        "main ruleset".to_string()
    } else {
        format!("anchor {}", clean(&row.anchor_path))
    };
    out.push(Line::from(vec![
        Span::styled(format!("Rule {}", row.key), t.title()),
        Span::raw(format!(" ({anchor})")),
    ]));
    match &row.rule {
        Some(rule) => out.push(Line::from(clean(&rule.text).into_owned())),
        None => out.push(Line::from(resolution_text(row))),
    }
    let (verdict, style) = match row.verdict {
        Some(Verdict::Bypass) => ("BYPASS", t.spurious()),
        Some(Verdict::Blocked) => ("BLOCKED", t.spurious()),
        Some(v) => (v.word(), t.allowed()),
        None => ("no verdict", t.dim()),
    };
    let mut verdict_line = vec![label(t, "verdict: "), Span::styled(verdict, style)];
    if !row.reason.is_empty() {
        verdict_line.push(Span::raw(format!(" — {}", clean(&row.reason))));
    }
    out.push(Line::from(verdict_line));
    if !matches!(row.resolution, Resolution::Found) && row.rule.is_some() {
        out.push(Line::from(vec![
            label(t, "note: "),
            Span::raw(resolution_text(row)),
        ]));
    }
}

/// Whether the row's rule is from an earlier ruleset (the analysis's reason
/// already says which of its states are older or do not fit).
fn change_lines(row: &RuleRow, current: u32, t: Theme, out: &mut Vec<Line<'static>>) {
    if row.generation < current && row.rule.is_some() {
        out.push(Line::from(vec![
            label(t, "ruleset: "),
            Span::styled(
                format!(
                    "this rule is from generation {} (now {current}); states made before the reload keep it",
                    row.generation
                ),
                t.warning(),
            ),
        ]));
    }
}

fn resolution_text(row: &RuleRow) -> String {
    match row.resolution {
        Resolution::Found => String::new(),
        Resolution::DefaultRule => {
            "pf's default rule: these states carry no rule number".to_string()
        }
        Resolution::Missing => format!(
            "no rule {} in the current ruleset: it was probably reloaded after these states were created",
            row.key
        ),
        Resolution::Ambiguous { candidates } => {
            format!("{candidates} rules could be meant (nested or wildcard anchors)")
        }
    }
}

fn state_lines(s: &State, t: Theme, out: &mut Vec<Line<'static>>) {
    out.push(Line::from(vec![
        Span::styled("State ", t.title()),
        Span::raw(format!(
            "{} {} {} {} → {}  {}:{}",
            clean(&s.iface),
            clean(&s.proto),
            s.direction,
            endpoint(&s.src, s.src_nat.as_deref()),
            endpoint(&s.dst, s.dst_nat.as_deref()),
            clean(&s.src_state),
            clean(&s.dst_state),
        )),
    ]));
    let mut times = vec![];
    if let Some(a) = s.age {
        times.push(format!("age {}", hms(a)));
    }
    if let Some(e) = s.expires {
        times.push(format!("expires in {}", hms(e)));
    }
    if s.packets.is_some() {
        times.push(format!("packets {}", pair(s.packets)));
    }
    if s.bytes.is_some() {
        times.push(format!("bytes {}", pair(s.bytes)));
    }
    if !times.is_empty() {
        out.push(Line::from(times.join(", ")));
    }
    let mut ids = vec![Span::raw(match s.id {
        Some(id) => format!("id {id:016x}"),
        None => "id (not printed: needs -vv)".to_string(),
    })];
    if let Some(c) = s.creator_id {
        ids.push(Span::raw(format!(", creator {c:08x}")));
    }
    out.push(Line::from(ids));
    let route = match &s.route {
        Some(r) => {
            let addr = r.addr.as_ref().map(|a| clean(&a.to_string()).into_owned());
            let iface = r.iface.as_ref().map(|i| format!("@{}", clean(i)));
            format!(
                "{} {}{}",
                r.kind,
                addr.unwrap_or_default(),
                iface.unwrap_or_default()
            )
        }
        None => "none printed (replies follow the routing table)".to_string(),
    };
    out.push(Line::from(vec![label(t, "route: "), Span::raw(route)]));
    let mut extra = Vec::new();
    if !s.flags.is_empty() {
        let flags: Vec<String> = s.flags.iter().map(|f| clean(f).into_owned()).collect();
        extra.push(format!("flags: {}", flags.join(", ")));
    }
    if let Some(rt) = s.rtable {
        extra.push(format!("rtable {rt}"));
    }
    if let Some(o) = &s.origif {
        extra.push(format!("origif {}", clean(o)));
    }
    if let Some(g) = &s.gateway {
        extra.push(format!("gateway {}", clean(&g.to_string())));
    }
    extra.push(format!("line {} of the states listing", s.line));
    out.push(Line::from(extra.join(", ")));
}
