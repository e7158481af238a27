//! `pfblame record`: captures live pfctl output into DIR, in the recorded
//! layout of `shared/design.md` (`rules.txt`, `states.txt`, `info.txt`,
//! `states-R<n>.txt`, `meta.toml`; numbered `0001/`, `0002/`, … when more
//! than one poll is recorded).
//!
//! A recording holds the whole firewall state, so it is private and never
//! written through anything someone else controls:
//!
//! - DIR is created 0700 (only its last component: the parent must exist),
//!   or, when it exists, must be a real directory (not a symlink) owned by
//!   the user and not writable by group or others. It is opened once
//!   (`O_DIRECTORY | O_NOFOLLOW`) and every later file is created relative
//!   to that descriptor (`openat`, `O_CREAT | O_EXCL | O_NOFOLLOW`, 0600),
//!   so swapping a path component for a link afterwards changes nothing.
//! - Each poll is written into a temporary directory (`.0003.tmp`, or
//!   `.poll.tmp` for a single poll) and renamed into place once complete,
//!   `meta.toml` last. A poll cut short (Ctrl-C, a full disk) leaves only the
//!   temporary directory, which `--from` skips with a warning, never a
//!   truncated `states.txt` that would replay as real data.
//! - Failures exit with their own status (73 cannot create, 74 I/O error,
//!   77 permission) and one line saying what to do.

use std::fs::{self, File};
use std::io::{self, BufRead, BufWriter, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use rustix::fs::{AtFlags, Mode, OFlags};
use serde::Serialize;

use crate::cli::{RecordArgs, Strategy};
use crate::exit::{Exit, Failure};
use crate::pf::Dialect;
use crate::pf::dialect::{self, Detected};
use crate::source::{
    CARP_FILE, Checked, INFO_FILE, LiveOptions, LiveSource, META_FILE, NAT_FILE, Pfctl, PollMeta,
    PollSink, RULES_FILE, Run, SERVICES_FILE, SINGLE_POLL_TMP, STATES_FILE, Source, Translation,
    display_argv, per_rule_file, poll_tmp_name,
};

mod fleet;

/// Runs the command.
pub fn run(args: &RecordArgs) -> anyhow::Result<Exit> {
    check_args(args)?;
    let options = crate::source::Options {
        from: None,
        pfctl: args.source.pfctl.options(),
        strategy: args.source.strategy(),
        translation: None,
    };
    if let Some(hosts) = crate::source::fleet::hosts(&options)? {
        return fleet::run(args, &options, &hosts);
    }
    let pfctl = Pfctl::from_options(&args.source.pfctl.options())?;
    let per_rule = args.per_rule || args.source.strategy() == Strategy::PerRule;
    // Output that is not pfctl's is not recorded: the poll fails.
    let mut source = Checked::new(LiveSource::new(
        pfctl.clone(),
        LiveOptions {
            strategy: Strategy::Auto,
            info: true,
            also_per_rule: per_rule,
            translation: translation_for(args.pf),
            carp: args.source.pfctl.carp,
        },
    ));
    let root = prepare_dir(&args.dir)?;
    let services = router_services(&pfctl);
    let interval = args.source.interval();
    for n in 1..=args.count {
        let target = if args.count > 1 {
            Target::Numbered(n)
        } else {
            Target::Single
        };
        // The first poll keeps the router's service table for replays.
        let table = if n == 1 { services.as_deref() } else { None };
        record_poll(&mut source, &pfctl, args.pf, table, &root, target)?;
        if n < args.count {
            thread::sleep(interval);
        }
    }
    let polls = if args.count == 1 { "poll" } else { "polls" };
    println!(
        "recorded {} {polls} into {}",
        args.count,
        args.dir.display()
    );
    Ok(Exit::Ok)
}

/// Whether the recording reads translation rules: as `--pf` says, else
/// decided from the first rules listing.
fn translation_for(pf: Option<Dialect>) -> Translation {
    match pf {
        Some(d) if d.translation_keeps_state() => Translation::On,
        Some(_) => Translation::Off,
        None => Translation::Decide(dialect::lists_translation_rules),
    }
}

/// The router's `/etc/services` when pfctl runs on this host (see
/// `source::install_services`); with `--ssh` the recording keeps none and
/// replays use the bundled selection.
fn router_services(pfctl: &Pfctl) -> Option<String> {
    if pfctl.is_remote() {
        return None;
    }
    let text = crate::services::read_table(Path::new(crate::services::SYSTEM_TABLE))?;
    crate::services::install(&text);
    Some(text)
}

fn check_args(args: &RecordArgs) -> Result<(), Failure> {
    if args.count == 0 {
        return Err(Failure::new(Exit::Usage, "--count must be at least 1"));
    }
    Ok(())
}

/// DIR, opened: every file of the recording is created relative to `fd`.
struct Root {
    fd: OwnedFd,
    path: PathBuf,
}

impl Root {
    /// Makes `DIR/name` (0700) and opens it without following links: a
    /// poll's temporary directory, or a fleet host's directory.
    fn make_subdir(&self, name: &str) -> Result<Root, Failure> {
        let path = self.path.join(name);
        rustix::fs::mkdirat(&self.fd, name, Mode::from_raw_mode(0o700))
            .map_err(|e| create_failure(&path, &e.into()))?;
        let fd = rustix::fs::openat(
            &self.fd,
            name,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| create_failure(&path, &e.into()))?;
        Ok(Root { fd, path })
    }
}

/// Creates DIR (0700, last component only) or checks the one that exists,
/// then opens it without following links.
fn prepare_dir(dir: &Path) -> Result<Root, Failure> {
    let shown = dir.display();
    let before = match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            create_dir(dir)?;
            fs::symlink_metadata(dir).map_err(|e| create_failure(dir, &e))?
        }
        Err(e) => return Err(create_failure(dir, &e)),
        Ok(meta) => {
            check_existing_dir(dir, &meta)?;
            check_no_recording(dir)?;
            meta
        }
    };
    let fd = rustix::fs::open(
        dir,
        OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .map_err(|e| create_failure(dir, &e.into()))?;
    // The directory opened must be the one checked (no swap in between).
    let opened = rustix::fs::fstat(&fd).map_err(|e| create_failure(dir, &e.into()))?;
    if opened.st_dev as u64 != before.dev() || opened.st_ino as u64 != before.ino() {
        return Err(Failure::new(
            Exit::CantCreate,
            format!("{shown} was replaced while it was being opened; try again"),
        ));
    }
    Ok(Root {
        fd,
        path: dir.to_path_buf(),
    })
}

