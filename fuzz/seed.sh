#!/bin/sh
# Seeds the fuzz corpora from the project's fixtures (text pfctl output of
# every flavour, including the malformed and malicious ones). Run from
# anywhere; writes fuzz/corpus/<target>/. Idempotent.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
for target in parse_states parse_rules parse_any read_any; do
    mkdir -p "$here/corpus/$target"
done
find "$root/fixtures" -type f -name '*.txt' | while read -r f; do
    name=$(echo "${f#"$root"/fixtures/}" | tr '/' '_')
    case "$f" in
        */states/*|*states*.txt|*vvss*) targets="parse_states parse_any read_any" ;;
        */rules/*|*rules*.txt|*lint/*|*vvsr*) targets="parse_rules parse_any read_any" ;;
        *) targets="parse_any read_any" ;;
    esac
    for t in $targets; do
        cp "$f" "$here/corpus/$t/$name"
    done
done
# Small slices of a generated table: realistic state and rule lines.
if [ -n "${GEN_DIR:-}" ] && [ -f "$GEN_DIR/states.txt" ]; then
    head -c 4000 "$GEN_DIR/states.txt" > "$here/corpus/parse_states/gen-states"
    head -c 4000 "$GEN_DIR/rules.txt" > "$here/corpus/parse_rules/gen-rules"
fi
echo "corpora in $here/corpus:"
for t in parse_states parse_rules parse_any read_any; do
    echo "  $t: $(ls "$here/corpus/$t" | wc -l) files"
done
