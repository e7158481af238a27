//! Where the reference corpora live (`$CARGO_MANIFEST_DIR/../shared`, or
//! `$PFBLAME_SHARED`), and what to do when they are missing: skip with a
//! message, unless `PFBLAME_CORPORA=required` (CI), then fail. Also the
//! file listings the corpus and fixture tests share.
#![allow(dead_code)] // each test uses its own part

use std::path::{Path, PathBuf};

/// The folder `sub` of the shared reference data, or `None` (skip) when
/// it is missing and not required.
pub fn corpus_dir(sub: &str) -> Option<PathBuf> {
    let base = match std::env::var_os("PFBLAME_SHARED") {
        Some(p) => PathBuf::from(p),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"),
    };
    let dir = base.join(sub);
    if dir.is_dir() {
        return Some(dir);
    }
    let required = std::env::var("PFBLAME_CORPORA").is_ok_and(|v| v == "required");
    assert!(
        !required,
        "PFBLAME_CORPORA=required but the corpus {} is missing (set PFBLAME_SHARED to the folder holding {sub})",
        dir.display()
    );
    println!(
        "corpus skipped: {} not found (set PFBLAME_SHARED; PFBLAME_CORPORA=required makes this fail)",
        dir.display()
    );
    None
}

/// Files of `dir` whose names end in `suffix`, sorted.
pub fn files(dir: &std::path::Path, suffix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    v.sort();
    v
}

/// Every file below `dir`, at any depth, sorted.
pub fn files_under(dir: &Path) -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let entries = std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for p in entries.filter_map(|e| e.ok().map(|e| e.path())) {
            if p.is_dir() {
                walk(&p, out);
            } else {
                out.push(p);
            }
        }
    }
    let mut out = Vec::new();
    walk(dir, &mut out);
    out.sort();
    out
}

/// Every file of the project's `fixtures/`, sorted.
pub fn fixture_files() -> Vec<PathBuf> {
    let files = files_under(&Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures"));
    assert!(files.len() > 30, "fixtures not found");
    files
}

/// Every state listing (`.txt`) of the pfctl oracle corpus, sorted, or
/// `None` (skip) as [`corpus_dir`] decides. Fails when the corpus holds none.
pub fn oracle_listings() -> Option<Vec<PathBuf>> {
    let dir = corpus_dir("pfctl-oracle")?;
    let mut files = files_under(&dir);
    files.retain(|f| f.extension().is_some_and(|e| e == "txt"));
    assert!(!files.is_empty(), "no .txt file in {}", dir.display());
    Some(files)
}
