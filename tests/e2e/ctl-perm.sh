# Only the supervisor's own user (or root) may talk to it: another uid is
# stopped by the socket's mode and, were the mode loosened, refused by the
# peer credentials check (SO_PEERCRED) with an error reply. Needs root
# and setpriv(1) to become nobody; skipped otherwise.
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || { echo "not root: skipped"; exit 77; }
command -v setpriv >/dev/null 2>&1 || { echo "no setpriv: skipped"; exit 77; }
id nobody >/dev/null 2>&1 || { echo "no user nobody: skipped"; exit 77; }
nogroup=$(id -gn nobody)
as_nobody() {
	setpriv --reuid=nobody --regid="$nogroup" --clear-groups "$@"
}
# The binary must be reachable by nobody (the build tree may be private).
as_nobody "$PYT" --version >/dev/null 2>&1 ||
    { echo "nobody cannot run $PYT: skipped"; exit 77; }

manifest perm.yaml <<EOF2
version: 1
processes:
  z: {cmd: ["$PYT_HELPER", sleep, "1000"]}
EOF2
# A socket in a directory nobody may traverse, as a user would have it.
mkdir -m 0711 "$T/pub"
SOCK=$T/pub/perm.sock
chmod 0711 "$T"
start_pyt --keep -s "$SOCK" "$T/perm.yaml"
listening() { "$PYT" ctl -s "$SOCK" list >/dev/null 2>&1; }
wait_for 10 listening || fail "no socket"

# The socket's mode (0600) stops another uid at connect(2).
as_nobody "$PYT" ctl -s "$SOCK" list >"$T/o" 2>"$T/e"
[ $? -eq 1 ] || fail "nobody was not refused"
grep -q "cannot connect to $SOCK: Permission denied" "$T/e" ||
    fail "mode refusal: $(cat "$T/e")"
[ -s "$T/o" ] && fail "nobody got output: $(cat "$T/o")"

# Loosened by mistake, the peer check still refuses, with a clear reply.
chmod 0666 "$SOCK"
as_nobody "$PYT" ctl -s "$SOCK" stop z >"$T/o" 2>"$T/e"
[ $? -eq 1 ] || fail "nobody was obeyed"
grep -qx "pytasking-run: permission denied: uid $(id -u nobody) may not control this supervisor" \
    "$T/e" || fail "peer refusal: $(cat "$T/e")"
as_nobody "$PYT" ctl --json -s "$SOCK" list 2>/dev/null >"$T/o"
grep -q '"ok":false' "$T/o" || fail "json refusal: $(cat "$T/o")"
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import json, sys; json.load(sys.stdin)' <"$T/o" ||
	    fail "refusal is not JSON"
fi
wait_line 10 "$T/err" "refused a connection of uid $(id -u nobody)"

# Nothing happened to z, and we (root) are still served.
"$PYT" ctl -s "$SOCK" list | grep -Eq '^process +z +running' ||
    fail "z was touched: $("$PYT" ctl -s "$SOCK" list)"
kill -TERM "$BGPID"
wait_pyt 20
expect_status 0
exit 0
