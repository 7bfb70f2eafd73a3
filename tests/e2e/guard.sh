# The supervisor SIGKILLed: none of its children, nor their children,
# outlives it by more than a second or two. The guardian (one small
# process forked at start-up) kills every recorded process group once its
# pipe from the supervisor closes, kills daemons the supervisor had
# adopted, and daemons that left their group while their parent lives on
# (found by descent in /proc). On a normal exit the guardian is reaped, not left behind.
. "$(dirname "$0")/lib.sh"

mkdir "$T/pids"
# A leader with two grandchildren in its group, each pid in a file.
cat >"$T/tree.sh" <<'EOF2'
d=$1; n=$2
"$PYT_HELPER" sleep 300 & echo $! >"$d/$n.1.tmp"; mv "$d/$n.1.tmp" "$d/$n.1"
"$PYT_HELPER" sleep 300 & echo $! >"$d/$n.2.tmp"; mv "$d/$n.2.tmp" "$d/$n.2"
echo $$ >"$d/$n.0.tmp"; mv "$d/$n.0.tmp" "$d/$n.0"
wait
EOF2
# A daemon that left its group (setsid) and its parent, so is adopted.
cat >"$T/daemon.sh" <<'EOF2'
d=$1
setsid "$PYT_HELPER" pidfile "$d/daemon" 300 </dev/null >/dev/null 2>&1 &
"$PYT_HELPER" wait-file "$d/daemon" 10
exit 0
EOF2
# A daemon that left its group (setsid) while its parent lives on: not
# adopted, not in a recorded group; the guardian finds it by descent.
cat >"$T/escape.sh" <<'EOF2'
d=$1
setsid "$PYT_HELPER" pidfile "$d/escapee" 300 </dev/null >/dev/null 2>&1 &
exec "$PYT_HELPER" sleep 300
EOF2
export PYT_HELPER
manifest g.yaml <<EOF2
version: 1
processes:
  a: {cmd: [sh, "$T/tree.sh", "$T/pids", a]}
  b: {cmd: [sh, "$T/tree.sh", "$T/pids", b]}
  c: {cmd: [sh, "$T/tree.sh", "$T/pids", c]}
  d: {cmd: [sh, "$T/daemon.sh", "$T/pids"]}
  e: {cmd: [sh, "$T/escape.sh", "$T/pids"]}
EOF2

all_files() {
	for n in a b c; do
		for i in 0 1 2; do [ -s "$T/pids/$n.$i" ] || return 1; done
	done
	[ -s "$T/pids/daemon" ] && [ -s "$T/pids/escapee" ]
}
all_gone() {
	for f in "$T"/pids/?.? "$T/pids/daemon" "$T/pids/escapee"; do
		pid_gone "$(cat "$f")" || return 1
	done
	pid_gone "$guardian"
}

start_pyt -vv "$T/g.yaml"
sup=$BGPID
wait_for 10 all_files || fail "the processes did not start"
# The daemon is adopted once its parent exited (a SIGCHLD of ours).
wait_line 10 "$T/err" "adopted process $(cat "$T/pids/daemon") "
guardian=$(ps -o pid=,comm= --ppid "$sup" | awk '$2 == "pyt-guardian" { print $1 }')
[ -n "$guardian" ] || fail "no guardian among the supervisor's children"
[ "$(echo "$guardian" | wc -l)" -eq 1 ] || fail "more than one guardian"
kill -KILL "$sup"
wait "$sup" 2>/dev/null
BGPID=
# The guardian acts at once, but each look runs ps for every zombie (our
# init does not reap them): 1.6 s a look on a loaded machine.
wait_for 10 all_gone || {
	for f in "$T"/pids/?.? "$T/pids/daemon" "$T/pids/escapee"; do
		pid_gone "$(cat "$f")" || echo "still alive: $f $(cat "$f")" >&2
	done
	pid_gone "$guardian" || echo "guardian still alive" >&2
	fail "processes outlived the SIGKILLed supervisor"
}

# A normal exit: everything stopped, the guardian reaped (no zombie).
rm -f "$T"/pids/*
start_pyt "$T/g.yaml"
sup=$BGPID
wait_for 10 all_files || fail "the processes did not start (2)"
guardian=$(ps -o pid=,comm= --ppid "$sup" | awk '$2 == "pyt-guardian" { print $1 }')
[ -n "$guardian" ] || fail "no guardian (2)"
kill -TERM "$sup"
wait_pyt 20
expect_status 0
wait_for 10 all_gone || fail "processes outlived a normal stop"
[ ! -e "/proc/$guardian" ] || {
	ps -o pid,ppid,stat,comm -p "$guardian" >&2
	fail "the guardian was not reaped"
}
exit 0
