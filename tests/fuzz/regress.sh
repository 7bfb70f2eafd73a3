# Inputs the fuzzers once failed on (tests/fuzz/regress/TARGET/*) go
# through the real binary: "pytasking-run --check" must load or refuse
# each one (exit 0 or 2), never crash or hang, and what "-cv" prints of
# one that loads must load again. A fuzz_manifest input is a
# manifest as it is; a fuzz_script input is a step line, embedded in a
# manifest as a step, as a block header and inside a block body. Builds
# nothing: "make fuzz" replays the same inputs through the fuzz targets.
. "$PYT_SRCDIR/tests/e2e/lib.sh"

[ -x "$PYT" ] || exit 77
REGRESS=$PYT_SRCDIR/tests/fuzz/regress

# yaml_quote FILE: the bytes of FILE up to the first NUL (what the step
# parser sees) as a YAML double-quoted scalar. Bytes past ASCII become
# \xNN escapes, that is U+0080..U+00FF: near enough for a replay.
yaml_quote() {
	od -An -v -tu1 "$1" | awk '
	BEGIN { printf "\"" }
	{
		for (i = 1; i <= NF; i++) {
			b = $i + 0
			if (b == 0) { done = 1; exit }
			if (b >= 32 && b < 127 && b != 34 && b != 92)
				printf "%c", b
			else
				printf "\\x%02x", b
		}
	}
	END { printf "\"" }'
}

# embed FILE: a manifest using the step line of FILE three ways.
embed() {
	q=$(yaml_quote "$1")
	cat <<EOF2
version: 1
tasks:
  t:
    autostart: false
    run:
      - $q
      - $q: ["echo x"]
      - loop: [$q]
EOF2
}

# check_once NAME ARGS...: pytasking-run ARGS under a hard timeout; exit
# status 0 or 2 only, and no sanitizer or assertion report.
check_once() {
	_name=$1
	shift
	run_pyt 20 "$@"
	case $STATUS in
	0|2) ;;
	*) fail "$_name: $* exited $STATUS (expected 0 or 2)" ;;
	esac
	if grep -Eq 'Sanitizer|runtime error|Assertion|==[0-9]+==' "$T/err"; then
		fail "$_name: a sanitizer or assertion report"
	fi
}

# replay NAME FILE: --check FILE. When it loads, what -cv prints must load
# too (as fuzz_manifest checks), unless it holds a "$" to expand again.
replay() {
	check_once "$1" --check "$2"
	if [ "$STATUS" = 0 ]; then
		check_once "$1" -cv "$2"
		cp "$T/out" "$T/printed.yaml"
		if ! grep -q '\$' "$T/printed.yaml"; then
			check_once "$1 (as printed by -cv)" --check \
			    "$T/printed.yaml"
			[ "$STATUS" = 0 ] ||
			    fail "$1: what -cv prints does not load"
		fi
	fi
	n=$((n + 1))
}

n=0
for f in "$REGRESS"/fuzz_manifest/*; do
	[ -f "$f" ] || continue
	replay "fuzz_manifest/${f##*/}" "$f"
done
for f in "$REGRESS"/fuzz_script/*; do
	[ -f "$f" ] || continue
	embed "$f" >"$T/step.yaml"
	replay "fuzz_script/${f##*/}" "$T/step.yaml"
done
echo "fuzz regressions: $n inputs replayed"
