# Relative cwd:, file: and env_file: paths resolve from the manifest's
# directory, wherever the supervisor is started; a missing cwd is named
# when the process cannot start; -c reports what the run would refuse on
# this machine (users, groups, output files) and warns of programs not in
# PATH.
. "$(dirname "$0")/lib.sh"

mkdir -p "$T/proj/work" "$T/proj/logs" "$T/elsewhere"
cat >"$T/proj/.env" <<'EOF2'
# a comment
GREETING=hello from the env file
QUOTED="two  spaces" # a comment after the value
SINGLE='$not_a_variable'
OVERRIDDEN=from the file
EOF2
cat >"$T/proj/app.yaml" <<EOF2
version: 1
env_file: .env
x-defaults: &defaults {autostart: true}
processes:
  api:
    cmd: ["$PYT_HELPER", env, GREETING, QUOTED, SINGLE, OVERRIDDEN]
    env: {OVERRIDDEN: from env}
    stdout: file:logs/api.log
  where:
    cmd: [pwd]
    cwd: work
    stdout: file:./logs/where.log
tasks:
  t:
    env_file: [.env]
    run: ['echo "task: \$GREETING"']
EOF2
(cd "$T/elsewhere" && "$PYT" -c ../proj/app.yaml) >"$T/out" 2>"$T/err" ||
    fail "-c: $(cat "$T/err")"
[ ! -s "$T/err" ] || fail "-c said: $(cat "$T/err")"
(cd "$T/elsewhere" && exec "$PYT" ../proj/app.yaml) >"$T/out" 2>"$T/err" &
BGPID=$!
wait_pyt 20
expect_status 0
grep -qx "GREETING=hello from the env file" "$T/proj/logs/api.log" ||
    fail "env_file: $(cat "$T/proj/logs/api.log")"
grep -qx "QUOTED=two  spaces" "$T/proj/logs/api.log" || fail "quoted value"
grep -qx 'SINGLE=$not_a_variable' "$T/proj/logs/api.log" || fail "single quotes"
grep -qx "OVERRIDDEN=from env" "$T/proj/logs/api.log" || fail "env: over env_file:"
[ "$(cat "$T/proj/logs/where.log")" = "$(cd "$T/proj/work" && pwd -P)" ] ||
    [ "$(cat "$T/proj/logs/where.log")" = "$T/proj/work" ] ||
    fail "cwd: $(cat "$T/proj/logs/where.log")"
grep -qx "t | task: hello from the env file" "$T/out" || fail "task env_file"
[ ! -e "$T/elsewhere/logs" ] || fail "a path resolved from the working directory"

# An env file that is missing or malformed: refused at its place.
printf 'GOOD=1\nthis is not a variable\nOPEN="unclosed\n' >"$T/proj/bad.env"
cat >"$T/proj/badenv.yaml" <<EOF2
version: 1
processes:
  a: {cmd: [true], env_file: [bad.env, missing.env]}
EOF2
(cd / && "$PYT" -c "$T/proj/badenv.yaml") >"$T/out" 2>"$T/err"
[ $? -eq 2 ] || fail "bad env file: exit"
P=$T/proj
cat >"$T/want" <<EOF2
$P/badenv.yaml:3:31: processes.a.env_file[0]: $P/bad.env:2: expected KEY=VALUE; got "this is not a variable"
$P/badenv.yaml:3:31: processes.a.env_file[0]: $P/bad.env:3: a quote is not closed
$P/badenv.yaml:3:40: processes.a.env_file[1]: cannot read $P/missing.env: No such file or directory
EOF2
diff -u "$T/want" "$T/err" >&2 || fail "bad env file diagnostics"

# A missing cwd is named when the process cannot start.
cat >"$T/proj/nocwd.yaml" <<EOF2
version: 1
processes:
  api: {cmd: [true], cwd: /no/such/dir}
EOF2
run_pyt 20 "$T/proj/nocwd.yaml"
expect_status 1
grep -q "api: cannot start: cwd /no/such/dir: no such file or directory" "$T/err" ||
    fail "cwd message: $(cat "$T/err")"

# -c: a user and a group that do not exist, an output file in a missing
# directory: errors, at their places; a program not in PATH: a warning.
cat >"$T/proj/host.yaml" <<EOF2
version: 1
processes:
  api:
    cmd: [no-such-program-pyt-test]
    user: no-such-user-pyt
    group: no-such-group-pyt
    stdout: file:nodir/api.log
EOF2
"$PYT" -c "$T/proj/host.yaml" >"$T/out" 2>"$T/err"
[ $? -eq 2 ] || fail "host: exit"
grep -qx "$P/host.yaml:4:11: warning: processes.api.cmd\\[0\\]: \"no-such-program-pyt-test\" not found in PATH" \
    "$T/err" || fail "host: cmd: $(cat "$T/err")"
if [ "$(id -u)" -eq 0 ]; then
	grep -qx "$P/host.yaml:5:11: processes.api.user: no such user \"no-such-user-pyt\"" \
	    "$T/err" || fail "host: user: $(cat "$T/err")"
	grep -qx "$P/host.yaml:6:12: processes.api.group: no such group \"no-such-group-pyt\"" \
	    "$T/err" || fail "host: group: $(cat "$T/err")"
else
	grep -q "^$P/host.yaml:5:11: processes.api.user: running as uid $(id -u), cannot switch users" \
	    "$T/err" || fail "host: user as non-root: $(cat "$T/err")"
fi
grep -qx "$P/host.yaml:7:13: processes.api.stdout: cannot write $P/nodir/api.log: $P/nodir: No such file or directory" \
    "$T/err" || fail "host: output: $(cat "$T/err")"
[ ! -s "$T/out" ] || fail "host: said ok"
exit 0
