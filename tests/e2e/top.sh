# ctl top: batch snapshots without a terminal (-b -n 2, and stdout a
# pipe implying one snapshot), then the full-screen view in a real
# terminal inside a private tmux server (a detached session of known
# size; capture-pane reads the screen, send-keys presses keys): what is
# drawn, that it refreshes, the first unit selected, a group opened, r
# restarting the selected unit, the log pane, the filter, help, a resize,
# q quitting with the terminal sane, and a supervisor that goes away
# (top says so and exits 1, the terminal sane again).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }
command -v tmux >/dev/null 2>&1 || { echo "no tmux: skipped"; exit 77; }

SOCK=$T/top.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
js() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}
pid_of() { ctl --json status "$1" | js 'd["units"][0]["pid"]'; }

manifest top.yaml <<EOF2
version: 1
queues:
  jobs: {capacity: 40}
processes:
  producer:
    cmd: ["$PYT_HELPER", "yes", "job"]
    stdout: jobs
  worker:
    cmd: ["$PYT_HELPER", slow-count, "20"]
    stdin: jobs
    replicas: 2
  web:
    cmd: ["$PYT_HELPER", sleep, "1000"]
  # A producer that waits for ever: pending, not live.
  late:
    cmd: ["$PYT_HELPER", echo, late]
    stdout: jobs
    depends_on: {web: succeeded}
EOF2
start_pyt --keep -s "$SOCK" "$T/top.yaml"
wait_for 10 test -S "$SOCK" || fail "no socket"
wait_line 10 "$T/err" 'worker.2: started'
# The batch below shows the producer running: wait for it too.
wait_line 10 "$T/err" 'producer: started'

# Batch: two snapshots, plain text, every replica listed.
ctl top -b -n 2 -d 200ms >"$T/batch" || fail "top -b"
[ "$(grep -c '^pytasking-run top - ' "$T/batch")" -eq 2 ] ||
    fail "snapshots: $(cat "$T/batch")"
grep -Eq '^  producer +process +running +[0-9]+ ' "$T/batch" ||
    fail "producer row: $(cat "$T/batch")"
grep -Eq '^- worker +process +running .* 2 replicas$' "$T/batch" ||
    fail "group row: $(cat "$T/batch")"
grep -Eq '^    worker\.2 +process +running ' "$T/batch" || fail "replica row"
# A consumer fed faster than it reads holds items in flight (its pipe).
held() {
	[ "$(ctl --json status worker.1 | js 'd["units"][0]["in_flight"] > 0')" = True ]
}
wait_for 10 held || fail "no item in flight"
# Its pipe empties for an instant each time it reads: a snapshot may fall
# there, so look until one shows the items in flight.
top_held() {
	ctl top >"$T/batch2" &&
	    grep -Eq '^    worker\.1 +process +running .* [1-9][0-9]* +-$' "$T/batch2"
}
wait_for 10 top_held || fail "in flight: $(cat "$T/batch2")"
grep -Eq '^  jobs +share +\[[#.]{16}\] +[0-9]+/40 ' "$T/batch" ||
    fail "queue row: $(cat "$T/batch")"
# Producers live/pending, then consumers.
grep -Eq '^  jobs .* 1/1 +2  ' "$T/batch" || fail "producers: $(cat "$T/batch")"
grep -Eq '^  late +process +waiting ' "$T/batch" || fail "late row"
if LC_ALL=C grep -q "$(printf '\033')" "$T/batch"; then
	fail "escape sequences in batch mode"
fi
# Not a terminal: one snapshot.
ctl top | cat >"$T/pipe" || fail "top | cat"
[ "$(grep -c '^pytasking-run top - ' "$T/pipe")" -eq 1 ] || fail "pipe"
ctl top -n 0 >/dev/null 2>&1 && fail "-n 0 accepted"
ctl top -d 1ms >/dev/null 2>&1 && fail "-d 1ms accepted"

