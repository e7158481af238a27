//! `pfblame record`: captures live pfctl output into DIR, in the recorded
//! layout of `shared/design.md` (`rules.txt`, `states.txt`, `info.txt`,
//! `states-R<n>.txt`, `meta.toml`; numbered `0001/`, `0002/`, … when more
//! than one poll is recorded).
//!
//! It writes only those files, only inside DIR, and never through anything
//! already there: every file and poll directory is created new
//! (`create_new` / `create_dir`), so a symlink planted in DIR is refused
//! instead of followed, and an earlier recording is never overwritten. A
//! poll that fails leaves nothing behind: its files are removed.

use std::fs::{self, File, OpenOptions};
use std::io::{self, BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::Context;
use serde::Serialize;

use crate::cli::{RecordArgs, Strategy};
use crate::exit::{Exit, Failure};
use crate::source::{
    INFO_FILE, LiveOptions, LiveSource, META_FILE, Pfctl, PollMeta, PollSink, RULES_FILE, Run,
    STATES_FILE, Source, display_argv, per_rule_file,
};

/// Runs the command.
pub fn run(args: &RecordArgs) -> anyhow::Result<Exit> {
    check_args(args)?;
    let pfctl = Pfctl::from_options(&args.source.pfctl.options())?;
    let per_rule = args.per_rule || args.source.strategy() == Strategy::PerRule;
    let mut source = LiveSource::new(
        pfctl.clone(),
        LiveOptions {
            strategy: Strategy::Auto,
            info: true,
            also_per_rule: per_rule,
        },
    );
    prepare_dir(&args.dir)?;
    let interval = args.source.interval();
    for n in 1..=args.count {
        let poll_dir = if args.count > 1 {
            let d = args.dir.join(format!("{n:04}"));
            fs::create_dir(&d).with_context(|| format!("creating {}", d.display()))?;
            d
        } else {
            args.dir.clone()
        };
        record_poll(&mut source, &pfctl, &poll_dir, args.count > 1)?;
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

fn check_args(args: &RecordArgs) -> Result<(), Failure> {
    if args.count == 0 {
        return Err(Failure::new(Exit::Usage, "--count must be at least 1"));
    }
    Ok(())
}

/// Creates DIR if missing; refuses a DIR that is not a directory or that
/// already holds a recording.
fn prepare_dir(dir: &Path) -> anyhow::Result<()> {
    match fs::symlink_metadata(dir) {
        Err(e) if e.kind() == io::ErrorKind::NotFound => {
            fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
            return Ok(());
        }
        Err(e) => return Err(e).with_context(|| format!("reading {}", dir.display())),
        Ok(_) => {}
    }
    if !dir.is_dir() {
        return Err(Failure::new(
            Exit::Usage,
            format!("{} exists and is not a directory", dir.display()),
        )
        .into());
    }
    let entries = fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))?;
    for entry in entries {
        let name = entry
            .with_context(|| format!("reading {}", dir.display()))?
            .file_name();
        let name = name.to_string_lossy();
        if is_layout_name(&name) {
            return Err(Failure::new(
                Exit::Usage,
                format!(
                    "{} already holds a recording ({name}); choose a new or empty directory",
                    dir.display()
                ),
            )
            .into());
        }
    }
    Ok(())
}

/// Names `record` writes (a poll's files, or a numbered poll directory).
fn is_layout_name(name: &str) -> bool {
    [RULES_FILE, STATES_FILE, INFO_FILE, META_FILE].contains(&name)
        || (name.starts_with("states-R") && name.ends_with(".txt"))
        || (!name.is_empty() && name.bytes().all(|b| b.is_ascii_digit()))
}

/// One poll into `dir`; on failure its files (and a numbered `dir`) go away.
fn record_poll(
    source: &mut LiveSource,
    pfctl: &Pfctl,
    dir: &Path,
    numbered: bool,
) -> anyhow::Result<()> {
    let started = Instant::now();
    let mut sink = FileSink::new(dir);
    let outcome = source
        .poll(&mut sink)
        .map_err(anyhow::Error::from)
        .and_then(|meta| sink.check().map(|()| meta))
        .and_then(|meta| {
            let text = meta_toml(&meta, pfctl, started.elapsed())?;
            sink.write_file(META_FILE, text.as_bytes())?;
            Ok(meta)
        });
    match outcome {
        Ok(meta) => {
            for w in &meta.warnings {
                eprintln!("pfblame: warning: {w}");
            }
            Ok(())
        }
        Err(e) => {
            sink.remove_created();
            if numbered {
                let _ = fs::remove_dir(dir);
            }
            Err(e)
        }
    }
}

/// Writes what a poll hands over into the layout's files.
struct FileSink {
    dir: PathBuf,
    created: Vec<PathBuf>,
    /// First error of `rules()` / `info()`, which cannot return one.
    error: Option<io::Error>,
}

impl FileSink {
    fn new(dir: &Path) -> Self {
        FileSink {
            dir: dir.to_path_buf(),
            created: Vec::new(),
            error: None,
        }
    }

    /// Creates `name` in the poll directory; never opens an existing path.
    fn create(&mut self, name: &str) -> io::Result<BufWriter<File>> {
        let path = self.dir.join(name);
        let file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| io::Error::new(e.kind(), format!("creating {}: {e}", path.display())))?;
        self.created.push(path);
        Ok(BufWriter::new(file))
    }

    fn write_file(&mut self, name: &str, bytes: &[u8]) -> io::Result<()> {
        let mut w = self.create(name)?;
        w.write_all(bytes)?;
        w.flush()
    }

    fn keep_error(&mut self, result: io::Result<()>) {
        if let Err(e) = result {
            self.error.get_or_insert(e);
        }
    }

    fn check(&mut self) -> anyhow::Result<()> {
        match self.error.take() {
            Some(e) => Err(anyhow::Error::from(e).context("writing the recording")),
            None => Ok(()),
        }
    }

    fn remove_created(&mut self) {
        for path in self.created.drain(..) {
            let _ = fs::remove_file(path);
        }
    }
}

