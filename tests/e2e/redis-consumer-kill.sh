# A consumer of a Redis queue killed again and again in the middle of the
# entries it was given (an entry holds up to 256 items) loses nothing:
# the items it had not read go back to the inbox with their entry's id,
# reach its next run, and the entry is acknowledged only once the last of
# its items was read. sh's read takes one byte at a time from a pipe, so
# each run records every line it read and dies holding none unrecorded:
# no item is lost and none is delivered twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

start_redis
manifest kill.yaml <<EOF2
version: 1
queues:
  q: {backend: redis, url: "$REDIS_URL", capacity: 5000}
processes:
  gen: {cmd: [seq, 1, 30000], stdout: q}
  sink:
    shell: |
      n=\$(cat "$T/runs" 2>/dev/null || echo 0)
      echo \$((n+1)) >"$T/runs"
      if [ \$n -lt 5 ]; then
        i=0
        while read -r l; do
          echo "\$l" >>"$T/got.txt"; i=\$((i+1))
          [ \$i -lt 1000 ] || kill -KILL \$\$
        done
      fi
      cat >>"$T/got.txt"
    stdin: q
    restart: on-failure
    backoff: {initial: 10ms}
EOF2
run_pyt 60 -v "$T/kill.yaml"
expect_status 0
[ "$(cat "$T/runs")" = 6 ] || fail "sink ran $(cat "$T/runs") times, not 6"
check_items "$T/got.txt" 30000 0
grep -Eq "queue q: in 30000, out [0-9]+, redelivered [1-9]" "$T/err" ||
    fail "nothing redelivered: $(grep 'queue q' "$T/err")"
# The items went to the stream several to an entry.
adds=$(rcli info commandstats | sed -n 's/^cmdstat_xadd:calls=\([0-9]*\),.*/\1/p')
[ -n "$adds" ] && [ "$adds" -lt 30000 ] ||
    fail "not batched: $adds XADDs for 30000 items"
[ "$(rcli xlen q)" = 0 ] || fail "stream not empty: $(rcli xlen q)"
[ "$(rcli xpending q q | head -1)" = 0 ] || fail "items left pending"
[ "$(rcli exists q:extra)" = 0 ] || fail "q:extra left: $(rcli get q:extra)"
echo "$adds entries for 30000 items, $(grep 'queue q' "$T/err")"
exit 0
