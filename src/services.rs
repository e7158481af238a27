//! The one table of service names: the port numbers of the names pfctl
//! prints instead of numbers (`port = https`, `-P` states). Every part of
//! pfblame that reads a port name asks here, so `ldaps` is 636 for the
//! parser, the matcher, `--port`, lint and report alike. The data is
//! `services.txt` (in /etc/services form), read once.

use std::collections::HashMap;
use std::sync::OnceLock;

const DATA: &str = include_str!("services.txt");

fn table() -> &'static HashMap<&'static str, u16> {
    static TABLE: OnceLock<HashMap<&'static str, u16>> = OnceLock::new();
    TABLE.get_or_init(|| parse(DATA))
}

/// `name port/proto [aliases]` lines; `#` starts a comment. The first
/// line that names a service wins.
fn parse(data: &'static str) -> HashMap<&'static str, u16> {
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
        for n in std::iter::once(name).chain(words) {
            map.entry(n).or_insert(port);
        }
    }
    map
}

/// The port a service name stands for (a decimal number is itself).
pub(crate) fn port_of(name: &str) -> Option<u16> {
    if let Ok(n) = name.parse::<u16>() {
        return Some(n);
    }
    table().get(name).copied()
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
}
