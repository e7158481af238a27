//! Recorded pfctl output: a directory in the recorded layout, a directory of
//! numbered polls (`0001/`, `0002/`, …), a single file (any pfctl output,
//! `pfctl -sa` included), or polls held in memory (the embedded demo).
//!
//! Directories are scanned when opened (so a bad recording fails early) and
//! read when polled; state listings are streamed from their files, never
//! read whole. Replays step through the polls in order and then stay on the
//! last one.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::{self, BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::time::Instant;

use chrono::{DateTime, Utc};

use super::Strategy;
use super::dedup::{Dedup, SeenStates, duplicates_warning};
use super::{NO_RULES_WARNING, PollMeta, PollSink, RecordedPoll, Run, Source, SourceError};

/// File names of the recorded layout (see `shared/design.md`).
pub const RULES_FILE: &str = "rules.txt";
pub const STATES_FILE: &str = "states.txt";
pub const INFO_FILE: &str = "info.txt";
pub const META_FILE: &str = "meta.toml";
/// The router's service-name table (`/etc/services`), copied by `record`
/// into its first poll so that replays resolve port names the same way.
pub const SERVICES_FILE: &str = "services.txt";
/// FreeBSD/macOS translation rules: `pfctl -a '*' -vvsn`.
pub const NAT_FILE: &str = "nat.txt";
/// The CARP status: the interface and `carp:` lines of `ifconfig`
/// (`crate::parse::carp::carp_lines`), written by `record --carp`.
pub const CARP_FILE: &str = "carp.txt";

/// The temporary directory `record` writes a single poll into before its
/// files move into DIR.
pub const SINGLE_POLL_TMP: &str = ".poll.tmp";

/// The temporary name of numbered poll `n` while `record` writes it.
pub fn poll_tmp_name(n: u32) -> String {
    format!(".{n:04}.tmp")
}

/// True for `.0003.tmp`: a numbered poll that `record` did not finish.
pub fn is_poll_tmp_name(name: &str) -> bool {
    name.strip_prefix('.')
        .and_then(|n| n.strip_suffix(".tmp"))
        .is_some_and(|n| poll_number(n).is_some())
}

/// `states-R<n>.txt`.
pub fn per_rule_file(n: u32) -> String {
    format!("states-R{n}.txt")
}

/// Lines looked at to tell what a single file holds.
const SNIFF_LINES: usize = 500;
/// The read buffer of a recorded states listing. A line that straddles two
/// buffer fills takes the line reader's slow path (copied, searched and
/// checked on its own), so a buffer of 256 KiB, not std's 8 KiB, leaves one
/// such line per ~1,000 states instead of per ~30, and makes 32 times
/// fewer `read` calls.
const STATES_READ_BUFFER: usize = 256 * 1024;

/// A replay of recorded polls.
pub struct ReplaySource {
    polls: Vec<ReplayPoll>,
    next: usize,
    strategy: Strategy,
    description: String,
}

enum ReplayPoll {
    Memory(RecordedPoll),
    Dir(DirPoll),
    File(PathBuf),
}

/// One poll directory, scanned.
#[derive(Debug, Default)]
struct DirPoll {
    dir: PathBuf,
    rules: Option<PathBuf>,
    states: Option<PathBuf>,
    info: Option<PathBuf>,
    nat: Option<PathBuf>,
    carp: Option<PathBuf>,
    per_rule: BTreeMap<u32, PathBuf>,
    taken_at: Option<DateTime<Utc>>,
    /// Found while scanning (odd file names).
    warnings: Vec<String>,
}

impl ReplaySource {
    /// A replay of polls held in memory. Polls without `taken_at` are
    /// stamped with the clock when played.
    pub fn from_memory(polls: Vec<RecordedPoll>) -> Self {
        let description = format!("replay ({} polls)", polls.len());
        ReplaySource {
            polls: polls.into_iter().map(ReplayPoll::Memory).collect(),
            next: 0,
            strategy: Strategy::Auto,
            description,
        }
    }

