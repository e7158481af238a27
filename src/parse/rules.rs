//! `pfctl -sr` / `-vsr` / `-vvsr`, with `-a '*'` recursion: see pfctl-formats.md §2.
//!
//! Anchor nesting is followed through `{` / `}` lines, not indentation (which
//! only exists without `-v`). Rule numbers restart in every ruleset, so every
//! rule carries the path of its ruleset (`anchor_path`).

mod addr;
mod counters;
mod line;
mod nv;
mod tokens;

use std::collections::HashMap;

use crate::model::{Action, AnchorKind, Counters, Diagnostic, Rule, Ruleset, Severity, TableDef};
use crate::parse::common::{clip, nul_column};

pub use counters::is_counter_line;
use counters::{CounterLine, read_counter_line};
pub use line::{Issue, parse_rule_text};
use nv::{NvLine, nv_only_line};

/// Line-by-line rules parser (push API). Anchor blocks need context, so
/// rules are returned by [`Self::finish`].
#[derive(Debug, Default)]
pub struct RulesParser {
    rules: Vec<Rule>,
    frames: Vec<Frame>,
    /// The rule that counter lines belong to (the last rule line).
    last: Option<usize>,
    /// A synthesised `anchor "child" all {` header of a wildcard anchor, kept
    /// in case counter lines follow (then it was a real rule after all).
    synth: Option<Synth>,
    /// Unnamed inline anchors seen in the main ruleset.
    root_unnamed: u32,
    /// First line of each `@N`, per ruleset path and ruleset type.
    seen: HashMap<(String, Ruleset, u32), usize>,
    /// The number the next rule without `@N` gets, per ruleset path and
    /// ruleset (its position: pfctl numbers rules in listing order).
    next: HashMap<(String, Ruleset), u32>,
    /// `table` definitions (`pfctl -nv`).
    tables: Vec<TableDef>,
}

/// An open `{` block.
#[derive(Debug)]
struct Frame {
    /// Path of the ruleset inside the block (`""` = main).
    path: String,
    /// `anchor "foo/*"`: the block holds synthesised child headers.
    wildcard: bool,
    line: usize,
    /// The line that opened the block, for the "never closed" diagnostic.
    text: String,
    unnamed: u32,
}

#[derive(Debug)]
struct Synth {
    line: usize,
    indent: usize,
    text: String,
    parent: String,
}

impl RulesParser {
    pub fn new() -> Self {
        Self::default()
    }

    /// Feeds one line (no line terminator; a trailing `\r` is already gone).
    pub fn push(&mut self, line_no: usize, line: &str, diags: &mut Vec<Diagnostic>) {
        let line = line.strip_suffix('\r').unwrap_or(line);
        let body = line.trim_start();
        if body.trim_end().is_empty() {
            return;
        }
        let body = body.trim_end();
        if let Some(column) = nul_column(line) {
            self.interrupt();
            diags.push(Diagnostic {
                line: line_no,
                column,
                severity: Severity::Error,
                message: "NUL byte: this is not pfctl text; line skipped".into(),
                text: clip(line),
            });
            return;
        }
        let col0 = line.chars().count() - line.trim_start().chars().count();
        let mut ctx = LineCtx {
            line_no,
            line,
            diags,
        };
        if is_counter_line(body) {
            self.counter_line(body, col0, &mut ctx);
        } else if body == "}" {
            self.close(col0, &mut ctx);
        } else if is_limiter_definition(body) {
            ctx.push(
                col0 + 1,
                Severity::Warning,
                "state/source limiter definition, not modelled".into(),
            );
        } else if let Some(kind) = nv_only_line(body) {
            self.interrupt();
            if kind == NvLine::Table {
                let mut issues = Vec::new();
                if let Some(t) = nv::table_definition(body, line_no, &mut issues) {
                    self.tables.push(t);
                }
                ctx.issues(col0, issues);
            }
            ctx.push(
                col0 + 1,
                Severity::Warning,
                format!("{} (printed by `pfctl -nv`, not a rule)", kind.what()),
            );
        } else {
            self.rule_line(body, col0, &mut ctx);
        }
    }

    /// Tells the parser that a line it did not see came in between (a state,
    /// a message, garbage): counter lines after it belong to no rule.
    pub(crate) fn interrupt(&mut self) {
        self.last = None;
        self.flush_synth();
    }

