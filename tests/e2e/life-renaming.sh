# From NAME to NAME.1 ... and back, by reloads that come while the units
# of an earlier change are still stopping: every name stays one unit.
# Before, a reload that found the old NAME still stopping took the new
# NAME.1 ... for the other naming and made them again beside themselves,
# and the next reload revived the first ones: two units named p.1 (found
# by make chaos, seed 104).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/r.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
# Every unit listed, one line each: NAME STATE; fails on a name twice.
units() {
	ctl --json list | python3 -c 'import json, sys
seen = set()
for u in json.load(sys.stdin)["units"]:
    if u["name"] in seen:
        sys.exit("two units named " + u["name"])
    seen.add(u["name"])
    print(u["name"], u["state"])' >"$T/units.raw" || return 1
	sort "$T/units.raw"
}
# p ignores SIGTERM: p stops after 200ms, p.1 ... after 5 s, so that a
# reload comes while the numbered ones of an earlier change still stop.
write() {
	cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  p:
    cmd: ["$PYT_HELPER", ignore-term, "300"]
$1
EOF2
}
write '    stop_timeout: 200ms'
start_pyt --keep -v -s "$SOCK" "$T/m.yaml"
wait_line 10 "$T/err" 'p: started'
write '    stop_timeout: 5s
    replicas: 3'
ctl reload >/dev/null || fail "reload to 3 replicas"
ctl reload >/dev/null || fail "reload again"
units >"$T/u1" || fail "a name listed twice (check 1): $(ctl list)"
# Once p has gone, p.1 ... of the first reload may still be stopping.
wait_line 10 "$T/err" 'p: removed'
ctl reload >/dev/null || fail "reload a third time"
units >"$T/u2" || fail "a name listed twice (check 2): $(ctl list)"
# And back, while p.1 ... stop.
write '    stop_timeout: 200ms'
ctl reload >/dev/null || fail "reload back to p"
units >"$T/u3" || fail "a name listed twice (check 3): $(ctl list)"
write '    stop_timeout: 200ms
    replicas: 2'
ctl reload >/dev/null || fail "reload to 2 replicas"
units >"$T/u4" || fail "a name listed twice (check 4): $(ctl list)"
# Once the stopping is over: p.1 and p.2 run, nothing else is left.
wait_for 30 sh -c '"$1" ctl -s "$2" list | awk "NR > 1" | grep -v " running " | grep -q . && exit 1; exit 0' \
    - "$PYT" "$SOCK" || fail "units still stopping: $(ctl list)"
units >"$T/u5" || fail "a name listed twice (check 5): $(ctl list)"
[ "$(cat "$T/u5")" = "p.1 running
p.2 running" ] || fail "left: $(cat "$T/u5")"
ctl shutdown >/dev/null
wait_pyt 30
exit 0
