//! `pfctl -si` / `-vsi`: see pfctl-formats.md §4.2.
//!
//! Only a few figures are modelled (status, state-table counters, host id and
//! checksum). Counter names contain spaces and their set varies between
//! releases (FreeBSD takes them from the kernel), so numbers are read from
//! the right and unknown lines are skipped quietly. Input with nothing
//! recognisable at all is an error.

use crate::model::{Diagnostic, Info, Severity};

/// Line-by-line info parser (push API), used by [`parse_info`] and by the
/// mixed-input parser.
#[derive(Debug, Default)]
pub struct InfoParser {
    info: Info,
    /// The section header the counters belong to (`State Table`, `Counters`…).
    section: String,
    recognised: bool,
    first: Option<(usize, String)>,
}

impl InfoParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line (no line terminator).
    pub fn push(&mut self, line_no: usize, line: &str) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() {
            return;
        }
        if self.first.is_none() {
            self.first = Some((line_no, line.to_owned()));
        }
        if let Some(status) = line.strip_prefix("Status: ") {
            self.info.enabled = enabled(status);
            self.recognised |= self.info.enabled.is_some();
        } else if let Some(v) = line.strip_prefix("Hostid:") {
            self.info.hostid = Some(v.trim().into());
            self.recognised = true;
        } else if let Some(v) = line.strip_prefix("Checksum:") {
            self.info.checksum = Some(v.trim().into());
            self.recognised = true;
        } else if !line.starts_with(char::is_whitespace) {
            // A section header: `State Table   Total   Rate`, `Counters`, …
            self.section = header_name(line);
        } else if self.section == "State Table"
            && let Some((name, n)) = counter(line)
        {
            let slot = match name.as_str() {
                "current entries" => &mut self.info.current_states,
                "searches" => &mut self.info.state_searches,
                "inserts" => &mut self.info.state_inserts,
                "removals" => &mut self.info.state_removals,
                _ => return,
            };
            *slot = Some(n);
            self.recognised = true;
        }
    }

    /// Ends the input: `None` (and an error) if nothing was recognised.
    pub fn finish(self, diags: &mut Vec<Diagnostic>) -> Option<Info> {
        if self.recognised {
            return Some(self.info);
        }
        let (line, text) = self.first.unwrap_or((1, String::new()));
        diags.push(Diagnostic {
            line,
            column: 1,
            severity: Severity::Error,
            message: "not `pfctl -si` output: no Status line and no state table counters".into(),
            text,
        });
        None
    }
}

/// `Enabled for 0 days 01:02:03           Debug: err` → `Some(true)`.
fn enabled(status: &str) -> Option<bool> {
    match status.split_whitespace().next()? {
        "Enabled" => Some(true),
        "Disabled" => Some(false),
        _ => None,
    }
}

/// The words of a header before its column titles (`State Table  Total  Rate`).
fn header_name(line: &str) -> String {
    let name = line.split("  ").next().unwrap_or(line).trim();
    name.to_owned()
}

/// `  searches   1234   12.3/s` → (`searches`, 1234): the number is the last
/// integer field once a trailing rate is dropped.
fn counter(line: &str) -> Option<(String, u64)> {
    let mut words: Vec<&str> = line.split_whitespace().collect();
    if words.last().is_some_and(|w| w.ends_with("/s")) {
        words.pop();
    }
    let n = words.pop()?.parse().ok()?;
    (!words.is_empty()).then(|| (words.join(" "), n))
}

/// Parses `pfctl -si` output (counter names contain spaces: numbers are read from the right).
pub fn parse_info(text: &str) -> (Info, Vec<Diagnostic>) {
    let mut p = InfoParser::new();
    for (i, line) in text.split('\n').enumerate() {
        p.push(i + 1, line);
    }
    let mut diags = Vec::new();
    let info = p.finish(&mut diags).unwrap_or_default();
    (info, diags)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const OPENBSD: &str = "\
Status: Enabled for 3 days 04:05:06              Debug: err

Hostid:   0x1a2b3c4d
Checksum: 0x0123456789abcdef0123456789abcdef

State Table                          Total             Rate
  current entries                       42
  half-open tcp                          1
  searches                         1234567          123.4/s
  inserts                             5678            0.5/s
  removals                            5636            0.5/s
Source Tracking Table
  current entries                        7
  searches                              99            0.0/s
Counters
  match                              12345            1.2/s
";

    #[test]
    fn reads_state_table_not_source_tracking() {
        let (info, diags) = parse_info(OPENBSD);
        assert!(diags.is_empty());
        assert_eq!(info.enabled, Some(true));
        assert_eq!(info.current_states, Some(42));
        assert_eq!(info.state_searches, Some(1234567));
        assert_eq!(info.state_inserts, Some(5678));
        assert_eq!(info.state_removals, Some(5636));
        assert_eq!(info.hostid.as_deref(), Some("0x1a2b3c4d"));
    }

    #[test]
    fn disabled_and_garbage() {
        let (info, diags) =
            parse_info("Status: Disabled                                Debug: None\n");
        assert_eq!((info.enabled, diags.len()), (Some(false), 0));
        let (_, diags) = parse_info("\nhello world\n");
        assert_eq!(diags.len(), 1);
        assert_eq!((diags[0].line, diags[0].severity), (2, Severity::Error));
    }

    #[test]
    fn counter_fields() {
        assert_eq!(
            counter("  current entries   42"),
            Some(("current entries".into(), 42))
        );
        assert_eq!(
            counter("  searches  10  1.0/s"),
            Some(("searches".into(), 10))
        );
        assert_eq!(counter("  mode   never"), None);
    }
}
