//! The manual page `man/pfblame.1`: the parts that describe the command line
//! are generated from the clap definition ([`crate::cli::Cli`]) with
//! `clap_mangen`, so they cannot drift from it; EXIT STATUS, FILES,
//! ENVIRONMENT, EXAMPLES and SEE ALSO are written here by hand.
//!
//! `cargo run --example gen-man` writes the file; `tests/man_page.rs` fails
//! when the committed file differs from [`render`].

use std::io;

use clap::CommandFactory;
use clap_mangen::Man;

use crate::cli::Cli;

/// The date on the page's `.TH` line. A fixed value keeps the output
/// reproducible; change it when the page's content changes.
pub(crate) const DATE: &str = "2026-12-01";

/// The whole page, as roff (man(7) macros).
pub fn render() -> io::Result<String> {
    // The plain version: `--version` may carry the commit and build date,
    // which would make the page differ on every build.
    let cmd = Cli::command()
        .version(env!("CARGO_PKG_VERSION"))
        .long_version(env!("CARGO_PKG_VERSION"));
    let man = Man::new(cmd.clone())
        .title("PFBLAME")
        .date(DATE)
        .manual("General Commands Manual");
    let mut out = Vec::new();
    man.render_title(&mut out)?;
    man.render_name_section(&mut out)?;
    man.render_synopsis_section(&mut out)?;
    man.render_description_section(&mut out)?;
    out.extend_from_slice(DESCRIPTION.as_bytes());
    man.render_options_section(&mut out)?;
    man.render_subcommands_section(&mut out)?;
    render_subcommand_options(&cmd, &mut out)?;
    out.extend_from_slice(configuration_section().as_bytes());
    out.extend_from_slice(HAND_WRITTEN.as_bytes());
    man.render_version_section(&mut out)?;
    let page = String::from_utf8(out).map_err(|e| io::Error::new(io::ErrorKind::InvalidData, e))?;
    Ok(tidy(&page))
}

/// Fixes what `mandoc -Tlint` warns about in clap_mangen's output: the
/// `.br`, blank line, `.br` it puts before a list of possible values (a
/// paragraph break written three ways: one `.sp` says it), and trailing
/// blanks after a synopsis.
fn tidy(page: &str) -> String {
    let mut out = String::with_capacity(page.len());
    let lines: Vec<&str> = page.lines().map(str::trim_end).collect();
    let mut i = 0;
    while i < lines.len() {
        if lines[i] == ".br" && lines.get(i + 1) == Some(&"") && lines.get(i + 2) == Some(&".br") {
            out.push_str(".sp\n");
            i += 3;
            continue;
        }
        out.push_str(lines[i]);
        out.push('\n');
        i += 1;
    }
    out
}

/// One `.SS` per subcommand with its synopsis and options, under a
/// `COMMAND OPTIONS` section (clap_mangen renders only the top level).
fn render_subcommand_options(cmd: &clap::Command, out: &mut Vec<u8>) -> io::Result<()> {
    let mut cmd = cmd.clone();
    // Sets every subcommand's bin name to `pfblame NAME` for its synopsis.
    cmd.build();
    out.extend_from_slice(b".SH \"COMMAND OPTIONS\"\n");
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let man = Man::new(sub.clone());
        out.extend_from_slice(format!(".SS \"pfblame {}\"\n", sub.get_name()).as_bytes());
        let mut synopsis = Vec::new();
        man.render_synopsis_section(&mut synopsis)?;
        out.extend(strip_section_headings(&synopsis));
        let mut options = Vec::new();
        man.render_options_section(&mut options)?;
        out.extend(strip_section_headings(&options));
    }
    Ok(())
}

/// Drops `.SH` lines: a subcommand's synopsis and options become the body
/// of its `.SS` subsection.
fn strip_section_headings(roff: &[u8]) -> Vec<u8> {
    let text = String::from_utf8_lossy(roff);
    let mut kept = String::with_capacity(text.len());
    for line in text.lines().filter(|l| !l.starts_with(".SH")) {
        kept.push_str(line);
        kept.push('\n');
    }
    kept.into_bytes()
}

