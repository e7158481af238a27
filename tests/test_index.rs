//! `tests/README.md` describes every file and directory of `tests/`: each
//! must appear there in backticks (`name.rs`, `dir/`, `dir/mod.rs`), so a
//! new test file cannot be added without saying what it covers.

use std::fs;
use std::path::Path;

#[test]
fn the_readme_lists_every_test_file_and_directory() {
    let tests = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    let readme = fs::read_to_string(tests.join("README.md")).expect("tests/README.md");
    let mut missing = Vec::new();
    for e in fs::read_dir(&tests).expect("tests/").flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if name == "README.md" {
            continue;
        }
        let listed = if e.path().is_dir() {
            // A support directory is listed by its `mod.rs`, or as `dir/`.
            readme.contains(&format!("`{name}/mod.rs`")) || readme.contains(&format!("`{name}/`"))
        } else {
            readme.contains(&format!("`{name}`"))
        };
        if !listed {
            missing.push(name);
        }
    }
    missing.sort();
    assert!(
        missing.is_empty(),
        "not described in tests/README.md: {missing:?}"
    );
}
