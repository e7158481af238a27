//! The states pane: the states the selected rule created (server states,
//! or all of them with `A`). States new since the previous poll are marked.

use ratatui::Frame;
use ratatui::layout::{Constraint, Rect};
use ratatui::text::Line;
use ratatui::widgets::{Cell, HighlightSpacing, Row, Table, TableState};

use crate::model::State;
use crate::tui::app::{App, Filter, Focus};
use crate::tui::theme::{NEW_SYMBOL, OLDER_SYMBOL, SELECTED_SYMBOL, SERVER_SYMBOL};
use crate::tui::view::format::{clean, cut, endpoint, fit_middle, hms, pair, state_pair};
use crate::tui::view::rules::pane;

/// What the first column says about a state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    None,
    /// New since the previous poll.
    New,
    /// Older than the last ruleset change.
    Older,
}

fn mark(snap: &crate::tui::snapshot::Snapshot, i: u32) -> Mark {
    if snap.is_new(i) {
        Mark::New
    } else if snap.is_older(i) {
        Mark::Older
    } else {
        Mark::None
    }
}

/// One column of the states table: its title and the visible rows' text.
struct Column {
    title: &'static str,
    cells: Vec<String>,
    /// Source and destination shrink (in proportion to their need) when the
    /// screen is too narrow; the other columns keep their width.
    elastic: bool,
    /// The width given when it is less than the need (elastic columns).
    fitted: Option<u16>,
}

impl Column {
    fn new(title: &'static str, cells: Vec<String>) -> Self {
        Column {
            title,
            cells,
            elastic: false,
            fitted: None,
        }
    }

    fn need(&self) -> u16 {
        let widest = self
            .cells
            .iter()
            .map(|c| c.chars().count())
            .max()
            .unwrap_or(0);
        widest.max(self.title.chars().count()) as u16
    }
}

/// The columns for the visible states, fitted to `width`: optional columns
/// (expiry, packets, bytes) only when they fit, the state pair abbreviated
/// when narrow.
fn columns(visible: &[(&State, Mark, bool)], width: u16, server_marks: bool) -> Vec<Column> {
    let cells = |f: &dyn Fn(&State) -> String| visible.iter().map(|(s, _, _)| f(s)).collect();
    let marks = visible
        .iter()
        .map(|(_, m, _)| match m {
            Mark::New => NEW_SYMBOL,
            Mark::Older => OLDER_SYMBOL,
            Mark::None => " ",
        })
        .map(str::to_string)
        .collect();
    let mut cols = vec![
        Column::new("", marks),
        Column::new("If", cells(&|s| clean(&s.iface).into_owned())),
        Column::new("Dir", cells(&|s| s.direction.to_string())),
        Column::new("Proto", cells(&|s| clean(&s.proto).into_owned())),
        Column {
            elastic: true,
            ..Column::new("Source", cells(&|s| endpoint(&s.src, s.src_nat.as_deref())))
        },
        Column {
            elastic: true,
            ..Column::new(
                "Destination",
                cells(&|s| endpoint(&s.dst, s.dst_nat.as_deref())),
            )
        },
        Column::new("State", cells(&|s| state_pair(s, false))),
        Column::new("Age", cells(&|s| s.age.map(hms).unwrap_or_default())),
    ];
    if server_marks {
        let marks = visible
            .iter()
            .map(|(_, _, server)| if *server { SERVER_SYMBOL } else { " " })
            .map(str::to_string)
            .collect();
        cols.insert(1, Column::new("S", marks));
    }
    let used = |cols: &[Column]| -> u16 {
        cols.iter().map(Column::need).sum::<u16>() + cols.len() as u16 - 1
    };
    if used(&cols) > width
        && let Some(c) = cols.iter_mut().find(|c| c.title == "State")
    {
        *c = Column::new("State", cells(&|s| state_pair(s, true)));
    }
    // Narrow screens: the columns that tell states apart least go first,
    // while the addresses would get less than 14 columns each.
    for title in ["Proto", "If", "Dir", "Age", "State"] {
        let elastic: u16 = cols.iter().filter(|c| c.elastic).count() as u16;
        let fixed: u16 = cols
            .iter()
            .filter(|c| !c.elastic)
            .map(Column::need)
            .sum::<u16>()
            + cols.len() as u16
            - 1;
        if width.saturating_sub(fixed) >= 14 * elastic {
            break;
        }
        cols.retain(|c| c.title != title);
    }
    for (title, f) in [
        (
            "Expires",
            &(|s: &State| s.expires.map(hms).unwrap_or_default()) as &dyn Fn(&State) -> String,
        ),
        ("Packets", &|s: &State| pair(s.packets)),
        ("Bytes", &|s: &State| pair(s.bytes)),
    ] {
        let col = Column::new(title, cells(f));
        // The column and the one space before it.
        if used(&cols) + col.need() < width {
            cols.push(col);
        }
    }
    cols
}

/// Source and destination share what the other columns leave, in
/// proportion to their need; cut in the middle when they must shrink.
fn fit_elastic(cols: &mut [Column], width: u16) {
    let fixed: u16 = cols.iter().filter(|c| !c.elastic).map(Column::need).sum();
    let free = width.saturating_sub(fixed + cols.len() as u16 - 1);
    let need: u16 = cols.iter().filter(|c| c.elastic).map(Column::need).sum();
    if need <= free || need == 0 {
        return;
    }
    let mut left = free;
    let elastic: Vec<usize> = (0..cols.len()).filter(|i| cols[*i].elastic).collect();
    for (k, i) in elastic.iter().enumerate() {
        let share = if k + 1 == elastic.len() {
            left
        } else {
            (u32::from(free) * u32::from(cols[*i].need()) / u32::from(need)) as u16
        };
        left = left.saturating_sub(share);
        cols[*i].fitted = Some(share);
        for cell in &mut cols[*i].cells {
            *cell = fit_middle(cell, usize::from(share));
        }
    }
}

