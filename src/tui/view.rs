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

use crate::tui::app::App;

/// The smallest screen anything is drawn on. Below 80×24 the screen
/// degrades instead: a compact header, fewer columns, then fewer panes.
pub const MIN_WIDTH: u16 = 32;
pub const MIN_HEIGHT: u16 = 8;
/// Below this body height the states pane is left out (the rules need it).
const STATES_MIN_BODY: u16 = 8;

/// Where each region of the screen goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Areas {
    /// The screen is below [`MIN_WIDTH`]×[`MIN_HEIGHT`]: only a message is drawn.
    pub too_small: bool,
    pub header: Rect,
    pub banner: Option<Rect>,
    pub rules: Rect,
    /// The rows of the rules table (inside the border, below the header row).
    pub rules_body: Rect,
    /// `None` when the details pane takes its place (short screens).
    pub states: Option<Rect>,
    pub states_body: Rect,
    pub details: Option<Rect>,
    pub footer: Rect,
    /// The screen's height (the header is compact on short screens).
    pub screen_height: u16,
}

/// Lays out the screen for the app's current state. Pure, so the app can use
/// it for paging and mouse hits before anything is drawn.
pub fn layout(area: Rect, app: &App) -> Areas {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return Areas {
            too_small: true,
            screen_height: area.height,
            ..Areas::default()
        };
    }
    let banner_height = header::banner_height(app, area.width);
    let header_height = header::lines(app, area.width, area.height).len() as u16;
    let [header, banner, body, footer] = Layout::vertical([
        Constraint::Length(header_height),
        Constraint::Length(banner_height),
        Constraint::Fill(1),
        Constraint::Length(footer::height(app, area.width)),
    ])
    .areas(area);

    let (rules, states, details) = split_body(body, app);
    Areas {
        too_small: false,
        header,
        banner: (banner_height > 0).then_some(banner),
        rules,
        rules_body: table_body(rules),
        states,
        states_body: states.map(table_body).unwrap_or_default(),
        details,
        footer,
        screen_height: area.height,
    }
}

/// Splits the body between the rules, the states and the details. The rules
/// pane is as tall as its rows need (a few, usually), up to 45 %.
fn split_body(body: Rect, app: &App) -> (Rect, Option<Rect>, Option<Rect>) {
    let wanted = if app.snapshot.is_some() {
        (app.rules.len() as u16).saturating_add(3)
    } else {
        body.height
    };
    // A rules pane is at least its borders, header and one row (two rows
    // when there is room, so an empty list's message fits too).
    let floor = if body.height < 12 { 4 } else { 5 };
    let rules_h = wanted.min(body.height * 45 / 100).max(floor);
    if !app.details_open && body.height < STATES_MIN_BODY {
        return (body, None, None);
    }
    if !app.details_open {
        let [r, s] =
            Layout::vertical([Constraint::Length(rules_h), Constraint::Fill(1)]).areas(body);
        return (r, Some(s), None);
    }
    if body.height >= 26 {
        let rules_h = rules_h.min(body.height * 35 / 100).max(5);
        let states_h = (app.states.len() as u16)
            .saturating_add(3)
            .clamp(5, body.height * 35 / 100);
        let [r, s, d] = Layout::vertical([
            Constraint::Length(rules_h),
            Constraint::Length(states_h),
            Constraint::Fill(1),
        ])
        .areas(body);
        (r, Some(s), Some(d))
    } else {
        // Short screens: the details replace the states pane.
        let [r, d] =
            Layout::vertical([Constraint::Length(rules_h), Constraint::Fill(1)]).areas(body);
        (r, None, Some(d))
    }
}

/// The rows of a bordered table with one header row.
fn table_body(pane: Rect) -> Rect {
    Rect {
        x: pane.x + 1,
        y: pane.y + 2,
        width: pane.width.saturating_sub(2),
        height: pane.height.saturating_sub(3),
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
    if app.help_open {
        help::render(frame, app, frame.area());
    }
    if let Some(prompt) = &app.kill_prompt {
        confirm::render(frame, app, prompt, frame.area());
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
