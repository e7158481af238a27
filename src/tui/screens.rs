//! The screens of `screenshots/`: real frames of the watch screen, drawn
//! into ratatui's `TestBackend` and written as SVG and text by
//! `cargo run --example screenshots` (and checked by `tests/tui_screenshots.rs`).

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use crate::source::Pfctl;
use crate::tui::action::{Action, Command};
use crate::tui::app::App;
use crate::tui::event::Poller;
use crate::tui::kill::KillAccess;
use crate::tui::svg;

/// One screenshot: a name (the file stem), a caption and the frame.
#[derive(Debug, Clone)]
pub struct Screen {
    pub name: &'static str,
    pub caption: &'static str,
    pub buffer: Buffer,
}

impl Screen {
    pub fn svg(&self) -> String {
        svg::to_svg(&self.buffer, self.caption)
    }

    pub fn text(&self) -> String {
        svg::to_text(&self.buffer)
    }
}

/// Poll time shown in the screenshots: the real one varies from run to run,
/// and the files must not.
const SHOWN_POLL_TIME: Duration = Duration::from_millis(3);

/// Plays every poll of `poller` into `app` (at most `max_polls`), as the
/// collector would, with the poll time fixed.
pub fn play(app: &mut App, poller: &mut dyn Poller, max_polls: usize) -> Result<(), String> {
    for _ in 0..max_polls {
        let mut snapshot = poller.poll()?;
        snapshot.elapsed = SHOWN_POLL_TIME;
        app.update(Action::Polled(Box::new(snapshot)));
        if poller.exhausted() {
            break;
        }
    }
    Ok(())
}

fn frame(app: &mut App, width: u16, height: u16) -> Result<Buffer, String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).map_err(|e| e.to_string())?;
    crate::tui::draw(&mut terminal, app).map_err(|e| e.to_string())?;
    Ok(terminal.backend().buffer().clone())
}

/// The screenshots, from an app that has played its polls: the main screen
/// (the first spurious rule is selected), the main screen at 80x24, the
/// details pane (the finding: which route-to rule is skipped, the fix), the
/// help, and the kill confirmation.
pub fn screens(app: &mut App) -> Result<Vec<Screen>, String> {
    let mut out = vec![Screen {
        name: "main",
        caption: "pfblame: the rule that created the stray states is highlighted and selected",
        buffer: frame(app, 120, 32)?,
    }];
    out.push(Screen {
        name: "main-80x24",
        caption: "pfblame at 80x24",
        buffer: frame(app, 80, 24)?,
    });
    app.update(Action::Command(Command::ToggleDetails));
    out.push(Screen {
        name: "details",
        caption: "pfblame: details of the stray rule and of its selected state",
        buffer: frame(app, 120, 32)?,
    });
    app.update(Action::Command(Command::ToggleDetails));
    app.update(Action::Command(Command::ToggleHelp));
    out.push(Screen {
        name: "help",
        caption: "pfblame: the keys",
        buffer: frame(app, 120, 32)?,
    });
    app.update(Action::Command(Command::ToggleHelp));
    out.push(kill_screen(app)?);
    Ok(out)
}

/// `K` as it looks with `--allow-kill` on live pfctl (`doas pfctl`): the
/// confirmation. Kills are allowed for this frame only; `n` closes it.
fn kill_screen(app: &mut App) -> Result<Screen, String> {
    let pfctl = Pfctl::new("doas pfctl", 10.0).map_err(|e| e.to_string())?;
    let before = std::mem::replace(&mut app.kill, KillAccess::Allowed(pfctl));
    app.update(Action::Command(Command::Kill));
    let buffer = frame(app, 120, 32);
    app.update(Action::ConfirmKill(false));
    app.update(Action::Command(Command::Down));
    app.kill = before;
    Ok(Screen {
        name: "kill",
        caption: "pfblame: K (with --allow-kill, on live pfctl) shows the exact pfctl commands before anything runs",
        buffer: buffer?,
    })
}
