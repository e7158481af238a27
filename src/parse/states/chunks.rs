//! Skimming a state listing on several threads: the calling thread reads
//! the listing in blocks and cuts each one before its last line that
//! starts a state; worker threads skim the blocks, each with its own
//! [`Skimmer`](super::skim::Skimmer); the calling thread hands the wanted
//! states and the diagnostics on in input order. Every answer is the one
//! [`skim_states`] gives on one thread (`tests/skim_parallel.rs`).
//!
//! Why a cut there is safe: the skimmer's state after a line that does not
//! start with a blank (and is not skipped as too long) depends on that line
//! only. Such a line is a state's main line, or is reported and resets the
//! parser (its continuation lines are "skipped"); a skimmer that starts
//! there fresh behaves exactly as one that read everything before. The
//! per-rule counts do not depend on the order, so each worker counts into
//! its own sink; the kept states and diagnostics do, so they travel with
//! their block and are merged in order, and the diagnostics are capped as
//! one input.

use std::collections::BTreeMap;
use std::io::{self, BufRead, Read};
use std::sync::{Mutex, mpsc};

use super::skim::{Counted, HostPort, SkimSink, as_endpoints, skim_lines, skim_states};
use crate::model::{Diagnostic, Endpoint, State};
use crate::parse::common::{DiagCap, MAX_LINE};

/// How a listing is cut and spread over threads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Chunking {
    /// Worker threads. Below 2, the listing is skimmed on the calling
    /// thread, as [`skim_states`] does.
    pub threads: usize,
    /// Bytes read per block (at least 1).
    pub block: usize,
}

impl Chunking {
    /// Blocks of 1 MiB (about 4,000 `-vvss` states): large enough that
    /// handing a block over costs nothing next to skimming it, small enough
    /// that the blocks in flight stay a few MiB.
    pub const DEFAULT_BLOCK: usize = 1 << 20;

    /// One thread: the serial path.
    pub const SERIAL: Chunking = Chunking {
        threads: 1,
        block: Self::DEFAULT_BLOCK,
    };

    pub fn new(threads: usize, block: usize) -> Self {
        Chunking {
            threads,
            block: block.max(1),
        }
    }

    /// Bytes without a place to cut after which the rest of the listing is
    /// skimmed on the calling thread: memory stays bounded on input that is
    /// not a state listing (one huge line, only continuation lines).
    fn limit(&self) -> usize {
        self.block.saturating_mul(4).saturating_add(2 * MAX_LINE)
    }

    /// The first block is larger: a listing that fits in it (under 4 MiB,
    /// ~16,000 states) is skimmed on the calling thread, where starting
    /// threads would cost about what they save.
    fn first_block(&self) -> usize {
        self.block.saturating_mul(4)
    }

    /// Blocks read ahead of the merge, at most: the memory in flight.
    fn in_flight(&self) -> usize {
        2 * self.threads + 1
    }
}

/// What a worker thread does with the states it skims: decide which are
/// wanted (as [`SkimSink::wants`]) and count the others (as
/// [`SkimSink::counted`]), in any order across threads. Wanted states go to
/// the calling thread in input order.
pub trait CountSink: Send {
    fn wants(&mut self, endpoints: &[&Endpoint]) -> bool;
    /// As [`SkimSink::wants_addresses`]: must answer as `wants` does.
    fn wants_addresses(&mut self, addrs: &[HostPort]) -> bool {
        as_endpoints(addrs, |endpoints| self.wants(endpoints))
    }
    fn counted(&mut self, state: Counted);
}

