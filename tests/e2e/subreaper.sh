# Daemons that escaped their process group (setsid, double fork) are
# adopted by the supervisor (a child subreaper): reaped when they exit, so
# no zombie is left; stopped when every unit has ended or at SIGTERM, and
# reaped before the supervisor exits. The exit status of the processes
# libuv waits for is never stolen.
. "$(dirname "$0")/lib.sh"

# spawner.sh FILE N CMD...: start CMD as a daemon in a session of its own
# whose parent is gone at once (a double fork), wait for FILE, exit N.
cat >"$T/spawner.sh" <<'EOF2'
file=$1; status=$2; shift 2
( setsid "$@" </dev/null >/dev/null 2>&1 & )
"$PYT_HELPER" wait-file "$file" 10 || exit 99
exit "$status"
EOF2
# deaf.sh FILE: a daemon that ignores SIGTERM.
cat >"$T/deaf.sh" <<'EOF2'
trap '' TERM
echo $$ >"$1.tmp" && mv "$1.tmp" "$1"
exec "$PYT_HELPER" sleep 300
EOF2
export PYT_HELPER

# While it runs: 5 spawners each exit 3 after leaving a daemon, and each
# status must reach us; a daemon that exits by itself is reaped.
manifest keep.yaml <<EOF2
version: 1
processes:
  s:
    shell: 'exec sh "$T/spawner.sh" "$T/d.\$PYTASKING_UNIT" 3 "$PYT_HELPER" pidfile "$T/d.\$PYTASKING_UNIT" 300'
    replicas: 5
  short:
    cmd: [sh, "$T/spawner.sh", "$T/short", "0", "$PYT_HELPER", pidfile,
      "$T/short", "0.5"]
EOF2
start_pyt --keep -vv "$T/keep.yaml"
sup=$BGPID
for i in 1 2 3 4 5; do
	wait_line 10 "$T/err" "s\\.$i: exited with status 3"
done
wait_line 10 "$T/err" "short: exited with status 0"
[ "$(count_lines "$T/err" 'exited with status 3')" -eq 5 ] ||
    fail "an exit status was lost"
short=$(cat "$T/short")
# Adopted by us (its parent died), then reaped by us once it exits: it
# must vanish, not stay a zombie of the supervisor.
wait_line 10 "$T/err" "reaped adopted process $short: exit status 0"
wait_for 5 test ! -e "/proc/$short" || fail "the short daemon is a zombie"
daemons=
for i in 1 2 3 4 5; do
	d=$(cat "$T/d.s.$i") || fail "no pid file for s.$i"
	kill -0 "$d" || fail "daemon of s.$i not running"
	[ "$(ps -o ppid= -p "$d" | tr -d ' ')" = "$sup" ] ||
	    fail "daemon of s.$i not adopted by the supervisor"
	daemons="$daemons $d"
done
zombies=$(ps -o stat= --ppid "$sup" | grep -c '^Z' || true)
[ "$zombies" -eq 0 ] || fail "$zombies zombies of the supervisor"

# SIGTERM: the daemons are stopped and reaped before the supervisor exits.
kill -TERM "$sup"
wait_pyt 20
expect_status 1
grep -q "stopping 5 adopted processes" "$T/err" || fail "daemons not stopped"
for d in $daemons; do
	[ ! -e "/proc/$d" ] || fail "daemon $d outlived the supervisor"
	grep -q "reaped adopted process $d: signal 15" "$T/err" ||
	    fail "daemon $d not reaped by the supervisor"
done

# Without --keep: a daemon left by a process that succeeded does not keep
# the supervisor up; it is stopped once every unit has ended.
manifest once.yaml <<EOF2
version: 1
processes:
  s:
    cmd: [sh, "$T/spawner.sh", "$T/d1", "0", "$PYT_HELPER", pidfile, "$T/d1"]
EOF2
run_pyt 20 "$T/once.yaml"
expect_status 0
d=$(cat "$T/d1")
[ ! -e "/proc/$d" ] || fail "daemon outlived the supervisor (no --keep)"
grep -q "stopping 1 adopted process" "$T/err" || fail "no stop of the daemon"

# A daemon deaf to SIGTERM is killed after the bound (5s).
manifest deaf.yaml <<EOF2
version: 1
processes:
  s:
    cmd: [sh, "$T/spawner.sh", "$T/d2", "0", sh, "$T/deaf.sh", "$T/d2"]
EOF2
run_pyt 30 "$T/deaf.yaml"
expect_status 0
d=$(cat "$T/d2")
[ ! -e "/proc/$d" ] || fail "deaf daemon outlived the supervisor"
grep -q "1 adopted process still alive: killing" "$T/err" ||
    fail "no kill of a daemon deaf to SIGTERM"
# A stop signal while that daemon is being stopped (every unit has
# ended) is noted, not fatal: the run still ends as it would have, with
# its own status, and the daemon is still killed (it was: exit 143).
rm -f "$T/d2"
start_pyt -v "$T/deaf.yaml"
wait_line 20 "$T/err" "stopping 1 adopted process"
kill -TERM "$BGPID"
wait_line 10 "$T/err" "received SIGTERM: every unit has ended, exiting"
kill -INT "$BGPID"
wait_pyt 30
expect_status 0
d=$(cat "$T/d2")
[ ! -e "/proc/$d" ] || fail "deaf daemon outlived the supervisor (late TERM)"
grep -q "1 adopted process still alive: killing" "$T/err" ||
    fail "no kill of a daemon deaf to SIGTERM (late TERM)"
exit 0