    /// Opens `--from PATH`: a file, a recorded directory, or a directory of
    /// numbered polls.
    pub fn open(path: &Path) -> Result<Self, SourceError> {
        let meta = fs::metadata(path).map_err(|e| missing_or_io(path, e))?;
        let shown = path.display().to_string();
        if !meta.is_dir() {
            check_regular(path, &meta)?;
            return Ok(ReplaySource {
                polls: vec![ReplayPoll::File(path.to_path_buf())],
                next: 0,
                strategy: Strategy::Auto,
                description: format!("recorded: {shown}"),
            });
        }
        let (numbered, skipped) = numbered_polls(path)?;
        let (mut polls, description) = if numbered.is_empty() && skipped.is_empty() {
            let poll = scan_poll_dir(path)?;
            (vec![poll], format!("recorded: {shown}"))
        } else if numbered.is_empty() {
            return Err(SourceError::BadRecording {
                path: shown,
                detail: format!("every poll is incomplete: {}", skipped.join("; ")),
            });
        } else {
            let n = numbered.len();
            let polls = numbered
                .iter()
                .map(|d| scan_poll_dir(d))
                .collect::<Result<Vec<_>, _>>()?;
            (polls, format!("recorded: {shown} ({n} polls)"))
        };
        if let Some(first) = polls.first_mut() {
            first.warnings.extend(skipped);
        }
        Ok(ReplaySource {
            polls: polls.into_iter().map(ReplayPoll::Dir).collect(),
            next: 0,
            strategy: Strategy::Auto,
            description,
        })
    }

    /// `per-rule` plays the `states-R<n>.txt` files when a poll has them.
    pub fn with_strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Replaces the header line (`demo: …`).
    pub fn with_description(mut self, description: impl Into<String>) -> Self {
        self.description = description.into();
        self
    }

    /// Number of polls in the replay.
    pub fn len(&self) -> usize {
        self.polls.len()
    }

    pub fn is_empty(&self) -> bool {
        self.polls.is_empty()
    }
}

impl Source for ReplaySource {
    fn describe(&self) -> String {
        self.description.clone()
    }

    fn is_live(&self) -> bool {
        false
    }

    fn poll(&mut self, sink: &mut dyn PollSink) -> Result<PollMeta, SourceError> {
        let total = self.polls.len();
        if total == 0 {
            return Err(SourceError::BadRecording {
                path: self.description.clone(),
                detail: "the replay holds no polls".into(),
            });
        }
        // After the last poll, stay on it.
        let index = self.next.min(total - 1);
        self.next = index + 1;
        let mut meta = PollMeta {
            taken_at: Utc::now(),
            runs: Vec::new(),
            warnings: Vec::new(),
            position: Some((index + 1, total)),
        };
        let strategy = self.strategy;
        match &self.polls[index] {
            ReplayPoll::Memory(p) => play_memory(p, strategy, sink, &mut meta)?,
            ReplayPoll::Dir(p) => play_dir(p, strategy, sink, &mut meta)?,
            ReplayPoll::File(path) => play_file(path, sink, &mut meta)?,
        }
        Ok(meta)
    }
}

/// Loads a recording (a directory, numbered polls, or a single file) into
/// memory, one [`RecordedPoll`] per poll.
pub fn load_dir(path: &Path) -> Result<Vec<RecordedPoll>, SourceError> {
    let replay = ReplaySource::open(path)?;
    replay
        .polls
        .iter()
        .map(|p| match p {
            ReplayPoll::Memory(p) => Ok(p.clone()),
            ReplayPoll::Dir(d) => load_poll_dir(d),
            ReplayPoll::File(f) => load_file(f),
        })
        .collect()
}

fn missing_or_io(path: &Path, e: io::Error) -> SourceError {
    if e.kind() == io::ErrorKind::NotFound {
        SourceError::MissingInput {
            path: path.display().to_string(),
        }
    } else {
        SourceError::Io {
            what: path.display().to_string(),
            source: e,
        }
    }
}

