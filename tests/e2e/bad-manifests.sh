# Every bad manifest under tests/fixtures/bad is refused by --check with
# exit status 2 and exactly the diagnostics of its golden .err file; and
# files that cannot be read, or are too large, are refused the same way.
. "$(dirname "$0")/lib.sh"

[ -x "$PYT" ] || exit 77
BAD=${PYT_FIXTURES:-$(dirname "$0")/../fixtures}/bad
[ -d "$BAD" ] || fail "no fixtures in $BAD"
BADDIR=$(cd "$BAD" && pwd -P)

# check NAME WANT_FILE: run --check on NAME from inside $BAD; compare.
check() {
	STATUS=0
	(cd "$BAD" && exec "$PYT" --check "$1") >"$T/out" 2>"$T/err.raw" ||
	    STATUS=$?
	# Relative paths resolve from the manifest's directory: @BAD@ there.
	sed "s#$BADDIR/#@BAD@/#g" "$T/err.raw" >"$T/err"
	if [ "$STATUS" != 2 ]; then
		echo "FAIL: $1: exit status $STATUS, expected 2" >&2
		return 1
	fi
	if [ -s "$T/out" ]; then
		echo "FAIL: $1: unexpected output on stdout:" >&2
		cat "$T/out" >&2
		return 1
	fi
	if ! cmp -s "$2" "$T/err"; then
		echo "FAIL: $1: diagnostics differ from $(basename "$2"):" >&2
		diff -u "$2" "$T/err" >&2
		return 1
	fi
	return 0
}

unset PYT_FIXTURE_UNSET_DIR
n=0
failed=0
for y in "$BAD"/*.yaml; do
	[ -f "$y" ] || fail "no *.yaml in $BAD"
	name=$(basename "$y" .yaml)
	[ -f "$BAD/$name.err" ] || { echo "FAIL: $name.err is missing" >&2;
	    failed=$((failed + 1)); continue; }
	n=$((n + 1))
	check "$name.yaml" "$BAD/$name.err" || failed=$((failed + 1))
done
[ "$n" -ge 25 ] || fail "only $n bad manifests"

# A file that is not there, or not a file.
printf '%s\n' "missing.yaml: cannot read: No such file or directory" \
    >"$T/want"
check missing.yaml "$T/want" || failed=$((failed + 1))
mkdir "$T/dir.yaml"
printf '%s\n' "$T/dir.yaml: cannot read: Is a directory" >"$T/want"
check "$T/dir.yaml" "$T/want" || failed=$((failed + 1))

# A file over the size limit is refused before it is parsed.
awk 'BEGIN { for (i = 0; i < 70000; i++) printf "# %061d\n", i }' \
    >"$T/big.yaml"
printf '%s\n' "$T/big.yaml: file too large (more than 4194304 bytes)" \
    >"$T/want"
check "$T/big.yaml" "$T/want" || failed=$((failed + 1))

rm -f "$T/out" "$T/err" "$T/err.raw"
[ "$failed" = 0 ] || fail "$failed of $n bad manifests gave other diagnostics"
exit 0
