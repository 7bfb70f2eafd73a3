# Start-up errors of Redis queues are clear and name the URL, with the
# password hidden: a server that cannot be reached fails after
# connect_timeout; a refused password, or a missing one, fails at once; a
# malformed URL fails when the manifest is loaded. No unit starts.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

# write_manifest URL CONNECT_TIMEOUT
write_manifest() {
	cat >"$T/e.yaml" <<EOF2
version: 1
queues:
  jobs:
    backend: redis
    url: "$1"
    connect_timeout: $2
processes:
  gen: {cmd: [seq, 1, 10], stdout: jobs}
  work: {cmd: [cat], stdin: jobs}
EOF2
}

# Nothing listens on port 1: refused, retried for 1s, then an error.
write_manifest "redis://:hunter2@127.0.0.1:1/0" 1s
t0=$(date +%s)
run_pyt 20 "$T/e.yaml"
expect_status 1
grep -q "queue jobs: cannot reach Redis at redis://\*\*\*@127.0.0.1:1/0 within 1s: Connection refused" "$T/err" ||
    fail "no clear error: $(cat "$T/err")"
! grep -q hunter2 "$T/err" || fail "the password is shown"
! grep -q "started" "$T/err" || fail "a unit started"
[ $(( $(date +%s) - t0 )) -le $((10 * PYT_TIMEOUT_SCALE)) ] ||
    fail "took too long to fail"

# A malformed URL: a manifest error, at load.
write_manifest "redis://127.0.0.1:notaport/0" 1s
run_pyt 20 "$T/e.yaml"
expect_status 2
grep -q "queues.jobs.url" "$T/err" || fail "no manifest error: $(cat "$T/err")"

REDIS_AUTH=right
start_redis --requirepass right
# A wrong password: at once, though connect_timeout is long.
write_manifest "redis://:wrong@127.0.0.1:$REDIS_PORT/0" 60s
run_pyt 20 "$T/e.yaml"
expect_status 1
grep -q "queue jobs: Redis at redis://\*\*\*@127.0.0.1:$REDIS_PORT/0 refused the password" "$T/err" ||
    fail "no clear error: $(cat "$T/err")"
! grep -q "wrong" "$T/err" || fail "the password is shown"
# No password where one is needed.
write_manifest "redis://127.0.0.1:$REDIS_PORT/0" 60s
run_pyt 20 "$T/e.yaml"
expect_status 1
grep -q "queue jobs: Redis at redis://127.0.0.1:$REDIS_PORT/0 wants a password" "$T/err" ||
    fail "no clear error: $(cat "$T/err")"
# The right one works, through the password and a database other than 0.
write_manifest "redis://:right@127.0.0.1:$REDIS_PORT/3" 5s
run_pyt 30 -v "$T/e.yaml"
expect_status 0
grep -q "queue jobs: in 10, out 10," "$T/err" || fail "$(cat "$T/err")"
[ "$(rcli -n 3 hlen jobs:producers)" = 1 ] ||
    fail "nothing in database 3"
exit 0
