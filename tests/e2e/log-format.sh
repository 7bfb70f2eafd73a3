# Output options: --timestamps, --log-format json (one JSON object per
# line, parsed), colour only on a terminal and never with NO_COLOR.
. "$(dirname "$0")/lib.sh"

manifest f.yaml <<EOF2
version: 1
processes:
  a: {shell: 'printf "quote \\" tab\\t and \\001 byte\\n"; echo oops >&2'}
EOF2
run_pyt 20 --timestamps "$T/f.yaml"
expect_status 0
grep -Eq '^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{3}Z a \| quote' "$T/out" ||
    fail "no timestamp on a unit line"
grep -Eq '^[0-9-]{10}T[0-9:.]{12}Z pytasking-run: a: started' "$T/err" ||
    fail "no timestamp on our own messages"

run_pyt 20 --log-format json "$T/f.yaml"
expect_status 0
if command -v python3 >/dev/null; then
	python3 - "$T/out" "$T/err" <<'EOF2' || fail "invalid JSON lines"
import json, sys
out = [json.loads(l) for l in open(sys.argv[1])]
err = [json.loads(l) for l in open(sys.argv[2])]
import re
iso = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
for e in out + err:
    assert iso.match(e.pop("time")), e
assert out == [{"unit": "a", "stream": "stdout", "line": 'quote " tab\t and \x01 byte'}], out
assert {"unit": "a", "stream": "stderr", "line": "oops"} in err, err
ex = [e for e in err if e.get("event") == "exited"]
assert len(ex) == 1 and ex[0]["msg"] == "a: exited with status 0", err
assert ex[0]["level"] == "info" and ex[0]["unit"] == "a" and ex[0]["status"] == 0, ex
st = [e for e in err if e.get("event") == "started"]
assert len(st) == 1 and st[0]["pid"] > 0 and st[0]["unit"] == "a", err
EOF2
fi

# Events and output lines of replicas, with their number; UTF-8 passes as
# UTF-8, and only bytes that are not UTF-8 are replaced (U+FFFD).
manifest r.yaml <<EOF2
version: 1
processes:
  w:
    shell: 'printf "Malm\303\266 \377 end\n"; exit 3'
    replicas: 2
EOF2
run_pyt 20 --log-format json "$T/r.yaml"
expect_status 1
grep -q 'Malmö' "$T/out" || fail "UTF-8 escaped: $(head -1 "$T/out")"
if command -v python3 >/dev/null; then
	python3 - "$T/out" "$T/err" <<'EOF2' || fail "replica JSON"
import json, sys
out = [json.loads(l) for l in open(sys.argv[1])]
err = [json.loads(l) for l in open(sys.argv[2])]
assert all(o["line"] == "Malm\u00f6 \ufffd end" for o in out), out
# Output lines name the instance as the events do: unit and replica.
assert sorted((o["unit"], o["replica"]) for o in out) == [("w.1", 1), ("w.2", 2)], out
for o in out:
    ev = [e for e in err if e.get("event") == "exited" and e["unit"] == o["unit"]]
    assert len(ev) == 1 and ev[0]["replica"] == o["replica"], (o, err)
ex = sorted((e["replica"], e["status"]) for e in err if e.get("event") == "exited")
assert ex == [(1, 3), (2, 3)], err
assert sorted(e["unit"] for e in err if e.get("event") == "exited") == ["w.1", "w.2"], err
EOF2
fi
STATUS=0; "$PYT" --log-format xml "$T/f.yaml" 2>"$T/err" || STATUS=$?
expect_status 2

# Colour needs a terminal: script(1) gives one when it is there.
if command -v script >/dev/null; then
	TERM=xterm script -qec "\"$PYT\" \"$T/f.yaml\"" /dev/null >"$T/tty" 2>&1 </dev/null
	grep -q "$(printf '\033')\[3[1-6]ma$(printf '\033')\[0m | quote" "$T/tty" ||
	    fail "no colour on a terminal: $(head -3 "$T/tty" | od -c | head)"
	NO_COLOR=1 TERM=xterm script -qec "\"$PYT\" \"$T/f.yaml\"" /dev/null >"$T/tty2" 2>&1 </dev/null
	grep -q "$(printf '\033')\[3" "$T/tty2" && fail "colour despite NO_COLOR"
fi
run_pyt 20 "$T/f.yaml"
grep -q "$(printf '\033')" "$T/out" && fail "colour on a pipe"
exit 0