    /// The `table` definitions seen so far.
    pub(crate) fn take_tables(&mut self) -> Vec<TableDef> {
        std::mem::take(&mut self.tables)
    }

    /// Ends the input and returns the rules in listing order.
    pub fn finish(self, diags: &mut Vec<Diagnostic>) -> Vec<Rule> {
        for f in self.frames.iter().rev() {
            diags.push(Diagnostic {
                line: f.line,
                column: 1,
                severity: Severity::Error,
                message: format!(
                    "anchor block `{}` is never closed (missing `}}`)",
                    display_path(&f.path)
                ),
                text: f.text.clone(),
            });
        }
        self.rules
    }

    fn current_path(&self) -> &str {
        self.frames.last().map_or("", |f| f.path.as_str())
    }

    fn counter_line(&mut self, body: &str, col0: usize, ctx: &mut LineCtx<'_, '_>) {
        if self.last.is_none()
            && let Some(s) = self.synth.take()
        {
            // Counters after a wildcard child header: it was a real anchor rule.
            if let Ok((mut r, _)) = parse_rule_text(&s.text, false, false) {
                r.line = s.line;
                r.anchor_path = s.parent;
                r.listing.indent = s.indent;
                r.listing.opens = true;
                self.rules.push(r);
                self.last = Some(self.rules.len() - 1);
            }
        }
        let Some(rule) = self.last.and_then(|i| self.rules.get_mut(i)) else {
            ctx.push(
                col0 + 1,
                Severity::Warning,
                "counter line without a rule before it".into(),
            );
            return;
        };
        let mut issues = Vec::new();
        let counters = rule.counters.get_or_insert_with(Counters::default);
        if let CounterLine::Debug(what) = read_counter_line(body, col0, counters, &mut issues) {
            ctx.push(
                col0 + 1,
                Severity::Warning,
                format!("`-g` debug line ({what}) ignored"),
            );
        }
        ctx.issues(0, issues);
    }

    fn close(&mut self, col0: usize, ctx: &mut LineCtx<'_, '_>) {
        self.last = None;
        self.flush_synth();
        self.after_last(col0, "}");
        if self.frames.pop().is_none() {
            ctx.push(
                col0 + 1,
                Severity::Error,
                "`}` closes no anchor block".into(),
            );
        }
    }

    /// A wildcard child header that no counter line followed: not a rule,
    /// but a line of the listing after the last rule.
    fn flush_synth(&mut self) {
        if let Some(s) = self.synth.take() {
            let text = format!("{} {{", s.text);
            self.after_last(s.indent, &text);
        }
    }

    /// Records a line that is not a rule after the last rule (for printing back).
    fn after_last(&mut self, indent: usize, text: &str) {
        if let Some(r) = self.rules.last_mut() {
            r.listing.after.push((indent, text.into()));
        }
    }

    fn rule_line(&mut self, body: &str, col0: usize, ctx: &mut LineCtx<'_, '_>) {
        self.last = None;
        self.flush_synth();
        let Some(prefix) = number_prefix(body, col0, ctx) else {
            return;
        };
        let rest = &body[prefix.skip..];
        let rest_col0 = col0 + body[..prefix.skip].chars().count();
        let (text, opens) = match rest.strip_suffix('{') {
            Some(t) if t.is_empty() || t.ends_with(char::is_whitespace) => (t.trim_end(), true),
            _ => (rest, false),
        };
        if opens
            && !prefix.present
            && self.frames.last().is_some_and(|f| f.wildcard)
            && let Some(child) = synthesised_child(text)
        {
            let parent = self.current_path().to_owned();
            let path = join_path(&parent, child);
            self.synth = Some(Synth {
                line: ctx.line_no,
                indent: col0,
                text: text.to_owned(),
                parent,
            });
            self.open(path, false, ctx);
            return;
        }
        let (mut rule, issues) =
            match parse_rule_text(text, prefix.present, legacy_printer(ctx.line)) {
                Ok(v) => v,
                Err(issue) => {
                    ctx.issues(rest_col0, vec![issue]);
                    return;
                }
            };
        ctx.issues(rest_col0, issues);
        rule.line = ctx.line_no;
        rule.number = prefix.number;
        if prefix.ridentifier.is_some() {
            rule.ridentifier = prefix.ridentifier;
        }
        rule.anchor_path = self.current_path().to_owned();
        rule.ruleset = ruleset_kind(&rule);
        self.number(&mut rule, prefix.present);
        rule.listing.indent = col0;
        rule.listing.opens = opens;
        rule.listing.numbered_id = prefix.ridentifier.is_some();
        self.check_repeat(&rule, col0, ctx);
        if opens {
            let (path, wildcard) = self.block_path(&rule);
            if rule.action != Action::Anchor {
                ctx.push(
                    rest_col0 + text.chars().count() + 2,
                    Severity::Warning,
                    "`{` after a rule that is not an anchor".into(),
                );
            }
            self.open(path, wildcard, ctx);
        }
        self.rules.push(rule);
        self.last = Some(self.rules.len() - 1);
    }

