# --check loads and validates a manifest and runs nothing: the one-line
# summary on stdout, exit 0, no process started. With -v it prints the
# resolved manifest (defaults filled in, variables interpolated), which is
# itself a manifest that loads back to the same thing.
. "$(dirname "$0")/lib.sh"

[ -x "$PYT" ] || exit 77
GOOD=${PYT_FIXTURES:-$(dirname "$0")/../fixtures}/good
[ -d "$GOOD" ] || fail "no fixtures in $GOOD"

PYT_CHECK_MARKER=$T/marker
export PYT_CHECK_MARKER

# check_ok FILE: --check FILE from inside its directory passes quietly.
check_ok() {
	STATUS=0
	(cd "$(dirname "$1")" && exec "$PYT" --check "$(basename "$1")") \
	    >"$T/out" 2>"$T/err" || STATUS=$?
	expect_status 0
	grep -Eq "^$(basename "$1"): ok: [0-9]+ process(es)?, [0-9]+ tasks?, [0-9]+ queues?\$" \
	    "$T/out" || fail "$1: no summary line"
	[ "$(wc -l <"$T/out")" -eq 1 ] || fail "$1: more than the summary"
}

# Every good fixture passes, with the right summary line.
for y in "$GOOD"/*.yaml; do
	check_ok "$y"
done
check_ok "$GOOD/seed.yaml"
[ "$(cat "$T/out")" = "seed.yaml: ok: 1 process, 3 tasks, 1 queue" ] ||
    fail "seed.yaml: summary: $(cat "$T/out")"
[ -s "$T/err" ] && fail "seed.yaml: unexpected diagnostics"
check_ok "$GOOD/full.yaml"
[ "$(cat "$T/out")" = "full.yaml: ok: 3 processes, 2 tasks, 3 queues" ] ||
    fail "full.yaml: summary: $(cat "$T/out")"
check_ok "$GOOD/minimal.yaml"
[ "$(cat "$T/out")" = "minimal.yaml: ok: 0 processes, 0 tasks, 0 queues" ] ||
    fail "minimal.yaml: summary: $(cat "$T/out")"

# Nothing runs: the processes of creates-file.yaml would touch the marker.
check_ok "$GOOD/creates-file.yaml"
[ "$(cat "$T/out")" = "creates-file.yaml: ok: 2 processes, 1 task, 0 queues" ] ||
    fail "creates-file.yaml: summary: $(cat "$T/out")"
"$PYT" --check -v "$GOOD/creates-file.yaml" >/dev/null 2>&1 ||
    fail "--check -v creates-file.yaml failed"
[ -e "$PYT_CHECK_MARKER" ] && fail "--check ran a process"
[ -e "$PYT_CHECK_MARKER.sh" ] && fail "--check ran a shell process"
# The test means something: run for real, the same manifest makes it.
run_pyt 20 "$GOOD/creates-file.yaml"
expect_status 0
[ -e "$PYT_CHECK_MARKER" ] || fail "running creates-file.yaml made no file"

# Warnings go to stderr and do not fail the check.
check_ok "$GOOD/warnings.yaml"
cat >"$T/want" <<'EOW'
warnings.yaml:5:3: warning: queues.q1: processes a -> q1 -> b -> q2 -> a form a cycle that can deadlock when full
warnings.yaml:7:3: warning: queues.unread: no consumer: no stdin, get or for names this queue
EOW
cmp -s "$T/want" "$T/err" || { diff -u "$T/want" "$T/err" >&2;
    fail "warnings.yaml: other warnings"; }

# -v: the resolved manifest, with defaults and interpolated values.
PYT_CHECK_COUNT=42 PYT_CHECK_CWD=$T "$PYT" --check -v "$GOOD/full.yaml" \
    >"$T/resolved.yaml" 2>"$T/err" || fail "--check -v full.yaml failed"
for want in \
    'drain_timeout: 2s' \
    'cmd: \["seq", "1", "42"\]' \
    "cwd: \"$T\"" \
    'stderr: "file:/tmp/gen.log"' \
    'restart: never' \
    'autostart: true' \
    'stop_signal: TERM' \
    'stop_timeout: 10s' \
    'max_restarts: unlimited' \
    'backoff: \{initial: 100ms, max: 30s\}' \
    'stdin: null' \
    'success_codes: \[0\]' \
    'min_uptime: 0s' \
    'capacity: 1024' \
    'cancel_timeout: 5s' \
    'on_cancel: \[\]' \
    'shell: "while read -r l; do echo \\"\$l\\" \| tr 0-9 a-j; done"'
do
	grep -Eq -- "^ *$want\$" "$T/resolved.yaml" ||
	    fail "--check -v: no line /$want/"
done
grep -q 'PYT_CHECK' "$T/resolved.yaml" && fail "--check -v: not interpolated"

# It parses: --check accepts it, with the same counts, and printing it
# again changes nothing.
(cd "$T" && exec "$PYT" --check resolved.yaml) >"$T/out" 2>"$T/err" ||
    fail "the resolved manifest does not load: $(cat "$T/err")"
[ "$(cat "$T/out")" = "resolved.yaml: ok: 3 processes, 2 tasks, 3 queues" ] ||
    fail "resolved.yaml: summary: $(cat "$T/out")"
"$PYT" --check -v "$T/resolved.yaml" >"$T/again.yaml" 2>"$T/err" ||
    fail "--check -v resolved.yaml failed"
cmp -s "$T/resolved.yaml" "$T/again.yaml" || {
	diff -u "$T/resolved.yaml" "$T/again.yaml" >&2
	fail "printing the resolved manifest again changed it"
}
for y in "$GOOD"/*.yaml; do
	"$PYT" --check -v "$y" >"$T/r.yaml" 2>/dev/null ||
	    fail "--check -v $y failed"
	"$PYT" --check "$T/r.yaml" >/dev/null 2>"$T/err" ||
	    fail "--check -v $y: output does not load: $(cat "$T/err")"
done
exit 0
