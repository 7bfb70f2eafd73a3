# At a natural end, items left in a queue are said to be discarded, with
# their number per queue, as the drain timeout of a SIGTERM says it
# (issue 13); the exit status stays 0.
. "$(dirname "$0")/lib.sh"

manifest left.yaml <<EOF2
version: 1
queues:
  q: {capacity: 100}
  empty: {capacity: 10}
processes:
  gen: {cmd: [seq, 1, "5000"], stdout: q}
  h: {cmd: [head, -n, "100"], stdin: q, stdout: "file:$T/got"}
  e: {cmd: ["$PYT_HELPER", echo, hi], stdout: empty}
  f: {cmd: [cat], stdin: empty, stdout: "null"}
EOF2
run_pyt 30 -v "$T/left.yaml"
expect_status 0
[ "$(wc -l <"$T/got")" -eq 100 ] || fail "head did not get its 100 lines"
depth=$(sed -n 's/.*queue q: in 5000, .* depth \([0-9]*\),.*/\1/p' "$T/err")
[ -n "$depth" ] && [ "$depth" -gt 0 ] || fail "no depth in the counters"
grep -q "pytasking-run: queue q: $depth items left undelivered at the end, discarded" "$T/err" ||
    fail "the discarded items were not said"
grep -q 'queue empty: .* discarded' "$T/err" && fail "an empty queue was said"
exit 0
