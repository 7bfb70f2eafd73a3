# SIGTERM while units are stopping. (1) Two SIGTERMs, while a process
# that ignores SIGTERM until told to go is stopping: the second changes
# nothing, and all stop in time: status 0. (2) SIGTERMs while stop_timeout
# escalations are pending: one for a process stopped by "ctl stop" that
# ignores SIGTERM, one for the group of a leader that died at once but
# left a grandchild ignoring SIGTERM. Both are killed at their timeout,
# the supervisor exits 1, and nothing is left.
. "$(dirname "$0")/lib.sh"

all_gone() {
	for p in $(sed -n 's/.*started (pid \([0-9]*\)).*/\1/p' "$T/err") "$@"; do
		pid_gone "$p" || { echo "process $p left behind"; return 1; }
	done
}

manifest twice.yaml <<EOF2
version: 1
processes:
  # 1m, not the default 10s: slow must end when told, not at its timeout
  # (a failed run, status 1) while a loaded machine holds the test back.
  slow:
    shell: 'trap "" TERM; echo ready; exec "$PYT_HELPER" wait-file "$T/go" 100'
    stop_timeout: 1m
  calm: {cmd: ["$PYT_HELPER", sleep, "1000"]}
EOF2
start_pyt "$T/twice.yaml"
wait_line 10 "$T/out" 'slow \| ready'
wait_line 10 "$T/err" 'calm: started'
kill -TERM "$BGPID"
wait_line 10 "$T/err" 'calm: stopped'
kill -TERM "$BGPID"
# Let the second SIGTERM be seen: ctl answers only after the loop ran.
"$PYT" ctl status slow >/dev/null 2>&1 || true
: >"$T/go"
wait_pyt 20
expect_status 0
grep -q 'slow: stopped' "$T/err" || fail "twice: slow not reported stopped"
all_gone || fail "twice: a process outlived the supervisor"

# stubborn's 5s: the test must see it stopping before its escalation, on
# a loaded machine too. The leader's stays 1s: a run whose leader exited
# while stopping is reported once its pipes close, or after 1s (see
# SV_DRAIN_AFTER_EXIT_MS), "stopped" if its group was not killed by then.
manifest esc.yaml <<EOF2
version: 1
processes:
  stubborn:
    cmd: ["$PYT_HELPER", ignore-term, "1000"]
    stop_timeout: 5s
  leader:
    shell: '(trap "" TERM; exec "$PYT_HELPER" ignore-term 1000) & echo \$! >"$T/gc.pid"; wait'
    stop_timeout: 1s
  calm: {cmd: ["$PYT_HELPER", sleep, "1000"]}
EOF2
start_pyt "$T/esc.yaml"
wait_line 10 "$T/out" 'stubborn \| ready'
wait_line 10 "$T/out" 'leader \| ready'
wait_line 10 "$T/err" 'calm: started'
# The grandchild's "ready" comes before its parent wrote its pid.
wait_for 10 test -s "$T/gc.pid" || fail "the leader did not say its child's pid"
gc=$(cat "$T/gc.pid")
"$PYT" ctl stop stubborn >"$T/ctl.out" 2>&1 &
ctl=$!
wait_for 10 sh -c "'$PYT' ctl status stubborn | grep -q stopping" ||
    fail "stubborn never seen stopping"
kill -TERM "$BGPID"
wait_line 10 "$T/err" 'received SIGTERM: stopping'
lpid=$(sed -n 's/.*leader: started (pid \([0-9]*\)).*/\1/p' "$T/err")
wait_for 10 pid_gone "$lpid" || fail "the leader did not die of SIGTERM"
# That the grandchild outlived SIGTERM is shown by the leader's escalation
# below (its group had a member at the deadline): looking now would race
# with that 1s deadline.
kill -TERM "$BGPID"
kill -TERM "$BGPID"
wait_pyt 20
expect_status 1
wait "$ctl" || true
grep -q 'stubborn: killed with SIGKILL after its 5s stop timeout' "$T/err" ||
    fail "esc: stubborn not killed at its timeout"
grep -q 'leader: killed with SIGKILL after its 1s stop timeout' "$T/err" ||
    fail "esc: the leader's group not killed at its timeout"
grep -q 'calm: stopped' "$T/err" || fail "esc: calm not stopped"
all_gone "$gc" || fail "esc: a process outlived the supervisor"
exit 0
