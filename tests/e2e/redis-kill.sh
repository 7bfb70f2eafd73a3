# A supervisor SIGKILLed mid-stream: what it had fetched and not yet
# written whole stays pending under its name, and the other supervisor
# takes it over after claim_after. Every item is consumed; duplicates are
# counted and bounded: items written whole whose acknowledgement died with
# the supervisor, and, an entry being the unit of redelivery, the items
# already done of the entries it held in part (at most its window).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

start_redis
queue() {
	cat <<EOF2
version: 1
queues:
  jobs:
    backend: redis
    url: $REDIS_URL
    capacity: 2000
    claim_after: 1s
processes:
EOF2
}
# The producer is paced, so that the kill falls in the middle.
{ queue; cat <<EOF2; } >"$T/a.yaml"
  gen:
    shell: 'i=0; while [ \$i -lt 100 ]; do seq \$((i*1000+1)) \$((i*1000+1000)); i=\$((i+1)); sleep 0.02; done'
    stdout: jobs
  work: {cmd: [cat], stdin: jobs, stdout: "file:$T/a.txt"}
EOF2
# b's consumer is slow, so that b holds items when it is killed.
{ queue; cat <<EOF2; } >"$T/b.yaml"
  work:
    shell: 'i=0; while read -r l; do echo "\$l"; i=\$((i+1)); [ \$((i % 100)) != 0 ] || sleep 0.05; done'
    stdin: jobs
    stdout: "file:$T/b.txt"
EOF2

start_sup b "$T/b.yaml"
B=$SUP_PID
wait_line 10 "$T/b.err" "work: started"
start_pyt -v "$T/a.yaml"
wait_for 60 sh -c "[ \$(cat '$T/b.txt' 2>/dev/null | wc -l) -ge 500 ]" ||
    fail "b consumed nothing"
CHILD=$(ps -o pid= --ppid "$B" | tr -d ' ')
kill -KILL "$B"
wait "$B" 2>/dev/null
# What b holds (the group's count has a's too): its consumer is named
# host:pid:queue.
bname="$(uname -n):$B:jobs"
pending=$(rcli xinfo consumers jobs jobs |
    awk -v n="$bname" 'p == "name" { c = $0 } p == "pending" && c == n { print; f = 1 }
	{ p = $0 } END { if (!f) print 0 }')
wait_pyt 120
expect_status 0
# b's consumer reads what was in its pipe, then sees the end of its input.
# Its pid may be another's by now: ours carry this test's socket.
child_gone() { ! left_behind "$1"; }
for p in $CHILD; do
	wait_for 30 child_gone "$p" || fail "b's consumer still running"
done
# A line torn by the kill (no newline) is no item.
cp "$T/b.txt" "$T/b.whole"
if [ -n "$(tail -c 1 "$T/b.txt")" ]; then sed '$d' "$T/b.txt" >"$T/b.whole"; fi
cat "$T/a.txt" "$T/b.whole" >"$T/all.txt"
check_items "$T/all.txt" 100000 5000
echo "a consumed $(wc -l <"$T/a.txt"), b $(wc -l <"$T/b.whole") before" \
    "it was killed with $pending pending; duplicates $DUP"
if [ "$pending" -gt 0 ]; then
	grep -q "queue jobs: took over [0-9]* item" "$T/err" ||
	    fail "nothing taken over from b"
fi
[ "$(rcli xlen jobs)" = 0 ] || fail "stream not empty: $(rcli xlen jobs)"
exit 0
