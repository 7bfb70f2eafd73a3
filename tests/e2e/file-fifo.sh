# No file may block the loop: a file output naming a FIFO (with or
# without a reader), a socket or a directory is refused at once with the
# reason, other units and ctl go on, and a SIGHUP after the manifest was
# replaced by a FIFO is refused instead of waiting for a writer.
. "$(dirname "$0")/lib.sh"

SOCK=$T/s.sock
ctl() { timeout 10 "$PYT" ctl -s "$SOCK" "$@"; }

mkfifo "$T/noreader" "$T/stalled" || exit 77
# A reader that opens the FIFO and never reads.
sleep 1000 <>"$T/stalled" &
READER=$!
manifest m.yaml <<EOF2
version: 1
processes:
  a:
    cmd: ["$PYT_HELPER", echo, "to a fifo"]
    stdout: "file:$T/noreader"
  b:
    cmd: ["$PYT_HELPER", spew, "20000", "200"]
    stdout: "file:$T/stalled"
  c:
    cmd: ["$PYT_HELPER", echo, "to a directory"]
    stdout: "file:$T"
  live:
    shell: 'echo alive; exec "$PYT_HELPER" sleep 1000'
EOF2
start_pyt --keep -s "$SOCK" "$T/m.yaml"
wait_line 10 "$T/err" "a: cannot open output file $T/noreader: not a regular file or character device"
wait_line 10 "$T/err" "b: cannot open output file $T/stalled: not a regular file or character device"
wait_line 10 "$T/err" "c: cannot open output file $T: Is a directory"
wait_line 10 "$T/out" 'live \| alive'
wait_line 10 "$T/err" 'b: exited with status 0'
ctl list >"$T/list" || fail "ctl list while a FIFO is named"
grep -q '^process  *live  *running' "$T/list" || fail "live not running"

# The manifest becomes a FIFO nobody writes: the reload is refused.
mv "$T/m.yaml" "$T/m.yaml.real"
mkfifo "$T/m.yaml"
kill -HUP "$BGPID"
wait_line 10 "$T/err" 'reload refused.*not a regular file'
ctl list >/dev/null || fail "ctl list after a reload from a FIFO"
ctl shutdown >/dev/null || fail "shutdown"
wait_pyt 20
kill "$READER" 2>/dev/null
exit 0
