//! What `report --format openmetrics`, `report --output` and `check` share
//! for monitoring: the `host` label of a source, the timing of a poll, and
//! writing a file so that a reader (node_exporter's textfile collector)
//! never sees half of it.

use std::fs::{self, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::cli::SourceArgs;
use crate::exit::{Exit, Failure};
use crate::source::{LiveOptions, LiveSource, Pfctl, PollMeta, PollSink, Source, SourceError};

/// The `host` label of the metrics: `recorded` for `--from`, the ssh host
/// when pfctl runs through ssh, else `localhost`.
pub fn host_label(source: &SourceArgs) -> String {
    if source.from.is_some() {
        return "recorded".to_string();
    }
    let words = shlex::split(&source.pfctl).unwrap_or_default();
    ssh_host(&words).unwrap_or("localhost").to_string()
}

/// The source for monitoring: like [`crate::source::open`], and a live
/// poll also runs `pfctl -vsi`, whose `Hostid` tells states imported by
/// pfsync from states of pf's default rule (without it, a pfsync pair's
/// imported states are `unexplained`: a WARNING every poll).
pub fn open_source(args: &SourceArgs) -> Result<Box<dyn Source>, SourceError> {
    if args.from.is_some() {
        return crate::source::open(args);
    }
    Ok(Box::new(LiveSource::new(
        Pfctl::from_args(args)?,
        LiveOptions {
            strategy: args.strategy,
            info: true,
            ..LiveOptions::default()
        },
    )))
}

/// OpenSSH options that take an argument as the next word (ssh(1)).
const SSH_OPTIONS_WITH_ARGUMENT: &str = "BbcDEeFIiJLlmOoPpQRSWw";

/// The host of `ssh [options] HOST command…`: the first word after `ssh`
/// that is neither an option nor an option's argument. `None` when the
/// command does not start with ssh.
fn ssh_host(words: &[String]) -> Option<&str> {
    let (program, rest) = words.split_first()?;
    if Path::new(program).file_name()? != "ssh" {
        return None;
    }
    let mut rest = rest.iter();
    while let Some(word) = rest.next() {
        if word == "--" {
            return rest.next().map(String::as_str);
        }
        let Some(flags) = word.strip_prefix('-') else {
            return Some(word);
        };
        // `-p 2222` takes the next word; `-p2222` and `-vA` do not.
        let last = flags.chars().last();
        let attached = flags.chars().count() > 1
            && flags
                .chars()
                .next()
                .is_some_and(|c| SSH_OPTIONS_WITH_ARGUMENT.contains(c));
        if !attached && last.is_some_and(|c| SSH_OPTIONS_WITH_ARGUMENT.contains(c)) {
            rest.next();
        }
    }
    None
}

/// A source that remembers how long its last poll took (running pfctl or
/// reading the recording, and parsing: the sink parses as output arrives).
pub struct Timed<'a> {
    inner: &'a mut dyn Source,
    pub last: Option<Duration>,
}

impl<'a> Timed<'a> {
    pub fn new(inner: &'a mut dyn Source) -> Self {
        Timed { inner, last: None }
    }
}

impl Source for Timed<'_> {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn is_live(&self) -> bool {
        self.inner.is_live()
    }

    fn poll(&mut self, sink: &mut dyn PollSink) -> Result<PollMeta, SourceError> {
        let start = Instant::now();
        let result = self.inner.poll(sink);
        self.last = Some(start.elapsed());
        result
    }
}

/// Hands `render` standard output, or with `output` a buffer that is then
/// written to that file atomically ([`write_atomically`]).
pub fn emit(
    output: Option<&Path>,
    render: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> anyhow::Result<()> {
    match output {
        None => {
            let mut out = io::BufWriter::new(io::stdout().lock());
            render(&mut out)?;
            out.flush()?;
        }
        Some(path) => {
            let mut bytes = Vec::new();
            render(&mut bytes)?;
            write_atomically(path, &bytes).map_err(|e| output_failure(path, &e))?;
        }
    }
    Ok(())
}

/// Writes `bytes` to a new file beside `path` (`.NAME.tmp-PID`, which the
/// textfile collector ignores: it reads `*.prom` only), flushes it to disk
/// and renames it over `path`: a reader sees the old file or the new one,
/// never part of one. The temporary file is removed on failure.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let tmp = temporary_beside(path)?;
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn temporary_beside(path: &Path) -> io::Result<PathBuf> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(io::ErrorKind::InvalidInput, "names a directory, not a file")
    })?;
    let tmp = format!(".{}.tmp-{}", name.to_string_lossy(), std::process::id());
    Ok(path.with_file_name(tmp))
}

/// A failed `--output` with the status of its cause: 77 for permission
/// denied, 66 for a missing directory, else 70.
fn output_failure(path: &Path, e: &io::Error) -> Failure {
    let exit = match e.kind() {
        io::ErrorKind::PermissionDenied => Exit::NoPerm,
        io::ErrorKind::NotFound => Exit::NoInput,
        _ => Exit::Internal,
    };
    Failure::new(
        exit,
        format!(
            "--output {}: {e}",
            crate::sanitize::neutralize(&path.display().to_string())
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(text: &str) -> Vec<String> {
        text.split_whitespace().map(str::to_string).collect()
    }

    #[test]
    fn the_ssh_host_is_found_past_options() {
        let host = |cmd: &str| ssh_host(&words(cmd)).map(str::to_string);
        assert_eq!(host("ssh fw doas pfctl").as_deref(), Some("fw"));
        assert_eq!(
            host("/usr/bin/ssh -p 2222 -v admin@fw pfctl").as_deref(),
            Some("admin@fw")
        );
        assert_eq!(
            host("ssh -p2222 -oBatchMode=yes fw pfctl").as_deref(),
            Some("fw")
        );
        assert_eq!(host("ssh -vA -i key fw pfctl").as_deref(), Some("fw"));
        assert_eq!(host("ssh -- fw pfctl").as_deref(), Some("fw"));
        assert_eq!(host("doas pfctl"), None);
        assert_eq!(host("ssh -p"), None);
    }

    #[test]
    fn atomic_writes_replace_the_file_and_leave_no_temporary() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("pfblame.prom");
        write_atomically(&path, b"one\n").expect("first write");
        write_atomically(&path, b"two\n").expect("second write");
        assert_eq!(fs::read(&path).expect("read back"), b"two\n");
        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|e| e.map(|e| e.file_name()))
            .collect::<Result<_, _>>()
            .expect("names");
        assert_eq!(names, [std::ffi::OsString::from("pfblame.prom")]);
    }

    #[test]
    fn a_missing_directory_is_no_input() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("missing").join("pfblame.prom");
        let e = write_atomically(&path, b"x").expect_err("no such directory");
        assert_eq!(output_failure(&path, &e).exit, Exit::NoInput);
    }
}
