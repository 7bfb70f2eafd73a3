# Producers SIGKILLed mid-line, again and again while restarting: no torn
# line ever reaches the consumer, and every torn tail is counted.
# "small" writes 20 whole lines, then half a line, then kills itself (201
# runs); "big" writes 150 kB lines, far over PIPE_BUF, and a task kills it
# every 30ms while it is blocked in the middle of one.
. "$(dirname "$0")/lib.sh"

SMALL_RUNS=201		# max_restarts 200, and the first run
manifest kill.yaml <<EOF2
version: 1
queues:
  q: {capacity: 16}
processes:
  small:
    shell: '"$PYT_HELPER" spew 20 40; exec "$PYT_HELPER" partial-kill line-0000'
    stdout: q
    restart: always
    backoff: {initial: 0ms}
    max_restarts: $((SMALL_RUNS - 1))
  big:
    cmd: ["$PYT_HELPER", spew, "100000000", "150000"]
    stdout: q
    restart: always
    backoff: {initial: 0ms}
    max_restarts: 40
  check:
    # Whole lines only: 40 or 150000 bytes, line-NNNNNN padded with x.
    cmd: [awk, '{ n++ } !((length(\$0) == 40 || length(\$0) == 150000) && /^line-[0-9][0-9][0-9][0-9][0-9][0-9]x+\$/) { bad++; print substr(\$0, 1, 80) >"$T/bad" } END { print n + 0, bad + 0 >"$T/seen" }']
    stdin: q
tasks:
  # Kills until big gave up: a kill that comes while big is between runs
  # (its death not yet reaped, as a loaded machine makes likely) is lost,
  # so no fixed number of kills is sure to reach its 41st death.
  killer:
    run:
      - loop:
          - sleep 30ms
          - signal big KILL
  referee:
    depends_on: [big]
    run:
      - wait big
      - cancel killer
EOF2
run_pyt 60 -v "$T/kill.yaml"
# small and big gave up restarting: exit status 1.
expect_status 1
grep -q 'small: killed by signal KILL; gave up after 200 restarts' "$T/err" ||
    fail "small did not run to its last restart"
grep -q 'big: killed by signal KILL; gave up after 40 restarts' "$T/err" ||
    fail "big was not killed to its last restart"
[ -f "$T/seen" ] || fail "the consumer did not reach the end of its input"
read -r seen bad <"$T/seen"
[ "$bad" = 0 ] || fail "$bad torn or mixed lines reached the consumer: $(head -3 "$T/bad")"
counters=$(grep 'queue q:' "$T/err") || fail "no queue counters"
out=$(echo "$counters" | sed -n 's/.* out \([0-9]*\),.*/\1/p')
torn=$(echo "$counters" | sed -n 's/.* torn \([0-9]*\),.*/\1/p')
[ "$out" = "$seen" ] || fail "queue says $out out, the consumer saw $seen"
[ "$seen" -ge $((SMALL_RUNS * 20)) ] || fail "only $seen lines arrived"
[ "$torn" -ge "$SMALL_RUNS" ] || fail "torn $torn, expected >= $SMALL_RUNS: $counters"
ntorn=$(count_lines "$T/err" 'small: dropped a torn last line of 9 bytes')
[ "$ntorn" = "$SMALL_RUNS" ] || fail "small: $ntorn torn drops logged, not $SMALL_RUNS"
btorn=$(count_lines "$T/err" 'big: dropped a torn last line')
echo "lines seen $seen; torn $torn (big: $btorn of 41 runs)"
exit 0
