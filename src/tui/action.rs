//! What the user (or the collector) can ask of the [`App`](super::app::App),
//! and the key table that maps keys to commands. The same table feeds the
//! footer and the help overlay, so hints never drift from the bindings.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEvent, MouseEventKind};

use crate::tui::snapshot::Snapshot;

/// A command bound to a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Up,
    Down,
    PageUp,
    PageDown,
    Home,
    End,
    FocusNext,
    FocusPrev,
    ToggleDetails,
    StartFilter,
    CycleSort,
    ReverseSort,
    ToggleAllRules,
    ToggleAllStates,
    TogglePause,
    ShorterInterval,
    LongerInterval,
    RefreshNow,
    /// Remove the selected rule's spurious server states (asks first).
    Kill,
    ToggleHelp,
    /// `:`: type a rule to jump to (`@17`, `17`, `relayd/0`).
    StartJump,
    /// `n` / `N`: the next / previous harmful rule (spurious, or with a finding).
    NextHarmful,
    PrevHarmful,
    /// `y`: show the selected state's pfctl kill command in the footer.
    CopyState,
    /// Esc: closes the help, the filter or the details; never quits.
    Back,
    Quit,
}

/// Everything that changes the app.
#[derive(Debug, Clone)]
pub enum Action {
    Command(Command),
    /// A character typed into the filter.
    FilterChar(char),
    FilterBackspace,
    /// Enter in the filter: keep the filter, stop editing.
    FilterAccept,
    /// Esc in the filter: clear it and stop editing.
    FilterCancel,
    /// A character typed after `:`.
    JumpChar(char),
    JumpBackspace,
    /// Enter after `:`: jump to the rule typed.
    JumpAccept,
    /// Esc after `:`: forget it.
    JumpCancel,
    /// Mouse wheel over the screen cell (column, row).
    ScrollUp(u16, u16),
    ScrollDown(u16, u16),
    /// Left click on the screen cell (column, row).
    Click(u16, u16),
    /// The collector started a poll.
    PollStarted,
    /// A poll finished.
    Polled(Box<Snapshot>),
    /// A poll failed: the message for the banner.
    PollFailed(String),
    /// The answer to the kill confirmation: `y` (true), `n`/Esc (false).
    ConfirmKill(bool),
    /// The kill commands ran: the message for the banner.
    Killed(Result<String, String>),
}

/// One line of the key table.
#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub keys: &'static [Key],
    /// How the keys are written in the footer and the help.
    pub label: &'static str,
    pub command: Command,
    pub help: &'static str,
    /// Short text for the footer; `None` keeps the binding out of it.
    pub footer: Option<&'static str>,
}

/// A key as the table names it: a code and whether Ctrl is held.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Key {
    pub code: KeyCode,
    pub ctrl: bool,
}

const fn k(code: KeyCode) -> Key {
    Key { code, ctrl: false }
}

const fn c(ch: char) -> Key {
    k(KeyCode::Char(ch))
}

