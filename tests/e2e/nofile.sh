# The supervisor raises its soft descriptor limit to the hard one, so it
# can pipe more processes than the usual 1,024 would allow; its children
# still get the soft limit it was started with (select(2) users break
# above 1023).
. "$(dirname "$0")/lib.sh"

# Not under valgrind: it does not know pidfd_open, so the supervisor
# uses uv_spawn there and keeps its limit (pytasking-run(1)).
if [ -n "${PYT_VALGRIND:-}" ]; then
	echo "nofile: under valgrind the limit is not raised: skipped"
	exit 77
fi
hard=$(ulimit -H -n)
if [ "$hard" != unlimited ] && [ "$hard" -lt 1024 ]; then
	echo "nofile: hard limit $hard below 1024: skipped"
	exit 77
fi
# 150 processes with stdout and stderr piped hold about 450 descriptors:
# more than the soft limit of 256 the supervisor is started with.
{
	echo "version: 1"
	echo "processes:"
	echo "  limit: {shell: 'ulimit -S -n'}"
	# Its readiness pipe must be moved to fd 255, the last one below the
	# old limit: the child may only lower its limit after the move.
	echo "  high: {cmd: [\"$PYT_HELPER\", ready-fd, \"255\"], ready: {fd: 255}}"
	i=1
	while [ "$i" -le 150 ]; do
		echo "  p$i: {cmd: [\"$PYT_HELPER\", echo, p$i]}"
		i=$((i + 1))
	done
} >"$T/many.yaml"
(ulimit -S -n 256 && exec "$PYT" "$T/many.yaml") >"$T/out" 2>"$T/err"
STATUS=$?
expect_status 0
grep -qx "limit | 256" "$T/out" || fail "child's limit: $(grep 'limit |' "$T/out")"
grep -qx "high | up" "$T/out" || fail "ready fd 255 under a limit of 256: $(grep 'high' "$T/err")"
grep -q "high: ready" "$T/err" || fail "high never ready"
[ "$(grep -c '^p[0-9]* | p[0-9]*$' "$T/out")" = 150 ] ||
    fail "not every process ran: $(grep -c '^p' "$T/out") of 150"
! grep -q "Too many open files" "$T/err" || fail "ran out of descriptors"
exit 0
