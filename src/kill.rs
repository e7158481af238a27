//! Removing spurious states (placeholder while lint lands).