/// The key table, in help order. Neighbours with the same help text share
/// one help line (`↑/k ↓/j`).
pub(crate) const KEYMAP: &[Binding] = &[
    Binding {
        keys: &[k(KeyCode::Up), c('k')],
        label: "↑/k",
        command: Command::Up,
        help: "previous / next row (details: scroll)",
        footer: None,
    },
    Binding {
        keys: &[k(KeyCode::Down), c('j')],
        label: "↓/j",
        command: Command::Down,
        help: "previous / next row (details: scroll)",
        footer: Some("move"),
    },
    Binding {
        keys: &[k(KeyCode::PageUp)],
        label: "PgUp",
        command: Command::PageUp,
        help: "one page up / down",
        footer: None,
    },
    Binding {
        keys: &[k(KeyCode::PageDown)],
        label: "PgDn",
        command: Command::PageDown,
        help: "one page up / down",
        footer: None,
    },
    Binding {
        keys: &[k(KeyCode::Home), c('g')],
        label: "Home/g",
        command: Command::Home,
        help: "first / last row",
        footer: None,
    },
    Binding {
        keys: &[k(KeyCode::End), c('G')],
        label: "End/G",
        command: Command::End,
        help: "first / last row",
        footer: None,
    },
    Binding {
        keys: &[k(KeyCode::Tab)],
        label: "Tab",
        command: Command::FocusNext,
        help: "next / previous pane (rules, states, details)",
        footer: Some("pane"),
    },
    Binding {
        keys: &[k(KeyCode::BackTab)],
        label: "S-Tab",
        command: Command::FocusPrev,
        help: "next / previous pane (rules, states, details)",
        footer: None,
    },
    Binding {
        keys: &[k(KeyCode::Enter)],
        label: "Enter",
        command: Command::ToggleDetails,
        help: "show or hide the details pane",
        footer: Some("details"),
    },
    Binding {
        keys: &[c('/'), k(KeyCode::F(3))],
        label: "/",
        command: Command::StartFilter,
        help: "filter as you type: rule text, or an address/prefix (F3)",
        footer: Some("filter"),
    },
    Binding {
        keys: &[c('s'), k(KeyCode::F(6))],
        label: "s",
        command: Command::CycleSort,
        help: "sort by the next column (F6) / reverse (or click a header)",
        footer: Some("sort"),
    },
    Binding {
        keys: &[c('r')],
        label: "r",
        command: Command::ReverseSort,
        help: "sort by the next column (F6) / reverse (or click a header)",
        footer: None,
    },
    Binding {
        keys: &[c('a')],
        label: "a",
        command: Command::ToggleAllRules,
        help: "all rules / only rules with server states",
        footer: Some("all rules"),
    },
    Binding {
        keys: &[c('A')],
        label: "A",
        command: Command::ToggleAllStates,
        help: "states pane: all states / server states only",
        footer: None,
    },
    Binding {
        keys: &[c('p'), c(' ')],
        label: "p/Space",
        command: Command::TogglePause,
        help: "pause / resume (data freezes, keys keep working)",
        footer: Some("pause"),
    },
    Binding {
        keys: &[c('+'), c('=')],
        label: "+",
        command: Command::LongerInterval,
        help: "longer / shorter poll interval",
        footer: None,
    },
    Binding {
        keys: &[c('-')],
        label: "-",
        command: Command::ShorterInterval,
        help: "longer / shorter poll interval",
        footer: None,
    },
    Binding {
        keys: &[c('R')],
        label: "R",
        command: Command::RefreshNow,
        help: "poll now",
        footer: None,
    },
    Binding {
        keys: &[c(':')],
        label: ":",
        command: Command::StartJump,
        help: "jump to a rule: type @17, 17 or relayd/0, then Enter",
        footer: Some("jump"),
    },
    Binding {
        keys: &[c('n')],
        label: "n",
        command: Command::NextHarmful,
        help: "next / previous harmful rule (bypass/blocked, or with a finding)",
        footer: Some("next bad"),
    },
    Binding {
        keys: &[c('N')],
        label: "N",
        command: Command::PrevHarmful,
        help: "next / previous harmful rule (bypass/blocked, or with a finding)",
        footer: None,
    },
    Binding {
        keys: &[c('y')],
        label: "y",
        command: Command::CopyState,
        help: "show the selected state's pfctl kill command (to copy)",
        footer: None,
    },
    Binding {
        keys: &[c('K')],
        label: "K",
        command: Command::Kill,
        help: "kill the selected rule's bypass/blocked states (asks first)",
        footer: Some("kill"),
    },
    Binding {
        keys: &[c('?'), k(KeyCode::F(1))],
        label: "?/F1",
        command: Command::ToggleHelp,
        help: "this help",
        footer: Some("help"),
    },
    Binding {
        keys: &[k(KeyCode::Esc)],
        label: "Esc",
        command: Command::Back,
        help: "close help / clear filter / close details (never quits)",
        footer: None,
    },
    Binding {
        keys: &[
            c('q'),
            k(KeyCode::F(10)),
            Key {
                code: KeyCode::Char('c'),
                ctrl: true,
            },
        ],
        label: "q/F10",
        command: Command::Quit,
        help: "quit",
        footer: Some("quit"),
    },
];

