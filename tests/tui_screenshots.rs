//! The committed screenshots are what `cargo run --example screenshots`
//! writes today: real renders of `pfblame demo`, so a change to the screen
//! shows up here (and in review) as a changed image.

use std::fs;
use std::path::Path;

#[test]
fn committed_screenshots_are_current() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    let screens = pfblame::commands::demo::screenshots().expect("the demo renders");
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
    let screens = pfblame::commands::demo::screenshots().expect("the demo renders");
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
    // The finding: which route-to rule the states make replies skip.
    assert!(
        details.text().contains("skip route-to rule @17"),
        "{}",
        details.text()
    );
    assert!(selected.contains("✗ bypass @17"), "{text}");
    let kill = screens
        .iter()
        .find(|s| s.name == "kill")
        .expect("a kill screen");
    assert!(
        kill.text().contains("doas pfctl -k id -k "),
        "{}",
        kill.text()
    );
}
