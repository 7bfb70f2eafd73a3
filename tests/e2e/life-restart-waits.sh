# ctl restart of a unit bound to a dependency that is down answers once
# the unit waits for it again (found by make chaos: it never answered).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/w.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  db: {cmd: ["$PYT_HELPER", sleep, "300"]}
  app:
    cmd: ["$PYT_HELPER", sleep, "300"]
    depends_on: {db: {condition: started, bind: true}}
EOF2
start_pyt --keep -s "$SOCK" "$T/m.yaml"
wait_line 10 "$T/err" 'app: started'
# app is stopping (bound to db) while db goes; a restart of app then
# finds db down: it answers once app waits for db.
ctl stop db --no-wait || fail "stop db"
timeout $((10 * PYT_TIMEOUT_SCALE)) "$PYT" ctl -s "$SOCK" restart app ||
    fail "restart of app did not answer while db is down"
state=$(ctl --json status app | python3 -c 'import json, sys
print(json.load(sys.stdin)["units"][0]["state"])')
[ "$state" = waiting ] || fail "app is $state, not waiting for db"
ctl start db || fail "start db"
wait_for 10 sh -c "[ \$(grep -c 'app: started' '$T/err') = 2 ]" ||
    fail "app not started once db was back"
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
exit 0
