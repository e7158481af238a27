//! The first poll and the [`App`] that shows it, for one source or a fleet.
//! `commands::watch` calls these before it takes the terminal over; tests
//! call them to drive the real app without a terminal.

use std::time::Duration;

use clap::ValueEnum;

use crate::analyze::Config;
use crate::exit::{Exit, Failure};
use crate::source::{Source, Strategy};
use crate::tui::action::Action;
use crate::tui::app::{App, Settings, SortColumn};
use crate::tui::event::Poller;
use crate::tui::fleet::FleetPipeline;
use crate::tui::pipeline::{Pipeline, Reopen};
use crate::tui::theme::Theme;
use crate::tui::view;

/// Makes the first poll and the app showing it. Without `-s` there are no
/// server states: the screen then starts on every rule and every state,
/// busiest first, which is what one wants to look at on an unknown router.
/// `strategy` is named in the header (a recording read per rule, say).
pub fn prepare(
    source: Box<dyn Source>,
    config: Config,
    strategy: Option<Strategy>,
    interval: Duration,
    color: bool,
) -> anyhow::Result<(App, Pipeline)> {
    prepare_looping(source, config, strategy, interval, color, None)
}

/// [`prepare`], with a replay that starts again at its end when `reopen`
/// is given (the demo).
pub fn prepare_looping(
    source: Box<dyn Source>,
    mut config: Config,
    strategy: Option<Strategy>,
    interval: Duration,
    color: bool,
    reopen: Option<Reopen>,
) -> anyhow::Result<(App, Pipeline)> {
    let servers = servers_shown(&mut config);
    let mut pipeline = Pipeline::new(source, config);
    if let Some(reopen) = reopen {
        pipeline = pipeline.looping(reopen);
    }
    let first = pipeline.poll_once()?;
    let source = pipeline.describe();
    // Live sources name their strategy already (`pfctl (live, auto)`).
    let strategy = strategy
        .map(strategy_name)
        .filter(|name| !source.contains(name.as_str()))
        .unwrap_or_default();
    let settings = Settings {
        servers: servers.label,
        source,
        strategy,
        interval,
    };
    let app = first_app(settings, color, servers.none_given, first);
    Ok((app, pipeline))
}

/// The app and the fleet's poller after the first poll.
pub fn prepare_fleet(
    fleet: crate::fleet::Fleet,
    mut config: Config,
    interval: Duration,
    color: bool,
) -> anyhow::Result<(App, FleetPipeline)> {
    let servers = servers_shown(&mut config);
    let mut pipeline = FleetPipeline::new(fleet, config);
    let first = pipeline
        .poll()
        .map_err(|e| Failure::new(Exit::Unavailable, e))?;
    let settings = Settings {
        servers: servers.label,
        source: pipeline.describe(),
        strategy: String::new(),
        interval,
    };
    let app = first_app(settings, color, servers.none_given, first);
    Ok((app, pipeline))
}

/// What the header says of the servers, and whether none was given.
struct ServersShown {
    label: String,
    none_given: bool,
}

/// Without a server every state is kept: they are all there is to show.
fn servers_shown(config: &mut Config) -> ServersShown {
    let none_given = config.servers.nets.is_empty();
    config.keep_all_states |= none_given;
    let label = if none_given {
        "none given (-s ADDR)".to_string()
    } else {
        config.servers.describe()
    };
    ServersShown { label, none_given }
}

fn first_app(
    settings: Settings,
    color: bool,
    no_server: bool,
    first: crate::tui::snapshot::Snapshot,
) -> App {
    let mut app = App::new(settings, Theme::new(color), &view::MEASURE);
    if no_server {
        app.rules.show_all = true;
        app.states.show_all = true;
        app.rules.sort = SortColumn::AllStates;
    }
    app.update(Action::Polled(Box::new(first)));
    app
}

fn strategy_name(s: Strategy) -> String {
    s.to_possible_value()
        .map_or_else(|| format!("{s:?}"), |v| v.get_name().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn without_a_server_every_state_is_kept_and_the_header_says_so() {
        let mut config = crate::poll::demo_config();
        config.servers.nets.clear();
        config.keep_all_states = false;
        let shown = servers_shown(&mut config);
        assert!(shown.none_given);
        assert!(config.keep_all_states);
        assert_eq!(shown.label, "none given (-s ADDR)");
    }

    #[test]
    fn a_server_keeps_the_config_as_it_was() {
        let mut config = crate::poll::demo_config();
        assert!(!config.servers.nets.is_empty());
        let keep = config.keep_all_states;
        let shown = servers_shown(&mut config);
        assert!(!shown.none_given);
        assert_eq!(config.keep_all_states, keep);
        assert_eq!(shown.label, config.servers.describe());
    }

    #[test]
    fn the_strategy_is_named_as_on_the_command_line() {
        assert_eq!(strategy_name(Strategy::PerRule), "per-rule");
        assert_eq!(strategy_name(Strategy::Auto), "auto");
    }
}
