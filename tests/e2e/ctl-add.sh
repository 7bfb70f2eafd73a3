# ctl add proc, add task and remove, as table and JSON; a process that
# drives its supervisor with "pytasking-run ctl" through PYTASKING_SOCKET
# (recursive spawning: it starts a sibling and adds a unit of its own).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

js() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
r = eval(sys.argv[1])
print(json.dumps(r) if isinstance(r, (bool, type(None), dict, list)) else r)' "$1"
}

manifest add.yaml <<EOF2
version: 1
queues:
  jobs: {capacity: 10}
processes:
  parent:
    shell: >-
      echo "unit=\$PYTASKING_UNIT";
      test -S "\$PYTASKING_SOCKET" && echo "socket ok";
      "$PYT" ctl start sibling && echo "started sibling";
      "$PYT" ctl add proc kid -- "$PYT_HELPER" echo "kid of parent" &&
      echo "added kid";
      exec "$PYT_HELPER" sleep 1000
  sibling:
    cmd: ["$PYT_HELPER", env, PYTASKING_UNIT, PYTASKING_SOCKET]
    autostart: false
EOF2
# No -s: the default socket in \$XDG_RUNTIME_DIR (lib.sh gives each test its own).
start_pyt --keep "$T/add.yaml"
wait_for 10 sh -c "ls '$T'/pytasking-run/add-*.sock" || fail "no default socket"
SOCK=$(ls "$T"/pytasking-run/add-*.sock)
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }

wait_line 10 "$T/out" 'parent \| unit=parent$'
wait_line 10 "$T/out" 'parent \| socket ok$'
wait_line 10 "$T/out" 'parent \| started sibling$'
wait_line 10 "$T/out" 'sibling \| PYTASKING_UNIT=sibling$'
wait_line 10 "$T/out" 'kid \| kid of parent$'
wait_line 10 "$T/out" 'parent \| added kid$'
ctl list | grep -Eq '^process +kid +' || fail "kid not listed"
# The children see the absolute path of our socket.
wait_line 10 "$T/out" "sibling \\| PYTASKING_SOCKET=$SOCK\$"

# add proc: queues and restart policy; output to a queue, read by another.
ctl add proc gen --stdout jobs -- sh -c \
    "\"$PYT_HELPER\" wait-file '$T/go' && exec \"$PYT_HELPER\" lines a b c" ||
    fail "add gen"
[ "$(ctl --json add proc counter --stdin jobs -- "$PYT_HELPER" count | js 'd')" = \
    '{"ok": true, "unit": "counter"}' ] || fail "add --json"
touch "$T/go"
wait_line 10 "$T/out" 'counter \| 3$'
ctl --json status counter | js 'd["units"][0]["kind"]' | grep -x process >/dev/null ||
    fail "counter kind"

ctl add proc flaky --restart on-failure -- "$PYT_HELPER" exit 1 || fail "add flaky"
restarted() {
	[ "$(ctl --json status flaky | js 'd["units"][0]["restarts"]')" -ge 2 ]
}
wait_for 20 restarted || fail "flaky not restarted"

# add task: steps run inside the supervisor.
ctl add task greeter -- 'echo "greetings"' 'put jobs "from a task"' ||
    fail "add task"
wait_line 10 "$T/out" 'greeter \| greetings$'
ctl list | grep -Eq '^task +greeter +' || fail "greeter not listed"

# Refusals, clear and exit 1, in both forms.
ctl add proc kid -- true 2>"$T/e" && fail "duplicate name accepted"
grep -q 'kid exists already' "$T/e" || fail "duplicate: $(cat "$T/e")"
ctl add proc x --stdin nosuchq -- true 2>"$T/e" && fail "unknown queue"
grep -q 'no such queue: nosuchq' "$T/e" || fail "queue: $(cat "$T/e")"
ctl --json add proc x --restart sometimes -- true 2>/dev/null >"$T/e.json" &&
    fail "bad policy accepted"
js 'd["error"]' <"$T/e.json" | grep 'bad restart policy' >/dev/null || fail "policy"
ctl --json add task t2 -- 'frobnicate 3' 2>/dev/null >"$T/e.json" &&
    fail "bad step accepted"
[ "$(js 'd["ok"]' <"$T/e.json")" = false ] || fail "bad step json"
ctl add task t3 -- 'start nosuchunit' 2>"$T/e" && fail "unknown unit in a step"
grep -q 'no such unit: nosuchunit' "$T/e" || fail "step unit: $(cat "$T/e")"
ctl add proc 2>/dev/null; [ $? -eq 2 ] || fail "add proc usage"
ctl add proc y 2>/dev/null; [ $? -eq 2 ] || fail "add proc without argv"
ctl add job z -- true 2>/dev/null; [ $? -eq 2 ] || fail "add job"
ctl add proc 'bad/name' -- true 2>"$T/e" && fail "bad name accepted"
grep -q 'bad unit name' "$T/e" || fail "bad name: $(cat "$T/e")"

# remove: a running unit is stopped, then forgotten; an ended one at once.
kidpid=$(ctl --json status parent | js 'd["units"][0]["pid"]')
ctl remove parent || fail "remove parent"
wait_for 10 pid_gone "$kidpid" || fail "parent still running"
gone() { ! ctl status "$1" >/dev/null 2>&1; }
wait_for 10 gone parent || fail "parent still listed"
[ "$(ctl --json remove counter | js 'd["ok"]')" = true ] || fail "remove --json"
wait_for 10 gone counter || fail "counter still listed"
ctl remove flaky || fail "remove flaky"
wait_for 10 gone flaky || fail "flaky still listed"
ctl remove parent 2>"$T/e" && fail "removed twice"
grep -q 'no such unit: parent' "$T/e" || fail "remove twice: $(cat "$T/e")"
ctl --json list | js '[u["name"] for u in d["units"]]' >"$T/names"
grep -q '"parent"' "$T/names" && fail "parent listed after remove"
grep -q '"kid"' "$T/names" || fail "kid gone with its parent"

kill -TERM "$BGPID"
wait_pyt 20
exit 0
