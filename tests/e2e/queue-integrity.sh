# Items are whole: two producers of lines longer than PIPE_BUF never mix;
# a producer killed mid-line never puts a torn line into the queue; NUL
# bytes and a 1 MiB line pass intact.
. "$(dirname "$0")/lib.sh"

manifest mix.yaml <<EOF2
version: 1
queues:
  q: {capacity: 50}
processes:
  p1: {cmd: ["$PYT_HELPER", spew, "3000", "9000"], stdout: q}
  p2: {cmd: ["$PYT_HELPER", spew, "3000", "9000"], stdout: q}
  sink: {cmd: [cat], stdin: q, stdout: "file:$T/mix.txt"}
EOF2
run_pyt 60 "$T/mix.yaml"
expect_status 0
[ "$(wc -l <"$T/mix.txt")" = 6000 ] || fail "expected 6000 lines"
awk 'length($0) != 9000 || $0 !~ /^line-[0-9][0-9][0-9][0-9][0-9][0-9]x+$/ { bad++ } END { exit bad > 0 }' \
    "$T/mix.txt" || fail "mixed lines"

manifest torn.yaml <<EOF2
version: 1
queues:
  q: {}
processes:
  p:
    shell: 'echo whole; "$PYT_HELPER" partial-kill torn-part'
  k: {cmd: ["$PYT_HELPER", partial-kill, only-torn], stdout: q}
  w: {cmd: ["$PYT_HELPER", echo, whole-line], stdout: q}
  sink: {cmd: [cat], stdin: q, stdout: "file:$T/torn.txt"}
EOF2
run_pyt 30 -v "$T/torn.yaml"
grep -q "only-torn" "$T/torn.txt" && fail "torn line reached the consumer"
grep -qx "whole-line" "$T/torn.txt" || fail "whole line lost"
grep -q "k: dropped a torn last line of 9 bytes" "$T/err" || fail "torn drop not logged"
grep -q "queue q: .*torn 1," "$T/err" || fail "torn drop not counted"

manifest bytes.yaml <<EOF2
version: 1
queues:
  q: {}
  big: {}
processes:
  nul: {cmd: ["$PYT_HELPER", nul], stdout: q}
  sink: {cmd: [cat], stdin: q, stdout: "file:$T/nul.bin"}
  huge: {cmd: ["$PYT_HELPER", bigline, "1048576"], stdout: big}
  bigsink: {cmd: [cat], stdin: big, stdout: "file:$T/big.txt"}
EOF2
run_pyt 30 "$T/bytes.yaml"
expect_status 0
printf 'a\000b\000c\n' >"$T/nul.expected"
cmp -s "$T/nul.bin" "$T/nul.expected" || fail "NUL bytes changed"
[ "$(wc -c <"$T/big.txt")" = 1048577 ] || fail "1 MiB line: $(wc -c <"$T/big.txt") bytes"
[ "$(wc -l <"$T/big.txt")" = 1 ] || fail "1 MiB line split"
exit 0
