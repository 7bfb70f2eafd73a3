# A consumer killed mid-stream and restarted loses nothing: items it had
# not read go back to the queue and reach its next run.
. "$(dirname "$0")/lib.sh"

# sh's read takes one byte at a time from a pipe, so the first run takes
# exactly 1000 lines (recorded) and dies holding no unrecorded item.
manifest death.yaml <<EOF2
version: 1
queues:
  q: {capacity: 256}
processes:
  gen: {cmd: [seq, 1, 30000], stdout: q}
  sink:
    shell: |
      if [ ! -e "$T/died" ]; then
        : >"$T/died"; i=0
        while read -r l; do
          echo "\$l" >>"$T/got.txt"; i=\$((i+1))
          [ \$i -lt 1000 ] || kill -KILL \$\$
        done
      fi
      cat >>"$T/got.txt"
    stdin: q
    restart: on-failure
    backoff: {initial: 10ms}
EOF2
run_pyt 60 -v "$T/death.yaml"
expect_status 0
grep -q "sink: killed by signal KILL; restarting" "$T/err" || fail "no kill"
sort -n -u "$T/got.txt" >"$T/uniq"
seq 1 30000 >"$T/expected"
cmp -s "$T/uniq" "$T/expected" || fail "items lost: $(wc -l <"$T/uniq") distinct of 30000"
grep -Eq "queue q: in 30000, out [0-9]+, redelivered [1-9]" "$T/err" ||
    fail "nothing redelivered: $(grep 'queue q' "$T/err")"
exit 0
