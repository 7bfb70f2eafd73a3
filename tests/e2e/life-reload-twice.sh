# Reload twice after adding a task (a SIGSEGV once): the task added by the
# first reload keeps ticking through the second, the running task's steps
# stay valid, and SIGTERM ends everything cleanly, socket removed.
. "$(dirname "$0")/lib.sh"

SOCK=$T/r.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  web: {cmd: ["$PYT_HELPER", sleep, "300"]}
EOF2
start_pyt -s "$SOCK" "$T/m.yaml"
wait_line 10 "$T/err" 'web: started'
cat >>"$T/m.yaml" <<'EOF2'
tasks:
  ticker:
    run:
      - every 100ms:
          - echo tick
EOF2
ctl reload || fail "first reload"
wait_line 10 "$T/out" 'ticker \| tick'
echo "# a comment" >>"$T/m.yaml"
ctl reload || fail "second reload"
n=$(count_lines "$T/out" 'tick')
wait_for 10 sh -c "[ \$(grep -c tick '$T/out') -ge $((n + 3)) ]" ||
    fail "ticker stopped ticking after the second reload"
# A third, changing the task: it restarts under the new steps.
sed -i 's/echo tick/echo tock/' "$T/m.yaml"
ctl reload || fail "third reload"
wait_line 10 "$T/out" 'ticker \| tock'
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
[ ! -e "$SOCK" ] || fail "socket left behind"
exit 0
