//! The rules table: one row per rule that created states (or every rule,
//! with `a`). `bypass` and `blocked` rules are bold (red with colour) and marked `!`; the
//! Finding column says which routing rule their states make replies skip
//! (`✗ bypass @17`), readable without colour.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Borders, Cell, HighlightSpacing, Row, Table, TableState,
};

use crate::analyze::{Analysis, RuleRow, Verdict};
use crate::lint::{FindingKind, FindingSeverity};
use crate::tui::app::{App, Filter, Focus, SortColumn};
use crate::tui::snapshot::Snapshot;
use crate::tui::theme::{BYPASS_SYMBOL, POSSIBLE_SYMBOL, SELECTED_SYMBOL, SPURIOUS_SYMBOL, Theme};
use crate::tui::view::format::{cut, rate, rule_compact, rule_label, sparkline};

/// A bordered pane, its border bold when focused.
pub fn pane<'a>(app: &App, title: Line<'a>, focus: Focus) -> Block<'a> {
    let t = app.theme;
    let focused = app.focus == focus;
    Block::new()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Plain
        })
        .border_style(if focused {
            t.border_focused()
        } else {
            t.border()
        })
        .title(title)
}

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let block = pane(app, title(app, area.width), Focus::Rules);
    let Some(snap) = &app.snapshot else {
        let text = if app.error.is_some() {
            "no data: the first poll failed"
        } else {
            "waiting for the first poll…"
        };
        super::render_placeholder(frame, area, block, text);
        return;
    };
    let rows = &snap.analysis.rows;
    if app.rules.rows.is_empty() {
        super::render_placeholder(frame, area, block, &empty_message(app));
        return;
    }
    let height = app.areas.rules_body.height as usize;
    let cols = columns_of(app);
    let table_rows: Vec<Row> = app
        .rules
        .rows
        .iter()
        .skip(app.rules.offset)
        .take(height)
        .filter_map(|i| Some(row(snap, *i, rows.get(*i)?, app.theme, &cols)))
        .collect();
    let header = Row::new(cols.iter().map(|c| header_cell(app, c))).style(app.theme.table_header());
    let widths: Vec<Constraint> = cols.iter().map(|c| c.constraint).collect();
    let selected_style = if app.focus == Focus::Rules {
        app.theme.selected()
    } else {
        app.theme.selected_unfocused()
    };
    let table = Table::new(table_rows, widths)
        .header(header)
        .block(block)
        .row_highlight_style(selected_style)
        .highlight_symbol(SELECTED_SYMBOL)
        .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default()
        .with_selected(Some(app.rules.cursor.saturating_sub(app.rules.offset)));
    frame.render_stateful_widget(table, area, &mut state);
}

/// What a column of the rules table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Mark,
    /// The host of the row (a fleet, issue #17).
    Host,
    Rule,
    Text,
    Server,
    All,
    Rate,
    /// New server states per poll, over the last polls (a sparkline).
    Trend,
    Verdict,
    Finding,
}

/// One column of the rules table, and where it is inside the pane's body
/// (`x` from the body's left edge): the layout ratatui's `Table` makes, so
/// a click on a header finds its column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub kind: ColumnKind,
    pub name: &'static str,
    pub sort: Option<SortColumn>,
    pub constraint: Constraint,
    pub x: u16,
    pub width: u16,
}

/// What the columns' widths depend on, besides the screen: the widest
/// values of the visible rows (counts of 1–2 digits need 3 columns, not 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TableSpec {
    /// The analysis has findings (the Finding column is shown).
    pub findings: bool,
    pub rule: u16,
    pub server: u16,
    pub all: u16,
    pub rate: u16,
    /// The Host column's width; 0 when no row names a host (one firewall).
    pub host: u16,
}

impl TableSpec {
    /// The spec for the app's visible rows.
    pub fn of(app: &App) -> Self {
        let Some(snap) = &app.snapshot else {
            return TableSpec {
                findings: false,
                rule: 4,
                server: 3,
                all: 3,
                rate: 5,
                host: 0,
            };
        };
        let a = &snap.analysis;
        let rows = app.rules.rows.iter().filter_map(|i| a.rows.get(*i));
        let (mut rule, mut server, mut all, mut host) = (4, 3, 3, 0);
        for r in rows {
            if let Some(h) = &r.host {
                host = host.max(h.chars().count().clamp(4, 12));
            }
            rule = rule.max(rule_label(r, a.generation.number).chars().count());
            server = server.max(r.server_states.to_string().len());
            all = all.max(r.all_states.to_string().len());
        }
        // The sorted column's header has room for its arrow.
        let arrow = |col: SortColumn| usize::from(app.rules.sort == col);
        // Not the rule column: sorting by rule is the default, and on a
        // narrow screen its arrow would cost the rule text a column.
        let rule = rule.min(16);
        let server = server.max(3 + arrow(SortColumn::ServerStates));
        let all = all.max(3 + arrow(SortColumn::AllStates));
        let w = |n: usize| u16::try_from(n).unwrap_or(u16::MAX);
        TableSpec {
            findings: !a.findings.is_empty(),
            rule: w(rule),
            server: w(server),
            all: w(all),
            rate: w(5 + arrow(SortColumn::Rate)),
            host: w(host),
        }
    }
}

