//! Table listings (`pfctl -t NAME -T show`) as bytes: read from a recording
//! (`DIR/tables/NAME.txt`, or `DIR/tables/ANCHOR/PATH/NAME.txt` for a table
//! of an anchor) or from live pfctl. Parsing them is `parse::tables`; what
//! they mean for the rules is `lint::tables`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::model::TableRef;
use crate::source::{Pfctl, display_argv};

/// Subdirectory of a recording holding table listings.
pub(crate) const TABLES_DIR: &str = "tables";

/// Where a listing came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A recording's file (its path, as shown).
    File(String),
    /// A pfctl run (its command line, as shown).
    Command(String),
}

impl Origin {
    /// As named in diagnostics: the path or the command.
    pub fn name(&self) -> &str {
        match self {
            Origin::File(s) | Origin::Command(s) => s,
        }
    }

    /// As named in a note: `rec/tables/www.txt`, `` `pfctl -t www -T show` ``.
    pub fn quoted(&self) -> String {
        match self {
            Origin::File(s) => s.clone(),
            Origin::Command(s) => format!("`{s}`"),
        }
    }
}

/// One attempt to read a table, in the order they were made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fetched {
    Read {
        table: TableRef,
        origin: Origin,
        text: String,
    },
    /// Not read: why, as a note (`could not read …: …`, `not read (…)`).
    Failed { table: TableRef, why: String },
}

/// A table name or anchor path component that is safe as a file name.
fn safe_component(s: &str) -> bool {
    !s.is_empty() && s != "." && s != ".." && !s.contains(['/', '\\', '\0'])
}

/// The file of a table in a recording's `tables/` directory.
pub(crate) fn recorded_file(dir: &Path, t: &TableRef) -> Option<PathBuf> {
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

/// The table of the main ruleset with `t`'s name.
fn main_table(t: &TableRef) -> TableRef {
    TableRef {
        anchor: String::new(),
        name: t.name.clone(),
    }
}

/// Reads the tables `refs` from the recordings `dirs` (first found wins).
/// A table of an anchor is looked up under its anchor path, and also as a
/// main-ruleset table (pf's fallback). Missing files are skipped.
pub(crate) fn read_recorded(dirs: &[PathBuf], refs: &[TableRef]) -> Vec<Fetched> {
    let mut wanted: Vec<TableRef> = Vec::new();
    for t in refs {
        wanted.push(t.clone());
        let main = main_table(t);
        if !wanted.contains(&main) {
            wanted.push(main);
        }
    }
    let mut out = Vec::new();
    for t in wanted {
        let found = dirs
            .iter()
            .filter_map(|d| recorded_file(d, &t))
            .find(|p| p.is_file());
        let Some(path) = found else {
            continue;
        };
        let shown = path.display().to_string();
        out.push(match fs::read(&path) {
            Ok(bytes) => Fetched::Read {
                table: t,
                origin: Origin::File(shown),
                text: String::from_utf8_lossy(&bytes).into_owned(),
            },
            Err(e) => Fetched::Failed {
                table: t,
                why: format!("could not read {shown}: {e}"),
            },
        });
    }
    out
}

/// The argv pfblame adds to run `pfctl [-a ANCHOR] -t NAME -T show`.
pub(crate) fn show_args(t: &TableRef) -> Vec<&str> {
    let mut args = Vec::new();
    if !t.anchor.is_empty() {
        args.extend(["-a", t.anchor.as_str()]);
    }
    args.extend(["-t", t.name.as_str(), "-T", "show"]);
    args
}

/// Runs `pfctl [-a ANCHOR] -t NAME -T show` for every table of `refs`
/// (argv, no shell, with the `--timeout`). A table of an anchor that pfctl
/// does not know there is looked up in the main ruleset; each table is run
/// at most once, read or failed.
pub(crate) fn read_live(pfctl: &Pfctl, refs: &[TableRef]) -> Vec<Fetched> {
    let mut out = Vec::new();
    let mut read: Vec<TableRef> = Vec::new();
    let mut failed: Vec<TableRef> = Vec::new();
    for t in refs {
        let candidates = if t.anchor.is_empty() {
            vec![main_table(t)]
        } else {
            vec![t.clone(), main_table(t)]
        };
        for c in candidates {
            if read.contains(&c) {
                break;
            }
            if failed.contains(&c) {
                continue;
            }
            let fetched = read_one_live(pfctl, c.clone());
            let ok = matches!(fetched, Fetched::Read { .. });
            out.push(fetched);
            if ok {
                read.push(c);
                break;
            }
            failed.push(c);
        }
    }
    out
}

/// One `-T show` run.
fn read_one_live(pfctl: &Pfctl, table: TableRef) -> Fetched {
    let args = show_args(&table);
    let cmd = display_argv(&pfctl.argv(&args));
    match pfctl.run(&args) {
        Ok((text, _run)) => Fetched::Read {
            table,
            origin: Origin::Command(cmd),
            text,
        },
        Err(e) => Fetched::Failed {
            table,
            why: format!("not read ({e})"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(anchor: &str, name: &str) -> TableRef {
        TableRef {
            anchor: anchor.into(),
            name: name.into(),
        }
    }

    #[test]
    fn recorded_file_refuses_path_tricks() {
        let d = Path::new("/rec");
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
        assert_eq!(
            show_args(&t("relayd", "www")),
            ["-a", "relayd", "-t", "www", "-T", "show"]
        );
        assert_eq!(show_args(&t("", "www")), ["-t", "www", "-T", "show"]);
    }

    #[test]
    fn a_recording_gives_the_anchor_table_and_the_main_fallback() {
        let dir = std::env::temp_dir().join(format!("pfblame-tables-{}", std::process::id()));
        let anchored = dir.join("tables/relayd");
        fs::create_dir_all(&anchored).expect("temp dir");
        fs::write(anchored.join("www.txt"), "   192.0.2.1\n").expect("write");
        fs::write(dir.join("tables/www.txt"), "   198.51.100.1\n").expect("write");
        let got = read_recorded(
            std::slice::from_ref(&dir),
            &[t("relayd", "www"), t("", "db")],
        );
        let _ = fs::remove_dir_all(&dir);
        let read: Vec<(&TableRef, &str)> = got
            .iter()
            .filter_map(|f| match f {
                Fetched::Read { table, text, .. } => Some((table, text.as_str())),
                Fetched::Failed { .. } => None,
            })
            .collect();
        assert_eq!(
            read,
            [
                (&t("relayd", "www"), "   192.0.2.1\n"),
                (&t("", "www"), "   198.51.100.1\n")
            ],
            "<db> has no file: skipped"
        );
    }

    #[test]
    fn origins_are_named_plain_in_diagnostics_and_quoted_in_notes() {
        let c = Origin::Command("pfctl -t www -T show".into());
        assert_eq!(c.name(), "pfctl -t www -T show");
        assert_eq!(c.quoted(), "`pfctl -t www -T show`");
        assert_eq!(Origin::File("a/b.txt".into()).quoted(), "a/b.txt");
    }
}
