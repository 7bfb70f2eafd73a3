# 1,000 processes at once and 10,000 idle tasks in one supervisor: all
# started and supervised, all stopped on SIGTERM, status 0, nothing left.
# Half the processes have their output piped to the supervisor (2 pipes
# each), the other half (a replicated pool) have none.
. "$(dirname "$0")/lib.sh"
# Memory and scale figures of a sanitizer build are the sanitizer's
# (quarantine, shadow memory, slowness): this test runs in plain builds.
if [ -n "${PYT_SANITIZED:-}" ]; then
	echo "SKIP: under sanitizers" >&2
	exit 77
fi

# 500 processes with 2 pipes each need ~1100 descriptors: lift the soft
# limit to the hard one when it is lower (the usual soft limit is 1024).
if [ "$(ulimit -n)" != unlimited ] && [ "$(ulimit -n)" -lt 4096 ]; then
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
fi
lim=$(ulimit -n)
if [ "$lim" != unlimited ] && [ "$lim" -lt 2048 ]; then
	echo "SKIP: ulimit -n is $lim, too low for 1000 processes" >&2
	exit 77
fi

{
	echo "version: 1"
	echo "processes:"
	i=1
	while [ $i -le 500 ]; do
		echo "  p$i: {cmd: [\"$PYT_HELPER\", sleep, \"1000\"]}"
		i=$((i + 1))
	done
	echo "  pool: {cmd: [\"$PYT_HELPER\", sleep, \"1000\"], replicas: 500, stdout: null, stderr: null}"
	echo "tasks:"
	i=1
	while [ $i -le 10000 ]; do
		echo "  t$i: {run: [sleep 1h]}"
		i=$((i + 1))
	done
} >"$T/scale.yaml"

t0=$(date +%s%N)
start_pyt "$T/scale.yaml"
# Up in 4 s here when idle, 20 s (down in 10 s) on a loaded machine:
# generous bounds.
wait_for 300 sh -c "[ \$(grep -c ': started (pid' '$T/err') = 1000 ]" ||
    fail "not all 1000 processes started: $(grep -c ': started (pid' "$T/err")"
wait_for 300 sh -c "[ \$(grep -c '^pytasking-run: t[0-9]*: started\$' '$T/err') = 10000 ]" ||
    fail "not all 10000 tasks started: $(grep -c ': t[0-9]*: started$' "$T/err")"
t1=$(date +%s%N)
fds=$(ls "/proc/$BGPID/fd" | wc -l)
rss=$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$BGPID/status")
kids=$(ps -o args= --ppid "$BGPID" | grep -c -- ' sleep 1000$')
[ "$kids" = 1000 ] || fail "the supervisor has $kids processes as children, not 1000"
"$PYT" ctl list >"$T/list" || fail "ctl list failed"
running=$(grep -c ' running ' "$T/list")
[ "$running" = 11000 ] || fail "ctl list shows $running units running, not 11000"
kill -TERM "$BGPID"
wait_pyt 180
t2=$(date +%s%N)
expect_status 0
p=$(count_lines "$T/err" '^pytasking-run: (p[0-9]+|pool\.[0-9]+): stopped$')
[ "$p" = 1000 ] || fail "$p processes reported stopped, not 1000"
t=$(count_lines "$T/err" '^pytasking-run: t[0-9]+: (stopped|cancelled)$')
[ "$t" = 10000 ] || fail "$t tasks reported stopped, not 10000"
for pid in $(sed -n 's/.*started (pid \([0-9]*\)).*/\1/p' "$T/err"); do
	left_behind "$pid" && fail "process $pid left behind"
done
echo "11000 units up in $(( (t1 - t0) / 1000000 ))ms, down in $(( (t2 - t1) / 1000000 ))ms; supervisor: $fds fds, RSS $rss kB"
exit 0
