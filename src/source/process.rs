//! Running one pfctl command: argv without a shell, stdout streamed, stderr
//! collected, and a time budget after which the child is killed and reaped.
//!
//! Standard output is read by a pump thread that hands chunks over a
//! bounded channel, so the caller's reader can give up at the deadline even
//! when the child (or a grandchild such as the remote end of `ssh`) keeps the
//! pipe open, and memory stays bounded however many states pfctl prints.
//!
//! Each run is the leader of its own process group (`process_group(0)`), so
//! a timeout ends the whole group (`kill(-pgid, SIGKILL)`): `doas pfctl`,
//! `ssh …` or a wrapper script leave no grandchild behind, and with every
//! holder of the pipes gone the reader threads see end of file and are
//! joined (with a bound) before the run returns.

use std::io::{self, BufRead, Read};
use std::process::{Child, ChildStderr, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::Mutex;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, sync_channel};
use std::thread::{self, JoinHandle};
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
/// How long a reader thread may take to end once its process group is gone.
const READER_JOIN: Duration = Duration::from_millis(500);

/// Process groups of the runs not finished yet, so that a termination
/// signal (see `crate::signals`) or the end of the program can end them:
/// being in their own group, they do not get the terminal's Ctrl-C.
static RUNNING: Mutex<Vec<u32>> = Mutex::new(Vec::new());

fn running() -> std::sync::MutexGuard<'static, Vec<u32>> {
    RUNNING.lock().unwrap_or_else(|e| e.into_inner())
}

/// Ends every pfctl run still going (with its process group).
pub fn end_running() {
    for pgid in running().drain(..) {
        kill_group_id(pgid);
    }
}

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
    /// The pump and stderr threads, joined (with a bound) when the run ends.
    readers: Vec<JoinHandle<()>>,
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
        let mut command = Command::new(program);
        command
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        own_process_group(&mut command);
        let mut child = command.spawn().map_err(|e| spawn_error(argv, e))?;
        running().push(child.id());
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
        let (chunks, pump) = pump_stdout(stdout);
        let (stderr, collector) = collect_stderr(stderr);
        Ok(Spawned {
            argv: argv.to_vec(),
            child: Some(child),
            stdout: ChunkReader::new(chunks, timeout),
            stderr,
            readers: vec![pump, collector],
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
    pub(crate) fn consume(
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
    pub(crate) fn read_all(self) -> Result<(Vec<u8>, Run), SourceError> {
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
        let stderr = match self.stderr.recv_timeout(STDERR_GRACE) {
            Ok(text) => text,
            Err(_) => {
                // pfctl is gone but something it started still holds
                // standard error open: end its group too.
                kill_group(&child);
                String::from("(standard error was still open)")
            }
        };
        self.end_readers(&child);
        running().retain(|&id| id != child.id());
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

impl Spawned {
    /// Lets the reader threads end: the chunks still queued are dropped (so
    /// a pump blocked on a full channel wakes up), and a thread that has not
    /// ended within [`READER_JOIN`] (its pipe still open) gets its process
    /// group killed, then one more bounded wait. The threads own nothing but
    /// their pipe ends, so one that outlives this is only possible when a
    /// process left the group (`setsid`), and it ends with that process.
    fn end_readers(&mut self, child: &Child) {
        self.stdout.close();
        if !join_within(&mut self.readers, READER_JOIN) {
            kill_group(child);
            join_within(&mut self.readers, READER_JOIN);
        }
    }
}

impl Drop for Spawned {
    /// A run that is abandoned (an earlier run of the poll failed) is killed
    /// with its process group and reaped, never left behind.
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            reap(&mut child);
            self.end_readers(&child);
            running().retain(|&id| id != child.id());
        }
    }
}

/// Joins the threads that end within `bound`; true when all of them did.
fn join_within(threads: &mut Vec<JoinHandle<()>>, bound: Duration) -> bool {
    let deadline = Instant::now() + bound;
    loop {
        let (done, running): (Vec<_>, Vec<_>) =
            threads.drain(..).partition(JoinHandle::is_finished);
        for t in done {
            let _ = t.join();
        }
        *threads = running;
        if threads.is_empty() {
            return true;
        }
        if Instant::now() >= deadline {
            return false;
        }
        thread::sleep(EXIT_POLL);
    }
}

/// Kills the child's whole process group, then reaps the child; errors mean
/// they are already gone.
fn reap(child: &mut Child) {
    kill_group(child);
    let _ = child.kill();
    let _ = child.wait();
}

/// Makes the child the leader of a new process group (its pgid is its pid).
#[cfg(unix)]
fn own_process_group(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
}

#[cfg(not(unix))]
fn own_process_group(_command: &mut Command) {}

/// `kill(-pgid, SIGKILL)` for the group the child leads. Safe after the
/// child was reaped: POSIX does not reuse a pid while a process group of
/// that id exists, and once the group is empty the call fails with ESRCH.
fn kill_group(child: &Child) {
    kill_group_id(child.id());
}

#[cfg(unix)]
fn kill_group_id(pgid: u32) {
    use rustix::process::{Pid, Signal, kill_process_group};
    if let Some(pgid) = i32::try_from(pgid).ok().and_then(Pid::from_raw) {
        let _ = kill_process_group(pgid, Signal::KILL);
    }
}

#[cfg(not(unix))]
fn kill_group_id(_pgid: u32) {}

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
pub(crate) fn quote_stderr(stderr: &str) -> String {
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
        io::ErrorKind::PermissionDenied => match not_a_program(&program) {
            // EACCES from exec is about the file, not about pf: root would
            // not help, so do not say "run as root".
            Some(why) => SourceError::Unrunnable {
                detail: format!("{why}; set --pfctl to the pfctl command"),
                program,
            },
            None => SourceError::PermissionDenied {
                command: display_argv(argv),
                detail: format!("cannot execute `{program}`: {e}"),
            },
        },
        _ => SourceError::Unrunnable {
            program,
            detail: e.to_string(),
        },
    }
}

/// Why `program` (a path) cannot be run whoever runs it: a directory, or a
/// file without execute permission.
#[cfg(unix)]
fn not_a_program(program: &str) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(program).ok()?;
    if meta.is_dir() {
        return Some(format!("`{program}` is a directory, not a program"));
    }
    (meta.permissions().mode() & 0o111 == 0)
        .then(|| format!("`{program}` is not executable (no x permission)"))
}

