# Reload on SIGHUP: units added are started, removed ones stopped,
# changed ones restarted, unchanged ones keep running (same pid); a
# manifest with errors is refused whole and everything keeps running.
. "$(dirname "$0")/lib.sh"

cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  keep: {cmd: ["$PYT_HELPER", sleep, "1000"]}
  change: {cmd: ["$PYT_HELPER", sleep, "1000"], env: {V: "1"}}
  gone: {cmd: ["$PYT_HELPER", sleep, "1000"]}
EOF2
start_pyt "$T/m.yaml"
for u in keep change gone; do wait_line 10 "$T/err" "$u: started"; done
keep_pid=$(sed -n 's/.*keep: started (pid \([0-9]*\)).*/\1/p' "$T/err")

cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  keep: {cmd: ["$PYT_HELPER", sleep, "1000"]}
  change: {cmd: ["$PYT_HELPER", sleep, "1000"], env: {V: "2"}}
  fresh: {cmd: ["$PYT_HELPER", sleep, "1000"]}
EOF2
kill -HUP "$BGPID"
wait_line 10 "$T/err" 'reloaded .*: 1 added, 1 removed, 1 changed, 1 unchanged'
wait_line 10 "$T/err" 'fresh: started'
wait_line 10 "$T/err" 'gone: removed'
wait_for 10 sh -c "[ \$(grep -c 'change: started' '$T/err') = 2 ]" || fail "change not restarted"
[ "$(grep -c 'keep: started' "$T/err")" = 1 ] || fail "keep was restarted"
kill -0 "$keep_pid" || fail "keep's process $keep_pid is gone"

printf 'version: 1\nprocesses: [oops\n' >"$T/m.yaml"
kill -HUP "$BGPID"
wait_line 10 "$T/err" 'reload refused'
kill -0 "$keep_pid" || fail "a refused reload stopped keep"

# Refused through ctl: the supervisor logs it too, and a message of several
# lines has the prefix on every line.
cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  keep: {cmd: ["$PYT_HELPER", sleep, "1000"], restart: sometimes}
  other: {cmd: ["$PYT_HELPER", sleep, "1000"], stop_signal: NOPE}
EOF2
"$PYT" ctl reload 2>"$T/ctl.err" && fail "ctl reload of a bad manifest succeeded"
grep -q 'processes.keep.restart' "$T/ctl.err" || fail "ctl: $(cat "$T/ctl.err")"
wait_line 10 "$T/err" 'ctl reload: reloading'
wait_line 10 "$T/err" '^pytasking-run: .*processes.other.stop_signal'
grep -q '^pytasking-run: reload refused, everything keeps running: .*processes.keep.restart' \
    "$T/err" || fail "refused ctl reload not logged: $(tail -5 "$T/err")"
kill -0 "$keep_pid" || fail "a refused ctl reload stopped keep"
kill -TERM "$BGPID"
wait_pyt 30
expect_status 0
exit 0
