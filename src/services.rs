//! The one table of service names: the port numbers of the names pfctl
//! prints instead of numbers (`port = https`, `-P` states). Every part of
//! pfblame that reads a port name asks here, so `ldaps` is 636 for the
//! parser, the matcher, `--port`, lint and report alike.
//!
//! pfctl names ports with getservbyport() on the router, so the router's
//! own table comes first when a source installs it ([`install`]: the
//! router's `/etc/services`, or the copy a recording keeps). The bundled
//! `services.txt` (in /etc/services form, a selection) answers otherwise.

use std::collections::HashMap;
use std::io::Read;
use std::path::Path;
use std::sync::OnceLock;

const DATA: &str = include_str!("services.txt");

/// The router's own table (`/etc/services`) is read up to this size; a
/// bigger file is read that far (BSD's full list is about 100 KiB).
pub(crate) const MAX_TABLE_BYTES: u64 = 2 * 1024 * 1024;

/// Where the router keeps its table.
pub const SYSTEM_TABLE: &str = "/etc/services";

fn bundled() -> &'static HashMap<String, u16> {
    static TABLE: OnceLock<HashMap<String, u16>> = OnceLock::new();
    TABLE.get_or_init(|| parse(DATA))
}

/// The table of the router pfctl ran on, once installed (see [`install`]).
static ROUTER: OnceLock<HashMap<String, u16>> = OnceLock::new();

/// `name port/proto [aliases]` lines; `#` starts a comment. The first
/// line that names a service wins. Lines that do not have this form
/// (a port that is no number, no port at all, text that is not a name)
/// are skipped.
fn parse(data: &str) -> HashMap<String, u16> {
    let mut map = HashMap::new();
    for line in data.lines() {
        let line = line.split('#').next().unwrap_or("");
        let mut words = line.split_whitespace();
        let (Some(name), Some(port)) = (words.next(), words.next()) else {
            continue;
        };
        let Some(port) = port.split('/').next().and_then(|p| p.parse::<u16>().ok()) else {
            continue;
        };
        for n in std::iter::once(name).chain(words).filter(|n| is_name(n)) {
            map.entry(n.to_string()).or_insert(port);
        }
    }
    map
}

/// What getservbyport() can hand pfctl: printable ASCII without spaces.
fn is_name(word: &str) -> bool {
    !word.is_empty() && word.len() <= 64 && word.bytes().all(|b| b.is_ascii_graphic())
}

/// Makes `text` (the router's `/etc/services`, or the copy a recording
/// keeps) the table names are resolved with, before the bundled
/// selection. Only the first table of a run counts (one router per run);
/// returns how many names it holds, or `None` when one was already in use.
pub fn install(text: &str) -> Option<usize> {
    let table = parse(text);
    let names = table.len();
    ROUTER.set(table).ok().map(|()| names)
}

/// Reads a services file (at most [`MAX_TABLE_BYTES`]), lossily as text.
/// `None` when it is missing or unreadable: the bundled selection stays.
pub fn read_table(path: &Path) -> Option<String> {
    let file = std::fs::File::open(path).ok()?;
    if !file.metadata().ok()?.is_file() {
        return None;
    }
    let mut bytes = Vec::new();
    file.take(MAX_TABLE_BYTES).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The port a service name stands for (a decimal number is itself): from
/// the router's table when one is installed, else (or when it lacks the
/// name) from the bundled selection.
pub(crate) fn port_of(name: &str) -> Option<u16> {
    if let Ok(n) = name.parse::<u16>() {
        return Some(n);
    }
    ROUTER
        .get()
        .and_then(|t| t.get(name))
        .or_else(|| bundled().get(name))
        .copied()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_aliases_and_numbers() {
        for (name, port) in [
            ("ssh", 22),
            ("www", 80),
            ("http", 80),
            ("https", 443),
            ("ldaps", 636),
            ("ircd", 6667),
            ("echo", 7),
            ("pip", 321),
            ("personal-agent", 5555),
            ("ident", 113),
            ("domain", 53),
            ("8443", 8443),
        ] {
            assert_eq!(port_of(name), Some(port), "{name}");
        }
        assert_eq!(port_of("no-such-service"), None);
        assert_eq!(port_of("70000"), None);
    }

    #[test]
    fn every_line_of_the_data_is_read() {
        let mut seen = std::collections::HashSet::new();
        let mut lines = 0;
        for line in DATA
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
        {
            let mut w = line.split_whitespace();
            let (name, port) = (w.next().unwrap_or(""), w.next().unwrap_or(""));
            let port: u16 = port
                .split('/')
                .next()
                .and_then(|p| p.parse().ok())
                .unwrap_or(0);
            assert_ne!(port, 0, "{line}");
            assert!(seen.insert(name), "{name} is listed twice");
            assert_eq!(port_of(name), Some(port), "{line}");
            lines += 1;
        }
        assert!(lines >= 130, "{lines} services");
    }

    #[test]
    fn a_routers_table_is_read_safely() {
        let text = "# comment\n\
                    ssh 22/tcp\n\
                    myapp\t8443/tcp   my-app  # ours\n\
                    broken notaport/tcp\n\
                    noport\n\
                    big 70000/tcp\n\
                    \u{1}ctl 5/tcp\n\
                    ssh 2222/tcp\n";
        let t = parse(text);
        assert_eq!(t.get("ssh"), Some(&22), "the first line wins");
        assert_eq!(t.get("myapp"), Some(&8443));
        assert_eq!(t.get("my-app"), Some(&8443));
        for bad in ["broken", "noport", "big", "\u{1}ctl"] {
            assert_eq!(t.get(bad), None, "{bad:?}");
        }
        assert_eq!(t.len(), 3);
    }

    #[test]
    fn reading_a_table_is_capped_and_needs_a_regular_file() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("services");
        let line = "svc 1/tcp\n";
        let big = line.repeat((MAX_TABLE_BYTES as usize) / line.len() + 10);
        std::fs::write(&path, &big).expect("write");
        let read = read_table(&path).expect("readable");
        assert_eq!(read.len() as u64, MAX_TABLE_BYTES);
        assert_eq!(read_table(dir.path()), None, "a directory is no table");
        assert_eq!(read_table(&dir.path().join("missing")), None);
    }
}