fn constraints(cols: &[Column]) -> Vec<Constraint> {
    cols.iter()
        .map(|c| Constraint::Length(c.fitted.unwrap_or_else(|| c.need())))
        .collect()
}

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let block = pane(app, title(app, area.width), Focus::States);
    let Some(snap) = &app.snapshot else {
        frame.render_widget(block, area);
        return;
    };
    if app.states.rows.is_empty() {
        let text = if app.current_row().is_none() {
            "select a rule to see its states"
        } else if app.states.pending {
            "loading…"
        } else {
            "no states to show for this rule"
        };
        super::render_placeholder(frame, area, block, text);
        return;
    }
    let height = app.areas.states_body.height as usize;
    let servers = &snap.analysis.servers;
    // Only the rows on screen are built from the compact store.
    let shown: Vec<(State, Mark, bool)> = app
        .states
        .rows
        .iter()
        .skip(app.states.offset)
        .take(height)
        .filter_map(|i| {
            snap.state(*i).map(|s| {
                let server = servers.matches(&s);
                (s, mark(snap, *i), server)
            })
        })
        .collect();
    let visible: Vec<(&State, Mark, bool)> = shown
        .iter()
        .map(|(s, m, server)| (s, *m, *server))
        .collect();
    // Inside the borders, less the selection symbol's columns.
    let width = area
        .width
        .saturating_sub(2 + SELECTED_SYMBOL.chars().count() as u16);
    let server_marks = server_marks(app);
    let mut cols = columns(&visible, width, server_marks);
    fit_elastic(&mut cols, width);
    let rows: Vec<Row> = visible
        .iter()
        .enumerate()
        .map(|(i, (_, m, server))| {
            let cells = cols.iter().map(|c| Cell::from(c.cells[i].clone()));
            let row = Row::new(cells);
            // With all states shown, the server states stand out.
            let other = server_marks && !server;
            match m {
                Mark::New => row.style(app.theme.new_state()),
                Mark::Older => row.style(app.theme.dim()),
                Mark::None if other => row.style(app.theme.dim()),
                Mark::None => row,
            }
        })
        .collect();
    let header = Row::new(cols.iter().map(|c| c.title)).style(app.theme.table_header());
    let selected_style = if app.focus == Focus::States {
        app.theme.selected()
    } else {
        app.theme.selected_unfocused()
    };
    let table = Table::new(rows, constraints(&cols))
        .header(header)
        .block(block)
        .row_highlight_style(selected_style)
        .highlight_symbol(SELECTED_SYMBOL)
        .highlight_spacing(HighlightSpacing::Always);
    let mut state = TableState::default()
        .with_selected(Some(app.states.cursor.saturating_sub(app.states.offset)));
    frame.render_stateful_widget(table, area, &mut state);
}

/// The all-states view marks the server's states (when servers are given).
fn server_marks(app: &App) -> bool {
    app.states.show_all
        && app
            .snapshot
            .as_ref()
            .is_some_and(|s| !s.analysis.servers.nets.is_empty())
}

/// States below the pane's last row (the pane says so: `3 more ↓`).
pub fn hidden_below(app: &App) -> usize {
    let shown = usize::from(app.areas.states_body.height);
    app.states
        .rows
        .len()
        .saturating_sub(app.states.offset + shown)
}

/// The pane's title; the short form when the long one does not fit the
/// pane's `width`, cut with `…` when even that does not.
fn title(app: &App, width: u16) -> Line<'static> {
    let Some(row) = app.current_row() else {
        return Line::from(" States ");
    };
    let which = if app.states.show_all { "" } else { "server " };
    let n = app.states.rows.len();
    let plural = if n == 1 { "" } else { "s" };
    let below = hidden_below(app);
    let pending = app.states.pending;
    // Three forms, longest first: the first that fits is shown.
    let mut long = format!(" States of {} · {n} {which}state{plural}", row.key);
    let mut medium = long.clone();
    let mut short = format!(" {} · {n}", row.key);
    let mut all = |text: &str| {
        long.push_str(text);
        medium.push_str(text);
    };
    if let Filter::Net(net) = &app.filter.parsed {
        all(&format!(" touching {net}"));
        short.push_str(" filtered");
    }
    if app.states.new > 0 {
        all(&format!(" · {} new ({NEW_SYMBOL})", app.states.new));
        short.push_str(&format!(" · {} new", app.states.new));
    }
    if app.states.offset > 0 {
        all(&format!(" · {} above ↑", app.states.offset));
        short.push_str(&format!(" · {}↑", app.states.offset));
    }
    if below > 0 {
        all(&format!(" · {below} more ↓"));
        short.push_str(&format!(" · {below} more ↓"));
    }
    if server_marks(app) {
        all(&format!(" · {SERVER_SYMBOL} server's"));
    }
    if pending {
        long.push_str(" · all states from the next poll");
        medium.push_str(" · rest next poll");
        short.push_str(" · all: next poll");
    }
    long.push_str(if app.states.show_all {
        " · A: server only "
    } else {
        " · A: all states "
    });
    medium.push(' ');
    short.push(' ');
    let room = usize::from(width.saturating_sub(2));
    let fits = |t: &String| t.chars().count() <= room;
    let chosen = if fits(&long) {
        long
    } else if fits(&medium) {
        medium
    } else {
        cut(&short, room)
    };
    Line::from(chosen)
}
