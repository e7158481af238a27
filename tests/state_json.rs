//! The hand-written state JSON (`pfblame::state_json`, used by `parse
//! --format json`) is byte for byte what serde_json writes from the model's
//! `Serialize` derive, made terminal-safe by `sanitize::json_safe`: on every
//! state of every fixture and of generated tables of both flavours.
#![allow(clippy::unwrap_used)]

use pfblame::model::State;
use pfblame::parse::read_any;
use pfblame::print::Flavor;
use pfblame::state_json::{StateWriter, write_state};

mod corpus_support;
#[path = "../examples/gen_table.rs"]
#[allow(dead_code)]
mod gen_table;

/// Both writers: `write_state` on its own, and one `StateWriter` across
/// the file's states, as `parse --format json` uses it (its remembered
/// strings carry over from state to state).
fn same_json(name: &str, states: &[State]) {
    let mut ours = Vec::new();
    let mut streamed = Vec::new();
    let mut writer = StateWriter::default();
    for s in states {
        ours.clear();
        write_state(&mut ours, s);
        let serde = serde_json::to_string(s).unwrap();
        let safe = pfblame::sanitize::json_safe(&serde);
        assert_eq!(
            String::from_utf8_lossy(&ours),
            safe,
            "{name}: state of line {}",
            s.line
        );
        streamed.clear();
        writer.write(&mut streamed, s);
        assert_eq!(streamed, ours, "{name}: streamed state of line {}", s.line);
    }
}

#[test]
fn every_fixture_state_as_serde_writes_it() {
    let files = corpus_support::fixture_files();
    let mut states = 0;
    for f in &files {
        let parsed = read_any(std::fs::read(f).unwrap().as_slice()).unwrap();
        states += parsed.states.len();
        same_json(&f.display().to_string(), &parsed.states);
    }
    assert!(states > 100, "the fixtures hold states");
}

#[test]
fn generated_states_as_serde_writes_them() {
    for flavor in [Flavor::OpenBsd, Flavor::FreeBsd] {
        let (_, text, _) = gen_table::generate(&gen_table::Options::new(3000, flavor, 5));
        let parsed = read_any(text.as_bytes()).unwrap();
        same_json(&format!("{flavor:?}"), &parsed.states);
    }
}
