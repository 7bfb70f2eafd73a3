#!/bin/sh
# Run the libFuzzer targets built by "make fuzz" (see Makefile.am).
# Usage: run.sh WORKDIR SECONDS SRCDIR TARGET...
# For each TARGET (a binary WORKDIR/TARGET): replay every input kept in
# SRCDIR/tests/fuzz/regress/TARGET, then fuzz for SECONDS from the seed
# corpus, keeping new inputs in WORKDIR/corpus-TARGET (never in SRCDIR).
# FUZZ_SEED=N in the environment fixes libFuzzer's random seed (CI does,
# so that a run explores what the same seed explored on a developer's
# machine); without it libFuzzer draws one. Either way it is printed.
# Any crash, leak, timeout or sanitizer report fails; the input is left
# as WORKDIR/TARGET-crash-* (or -leak-, -timeout-) to be copied into
# tests/fuzz/regress/TARGET/ with a note of what it found, and printed
# in base64, so that a failure seen only in a log can be replayed.
set -u
[ $# -ge 4 ] || { echo "usage: run.sh WORKDIR SECONDS SRCDIR TARGET..." >&2; exit 2; }
work=$1 secs=$2 srcdir=$3
shift 3
fuzzdir=$srcdir/tests/fuzz
status=0

# seeds TARGET: the seed directories of TARGET, one a line. The manifest
# seeds are copied, less the two alias bombs (billion-laughs.yaml,
# alias-text-bomb.yaml): each costs up to a second a run under the
# sanitizers, and their mutants would eat the time.
seeds() {
	case $1 in
	fuzz_manifest)
		rm -rf "$work/seed-$1"
		mkdir -p "$work/seed-$1"
		for f in "$srcdir"/configs/*.yaml \
		    "$srcdir"/tests/fixtures/good/*.yaml \
		    "$srcdir"/tests/fixtures/bad/*.yaml; do
			case $f in
			*/billion-laughs.yaml | */alias-text-bomb.yaml) continue ;;
			esac
			_d=${f%/*}
			cp "$f" "$work/seed-$1/${_d##*/}-${f##*/}"
		done
		echo "$work/seed-$1"
		;;
	fuzz_script)
		echo "$fuzzdir/corpus/script"
		;;
	fuzz_ctlproto)
		echo "$fuzzdir/corpus/ctlproto"
		;;
	fuzz_filesink)
		echo "$fuzzdir/corpus/filesink"
		;;
	esac
	[ -d "$fuzzdir/regress/$1" ] && echo "$fuzzdir/regress/$1"
}

# dict and max_len of TARGET.
options() {
	case $1 in
	fuzz_manifest) echo "-dict=$fuzzdir/manifest.dict -max_len=8192" ;;
	fuzz_script) echo "-dict=$fuzzdir/script.dict -max_len=1024" ;;
	fuzz_ctlproto) echo "-dict=$fuzzdir/ctlproto.dict -max_len=4096" ;;
	fuzz_filesink) echo "-max_len=512" ;;
	esac
}

# replay TARGET BIN LOG: run BIN once on each regression input of TARGET.
replay() {
	_t=$1 _bin=$2 _log=$3
	set -- "$fuzzdir/regress/$_t"/*
	[ -e "$1" ] || return 0
	"$_bin" -runs=1 "$@" >"$_log" 2>&1 || return 1
	echo "fuzz: $_t: replayed $# regression input(s)"
}

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"

for t in "$@"; do
	bin=$work/$t
	log=$work/$t.log
	[ -x "$bin" ] || { echo "fuzz: $bin: not built" >&2; status=1; continue; }

	# Replay the regression inputs first: each one once crashed.
	if ! replay "$t" "$bin" "$log"; then
		echo "fuzz: $t: a regression input fails again:" >&2
		tail -n 60 "$log" >&2
		status=1
		continue
	fi

	mkdir -p "$work/corpus-$t"
	start=$(date +%s)
	seedopt=
	[ -n "${FUZZ_SEED:-}" ] && seedopt=-seed=$FUZZ_SEED
	# Inputs left by an earlier run are older than this.
	: >"$work/$t.stamp"
	# shellcheck disable=SC2046,SC2086 # options and seeds split on purpose
	"$bin" $(options "$t") $seedopt -max_total_time="$secs" -timeout=10 \
	    -rss_limit_mb=2048 -print_final_stats=1 \
	    -artifact_prefix="$work/$t-" "$work/corpus-$t" $(seeds "$t") \
	    >"$log" 2>&1
	rc=$?
	end=$(date +%s)
	runs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$log" | tail -n 1)
	seed=$(sed -n 's/^INFO: Seed: \([0-9]*\).*/\1/p' "$log" | head -n 1)
	cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1)
	if [ "$rc" -ne 0 ]; then
		echo "fuzz: $t: FAILED (exit $rc) after $((end - start))s," \
		    "seed ${seed:-?}:" >&2
		# The report, less libFuzzer's progress lines and dictionary:
		# its head (the target's own words, the first frames) and its
		# tail (the summary).
		grep -v -E '^(#[0-9]+|INFO:|Dictionary:|"|###|stat::)' "$log" \
		    >"$log.report"
		if [ "$(wc -l <"$log.report")" -gt 160 ]; then
			head -n 100 "$log.report" >&2
			echo "[...]" >&2
			tail -n 40 "$log.report" >&2
		else
			cat "$log.report" >&2
		fi
		find "$work" -maxdepth 1 -type f -newer "$work/$t.stamp" \
		    \( -name "$t-crash-*" -o -name "$t-leak-*" -o \
		    -name "$t-timeout-*" -o -name "$t-oom-*" -o \
		    -name "$t-slow-unit-*" \) | while read -r f; do
			echo "fuzz: $f, $(wc -c <"$f") bytes, in base64" \
			    "(base64 -d to replay it):" >&2
			head -c 16384 "$f" | base64 >&2
		done
		echo "fuzz: keep the input above as" \
		    "tests/fuzz/regress/$t/NAME (see tests/fuzz/README)" >&2
		status=1
		continue
	fi
	echo "fuzz: $t: ${runs:-?} executions in $((end - start))s," \
	    "seed ${seed:-?}, ${cov:-cov: ?}," \
	    "$(ls "$work/corpus-$t" | wc -l) new corpus inputs, no finding"
done
exit $status
