#!/bin/sh
# Stand-in for pfctl in the kill tests (until tests/fake-pfctl lands).
# Usage: sh kill-recorder.sh LOGFILE ARGS...
# Appends ARGS to LOGFILE, one invocation per line, words separated by
# '|' (a key contains spaces), and says what pfctl says on stderr.
# An argument equal to "FAIL" makes it exit 1, like a pfctl error.
log=$1
shift
line=""
for a in "$@"; do
    line="$line|$a"
done
printf '%s\n' "${line#|}" >> "$log"
for a in "$@"; do
    if [ "$a" = "FAIL" ]; then
        echo "pfctl: DIOCKILLSTATES: Operation not permitted" >&2
        exit 1
    fi
done
echo "killed 1 states" >&2
exit 0
