//! The interactive `watch` screen.
//!
//! [`app`] holds the state and every change to it; [`view`] draws it;
//! [`action`] maps keys to commands; [`event`] runs the input and collector
//! threads; [`run`] is the loop that ties them together, generic over the
//! ratatui backend so tests drive it on a `TestBackend`.

pub mod action;
pub mod app;
pub mod event;
#[doc(hidden)]
pub mod fake;
pub mod snapshot;
pub mod theme;
pub mod view;