/// Skims `input` like [`skim_states`], on up to `chunking.threads` worker
/// threads, each counting into a sink from `make`. Wanted states go to
/// `kept` in input order, on the calling thread; the diagnostics are
/// appended to `diags` exactly as [`skim_states`] reports them. Returns the
/// workers' sinks (one when the listing was skimmed on the calling thread:
/// one thread asked for, or a listing that fits in the first, larger
/// block). On a read error the sinks are dropped.
pub fn skim_states_chunked<R: BufRead, W: CountSink>(
    mut input: R,
    chunking: Chunking,
    mut make: impl FnMut() -> W,
    mut kept: impl FnMut(State),
    diags: &mut Vec<Diagnostic>,
) -> io::Result<Vec<W>> {
    let mut one = make();
    if chunking.threads < 2 {
        skim_states(input, &mut Split::new(&mut one, &mut kept), diags)?;
        return Ok(vec![one]);
    }
    let mut cutter = Cutter::new(&mut input, chunking);
    let first = match cutter.next(Vec::new(), chunking.first_block())? {
        Piece::Chunk(bytes) => bytes,
        // One block, or no place to cut in the first: one thread.
        Piece::Last(bytes) | Piece::Uncut(bytes) => {
            let rest = io::Cursor::new(bytes).chain(&mut input);
            skim_states(rest, &mut Split::new(&mut one, &mut kept), diags)?;
            return Ok(vec![one]);
        }
    };
    let mut workers = vec![one];
    workers.extend((1..chunking.threads).map(|_| make()));
    let mut cap = DiagCap::default();
    let tail = {
        let mut merger = Merger {
            next: 0,
            waiting: BTreeMap::new(),
            free: Vec::new(),
            kept: &mut kept,
            diags: &mut *diags,
            cap: &mut cap,
        };
        spread(&mut cutter, first, &mut workers, &mut merger, chunking)?
    };
    if let (Some(tail), Some(sink)) = (tail, workers.first_mut()) {
        let rest = io::Cursor::new(tail.bytes).chain(&mut input);
        // The first worker's sink counts the rest: the order is irrelevant.
        let mut split = Split::new(sink, &mut kept);
        skim_lines(rest, tail.lines_before, &mut split, diags, &mut cap)?;
    }
    cap.finish(diags);
    Ok(workers)
}

/// The [`SkimSink`] of one thread: decisions and counts to a [`CountSink`],
/// wanted states to `kept`.
struct Split<'a, W, K> {
    counts: &'a mut W,
    kept: K,
}

impl<'a, W: CountSink, K: FnMut(State)> Split<'a, W, K> {
    fn new(counts: &'a mut W, kept: K) -> Self {
        Split { counts, kept }
    }
}

impl<W: CountSink, K: FnMut(State)> SkimSink for Split<'_, W, K> {
    fn wants(&mut self, endpoints: &[&Endpoint]) -> bool {
        self.counts.wants(endpoints)
    }

    fn wants_addresses(&mut self, addrs: &[HostPort]) -> bool {
        self.counts.wants_addresses(addrs)
    }

    fn state(&mut self, state: State) {
        (self.kept)(state);
    }

    fn counted(&mut self, state: Counted) {
        self.counts.counted(state);
    }
}

/// A block for a worker: lines `lines_before + 1 ..` of the listing.
struct Job {
    index: usize,
    lines_before: usize,
    bytes: Vec<u8>,
}

/// A skimmed block: what must be merged in input order.
struct Done {
    index: usize,
    states: Vec<State>,
    diags: Vec<Diagnostic>,
    cap: DiagCap,
    /// The block's buffer, for the next read.
    bytes: Vec<u8>,
}

/// The part of the listing after a long stretch without a place to cut,
/// skimmed on the calling thread.
struct Tail {
    bytes: Vec<u8>,
    lines_before: usize,
}

/// Runs the workers over the blocks of `cutter`, `first` first, merging as
/// the blocks come back. Returns the tail left for the calling thread.
fn spread<R: BufRead, W: CountSink, K: FnMut(State)>(
    cutter: &mut Cutter<R>,
    first: Vec<u8>,
    workers: &mut [W],
    merger: &mut Merger<'_, K>,
    chunking: Chunking,
) -> io::Result<Option<Tail>> {
    let (job_tx, job_rx) = mpsc::channel::<Job>();
    let job_rx = Mutex::new(job_rx);
    let (done_tx, done_rx) = mpsc::channel::<Done>();
    std::thread::scope(|scope| {
        for sink in workers.iter_mut() {
            let (jobs, done) = (&job_rx, done_tx.clone());
            scope.spawn(move || work(sink, jobs, done));
        }
        drop(done_tx);
        let fed = feed(cutter, first, &job_tx, &done_rx, merger, chunking);
        drop(job_tx);
        // Every block sent comes back once the workers have drained the
        // queue (they end when it is closed and empty).
        for done in done_rx.iter() {
            merger.accept(done);
        }
        fed
    })
}

/// Reads blocks and sends them to the workers, keeping at most
/// [`Chunking::in_flight`] of them ahead of the merge.
fn feed<R: BufRead, K: FnMut(State)>(
    cutter: &mut Cutter<R>,
    first: Vec<u8>,
    jobs: &mpsc::Sender<Job>,
    done: &mpsc::Receiver<Done>,
    merger: &mut Merger<'_, K>,
    chunking: Chunking,
) -> io::Result<Option<Tail>> {
    let gone = || io::Error::other("a parsing thread ended early");
    let (mut sent, mut lines_before) = (0, 0);
    let mut piece = Piece::Chunk(first);
    loop {
        let (bytes, last) = match piece {
            Piece::Chunk(bytes) => (bytes, false),
            Piece::Last(bytes) => (bytes, true),
            Piece::Uncut(bytes) => {
                return Ok(Some(Tail {
                    bytes,
                    lines_before,
                }));
            }
        };
        let lines = count_newlines(&bytes);
        let job = Job {
            index: sent,
            lines_before,
            bytes,
        };
        jobs.send(job).map_err(|_| gone())?;
        sent += 1;
        lines_before += lines;
        if last {
            return Ok(None);
        }
        while sent - merger.next >= chunking.in_flight() {
            merger.accept(done.recv().map_err(|_| gone())?);
        }
        while let Ok(d) = done.try_recv() {
            merger.accept(d);
        }
        piece = cutter.next(merger.free.pop().unwrap_or_default(), cutter.block)?;
    }
}

