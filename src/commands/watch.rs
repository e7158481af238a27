//! `pfblame watch` (the default command): the interactive TUI.

use std::io::IsTerminal;
use std::time::Duration;

use crate::analyze::Config;
use crate::cli::{ColorChoice, Strategy, WatchArgs};
use crate::exit::{Exit, Failure};
use crate::source::Source;
use crate::tui::event::FirstPoll;
use crate::tui::kill::KillAccess;
use crate::tui::pipeline::Reopen;
use crate::tui::start;

/// Runs the command.
pub fn run(args: &WatchArgs) -> anyhow::Result<Exit> {
    let config = args
        .servers
        .config_for(args.source.from.as_deref())
        .map_err(|m| Failure::new(Exit::Usage, m))?;
    let interval = args.source.interval();
    if let Some(fleet) = crate::fleet::Fleet::open(&args.source.options())? {
        let kill = KillAccess::for_fleet(args.allow_kill, fleet.is_live(), &args.source.options())?;
        return start_fleet(fleet, config, interval, args.color.color, kill);
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
fn kill_access(args: &WatchArgs, source: &dyn Source) -> anyhow::Result<KillAccess> {
    Ok(KillAccess::for_source(
        args.allow_kill,
        source,
        &args.source.pfctl.options(),
    )?)
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
    needs_terminal()?;
    let (mut app, mut pipeline) = start::prepare_looping(
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

/// `watch` over several hosts: the rows of every host, a Host column, a
/// header line per host; `/NAME` filters one host. With `--allow-kill`,
/// `K` removes a row's states on the row's host (fleet polls always list
/// the ids `pfctl -k id` needs).
pub(crate) fn start_fleet(
    fleet: crate::fleet::Fleet,
    config: Config,
    interval: Duration,
    color: ColorChoice,
    kill: KillAccess,
) -> anyhow::Result<Exit> {
    needs_terminal()?;
    let (mut app, pipeline) = start::prepare_fleet(fleet, config, interval, color.enabled(true))?;
    app.kill = kill;
    crate::tui::run_terminal(app, Box::new(pipeline), FirstPoll::AfterInterval)
}

/// The screen needs a terminal on both ends; scripts are pointed at `report`.
fn needs_terminal() -> Result<(), Failure> {
    if std::io::stdout().is_terminal() && std::io::stdin().is_terminal() {
        return Ok(());
    }
    Err(Failure::new(
        Exit::Usage,
        "watch needs a terminal; for pipes and scripts use `pfblame report`",
    ))
}
