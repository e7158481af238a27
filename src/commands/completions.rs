//! `pfblame completions SHELL`: a completion script for the shell, generated
//! from the command-line definition by clap_complete.

use std::io::Write;

use clap::CommandFactory;

use crate::cli::{Cli, CompletionsArgs};
use crate::exit::Exit;

pub fn run(args: &CompletionsArgs) -> anyhow::Result<Exit> {
    let script = script(args.shell);
    // Written in one go so that a closed pipe is an error we can report
    // (clap_complete's own writer panics on it).
    let mut out = std::io::stdout().lock();
    out.write_all(&script)?;
    out.flush()?;
    Ok(Exit::Ok)
}

/// The completion script for `shell`.
pub fn script(shell: clap_complete::Shell) -> Vec<u8> {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "pfblame", &mut script);
    script
}