/// Columns leave the table in this order as the screen narrows (below the
/// body width given): the count of all states first, the verdict (the `!`
/// mark and the Finding say it) when findings exist, the sparkline, the
/// rate, last the finding (the header line still names the bypass).
const DROP_ALL_BELOW: u16 = 100;
const DROP_VERDICT_BELOW: u16 = 90;
const DROP_TREND_BELOW: u16 = 64;
const DROP_RATE_BELOW: u16 = 52;
const DROP_FINDING_BELOW: u16 = 44;
/// The sparkline's width: one cell per poll.
const TREND_WIDE: u16 = 10;
const TREND_NARROW: u16 = 6;

/// The columns for a table body `width` columns wide.
pub fn columns(width: u16, spec: TableSpec) -> Vec<Column> {
    use ColumnKind as K;
    let trend = if width >= DROP_ALL_BELOW {
        TREND_WIDE
    } else {
        TREND_NARROW
    };
    let mut cols = vec![
        (K::Mark, "", None, Constraint::Length(1)),
        (K::Host, "Host", None, Constraint::Length(spec.host)),
        (
            K::Rule,
            "Rule",
            Some(SortColumn::Rule),
            Constraint::Length(spec.rule),
        ),
        (K::Text, "Rule text", None, Constraint::Fill(1)),
        (
            K::Server,
            "Srv",
            Some(SortColumn::ServerStates),
            Constraint::Length(spec.server),
        ),
        (
            K::All,
            "All",
            Some(SortColumn::AllStates),
            Constraint::Length(spec.all),
        ),
        (
            K::Rate,
            "New/s",
            Some(SortColumn::Rate),
            Constraint::Length(spec.rate),
        ),
        (K::Trend, "Trend", None, Constraint::Length(trend)),
        (
            K::Verdict,
            "Verdict",
            Some(SortColumn::Verdict),
            Constraint::Length(8),
        ),
        (
            K::Finding,
            "Finding",
            Some(SortColumn::Finding),
            Constraint::Length(FINDING_WIDTH),
        ),
    ];
    let drop = |kind: K| match kind {
        K::All => width < DROP_ALL_BELOW,
        K::Verdict => spec.findings && width < DROP_VERDICT_BELOW,
        K::Trend => width < DROP_TREND_BELOW,
        K::Rate => width < DROP_RATE_BELOW,
        K::Finding => !spec.findings || width < DROP_FINDING_BELOW,
        K::Host => spec.host == 0,
        _ => false,
    };
    cols.retain(|c| !drop(c.0));
    // As `Table` lays out: the selection symbol's column, then the
    // columns from the left, one space apart.
    let symbol = SELECTED_SYMBOL.chars().count() as u16;
    let area = Rect::new(symbol, 0, width.saturating_sub(symbol), 1);
    let rects = Layout::horizontal(cols.iter().map(|c| c.3))
        .spacing(1)
        .split(area);
    cols.iter()
        .zip(rects.iter())
        .map(|((kind, name, sort, constraint), r)| Column {
            kind: *kind,
            name,
            sort: *sort,
            constraint: *constraint,
            x: r.x,
            width: r.width,
        })
        .collect()
}

/// The columns for the app's rules table as it is laid out now.
pub(crate) fn columns_of(app: &App) -> Vec<Column> {
    columns(app.areas.rules_body.width, TableSpec::of(app))
}

/// `✗ bypass @17` fits; longer anchor keys are cut with `…`.
const FINDING_WIDTH: u16 = 13;

fn header_cell(app: &App, column: &Column) -> Cell<'static> {
    let (name, col) = (column.name, column.sort);
    let arrow = match col {
        Some(c) if c == app.rules.sort => {
            // Counts sort most first unless reversed; the rule column the other way.
            let ascending = (c == SortColumn::Rule) != app.rules.reverse;
            if ascending { "▲" } else { "▼" }
        }
        _ => "",
    };
    // The arrow goes first when the column is narrow (the title names the sort).
    let with_arrow = format!("{name}{arrow}");
    let text = if with_arrow.chars().count() <= usize::from(column.width) {
        with_arrow
    } else {
        cut(name, usize::from(column.width))
    };
    let right = matches!(
        column.kind,
        ColumnKind::Server | ColumnKind::All | ColumnKind::Rate
    );
    Cell::from(if right {
        Line::from(text).alignment(Alignment::Right)
    } else {
        Line::from(text)
    })
}

