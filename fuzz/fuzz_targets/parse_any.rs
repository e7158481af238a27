//! `parse_any` on any text (invalid UTF-8 replaced first): never panics,
//! and its JSON view always serialises.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = pfblame::parse::parse_any(&text);
    assert!(serde_json::to_string(&parsed).is_ok());
});
