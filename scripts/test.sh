#!/bin/sh
# Build pytasking-run and run every test, as CI does (.ci/run runs this):
# install missing Debian packages, regenerate the build, configure, make,
# "make check" (unit and end-to-end tests, layering, man page lint), then
# "make distcheck" (the release tarball builds and passes its tests too).
# Exits non-zero on the first failure, printing the logs of failed tests.
# Usage: scripts/test.sh   (extra configure options: CONFIGURE_FLAGS=...)
set -eu
cd "$(dirname "$0")/.."

step() {
  echo
  echo "==> $*"
}

# Print the logs the test harness kept of the failures under dir $1.
show_failures() {
  find "$1" -name test-suite.log -exec sh -c '
    for log; do printf "\n==> %s\n" "$log"; cat "$log"; done' sh {} + ||
    true
}

step "installing missing dependencies"
./scripts/install-deps.sh

step "./autogen.sh"
./autogen.sh

step "./configure ${CONFIGURE_FLAGS:-}"
# shellcheck disable=SC2086 # CONFIGURE_FLAGS splits into options
./configure ${CONFIGURE_FLAGS:-}

step "make -j2"
make -j2

step "make -j2 check"
if ! make -j2 check; then
  show_failures .
  echo
  echo "test.sh: make check failed" >&2
  exit 1
fi

step "make -j2 distcheck"
if ! make -j2 distcheck; then
  # A failed distcheck leaves its build tree (read-only) behind.
  for d in pytasking-run-*/; do
    [ -d "$d" ] && show_failures "$d"
  done
  echo
  echo "test.sh: make distcheck failed" >&2
  exit 1
fi

step "all tests passed"
