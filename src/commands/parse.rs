//! `pfblame parse [--format json|text|pfctl] FILE|-`: parses any pfctl output and
//! prints the model (JSON contract in design.md), a readable listing, or
//! the rules and states printed back as pfctl printed them.
//! Exit 0 without error diagnostics, 65 with them (the output is printed all
//! the same), 66 when FILE cannot be opened.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::os::fd::AsFd;
use std::path::Path;

use anyhow::Context;

use crate::cli::{ParseArgs, ParseFormat};
use crate::exit::{Exit, Failure};
use crate::model::{Parsed, Rule, Severity, State};
use crate::parse::read_any_with;
use crate::print::listing::{write_rules as write_pfctl_rules, write_state_as_printed};
// Labels, anchor and interface names are pfctl text: never print them raw.
use crate::sanitize::neutralize;
use crate::state_json::StateWriter;

/// How many error diagnostics are repeated on stderr before the summary.
const STDERR_ERRORS: usize = 10;

/// Bytes written to stdout at a time: about a hundred states of JSON.
const OUT_BUFFER: usize = 64 * 1024;

/// Standard output without its line buffering. `StdoutLock` is a
/// `LineWriter`, which scans every byte written for a newline (`memrchr`:
/// ~540 instructions per state of JSON); a `File` on a duplicate of the
/// descriptor takes the `BufWriter`'s blocks as they are. When the
/// descriptor cannot be duplicated (stdout closed), the lock is used as
/// before: it then accepts and drops what is written.
fn raw_stdout() -> Box<dyn Write> {
    let stdout = io::stdout();
    match stdout.as_fd().try_clone_to_owned() {
        Ok(fd) => Box::new(File::from(fd)),
        Err(_) => Box::new(stdout.lock()),
    }
}

/// Runs the command. States are written as they are parsed (`read_any_with`)
/// so memory does not grow with the table: only rules, info and
/// diagnostics are kept until the end.
pub fn run(args: &ParseArgs) -> anyhow::Result<Exit> {
    let name = args.file.display().to_string();
    let mut out = BufWriter::with_capacity(OUT_BUFFER, raw_stdout());
    let parsed = match args.format {
        ParseFormat::Json => {
            // States are written terminal-safe by `write_state`, the tail
            // through `json_safe` (see `JsonStream`).
            let mut json = JsonStream::new(&mut out);
            let rest = read_input(&args.file, &name, |s| json.state(s))?;
            json.finish(&rest)?;
            rest
        }
        ParseFormat::Text => {
            let mut text = TextStream {
                out: &mut out,
                error: None,
            };
            let rest = read_input(&args.file, &name, |s| text.state(s))?;
            text.finish(&rest, &name)?;
            rest
        }
        ParseFormat::Pfctl => {
            let mut pf = PfctlStream {
                out: &mut out,
                error: None,
            };
            let rest = read_input(&args.file, &name, |s| pf.state(s))?;
            pf.finish(&rest)?;
            rest
        }
    };
    out.flush()?;
    if parsed.has_errors() {
        summarise(&parsed, &name);
        return Ok(Exit::DataErr);
    }
    Ok(Exit::Ok)
}

/// Parses FILE or stdin (`-`), handing each state to `on_state`; returns the
/// rest of the model (no states).
fn read_input(path: &Path, name: &str, on_state: impl FnMut(&State)) -> anyhow::Result<Parsed> {
    if path == Path::new("-") {
        return read_any_with(io::stdin().lock(), on_state).context("reading standard input");
    }
    // A FIFO or a device (`/dev/zero`) would block or never end: streams
    // come through `-`, where the line-length cap bounds memory.
    let regular = std::fs::metadata(path).map(|m| m.is_file());
    if let Ok(false) = regular {
        return Err(Failure::new(
            Exit::NoInput,
            format!(
                "{name}: not a regular file; to parse a stream, pipe it into `pfblame parse -`"
            ),
        )
        .into());
    }
    let file = File::open(path)
        .map_err(|e| Failure::new(Exit::NoInput, format!("cannot open {name}: {e}")))?;
    read_any_with(BufReader::new(file), on_state)
        .map_err(|e| Failure::new(Exit::NoInput, format!("cannot read {name}: {e}")).into())
}

