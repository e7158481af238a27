//! [`SampleBuilder`]'s state listings on several threads
//! ([`skim_states_chunked`]): each worker thread decides which states are
//! kept and counts the others per rule into its own [`Part`]; the kept
//! states come back to the builder in input order, and the parts' counts
//! are added at the end. The sample is the one the serial path builds.

use std::io::{self, BufRead};

use super::{Prefixes, RuleCounts, SampleBuilder, counted_key, rule_of, wanted};
use crate::analyze::Servers;
use crate::model::{Diagnostic, Endpoint};
use crate::parse::states::chunks::{CountSink, skim_states_chunked};
use crate::parse::states::skim::{Counted, HostPort};

/// What one worker thread counted of one listing.
struct Part {
    servers: Servers,
    /// The same servers, for the skim's addresses.
    prefixes: Prefixes,
    keep_all: bool,
    /// `Some(n)` for a `pfctl -ss -R n` listing.
    listing: Option<u32>,
    counts: RuleCounts,
}

impl CountSink for Part {
    fn wants(&mut self, endpoints: &[&Endpoint]) -> bool {
        wanted(self.keep_all, &self.servers, endpoints)
    }

    fn wants_addresses(&mut self, addrs: &[HostPort]) -> bool {
        self.keep_all || addrs.iter().any(|a| self.prefixes.matches(a))
    }

    fn counted(&mut self, c: Counted) {
        self.counts.count(counted_key(self.listing, &c));
    }
}

/// Skims one states listing into `builder` on its [`Chunking`] threads.
///
/// [`Chunking`]: crate::parse::states::chunks::Chunking
pub(super) fn skim(
    builder: &mut SampleBuilder,
    listing: Option<u32>,
    input: &mut dyn BufRead,
    diags: &mut Vec<Diagnostic>,
) -> io::Result<()> {
    let (servers, keep_all) = (builder.servers.clone(), builder.keep_all);
    let prefixes = builder.prefixes.clone();
    let part = || Part {
        servers: servers.clone(),
        prefixes: prefixes.clone(),
        keep_all,
        listing,
        counts: RuleCounts::default(),
    };
    let chunking = builder.chunking;
    let kept = |mut state: crate::model::State| {
        state.rule = rule_of(listing, state.verbose, state.rule);
        builder.add_state(state);
    };
    let parts = skim_states_chunked(input, chunking, part, kept, diags)?;
    for p in parts {
        builder.counts.add(p.counts);
    }
    Ok(())
}
