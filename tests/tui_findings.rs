//! Findings and the kill key on `pfblame demo`'s data (the dual-prefix
//! scenario, every poll played through the real pipeline): the rules table
//! names the route-to rule @14's states bypass, the details pane explains
//! it, the header counts it, and `K` shows the exact pfctl commands.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use pfblame::commands::demo;
use pfblame::source::Pfctl;
use pfblame::tui::action::{Action, Command};
use pfblame::tui::app::{App, Settings, SortColumn};
use pfblame::tui::event::Poller;
use pfblame::tui::kill::KillAccess;
use pfblame::tui::pipeline::Pipeline;
use pfblame::tui::theme::Theme;
use pfblame::tui::{draw, svg};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn demo_app() -> App {
    let config = demo::config();
    let settings = Settings {
        servers: config.servers.describe(),
        source: "demo: dual-prefix (4 polls)".into(),
        strategy: String::new(),
        interval: Duration::from_secs(2),
    };
    let mut pipeline = Pipeline::new(demo::source(), config);
    let mut app = App::new(settings, Theme::new(false));
    while !pipeline.exhausted() {
        let mut snap = pipeline.poll().unwrap();
        snap.elapsed = Duration::from_millis(3);
        app.update(Action::Polled(Box::new(snap)));
    }
    app
}

fn text(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    draw(&mut t, app).unwrap();
    svg::to_text(t.backend().buffer())
}

fn cmd(app: &mut App, c: Command) {
    app.update(Action::Command(c));
}

fn line_with<'a>(screen: &'a str, needle: &str) -> &'a str {
    screen
        .lines()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?}:\n{screen}"))
}

#[test]
fn the_rules_table_and_header_name_the_bypassed_rule() {
    let mut app = demo_app();
    for (w, h) in [(120, 32), (80, 24)] {
        let screen = text(&mut app, w, h);
        let row = line_with(&screen, "▶ ! @14");
        assert!(row.contains("BYPASS"), "{screen}");
        assert!(row.contains("✗ bypass @17"), "{w}x{h}:\n{screen}");
        assert!(
            screen.contains("✗ 1 route-to bypass (@14 → @17)"),
            "{w}x{h}:\n{screen}"
        );
    }
}

#[test]
fn the_details_pane_explains_the_finding() {
    let mut app = demo_app();
    cmd(&mut app, Command::ToggleDetails);
    let screen = text(&mut app, 120, 32);
    assert!(screen.contains("skip route-to rule @17"), "{screen}");
    assert!(
        screen.contains("skips @17: pass in quick on em1 inet6 proto tcp from 2001:db8:bbbb:1::10"),
        "{screen}"
    );
    assert!(screen.contains("path: "), "{screen}");
    assert!(
        screen.contains("fix: add `no state` to rule @14"),
        "{screen}"
    );
    assert!(screen.contains("more lines below: Tab, then ↓"), "{screen}");
    insta::assert_snapshot!("demo_details_120x32", screen);
    // At 80x24 the rest is reached by scrolling, and scrolling ends with it.
    let small = text(&mut app, 80, 24);
    assert!(small.contains("skip route-to rule"), "{small}");
    cmd(&mut app, Command::FocusNext);
    cmd(&mut app, Command::End);
    let end = text(&mut app, 80, 24);
    assert!(end.contains("line 55 of the states listing"), "{end}");
    assert!(app.details_scroll > 0 && app.details_scroll == app.details_max_scroll);
    insta::assert_snapshot!("demo_details_scrolled_80x24", end);
}

#[test]
fn sorting_by_finding_puts_the_bypass_first() {
    let mut app = demo_app();
    cmd(&mut app, Command::ToggleAllRules);
    while app.sort != SortColumn::Finding {
        cmd(&mut app, Command::CycleSort);
    }
    let snap = app.snapshot.as_ref().unwrap();
    let first = &snap.analysis.rows[app.rules[0]];
    assert_eq!(first.key.to_string(), "@14");
    let screen = text(&mut app, 120, 32);
    assert!(screen.contains("sort: finding"), "{screen}");
    assert!(screen.contains("Finding▼"), "{screen}");
}

#[test]
fn kill_refused_in_the_demo_says_why() {
    let mut app = demo_app();
    app.kill = KillAccess::new(false, false, None);
    cmd(&mut app, Command::Kill);
    let screen = text(&mut app, 120, 32);
    assert!(
        screen.contains("kill is not possible on recorded data"),
        "{screen}"
    );
    assert!(
        !line_with(&screen, "q/^C quit").contains("K kill"),
        "the footer hints K only when it can work"
    );
}

#[test]
fn the_kill_confirmation_shows_the_commands() {
    let mut app = demo_app();
    let pfctl = Pfctl::new("doas pfctl", 5.0).unwrap();
    app.kill = KillAccess::new(true, true, Some(pfctl));
    let footer = text(&mut app, 120, 32);
    assert!(
        line_with(&footer, "q/^C quit").contains("K kill"),
        "{footer}"
    );
    cmd(&mut app, Command::Kill);
    let screen = text(&mut app, 120, 32);
    assert!(
        screen.contains("Kill the spurious states of @14?"),
        "{screen}"
    );
    assert!(
        screen.contains("pfblame will remove 7 states by running:"),
        "{screen}"
    );
    let commands = screen
        .lines()
        .filter(|l| l.contains("doas pfctl -k id -k "))
        .count();
    assert_eq!(commands, 7, "{screen}");
    assert!(screen.contains("y run them"), "{screen}");
    insta::assert_snapshot!("demo_kill_confirmation_120x32", screen);
}
