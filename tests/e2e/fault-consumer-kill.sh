# Consumers SIGKILLed mid-stream, again and again while restarting: every
# item is delivered at least once, and the items they had started to read
# are redelivered. Two replicas each record 250 items (sh's read takes one
# byte at a time from a pipe, so nothing unrecorded is read), then read 3
# bytes of the next item and die by SIGKILL: 80 deaths in all.
. "$(dirname "$0")/lib.sh"

N=20000
manifest cons.yaml <<EOF2
version: 1
queues:
  q: {capacity: 64}
processes:
  gen: {cmd: [seq, 1, "$N"], stdout: q}
  sink:
    replicas: 2
    shell: |
      i=0
      while read -r l; do
        echo "\$l" >>"$T/got"
        i=\$((i + 1))
        if [ \$i -ge 250 ]; then
          dd bs=1 count=3 of=/dev/null 2>/dev/null
          kill -KILL \$\$
        fi
      done
    stdin: q
    restart: on-failure
    backoff: {initial: 0ms}
EOF2
run_pyt 60 -v "$T/cons.yaml"
expect_status 0
grep -Evx '[0-9]+' "$T/got" | head -3 >"$T/partial"
[ ! -s "$T/partial" ] || fail "partial items recorded: $(cat "$T/partial")"
sort -n -u "$T/got" >"$T/uniq"
seq 1 "$N" >"$T/expected"
cmp -s "$T/uniq" "$T/expected" ||
    fail "items lost: $(wc -l <"$T/uniq") distinct of $N; first missing: $(awk 'NR == FNR { h[$1] = 1; next } !($1 in h)' "$T/uniq" "$T/expected" | head -3 | tr '\n' ' ')"
kills=$(count_lines "$T/err" 'sink\.[12]: killed by signal KILL; restarting')
[ "$kills" -ge 40 ] || fail "only $kills consumer deaths"
# Every item a consumer read in full was recorded, so per the manual
# (delivered twice only when it had started to read it) none is twice.
dups=$(sort -n "$T/got" | uniq -d | wc -l)
[ "$dups" = 0 ] || fail "$dups items recorded twice, e.g. $(sort -n "$T/got" | uniq -d | head -3 | tr '\n' ' ')"
counters=$(grep 'queue q:' "$T/err") || fail "no queue counters"
red=$(echo "$counters" | sed -n 's/.* redelivered \([0-9]*\),.*/\1/p')
[ "${red:-0}" -ge "$kills" ] || fail "redelivered ${red:-?} < $kills deaths: $counters"
echo "$kills consumer deaths; $counters"
exit 0