/// Subdirectories named only by digits, in numeric order, and a warning for
/// each poll skipped as incomplete: a temporary `.0003.tmp` (an interrupted
/// `pfblame record`) or a numbered directory without `meta.toml` (`record`
/// writes it last, so its absence means the poll was cut short).
fn numbered_polls(dir: &Path) -> Result<(Vec<PathBuf>, Vec<String>), SourceError> {
    let mut found = Vec::new();
    let mut skipped = Vec::new();
    for entry in fs::read_dir(dir).map_err(|e| missing_or_io(dir, e))? {
        let entry = entry.map_err(|e| missing_or_io(dir, e))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else {
            continue;
        };
        let path = entry.path();
        if is_poll_tmp_name(name) {
            skipped.push(format!(
                "skipped {}: a poll that `pfblame record` did not finish",
                path.display()
            ));
            continue;
        }
        let Some(number) = poll_number(name) else {
            continue;
        };
        if !path.is_dir() {
            continue;
        }
        if path.join(META_FILE).exists() {
            found.push((number, path));
        } else {
            skipped.push(format!(
                "skipped {}: no {META_FILE}, so the poll may be cut short (add one to replay it)",
                path.display()
            ));
        }
    }
    found.sort();
    skipped.sort();
    Ok((found.into_iter().map(|(_, p)| p).collect(), skipped))
}

/// `--from` and the files of a recording must be regular files: a FIFO
/// would block forever and a device (`/dev/zero`) never ends.
fn check_regular(path: &Path, meta: &fs::Metadata) -> Result<(), SourceError> {
    if meta.is_file() {
        return Ok(());
    }
    Err(SourceError::NotAFile {
        path: path.display().to_string(),
    })
}

fn poll_number(name: &str) -> Option<u64> {
    if name.is_empty() || !name.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    name.parse().ok()
}

/// Finds the layout's files in one poll directory and reads `meta.toml`.
fn scan_poll_dir(dir: &Path) -> Result<DirPoll, SourceError> {
    let mut poll = DirPoll {
        dir: dir.to_path_buf(),
        ..DirPoll::default()
    };
    for entry in fs::read_dir(dir).map_err(|e| missing_or_io(dir, e))? {
        let entry = entry.map_err(|e| missing_or_io(dir, e))?;
        let path = entry.path();
        let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        if name == SINGLE_POLL_TMP {
            poll.warnings.push(format!(
                "ignored {}: left by an interrupted `pfblame record`",
                path.display()
            ));
            continue;
        }
        if is_layout_file(&name) {
            let meta = fs::metadata(&path).map_err(|e| missing_or_io(&path, e))?;
            check_regular(&path, &meta)?;
        }
        match name.as_str() {
            RULES_FILE => poll.rules = Some(path),
            STATES_FILE => poll.states = Some(path),
            INFO_FILE => poll.info = Some(path),
            NAT_FILE => poll.nat = Some(path),
            CARP_FILE => poll.carp = Some(path),
            META_FILE => poll.taken_at = read_meta(&path)?,
            _ => {
                if let Some(rest) = name.strip_prefix("states-R") {
                    match rest
                        .strip_suffix(".txt")
                        .and_then(|n| n.parse::<u32>().ok())
                    {
                        Some(n) => {
                            poll.per_rule.insert(n, path);
                        }
                        None => poll.warnings.push(format!(
                            "ignored {}: not named states-R<rule number>.txt",
                            path.display()
                        )),
                    }
                }
            }
        }
    }
    if poll.rules.is_none() && poll.states.is_none() && poll.per_rule.is_empty() {
        return Err(SourceError::NoRecording {
            path: dir.display().to_string(),
        });
    }
    Ok(poll)
}

/// The files of the layout that are read as pfctl output or metadata.
fn is_layout_file(name: &str) -> bool {
    [
        RULES_FILE,
        STATES_FILE,
        INFO_FILE,
        NAT_FILE,
        CARP_FILE,
        META_FILE,
    ]
    .contains(&name)
        || (name.starts_with("states-R") && name.ends_with(".txt"))
}

