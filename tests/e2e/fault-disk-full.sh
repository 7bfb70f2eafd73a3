# Full disk and unwritable files (as root: tmpfs mounts). "full" writes
# 200 kB into a 64 kB tmpfs, then, once the test frees room, three lines
# more; "procw" writes into /proc/version (every write fails: EIO); "ro"
# and the task "tfull" have their file in a read-only mount (open fails:
# EROFS). Each failure is reported once (and the
# recovery, with the bytes lost), nobody crashes or hangs, no line in a
# file is glued to a torn one, and "ok", which writes to a file and the
# console, gets every line through.
. "$(dirname "$0")/lib.sh"

mkdir "$T/tiny" "$T/ro"
if ! mount -t tmpfs -o size=64k tmpfs "$T/tiny" 2>/dev/null; then
	echo "SKIP: cannot mount a tmpfs (needs root)" >&2
	exit 77
fi
if ! mount -t tmpfs -o ro,size=64k tmpfs "$T/ro" 2>/dev/null; then
	umount "$T/tiny"
	echo "SKIP: cannot mount a read-only tmpfs" >&2
	exit 77
fi
trap 'umount "$T/tiny" "$T/ro"; cleanup' EXIT
# 24 kB of room is taken now and given back later ("full" waits for that
# for 300s, far past the scaled waits of this test before it comes).
head -c 24576 /dev/zero >"$T/tiny/filler"

manifest disk.yaml <<EOF2
version: 1
processes:
  full:
    shell: '"$PYT_HELPER" spew 2000 99; "$PYT_HELPER" wait-file "$T/freed" 300 && "$PYT_HELPER" lines after-1 after-2 after-3'
    stdout: "file:$T/tiny/full.log"
  procw:
    cmd: ["$PYT_HELPER", spew, "100"]
    stdout: "file:/proc/version"
  ro:
    cmd: ["$PYT_HELPER", spew, "100"]
    stdout: "file:$T/ro/ro.log"
  ok:
    cmd: ["$PYT_HELPER", spew, "1000", "40"]
    stdout: ["file:$T/ok.log", inherit]
tasks:
  tfull:
    run:
      - repeat 1000:
          - echo task-line-\$index-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
    stdout: "file:$T/ro/task.log"
EOF2
start_pyt "$T/disk.yaml"
wait_line 20 "$T/err" "full: writing to $T/tiny/full.log"
wait_line 20 "$T/err" "tfull: cannot open output file $T/ro/task.log"
wait_line 20 "$T/err" 'procw: writing to /proc/version'
wait_line 20 "$T/err" "ro: cannot open output file $T/ro/ro.log"
wait_line 20 "$T/err" 'tfull: stopped|tfull: exited with status 0'
rm "$T/tiny/filler"
: >"$T/freed"
wait_pyt 30
expect_status 0
grep -Eq "full: writing to $T/tiny/full.log again; [0-9]+ bytes were lost" "$T/err" ||
    fail "full: the recovery was not reported"
tail -n 3 "$T/tiny/full.log" | tr '\n' ' ' | grep -q 'after-1 after-2 after-3' ||
    fail "full: the lines after the recovery are missing: $(tail -c 200 "$T/tiny/full.log")"
# The write that hit the full disk may leave a torn line, but what comes
# after the recovery must not be glued to it: every line is after-N, or a
# spew line (99 bytes) or a beginning of one.
awk 'length($0) > 99 || !/^(after-[123]|l|li|lin|line|line-[0-9]*|line-[0-9][0-9][0-9][0-9][0-9][0-9]x*)$/ {
	print substr($0, 1, 16) "..." substr($0, length($0) - 15); exit }' "$T/tiny/full.log" >"$T/mixed"
[ ! -s "$T/mixed" ] ||
    fail "full.log: the torn line of the failed write was glued to the next: $(cat "$T/mixed")"
# One warning per failure, not one per line.
for w in "full: writing to $T/tiny/full.log: " 'procw: writing to /proc/version: '; do
	n=$(grep -cF "$w" "$T/err")
	[ "$n" = 1 ] || fail "\"$w\" reported $n times"
done
grep -q 'No space left on device' "$T/err" || fail "ENOSPC not named"
grep -q 'Read-only file system' "$T/err" || fail "EROFS not named"
for u in full procw ro ok; do
	grep -q "$u: exited with status 0" "$T/err" || fail "$u did not end normally"
done
# ok is unaffected: every line in its file and on the console.
seq -f 'line-%06g' 1 1000 | awk '{ s = $0; while (length(s) < 40) s = s "x"; print s }' >"$T/expected"
cmp -s "$T/ok.log" "$T/expected" || fail "ok.log differs from the 1000 lines written"
[ "$(count_lines "$T/out" '^ok \| line-[0-9]{6}x+$')" = 1000 ] || fail "ok's console lines"
exit 0
