# Broadcast: every consumer gets every item.
. "$(dirname "$0")/lib.sh"

manifest bc.yaml <<EOF2
version: 1
queues:
  news: {mode: broadcast, capacity: 16}
processes:
  gen: {cmd: [seq, 1, 5000], stdout: news}
  a: {cmd: [cat], stdin: news, stdout: "file:$T/a.txt"}
  b: {cmd: [cat], stdin: news, stdout: "file:$T/b.txt"}
  c: {cmd: [wc, -l], stdin: news, replicas: 2}
EOF2
run_pyt 60 "$T/bc.yaml"
expect_status 0
seq 1 5000 >"$T/expected"
cmp -s "$T/a.txt" "$T/expected" || fail "a did not get every item in order"
cmp -s "$T/b.txt" "$T/expected" || fail "b did not get every item in order"
[ "$(count_lines "$T/out" '^c\.[12] \| +5000$')" = 2 ] || fail "replicas of c"
exit 0
