//! The rules table: one row per rule that created states (or every rule,
//! with `a`). Spurious rules are bold (red with colour) and marked `!`.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Block, BorderType, Borders, Cell, HighlightSpacing, Paragraph, Row, Table, TableState,
};

use crate::analyze::{RuleRow, Verdict};
use crate::tui::app::{App, Filter, Focus, SortColumn};
use crate::tui::theme::{SELECTED_SYMBOL, SPURIOUS_SYMBOL, Theme};
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
        frame.render_widget(
            Paragraph::new(text)
                .alignment(Alignment::Center)
                .block(block),
            area,
        );
        return;
    };
    let rows = &snap.analysis.rows;
    if app.rules.is_empty() {
        frame.render_widget(
            Paragraph::new(empty_message(app))
                .alignment(Alignment::Center)
                .block(block),
            area,
        );
        return;
    }
    let height = app.areas.rules_body.height as usize;
    let visible = app.rules.iter().skip(app.rule_offset).take(height);
    let table_rows: Vec<Row> = visible
        .filter_map(|i| rows.get(*i))
        .map(|r| row(r, app.theme, snap.analysis.generation.number))
        .collect();
    let header = Row::new(
        [
            ("", None),
            ("Rule", Some(SortColumn::Rule)),
            ("Rule text", None),
            ("Server", Some(SortColumn::ServerStates)),
            ("All", Some(SortColumn::AllStates)),
            ("New/s", Some(SortColumn::Rate)),
            ("Verdict", Some(SortColumn::Verdict)),
        ]
        .map(|(name, col)| header_cell(app, name, col)),
    )
    .style(app.theme.table_header());
    let widths = [
        Constraint::Length(1),
        Constraint::Length(8),
        Constraint::Fill(1),
        Constraint::Length(7),
        Constraint::Length(7),
        Constraint::Length(6),
        Constraint::Length(8),
    ];
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

fn header_cell(app: &App, name: &'static str, col: Option<SortColumn>) -> Cell<'static> {
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

fn row(r: &RuleRow, t: Theme, generation: u32) -> Row<'static> {
    let (mark, verdict, style) = match r.verdict {
        Some(Verdict::Spurious) => (SPURIOUS_SYMBOL, "SPURIOUS", t.spurious()),
        Some(Verdict::Allowed) => (" ", "allowed", t.allowed()),
        None if r.server_states == 0 => (" ", "", t.dim()),
        None => (" ", "", Style::new()),
    };
    Row::new([
        Cell::from(Span::raw(mark)),
        Cell::from(rule_label(r, generation)),
        Cell::from(rule_short(r)),
        num(r.server_states),
        num(r.all_states),
        Cell::from(Line::from(rate(r.rate)).alignment(Alignment::Right)),
        Cell::from(verdict),
    ])
    .style(style)
}
