# Fair dispatch: replicas sharing a queue each take a share of slow jobs
# (400 jobs of 10 ms over 8 workers end in under twice the ideal 0.5 s),
# a consumer that reads nothing holds no more than its prefetch and
# stalls no one, and the example pool spreads its jobs.
. "$(dirname "$0")/lib.sh"

manifest slow.yaml <<EOF2
version: 1
queues:
  jobs: {}
processes:
  gen: {cmd: [seq, 1, 400], stdout: jobs}
  worker:
    replicas: 8
    stdin: jobs
    shell: 'c=0; while read -r n; do sleep 0.01; c=\$((c+1)); done; echo "took \$c"'
EOF2
t0=$(date +%s%N)
run_pyt 60 "$T/slow.yaml"
t1=$(date +%s%N)
expect_status 0
ms=$(( (t1 - t0) / 1000000 ))
total=$(sed -n 's/^worker\.[1-8] | took \([0-9]*\)$/\1/p' "$T/out" | awk '{ s += $1 } END { print s }')
[ "$total" = 400 ] || fail "the workers took $total jobs, not 400"
# Ideal: 50 jobs of 10 ms each; at most twice that on every worker.
for i in 1 2 3 4 5 6 7 8; do
	n=$(sed -n "s/^worker\.$i | took \([0-9]*\)\$/\1/p" "$T/out")
	[ "${n:-0}" -ge 10 ] && [ "$n" -le 100 ] ||
	    fail "worker.$i took ${n:-no} jobs: not a share of 400 over 8"
done
# sleep 0.01 costs a fork too: allow twice the ideal on top of that,
# scaled on slow machines.
limit=$(( 1000 * PYT_TIMEOUT_SCALE + 1000 ))
[ "$ms" -lt "$limit" ] || fail "400 jobs over 8 workers took $ms ms"
echo "400 x 10 ms over 8 workers: $ms ms" >&2

# A consumer that never reads holds its prefetch; the others take the rest.
manifest stuck.yaml <<EOF2
version: 1
queues:
  jobs: {prefetch: 3}
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
[ -s "$T/done.worker.2" ] && [ -s "$T/done.worker.3" ] || fail "one reader took nothing"

# The example pool: every worker takes a share.
cp "$(dirname "$0")/../../configs/workers.yaml" "$T/workers.yaml"
run_pyt 60 "$T/workers.yaml"
expect_status 0
grep -q 'sum of squares: 338350' "$T/out" || fail "wrong sum"
for i in 1 2 3 4; do
	grep -Eq "^worker\.$i \| took [1-9][0-9]* jobs" "$T/err" ||
	    fail "worker.$i took no job"
done
exit 0
