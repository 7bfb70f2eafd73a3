# liveness: a process whose probe fails "failures" times in a row is
# stopped as a failed run (unhealthy) and the restart policy restarts it;
# a probe that succeeds keeps it running; the probe runs in the unit's
# cwd with its environment.
. "$(dirname "$0")/lib.sh"

mkdir "$T/wd"
cat >"$T/wd/check.sh" <<'EOF2'
#!/bin/sh
[ "$HEALTH" = yes ] && [ -e ./healthy ]
EOF2
chmod +x "$T/wd/check.sh"
: >"$T/wd/healthy"
cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  web:
    cmd: ["$PYT_HELPER", sleep, "300"]
    cwd: "$T/wd"
    env: {HEALTH: "yes"}
    restart: on-failure
    max_restarts: 1
    backoff: {initial: 50ms, max: 100ms}
    liveness:
      exec: [./check.sh]
      interval: 100ms
      timeout: 2s   # a healthy probe takes ms; 500ms was tight under load
      failures: 2
EOF2
start_pyt -vv "$T/m.yaml"
wait_line 10 "$T/err" 'web: started'
# Healthy for three probes: a relative probe in the unit's cwd, with its
# environment (-vv logs each success).
probes_ok() { [ "$(count_lines "$T/err" 'web: ready probe succeeded')" -ge "$1" ]; }
wait_for 10 probes_ok 3 || fail "the probe never succeeded (cwd or env not the unit's)"
[ "$(count_lines "$T/err" 'liveness probe failed')" = 0 ] ||
    fail "a healthy probe failed"
rm "$T/wd/healthy"
wait_line 10 "$T/err" 'web: liveness probe failed \(no success within 2s; 1 of 2 in a row\)'
wait_line 10 "$T/err" 'web: liveness probe failed 2 times in a row: stopping it'
wait_line 10 "$T/err" 'web: stopped: its liveness probe failed \(a failed run\); restarting'
# The second run fails its two probes too: 2 x (2 s + 100 ms) later.
wait_line 20 "$T/err" 'web: .*gave up after 1 restart'
wait_pyt 20
expect_status 1
exit 0