/// The pane's title; a short form when the pane is narrow, cut with `…`
/// when even that does not fit.
fn title(app: &App, width: u16) -> Line<'static> {
    let what = if app.rules.show_all {
        "All rules"
    } else {
        "Rules with server states"
    };
    let total = app.snapshot.as_ref().map_or(0, |s| s.analysis.rows.len());
    let shown = app.rules.rows.len();
    let mut text = format!(" {what} ({shown} of {total})");
    let mut short = format!(
        " {} {shown}/{total}",
        if app.rules.show_all { "All" } else { "Rules" }
    );
    if !matches!(app.filter.parsed, Filter::None) {
        text.push_str(" · filtered");
        short.push_str(" filtered");
    }
    let reversed = if app.rules.reverse { ", reversed" } else { "" };
    text.push_str(&format!(" · sort: {}{reversed} ", app.rules.sort.name()));
    short.push_str(&format!(" · {} ", app.rules.sort.name()));
    let room = usize::from(width.saturating_sub(2));
    Line::from(if text.chars().count() <= room {
        text
    } else {
        cut(&short, room)
    })
}

fn empty_message(app: &App) -> String {
    if !matches!(app.filter.parsed, Filter::None) {
        "no rule matches the filter (Esc clears it)".to_string()
    } else if app.rules.show_all {
        "the rules listing is empty".to_string()
    } else {
        format!(
            "no rule created states for {} — a: show all rules",
            crate::tui::view::format::clean(&app.settings.servers)
        )
    }
}

fn num(n: u64) -> Cell<'static> {
    Cell::from(Line::from(n.to_string()).alignment(Alignment::Right))
}

fn row(snap: &Snapshot, index: usize, r: &RuleRow, t: Theme, cols: &[Column]) -> Row<'static> {
    let a = &snap.analysis;
    let (mark, verdict, style) = match r.verdict {
        Some(Verdict::Bypass) => (SPURIOUS_SYMBOL, "BYPASS", t.spurious()),
        Some(Verdict::Blocked) => (SPURIOUS_SYMBOL, "BLOCKED", t.spurious()),
        Some(v) => (" ", v.word(), t.allowed()),
        None if r.server_states == 0 => (" ", "", t.dim()),
        None => (" ", "", Style::new()),
    };
    let generation = a.generation.number;
    let cells = cols.iter().map(|c| match c.kind {
        ColumnKind::Mark => Cell::from(Span::raw(mark)),
        ColumnKind::Host => Cell::from(cut(
            &crate::sanitize::neutralize(r.host.as_deref().unwrap_or("")),
            usize::from(c.width),
        )),
        ColumnKind::Rule => Cell::from(cut(&rule_label(r, generation), usize::from(c.width))),
        ColumnKind::Text => Cell::from(rule_compact(r, usize::from(c.width))),
        ColumnKind::Server => num(r.server_states),
        ColumnKind::All => num(r.all_states),
        ColumnKind::Rate => Cell::from(Line::from(rate(r.rate)).alignment(Alignment::Right)),
        ColumnKind::Trend => Cell::from(Span::styled(
            sparkline(&snap.history.of(r.key), usize::from(c.width)),
            t.trend(),
        )),
        ColumnKind::Verdict => Cell::from(verdict),
        ColumnKind::Finding => match finding_cell(a, index) {
            Some((text, FindingSeverity::Error)) => {
                Cell::from(Span::styled(cut(&text, usize::from(c.width)), t.spurious()))
            }
            Some((text, FindingSeverity::Warning)) => {
                Cell::from(Span::styled(cut(&text, usize::from(c.width)), t.warning()))
            }
            None => Cell::from(""),
        },
    });
    Row::new(cells).style(style)
}

/// The Finding cell of row `index`: its worst finding, in words that need no
/// colour. `✗ bypass @17` (replies skip routing rule @17), `? maybe @17` (a
/// bypass if a condition the listing cannot check holds), else the
/// severity; `+N` when more routing rules are skipped.
pub(crate) fn finding_cell(a: &Analysis, index: usize) -> Option<(String, FindingSeverity)> {
    let worst = a.findings_for(index).map(|f| f.severity).max()?;
    let mut skipped: Vec<String> = Vec::new();
    let mut possible = false;
    for f in a.findings_for(index).filter(|f| f.severity == worst) {
        possible |= f.kind == FindingKind::PossibleBypass;
        if let Some(b) = &f.bypassed_rule {
            let label = b.key().to_string();
            if !skipped.contains(&label) {
                skipped.push(label);
            }
        }
    }
    let more = match skipped.len() {
        0 | 1 => String::new(),
        n => format!(" +{}", n - 1),
    };
    let text = match (worst, skipped.first()) {
        (FindingSeverity::Error, Some(k)) => format!("{BYPASS_SYMBOL} bypass {k}{more}"),
        (FindingSeverity::Warning, Some(k)) if possible => {
            format!("{POSSIBLE_SYMBOL} maybe {k}{more}")
        }
        (FindingSeverity::Error, None) => format!("{BYPASS_SYMBOL} error"),
        (FindingSeverity::Warning, _) => "warning".to_string(),
    };
    Some((text, worst))
}
