#!/bin/sh
# Stands in for the unit tests when configure found no cmocka, so that
# "make check" fails with a clear message rather than passing without them.
echo "cmocka not found: install libcmocka-dev (or run scripts/install-deps.sh) and re-run configure" >&2
exit 1