    fn open(&mut self, path: String, wildcard: bool, ctx: &LineCtx<'_, '_>) {
        self.frames.push(Frame {
            path,
            wildcard,
            line: ctx.line_no,
            text: ctx.line.to_owned(),
            unnamed: 0,
        });
    }

    /// Path of the ruleset an anchor rule opens: relative to the current one
    /// unless it starts with `/`; `foo/*` is the wildcard parent `foo`.
    /// Unnamed inline anchors get `_N` (N counts them from 1 in their parent):
    /// pf names them like that internally, but its exact numbering is not
    /// printed, so treat the number as a local label.
    fn block_path(&mut self, rule: &Rule) -> (String, bool) {
        let parent = self.current_path().to_owned();
        let Some(name) = rule.anchor_name.as_deref() else {
            let n = match self.frames.last_mut() {
                Some(f) => {
                    f.unnamed += 1;
                    f.unnamed
                }
                None => {
                    self.root_unnamed += 1;
                    self.root_unnamed
                }
            };
            return (join_path(&parent, &format!("_{n}")), false);
        };
        let (name, wildcard) = match name.strip_suffix('*') {
            Some(base) => (base.trim_end_matches('/'), true),
            None => (name, false),
        };
        let path = match name.strip_prefix('/') {
            Some(abs) => abs.to_owned(),
            None => join_path(&parent, name),
        };
        (path, wildcard)
    }

    /// Infers the number of a rule printed without `@N` (`-sr`, `-vsr`,
    /// `-nvf`) from its position in its ruleset; a printed `@N` sets the
    /// count. Without `-vv`, OpenBSD hides expired `once` rules
    /// (`print_rule()`), so numbers after one are off by one: they are
    /// marked inferred, never taken for printed ones.
    fn number(&mut self, rule: &mut Rule, printed: bool) {
        let next = self
            .next
            .entry((rule.anchor_path.clone(), rule.ruleset))
            .or_default();
        match rule.number {
            Some(n) => *next = n.saturating_add(1),
            // Printed but unreadable (out of range): not guessed.
            None if printed => {}
            None => {
                rule.number = Some(*next);
                rule.number_inferred = true;
                *next = next.saturating_add(1);
            }
        }
    }

    fn check_repeat(&mut self, rule: &Rule, col0: usize, ctx: &mut LineCtx<'_, '_>) {
        let Some(n) = rule.number.filter(|_| !rule.number_inferred) else {
            return;
        };
        let kind = ruleset_kind(rule);
        let key = (rule.anchor_path.clone(), kind, n);
        if let Some(first) = self.seen.get(&key) {
            ctx.push(
                col0 + 1,
                // Two rules with one number: states cannot be attributed.
                Severity::Error,
                format!("rule number @{n} repeats in this ruleset (first on line {first})"),
            );
        } else {
            self.seen.insert(key, ctx.line_no);
        }
    }
}

