# SIGTERM during a reload: SIGHUP and SIGTERM at once, while the reload
# adds 50 processes, changes one and removes one (ten rounds); and SIGHUP
# while stopping, when a process is slow to stop. (The kernel hands over
# two pending signals lowest number first, so "at once" means HUP, then
# TERM.) Every run ends cleanly with status 0 and no process left, the
# added ones included.
. "$(dirname "$0")/lib.sh"

all_gone() {
	for p in $(sed -n 's/.*started (pid \([0-9]*\)).*/\1/p' "$T/err"); do
		pid_gone "$p" || { echo "process $p left behind"; return 1; }
	done
}

# v1 [EXTRA]: the first manifest, with an extra process line if given.
v1() {
	cat <<EOF2
version: 1
processes:
  keep: {cmd: ["$PYT_HELPER", sleep, "1000"]}
  change: {cmd: ["$PYT_HELPER", sleep, "1000"], env: {V: "1"}}
  gone: {cmd: ["$PYT_HELPER", sleep, "1000"]}
${1:-}
tasks:
  tick: {run: [{every 10ms: [echo tick]}], stdout: null}
EOF2
}

# v2 [EXTRA]: the reloaded one.
v2() {
	cat <<EOF2
version: 1
processes:
  keep: {cmd: ["$PYT_HELPER", sleep, "1000"]}
  change: {cmd: ["$PYT_HELPER", sleep, "1000"], env: {V: "2"}}
  fresh: {cmd: ["$PYT_HELPER", sleep, "1000"], replicas: 50}
${1:-}
tasks:
  tick: {run: [{every 10ms: [echo tock]}], stdout: null}
EOF2
}

# check WHAT: status 0, every process started was stopped and is gone.
check() {
	expect_status 0
	grep -q 'received SIGTERM: stopping' "$T/err" || fail "$1: SIGTERM not seen"
	all_gone || fail "$1: a process outlived the supervisor"
	n=$(count_lines "$T/err" ': started \(pid')
	s=$(count_lines "$T/err" '^pytasking-run: (keep|change|gone|slow|fresh\.[0-9]+): stopped$')
	[ "$n" = "$s" ] || fail "$1: $n processes started, $s stopped"
}

reloaded=0
r=1
while [ $r -le 10 ]; do
	v1 >"$T/m.yaml"
	start_pyt "$T/m.yaml"
	for u in keep change gone; do wait_line 10 "$T/err" "$u: started"; done
	v2 >"$T/m.yaml"
	kill -HUP "$BGPID"
	kill -TERM "$BGPID"
	wait_pyt 30
	check "HUP+TERM round $r"
	if grep -q 'reloaded' "$T/err"; then reloaded=$((reloaded + 1)); fi
	r=$((r + 1))
done
echo "HUP and TERM at once: the reload was applied in $reloaded of 10 rounds"

# SIGHUP while stopping: "slow" ignores SIGTERM until told to go, so the
# supervisor is surely still stopping when SIGHUP comes. Its stop_timeout
# (1m, not the default 10s) must not end it first on a loaded machine:
# that would be a failed run, exit status 1.
slow="  slow: {shell: 'trap \"\" TERM; echo ready; exec \"$PYT_HELPER\" wait-file \"$T/go\" 100', stop_timeout: 1m}"
v1 "$slow" >"$T/m.yaml"
start_pyt "$T/m.yaml"
wait_line 10 "$T/out" 'slow \| ready'
for u in keep change gone; do wait_line 10 "$T/err" "$u: started"; done
v2 "$slow" >"$T/m.yaml"
kill -TERM "$BGPID"
wait_line 10 "$T/err" 'keep: stopped'
kill -HUP "$BGPID"
wait_line 10 "$T/err" 'reload refused.*shutting down'
: >"$T/go"
wait_pyt 30
check "HUP while stopping"
grep -q 'fresh' "$T/err" && fail "a reload started units while stopping"
exit 0
