//! Counter lines after a rule (`  [ Evaluations: … ]`, `  [ Inserted: … ]`,
//! FreeBSD `Last Active Time` and `Source Nodes`, the old 2001 form), keyed
//! on their labels rather than columns: wide numbers push the rest right.

use crate::model::Counters;

use super::line::Issue;

/// What a bracketed line turned out to be.
#[derive(Debug, PartialEq, Eq)]
pub enum CounterLine {
    /// Values were stored into the counters.
    Counters,
    /// A `-g` debug line (`Skip steps`, `queue:`), not modelled.
    Debug(&'static str),
}

/// True for a line that is a counter or debug line (`[ Evaluations:` …).
pub fn is_counter_line(body: &str) -> bool {
    let Some(rest) = body.strip_prefix('[') else {
        return false;
    };
    let rest = rest.trim_start();
    [
        "Evaluations:",
        "Inserted:",
        "Last Active Time:",
        "Source Nodes:",
        "Skip steps:",
        "queue:",
    ]
    .iter()
    .any(|k| rest.starts_with(k))
}

/// Reads one counter line (`body` has no leading indentation; `col0` is the
/// 0-based column where it starts) into `c`.
pub(crate) fn read_counter_line(
    body: &str,
    col0: usize,
    c: &mut Counters,
    issues: &mut Vec<Issue>,
) -> CounterLine {
    let inner = body.strip_prefix('[').unwrap_or(body);
    let inner = match inner.trim_end().strip_suffix(']') {
        Some(i) => i,
        None => {
            issues.push(Issue::warning(
                col0 + body.chars().count() + 1,
                "counter line has no closing `]`",
            ));
            inner
        }
    };
    let trimmed = inner.trim_start();
    if trimmed.starts_with("Skip steps:") {
        return CounterLine::Debug("skip steps");
    }
    if trimmed.starts_with("queue:") {
        return CounterLine::Debug("queue");
    }
    if let Some(t) = trimmed.strip_prefix("Last Active Time:") {
        c.last_active = Some(t.trim().into());
        return CounterLine::Counters;
    }
    let words = words_with_cols(inner, col0 + 1);
    let mut key = String::new();
    let mut it = words.into_iter();
    let mut source_nodes = c.source_nodes.unwrap_or_default();
    let mut saw_source_nodes = false;
    while let Some((w, col)) = it.next() {
        let Some(last) = w.strip_suffix(':') else {
            if !key.is_empty() {
                key.push(' ');
            }
            key.push_str(w);
            continue;
        };
        if !key.is_empty() {
            key.push(' ');
        }
        key.push_str(last);
        let label = std::mem::take(&mut key);
        if label == "Inserted" {
            read_inserted(&mut it, c, issues);
            continue;
        }
        let Some((v, vcol)) = it.next() else {
            issues.push(Issue::warning(col, format!("`{label}:` has no value")));
            break;
        };
        let Some(n) = number(v, vcol, issues) else {
            continue;
        };
        match label.as_str() {
            "Evaluations" => c.evaluations = n,
            "Packets" => c.packets = n,
            "Bytes" => c.bytes = n,
            "States" => c.states = n,
            "State Creations" => c.state_creations = Some(n),
            "Source Nodes" => (source_nodes[0], saw_source_nodes) = (n, true),
            "Limit" => source_nodes[1] = n,
            "NAT/RDR" => source_nodes[2] = n,
            "Route" => source_nodes[3] = n,
            _ => issues.push(Issue::warning(col, format!("unknown counter `{label}`"))),
        }
    }
    if !key.is_empty() {
        issues.push(Issue::warning(
            col0 + 1,
            format!("unrecognised counter text `{key}`"),
        ));
    }
    if saw_source_nodes {
        c.source_nodes = Some(source_nodes);
    }
    CounterLine::Counters
}

/// `uid N pid N` after `Inserted:`.
fn read_inserted<'a>(
    it: &mut impl Iterator<Item = (&'a str, usize)>,
    c: &mut Counters,
    issues: &mut Vec<Issue>,
) {
    for _ in 0..2 {
        let Some((name, _)) = it.next() else { return };
        let Some((v, col)) = it.next() else { return };
        let n = number(v, col, issues);
        match name {
            "uid" => c.inserted_uid = n,
            "pid" => c.inserted_pid = n,
            _ => issues.push(Issue::warning(
                col,
                format!("unexpected `{name}` in Inserted"),
            )),
        }
    }
}

fn number(v: &str, col: usize, issues: &mut Vec<Issue>) -> Option<u64> {
    match v.parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) if !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit()) => {
            issues.push(Issue::error(
                col,
                format!("counter `{v}` does not fit in 64 bits"),
            ));
            None
        }
        Err(_) => {
            issues.push(Issue::error(col, format!("expected a number, found `{v}`")));
            None
        }
    }
}

