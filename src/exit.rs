//! Exit statuses (a contract: see `shared/design.md`) and how errors map to them.

use std::fmt;

/// The process exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// Everything fine and nothing spurious.
    Ok = 0,
    /// `report`/`lint`: spurious states (or predicted ones) were found.
    Found = 1,
    /// Bad command line.
    Usage = 2,
    /// The input could not be parsed (EX_DATAERR).
    DataErr = 65,
    /// An input path is missing (EX_NOINPUT).
    NoInput = 66,
    /// pfctl could not be found or run (EX_UNAVAILABLE).
    Unavailable = 69,
    /// A bug in pfblame (EX_SOFTWARE).
    Internal = 70,
    /// Permission denied: run as root or with doas (EX_NOPERM).
    NoPerm = 77,
    /// The configuration file is invalid (EX_CONFIG).
    Config = 78,
}

impl Exit {
    pub fn code(self) -> u8 {
        self as u8
    }
}

/// An error that carries the exit status it should produce.
#[derive(Debug)]
pub struct Failure {
    pub exit: Exit,
    pub message: String,
}

impl Failure {
    pub fn new(exit: Exit, message: impl Into<String>) -> Self {
        Failure {
            exit,
            message: message.into(),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Failure {}

/// Finds the exit status for an error: the first [`Failure`] or
/// [`crate::source::SourceError`] in its chain decides; anything else is internal.
pub fn exit_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.exit;
        }
        if let Some(s) = cause.downcast_ref::<crate::source::SourceError>() {
            return s.exit();
        }
    }
    Exit::Internal
}

/// True when the error is a closed pipe on stdout (`pfblame report | head`),
/// which is not an error for a command-line tool.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|c| {
        c.downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
