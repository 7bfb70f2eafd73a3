# A control-protocol fuzzer that disconnects at random points (issue 13):
# seeded random requests (list, status, get, put, put streams, logs -f,
# queues) cut after a random number of bytes, some half-closed, some read
# partly, some abandoned while they wait. The supervisor survives, every
# connection is let go, no item is lost or made up, and ctl answers.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

SOCK=$T/disc.sock
ctl() { timeout 10 "$PYT" ctl -s "$SOCK" "$@"; }
listening() { ctl list >/dev/null 2>&1; }
js() {
	python3 -c 'import json, sys
d = json.load(sys.stdin)
print(eval(sys.argv[1]))' "$1"
}

manifest disc.yaml <<EOF2
version: 1
queues:
  q: {capacity: 50}
processes:
  talk: {shell: 'while :; do echo tick; sleep 0.01; done'}
EOF2
start_pyt --keep -s "$SOCK" "$T/disc.yaml"
wait_for 10 listening || fail "no socket"

python3 - "$SOCK" "${PYT_FUZZ_SEED:-1313}" "${PYT_FUZZ_ROUNDS:-600}" <<'EOF2' || fail "fuzz rounds"
import random, socket, sys, time
path, seed, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(seed)
def frame(*fields):
    body = b"".join(b"%d:%s," % (len(f), f) for f in fields)
    return b"%d:%s," % (len(body), body)
V = b"PYTCTL 1\n"
def items(k):
    return [b"i%d" % rnd.randrange(10**6) for _ in range(k)]
def request():
    c = rnd.randrange(7)
    if c == 0: return V + frame(b"list")
    if c == 1: return V + frame(b"status", b"talk")
    if c == 2: return V + frame(b"get", b"q")
    if c == 3: return V + frame(b"put", b"q", *items(rnd.randrange(1, 80)))
    if c == 4:
        b = V + frame(b"put-stream", b"q")
        for _ in range(rnd.randrange(1, 5)):
            b += frame(*items(rnd.randrange(1, 30)))
        return b + (frame() if rnd.random() < 0.5 else b"")
    if c == 5: return V + frame(b"logs-follow", b"talk")
    return V + frame(b"queues")
stats = {"cut": 0, "half": 0, "whole": 0}
for r in range(rounds):
    data = request()
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    s.settimeout(5)
    how = rnd.randrange(4)
    try:
        if how == 0:
            # Cut anywhere, even in the version line, and go.
            s.sendall(data[:rnd.randrange(len(data) + 1)])
            stats["cut"] += 1
        elif how == 1:
            s.sendall(data[:rnd.randrange(len(data) + 1)])
            s.shutdown(socket.SHUT_WR)
            s.recv(rnd.randrange(1, 200))
            stats["half"] += 1
        elif how == 2:
            # The whole request; read a random part of the reply.
            s.sendall(data)
            s.recv(rnd.randrange(1, 4096))
            stats["whole"] += 1
        else:
            # The whole request, then leave at once, not reading.
            s.sendall(data)
            stats["whole"] += 1
    except (socket.timeout, OSError):
        pass
    s.close()
print("disconnect fuzz:", stats)
EOF2

# Every connection is let go, and a new one of each kind is served.
all_answer() { ctl list >/dev/null && ctl --json queues >/dev/null; }
wait_for 10 all_answer || fail "ctl does not answer after the fuzz"
# No item made up or lost: what went in is what went out plus the depth.
counters_add_up() {
	ctl --json queues | js '[q for q in d["queues"] if q["name"] == "q"][0]' >"$T/q"
	python3 -c 'import ast, sys
q = ast.literal_eval(open(sys.argv[1]).read())
sys.exit(0 if q["in"] + q["redelivered"] == q["out"] + q["depth"] else 1)' "$T/q"
}
wait_for 10 counters_add_up || fail "queue counters do not add up: $(cat "$T/q")"
# The queue is full (nobody reads it): a get is served, and a put gets
# in once the room is its. Abandoned puts may still wait for room (a put
# paused for room looks for its client's hang-up every 200 ms): the first
# of them may take the room a get makes, so a get and a put are tried
# again until the put is served, with a hard limit. A put refused for
# ever ("too many connections waiting") would mean connections not let go.
ctl get q >/dev/null || fail "get after the fuzz"
get_then_put() {
	ctl get q >/dev/null || return 1
	timeout 2 "$PYT" ctl -s "$SOCK" put q last >"$T/put.out" 2>&1
}
wait_for 15 get_then_put || fail "put after the fuzz: $(cat "$T/put.out")"
kill -0 "$BGPID" || fail "the supervisor died"
grep -Eqi 'fatal|assert|sanitizer' "$T/err" && fail "trouble in the log"
ctl shutdown >/dev/null || fail "shutdown"
wait_pyt 30
exit 0
