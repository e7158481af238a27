//! The interactive `watch` screen.
//!
//! [`app`] holds the state and every change to it; [`view`] draws it;
//! [`action`] maps keys to commands; [`event`] runs the input and collector
//! threads; [`run`] is the loop that ties them together, generic over the
//! ratatui backend so tests drive it on a `TestBackend`.

pub mod action;
pub mod app;
pub mod event;
#[doc(hidden)]
pub mod fake;
pub mod pipeline;
pub mod screens;
pub mod snapshot;
pub mod svg;
pub mod theme;
pub mod view;

use std::io;
use std::sync::mpsc::{self, Receiver, Sender};

use crossterm::event::{DisableMouseCapture, EnableMouseCapture, Event as TermEvent};
use ratatui::Terminal;
use ratatui::backend::Backend;
use ratatui::layout::Rect;

use crate::tui::action::{Action, action_for_key, action_for_mouse};
use crate::tui::app::App;
use crate::tui::event::{Control, Event, Poller};

/// Why the loop ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// The user quit.
    Quit,
    /// The terminal could not be read any more.
    InputFailed(String),
    /// Every sender went away (only in tests, in practice).
    Disconnected,
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
    let ended = loop {
        draw(terminal, app)?;
        let Ok(first) = events.recv() else {
            break Ended::Disconnected;
        };
        let mut next = Some(first);
        let mut ended = None;
        while let Some(ev) = next {
            if let Some(end) = handle(app, ev, control) {
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
fn handle(app: &mut App, ev: Event, control: &Sender<Control>) -> Option<Ended> {
    let action = match ev {
        Event::Input(TermEvent::Key(key)) => action_for_key(key, app.editing_filter),
        Event::Input(TermEvent::Mouse(m)) => action_for_mouse(m),
        // A resize needs no action: the next draw lays out for the new size.
        Event::Input(_) => None,
        Event::PollStarted => Some(Action::PollStarted),
        Event::Polled(s) => Some(Action::Polled(s)),
        Event::PollFailed(m) => Some(Action::PollFailed(m)),
        Event::InputClosed(m) => return Some(Ended::InputFailed(m)),
    };
    if let Some(c) = action.and_then(|a| app.update(a)) {
        // The collector may be gone already at quit; nothing to do then.
        let _ = control.send(c);
    }
    app.should_quit.then_some(Ended::Quit)
}

/// Runs the watch screen on the real terminal until the user quits: starts
/// the collector and input threads, sets the terminal up (ratatui's init
/// installs a panic hook that restores it) and puts it back afterwards.
pub fn run_terminal(
    mut app: App,
    poller: Box<dyn Poller>,
    first: event::FirstPoll,
) -> anyhow::Result<()> {
    if app.theme.color {
        // `--color always` must beat NO_COLOR, which crossterm honours itself.
        crossterm::style::force_color_output(true);
    }
    let (tx, rx) = mpsc::channel();
    let (ctl_tx, ctl_rx) = mpsc::channel();
    install_mouse_panic_hook();
    let mut terminal = ratatui::try_init()?;
    let _ = crossterm::execute!(io::stdout(), EnableMouseCapture);
    let started = event::spawn_collector(poller, app.settings.interval, first, tx.clone(), ctl_rx)
        .and_then(|_| event::spawn_input(tx));
    let result = match started {
        Ok(_) => run(&mut terminal, &mut app, &rx, &ctl_tx).map_err(anyhow::Error::from),
        Err(e) => Err(e.into()),
    };
    let _ = crossterm::execute!(io::stdout(), DisableMouseCapture);
    ratatui::try_restore()?;
    match result? {
        Ended::InputFailed(m) => anyhow::bail!("reading the terminal failed: {m}"),
        Ended::Quit | Ended::Disconnected => Ok(()),
    }
}

/// Turns mouse reporting off before a panic message is printed; ratatui's
/// own hook (installed after this one, so it runs first) restores the rest.
fn install_mouse_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let _ = crossterm::execute!(io::stdout(), DisableMouseCapture);
        previous(info);
    }));
}
