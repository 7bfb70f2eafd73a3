# File outputs of a unit run as user: are opened, rotated and reopened as
# that user and never through a symbolic link: a unit that replaces its
# log with a link to a root-only file gains nothing (issue 13). Root only.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || exit 77
id nobody >/dev/null 2>&1 || exit 77

chmod 755 "$T"
printf 'secret\n' >"$T/secret"
chmod 600 "$T/secret"
mkdir "$T/logs" "$T/logs2"
chown nobody "$T/logs" "$T/logs2"

# Each unit swaps its log for a link to the secret and writes enough to
# rotate many times (no backups: truncation; backups: renames).
swap() {
	echo "rm -f $T/$1/out; ln -s $T/secret $T/$1/out"
}
manifest rotate.yaml <<EOF2
version: 1
processes:
  trunc:
    user: nobody
    shell: 'echo first; $(swap logs); seq 1 300'
    stdout: {file: "$T/logs/out", max_size: 100, backups: 0}
  renames:
    user: nobody
    shell: 'echo first; $(swap logs2); seq 1 300'
    stdout: {file: "$T/logs2/out", max_size: 100, backups: 2}
EOF2
run_pyt 30 "$T/rotate.yaml"
expect_status 0
[ "$(cat "$T/secret")" = secret ] || fail "rotation changed the root-only file"
# Rotation renamed the link (as nobody could) and went on in fresh files.
for f in out out.1 out.2; do
	[ -f "$T/logs2/$f" ] && [ ! -L "$T/logs2/$f" ] || fail "no fresh $f"
	[ "$(stat -c %U "$T/logs2/$f")" = nobody ] || fail "$f is not nobody's"
done
tail -n 1 "$T/logs2/out" | grep -qx 300 || fail "the last line is not in out"

# The same swap before a SIGUSR1: the reopen refuses the link.
manifest reopen.yaml <<EOF2
version: 1
processes:
  r:
    user: nobody
    shell: 'echo first; $(swap logs); : >$T/logs/swapped; while [ ! -e $T/logs/go ]; do sleep 0.05; done; echo after'
    stdout: "file:$T/logs/out"
EOF2
rm -f "$T/logs/out"
start_pyt "$T/reopen.yaml"
wait_for 10 test -e "$T/logs/swapped" || fail "r did not make its link"
kill -USR1 "$BGPID"
wait_line 10 "$T/err" 'r: reopening .*/logs/out: a symbolic link'
: >"$T/logs/go"
wait_pyt 30
expect_status 0
grep -q 'r: writing to .*: a symbolic link' "$T/err" ||
    fail "the lost write was not said"
[ "$(cat "$T/secret")" = secret ] || fail "the reopen changed the root-only file"
[ "$(stat -c %a%U "$T/secret")" = 600root ] || fail "its mode changed"

# A file the user could not open itself is refused, with the reason.
manifest denied.yaml <<EOF2
version: 1
processes:
  d:
    user: nobody
    cmd: [echo, hi]
    stdout: "file:$T/secret"
EOF2
run_pyt 10 "$T/denied.yaml"
grep -q "d: cannot open output file $T/secret: Permission denied" "$T/err" ||
    fail "no refusal said"
[ "$(cat "$T/secret")" = secret ] || fail "the root-only file was written"
exit 0
