//! One module per subcommand: each turns parsed arguments into an exit status.

pub mod check;
pub mod completions;
pub mod config;
pub mod demo;
pub mod fleet;
pub mod lint;
pub mod manpage;
pub mod monitor;
pub mod parse;
pub mod record;
pub mod report;
pub mod watch;
