//! Scripted key sequences through the real UI loop (`tui::run`) on a
//! TestBackend: the same code path as the terminal, minus the terminal.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;
use std::sync::mpsc::{self, Receiver};
use std::time::{Duration, Instant};

use crossterm::event::{
    Event as TermEvent, KeyCode, KeyEvent, KeyModifiers, MouseButton, MouseEvent, MouseEventKind,
};
use pfblame::tui::app::{App, Focus, Settings, SortColumn};
use pfblame::tui::event::{Control, Event};
use pfblame::tui::snapshot::{NewStateTracker, Snapshot};
use pfblame::tui::theme::Theme;
use pfblame::tui::{Ended, fake, run, svg, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

struct Session {
    terminal: Terminal<TestBackend>,
    app: App,
    control: Receiver<Control>,
    control_tx: mpsc::Sender<Control>,
}

impl Session {
    fn new(w: u16, h: u16) -> Self {
        let settings = Settings {
            servers: "2001:db8::10 port 443".into(),
            source: "recorded: dual-prefix".into(),
            strategy: "auto".into(),
            interval: Duration::from_secs(2),
        };
        let (control_tx, control) = mpsc::channel();
        let mut s = Session {
            terminal: Terminal::new(TestBackend::new(w, h)).unwrap(),
            app: App::new(settings, Theme::new(false), &view::MEASURE),
            control,
            control_tx,
        };
        s.feed(vec![
            Event::PollStarted,
            Event::Polled(Box::new(fake::snapshot())),
        ]);
        s
    }

    /// Runs the loop over `events`; it ends when they run out (or on quit).
    fn feed(&mut self, events: Vec<Event>) -> Ended {
        let (tx, rx) = mpsc::channel();
        for e in events {
            tx.send(e).unwrap();
        }
        drop(tx);
        run(&mut self.terminal, &mut self.app, &rx, &self.control_tx).unwrap()
    }

    fn keys(&mut self, keys: &str) -> Ended {
        self.feed(keys.chars().map(|c| key(KeyCode::Char(c))).collect())
    }

    fn screen(&self) -> String {
        svg::to_text(self.terminal.backend().buffer())
    }

    /// Control messages sent so far, Quit (sent when the loop ends) left out.
    fn controls(&self) -> Vec<Control> {
        self.control
            .try_iter()
            .filter(|c| *c != Control::Quit)
            .collect()
    }
}

fn key(code: KeyCode) -> Event {
    Event::Input(TermEvent::Key(KeyEvent::new(code, KeyModifiers::NONE)))
}

#[test]
fn filter_as_you_type_then_clear() {
    let mut s = Session::new(120, 32);
    s.keys("a/2001:db8:0:aaaa::9");
    assert!(s.app.filter.editing);
    let screen = s.screen();
    assert!(screen.contains("All rules (1 of 9) · filtered"), "{screen}");
    assert!(
        screen.contains("/2001:db8:0:aaaa::9█ (address 2001:db8:0:aaaa::9/128)"),
        "{screen}"
    );
    // Letters go to the filter, not to commands: `q` did not quit.
    s.keys("q");
    assert!(!s.app.should_quit);
    s.feed(vec![key(KeyCode::Backspace), key(KeyCode::Enter)]);
    assert!(!s.app.filter.editing);
    assert!(s.screen().contains("Esc clear"));
    insta::assert_snapshot!("filter_kept_120x32", s.screen());
    s.feed(vec![key(KeyCode::Esc)]);
    assert!(s.app.filter.text.is_empty());
    assert!(!s.app.should_quit, "the first Esc only clears the filter");
}

#[test]
fn sort_and_reverse() {
    let mut s = Session::new(120, 32);
    s.keys("ass");
    assert_eq!(s.app.rules.sort, SortColumn::AllStates);
    let screen = s.screen();
    assert!(screen.contains("sort: all states"), "{screen}");
    assert!(screen.contains("All▼"), "{screen}");
    let pos = |screen: &str, what: &str| screen.find(what).unwrap();
    assert!(
        pos(&screen, "pass out all") < pos(&screen, "pass in on em0"),
        "40 before 9"
    );
    s.keys("r");
    let screen = s.screen();
    assert!(
        screen.contains("All▲") && screen.contains("reversed"),
        "{screen}"
    );
    insta::assert_snapshot!("sorted_reversed_120x32", screen);
}

#[test]
fn toggles_pause_interval_and_refresh_reach_the_collector() {
    let mut s = Session::new(80, 24);
    s.keys("p");
    assert!(s.screen().contains("PAUSED"));
    s.keys("+R A ");
    assert_eq!(
        s.controls(),
        vec![
            Control::Pause,
            Control::SetInterval(Duration::from_secs(3)),
            Control::RefreshNow,
            Control::Resume,
            Control::KeepAllStates(true),
            Control::Pause,
        ]
    );
    assert!(s.screen().contains("every 3s"), "{}", s.screen());
    s.keys("-");
    assert_eq!(
        s.controls(),
        vec![Control::SetInterval(Duration::from_secs(2))]
    );
}

#[test]
fn help_opens_and_closes_and_quit_ends_the_loop() {
    let mut s = Session::new(80, 24);
    s.keys("?");
    assert!(s.screen().contains("pfblame keys"));
    insta::assert_snapshot!("help_80x24", s.screen());
    s.feed(vec![key(KeyCode::Esc)]);
    assert!(!s.screen().contains("pfblame keys"));
    assert_eq!(s.keys("q"), Ended::Quit);
    assert!(s.control.try_iter().any(|c| c == Control::Quit));
}

#[test]
fn esc_never_quits_but_q_f10_and_ctrl_c_do() {
    let mut s = Session::new(80, 24);
    assert_eq!(
        s.feed(vec![key(KeyCode::Esc), key(KeyCode::Esc)]),
        Ended::Disconnected
    );
    assert!(!s.app.should_quit, "Esc on the main screen does nothing");
    let mut s = Session::new(80, 24);
    assert_eq!(s.feed(vec![key(KeyCode::F(10))]), Ended::Quit);
    let mut s = Session::new(80, 24);
    let ctrl_c = Event::Input(TermEvent::Key(KeyEvent::new(
        KeyCode::Char('c'),
        KeyModifiers::CONTROL,
    )));
    assert_eq!(s.feed(vec![key(KeyCode::Char('/')), ctrl_c]), Ended::Quit);
}

#[test]
fn tab_enter_and_details_navigation() {
    let mut s = Session::new(120, 32);
    s.feed(vec![
        key(KeyCode::Tab),
        key(KeyCode::Down),
        key(KeyCode::Down),
    ]);
    assert_eq!(s.app.focus, Focus::States);
    assert_eq!(s.app.states.cursor, 2);
    s.feed(vec![key(KeyCode::Enter)]);
    let screen = s.screen();
    assert!(screen.contains("Details"), "{screen}");
    assert!(
        screen.contains("id 6640000000000003"),
        "details follow the selected state:\n{screen}"
    );
    assert!(screen.contains("verdict: BYPASS"), "{screen}");
    s.feed(vec![key(KeyCode::Tab), key(KeyCode::Down)]);
    assert_eq!(s.app.focus, Focus::Details);
    // Everything fits in the pane: there is nothing to scroll past.
    assert_eq!(s.app.details.scroll, 0);
}

#[test]
fn mouse_click_and_wheel() {
    let mut s = Session::new(120, 32);
    let body = s.app.areas.rules_body;
    let click = |x, y| {
        Event::Input(TermEvent::Mouse(MouseEvent {
            kind: MouseEventKind::Down(MouseButton::Left),
            column: x,
            row: y,
            modifiers: KeyModifiers::NONE,
        }))
    };
    s.feed(vec![click(body.x + 10, body.y + 1)]);
    assert_eq!(s.app.current_row().unwrap().key.to_string(), "@6");
    assert!(s.screen().contains("States of @6"));
    let wheel = Event::Input(TermEvent::Mouse(MouseEvent {
        kind: MouseEventKind::ScrollUp,
        column: body.x + 10,
        row: body.y,
        modifiers: KeyModifiers::NONE,
    }));
    s.feed(vec![wheel]);
    assert_eq!(s.app.current_row().unwrap().key.to_string(), "@5");
}

#[test]
fn a_failing_poll_then_recovery() {
    let mut s = Session::new(120, 32);
    s.feed(vec![Event::PollFailed(
        "`pfctl -vvss` did not finish within 10.0 s and was killed".into(),
    )]);
    let screen = s.screen();
    assert!(screen.contains("✗ poll failed"), "{screen}");
    assert!(screen.contains("BYPASS"), "old data still shown:\n{screen}");
    s.feed(vec![Event::Polled(Box::new(fake::snapshot()))]);
    assert!(!s.screen().contains("poll failed"));
}

#[test]
fn resize_relayouts() {
    let mut s = Session::new(120, 32);
    s.terminal.backend_mut().resize(70, 20);
    s.feed(vec![Event::Input(TermEvent::Resize(70, 20))]);
    // Small screens degrade: a compact header, fewer columns; not refused.
    let small = s.screen();
    assert!(!small.contains("needs a terminal"), "{small}");
    assert!(small.contains("▶ ! @5"), "{small}");
    assert!(small.contains("! 1 bypass rule"), "{small}");
    s.terminal.backend_mut().resize(40, 12);
    s.feed(vec![Event::Input(TermEvent::Resize(40, 12))]);
    let tiny = s.screen();
    assert!(tiny.contains("▶ ! @5"), "{tiny}");
    insta::assert_snapshot!("main_40x12", tiny);
    s.terminal.backend_mut().resize(20, 6);
    s.feed(vec![Event::Input(TermEvent::Resize(20, 6))]);
    assert!(s.screen().contains("needs a"), "{}", s.screen());
    s.terminal.backend_mut().resize(80, 24);
    s.feed(vec![Event::Input(TermEvent::Resize(80, 24))]);
    assert!(s.screen().contains("States of @5"), "{}", s.screen());
}

/// At a million server states, a key press (update and redraw) stays far
/// below 50 ms: only visible rows are drawn and the row lists are cached.
#[test]
fn a_key_press_is_fast_at_a_million_states() {
    const N: usize = 1_000_000;
    let mut s = Session::new(120, 32);
    let snap = Snapshot::build(
        Arc::new(fake::big_analysis(N)),
        None,
        Duration::ZERO,
        &mut NewStateTracker::default(),
    );
    s.feed(vec![Event::Polled(Box::new(snap))]);
    assert_eq!(s.app.states.rows.len(), N - N / 10);
    // Debug builds are several times slower than release; the bound holds
    // for both, with a margin for a loaded CI machine.
    let limit = Duration::from_millis(if cfg!(debug_assertions) { 150 } else { 50 });
    for (name, events) in [
        ("down in rules", vec![key(KeyCode::Down)]),
        ("up in rules", vec![key(KeyCode::Up)]),
        ("tab", vec![key(KeyCode::Tab)]),
        ("page down in states", vec![key(KeyCode::PageDown)]),
        ("end of states", vec![key(KeyCode::End)]),
        ("sort", vec![key(KeyCode::Char('s'))]),
        ("help", vec![key(KeyCode::Char('?'))]),
        ("close help", vec![key(KeyCode::Esc)]),
    ] {
        let t = Instant::now();
        s.feed(events);
        let took = t.elapsed();
        eprintln!("{name}: {took:?}");
        assert!(took < limit, "{name}: {took:?}");
    }
    assert_eq!(s.app.states.cursor, N - N / 10 - 1);
    assert!(s.screen().contains("States of @5"));
}

#[test]
fn jump_next_harmful_copy_and_f_keys() {
    let mut s = Session::new(80, 24);
    s.keys(":6");
    assert!(s.screen().contains(":6█"), "the prompt shows what is typed");
    s.feed(vec![key(KeyCode::Enter)]);
    let screen = s.screen();
    assert!(screen.contains("┃▶   @6 "), "{screen}");
    s.keys("n");
    assert!(s.screen().contains("┃▶ ! @5 "), "{}", s.screen());
    s.keys("y");
    let screen = s.screen();
    let footer = screen.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
    assert!(footer.starts_with("y: pfctl -k id -k "), "{screen}");
    s.keys("j");
    assert!(!s.screen().contains("y: pfctl"), "gone at the next key");
    s.feed(vec![key(KeyCode::F(6))]);
    assert_eq!(s.app.rules.sort, SortColumn::ServerStates);
    s.feed(vec![key(KeyCode::F(3))]);
    assert!(s.app.filter.editing);
    s.feed(vec![key(KeyCode::Esc), key(KeyCode::F(1))]);
    assert!(s.screen().contains("pfblame keys"));
}
