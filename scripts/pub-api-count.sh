#!/usr/bin/env bash
# Counts the public API: `pub` items (fn, struct, enum, trait, type, const,
# static, mod, `pub use` re-exports; methods in impls count too, fields do not)
# in src/ except main.rs; `pub(crate)`/`pub(super)` do not count.
# Prints the total, then the count per top-level module.
set -euo pipefail
cd "$(dirname "$0")/../src"
pat='^\s*pub\s+(unsafe\s+|async\s+|const\s+)*(fn|struct|enum|trait|type|const|static|mod|use)\b'
total=$(find . -name '*.rs' ! -path ./main.rs -print0 | xargs -0 grep -hEc "$pat" | awk "{s+=\$1} END {print s+0}")
echo "pub items: $total"
for f in *.rs; do
    m=${f%.rs}
    [ "$m" = main ] && continue
    files=("$f")
    [ -d "$m" ] && while IFS= read -r g; do files+=("$g"); done < <(find "$m" -name '*.rs')
    n=$({ grep -hEc "$pat" "${files[@]}" || true; } | awk "{s+=\$1} END {print s+0}")
    echo "  $m: $n"
done
