# A Redis queue of small capacity moves at the speed of its round trips,
# not of a timer (issue 13): items read by the consumer are acknowledged
# as soon as the supervisor sees them read, so they stop counting against
# the producers at once. 10,000 lines through a queue of capacity 100
# took 96 s when read items waited for a 1 s tick; the timeout allows 10 s
# (scaled on slow builds), the run takes well under one.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

start_redis
manifest small.yaml <<EOF2
version: 1
queues:
  q: {backend: redis, url: "$REDIS_URL", capacity: 100}
processes:
  gen: {cmd: [seq, 1, 10000], stdout: q}
  sink: {cmd: [cat], stdin: q, stdout: "file:$T/got.txt"}
EOF2
t0=$(date +%s%N)
run_pyt 10 -v "$T/small.yaml"
t1=$(date +%s%N)
expect_status 0
check_items "$T/got.txt" 10000 0
[ "$(rcli xlen q)" = 0 ] || fail "stream not empty: $(rcli xlen q)"
echo "10000 items through capacity 100 in $(( (t1 - t0) / 1000000 )) ms"
exit 0
