//! Running one pfctl command: argv without a shell, stdout streamed, stderr
//! collected, and a time budget after which the child is killed and reaped.
//!
//! Only portable std is used. Standard output is read by a pump thread that
//! hands chunks over a bounded channel, so the caller's reader can give up
//! at the deadline even when the child (or a grandchild such as the remote
//! end of `ssh`) keeps the pipe open, and memory stays bounded however many
//! states pfctl prints.

use std::io::{self, BufRead, Read};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread;
use std::time::{Duration, Instant};

use super::{Run, SourceError};

/// Bytes per chunk handed from the pump thread to the reader.
const CHUNK: usize = 64 * 1024;
/// Chunks buffered between the pump thread and the reader.
const CHUNKS_IN_FLIGHT: usize = 4;
/// Standard error kept per run; pfctl prints a few lines at most.
const STDERR_CAP: usize = 64 * 1024;
/// How long to wait for standard error to close once the child is gone.
const STDERR_GRACE: Duration = Duration::from_millis(500);
/// Poll interval while waiting for the child to exit.
const EXIT_POLL: Duration = Duration::from_millis(5);

/// Formats an argv for messages the way a shell user would type it.
pub fn display_argv(argv: &[String]) -> String {
    super::quote::join(argv)
}

/// A started pfctl run whose output has not been consumed yet.
///
/// The time budget (`timeout`) counts only the time spent waiting for the
/// child: time the caller spends handling the output (parsing a million
/// states, writing a file) is not pfctl's fault and does not count.
pub struct Spawned {
    argv: Vec<String>,
    child: Option<Child>,
    stdout: ChunkReader,
    stderr: Receiver<String>,
    started: Instant,
    timeout: Duration,
}