/// The service table a recording keeps: `DIR/services.txt`, else the one
/// of its first numbered poll that has one.
pub fn recorded_services(from: &Path) -> Option<String> {
    let direct = from.join(SERVICES_FILE);
    if direct.is_file() {
        return crate::services::read_table(&direct);
    }
    let (numbered, _) = numbered_polls(from).ok()?;
    numbered
        .iter()
        .map(|d| d.join(SERVICES_FILE))
        .find(|p| p.is_file())
        .and_then(|p| crate::services::read_table(&p))
}

/// The `dialect` that `record` wrote into the recording's `meta.toml`: of
/// DIR itself, else of its last numbered poll. `None` for files, older
/// recordings and anything unreadable (the listings then tell).
pub fn recorded_dialect(from: &Path) -> Option<String> {
    let meta = if from.join(META_FILE).is_file() {
        from.join(META_FILE)
    } else {
        let (numbered, _) = numbered_polls(from).ok()?;
        numbered.last()?.join(META_FILE)
    };
    let text = fs::read_to_string(meta).ok()?;
    let table: toml::Table = text.parse().ok()?;
    table.get("dialect")?.as_str().map(str::to_string)
}

/// `taken_at` of `meta.toml` (RFC 3339, as a string or a TOML date-time).
fn read_meta(path: &Path) -> Result<Option<DateTime<Utc>>, SourceError> {
    let text = fs::read_to_string(path).map_err(|e| missing_or_io(path, e))?;
    let bad = |detail: String| SourceError::BadRecording {
        path: path.display().to_string(),
        detail,
    };
    let table: toml::Table = text.parse().map_err(|e| bad(format!("not TOML: {e}")))?;
    let stamp = match table.get("taken_at") {
        None => return Ok(None),
        Some(toml::Value::String(s)) => s.clone(),
        Some(toml::Value::Datetime(d)) => d.to_string(),
        Some(other) => {
            return Err(bad(format!(
                "taken_at must be an RFC 3339 date-time, found a {}",
                other.type_str()
            )));
        }
    };
    DateTime::parse_from_rfc3339(&stamp)
        .map(|t| Some(t.with_timezone(&Utc)))
        .map_err(|e| {
            bad(format!(
                "taken_at `{stamp}` is not RFC 3339 with a time zone: {e}"
            ))
        })
}

/// Modification time of a file, as the time of a poll without `meta.toml`.
fn mtime(path: &Path) -> Option<DateTime<Utc>> {
    fs::metadata(path)
        .and_then(|m| m.modified())
        .ok()
        .map(DateTime::<Utc>::from)
}

/// Reads a small file (rules, info) as text; invalid UTF-8 is replaced.
fn read_text(path: &Path, meta: &mut PollMeta) -> Result<String, SourceError> {
    let started = Instant::now();
    let bytes = fs::read(path).map_err(|e| missing_or_io(path, e))?;
    meta.runs.push(read_run(path, started, bytes.len() as u64));
    Ok(String::from_utf8_lossy(&bytes).into_owned())
}

fn read_run(path: &Path, started: Instant, bytes: u64) -> Run {
    Run {
        argv: vec!["read".into(), path.display().to_string()],
        status: None,
        stderr: String::new(),
        duration: started.elapsed(),
        bytes,
    }
}

/// Streams a state listing from a file into the sink; with `seen`, states
/// already handed on in this poll are left out (per-rule listings).
fn stream_states(
    path: &Path,
    rule: Option<u32>,
    seen: Option<&mut SeenStates>,
    sink: &mut dyn PollSink,
    meta: &mut PollMeta,
) -> Result<(), SourceError> {
    let started = Instant::now();
    let file = File::open(path).map_err(|e| missing_or_io(path, e))?;
    let mut reader = CountingReader {
        inner: BufReader::with_capacity(STATES_READ_BUFFER, file),
        bytes: 0,
    };
    let streamed = match seen {
        Some(seen) => sink.states(rule, &mut Dedup::new(&mut reader, seen)),
        None => sink.states(rule, &mut reader),
    };
    streamed.map_err(|e| SourceError::Io {
        what: path.display().to_string(),
        source: e,
    })?;
    meta.runs.push(read_run(path, started, reader.bytes));
    Ok(())
}