#[cfg(not(unix))]
fn not_a_program(_program: &str) -> Option<String> {
    None
}

/// Reads the child's stdout on a thread and sends it in chunks. The thread
/// ends at end of file, on error, or when the reader is gone.
fn pump_stdout(mut stdout: ChildStdout) -> (Receiver<io::Result<Vec<u8>>>, JoinHandle<()>) {
    let (tx, rx) = sync_channel(CHUNKS_IN_FLIGHT);
    let handle = thread::spawn(move || pump(&mut stdout, &tx));
    (rx, handle)
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
fn collect_stderr(mut stderr: ChildStderr) -> (Receiver<String>, JoinHandle<()>) {
    let (tx, rx) = sync_channel(1);
    let handle = thread::spawn(move || {
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
    (rx, handle)
}

/// The consumer's view of stdout: a [`BufRead`] over the pump's chunks that
/// fails with `TimedOut` when the budget is spent waiting.
struct ChunkReader {
    /// `None` once closed: the pump's sends then fail and it ends.
    rx: Option<Receiver<io::Result<Vec<u8>>>>,
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
            rx: Some(rx),
            chunk: Vec::new(),
            pos: 0,
            eof: false,
            budget,
            timed_out: false,
            bytes: 0,
        }
    }

    /// Stops reading: the output not read yet is thrown away.
    fn close(&mut self) {
        self.rx = None;
        self.eof = true;
    }

    fn next_chunk(&mut self) -> io::Result<()> {
        let Some(rx) = &self.rx else {
            self.eof = true;
            return Ok(());
        };
        let waiting = Instant::now();
        let got = rx.recv_timeout(self.budget);
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

    /// True while `pid` is a live process (a zombie waiting for init counts as gone).
    fn alive(pid: &str) -> bool {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"));
        if let Ok(stat) = stat {
            return !stat
                .rsplit(')')
                .next()
                .unwrap_or("")
                .trim_start()
                .starts_with('Z');
        }
        Command::new("kill")
            .args(["-0", pid])
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    fn wait_for_pid(file: &std::path::Path) -> String {
        for _ in 0..200 {
            if let Ok(pid) = std::fs::read_to_string(file)
                && !pid.trim().is_empty()
            {
                return pid.trim().to_string();
            }
            thread::sleep(Duration::from_millis(10));
        }
        panic!("the grandchild never wrote its pid");
    }

    /// A wrapper (like `doas` or `ssh`) whose child outlives the timeout
    /// while holding both pipes: the whole group must go, and fast.
    #[test]
    fn timeout_ends_the_whole_process_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("grandchild.pid");
        let script = format!(
            "sh -c 'echo $$ > {}; exec sleep 60' & wait",
            pidfile.display()
        );
        let started = Instant::now();
        let sp = Spawned::start(&sh(&script), Duration::from_millis(400)).expect("sh starts");
        let err = sp.read_all().expect_err("run times out");
        let took = started.elapsed();
        assert!(matches!(err, SourceError::Timeout { .. }), "{err:?}");
        assert!(took < Duration::from_secs(3), "took {took:?}");
        let pid = wait_for_pid(&pidfile);
        let gone = (0..100).any(|_| {
            thread::sleep(Duration::from_millis(10));
            !alive(&pid)
        });
        assert!(gone, "grandchild {pid} survived the timeout");
    }

    /// pfctl exits but something it started keeps standard error open: the
    /// run still ends within the grace period and takes that process along.
    #[test]
    fn stderr_held_by_a_grandchild_is_ended_with_its_group() {
        let dir = tempfile::tempdir().expect("tempdir");
        let pidfile = dir.path().join("grandchild.pid");
        let script = format!(
            "sh -c 'echo $$ > {}; exec sleep 60' >/dev/null & echo out; exit 0",
            pidfile.display()
        );
        let started = Instant::now();
        let sp = Spawned::start(&sh(&script), Duration::from_secs(5)).expect("sh starts");
        let (out, run) = sp.read_all().expect("run succeeds");
        assert_eq!(out, b"out\n");
        assert_eq!(run.stderr, "(standard error was still open)");
        assert!(started.elapsed() < Duration::from_secs(3));
        let pid = wait_for_pid(&pidfile);
        let gone = (0..100).any(|_| {
            thread::sleep(Duration::from_millis(10));
            !alive(&pid)
        });
        assert!(gone, "grandchild {pid} still holds standard error");
    }

    #[test]
    fn join_within_gives_up_after_its_bound() {
        let (tx, rx) = std::sync::mpsc::channel::<()>();
        let mut threads = vec![thread::spawn(move || {
            let _ = rx.recv();
        })];
        assert!(!join_within(&mut threads, Duration::from_millis(50)));
        assert_eq!(threads.len(), 1);
        drop(tx);
        assert!(join_within(&mut threads, Duration::from_secs(2)));
        assert!(threads.is_empty());
    }

    #[test]
    fn a_directory_or_a_plain_file_as_pfctl_is_not_a_permission_problem() {
        let dir = tempfile::tempdir().expect("tempdir");
        let file = dir.path().join("pfctl");
        std::fs::write(&file, "#!/bin/sh\n").expect("write");
        for (program, why) in [
            (dir.path().to_path_buf(), "is a directory"),
            (file, "is not executable"),
        ] {
            let argv = [program.display().to_string()];
            let err = Spawned::start(&argv, Duration::from_secs(1))
                .err()
                .expect("spawn fails");
            assert!(matches!(err, SourceError::Unrunnable { .. }), "{err:?}");
            let text = err.to_string();
            assert!(text.contains(why) && text.contains("--pfctl"), "{text}");
            assert!(!text.contains("root"), "{text}");
        }
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
