//! The interactive `watch` screen.
