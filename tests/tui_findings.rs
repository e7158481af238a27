//! Findings and the kill key on `pfblame demo`'s data (the dual-prefix
//! scenario, every poll played through the real pipeline): the rules table
//! names the route-to rule @14's states bypass, the details pane explains
//! it, the header counts it, and `K` shows the exact pfctl commands.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use pfblame::source::Pfctl;
use pfblame::source::demo;
use pfblame::tui::action::{Action, Command};
use pfblame::tui::app::{App, Settings, SortColumn};
use pfblame::tui::event::Poller;
use pfblame::tui::kill::KillAccess;
use pfblame::tui::pipeline::Pipeline;
use pfblame::tui::theme::Theme;
use pfblame::tui::{draw, svg, view};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn demo_app() -> App {
    let config = pfblame::poll::demo_config();
    let settings = Settings {
        servers: config.servers.describe(),
        source: "demo: dual-prefix (4 polls)".into(),
        strategy: String::new(),
        interval: Duration::from_secs(2),
    };
    let mut pipeline = Pipeline::new(demo::source(), config);
    let mut app = App::new(settings, Theme::new(false), &view::MEASURE);
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
        assert!(row.contains("✗ bypass @17"), "{w}x{h}:\n{screen}");
        assert!(
            row.contains("out em1 → <www> :443 keep"),
            "the compact form, whole: {w}x{h}:\n{screen}"
        );
        assert!(
            screen.contains("✗ 1 route-to bypass (@14 → @17)"),
            "{w}x{h}:\n{screen}"
        );
    }
    // The verdict column goes first when narrow (the `!` and the finding say it).
    assert!(line_with(&text(&mut app, 120, 32), "▶ ! @14").contains("BYPASS"));
    // 40x12 still names the bypass in one line, and selects the rule.
    let small = text(&mut app, 40, 12);
    assert!(small.contains("✗ @14 bypasses route-to @17"), "{small}");
    assert!(line_with(&small, "▶ ! @14").contains("out em1 → <www> :443"));
    assert!(!small.contains("needs a terminal"), "{small}");
}

#[test]
fn rules_that_differ_only_in_the_port_look_different_at_80_columns() {
    let mut app = demo_app();
    cmd(&mut app, Command::ToggleAllRules);
    let screen = text(&mut app, 80, 24);
    let r13 = line_with(&screen, " @13 ");
    let r14 = line_with(&screen, " @14 ");
    assert!(r13.contains("out em1 → <www> :80 keep"), "{screen}");
    assert!(r14.contains("out em1 → <www> :443 keep"), "{screen}");
    // Every cut is marked: a row whose text does not fit shows `…`.
    cmd(&mut app, Command::StartJump);
    for ch in "17".chars() {
        app.update(Action::JumpChar(ch));
    }
    app.update(Action::JumpAccept);
    let screen = text(&mut app, 80, 24);
    let r17 = line_with(&screen, "▶   @17 ");
    assert!(r17.contains('…'), "{screen}");
    assert!(r17.contains("in em1"), "{screen}");
}

#[test]
fn the_details_pane_explains_the_finding() {
    let mut app = demo_app();
    cmd(&mut app, Command::ToggleDetails);
    let screen = text(&mut app, 120, 32);
    // The path, drawn first: request hops, then reply hops, the bypass marked.
    let hop = |needle: &str| {
        screen
            .lines()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?}:\n{screen}"))
    };
    assert!(hop("path (✗: bypassed)") < hop("request in  gif0"));
    assert!(hop("request in  gif0") < hop("request out em1"));
    assert!(hop("request out em1") < hop("│server "));
    assert!(hop("│server ") < hop("reply   in  em1"));
    assert!(line_with(&screen, "request out em1").contains("@14 passes it and keeps state"));
    assert!(!line_with(&screen, "request out em1").contains('✗'));
    assert!(line_with(&screen, "reply   in  em1").contains("✗ state of @14"));
    assert!(screen.contains("more lines below: Tab, then ↓"), "{screen}");
    insta::assert_snapshot!("demo_details_120x32", screen);
    // The finding in words, and the history, further down.
    let all: Vec<String> = pfblame::tui::view::details::lines(&app, 118)
        .iter()
        .map(ToString::to_string)
        .collect();
    let all = all.join("\n");
    assert!(line_with(&all, "routing table").contains("✗ default route, not gif0 (@17)"));
    assert!(all.contains("skip route-to rule @17"), "{all}");
    assert!(
        all.contains("skips @17: pass in quick on em1 inet6 proto tcp from 2001:db8:bbbb:1::10"),
        "{all}"
    );
    assert!(all.contains("fix: add `no state` to rule @14"), "{all}");
    assert!(
        all.contains("new server states per poll: last 4 polls, most 2, now 1"),
        "{all}"
    );
    // At 80x24 the rest is reached by scrolling, and scrolling ends with it.
    let small = text(&mut app, 80, 24);
    assert!(small.contains("path (✗: bypassed)"), "{small}");
    cmd(&mut app, Command::FocusNext);
    cmd(&mut app, Command::End);
    let end = text(&mut app, 80, 24);
    assert!(end.contains("of the states listing"), "{end}");
    assert!(app.details.scroll > 0 && app.details.scroll == app.details.max_scroll);
    insta::assert_snapshot!("demo_details_scrolled_80x24", end);
}

#[test]
fn sorting_by_finding_puts_the_bypass_first() {
    let mut app = demo_app();
    cmd(&mut app, Command::ToggleAllRules);
    while app.rules.sort != SortColumn::Finding {
        cmd(&mut app, Command::CycleSort);
    }
    let snap = app.snapshot.as_ref().unwrap();
    let first = &snap.analysis.rows[app.rules.rows[0]];
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
        !line_with(&screen, "q/F10 quit").contains("K kill"),
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
        line_with(&footer, "q/F10 quit").contains("K kill"),
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
