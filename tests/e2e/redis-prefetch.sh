# A Redis queue fetches ahead for its consumers a bounded number of bytes,
# not only of items (issue 13): 24 entries of 4 MB added by another
# program, and a consumer that reads none of them for a while, leave at
# most a few entries pending with this supervisor and its memory well
# below the 96 MB of the whole stream. Then every byte reaches the
# consumer, and the queue ends with its only producer.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/redis-lib.sh"

start_redis
big=4194304
i=0
while [ $i -lt 24 ]; do
	head -c $big /dev/zero | tr '\0' x | rcli -x xadd q '*' item >/dev/null ||
	    fail "cannot add entry $i"
	i=$((i + 1))
done
manifest big.yaml <<EOF2
version: 1
queues:
  q: {backend: redis, url: "$REDIS_URL", capacity: 100}
processes:
  # A producer of one more item: the queue ends once it has ended and
  # the stream is empty.
  last: {cmd: [echo, last], stdout: q}
  sink:
    shell: 'while [ ! -e "$T/go" ]; do sleep 0.02; done; wc -c >"$T/count"'
    stdin: q
EOF2
start_pyt "$T/big.yaml"
pending() { rcli xpending q q | head -n 1; }
wait_for 20 sh -c "[ \"\$(redis-cli -p $REDIS_PORT xpending q q | head -n 1)\" -ge 1 ]" ||
    fail "nothing fetched"
# An invariant over a second, not a settling: sampled, it must hold at
# every look.
rss() { awk '/^VmRSS:/ { print $2 }' "/proc/$BGPID/status"; }
most=0 peak=0
i=0
while [ $i -lt 20 ]; do
	p=$(pending)
	[ "$p" -gt "$most" ] && most=$p
	r=$(rss)
	[ -n "$r" ] && [ "$r" -gt "$peak" ] && peak=$r
	sleep 0.05
	i=$((i + 1))
done
[ "$most" -le 3 ] || fail "$most entries of 4 MB fetched ahead"
# Memory figures under sanitizers and valgrind are theirs.
if [ -z "${PYT_SANITIZED:-}" ]; then
	[ "$peak" -lt 49152 ] || fail "RSS reached $peak kB holding $most entries"
fi
: >"$T/go"
wait_pyt 60
expect_status 0
[ "$(cat "$T/count")" = $((24 * (big + 1) + 5)) ] ||
    fail "consumer got $(cat "$T/count") bytes"
[ "$(rcli xlen q)" = 0 ] || fail "stream not empty: $(rcli xlen q)"
echo "at most $most entries pending, RSS at most $peak kB"
exit 0
