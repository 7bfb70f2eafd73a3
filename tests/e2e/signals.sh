# Signals: none a user may send kills the supervisor uncleanly. USR2,
# ALRM, real-time signals and the like are passed on to every running
# process; TSTP (Control-Z) suspends every process and the supervisor,
# CONT resumes them all; QUIT stops like TERM.
. "$(dirname "$0")/lib.sh"

manifest sig.yaml <<EOF2
version: 1
processes:
  a:
    shell: 'trap "echo got USR2" USR2; trap "echo got ALRM" ALRM; echo ready; while :; do sleep 0.05; done'
EOF2
start_pyt --keep "$T/sig.yaml"
wait_line 10 "$T/out" '^a \| ready$'
kill -USR2 "$BGPID"
wait_line 10 "$T/out" '^a \| got USR2$'
kill -ALRM "$BGPID"
wait_line 10 "$T/out" '^a \| got ALRM$'
kill -WINCH "$BGPID"
kill -0 "$BGPID" || fail "the supervisor died of WINCH"

# Job control: TSTP stops every process, and us; CONT resumes them.
state() { ps -o stat= -p "$1" 2>/dev/null | cut -c1; }
stopped() { [ "$(state "$1")" = T ]; }
running() { _s=$(state "$1"); [ -n "$_s" ] && [ "$_s" != T ]; }
apid=$(pgrep -P "$BGPID" -f 'got USR2' | head -n 1)
[ -n "$apid" ] || fail "no pid of a"
kill -TSTP "$BGPID"
wait_for 10 stopped "$BGPID" || fail "the supervisor did not stop"
wait_for 10 stopped "$apid" || fail "a did not stop"
kill -CONT "$BGPID"
wait_for 10 running "$BGPID" || fail "the supervisor did not resume"
wait_for 10 running "$apid" || fail "a did not resume"
wait_line 10 "$T/err" 'received SIGTSTP: suspending every process'
wait_line 10 "$T/err" 'received SIGCONT: resuming every process'

# A real-time signal: passed on (the shell dies of it), not our death.
# Not under valgrind, which keeps some of them for itself.
if [ -z "${PYT_VALGRIND:-}" ]; then
	kill -37 "$BGPID"
	wait_line 10 "$T/err" 'received SIG[A-Z0-9+]+: passed on to every process'
	wait_line 10 "$T/err" 'a: killed by signal'
	kill -0 "$BGPID" || fail "the supervisor died of a real-time signal"
fi

# QUIT stops everything, like TERM.
kill -QUIT "$BGPID"
wait_pyt 30
grep -q 'received SIGQUIT: stopping' "$T/err" || fail "QUIT: $(tail -3 "$T/err")"
[ "$STATUS" -le 1 ] || fail "exit status $STATUS after QUIT"
exit 0
