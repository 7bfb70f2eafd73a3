#!/bin/sh
# The man pages pass "mandoc -T lint -W warning" without a word. Skipped
# (exit 77) when mandoc is not available: configure sets MANDOC, empty
# when it found none; run by hand, mandoc is looked up in PATH.
set -u

srcdir=${PYT_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}
MANDOC=${MANDOC-$(command -v mandoc || true)}

if [ -z "$MANDOC" ] || ! command -v "$MANDOC" >/dev/null 2>&1; then
  echo "manlint: mandoc not found: skipped (install mandoc and re-run configure)"
  exit 77
fi

out=$("$MANDOC" -T lint -W warning \
  "$srcdir/man/pytasking-run.1" "$srcdir/man/pytasking.yaml.5" 2>&1)
if [ -n "$out" ]; then
  echo "$out" >&2
  echo "manlint: mandoc -T lint found problems in the man pages" >&2
  exit 1
fi
echo "manlint: man pages are clean"
