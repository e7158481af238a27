//! A compact, lossless store of many [`State`]s: a struct of arrays.
//!
//! A `State` is 400 bytes plus its boxes; a million of them (the TUI with
//! every state kept) are ~450 MB. Here the common state is 68 bytes of
//! fixed-size columns, all in one block ([`dense`]; see
//! docs/performance.md, "Memory layout"), plus what only some states have:
//!
//! * interface, protocol and the two peer states are indexes into a
//!   table of names each, packed in one word (a router has a few dozen
//!   distinct ones; see [`NAME_BITS`]);
//! * an address is one `u32`: the IPv4 address itself, or the index of the
//!   IPv6 address in a side table of `u128` (a bit says which);
//! * ages, expiries, packet and byte counters are `u32`, the rule number a
//!   `u32`, the anchor a `u16`, the creator id a `u16` index into its own
//!   small table (this host and its pfsync peers);
//! * a tag word the owner sets (the analysis: the state's row);
//! * the TCP sequence windows, the translated ends (NAT, rdr), the
//!   age-line flags (`log`, `sloppy`) and the route (`route-to`, …; each
//!   distinct list of flags and each distinct route once) are kept only
//!   for the states that have them, in sparse columns found by binary
//!   search.
//!
//! A state that does not fit (a host or service name instead of a number,
//! an rdomain, a gateway, an `rtable`/`origif`, a value beyond the
//! column's width, a sequence diff, …) is kept whole, as a `State`, in a
//! sparse side table. [`StateStore::get`] gives back exactly the `State`
//! that was pushed, whichever way it was kept (the tests check that on
//! every fixture and on generated tables). The TUI's scans read the
//! columns without building states: [`StateStore::touches`] (the `/`
//! filter), [`StateStore::has_tuple`] (finding a state without an id again).

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::Arc;

use ipnet::IpNet;

use super::{Direction, Endpoint, HostAddr, Port, RuleKey, SeqWindow, State, StateRoute};

mod dense;

use dense::{
    ADDR, ANCHOR_CREATOR, BITS, COUNTERS, Dense, ID, LINE, NAMES, PORT, RULE, TAG, TIMES, WORDS,
};

/// Bits of the `dense::BITS` column.
mod bit {
    pub(crate) const OUT: u32 = 1;
    pub(crate) const SRC_V6: u32 = 1 << 1;
    pub(crate) const DST_V6: u32 = 1 << 2;
    pub(crate) const SRC_PORT: u32 = 1 << 3;
    pub(crate) const DST_PORT: u32 = 1 << 4;
    pub(crate) const VERBOSE: u32 = 1 << 5;
    pub(crate) const AGE: u32 = 1 << 6;
    pub(crate) const EXPIRES: u32 = 1 << 7;
    pub(crate) const PACKETS: u32 = 1 << 8;
    pub(crate) const BYTES: u32 = 1 << 9;
    pub const ANCHOR: u32 = 1 << 10;
    pub(crate) const RULE: u32 = 1 << 11;
    pub(crate) const ID: u32 = 1 << 12;
    pub(crate) const CREATOR: u32 = 1 << 13;
    pub(crate) const SEQ: u32 = 1 << 14;
    /// Has a translated end, in [`super::StateStore::nat`].
    pub const NAT: u32 = 1 << 16;
    /// Has age-line flags, in [`super::StateStore::flags`].
    pub const FLAGS: u32 = 1 << 17;
    /// Has a route (`route-to`, …), in [`super::StateStore::route`].
    pub const ROUTE: u32 = 1 << 18;
    /// Kept whole in [`super::StateStore::whole`].
    pub(crate) const WHOLE: u32 = 1 << 15;
}

/// A translated end (`src_nat` / `dst_nat`) in columns: the address as in
/// the address column (`dense::ADDR`), the port, and which of them there are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct NatEnd {
    addr: u32,
    port: u16,
    /// `NAT_SOME`, `NAT_V6`, `NAT_PORT`.
    bits: u8,
}

const NAT_SOME: u8 = 1;
const NAT_V6: u8 = 1 << 1;
const NAT_PORT: u8 = 1 << 2;

/// Both TCP peers' windows without their (rare) sequence diffs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Windows {
    seqlo: [u32; 2],
    window: [u32; 2],
    /// `u8::MAX` for none (pf's scale is at most 14, `TCP_MAX_WINSHIFT`).
    wscale: [u8; 2],
}

/// How many bits of the `NAMES` word the index of each name takes:
/// interface, protocol, source and destination peer state. A table full
/// (2,048 interfaces, 128 protocols or peer states) keeps the next new
/// name's states whole. pf's peer states are a dozen TCP names and a few
/// numbers or words for the others.
const NAME_BITS: [u32; 4] = [11, 7, 7, 7];

/// How many of a table's first names [`Names::id`] compares by pointer.
const NAMES_BY_POINTER: usize = 8;

/// Interns strings as `u16` indexes.
#[derive(Debug, Clone, Default)]
struct Names {
    list: Vec<Arc<str>>,
    index: HashMap<Arc<str>, u16>,
}

impl Names {
    /// The index of `name`, or `None` when the table holds `cap` names.
    fn id(&mut self, name: &Arc<str>, cap: usize) -> Option<u16> {
        // The parser interns its names, so the same `Arc` comes back state
        // after state: comparing pointers with the first few names answers
        // most lookups without hashing (a name's id is its place in `list`).
        if let Some(i) = self
            .list
            .iter()
            .take(NAMES_BY_POINTER)
            .position(|known| Arc::ptr_eq(known, name))
        {
            return u16::try_from(i).ok();
        }
        if let Some(i) = self.index.get(name) {
            return Some(*i);
        }
        if self.list.len() >= cap {
            return None;
        }
        let i = u16::try_from(self.list.len()).ok()?;
        self.list.push(Arc::clone(name));
        self.index.insert(Arc::clone(name), i);
        Some(i)
    }

    fn get(&self, i: u16) -> Arc<str> {
        self.list
            .get(usize::from(i))
            .cloned()
            .unwrap_or_else(|| Arc::from(""))
    }
}

/// Many states in columns. Append with [`push`](Self::push), read back
/// with [`get`](Self::get) or the cheap per-field accessors.
#[derive(Debug, Clone, Default)]
pub struct StateStore {
    /// Every state's fixed-size fields, in one block (see [`dense`]).
    dense: Dense,
    /// The IPv6 pool and the columns of the states that have them.
    sparse: Sparse,
    /// Each distinct list of flags once (a router has a handful).
    flag_lists: Vec<Vec<Box<str>>>,
    flag_index: HashMap<Vec<Box<str>>, u32, foldhash::fast::RandomState>,
    /// Each distinct route once (a ruleset names a few gateways).
    routes: Vec<StateRoute>,
    /// Looked up for every state with a route: foldhash, not SipHash.
    route_index: HashMap<StateRoute, u32, foldhash::fast::RandomState>,
    /// Interface, protocol, source and destination peer state names.
    text: [Names; 4],
    creators: Vec<u32>,
}

