//! The kill confirmation (`K`): the exact pfctl commands that `y` runs.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders, Clear, Paragraph};

use crate::tui::app::App;
use crate::tui::kill::KillPrompt;
use crate::tui::view::format::{clean, wrap_lines};

pub fn render(frame: &mut Frame, app: &App, prompt: &KillPrompt, area: Rect) {
    let t = app.theme;
    let width = 100.min(area.width);
    let inner = width.saturating_sub(2);
    // Room for the border, the closing blank line and the keys.
    let room = usize::from(area.height.saturating_sub(4));
    let lines = wrap_lines(body(prompt, app), inner);
    let mut shown: Vec<Line> = if lines.len() <= room {
        lines
    } else {
        let keep = room.saturating_sub(1);
        let left = lines.len() - keep;
        let mut v: Vec<Line> = lines.into_iter().take(keep).collect();
        v.push(Line::from(format!(
            "  … and {left} more lines: the same form, one command per state"
        )));
        v
    };
    shown.push(Line::from(""));
    shown.push(Line::from(vec![
        Span::styled(" y", t.key()),
        Span::raw(" run them    "),
        Span::styled("n/Esc", t.key()),
        Span::raw(" cancel (nothing is removed)"),
    ]));
    let height = (shown.len() as u16 + 2).min(area.height);
    let popup = super::centered(area, width, height);
    let block = Block::new()
        .borders(Borders::ALL)
        .border_type(BorderType::Double)
        .border_style(t.spurious())
        .title(format!(" Kill the spurious states of {}? ", prompt.rule));
    frame.render_widget(Clear, popup);
    frame.render_widget(Paragraph::new(shown).block(block), popup);
}

/// The commands (from `kill::confirm_text`, already neutralised) and the
/// states that cannot be named.
fn body(prompt: &KillPrompt, app: &App) -> Vec<Line<'static>> {
    let mut out: Vec<Line<'static>> = prompt.lines.iter().map(|l| Line::from(l.clone())).collect();
    for why in &prompt.skipped {
        out.push(Line::from(Span::styled(
            format!("  cannot remove {}", clean(why)),
            app.theme.warning(),
        )));
    }
    out.push(Line::from(format!(
        "each run may take up to {:.0} s (--timeout); polling resumes after",
        prompt.timeout.as_secs_f64()
    )));
    out
}
