# --exit-code-from UNIT: the run ends when UNIT ends, everything else is
# stopped, and the status is UNIT's (128+N for a signal); an unknown unit
# is a usage error.
. "$(dirname "$0")/lib.sh"

cat >"$T/m.yaml" <<EOF2
version: 1
processes:
  tests: {cmd: ["$PYT_HELPER", sleep-exit, "0.3", "3"]}
  server: {cmd: ["$PYT_HELPER", sleep, "300"]}
  crash: {cmd: ["$PYT_HELPER", kill-self, "TERM"], autostart: false}
EOF2
run_pyt 20 --exit-code-from tests "$T/m.yaml"
expect_status 3
grep -q 'tests ended with status 3: stopping everything (--exit-code-from)' \
    "$T/err" || fail "no message"
grep -q 'server: stopped' "$T/err" || fail "server not stopped"
sed -i 's/sleep-exit, "0.3", "3"/sleep-exit, "0.3", "0"/; s/autostart: false/autostart: true/' "$T/m.yaml"
run_pyt 20 --exit-code-from crash "$T/m.yaml"
expect_status 143
run_pyt 20 --exit-code-from nosuch "$T/m.yaml"
expect_status 2
grep -q -- '--exit-code-from: no unit nosuch in' "$T/err" || fail "no reason"
exit 0
