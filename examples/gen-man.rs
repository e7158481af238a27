//! Writes `man/pfblame.1` from the command-line definition and the
//! hand-written sections of `src/commands/manpage.rs`. `tests/man_page.rs` fails when
//! the committed file differs from what this would write.
//!
//!     cargo run --example gen-man

use std::fs;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("man/pfblame.1");
    fs::create_dir_all(path.parent().ok_or("man/ has a parent")?)?;
    fs::write(&path, pfblame::commands::manpage::render()?)?;
    println!("wrote {}", path.display());
    Ok(())
}
