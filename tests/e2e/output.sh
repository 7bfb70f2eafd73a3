# Output: whole lines only, files appended, null, a last line without a
# newline delivered at EOF, output after the leader's exit delivered.
. "$(dirname "$0")/lib.sh"

echo "old line" >"$T/log.txt"
manifest out.yaml <<EOF2
version: 1
processes:
  partial: {cmd: ["$PYT_HELPER", partial, no newline here]}
  tofile: {cmd: ["$PYT_HELPER", echo, into the file], stdout: "file:$T/log.txt"}
  quiet: {cmd: ["$PYT_HELPER", echo, nobody sees this], stdout: null}
  late:
    shell: '(sleep 0.2; echo from the grandchild) & echo from the leader'
  w1: {cmd: ["$PYT_HELPER", spew, "2000", "5000"]}
  w2: {cmd: ["$PYT_HELPER", spew, "2000", "5000"]}
EOF2
run_pyt 30 "$T/out.yaml"
expect_status 0
grep -qx "partial | no newline here" "$T/out" || fail "partial last line"
[ "$(cat "$T/log.txt")" = "old line
into the file" ] || fail "file output not appended: $(cat "$T/log.txt")"
grep -q "nobody sees" "$T/out" && fail "null output shown"
grep -qx "late | from the leader" "$T/out" || fail "leader line"
grep -qx "late | from the grandchild" "$T/out" || fail "output after exit lost"
# Two processes writing 5000-byte lines (more than PIPE_BUF) concurrently:
# every console line is whole and belongs to one of them.
[ "$(count_lines "$T/out" '^w[12] \| line-[0-9]{6}x+$')" = 4000 ] ||
    fail "mixed or lost lines: $(count_lines "$T/out" '^w[12] \| ')"
awk '/^w[12] \| /{ if (length($0) != 5005) bad++ } END { exit bad > 0 }' "$T/out" ||
    fail "a console line was torn"
exit 0
