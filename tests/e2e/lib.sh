# Shared helpers of the end-to-end tests, sourced by each scenario.
# Tests wait for events (a line, a file, a process gone) with a hard
# timeout; they never sleep to let things settle. Exit 77 means skip.

: "${PYT:?PYT must name the pytasking-run binary}"
: "${PYT_HELPER:?PYT_HELPER must name the test helper}"
# Slow machines (valgrind, sanitizers) may scale every timeout.
: "${PYT_TIMEOUT_SCALE:=1}"

T=$(mktemp -d "${TMPDIR:-/tmp}/pyt-e2e.XXXXXX")
# Each scenario gets its own directory of control sockets, so supervisors
# of scenarios run in parallel never meet (and never meet a user's).
XDG_RUNTIME_DIR=$T; export XDG_RUNTIME_DIR
unset PYTASKING_SOCKET
BGPID=
cleanup() {
	if [ -n "$BGPID" ]; then kill -KILL "$BGPID" 2>/dev/null; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
	echo "FAIL: $*" >&2
	for f in "$T"/out "$T"/err; do
		if [ -f "$f" ]; then
			echo "--- $f:" >&2
			tail -n 40 "$f" >&2
		fi
	done
	exit 1
}

# deadline SECONDS: print the absolute time a wait of SECONDS ends at.
deadline() {
	echo $(( $(date +%s) + $1 * PYT_TIMEOUT_SCALE ))
}

# wait_for SECONDS CMD...: poll CMD until it succeeds or time runs out.
wait_for() {
	_end=$(deadline "$1"); shift
	while ! "$@" 2>/dev/null; do
		[ "$(date +%s)" -le "$_end" ] || return 1
		sleep 0.02
	done
	return 0
}

# wait_line SECONDS FILE ERE: until a line of FILE matches ERE.
wait_line() {
	wait_for "$1" grep -Eq -- "$3" "$2" ||
	    fail "timed out waiting for /$3/ in $2"
}

# start_pyt ARGS...: run the supervisor in the background (out, err in $T).
# The files are emptied here, not by the background job's redirections:
# those happen after fork, so a wait for a line right after start_pyt
# could find it in the previous run's err and signal a supervisor that
# has not yet caught signals (it then dies of SIGTERM, status 143).
start_pyt() {
	: >"$T/out"
	: >"$T/err"
	"$PYT" "$@" >>"$T/out" 2>>"$T/err" &
	BGPID=$!
}

# wait_pyt SECONDS: wait for the background supervisor; sets STATUS.
wait_pyt() {
	wait_for "$1" pid_gone "$BGPID" || fail "supervisor still running after $1s"
	wait "$BGPID"
	STATUS=$?
	BGPID=
}

pid_gone() {
	! kill -0 "$1" 2>/dev/null || {
		# A zombie still answers kill -0: its state is the field after
		# the command's closing parenthesis (read, not a ps per poll).
		_s=$(sed 's/.*) //' "/proc/$1/stat" 2>/dev/null) || return 0
		case "$_s" in Z* | X* | "") return 0 ;; esac
		return 1
	}
}

# run_pyt SECONDS ARGS...: run in the foreground under a hard timeout.
run_pyt() {
	_secs=$1; shift
	start_pyt "$@"
	wait_pyt "$_secs"
}

expect_status() {
	[ "$STATUS" = "$1" ] || fail "expected exit status $1, got $STATUS"
}

# count_lines FILE ERE
count_lines() {
	grep -Ec -- "$2" "$1" || true
}

manifest() {
	cat >"$T/$1"
}

# left_behind PID: is PID still a process of this test's supervisor? With
# pid_max at 32768 and tests running in parallel, a pid seen earlier may
# belong to a stranger by now: ours carry this test's PYTASKING_SOCKET.
left_behind() {
	pid_gone "$1" && return 1
	tr '\0' '\n' <"/proc/$1/environ" 2>/dev/null |
	    grep -q "^PYTASKING_SOCKET=$T/"
}
