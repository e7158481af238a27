//! The `pfblame` binary: parses arguments, runs a command, maps the outcome to
//! an exit status, and prints one clear line on stderr for errors.

use std::process::ExitCode;

use pfblame::cli::Command;
use pfblame::commands;
use pfblame::exit::{Exit, exit_for, is_broken_pipe};

fn main() -> ExitCode {
    let cli = match pfblame::cli::parse() {
        Ok(cli) => cli,
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
    let outcome = match &cli.command {
        None => commands::watch::run(&cli.watch),
        Some(Command::Watch(a)) => commands::watch::run(a),
        Some(Command::Report(a)) => commands::report::run(a),
        Some(Command::Parse(a)) => commands::parse::run(a),
        Some(Command::Record(a)) => commands::record::run(a),
        Some(Command::Lint(a)) => commands::lint::run(a),
        Some(Command::Demo(a)) => commands::demo::run(a),
    };
    match outcome {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) if is_broken_pipe(&e) => ExitCode::SUCCESS,
        Err(e) => {
            // Messages quote pfctl, paths and recordings: the last guard.
            eprintln!(
                "pfblame: {}",
                pfblame::sanitize::neutralize(&format!("{e:#}"))
            );
            ExitCode::from(exit_for(&e).code())
        }
    }
}
