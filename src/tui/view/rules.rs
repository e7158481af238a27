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
use crate::tui::theme::{BYPASS_SYMBOL, POSSIBLE_SYMBOL, SELECTED_SYMBOL, SPURIOUS_SYMBOL, Theme};
use crate::tui::view::format::{rate, rule_label, rule_short};

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
    let block = pane(app, title(app), Focus::Rules);
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
    if app.rules.is_empty() {
        super::render_placeholder(frame, area, block, &empty_message(app));
        return;
    }
    let height = app.areas.rules_body.height as usize;
    let a = &snap.analysis;
    let cols = columns(app.areas.rules_body.width, !a.findings.is_empty());
    let table_rows: Vec<Row> = app
        .rules
        .iter()
        .skip(app.rule_offset)
        .take(height)
        .filter_map(|i| Some(row(a, *i, rows.get(*i)?, app.theme, &cols)))
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
    let mut state =
        TableState::default().with_selected(Some(app.rule_cursor.saturating_sub(app.rule_offset)));
    frame.render_stateful_widget(table, area, &mut state);
}

/// What a column of the rules table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnKind {
    Mark,
    Rule,
    Text,
    Server,
    All,
    Rate,
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

/// Below this body width the `All` column is left out: the rule text needs
/// the room more (the details pane still shows the count).
const ALL_COLUMN_MIN_WIDTH: u16 = 100;

/// The columns for a table body `width` columns wide; the Finding column
/// only when the analysis has findings (the rule text needs the room).
pub fn columns(width: u16, findings: bool) -> Vec<Column> {
    use ColumnKind as K;
    let mut spec = vec![
        (K::Mark, "", None, Constraint::Length(1)),
        (
            K::Rule,
            "Rule",
            Some(SortColumn::Rule),
            Constraint::Length(8),
        ),
        (K::Text, "Rule text", None, Constraint::Fill(1)),
        (
            K::Server,
            "Server",
            Some(SortColumn::ServerStates),
            Constraint::Length(7),
        ),
        (
            K::All,
            "All",
            Some(SortColumn::AllStates),
            Constraint::Length(7),
        ),
        (
            K::Rate,
            "New/s",
            Some(SortColumn::Rate),
            Constraint::Length(6),
        ),
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
    if width < ALL_COLUMN_MIN_WIDTH {
        spec.retain(|c| c.0 != K::All);
    }
    if !findings {
        spec.retain(|c| c.0 != K::Finding);
    }
    // As `Table` lays out: the selection symbol's column, then the
    // columns from the left, one space apart.
    let symbol = SELECTED_SYMBOL.chars().count() as u16;
    let area = Rect::new(symbol, 0, width.saturating_sub(symbol), 1);
    let rects = Layout::horizontal(spec.iter().map(|c| c.3))
        .spacing(1)
        .split(area);
    spec.iter()
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

/// `✗ bypass @17` fits; longer anchor keys are cut by the table.
const FINDING_WIDTH: u16 = 13;

fn header_cell(app: &App, column: &Column) -> Cell<'static> {
    let (name, col) = (column.name, column.sort);
    let arrow = match col {
        Some(c) if c == app.sort => {
            // Counts sort most first unless reversed; the rule column the other way.
            let ascending = (c == SortColumn::Rule) != app.reverse;
            if ascending { "▲" } else { "▼" }
        }
        _ => "",
    };
    let text = format!("{name}{arrow}");
    let right = matches!(
        col,
        Some(SortColumn::ServerStates | SortColumn::AllStates | SortColumn::Rate)
    );
    Cell::from(if right {
        Line::from(text).alignment(Alignment::Right)
    } else {
        Line::from(text)
    })
}

fn title(app: &App) -> Line<'static> {
    let what = if app.show_all_rules {
        "All rules"
    } else {
        "Rules with server states"
    };
    let total = app.snapshot.as_ref().map_or(0, |s| s.analysis.rows.len());
    let mut text = format!(" {what} ({} of {total})", app.rules.len());
    if !matches!(app.filter, Filter::None) {
        text.push_str(" · filtered");
    }
    text.push_str(&format!(
        " · sort: {}{} ",
        app.sort.name(),
        if app.reverse { ", reversed" } else { "" }
    ));
    Line::from(text)
}

fn empty_message(app: &App) -> String {
    if !matches!(app.filter, Filter::None) {
        "no rule matches the filter (Esc clears it)".to_string()
    } else if app.show_all_rules {
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

fn row(a: &Analysis, index: usize, r: &RuleRow, t: Theme, cols: &[Column]) -> Row<'static> {
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
        ColumnKind::Rule => Cell::from(rule_label(r, generation)),
        ColumnKind::Text => Cell::from(rule_short(r)),
        ColumnKind::Server => num(r.server_states),
        ColumnKind::All => num(r.all_states),
        ColumnKind::Rate => Cell::from(Line::from(rate(r.rate)).alignment(Alignment::Right)),
        ColumnKind::Verdict => Cell::from(verdict),
        ColumnKind::Finding => match finding_cell(a, index) {
            Some((text, FindingSeverity::Error)) => Cell::from(Span::styled(text, t.spurious())),
            Some((text, FindingSeverity::Warning)) => Cell::from(Span::styled(text, t.warning())),
            None => Cell::from(""),
        },
    });
    Row::new(cells).style(style)
}

/// The Finding cell of row `index`: its worst finding, in words that need no
/// colour. `✗ bypass @17` (replies skip routing rule @17), `? maybe @17` (a
/// bypass if a condition the listing cannot check holds), else the
/// severity; `+N` when more routing rules are skipped.
pub fn finding_cell(a: &Analysis, index: usize) -> Option<(String, FindingSeverity)> {
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