/// A worker thread: skims the blocks it takes from `jobs` until the queue
/// is closed.
fn work<W: CountSink>(sink: &mut W, jobs: &Mutex<mpsc::Receiver<Job>>, done: mpsc::Sender<Done>) {
    loop {
        // A poisoned lock means another worker panicked: the scope
        // re-raises that panic, this one just stops.
        let Ok(Ok(job)) = jobs.lock().map(|rx| rx.recv()) else {
            return;
        };
        let mut states = Vec::new();
        let mut diags = Vec::new();
        let mut cap = DiagCap::default();
        let mut split = Split::new(&mut *sink, |s| states.push(s));
        // In memory: reading cannot fail.
        let _ = skim_lines(
            job.bytes.as_slice(),
            job.lines_before,
            &mut split,
            &mut diags,
            &mut cap,
        );
        let finished = Done {
            index: job.index,
            states,
            diags,
            cap,
            bytes: job.bytes,
        };
        if done.send(finished).is_err() {
            return;
        }
    }
}

/// Puts the skimmed blocks back in input order.
struct Merger<'m, K> {
    /// Index of the next block to merge.
    next: usize,
    /// Blocks that came back before an earlier one.
    waiting: BTreeMap<usize, Done>,
    /// Buffers of merged blocks, to read into again.
    free: Vec<Vec<u8>>,
    kept: &'m mut K,
    diags: &'m mut Vec<Diagnostic>,
    cap: &'m mut DiagCap,
}

impl<K: FnMut(State)> Merger<'_, K> {
    fn accept(&mut self, done: Done) {
        self.waiting.insert(done.index, done);
        while let Some(d) = self.waiting.remove(&self.next) {
            self.merge(d);
            self.next += 1;
        }
    }

    /// A block's states and diagnostics after those of the blocks before
    /// it. Each block kept its own first diagnostics up to the cap and
    /// counted the rest; appending them and trimming again keeps the first
    /// ones of the whole listing, as one cap over the whole would.
    fn merge(&mut self, done: Done) {
        done.states.into_iter().for_each(&mut *self.kept);
        self.diags.extend(done.diags);
        self.cap.add(done.cap);
        self.cap.trim(self.diags);
        let mut bytes = done.bytes;
        bytes.clear();
        self.free.push(bytes);
    }
}

/// What [`Cutter::next`] read.
enum Piece {
    /// Whole lines, ending before a line that starts a state.
    Chunk(Vec<u8>),
    /// The rest of the listing.
    Last(Vec<u8>),
    /// [`Chunking::limit`] bytes with no place to cut.
    Uncut(Vec<u8>),
}

/// Reads a listing in blocks cut where a fresh skimmer may start.
struct Cutter<R> {
    input: R,
    block: usize,
    limit: usize,
    /// The bytes after the last cut: the start of the next piece.
    carry: Vec<u8>,
}

impl<R: BufRead> Cutter<R> {
    fn new(input: R, chunking: Chunking) -> Self {
        Cutter {
            input,
            block: chunking.block,
            limit: chunking.limit(),
            carry: Vec::new(),
        }
    }

    /// The next piece of about `size` bytes, read into `buf` (a free
    /// buffer, reused).
    fn next(&mut self, mut buf: Vec<u8>, size: usize) -> io::Result<Piece> {
        buf.clear();
        buf.append(&mut self.carry);
        // Lines starting before this offset were looked at already.
        let mut searched = 0;
        loop {
            if !fill(&mut self.input, &mut buf, size)? {
                return Ok(Piece::Last(buf));
            }
            if let Some(cut) = last_cut(&buf, searched) {
                self.carry
                    .extend_from_slice(buf.get(cut..).unwrap_or_default());
                buf.truncate(cut);
                return Ok(Piece::Chunk(buf));
            }
            if buf.len() >= self.limit {
                return Ok(Piece::Uncut(buf));
            }
            searched = memchr::memrchr(b'\n', &buf).map_or(0, |i| i + 1);
        }
    }
}

