#!/bin/sh
# Benchmarks of pytasking-run against the physical baseline of the same
# run, and against supervisord and s6 when they are installed.
#
#   run.sh full     every workload at full size, BENCH_RUNS (5) runs each
#   run.sh smoke    small sizes, one run, no peers: a few seconds, for CI;
#                   fails only when a workload errors, never on a ratio
#
# Needs PYT (the binary) and BENCH_BIN (where bench-child and bench-tool
# were built); "make bench" and "make bench-smoke" set both. bench-tool
# does the timing, the hard timeouts and the killing of leftovers; this
# script writes the configurations, checks every result and prints the
# table. Set BENCH_PEERS=0 to skip supervisord and s6, BENCH_ONLY to a
# space-separated list of workloads (spawn pipe fair fanout idle stop load
# restart).

set -u
MODE=${1:-full}
: "${PYT:?PYT must name the pytasking-run binary}"
: "${BENCH_BIN:?BENCH_BIN must name the directory of bench-child and bench-tool}"
CHILD=$BENCH_BIN/bench-child
TOOL=$BENCH_BIN/bench-tool
for f in "$PYT" "$CHILD" "$TOOL"; do
	[ -x "$f" ] || { echo "run.sh: $f is missing; build it first" >&2; exit 2; }
done

case $MODE in
full)
	RUNS=${BENCH_RUNS:-5}
	N_SPAWN=1000 N_LINES=2000000 N_IDLE=100 N_TASKS=10000 IDLE_SECS=10
	N_STOP=1000 LOAD_MIB=256 N_RESTART=1000 SETTLE=1
	N_JOBS=400 JOB_MS=10 N_FAN=1000000
	PEERS=${BENCH_PEERS:-1}
	;;
smoke)
	RUNS=${BENCH_RUNS:-1}
	N_SPAWN=100 N_LINES=100000 N_IDLE=20 N_TASKS=1000 IDLE_SECS=1
	N_STOP=100 LOAD_MIB=8 N_RESTART=50 SETTLE=0.2
	N_JOBS=80 JOB_MS=10 N_FAN=100000
	PEERS=${BENCH_PEERS:-0}
	;;
*)
	echo "usage: run.sh full|smoke" >&2
	exit 2
	;;
esac
ONLY=${BENCH_ONLY:-spawn pipe fair fanout idle stop load restart}
LINE_LEN=64