/// `mkdir DIR` with mode 0700: never the parents (a typo must not create a tree).
fn create_dir(dir: &Path) -> Result<(), Failure> {
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !parent.is_dir() {
        return Err(Failure::new(
            Exit::CantCreate,
            format!(
                "cannot create {}: {} does not exist; create it first (record creates only the last directory)",
                dir.display(),
                parent.display()
            ),
        ));
    }
    fs::DirBuilder::new()
        .mode(0o700)
        .create(dir)
        .map_err(|e| create_failure(dir, &e))
}

/// An existing DIR must be a directory of this user that nobody else can write.
fn check_existing_dir(dir: &Path, meta: &fs::Metadata) -> Result<(), Failure> {
    let shown = dir.display();
    let refuse = |why: String| Err(Failure::new(Exit::CantCreate, why));
    if meta.file_type().is_symlink() {
        return refuse(format!(
            "{shown} is a symbolic link; give the directory it points to (record never writes through links)"
        ));
    }
    if !meta.is_dir() {
        return Err(Failure::new(
            Exit::Usage,
            format!("{shown} exists and is not a directory"),
        ));
    }
    let me = rustix::process::geteuid().as_raw();
    if meta.uid() != me {
        return refuse(format!(
            "{shown} belongs to another user (uid {}); record into a directory of your own",
            meta.uid()
        ));
    }
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return refuse(format!(
            "{shown} is writable by group or others (mode {mode:04o}); `chmod go-w {shown}` or choose a private directory"
        ));
    }
    Ok(())
}

