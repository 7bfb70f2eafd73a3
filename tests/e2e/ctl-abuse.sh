# Nothing a client does may take the control socket away (issue 13):
# puts that wait on a full queue and then die are noticed and let go;
# waiting clients never take the slots new requests need; a get whose
# reply was not delivered puts its item back; a put into a drop-newest
# queue says how many were dropped; a put stream cut mid-frame gets an
# error reply; followers that never read cost a bounded amount.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/abuse.sock
ctl() { timeout 10 "$PYT" ctl -s "$SOCK" "$@"; }
listening() { ctl list >/dev/null 2>&1; }
js() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}

manifest abuse.yaml <<EOF2
version: 1
queues:
  full: {capacity: 1}
  empty: {capacity: 100}
  dn: {capacity: 2, overflow: drop-newest}
  stream: {capacity: 100}
processes:
  idle: {cmd: ["$PYT_HELPER", sleep, "1000"]}
  spew:
    shell: 'while :; do echo "line of output that a follower should see but never reads at all........"; done'
    autostart: false
    # The bound checked is the followers' backlog: keep the history each
    # one gets first as small as the ring was (log_buffer: 1MiB by default).
    log_buffer: 16KiB
EOF2
start_pyt --keep -s "$SOCK" "$T/abuse.yaml"
wait_for 10 listening || fail "no socket"

# 1. 64 puts that wait on a full queue and are killed after 2 seconds.
ctl put full first || fail "first put"
i=0
pids=
while [ $i -lt 64 ]; do
	timeout 2 "$PYT" ctl -s "$SOCK" put full x >/dev/null 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
# While they wait, new requests still get a slot.
ctl list >/dev/null || fail "list while 64 puts wait"
wait $pids
# Once they are dead their connections go, and everything answers again.
all_answer() {
	ctl list >/dev/null && ctl --json queues >/dev/null
}
wait_for 5 all_answer || fail "the socket was taken away by dead puts"

# 2. 20 gets that leave before an item comes, one killed mid-reply: no
#    item is lost.
i=0
pids=
while [ $i -lt 20 ]; do
	timeout 1 "$PYT" ctl -s "$SOCK" get empty >/dev/null 2>&1 &
	pids="$pids $!"
	i=$((i + 1))
done
wait $pids
for n in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do
	echo "$n"
done >"$T/items"
ctl put empty $(cat "$T/items") || fail "put 20 items"
depth() { ctl --json queues | js '[q["depth"] for q in d["queues"] if q["name"] == "empty"][0]'; }
depth_is() { [ "$(depth)" = "$1" ]; }
[ "$(depth)" = 20 ] || fail "items lost to gets that left: depth $(depth)"
# 20 clients that ask with items there and leave before the reply: the
# replies cannot be delivered, the items go back.
python3 - "$SOCK" <<'EOF2' || fail "gets that leave"
import socket, sys
def frame(*fields):
    body = b"".join(b"%d:%s," % (len(f), f) for f in fields)
    return b"%d:%s," % (len(body), body)
for _ in range(20):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    # The version line first: the request is then surely read. Then
    # gone for reading before the reply can come (a close could race
    # with the reply's write: a reply written to a socket the client
    # then closes unread is beyond our sight).
    assert s.recv(9) == b"PYTCTL 1\n"
    s.shutdown(socket.SHUT_RD)
    s.sendall(b"PYTCTL 1\n" + frame(b"get", b"empty"))
    s.close()
EOF2
# Each has its item popped, then put back when its reply fails: wait
# until the last is back (redelivered), then count.
redelivered_is() {
	[ "$(ctl --json queues | js '[q["redelivered"] for q in d["queues"] if q["name"] == "empty"][0]')" = "$1" ]
}
wait_for 5 redelivered_is 20 || fail "gets that left: items not put back"
depth_is 20 || fail "items lost to gets that left at once: depth $(depth)"
n=0
while [ $n -lt 20 ]; do
	ctl get empty >>"$T/got" || fail "get $n"
	n=$((n + 1))
done
# Every item, once (put back at the head, so the order may change).
[ "$(sort -n "$T/got" | tr '\n' ' ')" = "$(tr '\n' ' ' <"$T/items")" ] ||
    fail "gets: $(tr '\n' ' ' <"$T/got")"

# 3. drop-newest: the reply says how many were dropped.
r=$(ctl --json put dn a b c d)
[ "$(echo "$r" | js 'd["put"]')" = 4 ] || fail "put count: $r"
[ "$(echo "$r" | js 'd["dropped"]')" = 2 ] || fail "dropped count: $r"
ctl put dn e 2>"$T/perr" || fail "put into a full drop-newest queue"
grep -q 'put: 1 item(s) dropped: the queue was full' "$T/perr" ||
    fail "the drop was not said: $(cat "$T/perr")"

# 4. A put stream cut in the middle of a frame, or before its end frame.
python3 - "$SOCK" <<'EOF2' || fail "cut put streams"
import socket, sys
def frame(*fields):
    body = b"".join(b"%d:%s," % (len(f), f) for f in fields)
    return b"%d:%s," % (len(body), body)
def talk(data):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.settimeout(10)
    s.sendall(data)
    s.shutdown(socket.SHUT_WR)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out
V = b"PYTCTL 1\n"
req = V + frame(b"put-stream", b"stream") + frame(b"one", b"two")
out = talk(req + frame(b"three")[:5])
assert b"cut in the middle of a frame; 2 items were put" in out, out
out = talk(req)
assert b"cut before its end; 2 items were put" in out, out
EOF2

# 5. Followers that never read: each is cut off at a bounded cost.
ctl start spew >/dev/null || fail "start spew"
# Under sanitizers or valgrind memory is not the program's own (shadow,
# quarantine): the bound is checked on ordinary builds only.
RSS_MAX_KB=$((100 * 1024))
if [ -n "${PYT_SANITIZED:-}" ]; then RSS_MAX_KB=$((4 * 1024 * 1024)); fi
python3 - "$SOCK" "$BGPID" "$T/err" "$RSS_MAX_KB" "$PYT_TIMEOUT_SCALE" <<'EOF2' ||
    fail "followers"
import socket, sys, time
def frame(*fields):
    body = b"".join(b"%d:%s," % (len(f), f) for f in fields)
    return b"%d:%s," % (len(body), body)
def rss(pid):
    for l in open("/proc/%s/status" % pid):
        if l.startswith("VmRSS:"):
            return int(l.split()[1])
def cut():
    return open(sys.argv[3]).read().count("a follower of spew does not read")
N = 40
socks = []
for _ in range(N):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    s.sendall(b"PYTCTL 1\n" + frame(b"logs-follow", b"spew"))
    socks.append(s)
peak = 0
deadline = time.time() + 60 * int(sys.argv[5])
while cut() < N:
    assert time.time() < deadline, "only %d of %d followers cut" % (cut(), N)
    peak = max(peak, rss(sys.argv[2]))
    time.sleep(0.05)
print("followers: %d cut off, peak RSS %d KiB" % (N, peak))
assert peak < int(sys.argv[4]), peak
EOF2
ctl stop spew >/dev/null || fail "stop spew"
ctl list >/dev/null || fail "list after the followers"
grep -Eqi 'fatal|assert|sanitizer' "$T/err" && fail "trouble in the log"
ctl shutdown >/dev/null || fail "shutdown"
wait_pyt 20
exit 0