/// The ruleset a rule lives in: FreeBSD (and old OpenBSD, macOS) number
/// scrub, filter, nat, rdr and binat rules (and their `*-anchor` calls)
/// separately (`pf_get_ruleset_number()`); pfctl lists translation rules
/// in the order nat, rdr, binat (`pfctl_show_nat()`).
fn ruleset_kind(rule: &Rule) -> Ruleset {
    match (&rule.action, rule.anchor_kind) {
        _ if rule.scrub => Ruleset::Scrub,
        (_, Some(AnchorKind::ScrubAnchor)) => Ruleset::Scrub,
        (_, Some(AnchorKind::NatAnchor)) => Ruleset::Nat,
        (_, Some(AnchorKind::RdrAnchor)) => Ruleset::Rdr,
        (_, Some(AnchorKind::BinatAnchor)) => Ruleset::Binat,
        (_, Some(AnchorKind::DummynetAnchor)) => Ruleset::Dummynet,
        (Action::Other(a), _) if a.ends_with("scrub") => Ruleset::Scrub,
        (Action::Other(a), _) if a.ends_with("binat") => Ruleset::Binat,
        (Action::Other(a), _) if a.ends_with("nat") => Ruleset::Nat,
        (Action::Other(a), _) if a.ends_with("rdr") => Ruleset::Rdr,
        (Action::Other(a), _) if &**a == "dummynet" => Ruleset::Dummynet,
        _ => Ruleset::Filter,
    }
}

fn display_path(p: &str) -> &str {
    if p.is_empty() { "main" } else { p }
}

fn join_path(parent: &str, child: &str) -> String {
    if parent.is_empty() {
        child.to_owned()
    } else if child.is_empty() {
        parent.to_owned()
    } else {
        format!("{parent}/{child}")
    }
}

/// `anchor "child" all`: the line pfctl synthesises for each child of a
/// wildcard anchor.
fn synthesised_child(text: &str) -> Option<&str> {
    let name = text.strip_prefix("anchor \"")?.strip_suffix("\" all")?;
    (!name.contains('"')).then_some(name)
}

/// The 2002–2004 pfctl printers end every rule line in a blank (their
/// `print_rule()` writes `"%s "` per item); later ones do not.
fn legacy_printer(line: &str) -> bool {
    line.strip_suffix('\r').unwrap_or(line).ends_with(' ')
}

fn is_limiter_definition(body: &str) -> bool {
    body.starts_with("state limiter ") || body.starts_with("source limiter ")
}

/// Where a line is reported.
/// Diagnostics listed one by one per line (see [`LineCtx::issues`]).
const MAX_ISSUES_PER_LINE: usize = 20;

struct LineCtx<'l, 'd> {
    line_no: usize,
    line: &'l str,
    diags: &'d mut Vec<Diagnostic>,
}

impl LineCtx<'_, '_> {
    fn push(&mut self, column: usize, severity: Severity, message: String) {
        self.diags.push(Diagnostic {
            line: self.line_no,
            column,
            severity,
            message,
            text: clip(self.line),
        });
    }

    /// Reports issues whose columns are relative to text starting at `col0`.
    /// At most [`MAX_ISSUES_PER_LINE`] are reported one by one: a line of a
    /// million unknown tokens gets a summary, not a million diagnostics.
    fn issues(&mut self, col0: usize, issues: Vec<Issue>) {
        let total = issues.len();
        let mut rest_error = false;
        let mut first_rest_col = None;
        for (n, i) in issues.into_iter().enumerate() {
            let sev = if i.error {
                Severity::Error
            } else {
                Severity::Warning
            };
            if n < MAX_ISSUES_PER_LINE {
                self.push(col0 + i.col, sev, i.message);
            } else {
                rest_error |= i.error;
                first_rest_col.get_or_insert(col0 + i.col);
            }
        }
        if let Some(col) = first_rest_col {
            let sev = if rest_error {
                Severity::Error
            } else {
                Severity::Warning
            };
            let more = total - MAX_ISSUES_PER_LINE;
            self.push(
                col,
                sev,
                format!("{more} more problems on this line not listed"),
            );
        }
    }
}

/// `@N ` / pfSense `@N(id) ` at the start of a rule line.
struct NumberPrefix {
    present: bool,
    number: Option<u32>,
    ridentifier: Option<u64>,
    /// Bytes of `body` taken by the prefix and the space after it.
    skip: usize,
}

