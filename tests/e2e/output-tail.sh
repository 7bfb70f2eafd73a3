# Output after the leader exits: what its group writes later still
# arrives, prefixed with the unit's name, while the run goes on; the run
# of the unit ends at the leader's exit (a start again does not wait for
# the tail), and a run whose units all ended does not wait for it.
. "$(dirname "$0")/lib.sh"

manifest tail.yaml <<EOF2
version: 1
processes:
  a:
    shell: '(while [ ! -e "$T/go" ]; do sleep 0.02; done; echo "late \$\$"; echo "later \$\$") & echo early'
    autostart: false
  keeper: {cmd: ["$PYT_HELPER", wait-file, "$T/done", "30"]}
tasks:
  t:
    run:
      - start a
      - wait a
      - echo "first run ended"
      - start a
      - wait a
      - echo "second run ended"
EOF2
start_pyt "$T/tail.yaml"
# Both runs end while their background writers still hold the pipe.
wait_line 10 "$T/out" '^t \| second run ended$'
[ "$(grep -c '^a | early$' "$T/out")" = 2 ] || fail "early lines"
grep -q 'late' "$T/out" && fail "late output before it was written"
# Now the writers go on, two lines each. (They wait for a file: two
# readers of one fifo may split its lines between them any way.)
: >"$T/go"
wait_line 10 "$T/out" '^a \| later [0-9]+$'
wait_for 10 sh -c "[ \$(grep -c '^a | late' '$T/out') = 4 ]" ||
    fail "late lines: $(grep -c '^a | late' "$T/out")"
# They are in the unit's log too.
"$PYT" ctl logs a >"$T/logs" || fail "ctl logs a"
[ "$(grep -c '^a | late' "$T/logs")" = 4 ] ||
    fail "late lines in ctl logs: $(cat "$T/logs")"
touch "$T/done"
wait_pyt 20
expect_status 0

# A single unit: the run ends once the group closed the pipe, with the
# late line delivered (the writer does not die of SIGPIPE).
manifest alone.yaml <<EOF2
version: 1
processes:
  a: {shell: '(read -r x <"$T/go2"; echo "late \$x") & echo early'}
EOF2
mkfifo "$T/go2"
start_pyt "$T/alone.yaml"
wait_line 10 "$T/err" 'a: exited with status 0'
kill -0 "$BGPID" || fail "the run did not wait for the tail"
echo 3 >"$T/go2"
wait_pyt 10
expect_status 0
grep -q '^a | late 3$' "$T/out" || fail "late line lost"

# A unit removed while its tail still writes: the tail's lines still
# reach the console, and nothing of the removed unit is used.
manifest gone.yaml <<EOF2
version: 1
processes:
  b: {shell: '(read -r x <"$T/go3"; echo "late \$x") & echo early'}
  keeper: {cmd: ["$PYT_HELPER", wait-file, "$T/done3", "30"]}
EOF2
mkfifo "$T/go3"
start_pyt "$T/gone.yaml"
wait_line 10 "$T/err" 'b: exited with status 0'
wait_line 10 "$T/err" 'keeper: started'
"$PYT" ctl remove b >"$T/rm.out" 2>&1 || fail "ctl remove b: $(cat "$T/rm.out")"
"$PYT" ctl status >"$T/st" 2>&1
grep -q '^b ' "$T/st" && fail "b still listed: $(cat "$T/st")"
echo 4 >"$T/go3"
wait_line 10 "$T/out" '^b \| late 4$'
"$PYT" ctl status keeper >/dev/null || fail "the supervisor stopped answering"
touch "$T/done3"
wait_pyt 20
expect_status 0

# A tail that never ends is cut when the run is stopped.
manifest forever.yaml <<EOF2
version: 1
processes:
  a: {shell: '("$PYT_HELPER" sleep 1000) & echo early'}
EOF2
start_pyt "$T/forever.yaml"
wait_line 10 "$T/err" 'a: exited with status 0'
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
exit 0
