//! `pfblame lint`.

use crate::exit::{Exit, Failure};

/// Runs the command. (Skeleton: not implemented yet.)
pub fn run(_args: &crate::cli::LintArgs) -> anyhow::Result<Exit> {
    Err(Failure::new(Exit::Internal, "`lint` is not implemented yet").into())
}
