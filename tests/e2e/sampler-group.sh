# A unit's CPU and memory are those of its whole process group, not of
# its first process alone: a shell whose work is done by a child shows
# the child's CPU in ctl --json list and in metrics. A member that ends
# keeps its CPU in the unit's total, whether its parent in the group
# waited for it (its CPU moves to the parent's cutime) or it was an
# orphan reaped outside the group (by the supervisor, a subreaper).
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/s.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
# unit NAME KEY: a field of a unit in ctl --json list.
unit() {
	ctl --json list | python3 -c 'import json, sys
d = json.load(sys.stdin)
u = [u for u in d["units"] if u["name"] == sys.argv[1]][0]
print(u[sys.argv[2]])' "$1" "$2"
}
cpu_over() { [ "$(unit "$1" cpu_time_ms)" -ge "$2" ]; }
idle() { [ "$(unit "$1" cpu_pct)" -eq 0 ]; }

manifest s.yaml <<EOF2
version: 1
processes:
  waited:
    cmd: [sh, -c, 'yes >/dev/null & echo \$! >"$T/waited.pid"; wait; exec sleep 1000']
  orphan:
    cmd: [sh, -c, '(yes >/dev/null & echo \$! >"$T/orphan.pid"); exec sleep 1000']
EOF2
start_pyt --keep -s "$SOCK" "$T/s.yaml"
wait_for 10 test -S "$SOCK" || fail "no socket"
wait_for 10 test -s "$T/waited.pid" || fail "no waited child"
wait_for 10 test -s "$T/orphan.pid" || fail "no orphan child"

# The children's CPU shows although the units' own processes are idle.
wait_for 20 cpu_over waited 300 || fail "waited: $(ctl --json list)"
wait_for 20 cpu_over orphan 300 || fail "orphan: $(ctl --json list)"
[ "$(unit waited cpu_pct)" -gt 0 ] || fail "no CPU %: $(ctl --json list)"

# The group's memory: more than the leader's own.
lead=$(unit waited pid)
lead_rss=$(( $(cut -d' ' -f2 "/proc/$lead/statm") * $(getconf PAGESIZE) ))
[ "$(unit waited rss_bytes)" -gt "$lead_rss" ] ||
    fail "rss $(unit waited rss_bytes) not above the leader's $lead_rss"

# metrics has the same total.
ctl metrics >"$T/metrics" || fail "metrics"
grep -Eq '^pytasking_unit_cpu_seconds_total\{unit="waited"\} [0-9.]+$' \
    "$T/metrics" || fail "metrics: $(grep cpu "$T/metrics")"
secs=$(sed -n 's/^pytasking_unit_cpu_seconds_total{unit="waited"} //p' \
    "$T/metrics")
python3 -c 'import sys; sys.exit(float(sys.argv[1]) < 0.3)' "$secs" ||
    fail "metrics: cpu_seconds_total $secs"

# The children end: their CPU stays counted.
w=$(unit waited cpu_time_ms)
o=$(unit orphan cpu_time_ms)
kill -KILL "$(cat "$T/waited.pid")" "$(cat "$T/orphan.pid")"
wait_for 10 pid_gone "$(cat "$T/waited.pid")" || fail "waited child lives"
wait_for 10 pid_gone "$(cat "$T/orphan.pid")" || fail "orphan child lives"
wait_for 20 idle waited || fail "waited still busy: $(ctl --json list)"
wait_for 20 idle orphan || fail "orphan still busy: $(ctl --json list)"
cpu_over waited "$w" || fail "waited lost CPU: $w, then $(unit waited cpu_time_ms)"
cpu_over orphan "$o" || fail "orphan lost CPU: $o, then $(unit orphan cpu_time_ms)"
[ "$(unit waited state)" = running ] || fail "waited: $(ctl --json list)"

ctl shutdown >/dev/null || fail "shutdown"
wait_pyt 20
expect_status 0
