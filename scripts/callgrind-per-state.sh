#!/bin/sh
# Instructions per state (valgrind's callgrind: independent of the load of
# the machine) of the two streaming paths at scale:
#   pfblame report --from DIR -s ADDR --format json   (states skimmed)
#   pfblame parse --format json DIR/states.txt         (every state parsed and written)
# Whole-program counts (startup, rules and analysis included) divided by
# the number of states. docs/performance.md quotes its output.
#
# usage: scripts/callgrind-per-state.sh [STATES] [FLAVOR] [BINARY]
# env:   OUT=/tmp/pfblame-bench (where the table goes), SERVER=2001:db8::10
set -eu
states=${1:-100000}
flavor=${2:-openbsd}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
bin=${3:-$root/target/release/pfblame}
out=${OUT:-/tmp/pfblame-bench}/$flavor-$states
server=${SERVER:-2001:db8::10}

if ! command -v valgrind > /dev/null; then
    echo "callgrind-per-state: valgrind is needed" >&2
    exit 69
fi
cargo build --release --quiet --example gen_table
if [ "$#" -lt 3 ]; then
    cargo build --release --quiet
fi
if [ ! -f "$out/states.txt" ]; then
    mkdir -p "$out"
    ./target/release/examples/gen_table --states "$states" --flavor "$flavor" \
        --seed 1 --out "$out" --server "$server"
fi

# count NAME CMD...: total instructions and instructions per state.
# The instruction targets are single-threaded (PFBLAME_THREADS=1): the
# two-core path adds its own small overhead, measured apart.
export PFBLAME_THREADS=1

count() {
    name=$1
    shift
    valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$@" \
        > /dev/null 2> "$out/callgrind.txt" || true
    ir=$(sed -n 's/.*Collected : //p' "$out/callgrind.txt")
    echo "$name: $ir instructions, $((ir / states)) per state"
}

count "report --format json" "$bin" report --from "$out" -s "$server" --format json
count "parse --format json" "$bin" parse --format json "$out/states.txt"
