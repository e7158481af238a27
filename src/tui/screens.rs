//! The screens of `screenshots/`: real frames of the watch screen, drawn
//! into ratatui's `TestBackend` and written as SVG and text by
//! `cargo run --example screenshots` (and checked by `tests/tui_screenshots.rs`).

use std::time::Duration;

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

use crate::source::demo;
use crate::tui::action::{Action, Command};
use crate::tui::app::{App, Settings};
use crate::tui::event::Poller;
use crate::tui::pipeline::Pipeline;
use crate::tui::svg;
use crate::tui::theme::Theme;
use crate::tui::view;

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

/// The screenshots of `screenshots/`: the demo (looping, as `pfblame demo`
/// runs) with every recorded poll played once.
pub fn screenshots() -> Result<Vec<Screen>, String> {
    let config = crate::poll::demo_config();
    let settings = Settings {
        servers: config.servers.describe(),
        source: demo::source().describe(),
        strategy: String::new(),
        interval: std::time::Duration::from_secs(2),
    };
    let mut pipeline = Pipeline::new(demo::source(), config).looping(Box::new(demo::round_source));
    let mut app = App::new(settings, Theme::new(true), &view::MEASURE);
    play(&mut app, &mut pipeline, demo::recorded_polls().len())?;
    screens(&mut app)
}

/// Poll time shown in the screenshots: the real one varies from run to run,
/// and the files must not.
const SHOWN_POLL_TIME: Duration = Duration::from_millis(3);

/// Plays every poll of `poller` into `app` (at most `max_polls`), as the
/// collector would, with the poll time fixed.
pub(crate) fn play(app: &mut App, poller: &mut dyn Poller, max_polls: usize) -> Result<(), String> {
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
/// (the first spurious rule is selected), the same at 80x24 and at 40x12
/// (the smallest layout), all rules at 80x24 (rules that differ only in
/// the port, told apart), the details pane, the path diagram (the details
/// pane scrolled to it), and the help. Each is reached by keys a user can
/// press; there is no kill confirmation: the demo refuses kills (a live
/// session's confirmation is tested in `tests/tui_kill.rs`).
pub fn screens(app: &mut App) -> Result<Vec<Screen>, String> {
    let key = |app: &mut App, c: Command| {
        app.update(Action::Command(c));
    };
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
    out.push(Screen {
        name: "small-40x12",
        caption: "pfblame at 40x12: one line still names the bypass",
        buffer: frame(app, 40, 12)?,
    });
    key(app, Command::ToggleAllRules);
    key(app, Command::Up);
    out.push(Screen {
        name: "all-rules-80x24",
        caption: "pfblame: all rules at 80x24, in the compact form (@13 port 80, @14 port 443)",
        buffer: frame(app, 80, 24)?,
    });
    key(app, Command::Down);
    key(app, Command::ToggleAllRules);
    key(app, Command::ToggleDetails);
    out.push(Screen {
        name: "details",
        caption: "pfblame: details of the stray rule and of its selected state",
        buffer: frame(app, 120, 32)?,
    });
    // Tab to the details pane, then down to the path.
    frame(app, 120, 32)?;
    key(app, Command::FocusPrev);
    for _ in 0..5 {
        key(app, Command::Down);
    }
    out.push(Screen {
        name: "path",
        caption: "pfblame: the connection's path, the hop where the reply skips route-to marked",
        buffer: frame(app, 120, 32)?,
    });
    key(app, Command::Home);
    key(app, Command::FocusNext);
    key(app, Command::ToggleDetails);
    key(app, Command::ToggleHelp);
    out.push(Screen {
        name: "help",
        caption: "pfblame: the keys",
        buffer: frame(app, 120, 32)?,
    });
    key(app, Command::ToggleHelp);
    Ok(out)
}
