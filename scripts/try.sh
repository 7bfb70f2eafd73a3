#!/bin/sh
# Build pytasking-run and run an example: install missing Debian packages,
# generate and run configure (only the first time: the Makefile regenerates
# itself when configure.ac or Makefile.am change), make, then run
# configs/pipeline.yaml, which pipes "seq 1 100000" through a queue into
# "wc -l" and ends by itself. Usage: scripts/try.sh [MANIFEST]
set -eu
cd "$(dirname "$0")/.."

manifest=${1:-configs/pipeline.yaml}

./scripts/install-deps.sh
if [ ! -x configure ] || [ ! -f Makefile.in ]; then
  ./autogen.sh
fi
if [ ! -f config.status ] || [ ! -f Makefile ]; then
  ./configure
fi
make -j2

echo
echo "==> src/pytasking-run $manifest"
echo
sed -n '/^[^#]/,$p' "$manifest"
echo
status=0
src/pytasking-run "$manifest" || status=$?
echo
echo "==> pytasking-run exited with status $status"
exit "$status"
