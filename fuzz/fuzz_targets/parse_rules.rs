//! `parse_rules` on any text: never panics; rules and diagnostics point
//! inside the input.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.split('\n').count();
    let (rules, diags) = pfblame::parse::rules::parse_rules(&text);
    for r in &rules {
        assert!(r.line >= 1 && r.line <= lines, "rule line {} of {lines}", r.line);
    }
    for d in &diags {
        assert!(d.line >= 1 && d.line <= lines && d.column >= 1);
    }
});
