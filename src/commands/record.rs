//! `pfblame record`.

use crate::exit::{Exit, Failure};

/// Runs the command. (Skeleton: not implemented yet.)
pub fn run(_args: &crate::cli::RecordArgs) -> anyhow::Result<Exit> {
    Err(Failure::new(Exit::Internal, "`record` is not implemented yet").into())
}