/// Whitespace-separated words with their 1-based columns (`base` = column of `s`'s first char).
fn words_with_cols(s: &str, base: usize) -> Vec<(&str, usize)> {
    let mut out = Vec::new();
    let mut start: Option<(usize, usize)> = None;
    for (ci, (bi, ch)) in s.char_indices().enumerate() {
        match (ch.is_whitespace(), start) {
            (true, Some((sb, sc))) => {
                out.push((&s[sb..bi], base + 1 + sc));
                start = None;
            }
            (false, None) => start = Some((bi, ci)),
            _ => {}
        }
    }
    if let Some((sb, sc)) = start {
        out.push((&s[sb..], base + 1 + sc));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn read(line: &str) -> (Counters, Vec<Issue>, CounterLine) {
        let mut c = Counters::default();
        let mut issues = Vec::new();
        let body = line.trim_start();
        let col0 = line.len() - body.len();
        let kind = read_counter_line(body, col0, &mut c, &mut issues);
        (c, issues, kind)
    }

    #[test]
    fn openbsd_lines() {
        let (c, i, _) = read(
            "  [ Evaluations: 18273     Packets: 912845    Bytes: 701234567   States: 37    ]",
        );
        assert!(i.is_empty(), "{i:?}");
        assert_eq!(
            (c.evaluations, c.packets, c.bytes, c.states),
            (18273, 912845, 701234567, 37)
        );
        let (c, i, _) = read("  [ Inserted: uid 0 pid 41235 State Creations: 18012 ]");
        assert!(i.is_empty(), "{i:?}");
        assert_eq!(
            (c.inserted_uid, c.inserted_pid, c.state_creations),
            (Some(0), Some(41235), Some(18012))
        );
    }

    #[test]
    fn wide_numbers_and_old_forms() {
        let (c, i, _) = read(
            "  [ Evaluations: 123456789012  Packets: 12345678901234  Bytes: 123456789012345678  States: 1234567 ]",
        );
        assert!(i.is_empty(), "{i:?}");
        assert_eq!((c.evaluations, c.states), (123456789012, 1234567));
        let (c, i, _) = read("[ Evaluations: 5 Packets: 6 Bytes: 7 ]");
        assert!(i.is_empty(), "{i:?}");
        assert_eq!(
            (c.evaluations, c.packets, c.bytes, c.state_creations),
            (5, 6, 7, None)
        );
        let (c, _, _) = read("  [ Inserted: uid 0 pid 123 ]");
        assert_eq!((c.inserted_pid, c.state_creations), (Some(123), None));
    }

    #[test]
    fn freebsd_lines() {
        let (c, _, _) = read("  [ Last Active Time: Tue Mar  4 10:11:12 2025 ]");
        assert_eq!(c.last_active.as_deref(), Some("Tue Mar  4 10:11:12 2025"));
        let (c, i, _) =
            read("  [ Source Nodes: 1      Limit: 2      NAT/RDR: 3      Route: 4      ]");
        assert!(i.is_empty(), "{i:?}");
        assert_eq!(c.source_nodes, Some([1, 2, 3, 4]));
    }

    #[test]
    fn debug_lines_and_errors() {
        assert_eq!(
            read("  [ Skip steps: i=2 d=end ]").2,
            CounterLine::Debug("skip steps")
        );
        assert_eq!(
            read("  [ queue: qname= qid=0 pqname= pqid=0 ]").2,
            CounterLine::Debug("queue")
        );
        let (c, i, _) =
            read("  [ Evaluations: 99999999999999999999999 Packets: 1 Bytes: 2 States: 3 ]");
        assert_eq!(i.len(), 1);
        assert!(i[0].error);
        assert_eq!(i[0].col, 18);
        assert_eq!(c.packets, 1);
    }

    #[test]
    fn detection() {
        assert!(is_counter_line("[ Evaluations: 1"));
        assert!(!is_counter_line("[3819234101 + 66560]"));
    }
}
