# Tasks: cancellation interrupts a sleep at once and runs on_cancel;
# wait reports an exit status; a task feeds wc -l through a queue and
# ends the pipeline; for/get/put/set/break/exit/start with arguments;
# every keeps its rate; a thousand idle tasks cost no CPU.
. "$(dirname "$0")/lib.sh"

manifest cancel.yaml <<EOF2
version: 1
tasks:
  sleeper:
    run: [sleep 100s, echo never]
    on_cancel: ["echo cleanup done"]
  killer:
    run: ["sleep 50ms", "cancel sleeper"]
EOF2
run_pyt 20 "$T/cancel.yaml"
expect_status 0
grep -qx "sleeper | cleanup done" "$T/out" || fail "on_cancel did not run"
grep -q "never" "$T/out" && fail "cancelled sleep went on"

# on_cancel is bounded by cancel_timeout; cut short, it counts as killed.
manifest overrun.yaml <<EOF2
version: 1
tasks:
  slowpoke:
    run: [sleep 100s]
    on_cancel: ["echo cleaning", "sleep 100s", "echo never"]
    cancel_timeout: 100ms
  killer:
    run: ["sleep 50ms", "cancel slowpoke"]
EOF2
run_pyt 20 "$T/overrun.yaml"
expect_status 1
grep -qx "slowpoke | cleaning" "$T/out" || fail "on_cancel did not start"
grep -q "never" "$T/out" && fail "on_cancel went past its timeout"
grep -q "slowpoke: cancelled; on_cancel cut short after its 100ms cancel timeout" "$T/err" ||
    fail "overrun not reported"

manifest wait.yaml <<EOF2
version: 1
processes:
  p: {cmd: ["$PYT_HELPER", exit, "7"], autostart: false}
  e: {cmd: ["$PYT_HELPER", echo], autostart: false}
tasks:
  t:
    run:
      - start p
      - wait p
      - echo "p ended with \$status"
      - start e hello "big world"
      - wait e
      - echo "e ended with \$status"
EOF2
run_pyt 20 "$T/wait.yaml"
expect_status 1
grep -qx "t | p ended with 7" "$T/out" || fail "wait status"
grep -qx "e | hello big world" "$T/out" || fail "start with ARGS"
grep -qx "t | e ended with 0" "$T/out" || fail "wait status 0"

manifest feed.yaml <<EOF2
version: 1
queues:
  q: {capacity: 10}
processes:
  count: {cmd: [wc, -l], stdin: q}
tasks:
  feed:
    run:
      - repeat 1000:
          - put q "item \$index"
EOF2
run_pyt 30 "$T/feed.yaml"
expect_status 0
grep -Eq '^count \| +1000$' "$T/out" || fail "task-fed pipeline: $(cat "$T/out")"

manifest for.yaml <<EOF2
version: 1
queues:
  q: {}
  empty: {}
processes:
  gen: {cmd: [seq, 1, 5], stdout: q}
tasks:
  reader:
    run:
      - for n in q:
          - echo "got \$n"
          - set last "\$n"
      - echo "last was \$last"
      - get empty x 50ms
      - echo "timeout status \$status"
      - loop:
          - break
      - start child one two
      - exit 4
  child:
    autostart: false
    run: ['echo "child \$1 \$2 \${PYT_TEST_ENV}"']
EOF2
PYT_TEST_ENV=from-env run_pyt 30 "$T/for.yaml"
expect_status 1
[ "$(count_lines "$T/out" '^reader \| got [1-5]$')" = 5 ] || fail "for loop"
grep -qx "reader | last was 5" "$T/out" || fail "set"
grep -qx "reader | timeout status 1" "$T/out" || fail "get timeout"
grep -qx "child | child one two from-env" "$T/out" || fail "task args and environment"
grep -q "reader: exited with status 4" "$T/err" || fail "exit code"

# every: a round slower than the period skips ticks instead of bunching.
manifest every.yaml <<EOF2
version: 1
tasks:
  ticker:
    run:
      - every 100ms:
          - echo tick
          - sleep 250ms
  stopper:
    run: [sleep 1s, cancel ticker]
EOF2
run_pyt 20 "$T/every.yaml"
expect_status 0
n=$(count_lines "$T/out" '^ticker \| tick$')
[ "$n" -ge 1 ] && [ "$n" -le 4 ] || fail "every: $n ticks in 1s with 250ms rounds"

# A thousand idle tasks: all started, then (almost) no CPU while idle.
{
	echo "version: 1"
	echo "tasks:"
	i=1
	while [ $i -le 1000 ]; do
		echo "  t$i: {run: [sleep 1h]}"
		i=$((i + 1))
	done
} >"$T/idle.yaml"
start_pyt "$T/idle.yaml"
wait_for 30 sh -c "[ \$(grep -c ': started' '$T/err') = 1000 ]" || fail "1000 tasks"
cpu() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
c1=$(cpu "$BGPID")
sleep 1	# a measurement window, not a wait for anything to settle
c2=$(cpu "$BGPID")
kill -TERM "$BGPID"
wait_pyt 30
expect_status 0
[ $((c2 - c1)) -le 2 ] || fail "idle tasks used $((c2 - c1)) ticks of CPU in 1s"

# restart keeps the arguments of the last start, for a unit that has
# ended (ctl's restart too: both once read freed memory or dropped them).
manifest rargs.yaml <<EOF2
version: 1
processes:
  p: {cmd: ["$PYT_HELPER", args], autostart: false}
tasks:
  main:
    run:
      - start p x 'y z'
      - wait p
      - restart p
      - wait p
EOF2
run_pyt 20 "$T/rargs.yaml"
expect_status 0
[ "$(grep -c '^p | argc 2$' "$T/out")" = 2 ] ||
    fail "restart lost the arguments: $(grep '^p |' "$T/out")"
[ "$(grep -c '^p | \[y z\]$' "$T/out")" = 2 ] || fail "restart changed the arguments"
exit 0