/// The columns a store holds beside its dense block: the IPv6 pool and
/// what only some states have, each found by binary search in its index
/// column (`…_of`, ascending). One struct, so a store done with gives
/// them to the next poll's store in one move ([`StateStore::take_sparse`],
/// [`StateStore::reuse_sparse`]) instead of allocating ~30 MB of columns
/// again at a million states, which left holes in the heap poll after poll
/// (the dense block is given back to the system instead: it is mapped on
/// its own).
#[derive(Debug, Clone, Default)]
pub struct Sparse {
    v6: Vec<u128>,
    /// The states with sequence windows, and theirs.
    seq_of: Vec<u32>,
    seq: Vec<Windows>,
    /// The states with a translation, and their translated ends (source,
    /// destination).
    nat_of: Vec<u32>,
    nat: Vec<[NatEnd; 2]>,
    /// The states with age-line flags (`log`, `sloppy`, …), and the index
    /// of their list in `flag_lists`.
    flags_of: Vec<u32>,
    flags: Vec<u32>,
    /// The states with a route (`route-to`, `reply-to`, …: the server
    /// states of a routing rule), and the index of their route in `routes`.
    route_of: Vec<u32>,
    route: Vec<u32>,
    /// The states kept whole, and those states.
    whole_of: Vec<u32>,
    whole: Vec<State>,
}

/// Calls `f` on each column of the [`Sparse`] `sparse` (a `&Sparse` or a
/// `&mut Sparse`), with the count of a [`StoreShape`] it is sized by. The
/// one list of the columns: destructured without `..`, so a column added
/// to the struct must be named here (inside a macro rustc words it as
/// "pattern requires `..` due to inaccessible fields": name the column,
/// do not add the `..`).
macro_rules! sparse_columns {
    ($sparse:expr, $f:ident) => {{
        let Sparse {
            v6,
            seq_of,
            seq,
            nat_of,
            nat,
            flags_of,
            flags,
            route_of,
            route,
            whole_of,
            whole,
        } = $sparse;
        $f(Column::V6, v6);
        $f(Column::Seq, seq_of);
        $f(Column::Seq, seq);
        $f(Column::Nat, nat_of);
        $f(Column::Nat, nat);
        $f(Column::Flags, flags_of);
        $f(Column::Flags, flags);
        $f(Column::Route, route_of);
        $f(Column::Route, route);
        $f(Column::Whole, whole_of);
        $f(Column::Whole, whole);
    }};
}

impl Sparse {
    /// Every column emptied, its room kept.
    fn emptied(mut self) -> Self {
        self.each_column(|_, c| c.clear());
        self
    }

    /// Bytes the columns hold (their capacity), without what the whole
    /// states point to.
    fn heap_bytes(&self) -> usize {
        let mut bytes = 0;
        self.each_column_ref(|_, c| bytes += c.bytes());
        bytes
    }

    /// Applies `f` to each column, with the count of a [`StoreShape`] it
    /// is sized by (see [`sparse_columns!`]).
    fn each_column(&mut self, mut f: impl FnMut(Column, &mut dyn Room)) {
        sparse_columns!(self, f);
    }

    /// [`each_column`](Self::each_column), reading.
    fn each_column_ref(&self, mut f: impl FnMut(Column, &dyn Room)) {
        sparse_columns!(self, f);
    }
}

impl StoreShape {
    /// The count `col` is sized by.
    fn count(&self, col: Column) -> usize {
        match col {
            Column::V6 => self.v6,
            Column::Seq => self.seq,
            Column::Nat => self.nat,
            Column::Flags => self.flags,
            Column::Route => self.route,
            Column::Whole => self.whole,
        }
    }
}

/// Which count of a [`StoreShape`] a sparse column is sized by.
#[derive(Debug, Clone, Copy)]
enum Column {
    V6,
    Seq,
    Nat,
    Flags,
    Route,
    Whole,
}

/// What [`Sparse::each_column`] can do to a column, whatever its type.
trait Room {
    fn len(&self) -> usize;
    fn capacity(&self) -> usize;
    /// Bytes of its capacity.
    fn bytes(&self) -> usize;
    fn clear(&mut self);
    fn reserve_exact(&mut self, n: usize);
    fn shrink_to(&mut self, n: usize);
    fn shrink_to_fit(&mut self);
}

impl<T> Room for Vec<T> {
    fn len(&self) -> usize {
        Vec::len(self)
    }
    fn capacity(&self) -> usize {
        Vec::capacity(self)
    }
    fn bytes(&self) -> usize {
        Vec::capacity(self) * std::mem::size_of::<T>()
    }
    fn clear(&mut self) {
        Vec::clear(self);
    }
    fn reserve_exact(&mut self, n: usize) {
        Vec::reserve_exact(self, n);
    }
    fn shrink_to(&mut self, n: usize) {
        Vec::shrink_to(self, n);
    }
    fn shrink_to_fit(&mut self) {
        Vec::shrink_to_fit(self);
    }
}

/// How many states a store holds, and how many of them need each sparse
/// column: the next poll's store is allocated once at about this shape
/// ([`StateStore::reserve_like`]) instead of growing column by column.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StoreShape {
    states: usize,
    v6: usize,
    seq: usize,
    nat: usize,
    flags: usize,
    route: usize,
    whole: usize,
}

/// An address prefix (the `/` filter's), ready to be compared with the
/// address columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetProbe {
    net: IpNet,
    /// The network and mask, in the columns' forms.
    v4: Option<(u32, u32)>,
    v6: Option<(u128, u128)>,
}

impl NetProbe {
    pub fn new(net: IpNet) -> Self {
        let (v4, v6) = match net {
            IpNet::V4(n) => {
                let mask = u32::from(n.netmask());
                (Some((u32::from(n.network()) & mask, mask)), None)
            }
            IpNet::V6(n) => {
                let mask = u128::from(n.netmask());
                (None, Some((u128::from(n.network()) & mask, mask)))
            }
        };
        NetProbe { net, v4, v6 }
    }

    /// True when the address `raw` (IPv4 itself, or an index into `pool`
    /// when `is_v6`) is inside the prefix.
    fn hit(&self, raw: u32, is_v6: bool, pool: &[u128]) -> bool {
        if is_v6 {
            self.v6
                .is_some_and(|(net, mask)| pool.get(raw as usize).is_some_and(|a| a & mask == net))
        } else {
            self.v4.is_some_and(|(net, mask)| raw & mask == net)
        }
    }
}

/// An address as one `u32` (see `dense::ADDR`); `None` for names.
fn compact_addr(addr: &HostAddr, v6: &mut Vec<u128>) -> Option<(u32, bool)> {
    match addr {
        HostAddr::Ip(IpAddr::V4(a)) => Some((u32::from(*a), false)),
        HostAddr::Ip(IpAddr::V6(a)) => {
            let i = u32::try_from(v6.len()).ok()?;
            v6.push(u128::from(*a));
            Some((i, true))
        }
        HostAddr::Name(_) => None,
    }
}

/// The port as a number, `Some(None)` without one, `None` for a name.
fn compact_port(port: &Option<Port>) -> Option<Option<u16>> {
    match port {
        None => Some(None),
        Some(Port::Num(n)) => Some(Some(*n)),
        Some(Port::Name(_)) => None,
    }
}

