# A console nobody reads never stops the supervisor: its stdout goes to a
# pipe whose reader waits; the unit that floods it is held back once the
# console holds a megabyte (it cannot finish), ctl answers meanwhile, and
# once the reader reads every line arrives, in order. SIGTERM while the console is full stops the run
# at once; the supervisor waits CONSOLE_STOP_WAIT_MS (5 s) for a reader
# that takes nothing, then drops what it holds, says so and exits. A
# reader that goes lets the units go on, their output dropped.
. "$(dirname "$0")/lib.sh"

SOCK=$T/console.sock
N=4000
# Lines of 1000 bytes; "mb" once 1100 of them are written: the supervisor
# has read at least a megabyte less the unit's pipe (64 KiB), its stdout
# pipe (64 KiB) is full, and the console holds the rest. Before, the
# supervisor was stuck in write(2) long before that.
cat >"$T/flood.sh" <<EOF2
pad=\$(printf '%0990d' 0)
i=1
while [ \$i -le 1100 ]; do echo "\$i \$pad"; i=\$((i + 1)); done
: >"$T/mb"
while [ \$i -le $N ]; do echo "\$i \$pad"; i=\$((i + 1)); done
: >"$T/done"
EOF2
manifest f.yaml <<EOF2
version: 1
processes:
  flood: {cmd: [sh, "$T/flood.sh"]}
EOF2

# start_slow: the supervisor, its stdout into a reader that waits for
# $T/go; its pid in $T/pid, its status in $T/status.
start_slow() {
	rm -f "$T/go" "$T/mb" "$T/done" "$T/pid" "$T/status" "$T/out"
	( "$PYT" -s "$SOCK" "$T/f.yaml" 2>"$T/err" &
	  echo $! >"$T/pid"; wait $!; echo $? >"$T/status" ) |
	    { wait_for 120 sh -c '[ -f "$1/go" ] || [ ! -d "$1" ]' - "$T"
	      cat >"$T/out" 2>/dev/null; } &
	wait_for 10 test -s "$T/pid" || fail "no supervisor"
	BGPID=$(cat "$T/pid")
	wait_for 20 test -f "$T/mb" || fail "the unit never wrote a megabyte"
}

# While the console is full the loop still serves ctl, at once.
ctl_answers() {
	_end=$(( 10 * PYT_TIMEOUT_SCALE ))
	timeout "$_end" "$PYT" ctl -s "$SOCK" list >"$T/list" ||
	    fail "ctl list did not answer while the console was full"
	grep -Eq '^process +flood +running ' "$T/list" ||
	    fail "list: $(cat "$T/list")"
}

# The lines that arrived are flood | 1, flood | 2, ... with none missing.
in_order() {
	awk -v n="$1" '$1 != "flood" || $3 != NR { print "line " NR ": " $0; exit 1 }
	    END { if (n != "" && NR != n) { print NR " lines"; exit 1 } }' "$T/out"
}

start_slow
ctl_answers
ctl_answers
[ -f "$T/done" ] && fail "the unit finished: the console held all of it"
: >"$T/go"
wait_for 60 test -s "$T/status" || fail "supervisor still running"
BGPID=
[ "$(cat "$T/status")" -eq 0 ] || fail "exit status $(cat "$T/status")"
wait_for 10 test -f "$T/done" || fail "the unit never finished"
wait
in_order "$N" || fail "lines lost or out of order"

# SIGTERM while the console is full: the unit is stopped, the reader
# that takes nothing is waited for 5 s, and the run ends cleanly.
start_slow
ctl_answers
kill -TERM "$BGPID"
wait_for 30 test -s "$T/status" || fail "no exit after SIGTERM"
BGPID=
[ "$(cat "$T/status")" -le 1 ] || fail "exit status $(cat "$T/status")"
grep -q 'flood: stopped' "$T/err" || fail "flood not stopped"
grep -Eq 'console: [0-9]+ bytes of output dropped' "$T/err" ||
    fail "no word of the dropped output"
: >"$T/go"
wait
in_order "" || fail "lines out of order"

# A reader that goes while the console is full: the rest is dropped
# without a word, as a write to a closed pipe always was, and the unit,
# no longer held back, finishes.
rm -f "$T/done" "$T/status"
( timeout $((60 * PYT_TIMEOUT_SCALE)) "$PYT" -s "$SOCK" "$T/f.yaml" \
    2>"$T/err"; echo $? >"$T/status" ) |
    { wait_for 20 test -f "$T/mb"; head -n 1 >"$T/out"; }
