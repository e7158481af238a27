//! Exit statuses (a contract: see `shared/design.md`) and how errors map to
//! them. This module owns the mapping: sources and commands return typed
//! errors, and only here does an error become a status.

use std::fmt;
use std::io;

use crate::source::SourceError;

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
    /// An output file or directory could not be created (EX_CANTCREAT).
    CantCreate = 73,
    /// Reading or writing failed (EX_IOERR): a full disk, a bad device.
    IoErr = 74,
    /// Permission denied: run as root or with doas (EX_NOPERM).
    NoPerm = 77,
    /// The configuration file is invalid (EX_CONFIG).
    Config = 78,
    /// Ended by SIGHUP (128 + 1), after putting the terminal back.
    Hangup = 129,
    /// Ended by SIGINT (128 + 2).
    Interrupted = 130,
    /// Ended by SIGQUIT (128 + 3).
    Quit = 131,
    /// Ended by SIGTERM (128 + 15).
    Terminated = 143,
}

impl From<&SourceError> for Exit {
    /// The exit status each source failure produces (see `shared/design.md`).
    fn from(e: &SourceError) -> Exit {
        match e {
            SourceError::NotFound { .. } | SourceError::Unrunnable { .. } => Exit::Unavailable,
            SourceError::InvalidOption { .. } => Exit::Usage,
            SourceError::PermissionDenied { .. } => Exit::NoPerm,
            SourceError::Timeout { .. }
            | SourceError::Failed { .. }
            | SourceError::Killed { .. } => Exit::Unavailable,
            SourceError::MissingInput { .. }
            | SourceError::NotAFile { .. }
            | SourceError::NoRecording { .. } => Exit::NoInput,
            SourceError::BadRecording { .. } | SourceError::NotPfctlOutput { .. } => Exit::DataErr,
            SourceError::Io { source, .. } => Exit::for_read_error(source),
        }
    }
}

impl From<&crate::kill::KillError> for Exit {
    /// `--kill` could not run its pfctl commands at all.
    fn from(e: &crate::kill::KillError) -> Exit {
        use crate::kill::KillError;
        match e {
            KillError::EmptyCommand => Exit::Usage,
            KillError::Spawn { source, .. } => match source.kind() {
                io::ErrorKind::PermissionDenied => Exit::NoPerm,
                _ => Exit::Unavailable,
            },
        }
    }
}

impl Exit {
    /// The conventional status for a termination signal: 128 + its number.
    pub(crate) fn for_signal(signal: i32) -> Exit {
        match signal {
            1 => Exit::Hangup,
            2 => Exit::Interrupted,
            3 => Exit::Quit,
            _ => Exit::Terminated,
        }
    }

    /// Reading input failed: a permission problem or an I/O error.
    pub(crate) fn for_read_error(e: &io::Error) -> Exit {
        match e.kind() {
            io::ErrorKind::PermissionDenied => Exit::NoPerm,
            io::ErrorKind::NotFound => Exit::NoInput,
            _ => Exit::IoErr,
        }
    }

    /// Creating an output file or directory failed.
    pub(crate) fn for_create_error(e: &io::Error) -> Exit {
        match e.kind() {
            io::ErrorKind::PermissionDenied => Exit::NoPerm,
            io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded => Exit::IoErr,
            _ => Exit::CantCreate,
        }
    }

    /// Writing to an output file that was created failed (a full disk).
    pub(crate) fn for_write_error(e: &io::Error) -> Exit {
        match e.kind() {
            io::ErrorKind::PermissionDenied => Exit::NoPerm,
            _ => Exit::IoErr,
        }
    }
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
/// [`SourceError`] in its chain decides; anything else is internal.
pub fn exit_for(err: &anyhow::Error) -> Exit {
    for cause in err.chain() {
        if let Some(f) = cause.downcast_ref::<Failure>() {
            return f.exit;
        }
        if let Some(s) = cause.downcast_ref::<SourceError>() {
            return Exit::from(s);
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

/// The one line printed for an error: its message, then each cause whose
/// text the line does not hold already (errors that print their source,
/// such as `reading X: No space left on device`, would otherwise say it twice).
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        if line.contains(&text) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(&text);
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_already_in_the_message_is_not_repeated() {
        let io = io::Error::from(io::ErrorKind::StorageFull);
        let shown = io.to_string();
        let err = anyhow::Error::from(SourceError::Io {
            what: "x".into(),
            source: io,
        })
        .context("recording");
        let line = one_line(&err);
        assert_eq!(line.matches(&shown).count(), 1, "{line}");
        assert!(line.starts_with("recording: reading x: "), "{line}");
    }

    #[test]
    fn io_failures_get_their_own_statuses() {
        let err = |k| io::Error::from(k);
        assert_eq!(
            Exit::for_create_error(&err(io::ErrorKind::ReadOnlyFilesystem)),
            Exit::CantCreate
        );
        assert_eq!(
            Exit::for_create_error(&err(io::ErrorKind::StorageFull)),
            Exit::IoErr
        );
        assert_eq!(
            Exit::for_create_error(&err(io::ErrorKind::PermissionDenied)),
            Exit::NoPerm
        );
        assert_eq!(
            Exit::for_write_error(&err(io::ErrorKind::StorageFull)),
            Exit::IoErr
        );
        assert_eq!(
            Exit::for_read_error(&err(io::ErrorKind::InvalidData)),
            Exit::IoErr
        );
        let missing = SourceError::NoRecording { path: "d".into() };
        assert_eq!(Exit::from(&missing), Exit::NoInput);
    }
}
