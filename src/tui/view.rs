//! Drawing the watch screen: free functions, one module per region, reading
//! the [`App`] and never changing it.
//!
//! ```text
//! ┌ header: servers │ source (strategy) │ interval │ last poll: time, cost ┐
//! │ states total/server │ ruleset generation │ spurious rules │ warnings   │
//! ├ banner (only when pfctl failed, or paused) ───────────────────────────┤
//! ┌ Rules ────────────────────────────────────────────────────────────────┐
//! │▶ ! @5   pass in on em0 … port = 443 …      srv  all  new/s  BYPASS    │
//! └───────────────────────────────────────────────────────────────────────┘
//! ┌ States of @5 ─────────────────────────────────────────────────────────┐
//! │+ in  tcp  src → dst   ESTABLISHED:ESTABLISHED  age  exp  pkts  bytes   │
//! └───────────────────────────────────────────────────────────────────────┘
//! ┌ Details (Enter) ──────────────────────────────────────────────────────┐
//! footer: key hints (or the filter being typed)
//! ```

pub mod confirm;
pub mod details;
pub mod footer;
pub mod format;
pub mod header;
pub mod help;
pub mod path;
pub mod rules;
pub mod states;

use ratatui::Frame;
use ratatui::layout::{Alignment, Constraint, Flex, Layout, Rect};
use ratatui::text::{Line, Text};
use ratatui::widgets::{Block, Borders, Paragraph, Wrap};

use crate::tui::app::{App, Measure, Modal, SortColumn};
use crate::tui::layout::{MIN_HEIGHT, MIN_WIDTH};

/// The view's measures of the text it draws, for the app's layout.
pub static MEASURE: ViewMeasure = ViewMeasure;

/// [`Measure`] by the view's own functions (header, footer, details, columns).
#[derive(Debug)]
pub struct ViewMeasure;

impl Measure for ViewMeasure {
    fn header_height(&self, app: &App, width: u16, height: u16) -> u16 {
        header::lines(app, width, height).len() as u16
    }

    fn banner_height(&self, app: &App, width: u16) -> u16 {
        header::banner_height(app, width)
    }

    fn footer_height(&self, app: &App, width: u16) -> u16 {
        footer::height(app, width)
    }

    fn details_lines(&self, app: &App, width: u16) -> usize {
        details::lines(app, width).len()
    }

    fn help_rows(&self, app: &App, screen_width: u16) -> usize {
        help::rows(app, screen_width).len()
    }

    fn sort_column_at(&self, app: &App, x: u16) -> Option<SortColumn> {
        rules::columns_of(app)
            .into_iter()
            .find(|c| x >= c.x && x < c.x + c.width)
            .and_then(|c| c.sort)
    }
}

/// Draws the whole screen.
pub fn render(frame: &mut Frame, app: &App) {
    let areas = &app.areas;
    if areas.too_small {
        render_too_small(frame);
        return;
    }
    header::render(frame, app, areas.header);
    if let Some(banner) = areas.banner {
        header::render_banner(frame, app, banner);
    }
    rules::render(frame, app, areas.rules);
    if let Some(states) = areas.states {
        states::render(frame, app, states);
    }
    if let Some(details) = areas.details {
        details::render(frame, app, details);
    }
    footer::render(frame, app, areas.footer);
    match &app.modal {
        Modal::Help => help::render(frame, app, frame.area()),
        Modal::KillPrompt(prompt) => confirm::render(frame, app, prompt, frame.area()),
        Modal::Jump(_) | Modal::None => {}
    }
}

/// A centred message inside a pane (no data yet, nothing to show…).
fn render_placeholder(frame: &mut Frame, area: Rect, block: Block, text: &str) {
    frame.render_widget(
        Paragraph::new(text.to_string())
            .alignment(Alignment::Center)
            .block(block),
        area,
    );
}

/// The `width`×`height` rectangle centred in `area` (clipped to it): where
/// overlays (help, kill confirmation) are drawn.
fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let [popup] = Layout::vertical([Constraint::Length(height.min(area.height))])
        .flex(Flex::Center)
        .areas(area);
    let [popup] = Layout::horizontal([Constraint::Length(width.min(area.width))])
        .flex(Flex::Center)
        .areas(popup);
    popup
}

fn render_too_small(frame: &mut Frame) {
    let area = frame.area();
    let text = Text::from(vec![
        Line::from("pfblame needs a terminal of at least"),
        Line::from(format!(
            "{MIN_WIDTH}×{MIN_HEIGHT}; this one is {}×{}.",
            area.width, area.height
        )),
        Line::from("Enlarge it, or press q to quit."),
    ]);
    let block = Block::new().borders(Borders::NONE);
    let y = area.height.saturating_sub(3) / 2;
    let msg = Rect::new(
        area.x,
        area.y + y,
        area.width,
        area.height.saturating_sub(y),
    );
    frame.render_widget(
        Paragraph::new(text)
            .alignment(Alignment::Center)
            .wrap(Wrap { trim: true })
            .block(block),
        msg,
    );
}
