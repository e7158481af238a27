//! The help overlay: every key of the key table, and what the marks mean.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use crate::tui::action::KEYMAP;
use crate::tui::app::App;
use crate::tui::theme::{
    BYPASS_SYMBOL, NEW_SYMBOL, OLDER_SYMBOL, POSSIBLE_SYMBOL, SELECTED_SYMBOL, SERVER_SYMBOL,
    SPURIOUS_SYMBOL,
};

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme;
    let mut lines: Vec<Line> = help_entries()
        .into_iter()
        .map(|(keys, help)| {
            Line::from(vec![
                Span::styled(format!(" {keys:<15}"), t.key()),
                Span::raw(help),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    let bypass = format!("{SPURIOUS_SYMBOL} {BYPASS_SYMBOL} bypass @17");
    let possible = format!("{POSSIBLE_SYMBOL} maybe @17");
    let states = format!("{NEW_SYMBOL} {OLDER_SYMBOL}");
    for (mark, what) in [
        (SELECTED_SYMBOL.trim_end(), "selected row (reversed video)"),
        (
            bypass.as_str(),
            "bypass rule; its states make replies skip route-to @17",
        ),
        (
            possible.as_str(),
            "possible bypass (depends, e.g., on a table's contents)",
        ),
        (
            states.as_str(),
            "state new since the last poll / older than a ruleset reload",
        ),
        (
            SERVER_SYMBOL,
            "a state of the server (in the all-states view, A)",
        ),
        (
            "▁▃█",
            "Trend: new server states per poll, oldest left (▁: none)",
        ),
        (
            "@5? @19 g1",
            "rule missing now / rule of an earlier ruleset generation",
        ),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!(" {mark:<15}"), t.key()),
            Span::raw(what),
        ]));
    }
    // A screen too short for it all: the last row says so (no silent cut).
    let room = usize::from(area.height.saturating_sub(2));
    if lines.len() > room && room > 0 {
        let left = lines.len() - (room - 1);
        lines.truncate(room - 1);
        lines.push(Line::from(Span::styled(
            format!(" … {left} more lines: a taller terminal shows them"),
            t.label(),
        )));
    }
    let height = (lines.len() as u16 + 2).min(area.height);
    let width = 78.min(area.width);
    let popup = super::centered(area, width, height);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(t.border_focused())
        .title(" pfblame keys · ? or Esc closes ");
    frame.render_widget(Clear, popup);
    frame.render_widget(
        Paragraph::new(lines)
            .block(block)
            .wrap(Wrap { trim: false }),
        popup,
    );
}

/// The key table as help lines: neighbours with the same help text share a
/// line, their labels joined.
pub(crate) fn help_entries() -> Vec<(String, &'static str)> {
    let mut out: Vec<(String, &'static str)> = Vec::new();
    for b in KEYMAP {
        match out.last_mut() {
            Some((keys, help)) if *help == b.help => {
                keys.push(' ');
                keys.push_str(b.label);
            }
            _ => out.push((b.label.to_string(), b.help)),
        }
    }
    out
}
