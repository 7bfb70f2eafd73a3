# metrics: follows the manifest across reloads: a new address is listened
# on and the old one closed; the same address (however spelt) is kept
# untouched; an address that cannot be listened on refuses the reload,
# and the old listener goes on; a metrics: removed closes it; with
# --metrics, the command line wins and a reload does not move it.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "no curl: skipped"; exit 77; }

SOCK=$T/m.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
code() { curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$1" || true; }
# A port free now (nothing listens on it), and one held by a listener.
# Free ports are drawn below Linux's ephemeral range (32768 and up): a
# port the kernel handed out and took back may be handed to a connection
# of a parallel test before the supervisor binds it.
free_port() {
	python3 -c '
import random, socket
while True:
    p = random.randrange(20000, 32768)
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
    except OSError:
        continue
    finally:
        s.close()
    print(p)
    break'
}
write() {
	cat >"$T/m.yaml" <<EOF2
version: 1
$1
processes:
  s: {cmd: ["$PYT_HELPER", sleep, "300"]}
EOF2
}
# The port of the n-th "serving" line.
port_of() {
	sed -n 's/.*metrics: serving GET \/metrics on port \([0-9]*\).*/\1/p' \
	    "$T/err" | sed -n "${1}p"
}

write 'metrics: ":0"'
start_pyt --keep -s "$SOCK" "$T/m.yaml"
wait_line 10 "$T/err" 'metrics: serving GET /metrics on port [0-9]+'
P1=$(port_of 1)
wait_for 10 test -S "$SOCK" || fail "no socket"
[ "$(code "http://127.0.0.1:$P1/metrics")" = 200 ] || fail "not served on $P1"

# A new address: served there, the old one closed.
P2=$(free_port)
write "metrics: \"127.0.0.1:$P2\""
ctl reload >/dev/null || fail "reload to $P2"
[ "$(port_of 2)" = "$P2" ] || fail "no serving line for $P2"
[ "$(code "http://127.0.0.1:$P2/metrics")" = 200 ] || fail "not served on $P2"
wait_for 10 sh -c '[ "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "$1")" = 000 ]' \
    - "http://127.0.0.1:$P1/metrics" || fail "$P1 still served"

# The same address spelt otherwise: nothing moves.
write "metrics: \"$P2\"   # the same: a port alone is on 127.0.0.1"
ctl reload >/dev/null || fail "reload, same address"
[ "$(count_lines "$T/err" 'metrics: serving')" -eq 2 ] ||
    fail "the listener moved for the same address"
[ "$(code "http://127.0.0.1:$P2/metrics")" = 200 ] || fail "$P2 lost"

# An address taken by someone else: the reload is refused, $P2 goes on.
python3 -c '
import socket, sys, time, os
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
while os.path.exists(sys.argv[2]): time.sleep(0.05)
' "$T/held" "$T" &
HOLDER=$!
wait_for 10 test -s "$T/held" || fail "no held port"
P3=$(cat "$T/held")
write "metrics: \"127.0.0.1:$P3\""
ctl reload >"$T/r.out" 2>"$T/r.err" && fail "a reload onto a taken port passed"
grep -q "metrics: cannot listen on 127.0.0.1:$P3: address already in use" "$T/r.err" ||
    fail "refusal: $(cat "$T/r.err")"
[ "$(code "http://127.0.0.1:$P2/metrics")" = 200 ] || fail "$P2 lost after a refusal"
kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null

# metrics: removed: no longer served.
write ''
ctl reload >/dev/null || fail "reload without metrics"
wait_line 10 "$T/err" 'metrics: no longer served'
wait_for 10 sh -c '[ "$(curl -s -o /dev/null -w "%{http_code}" --max-time 5 "$1")" = 000 ]' \
    - "http://127.0.0.1:$P2/metrics" || fail "$P2 still served"
ctl shutdown >/dev/null || fail "shutdown"
wait_pyt 20

# --metrics wins over the manifest, reload or not.
P4=$(free_port)
write 'metrics: ":0"'
start_pyt --keep -s "$SOCK" --metrics "127.0.0.1:$P4" "$T/m.yaml"
wait_line 10 "$T/err" "metrics: serving GET /metrics on port $P4"
wait_for 10 test -S "$SOCK" || fail "no socket (--metrics)"
write 'metrics: ":0"   # changed text'
ctl reload >/dev/null || fail "reload with --metrics"
[ "$(count_lines "$T/err" 'metrics: serving')" -eq 1 ] ||
    fail "--metrics was moved by a reload"
[ "$(code "http://127.0.0.1:$P4/metrics")" = 200 ] || fail "$P4 lost"
ctl shutdown >/dev/null || fail "shutdown (--metrics)"
wait_pyt 20
exit 0
