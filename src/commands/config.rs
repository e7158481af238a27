//! `pfblame config [--print]`: which configuration file is in use, and the
//! settings it gives (after the profile, before the command line).

use std::io::Write;

use crate::cli::ConfigArgs;
use crate::config::Loaded;
use crate::exit::Exit;

pub fn run(_args: &ConfigArgs, loaded: &Loaded) -> anyhow::Result<Exit> {
    let text = loaded.describe()?;
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())?;
    out.flush()?;
    Ok(Exit::Ok)
}
