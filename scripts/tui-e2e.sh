#!/usr/bin/env bash
# End-to-end test of the watch TUI: runs the real binary in a detached tmux
# session (120x32), sends keys like a user, and checks the screen text.
#
#   scripts/tui-e2e.sh [BINARY] [-- PFBLAME ARGS...]
#
# BINARY defaults to target/debug/pfblame; the arguments default to `demo`
# (the bundled scenario, which needs nothing else). A private tmux server
# (-L) is used, so the user's own tmux sessions are never touched.
#
# With E2E_KILL_LOG set (the fake pfctl's FAKE_PFCTL_KILL_LOG, for a run with
# --allow-kill), the K key is tested: n removes nothing, y runs the commands.
#
# With E2E_PFCTL_MODE_FILE set (a file a fake pfctl reads its failure mode
# from, see tests/tui_e2e.rs), the live run is also made to fail: the banner
# must show over the last good data, and go once pfctl works again.
set -euo pipefail

cd "$(dirname "$0")/.."
bin=${1:-target/debug/pfblame}
shift || true
if [[ ${1:-} == "--" ]]; then shift; fi
args=("$@")
if [[ ${#args[@]} -eq 0 ]]; then args=(demo -i 1); fi

command -v tmux >/dev/null || { echo "tui-e2e: tmux is not installed" >&2; exit 2; }
[[ -x $bin ]] || { echo "tui-e2e: no binary at $bin (cargo build first)" >&2; exit 2; }

# One private tmux server per session started (a server being killed can
# still answer a new client for a moment, so none is reused).
runs=0
sock="pfblame-e2e-$$-0"
t() { tmux -L "$sock" "$@"; }
cleanup() {
    t kill-server 2>/dev/null || true
    # tmux leaves the socket file behind; remove ours.
    rm -f "${TMUX_TMPDIR:-/tmp}/tmux-$(id -u)/$sock"
}
trap cleanup EXIT

fail() {
    echo "tui-e2e: FAIL: $*" >&2
    echo "---- screen ----" >&2
    t capture-pane -p -t e2e >&2 || true
    exit 1
}

screen() { t capture-pane -p -t e2e; }

# Waits up to 10 s for TEXT to be on the screen.
wait_for() {
    local text=$1
    for _ in $(seq 1 100); do
        if screen | grep -qF -- "$text"; then return 0; fi
        sleep 0.1
    done
    fail "waited for: $text"
}

# Waits up to 10 s for TEXT to be gone from the screen.
wait_gone() {
    local text=$1
    for _ in $(seq 1 100); do
        if ! screen | grep -qF -- "$text"; then return 0; fi
        sleep 0.1
    done
    fail "still on screen: $text"
}

keys() { t send-keys -t e2e "$@"; }

# Start one session: the TUI, then a marker line with its exit status.
start() {
    local env_prefix=$1
    cleanup
    runs=$((runs + 1))
    sock="pfblame-e2e-$$-$runs"
    local quoted
    quoted=$(printf '%q ' "$bin" "${args[@]}")
    t new-session -d -s e2e -x 120 -y 32 \
        "env $env_prefix $quoted; echo \"pfblame exited with status \$?\"; sleep 600"
}

echo "tui-e2e: $bin ${args[*]}"
start "TERM=xterm-256color"

# 1. The main screen: header, a spurious rule marked and selected, states.
wait_for "pfblame │ server"
wait_for "BYPASS"
screen | grep -qE '^┃▶ ! @' || fail "the selected row is not the spurious rule (▶ ! @N)"
wait_for "States of @"
wait_for "q/F10 quit"

# 1a. Replays: the demo loops (marking each round); a recording says when
# it has ended instead of promising polls "every 1s".
if [[ ${args[0]} == demo ]]; then
    wait_for ", loop 2"
elif [[ " ${args[*]} " == *" --from "* ]]; then
    wait_for "replay ended, no more polls"
    screen | grep -qF "every 1s" && fail "an ended replay still says every 1s"
fi

# 1b. Live pfctl failing, then working again (only with a fake pfctl).
if [[ -n ${E2E_PFCTL_MODE_FILE:-} ]]; then
    echo denied >"$E2E_PFCTL_MODE_FILE"
    wait_for "✗ poll failed"
    wait_for "run pfblame as root or with doas"
    screen | grep -qF "BYPASS" || fail "the last good data is gone under the banner"
    : >"$E2E_PFCTL_MODE_FILE"
    wait_gone "✗ poll failed"
fi

# 1c. K: with --allow-kill on live pfctl (E2E_KILL_LOG, the fake's kill log),
# the confirmation lists the commands, n removes nothing, y runs exactly
# those; otherwise K says why it cannot.
if [[ -n ${E2E_KILL_LOG:-} ]]; then
    keys K
    wait_for "pfblame will remove"
    shown=$(screen | grep -cF -- "-k id -k " || true)
    [[ $shown -gt 0 ]] || fail "no kill command in the confirmation"
    keys n
    wait_for "nothing was removed"
    [[ ! -s $E2E_KILL_LOG ]] || fail "n ran pfctl -k"
    keys K
    wait_for "pfblame will remove"
    # A yes typed in the same burst as K is ignored (paste protection):
    # answer like a person, after a pause.
    sleep 0.3
    keys y
    wait_for "commands succeeded; pfctl reported"
    killed=$(wc -l <"$E2E_KILL_LOG")
    [[ $killed -eq $shown ]] || fail "$shown commands shown, $killed run"
    keys j
    wait_gone "commands succeeded"
else
    keys K
    wait_for "K: "
    screen | grep -qE "needs --allow-kill|not possible on recorded data" || fail "K does not say why"
    screen | grep -qF "pfblame will remove" && fail "a confirmation without --allow-kill"
fi

# 2. Help overlay, closed by Esc (which does not quit).
keys '?'
wait_for "pfblame keys"
wait_for "bypass rule; its states make replies skip route-to"
keys Escape
wait_gone "pfblame keys"
wait_for "Rules with server states"
# Esc on the main screen does nothing (only q, F10 and Ctrl-C quit).
keys Escape
sleep 0.5
screen | grep -qF "pfblame exited" && fail "Esc quit the main screen"
wait_for "Rules with server states"

# 2b. Jump to a rule with :, back to the harmful one with n, y shows the
# selected state's kill command in the footer.
keys ':'
keys -l '17'
wait_for ":17"
keys Enter
wait_for "All rules ("
# The selection may come a frame after the title under load: wait for it.
jumped_to_17() { screen | grep -qE '^┃▶ +@17 '; }
for _ in $(seq 50); do jumped_to_17 && break; sleep 0.1; done
jumped_to_17 || fail ":17 did not select @17"
keys n
screen_has_selected() { screen | grep -qE '^┃▶ ! @'; }
for _ in $(seq 50); do screen_has_selected && break; sleep 0.1; done
screen_has_selected || fail "n did not go back to the harmful rule"
keys a
wait_for "Rules with server states"
keys y
wait_for "y: pfctl -k id -k "

# 3. Filter as you type, by address (matched as a parsed address).
keys '/'
keys -l '2001:db8:0::10'
wait_for "(address 2001:db8::10/128)"
keys Enter
wait_for "Esc clear"
keys Escape
wait_gone "Esc clear"

# 4. Details of the selected rule and state.
keys Enter
wait_for "Details · Enter: close"
wait_for "verdict: BYPASS"
# The path, drawn: the request's hops, then the reply's, the bypass marked.
wait_for "path (✗: bypassed)"
wait_for "request out em1"
wait_for "✗ state of @"
wait_for "more lines below: Tab, then ↓"
# The rest (the finding in words, the fix, the selected state) is reached
# by scrolling the focused pane.
keys Tab Tab
wait_for "↑↓ scroll"
keys PageDown
wait_for "fix: "
keys G
wait_for "new server states per poll"
wait_for "route:"
keys Enter
wait_gone "Details · Enter: close"

# 5. Sort, all rules, pause.
keys s
wait_for "sort: server states"
keys a
wait_for "All rules ("
keys a
keys p
wait_for "PAUSED — data frozen"
keys p
wait_gone "PAUSED"

# 6. Resize: small screens degrade (compact header naming the bypass,
# fewer columns) instead of refusing; then back.
t resize-window -t e2e -x 70 -y 20
wait_for "bypasses route-to @"
screen | grep -qF "needs a terminal" && fail "70x20 was refused"
t resize-window -t e2e -x 40 -y 12
wait_for "bypasses route-to @"
screen | grep -qE '^┃▶ ! @' || fail "no selected spurious rule at 40x12"
t resize-window -t e2e -x 80 -y 24
wait_for "States of @"
wait_for "?/F1 help"

# 7. q quits with status 0 and gives the terminal back.
keys q
wait_for "pfblame exited with status 0"
screen | grep -qF "BYPASS" && fail "the TUI is still on screen after quitting"

# 8. NO_COLOR: no colour at all, and the selection still shows (reverse video).
start "TERM=xterm-256color NO_COLOR=1"
wait_for "BYPASS"
styled=$(t capture-pane -p -e -t e2e)
if grep -qE $'\e\\[[0-9;]*(3[0-7]|9[0-7]|38;[25])[;m]' <<<"$styled"; then
    fail "colour codes on screen under NO_COLOR"
fi
grep -qF '▶' <<<"$styled" || fail "no selection symbol"
grep -qE $'\e\\[([0-9]+;)*7(;[0-9]+)*m' <<<"$styled" || fail "no reverse video under NO_COLOR"
keys C-c
wait_for "pfblame exited with status 0"

echo "tui-e2e: ok"