T=$(mktemp -d "${TMPDIR:-/tmp}/pyt-bench.XXXXXX") || exit 2
TOOLPID=
cleanup() {
	# bench-tool kills every process it started when it is signalled.
	if [ -n "$TOOLPID" ]; then kill -TERM "$TOOLPID" 2>/dev/null; wait "$TOOLPID" 2>/dev/null; fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

FAILED=0
: >"$T/results"
: >"$T/rows"
: >"$T/notes"

note() { echo "$*" >>"$T/notes"; }

# err WORKLOAD SYSTEM MESSAGE: a workload is broken; the suite will fail.
err() {
	echo "run.sh: $1 ($2): $3" >&2
	for f in "$T/tool.out" "$T/err"; do
		[ -s "$f" ] && { echo "--- $f" >&2; tail -n 15 "$f" >&2; }
	done
	echo "$1|$2|ERR" >>"$T/results"
	FAILED=1
}

# row KEY KIND UNIT TARGET LABEL: a line of the table, in order. KIND t: a
# time in seconds (ratio = baseline / value, so higher is better); r: a
# rate (ratio = value / baseline); v: a plain value (no baseline).
row() { printf '%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5" >>"$T/rows"; }

record() { echo "$1|$2|$3" >>"$T/results"; }

# tool ARGS...: run bench-tool (interruptibly), its output in tool.out.
tool() {
	"$TOOL" "$@" >"$T/tool.out" 2>"$T/tool.err" &
	TOOLPID=$!
	wait "$TOOLPID"
	_rc=$?
	TOOLPID=
	cat "$T/tool.err" >>"$T/tool.out"
	return $_rc
}

# get KEY: a value from the last tool.out.
get() { sed -n "s/^$1=//p" "$T/tool.out" | head -n 1; }

fsize() { if [ -f "$1" ]; then wc -c <"$1" | tr -d ' '; else echo 0; fi; }

want() { case " $ONLY " in *" $1 "*) return 0 ;; esac; return 1; }

have_sup() { [ "$PEERS" = 1 ] && command -v supervisord >/dev/null 2>&1; }
have_s6() { [ "$PEERS" = 1 ] && command -v s6-svscan >/dev/null 2>&1; }

# ------------------------------------------------------------ configs

# pyt_procs FILE N ARGS...: N one-line process entries (no header).
pyt_procs() {
	_f=$1 _n=$2 _extra=$3; shift 3
	_cmd="[$CHILD"
	for _a in "$@"; do _cmd="$_cmd, \"$_a\""; done
	_cmd="$_cmd]"
	_i=1
	while [ "$_i" -le "$_n" ]; do
		echo "  p$_i: {cmd: $_cmd$_extra}"
		_i=$((_i + 1))
	done >>"$_f"
}

# sup_conf FILE: the [supervisord] part. Its own log is kept at warn, as
# our stderr goes to /dev/null (generous to supervisord: it formats
# nothing).
sup_conf() {
	mkdir -p "$T/sup"
	cat >"$1" <<EOF
[supervisord]
nodaemon=true
logfile=$T/sup/supervisord.log
logfile_maxbytes=0
loglevel=warn
pidfile=$T/sup/supervisord.pid
childlogdir=$T/sup
minfds=8192
EOF
}

# sup_prog FILE NAME NUMPROCS COMMAND EXTRA-LINES
sup_prog() {
	cat >>"$1" <<EOF
[program:$2]
command=$4
numprocs=$3
process_name=%(program_name)s_%(process_num)d
autostart=true
startsecs=0
stopwaitsecs=10
$5
EOF
}

# s6_dir N ONESHOT ARGS...: a scan directory of N services running
# bench-child ARGS (run is a symlink to it; it reads ./bench-args). A
# one-shot service has a finish that exits 125: s6-supervise then does
# not restart it.
s6_dir() {
	_n=$1 _once=$2; shift 2
	rm -rf "$T/scan"
	mkdir -p "$T/scan"
	_i=1
	while [ "$_i" -le "$_n" ]; do
		_d=$T/scan/s$_i
		mkdir "$_d"
		ln -s "$CHILD" "$_d/run"
		[ "$_once" = 1 ] && ln -s "$CHILD" "$_d/finish"
		printf '%s\n' "$@" >"$_d/bench-args"
		_i=$((_i + 1))
	done
}

s6_scan() { echo "s6-svscan -c $(($1 * 2 + 16)) $T/scan"; }

# ----------------------------------------------------------- workloads

# spawn: N one-shot processes from one manifest, time until all ran (the
# supervisor exits once every one was reaped). Each child appends a byte
# to a file, which proves it ran.
bench_spawn() {
	tick=$T/tick
	row spawn t s ">=0.7" "spawn $N_SPAWN (stdout/stderr null)"
	row spawn-inh t s ">=0.7" "spawn $N_SPAWN (stdout/stderr inherit)"
	row spawn-err t s "" "spawn $N_SPAWN (null; our stderr to a file)"
	m=$T/spawn.yaml mi=$T/spawn-inh.yaml
	echo "version: 1" >"$m"; echo "processes:" >>"$m"
	pyt_procs "$m" "$N_SPAWN" ", stdout: null, stderr: null" tick "$tick"
	echo "version: 1" >"$mi"; echo "processes:" >>"$mi"
	pyt_procs "$mi" "$N_SPAWN" "" tick "$tick"
	if have_sup; then
		c=$T/sup-spawn.conf
		sup_conf "$c"
		sup_prog "$c" p "$N_SPAWN" "$CHILD tick $tick" \
		    "autorestart=false
stdout_logfile=NONE
stderr_logfile=NONE"
	fi
	have_s6 && s6_dir "$N_SPAWN" 1 tick "$tick"
	r=1
	while [ "$r" -le "$RUNS" ]; do
		rm -f "$tick"
		if tool spawnloop "$N_SPAWN" "$CHILD" tick "$tick" &&
		    [ "$(fsize "$tick")" = "$N_SPAWN" ]; then
			v=$(get time); for k in spawn spawn-inh spawn-err; do record $k base "$v"; done
		else
			err spawn base "spawn loop failed"
		fi
		for k in spawn spawn-inh spawn-err; do
			rm -f "$tick"
			case $k in
			spawn) tool run -T 120 -- "$PYT" "$m" ;;
			spawn-inh) tool run -T 120 -- "$PYT" "$mi" ;;
			spawn-err) tool run -T 120 -e "$T/err" -- "$PYT" "$m" ;;
			esac
			if [ $? -eq 0 ] && [ "$(fsize "$tick")" = "$N_SPAWN" ]; then
				record $k pyt "$(get wall)"
			else
				err $k pyt "status or tick count wrong ($(fsize "$tick"))"
			fi
		done
		if have_sup; then
			rm -f "$tick"
			if tool run -T 300 -F "$tick:$N_SPAWN" -s -x any -- \
			    supervisord -c "$c"; then
				record spawn sup "$(get ready)"
			else
				err spawn sup "supervisord run failed"
			fi
		fi
		if have_s6; then
			rm -f "$tick"
			# shellcheck disable=SC2046
			if tool run -T 300 -F "$tick:$N_SPAWN" -s -x any -- \
			    $(s6_scan "$N_SPAWN"); then
				record spawn s6 "$(get ready)"
			else
				err spawn s6 "s6-svscan run failed"
			fi
		fi
		r=$((r + 1))
	done
	[ -f "$T/err" ] && note "spawn: our stderr to a file: $(wc -l <"$T/err" | tr -d ' ') lines, $(fsize "$T/err") bytes per run."
}

