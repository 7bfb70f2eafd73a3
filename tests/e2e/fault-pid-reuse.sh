# Pid reuse: a late stop never signals a stranger. In a new pid namespace
# (as root; pid_max 1000 there when the kernel allows it), the group of
# "victim" outlives its leader: the leader dies of SIGTERM at once, while
# a member ignores it, so the stop_timeout escalation stays pending. The
# member then exits, reaped by its parent (a nanny that left the session,
# so that nothing keeps the pid reserved), and a stranger started outside
# the supervisor takes the freed pid as its own process group (forced
# with ns_last_pid). Meanwhile the supervisor is held still (SIGSTOP, as a
# loaded machine would), so it cannot see the group empty in between.
# When the escalation comes due, the stranger must survive it.
. "$(dirname "$0")/lib.sh"

if ! unshare -pf --mount-proc true 2>/dev/null; then
	echo "SKIP: cannot unshare a pid namespace (needs root)" >&2
	exit 77
fi

cat >"$T/victim.sh" <<'EOF2'
T=$1 H=$2
echo $$ >"$T/victim.pid"
sh "$T/nanny.sh" "$T" "$H" >/dev/null 2>&1 &
exec "$H" term-exit 0
EOF2
# The nanny forks the member into the group, leaves the session, and reaps
# the member when it exits (dash reaps any child while it waits for sleep).
cat >"$T/nanny.sh" <<'EOF2'
T=$1 H=$2
( trap '' TERM; exec "$H" wait-file "$T/member.go" 100 ) &
echo $! >"$T/member.pid"
exec setsid sh -c 'echo $$ >"$1/nanny.pid"; while kill -0 "$2" 2>/dev/null; do sleep 0.02; done' nanny "$T" $!
EOF2
manifest reuse.yaml <<EOF2
version: 1
processes:
  victim: {cmd: [sh, "$T/victim.sh", "$T", "$PYT_HELPER"], stop_timeout: 3s}
EOF2

# The namespace's PID 1: it runs the supervisor and plays the stranger. It
# says what happened in $T/result.
cat >"$T/inner.sh" <<'EOF2'
say() { echo "$*" >>"$T/result"; }
poll() {	# poll SECONDS CMD...
	_n=$(( $1 * 50 * PYT_TIMEOUT_SCALE )); shift
	while ! "$@" 2>/dev/null; do
		_n=$((_n - 1)); [ $_n -gt 0 ] || return 1; sleep 0.02
	done
}
alive() { kill -0 "$1" 2>/dev/null && ! ps -o stat= -p "$1" | grep -q Z; }
dead() { ! alive "$1"; }
gone() { [ ! -e "/proc/$1" ]; }
pgid() { ps -o pgid= -p "$1" | tr -d ' '; }
if echo 1000 >/proc/sys/kernel/pid_max 2>/dev/null; then
	say "note pid_max 1000"
else
	say "note pid_max not writable here: kept $(cat /proc/sys/kernel/pid_max)"
fi
"$PYT" "$T/reuse.yaml" >"$T/out" 2>"$T/err" &
sup=$!
poll 10 test -s "$T/nanny.pid" || { say "error no nanny"; exit 1; }
x=$(cat "$T/victim.pid"); m=$(cat "$T/member.pid"); n=$(cat "$T/nanny.pid")
[ "$(pgid "$m")" = "$x" ] || { say "error member not in group $x"; exit 1; }
[ "$(ps -o sid= -p "$n" | tr -d ' ')" = "$n" ] || { say "error the nanny did not leave"; exit 1; }
kill -TERM "$sup"
poll 10 dead "$x" || { say "error the leader $x survived SIGTERM"; exit 1; }
alive "$m" || { say "error the member died of SIGTERM"; exit 1; }
kill -STOP "$sup"
: >"$T/member.go"
poll 10 gone "$m" || { kill -CONT "$sup"; say "error the member $m was not reaped"; exit 1; }
tries=0
while :; do
	echo $((x - 1)) >/proc/sys/kernel/ns_last_pid 2>/dev/null
	setsid "$PYT_HELPER" sleep 100 &
	s=$!
	[ "$s" = "$x" ] && break
	kill -KILL "$s"
	tries=$((tries + 1))
	[ $tries -lt 5000 ] || { kill -CONT "$sup"; say "skip could not get pid $x again"; exit 0; }
done
poll 5 sh -c "[ \"\$(ps -o pgid= -p $x | tr -d ' ')\" = $x ]" ||
    { kill -CONT "$sup"; say "error the stranger is not group $x"; exit 1; }
say "stranger $x placed after $tries misses"
kill -CONT "$sup"
wait "$sup"
say "status $?"
if alive "$x"; then say "stranger alive"; kill -KILL "$x"; else say "stranger killed"; fi
exit 0
EOF2

T=$T PYT=$PYT PYT_HELPER=$PYT_HELPER PYT_TIMEOUT_SCALE=$PYT_TIMEOUT_SCALE \
    unshare -pf --mount-proc sh "$T/inner.sh" &
BGPID=$!
wait_pyt 40
[ "$STATUS" = 0 ] || fail "the namespace's script failed: $(cat "$T/result" 2>/dev/null)"
cat "$T/result"
if grep -q '^skip' "$T/result"; then exit 77; fi
grep -q '^stranger' "$T/result" || fail "no stranger was placed: $(cat "$T/result")"
grep -q '^stranger alive' "$T/result" ||
    fail "the stop_timeout escalation of victim SIGKILLed a stranger that reused its pid as process group"
exit 0
