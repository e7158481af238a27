//! The committed screenshots are what `cargo run --example screenshots`
//! writes today: real renders of `pfblame demo`, so a change to the screen
//! shows up here (and in review) as a changed image.

use std::fs;
use std::path::Path;

#[test]
fn committed_screenshots_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    let screens = pfblame::tui::screens::screenshots().expect("the demo renders");
    assert!(screens.len() >= 3, "main, details and help at least");
    let mut stale = Vec::new();
    for screen in &screens {
        for (ext, want) in [("svg", screen.svg()), ("txt", screen.text())] {
            let path = dir.join(format!("{}.{ext}", screen.name));
            if fs::read_to_string(&path).ok().as_deref() != Some(want.as_str()) {
                stale.push(path.display().to_string());
            }
        }
    }
    assert!(
        stale.is_empty(),
        "screenshots are out of date: {stale:?}\nrun `cargo run --example screenshots` and commit the result"
    );
}

#[test]
fn the_main_screenshot_shows_the_stray_rule_selected() {
    let screens = pfblame::tui::screens::screenshots().expect("the demo renders");
    let main = screens
        .iter()
        .find(|s| s.name == "main")
        .expect("a main screen");
    let text = main.text();
    let selected = text
        .lines()
        .find(|l| l.contains('▶'))
        .expect("a selected row");
    assert!(
        selected.contains("! @") && selected.contains("BYPASS"),
        "{text}"
    );
    let help = screens
        .iter()
        .find(|s| s.name == "help")
        .expect("a help screen");
    assert!(help.text().contains("pfblame keys"));
    let details = screens
        .iter()
        .find(|s| s.name == "details")
        .expect("a details screen");
    assert!(details.text().contains("verdict: BYPASS"));
    // Which routing the states make replies skip (the route-to rule @17
    // is named by the path diagram, checked below).
    assert!(
        details.text().contains("skip the routing"),
        "{}",
        details.text()
    );
    assert!(selected.contains("✗ bypass @17"), "{text}");
    // The demo loops: no screenshot says the replay ended.
    for s in &screens {
        assert!(!s.text().contains("ended"), "{}: {}", s.name, s.text());
    }
    let shot = |name: &str| {
        screens
            .iter()
            .find(|s| s.name == name)
            .unwrap_or_else(|| panic!("a {name} screen"))
            .text()
    };
    // The path, drawn, with the bypassed hop marked.
    let path = shot("path");
    assert!(path.contains("request out em1"), "{path}");
    assert!(path.contains("✗ state of @14"), "{path}");
    assert!(path.contains("✗ default route, not gif0 (@17)"), "{path}");
    // The smallest layout still names the bypass.
    let small = shot("small-40x12");
    assert!(small.contains("✗ @14 bypasses route-to @17"), "{small}");
    assert!(small.lines().count() <= 12 && small.lines().all(|l| l.chars().count() <= 40));
    // At 80 columns @13 and @14 are told apart.
    let all = shot("all-rules-80x24");
    assert!(all.contains("@13  out em1 → <www> :80 keep"), "{all}");
    assert!(all.contains("@14  out em1 → <www> :443 keep"), "{all}");
    // No kill confirmation: the demo cannot kill.
    assert!(screens.iter().all(|s| s.name != "kill"));
}
