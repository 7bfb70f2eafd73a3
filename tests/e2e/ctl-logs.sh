# ctl logs: without a unit, every unit's lines in the order they arrived;
# -n N the last N; --since DURATION; --timestamps the arrival time of each
# line; -f follows every unit, those added later too; log_buffer: bounds
# the ring, whose lost head is said.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/logs.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }

manifest logs.yaml <<EOF2
version: 1
log_buffer: 1KiB
tasks:
  x: {run: [echo x1, sleep 100ms, echo x2, sleep 100ms, echo x3]}
  y: {run: [sleep 50ms, echo y1, sleep 100ms, echo y2]}
  spam:
    run:
      - repeat 100:
          - echo "spam \$index"
      - echo spam done
    log_buffer: 2KiB
EOF2
start_pyt --keep -s "$SOCK" "$T/logs.yaml"
wait_line 10 "$T/out" '^x \| x3$'
wait_line 10 "$T/out" '^spam \| spam done$'

# Every unit, merged in order of arrival.
ctl logs 2>"$T/e" | grep -v '^spam' >"$T/all" || fail "logs"
printf '%s\n' 'x | x1' 'y | y1' 'x | x2' 'y | y2' 'x | x3' >"$T/want"
diff -u "$T/want" "$T/all" >&2 || fail "merged order"
# The spam ring (2KiB) dropped its oldest lines, and says so.
grep -Eqx 'pytasking-run: spam: [0-9]+ older lines were dropped \(log_buffer: 2KiB\)' \
    "$T/e" || fail "dropped: $(cat "$T/e")"
ctl logs spam 2>/dev/null | tail -n 1 | grep -qx 'spam | spam done' ||
    fail "spam: the newest line is kept"
ctl logs spam 2>/dev/null | grep -q 'spam | spam 0$' && fail "spam: the head was not dropped"

# -n N: the last N lines of all; no note then, the head was not asked for.
[ "$(ctl logs -n 2 x 2>"$T/e")" = "$(printf 'x | x2\nx | x3')" ] || fail "-n 2"
[ ! -s "$T/e" ] || fail "-n: a note: $(cat "$T/e")"
[ "$(ctl logs -n 0 x)" = "" ] || fail "-n 0"
[ "$(ctl logs -n 1)" = "x | x3" ] || fail "-n 1 of all: $(ctl logs -n 1)"

# --timestamps: the arrival time, in UTC with milliseconds.
ctl logs --timestamps y >"$T/ts" || fail "--timestamps"
grep -Eqx '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z y \| y1' "$T/ts" ||
    fail "--timestamps: $(cat "$T/ts")"
python3 - "$T/ts" <<'EOF2' || fail "--timestamps: y2 is not ~100ms after y1"
import datetime, sys
t = [datetime.datetime.strptime(l.split()[0], "%Y-%m-%dT%H:%M:%S.%fZ")
     for l in open(sys.argv[1])]
assert (t[1] - t[0]).total_seconds() >= 0.09, t
EOF2
# JSON: the time of each line, in ms since the epoch.
ctl --json logs -n 1 x | python3 -c 'import json, sys, time
d = json.load(sys.stdin)
(l,) = d["lines"]
assert l["unit"] == "x" and l["line"] == "x3", l
assert abs(l["time"] / 1000 - time.time()) < 600, l' || fail "json time"

# --since: only what arrived that recently.
[ "$(ctl logs --since 1h x | wc -l)" -eq 3 ] || fail "--since 1h"
ctl start y
wait_for 10 sh -c "[ \$(grep -c '^y | y2' '$T/out') -eq 2 ]" || fail "y again"
wait_for 10 sh -c "[ \$(\"$PYT\" ctl -s '$SOCK' logs y | wc -l) -eq 4 ]" || fail "y: 4 lines"
[ "$(ctl logs --since 1h y | wc -l)" -eq 4 ] || fail "--since 1h y"

# Usage errors.
ctl logs -n 2>/dev/null; [ $? -eq 2 ] || fail "-n without a number"
ctl logs -n x 2>/dev/null; [ $? -eq 2 ] || fail "-n x"
ctl logs --since soon 2>/dev/null; [ $? -eq 2 ] || fail "--since soon"
ctl logs nope 2>/dev/null; [ $? -eq 1 ] || fail "an unknown unit"

# -f without a unit: every unit, a unit added later too.
ctl logs -f -n 0 >"$T/follow" 2>&1 &
f1=$!
# The follower is in place once it shows a new line: start y until it
# does (x3 comes 200ms after x starts: a follower not yet in would miss it).
y_followed() {
	ctl start y >/dev/null 2>&1
	grep -q '^y | y1$' "$T/follow"
}
wait_for 10 y_followed || fail "the follower showed no new line"
ctl start x
wait_line 10 "$T/follow" '^x \| x3$'
ctl add task late -- 'echo late line' || fail "add"
wait_line 10 "$T/follow" '^late \| late line$'
grep -q 'spam' "$T/follow" && fail "-n 0 -f showed old lines"
kill "$f1"
wait "$f1" 2>/dev/null

kill -TERM "$BGPID"
wait_pyt 20
exit 0
