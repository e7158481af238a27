//! `pfblame report`.

use crate::exit::{Exit, Failure};

/// Runs the command. (Skeleton: not implemented yet.)
pub fn run(_args: &crate::cli::ReportArgs) -> anyhow::Result<Exit> {
    Err(Failure::new(Exit::Internal, "`report` is not implemented yet").into())
}
