# Descriptor exhaustion: under a tiny "ulimit -n", spawns fail with a
# clear message and count as failed runs, the supervisor keeps running,
# and every process starts once descriptors are free again.
. "$(dirname "$0")/lib.sh"

# 20 processes, each holding two pipes of ours for 0.3s: more than 40
# descriptors can hold at once.
{
	echo "version: 1"
	echo "processes:"
	for i in $(seq 1 20); do
		echo "  p$i: {cmd: [\"$PYT_HELPER\", sleep-exit, \"0.3\", \"0\"]," \
		    "restart: on-failure, backoff: {initial: 20ms, max: 100ms}}"
	done
} >"$T/many.yaml"

(ulimit -n 40 && exec "$PYT" "$T/many.yaml") >"$T/out" 2>"$T/err" &
BGPID=$!
wait_pyt 60
grep -q "too many open files\|Too many open files" "$T/err" || {
	# Whatever runs the supervisor (valgrind) may not fit in 40.
	grep -q "started" "$T/err" || {
		echo "fd-exhaust: nothing ran under ulimit -n 40: skipped"
		exit 77
	}
	fail "no spawn ran out of descriptors: the test proves nothing"
}
expect_status 0
# Each failure says why, on one line naming the unit.
grep -Eq "^pytasking-run: p[0-9]+: cannot start .*: too many open files$" \
    "$T/err" || grep -Eq "^pytasking-run: p[0-9]+: pipe: Too many open files$" \
    "$T/err" || fail "no clear message for descriptor exhaustion"
# ... and counts as a failed run, restarted by on-failure.
grep -q "restarting in" "$T/err" || fail "a failed spawn was not restarted"
for i in $(seq 1 20); do
	grep -q "^pytasking-run: p$i: exited with status 0$" "$T/err" ||
	    fail "p$i never ran to the end"
done
exit 0
