//! The help overlay: every key of the key table, and what the marks mean.

use ratatui::Frame;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph, Wrap};

use crate::tui::action::KEYMAP;
use crate::tui::app::App;
use crate::tui::theme::{NEW_SYMBOL, OLDER_SYMBOL, SELECTED_SYMBOL, SPURIOUS_SYMBOL};

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme;
    let mut lines: Vec<Line> = help_entries()
        .into_iter()
        .map(|(keys, help)| {
            Line::from(vec![
                Span::styled(format!(" {keys:<13}"), t.key()),
                Span::raw(help),
            ])
        })
        .collect();
    lines.push(Line::from(""));
    for (mark, what) in [
        (SELECTED_SYMBOL.trim_end(), "selected row (reversed video)"),
        (
            SPURIOUS_SYMBOL,
            "spurious rule: its states let replies skip route-to",
        ),
        (NEW_SYMBOL, "state new since the previous poll"),
        (OLDER_SYMBOL, "state older than the last ruleset change"),
        (
            "@5? @19 g1",
            "rule missing now / rule of an earlier ruleset generation",
        ),
    ] {
        lines.push(Line::from(vec![
            Span::styled(format!(" {mark:<13}"), t.key()),
            Span::raw(what),
        ]));
    }
    let height = (lines.len() as u16 + 2).min(area.height);
    let width = 78.min(area.width);
    let [popup] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(popup);
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
pub fn help_entries() -> Vec<(String, &'static str)> {
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
