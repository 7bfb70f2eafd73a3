# A child gets exactly fds 0, 1 and 2 (and its ready: {fd: N}), even when
# the supervisor inherited more and holds the pipes of other children;
# its stdio are real pipes (echo > /dev/stdout works).
. "$(dirname "$0")/lib.sh"

manifest fds.yaml <<EOF2
version: 1
processes:
  f: {cmd: ["$PYT_HELPER", fds]}
  q: {cmd: ["$PYT_HELPER", fds], stdin: jobs, stdout: jobs}
  d: {shell: 'echo via-dev-stdout > /dev/stdout; echo via-dev-stderr > /dev/stderr'}
  r: {cmd: ["$PYT_HELPER", fds], ready: {fd: 9}}
queues:
  jobs: {}
EOF2
exec 7>"$T/inherited" 8<"$T/fds.yaml"
run_pyt 20 "$T/fds.yaml"
exec 7>&- 8<&-
expect_status 0
grep -qx "f | fds: 0 1 2" "$T/out" || fail "fd leak: $(grep 'f |' "$T/out")"
grep -qx "r | fds: 0 1 2 9" "$T/out" || fail "ready fd: $(grep 'r |' "$T/out")"
grep -qx "d | via-dev-stdout" "$T/out" || fail "/dev/stdout in a child"
grep -qx "d | via-dev-stderr" "$T/err" || fail "/dev/stderr in a child"
exit 0
