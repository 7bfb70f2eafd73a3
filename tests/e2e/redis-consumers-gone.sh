# A Redis queue whose every local consumer has exited keeps no one up: the
# supervisor ends with its units, as with a memory queue. The queue was
# told a reader waits when the consumer started, and was never told it
# went: it kept the loop alive for ever (and the supervisor, its signal
# watchers stopped once every unit had ended, then died of SIGTERM's
# default action, status 143).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

start_redis
manifest gone.yaml <<EOF2
version: 1
queues:
  q: {backend: redis, url: "$REDIS_URL"}
processes:
  sink: {cmd: ["$PYT_HELPER", wait-file, "$T/go", 30], stdin: q}
EOF2
start_pyt "$T/gone.yaml"
wait_line 10 "$T/err" 'sink: started'
# The consumer waits on the queue, which is empty and fed from elsewhere.
: >"$T/go"
wait_line 10 "$T/err" 'sink: exited with status 0'
wait_pyt 10
expect_status 0
# Nothing was held: this supervisor's consumer left the group.
[ -z "$(rcli xinfo consumers q q)" ] ||
    fail "a consumer is left in the group: $(rcli xinfo consumers q q)"
exit 0
