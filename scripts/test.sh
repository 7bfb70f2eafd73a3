#!/bin/sh
# Build pytasking-run and run every test, as CI does (.ci/run runs this):
#  1. install missing Debian packages, regenerate the build, configure, make;
#  2. "make check" (unit and end-to-end tests, layering, man page lint);
#  3. "make distcheck" (the release tarball builds and passes its tests);
#  4. the whole "make check" again in a build with AddressSanitizer,
#     UndefinedBehaviorSanitizer and LeakSanitizer (clang, from the tarball);
#  5. the end-to-end suite with the supervisor under valgrind memcheck:
#     zero errors and zero definite or indirect leaks;
#  6. "make fuzz": each libFuzzer target for FUZZ_SECONDS (60) seconds
#     from the fixed seed FUZZ_SEED;
#  7. "make chaos": random operations against the supervisor built with
#     sanitizers, for CHAOS_SECONDS (60) seconds from the fixed seed
#     CHAOS_SEED.
# The seeds are fixed so that CI judges the change, not the luck of the
# draw: a run explores what the same seeds explored before the change was
# pushed. Fresh seeds are for developers, long before pushing: "make fuzz"
# and "make chaos" draw one when none is given, and print it.
#  8. "make bench-smoke": the benchmarks, once, at a small size.
# Each phase prints its name and duration; a summary closes the run. Exits
# non-zero on the first failure, printing the logs of the failed tests.
# Usage: scripts/test.sh   (extra configure options: CONFIGURE_FLAGS=...;
# FUZZ_SECONDS=N; FUZZ_SEED=N; CHAOS_SECONDS=N; CHAOS_SEED=N;
# SKIP="san valgrind fuzz chaos bench"
# leaves phases out)
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
CHAOS_SECONDS=${CHAOS_SECONDS:-60}
FUZZ_SEED=${FUZZ_SEED:-20261206}
CHAOS_SEED=${CHAOS_SEED:-20261206}
SKIP=${SKIP:-}
summary=
t_all=$(date +%s)

# phase NAME: start a phase; done_phase records how long it took.
phase() {
	phase_name=$1
	t_phase=$(date +%s)
	echo
	echo "==> $phase_name"
}
done_phase() {
	_d=$(($(date +%s) - t_phase))
	echo "==> $phase_name: ${_d}s"
	summary="$summary$(printf '%6ss  %s' "$_d" "$phase_name")
"
}
skipped() {
	case " $SKIP " in *" $1 "*) echo "==> $1: skipped (SKIP)"; return 0 ;; esac
	return 1
}
print_summary() {
	echo
	echo "==> phase timings"
	printf '%s' "$summary"
	printf '%6ss  total\n' "$(($(date +%s) - t_all))"
}

# Print the logs the test harness kept of the failures under dir $1.
show_failures() {
	find "$1" -name test-suite.log -exec sh -c '
	    for log; do printf "\n==> %s\n" "$log"; cat "$log"; done' sh {} + ||
	    true
}

# die MESSAGE: report, print the timings so far, and fail.
die() {
	echo
	echo "test.sh: $*" >&2
	print_summary
	exit 1
}

phase "installing missing dependencies"
./scripts/install-deps.sh
done_phase

phase "./autogen.sh && ./configure ${CONFIGURE_FLAGS:-} && make -j2"
./autogen.sh
# shellcheck disable=SC2086 # CONFIGURE_FLAGS splits into options
./configure ${CONFIGURE_FLAGS:-}
make -j2
done_phase

phase "make -j2 check"
if ! make -j2 check; then
	show_failures .
	die "make check failed"
fi
done_phase

phase "make -j2 distcheck"
if ! make -j2 distcheck; then
	# A failed distcheck leaves its build tree (read-only) behind.
	for d in pytasking-run-*/; do
		[ -d "$d" ] && show_failures "$d"
	done
	die "make distcheck failed"
fi
done_phase

# Scratch space for the sanitizer build and the valgrind logs.
work=$(mktemp -d "${TMPDIR:-/tmp}/pyt-ci.XXXXXX")
trap 'chmod -R u+w "$work" 2>/dev/null; rm -rf "$work"' EXIT