/// True when the state has nothing the columns cannot hold (its rare
/// fields are absent); the numbers' widths are checked while pushing.
fn is_plain(s: &State) -> bool {
    s.gateway.is_none()
        && s.rtable.is_none()
        && s.origif.is_none()
        && s.src.rdomain.is_none()
        && s.dst.rdomain.is_none()
        && matches!(s.src.addr, HostAddr::Ip(_))
        && matches!(s.dst.addr, HostAddr::Ip(_))
        && s.seq
            .as_ref()
            .is_none_or(|q| q.0.seqdiff.is_none() && q.1.seqdiff.is_none())
}

/// `Some(v)` as a `u32` with its presence bit, `None` when it is too wide.
fn narrow<T: TryInto<u32> + Copy>(v: Option<T>, present: u32) -> Option<(u32, u32)> {
    match v {
        None => Some((0, 0)),
        Some(v) => Some((v.try_into().ok()?, present)),
    }
}

/// One state's dense columns, before they are appended.
struct Row {
    line: u32,
    names: [u16; 4],
    bits: u32,
    addr: [u32; 2],
    port: [u16; 2],
    times: [u32; 2],
    counters: [u32; 4],
    anchor: u16,
    rule: u32,
    id: u64,
    creator: u16,
    seq: Option<Windows>,
    nat: Option<[NatEnd; 2]>,
    flags: Option<u32>,
    route: Option<u32>,
}

/// A translated end in columns, `None` when it does not fit (a name, an
/// rdomain).
fn compact_nat(end: Option<&Endpoint>, v6: &mut Vec<u128>) -> Option<NatEnd> {
    let Some(e) = end else {
        return Some(NatEnd::default());
    };
    if e.rdomain.is_some() {
        return None;
    }
    let (addr, is_v6) = compact_addr(&e.addr, v6)?;
    let port = compact_port(&e.port)?;
    let mut bits = NAT_SOME | port.map_or(0, |_| NAT_PORT);
    if is_v6 {
        bits |= NAT_V6;
    }
    Some(NatEnd {
        addr,
        port: port.unwrap_or(0),
        bits,
    })
}

