//! Lines that `pfctl -nv` (and `-nvf`) prints besides rules: options
//! (`set …`), macros (`name = "…"`), `table`, `queue`, `altq`, `ether`
//! rules and `load anchor`. pfctl prints them from `pfctl_parser.c`
//! (`print_set`-style code in `pfctl.c`, `print_tabledef()`, `print_altq()`,
//! `print_queue()`, `print_eth_rule()`); `pfctl -sr` never does. They are
//! recognised (a warning each), and table definitions are kept, because
//! lint can use their addresses.

use crate::model::TableDef;

use super::addr::addr_token;
use super::line::Issue;
use super::tokens::tokenize;

/// What kind of `-nv`-only line it is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NvLine {
    Set,
    Macro,
    Table,
    Queue,
    Altq,
    Ether,
    LoadAnchor,
}

impl NvLine {
    pub fn what(self) -> &'static str {
        match self {
            NvLine::Set => "option (`set`)",
            NvLine::Macro => "macro definition",
            NvLine::Table => "table definition",
            NvLine::Queue => "queue definition",
            NvLine::Altq => "altq definition",
            NvLine::Ether => "ether rule",
            NvLine::LoadAnchor => "`load anchor`",
        }
    }
}

/// Which `-nv`-only line `body` (trimmed) is, if any.
pub(crate) fn nv_only_line(body: &str) -> Option<NvLine> {
    let (first, rest) = body.split_once(' ').unwrap_or((body, ""));
    match first {
        "set" if !rest.is_empty() => Some(NvLine::Set),
        "table" if rest.starts_with('<') => Some(NvLine::Table),
        "queue" if !rest.is_empty() => Some(NvLine::Queue),
        "altq" if rest.starts_with("on ") => Some(NvLine::Altq),
        "ether" if !rest.is_empty() => Some(NvLine::Ether),
        "load" if rest.starts_with("anchor ") => Some(NvLine::LoadAnchor),
        _ if is_macro_name(first) && rest.starts_with("= ") => Some(NvLine::Macro),
        _ => None,
    }
}

/// pfctl macro names: letters, digits and `_`, not starting with a digit.
fn is_macro_name(s: &str) -> bool {
    s.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// `table <name> [persist] [const] [counters] [file "x"]… [{ a b … }]…`,
/// as `print_tabledef()` prints it.
pub(crate) fn table_definition(
    body: &str,
    line: usize,
    issues: &mut Vec<Issue>,
) -> Option<TableDef> {
    let toks = tokenize(body);
    let name_tok = toks.get(1)?;
    let name = name_tok
        .text
        .strip_prefix('<')
        .and_then(|n| n.strip_suffix('>'))?;
    let mut def = TableDef {
        line,
        name: name.into(),
        flags: Vec::new(),
        addrs: Vec::new(),
        files: Vec::new(),
    };
    let mut i = 2;
    let mut open = false;
    while let Some(t) = toks.get(i) {
        match t.text {
            "{" => open = true,
            "}" => open = false,
            _ if open => def
                .addrs
                .push(addr_token(t.text.trim_end_matches(','), false)),
            "persist" | "const" | "counters" => def.flags.push(t.text.into()),
            "file" => {
                i += 1;
                if let Some(f) = toks.get(i) {
                    def.files.push(f.text.trim_matches('"').into());
                }
            }
            other => issues.push(Issue::warning(
                t.col,
                format!("unrecognised token `{other}` in a table definition"),
            )),
        }
        i += 1;
    }
    if open {
        issues.push(Issue::warning(
            body.chars().count() + 1,
            "table contents have no closing `}`",
        ));
    }
    Some(def)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::model::AddrSpec;

    #[test]
    fn kinds() {
        assert_eq!(nv_only_line("set block-policy drop"), Some(NvLine::Set));
        assert_eq!(nv_only_line("ext_if = \"lo0\""), Some(NvLine::Macro));
        assert_eq!(
            nv_only_line("queue std bandwidth 10% cbq( default ) "),
            Some(NvLine::Queue)
        );
        assert_eq!(
            nv_only_line("altq on lo0 cbq bandwidth 10Mb tbrsize 1824 queue { std }"),
            Some(NvLine::Altq)
        );
        assert_eq!(
            nv_only_line("ether block out on igb0 l3 all"),
            Some(NvLine::Ether)
        );
        assert_eq!(
            nv_only_line("load anchor \"x\" from \"/etc/x\""),
            Some(NvLine::LoadAnchor)
        );
        assert_eq!(nv_only_line("pass all"), None);
        assert_eq!(nv_only_line("all tcp 1.2.3.4:1 -> 5.6.7.8:2"), None);
        assert_eq!(nv_only_line("9x = y"), None);
    }

    #[test]
    fn table_contents_are_kept() {
        let mut issues = Vec::new();
        let t = table_definition(
            "table <regress.a> const { 1.2.3.4 !5.6.7.8 ::1 } file \"/dev/null\" { 4.3.2.1 }",
            3,
            &mut issues,
        )
        .unwrap();
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!((&*t.name, t.line), ("regress.a", 3));
        assert_eq!(t.flags, ["const".into()]);
        assert_eq!(t.files, ["/dev/null".into()]);
        assert_eq!(t.addrs.len(), 4);
        assert!(matches!(t.addrs[1], AddrSpec::Net { negated: true, .. }));
        let t = table_definition("table <bad> persist", 1, &mut issues).unwrap();
        assert!(t.addrs.is_empty() && t.flags == ["persist".into()]);
    }
}