fn play_memory(
    poll: &RecordedPoll,
    strategy: Strategy,
    sink: &mut dyn PollSink,
    meta: &mut PollMeta,
) -> Result<(), SourceError> {
    if let Some(t) = poll.taken_at {
        meta.taken_at = t;
    }
    if poll.rules.trim().is_empty() {
        meta.warnings.push(NO_RULES_WARNING.into());
    }
    sink.rules(&poll.rules);
    // Right after the rules, as a recording on disk hands over `nat.txt`.
    if let Some(nat) = &poll.translation_rules {
        sink.translation_rules(nat);
    }
    let io_err = |e| SourceError::Io {
        what: "a recorded poll in memory".into(),
        source: e,
    };
    if strategy == Strategy::PerRule && !poll.per_rule.is_empty() {
        let mut seen = SeenStates::default();
        for (n, text) in &poll.per_rule {
            sink.states(Some(*n), &mut Dedup::new(&mut text.as_bytes(), &mut seen))
                .map_err(io_err)?;
        }
        if seen.dropped > 0 {
            meta.warnings.push(duplicates_warning(seen.dropped));
        }
    } else {
        sink.states(None, &mut poll.states.as_bytes())
            .map_err(io_err)?;
    }
    if let Some(info) = &poll.info {
        sink.info(info);
    }
    if let Some(carp) = &poll.carp {
        sink.carp(carp);
    }
    Ok(())
}

fn play_dir(
    poll: &DirPoll,
    strategy: Strategy,
    sink: &mut dyn PollSink,
    meta: &mut PollMeta,
) -> Result<(), SourceError> {
    meta.warnings.extend(poll.warnings.iter().cloned());
    let stamp_file = poll.states.as_ref().or(poll.rules.as_ref());
    if let Some(t) = poll.taken_at.or_else(|| stamp_file.and_then(|p| mtime(p))) {
        meta.taken_at = t;
    }
    let rules = match &poll.rules {
        Some(path) => read_text(path, meta)?,
        None => {
            meta.warnings.push(format!(
                "{}: no {RULES_FILE}: the rules are unknown",
                poll.dir.display()
            ));
            String::new()
        }
    };
    if poll.rules.is_some() && rules.trim().is_empty() {
        meta.warnings.push(NO_RULES_WARNING.into());
    }
    sink.rules(&rules);
    if let Some(path) = &poll.nat {
        let nat = read_text(path, meta)?;
        sink.translation_rules(&nat);
    }
    let use_per_rule =
        !poll.per_rule.is_empty() && (strategy == Strategy::PerRule || poll.states.is_none());
    if use_per_rule {
        if poll.states.is_none() {
            meta.warnings.push(format!(
                "{}: no {STATES_FILE}: played the per-rule listings (states-R<n>.txt)",
                poll.dir.display()
            ));
        }
        let mut seen = SeenStates::default();
        for (n, path) in &poll.per_rule {
            stream_states(path, Some(*n), Some(&mut seen), sink, meta)?;
        }
        if seen.dropped > 0 {
            meta.warnings.push(duplicates_warning(seen.dropped));
        }
    } else if let Some(path) = &poll.states {
        stream_states(path, None, None, sink, meta)?;
    } else {
        // Without states there is nothing to blame: not an empty table.
        return Err(SourceError::BadRecording {
            path: poll.dir.display().to_string(),
            detail: format!("no {STATES_FILE}: a recording needs the states listing (pfctl -vvss)"),
        });
    }
    if let Some(path) = &poll.info {
        let info = read_text(path, meta)?;
        sink.info(&info);
    }
    // Informative: a carp.txt that cannot be read leaves the status unknown.
    if let Some(path) = &poll.carp {
        match read_text(path, meta) {
            Ok(carp) => sink.carp(&carp),
            Err(e) => meta.warnings.push(format!("{e}: CARP status unknown")),
        }
    }
    Ok(())
}

