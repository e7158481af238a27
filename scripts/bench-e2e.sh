#!/bin/sh
# End-to-end figures at scale: generates a synthetic table (1,000,000 states
# by default) and measures wall time and peak RSS of
#   pfblame report --from DIR -s ADDR --format json
#   pfblame parse --format json DIR/states.txt
# with /usr/bin/time -v. Targets (docs/performance.md): report <= 1.5 s and
# <= 300 MB at 1M states.
#
# usage: scripts/bench-e2e.sh [STATES] [FLAVOR] [RUNS]
# env:   OUT=/tmp/pfblame-bench (where the table goes), SERVER=2001:db8::10
set -eu
states=${1:-1000000}
flavor=${2:-openbsd}
runs=${3:-3}
out=${OUT:-/tmp/pfblame-bench}/$flavor-$states
server=${SERVER:-2001:db8::10}
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"

if [ ! -x /usr/bin/time ]; then
    echo "bench-e2e: /usr/bin/time is needed (GNU time, for -v)" >&2
    exit 69
fi

cargo build --release --quiet --example gen_table
cargo build --release --quiet
bin=$root/target/release/pfblame

if [ ! -f "$out/states.txt" ]; then
    mkdir -p "$out"
    ./target/release/examples/gen_table --states "$states" --flavor "$flavor" \
        --seed 1 --out "$out" --server "$server"
fi
echo "input: $out ($(wc -c < "$out/states.txt") bytes of states, $(wc -c < "$out/rules.txt") bytes of rules)"
echo "machine: $(nproc) CPUs, load: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || uptime)"

# measure NAME EXPECTED_EXITS CMD...: one line per run (wall s, user s, RSS MB).
measure() {
    name=$1
    ok=$2
    shift 2
    i=1
    while [ "$i" -le "$runs" ]; do
        set +e
        /usr/bin/time -v "$@" > /dev/null 2> "$out/time.txt"
        code=$?
        set -e
        case " $ok " in
            *" $code "*) ;;
            *) echo "$name: exit $code" >&2; cat "$out/time.txt" >&2; exit 1 ;;
        esac
        wall=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$out/time.txt")
        user=$(sed -n 's/.*User time (seconds): //p' "$out/time.txt")
        rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$out/time.txt")
        echo "$name run $i: wall $wall  user ${user}s  peak RSS $((rss / 1024)) MB  (exit $code)"
        i=$((i + 1))
    done
}

# report exits 1 when spurious states are found (the generated table has some).
measure "report --format json" "0 1" "$bin" report --from "$out" -s "$server" --format json
measure "parse --format json states.txt" "0" "$bin" parse --format json "$out/states.txt"
