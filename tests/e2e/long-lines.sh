# A line longer than a queue's 1 MiB item limit reaches file outputs and
# the console unchanged; only queues get it cut into items, counted and
# said (issue 13).
. "$(dirname "$0")/lib.sh"

manifest long.yaml <<EOF2
version: 1
queues:
  q: {capacity: 10}
processes:
  long:
    shell: 'echo short; head -c 3000000 /dev/zero | tr "\\\\0" x; echo; echo after'
    stdout: [inherit, "file:$T/long.log", q]
  count:
    shell: 'while IFS= read -r l; do echo \${#l}; done >$T/items'
    stdin: q
EOF2
run_pyt 60 "$T/long.yaml"
expect_status 0
[ "$(wc -l <"$T/long.log")" -eq 3 ] || fail "file: $(wc -l <"$T/long.log") lines, want 3"
[ "$(wc -c <"$T/long.log")" -eq $((6 + 3000001 + 6)) ] || fail "file: $(wc -c <"$T/long.log") bytes"
[ "$(sed -n 2p "$T/long.log" | tr -d x | wc -c)" -eq 1 ] || fail "file: not only x"
[ "$(grep -c '^long | ' "$T/out")" -eq 3 ] || fail "console: $(grep -c '^long | ' "$T/out") lines"
[ "$(grep '^long | x' "$T/out" | wc -c)" -eq $((7 + 3000001)) ] || fail "console: the long line changed"
# Queues: 1 MiB items, the rest, counted as split.
[ "$(tr '\n' ' ' <"$T/items")" = "5 1048576 1048576 902848 5 " ] ||
    fail "queue items: $(tr '\n' ' ' <"$T/items")"
grep -q 'long: a line longer than 1048576 bytes was split into queue items' "$T/err" ||
    fail "the split was not said"
exit 0
