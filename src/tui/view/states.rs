//! The states pane: the states the selected rule created (server states,
//! or all of them with `A`). States new since the previous poll are marked.

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, HighlightSpacing, Paragraph, Row, Table, TableState};

use crate::model::State;
use crate::tui::app::{App, Filter, Focus};
use crate::tui::theme::{NEW_SYMBOL, SELECTED_SYMBOL, Theme};
use crate::tui::view::format::{clean, endpoint, hms, pair, state_pair};
use crate::tui::view::rules::pane;

/// Which optional columns fit.
#[derive(Debug, Clone, Copy)]
struct Columns {
    expires: bool,
    counters: bool,
    narrow_state: bool,
}

impl Columns {
    fn for_width(w: u16) -> Self {
        Columns {
            expires: w >= 130,
            counters: w >= 110,
            narrow_state: w < 110,
        }
    }
}

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let block = pane(app, title(app), Focus::States);
    let Some(snap) = &app.snapshot else {
        frame.render_widget(block, area);
        return;
    };
    if app.states.is_empty() {
        let text = if app.current_row().is_none() {
            "select a rule to see its states"
        } else if app.states_pending {
            "loading…"
        } else {
            "no states to show for this rule"
        };
        frame.render_widget(
            Paragraph::new(text)
                .alignment(Alignment::Center)
                .block(block),
            area,
        );
        return;
    }
    let cols = Columns::for_width(area.width.saturating_sub(2));
    let height = app.areas.states_body.height as usize;
    let visible: Vec<(&State, bool)> = app
        .states
        .iter()
        .skip(app.state_offset)
        .take(height)
        .filter_map(|i| snap.state(*i).map(|s| (s, snap.is_new(*i))))
        .collect();
    // Source and destination share the free width in proportion to what the
    // visible rows need, so neither is cut while the other has room.
    let need = |f: fn(&State) -> String| visible.iter().map(|(s, _)| f(s).len()).max().unwrap_or(0);
    let src_w = need(|s| endpoint(&s.src, s.src_nat.as_ref())).max(6) as u16;
    let dst_w = need(|s| endpoint(&s.dst, s.dst_nat.as_ref())).max(11) as u16;
    let rows: Vec<Row> = visible
        .iter()
        .map(|(s, new)| row(s, *new, cols, app.theme))
        .collect();
    let selected_style = if app.focus == Focus::States {
        app.theme.selected()
    } else {
        app.theme.selected_unfocused()
    };
    let table = Table::new(rows, widths(cols, src_w, dst_w))
        .header(header(cols).style(app.theme.table_header()))
        .block(block)
        .row_highlight_style(selected_style)
        .highlight_symbol(SELECTED_SYMBOL)
        .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default()
        .with_selected(Some(app.state_cursor.saturating_sub(app.state_offset)));
    frame.render_stateful_widget(table, area, &mut state);
}

fn title(app: &App) -> Line<'static> {
    let Some(row) = app.current_row() else {
        return Line::from(" States ");
    };
    let which = if app.show_all_states {
        "all states"
    } else {
        "server states"
    };
    let mut text = format!(" States of {} · {} {which}", row.key, app.states.len());
    if let Filter::Net(net) = &app.filter {
        text.push_str(&format!(" touching {net}"));
    }
    if app.states_new > 0 {
        text.push_str(&format!(" · {} new ({NEW_SYMBOL})", app.states_new));
    }
    if app.states_pending {
        text.push_str(" · loading…");
    }
    text.push_str(if app.show_all_states {
        " · A: server only "
    } else {
        " · A: all states "
    });
    Line::from(text)
}

fn header(cols: Columns) -> Row<'static> {
    let mut cells = vec!["", "Dir", "Proto", "Source", "Destination", "State", "Age"];
    if cols.expires {
        cells.push("Expires");
    }
    if cols.counters {
        cells.extend(["Packets", "Bytes"]);
    }
    Row::new(cells)
}

fn widths(cols: Columns, src: u16, dst: u16) -> Vec<Constraint> {
    let mut w = vec![
        Constraint::Length(1),
        Constraint::Length(3),
        Constraint::Length(5),
        Constraint::Fill(src),
        Constraint::Fill(dst),
        Constraint::Length(if cols.narrow_state { 11 } else { 23 }),
        Constraint::Length(8),
    ];
    if cols.expires {
        w.push(Constraint::Length(8));
    }
    if cols.counters {
        w.extend([Constraint::Length(9), Constraint::Length(11)]);
    }
    w
}

fn row(s: &State, new: bool, cols: Columns, t: Theme) -> Row<'static> {
    let mut cells = vec![
        Cell::from(if new { NEW_SYMBOL } else { " " }),
        Cell::from(s.direction.to_string()),
        Cell::from(clean(&s.proto).into_owned()),
        Cell::from(endpoint(&s.src, s.src_nat.as_ref())),
        Cell::from(endpoint(&s.dst, s.dst_nat.as_ref())),
        Cell::from(state_pair(s, cols.narrow_state)),
        Cell::from(s.age.map(hms).unwrap_or_default()),
    ];
    if cols.expires {
        cells.push(Cell::from(s.expires.map(hms).unwrap_or_default()));
    }
    if cols.counters {
        cells.push(Cell::from(pair(s.packets)));
        cells.push(Cell::from(pair(s.bytes)));
    }
    let row = Row::new(cells);
    if new { row.style(t.new_state()) } else { row }
}
