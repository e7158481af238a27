//! One-shot output of an [`crate::analyze::Analysis`]: text, JSON, markdown.
