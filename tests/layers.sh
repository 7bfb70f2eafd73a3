#!/bin/sh
# The layering rule of STYLE.md, section 1: a file in src/ includes only
# project headers of its own layer or a lower one; <yaml.h> only in
# manifest-yaml.c; <uv.h> never in L0 or L1; control and ctl (with their
# control-* and ctl-*) never include each other; sv-int.h only in
# supervisor.c and sv-*.c; manifest-yaml-int.h only in manifest-yaml.c and
# yaml-*.c; ctl-int.h only in ctl.c and ctl-*.c; control-int.h only in
# control.c and control-*.c; wire-int.h only in wire.c, outlet.c and
# inlet.c; within L0, xmalloc includes no other module, buf only xmalloc,
# and log nothing above buf. Every file in src/ must be given a layer
# here, so a new file is classified when it is added.
# Exit 0 when the rule holds, 1 otherwise.
set -u

srcdir=${PYT_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}

# The layer of a module (a file name without its directory and suffix).
layer() {
  case $1 in
  arena|xmalloc|log|util|buf|diag|interp|logring|filesink|guard) echo 0 ;;
  manifest|manifest-check|manifest-print|manifest-cmp|manifest-pack) echo 1 ;;
  manifest-host) echo 1 ;;
  queue|lines|unit|script|ctlproto|rstream|rates|metrics|gauge) echo 1 ;;
  manifest-yaml-int|yaml-*) echo 2 ;;
  manifest-yaml|proc|task|scheduler|loop|notify|ready|reaper|chainload|redisq|rconn) echo 2 ;;
  console) echo 2 ;;
  wire|wire-int|outlet|inlet|supervisor|sv-*|sampler) echo 3 ;;
  control|control-*|ctl|ctl-*|metrics-http) echo 4 ;;
  main) echo 5 ;;
  esac
}

# The order at the bottom of L0: xmalloc, then buf, then log. xmalloc
# and buf include only those before them; log no module after it.
base_rank() {
  case $1 in
  xmalloc) echo 0 ;;
  buf) echo 1 ;;
  log) echo 2 ;;
  esac
}

# Print one line per breach of the rule in file $1.
check_file() {
  base=${1##*/}
  mod=${base%.*}
  me=$(layer "$mod")
  if [ -z "$me" ]; then
    echo "src/$base: no layer assigned: add \"$mod\" to tests/layers.sh"
    return
  fi
  # Each include as "LINE q HEADER" ("HEADER") or "LINE s HEADER" (<HEADER>).
  grep -n '^[[:space:]]*#[[:space:]]*include' "$1" |
    sed -n 's/^\([0-9]*\):[^"<]*"\([^"]*\)".*/\1 q \2/p
        s/^\([0-9]*\):[^"<]*<\([^>]*\)>.*/\1 s \2/p' |
    while read -r line kind hdr; do
      at="src/$base:$line"
      if [ "$kind" = s ]; then
        case $hdr in
        yaml.h) [ "$base" = manifest-yaml.c ] ||
          echo "$at: only manifest-yaml.c may include <yaml.h>" ;;
        uv.h|uv/*) [ "$me" -gt 1 ] ||
          echo "$at: L$me file includes <$hdr>: libuv starts at L2" ;;
        esac
        continue
      fi
      hbase=${hdr##*/}
      hmod=${hbase%.h}
      [ "$hbase" = config.h ] && continue
      them=$(layer "$hmod")
      if [ -z "$them" ]; then
        echo "$at: includes \"$hdr\", a header of no known layer"
      elif [ "$them" -gt "$me" ]; then
        echo "$at: L$me file includes \"$hdr\" of L$them"
      fi
      mr=$(base_rank "$mod")
      hr=$(base_rank "$hmod")
      if [ -n "$mr" ] && [ "$mod" != "$hmod" ]; then
        if [ -n "$hr" ]; then
          [ "$hr" -gt "$mr" ] && bad=1 || bad=0
        else
          [ "$mod" != log ] && bad=1 || bad=0
        fi
        [ "$bad" -eq 1 ] &&
          echo "$at: $mod is below \"$hdr\" (xmalloc, buf, log)"
      fi
      case $mod/$hmod in
      control/ctl|control/ctl-*|control-*/ctl|control-*/ctl-*|\
      ctl/control|ctl/control-*|ctl-*/control|ctl-*/control-*)
        echo "$at: control and ctl must not include each other" ;;
      esac
      case $mod/$hbase in
      supervisor/sv-int.h|sv-*/sv-int.h) ;;
      */sv-int.h)
        echo "$at: sv-int.h is private to supervisor.c and sv-*.c" ;;
      esac
      case $mod/$hbase in
      manifest-yaml/manifest-yaml-int.h|yaml-*/manifest-yaml-int.h) ;;
      */manifest-yaml-int.h)
        echo "$at: manifest-yaml-int.h is private to manifest-yaml.c" \
          "and yaml-*.c" ;;
      esac
      case $mod/$hbase in
      ctl/ctl-int.h|ctl-*/ctl-int.h) ;;
      */ctl-int.h)
        echo "$at: ctl-int.h is private to ctl.c and ctl-*.c" ;;
      esac
      case $mod/$hbase in
      control/control-int.h|control-*/control-int.h) ;;
      */control-int.h)
        echo "$at: control-int.h is private to control.c and" \
          "control-*.c" ;;
      esac
      case $mod/$hbase in
      wire/wire-int.h|outlet/wire-int.h|inlet/wire-int.h) ;;
      */wire-int.h)
        echo "$at: wire-int.h is private to wire.c, outlet.c and inlet.c" ;;
      esac
    done
}

nfiles=0
for f in "$srcdir"/src/*.c "$srcdir"/src/*.h; do
  [ -f "$f" ] && nfiles=$((nfiles + 1))
done
if [ "$nfiles" -eq 0 ]; then
  echo "layers: no source files under $srcdir/src" >&2
  exit 1
fi
report=$(for f in "$srcdir"/src/*.c "$srcdir"/src/*.h; do
  [ -f "$f" ] && check_file "$f"
done)
if [ -n "$report" ]; then
  echo "$report" | sed 's/^/layers: /' >&2
  exit 1
fi
echo "layers: $nfiles files in src/ follow the layering rule"
