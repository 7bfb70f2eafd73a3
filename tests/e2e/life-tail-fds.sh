# A producer that restarts into a full queue leaves no descriptor behind
# per run (found by make chaos: each run's pipes were held for as long as
# the queue stayed full, 230 pipes in a minute).
. "$(dirname "$0")/lib.sh"

cat >"$T/m.yaml" <<EOF2
version: 1
queues:
  q: {capacity: 10}
processes:
  p:
    cmd: [seq, 1, "300"]
    stdout: q
    restart: always
    backoff: {initial: 10ms, max: 20ms}
EOF2
start_pyt --keep "$T/m.yaml"
wait_line 10 "$T/err" 'p: exited with status 0; restarting in .* \(restart 3\)'
n0=$(ls "/proc/$BGPID/fd" | wc -l)
wait_line 20 "$T/err" 'p: exited with status 0; restarting in .* \(restart 60\)'
n1=$(ls "/proc/$BGPID/fd" | wc -l)
# The leak was one pipe a run (+57); a run in flight holds a few.
[ "$n1" -le $((n0 + 16)) ] || fail "descriptors grew from $n0 to $n1 over 57 runs"
kill -TERM "$BGPID"
wait_pyt 20
exit 0
