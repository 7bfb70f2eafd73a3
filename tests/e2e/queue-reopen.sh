# A queue that has ended opens again when its producer is started again:
# what it writes waits for a consumer started later, which drains it and
# sees the end again. Nothing is stranded in an ended queue.
. "$(dirname "$0")/lib.sh"

SOCK=$T/q.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
manifest m.yaml <<EOF2
version: 1
queues: {q: {}}
processes:
  src: {cmd: [seq, 1, 3], stdout: q}
  sink: {cmd: [cat], stdin: q}
EOF2
start_pyt --keep -v -s "$SOCK" "$T/m.yaml"
wait_line 10 "$T/err" 'sink: exited with status 0'
ctl queues >"$T/q1" || fail "queues"
grep -Eq '^q +share +ended +3 +3 ' "$T/q1" || fail "not ended: $(cat "$T/q1")"

ctl start src >/dev/null || fail "start src"
wait_for 10 sh -c '"$1" ctl -s "$2" queues | grep -Eq "^q +share +open +6 +3 .* 3 +[0-9]+\$"' \
    - "$PYT" "$SOCK" || fail "not open again: $(ctl queues)"
ctl start sink >/dev/null || fail "start sink"
wait_for 10 sh -c '[ "$(grep -c "exited with status 0" "$1")" -ge 4 ]' \
    - "$T/err" || fail "sink did not end again"
ctl queues >"$T/q2" || fail "queues"
grep -Eq '^q +share +ended +6 +6 ' "$T/q2" || fail "not ended again: $(cat "$T/q2")"
[ "$(sed -n 's/^sink | //p' "$T/out" | tr '\n' ' ')" = "1 2 3 1 2 3 " ] ||
    fail "sink printed: $(cat "$T/out")"
ctl shutdown >/dev/null
wait_pyt 20
expect_status 0
grep -q 'undelivered' "$T/err" && fail "items left"
exit 0
