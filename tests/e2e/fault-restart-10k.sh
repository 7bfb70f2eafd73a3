# 10,000 restarts of a process that exits at once (restart: always, no
# backoff, max_restarts 10000): exactly 10001 runs, then the supervisor
# gives up (status 1), and its descriptors and memory are the same at the
# end as after the first hundred restarts (fds equal, RSS within 512 kB).
# --keep holds the supervisor up after it gave up, to be measured idle.
. "$(dirname "$0")/lib.sh"
# Memory and scale figures of a sanitizer build are the sanitizer's
# (quarantine, shadow memory, slowness): this test runs in plain builds.
if [ -n "${PYT_SANITIZED:-}" ]; then
	echo "SKIP: under sanitizers" >&2
	exit 77
fi

RESTARTS=10000
# "warm" does the first hundred restarts; measured once it gave up (idle,
# so no spawn holds a descriptor for a moment), "churn" then does 10,000
# more in the same supervisor, measured idle again at the end.
manifest churn.yaml <<EOF2
version: 1
processes:
  warm:
    cmd: [true]
    restart: always
    backoff: {initial: 0ms, max: 0ms}
    max_restarts: 100
    stdout: null
    stderr: null
  churn:
    cmd: [true]
    autostart: false
    restart: always
    backoff: {initial: 0ms, max: 0ms}
    max_restarts: $RESTARTS
    stdout: null
    stderr: null
EOF2

fds() { ls "/proc/$BGPID/fd" | wc -l; }
rss() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$BGPID/status"; }

start_pyt --keep "$T/churn.yaml"
wait_line 30 "$T/err" 'warm: exited with status 0; gave up after 100 restarts'
fd0=$(fds); rss0=$(rss)
t0=$(date +%s%N)
"$PYT" ctl start churn >/dev/null || fail "ctl start churn"
# 17 s here when idle, 66 s on a loaded machine: a generous bound.
wait_line 600 "$T/err" "churn: exited with status 0; gave up after $RESTARTS restarts"
t1=$(date +%s%N)
# The last run's pidfd is closed in the loop turn after its line is
# written: a leak stays, that one goes. (fd0 may count warm's in the same
# way: at most fd0, then.)
fds_back() { [ "$(fds)" -le "$fd0" ]; }
wait_for 10 fds_back
fd1=$(fds); rss1=$(rss)
kill -TERM "$BGPID"
wait_pyt 20
expect_status 1
runs=$(count_lines "$T/err" 'churn: started \(pid')
[ "$runs" = $((RESTARTS + 1)) ] || fail "$runs runs, expected $((RESTARTS + 1))"
ms=$(( (t1 - t0) / 1000000 ))
echo "$runs runs in ${ms}ms ($((runs * 1000 / (ms + 1))) restarts/s); fds $fd0 -> $fd1; RSS $rss0 kB -> $rss1 kB"
[ "$fd1" -le "$fd0" ] || fail "descriptors: $fd0 after 100 restarts, $fd1 at the end"
[ $((rss1 - rss0)) -le 512 ] || fail "RSS grew from $rss0 kB to $rss1 kB"
exit 0
