# Processes flooding stdout into queues nobody reads: "small" (100-byte
# lines, drop-oldest) and "big" (50 kB lines, drop-newest) flow on and
# drop; "held" (overflow: block) pauses its producer. The supervisor's RSS
# is sampled after ~50 MB went into each flowing queue and again after
# ~500 MB: it stays flat (within 512 kB), the held queue takes nothing more
# once full, and the supervisor stops cleanly.
. "$(dirname "$0")/lib.sh"
# Memory and scale figures of a sanitizer build are the sanitizer's
# (quarantine, shadow memory, slowness): this test runs in plain builds.
if [ -n "${PYT_SANITIZED:-}" ]; then
	echo "SKIP: under sanitizers" >&2
	exit 77
fi

manifest flood.yaml <<EOF2
version: 1
drain_timeout: 200ms
queues:
  small: {capacity: 1000, overflow: drop-oldest}
  big: {capacity: 16, overflow: drop-newest}
  held: {capacity: 100}
processes:
  a: {cmd: ["$PYT_HELPER", spew, "1000000000", "100"], stdout: small}
  b: {cmd: ["$PYT_HELPER", spew, "1000000000", "50000"], stdout: big}
  c: {cmd: ["$PYT_HELPER", yes, held], stdout: held}
EOF2

# counter QUEUE FIELD: from "ctl --json queues", saved in $T/q.
counter() {
	sed -n "s/.*\"name\":\"$1\",[^}]*\"$2\":\([0-9]*\).*/\1/p" "$T/q"
}
# past SMALL BIG: true once small and big have taken that many items, and
# held is full (what it holds at the first sample must be all it takes).
past() {
	"$PYT" ctl --json queues >"$T/q" || return 1
	[ "$(counter small in)" -ge "$1" ] && [ "$(counter big in)" -ge "$2" ] &&
	    [ "$(counter held depth)" -ge 100 ]
}
rss() { sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$BGPID/status"; }

start_pyt "$T/flood.yaml"
# Generous waits: a loaded machine moves the flood at a fraction of its
# usual speed. The second mark is fixed, not ten times where the first
# sample landed (which overshoots 50 MB by as much as the load delays it).
wait_for 120 past 500000 1000 || fail "the flood did not reach 50 MB"
rss1=$(rss); held1=$(counter held in)
in1=$(counter small in); bin1=$(counter big in)
wait_for 300 past 5000000 10000 || fail "the flood did not reach 500 MB"
rss2=$(rss); held2=$(counter held in)
in2=$(counter small in); bin2=$(counter big in)
[ "$(counter small depth)" -le 1000 ] || fail "small holds more than its capacity"
[ "$(counter big depth)" -le 16 ] || fail "big holds more than its capacity"
[ "$(counter small dropped)" -gt 0 ] || fail "small dropped nothing"
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
mb1=$(( (in1 * 101 + bin1 * 50001) / 1000000 ))
mb2=$(( (in2 * 101 + bin2 * 50001) / 1000000 ))
echo "RSS $rss1 kB after $mb1 MB, $rss2 kB after $mb2 MB; held: $held1 then $held2 items (capacity 100)"
[ "$held1" -le 100 ] || fail "held took $held1 items, past its capacity of 100"
[ "$held2" = "$held1" ] || fail "held took $held1 then $held2 items: its producer was not paused"
[ $((rss2 - rss1)) -le 512 ] || fail "RSS grew from $rss1 kB to $rss2 kB"
exit 0
