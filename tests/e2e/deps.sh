# Dependencies and readiness: start order by readiness, a failed
# dependency, ready by line, by fd and by a probe, ready_timeout, and
# shutdown in reverse dependency order. Order is read from the
# supervisor's own event lines, never from timing.
. "$(dirname "$0")/lib.sh"

# line_no FILE ERE: the number of the first line matching ERE.
line_no() { grep -En -- "$2" "$1" | head -n 1 | cut -d: -f1; }
before() {
	a=$(line_no "$T/err" "$1"); b=$(line_no "$T/err" "$2")
	[ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] ||
	    fail "expected /$1/ (line $a) before /$2/ (line $b)"
}

manifest order.yaml <<EOF2
version: 1
processes:
  db:
    shell: 'echo starting; "$PYT_HELPER" wait-file "$T/go" 60 && echo "db accepting connections"; exec "$PYT_HELPER" sleep 1000'
    ready: {line: "accepting connections$"}
  migrate:
    cmd: ["$PYT_HELPER", echo, migrated]
    depends_on: {db: ready}
  web:
    cmd: ["$PYT_HELPER", sleep, "1000"]
    depends_on: {migrate: succeeded, db: started}
  fdready:
    shell: 'echo >&5; exec "$PYT_HELPER" sleep 1000'
    ready: {fd: 5}
  probed:
    cmd: ["$PYT_HELPER", sleep, "1000"]
    ready: {exec: [test, -e, "$T/probe-ok"], interval: 20ms}
  after_probe:
    cmd: ["$PYT_HELPER", sleep, "1000"]
    depends_on: {probed: ready, fdready: ready}
EOF2
start_pyt "$T/order.yaml"
wait_line 10 "$T/out" '^db \| starting$'
grep -q 'migrate: started' "$T/err" && fail "migrate started before db was ready"
: >"$T/go"
wait_line 10 "$T/err" 'web: started'
before 'db: ready' 'migrate: started'
before 'migrate: exited with status 0' 'web: started'
wait_line 10 "$T/err" 'fdready: ready'
grep -q 'after_probe: started' "$T/err" && fail "after_probe started before probed was ready"
: >"$T/probe-ok"
wait_line 10 "$T/err" 'after_probe: started'
before 'probed: ready' 'after_probe: started'
kill -TERM "$BGPID"
wait_pyt 30
expect_status 0
# Reverse order: dependents stop before what they depend on.
before 'web: stopped' 'db: stopped'
before 'after_probe: stopped' 'probed: stopped'

manifest failed.yaml <<EOF2
version: 1
processes:
  bad: {cmd: ["$PYT_HELPER", exit, "1"]}
  after: {cmd: ["$PYT_HELPER", touch, "$T/after-ran"], depends_on: {bad: succeeded}}
  slow:
    cmd: ["$PYT_HELPER", sleep, "1000"]
    ready: {line: never-printed}
    ready_timeout: 200ms
EOF2
run_pyt 30 "$T/failed.yaml"
expect_status 1
grep -q "after: not started: dependency bad can no longer be succeeded" "$T/err" ||
    fail "failed dependency not reported"
[ ! -e "$T/after-ran" ] || fail "after ran although bad failed"
grep -q "slow: not ready after 200ms: stopping it" "$T/err" || fail "ready_timeout"
exit 0
