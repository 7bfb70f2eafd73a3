# SIGTERM to a supervisor running 200 processes: all stop, all reaped,
# exit 0, nothing left behind.
. "$(dirname "$0")/lib.sh"

{
	echo "version: 1"
	echo "processes:"
	i=1
	while [ $i -le 200 ]; do
		echo "  p$i: {cmd: [\"$PYT_HELPER\", sleep, \"1000\"], stdout: null}"
		i=$((i + 1))
	done
} >"$T/many.yaml"
start_pyt "$T/many.yaml"
wait_for 30 sh -c "[ \$(grep -c ': started' '$T/err') = 200 ]" ||
    fail "not all 200 started"
pids=$(sed -n 's/.*started (pid \([0-9]*\)).*/\1/p' "$T/err")
kill -TERM "$BGPID"
wait_pyt 60
expect_status 0
[ "$(count_lines "$T/err" ': stopped$')" = 200 ] || fail "not all 200 stopped"
for p in $pids; do
	left_behind "$p" && fail "process $p left behind"
done
exit 0