/// Refuses a DIR that already holds a recording (or an interrupted one).
fn check_no_recording(dir: &Path) -> Result<(), Failure> {
    let entries = fs::read_dir(dir).map_err(|e| create_failure(dir, &e))?;
    for entry in entries {
        let name = entry.map_err(|e| create_failure(dir, &e))?.file_name();
        let name = name.to_string_lossy();
        if is_layout_name(&name) {
            return Err(Failure::new(
                Exit::Usage,
                format!(
                    "{} already holds a recording ({name}); choose a new or empty directory",
                    dir.display()
                ),
            ));
        }
    }
    Ok(())
}

fn create_failure(path: &Path, e: &io::Error) -> Failure {
    let exit = Exit::for_create_error(e);
    Failure::new(
        exit,
        format!("cannot create {}: {e}{}", path.display(), advice(exit)),
    )
}

/// What to do about a failure, for the end of its line.
fn advice(exit: Exit) -> &'static str {
    match exit {
        Exit::NoPerm => "; choose a directory you can write to",
        Exit::IoErr => "; free some space or choose another directory",
        _ => "; choose another directory",
    }
}

/// Names `record` writes (a poll's files, a numbered poll directory, or
/// the temporary directory of a poll in progress).
fn is_layout_name(name: &str) -> bool {
    [
        RULES_FILE,
        STATES_FILE,
        INFO_FILE,
        META_FILE,
        SERVICES_FILE,
        NAT_FILE,
        CARP_FILE,
        SINGLE_POLL_TMP,
    ]
    .contains(&name)
        || (name.starts_with("states-R") && name.ends_with(".txt"))
        || (!name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()))
        || crate::source::is_poll_tmp_name(name)
}

/// Where one poll goes.
#[derive(Debug, Clone, Copy)]
enum Target {
    /// DIR itself (`record` without `--count`).
    Single,
    /// `DIR/0003/`.
    Numbered(u32),
}

impl Target {
    fn tmp_name(self) -> String {
        match self {
            Target::Single => SINGLE_POLL_TMP.to_string(),
            Target::Numbered(n) => poll_tmp_name(n),
        }
    }
}

/// One poll into a temporary directory, renamed into place when complete;
/// on failure the temporary directory goes away.
fn record_poll(
    source: &mut Checked<LiveSource>,
    pfctl: &Pfctl,
    forced: Option<Dialect>,
    services: Option<&str>,
    root: &Root,
    target: Target,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let tmp = target.tmp_name();
    let mut sink = FileSink::create(root, &tmp)?;
    if let Some(text) = services
        && let Err(failure) = sink.write_file(SERVICES_FILE, text.as_bytes())
    {
        sink.remove(root);
        return Err(failure.into());
    }
    let polled = source.poll(&mut sink);
    let outcome = match (sink.failure.take(), polled) {
        // A write that failed is the cause, whatever the source made of it.
        (Some(failure), _) => Err(failure.into()),
        (None, Err(e)) => Err(anyhow::Error::from(e)),
        (None, Ok(meta)) => meta_toml(&meta, pfctl, &sink.dialect(forced), started.elapsed())
            .and_then(|text| Ok(sink.write_file(META_FILE, text.as_bytes())?))
            .and_then(|()| Ok(sink.publish(root, target)?))
            .map(|()| meta),
    };
    match outcome {
        Ok(meta) => {
            for w in &meta.warnings {
                eprintln!("pfblame: warning: {w}");
            }
            Ok(())
        }
        Err(e) => {
            sink.remove(root);
            Err(e)
        }
    }
}

/// Writes what a poll hands over into the files of one temporary poll
/// directory, created relative to its descriptor.
struct FileSink {
    /// The temporary poll directory.
    dir: OwnedFd,
    tmp: String,
    /// `DIR/.0003.tmp`, for messages.
    shown: PathBuf,
    /// Files created, in order (`meta.toml` last).
    created: Vec<String>,
    /// The first write that failed: it decides the exit status.
    failure: Option<Failure>,
    /// The rules listing and the start of the states listing, to tell the
    /// dialect from (see [`FileSink::dialect`]).
    rules_text: String,
    states_head: Vec<u8>,
}

