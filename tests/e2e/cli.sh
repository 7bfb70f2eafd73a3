# The command line: help, version, usage errors, unreadable manifests.
. "$(dirname "$0")/lib.sh"

"$PYT" --help >"$T/help" || fail "--help failed"
for opt in --check --verbose --help --version; do
	grep -q -- "$opt" "$T/help" || fail "--help does not list $opt"
done
"$PYT" --version | grep -Eq '^pytasking-run [0-9]+\.[0-9]+' || fail "--version"

STATUS=0; "$PYT" >/dev/null 2>"$T/err" || STATUS=$?
expect_status 2
grep -q "missing MANIFEST" "$T/err" || fail "no manifest: no message"

STATUS=0; "$PYT" --bogus x.yaml >/dev/null 2>"$T/err" || STATUS=$?
expect_status 2

STATUS=0; "$PYT" "$T/none.yaml" >/dev/null 2>"$T/err" || STATUS=$?
expect_status 2
grep -q "none.yaml" "$T/err" || fail "missing file not named"
exit 0
