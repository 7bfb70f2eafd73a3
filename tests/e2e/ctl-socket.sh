# The control socket: its default place ($XDG_RUNTIME_DIR/pytasking-run,
# 0700) and mode (0600); -s and PYTASKING_SOCKET; how ctl finds the only
# supervisor; a stale socket replaced, a live one refused; unsafe places
# refused; the socket removed at exit; errors when nobody listens.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null 2>&1 || { echo "no python3: skipped"; exit 77; }

manifest sock.yaml <<EOF2
version: 1
processes:
  s: {cmd: ["$PYT_HELPER", env, PYTASKING_SOCKET]}
  z: {cmd: ["$PYT_HELPER", sleep, "1000"]}
EOF2
DIR=$T/pytasking-run
listening() { "$PYT" ctl -s "$1" list >/dev/null 2>&1; }

# Nobody listens: clear errors, exit 1.
"$PYT" ctl -s "$T/none.sock" list 2>"$T/e"; [ $? -eq 1 ] || fail "exit"
grep -qx "pytasking-run: no supervisor listening on $T/none.sock" "$T/e" ||
    fail "no supervisor: $(cat "$T/e")"
"$PYT" ctl --json -s "$T/none.sock" list 2>/dev/null >"$T/e.json"
python3 -c 'import json, sys; d = json.load(sys.stdin); assert d["ok"] is False' \
    <"$T/e.json" || fail "no supervisor json"
"$PYT" ctl list 2>"$T/e"; [ $? -eq 1 ] || fail "default: exit"
grep -q 'no supervisor listening' "$T/e" || fail "default: $(cat "$T/e")"
PYTASKING_SOCKET=$T/none.sock "$PYT" ctl list 2>"$T/e" && fail "env: exit"
grep -q "no supervisor listening on $T/none.sock" "$T/e" || fail "env: $(cat "$T/e")"

# The default socket, its directory and their modes.
start_pyt --keep "$T/sock.yaml"
# The default name: the manifest's, and a mark of its directory.
wait_for 10 sh -c "ls '$DIR'/sock-*.sock" || fail "no socket in $DIR"
DEF=$(ls "$DIR"/sock-*.sock)
case $DEF in "$DIR"/sock-[0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f][0-9a-f].sock) ;;
*) fail "default name $DEF" ;; esac
wait_for 10 listening "$DEF" || fail "no socket at $DEF"
[ "$(stat -c %a "$DIR")" = 700 ] || fail "directory mode $(stat -c %a "$DIR")"
[ "$(stat -c %a "$DEF")" = 600 ] || fail "socket mode $(stat -c %a "$DEF")"
[ "$(stat -c %u "$DEF")" = "$(id -u)" ] || fail "socket owner"
wait_line 10 "$T/out" "s \\| PYTASKING_SOCKET=$DEF\$"

# ctl finds the only supervisor of the default directory, or uses the env.
"$PYT" ctl list | grep -Eq '^process +z +running' || fail "discovery"
PYTASKING_SOCKET=$DEF "$PYT" ctl list >/dev/null || fail "PYTASKING_SOCKET"
# -s wins over the environment.
PYTASKING_SOCKET=$T/none.sock "$PYT" ctl -s "$DEF" list >/dev/null ||
    fail "-s over PYTASKING_SOCKET"

# A second supervisor on a live socket: refused before anything starts.
"$PYT" "$T/sock.yaml" >"$T/out2" 2>"$T/err2"; [ $? -eq 2 ] || fail "second: exit"
grep -q "another supervisor is listening on $DEF" "$T/err2" ||
    fail "second: $(cat "$T/err2")"
grep -q 'started' "$T/err2" && fail "the second started units"

# Two supervisors in the default directory: ctl asks which.
"$PYT" --keep -s "$DIR/other.sock" "$T/sock.yaml" >"$T/out3" 2>"$T/err3" &
pid2=$!
wait_for 10 listening "$DIR/other.sock" || fail "other"
"$PYT" ctl list 2>"$T/e"; [ $? -eq 1 ] || fail "two: exit"
grep -q "2 supervisors listen in $DIR (.*): choose one with -s PATH" "$T/e" ||
    fail "two: $(cat "$T/e")"
kill -TERM "$pid2"
wait "$pid2"
[ ! -e "$DIR/other.sock" ] || fail "other socket left at exit"

