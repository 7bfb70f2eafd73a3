# ctl close ends a Redis queue, as it ends a memory one: its consumers
# drain what the stream holds, then see the end, even while a producer of
# theirs still runs; and it closes the queue for every supervisor sharing
# the stream: items any producer pushes after it are refused (dropped,
# counted), until the registry of producers expires.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

SOCK=$T/close.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }

start_redis
# 1. Fed only from outside: 300 items added by another program, a slow
# consumer; closed at once, it still gets all 300, then the end.
seq 1 300 | sed 's/.*/XADD q * item &/' | rcli >/dev/null
manifest outside.yaml <<EOF2
version: 1
queues:
  q: {backend: redis, url: "$REDIS_URL"}
processes:
  sink: {cmd: ["$PYT_HELPER", slow-count, 1], stdin: q,
         stdout: "file:$T/count"}
EOF2
start_pyt -s "$SOCK" "$T/outside.yaml"
wait_line 10 "$T/err" 'sink: started'
wait_for 10 test -S "$SOCK" || fail "no socket"
ctl close q || fail "ctl close q"
wait_line 10 "$T/err" 'queue q: closed'
wait_pyt 20
expect_status 0
[ "$(cat "$T/count")" = 300 ] || fail "the consumer counted $(cat "$T/count")"
[ "$(rcli xlen q)" = 0 ] || fail "stream not empty: $(rcli xlen q)"

# 2. Another supervisor's producer, after the close: refused.
manifest late.yaml <<EOF2
version: 1
queues:
  q: {backend: redis, url: "$REDIS_URL"}
processes:
  gen: {cmd: [seq, 1, 10], stdout: q}
EOF2
run_pyt 10 "$T/late.yaml"
expect_status 0
[ "$(rcli xlen q)" = 0 ] || fail "items of a closed queue: $(rcli xlen q)"

# 3. A producer still running: its consumer sees the end once it has what
# came before the close; what the producer writes after is dropped.
manifest live.yaml <<EOF2
version: 1
queues:
  r: {backend: redis, url: "$REDIS_URL"}
processes:
  gen:
    shell: 'seq 1 5; "$PYT_HELPER" wait-file "$T/more" 30; seq 6 9;
      exec "$PYT_HELPER" wait-file "$T/stop" 30'
    stdout: r
  sink: {cmd: [cat], stdin: r, stdout: "file:$T/got"}
EOF2
start_pyt -v -s "$SOCK" "$T/live.yaml"
wait_for 10 sh -c "[ \$(wc -l <'$T/got') = 5 ] 2>/dev/null" ||
    fail "the first items did not arrive"
ctl close r || fail "ctl close r"
wait_line 10 "$T/err" 'sink: exited with status 0'
: >"$T/more"
: >"$T/stop"
wait_pyt 10
expect_status 0
seq 1 5 >"$T/want"
cmp -s "$T/got" "$T/want" || fail "got: $(tr '\n' ' ' <"$T/got")"
grep -q "queue r: in 5, out 5, redelivered 0, dropped 4," "$T/err" ||
    fail "counters: $(grep 'queue r: in' "$T/err")"
exit 0
