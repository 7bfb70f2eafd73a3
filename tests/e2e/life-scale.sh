# Scaling starts or stops only the difference: replicas 2 -> 4 by reload
# keeps w.1 and w.2 with their pids; 4 -> 1 keeps w.1 as w.1; ctl scale
# does the same; a unit without replicas: is not scaled; ctl add of a
# replica's name is refused.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/s.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
pids() {
	ctl --json list | python3 -c 'import json, sys
for u in json.load(sys.stdin)["units"]:
    if u["state"] == "running":
        print(u["name"], u["pid"])' | sort
}
write() {
	cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  w: {cmd: ["$PYT_HELPER", sleep, "300"], replicas: $1}
  solo: {cmd: ["$PYT_HELPER", sleep, "300"]}
EOF2
}
write 2
start_pyt --keep -s "$SOCK" "$T/m.yaml"
for u in w.1 w.2 solo; do wait_line 10 "$T/err" "$u: started"; done
pids >"$T/before"
write 4
ctl reload || fail "reload 2 -> 4"
wait_line 10 "$T/err" 'w.4: started'
wait_line 10 "$T/err" 'reloaded .*: 2 added, 0 removed, 0 changed, 3 unchanged'
pids >"$T/after"
grep '^w\.[12] ' "$T/before" >"$T/b12"
grep '^w\.[12] ' "$T/after" >"$T/a12"
cmp -s "$T/b12" "$T/a12" || fail "w.1 or w.2 was replaced by 2 -> 4"
write 1
ctl reload || fail "reload 4 -> 1"
wait_line 10 "$T/err" 'w.4: removed'
wait_line 10 "$T/err" 'w.2: removed'
pids >"$T/one"
grep -q "^$(cat "$T/b12" | head -n 1)$" "$T/one" || fail "w.1 not kept as w.1"
ctl restart w.1 || fail "restart w.1 after 4 -> 1"
ctl scale w 3 || fail "scale w 3"
# The new w.2 and w.3 started: the second start of each name.
wait_for 10 sh -c "[ \$(grep -c 'w\.[23]: started' '$T/err') = 4 ]" ||
    fail "scale w 3: w.2 and w.3 not started again"
[ "$(pids | grep -c '^w\.')" = 3 ] || fail "scale w 3: not 3 running"
ctl scale solo 2 2>"$T/e" && fail "scale of a unit without replicas:"
grep -q 'has no replicas: key' "$T/e" || fail "scale solo: no reason given"
ctl add proc w.7 -- "$PYT_HELPER" sleep 1 2>"$T/e" && fail "add w.7 accepted"
grep -q 'would be a replica of process w' "$T/e" || fail "add w.7: no reason"
ctl add proc extra -- "$PYT_HELPER" sleep 300 || fail "add extra"
cat >>"$T/m.yaml" <<EOF2
  extra: {cmd: ["$PYT_HELPER", sleep, "300"]}
EOF2
ctl reload 2>"$T/e" && fail "a reload declaring extra was accepted"
grep -q 'extra was added by ctl add' "$T/e" || fail "reload: no reason given"
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
exit 0
