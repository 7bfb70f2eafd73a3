#!/bin/sh
# Install the Debian (12, bookworm) packages needed to build pytasking-run
# and run its tests. A no-op when they are all present: apt-get is called
# only for what dpkg says is missing. Runs apt-get through sudo when not
# root. Usage: scripts/install-deps.sh
set -eu

# Build: compiler, autotools, the libraries (libuv, libyaml, ncurses for
# ctl top). Tests: cmocka, mandoc
# (man page lint), valgrind and clang (memory and compiler checks), procps
# (ps, pgrep in end-to-end tests), tmux and curl (ctl top in a real
# terminal, the metrics endpoint), python3 (JSON and socket checks in
# tests), util-linux and bsdutils (setpriv, unshare, script), hiredis and
# redis-server (Redis-backed queues and their tests). libc6-dbg lets
# valgrind start on Debian.
# libclang-rt-14-dev holds clang's sanitizer and libFuzzer runtimes, and
# llvm its llvm-symbolizer (file:line in sanitizer reports): both are only
# recommended by clang, so --no-install-recommends would leave them out.
PACKAGES="build-essential autoconf automake libtool pkg-config
libuv1-dev libyaml-dev libncurses-dev libcmocka-dev mandoc valgrind libc6-dbg clang procps
libclang-rt-14-dev llvm libhiredis-dev redis-server python3 util-linux
bsdutils tmux curl"

missing=
for p in $PACKAGES; do
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case $status in
    *" installed") ;;
    *) missing="$missing $p" ;;
  esac
done

if [ -z "$missing" ]; then
  echo "install-deps: all build and test dependencies are installed"
  exit 0
fi

echo "install-deps: missing:$missing"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-deps: apt-get not found: install these packages by hand:$missing" >&2
  exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
  as_root=
elif command -v sudo >/dev/null 2>&1; then
  as_root=sudo
else
  echo "install-deps: not root and sudo not found: run as root, or install:$missing" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
# shellcheck disable=SC2086 # $as_root and $missing split on purpose
$as_root env DEBIAN_FRONTEND=noninteractive apt-get update
# shellcheck disable=SC2086
$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y \
  --no-install-recommends $missing
echo "install-deps: installed:$missing"
