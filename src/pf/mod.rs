//! The pf engine: how pf itself decides a packet, pure and dialect-aware.
//!
//! Nothing here knows about polls, reports or the TUI; `lint` and `analyze`
//! build on it, never the other way round.
//!
//! - [`dialect`]: which pf (OpenBSD 6.9+, OpenBSD ≤ 6.8, FreeBSD, pfSense,
//!   OPNsense, macOS) a listing comes from, and the behaviour that differs.
//! - [`matcher`]: does one rule match one packet (yes, no, cannot tell).
//! - [`evaluate`]: which rule decides a packet (last match, `quick`,
//!   anchors, `match` rules, the default rule).
//! - [`path`]: the hops of one connection, with the state or rule that
//!   decides each hop and where the server's replies really leave.
//! - [`grammar`]: the rule-consistency checks of `pfctl` (`rule_consistent`
//!   in sbin/pfctl/parse.y) that a suggested rule line must pass.
//! - [`servers`]: which states are the server's (`--server`, `--port`).

pub mod dialect;
pub mod evaluate;
pub mod grammar;
pub mod matcher;
pub mod path;
pub mod servers;

pub use dialect::Dialect;
pub use servers::{Servers, allow_text, net_text, parse_allow, port_number};
