//! The layering of `src/` (design: modules follow the data, source → parse →
//! model → pf engine → analyze → poll → tui / report, and no module imports
//! a higher layer). Reads the sources: for each top-level module, the other
//! top-level modules its non-test code names as `crate::X`, and checks them
//! against [`TIERS`]. `scripts/module-graph.sh` prints the same graph.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The layers, lowest first. A module may import only modules of a lower
/// tier: never one of its own tier (so no two modules import each other)
/// and never a higher one.
const TIERS: &[&[&str]] = &[
    &["sanitize", "services"],
    &["model"],
    &["parse", "state_json"],
    &["source", "print", "pf"],
    &["signals", "kill", "lint"],
    &["exit", "analyze"],
    &["config", "poll", "report"],
    &["fleet"],
    &["tui", "cli"],
    &["commands"],
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// A file's code without its tests: `tests.rs` files are left out, and a
/// file ends at its first top-level `#[cfg(test)]` (the tests module comes
/// last); comment lines are dropped.
fn code(path: &Path) -> String {
    if path.file_name().is_some_and(|n| n == "tests.rs") {
        return String::new();
    }
    let text = fs::read_to_string(path).expect("readable source");
    text.lines()
        .take_while(|l| !l.starts_with("#[cfg(test)]"))
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The `X` of every `crate::X` in `text`.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(i) = rest.find("crate::") {
        let after = &rest[i + "crate::".len()..];
        let name: String = after
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        if !name.is_empty() {
            out.insert(name);
        }
        rest = after;
    }
    out
}

/// Top-level module → the top-level modules it imports.
fn graph() -> BTreeMap<String, BTreeSet<String>> {
    let mut g = BTreeMap::new();
    for e in fs::read_dir(src()).expect("src/").flatten() {
        let p = e.path();
        let Some(stem) = p.file_stem().and_then(|s| s.to_str()).map(str::to_string) else {
            continue;
        };
        if p.extension().is_none_or(|x| x != "rs") || stem == "lib" || stem == "main" {
            continue;
        }
        let mut files = vec![p.clone()];
        rust_files(&src().join(&stem), &mut files);
        let mut deps = BTreeSet::new();
        for f in &files {
            deps.extend(crate_refs(&code(f)));
        }
        deps.remove(&stem);
        g.insert(stem, deps);
    }
    g
}

fn tier(module: &str) -> Option<usize> {
    TIERS.iter().position(|t| t.contains(&module))
}

#[test]
fn every_module_has_a_tier() {
    let missing: Vec<String> = graph().into_keys().filter(|m| tier(m).is_none()).collect();
    assert!(
        missing.is_empty(),
        "modules with no tier in TIERS: {missing:?}"
    );
}

#[test]
fn no_module_imports_its_own_tier_or_a_higher_one() {
    let mut wrong = Vec::new();
    for (m, deps) in graph() {
        let Some(mine) = tier(&m) else { continue };
        for d in deps {
            if tier(&d).is_none_or(|t| t >= mine) {
                wrong.push(format!("{m} imports {d}"));
            }
        }
    }
    assert!(wrong.is_empty(), "layer violations:\n{}", wrong.join("\n"));
}

#[test]
fn no_two_modules_import_each_other() {
    let g = graph();
    let mut pairs = Vec::new();
    for (m, deps) in &g {
        for d in deps {
            if m < d && g.get(d).is_some_and(|back| back.contains(m)) {
                pairs.push(format!("{m} <-> {d}"));
            }
        }
    }
    assert!(pairs.is_empty(), "mutual imports: {pairs:?}");
}

#[test]
fn only_the_commands_see_the_clap_types() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let commands = src().join("commands");
    let outside: Vec<String> = files
        .iter()
        .filter(|f| !f.starts_with(&commands) && !f.ends_with("commands.rs"))
        .filter(|f| !f.ends_with("main.rs") && !f.ends_with("cli.rs"))
        .filter(|f| fs::read_to_string(f).is_ok_and(|t| t.contains("crate::cli")))
        .map(|f| f.display().to_string())
        .collect();
    assert!(
        outside.is_empty(),
        "`crate::cli` outside commands/: {outside:?}"
    );
}

#[test]
fn the_tui_state_does_not_import_the_view() {
    let app = code(&src().join("tui/app.rs"));
    assert!(!app.contains("tui::view"), "tui/app.rs imports the view");
    let layout = code(&src().join("tui/layout.rs"));
    let refs = crate_refs(&layout);
    assert!(
        refs.is_empty(),
        "tui/layout.rs is pure geometry, imports {refs:?}"
    );
}

#[test]
fn the_reader_finds_imports_and_skips_tests_and_comments() {
    assert_eq!(
        crate_refs("use crate::model::State;\nlet x = crate::parse::f();"),
        BTreeSet::from(["model".to_string(), "parse".to_string()])
    );
    let dir = std::env::temp_dir().join(format!("pfblame-layers-{}", std::process::id()));
    fs::create_dir_all(&dir).expect("temp dir");
    let f = dir.join("m.rs");
    fs::write(
        &f,
        "use crate::a;\n// crate::b in a comment\n#[cfg(test)]\nmod tests {\n    use crate::c;\n}\n",
    )
    .expect("write");
    let refs = crate_refs(&code(&f));
    let _ = fs::remove_dir_all(&dir);
    assert_eq!(refs, BTreeSet::from(["a".to_string()]));
}

/// The TUI tests drive the `tui` layer itself (`tui::start`, `tui::run`),
/// so a change to a command's plumbing cannot hide behind them.
#[test]
fn the_tui_tests_do_not_reach_into_the_commands() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let mut through_commands = Vec::new();
    for e in fs::read_dir(&tests).expect("tests/").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if !name.starts_with("tui_") || !name.ends_with(".rs") {
            continue;
        }
        let text = fs::read_to_string(e.path()).expect("readable test");
        if text.contains("pfblame::commands") {
            through_commands.push(name);
        }
    }
    assert!(
        through_commands.is_empty(),
        "TUI tests calling pfblame::commands: {through_commands:?}"
    );
}
