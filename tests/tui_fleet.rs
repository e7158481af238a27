//! `watch` over a fleet (issue #17): the bundled CARP pair
//! (`fixtures/scenarios/carp-pair`) drawn at 120×32 and 80×24, with a Host
//! column, one header line per host (its CARP status first), and `/NAME`
//! keeping one host's rows.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use pfblame::analyze::{Config, Servers};
use pfblame::fleet::Fleet;
use pfblame::source::{Options, PfctlOptions, Strategy};
use pfblame::tui::action::Action;
use pfblame::tui::app::App;
use pfblame::tui::start::prepare_fleet;
use pfblame::tui::{draw, svg};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn pair_app() -> App {
    let from = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/scenarios/carp-pair");
    let options = Options {
        from: Some(from),
        pfctl: PfctlOptions::local("pfctl", std::time::Duration::from_secs(1)),
        strategy: Strategy::Auto,
        translation: None,
    };
    let fleet = Fleet::open(&options).unwrap().expect("a fleet recording");
    let config = Config {
        servers: Servers::parse(&["2001:db8::10".to_string()], &[]).unwrap(),
        ..Config::default()
    };
    let (app, _pipeline) = prepare_fleet(fleet, config, std::time::Duration::from_secs(2), false)
        .expect("the first poll");
    app
}

fn text(app: &mut App, w: u16, h: u16) -> String {
    let mut t = Terminal::new(TestBackend::new(w, h)).unwrap();
    draw(&mut t, app).unwrap();
    svg::to_text(t.backend().buffer())
}

fn rule_lines(screen: &str) -> Vec<&str> {
    screen
        .lines()
        .filter(|l| l.contains(" fw-a ") || l.contains(" fw-b "))
        .filter(|l| l.starts_with('┃'))
        .collect()
}

#[test]
fn both_hosts_are_shown_at_both_sizes() {
    for (w, h) in [(120, 32), (80, 24)] {
        let mut app = pair_app();
        let screen = text(&mut app, w, h);
        assert!(screen.contains("Host"), "{w}x{h}:\n{screen}");
        assert!(
            screen.contains("fw-a · CARP MASTER · 12:00:00Z") && screen.contains("Hostid 0a0a0001"),
            "{w}x{h}:\n{screen}"
        );
        assert!(
            screen.contains("fw-b · CARP BACKUP · 12:00:00Z"),
            "{w}x{h}:\n{screen}"
        );
        let rows = rule_lines(&screen);
        assert_eq!(rows.len(), 4, "{w}x{h}:\n{screen}");
        assert!(
            rows.iter()
                .any(|l| l.contains("fw-b") && l.contains("default"))
        );
    }
}

#[test]
fn a_host_filter_keeps_its_rows_and_the_backup_row_names_the_master() {
    let mut app = pair_app();
    for c in "fw-b".chars() {
        app.update(Action::FilterChar(c));
    }
    let screen = text(&mut app, 120, 32);
    let rows = rule_lines(&screen);
    assert_eq!(rows.len(), 2, "{screen}");
    assert!(rows.iter().all(|l| l.contains("fw-b")), "{screen}");
    let snap = app.snapshot.as_ref().unwrap();
    let default = snap
        .analysis
        .rows
        .iter()
        .find(|r| r.host.as_deref() == Some("fw-b") && r.key.number.is_none())
        .unwrap();
    assert!(
        default.reason.contains("fleet: 1 made by fw-a's @5:0"),
        "{}",
        default.reason
    );
}

#[test]
fn the_carp_status_leads_each_host_line_even_on_a_small_screen() {
    let mut app = pair_app();
    let screen = text(&mut app, 40, 12);
    assert!(screen.contains("fw-a · CARP MASTER"), "40x12:\n{screen}");
    assert!(screen.contains("fw-b · CARP BACKUP"), "40x12:\n{screen}");
    // A host whose ifconfig was not read says so, rather than nothing.
    let snap = app.snapshot.as_mut().unwrap();
    snap.hosts[1].carp = Some("unknown".into());
    let screen = text(&mut app, 120, 32);
    assert!(screen.contains("fw-b · CARP unknown · "), "{screen}");
}
