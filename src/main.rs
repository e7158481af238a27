//! The `pfblame` binary: parses arguments, runs a command, maps the outcome to
//! an exit status, and prints one clear line on stderr for errors.

use std::io::Write;
use std::process::ExitCode;

use pfblame::cli::Command;
use pfblame::commands;
use pfblame::exit::{Exit, exit_for, is_broken_pipe, one_line};

fn main() -> ExitCode {
    let cli = match pfblame::cli::parse() {
        Ok(cli) => cli,
        // A plugin's usage errors are UNKNOWN (3), on stdout like its line.
        Err(e)
            if e.use_stderr()
                && commands::check::invoked(&std::env::args_os().collect::<Vec<_>>()) =>
        {
            return commands::check::usage_error(&e);
        }
        Err(e) => {
            // clap prints help/version to stdout (exit 0) and usage errors to stderr (exit 2).
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                Exit::Usage.code()
            } else {
                0
            });
        }
    };
    #[cfg(unix)]
    if let Err(e) = pfblame::signals::install() {
        eprintln!("pfblame: warning: signals will not restore the terminal: {e}");
    }
    let outcome = match &cli.command {
        None => commands::watch::run(&cli.watch),
        Some(Command::Watch(a)) => commands::watch::run(a),
        Some(Command::Report(a)) => commands::report::run(a),
        Some(Command::Parse(a)) => commands::parse::run(a),
        Some(Command::Record(a)) => commands::record::run(a),
        Some(Command::Lint(a)) => commands::lint::run(a),
        Some(Command::Demo(a)) => commands::demo::run(a),
        Some(Command::Check(a)) => return commands::check::run(a),
    };
    // A poll still running when the command ends (quit mid-poll) must not
    // leave pfctl behind: it runs in its own process group.
    pfblame::source::end_running_pfctl();
    match outcome {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Messages quote pfctl, paths and recordings: the last guard.
            // Not eprintln!: it panics when stderr is a closed pipe.
            let _ = writeln!(
                std::io::stderr(),
                "pfblame: {}",
                pfblame::sanitize::neutralize(&one_line(&e))
            );
            ExitCode::from(exit_for(&e).code())
        }
    }
}
