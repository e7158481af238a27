//! The interactive `watch` screen.
//!
//! [`app`] holds the state and every change to it; [`view`] draws it;
//! [`action`] maps keys to commands; [`event`] runs the input and collector
//! threads; [`run`] is the loop that ties them together, generic over the
//! ratatui backend so tests drive it on a `TestBackend`.

pub mod action;
pub mod app;
pub mod event;
/// Hand-made analyses for tests (not part of the product).
#[cfg(any(test, feature = "test-support"))]
#[doc(hidden)]
pub mod fake;
pub mod fleet;
pub mod kill;
pub mod layout;
pub mod pipeline;
/// The screenshots of `screenshots/` (not part of the product).
#[cfg(any(test, feature = "test-support"))]
pub mod screens;
pub mod snapshot;
pub mod start;
/// Frames as SVG and text, for screenshots and tests (not part of the product).
#[cfg(any(test, feature = "test-support"))]
pub mod svg;
pub mod theme;
pub mod view;

use std::io;
use std::sync::mpsc::{self, Receiver, Sender};

use std::time::Instant;

use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
    Event as TermEvent,
};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;

use crate::exit::Exit;
use crate::tui::action::{Action, action_for_key, action_for_mouse, confirm_key};
use crate::tui::app::{App, Notice};
use crate::tui::event::{Control, Event, InputGate, Poller, pasted_filter_text};

/// Why the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The user quit.
    Quit,
    /// The terminal could not be read any more.
    InputFailed(String),
    /// Every sender went away (only in tests, in practice).
    Disconnected,
    /// The collector thread panicked (its message is on stderr already).
    CollectorPanicked,
    /// A termination signal arrived (its number).
    Signal(i32),
}

/// The UI loop: draw, wait for one event, apply it and everything else
/// already queued (so a burst of keys or a slow poll costs one frame), draw.
/// Generic over the backend: tests run it on a `TestBackend`.
pub fn run<B: Backend>(
    terminal: &mut Terminal<B>,
    app: &mut App,
    events: &Receiver<Event>,
    control: &Sender<Control>,
) -> Result<Ended, B::Error> {
    let mut gate = InputGate::default();
    let ended = loop {
        draw(terminal, app)?;
        let Ok(first) = events.recv() else {
            break Ended::Disconnected;
        };
        let mut next = Some(first);
        let mut ended = None;
        while let Some(ev) = next {
            if let Some(end) = handle(app, ev, control, &mut gate) {
                ended = Some(end);
                break;
            }
            next = events.try_recv().ok();
        }
        if let Some(end) = ended {
            break end;
        }
    };
    let _ = control.send(Control::Quit);
    Ok(ended)
}

/// Draws one frame at the terminal's current size.
pub fn draw<B: Backend>(terminal: &mut Terminal<B>, app: &mut App) -> Result<(), B::Error> {
    let size = terminal.size()?;
    app.set_screen(Rect::new(0, 0, size.width, size.height));
    terminal.draw(|frame| view::render(frame, app))?;
    Ok(())
}

/// Applies one event; returns how the loop ends, if it does.
fn handle(
    app: &mut App,
    ev: Event,
    control: &Sender<Control>,
    gate: &mut InputGate,
) -> Option<Ended> {
    let quiet = matches!(ev, Event::Input(_)) && gate.arrived(Instant::now());
    let action = match ev {
        Event::Input(TermEvent::Key(key)) if app.kill_prompt().is_some() => {
            let action = confirm_key(key);
            // Only a deliberate yes (see `InputGate`); no, Esc and Ctrl-C
            // are always safe and always work.
            if quiet || !matches!(action, Some(Action::ConfirmKill(true))) {
                action
            } else {
                {
                    app.notice = Some(Notice {
                        text: "K: keys that came with K (a paste?) were ignored: \
                               press y to remove the states, n to keep them"
                            .into(),
                        error: false,
                    });
                }
                None
            }
        }
        Event::Input(TermEvent::Paste(text)) => {
            for ch in pasted_filter_text(&text, app.filter.editing, app.kill_prompt().is_some()) {
                if let Some(c) = app.update(Action::FilterChar(ch)) {
                    let _ = control.send(c);
                }
            }
            None
        }
        Event::Input(TermEvent::Key(key)) => action_for_key(key, app.input()),
        Event::Input(TermEvent::Mouse(m)) => action_for_mouse(m),
        // A resize needs no action: the next draw lays out for the new size.
        Event::Input(_) => None,
        Event::PollStarted => Some(Action::PollStarted),
        Event::Polled(s) => Some(Action::Polled(s)),
        Event::PollFailed(m) => Some(Action::PollFailed(m)),
        Event::Killed(r) => Some(Action::Killed(r)),
        Event::InputClosed(m) => return Some(Ended::InputFailed(m)),
        Event::CollectorPanicked => return Some(Ended::CollectorPanicked),
        Event::Signal(signal) => return Some(Ended::Signal(signal)),
    };
    if let Some(c) = action.and_then(|a| app.update(a)) {
        // The collector may be gone already at quit; nothing to do then.
        let _ = control.send(c);
    }
    app.should_quit.then_some(Ended::Quit)
}

