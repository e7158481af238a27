//! Building a [`Sample`] from one poll, as a [`PollSink`]: the rules listing
//! is parsed whole (it is small), the states are streamed and only the server
//! states are kept, while every state is counted per rule. A million-state
//! table therefore costs one state at a time plus the kept ones.

mod parallel;

use std::collections::BTreeMap;
use std::io::{self, BufRead};
use std::net::IpAddr;

use ipnet::IpNet;

use crate::analyze::{Config, Sample, Servers};
use crate::model::store::{Sparse, StoreShape};
use crate::model::{Diagnostic, Endpoint, RuleKey, State};
use crate::parse::states::chunks::Chunking;
use crate::parse::states::skim::{Counted, HostPort, SkimSink, skim_states};
use crate::source::{PollMeta, PollSink};

/// At most this many diagnostics are kept per sample; the rest are counted
/// in one closing diagnostic, so a garbage input cannot exhaust memory.
pub const MAX_DIAGNOSTICS: usize = 500;

/// Collects one poll into a [`Sample`]. Feed it to [`crate::source::Source::poll`],
/// then call [`SampleBuilder::finish`] with the returned [`PollMeta`].
#[derive(Debug)]
pub struct SampleBuilder {
    servers: Servers,
    /// The same servers, for the skim's addresses.
    prefixes: Prefixes,
    keep_all: bool,
    sample: Sample,
    dropped_diagnostics: usize,
    /// Every state seen, per rule; folded into the sample by
    /// [`Self::finish`].
    counts: RuleCounts,
    /// How state listings are spread over threads.
    chunking: Chunking,
}

/// States counted per rule: small anchor and rule numbers in a flat array,
/// indexed without a map lookup (millions of states), the others in a map.
#[derive(Debug, Default)]
struct RuleCounts {
    total: u64,
    small: Vec<u64>,
    large: BTreeMap<RuleKey, u64>,
}

impl RuleCounts {
    /// Counts one state of rule `key`.
    fn count(&mut self, key: RuleKey) {
        self.total += 1;
        match small_index(key) {
            Some(i) => {
                if self.small.is_empty() {
                    self.small = vec![0; SMALL_ANCHORS * SMALL_RULES];
                }
                if let Some(n) = self.small.get_mut(i) {
                    *n += 1;
                }
            }
            None => *self.large.entry(key).or_insert(0) += 1,
        }
    }

    /// Adds another listing part's counts (a worker thread's).
    fn add(&mut self, other: RuleCounts) {
        self.total += other.total;
        if self.small.is_empty() {
            self.small = other.small;
        } else {
            for (n, m) in self.small.iter_mut().zip(other.small) {
                *n += m;
            }
        }
        for (key, n) in other.large {
            *self.large.entry(key).or_insert(0) += n;
        }
    }

    /// Adds the counts to the sample's.
    fn into_sample(self, sample: &mut Sample) {
        sample.total_states += self.total;
        for (key, n) in self.large {
            *sample.states_per_rule.entry(key).or_insert(0) += n;
        }
        for (i, n) in self.small.iter().enumerate() {
            if *n > 0 {
                *sample.states_per_rule.entry(small_key(i)).or_insert(0) += n;
            }
        }
    }
}

/// Threads for state listings: one per core, at most 4 (the merge on the
/// calling thread would not keep up with more), or `PFBLAME_THREADS`
/// (1 turns it off). Decided once.
///
/// With every state kept (`keep_all`: the TUI without `-s`, or `A`), each
/// block comes back as parsed `State`s, ~1.7 MB of them for 1 MiB of
/// text, and up to [`Chunking`]'s blocks in flight plus what each worker
/// thread's malloc arena keeps of them were ~23 MB of the peak at a
/// million states: those blocks are an eighth of the size.
fn default_chunking(keep_all: bool) -> Chunking {
    static THREADS: std::sync::OnceLock<usize> = std::sync::OnceLock::new();
    let threads = *THREADS.get_or_init(|| {
        let asked = std::env::var("PFBLAME_THREADS")
            .ok()
            .and_then(|v| v.trim().parse::<usize>().ok());
        match asked {
            Some(n) => n.clamp(1, 16),
            None => std::thread::available_parallelism().map_or(1, |n| n.get().min(4)),
        }
    });
    let block = if keep_all {
        Chunking::DEFAULT_BLOCK / 8
    } else {
        Chunking::DEFAULT_BLOCK
    };
    Chunking::new(threads, block)
}

