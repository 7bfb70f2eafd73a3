# ctl: list, status, start, stop, cancel, restart, signal, logs and logs -f,
# each as an aligned table and as one JSON document that python3 parses;
# clear errors with a non-zero exit; usage errors exit 2.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/basic.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
# jq-like: print the python expression $1 over the JSON document d on stdin.
js() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (bool, type(None), dict, list)) else r)' "$1"
}
nlines_is() { [ "$(count_lines "$1" "$2")" -eq "$3" ]; }
state_is() { [ "$(ctl --json status "$1" | js 'd["units"][0]["state"]')" = "$2" ]; }

manifest basic.yaml <<EOF2
version: 1
processes:
  web: {cmd: ["$PYT_HELPER", term-exit, "3"]}
  pool: {cmd: ["$PYT_HELPER", sleep, "1000"], replicas: 2}
  idle: {cmd: ["$PYT_HELPER", echo, "idle ran"], autostart: false}
tasks:
  hello:
    run:
      - echo "hello from a task"
EOF2
start_pyt --keep -s "$SOCK" "$T/basic.yaml"
wait_line 10 "$T/out" 'web \| ready'
wait_line 10 "$T/err" 'hello: exited'
wait_for 10 test -S "$SOCK" || fail "no socket"

# list: a table with a header and one row per instance, aligned.
ctl list >"$T/list" || fail "list"
head -n 1 "$T/list" | grep -Eq '^KIND +NAME +STATE +PID +RESTARTS +UPTIME +LAST EXIT +EXIT STATUS$' ||
    fail "list header: $(head -n 1 "$T/list")"
[ "$(wc -l <"$T/list")" -eq 6 ] || fail "list rows: $(cat "$T/list")"
grep -Eq '^process +web +running +[0-9]+ +0 ' "$T/list" || fail "web row"
grep -Eq '^process +pool\.1 +running ' "$T/list" || fail "pool.1 row"
grep -Eq '^process +pool\.2 +running ' "$T/list" || fail "pool.2 row"
grep -Eq '^process +idle +idle +- ' "$T/list" || fail "idle row"
grep -Eq '^task +hello +exited +- .* succeeded +0$' "$T/list" || fail "hello row"
# Columns line up: text starts under its title, numbers end under theirs.
python3 - "$T/list" <<'EOF2' || fail "columns not aligned: $(cat "$T/list")"
import sys
lines = open(sys.argv[1]).read().splitlines()
h = lines[0]
for title in ["NAME", "STATE", "LAST EXIT"]:
    c = h.index(title)
    for l in lines[1:]:
        assert l[c - 1] == " " and l[c] != " ", (title, l)
for title in ["PID", "RESTARTS", "UPTIME", "EXIT STATUS"]:
    e = h.index(title) + len(title) - 1
    for l in lines[1:]:
        assert l[e] != " " and (e + 1 == len(l) or l[e + 1] == " "), (title, l)
EOF2

ctl --json list >"$T/list.json" || fail "list --json"
[ "$(js 'len(d["units"])' <"$T/list.json")" = 5 ] || fail "json units"
[ "$(js 'd["ok"]' <"$T/list.json")" = true ] || fail "json ok"
[ "$(js '[u["name"] for u in d["units"]]' <"$T/list.json")" = \
    '["web", "pool.1", "pool.2", "idle", "hello"]' ] || fail "json names"
[ "$(js 'd["units"][0]["pid"] > 0' <"$T/list.json")" = true ] || fail "json pid"
[ "$(js 'd["units"][3]["pid"]' <"$T/list.json")" = null ] || fail "json null pid"
[ "$(js 'd["units"][4]["last_exit"]' <"$T/list.json")" = succeeded ] ||
    fail "json last exit"
[ "$(js 'd["units"][4]["exit_status"]' <"$T/list.json")" = 0 ] ||
    fail "json exit status"
[ "$(js 'd["units"][0]["kind"]' <"$T/list.json")" = process ] || fail "kind"
[ "$(js 'd["units"][4]["kind"]' <"$T/list.json")" = task ] || fail "task kind"

# status: a unit's replicas, or one replica.
ctl status pool >"$T/st" || fail "status"
[ "$(wc -l <"$T/st")" -eq 3 ] || fail "status pool: $(cat "$T/st")"
[ "$(ctl --json status pool.2 | js '[u["name"] for u in d["units"]]')" = \
    '["pool.2"]' ] || fail "status pool.2"

