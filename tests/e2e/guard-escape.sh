# Processes must not outlive the supervisor (issue 13): double-forked
# daemons whose unit lives on (re-parented to us without a SIGCHLD) are
# found by the periodic look and their groups told to the guardian; a
# killed guardian is replaced; an adopted orphan that ignores SIGTERM and
# keeps forking is SIGKILLed at the 5s bound all the same; a daemon that
# makes its group after it was adopted is covered too.
. "$(dirname "$0")/lib.sh"

N=10
# Our processes: those carrying this test's socket variable. One grep
# for all of /proc: two processes a pid took 5 s a look on a loaded
# machine, and a wait of 10 s then saw one look, made before the daemons.
ours() {
	grep -lz "^PYTASKING_SOCKET=$T/" /proc/[0-9]*/environ 2>/dev/null |
	    cut -d/ -f3
}
count_ours() { [ "$(ours | wc -l)" -ge "$1" ]; }
# A function, so that each look counts again: an argument [ "$(...)" ... ]
# to wait_for is counted once, before the first look.
adopted() { [ "$(count_lines "$T/err" 'adopted process')" -ge "$1" ]; }
none_ours() { [ -z "$(ours)" ]; }
# SIGKILL the supervisor: within 5 s nothing of ours is left, or fail
# with WHAT and the processes left.
kill_sup() {
	kill -KILL "$sup"
	wait "$sup" 2>/dev/null
	BGPID=
	wait_for 5 none_ours && return
	ps -o pid,ppid,pgid,sid,args -p "$(ours | paste -sd, -)" >&2
	fail "$(ours | wc -l) processes $1"
}
guardian_of() {
	ps -o pid=,comm= --ppid "$1" | awk '$2 == "pyt-guardian" { print $1 }'
}

manifest d.yaml <<EOF2
version: 1
processes:
  d:
    shell: '(setsid sh -c "sleep 300 & exec sleep 301" &); exec sleep 302'
    replicas: $N
EOF2

# 1. Double-forked daemons: 3 processes a replica, one orphan each.
start_pyt -vv "$T/d.yaml"
sup=$BGPID
wait_for 10 count_ours $((3 * N)) || fail "the daemons did not start"
wait_for 10 adopted $N || fail "orphans not adopted without a SIGCHLD"
kill_sup "outlived the SIGKILLed supervisor"

# 2. The guardian killed: replaced, and the next SIGKILL is covered.
start_pyt -vv "$T/d.yaml"
sup=$BGPID
wait_for 10 count_ours $((3 * N)) || fail "the daemons did not start (2)"
wait_for 10 adopted $N || fail "orphans not adopted (2)"
old=$(guardian_of "$sup")
[ -n "$old" ] || fail "no guardian"
kill -KILL "$old"
wait_line 10 "$T/err" "guardian \\(pid $old\\) was killed: replacing it"
# That line comes before the fork, and the new one names itself only once
# it runs: wait for it to be listed.
new_guardian() {
	new=$(guardian_of "$sup")
	[ -n "$new" ] && [ "$new" != "$old" ]
}
wait_for 10 new_guardian || fail "no new guardian"
kill_sup "outlived the supervisor after its guardian was replaced"

# 3. An adopted orphan that ignores SIGTERM and every 20ms makes a
#    short-lived orphan (a SIGCHLD of ours each time): the supervisor
#    still ends, at the 5s bound and a little more. The leader exits once
#    the orphan ignores SIGTERM: it is stopped as soon as the unit ends.
manifest f.yaml <<EOF2
version: 1
processes:
  f:
    shell: '(setsid sh -c "trap \"\" TERM; : >$T/trapped; while :; do (sleep 0.01 &); sleep 0.02; done" &); while [ ! -e $T/trapped ]; do sleep 0.01; done; exit 0'
EOF2
start_pyt "$T/f.yaml"
wait_line 10 "$T/err" 'f: exited with status 0'
wait_line 10 "$T/err" 'stopping [0-9]+ adopted process'
wait_pyt 15
wait_line 1 "$T/err" 'adopted process(es)? still alive: killing'
wait_for 5 none_ours || fail "the forking orphan outlived the supervisor"

# 4. A daemon adopted before its setsid() (its parent exited first, as
#    daemon(3) does): the group it makes afterwards dies with a SIGKILLed
#    supervisor too. Before, the guardian knew only the group it was
#    adopted in, and this pair outlived us.
manifest s.yaml <<EOF2
version: 1
processes:
  d:
    shell: '(sh -c "sleep 2; exec setsid sh -c \\"sleep 300 & exec sleep 301\\"" &); exec sleep 302'
EOF2
own_group() { [ "$(ps -o pgid= -p "$1" | tr -d ' ')" = "$1" ]; }
start_pyt -vv "$T/s.yaml"
sup=$BGPID
wait_line 10 "$T/err" 'adopted process'
orphan=$(sed -n 's/.*adopted process \([0-9]*\) .*/\1/p' "$T/err" | head -n 1)
# It made its group, and its child is up: the leader, it and its child.
wait_for 10 own_group "$orphan" || fail "the orphan made no group of its own"
wait_for 10 count_ours 3 || fail "the orphan's child did not start"
kill_sup "of a group made after adoption outlived the supervisor"
exit 0