impl FileSink {
    /// Makes `DIR/tmp` (0700) and opens it without following links.
    fn create(root: &Root, tmp: &str) -> Result<Self, Failure> {
        let Root {
            fd: dir,
            path: shown,
        } = root.make_subdir(tmp)?;
        Ok(FileSink {
            dir,
            tmp: tmp.to_string(),
            shown,
            created: Vec::new(),
            failure: None,
            rules_text: String::new(),
            states_head: Vec::new(),
        })
    }

    /// Creates `name` (0600) in the poll directory; never opens an existing path.
    fn open(&mut self, name: &str) -> io::Result<BufWriter<File>> {
        let fd = rustix::fs::openat(
            &self.dir,
            name,
            OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | OFlags::NOFOLLOW | OFlags::CLOEXEC,
            Mode::from_raw_mode(0o600),
        )
        .map_err(|e| self.fail(name, e.into(), Exit::for_create_error))?;
        self.created.push(name.to_string());
        Ok(BufWriter::new(File::from(fd)))
    }

    /// Keeps the first failure (with its status and advice) and returns an
    /// error that stops the copy.
    fn fail(&mut self, name: &str, e: io::Error, exit_for: fn(&io::Error) -> Exit) -> io::Error {
        let exit = exit_for(&e);
        let text = format!(
            "cannot write {}: {e}{}",
            self.shown.join(name).display(),
            advice(exit)
        );
        let stop = io::Error::new(e.kind(), text.clone());
        self.failure.get_or_insert(Failure::new(exit, text));
        stop
    }

    fn write_file(&mut self, name: &str, bytes: &[u8]) -> Result<(), Failure> {
        let result = self
            .open(name)
            .and_then(|mut w| w.write_all(bytes).and_then(|()| w.flush()));
        self.check(name, result)
    }

    fn check(&mut self, name: &str, result: io::Result<()>) -> Result<(), Failure> {
        if let Err(e) = result {
            let stop = self.fail(name, e, Exit::for_write_error);
            // The first failure stays in the sink for `record_poll`.
            return Err(match &self.failure {
                Some(first) => Failure::new(first.exit, first.message.clone()),
                None => Failure::new(Exit::IoErr, stop.to_string()),
            });
        }
        Ok(())
    }

    /// Moves the complete poll into place: a numbered poll is one rename;
    /// a single poll's files move into DIR one by one, `meta.toml` last,
    /// then the empty temporary directory goes.
    fn publish(&mut self, root: &Root, target: Target) -> Result<(), Failure> {
        let fail = |what: &Path, e: rustix::io::Errno| create_failure(what, &e.into());
        match target {
            Target::Numbered(n) => {
                let name = format!("{n:04}");
                rustix::fs::renameat(&root.fd, &self.tmp, &root.fd, &name)
                    .map_err(|e| fail(&root.path.join(&name), e))?;
            }
            Target::Single => {
                for name in &self.created {
                    rustix::fs::renameat(&self.dir, name, &root.fd, name)
                        .map_err(|e| fail(&root.path.join(name), e))?;
                }
                rustix::fs::unlinkat(&root.fd, &self.tmp, AtFlags::REMOVEDIR)
                    .map_err(|e| fail(&self.shown, e))?;
            }
        }
        self.created.clear();
        Ok(())
    }

    /// Removes what a failed poll created, and its temporary directory.
    fn remove(&mut self, root: &Root) {
        for name in self.created.drain(..) {
            let _ = rustix::fs::unlinkat(&self.dir, name.as_str(), AtFlags::empty());
        }
        let _ = rustix::fs::unlinkat(root.fd.as_fd(), self.tmp.as_str(), AtFlags::REMOVEDIR);
    }
}

impl PollSink for FileSink {
    fn rules(&mut self, text: &str) {
        self.rules_text = text.to_string();
        let _ = self.write_file(RULES_FILE, text.as_bytes());
    }

