# An endless producer into a small queue with a slow consumer: the
# supervisor stops reading, the producer blocks, memory stays flat.
. "$(dirname "$0")/lib.sh"

rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
manifest bp.yaml <<EOF2
version: 1
queues:
  q: {capacity: 100}
processes:
  flood: {cmd: [yes, "a line of text to fill the queue"], stdout: q}
  slow:
    shell: 'i=0; while read -r l; do i=\$((i+1)); [ \$((i % 2000)) != 0 ] || echo \$i; done'
    stdin: q
EOF2
start_pyt -v "$T/bp.yaml"
wait_line 30 "$T/out" '^slow \| 2000$'
r1=$(rss "$BGPID")
wait_line 60 "$T/out" '^slow \| 20000$'
r2=$(rss "$BGPID")
# The high-water mark while the producer runs (at its stop, what it had
# written already is taken past the capacity: nothing written is lost).
"$PYT" ctl --json queues >"$T/q" || fail "ctl queues"
hw=$(sed -n 's/.*"high_water":\([0-9]*\).*/\1/p' "$T/q")
kill -TERM "$BGPID"
wait_pyt 30
expect_status 0
# 18000 more items went through; memory may not grow by more than 1 MiB.
[ $((r2 - r1)) -lt 1024 ] || fail "RSS grew from $r1 kB to $r2 kB"
# Never more than its capacity while the producer runs: what one read of
# the pipe brought past it waits in the supervisor, not in the queue.
[ -n "$hw" ] && [ "$hw" -le 100 ] || fail "high-water $hw, capacity 100"

# drop-newest never pauses the producer and counts what it drops: the
# consumer reads nothing until the producer has written everything.
manifest drop.yaml <<EOF2
version: 1
queues:
  q: {capacity: 10, overflow: drop-newest}
processes:
  gen: {shell: 'seq 1 200000; : >"$T/done"', stdout: q}
  late:
    shell: 'while [ ! -e "$T/done" ]; do sleep 0.01; done; wc -l'
    stdin: q
EOF2
run_pyt 60 -v "$T/drop.yaml"
expect_status 0
dropped=$(sed -n 's/.*queue q: .*dropped \([0-9]*\),.*/\1/p' "$T/err")
[ "$dropped" -gt 0 ] || fail "nothing dropped"
got=$(sed -n 's/^late | *\([0-9]*\)$/\1/p' "$T/out")
[ $((got + dropped)) = 200000 ] || fail "got $got + dropped $dropped != 200000"
exit 0