/// The server prefixes as masks, to test a skimmed address without
/// building an [`Endpoint`]: `prefixes.matches(a)` is
/// `servers.find_server_endpoint([a as an endpoint])`.
#[derive(Debug, Default, Clone)]
struct Prefixes {
    /// `(network, netmask)`.
    v4: Vec<(u32, u32)>,
    v6: Vec<(u128, u128)>,
    /// Empty means every port.
    ports: Vec<u16>,
}

impl Prefixes {
    fn new(servers: &Servers) -> Self {
        let mut p = Prefixes {
            ports: servers.ports.clone(),
            ..Prefixes::default()
        };
        for net in &servers.nets {
            match net {
                IpNet::V4(n) => p.v4.push((u32::from(n.network()), u32::from(n.netmask()))),
                IpNet::V6(n) => {
                    p.v6.push((u128::from(n.network()), u128::from(n.netmask())))
                }
            }
        }
        p
    }

    /// True for an address inside a prefix with a listed port (any port
    /// when none is listed), as [`Servers::find_server_endpoint`] decides.
    #[inline(always)]
    fn matches(&self, a: &HostPort) -> bool {
        let inside = match a.ip {
            IpAddr::V4(ip) => {
                let ip = u32::from(ip);
                self.v4.iter().any(|(net, mask)| ip & mask == *net)
            }
            IpAddr::V6(ip) => {
                let ip = u128::from(ip);
                self.v6.iter().any(|(net, mask)| ip & mask == *net)
            }
        };
        inside && (self.ports.is_empty() || a.port.is_some_and(|p| self.ports.contains(&p)))
    }
}

/// Anchor and rule numbers below these are counted in
/// [`RuleCounts::small`] (`None` takes index 0).
const SMALL_ANCHORS: usize = 32;
const SMALL_RULES: usize = 1024;

/// The index of `key` in [`RuleCounts::small`], if it has one.
fn small_index(key: RuleKey) -> Option<usize> {
    let slot = |n: Option<u32>, limit: usize| match n {
        None => Some(0),
        Some(n) => usize::try_from(n)
            .ok()
            .map(|n| n + 1)
            .filter(|i| *i < limit),
    };
    Some(slot(key.anchor, SMALL_ANCHORS)? * SMALL_RULES + slot(key.number, SMALL_RULES)?)
}

/// The key counted at `index` of [`RuleCounts::small`].
fn small_key(index: usize) -> RuleKey {
    let number = |i: usize| i.checked_sub(1).and_then(|n| u32::try_from(n).ok());
    RuleKey {
        anchor: number(index / SMALL_RULES),
        number: number(index % SMALL_RULES),
    }
}

impl SampleBuilder {
    pub fn new(cfg: &Config) -> Self {
        SampleBuilder {
            servers: cfg.servers.clone(),
            prefixes: Prefixes::new(&cfg.servers),
            keep_all: cfg.keep_all_states,
            sample: Sample::default(),
            dropped_diagnostics: 0,
            counts: RuleCounts::default(),
            chunking: default_chunking(cfg.keep_all_states),
        }
    }

    /// Spreads the state listings over threads as `chunking` says, instead
    /// of one per core (`PFBLAME_THREADS`): the answers are the same.
    pub fn with_chunking(mut self, chunking: Chunking) -> Self {
        self.chunking = chunking;
        self
    }

    /// Builds the store in the sparse columns of an older poll's (see
    /// [`crate::model::store::Sparse`]).
    pub(crate) fn reuse(mut self, spare: Option<Sparse>) -> Self {
        if let Some(b) = spare {
            self.sample.states.reuse_sparse(b);
        }
        self
    }

