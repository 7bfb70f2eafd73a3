# ctl get loses nothing: it asks with get-ack and acknowledges the item
# only once it is printed. A raw client that reads the reply and leaves,
# or sends anything but "ack", has its item given again; an ack lets go
# of it; a ctl whose standard output is a closed pipe exits 1 and the item
# comes again; a plain get still works, and ctl falls back to it with a
# supervisor that does not know get-ack; an item held when the queue
# closes comes back before the end of the stream, and one held at SIGTERM
# is counted as left at the end (in + redelivered = out + depth). With
# every waiting place taken, an item there at once is still served, and
# goes back if its ack does not come within 10 s.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/getack.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }

manifest getack.yaml <<EOF2
version: 1
queues:
  q: {capacity: 100}
processes:
  # A live producer that writes nothing: q stays open until closed.
  feeder:
    cmd: ["$PYT_HELPER", wait-file, "$T/feed-done", "1000"]
    stdout: q
EOF2
start_pyt -v --keep -s "$SOCK" "$T/getack.yaml"
wait_line 10 "$T/err" 'feeder: started'
wait_for 10 test -S "$SOCK" || fail "no socket"
ctl put q a b c d e f g || fail "put"

PYT="$PYT" PYT_TIMEOUT_SCALE="$PYT_TIMEOUT_SCALE" python3 - "$SOCK" "$BGPID" \
    "$T/held" <<'EOF2' || fail "get-ack scenario failed"
import json, os, signal, socket, subprocess, sys, time

path, svpid, heldfile = sys.argv[1], int(sys.argv[2]), sys.argv[3]
pyt = os.environ["PYT"]
SECS = 10 * int(os.environ["PYT_TIMEOUT_SCALE"])
V = b"PYTCTL 1\n"

def frame(*fields):
    body = b"".join(b"%d:%s," % (len(f), f) for f in fields)
    return b"%d:%s," % (len(body), body)

def parse_ns(b, i):
    j = b.index(b":", i)
    n = int(b[i:j])
    if len(b) < j + 2 + n:
        return None, i
    assert b[j + 1 + n:j + 2 + n] == b",", b
    return b[j + 1:j + 1 + n], j + 2 + n

def fields_of(body):
    out, k = [], 0
    while k < len(body):
        f, k = parse_ns(body, k)
        out.append(f)
    return out

class Conn:
    def __init__(self, *req):
        self.s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.s.connect(path)
        self.s.settimeout(SECS)
        self.s.sendall(V + frame(*req))
        self.buf = b""
        self.i = 0

    def frame(self):
        """The next frame's fields; None at the end of file."""
        while True:
            if self.i == 0 and self.buf.startswith(V):
                self.i = len(V)
            if self.i > 0 and len(self.buf) > self.i:
                body, j = parse_ns(self.buf, self.i)
                if body is not None:
                    self.i = j
                    return fields_of(body)
            b = self.s.recv(65536)
            if not b:
                return None
            self.buf += b

    def item(self):
        f = self.frame()
        assert f is not None and f[0] == b"ok", f
        return dict(zip(f[2::3], f[3::3]))[b"item"]

    def rest(self):
        """Read until the supervisor closes: what came after."""
        out = []
        while True:
            try:
                f = self.frame()
            except ConnectionResetError:
                return ["reset"]
            if f is None:
                return out
            out.append(f)

def ctl(*args, **kw):
    return subprocess.run([pyt, "ctl", "-s", path] + list(args),
                          capture_output=True, timeout=SECS, **kw)

def counter(name):
    r = ctl("--json", "queues")
    assert r.returncode == 0, r
    return [q for q in json.loads(r.stdout)["queues"]
            if q["name"] == "q"][0][name]

def wait_counter(name, want):
    end = time.time() + SECS
    while counter(name) != want:
        assert time.time() < end, (name, counter(name), want)
        time.sleep(0.02)

def get():
    r = ctl("get", "q")
    assert r.returncode == 0, r
    return r.stdout

# 1. The reply read, then gone without an ack: the item comes again.
c = Conn(b"get-ack", b"q")
assert c.item() == b"a"
c.s.close()
wait_counter("redelivered", 1)
assert get() == b"a\n"

# 2. An ack lets go of the item: the supervisor closes, cleanly.
c = Conn(b"get-ack", b"q")
assert c.item() == b"b"
c.s.sendall(frame(b"ack"))
assert c.rest() == [], "a clean close after the ack"
c.s.close()
assert get() == b"c\n"
assert counter("redelivered") == 1

# 3. Anything but an ack puts the item back, and is answered.
c = Conn(b"get-ack", b"q")
assert c.item() == b"d"
c.s.sendall(frame(b"ack", b"extra"))
rest = c.rest()
assert len(rest) == 1 and rest[0][0] == b"err" and b"expected ack" in rest[0][1], rest
c.s.close()
assert counter("redelivered") == 2
assert get() == b"d\n"
c = Conn(b"get-ack", b"q")
assert c.item() == b"e"
c.s.sendall(b"3:ac")          # malformed, then the end of file
c.s.shutdown(socket.SHUT_WR)
rest = c.rest()
assert rest == [] or rest[0][0] == b"err", rest
c.s.close()
wait_counter("redelivered", 3)