# pipe: N lines of 64 bytes from a producer to a consumer that counts
# them, through a queue, against the shell's pipe; then the producer
# alone, its output through our console (stdout: inherit, to a file) and
# straight to a file (stdout: file:PATH), against the producer writing to
# the file itself.
bench_pipe() {
	row pipe t s ">=0.5" "pipe $N_LINES x ${LINE_LEN}B via a queue"
	row pipe-inh t s "" "pipe $N_LINES x ${LINE_LEN}B, stdout: inherit > file"
	row pipe-file t s "" "pipe $N_LINES x ${LINE_LEN}B, stdout: file:PATH"
	bytes=$((N_LINES * LINE_LEN))
	out=$T/out
	cat >"$T/pipe.yaml" <<EOF
version: 1
queues:
  q: {}
processes:
  prod: {cmd: [$CHILD, produce, "$N_LINES", "$LINE_LEN"], stdout: q}
  cons: {cmd: [$CHILD, count], stdin: q}
EOF
	cat >"$T/pipe-inh.yaml" <<EOF
version: 1
processes:
  prod: {cmd: [$CHILD, produce, "$N_LINES", "$LINE_LEN"]}
EOF
	cat >"$T/pipe-file.yaml" <<EOF
version: 1
processes:
  prod: {cmd: [$CHILD, produce, "$N_LINES", "$LINE_LEN"], stdout: "file:$out"}
EOF
	if have_sup; then
		c=$T/sup-pipe.conf
		sup_conf "$c"
		sup_prog "$c" prod 1 "$CHILD produce $N_LINES $LINE_LEN" \
		    "autorestart=false
stdout_logfile=$out
stdout_logfile_maxbytes=0
stdout_logfile_backups=0
stderr_logfile=NONE"
	fi
	r=1
	while [ "$r" -le "$RUNS" ]; do
		if tool run -T 120 -m "$N_LINES" -- sh -c \
		    "'$CHILD' produce $N_LINES $LINE_LEN | '$CHILD' count" &&
		    [ "$(get line0)" = "$N_LINES" ]; then
			record pipe base "$(get mark0)"
		else
			err pipe base "shell pipe failed"
		fi
		if tool run -T 120 -m "cons | " -- "$PYT" "$T/pipe.yaml" &&
		    [ "$(get line0)" = "cons | $N_LINES" ]; then
			record pipe pyt "$(get mark0)"
		else
			err pipe pyt "wrong count: $(get line0)"
		fi
		rm -f "$out"
		if tool run -T 120 -o "$out" -- "$CHILD" produce "$N_LINES" "$LINE_LEN" &&
		    [ "$(fsize "$out")" = "$bytes" ]; then
			record pipe-inh base "$(get wall)"
			record pipe-file base "$(get wall)"
		else
			err pipe-file base "producer failed"
		fi
		rm -f "$out"
		if tool run -T 120 -o "$out" -- "$PYT" "$T/pipe-inh.yaml" &&
		    [ "$(wc -l <"$out" | tr -d ' ')" = "$N_LINES" ] &&
		    [ "$(head -c 7 "$out")" = "prod | " ]; then
			record pipe-inh pyt "$(get wall)"
		else
			err pipe-inh pyt "console output wrong"
		fi
		rm -f "$out"
		if tool run -T 120 -- "$PYT" "$T/pipe-file.yaml" &&
		    [ "$(fsize "$out")" = "$bytes" ]; then
			record pipe-file pyt "$(get wall)"
		else
			err pipe-file pyt "output file wrong ($(fsize "$out"))"
		fi
		if have_sup; then
			rm -f "$out"
			if tool run -T 300 -F "$out:$bytes" -s -x any -- \
			    supervisord -c "$c"; then
				record pipe-inh sup "$(get ready)"
			else
				err pipe-inh sup "supervisord run failed"
			fi
		fi
		if have_s6; then
			# A service's stdout is s6-svscan's: the file itself.
			s6_dir 1 1 produce "$N_LINES" "$LINE_LEN"
			rm -f "$out"
			# shellcheck disable=SC2046
			if tool run -T 300 -o "$out" -F "$out:$bytes" -s -x any -- \
			    $(s6_scan 1); then
				record pipe-file s6 "$(get ready)"
			else
				err pipe-file s6 "s6-svscan run failed"
			fi
		fi
		r=$((r + 1))
	done
	have_sup && note "pipe: supervisord has no way to pipe one program into another; it is measured capturing stdout to its log file (the inherit row)."
	have_s6 && note "pipe: s6 pipes a service into its logger with a raw pipe that s6-svscan keeps open, so the consumer never sees end of stream (and no queue guarantee holds); s6 is measured with the service writing to s6-svscan's stdout, a file (the file row)."
}