impl StateStore {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.dense.len()
    }

    pub fn is_empty(&self) -> bool {
        self.dense.len() == 0
    }

    /// Appends a state.
    pub fn push(&mut self, s: &State) {
        let v6_before = self.sparse.v6.len();
        let index = u32::try_from(self.len()).ok();
        match (index, self.row(s)) {
            (Some(_), Some(row)) => self.append(row),
            (index, _) => {
                // Addresses pushed for a row that did not fit are dropped.
                self.sparse.v6.truncate(v6_before);
                self.append(Row {
                    line: 0,
                    names: [0; 4],
                    bits: bit::WHOLE,
                    addr: [0; 2],
                    port: [0; 2],
                    times: [0; 2],
                    counters: [0; 4],
                    anchor: 0,
                    rule: 0,
                    id: 0,
                    creator: 0,
                    seq: None,
                    nat: None,
                    flags: None,
                    route: None,
                });
                self.sparse.whole_of.push(index.unwrap_or(u32::MAX));
                self.sparse.whole.push(s.clone());
            }
        }
    }

    /// The dense form of `s`, or `None` when it must be kept whole.
    fn row(&mut self, s: &State) -> Option<Row> {
        if !is_plain(s) {
            return None;
        }
        let mut bits = 0;
        if s.direction == Direction::Out {
            bits |= bit::OUT;
        }
        if s.verbose {
            bits |= bit::VERBOSE;
        }
        let (src, src_v6) = compact_addr(&s.src.addr, &mut self.sparse.v6)?;
        let (dst, dst_v6) = compact_addr(&s.dst.addr, &mut self.sparse.v6)?;
        bits |= if src_v6 { bit::SRC_V6 } else { 0 } | if dst_v6 { bit::DST_V6 } else { 0 };
        let src_port = compact_port(&s.src.port)?;
        let dst_port = compact_port(&s.dst.port)?;
        bits |= src_port.map_or(0, |_| bit::SRC_PORT) | dst_port.map_or(0, |_| bit::DST_PORT);
        let (age, b) = narrow(s.age, bit::AGE)?;
        bits |= b;
        let (expires, b) = narrow(s.expires, bit::EXPIRES)?;
        bits |= b;
        let (p0, b) = narrow(s.packets.map(|p| p.0), bit::PACKETS)?;
        let (p1, _) = narrow(s.packets.map(|p| p.1), 0)?;
        bits |= b;
        let (b0, b) = narrow(s.bytes.map(|p| p.0), bit::BYTES)?;
        let (b1, _) = narrow(s.bytes.map(|p| p.1), 0)?;
        bits |= b;
        let anchor = match s.anchor {
            None => 0,
            Some(a) => {
                bits |= bit::ANCHOR;
                u16::try_from(a).ok()?
            }
        };
        let (rule, b) = narrow(s.rule, bit::RULE)?;
        bits |= b;
        if s.id.is_some() {
            bits |= bit::ID;
        }
        let creator = match s.creator_id {
            None => 0,
            Some(c) => {
                bits |= bit::CREATOR;
                self.creator_index(c)?
            }
        };
        let seq = s.seq.as_deref().map(|(a, b)| Windows {
            seqlo: [a.seqlo, b.seqlo],
            window: [a.window, b.window],
            wscale: [a.wscale.unwrap_or(u8::MAX), b.wscale.unwrap_or(u8::MAX)],
        });
        // A wscale of 255 cannot be told from none: keep such a state whole.
        if s.seq
            .as_deref()
            .is_some_and(|(a, b)| a.wscale == Some(u8::MAX) || b.wscale == Some(u8::MAX))
        {
            return None;
        }
        if seq.is_some() {
            bits |= bit::SEQ;
        }
        let nat = match (&s.src_nat, &s.dst_nat) {
            (None, None) => None,
            (src, dst) => {
                bits |= bit::NAT;
                Some([
                    compact_nat(src.as_deref(), &mut self.sparse.v6)?,
                    compact_nat(dst.as_deref(), &mut self.sparse.v6)?,
                ])
            }
        };
        let flags = if s.flags.is_empty() {
            None
        } else {
            bits |= bit::FLAGS;
            Some(self.flag_list(&s.flags)?)
        };
        let route = match s.route.as_deref() {
            None => None,
            Some(r) => {
                bits |= bit::ROUTE;
                Some(self.route_id(r)?)
            }
        };
        let [iface, proto, src_state, dst_state] = &mut self.text;
        let cap = |k: usize| 1 << NAME_BITS[k];
        let names = [
            iface.id(&s.iface, cap(0))?,
            proto.id(&s.proto, cap(1))?,
            src_state.id(&s.src_state, cap(2))?,
            dst_state.id(&s.dst_state, cap(3))?,
        ];
        Some(Row {
            line: u32::try_from(s.line).ok()?,
            names,
            bits,
            addr: [src, dst],
            port: [src_port.unwrap_or(0), dst_port.unwrap_or(0)],
            times: [age, expires],
            counters: [p0, p1, b0, b1],
            anchor,
            rule,
            id: s.id.unwrap_or(0),
            creator,
            seq,
            nat,
            flags,
            route,
        })
    }

    fn route_id(&mut self, route: &StateRoute) -> Option<u32> {
        intern_capped(&mut self.routes, &mut self.route_index, route)
    }

    fn route_at(&self, i: usize) -> Option<Box<StateRoute>> {
        if self.bits(i) & bit::ROUTE == 0 {
            return None;
        }
        let at = self
            .sparse
            .route_of
            .binary_search(&u32::try_from(i).ok()?)
            .ok()?;
        let route = self.routes.get(*self.sparse.route.get(at)? as usize)?;
        Some(Box::new(route.clone()))
    }

    fn flag_list(&mut self, flags: &[Box<str>]) -> Option<u32> {
        intern_capped(&mut self.flag_lists, &mut self.flag_index, flags)
    }

    fn flags_at(&self, i: usize) -> Vec<Box<str>> {
        if self.bits(i) & bit::FLAGS == 0 {
            return Vec::new();
        }
        u32::try_from(i)
            .ok()
            .and_then(|i| self.sparse.flags_of.binary_search(&i).ok())
            .and_then(|at| self.sparse.flags.get(at))
            .and_then(|list| self.flag_lists.get(*list as usize))
            .cloned()
            .unwrap_or_default()
    }

    fn creator_index(&mut self, c: u32) -> Option<u16> {
        if let Some(i) = self.creators.iter().position(|x| *x == c) {
            return u16::try_from(i).ok();
        }
        // pfsync peers are few; a table full of them keeps states whole.
        let i = u16::try_from(self.creators.len())
            .ok()
            .filter(|i| *i < 256)?;
        self.creators.push(c);
        Some(i)
    }

    fn append(&mut self, r: Row) {
        // The index fits: `push` checked it.
        let index = self.len() as u32;
        if let Some(w) = r.seq {
            self.sparse.seq_of.push(index);
            self.sparse.seq.push(w);
        }
        if let Some(n) = r.nat {
            self.sparse.nat_of.push(index);
            self.sparse.nat.push(n);
        }
        if let Some(f) = r.flags {
            self.sparse.flags_of.push(index);
            self.sparse.flags.push(f);
        }
        if let Some(route) = r.route {
            self.sparse.route_of.push(index);
            self.sparse.route.push(route);
        }
        let mut words = [0; WORDS];
        let mut put = |col: dense::Col, values: &[u32]| {
            words[col.at()..col.at() + values.len()].copy_from_slice(values);
        };
        let pair16 = |a: u16, b: u16| u32::from(a) | u32::from(b) << 16;
        put(LINE, &[r.line]);
        put(NAMES, &[pack_names(r.names)]);
        put(BITS, &[r.bits]);
        put(ADDR, &r.addr);
        put(PORT, &[pair16(r.port[0], r.port[1])]);
        put(TIMES, &r.times);
        put(COUNTERS, &r.counters);
        put(ANCHOR_CREATOR, &[pair16(r.anchor, r.creator)]);
        put(RULE, &[r.rule]);
        put(ID, &[r.id as u32, (r.id >> 32) as u32]);
        put(TAG, &[0]);
        self.dense.push(&words);
    }

    fn word(&self, col: dense::Col, i: usize) -> u32 {
        self.dense.get(col, i, 0)
    }

    /// The low and high `u16` of a word.
    fn halves(&self, col: dense::Col, i: usize, k: usize) -> [u16; 2] {
        let w = self.dense.get(col, i, k);
        [w as u16, (w >> 16) as u16]
    }

    fn names(&self, i: usize) -> [u16; 4] {
        unpack_names(self.word(NAMES, i))
    }

    fn anchor(&self, i: usize) -> u16 {
        self.halves(ANCHOR_CREATOR, i, 0)[0]
    }

    fn creator(&self, i: usize) -> Option<u32> {
        let index = self.halves(ANCHOR_CREATOR, i, 0)[1];
        self.creators.get(usize::from(index)).copied()
    }

    fn id_word(&self, i: usize) -> u64 {
        u64::from(self.dense.get(ID, i, 0)) | u64::from(self.dense.get(ID, i, 1)) << 32
    }

    fn bits(&self, i: usize) -> u32 {
        self.word(BITS, i)
    }

    /// The state kept whole at `i`, if it was.
    fn whole(&self, i: usize) -> Option<&State> {
        if self.bits(i) & bit::WHOLE == 0 {
            return None;
        }
        let at = self
            .sparse
            .whole_of
            .binary_search(&u32::try_from(i).ok()?)
            .ok()?;
        self.sparse.whole.get(at)
    }

    fn ip(&self, i: usize, end: usize) -> IpAddr {
        let v6 = if end == 0 { bit::SRC_V6 } else { bit::DST_V6 };
        self.ip_of(self.dense.get(ADDR, i, end), self.bits(i) & v6 != 0)
    }

    fn ip_of(&self, raw: u32, v6: bool) -> IpAddr {
        if !v6 {
            return IpAddr::V4(Ipv4Addr::from(raw));
        }
        let a = self.sparse.v6.get(raw as usize).copied().unwrap_or(0);
        IpAddr::V6(Ipv6Addr::from(a))
    }

    /// The translated ends of the state at `i`, if it has any.
    fn nat_ends(&self, i: usize) -> (Option<Box<Endpoint>>, Option<Box<Endpoint>>) {
        if self.bits(i) & bit::NAT == 0 {
            return (None, None);
        }
        let Some(at) = u32::try_from(i)
            .ok()
            .and_then(|i| self.sparse.nat_of.binary_search(&i).ok())
        else {
            return (None, None);
        };
        let end = |n: NatEnd| {
            (n.bits & NAT_SOME != 0).then(|| {
                let port = (n.bits & NAT_PORT != 0).then_some(Port::Num(n.port));
                Box::new(Endpoint::new(
                    HostAddr::Ip(self.ip_of(n.addr, n.bits & NAT_V6 != 0)),
                    port,
                ))
            })
        };
        match self.sparse.nat.get(at) {
            Some([src, dst]) => (end(*src), end(*dst)),
            None => (None, None),
        }
    }

    fn endpoint(&self, i: usize, end: usize) -> Endpoint {
        let has_port = if end == 0 {
            bit::SRC_PORT
        } else {
            bit::DST_PORT
        };
        let port = (self.bits(i) & has_port != 0).then(|| Port::Num(self.halves(PORT, i, 0)[end]));
        Endpoint::new(HostAddr::Ip(self.ip(i, end)), port)
    }

    fn opt(&self, i: usize, present: u32, v: u32) -> Option<u32> {
        (self.bits(i) & present != 0).then_some(v)
    }

    /// The state at `i`, as it was pushed.
    pub fn get(&self, i: usize) -> Option<State> {
        self.build(i, true)
    }

    /// [`Self::get`] without the sequence windows (`seq` is `None` unless
    /// the state was kept whole): the analysis reads no window, and each
    /// would cost a box.
    pub fn get_without_windows(&self, i: usize) -> Option<State> {
        self.build(i, false)
    }

    fn build(&self, i: usize, windows: bool) -> Option<State> {
        if i >= self.len() {
            return None;
        }
        if let Some(s) = self.whole(i) {
            return Some(s.clone());
        }
        let b = self.bits(i);
        let [n0, n1, n2, n3] = self.names(i);
        let [t0, t1, t2, t3] = &self.text;
        let [iface, proto, src_state, dst_state] = [t0.get(n0), t1.get(n1), t2.get(n2), t3.get(n3)];
        let [age, expires] = [0, 1].map(|k| self.dense.get(TIMES, i, k));
        let [p0, p1, b0, b1] = [0, 1, 2, 3].map(|k| u64::from(self.dense.get(COUNTERS, i, k)));
        let pair = |bit, a, b| (self.bits(i) & bit != 0).then_some((a, b));
        let (src_nat, dst_nat) = self.nat_ends(i);
        Some(State {
            line: self.word(LINE, i) as usize,
            iface,
            proto,
            direction: if b & bit::OUT != 0 {
                Direction::Out
            } else {
                Direction::In
            },
            src: self.endpoint(i, 0),
            dst: self.endpoint(i, 1),
            src_nat,
            dst_nat,
            gateway: None,
            src_state,
            dst_state,
            age: self.opt(i, bit::AGE, age).map(u64::from),
            expires: self.opt(i, bit::EXPIRES, expires).map(u64::from),
            packets: pair(bit::PACKETS, p0, p1),
            bytes: pair(bit::BYTES, b0, b1),
            anchor: (b & bit::ANCHOR != 0).then(|| u32::from(self.anchor(i))),
            rule: self.opt(i, bit::RULE, self.word(RULE, i)),
            flags: self.flags_at(i),
            id: (b & bit::ID != 0).then(|| self.id_word(i)),
            creator_id: (b & bit::CREATOR != 0).then(|| self.creator(i)).flatten(),
            route: self.route_at(i),
            rtable: None,
            origif: None,
            seq: if windows {
                self.windows(i).map(Box::new)
            } else {
                None
            },
            verbose: b & bit::VERBOSE != 0,
        })
    }

    fn windows(&self, i: usize) -> Option<(SeqWindow, SeqWindow)> {
        if self.bits(i) & bit::SEQ == 0 {
            return None;
        }
        let at = self
            .sparse
            .seq_of
            .binary_search(&u32::try_from(i).ok()?)
            .ok()?;
        let w = self.sparse.seq.get(at)?;
        let side = |k: usize| SeqWindow {
            seqlo: w.seqlo[k],
            window: w.window[k],
            seqdiff: None,
            wscale: (w.wscale[k] != u8::MAX).then_some(w.wscale[k]),
        };
        Some((side(0), side(1)))
    }

    /// Every state, in push order (each one built on the fly).
    pub fn iter(&self) -> impl Iterator<Item = State> + Clone + '_ {
        (0..self.len()).filter_map(|i| self.get(i))
    }

    /// The state's creating rule, without building the state.
    pub fn rule_key(&self, i: usize) -> Option<RuleKey> {
        if let Some(s) = self.whole(i) {
            return Some(s.rule_key());
        }
        if i >= self.len() {
            return None;
        }
        let b = self.bits(i);
        Some(RuleKey {
            anchor: (b & bit::ANCHOR != 0).then(|| u32::from(self.anchor(i))),
            number: self.opt(i, bit::RULE, self.word(RULE, i)),
        })
    }

    /// The state's age in seconds, without building the state.
    pub fn age(&self, i: usize) -> Option<u64> {
        if let Some(s) = self.whole(i) {
            return s.age;
        }
        if i >= self.len() {
            return None;
        }
        let age = self.dense.get(TIMES, i, 0);
        self.opt(i, bit::AGE, age).map(u64::from)
    }

    /// The state's id and creator id, without building the state.
    pub fn id(&self, i: usize) -> Option<(u64, Option<u32>)> {
        if let Some(s) = self.whole(i) {
            return s.id.map(|id| (id, s.creator_id));
        }
        let b = self.bits(i);
        let creator = (b & bit::CREATOR != 0).then(|| self.creator(i)).flatten();
        (b & bit::ID != 0).then(|| (self.id_word(i), creator))
    }

    /// True when the state was listed with its `-v` lines.
    pub fn verbose(&self, i: usize) -> bool {
        match self.whole(i) {
            Some(s) => s.verbose,
            None => self.bits(i) & bit::VERBOSE != 0,
        }
    }

    /// True when any state has an id (a `-vv` listing).
    pub fn any_id(&self) -> bool {
        self.dense.column(BITS).iter().any(|b| b & bit::ID != 0)
            || self.sparse.whole.iter().any(|s| s.id.is_some())
    }

    /// Bytes of memory the columns hold (their capacity), for the figures.
    pub fn heap_bytes(&self) -> usize {
        use std::mem::size_of;
        let whole_boxes: usize = self
            .sparse
            .whole
            .iter()
            .map(|s| {
                s.src_nat.as_ref().map_or(0, |_| size_of::<Endpoint>())
                    + s.dst_nat.as_ref().map_or(0, |_| size_of::<Endpoint>())
                    + s.gateway.as_ref().map_or(0, |_| size_of::<Endpoint>())
                    + s.seq
                        .as_ref()
                        .map_or(0, |_| size_of::<(SeqWindow, SeqWindow)>())
                    + s.flags.capacity() * size_of::<Box<str>>()
                    + s.flags.iter().map(|f| f.len()).sum::<usize>()
            })
            .sum();
        self.dense.heap_bytes()
            + self.sparse.heap_bytes()
            + whole_boxes
            + self
                .text
                .iter()
                .flat_map(|t| &t.list)
                .map(|n| n.len() + 32)
                .sum::<usize>()
                * 2
    }

    /// How many states are kept whole (for the figures and tests).
    pub fn whole_count(&self) -> usize {
        self.sparse.whole.len()
    }

    /// Moves the sparse columns out, emptied, for another store to reuse;
    /// this store is left without them (call it on a store being dropped).
    pub fn take_sparse(&mut self) -> Sparse {
        std::mem::take(&mut self.sparse).emptied()
    }

    /// Takes the room of another store's sparse columns (see [`Sparse`]):
    /// a store that holds no state yet builds in them.
    pub fn reuse_sparse(&mut self, spare: Sparse) {
        if self.is_empty() {
            self.sparse = spare.emptied();
        }
    }

    /// The store's shape, to allocate the next poll's store like it.
    pub fn shape(&self) -> StoreShape {
        StoreShape {
            states: self.len(),
            v6: self.sparse.v6.len(),
            seq: self.sparse.seq.len(),
            nat: self.sparse.nat.len(),
            flags: self.sparse.flags.len(),
            route: self.sparse.route.len(),
            whole: self.sparse.whole.len(),
        }
    }

    /// Room for about `shape` (the previous poll's) plus a sixteenth, in
    /// every column, allocated once: a poll of about the previous poll's
    /// size then grows no column step by step, which left the
    /// allocator's heap fragmented poll after poll.
    pub(crate) fn reserve_like(&mut self, shape: StoreShape) {
        let more = |n: usize| n.saturating_add(n / 16);
        self.dense.reserve(more(shape.states));
        self.sparse.each_column(|col, c| {
            let n = shape.count(col);
            // A recycled column with half that margin left is kept:
            // allocating it again (it is empty) left its old room as a
            // hole in the heap, ~30 MB of columns at a million states.
            if c.capacity() < n.saturating_add(n / 32) {
                c.reserve_exact(more(n));
            }
        });
    }

    /// After the last push of a poll: gives back the room of a column
    /// only where more than an eighth of it is unused (a column that grew
    /// by doubling), down to a sixteenth more than it holds: the margin
    /// [`reserve_like`](Self::reserve_like) gives, so the poll that
    /// builds in these columns again (see [`Sparse`]) need not allocate
    /// them again. The room `reserve_like` left is kept: it was never
    /// written, so it is not resident, and giving it back would move the
    /// block.
    pub(crate) fn finish(&mut self) {
        self.dense.shrink();
        self.sparse.each_column(|_, c| {
            let len = c.len();
            if c.capacity() - len > len / 8 {
                c.shrink_to(len.saturating_add(len / 16));
            }
        });
    }

    /// Gives back all unused capacity.
    pub fn shrink_to_fit(&mut self) {
        self.dense.shrink_to_fit();
        self.sparse.each_column(|_, c| c.shrink_to_fit());
    }

    /// The word the store's owner set for state `i` ([`set_tag`](Self::set_tag)), 0 by default.
    pub fn tag(&self, i: usize) -> u32 {
        self.word(TAG, i)
    }

    /// Sets the owner's word of state `i` (the analysis keeps each state's
    /// row there: no `Vec` of its own beside the columns).
    pub fn set_tag(&mut self, i: usize, tag: u32) {
        self.dense.set(TAG, i, 0, tag);
    }

    /// Every state's tag, in order.
    pub fn tags(&self) -> &[u32] {
        self.dense.column(TAG)
    }

    /// True when any address of state `i` (source, destination, the
    /// translated ends, a gateway) is inside `net`: what
    /// `state.addrs().any(..)` answers, read from the columns without
    /// building the state (the `/` filter scans a million of them).
    pub fn touches(&self, i: usize, net: &NetProbe) -> bool {
        let b = self.bits(i);
        if b & bit::WHOLE != 0 {
            return self.whole(i).is_some_and(|s| {
                s.addrs()
                    .any(|e| e.addr.ip().is_some_and(|ip| net.net.contains(&ip)))
            });
        }
        if i >= self.len() {
            return false;
        }
        let hit = |raw: u32, v6: bool| net.hit(raw, v6, &self.sparse.v6);
        if hit(self.dense.get(ADDR, i, 0), b & bit::SRC_V6 != 0)
            || hit(self.dense.get(ADDR, i, 1), b & bit::DST_V6 != 0)
        {
            return true;
        }
        if b & bit::NAT == 0 {
            return false;
        }
        let at = u32::try_from(i)
            .ok()
            .and_then(|i| self.sparse.nat_of.binary_search(&i).ok());
        at.and_then(|at| self.sparse.nat.get(at))
            .is_some_and(|ends| {
                ends.iter()
                    .any(|n| n.bits & NAT_SOME != 0 && hit(n.addr, n.bits & NAT_V6 != 0))
            })
    }

    /// The states [`touches`](Self::touches) is true for, in order (see
    /// [`touching_bits`](Self::touching_bits)).
    pub fn touching<'a>(&'a self, net: &'a NetProbe) -> impl Iterator<Item = usize> + 'a {
        set_bits(self.touching_bits(net))
    }

    /// [`touches`](Self::touches) for every state, one bit a state (bit
    /// `i % 64` of word `i / 64`): the `/` filter's matches. Read column
    /// by column in tight loops, without a branch per state for an IPv4
    /// prefix (a million states in about a millisecond): the address
    /// column, then the translations (a fifth of a table) and the states
    /// kept whole, whose dense columns hold no address.
    pub fn touching_bits(&self, net: &NetProbe) -> Vec<u64> {
        let mut words = vec![0u64; self.len().div_ceil(64)];
        let (bits, addrs) = (self.dense.column(BITS), self.dense.column(ADDR));
        if let Some((want, mask)) = net.v4 {
            mark_each(&mut words, bits, addrs, |b, a| {
                let inside = |end: usize, v6: u32| (b & v6 == 0) & (a[end] & mask == want);
                inside(0, bit::SRC_V6) | inside(1, bit::DST_V6)
            });
        } else if let Some((want, mask)) = net.v6 {
            // Which addresses of the pool are inside, once: an IPv6
            // prefix no address is in (most keys typed into the filter)
            // costs no pass over the states.
            let pool: Vec<u64> = self
                .sparse
                .v6
                .chunks(64)
                .map(|c| word_of(c.iter().map(|a| a & mask == want)))
                .collect();
            if pool.iter().any(|w| *w != 0) {
                let in_pool = |raw: u32| {
                    let i = raw as usize;
                    pool.get(i / 64).is_some_and(|w| w & (1 << (i % 64)) != 0)
                };
                mark_each(&mut words, bits, addrs, |b, a| {
                    (b & bit::SRC_V6 != 0 && in_pool(a[0]))
                        || (b & bit::DST_V6 != 0 && in_pool(a[1]))
                });
            }
        }
        let mut set = |i: usize, on: bool| {
            if let Some(w) = words.get_mut(i / 64) {
                let one = 1u64 << (i % 64);
                *w = if on { *w | one } else { *w & !one };
            }
        };
        for (of, ends) in self.sparse.nat_of.iter().zip(&self.sparse.nat) {
            let hit = ends.iter().any(|n| {
                n.bits & NAT_SOME != 0 && net.hit(n.addr, n.bits & NAT_V6 != 0, &self.sparse.v6)
            });
            if hit {
                set(*of as usize, true);
            }
        }
        for of in &self.sparse.whole_of {
            let i = *of as usize;
            set(i, self.touches(i, net));
        }
        words
    }

    /// True when state `i` has no id and is the connection `proto`,
    /// `direction`, `src`, `dst` (what a state listed without ids is found
    /// again by after a poll), compared in the columns without building
    /// the state.
    pub fn has_tuple(
        &self,
        i: usize,
        proto: &str,
        direction: Direction,
        src: &Endpoint,
        dst: &Endpoint,
    ) -> bool {
        if let Some(s) = self.whole(i) {
            return s.id.is_none()
                && s.direction == direction
                && s.src == *src
                && s.dst == *dst
                && &*s.proto == proto;
        }
        if i >= self.len() {
            return false;
        }
        let b = self.bits(i);
        let out = b & bit::OUT != 0;
        b & bit::ID == 0
            && out == (direction == Direction::Out)
            && self.endpoint(i, 0) == *src
            && self.endpoint(i, 1) == *dst
            && self.text[1]
                .list
                .get(usize::from(self.names(i)[1]))
                .is_some_and(|p| &**p == proto)
    }
}