# The screen, in a tmux server of our own.
TMUX_SOCK=$T/tmux.sock
tm() { tmux -S "$TMUX_SOCK" "$@"; }
screen() { tm capture-pane -p -t top >"$T/screen" 2>/dev/null; }
on_screen() { screen && grep -Eq -- "$1" "$T/screen"; }
wait_screen() {
	wait_for "$1" on_screen "$2" || {
		cat "$T/screen" >&2
		fail "timed out waiting for /$2/ on the screen"
	}
}
cleanup_tmux() { tm kill-server 2>/dev/null; cleanup; }
trap cleanup_tmux EXIT
# After top, the shell says how it ended and whether the terminal is
# back in canonical mode with echo (stty -a shows "-icanon"/"-echo" when
# a program left it raw).
cat >"$T/run-top.sh" <<EOF2
"$PYT" ctl -s "$SOCK" top -d 300ms
echo "top exited \$?"
stty -a | tr ' ;' '\n\n' | grep -Ex -- '-?(icanon|echo)' | tr '\n' ' '
echo
sleep 1000
EOF2
tm new-session -d -s top -x 120 -y 40 \
    "env TERM=xterm-256color LC_ALL=C.UTF-8 NO_COLOR= sh $T/run-top.sh" ||
    fail "tmux new-session"
# Killing the last session would end the server while the next
# new-session connects to it ("server exited unexpectedly"): keep it.
tm set-option -s exit-empty off || fail "tmux exit-empty"
wait_screen 10 '^pytasking-run top - '
wait_screen 10 '^  jobs +share '
on_screen '^\+ worker +process +running .* 2 replicas' || fail "closed group"
on_screen 'worker\.1' && fail "a closed group shows its replicas"
# It refreshes: the clock in the title moves.
t1=$(sed -n 's/^pytasking-run top - \([0-9:]*\).*/\1/p' "$T/screen")
moved() { on_screen '^pytasking-run top - ' &&
    [ "$(sed -n 's/^pytasking-run top - \([0-9:]*\).*/\1/p' "$T/screen")" != "$t1" ]; }
wait_for 10 moved || fail "no refresh"

# The first unit is selected: r restarts it.
old=$(pid_of producer)
tm send-keys -t top r
wait_screen 10 'restart producer: done'
new_pid() { p=$(pid_of producer) && [ "$p" != None ] && [ "$p" != "$old" ]; }
wait_for 10 new_pid || fail "producer not restarted"

# Down to the group, open it.
tm send-keys -t top j Enter
wait_screen 10 '^    worker\.1 +process +running'
wait_screen 10 '^- worker '
# The log pane of the selected unit (the group).
tm send-keys -t top l
wait_screen 10 '^-- log of worker \(l closes\) --'
tm send-keys -t top l
# Filter by name: only the queue is left.
tm send-keys -t top / j o b s Enter
# The prompt shows "filter: jobs" while it is typed; the title says it
# once Enter applied it (then, in the same frame, the units are gone).
wait_screen 10 '^pytasking-run top - .* - filter: jobs'
filtered() { on_screen '^  jobs ' && ! grep -Eq '^  producer ' "$T/screen"; }
wait_for 10 filtered || fail "filter: $(cat "$T/screen")"
tm send-keys -t top / BSpace BSpace BSpace BSpace Enter
wait_screen 10 '^  producer '
# Help, and any key back.
tm send-keys -t top '?'
wait_screen 10 'pytasking-run ctl top: keys'
tm send-keys -t top x
wait_screen 10 '^  producer '
# A resize redraws for the new size.
tm resize-window -t top -x 70 -y 20 || fail "resize"
narrow() { screen && grep -q '^pytasking-run top - ' "$T/screen" &&
    [ "$(awk '{ if (length($0) > m) m = length($0) } END { print m }' "$T/screen")" -le 70 ]; }
wait_for 10 narrow || fail "not redrawn at 70 columns: $(cat "$T/screen")"
# q quits with status 0 and the terminal sane.
tm send-keys -t top q
wait_screen 10 '^top exited 0$'
wait_screen 10 '^icanon echo *$'

# -n on the screen: that many refreshes, then exit 0.
cat >"$T/run-n.sh" <<EOF2
"$PYT" ctl -s "$SOCK" top -n 3 -d 200ms
echo "top -n exited \$?"
sleep 1000
EOF2
tm kill-session -t top
tm new-session -d -s top -x 120 -y 40 "env TERM=xterm-256color sh $T/run-n.sh" ||
    fail "tmux new-session"
wait_screen 10 '^top -n exited 0$'

# A supervisor that goes away: top says so, exits 1, terminal sane.
tm kill-session -t top
tm new-session -d -s top -x 120 -y 40 \
    "env TERM=xterm-256color LC_ALL=C.UTF-8 sh $T/run-top.sh" ||
    fail "tmux new-session"
wait_screen 10 '^  jobs +share '
ctl shutdown >/dev/null || fail "shutdown"
wait_pyt 20
wait_screen 10 'ctl top: the supervisor is gone'
wait_screen 10 '^top exited 1$'
wait_screen 10 '^icanon echo *$'
echo "top: ok"
