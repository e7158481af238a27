//! Styles of the watch screen.
//!
//! Meaning is always carried by a modifier or a symbol first (REVERSED for
//! the selection, BOLD and `!` for spurious rules, `+` for new states);
//! colour is only an extra, so `NO_COLOR` and `--color never` lose nothing.

use ratatui::style::{Color, Modifier, Style};

/// Marks the selected row of the focused table (with REVERSED video).
pub(crate) const SELECTED_SYMBOL: &str = "▶ ";
/// Marks a spurious rule in the rules table.
pub(crate) const SPURIOUS_SYMBOL: &str = "!";
/// Marks a finding: the rule's states make replies skip a routing rule.
pub(crate) const BYPASS_SYMBOL: &str = "✗";
/// Marks a finding that holds only if a condition pfblame cannot check holds.
pub(crate) const POSSIBLE_SYMBOL: &str = "?";
/// Marks a state that is new since the previous poll.
pub(crate) const NEW_SYMBOL: &str = "+";
/// In the all-states view: a state of the server (`-s`).
pub(crate) const SERVER_SYMBOL: &str = "●";
/// Marks a state older than the last ruleset change (its rule number may
/// belong to the previous ruleset).
pub(crate) const OLDER_SYMBOL: &str = "~";

/// The styles, with or without colour.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Theme {
    pub color: bool,
}

impl Theme {
    pub fn new(color: bool) -> Self {
        Theme { color }
    }

    fn fg(self, style: Style, color: Color) -> Style {
        if self.color { style.fg(color) } else { style }
    }

    fn bg(self, style: Style, color: Color) -> Style {
        if self.color { style.bg(color) } else { style }
    }

    /// The selected row of the focused pane.
    pub fn selected(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD)
    }

    /// The selected row of a pane without focus: still visible, but quieter.
    pub(crate) fn selected_unfocused(self) -> Style {
        Style::new().add_modifier(Modifier::REVERSED)
    }

    /// A rule whose states bypass `route-to`.
    pub fn spurious(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::BOLD), Color::LightRed)
    }

    /// A rule whose server states are expected (`--allow`).
    pub fn allowed(self) -> Style {
        self.fg(Style::new(), Color::Green)
    }

    /// Rows without server states (shown with `a`), and other quiet text.
    pub(crate) fn dim(self) -> Style {
        Style::new().add_modifier(Modifier::DIM)
    }

    /// The sparkline of new server states per poll.
    pub(crate) fn trend(self) -> Style {
        self.fg(Style::new(), Color::Cyan)
    }

    /// A state new since the previous poll.
    pub(crate) fn new_state(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::BOLD), Color::LightGreen)
    }

    /// Table header rows.
    pub(crate) fn table_header(self) -> Style {
        self.fg(
            Style::new().add_modifier(Modifier::BOLD | Modifier::UNDERLINED),
            Color::Cyan,
        )
    }

    /// The program name and section labels in the header.
    pub fn title(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::BOLD), Color::Cyan)
    }

    pub fn label(self) -> Style {
        self.dim()
    }

    /// A border of the focused pane.
    pub(crate) fn border_focused(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::BOLD), Color::Cyan)
    }

    pub(crate) fn border(self) -> Style {
        Style::new()
    }

    /// The error banner (pfctl failed): reversed, so it shows without colour.
    pub(crate) fn error_banner(self) -> Style {
        self.bg(
            Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD),
            Color::Black,
        )
        .fg(if self.color {
            Color::LightRed
        } else {
            Color::Reset
        })
    }

    /// The "paused" banner.
    pub fn paused_banner(self) -> Style {
        let s = Style::new().add_modifier(Modifier::REVERSED | Modifier::BOLD);
        if self.color { s.fg(Color::Yellow) } else { s }
    }

    /// Warnings in the header.
    pub fn warning(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::BOLD), Color::Yellow)
    }

    /// Keys in the footer and the help.
    pub fn key(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::BOLD), Color::Cyan)
    }

    /// The filter being typed.
    pub fn filter(self) -> Style {
        self.fg(Style::new().add_modifier(Modifier::BOLD), Color::Yellow)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn no_colour_theme_uses_no_colour_at_all() {
        let t = Theme::new(false);
        for s in [
            t.selected(),
            t.spurious(),
            t.new_state(),
            t.table_header(),
            t.error_banner(),
            t.paused_banner(),
            t.warning(),
            t.key(),
        ] {
            assert!(s.fg.is_none_or(|c| c == Color::Reset), "{s:?}");
            assert!(s.bg.is_none(), "{s:?}");
        }
    }

    #[test]
    fn meaning_survives_without_colour() {
        let t = Theme::new(false);
        assert!(t.selected().add_modifier.contains(Modifier::REVERSED));
        assert!(t.spurious().add_modifier.contains(Modifier::BOLD));
        assert!(t.error_banner().add_modifier.contains(Modifier::REVERSED));
    }
}