fn load_poll_dir(poll: &DirPoll) -> Result<RecordedPoll, SourceError> {
    let read = |p: &PathBuf| -> Result<String, SourceError> {
        fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|e| missing_or_io(p, e))
    };
    let stamp_file = poll.states.as_ref().or(poll.rules.as_ref());
    Ok(RecordedPoll {
        taken_at: poll.taken_at.or_else(|| stamp_file.and_then(|p| mtime(p))),
        rules: poll
            .rules
            .as_ref()
            .map(read)
            .transpose()?
            .unwrap_or_default(),
        states: poll
            .states
            .as_ref()
            .map(read)
            .transpose()?
            .unwrap_or_default(),
        info: poll.info.as_ref().map(read).transpose()?,
        translation_rules: poll.nat.as_ref().map(read).transpose()?,
        carp: poll.carp.as_ref().and_then(|p| read(p).ok()),
        per_rule: poll
            .per_rule
            .iter()
            .map(|(n, p)| read(p).map(|t| (*n, t)))
            .collect::<Result<_, _>>()?,
    })
}

/// What a single file holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FileKind {
    /// `pfctl -sa`: sections with titles.
    All,
    States,
    Rules,
    Info,
    /// Nothing recognisable (or empty): read as states, with a warning.
    Unknown,
}

/// Looks at the start of a file to tell what pfctl output it is.
fn sniff(path: &Path) -> Result<FileKind, SourceError> {
    let file = File::open(path).map_err(|e| missing_or_io(path, e))?;
    let mut reader = BufReader::new(file);
    let mut buf = Vec::new();
    let mut first = true;
    for _ in 0..SNIFF_LINES {
        buf.clear();
        let n = reader
            .read_until(b'\n', &mut buf)
            .map_err(|e| missing_or_io(path, e))?;
        if n == 0 {
            break;
        }
        let line = String::from_utf8_lossy(&buf);
        let line = line.trim_end_matches(['\n', '\r']);
        if line.trim().is_empty() {
            continue;
        }
        if first && is_title(line) {
            return Ok(FileKind::All);
        }
        first = false;
        if line.starts_with("Status:") {
            return Ok(FileKind::Info);
        }
        if crate::parse::states::looks_like_state(line) {
            return Ok(FileKind::States);
        }
        if crate::parse::rules::looks_like_rule(line) {
            return Ok(FileKind::Rules);
        }
    }
    Ok(FileKind::Unknown)
}

fn is_title(line: &str) -> bool {
    crate::parse::section_title(line).is_some()
}

/// The rules, states and info sections of `pfctl -sa` output. Translation
/// rules are numbered apart from the filter rules that states name, so
/// only the filter rules are read as the rules (the parser's splitter,
/// `parse::split_sections`, is the one that knows the titles).
#[derive(Debug, Default, PartialEq, Eq)]
struct Sections {
    rules: String,
    states: String,
    info: Option<String>,
}

fn split_sections(text: &str) -> Sections {
    let s = crate::parse::split_sections(text);
    Sections {
        rules: s.filter_rules,
        states: s.states,
        info: s.info,
    }
}

fn play_file(path: &Path, sink: &mut dyn PollSink, meta: &mut PollMeta) -> Result<(), SourceError> {
    if let Some(t) = mtime(path) {
        meta.taken_at = t;
    }
    let shown = path.display();
    let io_err = |e| SourceError::Io {
        what: path.display().to_string(),
        source: e,
    };
    match sniff(path)? {
        FileKind::All => {
            let text = read_text(path, meta)?;
            let sections = split_sections(&text);
            if sections.rules.trim().is_empty() {
                meta.warnings.push(NO_RULES_WARNING.into());
            }
            sink.rules(&sections.rules);
            sink.states(None, &mut sections.states.as_bytes())
                .map_err(io_err)?;
            if let Some(info) = &sections.info {
                sink.info(info);
            }
        }
        FileKind::Rules => {
            let rules = read_text(path, meta)?;
            sink.rules(&rules);
            meta.warnings
                .push(format!("{shown} holds rules only: the states are unknown"));
            sink.states(None, &mut io::empty()).map_err(io_err)?;
        }
        FileKind::Info => {
            let info = read_text(path, meta)?;
            meta.warnings.push(format!(
                "{shown} holds pfctl -si output only: rules and states are unknown"
            ));
            sink.rules("");
            sink.states(None, &mut io::empty()).map_err(io_err)?;
            sink.info(&info);
        }
        FileKind::Unknown => {
            return Err(SourceError::NotPfctlOutput {
                what: shown.to_string(),
                detail: "empty, or nothing in it looks like pfctl -ss, -sr, -si or -sa output"
                    .into(),
            });
        }
        FileKind::States => {
            meta.warnings
                .push(format!("{shown} holds states only: the rules are unknown"));
            sink.rules("");
            stream_states(path, None, None, sink, meta)?;
        }
    }
    Ok(())
}

