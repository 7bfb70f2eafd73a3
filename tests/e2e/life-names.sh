# Names after replicas change: web (2 replicas slow to stop) before db;
# replicas 2 -> 3 and reload; "ctl stop web" stops web.1, web.2 and web.3
# and nothing else; status, logs and remove of the base name mean every
# instance wherever it sits.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/n.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
st() {
	ctl --json list | python3 -c 'import json, sys
for u in json.load(sys.stdin)["units"]:
    print(u["name"], u["state"], u["pid"] or "-")'
}
write() {
	cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  web:
    shell: "echo up; trap 'sleep 0.5; exit 0' TERM; while :; do sleep 0.05; done"
    replicas: $1
  db: {cmd: ["$PYT_HELPER", sleep, "300"]}
EOF2
}
write 2
start_pyt --keep -s "$SOCK" "$T/m.yaml"
for u in web.1 web.2 db; do wait_line 10 "$T/err" "$u: started"; done
db_pid=$(st | awk '$1 == "db" { print $3 }')
write 3
ctl reload || fail "reload"
wait_line 10 "$T/err" 'web.3: started'
wait_line 10 "$T/out" 'web.3 \| up'
ctl stop web || fail "stop web"
st >"$T/st"
for u in web.1 web.2 web.3; do
	grep -q "^$u exited -$" "$T/st" || { cat "$T/st"; fail "$u not stopped"; }
done
grep -q "^db running $db_pid$" "$T/st" || { cat "$T/st"; fail "db was touched"; }
[ "$(ctl status web | grep -c '^process')" = 3 ] || fail "status web: not 3"
ctl logs web | grep -q 'web.3 | up' || fail "logs web misses web.3"
ctl start web || fail "start web"
wait_for 10 sh -c "[ \$(grep -c 'web.3: started' '$T/err') = 2 ]" ||
    fail "web.3 not started again"
ctl remove web || fail "remove web"
st >"$T/st"
grep -q '^web' "$T/st" && { cat "$T/st"; fail "web instances left"; }
grep -q "^db running $db_pid$" "$T/st" || fail "remove web touched db"
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
exit 0
