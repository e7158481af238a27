//! pfblame: which pf rule is to blame for this state?
//!
//! Data flows one way: [`source`] (pfctl or recordings) → [`parse`] (text to
//! [`model`]) → [`pf`] (how pf decides a packet) → [`analyze`] / [`lint`] (states joined to the rules that created them) →
//! [`tui`] (the `watch` screen) or [`report`] (text, JSON, markdown).
#![forbid(unsafe_code)]

pub mod analyze;
pub mod cli;
pub mod commands;
pub mod config;
pub mod exit;
pub mod fleet;
pub mod kill;
pub mod lint;
pub mod model;
pub mod parse;
pub mod pf;
pub mod poll;
pub mod print;
pub mod report;
pub mod sanitize;
pub mod services;
#[cfg(unix)]
pub mod signals;
pub mod source;
pub mod state_json;
pub mod tui;
