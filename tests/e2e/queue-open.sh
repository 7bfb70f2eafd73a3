# A queue no unit feeds is fed from outside: its consumers wait for
# ctl put until "ctl close" ends it (they drain, then see the end); the
# run says once that it waits on it and ends by itself afterwards. A put
# into a closed queue is refused; the close builtin of a task ends a
# queue too; ctl queues and -v show the state, producers and consumers.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/open.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
js() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (bool, type(None), dict, list)) else r)' "$1"
}
qfield() {
	ctl --json queues | js "[q for q in d['queues'] if q['name'] == '$1'][0]['$2']"
}

manifest open.yaml <<EOF2
version: 1
queues:
  jobs: {}
  lines: {}
processes:
  worker:
    replicas: 2
    stdin: jobs
    shell: 'n=0; while read -r l; do n=\$((n+1)); done; echo "got \$n"'
  show: {cmd: [cat], stdin: lines}
EOF2
"$PYT" -c "$T/open.yaml" >"$T/c.out" 2>&1 || fail "-c: $(cat "$T/c.out")"
grep -q 'queues.jobs: no producer: .*fed from outside (ctl put) and stays open until "ctl close jobs"' \
    "$T/c.out" || fail "-c warning: $(cat "$T/c.out")"

start_pyt -v -s "$SOCK" "$T/open.yaml"
wait_line 10 "$T/err" 'jobs: open, waiting for producers; close it with "ctl close jobs"'
wait_line 10 "$T/err" 'lines: open, waiting for producers; close it with "ctl close lines"'
wait_for 10 test -S "$SOCK" || fail "no socket"
# Nothing ended at start-up: the workers wait for items.
grep -q 'worker.1: exited' "$T/err" && fail "a worker ended at start-up"
[ "$(qfield jobs state)" = open ] || fail "state $(qfield jobs state)"
[ "$(qfield jobs consumers)" = 2 ] || fail "consumers $(qfield jobs consumers)"
[ "$(qfield jobs declared)" = 0 ] || fail "declared"
echo "$(qfield jobs in_flight_each)" | grep -Eq '^worker\.[12]:0 worker\.[12]:0$' ||
    fail "in flight: $(qfield jobs in_flight_each)"

seq 1 1000 | ctl put jobs || fail "put 1000"
ctl put lines hello world || fail "put lines"
wait_line 10 "$T/out" '^show \| world$'
ctl queues >"$T/q" || fail "queues"
grep -Eq '^jobs +share +open ' "$T/q" || fail "jobs row: $(cat "$T/q")"
[ "$(qfield jobs producers)" = 0 ] || fail "producers $(qfield jobs producers)"
ctl close jobs || fail "close jobs"
ctl put jobs more 2>"$T/e" && fail "put into a closed queue"
grep -qx 'pytasking-run: queue jobs is closed' "$T/e" || fail "closed: $(cat "$T/e")"
echo x | ctl put jobs 2>"$T/e" && fail "put stdin into a closed queue"
grep -q 'queue jobs is closed' "$T/e" || fail "closed stdin: $(cat "$T/e")"
ctl close nope 2>"$T/e" && fail "close an unknown queue"
grep -qx 'pytasking-run: no such queue: nope' "$T/e" || fail "$(cat "$T/e")"
wait_line 10 "$T/err" 'worker.1: exited with status 0'
wait_line 10 "$T/err" 'worker.2: exited with status 0'
sum=$(sed -n 's/^worker\.[12] | got \([0-9]*\)$/\1/p' "$T/out" | awk '{ s += $1 } END { print s }')
[ "$sum" = 1000 ] || fail "the workers got $sum items, not 1000"
# The run goes on while show reads the open queue lines; closing it ends it.
kill -0 "$BGPID" || fail "the run ended with lines open"
ctl close lines || fail "close lines"
wait_pyt 20
expect_status 0
[ "$(grep -c 'open, waiting for producers' "$T/err")" = 2 ] ||
    fail "said more than once: $(grep 'open, waiting' "$T/err")"
grep -q 'queue jobs: ended, producers 0 live of 0 (fed from outside), consumers 0' "$T/err" ||
    fail "-v state: $(grep 'queue jobs' "$T/err")"
grep -q 'queue jobs: in 1000, out 1000,' "$T/err" || fail "-v counters"

# The close builtin: the reader sees the end while the task still runs.
manifest task.yaml <<EOF2
version: 1
queues:
  q: {}
processes:
  c: {cmd: [cat], stdin: q, autostart: true}
tasks:
  t:
    run:
      - put q a
      - put q b
      - close q
      - wait c
      - echo "c ended"
EOF2
run_pyt 20 "$T/task.yaml"
expect_status 0
grep -q '^c | b$' "$T/out" || fail "cat did not get b"
grep -q '^t | c ended$' "$T/out" || fail "the task did not see cat end"
exit 0
