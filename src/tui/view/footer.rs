//! The footer: key hints from the key table, or the filter being typed.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::tui::action::{Binding, Command, KEYMAP};
use crate::tui::app::{App, Filter, Modal};
use crate::tui::view::format::{clean, cut};

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme;
    let mut spans = Vec::new();
    let w = usize::from(area.width);
    if let Modal::Jump(jump) = &app.modal {
        spans.push(Span::styled(":", t.key()));
        spans.push(Span::styled(clean(jump).into_owned(), t.filter()));
        spans.push(Span::styled("█", t.filter()));
        spans.push(Span::styled(
            cut(
                " rule to jump to (@17, relayd/0) · Enter go · Esc cancel",
                w.saturating_sub(jump.chars().count() + 2),
            ),
            t.label(),
        ));
        frame.render_widget(Paragraph::new(Line::from(spans)), area);
        return;
    }
    if let Some(copied) = &app.copied {
        // Plain text, whole (wrapped onto a second row when long), so the
        // terminal's own selection copies it: no escape sequences.
        let text = format!("y: {}", clean(copied));
        // Broken at a space, so each argument stays whole on one row.
        let mut rows: Vec<Line> = Vec::new();
        let mut row = String::new();
        for word in text.split(' ') {
            if !row.is_empty() && row.chars().count() + 1 + word.chars().count() > w {
                rows.push(Line::from(std::mem::take(&mut row)));
            }
            if !row.is_empty() {
                row.push(' ');
            }
            row.push_str(word);
        }
        rows.push(Line::from(row));
        frame.render_widget(Paragraph::new(rows).style(t.filter()), area);
        return;
    }
    if app.filter.editing || !app.filter.text.is_empty() {
        spans.push(Span::styled("/", t.key()));
        spans.push(Span::styled(
            clean(&app.filter.text).into_owned(),
            t.filter(),
        ));
        if app.filter.editing {
            spans.push(Span::styled("█", t.filter()));
        }
        let kind = match &app.filter.parsed {
            Filter::None => "type rule text or an address/prefix".to_string(),
            Filter::Text(_) => "rule text".to_string(),
            Filter::Net(net) => format!("address {net}"),
        };
        spans.push(Span::styled(format!(" ({kind})"), t.label()));
        let keys = if app.filter.editing {
            [("Enter", "keep"), ("Esc", "clear")]
        } else {
            [("/", "edit"), ("Esc", "clear")]
        };
        for (k, what) in keys {
            spans.push(Span::raw("  "));
            spans.push(Span::styled(k, t.key()));
            spans.push(Span::raw(format!(" {what}")));
        }
        if app.filter.editing {
            frame.render_widget(Paragraph::new(Line::from(spans)), area);
            return;
        }
        spans.push(Span::raw("  │ "));
    }
    let used: usize = spans.iter().map(|s| s.width()).sum();
    let room = usize::from(area.width).saturating_sub(used);
    for b in hints_that_fit(room, app.kill.is_allowed()) {
        spans.push(Span::styled(b.label, t.key()));
        spans.push(Span::raw(format!(" {}  ", b.footer.unwrap_or_default())));
    }
    frame.render_widget(Paragraph::new(Line::from(spans)), area);
}

/// Rows the footer needs at `width`: two when a copied command is longer
/// than the screen is wide.
pub fn height(app: &App, width: u16) -> u16 {
    match &app.copied {
        Some(c) if c.chars().count() + 3 > usize::from(width) => 2,
        _ => 1,
    }
}

/// The footer hints that fit in `room` columns, in key-table order. Help and
/// quit are chosen first, so a narrow screen still says how to leave.
/// `K` is hinted only when it can work (`--allow-kill`, live).
fn hints_that_fit(room: usize, kill: bool) -> Vec<&'static Binding> {
    let with_hint: Vec<&Binding> = KEYMAP
        .iter()
        .filter(|b| b.footer.is_some() && (kill || b.command != Command::Kill))
        .collect();
    let width =
        |b: &Binding| b.label.chars().count() + 1 + b.footer.map_or(0, |f| f.chars().count()) + 2;
    let mut order: Vec<usize> = (0..with_hint.len()).collect();
    order.sort_by_key(|i| !matches!(with_hint[*i].command, Command::ToggleHelp | Command::Quit));
    let mut chosen = vec![false; with_hint.len()];
    let mut left = room;
    for i in order {
        let w = width(with_hint[i]);
        if w <= left {
            chosen[i] = true;
            left -= w;
        }
    }
    with_hint
        .into_iter()
        .zip(chosen)
        .filter_map(|(b, keep)| keep.then_some(b))
        .collect()
}