# The sanitizer build is made from the tarball distcheck just proved: the
# source tree here is configured in place, and automake refuses a second,
# out-of-tree build of a configured tree.
if ! skipped san; then
	phase "make -j2 check with ASan, UBSan and LSan (clang)"
	tarball=$(ls -t pytasking-run-*.tar.gz | head -n 1)
	tar -xzf "$tarball" -C "$work"
	san=$work/${tarball%.tar.gz}
	(cd "$san" && ./configure -q --enable-sanitizers CC=clang && make -j2) ||
	    die "the sanitizer build failed"
	# Reports go to files too, so one from a run whose exit status no
	# test looks at (a process stopped by a signal) still fails. LSan is
	# on by default: ASAN_OPTIONS leaves detect_leaks unset, so a program
	# can turn it off for itself with __asan_default_options (the test
	# helper must: its exit-time check ptrace-stops it, and the SIGCONT
	# that follows a stop signal can wedge that check until SIGKILL).
	mkdir -p "$work/san-logs"
	if ! (cd "$san" &&
	    ASAN_OPTIONS=abort_on_error=0:detect_stack_use_after_return=1:log_path=$work/san-logs/asan \
	    UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$work/san-logs/ubsan \
	    PYT_TIMEOUT_SCALE=3 PYT_SANITIZED=1 make -j2 check); then
		show_failures "$san"
		cat "$work"/san-logs/* 2>/dev/null || true
		die "make check with sanitizers failed"
	fi
	if [ -n "$(ls "$work/san-logs")" ]; then
		for f in "$work"/san-logs/*; do
			printf '\n==> %s\n' "$f"
			cat "$f"
		done
		die "sanitizer reports (above)"
	fi
	done_phase
fi

# The supervisor runs under memcheck through a wrapper named by PYT (lib.sh
# runs "$PYT" ARGS); TESTS_ENVIRONMENT comes after the Makefile's own
# AM_TESTS_ENVIRONMENT, so it wins. Each run logs to its own file; with -q
# a log holds only errors, so any non-empty log fails the phase, even from
# a test that does not look at the exit status. Children are not traced:
# they are other programs (the helper, sh, seq).
if ! skipped valgrind; then
	phase "end-to-end tests under valgrind memcheck"
	vg=$work/valgrind
	mkdir -p "$vg/logs"
	cat >"$vg/pytasking-run" <<EOF
#!/bin/sh
exec valgrind -q --leak-check=full --show-leak-kinds=definite,indirect \\
    --errors-for-leak-kinds=definite,indirect --error-exitcode=99 \\
    --trace-children=no --child-silent-after-fork=yes \\
    --log-file="$vg/logs/vg.%p.log" "$top/src/pytasking-run" "\$@"
EOF
	chmod +x "$vg/pytasking-run"
	rc=0
	# shellcheck disable=SC2016 # $(E2E_TESTS) is make's, not the shell's
	make -j2 check TESTS='$(E2E_TESTS) tests/fuzz/regress.sh' \
	    TESTS_ENVIRONMENT="PYT='$vg/pytasking-run'; export PYT; PYT_TIMEOUT_SCALE=10; export PYT_TIMEOUT_SCALE; PYT_SANITIZED=1; export PYT_SANITIZED; PYT_VALGRIND=1; export PYT_VALGRIND;" ||
	    rc=$?
	nlogs=$(find "$vg/logs" -name 'vg.*.log' | wc -l)
	# valgrind 3.19 does not know pidfd_open (434): it says so and fails
	# the call, and the supervisor falls back to kill(2). Those warning
	# lines are not findings; drop them before judging the logs.
	for f in "$vg"/logs/vg.*.log; do
		[ -s "$f" ] || continue
		awk '/unhandled amd64-linux syscall: 434/ { skip = 1 }
		    !skip { print }
		    skip && /valgrind.org\/support\/bug_reports/ { skip = 0 }' \
		    "$f" >"$f.kept" || true
		mv "$f.kept" "$f"
	done
	bad=$(find "$vg/logs" -name 'vg.*.log' -size +0 | sort)
	if [ -n "$bad" ]; then
		for f in $bad; do
			printf '\n==> %s\n' "$f"
			cat "$f"
		done
		die "valgrind found errors or leaks (logs above)"
	fi
	if [ "$rc" -ne 0 ]; then
		show_failures .
		die "the end-to-end tests failed under valgrind"
	fi
	[ "$nlogs" -gt 0 ] || die "valgrind never ran (no logs in $vg/logs)"
	echo "valgrind: $nlogs runs of pytasking-run, no error, no leak"
	done_phase
fi

if ! skipped fuzz; then
	phase "make fuzz FUZZ_SECONDS=$FUZZ_SECONDS FUZZ_SEED=$FUZZ_SEED"
	FUZZ_SEED=$FUZZ_SEED make fuzz FUZZ_SECONDS="$FUZZ_SECONDS" ||
	    die "make fuzz failed"
	done_phase
fi

if ! skipped chaos; then
	phase "make chaos CHAOS_SECONDS=$CHAOS_SECONDS CHAOS_SEED=$CHAOS_SEED"
	CHAOS_SEED=$CHAOS_SEED make chaos CHAOS_SECONDS="$CHAOS_SECONDS" ||
	    die "make chaos failed"
	done_phase
fi

# The benchmarks once at small sizes: fails only when a workload errors.
if ! skipped bench; then
	phase "make bench-smoke"
	make bench-smoke || die "make bench-smoke failed"
	done_phase
fi

print_summary
echo
echo "==> all tests passed"