/// What typed keys go to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// The key table.
    Keys,
    /// The filter after `/`.
    Filter,
    /// The rule to jump to after `:`.
    Jump,
}

/// The action for a key press, given where typed keys go.
/// Key releases and repeats of other kinds are ignored.
pub(crate) fn action_for_key(key: KeyEvent, input: Input) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    if ctrl && key.code == KeyCode::Char('c') {
        return Some(Action::Command(Command::Quit));
    }
    match input {
        Input::Filter => return filter_key(key, ctrl),
        Input::Jump => return jump_key(key, ctrl),
        Input::Keys => {}
    }
    KEYMAP
        .iter()
        .find(|b| b.keys.iter().any(|k| k.code == key.code && k.ctrl == ctrl))
        .map(|b| Action::Command(b.command))
}

/// The action for a key while the kill confirmation is shown: only yes,
/// no, and quit (Ctrl-C) mean anything; every other key is ignored so a
/// stray key press never runs pfctl.
pub(crate) fn confirm_key(key: KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    if key.modifiers.contains(KeyModifiers::CONTROL) {
        return (key.code == KeyCode::Char('c')).then_some(Action::Command(Command::Quit));
    }
    match key.code {
        KeyCode::Char('y' | 'Y') => Some(Action::ConfirmKill(true)),
        KeyCode::Char('n' | 'N' | 'q') | KeyCode::Esc => Some(Action::ConfirmKill(false)),
        _ => None,
    }
}

fn filter_key(key: KeyEvent, ctrl: bool) -> Option<Action> {
    match key.code {
        KeyCode::Esc => Some(Action::FilterCancel),
        KeyCode::Enter | KeyCode::Tab => Some(Action::FilterAccept),
        KeyCode::Backspace => Some(Action::FilterBackspace),
        // Moving through the list while typing is handy: the filter stays open.
        KeyCode::Up => Some(Action::Command(Command::Up)),
        KeyCode::Down => Some(Action::Command(Command::Down)),
        KeyCode::Char(ch) if !ctrl => Some(Action::FilterChar(ch)),
        _ => None,
    }
}

fn jump_key(key: KeyEvent, ctrl: bool) -> Option<Action> {
    match key.code {
        KeyCode::Esc => Some(Action::JumpCancel),
        KeyCode::Enter => Some(Action::JumpAccept),
        KeyCode::Backspace => Some(Action::JumpBackspace),
        KeyCode::Char(ch) if !ctrl => Some(Action::JumpChar(ch)),
        _ => None,
    }
}

