//! Build facts for `pfblame --version`: the git commit, the build date and
//! the target triple. No shell: git runs as a plain argv, and everything
//! falls back to "unknown" when git or `.git` is missing (a source tarball).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

fn main() {
    println!("cargo:rustc-env=PFBLAME_GIT_COMMIT={}", git_commit());
    println!("cargo:rustc-env=PFBLAME_BUILD_DATE={}", build_date());
    let target = std::env::var("TARGET").unwrap_or_else(|_| "unknown".into());
    println!("cargo:rustc-env=PFBLAME_TARGET={target}");
    println!("cargo:rerun-if-env-changed=SOURCE_DATE_EPOCH");
    println!("cargo:rerun-if-changed=build.rs");
    // Rebuild when the checked-out commit changes, not on every build.
    for file in head_files() {
        println!("cargo:rerun-if-changed={}", file.display());
    }
}

fn git_commit() -> String {
    Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_else(|| "unknown".into())
}

/// `.git/HEAD` and the ref it points at. In a worktree `.git` is a file
/// naming the real git directory (`gitdir: …`); refs then live in the
/// common directory.
fn head_files() -> Vec<PathBuf> {
    let dot_git = Path::new(".git");
    let git_dir = if dot_git.is_file() {
        match std::fs::read_to_string(dot_git) {
            Ok(text) => match text.trim().strip_prefix("gitdir:") {
                Some(dir) => PathBuf::from(dir.trim()),
                None => return Vec::new(),
            },
            Err(_) => return Vec::new(),
        }
    } else if dot_git.is_dir() {
        dot_git.to_path_buf()
    } else {
        return Vec::new();
    };
    let head = git_dir.join("HEAD");
    let mut files = vec![head.clone()];
    if let Ok(text) = std::fs::read_to_string(&head)
        && let Some(reference) = text.trim().strip_prefix("ref:")
    {
        let reference = reference.trim();
        files.push(git_dir.join(reference));
        let common = std::fs::read_to_string(git_dir.join("commondir"))
            .map(|c| git_dir.join(c.trim()))
            .unwrap_or_else(|_| git_dir.clone());
        files.push(common.join(reference));
    }
    files.retain(|f| f.exists());
    files
}

/// `SOURCE_DATE_EPOCH` (reproducible builds) or now, as `YYYY-MM-DD` UTC.
fn build_date() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.trim().parse::<i64>().ok())
        .or_else(|| {
            SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .ok()
                .and_then(|d| i64::try_from(d.as_secs()).ok())
        });
    match secs {
        Some(secs) => {
            let (y, m, d) = civil_from_days(secs.div_euclid(86_400));
            format!("{y:04}-{m:02}-{d:02}")
        }
        None => "unknown".into(),
    }
}

/// Days since 1970-01-01 to (year, month, day), proleptic Gregorian
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}