wait_for 60 test -s "$T/status" || fail "no exit after the reader went"
[ "$(cat "$T/status")" -eq 0 ] || fail "exit status $(cat "$T/status")"
[ -f "$T/done" ] || fail "the unit was not let go"
grep -q 'console:' "$T/err" && fail "said: $(grep console: "$T/err")"
in_order 1 || fail "the first line"
# The supervisor's own messages go through the console too: its stderr
# into a reader that waits, a unit that fails and is restarted at once,
# again and again (a few lines of ours each time). Before, the first
# message that did not fit in the pipe stopped the loop in write(2): ctl
# no longer answered. Once the reader reads, every line is whole.
manifest flap.yaml <<EOF2
version: 1
processes:
  flap:
    cmd: [sh, -c, 'exit 3']
    restart: always
    backoff: {initial: 1ms, max: 1ms}
EOF2
rm -f "$T/go" "$T/pid" "$T/status"
( "$PYT" -vv -s "$SOCK" "$T/flap.yaml" 2>&1 >/dev/null &
  echo $! >"$T/pid"; wait $!; echo $? >"$T/status" ) |
    { wait_for 120 sh -c '[ -f "$1/go" ] || [ ! -d "$1" ]' - "$T"
      cat >"$T/err2" 2>/dev/null; } &
wait_for 10 test -s "$T/pid" || fail "no supervisor (flap)"
BGPID=$(cat "$T/pid")
# Past what a pipe holds: 64 KiB of our messages is some 300 restarts.
wait_for 60 sh -c '"$1" ctl -s "$2" --json list | grep -Eq "\"restarts\":([4-9][0-9]{2}|[0-9]{4,})"' - "$PYT" "$SOCK" ||
    fail "the loop stopped while stderr was full"
kill -TERM "$BGPID"
: >"$T/go"
wait_for 30 test -s "$T/status" || fail "no exit (flap)"
BGPID=
wait
[ "$(wc -l <"$T/err2")" -gt 1000 ] || fail "$(wc -l <"$T/err2") lines of ours"
bad=$(grep -cv '^pytasking-run: ' "$T/err2" || true)
[ "$bad" -eq 0 ] || fail "$bad lines of ours not whole"
# A task's echo waits while the console is full, as a put waits on a full
# queue: 5 MB of lines into a console nobody reads for a while all
# arrive, none dropped (before, past 4 MiB they were).
pad=$(printf '%0990d' 0)
manifest echo.yaml <<EOF2
version: 1
processes:
  mark: {cmd: [touch, "$T/tmb"], autostart: false}
tasks:
  t:
    run:
      - repeat 900:
          - echo "a\$index $pad"
      - start mark
      - repeat 4100:
          - echo "b\$index $pad"
EOF2
rm -f "$T/go" "$T/pid" "$T/status" "$T/tmb"
( "$PYT" -s "$SOCK" "$T/echo.yaml" 2>"$T/err" &
  echo $! >"$T/pid"; wait $!; echo $? >"$T/status" ) |
    { wait_for 120 sh -c '[ -f "$1/go" ] || [ ! -d "$1" ]' - "$T"
      cat >"$T/out" 2>/dev/null; } &
wait_for 10 test -s "$T/pid" || fail "no supervisor (echo)"
BGPID=$(cat "$T/pid")
wait_for 20 test -f "$T/tmb" || fail "the task never reached its mark"
ctl_answers_task() {
	timeout $(( 10 * PYT_TIMEOUT_SCALE )) "$PYT" ctl -s "$SOCK" list \
	    >"$T/list" || fail "ctl list did not answer (echo)"
}
ctl_answers_task
: >"$T/go"
wait_for 60 test -s "$T/status" || fail "no exit (echo)"
BGPID=
wait
[ "$(cat "$T/status")" -eq 0 ] || fail "exit status $(cat "$T/status") (echo)"
grep -q 'console:' "$T/err" && fail "said: $(grep console: "$T/err")"
[ "$(grep -c '^t | a' "$T/out")" -eq 900 ] || fail "a lines lost"
[ "$(grep -c '^t | b' "$T/out")" -eq 4100 ] || fail "b lines lost"
exit 0
