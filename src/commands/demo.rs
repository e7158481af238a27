//! `pfblame demo`: the watch screen on the bundled dual-prefix scenario
//! (`crate::source::demo`), replayed poll by poll, looping.

use crate::cli::DemoArgs;
use crate::exit::Exit;
use crate::poll::demo_config as config;
use crate::source::demo::{round_source, source};
use crate::tui::kill::KillAccess;

/// Starts the demo's replay again at its end: the demo loops, so a
/// newcomer can watch states appear, rates change and `+` marks come and go.
pub(crate) fn reopen() -> crate::tui::pipeline::Reopen {
    Box::new(round_source)
}

/// `demo --pair`: the embedded CARP pair (`crate::source::demo::pair_sources`)
/// as a fleet.
pub(crate) fn pair_fleet() -> crate::fleet::Fleet {
    crate::fleet::Fleet::from_sources(crate::source::demo::pair_sources())
}

/// The pair's analysis settings: its server, every port.
pub(crate) fn pair_config() -> crate::analyze::Config {
    crate::analyze::Config {
        servers: crate::analyze::Servers::parse(
            &[crate::source::demo::PAIR_SERVER.to_string()],
            &[],
        )
        .unwrap_or_default(),
        ..crate::analyze::Config::default()
    }
}

/// Runs the command.
pub fn run(args: &DemoArgs) -> anyhow::Result<Exit> {
    let interval = args.interval;
    if args.pair {
        return crate::commands::watch::start_fleet(
            pair_fleet(),
            pair_config(),
            interval,
            args.color.color,
            // Recordings: `K` says kill is not possible on recorded data.
            KillAccess::new(false, false, None),
        );
    }
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

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn the_pair_demo_blames_the_masters_anchor_rule_for_the_backups_state() {
        let mut fleet = pair_fleet();
        let polls = fleet.poll(&pair_config());
        assert!(polls.iter().all(|p| p.outcome.is_ok()));
        let merged = crate::fleet::merged(&polls);
        let admin = merged
            .rows
            .iter()
            .find(|r| r.anchor_path == "admin")
            .unwrap();
        assert_eq!(admin.judged_on.as_deref(), Some("fw-a"));
        assert_eq!(admin.hosts[1].without_rule, 1);
    }
}