# 4. ctl get printing to a closed pipe exits 1 without acknowledging;
# with standard output closed it takes nothing.
r, w = os.pipe()
os.close(r)
res = subprocess.run([pyt, "ctl", "-s", path, "get", "q"], stdout=w,
                     stderr=subprocess.PIPE, timeout=SECS)
os.close(w)
assert res.returncode == 1, res
assert b"not acknowledged" in res.stderr, res.stderr
wait_counter("redelivered", 4)
# Not under valgrind: its log file takes the descriptor 1 we closed.
if not os.environ.get("PYT_VALGRIND"):
    res = subprocess.run([pyt, "ctl", "-s", path, "get", "q"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                         timeout=SECS, preexec_fn=lambda: os.close(1))
    assert res.returncode == 1 and \
        b"standard output is closed" in res.stderr, res
assert counter("depth") == 3 and counter("redelivered") == 4
assert get() == b"e\n"
r = ctl("--json", "get", "q")
assert r.returncode == 0 and json.loads(r.stdout) == \
    {"ok": True, "queue": "q", "item": "f"}, r

# 5. The plain get of older clients: held until written, then closed.
c = Conn(b"get", b"q")
assert c.item() == b"g"
assert c.rest() == []
c.s.close()
assert counter("depth") == 0

# 6b. Every waiting place taken (48 followers): a get-ack whose item is
# there is served all the same, and held 10 s at most without its ack.
assert ctl("put", "q", "w").returncode == 0
fol = []
while True:
    f = Conn(b"logs-follow", b"feeder")
    f.s.settimeout(0.2)
    try:
        r = f.frame()
    except socket.timeout:
        fol.append(f)           # following: a waiting place taken
        continue
    f.s.close()
    assert r is not None and r[0] == b"err" and \
        b"too many control connections waiting" in r[1], r
    break
assert len(fol) == 48, len(fol)
c = Conn(b"get-ack", b"q")
assert c.item() == b"w"
t0 = time.time()
end = t0 + 30 * int(os.environ["PYT_TIMEOUT_SCALE"])
while counter("redelivered") != 5:
    assert time.time() < end, counter("redelivered")
    time.sleep(0.1)
assert time.time() - t0 > 8, time.time() - t0
c.s.close()
for f in fol:
    f.s.close()
assert get() == b"w\n"

# 7. An item held when the queue closes comes back before its end.
assert ctl("put", "q", "x", "y").returncode == 0
c = Conn(b"get-ack", b"q")
assert c.item() == b"x"
assert ctl("close", "q").returncode == 0
c.s.close()
wait_counter("redelivered", 6)
assert get() == b"x\n"

# 8. A supervisor that does not know get-ack (an older one, played here)
# is asked again with a plain get.
import threading
old_path = path + ".old"
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(old_path)
srv.listen(4)
srv.settimeout(SECS)
seen = []
def old_supervisor():
    for _ in range(2):
        s, _ = srv.accept()
        s.settimeout(SECS)
        data = b""
        while True:
            data += s.recv(65536)
            if data.startswith(V) and len(data) > len(V):
                body, j = parse_ns(data, len(V))
                if body is not None:
                    break
        req = fields_of(body)
        seen.append(req)
        if req[0] == b"get-ack":
            s.sendall(V + frame(b"err", b'unknown command: "get-ack"'))
        else:
            s.sendall(V + frame(b"ok", b"s", b"queue", b"q", b"s", b"item",
                                b"old"))
        s.close()
t = threading.Thread(target=old_supervisor)
t.start()
res = subprocess.run([pyt, "ctl", "-s", old_path, "get", "q"],
                     capture_output=True, timeout=SECS)
t.join(SECS)
srv.close()
assert res.returncode == 0 and res.stdout == b"old\n", res
assert seen == [[b"get-ack", b"q"], [b"get", b"q"]], seen

# 6. Held at SIGTERM: written down for the shell to check the counts.
c = Conn(b"get-ack", b"q")
assert c.item() == b"y"
os.kill(svpid, signal.SIGTERM)
rest = c.rest()
assert rest == [] or rest == ["reset"], rest
try:
    c.s.sendall(frame(b"ack"))
except (BrokenPipeError, ConnectionResetError):
    pass
c.s.close()
open(heldfile, "w").write("y\n")
EOF2

wait_pyt 20
expect_status 0
grep -q 'control: get: reply not delivered; an item of q is lost' "$T/err" &&
    fail "an item was lost"
line=$(grep -E 'queue q: in [0-9]+, out' "$T/err") || fail "no -v report"
set -- $(echo "$line" | sed -E 's/.*in ([0-9]+), out ([0-9]+), redelivered ([0-9]+), dropped ([0-9]+), .*depth ([0-9]+),.*/\1 \2 \3 \4 \5/')
[ "$1" = 10 ] || fail "in: $line"
[ $(( $1 + $3 )) = $(( $2 + $4 + $5 )) ] || fail "counts do not add up: $line"
[ "$5" = 1 ] || fail "the held item is not left at the end: $line"
grep -q 'queue q: 1 item left undelivered at the end' "$T/err" ||
    fail "the held item is not reported left"
echo "ok"