impl PollSink for FileSink {
    fn rules(&mut self, text: &str) {
        let result = self.write_file(RULES_FILE, text.as_bytes());
        self.keep_error(result);
    }

    /// Streams the listing to its file: states are never held in memory.
    fn states(&mut self, rule: Option<u32>, input: &mut dyn BufRead) -> io::Result<()> {
        let name = rule.map_or_else(|| STATES_FILE.to_string(), per_rule_file);
        let mut w = self.create(&name)?;
        io::copy(input, &mut w)?;
        w.flush()
    }

    fn info(&mut self, text: &str) {
        let result = self.write_file(INFO_FILE, text.as_bytes());
        self.keep_error(result);
    }
}

/// `meta.toml`: when, how, and how each pfctl run went.
#[derive(Serialize)]
struct MetaFile {
    taken_at: String,
    pfctl: String,
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

fn meta_toml(meta: &PollMeta, pfctl: &Pfctl, took: Duration) -> anyhow::Result<String> {
    let file = MetaFile {
        taken_at: meta.taken_at.to_rfc3339(),
        pfctl: pfctl.command().to_string(),
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

    #[test]
    fn sink_refuses_to_write_through_a_planted_symlink() {
        let dir = tempfile::tempdir().expect("tempdir");
        let target = dir.path().join("elsewhere");
        fs::write(&target, "keep me").expect("write");
        #[cfg(unix)]
        std::os::unix::fs::symlink(&target, dir.path().join("rules.txt")).expect("symlink");
        #[cfg(not(unix))]
        fs::write(dir.path().join("rules.txt"), "x").expect("write");
        let mut sink = FileSink::new(dir.path());
        sink.rules("pass all\n");
        assert!(sink.check().is_err());
        assert_eq!(fs::read_to_string(&target).expect("read"), "keep me");
    }
}
