# Two supervisors share one Redis queue: 100,000 items, each consumed
# exactly once when nothing fails, and both runs end by themselves once
# the only producer has ended and the stream is empty.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

start_redis
queue() {
	cat <<EOF2
version: 1
queues:
  jobs:
    backend: redis
    url: $REDIS_URL
    capacity: 5000
processes:
EOF2
}
{ queue; cat <<EOF2; } >"$T/a.yaml"
  gen: {cmd: [seq, 1, 100000], stdout: jobs}
  work: {cmd: [cat], stdin: jobs, stdout: "file:$T/a.txt"}
EOF2
{ queue; cat <<EOF2; } >"$T/b.yaml"
  work: {cmd: [cat], stdin: jobs, stdout: "file:$T/b.txt"}
EOF2

start_sup b -v "$T/b.yaml"
B=$SUP_PID
wait_line 10 "$T/b.err" "work: started"
start_pyt -v "$T/a.yaml"
wait_pyt 120
expect_status 0
wait_for 30 pid_gone "$B" || fail "supervisor b still running"
wait "$B"
[ $? = 0 ] || fail "supervisor b failed: $(tail -5 "$T/b.err")"
cat "$T/a.txt" "$T/b.txt" >"$T/all.txt"
check_items "$T/all.txt" 100000 0
echo "a consumed $(wc -l <"$T/a.txt"), b $(wc -l <"$T/b.txt"), duplicates $DUP"
grep -q "queue jobs: in 100000, out $(wc -l <"$T/a.txt")," "$T/err" ||
    fail "counters of a: $(grep 'queue jobs' "$T/err")"
grep -q "queue jobs: in 0, out $(wc -l <"$T/b.txt")," "$T/b.err" ||
    fail "counters of b: $(grep 'queue jobs' "$T/b.err")"
[ "$(rcli xlen jobs)" = 0 ] || fail "stream not empty: $(rcli xlen jobs)"
[ "$(rcli xpending jobs jobs | head -1)" = 0 ] || fail "items left pending"
exit 0
