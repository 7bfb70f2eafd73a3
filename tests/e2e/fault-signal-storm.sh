# A storm of signals while many children exit at once: SIGHUPs (each a
# reload of the unchanged manifest) until 2000 reloads were done, and as
# many spurious SIGCHLDs, while 200 replicas exit together and restart at
# once, 5 times each (1200 exits).
# Nothing is missed (every exit is reported once: 6 runs of each replica),
# no child is left a zombie, the reloads change nothing, the supervisor
# keeps serving and exits as documented on SIGTERM, and its memory does not
# grow with the number of reloads.
. "$(dirname "$0")/lib.sh"
# Memory and scale figures of a sanitizer build are the sanitizer's
# (quarantine, shadow memory, slowness): this test runs in plain builds.
if [ -n "${PYT_SANITIZED:-}" ]; then
	echo "SKIP: under sanitizers" >&2
	exit 77
fi

RELOADS=2000
manifest storm.yaml <<EOF2
version: 1
processes:
  burst:
    cmd: ["$PYT_HELPER", wait-file, "$T/go", "100"]
    replicas: 200
    restart: always
    backoff: {initial: 0ms}
    max_restarts: 5
  keeper: {cmd: ["$PYT_HELPER", sleep, "1000"]}
EOF2
start_pyt "$T/storm.yaml"
wait_for 20 sh -c "[ \$(grep -c 'burst\.[0-9]*: started' '$T/err') = 200 ]" ||
    fail "not all 200 replicas started"
wait_line 10 "$T/err" 'keeper: started'
keeper=$(sed -n 's/.*keeper: started (pid \([0-9]*\)).*/\1/p' "$T/err")
rss0=$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$BGPID/status")

# The storm: a shell loop of kill builtins, started just before the exits,
# until RELOADS reloads were done (the kernel merges pending signals, so
# fewer are seen than sent: how many fewer depends on how often the
# supervisor gets a CPU, so the storm is bounded in time, not in signals).
pyt=$BGPID
end=$(deadline 120)
(
	i=0
	while [ "$(grep -c '^pytasking-run: reloaded ' "$T/err")" -lt $RELOADS ]; do
		[ "$(date +%s)" -le "$end" ] || exit 2
		j=0
		while [ $j -lt 50 ]; do
			kill -HUP "$pyt" 2>/dev/null || exit 1
			kill -CHLD "$pyt" 2>/dev/null || exit 1
			j=$((j + 1))
		done
		i=$((i + 50))
	done
	echo "$i" >"$T/storm.done"
) &
storm=$!
: >"$T/go"
wait "$storm"
case $? in
0) ;;
2) fail "only $(grep -c '^pytasking-run: reloaded ' "$T/err") of $RELOADS reloads in $((120 * PYT_TIMEOUT_SCALE))s of SIGHUPs" ;;
*) fail "the supervisor died during the storm" ;;
esac
sent=$(cat "$T/storm.done")
wait_for 30 sh -c "[ \$(grep -c 'burst\.[0-9]*: exited with status 0; gave up after 5 restarts' '$T/err') = 200 ]" ||
    fail "not all 200 replicas gave up: $(grep -c 'gave up' "$T/err")"

# Every replica ran 6 times and each end was reported once.
sed -n 's/^pytasking-run: \(burst\.[0-9]*\): started (pid.*/\1/p' "$T/err" |
    sort | uniq -c | awk '$1 != 6' >"$T/badstart"
[ ! -s "$T/badstart" ] || fail "replicas not started 6 times: $(head -3 "$T/badstart")"
sed -n 's/^pytasking-run: \(burst\.[0-9]*\): exited with status 0.*/\1/p' "$T/err" |
    sort | uniq -c | awk '$1 != 6' >"$T/badexit"
[ ! -s "$T/badexit" ] || fail "exits missed or doubled: $(head -3 "$T/badexit")"
n=$(count_lines "$T/err" '^pytasking-run: burst\.[0-9]+: exited with status 0')
[ "$n" = 1200 ] || fail "$n exits reported, not 1200"

# No zombie among the supervisor's children.
nozombie() { ! ps -o stat= --ppid "$BGPID" | grep -q '^Z'; }
wait_for 5 nozombie || fail "zombies: $(ps -o pid=,stat= --ppid "$BGPID" | grep -c Z)"
# The reloads changed nothing, and keeper still runs its first run.
reloads=$(count_lines "$T/err" '^pytasking-run: reloaded ')
[ "$reloads" -ge 1 ] || fail "no reload seen"
grep '^pytasking-run: reloaded ' "$T/err" | grep -v ': 0 added, 0 removed, 0 changed' |
    head -1 >"$T/badreload"
[ ! -s "$T/badreload" ] || fail "a reload of the same manifest changed something: $(cat "$T/badreload")"
[ "$(count_lines "$T/err" 'keeper: started')" = 1 ] || fail "keeper restarted"
kill -0 "$keeper" || fail "keeper's process is gone"
# Still serving.
"$PYT" ctl status keeper >"$T/status" || fail "ctl status failed after the storm"
grep -q running "$T/status" || fail "keeper not running: $(cat "$T/status")"
rss1=$(sed -n 's/^VmRSS:[^0-9]*\([0-9]*\).*/\1/p' "/proc/$BGPID/status")
kill -TERM "$BGPID"
wait_pyt 20
# burst gave up restarting: status 1.
expect_status 1
grep -q 'keeper: stopped' "$T/err" || fail "keeper not stopped"
echo "$sent HUP + $sent CHLD sent, $reloads reloads done, 1200 exits; RSS ${rss0} kB -> ${rss1} kB"
# Last, so that the checks above speak first: reloads of the same
# manifest must not make memory grow with their number.
[ $((rss1 - rss0)) -le 1024 ] ||
    fail "RSS grew by $((rss1 - rss0)) kB over $reloads reloads of an unchanged manifest"
exit 0
