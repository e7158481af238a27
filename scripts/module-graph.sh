#!/usr/bin/env bash
# Prints, for each top-level module under src/, the other top-level modules
# its non-test code imports (`crate::X` in a non-comment line; `tests.rs`
# files and everything from a file's first top-level `#[cfg(test)]` on are
# left out, as in tests/layers.rs), one line per module:
#   module: dep dep dep
# Used for the before/after figures in docs/architecture.md; tests/layers.rs
# checks the same graph against the layer order.
set -euo pipefail
cd "$(dirname "$0")/../src"
for f in *.rs; do
    m=${f%.rs}
    [ "$m" = lib ] && continue
    files=("$f")
    [ -d "$m" ] && while IFS= read -r g; do files+=("$g"); done < <(find "$m" -name '*.rs' | sort)
    deps=$(for g in "${files[@]}"; do
        [ "$(basename "$g")" = tests.rs ] || awk '/^#\[cfg\(test\)\]/ { exit } !/^[[:space:]]*\/\// { print }' "$g"
    done | { grep -o 'crate::[a-z_]*' || true; } | sed 's/crate:://' | { grep -v -e "^$m\$" -e "^$" || true; } | sort -u | tr '\n' ' ')
    echo "$m: ${deps% }"
done
