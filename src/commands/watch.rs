//! `pfblame watch` (the default command): the interactive TUI.

use std::io::IsTerminal;
use std::time::Duration;

use clap::ValueEnum;

use crate::analyze::Config;
use crate::cli::{ColorChoice, Strategy, WatchArgs};
use crate::exit::{Exit, Failure};
use crate::source::{Pfctl, Source};
use crate::tui::app::{App, Settings, SortColumn};
use crate::tui::event::FirstPoll;
use crate::tui::kill::KillAccess;
use crate::tui::pipeline::{Pipeline, Reopen};
use crate::tui::theme::Theme;
use crate::tui::view;

/// Runs the command.
pub fn run(args: &WatchArgs) -> anyhow::Result<Exit> {
    let config = args
        .servers
        .config_for(args.source.from.as_deref())
        .map_err(|m| Failure::new(Exit::Usage, m))?;
    let interval = args.source.interval();
    if let Some(fleet) = crate::fleet::Fleet::open(&args.source.options())? {
        return start_fleet(fleet, config, interval, args.color.color);
    }
    let source = crate::source::open(&args.source.options())?;
    // A recording is read one way unless per-rule files are asked for.
    let shown = args.source.from.is_none() || args.source.strategy() == Strategy::PerRule;
    let strategy = shown.then_some(args.source.strategy());
    let kill = kill_access(args, source.as_ref())?;
    start(
        source,
        config,
        strategy,
        interval,
        args.color.color,
        kill,
        None,
    )
}

/// What `K` may do: with `--allow-kill` on a live source, run the same
/// pfctl command (argv and timeout) as the polls.
pub fn kill_access(args: &WatchArgs, source: &dyn Source) -> anyhow::Result<KillAccess> {
    let pfctl = if source.is_live() && args.allow_kill {
        Some(Pfctl::from_options(&args.source.pfctl.options())?)
    } else {
        None
    };
    Ok(KillAccess::new(args.allow_kill, source.is_live(), pfctl))
}

/// The TUI on any source: polls once (so a missing pfctl or a permission
/// problem ends the command with its exit status before the screen is
/// taken over), then hands the terminal to the watch screen. Later failures
/// are shown in a banner over the last good data. With `reopen`, a replay
/// starts again at its end (the demo).
pub fn start(
    source: Box<dyn Source>,
    config: Config,
    strategy: Option<Strategy>,
    interval: Duration,
    color: ColorChoice,
    kill: KillAccess,
    reopen: Option<Reopen>,
) -> anyhow::Result<Exit> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            Exit::Usage,
            "watch needs a terminal; for pipes and scripts use `pfblame report`",
        )
        .into());
    }
    let (mut app, mut pipeline) = prepare_looping(
        source,
        config,
        strategy,
        interval,
        color.enabled(true),
        reopen,
    )?;
    // `pfctl -k id` needs the ids of every poll; without kill, polls list
    // states without them (`-vss`) unless something asks.
    pipeline.ids_always(kill.is_allowed());
    app.kill = kill;
    crate::tui::run_terminal(app, Box::new(pipeline), FirstPoll::AfterInterval)
}

/// Makes the first poll and the app showing it. Without `-s` there are no
/// server states: the screen then starts on every rule and every state,
/// busiest first, which is what one wants to look at on an unknown router.
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
/// is given.
pub fn prepare_looping(
    source: Box<dyn Source>,
    mut config: Config,
    strategy: Option<Strategy>,
    interval: Duration,
    color: bool,
    reopen: Option<Reopen>,
) -> anyhow::Result<(App, Pipeline)> {
    let no_server = config.servers.nets.is_empty();
    let servers = if no_server {
        "none given (-s ADDR)".to_string()
    } else {
        config.servers.describe()
    };
    config.keep_all_states |= no_server;
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
        servers,
        source,
        strategy,
        interval,
    };
    let mut app = App::new(settings, Theme::new(color), &view::MEASURE);
    if no_server {
        app.rules.show_all = true;
        app.states.show_all = true;
        app.rules.sort = SortColumn::AllStates;
    }
    app.update(crate::tui::action::Action::Polled(Box::new(first)));
    Ok((app, pipeline))
}

/// `watch` over several hosts: the rows of every host, a Host column, a
/// header line per host; `/NAME` filters one host. Kills stay off (`K`
/// says so): they would need the host of each state.
pub fn start_fleet(
    fleet: crate::fleet::Fleet,
    config: Config,
    interval: Duration,
    color: ColorChoice,
) -> anyhow::Result<Exit> {
    if !std::io::stdout().is_terminal() || !std::io::stdin().is_terminal() {
        return Err(Failure::new(
            Exit::Usage,
            "watch needs a terminal; for pipes and scripts use `pfblame report`",
        )
        .into());
    }
    let (app, pipeline) = prepare_fleet(fleet, config, interval, color.enabled(true))?;
    crate::tui::run_terminal(app, Box::new(pipeline), FirstPoll::AfterInterval)
}

/// The App and the fleet's poller after the first poll (tests use it too).
pub fn prepare_fleet(
    fleet: crate::fleet::Fleet,
    mut config: Config,
    interval: Duration,
    color: bool,
) -> anyhow::Result<(App, crate::tui::fleet::FleetPipeline)> {
    use crate::tui::event::Poller;
    let no_server = config.servers.nets.is_empty();
    let servers = if no_server {
        "none given (-s ADDR)".to_string()
    } else {
        config.servers.describe()
    };
    config.keep_all_states |= no_server;
    let mut pipeline = crate::tui::fleet::FleetPipeline::new(fleet, config);
    let first = pipeline
        .poll()
        .map_err(|e| Failure::new(Exit::Unavailable, e))?;
    let settings = Settings {
        servers,
        source: pipeline.describe(),
        strategy: String::new(),
        interval,
    };
    let mut app = App::new(settings, Theme::new(color), &view::MEASURE);
    if no_server {
        app.rules.show_all = true;
        app.states.show_all = true;
        app.rules.sort = SortColumn::AllStates;
    }
    app.update(crate::tui::action::Action::Polled(Box::new(first)));
    Ok((app, pipeline))
}

fn strategy_name(s: Strategy) -> String {
    s.to_possible_value()
        .map_or_else(|| format!("{s:?}"), |v| v.get_name().to_string())
}
