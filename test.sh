#!/usr/bin/env bash
# The project's test command (README: "Run the tests"): formatting, lints,
# and every test (unit, fixture, property, CLI, TUI, end-to-end in tmux).
# Ends with one summary line over all test binaries.
set -euo pipefail
cd "$(dirname "$0")"
cargo fmt --all -- --check
cargo clippy --all-targets --locked -- -D warnings
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --locked 2>&1 | tee "$log"
# `set -o pipefail` has already stopped the script if a test failed.
awk '/^test result:/ { p += $4; f += $6; i += $8 }
     END { printf "tests: %d passed, %d failed, %d skipped\n", p, f, i }' "$log"
