# Running processes: prefixed output, state lines, exit status 0 and 1.
. "$(dirname "$0")/lib.sh"

manifest ok.yaml <<EOF2
version: 1
processes:
  one: {cmd: ["$PYT_HELPER", echo, hello from one]}
  two: {cmd: ["$PYT_HELPER", print-err, hello from two]}
  three: {shell: 'echo "shell says \$0"'}
EOF2
run_pyt 20 "$T/ok.yaml"
expect_status 0
grep -qx "one | hello from one" "$T/out" || fail "one's line"
grep -qx "two | hello from two" "$T/err" || fail "two's stderr line"
grep -qx "three | shell says three" "$T/out" || fail "three's line"
grep -Eq "pytasking-run: one: started \(pid [0-9]+\)" "$T/err" || fail "started line"
grep -q "pytasking-run: one: exited with status 0" "$T/err" || fail "exit line"

manifest bad.yaml <<EOF2
version: 1
processes:
  good: {cmd: ["$PYT_HELPER", exit, "0"]}
  bad: {cmd: ["$PYT_HELPER", exit, "3"]}
EOF2
run_pyt 20 "$T/bad.yaml"
expect_status 1
grep -q "pytasking-run: bad: exited with status 3" "$T/err" || fail "bad exit line"

# A process killed by a signal nobody asked for has failed.
manifest killed.yaml <<EOF2
version: 1
processes:
  k: {shell: 'kill -SEGV \$\$'}
EOF2
run_pyt 20 "$T/killed.yaml"
expect_status 1
grep -q "k: killed by signal SEGV" "$T/err" || fail "killed line"

# autostart: false units are not started; nothing to run ends at once.
manifest idle.yaml <<EOF2
version: 1
processes:
  lazy: {cmd: ["$PYT_HELPER", touch, "$T/lazy"], autostart: false}
EOF2
run_pyt 20 "$T/idle.yaml"
expect_status 0
[ ! -e "$T/lazy" ] || fail "autostart: false was started"

# env and cwd, with interpolation from our environment.
mkdir "$T/wd"
manifest env.yaml <<EOF2
version: 1
processes:
  e:
    shell: 'echo "\$GREETING \$(pwd) \$PYTASKING_UNIT"'
    cwd: "$T/wd"
    env: {GREETING: "\${PYT_TEST_GREETING:-hi}-\${PYT_TEST_NAME}"}
EOF2
PYT_TEST_NAME=world run_pyt 20 "$T/env.yaml"
expect_status 0
grep -qx "e | hi-world $T/wd e" "$T/out" || fail "env/cwd line"
exit 0
