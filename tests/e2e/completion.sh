# Shell completion: completion/pytasking-run, sourced by bash, completes
# options, ctl commands, and the units and queues of a running supervisor.
. "$(dirname "$0")/lib.sh"
command -v bash >/dev/null 2>&1 || { echo "no bash: skipped"; exit 77; }

COMPLETION=${PYT_COMPLETION:-$(dirname "$0")/../../completion/pytasking-run}
[ -f "$COMPLETION" ] || fail "no $COMPLETION"
COMPLETION=$(cd "$(dirname "$COMPLETION")" && pwd)/$(basename "$COMPLETION")
mkdir "$T/bin"
ln -s "$PYT" "$T/bin/pytasking-run"

manifest c.yaml <<EOF2
version: 1
queues:
  jobs: {capacity: 10}
processes:
  web: {cmd: ["$PYT_HELPER", sleep, "1000"], stdout: jobs}
  pool: {cmd: ["$PYT_HELPER", sleep, "1000"], stdin: jobs, replicas: 2}
EOF2
start_pyt --keep -s "$T/c.sock" "$T/c.yaml"
wait_for 10 "$PYT" ctl -s "$T/c.sock" list || fail "not listening"

# complete WORDS...: what bash completes for the last word (maybe empty).
complete_words() {
	PATH=$T/bin:$PATH bash --norc --noprofile -c '
		shopt -s extglob
		. "$1"; shift
		COMP_WORDS=("$@")
		COMP_CWORD=$(($# - 1))
		_pytasking_run
		printf "%s\n" "${COMPREPLY[@]}" | sort' sh "$COMPLETION" "$@"
}
want() {
	got=$(complete_words "$@" | tr '\n' ' ')
	[ "$got" = "$WANT" ] || fail "complete '$*': want '$WANT', got '$got'"
}
cd "$T" || fail "cd"
WANT='ctl ' want pytasking-run ct
WANT='--check ' want pytasking-run --che
WANT='json text ' want pytasking-run --log-format ''
WANT='c.yaml ' want pytasking-run c.
WANT='scale shutdown signal start status stop ' want pytasking-run ctl -s "$T/c.sock" s
WANT='pool pool.1 pool.2 web ' want pytasking-run ctl -s "$T/c.sock" status ''
WANT='pool.1 pool.2 ' want pytasking-run ctl -s "$T/c.sock" stop pool.
WANT='jobs ' want pytasking-run ctl -s "$T/c.sock" put ''
WANT='--no-wait ' want pytasking-run ctl -s "$T/c.sock" stop --no
WANT='USR1 USR2 ' want pytasking-run ctl -s "$T/c.sock" signal web US
WANT='--follow ' want pytasking-run ctl -s "$T/c.sock" logs --fo
WANT='web ' want pytasking-run ctl -s "$T/c.sock" logs -n 5 w
WANT='top ' want pytasking-run ctl -s "$T/c.sock" to
WANT='proc task ' want pytasking-run ctl -s "$T/c.sock" add ''
WANT='jobs ' want pytasking-run ctl -s "$T/c.sock" add proc x --stdin ''
kill -TERM "$BGPID"
wait_pyt 20
exit 0