impl Spawned {
    /// Starts `argv` (program first) with stdin closed and both outputs piped.
    pub fn start(argv: &[String], timeout: Duration) -> Result<Self, SourceError> {
        let Some((program, args)) = argv.split_first() else {
            return Err(SourceError::InvalidOption {
                option: "--pfctl".into(),
                detail: "the command is empty".into(),
            });
        };
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| spawn_error(argv, e))?;
        let (stdout, stderr) = match (child.stdout.take(), child.stderr.take()) {
            (Some(o), Some(e)) => (o, e),
            _ => {
                reap(&mut child);
                return Err(SourceError::Io {
                    what: format!("the pipes of `{}`", display_argv(argv)),
                    source: io::Error::other("pipes were not created"),
                });
            }
        };
        Ok(Spawned {
            argv: argv.to_vec(),
            child: Some(child),
            stdout: ChunkReader::new(pump_stdout(stdout), timeout),
            stderr: collect_stderr(stderr),
            started: Instant::now(),
            timeout,
        })
    }

    /// The command line, for messages.
    pub fn command(&self) -> String {
        display_argv(&self.argv)
    }

    /// Hands standard output to `consume`, then waits for the child and
    /// judges the run. A run without output is judged before `consume` is
    /// called, so a failing pfctl never hands an empty listing to a sink.
    pub fn consume(
        mut self,
        consume: impl FnOnce(&mut dyn BufRead) -> io::Result<()>,
    ) -> Result<Run, SourceError> {
        let empty = match self.stdout.fill_buf() {
            Ok(buf) => buf.is_empty(),
            Err(e) => return self.finish(Err(e)),
        };
        if empty {
            let run = self.finish(Ok(()))?;
            consume(&mut io::empty()).map_err(|e| SourceError::Io {
                what: format!("the output of `{}`", display_argv(&run.argv)),
                source: e,
            })?;
            return Ok(run);
        }
        let result = consume(&mut self.stdout).and_then(|()| {
            // A consumer that stopped early must not leave pfctl blocked
            // on a full pipe: read the rest and throw it away.
            io::copy(&mut self.stdout, &mut io::sink()).map(|_| ())
        });
        self.finish(result)
    }

    /// Reads the whole output into memory (rules and info: small by nature).
    pub fn read_all(self) -> Result<(Vec<u8>, Run), SourceError> {
        let mut out = Vec::new();
        let run = self.consume(|r| r.read_to_end(&mut out).map(|_| ()))?;
        Ok((out, run))
    }

    /// Waits for the child within what is left of the budget, then decides
    /// what the run was.
    fn finish(mut self, consumed: io::Result<()>) -> Result<Run, SourceError> {
        let command = self.command();
        let Some(mut child) = self.child.take() else {
            return Err(SourceError::Io {
                what: format!("`{command}`"),
                source: io::Error::other("the process was already reaped"),
            });
        };
        let timed_out = self.stdout.timed_out;
        let status = if timed_out || consumed.is_err() {
            // Out of time, or the consumer failed: pfctl's answer is useless.
            reap(&mut child);
            None
        } else {
            self.wait_within_budget(&mut child)
        };
        let stderr = self
            .stderr
            .recv_timeout(STDERR_GRACE)
            .unwrap_or_else(|_| String::from("(standard error was still open)"));
        let run = Run {
            argv: self.argv.clone(),
            status: status.and_then(|s| s.code()),
            stderr,
            duration: self.started.elapsed(),
            bytes: self.stdout.bytes,
        };
        if status.is_none() && (timed_out || consumed.is_ok()) {
            return Err(SourceError::Timeout {
                command,
                secs: self.timeout.as_secs_f64(),
            });
        }
        if let Err(e) = consumed {
            return Err(SourceError::Io {
                what: format!("the output of `{command}`"),
                source: e,
            });
        }
        match status {
            Some(status) => judge(run, status),
            None => Err(SourceError::Timeout {
                command,
                secs: self.timeout.as_secs_f64(),
            }),
        }
    }

    /// Polls the child until it exits or the budget is spent (then kills it).
    fn wait_within_budget(&mut self, child: &mut Child) -> Option<ExitStatus> {
        let deadline = Instant::now() + self.stdout.budget;
        loop {
            match child.try_wait() {
                Ok(Some(status)) => return Some(status),
                Ok(None) if Instant::now() < deadline => thread::sleep(EXIT_POLL),
                Ok(None) | Err(_) => {
                    reap(child);
                    return None;
                }
            }
        }
    }
}

impl Drop for Spawned {
    /// A run that is abandoned (an earlier run of the poll failed) is killed
    /// and reaped, never left behind.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            reap(&mut child);
        }
    }
}

