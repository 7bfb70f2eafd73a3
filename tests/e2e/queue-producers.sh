# When a queue ends: a producer not started yet, or cancelled and started
# again by a running task, still counts; once no task that could start it
# runs and it has ended, the queue ends and its readers see the end.
. "$(dirname "$0")/lib.sh"

cat >"$T/a.yaml" <<EOF2
version: 1
queues: {c: {}}
processes:
  src: {cmd: [seq, 1, 3], stdout: c, autostart: false}
tasks:
  starter:
    run:
      - sleep 200ms
      - start src
  reader:
    run:
      - for x in c:
          - echo "got \$x"
EOF2
run_pyt 20 "$T/a.yaml"
expect_status 0
[ "$(count_lines "$T/out" '^reader \| got [123]$')" = 3 ] ||
    fail "a producer started later by a task: items lost"

# The seed's pattern: start, cancel, start again while a task reads.
cat >"$T/b.yaml" <<'EOF2'
version: 1
queues: {c: {}}
processes:
  gen:
    shell: 'i=0; while :; do i=$((i+1)); echo "$i"; sleep 0.05; done'
    stdout: c
    autostart: false
tasks:
  driver:
    run:
      - repeat 3:
          - start gen
          - sleep 300ms
          - cancel gen
  reader:
    run:
      - for x in c:
          - echo "got $x"
      - echo "end of c"
EOF2
run_pyt 30 -v "$T/b.yaml"
expect_status 0
n=$(count_lines "$T/out" '^reader \| got ')
[ "$(count_lines "$T/err" 'gen: stopped')" = 3 ] || fail "gen not cancelled 3 times"
# The reader saw all three rounds: it ended only after the last stop (how
# many items a round of 300ms gives depends on the machine's load), and
# it got every item.
last_stop=$(grep -n 'gen: stopped' "$T/err" | tail -n 1 | cut -d: -f1)
reader_end=$(grep -n 'reader: exited' "$T/err" | cut -d: -f1)
[ -n "$reader_end" ] && [ "$reader_end" -gt "$last_stop" ] ||
    fail "the reader quit early: $(grep -E 'gen:|reader:' "$T/err")"
[ "$n" -ge 1 ] && grep -q "queue c: in $n, out $n," "$T/err" ||
    fail "the reader got $n items: $(grep 'queue c:' "$T/err")"
grep -q "reader | end of c" "$T/out" || fail "reader never saw the end"
exit 0
