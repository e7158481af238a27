//! The documentation stays inside the repository: every relative link in
//! README.md, packaging/README.md, docs/**/*.md and fixtures/**/README.md points at a file that
//! exists (and, with `#anchor`, at a heading that exists) without leaving
//! the repository, and no page sends readers to the `shared/` reference
//! folder, which is not part of the project.

use std::fs;
use std::path::{Component, Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// The pages checked.
fn pages() -> Vec<PathBuf> {
    let mut out = vec![root().join("README.md"), root().join("packaging/README.md")];
    collect(
        &root().join("docs"),
        &mut |p| p.extension().is_some_and(|e| e == "md"),
        &mut out,
    );
    collect(
        &root().join("fixtures"),
        &mut |p| p.file_name().is_some_and(|n| n == "README.md"),
        &mut out,
    );
    out.sort();
    out
}

fn collect(dir: &Path, keep: &mut dyn FnMut(&Path) -> bool, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, keep, out);
        } else if keep(&path) {
            out.push(path);
        }
    }
}

/// Markdown link targets: `[text](target)` and `![alt](target)`, outside
/// code spans and code blocks.
fn link_targets(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut in_block = false;
    for (n, line) in text.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
            continue;
        }
        if in_block {
            continue;
        }
        let line = without_code_spans(line);
        let mut rest = line.as_str();
        while let Some(i) = rest.find("](") {
            let after = &rest[i + 2..];
            let Some(end) = after.find(')') else { break };
            let target = after[..end].split_whitespace().next().unwrap_or("");
            out.push((n + 1, target.to_string()));
            rest = &after[end..];
        }
    }
    out
}

fn without_code_spans(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut in_code = false;
    for c in line.chars() {
        if c == '`' {
            in_code = !in_code;
        } else if !in_code {
            out.push(c);
        }
    }
    out
}

/// GitHub's heading anchors: lower case, punctuation dropped, spaces to `-`.
fn anchors(text: &str) -> Vec<String> {
    let mut in_block = false;
    let mut out = Vec::new();
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_block = !in_block;
        }
        if in_block || !line.starts_with('#') {
            continue;
        }
        let title = line.trim_start_matches('#').trim();
        let slug: String = title
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || *c == ' ' || *c == '-' || *c == '_')
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        out.push(slug);
    }
    out
}

/// `a/../b` resolved without touching the file system; None when it climbs
/// above `base`'s root.
fn normalise(path: &Path) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::ParentDir => {
                if !out.pop() {
                    return None;
                }
            }
            Component::CurDir => {}
            other => out.push(other),
        }
    }
    Some(out)
}

struct Problem {
    page: String,
    line: usize,
    what: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.page, self.line, self.what)
    }
}

fn check_page(page: &Path) -> Vec<Problem> {
    let text = fs::read_to_string(page).expect("a readable page");
    let shown = page
        .strip_prefix(root())
        .unwrap_or(page)
        .display()
        .to_string();
    let problem = |line, what: String| Problem {
        page: shown.clone(),
        line,
        what,
    };
    let mut problems = Vec::new();
    for (n, line) in text.lines().enumerate() {
        if line.contains("shared/") {
            problems.push(problem(
                n + 1,
                "names the shared/ folder, which is outside the repository".into(),
            ));
        }
    }
    let dir = page.parent().expect("a page has a directory");
    let rel_dir = dir
        .strip_prefix(root())
        .expect("pages are in the repository");
    for (line, target) in link_targets(&text) {
        if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
            // External links are allowed by this test; none should be needed.
            continue;
        }
        let (file, anchor) = match target.split_once('#') {
            Some((f, a)) => (f, Some(a)),
            None => (target.as_str(), None),
        };
        if file.starts_with('/') {
            problems.push(problem(line, format!("{target}: absolute path")));
            continue;
        }
        let resolved = if file.is_empty() {
            Some(
                page.strip_prefix(root())
                    .expect("in the repository")
                    .to_path_buf(),
            )
        } else {
            normalise(&rel_dir.join(file))
        };
        let Some(resolved) = resolved else {
            problems.push(problem(line, format!("{target}: leaves the repository")));
            continue;
        };
        let full = root().join(&resolved);
        if !full.exists() {
            problems.push(problem(
                line,
                format!("{target}: {} does not exist", resolved.display()),
            ));
            continue;
        }
        if let Some(anchor) = anchor {
            let target_text = fs::read_to_string(&full).unwrap_or_default();
            if !anchors(&target_text).iter().any(|a| a == anchor) {
                problems.push(problem(line, format!("{target}: no heading #{anchor}")));
            }
        }
    }
    problems
}

#[test]
fn documentation_links_stay_in_the_repository_and_resolve() {
    let pages = pages();
    assert!(
        pages.len() >= 10,
        "README, docs and fixture READMEs: {pages:?}"
    );
    let problems: Vec<String> = pages
        .iter()
        .flat_map(|p| check_page(p))
        .map(|p| p.to_string())
        .collect();
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_docs_pages_exist_and_the_readme_links_them() {
    let readme = fs::read_to_string(root().join("README.md")).expect("README");
    for page in [
        "docs/design.md",
        "docs/json.md",
        "docs/formats.md",
        "docs/remote.md",
        "docs/portability.md",
    ] {
        assert!(root().join(page).exists(), "{page} is missing");
        assert!(
            readme.contains(&format!("]({page}")),
            "README does not link {page}"
        );
    }
}

#[test]
fn the_checker_finds_broken_and_escaping_links() {
    let dir = tempfile::tempdir_in(root().join("docs")).expect("a temp dir in docs/");
    let page = dir.path().join("bad.md");
    fs::write(
        &page,
        "[up](../../../outside.md) [gone](nothing.md) [anchor](../design.md#no-such-heading)\nsee shared/design.md\n`[in code](ignored.md)`\n",
    )
    .expect("write");
    let problems = check_page(&page);
    let whats: Vec<&str> = problems.iter().map(|p| p.what.as_str()).collect();
    assert_eq!(problems.len(), 4, "{whats:#?}");
    assert!(whats.iter().any(|w| w.contains("leaves the repository")));
    assert!(whats.iter().any(|w| w.contains("does not exist")));
    assert!(whats.iter().any(|w| w.contains("no heading")));
    assert!(whats.iter().any(|w| w.contains("shared/")));
}

#[test]
fn anchors_follow_github() {
    assert_eq!(
        anchors("## 6. What the parsers were checked against\n"),
        ["6-what-the-parsers-were-checked-against"]
    );
    assert_eq!(
        anchors("# `pfblame parse` and the JSON contract\n"),
        ["pfblame-parse-and-the-json-contract"]
    );
}
