# Fair dispatch: replicas sharing a queue each take a share of slow jobs
# (400 jobs of 10 ms over 8 workers: none takes more than twice its
# share or less than a fifth of it, and eight at a time beat one at a
# time), a consumer that reads nothing holds no more than its prefetch
# and stalls no one, and the example pool spreads its jobs.
. "$(dirname "$0")/lib.sh"

# The workers start reading together (once all eight have started: a
# loaded machine may start the last long after the first, which would
# then take its share), and each notes when it began and ended.
manifest slow.yaml <<EOF2
version: 1
queues:
  jobs: {}
processes:
  gen: {cmd: [seq, 1, 400], stdout: jobs}
  worker:
    replicas: 8
    stdin: jobs
    shell: |
      : >"$T/up.\$PYTASKING_UNIT"
      set -- "$T"/up.*
      while [ \$# -lt 8 ]; do sleep 0.01; set -- "$T"/up.*; done
      t0=\$(date +%s%N); c=0
      while read -r n; do sleep 0.01; c=\$((c+1)); done
      echo "\$t0 \$(date +%s%N)" >"$T/span.\$PYTASKING_UNIT"
      echo "took \$c"
EOF2
run_pyt 60 "$T/slow.yaml"
expect_status 0
total=$(sed -n 's/^worker\.[1-8] | took \([0-9]*\)$/\1/p' "$T/out" | awk '{ s += $1 } END { print s }')
[ "$total" = 400 ] || fail "the workers took $total jobs, not 400"
# Ideal: 50 jobs of 10 ms each; at most twice that on every worker.
for i in 1 2 3 4 5 6 7 8; do
	n=$(sed -n "s/^worker\.$i | took \([0-9]*\)\$/\1/p" "$T/out")
	[ "${n:-0}" -ge 10 ] && [ "$n" -le 100 ] ||
	    fail "worker.$i took ${n:-no} jobs: not a share of 400 over 8"
done
# From the first worker's start to the last one's end, in the workers'
# own clocks (the supervisor's start and stop, slow under sanitizers, do
# not count). One worker at a time needs 4 s for the sleeps alone; eight
# at a time ideally 0.5 s, which load stretches (a fork a job: 0.8 s on
# 2 cores at a load of 19). Not scaled: 3 s x 3 would no longer tell one
# at a time from eight.
ms=$(cat "$T"/span.worker.* | awk 'NR == 1 || $1 < a { a = $1 } $2 > b { b = $2 } END { print int((b - a) / 1000000) }')
[ "$ms" -lt 3000 ] || fail "400 jobs over 8 workers took $ms ms"
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
