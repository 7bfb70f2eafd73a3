# sd_notify: READY=1 once every autostart unit is ready, RELOADING=1 and
# READY=1 around a reload, STOPPING=1 at shutdown; children do not get
# NOTIFY_SOCKET. Read from a datagram socket of the test's own.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "python3 missing: skip"; exit 77; }

cat >"$T/listen.py" <<'EOF2'
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
open(sys.argv[1] + ".bound", "w").close()
with open(sys.argv[2], "a", buffering=1) as out:
    while True:
        out.write(s.recv(4096).decode() + "\n")
EOF2
python3 "$T/listen.py" "$T/notify.sock" "$T/msgs" &
LISTENER=$!
trap 'kill $LISTENER 2>/dev/null; cleanup' EXIT
wait_for 10 test -e "$T/notify.sock.bound" || fail "listener did not start"

manifest n.yaml <<EOF2
version: 1
processes:
  slow:
    shell: '"$PYT_HELPER" wait-file "$T/go" 60; echo up; env | grep -c NOTIFY_SOCKET; exec "$PYT_HELPER" sleep 1000'
    ready: {line: "^up$"}
EOF2
NOTIFY_SOCKET="$T/notify.sock" start_pyt "$T/n.yaml"
wait_line 10 "$T/err" 'slow: started'
[ ! -s "$T/msgs" ] || fail "READY=1 before the unit was ready: $(cat "$T/msgs")"
: >"$T/go"
wait_line 10 "$T/msgs" '^READY=1$'
# The count is printed after "up", which may reach READY=1 first.
wait_line 10 "$T/out" '^slow [|] [0-9]+$'
grep -qx 'slow | 0' "$T/out" || fail "NOTIFY_SOCKET leaked into a child"
kill -HUP "$BGPID"
wait_line 10 "$T/msgs" '^RELOADING=1$'
wait_for 10 sh -c "[ \$(grep -c '^READY=1\$' '$T/msgs') = 2 ]" || fail "no READY=1 after reload"
kill -TERM "$BGPID"
wait_pyt 30
expect_status 0
wait_line 10 "$T/msgs" '^STOPPING=1$'
exit 0
