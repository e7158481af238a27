//! Prints model values the way pfctl prints them. Used by the property tests
//! (print → parse → same value), the synthetic table generator, and to build
//! `pfctl -k` arguments.

pub mod listing;
pub mod rules;
pub mod states;

/// Which pfctl prints the text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Flavor {
    OpenBsd,
    FreeBsd,
    /// pfSense / OPNsense (FreeBSD with additions).
    PfSense,
    MacOs,
}

/// How many `-v` were given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Verbosity {
    Plain,
    V,
    VV,
}
