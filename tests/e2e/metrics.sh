# Metrics: ctl metrics in the Prometheus text format (checked line by
# line against the format's grammar), counters that never go down between
# scrapes, and the HTTP endpoint of metrics: on its loop: 200 for
# GET /metrics, HEAD, 404, 405, 400 for garbage, 431 for an oversized
# request, 50 concurrent scrapers, and a slow client that neither blocks
# the others nor the control socket and is cut off by the timeout.
# Also --metrics overriding the manifest, and -c warning about a
# non-loopback address.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }
command -v curl >/dev/null 2>&1 || { echo "no curl: skipped"; exit 77; }

SOCK=$T/m.sock
ctl() { "$PYT" ctl -s "$SOCK" "$@"; }

manifest m.yaml <<EOF2
version: 1
metrics: ":0"            # a port alone: on 127.0.0.1
queues:
  jobs: {capacity: 50}
processes:
  producer:
    cmd: ["$PYT_HELPER", "yes"]
    stdout: jobs
  worker:
    cmd: ["$PYT_HELPER", slow-count, "5"]
    stdin: jobs
    replicas: 2
EOF2

# -c: a loopback address is fine, another one is warned about.
"$PYT" -c "$T/m.yaml" >"$T/c.out" 2>"$T/c.err" || fail "-c"
grep -q warning "$T/c.err" && fail "loopback warned: $(cat "$T/c.err")"
"$PYT" -c --metrics 0.0.0.0:9464 "$T/m.yaml" >"$T/c.out" 2>"$T/c.err" ||
    fail "-c --metrics"
grep -q 'warning: metrics: 0.0.0.0:9464 is not a loopback address' \
    "$T/c.err" || fail "no warning: $(cat "$T/c.err")"
"$PYT" --metrics localhost:80 "$T/m.yaml" 2>"$T/c.err" && fail "name taken"
grep -q 'names are not resolved' "$T/c.err" || fail "$(cat "$T/c.err")"

start_pyt --keep -s "$SOCK" "$T/m.yaml"
wait_line 10 "$T/err" 'metrics: serving GET /metrics on port [0-9]+'
PORT=$(sed -n 's/.*on port \([0-9]*\).*/\1/p' "$T/err")
URL=http://127.0.0.1:$PORT
wait_for 10 test -S "$SOCK" || fail "no socket"

