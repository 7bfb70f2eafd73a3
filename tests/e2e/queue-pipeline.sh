# seq | wc -l through a named queue ends by itself with the right count;
# -v prints the queue's counters at exit. Shutdown drains queues into
# consumers before stopping them: no last lines lost.
. "$(dirname "$0")/lib.sh"

manifest pipe.yaml <<EOF2
version: 1
queues:
  lines: {capacity: 1000}
processes:
  gen: {cmd: [seq, 1, 100000], stdout: lines}
  count: {cmd: [wc, -l], stdin: lines, stdout: "file:$T/count.txt"}
EOF2
run_pyt 60 -v "$T/pipe.yaml"
expect_status 0
[ "$(tr -d ' ' <"$T/count.txt")" = 100000 ] || fail "count: $(cat "$T/count.txt")"
grep -q "queue lines: in 100000, out 100000, redelivered 0, dropped 0" "$T/err" ||
    fail "counters"

# A tee: the same lines into a queue and onto the console.
manifest tee.yaml <<EOF2
version: 1
queues:
  q: {}
processes:
  gen: {cmd: [seq, 1, 3], stdout: [q, inherit]}
  count: {cmd: [wc, -l], stdin: q}
EOF2
run_pyt 30 "$T/tee.yaml"
expect_status 0
[ "$(count_lines "$T/out" '^gen \| [123]$')" = 3 ] || fail "tee to console"
grep -Eq '^count \| +3$' "$T/out" || fail "tee to queue"

# SIGTERM: the endless producer stops first, the queue drains into the
# consumer, which sees end of stream and prints its count.
manifest drain.yaml <<EOF2
version: 1
queues:
  q: {capacity: 100}
processes:
  gen: {cmd: ["$PYT_HELPER", spew, "100000000"], stdout: q}
  count: {cmd: ["$PYT_HELPER", count], stdin: q}
EOF2
start_pyt -v "$T/drain.yaml"
wait_line 10 "$T/err" 'count: started'
wait_line 10 "$T/err" 'gen: started'
kill -TERM "$BGPID"
wait_pyt 30
expect_status 0
counted=$(sed -n 's/^count | \([0-9]*\)$/\1/p' "$T/out")
[ -n "$counted" ] || fail "the consumer printed no count"
grep -q "queue q: in $counted, out $counted, " "$T/err" ||
    fail "counted $counted but counters say: $(grep 'queue q' "$T/err")"
exit 0
