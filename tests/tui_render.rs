//! The watch screen rendered into ratatui's TestBackend, without a terminal:
//! insta snapshots at 120x32 and 80x24, and style checks (spurious rows
//! highlighted, the selection in reversed video, no colour under NO_COLOR).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use pfblame::tui::action::{Action, Command};
use pfblame::tui::app::{App, Settings};
use pfblame::tui::fake;
use pfblame::tui::theme::Theme;
use pfblame::tui::{draw, svg, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Modifier};

fn settings() -> Settings {
    Settings {
        servers: "2001:db8::10 port 443".into(),
        source: "recorded: dual-prefix".into(),
        strategy: "auto".into(),
        interval: Duration::from_secs(2),
    }
}

fn app(color: bool) -> App {
    let mut app = App::new(settings(), Theme::new(color), &view::MEASURE);
    app.update(Action::Polled(Box::new(fake::snapshot())));
    app
}

fn frame(app: &mut App, w: u16, h: u16) -> Buffer {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    draw(&mut t, app).unwrap();
    t.backend().buffer().clone()
}

fn text(app: &mut App, w: u16, h: u16) -> String {
    svg::to_text(&frame(app, w, h))
}

fn cmd(app: &mut App, c: Command) {
    app.update(Action::Command(c));
}

#[test]
fn main_screen() {
    let mut a = app(true);
    insta::assert_snapshot!("main_120x32", text(&mut a, 120, 32));
    insta::assert_snapshot!("main_80x24", text(&mut a, 80, 24));
}

#[test]
fn details_pane() {
    let mut a = app(true);
    cmd(&mut a, Command::ToggleDetails);
    insta::assert_snapshot!("details_120x32", text(&mut a, 120, 32));
    insta::assert_snapshot!("details_80x24", text(&mut a, 80, 24));
}

#[test]
fn help_overlay() {
    let mut a = app(true);
    cmd(&mut a, Command::ToggleHelp);
    insta::assert_snapshot!("help_120x32", text(&mut a, 120, 32));
    insta::assert_snapshot!("help_80x24", text(&mut a, 80, 24));
}

#[test]
fn all_rules_with_filter_being_typed() {
    let mut a = app(true);
    cmd(&mut a, Command::ToggleAllRules);
    cmd(&mut a, Command::StartFilter);
    for ch in "2001:db8:0:1::/64".chars() {
        a.update(Action::FilterChar(ch));
    }
    insta::assert_snapshot!("filter_120x32", text(&mut a, 120, 32));
}

#[test]
fn failing_pfctl_keeps_data_under_a_banner() {
    let mut a = app(true);
    a.update(Action::PollFailed(
        "permission denied running `pfctl -vvss`; run pfblame as root or with doas".into(),
    ));
    let t = text(&mut a, 120, 32);
    assert!(t.contains("✗ poll failed"), "{t}");
    assert!(t.contains("(R: now): permission denied"), "{t}");
    assert!(t.contains("showing 12:00:00Z, retrying every 2s"), "{t}");
    assert!(
        t.contains("root or with doas"),
        "the whole error shows:\n{t}"
    );
    assert!(
        t.contains("pass in on em0"),
        "the last good data stays:\n{t}"
    );
    insta::assert_snapshot!("error_80x24", text(&mut a, 80, 24));
}

#[test]
fn paused_banner() {
    let mut a = app(false);
    cmd(&mut a, Command::TogglePause);
    let t = text(&mut a, 80, 24);
    assert!(t.contains("PAUSED — data frozen at 12:00:00Z"), "{t}");
}

#[test]
fn before_the_first_poll() {
    let mut a = App::new(settings(), Theme::new(false), &view::MEASURE);
    a.update(Action::PollStarted);
    let t = text(&mut a, 80, 24);
    assert!(t.contains("waiting for the first poll"), "{t}");
    assert!(t.contains("first poll…"), "{t}");
}

#[test]
fn small_terminals_degrade_and_only_tiny_ones_are_refused() {
    let mut a = app(false);
    let t = text(&mut a, 60, 20);
    assert!(!t.contains("at least"), "60x20 is drawn: {t}");
    assert!(t.contains("▶ ! @5"), "{t}");
    insta::assert_snapshot!("main_60x20", t);
    let t = text(&mut a, 30, 7);
    assert!(t.contains("needs a"), "{t}");
}

#[test]
fn pfctl_text_is_neutralised() {
    let mut a = App::new(settings(), Theme::new(false), &view::MEASURE);
    let mut analysis = fake::analysis();
    let row = &mut analysis.rows[5];
    if let Some(rule) = row.rule.as_mut() {
        rule.text = "pass in on em0\x1b]0;pwned\x07 label \"x\"".into();
    }
    analysis.states = analysis
        .states
        .iter()
        .enumerate()
        .map(|(i, (mut s, row))| {
            if i == 0 {
                s.iface = "em0\x1b[2J".into();
            }
            (s, row)
        })
        .collect();
    let snap = pfblame::tui::snapshot::Snapshot::build(
        std::sync::Arc::new(analysis),
        None,
        Duration::ZERO,
        &mut Default::default(),
    );
    a.update(Action::Polled(Box::new(snap)));
    cmd(&mut a, Command::ToggleDetails);
    let buf = frame(&mut a, 120, 32);
    let t = svg::to_text(&buf);
    assert!(t.contains("\\x1b]0;pwned\\x07"), "{t}");
    assert!(t.contains("em0\\x1b[2J"), "{t}");
    for cell in buf.content() {
        assert!(!cell.symbol().chars().any(|c| c.is_control()), "{cell:?}");
    }
}

