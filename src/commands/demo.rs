//! `pfblame demo`.

use crate::exit::{Exit, Failure};

/// Runs the command. (Skeleton: not implemented yet.)
pub fn run(_args: &crate::cli::DemoArgs) -> anyhow::Result<Exit> {
    Err(Failure::new(Exit::Internal, "`demo` is not implemented yet").into())
}
