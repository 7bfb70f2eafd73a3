# The supervisor as PID 1 of a new pid namespace (unshare -pf, as root):
# every orphan it inherits is reaped (20 short-lived ones), signals are
# handled (SIGHUP reloads, SIGTERM stops), and it exits only after the
# last child is gone: an orphan that escaped into its own session gets
# SIGTERM from it and answers before the namespace is torn down (the
# kernel would SIGKILL it silently when PID 1 exits).
. "$(dirname "$0")/lib.sh"

if ! unshare -pf --mount-proc true 2>/dev/null; then
	echo "SKIP: cannot unshare a pid namespace (needs root)" >&2
	exit 77
fi
SUP=
trap '[ -z "$SUP" ] || kill -KILL "$SUP" 2>/dev/null; cleanup' EXIT

manifest init.yaml <<EOF2
version: 1
processes:
  orphans:
    shell: |
      i=0
      while [ \$i -lt 20 ]; do
        ( ( "$PYT_HELPER" sleep 0.05; : >"$T/gone.\$i" ) & )
        i=\$((i + 1))
      done
      ( setsid "$PYT_HELPER" term-exit 0 >"$T/escaped.out" & )
      echo ready
      exec "$PYT_HELPER" sleep 1000
EOF2
unshare -pf --mount-proc "$PYT" "$T/init.yaml" >"$T/out" 2>"$T/err" &
BGPID=$!
sup() { SUP=$(ps -o pid= --ppid "$BGPID" | tr -d ' '); [ -n "$SUP" ]; }
wait_for 10 sup || fail "no supervisor under unshare"
wait_line 10 "$T/out" 'orphans \| ready'
grep -Eq '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' "/proc/$SUP/status" ||
    fail "not PID 1: $(grep NSpid "/proc/$SUP/status")"
wait_line 10 "$T/escaped.out" '^ready'

# The 20 orphans exit after 50ms (each leaves a file just before): none
# may stay a zombie of PID 1.
all_gone() { [ "$(ls "$T" | grep -c '^gone\.')" = 20 ]; }
wait_for 10 all_gone || fail "the orphans did not run: $(ls "$T" | grep -c '^gone\.')"
zombies() { ps -o stat= --ppid "$SUP" | grep -c '^Z'; }
nozombie() { [ "$(zombies)" = 0 ]; }
wait_for 5 nozombie || fail "PID 1 left $(zombies) orphans unreaped"

kill -HUP "$SUP"
wait_line 10 "$T/err" 'reloaded .*: 0 added, 0 removed, 0 changed'
kill -TERM "$SUP"
wait_pyt 20
expect_status 0
grep -q 'orphans: stopped' "$T/err" || fail "orphans not reported stopped"
grep -q 'got TERM' "$T/escaped.out" ||
    fail "PID 1 exited without stopping the orphan it had adopted (it died of the namespace's SIGKILL)"
exit 0