/// Row `y` of the buffer as text.
fn row_text(buf: &Buffer, y: u16) -> String {
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}

fn find_row(buf: &Buffer, needle: &str) -> u16 {
    (0..buf.area.height)
        .find(|y| row_text(buf, *y).contains(needle))
        .unwrap_or_else(|| panic!("no row with {needle:?}"))
}

#[test]
fn spurious_row_is_highlighted_and_selection_is_reversed() {
    for color in [true, false] {
        let mut a = app(color);
        // Move the selection to @6 so @5 shows its own (unselected) style.
        cmd(&mut a, Command::Down);
        let buf = frame(&mut a, 120, 32);
        let spurious = find_row(&buf, "BYPASS");
        let x = row_text(&buf, spurious).find("BYPASS").unwrap() as u16;
        let x = row_text(&buf, spurious)[..x as usize].chars().count() as u16;
        let cell = &buf[(x, spurious)];
        assert!(
            cell.modifier.contains(Modifier::BOLD),
            "color={color}: {cell:?}"
        );
        assert!(!cell.modifier.contains(Modifier::REVERSED));
        assert_eq!(cell.fg == Color::LightRed, color, "colour only as an extra");
        assert!(
            row_text(&buf, spurious).contains(" ! @5"),
            "marked with a symbol"
        );

        let selected = find_row(&buf, "allowed");
        assert!(
            row_text(&buf, selected).starts_with("┃▶ "),
            "{}",
            row_text(&buf, selected)
        );
        let sel = &buf[(5, selected)];
        assert!(sel.modifier.contains(Modifier::REVERSED), "{sel:?}");
    }
}

#[test]
fn without_colour_nothing_is_coloured() {
    let mut a = app(false);
    cmd(&mut a, Command::ToggleDetails);
    let buf = frame(&mut a, 120, 32);
    for cell in buf.content() {
        assert!(matches!(cell.fg, Color::Reset), "{cell:?}");
        assert!(matches!(cell.bg, Color::Reset), "{cell:?}");
    }
    // The selection is still visible: reversed video and the symbol.
    let y = find_row(&buf, "▶ ");
    assert!(buf[(3, y)].modifier.contains(Modifier::REVERSED));
}

#[test]
fn new_states_are_marked() {
    let mut a = app(true);
    let mut analysis = fake::analysis();
    analysis.states.push((fake::server_state(5, 42, 1, 42), 5));
    let mut tracker = pfblame::tui::snapshot::NewStateTracker::default();
    let before: Vec<_> = fake::analysis().states.iter().map(|(s, _)| s).collect();
    tracker.mark(before.iter());
    let snap = pfblame::tui::snapshot::Snapshot::build(
        std::sync::Arc::new(analysis),
        None,
        Duration::ZERO,
        &mut tracker,
    );
    a.update(Action::Polled(Box::new(snap)));
    let buf = frame(&mut a, 120, 32);
    let y = find_row(&buf, "2001:db8:0:1::2a[50042]");
    assert!(
        row_text(&buf, y).starts_with("│  +"),
        "{}",
        row_text(&buf, y)
    );
    assert!(buf[(3, y)].modifier.contains(Modifier::BOLD));
    assert!(svg::to_text(&buf).contains("1 new (+)"));
}

#[test]
fn rules_of_an_earlier_ruleset_and_older_states_are_marked() {
    let mut a = App::new(settings(), Theme::new(false), &view::MEASURE);
    let mut analysis = fake::analysis();
    analysis.generation.number = 2;
    analysis.rows[6].generation = 1;
    analysis.older_than_ruleset[1] = true;
    let snap = pfblame::tui::snapshot::Snapshot::build(
        std::sync::Arc::new(analysis),
        None,
        Duration::ZERO,
        &mut Default::default(),
    );
    a.update(Action::Polled(Box::new(snap)));
    let t = text(&mut a, 120, 32);
    assert!(t.contains("@6 g1"), "{t}");
    let older = t
        .lines()
        .find(|l| l.contains("2001:db8:0:1::2[50002]"))
        .unwrap();
    assert!(older.starts_with("│  ~"), "{older}");
    cmd(&mut a, Command::Down);
    cmd(&mut a, Command::ToggleDetails);
    let t = text(&mut a, 120, 32);
    assert!(t.contains("this rule is from generation 1 (now 2)"), "{t}");
}

/// One host watched with `--carp`: its CARP status is on the poll line
/// (a fleet shows it on each host's line).
#[test]
fn single_host_shows_its_carp_status() {
    use pfblame::model::carp::{Carp, CarpState, CarpVhid};
    let vhid = |state| CarpVhid {
        iface: "carp0".into(),
        vhid: 1,
        state,
        carpdev: Some("em0".into()),
        advbase: Some(1),
        advskew: Some(0),
    };
    for (state, word) in [
        (CarpState::Master, "CARP MASTER"),
        (CarpState::Backup, "CARP BACKUP"),
    ] {
        let mut snap = fake::snapshot();
        let mut analysis = (*snap.analysis).clone();
        analysis.carp = Some(Carp {
            vhids: vec![vhid(state)],
        });
        snap.analysis = std::sync::Arc::new(analysis);
        let mut a = App::new(settings(), Theme::new(false), &view::MEASURE);
        a.update(Action::Polled(Box::new(snap)));
        let screen = text(&mut a, 120, 32);
        let header: Vec<&str> = screen.lines().take(3).collect();
        assert!(
            header.iter().any(|l| l.contains(word)),
            "{word}: {header:#?}"
        );
    }
    // Without a status, nothing is claimed.
    let mut a = app(false);
    assert!(!text(&mut a, 120, 32).contains("CARP"));
}