/// Runs the watch screen on the real terminal until the user quits: starts
/// the collector and input threads, sets the terminal up (ratatui's init
/// installs a panic hook that restores it) and puts it back afterwards, also
/// when a termination signal ends it (see `crate::signals`). Returns the
/// exit status: 0, or 128 + the signal's number.
pub(crate) fn run_terminal(
    mut app: App,
    poller: Box<dyn Poller>,
    first: event::FirstPoll,
) -> anyhow::Result<Exit> {
    if app.theme.color {
        // `--color always` must beat NO_COLOR, which crossterm honours itself.
        crossterm::style::force_color_output(true);
    }
    let (tx, rx) = mpsc::channel();
    let (ctl_tx, ctl_rx) = mpsc::channel();
    install_mouse_panic_hook();
    signals_quit_the_loop(tx.clone());
    let mut terminal = ratatui::try_init()?;
    // Bracketed paste: a paste arrives as one `Paste` event (text for the
    // filter), not as key presses that could run commands.
    let _ = crossterm::execute!(io::stdout(), EnableMouseCapture, EnableBracketedPaste);
    let started = event::spawn_collector(poller, app.settings.interval, first, tx.clone(), ctl_rx)
        .and_then(|_| event::spawn_input(tx));
    let result = match started {
        Ok(_) => run(&mut terminal, &mut app, &rx, &ctl_tx).map_err(anyhow::Error::from),
        Err(e) => Err(e.into()),
    };
    let _ = crossterm::execute!(io::stdout(), DisableBracketedPaste, DisableMouseCapture);
    let restored = ratatui::try_restore();
    #[cfg(unix)]
    crate::signals::clear_hook();
    restored?;
    match result? {
        Ended::InputFailed(m) => anyhow::bail!("reading the terminal failed: {m}"),
        Ended::CollectorPanicked => anyhow::bail!("internal error: the polling thread panicked"),
        Ended::Signal(signal) => Ok(Exit::for_signal(signal)),
        Ended::Quit | Ended::Disconnected => Ok(Exit::Ok),
    }
}

/// While the screen runs, a termination signal becomes an event that ends
/// the loop like `q` does, so the terminal is put back before exiting.
#[cfg(unix)]
fn signals_quit_the_loop(tx: Sender<Event>) {
    let tx = std::sync::Mutex::new(tx);
    crate::signals::set_hook(Box::new(move |signal| {
        if let Ok(tx) = tx.lock() {
            let _ = tx.send(Event::Signal(signal));
        }
    }));
}

#[cfg(not(unix))]
fn signals_quit_the_loop(_tx: Sender<Event>) {}

/// Turns mouse reporting off before a panic message is printed.
///
/// The panic path, in order: `ratatui::try_init` (called after this)
/// installs a hook that restores the terminal (raw mode off, main screen
/// back) and then calls the hook it replaced: this one, which turns mouse
/// reporting off and calls the default hook, which prints the message on
/// the restored screen. Hooks are process-wide, so this happens on any
/// thread. A panic on the UI thread then unwinds out of `run_terminal`; a
/// panic on the collector thread sends [`Event::CollectorPanicked`] (see
/// `event::spawn_collector`) and the UI loop ends, so nothing is drawn into
/// the restored terminal. `ratatui::try_restore` is idempotent, so the
/// normal restore after the loop does no harm.
fn install_mouse_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(io::stdout(), DisableBracketedPaste, DisableMouseCapture);
        previous(info);
    }));
}