# idle: N_IDLE sleeping processes, then N_TASKS idle tasks (and one, for
# the difference): CPU used over IDLE_SECS once all started and SETTLE
# seconds passed (the last "started" line comes before the tasks' first
# steps have run), and memory.
bench_idle() {
	row idle-cpu v ms "<5" "idle $N_IDLE processes: CPU in ${IDLE_SECS}s"
	row idle-rss v KiB "<4096" "idle $N_IDLE processes: RSS (VmRSS)"
	row idle-hwm v KiB "" "idle $N_IDLE processes: peak RSS (VmHWM)"
	row idle-pss v KiB "" "idle $N_IDLE processes: PSS, all supervisor procs"
	row idle-tcpu v ms "<5" "idle $N_TASKS tasks: CPU in ${IDLE_SECS}s"
	row idle-trss v KiB "" "idle $N_TASKS tasks: RSS (VmRSS)"
	row idle-task v B "<1024" "idle task: RSS per task"
	m=$T/idle.yaml
	echo "version: 1" >"$m"; echo "processes:" >>"$m"
	pyt_procs "$m" "$N_IDLE" ", stdout: null, stderr: null" sleep
	for n in 1 "$N_TASKS"; do
		f=$T/tasks-$n.yaml
		echo "version: 1" >"$f"; echo "tasks:" >>"$f"
		i=1
		while [ "$i" -le "$n" ]; do
			echo "  t$i: {run: [sleep 1h]}"
			i=$((i + 1))
		done >>"$f"
	done
	if have_sup; then
		c=$T/sup-idle.conf
		sup_conf "$c"
		sup_prog "$c" p "$N_IDLE" "$CHILD sleep" "autorestart=false
stdout_logfile=NONE
stderr_logfile=NONE"
	fi
	r=1
	while [ "$r" -le "$RUNS" ]; do
		if tool run -T $((IDLE_SECS + 120)) -P "$N_IDLE:bench-child" \
		    -W "$SETTLE" -i "$IDLE_SECS" -s -- "$PYT" "$m"; then
			record idle-cpu pyt "$(get idle_cpu_ms)"
			record idle-rss pyt "$(get rss_kb)"
			record idle-hwm pyt "$(get hwm_kb)"
			record idle-pss pyt "$(get pss_kb)"
		else
			err idle pyt "idle run failed"
		fi
		if tool run -T $((IDLE_SECS + 120)) -E "1:: started" -i 0 -s -- \
		    "$PYT" "$T/tasks-1.yaml"; then
			one=$(get rss_kb)
		else
			err idle-task pyt "one task run failed"
			one=0
		fi
		if tool run -T $((IDLE_SECS + 120)) -E "$N_TASKS:: started" \
		    -W "$SETTLE" -i "$IDLE_SECS" -s -- "$PYT" "$T/tasks-$N_TASKS.yaml"; then
			record idle-tcpu pyt "$(get idle_cpu_ms)"
			record idle-trss pyt "$(get rss_kb)"
			record idle-task pyt $(( ($(get rss_kb) - one) * 1024 / (N_TASKS - 1) ))
		else
			err idle-task pyt "task run failed"
		fi
		if have_sup; then
			if tool run -T $((IDLE_SECS + 300)) -P "$N_IDLE:bench-child" \
			    -W "$SETTLE" -i "$IDLE_SECS" -s -x any -- supervisord -c "$c"; then
				record idle-cpu sup "$(get idle_cpu_ms)"
				record idle-rss sup "$(get rss_kb)"
				record idle-hwm sup "$(get hwm_kb)"
				record idle-pss sup "$(get pss_kb)"
			else
				err idle sup "supervisord run failed"
			fi
		fi
		if have_s6; then
			s6_dir "$N_IDLE" 0 sleep
			# shellcheck disable=SC2046
			if tool run -T $((IDLE_SECS + 300)) -P "$N_IDLE:bench-child" \
			    -a s6-supervise -W "$SETTLE" -i "$IDLE_SECS" -s -x any -- \
			    $(s6_scan "$N_IDLE"); then
				record idle-cpu s6 "$(get idle_cpu_ms)"
				record idle-rss s6 "$(get rss_kb)"
				record idle-hwm s6 "$(get hwm_kb)"
				record idle-pss s6 "$(get pss_kb)"
				s6m=$(get members)
			else
				err idle s6 "s6-svscan run failed"
			fi
		fi
		r=$((r + 1))
	done
	have_s6 && note "idle: s6 is s6-svscan plus one s6-supervise per service (${s6m:-?} processes); its CPU, RSS and PSS are their sums (the RSS sum counts shared pages once per process; PSS does not)."
}

