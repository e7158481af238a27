//! `pfblame parse`.

use crate::exit::{Exit, Failure};

/// Runs the command. (Skeleton: not implemented yet.)
pub fn run(_args: &crate::cli::ParseArgs) -> anyhow::Result<Exit> {
    Err(Failure::new(Exit::Internal, "`parse` is not implemented yet").into())
}