/// What `serde_json::to_writer(&Parsed)` writes before the first state.
const JSON_HEAD: &[u8] = b"{\"states\":[";

/// Writes the JSON of a [`Parsed`] with its states streamed: byte for byte
/// what `serde_json::to_writer` of the whole model writes through
/// [`crate::sanitize::JsonSafe`] (terminal-safe), followed by a newline.
/// Each state is written by a [`StateWriter`], which escapes as both do,
/// straight into a block of [`OUT_BUFFER`] bytes that goes to `out` when
/// full (no copy per state into a `BufWriter`). The parser's callback
/// cannot fail, so the first write error is kept (and later writes
/// skipped) until [`Self::finish`] reports it.
struct JsonStream<W: Write> {
    out: W,
    states: usize,
    error: Option<io::Error>,
    /// The states' JSON not written yet.
    buf: Vec<u8>,
    writer: StateWriter,
}

impl<W: Write> JsonStream<W> {
    fn new(out: W) -> Self {
        JsonStream {
            out,
            states: 0,
            error: None,
            // Room for the last state that crosses the block's end.
            buf: Vec::with_capacity(OUT_BUFFER + 4096),
            writer: StateWriter::default(),
        }
    }

    fn state(&mut self, s: &State) {
        if self.error.is_some() {
            return;
        }
        // The head waits for the first state: an unreadable input (a
        // directory) then prints nothing, as before streaming.
        let sep: &[u8] = if self.states == 0 { JSON_HEAD } else { b"," };
        // What serde_json writes, by hand (`state_json`): no `fmt` per field.
        self.buf.extend_from_slice(sep);
        self.writer.write(&mut self.buf, s);
        self.states += 1;
        if self.buf.len() >= OUT_BUFFER {
            self.write_block();
        }
    }

    /// Hands the block to `out`, keeping the first error.
    fn write_block(&mut self) {
        if let Err(e) = self.out.write_all(&self.buf) {
            self.error = Some(e);
        }
        self.buf.clear();
    }

    /// Writes the rest of the object. `rest.states` is empty, so serde
    /// writes `{"states":[],"rules":…}`: everything after the head is
    /// exactly the tail that follows the states, whatever fields `Parsed`
    /// has.
    fn finish(mut self, rest: &Parsed) -> io::Result<()> {
        if self.error.is_none() {
            self.write_block();
        }
        if let Some(e) = self.error {
            return Err(e);
        }
        let whole = serde_json::to_vec(rest)?;
        let tail = whole
            .strip_prefix(JSON_HEAD)
            .ok_or_else(|| io::Error::other("Parsed no longer starts with its states"))?;
        if self.states == 0 {
            self.out.write_all(JSON_HEAD)?;
        }
        let tail = String::from_utf8_lossy(tail);
        self.out
            .write_all(crate::sanitize::json_safe(&tail).as_bytes())?;
        writeln!(self.out)
    }
}

/// Writes the text listing with its states streamed: each state line as it
/// is parsed, then (once the input is read, since rules may come anywhere
/// in it) the rules, info and diagnostics. The first write error is kept
/// until [`Self::finish`] reports it, as in [`JsonStream`].
struct TextStream<W: Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: Write> TextStream<W> {
    fn state(&mut self, s: &State) {
        if self.error.is_none()
            && let Err(e) = writeln!(self.out, "{}", neutralize(&state_line(s)))
        {
            self.error = Some(e);
        }
    }

    fn finish(mut self, rest: &Parsed, name: &str) -> io::Result<()> {
        if let Some(e) = self.error {
            return Err(e);
        }
        write_rules(&mut self.out, rest)?;
        write_tail(&mut self.out, rest, name)
    }
}

