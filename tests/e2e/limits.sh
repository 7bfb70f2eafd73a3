# limits:, umask:, user: and group: are applied in the child before its
# program runs (through our chain loader), soft and hard, and read back by
# the child itself; nothing of the manifest reaches a shell; a failure to
# apply them is a failed run with the reason; user: as non-root is an
# error at start-up, before anything starts.
. "$(dirname "$0")/lib.sh"

manifest lim.yaml <<EOF2
version: 1
processes:
  a:
    cmd: [sh, -c, 'ulimit -n; ulimit -c; umask; cat /proc/self/limits']
    limits: {nofile: 64, core: 0, fsize: 1MiB, cpu: 1h, as: unlimited, nproc: 5000}
    umask: "027"
  literal:
    cmd: ["$PYT_HELPER", args, 'x; touch $T/evaluated', '\$(touch $T/evaluated)', --, --user=root]
    umask: "022"
  plain:
    cmd: [sh, -c, 'ulimit -n; umask']
  toohigh:
    cmd: [sh, -c, 'echo ran']
    limits: {nofile: 2000000000}
  missing:
    cmd: [/nonexistent/program]
    limits: {core: 0}
EOF2
run_pyt 20 "$T/lim.yaml"
expect_status 1
grep -qx "a | 64" "$T/out" || fail "nofile not applied"
grep -qx "a | 0" "$T/out" || fail "core not applied"
grep -qx "a | 0027" "$T/out" || fail "umask not applied"
grep -Eq "^a \| Max open files +64 +64 " "$T/out" || fail "nofile hard limit"
grep -Eq "^a \| Max core file size +0 +0 " "$T/out" || fail "core hard limit"
grep -Eq "^a \| Max file size +1048576 +1048576 " "$T/out" || fail "fsize"
grep -Eq "^a \| Max cpu time +3600 +3600 " "$T/out" || fail "cpu"
grep -Eq "^a \| Max processes +5000 +5000 " "$T/out" || fail "nproc"
grep -Eq "^a \| Max address space +unlimited +unlimited " "$T/out" ||
    fail "as"
grep -q "a: exited with status 0" "$T/err" || fail "a did not succeed"
# The program's argv arrives verbatim, after our options; no shell.
[ ! -e "$T/evaluated" ] || fail "an argument was evaluated by a shell"
grep -qx "literal | argc 4" "$T/out" || fail "argument count changed"
grep -qxF 'literal | [x; touch '"$T"'/evaluated]' "$T/out" ||
    fail "argument 1 changed"
grep -qxF 'literal | [$(touch '"$T"'/evaluated)]' "$T/out" ||
    fail "argument 2 changed"
grep -qxF 'literal | [--]' "$T/out" || fail "argument -- changed"
grep -qxF 'literal | [--user=root]' "$T/out" || fail "argument after -- changed"
# Without any of these keys, the process inherits ours.
mine_n=$(ulimit -n)
mine_u=$(umask)
grep -qx "plain | $mine_n" "$T/out" || fail "plain process: nofile changed"
grep -qx "plain | $mine_u" "$T/out" || fail "plain process: umask changed"
# A limit that cannot be set: a failed run that says why; its program
# never runs.
grep -q "^toohigh | pytasking-run: toohigh: cannot apply limits: nofile 2000000000: " \
    "$T/err" || fail "no reason for a limit that cannot be set"
grep -q "toohigh | ran" "$T/out" && fail "ran despite its limits failing"
grep -q "toohigh: exited with status 127" "$T/err" || fail "toohigh status"
grep -q "^missing | pytasking-run: missing: cannot start /nonexistent/program: No such file" "$T/err" ||
    fail "exec failure after the chain loader not reported"
grep -q "missing: exited with status 127" "$T/err" || fail "missing status"

# user: and group:
if [ "$(id -u)" -ne 0 ]; then
	manifest user.yaml <<EOF2
version: 1
processes:
  x: {cmd: [id], user: nobody}
  y: {cmd: [id], group: "0"}
EOF2
	run_pyt 20 "$T/user.yaml"
	expect_status 2
	grep -q "processes.x.user: running as uid $(id -u), cannot switch users; run as root or remove user:" \
	    "$T/err" || fail "no error for user: as non-root"
	grep -q "processes.y.group: running as uid $(id -u), cannot switch groups" \
	    "$T/err" || fail "no error for group: as non-root"
	grep -q "started" "$T/err" && fail "something started"
	echo "limits: user: and group: as root skipped (not root)"
	exit 0
fi

nobody_uid=$(id -u nobody 2>/dev/null) || {
	echo "limits: no user nobody: user: part skipped"
	exit 0
}
nobody_gid=$(id -g nobody)
manifest user.yaml <<EOF2
version: 1
processes:
  byname: {cmd: [sh, -c, 'id -u; id -g; id -G'], user: nobody}
  byid: {cmd: [sh, -c, 'id -u; id -g'], user: "$nobody_uid", group: "$nobody_gid"}
  grouponly: {cmd: [sh, -c, 'id -u; id -g; id -G'], group: "$nobody_gid"}
EOF2
run_pyt 20 "$T/user.yaml"
expect_status 0
[ "$(grep '^byname | ' "$T/out" | sed 's/^byname | //' | tr '\n' ' ')" = \
    "$nobody_uid $nobody_gid $(id -G nobody) " ] || fail "user: nobody"
[ "$(grep '^byid | ' "$T/out" | sed 's/^byid | //' | tr '\n' ' ')" = \
    "$nobody_uid $nobody_gid " ] || fail "numeric user: and group:"
[ "$(grep '^grouponly | ' "$T/out" | sed 's/^grouponly | //' | tr '\n' ' ')" = \
    "0 $nobody_gid $nobody_gid " ] || fail "group: alone"

# An unknown user: an error at start-up, nothing started.
manifest nouser.yaml <<EOF2
version: 1
processes:
  x: {cmd: [id], user: no-such-user-pyt}
  y: {cmd: [id]}
EOF2
run_pyt 20 "$T/nouser.yaml"
expect_status 2
grep -q 'processes.x.user: no such user "no-such-user-pyt"' "$T/err" ||
    fail "no error for an unknown user"
grep -q "started" "$T/err" && fail "something started"

# The same manifest with user: under a supervisor that is not root.
command -v setpriv >/dev/null 2>&1 || {
	echo "limits: no setpriv: non-root part skipped"
	exit 0
}
chmod 755 "$T"
chmod 644 "$T/user.yaml"
# Whatever runs the supervisor (a valgrind wrapper, say) must work as
# nobody too.
setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --clear-groups \
    "$PYT" --version 2>/dev/null | grep -q '^pytasking-run ' || {
	echo "limits: $PYT cannot run as nobody: non-root part skipped"
	exit 0
}
setpriv --reuid="$nobody_uid" --regid="$nobody_gid" --clear-groups \
    "$PYT" "$T/user.yaml" >"$T/out" 2>"$T/err"
STATUS=$?
expect_status 2
grep -q "processes.byname.user: running as uid $nobody_uid, cannot switch users; run as root or remove user:" \
    "$T/err" || fail "no error for user: as non-root"
grep -q "processes.grouponly.group: running as uid $nobody_uid, cannot switch groups" \
    "$T/err" || fail "no error for group: as non-root"
grep -q "started" "$T/err" && fail "something started"
exit 0
