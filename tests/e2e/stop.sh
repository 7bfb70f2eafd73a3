# Stopping: SIGTERM exits 0 when everything stops in time; escalation to
# SIGKILL for a child that ignores SIGTERM (exit 1); the whole process
# group dies, even after its leader has exited; a second SIGINT kills.
. "$(dirname "$0")/lib.sh"

manifest clean.yaml <<EOF2
version: 1
processes:
  s1: {cmd: ["$PYT_HELPER", sleep, "1000"], restart: always}
  s2: {cmd: ["$PYT_HELPER", sleep, "1000"]}
EOF2
start_pyt "$T/clean.yaml"
wait_line 10 "$T/err" 's2: started'
wait_line 10 "$T/err" 's1: started'
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
grep -q "s1: stopped" "$T/err" || fail "s1 not reported stopped"
grep -q "restarting" "$T/err" && fail "restarted during shutdown"

# A child that ignores SIGTERM is killed at its stop timeout: exit 1.
manifest stubborn.yaml <<EOF2
version: 1
processes:
  stubborn:
    cmd: ["$PYT_HELPER", ignore-term, "1000"]
    stop_timeout: 300ms
EOF2
start_pyt "$T/stubborn.yaml"
wait_line 10 "$T/out" 'stubborn \| ready'
kill -TERM "$BGPID"
wait_pyt 20
expect_status 1
grep -q "stubborn: killed with SIGKILL after its 300ms stop timeout" "$T/err" ||
    fail "escalation line"

# The group: a grandchild ignoring SIGTERM dies with its parent's group,
# although the leader itself died of the SIGTERM at once.
manifest group.yaml <<EOF2
version: 1
processes:
  leader:
    shell: '(trap "" TERM; exec "$PYT_HELPER" ignore-term 1000) & echo \$! >"$T/gc.pid"; wait'
    stop_timeout: 300ms
EOF2
start_pyt "$T/group.yaml"
wait_line 10 "$T/out" 'leader \| ready'
# The grandchild says ready on its own: the shell may not have written
# its pid yet.
wait_for 10 test -s "$T/gc.pid" || fail "no pid of the grandchild"
gc=$(cat "$T/gc.pid")
kill -0 "$gc" || fail "grandchild not running"
kill -TERM "$BGPID"
wait_pyt 20
wait_for 10 pid_gone "$gc" || fail "grandchild $gc outlived the stop"
expect_status 1

# A stop signal other than TERM, and a process dying of it is stopped.
manifest sig.yaml <<EOF2
version: 1
processes:
  h: {cmd: ["$PYT_HELPER", sleep, "1000"], stop_signal: SIGINT}
EOF2
start_pyt "$T/sig.yaml"
wait_line 10 "$T/err" 'h: started'
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
grep -q "h: stopped" "$T/err" || fail "SIGINT stop"

# A second SIGINT kills at once.
manifest twice.yaml <<EOF2
version: 1
processes:
  stubborn:
    cmd: ["$PYT_HELPER", ignore-term, "1000"]
    stop_signal: TERM
    stop_timeout: 1h
EOF2
start_pyt "$T/twice.yaml"
wait_line 10 "$T/out" 'stubborn \| ready'
kill -INT "$BGPID"
wait_line 10 "$T/err" 'received SIGINT'
kill -INT "$BGPID"
wait_pyt 20
expect_status 1
exit 0