# The grammar of the text format, and counters that only go up.
cat >"$T/check.py" <<'EOF2'
import re, sys
help_re = re.compile(r'^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) (?:[^\\]|\\[\\n])*$')
type_re = re.compile(r'^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge)$')
lab = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\[\\"n])*"'
sample_re = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{' + lab + '(?:,' + lab +
                       r')*\} ([0-9]+(?:\.[0-9]+)?)$')
def parse(path):
    text = open(path).read()
    assert text.endswith("\n"), "no final newline"
    fam, types, vals = None, {}, {}
    for line in text.splitlines():
        if help_re.match(line):
            continue
        m = type_re.match(line)
        if m:
            assert m.group(1) not in types, "typed twice: " + line
            fam = m.group(1)
            types[fam] = m.group(2)
            continue
        m = sample_re.match(line)
        assert m, "not in the format: " + repr(line)
        assert m.group(1) == fam, "sample outside its family: " + line
        key = line.rsplit(" ", 1)[0]
        assert key not in vals, "sample twice: " + line
        vals[key] = (types[fam], float(m.group(2)))
    return vals
a = parse(sys.argv[1])
for want in ['pytasking_unit_up{unit="producer"}',
             'pytasking_unit_up{unit="worker",replica="1"}',
             'pytasking_unit_memory_rss_bytes{unit="worker",replica="2"}',
             'pytasking_queue_capacity{queue="jobs"}',
             'pytasking_queue_torn_total{queue="jobs"}']:
    assert want in a, "missing " + want
assert a['pytasking_queue_capacity{queue="jobs"}'][1] == 50
if len(sys.argv) > 2:
    b = parse(sys.argv[2])
    for k, (t, v) in a.items():
        if t == "counter":
            assert b[k][1] >= v, "counter went down: %s %s -> %s" % (k, v, b[k][1])
    assert b['pytasking_queue_items_in_total{queue="jobs"}'][1] > \
        a['pytasking_queue_items_in_total{queue="jobs"}'][1], "no progress"
EOF2
ctl metrics >"$T/m1" || fail "ctl metrics"
python3 "$T/check.py" "$T/m1" || fail "ctl metrics: format"
in1=$(sed -n 's/^pytasking_queue_items_in_total{queue="jobs"} //p' "$T/m1")
more() {
	curl -sf "$URL/metrics" >"$T/m2" &&
	    [ "$(sed -n 's/^pytasking_queue_items_in_total{queue="jobs"} //p' "$T/m2")" -gt "$in1" ]
}
wait_for 10 more || fail "the counters do not move"
python3 "$T/check.py" "$T/m1" "$T/m2" || fail "scrapes"

# Status codes and headers.
code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(code "$URL/metrics")" = 200 ] || fail "GET /metrics"
[ "$(code "$URL/metrics?x=1")" = 200 ] || fail "GET /metrics?x=1"
curl -sI "$URL/metrics" | tr -d '\r' >"$T/head"
grep -q '^Content-Type: text/plain; version=0.0.4; charset=utf-8$' \
    "$T/head" || fail "content type: $(cat "$T/head")"
[ "$(code "$URL/")" = 404 ] || fail "GET /"
[ "$(code "$URL/metricsx")" = 404 ] || fail "GET /metricsx"
[ "$(code -X POST -d x=1 "$URL/metrics")" = 405 ] || fail "POST"
curl -s -D - -o /dev/null -X DELETE "$URL/metrics" | tr -d '\r' |
    grep -q '^Allow: GET, HEAD$' || fail "no Allow header"

# Raw clients: garbage, an oversized head, 50 at once, and a slow one
# that holds its connection while everything else goes on.
cat >"$T/raw.py" <<'EOF2'
import socket, sys, threading, time
port = int(sys.argv[1])
def ask(data, timeout=10):
    s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
    try:
        s.sendall(data)
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
r = ask(b"garbage\r\n\r\n")
assert r.startswith(b"HTTP/1.1 400 "), r[:80]
r = ask(b"GET /metrics HTTP/1.1\r\nX: " + b"a" * 20000 + b"\r\n\r\n")
assert r.startswith(b"HTTP/1.1 431 "), r[:80]
# A client that half-closes after its request still gets the answer.
s = socket.create_connection(("127.0.0.1", port), timeout=10)
s.sendall(b"GET /metrics HTTP/1.0\r\n\r\n")
s.shutdown(socket.SHUT_WR)
r = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    r += b
s.close()
assert r.startswith(b"HTTP/1.1 200 OK") and r.endswith(b"\n"), r[:80]
# A large body the server never reads does not cost the answer.
r = ask(b"POST /metrics HTTP/1.1\r\nContent-Length: 4000000\r\n\r\n" +
        b"x" * 4000000)
assert r.startswith(b"HTTP/1.1 405 "), r[:80]
# A slow client: one byte, then silence.
slow = socket.create_connection(("127.0.0.1", port), timeout=30)
slow.sendall(b"G")
t0 = time.time()
results = []
def one():
    results.append(ask(b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n"))
ts = [threading.Thread(target=one) for _ in range(50)]
for t in ts: t.start()
for t in ts: t.join()
assert len(results) == 50
for r in results:
    assert r.startswith(b"HTTP/1.1 200 OK\r\n"), r[:80]
    head, body = r.split(b"\r\n\r\n", 1)
    n = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
         if l.lower().startswith(b"content-length:")][0]
    assert len(body) == n and body.endswith(b"\n"), "short body"
# Had they waited for the slow client, they would have waited for its cut
# at 10 s; 8 s leaves a loaded machine room to serve fifty.
assert time.time() - t0 < 8, "scrapers waited for the slow client"
open(sys.argv[2], "w").write("slow client connected\n")
# The server cuts the slow client off by itself (its timeout is 10s).
slow.settimeout(20)
try:
    b = slow.recv(100)
except ConnectionResetError:
    b = b""
assert b == b"" or b.startswith(b"HTTP/1.1 "), b
print("cut off after %.1fs" % (time.time() - t0))
EOF2
python3 "$T/raw.py" "$PORT" "$T/slow" >"$T/raw.out" 2>&1 &
RAW=$!
wait_for 20 test -f "$T/slow" || { cat "$T/raw.out" >&2; fail "raw clients"; }
# While the slow client holds on, supervision and control go on.
ctl list >/dev/null || fail "ctl list with a slow scraper"
ctl restart producer >/dev/null || fail "restart with a slow scraper"
wait "$RAW" || { cat "$T/raw.out" >&2; fail "raw clients"; }
grep -q 'cut off after' "$T/raw.out" || fail "slow client: $(cat "$T/raw.out")"
[ "$(code "$URL/metrics")" = 200 ] || fail "GET after the slow client"

ctl shutdown >/dev/null || fail "shutdown"
wait_pyt 20
# After the supervisor is gone, the port is closed.
[ "$(code "$URL/metrics")" = 000 ] || fail "still serving"
echo "metrics: ok"
