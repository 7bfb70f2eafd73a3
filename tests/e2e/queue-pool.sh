# A pool of 4 replicas sharing a queue receives every item exactly once.
. "$(dirname "$0")/lib.sh"

manifest pool.yaml <<EOF2
version: 1
queues:
  jobs: {capacity: 64}
  results: {}
processes:
  gen: {cmd: [seq, 1, 20000], stdout: jobs}
  worker:
    shell: 'while read -r l; do echo "\$PYTASKING_UNIT \$l"; done'
    replicas: 4
    stdin: jobs
    stdout: results
  collect: {cmd: [cat], stdin: results, stdout: "file:$T/results.txt"}
EOF2
run_pyt 120 "$T/pool.yaml"
expect_status 0
[ "$(wc -l <"$T/results.txt")" = 20000 ] || fail "expected 20000 results, got $(wc -l <"$T/results.txt")"
awk '{print $2}' "$T/results.txt" | sort -n >"$T/items"
seq 1 20000 >"$T/expected"
cmp -s "$T/items" "$T/expected" || fail "items lost or duplicated"
grep -Eq '^worker\.[1-4] [0-9]+$' "$T/results.txt" || fail "replica names"
grep -q "worker.4: started" "$T/err" || fail "replica worker.4 not started"
# Shared: each replica took some. Not how many: that depends on the load
# (one slow to start takes less), but each holds its first item in its
# pipe from the start, and the others' windows stay small meanwhile.
for i in 1 2 3 4; do
	grep -q "^worker\.$i " "$T/results.txt" ||
	    fail "worker.$i took no item: $(awk '{print $1}' "$T/results.txt" | sort | uniq -c)"
done
echo "shares: $(awk '{print $1}' "$T/results.txt" | sort | uniq -c | tr '\n' ' ')"
exit 0
