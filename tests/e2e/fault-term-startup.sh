# SIGTERM during start-up: sent as soon as the first of 300 processes (and
# 100 tasks) is reported started, and in the middle of a chain of 150
# processes that each wait for the one before to be ready. Everything ends
# cleanly with status 0, nothing is started after the signal, and no
# process that was started is left.
. "$(dirname "$0")/lib.sh"

# all_gone: every pid of a "started (pid N)" line of $T/err is gone.
all_gone() {
	for p in $(sed -n 's/.*started (pid \([0-9]*\)).*/\1/p' "$T/err"); do
		pid_gone "$p" || { echo "process $p left behind"; return 1; }
	done
}

{
	echo "version: 1"
	echo "processes:"
	i=1
	while [ $i -le 300 ]; do
		echo "  p$i: {cmd: [\"$PYT_HELPER\", sleep, \"1000\"], stdout: null}"
		i=$((i + 1))
	done
	echo "tasks:"
	i=1
	while [ $i -le 100 ]; do
		echo "  t$i: {run: [sleep 1h]}"
		i=$((i + 1))
	done
} >"$T/wide.yaml"
start_pyt "$T/wide.yaml"
wait_line 20 "$T/err" ': started'
kill -TERM "$BGPID"
wait_pyt 30
expect_status 0
grep -q 'received SIGTERM: stopping' "$T/err" || fail "SIGTERM not reported"
started=$(count_lines "$T/err" '^pytasking-run: p[0-9]+: started \(pid')
stopped=$(count_lines "$T/err" '^pytasking-run: p[0-9]+: stopped$')
[ "$started" = "$stopped" ] || fail "$started processes started, $stopped stopped"
all_gone || fail "wide: a process outlived the supervisor"
echo "wide: $started of 300 processes had started when SIGTERM was seen"

# A chain: c(i) starts once c(i-1) is ready. SIGTERM arrives mid-chain.
# c40 never becomes ready, so that the chain cannot run to its end while
# a loaded machine holds this script back between "c5" and the signal.
{
	echo "version: 1"
	echo "processes:"
	echo "  c1: {cmd: [\"$PYT_HELPER\", term-exit, \"0\"], ready: {line: '^ready\$'}}"
	i=2
	while [ $i -le 150 ]; do
		if [ $i = 40 ]; then
			echo "  c$i: {cmd: [\"$PYT_HELPER\", sleep, \"1000\"], ready: {line: '^ready\$'}, ready_timeout: 0, depends_on: {c$((i - 1)): ready}}"
		else
			echo "  c$i: {cmd: [\"$PYT_HELPER\", term-exit, \"0\"], ready: {line: '^ready\$'}, depends_on: {c$((i - 1)): ready}}"
		fi
		i=$((i + 1))
	done
} >"$T/chain.yaml"
start_pyt "$T/chain.yaml"
wait_line 20 "$T/err" 'c5: started'
kill -TERM "$BGPID"
wait_pyt 30
expect_status 0
n=$(count_lines "$T/err" ': started \(pid')
[ "$n" -le 40 ] || fail "$n of the chain started: past c40, which was never ready"
stopped=$(count_lines "$T/err" '^pytasking-run: c[0-9]+: stopped$')
[ "$n" = "$stopped" ] || fail "chain: $n started, $stopped stopped"
grep -Eq 'received SIGTERM' "$T/err" || fail "chain: SIGTERM not reported"
# Nothing starts after the signal.
sed -n '/received SIGTERM/,$p' "$T/err" | grep -q 'started (pid' &&
    fail "a process was started after SIGTERM"
all_gone || fail "chain: a process outlived the supervisor"
echo "chain: $n of 150 processes had started when SIGTERM was seen"
exit 0
