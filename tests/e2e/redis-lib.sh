# Helpers of the Redis end-to-end tests, sourced after lib.sh: each
# scenario starts its own redis-server on a free loopback port, in a
# directory of $T, with no persistence unless asked, and stops it at exit.
# A build without Redis support skips (77). So does a machine without
# redis-server, except in CI ($CI set): there a missing server fails.

if [ "${PYT_HAVE_REDIS:-yes}" = no ]; then
	echo "SKIP: this build has no Redis support (configured --without-redis)"
	exit 77
fi

REDIS_PID=
REDIS_PORT=
REDIS_ARGS=
# Supervisors a scenario starts besides BGPID: killed at exit.
EXTRA_PIDS=
redis_cleanup() {
	for _p in $EXTRA_PIDS; do kill -KILL "$_p" 2>/dev/null; done
	if [ -n "$REDIS_PID" ]; then
		kill -KILL "$REDIS_PID" 2>/dev/null
		wait "$REDIS_PID" 2>/dev/null
	fi
	cleanup
}
trap redis_cleanup EXIT

# need_redis: skip, or fail in CI, when redis-server or redis-cli is missing.
need_redis() {
	if command -v redis-server >/dev/null 2>&1 &&
	    command -v redis-cli >/dev/null 2>&1; then
		return 0
	fi
	if [ -n "${CI:-}" ]; then
		echo "FAIL: redis-server is not installed and CI is set" \
		    "(scripts/install-deps.sh installs it)" >&2
		exit 1
	fi
	echo "SKIP: redis-server not installed (apt-get install redis-server)"
	exit 77
}

# rcli ARGS...: redis-cli on the test's server.
rcli() {
	redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ${REDIS_AUTH:+-a "$REDIS_AUTH"} \
	    --no-auth-warning "$@"
}

redis_up() {
	[ "$(rcli ping 2>/dev/null)" = PONG ]
}

# The server on REDIS_PORT is the one we started, not another test's that
# got the port first (ours then fails to bind and exits).
redis_ours() {
	rcli info server 2>/dev/null | tr -d '\r' |
	    grep -qx "process_id:$REDIS_PID"
}

# A port number in 20000..32767: below Linux's ephemeral ports (32768
# and up), which connections of parallel tests take, and which a client
# retrying a server that is down may connect to itself on.
random_port() {
	_r=$(od -An -N2 -tu2 /dev/urandom | tr -d ' ')
	echo $((20000 + _r % 12768))
}

# Start redis-server on REDIS_PORT (or a free port) with extra ARGS, and
# wait until it answers. Sets REDIS_PID, REDIS_PORT, REDIS_URL.
redis_launch() {
	mkdir -p "$T/redis"
	redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' \
	    --appendonly no --dir "$T/redis" --daemonize no $REDIS_ARGS \
	    >>"$T/redis.log" 2>&1 &
	REDIS_PID=$!
	_end=$(deadline 10)
	while ! redis_ours; do
		if pid_gone "$REDIS_PID"; then
			wait "$REDIS_PID" 2>/dev/null
			REDIS_PID=
			return 1
		fi
		[ "$(date +%s)" -le "$_end" ] || fail "redis-server does not answer"
		sleep 0.02
	done
	REDIS_URL=redis://127.0.0.1:$REDIS_PORT/0
	return 0
}

# start_redis [ARGS...]: a fresh server on a free loopback port.
start_redis() {
	need_redis
	REDIS_ARGS="$*"
	_tries=0
	while :; do
		REDIS_PORT=$(random_port)
		redis_launch && return 0
		_tries=$((_tries + 1))
		[ "$_tries" -lt 20 ] || fail "no free port for redis-server"
	done
}

# stop_redis_saving: shut the server down, saving its data to $T/redis.
stop_redis_saving() {
	rcli shutdown save >/dev/null 2>&1
	wait_for 10 pid_gone "$REDIS_PID" || fail "redis-server does not stop"
	wait "$REDIS_PID" 2>/dev/null
	REDIS_PID=
}

# restart_redis: start it again, same port and directory (and data).
restart_redis() {
	redis_launch || fail "redis-server cannot start again on $REDIS_PORT"
}

# start_sup NAME ARGS...: a supervisor in the background, output in
# $T/NAME.out and $T/NAME.err; sets SUP_PID and adds it to EXTRA_PIDS.
start_sup() {
	_n=$1; shift
	"$PYT" "$@" >"$T/$_n.out" 2>"$T/$_n.err" &
	SUP_PID=$!
	EXTRA_PIDS="$EXTRA_PIDS $SUP_PID"
}

# check_items FILE N MAXDUP: FILE holds every number 1..N, each at least
# once, and at most MAXDUP lines more; sets DUP to the duplicates.
check_items() {
	sort -n -u "$1" >"$T/uniq"
	seq 1 "$2" >"$T/expected"
	cmp -s "$T/uniq" "$T/expected" ||
	    fail "items lost: $(wc -l <"$T/uniq") distinct of $2"
	DUP=$(( $(wc -l <"$1") - $2 ))
	[ "$DUP" -le "$3" ] || fail "$DUP duplicates (at most $3 expected)"
}
