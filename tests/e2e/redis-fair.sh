# Fair dispatch on a Redis queue too: the items this supervisor fetches
# are shared among its local consumers as a memory queue's are (window,
# prefetch). 400 jobs of 10 ms over 8 replicas: each takes a share (all
# 400 went to worker.1 before, one after the other); a consumer that
# reads nothing holds at most its prefetch while the others take the rest.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

start_redis
manifest slow.yaml <<EOF2
version: 1
queues:
  jobs: {backend: redis, url: "$REDIS_URL", stream: fair}
processes:
  gen: {cmd: [seq, 1, 400], stdout: jobs}
  worker:
    replicas: 8
    stdin: jobs
    shell: |
      : >"$T/up.\$PYTASKING_UNIT"
      for i in 1 2 3 4 5 6 7 8; do
        "$PYT_HELPER" wait-file "$T/up.worker.\$i" 30 || exit 1
      done
      c=0; while read -r n; do sleep 0.01; c=\$((c+1)); done; echo "took \$c"
EOF2
# The workers start reading together (a worker whose shell is slow to
# start under load would find the others done); the queue holds the
# jobs meanwhile.
run_pyt 60 "$T/slow.yaml"
expect_status 0
total=$(sed -n 's/^worker\.[1-8] | took \([0-9]*\)$/\1/p' "$T/out" | awk '{ s += $1 } END { print s }')
[ "$total" = 400 ] || fail "the workers took $total jobs, not 400"
for i in 1 2 3 4 5 6 7 8; do
	n=$(sed -n "s/^worker\.$i | took \([0-9]*\)\$/\1/p" "$T/out")
	[ "${n:-0}" -ge 10 ] && [ "$n" -le 100 ] ||
	    fail "worker.$i took ${n:-no} jobs: not a share of 400 over 8"
done
echo "shares of 400 jobs: $(sed -n 's/^worker\.[1-8] | took //p' "$T/out" | tr '\n' ' ')"

# A consumer that never reads holds its prefetch; the others take the rest.
manifest stuck.yaml <<EOF2
version: 1
queues:
  jobs: {backend: redis, url: "$REDIS_URL", stream: stuck, prefetch: 3}
processes:
  gen: {shell: 'seq 1 200; sleep 30', stdout: jobs}
  worker:
    replicas: 3
    stdin: jobs
    shell: |
      if [ "\$PYTASKING_UNIT" = worker.1 ]; then exec sleep 30; fi
      while read -r n; do echo "\$n" >>"$T/done.\$PYTASKING_UNIT"; done
EOF2
start_pyt "$T/stuck.yaml"
got() {
	n=$(cat "$T"/done.* 2>/dev/null | wc -l)
	[ "$n" -ge 197 ]
}
wait_for 20 got || fail "the readers got $(cat "$T"/done.* 2>/dev/null | wc -l) of 200 items with one stuck"
kill -TERM "$BGPID"
wait_pyt 20
n=$(cat "$T"/done.* | wc -l)
[ "$n" -ge 197 ] && [ "$n" -le 200 ] || fail "got $n items"
exit 0
