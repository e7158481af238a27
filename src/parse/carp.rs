//! `ifconfig` output: the CARP status of each interface (issue #17).
//!
//! pfctl prints no CARP state (`print_status()` in pfctl_parser.c gives the
//! status, Hostid, Checksum, interface statistics and counters only), so it
//! comes from ifconfig, whose `carp:` line is printed under the interface
//! it belongs to:
//!
//! - OpenBSD (`carp_status()` in sbin/ifconfig/ifconfig.c, 1.472):
//!   `\tcarp: MASTER carpdev em0 vhid 1 advbase 1 advskew 0`, with
//!   ` carppeer ADDR` when unicast; with several vhids (carpnodes), a
//!   `\tcarp: carpdev em0 advbase 1 balancing ip` line and then one
//!   `\t\tstate MASTER vhid 1 advskew 0` line per vhid.
//! - FreeBSD (`carp_status()` in sbin/ifconfig/carp.c):
//!   `\tcarp: MASTER vhid 1 advbase 1 advskew 0`, one line per vhid of the
//!   parent interface, each followed by `\t      peer ADDR peer6 ADDR`;
//!   ` key "…"` is added only with `ifconfig -k`, which pfblame never runs
//!   (and a key is never kept).
//!
//! Interface lines (`carp0: flags=…`) start in the first column; every
//! other line is indented. Lines that are neither an interface's nor CARP's
//! are skipped quietly (ifconfig prints much else). A CARP line that does
//! not read as above is a warning with line and column, never an error:
//! CARP status is informative, and its lack must not fail a poll.

use crate::model::carp::{Carp, CarpState, CarpVhid};
use crate::model::{Diagnostic, Severity};

/// Parses `ifconfig` output. `None` (with a warning) when it holds no
/// interface line at all: not ifconfig output, so the status is unknown.
pub fn parse_carp(text: &str) -> (Option<Carp>, Vec<Diagnostic>) {
    let mut p = CarpParser::default();
    for (i, line) in text.lines().enumerate() {
        p.push(i + 1, line);
    }
    p.finish()
}

