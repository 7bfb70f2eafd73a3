# The README's "Driving a running supervisor", command by command, on
# configs/jobs.yaml and configs/worker.sh (copied: the run writes there).
. "$(dirname "$0")/lib.sh"

CONFIGS=${PYT_CONFIGS:-$(dirname "$0")/../../configs}
[ -f "$CONFIGS/jobs.yaml" ] || fail "no $CONFIGS/jobs.yaml"
mkdir "$T/configs"
cp "$CONFIGS/jobs.yaml" "$CONFIGS/worker.sh" "$T/configs/" || fail "copy"
mkdir "$T/bin"
ln -s "$PYT" "$T/bin/pytasking-run"
PATH=$T/bin:$PATH
cd "$T/configs" || fail "cd"
pytasking-run --keep jobs.yaml >jobs.out 2>jobs.log &
BGPID=$!
listening() { pytasking-run ctl list >/dev/null 2>&1; }
wait_for 10 listening || fail "not listening: $(cat jobs.log)"
wait_for 10 sh -c 'pytasking-run ctl list | grep -Eq "^process +worker\.2 +running"' ||
    fail "list: $(pytasking-run ctl list)"
seq 1 1000 | pytasking-run ctl put jobs || fail "put"
pytasking-run ctl --json queues | grep -q '"in":1000' || fail "queues"
pytasking-run ctl add proc extra --stdin jobs -- ./worker.sh || fail "add"
pytasking-run ctl logs extra -f >"$T/follow" &
f=$!
pytasking-run ctl shutdown || fail "shutdown"
wait_pyt 20
expect_status 0
# It ends with the supervisor (or, connecting too late, finds it gone).
wait "$f" 2>/dev/null || true
# The put returns with up to 100 jobs still queued: extra (whose output
# is the console's, not done.log) may take some. Every job is done once.
{ cat done.log; sed -n 's/^extra | //p' jobs.out; } | sort >"$T/done"
seq 1 1000 | sed 's/^/done /' | sort >"$T/want"
cmp -s "$T/done" "$T/want" ||
    fail "done: $(wc -l <done.log) in done.log, $(grep -c '^extra | ' jobs.out) by extra"
echo "extra did $(grep -c '^extra | ' jobs.out) of the 1000 jobs"
exit 0