/// CONFIGURATION: the keys come from [`crate::config::KEYS`], so the page
/// lists exactly what the file accepts.
fn configuration_section() -> String {
    let keys: Vec<String> = crate::config::KEYS
        .iter()
        .map(|k| format!(".BR {} ,", k.replace('-', "\\-")))
        .collect();
    format!(
        r#".SH CONFIGURATION
A TOML file (see
.BR FILES )
gives default options.
Its keys are long option names:
{}
and
.BR profiles .
Lists may be written as one value.
A table
.BI [profiles. NAME ]
holds settings that
.B \-P
.I NAME
puts over the top-level ones.
Options on the command line win over the file; a command ignores the keys
it has no option for.
.PP
.RS
.EX
pfctl = "doas pfctl"
allow = ["19"]

[profiles.web]
server = ["2001:db8::10"]
port = [443]
.EE
.RE
.PP
.B "pfblame config \-\-print"
shows the file in use and the settings it gives.
"#,
        keys.join("\n")
    )
}

/// Follows the generated one-line description.
const DESCRIPTION: &str = r#".PP
pfblame reads the state table and the ruleset of pf, the packet filter of
OpenBSD and FreeBSD, and names the rule that created each state for a server
address.
It joins the \(lqanchor M, rule N\(rq item of every state in
.B "pfctl \-vvss"
to the rule with that number in
.BR "pfctl \-a '*' \-vvsr" ,
then says why that rule matters: a stateful rule on the path of the replies
makes them match a state and skip the rest of the ruleset, including a
.B route\-to
rule that should have routed them.
.PP
Without a command, pfblame runs
.BR watch ,
an interactive terminal view that polls pfctl.
Every command that reads pfctl output also reads recordings
.RB ( \-\-from ),
so it works on any machine.
pfctl needs root: run pfblame with doas(1), or let
.B \-\-pfctl
name a command such as \(lqdoas pfctl\(rq; with
.B \-\-ssh
.I host
that command runs on another machine.
Text that came from pfctl or a recording is printed with control characters
neutralised.
"#;

/// The sections that are not derived from the command line.
const HAND_WRITTEN: &str = r#".SH "EXIT STATUS"
.TP
.B 0
Success; no rule was found to be at fault.
.TP
.B 1
.BR report :
a rule's states misroute or drop the servers' replies (verdict
.B bypass
or
.BR blocked ;
with
.B \-\-strict
also
.B stateful
or
.BR unexplained );
.BR lint :
the same, predicted from the rules alone (over several hosts: for any
host; else the status of the first host that could not be read).
.TP
.B 2
Usage error.
.TP
.B 65
The input could not be parsed
.RB ( parse :
any error diagnostic; the output is still printed).
.TP
.B 66
No input: the
.B \-\-from
path is missing or is not a recording.
.TP
.B 69
pfctl could not be found or run, timed out, or failed.
.TP
.B 70
Internal error.
.TP
.B 73
.BR record :
the directory cannot be created, or is refused (a symbolic link, owned by
another user, writable by others).
.TP
.B 74
Input/output error (reading input, or writing a recording to a full disk).
.TP
.B 77
Permission denied; run as root or with doas(1).
.TP
.B 78
The configuration file is invalid (EX_CONFIG); the message gives file, line
and column.
.TP
.B "129, 130, 131, 143"
Ended by SIGHUP, SIGINT, SIGQUIT or SIGTERM (128 + the signal number), after
the terminal was restored.
.PP
A closed standard output (for example \(lqpfblame report | head\(rq)
is not an error.
.SH ENVIRONMENT
.TP
.B NO_COLOR
When set and not empty, no colour is used unless
.B \-\-color always
is given.
.TP
.B PFBLAME_CONFIG
Path of the configuration file, used when
.B \-\-config
is not given.
.TP
.B PFBLAME_THREADS
Threads that read the state listing of a poll (the TUI,
.BR report ,
.BR check ,
.BR monitor ,
.BR fleet ;
default: one per core, at most 4). 1 reads it on one thread; the
answers are the same either way.
.TP
.B XDG_CONFIG_HOME
Directory of the per-user configuration file (default
.IR ~/.config ).
.SH FILES
.TP
.I $XDG_CONFIG_HOME/pfblame/config.toml
Per-user configuration; read before
.IR /etc/pfblame.toml .
.TP
.I /etc/pfblame.toml
System-wide configuration, read when there is no per-user file.
Options on the command line win over the file.
.TP
.I DIR/rules.txt
A recording's rules:
.B "pfctl \-a '*' \-vvsr"
output (any
.B \-sr
verbosity).
.TP
.I DIR/states.txt
A recording's states:
.B "pfctl \-vvss"
output (any
.B \-ss
verbosity).
.TP
.I DIR/info.txt
Optional:
.B "pfctl \-vsi"
output.
.TP
.I DIR/carp.txt
Optional: the interface and
.B carp:
lines of
.BR ifconfig (8),
written by
.BR "record \-\-carp" ;
the CARP status shown in the TUI and in reports.
.TP
.I DIR/states\-R<n>.txt
Optional:
.B "pfctl \-vvss \-R n"
output (per-rule strategy).
.TP
.I DIR/tables/NAME.txt
Optional:
.B "pfctl \-t NAME \-T show"
output, read by
.BR lint .
.TP
.I DIR/meta.toml
Optional: when and how the recording was taken.
.PP
A directory of numbered subdirectories
.RI ( 0001/ ,
.IR 0002/ ,
\&...) is a sequence of polls, replayed in order.
.SH EXAMPLES
Watch the states of a web server, on the router:
.PP
.RS
.EX
$ doas pfblame \-s 2001:db8::10 \-p 443
.EE
.RE
.PP
The same from another machine, over ssh:
.PP
.RS
.EX
$ pfblame \-\-ssh fw \-\-pfctl 'doas pfctl' \-s 2001:db8::10
.EE
.RE
.PP
A one-shot report for a script; the exit status is 1 when a rule is at fault:
.PP
.RS
.EX
$ pfblame report \-s 2001:db8::10 \-p 443 \-\-format json
.EE
.RE
.PP
Predict the problem from the ruleset alone:
.PP
.RS
.EX
$ pfblame lint \-s 2001:db8::10 \-p 443
.EE
.RE
.PP
Record three polls for a bug report, and analyse them elsewhere:
.PP
.RS
.EX
$ doas pfblame record \-\-count 3 \-i 2 /tmp/pf\-capture
$ pfblame report \-\-from /tmp/pf\-capture \-s 2001:db8::10
.EE
.RE
.PP
Parse any pfctl output into JSON:
.PP
.RS
.EX
$ pfctl \-vvss | pfblame parse \-
.EE
.RE
.PP
Load the bash completions:
.PP
.RS
.EX
$ source <(pfblame completions bash)
.EE
.RE
.SH "SEE ALSO"
.BR doas (1),
.BR ssh (1),
.BR pf.conf (5),
.BR pfctl (8)
"#;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn page_has_every_subcommand_and_the_hand_written_sections() {
        let page = render().expect("renders");
        for sub in ["watch", "report", "parse", "record", "lint", "demo"] {
            assert!(page.contains(&format!(".SS \"pfblame {sub}\"")), "{sub}");
        }
        for section in ["EXIT STATUS", "ENVIRONMENT", "FILES", "EXAMPLES"] {
            assert!(
                page.contains(&format!(".SH \"{section}\""))
                    || page.contains(&format!(".SH {section}"))
            );
        }
    }

    #[test]
    fn tidy_joins_the_paragraph_break_and_trims_lines() {
        assert_eq!(tidy("a  \n.br\n\n.br\nb\n"), "a\n.sp\nb\n");
    }

    #[test]
    fn subsection_bodies_have_no_section_headings() {
        let roff = b".SH SYNOPSIS\n\\fBx\\fR\n.SH OPTIONS\n.TP\n";
        assert_eq!(strip_section_headings(roff), b"\\fBx\\fR\n.TP\n");
    }
}
