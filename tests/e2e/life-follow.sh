# ctl logs -f follows a name: instances a reload adds are followed too;
# when what it follows is removed, it ends with a message.
. "$(dirname "$0")/lib.sh"

SOCK=$T/f.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
write() {
	cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  w:
    shell: 'while :; do echo \$PYTASKING_UNIT; sleep 0.1; done'
    replicas: $1
EOF2
}
write 1
start_pyt --keep -s "$SOCK" "$T/m.yaml"
wait_line 10 "$T/out" 'w.1 \| w.1'
ctl logs -f w >"$T/follow" 2>"$T/follow.err" &
fpid=$!
wait_line 10 "$T/follow" '^w.1 \| w.1$'
write 3
ctl reload || fail "reload"
wait_line 10 "$T/follow" '^w.3 \| w.3$'
ctl remove w || fail "remove"
wait_for 10 pid_gone "$fpid" || fail "logs -f still running after remove"
wait "$fpid" && fail "logs -f exited 0 after its unit was removed"
grep -q 'was removed: no more lines to follow' "$T/follow.err" ||
    fail "no message at the end of logs -f"
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
exit 0