impl From<Vec<State>> for StateStore {
    fn from(states: Vec<State>) -> Self {
        states.into_iter().collect()
    }
}

impl FromIterator<State> for StateStore {
    fn from_iter<I: IntoIterator<Item = State>>(iter: I) -> Self {
        let mut store = StateStore::new();
        for s in iter {
            store.push(&s);
        }
        store
    }
}

/// The index of `value` in `table`, added when new. Distinct values (flag
/// lists, routes) are few; input that makes each one new (garbage) gets
/// `None` past 65,536 of them, so those states are kept whole instead of
/// growing the table for ever.
fn intern_capped<T, K, S>(
    table: &mut Vec<K>,
    index: &mut HashMap<K, u32, S>,
    value: &T,
) -> Option<u32>
where
    T: ?Sized + ToOwned<Owned = K> + Eq + std::hash::Hash,
    K: std::borrow::Borrow<T> + Eq + std::hash::Hash + Clone,
    S: std::hash::BuildHasher,
{
    if let Some(i) = index.get(value) {
        return Some(*i);
    }
    let i = u32::try_from(table.len()).ok().filter(|i| *i < 65_536)?;
    let owned = value.to_owned();
    table.push(owned.clone());
    index.insert(owned, i);
    Some(i)
}

/// The four name indexes in one word, [`NAME_BITS`] each (the indexes
/// fit: [`Names::id`] was given the cap).
fn pack_names(names: [u16; 4]) -> u32 {
    let mut word = 0;
    let mut shift = 0;
    for (n, width) in names.iter().zip(NAME_BITS) {
        word |= (u32::from(*n) & ((1 << width) - 1)) << shift;
        shift += width;
    }
    word
}

