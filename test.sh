#!/usr/bin/env bash
# The project's test command (README: "Run the tests"): formatting, lints,
# and every test (unit, fixture, property, CLI, TUI, end-to-end).
set -euo pipefail
cd "$(dirname "$0")"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
cargo test --locked