    /// Streams the listing to its file: states are never held in memory
    /// (only the first [`STATES_HEAD`] bytes of the full listing are kept,
    /// to tell the dialect by).
    fn states(&mut self, rule: Option<u32>, input: &mut dyn BufRead) -> io::Result<()> {
        let name = rule.map_or_else(|| STATES_FILE.to_string(), per_rule_file);
        let mut w = self.open(&name)?;
        let mut head = Vec::new();
        let mut tee = Tee {
            inner: input,
            head: if rule.is_none() {
                Some(&mut head)
            } else {
                None
            },
        };
        let mut copied = io::copy(&mut tee, &mut w).map(|_| ());
        if rule.is_none() {
            self.states_head = head;
        }
        if copied.is_ok() {
            copied = w.flush();
        }
        // A read error is the source's to report; a write error is ours.
        match copied {
            Err(e) if self.failure.is_none() && !is_read_side(&e) => {
                Err(self.fail(&name, e, Exit::for_write_error))
            }
            other => other,
        }
    }

    fn info(&mut self, text: &str) {
        let _ = self.write_file(INFO_FILE, text.as_bytes());
    }

    fn translation_rules(&mut self, text: &str) {
        let _ = self.write_file(NAT_FILE, text.as_bytes());
    }

    /// Only the interface and CARP lines of `ifconfig`: not every
    /// interface's addresses and media (`crate::parse::carp::carp_lines`).
    fn carp(&mut self, text: &str) {
        let kept = crate::parse::carp::carp_lines(text);
        let _ = self.write_file(CARP_FILE, kept.as_bytes());
    }
}

/// Bytes of the states listing kept to tell the dialect by: enough for the
/// thousands of states [`dialect::detect`] looks at.
const STATES_HEAD: usize = 2 * 1024 * 1024;

/// A reader that keeps a copy of the first [`STATES_HEAD`] bytes it reads.
struct Tee<'a, 'h> {
    inner: &'a mut dyn BufRead,
    head: Option<&'h mut Vec<u8>>,
}

impl io::Read for Tee<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        if let Some(head) = self.head.as_deref_mut() {
            let room = STATES_HEAD.saturating_sub(head.len()).min(n);
            head.extend_from_slice(&buf[..room]);
        }
        Ok(n)
    }
}

impl FileSink {
    /// The dialect of this poll: `--pf`, else told from the listings (the
    /// rules and the first states), as `report` would detect it.
    fn dialect(&self, forced: Option<Dialect>) -> Detected {
        let (rules, _) = crate::parse::rules::parse_rules(&self.rules_text);
        let text = String::from_utf8_lossy(&self.states_head);
        // The last state may be cut: only whole lines are parsed.
        let whole = text.rfind('\n').map_or("", |end| &text[..=end]);
        let (states, _) = crate::parse::states::parse_states(whole);
        dialect::detect(forced, &rules, &states)
    }
}

/// Errors that come from reading pfctl's output, not from writing the file.
fn is_read_side(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::InvalidData
    )
}

/// `meta.toml`: when, how, whose pf, and how each pfctl run went.
#[derive(Serialize)]
struct MetaFile {
    taken_at: String,
    pfctl: String,
    /// The pf dialect (`--pf` spelling); `--from` uses it unless `--pf` is given.
    dialect: String,
    /// How it was chosen: `--pf`, `detected: …` or `assumed`.
    dialect_source: String,
    notes: String,
    duration_secs: f64,
    warnings: Vec<String>,
    runs: Vec<RunMeta>,
}

#[derive(Serialize)]
struct RunMeta {
    command: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    file: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    exit_status: Option<i32>,
    duration_secs: f64,
    bytes: u64,
    #[serde(skip_serializing_if = "String::is_empty")]
    stderr: String,
}

