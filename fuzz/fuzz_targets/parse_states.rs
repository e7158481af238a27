//! `parse_states` on any text: never panics, every state it returns has a
//! line inside the input, every diagnostic a line and a column.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let lines = text.split('\n').count();
    let (states, diags) = pfblame::parse::states::parse_states(&text);
    for s in &states {
        assert!(s.line >= 1 && s.line <= lines, "state line {} of {lines}", s.line);
    }
    for d in &diags {
        assert!(d.line >= 1 && d.line <= lines && d.column >= 1);
    }
    // The streaming reader sees the same bytes and must agree.
    let mut streamed = Vec::new();
    let mut sdiags = Vec::new();
    let r = pfblame::parse::states::read_states(text.as_bytes(), |s| streamed.push(s), &mut sdiags);
    assert!(r.is_ok());
    assert_eq!(streamed, states);
});