fn number_prefix(body: &str, col0: usize, ctx: &mut LineCtx<'_, '_>) -> Option<NumberPrefix> {
    let Some(rest) = body.strip_prefix('@') else {
        return Some(NumberPrefix {
            present: false,
            number: None,
            ridentifier: None,
            skip: 0,
        });
    };
    let word_end = rest.find(char::is_whitespace).unwrap_or(rest.len());
    let word = &rest[..word_end];
    let (num, rid) = match word.split_once('(') {
        Some((n, r)) => (n, r.strip_suffix(')').map(str::to_owned)),
        None => (word, None),
    };
    if num.is_empty() || !num.bytes().all(|b| b.is_ascii_digit()) {
        ctx.push(
            col0 + 1,
            Severity::Error,
            format!("expected a rule number after `@`, found `@{word}`"),
        );
        return None;
    }
    let number = num.parse::<u32>().ok();
    if number.is_none() {
        ctx.push(
            col0 + 2,
            Severity::Error,
            format!("rule number `{num}` is out of range"),
        );
    }
    let ridentifier = match rid.as_deref().map(str::parse::<u64>) {
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => {
            ctx.push(
                col0 + 2 + num.len(),
                Severity::Warning,
                format!("unreadable rule identifier in `@{word}`"),
            );
            None
        }
        None => None,
    };
    let after = &rest[word_end..];
    let skip = 1 + word_end + (after.len() - after.trim_start().len());
    Some(NumberPrefix {
        present: true,
        number,
        ridentifier,
        skip,
    })
}

/// True if `line` looks like a rule line or a rule's counter line.
pub(crate) fn looks_like_rule(line: &str) -> bool {
    !surely_not_rule(line) && looks_like_rule_in_full(line)
}

/// [`looks_like_rule`] without its shortcut.
fn looks_like_rule_in_full(line: &str) -> bool {
    let body = line.trim();
    if body == "}"
        || is_counter_line(body)
        || is_limiter_definition(body)
        || nv_only_line(body).is_some()
    {
        return true;
    }
    let body = match body.strip_prefix('@') {
        Some(rest) if rest.starts_with(|c: char| c.is_ascii_digit()) => {
            match rest.find(char::is_whitespace) {
                Some(i) => rest[i..].trim_start(),
                None => return false,
            }
        }
        Some(_) => return false,
        None => body,
    };
    let first = body.split_whitespace().next().unwrap_or("");
    matches!(
        first,
        "pass"
            | "block"
            | "match"
            | "anchor"
            | "scrub"
            | "nat-anchor"
            | "rdr-anchor"
            | "binat-anchor"
            | "scrub-anchor"
            | "dummynet-anchor"
            | "nat"
            | "rdr"
            | "binat"
            | "dummynet"
    ) || (first == "no"
        && matches!(
            body.split_whitespace().nth(1),
            Some("nat" | "rdr" | "binat" | "scrub")
        ))
        || first.starts_with("anchor(")
        || first.starts_with("action(")
}

/// The words that, first on a line, can make [`looks_like_rule`] true:
/// its rule keywords, `no`, the `nv_only_line` keywords and the limiter
/// definitions' first words.
const RULE_FIRST_WORDS: &[&str] = &[
    "pass",
    "block",
    "match",
    "anchor",
    "scrub",
    "nat-anchor",
    "rdr-anchor",
    "binat-anchor",
    "scrub-anchor",
    "dummynet-anchor",
    "nat",
    "rdr",
    "binat",
    "dummynet",
    "no",
    "set",
    "table",
    "queue",
    "altq",
    "ether",
    "load",
    "state",
    "source",
];

/// A cheap test, true only where [`looks_like_rule`] is false (it runs on
/// every state line of untitled input): the line starts with a printable
/// ASCII word, up to its first space, that is no rule keyword, opens no
/// `@N`, `[` counter or `}`, is not `anchor(`/`action(`, and no `= ` (a
/// macro) follows it. Without blanks before it, the word is both the
/// first `split_whitespace` word and `nv_only_line`'s first word.
fn surely_not_rule(line: &str) -> bool {
    let bytes = line.as_bytes();
    let word_len = bytes.iter().take_while(|&&b| b != b' ').count();
    let (word, rest) = bytes.split_at(word_len);
    match word.first() {
        None | Some(b'}' | b'[' | b'@') => return false,
        Some(_) => {}
    }
    word.iter().all(u8::is_ascii_graphic)
        && !RULE_FIRST_WORDS.iter().any(|k| k.as_bytes() == word)
        && !word.starts_with(b"anchor(")
        && !word.starts_with(b"action(")
        && !rest.starts_with(b" = ")
}