# stop: N_STOP sleeping processes; from SIGTERM to the supervisor's exit
# with every one of them reaped (bench-tool is a subreaper and waits for
# any leftover too).
bench_stop() {
	row stop t s ">=0.67" "stop $N_STOP processes (SIGTERM to all reaped)"
	m=$T/stop.yaml
	echo "version: 1" >"$m"; echo "processes:" >>"$m"
	pyt_procs "$m" "$N_STOP" ", stdout: null, stderr: null" sleep
	if have_sup; then
		c=$T/sup-stop.conf
		sup_conf "$c"
		sup_prog "$c" p "$N_STOP" "$CHILD sleep" "autorestart=false
stdout_logfile=NONE
stderr_logfile=NONE"
	fi
	have_s6 && s6_dir "$N_STOP" 0 sleep
	r=1
	while [ "$r" -le "$RUNS" ]; do
		if tool stoploop "$N_STOP" "$CHILD" sleep; then
			record stop base "$(get time)"
		else
			err stop base "stop loop failed"
		fi
		if tool run -T 120 -P "$N_STOP:bench-child" -s -- "$PYT" "$m"; then
			record stop pyt "$(get stop)"
		else
			err stop pyt "stop run failed"
		fi
		if have_sup; then
			if tool run -T 300 -P "$N_STOP:bench-child" -s -x any -- \
			    supervisord -c "$c"; then
				record stop sup "$(get stop)"
			else
				err stop sup "supervisord run failed"
			fi
		fi
		if have_s6; then
			# shellcheck disable=SC2046
			if tool run -T 300 -P "$N_STOP:bench-child" -s -x any -- \
			    $(s6_scan "$N_STOP"); then
				record stop s6 "$(get stop)"
			else
				err stop s6 "s6-svscan run failed"
			fi
		fi
		r=$((r + 1))
	done
}

