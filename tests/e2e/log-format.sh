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
assert out == [{"unit": "a", "stream": "stdout", "line": 'quote " tab\t and \x01 byte'}], out
assert {"unit": "a", "stream": "stderr", "line": "oops"} in err, err
assert any(e.get("msg") == "a: exited with status 0" and e["level"] == "info" for e in err), err
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
