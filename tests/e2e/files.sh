# File outputs: rotation by size into PATH.1 ... PATH.N with whole lines
# only, and every file output reopened on SIGUSR1 (external rotation).
. "$(dirname "$0")/lib.sh"

manifest rot.yaml <<EOF2
version: 1
processes:
  spew:
    cmd: ["$PYT_HELPER", spew, "2000", "50"]
    stdout: {file: "$T/log", max_size: 4KiB, backups: 2}
tasks:
  t:
    run: [{repeat 300: ['echo "task line \$index"']}]
    stdout: [{file: "$T/tlog", max_size: 1k, backups: 1}]
EOF2
run_pyt 30 "$T/rot.yaml"
expect_status 0
for f in log log.1 log.2 tlog tlog.1; do
	[ -s "$T/$f" ] || fail "$f missing"
done
[ ! -e "$T/log.3" ] || fail "more backups than asked"
[ ! -e "$T/tlog.2" ] || fail "more task backups than asked"
for f in log log.1 log.2; do
	[ "$(wc -c <"$T/$f")" -le 4096 ] || fail "$f larger than max_size"
	awk 'length($0) != 50 || $0 !~ /^line-[0-9]+x+$/ { bad++ } END { exit bad > 0 }' \
	    "$T/$f" || fail "a torn line in $f"
done
tail -n 1 "$T/log" | grep -qx 'line-002000x*' || fail "last line not in the current file"
tail -n 1 "$T/tlog" | grep -qx 'task line 300' || fail "task rotation"

manifest reopen.yaml <<EOF2
version: 1
processes:
  w:
    shell: 'echo first; "$PYT_HELPER" wait-file "$T/go" 60; echo second'
    stdout: "file:$T/out.log"
EOF2
start_pyt "$T/reopen.yaml"
wait_line 10 "$T/out.log" '^first$'
mv "$T/out.log" "$T/out.log.old"
kill -USR1 "$BGPID"
wait_line 10 "$T/err" 'reopening output files'
: >"$T/go"
wait_pyt 20
expect_status 0
grep -qx second "$T/out.log" || fail "not reopened"
grep -q second "$T/out.log.old" && fail "written to the moved file"
exit 0
