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

/// Columns of the label column (a space, then 15 for the keys or marks).
const LABEL: usize = 16;

/// The popup's width on a screen `screen_width` columns wide.
fn popup_width(screen_width: u16) -> u16 {
    78.min(screen_width)
}

/// Every row of the help on a screen this wide: the keys, then the marks,
/// each text wrapped under its own column.
pub(crate) fn rows(app: &App, screen_width: u16) -> Vec<Line<'static>> {
    let t = app.theme;
    // Inside the borders.
    let text_width = usize::from(popup_width(screen_width).saturating_sub(2));
    let mut entries: Vec<(String, String)> = help_entries()
        .into_iter()
        .map(|(keys, help)| (keys, help.to_string()))
        .collect();
    entries.push((String::new(), String::new()));
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
        entries.push((mark.to_string(), what.to_string()));
    }
    let mut lines: Vec<Line<'static>> = Vec::new();
    for (label, text) in &entries {
        for (k, chunk) in hanging(text, text_width).into_iter().enumerate() {
            let head = if k == 0 { label.as_str() } else { "" };
            lines.push(Line::from(vec![
                Span::styled(format!(" {head:<15}"), t.key()),
                Span::raw(chunk),
            ]));
        }
    }
    lines
}

pub fn render(frame: &mut Frame, app: &App, area: Rect) {
    let t = app.theme;
    let width = popup_width(area.width);
    let text_width = usize::from(width.saturating_sub(2));
    let mut lines = rows(app, area.width);
    // A screen too short for it all scrolls (↑/↓, PgUp/PgDn, Home/End):
    // the last row says what is below, or that the end is reached.
    let room = usize::from(area.height.saturating_sub(2));
    if lines.len() > room && room > 0 {
        let shown = room.saturating_sub(1).max(1);
        let offset = app.help_scroll.min(lines.len() - shown);
        let left = lines.len() - offset - shown;
        lines = lines.drain(offset..offset + shown).collect();
        if room >= 2 {
            let (long, short) = if left > 0 {
                (
                    format!(" … {left} more lines: ↓ or PgDn scrolls"),
                    format!(" … {left} more ↓"),
                )
            } else {
                (
                    format!(" end; ↑ or Home scrolls back ({offset} above)"),
                    format!(" end, {offset} above ↑"),
                )
            };
            let note = if long.chars().count() <= text_width {
                long
            } else {
                short
            };
            lines.push(Line::from(Span::styled(note, t.label())));
        }
    }
    let height = (lines.len() as u16 + 2).min(area.height);
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

/// `text` cut on spaces into pieces that fit beside the label column of a
/// popup `width` columns wide inside, so a wrapped help text stays in its
/// own column (a hanging indent) and every row is counted before the popup
/// is sized (a word longer than the room gets a row of its own, which the
/// popup then wraps).
fn hanging(text: &str, width: usize) -> Vec<String> {
    let room = width.saturating_sub(LABEL).max(1);
    let mut out: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > room {
            out.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    out.push(line);
    out
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

#[cfg(test)]
mod tests {
    use super::hanging;

    #[test]
    fn help_text_wraps_under_its_own_column() {
        // 40 columns inside: 24 for the text beside the 16 of the label.
        let text = "filter as you type: rule text, or an address/prefix (F3)";
        let lines = hanging(text, 40);
        assert_eq!(lines.join(" "), text);
        assert!(lines.iter().all(|l| l.chars().count() <= 24), "{lines:?}");
        assert_eq!(hanging("short", 40), ["short"]);
        assert_eq!(hanging("", 40), [""]);
        // Wide enough: one line, as before.
        assert_eq!(hanging(text, 76), [text]);
    }
}