# load: a task waits until a producer has filled a queue with LOAD_MIB of
# items (no consumer runs yet), then starts N_SPAWN one-shot replicas and
# waits for them; the time between its two echoes is the spawn time. A
# consumer then drains the queue and prints its count: the items were
# really held. The same manifest with one item gives the unloaded time.
bench_load() {
	row load0 t s ">=0.7" "spawn $N_SPAWN from a task, queues empty"
	row load t s ">=0.7" "spawn $N_SPAWN from a task, queues hold $LOAD_MIB MiB"
	tick=$T/tick
	items=$((LOAD_MIB * 1024 * 1024 / LINE_LEN))
	for k in load0 load; do
		n=1
		[ $k = load ] && n=$items
		cat >"$T/$k.yaml" <<EOF
version: 1
queues:
  big: {capacity: $((n + 1))}
processes:
  fill: {cmd: [$CHILD, produce, "$n", "$LINE_LEN"], stdout: big}
  drain: {cmd: [$CHILD, count], stdin: big, autostart: false}
  p: {cmd: [$CHILD, tick, "$tick"], stdout: null, stderr: null, replicas: $N_SPAWN, autostart: false}
tasks:
  drv:
    run:
      - wait fill
      - echo go
      - start p
      - wait p
      - echo done
      - start drain
EOF
	done
	r=1
	while [ "$r" -le "$RUNS" ]; do
		rm -f "$tick"
		if tool spawnloop "$N_SPAWN" "$CHILD" tick "$tick"; then
			record load0 base "$(get time)"
			record load base "$(get time)"
		else
			err load base "spawn loop failed"
		fi
		for k in load0 load; do
			n=1
			[ $k = load ] && n=$items
			rm -f "$tick"
			if tool run -T 300 -e "$T/err" -m "drv | go" -m "drv | done" \
			    -m "drain | " -- "$PYT" -v "$T/$k.yaml" &&
			    [ "$(get line2)" = "drain | $n" ] &&
			    [ "$(fsize "$tick")" = "$N_SPAWN" ] &&
			    grep -q "queue big: in $n,.*high-water $n\$" "$T/err"; then
				record $k pyt "$(awk -v a="$(get mark0)" -v b="$(get mark1)" 'BEGIN { printf "%.6f", b - a }')"
			else
				err $k pyt "wrong drain count, ticks or counters"
			fi
		done
		r=$((r + 1))
	done
	note "load: the queue held $items items of $((LINE_LEN - 1)) bytes ($LOAD_MIB MiB of items) while the replicas were spawned; the drain count and the -v counters (high-water $items) prove it."
}