/// Writes states and rules the way their pfctl printed them
/// ([`crate::print::listing`]), states as they are parsed, rules at the
/// end; nothing else (diagnostics go to stderr). Neutralised like every
/// other output of pfctl text.
struct PfctlStream<W: Write> {
    out: W,
    error: Option<io::Error>,
}

impl<W: Write> PfctlStream<W> {
    fn state(&mut self, s: &State) {
        if self.error.is_some() {
            return;
        }
        let mut text = String::new();
        // Writing into a String cannot fail.
        let _ = write_state_as_printed(&mut text, s);
        if let Err(e) = write_neutralised_lines(&mut self.out, &text) {
            self.error = Some(e);
        }
    }

    fn finish(mut self, rest: &Parsed) -> io::Result<()> {
        if let Some(e) = self.error {
            return Err(e);
        }
        let mut text = String::new();
        let _ = write_pfctl_rules(&mut text, &rest.rules);
        write_neutralised_lines(&mut self.out, &text)
    }
}

/// Each line neutralised on its own (the line breaks are the printer's).
fn write_neutralised_lines(out: &mut impl Write, text: &str) -> io::Result<()> {
    for line in text.lines() {
        writeln!(out, "{}", neutralize(line))?;
    }
    Ok(())
}

/// The readable listing: states, rules, info, then diagnostics (states
/// first, so that a streamed listing needs no storage for them).
pub fn write_text(out: &mut impl Write, p: &Parsed, name: &str) -> io::Result<()> {
    for s in &p.states {
        writeln!(out, "{}", neutralize(&state_line(s)))?;
    }
    write_rules(out, p)?;
    write_tail(out, p, name)
}

fn write_rules(out: &mut impl Write, p: &Parsed) -> io::Result<()> {
    for r in &p.rules {
        writeln!(out, "{}", neutralize(&rule_line(r)))?;
    }
    Ok(())
}

/// Info and diagnostics, after the states.
fn write_tail(out: &mut impl Write, p: &Parsed, name: &str) -> io::Result<()> {
    if let Some(info) = &p.info {
        let status = match info.enabled {
            Some(true) => "enabled",
            Some(false) => "disabled",
            None => "status unknown",
        };
        let states = info
            .current_states
            .map_or_else(|| "?".to_owned(), |n| n.to_string());
        writeln!(out, "info: pf {status}, {states} states")?;
    }
    for d in &p.diagnostics {
        writeln!(out, "{}", neutralize(&format!("{name}:{d}")))?;
    }
    Ok(())
}

/// `@N anchor: text [states S]`.
fn rule_line(r: &Rule) -> String {
    let number = r
        .number
        .map_or_else(|| "@-".to_owned(), |n| format!("@{n}"));
    let anchor = if r.anchor_path.is_empty() {
        "main"
    } else {
        &r.anchor_path
    };
    let mut s = format!("{number} {anchor}: {}", r.text);
    if let Some(c) = &r.counters {
        s.push_str(&format!(" [states {}]", c.states));
    }
    s
}

/// `iface proto src -> dst SRC:DST [anchor M, rule N]`.
fn state_line(s: &State) -> String {
    let mut line = format!("{} {} {}", s.iface, s.proto, s.src);
    if let Some(n) = &s.src_nat {
        line.push_str(&format!(" ({n})"));
    }
    line.push_str(&format!(" -> {}", s.dst));
    if let Some(n) = &s.dst_nat {
        line.push_str(&format!(" ({n})"));
    }
    line.push_str(&format!(" {}:{}", s.src_state, s.dst_state));
    if s.verbose {
        line.push_str(&format!(" [{}]", s.rule_key()));
    }
    line
}

fn summarise(p: &Parsed, name: &str) {
    let mut err = io::stderr().lock();
    let errors: Vec<_> = p
        .diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .collect();
    for d in errors.iter().take(STDERR_ERRORS) {
        let _ = writeln!(err, "{}", neutralize(&format!("{name}:{d}")));
    }
    let warnings = p.diagnostics.len() - errors.len();
    let _ = writeln!(
        err,
        "pfblame: {name}: {} error(s), {warnings} warning(s)",
        errors.len()
    );
}