# Errors: clear, on stderr, exit 1; as JSON too.
ctl status nope 2>"$T/e" && fail "status of an unknown unit succeeded"
grep -qx 'pytasking-run: no such unit: nope' "$T/e" || fail "message: $(cat "$T/e")"
ctl start nope 2>/dev/null; [ $? -eq 1 ] || fail "start nope: exit"
ctl --json stop nope 2>/dev/null >"$T/e.json"
[ "$(js 'd["ok"]' <"$T/e.json")" = false ] || fail "json error ok"
[ "$(js 'd["error"]' <"$T/e.json")" = "no such unit: nope" ] || fail "json error"
ctl signal web NOSUCHSIG 2>"$T/e" && fail "bad signal accepted"
grep -q 'bad signal' "$T/e" || fail "bad signal message"
# Usage errors exit 2.
"$PYT" ctl -s "$SOCK" 2>/dev/null; [ $? -eq 2 ] || fail "no command: exit"
ctl frobnicate 2>/dev/null; [ $? -eq 2 ] || fail "unknown command: exit"
ctl lst 2>"$T/e"; [ $? -eq 2 ] || fail "typo: exit"
grep -q 'did you mean list' "$T/e" || fail "no suggestion"
ctl status 2>/dev/null; [ $? -eq 2 ] || fail "status without unit"
"$PYT" ctl --help | grep -q 'add proc NAME' || fail "ctl --help"

# start, and its JSON form.
ctl start idle || fail "start idle"
wait_line 10 "$T/out" 'idle \| idle ran'
wait_for 10 state_is idle exited || fail "idle did not exit"
[ "$(ctl --json start idle | js 'd')" = '{"ok": true, "unit": "idle"}' ] ||
    fail "start --json"
wait_for 10 nlines_is "$T/out" 'idle \| idle ran' 2 ||
    fail "idle not started twice"

# signal: web prints "got TERM" and exits 3: a failure, never restarted.
pid=$(ctl --json status web | js 'd["units"][0]["pid"]')
ctl signal web TERM || fail "signal"
wait_line 10 "$T/out" 'web \| got TERM'
wait_for 10 state_is web failed || fail "web not failed"
wait_for 5 pid_gone "$pid" || fail "web pid $pid still there"
ctl list | grep -Eq '^process +web +failed +- +0 +- +failed +3$' ||
    fail "web row after signal: $(ctl list)"

# restart of an ended unit starts it; of a running one, stops and starts.
ctl restart web || fail "restart"
wait_for 10 state_is web running || fail "web not running again"
pid1=$(ctl --json status web | js 'd["units"][0]["pid"]')
[ "$(ctl --json restart web | js 'd["ok"]')" = true ] || fail "restart --json"
wait_for 10 pid_gone "$pid1" || fail "restart left $pid1"
wait_for 10 state_is web running || fail "web not running after restart"
pid2=$(ctl --json status web | js 'd["units"][0]["pid"]')
[ "$pid1" != "$pid2" ] || fail "restart kept the pid"

# stop and cancel (the same).
ctl stop pool.1 || fail "stop"
wait_for 10 state_is pool.1 exited || fail "pool.1 not stopped"
state_is pool.2 running || fail "stop pool.1 stopped pool.2"
[ "$(ctl --json cancel pool | js 'd["ok"]')" = true ] || fail "cancel --json"
wait_for 10 state_is pool.2 exited || fail "pool.2 not cancelled"
ctl status pool | grep -Eq 'exited .* stopped' || fail "stopped shown"

# logs: recent lines of a unit, as "unit | line" or JSON.
ctl logs web >"$T/logs" || fail "logs"
grep -qx 'web | got TERM' "$T/logs" || fail "logs: $(cat "$T/logs")"
grep -qx 'web | ready' "$T/logs" || fail "logs ready"
ctl --json logs hello >"$T/logs.json" || fail "logs --json"
[ "$(js '[{k: v for k, v in l.items() if k != "time"} for l in d["lines"]]' <"$T/logs.json")" = \
    '[{"unit": "hello", "line": "hello from a task"}]' ] ||
    fail "logs json: $(cat "$T/logs.json")"
ctl --json logs pool | js 'd["lines"]' | grep -x '\[\]' >/dev/null || fail "empty logs"
ctl logs nope 2>/dev/null && fail "logs of an unknown unit"

# logs -f: the recent lines, then new ones as they come (JSON: one per line).
ctl logs -f idle >"$T/follow" 2>&1 &
f1=$!
ctl --json logs idle -f >"$T/follow.json" 2>&1 &
f2=$!
wait_for 10 nlines_is "$T/follow" 'idle ran' 2 ||
    fail "follow: no recent lines"
wait_for 10 nlines_is "$T/follow.json" 'idle ran' 2 ||
    fail "follow json: no recent lines"
ctl start idle
wait_for 10 nlines_is "$T/follow" '^idle \| idle ran$' 3 ||
    fail "follow: the new line did not come: $(cat "$T/follow")"
wait_for 10 nlines_is "$T/follow.json" 'idle ran' 3 ||
    fail "follow json: the new line did not come"
kill "$f1" "$f2"
wait "$f1" "$f2" 2>/dev/null
while read -r line; do
	printf '%s\n' "$line" | js 'd["unit"]' | grep -x idle >/dev/null ||
	    fail "follow json line: $line"
done <"$T/follow.json"

# A follower that goes away is forgotten; the supervisor serves on.
kill -0 "$BGPID" || fail "supervisor died"
ctl list >/dev/null || fail "list after followers left"

kill -TERM "$BGPID"
wait_pyt 20
[ "$STATUS" -le 1 ] || fail "exit status $STATUS"
exit 0