/// The action for a mouse event.
pub(crate) fn action_for_mouse(m: MouseEvent) -> Option<Action> {
    match m.kind {
        MouseEventKind::ScrollUp => Some(Action::ScrollUp(m.column, m.row)),
        MouseEventKind::ScrollDown => Some(Action::ScrollDown(m.column, m.row)),
        MouseEventKind::Down(crossterm::event::MouseButton::Left) => {
            Some(Action::Click(m.column, m.row))
        }
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn press(code: KeyCode) -> KeyEvent {
        KeyEvent::new(code, KeyModifiers::NONE)
    }

    #[test]
    fn every_command_has_a_key() {
        use Command::*;
        for cmd in [
            Up,
            Down,
            PageUp,
            PageDown,
            Home,
            End,
            FocusNext,
            FocusPrev,
            ToggleDetails,
            StartFilter,
            CycleSort,
            ReverseSort,
            ToggleAllRules,
            ToggleAllStates,
            TogglePause,
            ShorterInterval,
            LongerInterval,
            RefreshNow,
            Kill,
            ToggleHelp,
            StartJump,
            NextHarmful,
            PrevHarmful,
            CopyState,
            Back,
            Quit,
        ] {
            assert!(KEYMAP.iter().any(|b| b.command == cmd), "{cmd:?} unbound");
        }
    }

    #[test]
    fn no_key_is_bound_twice() {
        let all: Vec<Key> = KEYMAP.iter().flat_map(|b| b.keys.iter().copied()).collect();
        for (i, a) in all.iter().enumerate() {
            assert!(!all[i + 1..].contains(a), "{a:?} bound twice");
        }
    }

    #[test]
    fn keys_map_to_commands() {
        let cmd = |code| action_for_key(press(code), Input::Keys).map(|a| format!("{a:?}"));
        assert_eq!(cmd(KeyCode::Char('j')).as_deref(), Some("Command(Down)"));
        assert_eq!(
            cmd(KeyCode::Char(' ')).as_deref(),
            Some("Command(TogglePause)")
        );
        assert_eq!(
            cmd(KeyCode::Char('R')).as_deref(),
            Some("Command(RefreshNow)")
        );
        assert_eq!(cmd(KeyCode::Char('x')), None);
        assert_eq!(cmd(KeyCode::F(1)).as_deref(), Some("Command(ToggleHelp)"));
        assert_eq!(cmd(KeyCode::F(3)).as_deref(), Some("Command(StartFilter)"));
        assert_eq!(cmd(KeyCode::F(6)).as_deref(), Some("Command(CycleSort)"));
        assert_eq!(cmd(KeyCode::F(10)).as_deref(), Some("Command(Quit)"));
        assert_eq!(cmd(KeyCode::Esc).as_deref(), Some("Command(Back)"));
        assert_eq!(
            cmd(KeyCode::Char(':')).as_deref(),
            Some("Command(StartJump)")
        );
        assert_eq!(
            cmd(KeyCode::Char('n')).as_deref(),
            Some("Command(NextHarmful)")
        );
        assert_eq!(
            cmd(KeyCode::Char('N')).as_deref(),
            Some("Command(PrevHarmful)")
        );
        assert_eq!(
            cmd(KeyCode::Char('y')).as_deref(),
            Some("Command(CopyState)")
        );
        let jump = |code| action_for_key(press(code), Input::Jump).map(|a| format!("{a:?}"));
        assert_eq!(jump(KeyCode::Char('q')).as_deref(), Some("JumpChar('q')"));
        assert_eq!(jump(KeyCode::Enter).as_deref(), Some("JumpAccept"));
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert!(matches!(
            action_for_key(ctrl_c, Input::Filter),
            Some(Action::Command(Command::Quit))
        ));
    }

    #[test]
    fn the_filter_takes_letters() {
        assert!(matches!(
            action_for_key(press(KeyCode::Char('q')), Input::Filter),
            Some(Action::FilterChar('q'))
        ));
        assert!(matches!(
            action_for_key(press(KeyCode::Esc), Input::Filter),
            Some(Action::FilterCancel)
        ));
    }

    #[test]
    fn the_confirmation_takes_only_yes_and_no() {
        let answer = |code| confirm_key(press(code)).map(|a| format!("{a:?}"));
        assert_eq!(
            answer(KeyCode::Char('y')).as_deref(),
            Some("ConfirmKill(true)")
        );
        assert_eq!(
            answer(KeyCode::Char('n')).as_deref(),
            Some("ConfirmKill(false)")
        );
        assert_eq!(answer(KeyCode::Esc).as_deref(), Some("ConfirmKill(false)"));
        assert_eq!(answer(KeyCode::Enter), None, "Enter is not a yes");
        assert_eq!(answer(KeyCode::Char('K')), None);
        assert_eq!(
            action_for_key(press(KeyCode::Char('K')), Input::Keys).map(|a| format!("{a:?}")),
            Some("Command(Kill)".to_string())
        );
    }

    #[test]
    fn releases_are_ignored() {
        let mut key = press(KeyCode::Char('q'));
        key.kind = KeyEventKind::Release;
        assert!(action_for_key(key, Input::Keys).is_none());
    }
}
