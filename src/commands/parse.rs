//! `pfblame parse [--format json|text] FILE|-`: parses any pfctl output and
//! prints the model (JSON contract in design.md) or a readable listing.
//! Exit 0 without error diagnostics, 65 with them (the output is printed all
//! the same), 66 when FILE cannot be opened.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Write};
use std::path::Path;

use anyhow::Context;

use crate::cli::{ParseArgs, ParseFormat};
use crate::exit::{Exit, Failure};
use crate::model::{Parsed, Rule, Severity, State};
use crate::parse::read_any;

/// How many error diagnostics are repeated on stderr before the summary.
const STDERR_ERRORS: usize = 10;

/// Runs the command.
pub fn run(args: &ParseArgs) -> anyhow::Result<Exit> {
    let name = args.file.display().to_string();
    let parsed = read_input(&args.file, &name)?;
    let mut out = BufWriter::new(io::stdout().lock());
    match args.format {
        ParseFormat::Json => {
            serde_json::to_writer(&mut out, &parsed).map_err(io::Error::from)?;
            writeln!(out)?;
        }
        ParseFormat::Text => write_text(&mut out, &parsed, &name)?,
    }
    out.flush()?;
    if parsed.has_errors() {
        summarise(&parsed, &name);
        return Ok(Exit::DataErr);
    }
    Ok(Exit::Ok)
}

fn read_input(path: &Path, name: &str) -> anyhow::Result<Parsed> {
    if path == Path::new("-") {
        return read_any(io::stdin().lock()).context("reading standard input");
    }
    let file = File::open(path)
        .map_err(|e| Failure::new(Exit::NoInput, format!("cannot open {name}: {e}")))?;
    read_any(BufReader::new(file))
        .map_err(|e| Failure::new(Exit::NoInput, format!("cannot read {name}: {e}")).into())
}

/// The readable listing: rules, states, info, then diagnostics.
pub fn write_text(out: &mut impl Write, p: &Parsed, name: &str) -> io::Result<()> {
    for r in &p.rules {
        writeln!(out, "{}", rule_line(r))?;
    }
    for s in &p.states {
        writeln!(out, "{}", state_line(s))?;
    }
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
        writeln!(out, "{name}:{d}")?;
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
        let _ = writeln!(err, "{name}:{d}");
    }
    let warnings = p.diagnostics.len() - errors.len();
    let _ = writeln!(
        err,
        "pfblame: {name}: {} error(s), {warnings} warning(s)",
        errors.len()
    );
}
