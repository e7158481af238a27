//! Writes `screenshots/*.svg` and `*.txt`: real frames of `pfblame demo`
//! (the bundled dual-prefix scenario, every poll played), drawn into
//! ratatui's TestBackend. `tests/tui_screenshots.rs` fails when the
//! committed files differ from what this would write.
//!
//!     cargo run --example screenshots

use std::fs;
use std::path::Path;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("screenshots");
    fs::create_dir_all(&dir)?;
    for screen in pfblame::tui::screens::screenshots()? {
        let svg = dir.join(format!("{}.svg", screen.name));
        let txt = dir.join(format!("{}.txt", screen.name));
        fs::write(&svg, screen.svg())?;
        fs::write(&txt, screen.text())?;
        println!("wrote {} and {}", svg.display(), txt.display());
    }
    Ok(())
}
