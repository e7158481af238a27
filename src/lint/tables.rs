//! Table contents for lint: what `pfctl -t NAME -T show` prints, read from
//! a recording (`DIR/tables/NAME.txt`, or `DIR/tables/ANCHOR/PATH/NAME.txt`
//! for a table of an anchor) or from live pfctl. With the contents known,
//! a rule naming the table matches or not instead of "may match".

use std::fs;
use std::path::{Path, PathBuf};

use ipnet::IpNet;

use crate::model::{AddrSpec, Diagnostic, Rule, Severity};
use crate::pf::matcher::{TableEntry, Tables};
use crate::source::Pfctl;

/// Subdirectory of a recording holding table listings.
pub const TABLES_DIR: &str = "tables";

/// A table a rule names: the ruleset the rule is in (`""` for the main
/// ruleset) and the table name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct TableRef {
    pub anchor: String,
    pub name: String,
}

/// Every table the rules name, once each, in listing order.
pub fn referenced(rules: &[Rule]) -> Vec<TableRef> {
    let mut out: Vec<TableRef> = Vec::new();
    for r in rules {
        for a in r.from.addrs.iter().chain(&r.to.addrs) {
            if let AddrSpec::Table { name, .. } = a {
                let t = TableRef {
                    anchor: r.anchor_path.clone(),
                    name: name.to_string(),
                };
                if !out.contains(&t) {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// Parses `pfctl -t NAME -T show`: one address or prefix per line, indented,
/// `!` for a negated entry. With `-v` pfctl adds `Cleared:` and counter
/// lines, which are skipped. Lines that are none of these become
/// diagnostics; parsing goes on.
pub fn parse_show(text: &str) -> (Vec<TableEntry>, Vec<Diagnostic>) {
    let mut entries = Vec::new();
    let mut diags = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let body = line.trim();
        if body.is_empty() || is_stats_line(body) {
            continue;
        }
        let (negated, rest) = match body.strip_prefix('!') {
            Some(r) => (true, r.trim_start()),
            None => (false, body),
        };
        let word = rest.split_whitespace().next().unwrap_or("");
        match parse_net(word) {
            Some(net) => entries.push(TableEntry { net, negated }),
            None => diags.push(Diagnostic {
                line: i + 1,
                column: line.len() - line.trim_start().len() + 1,
                severity: Severity::Warning,
                message: "expected an address or prefix (as `pfctl -T show` prints)".into(),
                text: line.to_string(),
            }),
        }
    }
    (entries, diags)
}

/// `-v` statistics: `Cleared:`, `In/Block:`, `Out/Pass:` and the like.
fn is_stats_line(body: &str) -> bool {
    body.split_whitespace()
        .next()
        .is_some_and(|w| w.ends_with(':') && w.chars().next().is_some_and(char::is_alphabetic))
}

fn parse_net(word: &str) -> Option<IpNet> {
    word.parse::<IpNet>()
        .ok()
        .or_else(|| word.parse::<std::net::IpAddr>().ok().map(IpNet::from))
}

/// What loading tables produced: the contents, where each came from, and
/// the problems met (for stderr).
#[derive(Debug, Default)]
pub struct Loaded {
    pub tables: Tables,
    /// `table <www>: 2 entries from rec/tables/www.txt`, and tables left
    /// unknown.
    pub notes: Vec<String>,
    /// Unreadable lines, with the file they are in.
    pub diagnostics: Vec<(String, Diagnostic)>,
}

/// A table name or anchor path component that is safe as a file name.
fn safe_component(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

/// The file of a table in a recording's `tables/` directory.
pub fn recorded_file(dir: &Path, t: &TableRef) -> Option<PathBuf> {
    if !safe_component(&t.name) {
        return None;
    }
    let mut path = dir.join(TABLES_DIR);
    if !t.anchor.is_empty() {
        for part in t.anchor.split('/') {
            if !safe_component(part) {
                return None;
            }
            path.push(part);
        }
    }
    path.push(format!("{}.txt", t.name));
    Some(path)
}

/// Reads the tables the rules name from the recordings `dirs` (first found
/// wins). A table of an anchor is looked up under its anchor path first,
/// then as a main-ruleset table (pf's fallback). Missing files leave the
/// table unknown.
pub fn load_recorded(dirs: &[PathBuf], refs: &[TableRef]) -> Loaded {
    let mut loaded = Loaded::default();
    let mut wanted: Vec<TableRef> = Vec::new();
    for t in refs {
        wanted.push(t.clone());
        let main = TableRef {
            anchor: String::new(),
            name: t.name.clone(),
        };
        if !wanted.contains(&main) {
            wanted.push(main);
        }
    }
    for t in &wanted {
        let found = dirs
            .iter()
            .filter_map(|d| recorded_file(d, t))
            .find(|p| p.is_file());
        let Some(path) = found else {
            continue;
        };
        let shown = path.display().to_string();
        match fs::read(&path) {
            Ok(bytes) => {
                let (entries, diags) = parse_show(&String::from_utf8_lossy(&bytes));
                loaded.notes.push(format!(
                    "{}: {} from {shown}",
                    table_label(t),
                    entry_count(entries.len())
                ));
                loaded.tables.insert(&t.anchor, &t.name, entries);
                loaded
                    .diagnostics
                    .extend(diags.into_iter().map(|d| (shown.clone(), d)));
            }
            Err(e) => loaded
                .notes
                .push(format!("{}: could not read {shown}: {e}", table_label(t))),
        }
    }
    note_unknown(refs, &mut loaded);
    loaded
}

/// The argv pfblame adds to run `pfctl [-a ANCHOR] -t NAME -T show`.
pub fn show_args(t: &TableRef) -> Vec<&str> {
    let mut args = Vec::new();
    if !t.anchor.is_empty() {
        args.extend(["-a", t.anchor.as_str()]);
    }
    args.extend(["-t", t.name.as_str(), "-T", "show"]);
    args
}

/// Runs `pfctl [-a ANCHOR] -t NAME -T show` for every table the rules
/// name (argv, no shell, with the `--timeout`). A table of an anchor that
/// pfctl does not know there is looked up in the main ruleset. A failing
/// run leaves the table unknown, with a note saying why.
pub fn load_live(pfctl: &Pfctl, refs: &[TableRef]) -> Loaded {
    let mut loaded = Loaded::default();
    let mut failed: Vec<TableRef> = Vec::new();
    for t in refs {
        let main = TableRef {
            anchor: String::new(),
            name: t.name.clone(),
        };
        let candidates = if t.anchor.is_empty() {
            vec![main]
        } else {
            vec![t.clone(), main]
        };
        for c in candidates {
            if loaded.tables.has(&c.anchor, &c.name) {
                break;
            }
            if failed.contains(&c) {
                continue;
            }
            if load_one_live(pfctl, &c, &mut loaded) {
                break;
            }
            failed.push(c);
        }
    }
    note_unknown(refs, &mut loaded);
    loaded
}

/// One `-T show` run; false (with a note) when it failed.
fn load_one_live(pfctl: &Pfctl, t: &TableRef, loaded: &mut Loaded) -> bool {
    let args = show_args(t);
    let cmd = crate::source::display_argv(&pfctl.argv(&args));
    match pfctl.run(&args) {
        Ok((text, _run)) => {
            let (entries, diags) = parse_show(&text);
            loaded.notes.push(format!(
                "{}: {} from `{cmd}`",
                table_label(t),
                entry_count(entries.len())
            ));
            loaded.tables.insert(&t.anchor, &t.name, entries);
            loaded
                .diagnostics
                .extend(diags.into_iter().map(|d| (cmd.clone(), d)));
            true
        }
        Err(e) => {
            loaded
                .notes
                .push(format!("{}: not read ({e})", table_label(t)));
            false
        }
    }
}

fn note_unknown(refs: &[TableRef], loaded: &mut Loaded) {
    for t in refs {
        if loaded.tables.get(&t.anchor, &t.name).is_none() {
            loaded.notes.push(format!(
                "{}: contents not known, so rules naming it may match (see `{}`)",
                table_label(t),
                super::possible::table_check(&t.anchor, &t.name)
            ));
        }
    }
}

/// `table <www>` or `table <www> of anchor "relayd"`.
fn table_label(t: &TableRef) -> String {
    if t.anchor.is_empty() {
        format!("table <{}>", t.name)
    } else {
        format!("table <{}> of anchor \"{}\"", t.name, t.anchor)
    }
}

fn entry_count(n: usize) -> String {
    match n {
        1 => "1 entry".into(),
        n => format!("{n} entries"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn show_output_with_negation_and_stats() {
        let text = "   2001:db8:aaaa:1::10\n  !192.0.2.0/25\n   192.0.2.10\tCleared: Thu Jan  1 00:00:00 1970\n\tIn/Block:    [ Packets: 0 Bytes: 0 ]\n   bogus\n";
        let (entries, diags) = parse_show(text);
        assert_eq!(entries.len(), 3);
        assert!(entries[1].negated);
        assert_eq!(
            entries[1].net,
            "192.0.2.0/25".parse::<IpNet>().expect("prefix")
        );
        assert_eq!(
            entries[2].net,
            "192.0.2.10/32".parse::<IpNet>().expect("prefix")
        );
        assert_eq!(diags.len(), 1);
        assert_eq!(diags[0].line, 5);
        assert_eq!(diags[0].column, 4);
    }

    #[test]
    fn longest_prefix_decides_and_negation_excludes() {
        let (entries, _) = parse_show("   192.0.2.0/24\n  !192.0.2.0/28\n   192.0.2.1\n");
        let has = |a: &str| Tables::contains(&entries, a.parse().expect("address"));
        assert!(has("192.0.2.100"));
        assert!(!has("192.0.2.5"), "the negated /28 is longer");
        assert!(has("192.0.2.1"), "the /32 is longer still");
        assert!(!has("198.51.100.1"));
    }

    #[test]
    fn recorded_file_refuses_path_tricks() {
        let d = Path::new("/rec");
        let t = |anchor: &str, name: &str| TableRef {
            anchor: anchor.into(),
            name: name.into(),
        };
        assert_eq!(
            recorded_file(d, &t("", "www")),
            Some(PathBuf::from("/rec/tables/www.txt"))
        );
        assert_eq!(
            recorded_file(d, &t("relayd/web", "www")),
            Some(PathBuf::from("/rec/tables/relayd/web/www.txt"))
        );
        assert_eq!(recorded_file(d, &t("", "../x")), None);
        assert_eq!(recorded_file(d, &t("../..", "www")), None);
        assert_eq!(recorded_file(d, &t("a//b", "www")), None);
    }

    #[test]
    fn show_args_name_the_anchor_when_there_is_one() {
        let t = TableRef {
            anchor: "relayd".into(),
            name: "www".into(),
        };
        assert_eq!(show_args(&t), ["-a", "relayd", "-t", "www", "-T", "show"]);
    }
}