/// Appends `more` bytes of `input` to `buf`; false when the input ended
/// first. Copied out of the reader's buffer: going through `Read` would
/// zero each block first (the listing's readers only have `read`).
fn fill(input: &mut impl BufRead, buf: &mut Vec<u8>, more: usize) -> io::Result<bool> {
    buf.reserve(more);
    let mut left = more;
    while left > 0 {
        let available = match input.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(false);
        }
        let n = available.len().min(left);
        buf.extend_from_slice(available.get(..n).unwrap_or_default());
        input.consume(n);
        left -= n;
    }
    Ok(true)
}

/// The start of the last complete line of `buf`, at or after `from` and
/// not at 0, where a fresh skimmer may start.
fn last_cut(buf: &[u8], from: usize) -> Option<usize> {
    let mut end = memchr::memrchr(b'\n', buf)?;
    loop {
        let before = buf.get(..end)?;
        let start = memchr::memrchr(b'\n', before).map_or(0, |i| i + 1);
        if start < from.max(1) {
            return None;
        }
        if resets_the_skimmer(before.get(start..)?) {
            return Some(start);
        }
        end = start - 1;
    }
}

/// True for a line (without its `\n`) that the skimmer takes as a main
/// line, whatever came before: it starts with neither a blank (a
/// continuation line) nor `\r` (a lone `\r` is an empty line, which
/// changes nothing), and it is not so long that it is skipped unread.
fn resets_the_skimmer(line: &[u8]) -> bool {
    line.len() <= MAX_LINE && !matches!(line.first(), None | Some(b' ' | b'\t' | b'\r'))
}

/// The lines a block ends: the calling thread counts them to number the
/// next block's lines. In runs of at most 255 bytes, a `u8` per lane
/// cannot overflow, so the compiler counts 16 bytes an instruction (a
/// `usize` count per byte cost ~5 instructions a byte, callgrind).
fn count_newlines(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|run| {
            let n = run
                .iter()
                .fold(0u8, |n, &b| n.wrapping_add(u8::from(b == b'\n')));
            usize::from(n)
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cuts_before_a_line_that_starts_a_state() {
        let text = b"a\n  b\n  c\nd\n  e\n";
        assert_eq!(last_cut(text, 0), Some(10));
        // Not before `from`, never at 0.
        assert_eq!(last_cut(text, 11), None);
        assert_eq!(last_cut(b"a\n  b\n", 0), None);
        // A line still being read is not a place to cut.
        assert_eq!(last_cut(b"a\n  b\nc", 0), None);
        // Nor an empty line, a lone `\r`, or one longer than is read.
        assert_eq!(last_cut(b"a\n\n\r\n  b\n", 0), None);
        let mut long = b"a\n".to_vec();
        long.extend(std::iter::repeat_n(b'x', MAX_LINE + 1));
        long.extend_from_slice(b"\n  b\n");
        assert_eq!(last_cut(&long, 0), None);
    }

    #[test]
    fn newlines_are_counted_past_255_a_run() {
        let text: Vec<u8> = (0..3000u32)
            .map(|i| if i % 3 == 0 || i > 2000 { b'\n' } else { b'x' })
            .collect();
        for len in [0, 1, 254, 255, 256, 1000, 3000] {
            let part = &text[..len];
            let expected = part.iter().filter(|&&b| b == b'\n').count();
            assert_eq!(count_newlines(part), expected, "{len} bytes");
        }
    }

    #[test]
    fn pieces_hold_every_byte_once() {
        let text: Vec<u8> = (0..2000u32)
            .flat_map(|i| match i % 5 {
                0 => b"main line\n".to_vec(),
                3 => b"\n".to_vec(),
                _ => b"   continued\n".to_vec(),
            })
            .collect();
        for block in [1, 3, 17, 100, 5000] {
            let mut cutter = Cutter::new(text.as_slice(), Chunking::new(2, block));
            let mut joined = Vec::new();
            loop {
                match cutter.next(Vec::new(), block).expect("in memory") {
                    Piece::Chunk(b) => {
                        assert!(b.ends_with(b"\n") && !b.is_empty());
                        joined.extend(b);
                        assert!(cutter.carry.starts_with(b"main"), "block {block}");
                    }
                    Piece::Last(b) | Piece::Uncut(b) => {
                        joined.extend(b);
                        joined.append(&mut cutter.carry);
                        let mut rest = Vec::new();
                        cutter.input.read_to_end(&mut rest).expect("in memory");
                        joined.extend(rest);
                        break;
                    }
                }
            }
            assert_eq!(joined, text, "block {block}");
        }
    }
}
