# A stop is over when the unit's process group is gone, not when its
# leader is: a leader that exits on SIGTERM while a member of its group
# ignores it leaves the unit stopping until the member is killed at
# stop_timeout, and the run then ends as killed at its timeout (a failure),
# whatever stop_timeout is. Before, the run was reported "stopped" (exit
# status 0) one second after the leader's exit when stop_timeout was longer.
# A member that ends on its own within stop_timeout makes a clean stop.
# A start asked while the group lingers is kept and runs once it is gone.
. "$(dirname "$0")/lib.sh"

manifest m.yaml <<EOF2
version: 1
processes:
  deaf:
    shell: '(trap "" TERM; exec "$PYT_HELPER" ignore-term 1000) & wait'
    stop_timeout: 3s
  slow:
    shell: '(trap "sleep 1; exit 0" TERM; while :; do sleep 0.05; done) & wait'
    stop_timeout: 20s
EOF2

# 1. ctl stop: deaf stays stopping while its member lives, then is killed
#    at 3 s; slow's member ends 1 s after the signal: stopped, not killed.
start_pyt -v --keep "$T/m.yaml"
wait_line 20 "$T/out" '^deaf \| ready$'
wait_line 20 "$T/err" 'slow: started'
for u in deaf slow; do
	"$PYT" ctl stop "$u" --no-wait >"$T/stop.out" 2>&1 || fail "ctl stop $u: $(cat "$T/stop.out")"
done
"$PYT" ctl status deaf >"$T/st1" || fail "ctl status"
grep -q stopping "$T/st1" || fail "deaf not stopping while its member lives: $(cat "$T/st1")"
grep -q 'deaf: stopped' "$T/err" && fail "deaf said stopped while its member lived"
# A start asked meanwhile is not lost: deaf runs again once its group is gone.
"$PYT" ctl start deaf >"$T/start.out" 2>&1 || fail "ctl start: $(cat "$T/start.out")"
wait_line 30 "$T/err" 'deaf: killed with SIGKILL after its 3s stop timeout'
wait_line 30 "$T/err" 'slow: stopped'
grep -q 'slow: killed' "$T/err" && fail "slow was killed though its member ended in time"
# at_least N FILE ERE: counted at each look (not once, as an argument).
at_least() { [ "$(count_lines "$2" "$3")" -ge "$1" ]; }
wait_for 20 at_least 2 "$T/err" 'deaf: started' ||
    fail "the start asked while deaf stopped was lost"
wait_for 20 at_least 2 "$T/out" '^deaf \| ready$' ||
    fail "deaf's second run did not get ready"

# 2. SIGTERM: the same at a shutdown, and the run fails (exit status 1).
kill -TERM "$BGPID"
wait_pyt 30
expect_status 1
[ "$(count_lines "$T/err" 'deaf: killed with SIGKILL after its 3s stop timeout')" = 2 ] ||
    fail "deaf's second stop was not a kill at its timeout"
grep -q 'deaf: stopped' "$T/err" && fail "deaf said stopped while its member lived"

# 3. Nothing of either group is left.
wait_for 10 sh -c '! pgrep -f "ignore-term 1000" | while read -r p; do
	tr "\0" "\n" <"/proc/$p/environ" 2>/dev/null | grep -q "^PYTASKING_SOCKET='"$T"'/" && echo "$p"; done | grep -q .' ||
    fail "a member of deaf's group outlived the supervisor"
exit 0
