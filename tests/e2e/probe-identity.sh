# A ready: {exec:} probe runs with exactly the identity and settings of
# its unit: user, group, cwd, environment, limits and umask, never as the
# root supervisor in its own directory; a failing probe's last lines of
# output are logged with -v (issue 13). Root only.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || exit 77
id nobody >/dev/null 2>&1 || exit 77

chmod 755 "$T"
mkdir "$T/work"
chown nobody "$T/work"
# The probe says who and where it is, then fails until "go" exists.
manifest m.yaml <<EOF2
version: 1
processes:
  web:
    cmd: [sleep, "1000"]
    user: nobody
    group: nogroup
    cwd: "$T/work"
    env: {PROBE_TAG: tagged}
    umask: "027"
    limits: {nofile: 77}
    ready:
      exec: [sh, -c, 'echo "id=\$(id -u):\$(id -g) cwd=\$(pwd) tag=\$PROBE_TAG umask=\$(umask) nofile=\$(ulimit -n)" >probe.new && mv -f probe.new probe.out; echo "still waiting for go"; test -e go']
      interval: 50ms
EOF2
start_pyt -v "$T/m.yaml"
wait_for 10 test -s "$T/work/probe.out" || fail "the probe did not run in the unit's cwd"
want="id=$(id -u nobody):$(getent group nogroup | cut -d: -f3) cwd=$T/work tag=tagged umask=0027 nofile=77"
[ "$(cat "$T/work/probe.out")" = "$want" ] ||
    fail "probe identity: $(cat "$T/work/probe.out"), want $want"
[ "$(stat -c %U "$T/work/probe.out")" = nobody ] || fail "probe.out not nobody's"
wait_line 10 "$T/err" 'web: ready probe output: still waiting for go'
: >"$T/work/go"
wait_line 10 "$T/err" 'web: ready$'
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
exit 0
