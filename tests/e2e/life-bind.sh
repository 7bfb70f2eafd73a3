# depends_on with bind: true: when db stops or restarts, app is stopped,
# and it starts again once db is ready again; the short forms still work.
. "$(dirname "$0")/lib.sh"

SOCK=$T/b.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  db:
    cmd: ["$PYT_HELPER", term-exit, "0"]
    ready: {line: "ready"}
  app:
    cmd: ["$PYT_HELPER", sleep, "300"]
    depends_on: {db: {condition: ready, bind: true}}
  loose:
    cmd: ["$PYT_HELPER", sleep, "300"]
    depends_on: {db: ready}
EOF2
start_pyt --keep -s "$SOCK" "$T/m.yaml"
wait_line 10 "$T/err" 'app: started'
wait_line 10 "$T/err" 'loose: started'
ctl stop db || fail "stop db"
wait_line 10 "$T/err" 'app: dependency db is no longer ready: stopping until it is again'
wait_line 10 "$T/err" 'app: stopped'
grep -q 'loose: stopped' "$T/err" && fail "loose (not bound) was stopped"
ctl start db || fail "start db"
wait_for 10 sh -c "[ \$(grep -c 'app: started' '$T/err') = 2 ]" ||
    fail "app not started again once db was ready"
ctl restart db || fail "restart db"
wait_for 10 sh -c "[ \$(grep -c 'app: started' '$T/err') = 3 ]" ||
    fail "app not restarted with db"
[ "$(grep -c 'loose: started' "$T/err")" = 1 ] || fail "loose restarted"
"$PYT" -cv "$T/m.yaml" | grep -q 'depends_on: {"db": {condition: ready, bind: true}}' ||
    fail "-cv does not show bind"
printf 'version: 1\nprocesses:\n  a: {cmd: [x], depends_on: {b: {condition: ready, bnid: true}}}\n  b: {cmd: [y]}\n' >"$T/bad.yaml"
"$PYT" -c "$T/bad.yaml" 2>"$T/e" && fail "a misspelt bind key passed -c"
grep -q 'bad.yaml:3:52: processes.a.depends_on.b: unknown key "bnid" (did you mean "bind"?)' "$T/e" ||
    { cat "$T/e"; fail "no file:line:col for the misspelt key"; }
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
exit 0
