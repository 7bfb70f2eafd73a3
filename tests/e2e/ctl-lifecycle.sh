# ctl reload (applied, or refused whole with the diagnostics) and ctl
# shutdown (returns once the supervisor is gone), as text and JSON;
# --keep keeps an idle supervisor up for ctl, and without it the socket
# goes away with the last unit.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/life.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
listening() { ctl list >/dev/null 2>&1; }
js() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (bool, type(None), dict, list)) else r)' "$1"
}
pid_of() { ctl --json status "$1" | js 'd["units"][0]["pid"]'; }

manifest life.yaml <<EOF2
version: 1
processes:
  keep: {cmd: ["$PYT_HELPER", sleep, "1000"]}
  once: {cmd: ["$PYT_HELPER", echo, "once ran"]}
EOF2
cp "$T/life.yaml" "$T/good.yaml"

# --keep: every unit but one has ended, and it stays for ctl.
start_pyt --keep -s "$SOCK" "$T/life.yaml"
wait_line 10 "$T/out" 'once \| once ran'
wait_for 10 listening || fail "no socket"
keeppid=$(pid_of keep)

# reload: a unit added, the unchanged one keeps its pid.
cat >"$T/life.yaml" <<EOF2
version: 1
processes:
  keep: {cmd: ["$PYT_HELPER", sleep, "1000"]}
  once: {cmd: ["$PYT_HELPER", echo, "once ran"]}
  added: {cmd: ["$PYT_HELPER", echo, "added ran"]}
EOF2
ctl reload || fail "reload"
wait_line 10 "$T/out" 'added \| added ran'
[ "$(pid_of keep)" = "$keeppid" ] || fail "keep lost its pid"

# A manifest with errors is refused whole, with every diagnostic; text
# and JSON; nothing changes.
cat >"$T/life.yaml" <<EOF2
version: 1
processes:
  keep: {cmd: 3}
  other: {cmd: [x], bogus: 1}
EOF2
ctl reload 2>"$T/e"; [ $? -eq 1 ] || fail "bad reload: exit"
grep -q 'life.yaml:3:.*processes.keep.cmd' "$T/e" || fail "diag 1: $(cat "$T/e")"
grep -q 'life.yaml:4:.*processes.other.*bogus' "$T/e" || fail "diag 2: $(cat "$T/e")"
ctl --json reload 2>/dev/null >"$T/e.json"; [ $? -eq 1 ] || fail "json: exit"
[ "$(js 'd["ok"]' <"$T/e.json")" = false ] || fail "json ok"
js 'd["error"]' <"$T/e.json" | grep 'processes.keep.cmd' >/dev/null || fail "json error"
[ "$(pid_of keep)" = "$keeppid" ] || fail "keep touched by a refused reload"
ctl status added >/dev/null || fail "added gone after a refused reload"

# A good reload in JSON: the unit removed from the manifest goes.
cp "$T/good.yaml" "$T/life.yaml"
[ "$(ctl --json reload | js 'd')" = '{"ok": true}' ] || fail "reload --json"
gone() { ! ctl status "$1" >/dev/null 2>&1; }
wait_for 10 gone added || fail "added not removed by reload"

# shutdown: returns once the supervisor has stopped everything and closed
# its socket, on its way out.
ctl shutdown || fail "shutdown"
pid_gone "$keeppid" || fail "shutdown returned before keep was stopped"
[ ! -e "$SOCK" ] || fail "socket left after shutdown"
wait_pyt 10
expect_status 0
grep -q 'shutdown requested' "$T/err" || fail "shutdown not logged"

# shutdown in JSON.
start_pyt --keep -s "$SOCK" "$T/life.yaml"
wait_for 10 listening || fail "no socket (2)"
keeppid=$(pid_of keep)
[ "$(ctl --json shutdown | js 'd')" = '{"ok": true}' ] || fail "shutdown --json"
pid_gone "$keeppid" || fail "json shutdown returned early"
wait_pyt 10
expect_status 0

# Without --keep the run ends with its last unit, and so does the socket.
manifest short.yaml <<EOF2
version: 1
processes:
  brief: {cmd: ["$PYT_HELPER", wait-file, "$T/go"]}
EOF2
start_pyt -s "$SOCK" "$T/short.yaml"
wait_for 10 listening || fail "no socket (3)"
touch "$T/go"
wait_pyt 10
expect_status 0
[ ! -e "$SOCK" ] || fail "socket left after the run"
ctl list 2>"$T/e" && fail "ctl after the run"
grep -q "no supervisor listening on $SOCK" "$T/e" || fail "after: $(cat "$T/e")"
exit 0
