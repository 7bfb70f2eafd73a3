#!/bin/sh
# Items per second through a Redis-backed queue against the in-memory
# queue: the same pipeline (a producer of N lines of 64 bytes, a queue,
# "wc -l") under one supervisor, then the same split across two
# supervisors sharing the Redis queue; and, in the same run on the same
# server, the raw rate at which it takes single-entry XADDs of 64 bytes,
# pipelined 100 deep (redis-benchmark -P 100), the yardstick of issue 17.
# Starts its own redis-server on a free loopback port in a temporary
# directory.
#
#   PYT=build/src/pytasking-run sh tests/bench/redis.sh [N]
#
# N defaults to 1000000 (BENCH_ITEMS). Each of the four measures is taken
# BENCH_RUNS times (3), in turns, and the summary gives the medians and
# their ratios: the machine may be shared, and a ratio taken within one
# run is what compares. Exits 2 when redis-server, redis-benchmark or the
# binary is missing, 1 when a run fails or loses items.

set -u
N=${1:-${BENCH_ITEMS:-1000000}}
RUNS=${BENCH_RUNS:-3}
: "${PYT:?PYT must name the pytasking-run binary}"
[ -x "$PYT" ] || { echo "redis.sh: $PYT is not executable" >&2; exit 2; }
command -v redis-server >/dev/null 2>&1 ||
    { echo "redis.sh: redis-server is not installed" >&2; exit 2; }
command -v redis-benchmark >/dev/null 2>&1 ||
    { echo "redis.sh: redis-benchmark is not installed" >&2; exit 2; }

T=$(mktemp -d "${TMPDIR:-/tmp}/pyt-bench-redis.XXXXXX") || exit 2
RPID=
cleanup() {
	[ -n "$RPID" ] && kill -KILL "$RPID" 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

# A free port: try random ones until redis-server stays up on one.
tries=0
while :; do
	r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	PORT=$((20000 + r % 40000))
	redis-server --port "$PORT" --bind 127.0.0.1 --save '' \
	    --appendonly no --dir "$T" >"$T/redis.log" 2>&1 &
	RPID=$!
	i=0
	while [ "$(redis-cli -p "$PORT" ping 2>/dev/null)" != PONG ] &&
	    kill -0 "$RPID" 2>/dev/null && [ $i -lt 500 ]; do
		sleep 0.01
		i=$((i + 1))
	done
	[ "$(redis-cli -p "$PORT" ping 2>/dev/null)" = PONG ] && break
	RPID=
	tries=$((tries + 1))
	[ $tries -lt 20 ] || { echo "redis.sh: cannot start redis-server" >&2; exit 2; }
done
URL=redis://127.0.0.1:$PORT/0

now() { date +%s%N; }

# run NAME MANIFEST...: run the supervisors of the manifests at once,
# check the count, print the rate.
run() {
	name=$1; shift
	rm -f "$T/count"
	redis-cli -p "$PORT" flushall >/dev/null
	t0=$(now)
	pids=
	for m in "$@"; do
		timeout 600 "$PYT" "$m" 2>>"$T/err" &
		pids="$pids $!"
	done
	st=0
	for p in $pids; do wait "$p" || st=1; done
	t1=$(now)
	got=$(cat "$T/count" 2>/dev/null | tr -d ' ')
	if [ "$st" != 0 ] || [ "$got" != "$N" ]; then
		echo "redis.sh: $name: failed (status $st, $got of $N items)" >&2
		tail -n 5 "$T/err" >&2
		exit 1
	fi
	awk -v n="$N" -v ns=$((t1 - t0)) -v name="$name" 'BEGIN {
		s = ns / 1e9; printf "%-28s %10.0f items/s  (%.2f s)\n", name, n / s, s
	}'
	echo $((t1 - t0)) >>"$T/ns.$name"
}

# median FILE: the median of the numbers in FILE, one a line.
median() {
	sort -n "$1" | awk '{ v[NR] = $1 } END {
		if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2
	}'
}

gen="{cmd: [seq, -f, '%063g', 1, $N], stdout: q}"
count="{shell: 'wc -l >$T/count', stdin: q}"
cat >"$T/memory.yaml" <<EOF2
version: 1
queues:
  q: {capacity: 1024}
processes:
  gen: $gen
  count: $count
EOF2
redisq="q: {backend: redis, url: \"$URL\", capacity: 10000}"
cat >"$T/redis.yaml" <<EOF2
version: 1
queues:
  $redisq
processes:
  gen: $gen
  count: $count
EOF2
cat >"$T/redis-prod.yaml" <<EOF2
version: 1
queues:
  $redisq
processes:
  gen: $gen
EOF2
cat >"$T/redis-cons.yaml" <<EOF2
version: 1
queues:
  $redisq
processes:
  count: $count
EOF2

# raw: single-entry XADDs of a 64-byte item, 100 in flight, N of them.
raw() {
	redis-cli -p "$PORT" flushall >/dev/null
	redis-benchmark -p "$PORT" -P 100 -n "$N" -q XADD rawbench '*' item \
	    "$(printf '%064d' 1)" 2>&1 | tr '\r' '\n' |
	    sed -n 's/.*: \([0-9.]*\) requests per second.*/\1/p' | tail -n 1 \
	    >"$T/raw1"
	[ -s "$T/raw1" ] || { echo "redis.sh: redis-benchmark failed" >&2; exit 1; }
	cat "$T/raw1" >>"$T/raw"
	awk -v r="$(cat "$T/raw1")" 'BEGIN {
		printf "%-28s %10.0f items/s  (redis-benchmark -P 100)\n", \
		    "raw XADD, one item each", r
	}'
}

echo "$N items of 64 bytes, $(redis-server --version | sed 's/ sha=.*//')," \
    "$(nproc) CPUs"
i=0
while [ $i -lt "$RUNS" ]; do
	run memory "$T/memory.yaml"
	raw
	run redis "$T/redis.yaml"
	run redis-two-supervisors "$T/redis-prod.yaml" "$T/redis-cons.yaml"
	i=$((i + 1))
done
awk -v n="$N" -v runs="$RUNS" -v m="$(median "$T/ns.memory")" \
    -v r="$(median "$T/ns.redis")" -v raw="$(median "$T/raw")" \
    -v two="$(median "$T/ns.redis-two-supervisors")" 'BEGIN {
	printf "medians of %d runs:\n", runs
	printf "%-28s %10.0f items/s\n", "memory", n / (m / 1e9)
	printf "%-28s %10.0f items/s\n", "raw XADD, one item each", raw
	printf "%-28s %10.0f items/s\n", "redis", n / (r / 1e9)
	printf "%-28s %10.0f items/s\n", "redis-two-supervisors", n / (two / 1e9)
	printf "redis / raw XADD: %.2f (issue 17: at least 1.0, aim 2)\n", \
	    n / (r / 1e9) / raw
	printf "two supervisors / one: %.2f (at least 1.0)\n", r / two
	printf "redis / memory: %.3f of the in-memory rate\n", m / r
}'