# The same file name in another directory: a socket of its own; both run.
mkdir "$T/sub" || fail "mkdir"
cat >"$T/sub/sock.yaml" <<EOF2
version: 1
processes:
  other: {cmd: ["$PYT_HELPER", sleep, "1000"]}
EOF2
"$PYT" --keep "$T/sub/sock.yaml" >"$T/out4" 2>"$T/err4" &
pid3=$!
two() { [ "$(ls "$DIR"/sock-*.sock | wc -l)" -eq 2 ]; }
wait_for 10 two || fail "same name: $(cat "$T/err4")"
SUB=$(ls "$DIR"/sock-*.sock | grep -vx "$DEF")
wait_for 10 listening "$SUB" || fail "same name: not listening"
listening "$DEF" || fail "same name: the first stopped listening"
# Of the two, ctl takes the one of a manifest in its working directory.
(cd "$T/sub" && "$PYT" ctl list) | grep -Eq '^process +other ' ||
    fail "ctl in sub/ did not find sub/sock.yaml's supervisor"
(cd "$T" && "$PYT" ctl list) | grep -Eq '^process +z ' ||
    fail "ctl in \$T did not find sock.yaml's supervisor"
(cd / && "$PYT" ctl list) 2>"$T/e" && fail "ctl in / chose one"
grep -q "2 supervisors listen in" "$T/e" || fail "in /: $(cat "$T/e")"
kill -TERM "$pid3"
wait "$pid3"
[ ! -e "$SUB" ] || fail "same name: socket left at exit"

# The socket is removed at exit.
kill -TERM "$BGPID"
wait_pyt 20
[ ! -e "$DEF" ] || fail "socket left at exit"

# A stale socket (nobody listening) is replaced.
python3 -c 'import socket, sys
s = socket.socket(socket.AF_UNIX)
s.bind(sys.argv[1])' "$DEF"
[ -S "$DEF" ] || fail "no stale socket made"
listening "$DEF" && fail "stale socket answers"
start_pyt --keep "$T/sock.yaml"
wait_for 10 listening "$DEF" || fail "stale socket not replaced: $(cat "$T/err")"
kill -TERM "$BGPID"
wait_pyt 20

# Not a socket in its place: refused, left alone.
echo keep >"$DEF"
run_pyt 10 "$T/sock.yaml"
expect_status 2
grep -q "$DEF exists and is not a socket" "$T/err" || fail "file: $(cat "$T/err")"
[ "$(cat "$DEF")" = keep ] || fail "the file was touched"
rm -f "$DEF"

# A directory others may enter: refused by both ends.
chmod 755 "$DIR"
run_pyt 10 "$T/sock.yaml"
expect_status 2
grep -q "$DIR has mode 0755, not 0700: refusing it" "$T/err" ||
    fail "dir mode: $(cat "$T/err")"
"$PYT" ctl list 2>"$T/e" && fail "ctl used an unsafe directory"
grep -q 'refusing it' "$T/e" || fail "ctl dir mode: $(cat "$T/e")"
chmod 700 "$DIR"
if [ "$(id -u)" = 0 ] && id nobody >/dev/null 2>&1; then
	chown nobody "$DIR"
	run_pyt 10 "$T/sock.yaml"
	expect_status 2
	grep -q "$DIR belongs to uid $(id -u nobody), not to us" "$T/err" ||
	    fail "dir owner: $(cat "$T/err")"
	chown 0 "$DIR"
fi

# -s with a relative path; children get it absolute. Too long a path fails.
(cd "$T" && exec "$PYT" --keep -s rel.sock "$T/sock.yaml" >"$T/out" 2>"$T/err") &
BGPID=$!
wait_for 10 listening "$T/rel.sock" || fail "relative -s"
wait_line 10 "$T/out" "s \\| PYTASKING_SOCKET=$T/rel.sock\$"
[ "$(stat -c %a "$T/rel.sock")" = 600 ] || fail "-s socket mode"
kill -TERM "$BGPID"
wait_pyt 20
[ ! -e "$T/rel.sock" ] || fail "relative socket left at exit"
long=$T/$(printf '%0120d' 0).sock
run_pyt 10 -s "$long" "$T/sock.yaml"
expect_status 2
grep -q 'socket path too long' "$T/err" || fail "long: $(cat "$T/err")"
"$PYT" ctl -s "$long" list 2>"$T/e"; [ $? -eq 1 ] || fail "ctl long: exit"
exit 0
