# Redis restarted mid-stream (same port, its data saved at shutdown): the
# supervisor logs the outage once, pauses its producer, retries, resumes
# by itself, and nothing is lost. Batches sent again after the outage are
# never added twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

start_redis
manifest r.yaml <<EOF2
version: 1
queues:
  jobs:
    backend: redis
    url: $REDIS_URL
    capacity: 5000
processes:
  gen:
    shell: 'i=0; while [ \$i -lt 100 ]; do
      [ \$i != 50 ] || "$PYT_HELPER" wait-file "$T/down" 60 || exit 1;
      seq \$((i*1000+1)) \$((i*1000+1000)); i=\$((i+1)); sleep 0.02; done'
    stdout: jobs
  work: {cmd: [cat], stdin: jobs, stdout: "file:$T/got.txt"}
EOF2
start_pyt -v "$T/r.yaml"
wait_for 60 sh -c "[ \$(cat '$T/got.txt' 2>/dev/null | wc -l) -ge 20000 ]" ||
    fail "nothing consumed"
stop_redis_saving
# The producer waits for the outage half way: it falls mid-stream however
# slow this shell is to stop the server.
: >"$T/down"
wait_line 10 "$T/err" "queue jobs: Redis at redis://127.0.0.1:$REDIS_PORT/0: .*producers paused, retrying"
restart_redis
wait_pyt 120
expect_status 0
grep -q "queue jobs: Redis at .* is reachable again after" "$T/err" ||
    fail "no message on reconnection"
[ "$(grep -c 'producers paused' "$T/err")" = 1 ] ||
    fail "the outage was not logged once"
check_items "$T/got.txt" 100000 5000
echo "consumed $(wc -l <"$T/got.txt"), duplicates $DUP"
grep -q "queue jobs: in 100000," "$T/err" || fail "counters: $(grep 'queue jobs' "$T/err")"
exit 0