/// Parses a whole rules listing.
pub fn parse_rules(text: &str) -> (Vec<Rule>, Vec<Diagnostic>) {
    let mut diags = Vec::new();
    let mut p = RulesParser::new();
    for (i, line) in crate::parse::common::split_lines(text).enumerate() {
        p.push(i + 1, line, &mut diags);
    }
    let rules = p.finish(&mut diags);
    diags.sort_by_key(|d| (d.line, d.column));
    (rules, diags)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    /// Every line of every fixture and a few made to trip the shortcut:
    /// where it says "not a rule", the full test agrees.
    #[test]
    fn the_shortcut_never_rejects_a_rule() {
        let mut lines: Vec<String> = [
            "pass in all",
            "nat-anchor \"x\" all",
            "anchor(\"a\") all",
            "action(x) all",
            "FOO = \"bar\"",
            "FOO =",
            "state limiter 1",
            "source limiter 1",
            "no nat on em0",
            "}",
            "[ Evaluations: 1 ]",
            "@3 pass in all",
            "pass\tin all",
            "all tcp 10.0.0.1:1 -> 10.0.0.2:2       ESTABLISHED:ESTABLISHED",
            "pass",
            "table <t> persist",
        ]
        .iter()
        .map(|l| (*l).to_owned())
        .collect();
        let mut dirs = vec![std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/fixtures"
        ))];
        while let Some(dir) = dirs.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    dirs.push(path);
                } else if let Ok(text) = std::fs::read_to_string(&path) {
                    lines.extend(text.lines().map(str::to_owned));
                }
            }
        }
        assert!(lines.len() > 1000, "fixtures not found: {}", lines.len());
        let mut shortcut = 0;
        for line in &lines {
            if surely_not_rule(line) {
                shortcut += 1;
                assert!(!looks_like_rule_in_full(line), "{line:?}");
            }
        }
        assert!(shortcut > 100, "the shortcut never applies");
        for rule in ["pass in all", "FOO = \"bar\"", "nat-anchor \"x\" all", "}"] {
            assert!(looks_like_rule(rule), "{rule:?}");
        }
    }
    use crate::model::StatePolicy;

    #[test]
    fn anchors_nest_and_wildcards_synthesise() {
        let text = "\
@0 pass all flags S/SA
@1 anchor \"relayd/*\" all {
  [ Evaluations: 1 Packets: 0 Bytes: 0 States: 0 ]
  [ Inserted: uid 0 pid 1 State Creations: 0 ]
anchor \"web\" all {
@0 pass in quick on em0 proto tcp to 192.0.2.10 port = 80 flags S/SA
}
}
@2 anchor \"foo\" in on lo0 all {
@0 anchor \"bar\" in all {
@0 anchor \"/1/2/3\" all
@1 pass in on lo0 all flags S/SA
}
@1 anchor in all {
@0 block all
}
}
@3 block all
";
        let (rules, diags) = parse_rules(text);
        assert!(diags.is_empty(), "{diags:?}");
        let got: Vec<(Option<u32>, &str)> = rules
            .iter()
            .map(|r| (r.number, r.anchor_path.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                (Some(0), ""),
                (Some(1), ""),
                (Some(0), "relayd/web"),
                (Some(2), ""),
                (Some(0), "foo"),
                (Some(0), "foo/bar"),
                (Some(1), "foo/bar"),
                (Some(1), "foo"),
                (Some(0), "foo/_1"),
                (Some(3), ""),
            ]
        );
        assert_eq!(rules[1].counters.as_ref().map(|c| c.evaluations), Some(1));
        assert_eq!(rules[1].text, "anchor \"relayd/*\" all");
        assert_eq!(rules[2].state, Some(StatePolicy::Keep));
    }

    #[test]
    fn indentation_without_v_is_ignored() {
        let text = "anchor \"a\" all {\n  pass all flags S/SA\n  anchor \"b\" all {\n    block all\n  }\n}\npass all";
        let (rules, diags) = parse_rules(text);
        assert!(diags.is_empty(), "{diags:?}");
        let paths: Vec<&str> = rules.iter().map(|r| r.anchor_path.as_str()).collect();
        assert_eq!(paths, ["", "a", "a", "a/b", ""]);
        assert_eq!(rules[3].text, "block all");
    }

    #[test]
    fn bad_lines_report_and_continue() {
        let text = "@0 pass all\nthis is junk\n}\n@x pass\n@0 block all\nanchor \"open\" all {\n@0 pass all";
        let (rules, diags) = parse_rules(text);
        assert_eq!(rules.len(), 4);
        let brief: Vec<(usize, usize, Severity)> = diags
            .iter()
            .map(|d| (d.line, d.column, d.severity))
            .collect();
        assert_eq!(
            brief,
            [
                (2, 1, Severity::Error),
                (3, 1, Severity::Error),
                (4, 1, Severity::Error),
                // A repeated `@0`: states could not be attributed.
                (5, 1, Severity::Error),
                (6, 1, Severity::Error),
            ]
        );
    }

    #[test]
    fn pfsense_ridentifier_and_numbers() {
        let (rules, diags) = parse_rules(
            "@12(1000000103) block drop in log inet all label \"Default deny rule IPv4\"",
        );
        assert!(diags.is_empty(), "{diags:?}");
        assert_eq!(rules[0].number, Some(12));
        assert_eq!(rules[0].ridentifier, Some(1000000103));
        assert_eq!(
            rules[0].text,
            "block drop in log inet all label \"Default deny rule IPv4\""
        );
        let (rules, diags) = parse_rules("@99999999999 pass all");
        assert_eq!(rules[0].number, None);
        assert_eq!(
            (diags[0].line, diags[0].column, diags[0].severity),
            (1, 2, Severity::Error)
        );
    }

    #[test]
    fn debug_lines_warn_and_counters_still_attach() {
        let text = "@0 pass all flags S/SA\n  [ Skip steps: i=end d=end f=end p=end sa=end sp=end da=end dp=end ]\n  [ queue: qname= qid=0 pqname= pqid=0 ]\n  [ Evaluations: 7         Packets: 8         Bytes: 9           States: 1     ]\n";
        let (rules, diags) = parse_rules(text);
        assert_eq!(
            rules[0]
                .counters
                .as_ref()
                .map(|c| (c.evaluations, c.states)),
            Some((7, 1))
        );
        let got: Vec<(usize, Severity)> = diags.iter().map(|d| (d.line, d.severity)).collect();
        assert_eq!(got, [(2, Severity::Warning), (3, Severity::Warning)]);
        assert!(diags[0].message.contains("skip steps"));
    }

    #[test]
    fn counters_after_a_wildcard_child_make_it_a_rule() {
        let text = "anchor \"relayd/*\" all {\nanchor \"web\" all {\n  [ Evaluations: 3 Packets: 0 Bytes: 0 States: 0 ]\npass all\n}\n}\n";
        let (rules, diags) = parse_rules(text);
        assert!(diags.is_empty(), "{diags:?}");
        let got: Vec<(&str, &str)> = rules
            .iter()
            .map(|r| (r.anchor_path.as_str(), r.text.as_str()))
            .collect();
        assert_eq!(
            got,
            [
                ("", "anchor \"relayd/*\" all"),
                ("relayd", "anchor \"web\" all"),
                ("relayd/web", "pass all"),
            ]
        );
        assert_eq!(rules[1].counters.as_ref().map(|c| c.evaluations), Some(3));
    }

    #[test]
    fn detection() {
        assert!(looks_like_rule("@3 pass in all"));
        assert!(looks_like_rule("  block return all"));
        assert!(looks_like_rule(
            "  [ Evaluations: 1 Packets: 2 Bytes: 3 States: 0 ]"
        ));
        assert!(looks_like_rule("no nat on em0 all"));
        assert!(!looks_like_rule(
            "all tcp 10.0.0.1:1 -> 10.0.0.2:2       ESTABLISHED:ESTABLISHED"
        ));
        assert!(!looks_like_rule(
            "   [3819234101 + 66560] wscale 7  [2234550001 + 65535] wscale 8"
        ));
        assert!(!looks_like_rule("Status: Enabled for 0 days"));
    }
}