/// The four name indexes of a `NAMES` word.
fn unpack_names(word: u32) -> [u16; 4] {
    let mut shift = 0;
    NAME_BITS.map(|width| {
        let n = (word >> shift) & ((1 << width) - 1);
        shift += width;
        n as u16
    })
}

/// Sets, in each word of `words`, the bits of the 64 states it stands
/// for that `hit` (given a state's `BITS` word and its two `ADDR` words)
/// is true for; states kept whole are left out (their columns are empty).
fn mark_each(words: &mut [u64], bits: &[u32], addrs: &[u32], hit: impl Fn(u32, &[u32]) -> bool) {
    for ((w, b), a) in words.iter_mut().zip(bits.chunks(64)).zip(addrs.chunks(128)) {
        *w = word_of(
            b.iter()
                .zip(a.chunks_exact(2))
                .map(|(b, a)| (b & bit::WHOLE == 0) & hit(*b, a)),
        );
    }
}

/// Up to 64 bits as one word, the first in the lowest bit.
fn word_of(bits: impl Iterator<Item = bool>) -> u64 {
    bits.enumerate()
        .fold(0, |w, (k, on)| w | (u64::from(on) << k))
}

/// The indexes of the set bits of `words` (bit `i % 64` of word `i / 64`),
/// in order: the one walk over a bit set of states.
pub(crate) fn set_bits(words: impl IntoIterator<Item = u64>) -> impl Iterator<Item = usize> {
    words.into_iter().enumerate().flat_map(|(at, mut w)| {
        std::iter::from_fn(move || {
            let k = w.trailing_zeros() as usize;
            (w != 0).then(|| {
                w &= w - 1;
                at * 64 + k
            })
        })
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::{RouteKind, StateRoute};

    /// The same name gets the same id whether it comes as the same `Arc`
    /// (the pointer test) or as another one with the same text (the hash),
    /// past the first names compared by pointer too.
    #[test]
    fn names_have_one_id_by_pointer_or_by_text() {
        let mut names = Names::default();
        let made: Vec<Arc<str>> = (0..12).map(|k| Arc::from(format!("n{k}"))).collect();
        for (k, name) in made.iter().enumerate() {
            assert_eq!(names.id(name, 100), Some(k as u16));
        }
        for (k, name) in made.iter().enumerate() {
            assert_eq!(names.id(name, 100), Some(k as u16), "same Arc");
            let copy: Arc<str> = Arc::from(&**name);
            assert_eq!(names.id(&copy, 100), Some(k as u16), "same text");
            assert_eq!(&*names.get(k as u16), &**name);
        }
        assert_eq!(names.id(&Arc::from("new"), 12), None, "full");
    }

    #[test]
    fn set_bits_walks_each_set_bit_in_order() {
        let words = [0b1011, 0, 1 << 63, u64::MAX];
        let want: Vec<usize> = [0, 1, 3, 191].into_iter().chain(192..256).collect();
        assert_eq!(set_bits(words).collect::<Vec<_>>(), want);
        assert_eq!(set_bits(Vec::new()).count(), 0);
    }

    #[test]
    fn interning_gives_one_index_per_value_and_stops_at_65536_values() {
        let mut table: Vec<String> = Vec::new();
        let mut index = HashMap::new();
        assert_eq!(intern_capped(&mut table, &mut index, "a"), Some(0));
        assert_eq!(intern_capped(&mut table, &mut index, "b"), Some(1));
        assert_eq!(intern_capped(&mut table, &mut index, "a"), Some(0));
        for n in 2..65_536 {
            assert_eq!(
                intern_capped(&mut table, &mut index, &n.to_string()),
                Some(n)
            );
        }
        assert_eq!(intern_capped(&mut table, &mut index, "new"), None);
        assert_eq!(intern_capped(&mut table, &mut index, "b"), Some(1));
        assert_eq!(table.len(), 65_536);
    }

    fn parsed(text: &str) -> Vec<State> {
        crate::parse::states::parse_states(text).0
    }

    const TCP6: &str =
        "all tcp 2001:db8::10[443] <- 2001:db8:ffff::1[50000]       ESTABLISHED:ESTABLISHED
   [1234567890 + 66560](+12) wscale 7  [987654321 + 65535] wscale 6
   age 00:01:02, expires in 23:59:58, 10:12 pkts, 1000:20000 bytes, anchor 2, rule 5
   id: 6640000000000001 creatorid: 8c7e1f2a
em0 udp 10.0.0.1:53 -> 192.0.2.7:40000       MULTIPLE:SINGLE
   age 00:00:05, expires in 00:00:25, 1:1 pkts, 60:120 bytes, rule 3
   id: 6640000000000002 creatorid: 8c7e1f2a
em0 tcp 10.0.0.1:22 <- 192.0.2.8:40001       ESTABLISHED:ESTABLISHED
   [1 + 2] wscale 1  [3 + 4] wscale 2
   age 00:00:05, expires in 00:00:25, 1:1 pkts, 60:120 bytes, rule 4
   id: 6640000000000003 creatorid: 01020304
";

    #[test]
    fn states_come_back_as_pushed() {
        let states = parsed(TCP6);
        assert_eq!(states.len(), 3);
        let store: StateStore = states.iter().cloned().collect();
        assert_eq!(store.len(), 3);
        for (i, s) in states.iter().enumerate() {
            assert_eq!(store.get(i).as_ref(), Some(s), "state {i}");
            assert_eq!(store.rule_key(i), Some(s.rule_key()));
            assert_eq!(store.age(i), s.age);
            assert_eq!(store.id(i), s.id.map(|id| (id, s.creator_id)));
        }
        assert_eq!(store.iter().collect::<Vec<_>>(), states);
        assert_eq!(store.get(3), None);
        // The first has a sequence diff: kept whole; the others in columns.
        assert_eq!(store.whole_count(), 1);
    }

    #[test]
    fn rare_fields_and_wide_values_keep_the_state_whole() {
        let base = parsed(TCP6).remove(1);
        let variants: Vec<State> = vec![
            State {
                gateway: Some(Box::new(base.src.clone())),
                ..base.clone()
            },
            State {
                age: Some(u64::from(u32::MAX) + 1),
                ..base.clone()
            },
            State {
                bytes: Some((1, u64::MAX)),
                ..base.clone()
            },
            State {
                anchor: Some(70_000),
                ..base.clone()
            },
            State {
                src: Endpoint::new(HostAddr::Name("host.example".into()), None),
                ..base.clone()
            },
            State {
                dst: Endpoint::new(
                    HostAddr::Ip("192.0.2.1".parse().unwrap()),
                    Some(Port::Name("domain".into())),
                ),
                ..base.clone()
            },
            State {
                dst: Endpoint {
                    rdomain: Some(3),
                    ..base.dst.clone()
                },
                ..base.clone()
            },
            State {
                dst_nat: Some(Box::new(Endpoint {
                    rdomain: Some(1),
                    ..base.src.clone()
                })),
                ..base.clone()
            },
            State {
                line: usize::MAX,
                ..base.clone()
            },
        ];
        let mut store = StateStore::new();
        store.push(&base);
        for v in &variants {
            store.push(v);
            store.push(&base);
        }
        assert_eq!(store.whole_count(), variants.len());
        for (k, v) in variants.iter().enumerate() {
            assert_eq!(store.get(2 * k + 1).as_ref(), Some(v), "variant {k}");
            assert_eq!(store.get(2 * k + 2).as_ref(), Some(&base));
        }
    }

    #[test]
    fn translations_flags_and_routes_stay_in_columns() {
        let base = parsed(TCP6).remove(1);
        let v6 = parsed(TCP6).remove(0);
        let variants = [
            State {
                flags: vec!["sloppy".into()],
                ..base.clone()
            },
            State {
                flags: vec!["log".into(), "sloppy".into()],
                src_nat: Some(Box::new(base.dst.clone())),
                ..base.clone()
            },
            State {
                src_nat: Some(Box::new(base.dst.clone())),
                ..base.clone()
            },
            State {
                dst_nat: Some(Box::new(Endpoint::new(v6.src.addr.clone(), None))),
                ..base.clone()
            },
            State {
                src_nat: Some(Box::new(base.src.clone())),
                dst_nat: Some(Box::new(base.dst.clone())),
                ..base.clone()
            },
            State {
                route: Some(Box::new(StateRoute {
                    kind: RouteKind::RouteTo,
                    addr: None,
                    iface: Some("gif0".into()),
                })),
                ..base.clone()
            },
            State {
                route: Some(Box::new(StateRoute {
                    kind: RouteKind::ReplyTo,
                    addr: Some(v6.src.addr.clone()),
                    iface: None,
                })),
                flags: vec!["sloppy".into()],
                ..base.clone()
            },
            base.clone(),
            State {
                route: Some(Box::new(StateRoute {
                    kind: RouteKind::RouteTo,
                    addr: None,
                    iface: Some("gif0".into()),
                })),
                ..base.clone()
            },
        ];
        let store: StateStore = variants.iter().cloned().collect();
        assert_eq!(store.whole_count(), 0);
        assert_eq!(store.routes.len(), 2, "each distinct route once");
        for (i, v) in variants.iter().enumerate() {
            assert_eq!(store.get(i).as_ref(), Some(v), "variant {i}");
        }
    }

    #[test]
    fn absent_values_stay_absent() {
        let s = State {
            age: None,
            expires: None,
            packets: None,
            bytes: None,
            anchor: None,
            rule: None,
            id: None,
            creator_id: None,
            seq: None,
            verbose: false,
            ..parsed(TCP6).remove(2)
        };
        let store: StateStore = [s.clone()].into_iter().collect();
        assert_eq!(store.whole_count(), 0);
        assert_eq!(store.get(0), Some(s));
        assert_eq!(
            store.rule_key(0),
            Some(RuleKey {
                anchor: None,
                number: None
            })
        );
    }

    #[test]
    fn a_store_built_in_reused_columns_gives_its_states_back() {
        let states = parsed(TCP6);
        let mut old: StateStore = states.iter().cloned().collect();
        let spare = old.take_sparse();
        assert!(spare.seq.capacity() > 0 && spare.seq.is_empty());
        let mut store = StateStore::new();
        store.reuse_sparse(spare);
        assert!(store.sparse.seq.capacity() > 0, "the room was taken");
        for s in states.iter().rev() {
            store.push(s);
        }
        for (i, s) in states.iter().rev().enumerate() {
            assert_eq!(store.get(i).as_ref(), Some(s));
        }
        let mut full: StateStore = states.iter().cloned().collect();
        let seq = full.sparse.seq.clone();
        full.reuse_sparse(StateStore::new().take_sparse());
        assert_eq!(full.sparse.seq, seq, "columns in use are never replaced");
        // Every column moves, emptied, with its room.
        let mut spare = full.take_sparse();
        let mut columns = 0;
        spare.each_column(|_, c| {
            columns += 1;
            assert_eq!(c.len(), 0);
        });
        assert_eq!(columns, 11);
        assert!(spare.heap_bytes() > 0);
        assert_eq!(full.shape().seq, 0, "the store is left without them");
    }

    #[test]
    fn the_next_store_is_reserved_at_the_shape_of_the_last() {
        let states = parsed(TCP6);
        let last: StateStore = states.iter().cloned().collect();
        let shape = last.shape();
        assert_eq!((shape.states, shape.seq, shape.whole), (3, 1, 1));
        let mut next = StateStore::new();
        next.reserve_like(shape);
        assert!(next.sparse.seq.capacity() >= 1 && next.sparse.whole.capacity() >= 1);
        for s in &states {
            next.push(s);
        }
        next.finish();
        assert!(next.iter().eq(states.iter().cloned()));
    }

    #[test]
    fn names_are_shared_not_copied() {
        let states = parsed(TCP6);
        let store: StateStore = states.iter().cloned().collect();
        let a = store.get(1).unwrap();
        let b = store.get(2).unwrap();
        assert!(Arc::ptr_eq(&a.iface, &b.iface), "one `em0` for both");
        assert!(Arc::ptr_eq(&a.src_state, &b.src_state) || a.src_state != b.src_state);
    }

    #[test]
    fn names_pack_in_one_word_and_a_full_table_keeps_states_whole() {
        let max = NAME_BITS.map(|w| ((1u32 << w) - 1) as u16);
        for names in [[0, 0, 0, 0], max, [2047, 0, 127, 1], [1, 127, 0, 127]] {
            assert_eq!(unpack_names(pack_names(names)), names);
        }
        let base = parsed(TCP6).remove(1);
        let states: Vec<State> = (0..200)
            .map(|i| {
                let mut s = base.clone();
                s.proto = Arc::from(format!("proto{i}"));
                s
            })
            .collect();
        let store: StateStore = states.iter().cloned().collect();
        assert_eq!(store.whole_count(), 200 - 128, "128 protocols fit");
        assert!(store.iter().eq(states.iter().cloned()));
    }
}