    /// Expects about the states the previous poll kept (`shape`): their
    /// store is allocated once, a little larger.
    pub(crate) fn expect_like(mut self, shape: StoreShape) -> Self {
        self.sample.states.reserve_like(shape);
        self
    }

    /// Counts one parsed state and keeps it if it is a server state (or if
    /// every state is kept).
    pub fn add_state(&mut self, state: State) {
        if self.keep_all || self.servers.matches(&state) {
            self.add_kept_state(state);
        } else {
            self.count(state.rule_key());
        }
    }

    /// Adds a state already known to be kept (the skim asked
    /// [`SkimSink::wants`] before parsing it): no second address test.
    fn add_kept_state(&mut self, state: State) {
        self.count(state.rule_key());
        self.sample.states.push(&state);
    }

    /// Counts one state of rule `key`, kept or not.
    fn count(&mut self, key: RuleKey) {
        self.counts.count(key);
    }

    /// Ends the poll. The time comes from the poll (`taken_at`), never from the clock.
    pub fn finish(mut self, meta: Option<PollMeta>) -> Sample {
        self.sample.states.finish();
        std::mem::take(&mut self.counts).into_sample(&mut self.sample);
        if self.dropped_diagnostics > 0 {
            self.sample.diagnostics.push(Diagnostic {
                line: 0,
                column: 0,
                severity: crate::model::Severity::Warning,
                message: format!(
                    "{} more diagnostics not shown (only the first {MAX_DIAGNOSTICS} are kept)",
                    self.dropped_diagnostics
                ),
                text: String::new(),
            });
        }
        if let Some(meta) = &meta {
            self.sample.taken_at = Some(meta.taken_at);
        }
        self.sample.meta = meta;
        self.sample
    }

    /// Adds diagnostics from one input, prefixing their message with the
    /// input's name (line numbers count within that input).
    fn add_diagnostics(&mut self, what: &str, diags: Vec<Diagnostic>) {
        for mut d in diags {
            if self.sample.diagnostics.len() >= MAX_DIAGNOSTICS {
                // The parser's own "… and N more" stands for N diagnostics.
                let stands_for = crate::parse::common::omitted(&d).unwrap_or(1);
                self.dropped_diagnostics += usize::try_from(stands_for).unwrap_or(usize::MAX);
                continue;
            }
            d.message = format!("{what}: {}", d.message);
            self.sample.diagnostics.push(d);
        }
    }
}

impl PollSink for SampleBuilder {
    fn rules(&mut self, text: &str) {
        let (rules, diags) = crate::parse::rules::parse_rules(text);
        self.sample.rules = rules;
        self.add_diagnostics("rules listing", diags);
    }

    fn states(&mut self, rule: Option<u32>, input: &mut dyn BufRead) -> io::Result<()> {
        let mut diags = Vec::new();
        // Only the states that will be kept are parsed in full; the others
        // are skimmed for their rule (same counts, same diagnostics).
        let result = if self.chunking.threads > 1 {
            parallel::skim(self, rule, input, &mut diags)
        } else {
            let mut sink = Skim {
                builder: self,
                rule,
            };
            skim_states(input, &mut sink, &mut diags)
        };
        let what = match rule {
            Some(n) => format!("states listing (-R {n})"),
            None => "states listing".to_string(),
        };
        self.add_diagnostics(&what, diags);
        result
    }

    fn info(&mut self, text: &str) {
        let (info, diags) = crate::parse::info::parse_info(text);
        self.sample.info = Some(info);
        self.add_diagnostics("info", diags);
    }

    /// Informative: the parser's diagnostics are warnings only, and an
    /// output it cannot read leaves the status unknown.
    fn carp(&mut self, text: &str) {
        let (carp, diags) = crate::parse::carp::parse_carp(text);
        self.sample.carp = carp;
        self.add_diagnostics("ifconfig", diags);
    }

