# overflow: drop-oldest on a Redis queue keeps the newest items, even when
# more than capacity arrive at once: the items waiting in the supervisor
# for the stream are bounded too, and drop-oldest drops the oldest of
# them, not the new ones (as drop-newest does). 100 lines in one write
# through a queue of capacity 10 leave 91..100 in the stream (the first
# ten were kept before); with drop-newest, 1..10. Either way "in" counts
# all 100, as for a memory queue.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

start_redis
for policy in drop-oldest drop-newest; do
	manifest put.yaml <<EOF2
version: 1
queues:
  q: {backend: redis, url: "$REDIS_URL", stream: $policy, capacity: 10,
      overflow: $policy}
processes:
  gen: {cmd: [seq, 1, 100], stdout: q}
EOF2
	run_pyt 10 -v "$T/put.yaml"
	expect_status 0
	grep -q "queue q: in 100, out 0, redelivered 0, dropped 90," \
	    "$T/err" || fail "$policy: $(grep 'queue q: in' "$T/err")"

	# A second run takes what the stream holds: the producer has ended.
	manifest get.yaml <<EOF2
version: 1
queues:
  q: {backend: redis, url: "$REDIS_URL", stream: $policy, capacity: 10,
      overflow: $policy}
processes:
  sink: {cmd: [cat], stdin: q, stdout: "file:$T/got"}
EOF2
	rm -f "$T/got"
	run_pyt 10 "$T/get.yaml"
	expect_status 0
	case $policy in
	drop-oldest) seq 91 100 >"$T/want" ;;
	drop-newest) seq 1 10 >"$T/want" ;;
	esac
	cmp -s "$T/got" "$T/want" ||
	    fail "$policy kept: $(tr '\n' ' ' <"$T/got")"
done
exit 0