/// A whole single file as a [`RecordedPoll`].
fn load_file(path: &Path) -> Result<RecordedPoll, SourceError> {
    let bytes = fs::read(path).map_err(|e| missing_or_io(path, e))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let mut poll = RecordedPoll {
        taken_at: mtime(path),
        ..RecordedPoll::default()
    };
    match sniff(path)? {
        FileKind::All => {
            let s = split_sections(&text);
            poll.rules = s.rules;
            poll.states = s.states;
            poll.info = s.info;
        }
        FileKind::Rules => poll.rules = text,
        FileKind::Info => poll.info = Some(text),
        FileKind::States | FileKind::Unknown => poll.states = text,
    }
    Ok(poll)
}

/// Counts the bytes a sink reads, for [`Run::bytes`].
struct CountingReader<R> {
    inner: R,
    bytes: u64,
}

impl<R: BufRead> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.bytes += n as u64;
        Ok(n)
    }
}

impl<R: BufRead> BufRead for CountingReader<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        self.inner.fill_buf()
    }

    fn consume(&mut self, amt: usize) {
        self.bytes += amt as u64;
        self.inner.consume(amt);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sa_output_is_split_by_titles() {
        let text = "FILTER RULES:\npass all flags S/SA\n\nSTATES:\n\
                    all tcp 10.0.0.1:22 <- 10.0.0.2:5000       ESTABLISHED:ESTABLISHED\n\n\
                    INFO:\nStatus: Enabled for 0 days 00:01:00\n\nTIMEOUTS:\ntcp.first 120s\n";
        let s = split_sections(text);
        assert_eq!(s.rules, "pass all flags S/SA\n");
        assert!(s.states.starts_with("all tcp 10.0.0.1:22"));
        assert!(s.states.ends_with("ESTABLISHED:ESTABLISHED\n"));
        assert_eq!(
            s.info.as_deref(),
            Some("Status: Enabled for 0 days 00:01:00\n")
        );
    }

    #[test]
    fn sa_without_states_has_empty_states() {
        let s = split_sections("FILTER RULES:\n\nTIMEOUTS:\ntcp.first 120s\n");
        assert_eq!(s.rules, "");
        assert_eq!(s.states, "");
        assert_eq!(s.info, None);
    }

    #[test]
    fn poll_numbers_are_digits_only() {
        assert_eq!(poll_number("0002"), Some(2));
        assert_eq!(poll_number("2a"), None);
        assert_eq!(poll_number(""), None);
        assert_eq!(poll_number("-1"), None);
    }

    #[test]
    fn meta_taken_at_accepts_string_and_datetime() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("meta.toml");
        fs::write(
            &path,
            "taken_at = \"2024-05-01T10:00:00Z\"\nos = \"OpenBSD\"\n",
        )
        .expect("write");
        let t = read_meta(&path).expect("valid").expect("present");
        assert_eq!(t.to_rfc3339(), "2024-05-01T10:00:00+00:00");
        fs::write(&path, "taken_at = 2024-05-01T12:00:00+02:00\n").expect("write");
        let t = read_meta(&path).expect("valid").expect("present");
        assert_eq!(t.to_rfc3339(), "2024-05-01T10:00:00+00:00");
        fs::write(&path, "taken_at = 2024-05-01T12:00:00\n").expect("write");
        assert!(matches!(
            read_meta(&path),
            Err(SourceError::BadRecording { .. })
        ));
        fs::write(&path, "taken_at = [").expect("write");
        assert!(matches!(
            read_meta(&path),
            Err(SourceError::BadRecording { .. })
        ));
    }
}
