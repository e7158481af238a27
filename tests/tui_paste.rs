//! Pastes and typed-ahead keys never kill (issue #10.4): scripted events
//! through the real UI loop (`tui::run` on a `TestBackend`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use crossterm::event::{Event as TermEvent, KeyCode, KeyEvent, KeyModifiers};
use pfblame::source::Pfctl;
use pfblame::source::demo;
use pfblame::tui::app::App;
use pfblame::tui::event::{BURST_GAP, Control, Event};
use pfblame::tui::kill::KillAccess;
use pfblame::tui::run;
use pfblame::tui::start;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn key(c: char) -> Event {
    Event::Input(TermEvent::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

fn paste(text: &str) -> Event {
    Event::Input(TermEvent::Paste(text.into()))
}

/// The demo with kills allowed, as if pfctl were live (nothing runs here:
/// the test only looks at what the loop hands to the collector).
fn killing_app() -> App {
    let (mut app, _) = start::prepare(
        demo::source(),
        pfblame::poll::demo_config(),
        None,
        Duration::from_secs(2),
        false,
    )
    .unwrap();
    app.kill = KillAccess::new(true, true, Some(Pfctl::new("doas pfctl", 5.0).unwrap()));
    app
}

/// Runs the UI loop over events sent by `script` (it ends when the script
/// does); returns what reached the collector.
fn feed(app: &mut App, script: impl FnOnce(mpsc::Sender<Event>) + Send + 'static) -> Vec<Control> {
    let mut terminal = Terminal::new(TestBackend::new(120, 32)).unwrap();
    let (tx, rx) = mpsc::channel();
    let (ctl_tx, ctl_rx) = mpsc::channel();
    let sender = thread::spawn(move || script(tx));
    run(&mut terminal, app, &rx, &ctl_tx).unwrap();
    sender.join().unwrap();
    ctl_rx.try_iter().filter(|c| *c != Control::Quit).collect()
}

fn kills(controls: &[Control]) -> usize {
    controls
        .iter()
        .filter(|c| matches!(c, Control::Kill(_)))
        .count()
}

#[test]
fn typed_ahead_ky_opens_the_confirmation_but_never_answers_it() {
    let mut app = killing_app();
    let controls = feed(&mut app, |tx| {
        for e in [key('K'), key('y'), key('y'), key('Y')] {
            tx.send(e).unwrap();
        }
    });
    assert_eq!(kills(&controls), 0, "{controls:?}");
    assert!(app.kill_prompt().is_some(), "the question is still open");
    let notice = app
        .notice
        .as_ref()
        .map(|n| n.text.clone())
        .unwrap_or_default();
    assert!(notice.contains("were ignored"), "{notice}");
}

#[test]
fn a_deliberate_answer_after_a_pause_still_kills() {
    let mut app = killing_app();
    let controls = feed(&mut app, |tx| {
        // Let the loop draw its first frame first: the gate times keys when
        // the loop takes them, so a slow first frame (a loaded machine)
        // would otherwise queue the `K` and the `y` together.
        thread::sleep(BURST_GAP * 4);
        tx.send(key('K')).unwrap();
        thread::sleep(BURST_GAP * 4);
        tx.send(key('y')).unwrap();
    });
    assert_eq!(kills(&controls), 1, "{controls:?}");
}

#[test]
fn a_burst_that_keeps_going_is_refused_throughout() {
    let mut app = killing_app();
    let controls = feed(&mut app, |tx| {
        tx.send(key('K')).unwrap();
        for _ in 0..6 {
            thread::sleep(BURST_GAP / 4);
            tx.send(key('y')).unwrap();
        }
    });
    assert_eq!(kills(&controls), 0, "{controls:?}");
}

#[test]
fn a_bracketed_paste_is_text_for_the_filter_never_commands() {
    let mut app = killing_app();
    let controls = feed(&mut app, |tx| {
        tx.send(paste("Ky")).unwrap();
        thread::sleep(BURST_GAP * 2);
        tx.send(paste("y")).unwrap();
    });
    assert!(controls.is_empty(), "{controls:?}");
    assert!(
        app.kill_prompt().is_none(),
        "a paste opened the confirmation"
    );
    assert!(!app.filter.editing && app.filter.text.is_empty());

    let _ = feed(&mut app, |tx| {
        tx.send(key('/')).unwrap();
        tx.send(paste("2001:db8:\x1b[2J\nK")).unwrap();
    });
    assert!(app.filter.editing);
    assert_eq!(app.filter.text, "2001:db8:[2JK");
    assert!(app.kill_prompt().is_none());
}
