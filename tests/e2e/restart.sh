# Restart policies, backoff counting and max_restarts.
. "$(dirname "$0")/lib.sh"

manifest onfail.yaml <<EOF2
version: 1
processes:
  flaky:
    cmd: ["$PYT_HELPER", exit, "1"]
    restart: on-failure
    backoff: {initial: 10ms, max: 40ms}
    max_restarts: 3
EOF2
run_pyt 30 "$T/onfail.yaml"
expect_status 1
[ "$(count_lines "$T/err" 'flaky: started')" = 4 ] || fail "expected 4 runs"
grep -Eq "flaky: exited with status 1; restarting in [0-9]+ms \(restart 1 of 3\)" "$T/err" ||
    fail "restart 1 of 3 line"
grep -q "restart 3 of 3" "$T/err" || fail "restart 3 of 3 line"
grep -q "flaky: exited with status 1; gave up after 3 restarts" "$T/err" ||
    fail "gave up line"

# Succeeds on its third run: on-failure stops restarting, exit 0.
manifest third.yaml <<EOF2
version: 1
processes:
  third:
    shell: 'n=\$(cat "$T/count" 2>/dev/null || echo 0); n=\$((n+1)); echo \$n >"$T/count"; [ \$n -ge 3 ]'
    restart: on-failure
    backoff: {initial: 0ms}
EOF2
run_pyt 30 "$T/third.yaml"
expect_status 0
[ "$(cat "$T/count")" = 3 ] || fail "expected 3 runs, got $(cat "$T/count")"

# never: one run only, even when it fails.
manifest never.yaml <<EOF2
version: 1
processes:
  once: {cmd: ["$PYT_HELPER", exit, "2"], restart: never}
EOF2
run_pyt 30 "$T/never.yaml"
expect_status 1
[ "$(count_lines "$T/err" 'once: started')" = 1 ] || fail "never restarted"

# always restarts successful runs too, until max_restarts.
manifest always.yaml <<EOF2
version: 1
processes:
  ok:
    cmd: ["$PYT_HELPER", exit, "0"]
    restart: always
    backoff: {initial: 0s, max: 1s}
    max_restarts: 5
EOF2
run_pyt 30 "$T/always.yaml"
[ "$(count_lines "$T/err" 'ok: started')" = 6 ] || fail "always: expected 6 runs"

# Backoff grows: delays of 4 failures are 40, 80, 160, 160 ms (plus jitter).
manifest grow.yaml <<EOF2
version: 1
processes:
  g:
    cmd: ["$PYT_HELPER", exit, "1"]
    restart: on-failure
    backoff: {initial: 40ms, max: 160ms}
    max_restarts: 4
EOF2
run_pyt 30 "$T/grow.yaml"
delays=$(sed -n 's/.*restarting in \([0-9]*\)ms.*/\1/p' "$T/err" | tr '\n' ' ')
set -- $delays
[ $# = 4 ] || fail "expected 4 delays, got: $delays"
[ "$1" -ge 40 ] && [ "$1" -le 50 ] || fail "first delay $1"
[ "$2" -ge 80 ] && [ "$2" -le 100 ] || fail "second delay $2"
[ "$3" -ge 160 ] && [ "$3" -le 160 ] || fail "third delay $3 (capped)"
[ "$4" = 160 ] || fail "fourth delay $4 (capped)"
exit 0