/// The lines of `ifconfig` output that [`parse_carp`] reads: interface
/// lines and CARP lines. `record` keeps only these (`carp.txt`), not the
/// addresses and media of every interface; parsing them gives the same
/// status as parsing the whole output.
pub fn carp_lines(text: &str) -> String {
    let mut out = String::new();
    let mut in_carp_block = false;
    for line in text.lines() {
        let body = line.trim_start();
        let keep = if !line.starts_with(char::is_whitespace) {
            in_carp_block = false;
            !line.trim().is_empty()
        } else if body.starts_with("carp:") {
            in_carp_block = true;
            true
        } else {
            in_carp_block && body.starts_with("state ")
        };
        if keep {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[derive(Default)]
struct CarpParser {
    vhids: Vec<CarpVhid>,
    diags: Vec<Diagnostic>,
    /// The interface whose lines follow.
    iface: Option<String>,
    /// OpenBSD's several-vhid form: the `carp: carpdev …` line's carpdev and
    /// advbase, for the `state …` lines under it.
    block: Option<(Option<String>, Option<u32>)>,
    interfaces: usize,
    first: Option<(usize, String)>,
}

/// One word of a line and the byte offset where it starts.
struct Words<'a> {
    line: &'a str,
    rest: std::iter::Peekable<std::vec::IntoIter<(usize, &'a str)>>,
}

impl<'a> Words<'a> {
    fn new(line: &'a str, from: usize) -> Self {
        let mut words = Vec::new();
        let mut start = None;
        for (i, c) in line.char_indices().skip_while(|(i, _)| *i < from) {
            match (c.is_whitespace(), start) {
                (true, Some(s)) => {
                    words.push((s, &line[s..i]));
                    start = None;
                }
                (false, None) => start = Some(i),
                _ => {}
            }
        }
        if let Some(s) = start {
            words.push((s, &line[s..]));
        }
        Words {
            line,
            rest: words.into_iter().peekable(),
        }
    }

    fn next(&mut self) -> Option<(usize, &'a str)> {
        self.rest.next()
    }

    /// The column (1-based, in characters) of byte offset `at`.
    fn column(&self, at: usize) -> usize {
        self.line.get(..at).map_or(1, |s| s.chars().count() + 1)
    }

    /// The column just past the line, for "expected more".
    fn end_column(&self) -> usize {
        self.line.chars().count() + 1
    }
}

/// The value of a `key NAME` pair, where it was, or why not.
enum Value<'a> {
    Word(usize, &'a str),
    Missing,
}

fn state_of(word: &str) -> Option<CarpState> {
    match word {
        "INIT" => Some(CarpState::Init),
        "BACKUP" => Some(CarpState::Backup),
        "MASTER" => Some(CarpState::Master),
        "<UNKNOWN>" => Some(CarpState::Unknown),
        _ => None,
    }
}

/// The line as a diagnostic shows it: a CARP key (`key "…"`, only with
/// `ifconfig -k`) is never repeated.
fn shown(line: &str) -> String {
    match line.find(" key \"") {
        Some(at) => format!("{} key \"…\"", &line[..at]),
        None => line.to_string(),
    }
}

/// The fields of one CARP line or `state` line.
#[derive(Default)]
struct Fields {
    state: Option<CarpState>,
    carpdev: Option<String>,
    vhid: Option<u32>,
    advbase: Option<u32>,
    advskew: Option<u32>,
}

impl CarpParser {
    fn push(&mut self, line_no: usize, line: &str) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            return;
        }
        if self.first.is_none() {
            self.first = Some((line_no, line.to_string()));
        }
        if !line.starts_with(char::is_whitespace) {
            self.interface_line(line_no, line);
            return;
        }
        let body = line.trim_start();
        let indent = line.len() - body.len();
        if body.starts_with("carp:") {
            self.block = None;
            self.carp_line(line_no, line, indent + "carp:".len());
        } else if body.starts_with("state ") && self.block.is_some() {
            self.state_line(line_no, line, indent);
        }
    }

    /// `carp0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500`.
    fn interface_line(&mut self, line_no: usize, line: &str) {
        self.block = None;
        let name = line.split_once(": ").map(|(n, _)| n);
        let rest = line.split_once(": ").map_or("", |(_, r)| r);
        match name {
            Some(n)
                if !n.is_empty()
                    && n.bytes().all(|b| b.is_ascii_graphic())
                    && rest.starts_with("flags=") =>
            {
                self.iface = Some(n.to_string());
                self.interfaces += 1;
            }
            _ => {
                self.iface = None;
                self.warn(
                    line_no,
                    1,
                    "expected an interface line (`NAME: flags=…`)",
                    line,
                );
            }
        }
    }

    fn carp_line(&mut self, line_no: usize, line: &str, from: usize) {
        let mut words = Words::new(line, from);
        let Some((at, first)) = words.rest.peek().copied() else {
            self.warn(
                line_no,
                words.end_column(),
                "expected a CARP state (INIT, BACKUP, MASTER) or `carpdev`",
                line,
            );
            return;
        };
        if let Some(state) = state_of(first) {
            words.next();
            let mut f = Fields {
                state: Some(state),
                ..Fields::default()
            };
            if self.read_pairs(line_no, &mut words, &mut f) {
                self.add(line_no, line, f);
            }
        } else if first == "carpdev" {
            let mut f = Fields::default();
            if self.read_pairs(line_no, &mut words, &mut f) {
                self.block = Some((f.carpdev, f.advbase));
            }
        } else {
            self.warn(
                line_no,
                words.column(at),
                "expected a CARP state (INIT, BACKUP, MASTER) or `carpdev`",
                line,
            );
        }
    }

    /// `\t\tstate MASTER vhid 1 advskew 0`, under `carp: carpdev …`.
    fn state_line(&mut self, line_no: usize, line: &str, from: usize) {
        let mut words = Words::new(line, from);
        words.next(); // `state`
        let Some((at, word)) = words.next() else {
            return;
        };
        let Some(state) = state_of(word) else {
            self.warn(
                line_no,
                words.column(at),
                "expected a CARP state (INIT, BACKUP, MASTER)",
                line,
            );
            return;
        };
        let (carpdev, advbase) = self.block.clone().unwrap_or_default();
        let mut f = Fields {
            state: Some(state),
            carpdev,
            advbase,
            ..Fields::default()
        };
        if self.read_pairs(line_no, &mut words, &mut f) {
            self.add(line_no, line, f);
        }
    }

    /// Reads `NAME VALUE` pairs to the end of the line. False (with a
    /// warning at the word) when one does not read.
    fn read_pairs(&mut self, line_no: usize, words: &mut Words<'_>, f: &mut Fields) -> bool {
        while let Some((at, name)) = words.next() {
            let value = match words.next() {
                Some((v_at, v)) => Value::Word(v_at, v),
                None => Value::Missing,
            };
            let Value::Word(v_at, v) = value else {
                self.warn(
                    line_no,
                    words.end_column(),
                    &format!("expected a value after `{name}`"),
                    words.line,
                );
                return false;
            };
            let number = |slot: &mut Option<u32>| -> bool {
                match v.parse::<u32>() {
                    Ok(n) => {
                        *slot = Some(n);
                        true
                    }
                    Err(_) => false,
                }
            };
            let ok = match name {
                "vhid" => number(&mut f.vhid),
                "advbase" => number(&mut f.advbase),
                "advskew" => number(&mut f.advskew),
                "carpdev" => {
                    f.carpdev = (v != "none").then(|| v.to_string());
                    true
                }
                // Known, and not needed.
                "carppeer" | "balancing" => true,
                // `ifconfig -k` only; the key is never kept. It is quoted
                // and may hold spaces: it ends the line.
                "key" => return true,
                _ => {
                    self.warn(
                        line_no,
                        words.column(at),
                        &format!("unknown CARP field `{name}`"),
                        words.line,
                    );
                    return false;
                }
            };
            if !ok {
                self.warn(
                    line_no,
                    words.column(v_at),
                    &format!("expected a number after `{name}`"),
                    words.line,
                );
                return false;
            }
        }
        true
    }

    fn add(&mut self, line_no: usize, line: &str, f: Fields) {
        let (Some(iface), Some(vhid), Some(state)) = (self.iface.clone(), f.vhid, f.state) else {
            let what = if self.iface.is_none() {
                "a CARP line outside any interface"
            } else {
                "a CARP line without `vhid`"
            };
            self.warn(line_no, 1, what, line);
            return;
        };
        self.vhids.push(CarpVhid {
            iface,
            vhid,
            state,
            carpdev: f.carpdev,
            advbase: f.advbase,
            advskew: f.advskew,
        });
    }

    fn warn(&mut self, line: usize, column: usize, message: &str, text: &str) {
        self.diags.push(Diagnostic {
            line,
            column,
            severity: Severity::Warning,
            message: message.to_string(),
            text: shown(text),
        });
    }

    fn finish(mut self) -> (Option<Carp>, Vec<Diagnostic>) {
        if self.interfaces == 0 {
            let (line, text) = self.first.take().unwrap_or((1, String::new()));
            self.warn(
                line,
                1,
                "not ifconfig output (no interface line): CARP status unknown",
                &text,
            );
            return (None, self.diags);
        }
        (Some(Carp { vhids: self.vhids }), self.diags)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const OPENBSD: &str = "\
lo0: flags=2008049<UP,LOOPBACK,RUNNING,MULTICAST,LRO> mtu 32768
\tindex 5 priority 0 llprio 3
\tinet 127.0.0.1 netmask 0xff000000
em0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500
\tlladdr 52:54:00:12:34:56
carp0: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500
\tlladdr 00:00:5e:00:01:01
\tindex 7 priority 15 llprio 3
\tcarp: MASTER carpdev em0 vhid 1 advbase 1 advskew 0
\tgroups: carp
\tstatus: master
\tinet 192.0.2.1 netmask 0xffffff00 broadcast 192.0.2.255
carp1: flags=8843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST> mtu 1500
\tcarp: carpdev em1 advbase 1 balancing ip carppeer 192.0.2.9
\t\tstate BACKUP vhid 2 advskew 100
\t\tstate MASTER vhid 3 advskew 0
";

    const FREEBSD: &str = "\
em0: flags=1008843<UP,BROADCAST,RUNNING,SIMPLEX,MULTICAST,LOWER_UP> metric 0 mtu 1500
\toptions=4e524bb<RXCSUM,TXCSUM,VLAN_MTU>
\tinet 192.0.2.2 netmask 0xffffff00 broadcast 192.0.2.255 vhid 1
\tcarp: BACKUP vhid 1 advbase 1 advskew 100
\t      peer 224.0.0.18 peer6 ff02::12
\tmedia: Ethernet autoselect (1000baseT <full-duplex>)
lo0: flags=1008049<UP,LOOPBACK,RUNNING,MULTICAST,LOWER_UP> metric 0 mtu 16384
";

    #[test]
    fn openbsd_single_and_balanced_vhids() {
        let (carp, diags) = parse_carp(OPENBSD);
        assert!(diags.is_empty(), "{diags:?}");
        let carp = carp.unwrap();
        let seen: Vec<(&str, u32, CarpState)> = carp
            .vhids
            .iter()
            .map(|v| (v.iface.as_str(), v.vhid, v.state))
            .collect();
        assert_eq!(
            seen,
            [
                ("carp0", 1, CarpState::Master),
                ("carp1", 2, CarpState::Backup),
                ("carp1", 3, CarpState::Master)
            ]
        );
        assert_eq!(carp.vhids[0].carpdev.as_deref(), Some("em0"));
        assert_eq!(carp.vhids[1].carpdev.as_deref(), Some("em1"));
        assert_eq!(carp.vhids[1].advskew, Some(100));
        assert_eq!(carp.vhids[2].advbase, Some(1));
    }

    #[test]
    fn freebsd_carp_lines_belong_to_the_parent_interface() {
        let (carp, diags) = parse_carp(FREEBSD);
        assert!(diags.is_empty(), "{diags:?}");
        let carp = carp.unwrap();
        assert_eq!(carp.vhids.len(), 1);
        assert_eq!(carp.vhids[0].iface, "em0");
        assert_eq!(carp.vhids[0].state, CarpState::Backup);
        assert_eq!(carp.vhids[0].carpdev, None);
        assert_eq!(carp.summary(), "BACKUP (em0 vhid 1)");
    }

    #[test]
    fn the_kept_lines_parse_to_the_same_status() {
        for text in [OPENBSD, FREEBSD] {
            let kept = carp_lines(text);
            assert!(!kept.contains("inet "), "{kept}");
            assert_eq!(parse_carp(&kept).0, parse_carp(text).0);
        }
    }

    #[test]
    fn no_carp_interface_is_none_and_no_interface_is_unknown() {
        let (carp, diags) = parse_carp("lo0: flags=8049<UP> mtu 32768\n\tinet 127.0.0.1\n");
        assert_eq!(carp.unwrap().overall_word(), "none");
        assert!(diags.is_empty());
        for junk in ["", "ssh: connect to host fw port 22: Connection refused\n"] {
            let (carp, diags) = parse_carp(junk);
            assert_eq!(carp, None, "{junk:?}");
            assert_eq!(diags.len(), 1 + usize::from(!junk.is_empty()), "{diags:?}");
            assert!(diags.iter().all(|d| d.severity == Severity::Warning));
        }
    }

    #[test]
    fn a_bad_carp_line_is_a_warning_at_its_word_and_keeps_the_rest() {
        let text = "carp0: flags=8843<UP> mtu 1500\n\
                    \tcarp: MASTER carpdev em0 vhid x advbase 1\n\
                    carp1: flags=8843<UP> mtu 1500\n\
                    \tcarp: SPLIT vhid 2\n\
                    carp2: flags=8843<UP> mtu 1500\n\
                    \tcarp: BACKUP vhid 3 frobs 2\n\
                    carp3: flags=8843<UP> mtu 1500\n\
                    \tcarp: BACKUP vhid 4 advskew 100\n";
        let (carp, diags) = parse_carp(text);
        let at: Vec<(usize, usize)> = diags.iter().map(|d| (d.line, d.column)).collect();
        assert_eq!(at, [(2, 32), (4, 8), (6, 22)], "{diags:?}");
        assert!(diags[0].message.contains("number after `vhid`"));
        assert!(diags[2].message.contains("`frobs`"));
        let carp = carp.unwrap();
        assert_eq!(carp.vhids.len(), 1, "only the good line");
        assert_eq!(carp.vhids[0].vhid, 4);
    }

    #[test]
    fn a_key_is_never_kept_nor_repeated() {
        let text = "em0: flags=8843<UP> metric 0 mtu 1500\n\
                    \tcarp: MASTER vhid 1 advbase 1 advskew 0 key \"s3cret pass\"\n\
                    em1: flags=8843<UP> metric 0 mtu 1500\n\
                    \tcarp: MASTER vhid x key \"s3cret\"\n";
        let (carp, diags) = parse_carp(text);
        assert_eq!(carp.unwrap().vhids.len(), 1);
        assert_eq!(diags.len(), 1);
        assert!(!diags[0].text.contains("s3cret"), "{}", diags[0].text);
    }
}
