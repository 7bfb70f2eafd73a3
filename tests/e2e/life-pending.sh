# A start is never lost: "ctl stop web --no-wait; ctl start web" on a unit
# that takes time to stop brings it back; "ctl stop" returns once stopped;
# "ctl start" of a running unit says so; a task's start after cancel runs
# the unit every round.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/p.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
state() {
	ctl --json status "$1" | python3 -c 'import json, sys
print(json.load(sys.stdin)["units"][0]["state"])'
}
cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  web:
    shell: "echo up; trap 'while [ -e \\"$T/hold\\" ]; do sleep 0.05; done; sleep 0.7; exit 0' TERM; while :; do sleep 0.05; done"
  ping:
    cmd: ["$PYT_HELPER", echo, "pong"]
    autostart: false
tasks:
  pinger:
    autostart: false
    run:
      - repeat 5:
          - start ping
          - sleep 100ms
          - cancel ping
EOF2
start_pyt --keep -s "$SOCK" "$T/m.yaml"
wait_line 10 "$T/out" 'web \| up'
# web stops only once hold is gone: the state is read and the start asked
# while it stops, however slow ctl and python3 are to run (0.7 s was not
# always enough under load).
: >"$T/hold"
ctl stop web --no-wait || fail "stop --no-wait"
[ "$(state web)" = stopping ] || fail "web not stopping after --no-wait"
ctl start web || fail "start while stopping"
rm "$T/hold"
wait_for 10 sh -c "[ \$(grep -c 'web | up' '$T/out') = 2 ]" ||
    fail "the start asked while web stopped was lost"
[ "$(state web)" = running ] || fail "web not running"
ctl start web >"$T/already" || fail "start of a running unit failed"
grep -q 'web: already running' "$T/already" || fail "start did not say so"
# stop waits for the end: the unit is down when it returns.
ctl stop web || fail "stop"
[ "$(state web)" = exited ] || fail "stop returned before web stopped"
ctl restart web || fail "restart"
[ "$(state web)" = running ] || fail "restart returned before web ran"
ctl start pinger || fail "start pinger"
wait_line 10 "$T/err" 'pinger: exited with status 0'
# Its starts, not its pongs: under load the cancel 100 ms later may come
# before ping has written anything.
n=$(count_lines "$T/err" 'ping: started')
[ "$n" = 5 ] || fail "ping ran $n times in 5 rounds"
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
exit 0