/// Kills and reaps a child; errors mean it is already gone.
fn reap(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// Turns a finished run into success or the error a user understands.
fn judge(run: Run, status: ExitStatus) -> Result<Run, SourceError> {
    let command = display_argv(&run.argv);
    let stderr = run.stderr.trim();
    if status.success() {
        return Ok(run);
    }
    if is_permission_problem(stderr) {
        return Err(SourceError::PermissionDenied {
            command,
            detail: first_line(stderr),
        });
    }
    match status.code() {
        // A shell in between (`ssh fw pfctl`) says "not found" with 127.
        Some(127) => Err(SourceError::NotFound {
            program: command,
            detail: quote_stderr(stderr),
        }),
        Some(code) => Err(SourceError::Failed {
            command,
            status: code,
            stderr: quote_stderr(stderr),
        }),
        None => Err(SourceError::Killed {
            command,
            stderr: describe_signal(status, stderr),
        }),
    }
}

/// `pfctl: /dev/pf: Permission denied`, or doas refusing.
fn is_permission_problem(stderr: &str) -> bool {
    stderr.contains("Permission denied") || stderr.contains("Operation not permitted")
}

fn first_line(text: &str) -> String {
    text.lines().next().unwrap_or("").trim().to_string()
}

/// Standard error for a message: at most a few lines, never empty.
pub fn quote_stderr(stderr: &str) -> String {
    const MAX_LINES: usize = 4;
    const MAX_CHARS: usize = 600;
    let stderr = stderr.trim();
    if stderr.is_empty() {
        return "(nothing on standard error)".into();
    }
    let mut lines: Vec<&str> = stderr.lines().take(MAX_LINES).collect();
    if stderr.lines().count() > MAX_LINES {
        lines.push("…");
    }
    let mut text = lines.join(" / ");
    if text.chars().count() > MAX_CHARS {
        text = text.chars().take(MAX_CHARS).collect::<String>() + "…";
    }
    // Whatever pfctl (or ssh, or a shell on the way) printed goes into
    // messages and banners: never raw.
    crate::sanitize::neutralize(&text).into_owned()
}

#[cfg(unix)]
fn describe_signal(status: ExitStatus, stderr: &str) -> String {
    use std::os::unix::process::ExitStatusExt;
    let signal = status
        .signal()
        .map_or_else(|| "a signal".to_string(), |s| format!("signal {s}"));
    if stderr.is_empty() {
        signal
    } else {
        format!("{signal}; {}", quote_stderr(stderr))
    }
}

#[cfg(not(unix))]
fn describe_signal(_status: ExitStatus, stderr: &str) -> String {
    quote_stderr(stderr)
}

/// Maps a failure to start the program to the error the user needs.
fn spawn_error(argv: &[String], e: io::Error) -> SourceError {
    let program = argv.first().cloned().unwrap_or_default();
    match e.kind() {
        io::ErrorKind::NotFound => SourceError::NotFound {
            detail: format!("no such program `{program}`; set --pfctl to the pfctl command"),
            program,
        },
        io::ErrorKind::PermissionDenied => SourceError::PermissionDenied {
            command: display_argv(argv),
            detail: format!("cannot execute `{program}`: {e}"),
        },
        _ => SourceError::Unrunnable {
            program,
            detail: e.to_string(),
        },
    }
}

/// Reads the child's stdout on a thread and sends it in chunks. The thread
/// ends at end of file, on error, or when the reader is gone.
fn pump_stdout(mut stdout: ChildStdout) -> Receiver<io::Result<Vec<u8>>> {
    let (tx, rx) = sync_channel(CHUNKS_IN_FLIGHT);
    thread::spawn(move || pump(&mut stdout, &tx));
    rx
}

fn pump(stdout: &mut ChildStdout, tx: &SyncSender<io::Result<Vec<u8>>>) {
    loop {
        let mut buf = vec![0; CHUNK];
        match stdout.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => {
                buf.truncate(n);
                if tx.send(Ok(buf)).is_err() {
                    return;
                }
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                let _ = tx.send(Err(e));
                return;
            }
        }
    }
}

/// Collects stderr (capped) on a thread; the text arrives when it closes.
fn collect_stderr(mut stderr: ChildStderr) -> Receiver<String> {
    let (tx, rx) = sync_channel(1);
    thread::spawn(move || {
        let mut kept = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match stderr.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    let room = STDERR_CAP.saturating_sub(kept.len());
                    kept.extend_from_slice(&buf[..n.min(room)]);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(_) => break,
            }
        }
        let _ = tx.send(String::from_utf8_lossy(&kept).into_owned());
    });
    rx
}

/// The consumer's view of stdout: a [`BufRead`] over the pump's chunks that
/// fails with `TimedOut` when the budget is spent waiting.
struct ChunkReader {
    rx: Receiver<io::Result<Vec<u8>>>,
    chunk: Vec<u8>,
    pos: usize,
    eof: bool,
    /// Time left for waiting on the child.
    budget: Duration,
    timed_out: bool,
    bytes: u64,
}