    /// The translation rules join the rules: each keeps its own ruleset
    /// (`Rule::ruleset`), so state attribution still names filter rules
    /// only, and the verdicts see what keeps state under `no state`.
    fn translation_rules(&mut self, text: &str) {
        let (rules, diags) = crate::parse::rules::parse_rules(text);
        self.sample.rules.extend(rules);
        self.add_diagnostics("translation rules", diags);
    }
}

/// The builder as the skimming parser's sink, for one state listing.
struct Skim<'b> {
    builder: &'b mut SampleBuilder,
    /// `Some(n)` for a `pfctl -ss -R n` listing.
    rule: Option<u32>,
}

/// The rule a state of a listing belongs to: `pfctl -ss -R n` lists only
/// rule n's states, and without `-v` the state itself does not say so.
fn rule_of(listing: Option<u32>, verbose: bool, rule: Option<u32>) -> Option<u32> {
    match (listing, verbose) {
        (Some(n), false) => Some(n),
        _ => rule,
    }
}

/// True when a state with these endpoints is kept.
fn wanted(keep_all: bool, servers: &Servers, endpoints: &[&Endpoint]) -> bool {
    keep_all
        || servers
            .find_server_endpoint(endpoints.iter().copied())
            .is_some()
}

/// The rule key of a counted state of a listing.
fn counted_key(listing: Option<u32>, c: &Counted) -> RuleKey {
    RuleKey {
        anchor: c.anchor,
        number: rule_of(listing, c.verbose, c.rule),
    }
}

