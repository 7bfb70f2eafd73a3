# Fan-out throughput: a million lines into four wc -l replicas arrive
# whole, each counted once, with every consumer given a share window.
. "$(dirname "$0")/lib.sh"

manifest fan.yaml <<EOF2
version: 1
queues:
  lines: {}
processes:
  gen: {cmd: [seq, 1, 1000000], stdout: lines}
  count: {cmd: [wc, -l], replicas: 4, stdin: lines}
EOF2
run_pyt 60 "$T/fan.yaml"
expect_status 0
sum=$(sed -n 's/^count\.[1-4] | *\([0-9]*\)$/\1/p' "$T/out" | awk '{ s += $1 } END { print s }')
[ "$sum" = 1000000 ] || fail "the counters saw $sum lines, not 1000000"
[ "$(grep -c '^count\.[1-4] | ' "$T/out")" = 4 ] || fail "not four counts"
exit 0