impl ChunkReader {
    fn new(rx: Receiver<io::Result<Vec<u8>>>, budget: Duration) -> Self {
        ChunkReader {
            rx,
            chunk: Vec::new(),
            pos: 0,
            eof: false,
            budget,
            timed_out: false,
            bytes: 0,
        }
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        let waiting = Instant::now();
        let got = self.rx.recv_timeout(self.budget);
        self.budget = self.budget.saturating_sub(waiting.elapsed());
        match got {
            Ok(Ok(chunk)) => {
                self.bytes += chunk.len() as u64;
                self.chunk = chunk;
                self.pos = 0;
                Ok(())
            }
            Ok(Err(e)) => Err(e),
            Err(RecvTimeoutError::Disconnected) => {
                self.eof = true;
                Ok(())
            }
            Err(RecvTimeoutError::Timeout) => {
                self.timed_out = true;
                Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "pfctl did not finish in time",
                ))
            }
        }
    }
}

impl Read for ChunkReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let available = self.fill_buf()?;
        let n = available.len().min(buf.len());
        buf[..n].copy_from_slice(&available[..n]);
        self.consume(n);
        Ok(n)
    }
}

impl BufRead for ChunkReader {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        while self.pos >= self.chunk.len() && !self.eof {
            if self.timed_out {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "pfctl did not finish in time",
                ));
            }
            self.next_chunk()?;
        }
        Ok(&self.chunk[self.pos.min(self.chunk.len())..])
    }

    fn consume(&mut self, amt: usize) {
        self.pos = (self.pos + amt).min(self.chunk.len());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Vec<String> {
        vec!["/bin/sh".into(), "-c".into(), script.into()]
    }

    #[test]
    fn streams_output_and_reports_success() {
        let sp =
            Spawned::start(&sh("printf 'a\\nb\\n'"), Duration::from_secs(5)).expect("sh starts");
        let (out, run) = sp.read_all().expect("run succeeds");
        assert_eq!(out, b"a\nb\n");
        assert_eq!(run.status, Some(0));
        assert_eq!(run.bytes, 4);
    }

    #[test]
    fn nonzero_exit_quotes_stderr() {
        let sp = Spawned::start(&sh("echo boom >&2; exit 3"), Duration::from_secs(5))
            .expect("sh starts");
        let err = sp.read_all().expect_err("run fails");
        match err {
            SourceError::Failed { status, stderr, .. } => {
                assert_eq!(status, 3);
                assert_eq!(stderr, "boom");
            }
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn hung_child_is_killed_within_budget() {
        let started = Instant::now();
        let sp =
            Spawned::start(&sh("exec sleep 30"), Duration::from_millis(300)).expect("sh starts");
        let err = sp.read_all().expect_err("run times out");
        assert!(matches!(err, SourceError::Timeout { .. }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn grandchild_holding_the_pipe_does_not_block_the_reader() {
        // The shell exits at once but its background sleep keeps stdout open.
        let started = Instant::now();
        let sp = Spawned::start(&sh("echo x; sleep 3 & exit 0"), Duration::from_millis(300))
            .expect("sh starts");
        let err = sp.read_all().expect_err("run times out");
        assert!(matches!(err, SourceError::Timeout { .. }), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
    }

    #[test]
    fn missing_program_is_not_found() {
        let err = Spawned::start(&["/nonexistent/pfctl".to_string()], Duration::from_secs(1))
            .err()
            .expect("spawn fails");
        assert!(matches!(err, SourceError::NotFound { .. }), "{err:?}");
        assert!(err.to_string().contains("/nonexistent/pfctl"));
    }

    #[test]
    fn permission_denied_on_stderr_is_noperm() {
        let sp = Spawned::start(
            &sh("echo 'pfctl: /dev/pf: Permission denied' >&2; exit 1"),
            Duration::from_secs(5),
        )
        .expect("sh starts");
        let err = sp.read_all().expect_err("run fails");
        assert!(
            matches!(err, SourceError::PermissionDenied { .. }),
            "{err:?}"
        );
    }

    #[test]
    fn stderr_quote_is_bounded() {
        let long = "x\n".repeat(100);
        let q = quote_stderr(&long);
        assert!(q.ends_with('…'));
        assert_eq!(quote_stderr("  "), "(nothing on standard error)");
    }
}