impl SkimSink for Skim<'_> {
    fn wants(&mut self, endpoints: &[&Endpoint]) -> bool {
        wanted(self.builder.keep_all, &self.builder.servers, endpoints)
    }

    fn wants_addresses(&mut self, addrs: &[HostPort]) -> bool {
        let b = &self.builder;
        b.keep_all || addrs.iter().any(|a| b.prefixes.matches(a))
    }

    fn state(&mut self, mut state: State) {
        state.rule = rule_of(self.rule, state.verbose, state.rule);
        self.builder.add_kept_state(state);
    }

    fn counted(&mut self, c: Counted) {
        self.builder.count(counted_key(self.rule, &c));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::analyze::tests::state;
    use crate::model::RuleKey;

    #[test]
    fn keeps_only_server_states_but_counts_all() {
        let cfg = Config {
            servers: Servers::parse(&["2001:db8::10".into()], &[443]).expect("valid"),
            ..Config::default()
        };
        let mut b = SampleBuilder::new(&cfg);
        b.add_state(state("2001:db8:1::5", 5000, "2001:db8::10", 443, Some(3)));
        b.add_state(state("2001:db8:1::5", 5001, "2001:db8::10", 22, Some(4)));
        b.add_state(state("192.0.2.1", 5002, "198.51.100.1", 443, Some(3)));
        b.add_state(state("192.0.2.1", 5003, "198.51.100.1", 53, None));
        let s = b.finish(None);
        assert_eq!(s.total_states, 4);
        assert_eq!(s.states.len(), 1);
        assert_eq!(
            s.states
                .get(0)
                .expect("kept")
                .dst
                .port
                .as_ref()
                .and_then(|p| p.number()),
            Some(443)
        );
        let k = |n| RuleKey {
            anchor: None,
            number: n,
        };
        assert_eq!(s.states_per_rule.get(&k(Some(3))), Some(&2));
        assert_eq!(s.states_per_rule.get(&k(Some(4))), Some(&1));
        assert_eq!(s.states_per_rule.get(&k(None)), Some(&1));
    }

    #[test]
    fn small_and_large_rule_numbers_are_counted_alike() {
        let mut b = SampleBuilder::new(&Config::default());
        let keys = [
            (None, None),
            (None, Some(0)),
            (Some(0), Some(1023)),
            (Some(30), Some(1022)),
            (Some(31), Some(5)),
            (None, Some(1023)),
            (Some(u32::MAX), Some(u32::MAX)),
        ];
        for (anchor, number) in keys {
            let key = RuleKey { anchor, number };
            if let Some(i) = small_index(key) {
                assert_eq!(small_key(i), key);
            }
            b.count(key);
            b.count(key);
        }
        let s = b.finish(None);
        assert_eq!(s.total_states, 14);
        for (anchor, number) in keys {
            assert_eq!(s.states_per_rule.get(&RuleKey { anchor, number }), Some(&2));
        }
    }

    proptest::proptest! {
        /// The masks decide as `Servers` does, for every address, port and
        /// prefix (both families, any length, ports listed or not).
        #[test]
        fn prefixes_match_as_servers_do(
            net in proptest::array::uniform16(0u8..=255),
            len in 0u8..=128,
            v4 in proptest::bool::ANY,
            addr in proptest::array::uniform16(0u8..=255),
            near in 0usize..=16,
            addr_v4 in proptest::bool::ANY,
            port in proptest::option::of(1u16..=6),
            ports in proptest::collection::vec(1u16..=6, 0..3),
        ) {
            let net_text = if v4 {
                let o: [u8; 4] = [net[0], net[1], net[2], net[3]];
                format!("{}/{}", std::net::Ipv4Addr::from(o), len % 33)
            } else {
                format!("{}/{len}", std::net::Ipv6Addr::from(net))
            };
            // Addresses that share the first `near` bytes with the prefix.
            let mut a = addr;
            a[..near].copy_from_slice(&net[..near]);
            let ip = if addr_v4 {
                IpAddr::from([a[0], a[1], a[2], a[3]])
            } else {
                IpAddr::from(a)
            };
            let servers = Servers::parse(&[net_text], &ports).expect("valid");
            let hp = HostPort { ip, port };
            let ep = hp.endpoint();
            proptest::prop_assert_eq!(
                Prefixes::new(&servers).matches(&hp),
                servers.find_server_endpoint([&ep].into_iter()).is_some()
            );
        }
    }

    #[test]
    fn keep_all_keeps_everything() {
        let cfg = Config {
            keep_all_states: true,
            ..Config::default()
        };
        let mut b = SampleBuilder::new(&cfg);
        b.add_state(state("192.0.2.1", 5002, "198.51.100.1", 443, Some(3)));
        assert_eq!(b.finish(None).states.len(), 1);
    }

    #[test]
    fn diagnostics_are_capped_and_counted() {
        let mut b = SampleBuilder::new(&Config::default());
        let d = Diagnostic {
            line: 1,
            column: 1,
            severity: crate::model::Severity::Error,
            message: "bad".into(),
            text: "x".into(),
        };
        b.add_diagnostics("states listing", vec![d; MAX_DIAGNOSTICS + 7]);
        let s = b.finish(None);
        assert_eq!(s.diagnostics.len(), MAX_DIAGNOSTICS + 1);
        assert_eq!(s.diagnostics[0].message, "states listing: bad");
        assert!(s.diagnostics[MAX_DIAGNOSTICS].message.starts_with("7 more"));
    }
}

#[cfg(test)]
mod scale {
    use super::*;
    use crate::analyze::tests::state;

    #[test]
    fn a_large_table_keeps_only_the_server_states() {
        // Memory stays proportional to the server states, not to the table.
        let cfg = Config {
            servers: Servers::parse(&["2001:db8::10".into()], &[]).expect("valid"),
            ..Config::default()
        };
        let mut b = SampleBuilder::new(&cfg);
        for i in 0..200_000u32 {
            let port = 1024 + (i % 60_000) as u16;
            let dst = if i % 50_000 == 0 {
                "2001:db8::10"
            } else {
                "2001:db8::99"
            };
            b.add_state(state("2001:db8:1::5", port, dst, 443, Some(i % 7)));
        }
        let s = b.finish(None);
        assert_eq!(s.total_states, 200_000);
        assert_eq!(s.states.len(), 4);
        assert_eq!(s.states_per_rule.len(), 7);
        assert_eq!(s.states_per_rule.values().sum::<u64>(), 200_000);
    }
}
