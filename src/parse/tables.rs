//! `pfctl -t NAME -T show`: the contents of one table.

use ipnet::IpNet;

use crate::model::{Diagnostic, Severity, TableEntry};

/// Parses `pfctl -t NAME -T show`: one address or prefix per line, indented,
/// `!` for a negated entry. With `-v` pfctl adds `Cleared:` and counter
/// lines, which are skipped. Lines that are none of these become
/// diagnostics; parsing goes on.
pub(crate) fn parse_show(text: &str) -> (Vec<TableEntry>, Vec<Diagnostic>) {
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
    fn stats_lines_are_words_ending_in_a_colon() {
        assert!(is_stats_line("Cleared: Thu Jan  1 00:00:00 1970"));
        assert!(is_stats_line("Out/Pass:    [ Packets: 0 Bytes: 0 ]"));
        assert!(!is_stats_line("192.0.2.1"));
        assert!(!is_stats_line("2001:db8::1"), "an address is not a label");
        assert!(!is_stats_line("::1:"), "a label starts with a letter");
    }

    #[test]
    fn a_bare_address_is_a_host_prefix() {
        assert_eq!(parse_net("192.0.2.1"), "192.0.2.1/32".parse().ok());
        assert_eq!(parse_net("2001:db8::/32"), "2001:db8::/32".parse().ok());
        assert_eq!(parse_net("www"), None);
    }
}
