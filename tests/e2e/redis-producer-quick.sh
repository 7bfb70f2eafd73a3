# A producer of a Redis queue that exits before the registry of producers
# could hear of it live, here one that produces nothing at all, still
# enters the registry, as ended: consumers wait for every registered
# producer to end, and for at least one, so they see the end of the
# stream (as with a memory queue) instead of waiting for ever.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

start_redis
manifest quick.yaml <<EOF2
version: 1
queues:
  q: {backend: redis, url: "$REDIS_URL"}
processes:
  gen: {cmd: ["$PYT_HELPER", exit, 0], stdout: q}
  sink: {cmd: ["$PYT_HELPER", count], stdin: q, stdout: "file:$T/got"}
EOF2
run_pyt 10 "$T/quick.yaml"
expect_status 0
[ "$(cat "$T/got")" = 0 ] || fail "the consumer counted $(cat "$T/got")"
# The registry says this producer ended ("0 SEQ": no expiry).
reg=$(rcli hvals q:producers)
case $reg in
"0 0") ;;
*) fail "registry of producers: '$reg'" ;;
esac
exit 0
