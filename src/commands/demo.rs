//! `pfblame demo`: the watch screen on the bundled dual-prefix scenario
//! (`crate::source::demo`), replayed poll by poll, looping.

use crate::cli::DemoArgs;
use crate::exit::Exit;
use crate::poll::demo_config as config;
use crate::source::demo::{round_source, source};
use crate::tui::kill::KillAccess;

/// Starts the demo's replay again at its end: the demo loops, so a
/// newcomer can watch states appear, rates change and `+` marks come and go.
pub fn reopen() -> crate::tui::pipeline::Reopen {
    Box::new(round_source)
}

/// Runs the command.
pub fn run(args: &DemoArgs) -> anyhow::Result<Exit> {
    let interval = args.interval;
    // The strategy says how live pfctl is asked; a replay has none to show.
    // A replay has no live pfctl: `K` says so.
    let kill = KillAccess::new(false, false, None);
    crate::commands::watch::start(
        source(),
        config(),
        None,
        interval,
        args.color.color,
        kill,
        Some(reopen()),
    )
}
