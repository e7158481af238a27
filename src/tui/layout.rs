//! Where each region of the watch screen goes: pure geometry over a few
//! measured sizes. Both the app (paging, mouse hits, scrolling) and the view
//! (drawing) use it; it knows neither, so `app` does not import `view`.

use ratatui::layout::{Constraint, Layout, Rect};

/// The smallest screen anything is drawn on. Below 80×24 the screen
/// degrades instead: a compact header, fewer columns, then fewer panes.
pub(crate) const MIN_WIDTH: u16 = 32;
pub(crate) const MIN_HEIGHT: u16 = 8;
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

/// What the layout needs to know of the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Content {
    /// Lines of the header, the banner (0: none) and the footer.
    pub header: u16,
    pub banner: u16,
    pub footer: u16,
    /// Rows of the rules table; `None` before the first poll (the rules
    /// pane then takes the whole body).
    pub rule_rows: Option<usize>,
    pub state_rows: usize,
    pub details_open: bool,
}

/// Lays out the screen. Below the minimum size only `too_small` is set.
pub fn layout(area: Rect, content: &Content) -> Areas {
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        return Areas {
            too_small: true,
            screen_height: area.height,
            ..Areas::default()
        };
    }
    let [header, banner, body, footer] = Layout::vertical([
        Constraint::Length(content.header),
        Constraint::Length(content.banner),
        Constraint::Fill(1),
        Constraint::Length(content.footer),
    ])
    .areas(area);

    let (rules, states, details) = split_body(body, content);
    Areas {
        too_small: false,
        header,
        banner: (content.banner > 0).then_some(banner),
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
fn split_body(body: Rect, content: &Content) -> (Rect, Option<Rect>, Option<Rect>) {
    let wanted = match content.rule_rows {
        Some(rows) => (rows as u16).saturating_add(3),
        None => body.height,
    };
    // A rules pane is at least its borders, header and one row (two rows
    // when there is room, so an empty list's message fits too).
    let floor = if body.height < 12 { 4 } else { 5 };
    let rules_h = wanted.min(body.height * 45 / 100).max(floor);
    if !content.details_open && body.height < STATES_MIN_BODY {
        return (body, None, None);
    }
    if !content.details_open {
        let [r, s] =
            Layout::vertical([Constraint::Length(rules_h), Constraint::Fill(1)]).areas(body);
        return (r, Some(s), None);
    }
    if body.height >= 26 {
        let rules_h = rules_h.min(body.height * 35 / 100).max(5);
        let states_h = (content.state_rows as u16)
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

/// The first visible row so that `cursor` is on screen, moving as little as
/// possible from `offset`.
pub(crate) fn keep_visible(cursor: usize, offset: usize, height: usize, len: usize) -> usize {
    if height == 0 {
        return cursor;
    }
    let max_offset = len.saturating_sub(height);
    let offset = offset.min(max_offset);
    if cursor < offset {
        cursor
    } else if cursor >= offset + height {
        cursor + 1 - height
    } else {
        offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn content(rule_rows: Option<usize>, details_open: bool) -> Content {
        Content {
            header: 2,
            banner: 0,
            footer: 1,
            rule_rows,
            state_rows: 3,
            details_open,
        }
    }

    #[test]
    fn keep_visible_scrolls_minimally() {
        assert_eq!(keep_visible(0, 0, 5, 10), 0);
        assert_eq!(keep_visible(5, 0, 5, 10), 1);
        assert_eq!(keep_visible(2, 4, 5, 10), 2);
        assert_eq!(keep_visible(3, 8, 5, 10), 3);
        assert_eq!(keep_visible(0, 9, 5, 3), 0);
    }

    #[test]
    fn below_the_minimum_only_a_message_fits() {
        let a = layout(Rect::new(0, 0, MIN_WIDTH - 1, 30), &content(Some(2), false));
        assert!(a.too_small);
        assert!(!layout(Rect::new(0, 0, 80, 24), &content(Some(2), false)).too_small);
    }

    #[test]
    fn short_screens_put_the_details_in_the_states_place() {
        let a = layout(Rect::new(0, 0, 80, 20), &content(Some(2), true));
        assert_eq!(a.states, None);
        assert!(a.details.is_some());
        let tall = layout(Rect::new(0, 0, 80, 40), &content(Some(2), true));
        assert!(tall.states.is_some() && tall.details.is_some());
    }

    #[test]
    fn the_rules_pane_is_as_tall_as_its_rows_up_to_45_percent() {
        let area = Rect::new(0, 0, 100, 43); // body: 40 lines
        assert_eq!(layout(area, &content(Some(2), false)).rules.height, 5);
        assert_eq!(layout(area, &content(Some(30), false)).rules.height, 18);
        assert_eq!(layout(area, &content(None, false)).rules.height, 18);
        let a = layout(area, &content(Some(2), false));
        assert_eq!(a.rules_body.height, a.rules.height - 3);
        assert_eq!(a.rules_body.y, a.rules.y + 2);
    }
}
