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
use crate::source::{PollMeta, PollSink, Source, SourceError};

/// The `host` label of the metrics: `recorded` for `--from`, the `--ssh`
/// host, else `localhost`.
pub fn host_label(source: &SourceArgs) -> String {
    if source.from.is_some() {
        return "recorded".to_string();
    }
    // One host at a time: a second --ssh is refused when the source opens.
    match source.pfctl.ssh.first() {
        Some(host) => host.clone(),
        None => "localhost".to_string(),
    }
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

    fn want_ids(&mut self, want: bool) {
        self.inner.want_ids(want);
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
/// denied, 73 for a missing directory (the file cannot be created), else
/// 74 (a full disk).
fn output_failure(path: &Path, e: &io::Error) -> Failure {
    let exit = match e.kind() {
        io::ErrorKind::PermissionDenied => Exit::NoPerm,
        io::ErrorKind::NotFound => Exit::CantCreate,
        _ => Exit::IoErr,
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
    fn a_missing_directory_cannot_be_created() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let path = dir.path().join("missing").join("pfblame.prom");
        let e = write_atomically(&path, b"x").expect_err("no such directory");
        assert_eq!(output_failure(&path, &e).exit, Exit::CantCreate);
    }
}
