//! Table contents for lint: the tables the rules name, their listings
//! (`pfctl -t NAME -T show`, read by `source::tables`, parsed by
//! `parse::tables`) and notes on what was found. With the contents known,
//! a rule naming the table matches or not instead of "may match".

use std::path::PathBuf;

pub use crate::model::TableRef;
use crate::model::{AddrSpec, Diagnostic, Rule};
use crate::parse::tables::parse_show;
use crate::pf::matcher::Tables;
use crate::source::Pfctl;
use crate::source::tables::{Fetched, read_live, read_recorded};

/// Every table the rules name, once each, in listing order.
pub(crate) fn referenced(rules: &[Rule]) -> Vec<TableRef> {
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

/// Reads the tables the rules name from the recordings `dirs` (first found
/// wins; see [`read_recorded`]). Missing files leave the table unknown.
pub(crate) fn load_recorded(dirs: &[PathBuf], refs: &[TableRef]) -> Loaded {
    loaded(refs, read_recorded(dirs, refs))
}

/// Runs pfctl for every table the rules name (see [`read_live`]). A
/// failing run leaves the table unknown, with a note saying why.
pub(crate) fn load_live(pfctl: &Pfctl, refs: &[TableRef]) -> Loaded {
    loaded(refs, read_live(pfctl, refs))
}

/// Parses what was read, with a note per table read or not.
fn loaded(refs: &[TableRef], fetched: Vec<Fetched>) -> Loaded {
    let mut loaded = Loaded::default();
    for f in fetched {
        match f {
            Fetched::Read {
                table: t,
                origin,
                text,
            } => {
                let (entries, diags) = parse_show(&text);
                loaded.notes.push(format!(
                    "{}: {} from {}",
                    table_label(&t),
                    entry_count(entries.len()),
                    origin.quoted()
                ));
                loaded.tables.insert(&t.anchor, &t.name, entries);
                let name = origin.name();
                loaded
                    .diagnostics
                    .extend(diags.into_iter().map(|d| (name.to_string(), d)));
            }
            Fetched::Failed { table, why } => {
                loaded.notes.push(format!("{}: {why}", table_label(&table)));
            }
        }
    }
    note_unknown(refs, &mut loaded);
    loaded
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

    fn t(anchor: &str, name: &str) -> TableRef {
        TableRef {
            anchor: anchor.into(),
            name: name.into(),
        }
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
    fn labels_and_counts_read_as_english() {
        assert_eq!(table_label(&t("", "www")), "table <www>");
        assert_eq!(
            table_label(&t("relayd", "www")),
            "table <www> of anchor \"relayd\""
        );
        assert_eq!(entry_count(1), "1 entry");
        assert_eq!(entry_count(0), "0 entries");
        assert_eq!(entry_count(2), "2 entries");
    }

    #[test]
    fn what_was_read_is_known_with_a_note_and_the_rest_stays_unknown() {
        let refs = [t("", "www"), t("", "db")];
        let fetched = vec![
            Fetched::Read {
                table: t("", "www"),
                origin: crate::source::tables::Origin::File("rec/tables/www.txt".into()),
                text: "   192.0.2.1\n   bogus\n".into(),
            },
            Fetched::Failed {
                table: t("", "db"),
                why: "not read (boom)".into(),
            },
        ];
        let l = loaded(&refs, fetched);
        assert!(l.tables.has("", "www"));
        assert!(!l.tables.has("", "db"));
        assert_eq!(l.notes[0], "table <www>: 1 entry from rec/tables/www.txt");
        assert_eq!(l.notes[1], "table <db>: not read (boom)");
        assert!(l.notes[2].starts_with("table <db>: contents not known"));
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(l.diagnostics[0].0, "rec/tables/www.txt");
    }

    #[test]
    fn every_table_named_is_listed_once_in_order() {
        let rules = crate::parse::rules::parse_rules(
            "@0 pass in from <a> to <b>\n@1 block in from <b> to any\n",
        )
        .0;
        let refs = referenced(&rules);
        assert_eq!(refs, [t("", "a"), t("", "b")]);
    }
}
