# Garbage on the control socket never hurts the supervisor: malformed,
# binary, truncated and oversized requests and a version mismatch each get
# an error reply; idle and slow connections delay nobody; more connections
# than allowed are refused; random mutations of requests are survived. The
# supervisor serves on and its unit keeps its pid.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/garbage.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }
listening() { ctl list >/dev/null 2>&1; }

manifest garbage.yaml <<EOF2
version: 1
processes:
  z: {cmd: ["$PYT_HELPER", sleep, "1000"]}
EOF2
start_pyt --keep -s "$SOCK" "$T/garbage.yaml"
wait_for 10 listening || fail "no socket"
pid=$(ctl list | awk '$2 == "z" { print $4 }')

PYT="$PYT" PYT_TIMEOUT_SCALE="$PYT_TIMEOUT_SCALE" python3 - "$SOCK" <<'EOF2' ||
    fail "garbage scenario failed"
import os, random, socket, subprocess, sys, time

path = sys.argv[1]
pyt = os.environ["PYT"]
# A ctl list held up by idle peers would wait until their 10s request
# timeout: 5s (scaled, but below 10s) tells that from a loaded machine.
LIST_SECS = min(5 * int(os.environ["PYT_TIMEOUT_SCALE"]), 9)

def conn():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)        # blocking: waits while the backlog is full
    s.settimeout(15)
    return s

def frame(*fields):
    body = b"".join(b"%d:%s," % (len(f), f) for f in fields)
    return b"%d:%s," % (len(body), body)

def talk(data, half_close=True):
    """Send data, then read everything until the supervisor closes."""
    s = conn()
    try:
        s.sendall(data)
    except (BrokenPipeError, ConnectionResetError):
        pass
    if half_close:
        try:
            s.shutdown(socket.SHUT_WR)
        except OSError:
            pass
    out = b""
    while True:
        try:
            b = s.recv(65536)
        except ConnectionResetError:
            break
        if not b:
            break
        out += b
    s.close()
    return out

def parse_ns(b, i):
    j = b.index(b":", i)
    n = int(b[i:j])
    assert b[j + 1 + n:j + 2 + n] == b",", b
    return b[j + 1:j + 1 + n], j + 2 + n

def reply_frames(out):
    assert out.startswith(b"PYTCTL 1\n"), out[:40]
    i, frames = 9, []
    while i < len(out):
        body, i = parse_ns(out, i)
        fields, k = [], 0
        while k < len(body):
            f, k = parse_ns(body, k)
            fields.append(f)
        frames.append(fields)
    return frames

def expect_err(data, want, half_close=True):
    frames = reply_frames(talk(data, half_close))
    assert frames and frames[-1][0] == b"err", (data[:60], frames)
    assert want.encode() in frames[-1][1], (data[:60], frames[-1], want)

def ctl_ok(timeout=LIST_SECS):
    t = time.time()
    r = subprocess.run([pyt, "ctl", "-s", path, "list"], capture_output=True,
                       timeout=timeout)
    assert r.returncode == 0 and b" z " in r.stdout, r
    return time.time() - t

V = b"PYTCTL 1\n"

# Idle and slow connections first: they must delay nobody.
idle = [conn() for _ in range(20)]
slow = conn()
slow.sendall(b"PYT")
half = conn()
half.sendall(V + b"100:4:list")       # a frame that never ends
assert ctl_ok() < LIST_SECS

# Malformed input classes, each with an error reply.
expect_err(b"garbage\n", "malformed request")
expect_err(b"\x00" * 100, "malformed request")
expect_err(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", "malformed request")
expect_err(b'{"cmd": "list"}\n', "malformed request")
expect_err(b"PYTCTL 2\n" + frame(b"list"), "protocol version mismatch")
expect_err(b"PYTCTL 01\n", "malformed request")
expect_err(b"PYTCTL " + b"1" * 40, "malformed request")
expect_err(V + b"99999999:", "length")
expect_err(V + b"1048577:", "length")
expect_err(V + b"-1:", "malformed request")
expect_err(V + b"5:abc", "truncated")                  # then EOF
expect_err(b"PYTC", "truncated")
expect_err(V + b"4:list,", "malformed request")        # not fields
expect_err(V + b"8:4:list,,", "malformed request")     # field cut
expect_err(V + frame(b"nope"), "unknown command")
expect_err(V + frame(b""), "unknown command")
expect_err(V + b"0:,", "empty request")
expect_err(V + frame(b"list", b"extra"), "too many arguments")
expect_err(V + frame(b"status"), "missing arguments")
expect_err(V + frame(b"status", b"a\x00b"), "bad unit name")
expect_err(V + frame(b"status", b"../../etc"), "bad unit name")
expect_err(V + frame(b"status", b"x" * 5000), "bad unit name")
expect_err(V + frame(b"signal", b"z", b"NOPE"), "bad signal")
expect_err(V + frame(b"put", b"q", b"a\nb"), "newline")
expect_err(V + frame(*([b"0"] * 70000)), "too many fields")
# A whole megabyte of one field: parsed, then refused as a command.
expect_err(V + frame(b"x" * (1024 * 1024 - 16)), "unknown command")
# Binary noise, seeded so a failure replays.
rnd = random.Random(4242)
for _ in range(50):
    noise = bytes(rnd.randrange(256) for _ in range(rnd.randrange(1, 300)))
    out = talk(noise)
    assert out.startswith(b"PYTCTL 1\n"), out[:40]
# Junk after a good request is ignored; the answer comes.
frames = reply_frames(talk(V + frame(b"list") + b"junk junk junk"))
assert frames[-1][0] == b"ok", frames
# Mutations of good requests (never a command that acts).
goods = [V + frame(b"list"), V + frame(b"status", b"z"), V + frame(b"queues"),
         V + frame(b"logs", b"z")]
for k in range(300):
    b = bytearray(rnd.choice(goods))
    for _ in range(rnd.randrange(1, 4)):
        b[rnd.randrange(len(b))] = rnd.randrange(256)
    if rnd.random() < 0.3:
        b = b[:rnd.randrange(len(b))]
    talk(bytes(b))
assert ctl_ok() < LIST_SECS

# More connections than allowed: the extra ones are told so, and all is
# well once they go.
many = [conn() for _ in range(80)]
refused = 0
for s in many[-10:]:
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = s.recv(4096)
        if not b:
            break
        data += b
    if b"too many control connections" in data:
        refused += 1
assert refused == 10, refused
for s in many + idle + [slow, half]:
    s.close()
# The supervisor sees those closes soon, not at once.
deadline = time.time() + 10
while True:
    try:
        ctl_ok()
        break
    except AssertionError:
        assert time.time() < deadline, "connections never freed"
        time.sleep(0.05)

# A peer that sends a request and vanishes without reading.
for _ in range(20):
    s = conn()
    s.sendall(V + frame(b"logs", b"z"))
    s.close()
assert ctl_ok() < LIST_SECS
print("garbage: ok")
EOF2

kill -0 "$BGPID" || fail "supervisor died"
[ "$(ctl list | awk '$2 == "z" { print $4 }')" = "$pid" ] || fail "z lost its pid"
grep -Eqi 'fatal|assert|sanitizer' "$T/err" && fail "trouble in the log"
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
exit 0
