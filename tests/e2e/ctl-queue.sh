# ctl put, get and queues, as table and JSON: put from arguments and from
# standard input, back-pressure through the socket (put waits while the
# queue is full), get waiting for an item and exiting 1 at the end of the
# stream, any bytes in items (JSON stays valid), refusals.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/queue.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
js() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (bool, type(None), dict, list)) else r)' "$1"
}
# qfield QUEUE FIELD: one counter of one queue.
qfield() {
	ctl --json queues | js "[q for q in d['queues'] if q['name'] == '$1'][0]['$2']"
}
depth_is() { [ "$(qfield "$1" depth)" = "$2" ]; }

manifest queue.yaml <<EOF2
version: 1
queues:
  work: {capacity: 4}
  fan: {mode: broadcast}
  odd: {capacity: 100}
processes:
  # A live producer that writes nothing until told: work stays open.
  feeder:
    cmd: ["$PYT_HELPER", wait-file, "$T/feed-done", "1000"]
    stdout: work
  fanout: {cmd: ["$PYT_HELPER", sleep, "1000"], stdout: fan}
  fan1: {cmd: ["$PYT_HELPER", count], stdin: fan}
EOF2
start_pyt --keep -s "$SOCK" "$T/queue.yaml"
wait_line 10 "$T/err" 'fan1: started'
wait_for 10 test -S "$SOCK" || fail "no socket"

# queues: every counter of every queue.
ctl queues >"$T/q" || fail "queues"
head -n 1 "$T/q" | grep -Eq '^NAME +MODE +STATE +IN +OUT +REDELIVERED +DROPPED +DEPTH +HIGH WATER$' ||
    fail "queues header: $(head -n 1 "$T/q")"
grep -Eq '^work +share +open +0 +0 +0 +0 +0 +0$' "$T/q" || fail "work row: $(cat "$T/q")"
grep -Eq '^fan +broadcast ' "$T/q" || fail "fan row"
[ "$(ctl --json queues | js '[q["name"] for q in d["queues"]]')" = \
    '["work", "fan", "odd"]' ] || fail "queues json"
[ "$(ctl --json queues | js 'sorted(d["queues"][0].keys())')" = \
    '["capacity", "consumers", "declared", "depth", "depth_history", "dropped", "high_water", "in", "in_flight", "in_flight_each", "in_per_s", "mode", "name", "out", "out_per_s", "producers", "producers_pending", "redelivered", "state", "torn"]' ] ||
    fail "queue fields"

# put LINE...: each argument an item; a newline inside makes two.
ctl put work first second || fail "put"
[ "$(ctl --json put work "third" | js 'd')" = \
    '{"ok": true, "queue": "work", "put": 1, "dropped": 0}' ] || fail "put --json"
depth_is work 3 || fail "depth 3"
[ "$(qfield work in)" = 3 ] || fail "in 3"

# get: one item each, in order, as text or JSON.
[ "$(ctl get work)" = first ] || fail "get first"
[ "$(ctl --json get work | js 'd')" = \
    '{"ok": true, "queue": "work", "item": "second"}' ] || fail "get --json"
[ "$(qfield work out)" = 2 ] || fail "out 2"

# Back-pressure: 10 lines into a queue of 4 that holds 1. put waits while
# the queue is full: the supervisor stops reading its socket.
seq 1 10 | ctl put work >"$T/put.out" 2>&1 &
putpid=$!
wait_for 10 depth_is work 4 || fail "queue did not fill"
kill -0 "$putpid" 2>/dev/null || fail "put did not wait: $(cat "$T/put.out")"
[ "$(qfield work depth)" = 4 ] || fail "put went past the capacity"
for want in third 1 2 3 4 5 6 7 8 9 10; do
	got=$(ctl get work) || fail "get $want"
	[ "$got" = "$want" ] || fail "got $got, wanted $want"
done
wait "$putpid" || fail "put failed: $(cat "$T/put.out")"
[ "$(qfield work high_water)" = 4 ] || fail "high water $(qfield work high_water)"
[ "$(qfield work in)" = 13 ] || fail "in 13"

# get waits for an item while the queue has a live producer.
ctl get work >"$T/get.out" 2>&1 &
getpid=$!
kill -0 "$getpid" 2>/dev/null || fail "get did not wait"
ctl put work late || fail "put late"
wait "$getpid" || fail "waiting get failed"
[ "$(cat "$T/get.out")" = late ] || fail "waiting get: $(cat "$T/get.out")"

# The end of the stream: the producer ends, get exits 1, in both forms.
ctl --json get work >"$T/eos.json" 2>/dev/null &
eospid=$!
touch "$T/feed-done"
wait "$eospid" && fail "get at the end of the stream exited 0"
[ "$(js 'd' <"$T/eos.json")" = \
    '{"ok": false, "error": "end of stream: work", "queue": "work", "end": true}' ] ||
    fail "end of stream json: $(cat "$T/eos.json")"
ctl get work 2>"$T/e"; [ $? -eq 1 ] || fail "get at the end: exit"
grep -qx 'pytasking-run: end of stream: work' "$T/e" || fail "eos: $(cat "$T/e")"

# Any bytes but newline: control bytes, invalid UTF-8, NUL; JSON stays valid.
printf 'caf\303\251\tx\001\377\033[1m\n\nlast without newline' |
    ctl put odd || fail "put odd bytes"
[ "$(ctl --json get odd | js 'd["item"] == "caf\u00e9\tx\u0001\ufffd\u001b[1m"')" = \
    true ] || fail "odd item in JSON"
[ "$(ctl get odd | od -An -c | tr -d ' ')" = '\n' ] || fail "empty line item"
[ "$(ctl get odd)" = "last without newline" ] || fail "last line"
"$PYT_HELPER" bigline 300000 | ctl put odd || fail "put a big line"
[ "$(ctl get odd | wc -c)" -eq 300001 ] || fail "big item"
printf 'a\0b\n' | ctl put odd || fail "put NUL"
[ "$(ctl --json get odd | js 'd["item"] == "a\u0000b"')" = true ] ||
    fail "NUL in an item"
depth_is odd 0 || fail "odd not drained: $(qfield odd depth)"

# Refusals: unknown queues, a broadcast queue for get, usage.
ctl put nope x 2>"$T/e" && fail "put to an unknown queue"
grep -qx 'pytasking-run: no such queue: nope' "$T/e" || fail "$(cat "$T/e")"
echo x | ctl put nope 2>"$T/e" && fail "put stdin to an unknown queue"
grep -q 'no such queue: nope' "$T/e" || fail "stdin: $(cat "$T/e")"
ctl --json get nope 2>/dev/null | js 'd["error"]' | grep -x 'no such queue: nope' >/dev/null ||
    fail "get nope json"
ctl get fan 2>"$T/e" && fail "get from a broadcast queue"
grep -q 'broadcast' "$T/e" || fail "broadcast: $(cat "$T/e")"
ctl put 2>/dev/null; [ $? -eq 2 ] || fail "put without a queue"
ctl get 2>/dev/null; [ $? -eq 2 ] || fail "get without a queue"
ctl queues x 2>/dev/null; [ $? -eq 2 ] || fail "queues with an argument"

kill -0 "$BGPID" || fail "supervisor died"
kill -TERM "$BGPID"
wait_pyt 20
exit 0