fn meta_toml(
    meta: &PollMeta,
    pfctl: &Pfctl,
    dialect: &Detected,
    took: Duration,
) -> anyhow::Result<String> {
    let file = MetaFile {
        taken_at: meta.taken_at.to_rfc3339(),
        pfctl: pfctl.command().to_string(),
        dialect: dialect.dialect.name().to_string(),
        dialect_source: dialect.describe(),
        notes: format!("recorded by pfblame {}", env!("CARGO_PKG_VERSION")),
        duration_secs: took.as_secs_f64(),
        warnings: meta.warnings.clone(),
        runs: meta.runs.iter().map(run_meta).collect(),
    };
    toml::to_string(&file).context("writing meta.toml")
}

fn run_meta(run: &Run) -> RunMeta {
    RunMeta {
        command: display_argv(&run.argv),
        file: file_for(&run.argv),
        exit_status: run.status,
        duration_secs: run.duration.as_secs_f64(),
        bytes: run.bytes,
        stderr: run.stderr.clone(),
    }
}

/// Which layout file a run's output went to, from its last arguments.
fn file_for(argv: &[String]) -> Option<String> {
    let tail: Vec<&str> = argv
        .iter()
        .rev()
        .take(3)
        .rev()
        .map(String::as_str)
        .collect();
    match tail.as_slice() {
        [.., "-vvss", "-R", n] => n.parse().ok().map(per_rule_file),
        [.., "-vvsr"] => Some(RULES_FILE.into()),
        [.., "-vvss"] => Some(STATES_FILE.into()),
        [.., "-vsi"] => Some(INFO_FILE.into()),
        [.., "-vvsn"] => Some(NAT_FILE.into()),
        [.., "ifconfig"] => Some(CARP_FILE.into()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn argv(words: &[&str]) -> Vec<String> {
        words.iter().map(|w| w.to_string()).collect()
    }

    #[test]
    fn runs_map_to_layout_files() {
        assert_eq!(
            file_for(&argv(&["doas", "pfctl", "-a", "*", "-vvsr"])).as_deref(),
            Some("rules.txt")
        );
        assert_eq!(
            file_for(&argv(&["pfctl", "-vvss"])).as_deref(),
            Some("states.txt")
        );
        assert_eq!(
            file_for(&argv(&["pfctl", "-vvss", "-R", "12"])).as_deref(),
            Some("states-R12.txt")
        );
        assert_eq!(
            file_for(&argv(&["pfctl", "-vsi"])).as_deref(),
            Some("info.txt")
        );
        assert_eq!(file_for(&argv(&["pfctl", "-k", "x"])), None);
    }

    #[test]
    fn layout_names_are_recognised() {
        for name in [
            "rules.txt",
            "states.txt",
            "states-R3.txt",
            "0001",
            "meta.toml",
        ] {
            assert!(is_layout_name(name), "{name}");
        }
        for name in ["README.md", "notes.txt", "0001a", ""] {
            assert!(!is_layout_name(name), "{name}");
        }
    }

    fn root(path: &Path) -> Root {
        prepare_dir(path).expect("a private directory")
    }

    #[test]
    fn sink_refuses_to_write_through_a_planted_symlink() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("elsewhere");
        fs::write(&target, "keep me").expect("write");
        let root = root(dir.path());
        let mut sink = FileSink::create(&root, ".0001.tmp").expect("tmp dir");
        std::os::unix::fs::symlink(&target, dir.path().join(".0001.tmp/rules.txt"))
            .expect("symlink");
        sink.rules("pass all\n");
        assert!(sink.failure.is_some());
        assert_eq!(fs::read_to_string(&target).expect("read"), "keep me");
    }

    #[test]
    fn a_full_disk_is_an_io_error_said_once() {
        let dir = tempfile::tempdir().expect("tempdir");
        let root = root(dir.path());
        let mut sink = FileSink::create(&root, ".poll.tmp").expect("tmp dir");
        let full = io::Error::from(io::ErrorKind::StorageFull);
        let shown = full.to_string();
        let err = sink
            .check("states.txt", Err(full))
            .expect_err("a failed write fails");
        assert_eq!(err.exit, Exit::IoErr);
        assert_eq!(err.message.matches(&shown).count(), 1, "{}", err.message);
        assert!(err.message.contains("free some space"), "{}", err.message);
    }
}
