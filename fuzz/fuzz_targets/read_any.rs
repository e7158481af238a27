//! `read_any` on raw bytes (the `--from FILE` path): never panics, never
//! fails on an in-memory reader, and agrees with `parse_any` on valid UTF-8.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parsed = pfblame::parse::read_any(data);
    let Ok(parsed) = parsed else {
        panic!("read_any failed on an in-memory reader");
    };
    if let Ok(text) = std::str::from_utf8(data) {
        assert_eq!(parsed, pfblame::parse::parse_any(text));
    }
});
