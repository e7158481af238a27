//! `pfblame watch`.

use crate::exit::{Exit, Failure};

/// Runs the command. (Skeleton: not implemented yet.)
pub fn run(_args: &crate::cli::WatchArgs) -> anyhow::Result<Exit> {
    Err(Failure::new(Exit::Internal, "`watch` is not implemented yet").into())
}