# restart: a process that exits at once, restart: always, zero backoff,
# max_restarts N: restarts per second until it gives up, against the
# spawn loop run one child after the other. supervisord (autorestart,
# startsecs=0) and s6 are timed until K runs happened.
bench_restart() {
	row restart r "/s" ">=0.7" "restart (exit at once, restart: always)"
	tick=$T/tick
	runs=$((N_RESTART + 1))
	cat >"$T/restart.yaml" <<EOF
version: 1
processes:
  p:
    cmd: [$CHILD, tick, "$tick"]
    stdout: null
    stderr: null
    restart: always
    backoff: {initial: 0, max: 1s}
    max_restarts: $N_RESTART
EOF
	if have_sup; then
		c=$T/sup-restart.conf
		sup_conf "$c"
		sup_prog "$c" p 1 "$CHILD tick $tick" "autorestart=true
startretries=1000000
stdout_logfile=NONE
stderr_logfile=NONE"
	fi
	k_s6=3 k_sup=10
	r=1
	while [ "$r" -le "$RUNS" ]; do
		rm -f "$tick"
		if tool spawnloop -s "$runs" "$CHILD" tick "$tick"; then
			record restart base "$(awk -v n="$runs" -v t="$(get time)" 'BEGIN { printf "%.1f", n / t }')"
		else
			err restart base "spawn loop failed"
		fi
		rm -f "$tick"
		# Giving up after max_restarts is a failure: exit status 1.
		if tool run -T 120 -x 1 -- "$PYT" "$T/restart.yaml" &&
		    [ "$(fsize "$tick")" = "$runs" ]; then
			record restart pyt "$(awk -v n="$runs" -v t="$(get wall)" 'BEGIN { printf "%.1f", n / t }')"
		else
			err restart pyt "status or run count wrong ($(fsize "$tick"))"
		fi
		if have_sup; then
			rm -f "$tick"
			if tool run -T 300 -F "$tick:$k_sup" -s -x any -- \
			    supervisord -c "$c"; then
				record restart sup "$(awk -v n="$k_sup" -v t="$(get ready)" 'BEGIN { printf "%.1f", n / t }')"
			else
				err restart sup "supervisord run failed"
			fi
		fi
		if have_s6; then
			s6_dir 1 0 tick "$tick"
			rm -f "$tick"
			# shellcheck disable=SC2046
			if tool run -T 60 -F "$tick:$k_s6" -s -x any -- \
			    $(s6_scan 1); then
				record restart s6 "$(awk -v n="$k_s6" -v t="$(get ready)" 'BEGIN { printf "%.1f", n / t }')"
			else
				err restart s6 "s6-svscan run failed"
			fi
		fi
		r=$((r + 1))
	done
	have_sup && note "restart: supervisord restarts an exited program about once a second (its main loop's tick); it is timed over $k_sup runs, from its start."
	have_s6 && note "restart: s6-supervise waits at least one second between two starts of a service by design; s6 is timed over $k_s6 runs, from its start."
}

# fair: N_JOBS jobs of JOB_MS each from a queue over 8 replicas (a
# job queue), against the ideal N_JOBS x JOB_MS / 8; each worker must
# have taken some. The timing is the whole run, start-up included.
bench_fair() {
	row fair t s ">=0.5" "fair $N_JOBS jobs x ${JOB_MS}ms over 8 replicas"
	cat >"$T/fair.yaml" <<EOF
version: 1
queues:
  jobs: {}
processes:
  gen: {cmd: [$CHILD, produce, "$N_JOBS", 8], stdout: jobs}
  worker: {cmd: [$CHILD, work, "$JOB_MS"], replicas: 8, stdin: jobs}
EOF
	ideal=$(awk -v n="$N_JOBS" -v ms="$JOB_MS" 'BEGIN { printf "%.6f", n * ms / 8 / 1000 }')
	r=1
	while [ "$r" -le "$RUNS" ]; do
		record fair base "$ideal"
		if tool run -T 120 -o "$T/fair.out" -- "$PYT" "$T/fair.yaml" &&
		    [ "$(awk '/^worker\.[1-8] \| [1-9]/ { s += $3; n++ } END { print n, s }' "$T/fair.out")" = "8 $N_JOBS" ]; then
			record fair pyt "$(get wall)"
		else
			err fair pyt "not every worker took a share: $(tr '\n' ' ' <"$T/fair.out")"
		fi
		r=$((r + 1))
	done
}

