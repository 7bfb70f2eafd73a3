# How a run ends: ready_timeout passing is a failure whatever the status
# (on-failure retries it, then gives up); success_codes; min_uptime makes
# a quick exit a failed start, restarted with backoff and given up.
. "$(dirname "$0")/lib.sh"

cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  server:
    cmd: ["$PYT_HELPER", term-exit, "0"]
    ready: {tcp: "127.0.0.1:1"}
    ready_timeout: 300ms
    restart: on-failure
    max_restarts: 1
    backoff: {initial: 50ms, max: 100ms}
  ctrlc:
    cmd: ["$PYT_HELPER", exit, "130"]
    success_codes: [0, 130]
    restart: on-failure
  quick:
    cmd: ["$PYT_HELPER", exit, "0"]
    min_uptime: 1s
    restart: on-failure
    max_restarts: 2
    backoff: {initial: 50ms, max: 100ms}
EOF2
run_pyt 30 "$T/m.yaml"
expect_status 1
grep -q 'server: not ready after 300ms: stopping it' "$T/err" ||
    fail "no ready timeout"
grep -q 'server: stopped: it never became ready (a failed run); restarting' \
    "$T/err" || fail "a ready timeout with exit 0 was not retried"
grep -q 'server: .*gave up after 1 restart' "$T/err" || fail "server not given up"
grep -q 'ctrlc: exited with status 130$' "$T/err" || fail "130 not a success"
grep -q 'ctrlc: .*restarting' "$T/err" && fail "ctrlc restarted"
grep -q 'quick: exited with status 0 within its min_uptime 1s (a failed start); restarting' \
    "$T/err" || fail "a quick exit 0 was not a failed start"
grep -q 'quick: .*gave up after 2 restarts' "$T/err" || fail "quick not given up"
exit 0
