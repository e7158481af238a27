//! `pfctl -si` / `-vsi`: see pfctl-formats.md §4.2.
//!
//! SKELETON: signature is the interface; body is to be written.

use crate::model::{Diagnostic, Info};

/// Parses `pfctl -si` output (counter names contain spaces: numbers are read from the right).
pub fn parse_info(text: &str) -> (Info, Vec<Diagnostic>) {
    let _ = text;
    (Info::default(), Vec::new())
}