# fanout: N_FAN lines of 8 bytes into a queue read by 4 counting
# replicas, against the same run with one consumer.
bench_fanout() {
	row fanout t s ">=0.5" "fan-out $N_FAN lines to 4 replicas vs 1"
	for k in 1 4; do
		cat >"$T/fan$k.yaml" <<EOF
version: 1
queues:
  lines: {}
processes:
  gen: {cmd: [$CHILD, produce, "$N_FAN", 8], stdout: lines}
  cons: {cmd: [$CHILD, count], replicas: $k, stdin: lines}
EOF
	done
	r=1
	while [ "$r" -le "$RUNS" ]; do
		for k in 1 4; do
			sys=pyt
			[ "$k" = 1 ] && sys=base
			if tool run -T 120 -o "$T/fan.out" -- "$PYT" "$T/fan$k.yaml" &&
			    [ "$(awk '/^cons(\.[1-4])? \| / { s += $3 } END { print s }' "$T/fan.out")" = "$N_FAN" ]; then
				record fanout "$sys" "$(get wall)"
			else
				err fanout "$sys" "lines lost: $(tr '\n' ' ' <"$T/fan.out")"
			fi
		done
		r=$((r + 1))
	done
}

# ---------------------------------------------------------------- main

echo "pytasking-run benchmarks ($MODE, $RUNS run(s) each): $(nproc) CPUs," \
    "$(sed -n 's/^model name[^:]*: //p' /proc/cpuinfo | head -n 1)," \
    "Linux $(uname -r)"
[ "$PEERS" = 1 ] || note "supervisord and s6: not run in this mode (BENCH_PEERS=1 runs them)."
if [ "$PEERS" = 1 ]; then
	command -v supervisord >/dev/null 2>&1 || note "supervisord: not installed, skipped (Debian package supervisor)."
	command -v s6-svscan >/dev/null 2>&1 || note "s6: not installed, skipped (Debian package s6)."
fi
for w in spawn pipe fair fanout idle stop load restart; do
	want "$w" || continue
	printf '%s... ' "$w"
	"bench_$w"
	echo done
done

# The table: medians per workload and system, ratios to the baseline.
awk -F'|' '
function median(key,    n, i, j, t, a) {
	n = split(vals[key], a, " ")
	if (n == 0) return ""
	for (i = 1; i <= n; i++) if (a[i] == "ERR") return "ERR"
	for (i = 2; i <= n; i++) {	# insertion sort, numerically
		t = a[i] + 0
		for (j = i - 1; j >= 1 && a[j] + 0 > t; j--) a[j + 1] = a[j]
		a[j + 1] = t
	}
	if (n % 2) return a[(n + 1) / 2]
	return (a[n / 2] + a[n / 2 + 1]) / 2
}
function fmt(v, kind) {
	if (v == "" || v == "ERR") return v == "" ? "-" : v
	if (kind == "t") return sprintf("%.3f", v)
	if (kind == "r") return sprintf(v < 10 ? "%.2f" : "%.0f", v)
	return sprintf("%.1f", v)
}
function ratio(v, b, kind) {
	if (v == "" || b == "" || v == "ERR" || b == "ERR" || v + 0 == 0 || b + 0 == 0) return ""
	if (kind == "t") return sprintf("%.2f", b / v)
	return sprintf("%.2f", v / b)
}
FILENAME ~ /results$/ { vals[$1 SUBSEP $2] = vals[$1 SUBSEP $2] " " $3; next }
{
	key = $1; kind = $2; unit = $3; target = $4; label = $5
	if (seen[key]++) next
	p = median(key SUBSEP "pyt"); b = median(key SUBSEP "base")
	s = median(key SUBSEP "sup"); x = median(key SUBSEP "s6")
	pr = ratio(p, b, kind)
	rs = ratio(s, b, kind); rx = ratio(x, b, kind)
	printf "%-48s %-4s %10s %10s %6s %7s %11s %6s %10s %6s\n", label, unit,
	    fmt(p, kind), fmt(b, kind), pr, target,
	    fmt(s, kind), rs, fmt(x, kind), rx
}
BEGIN {
	printf "%-48s %-4s %10s %10s %6s %7s %11s %6s %10s %6s\n", "workload", "unit",
	    "pytasking", "baseline", "ratio", "target", "supervisord", "ratio", "s6", "ratio"
}
' "$T/results" "$T/rows"
echo "(medians; ratio = baseline time / time, or rate / baseline rate: higher is better)"
[ -s "$T/notes" ] && sed 's/^/note: /' "$T/notes"
if [ "$FAILED" -ne 0 ]; then
	echo "run.sh: some workloads failed (see above)" >&2
	exit 1
fi
exit 0
