# No silent limits: an output listing 70 queues feeds all 70, and 200
# replicas of one consumer all read the queue; a limit that does exist
# (replicas) is an error of -c with line and column.
. "$(dirname "$0")/lib.sh"

{
	echo "version: 1"
	echo "queues:"
	i=1
	while [ "$i" -le 70 ]; do echo "  q$i: {}"; i=$((i + 1)); done
	echo "processes:"
	printf '  gen: {shell: "echo hello", stdout: ['
	i=1
	while [ "$i" -le 70 ]; do
		[ "$i" -gt 1 ] && printf ', '
		printf 'q%d' "$i"
		i=$((i + 1))
	done
	echo ']}'
	i=1
	while [ "$i" -le 70 ]; do
		echo "  c$i: {cmd: [cat], stdin: q$i, stdout: \"file:$T/got.$i\"}"
		i=$((i + 1))
	done
} >"$T/many.yaml"
"$PYT" -c "$T/many.yaml" >"$T/out" 2>"$T/err" || fail "-c rejected 70 queues"
run_pyt 60 "$T/many.yaml"
expect_status 0
i=1
while [ "$i" -le 70 ]; do
	[ "$(cat "$T/got.$i" 2>/dev/null)" = hello ] || fail "queue q$i got nothing"
	i=$((i + 1))
done

manifest pool.yaml <<EOF2
version: 1
queues:
  jobs: {}
processes:
  gen: {cmd: [seq, 1, 2000], stdout: jobs}
  w:
    replicas: 200
    stdin: jobs
    shell: 'n=0; while read -r l; do n=\$((n+1)); done; echo \$n'
EOF2
run_pyt 120 "$T/pool.yaml"
expect_status 0
[ "$(grep -c '^w\.[0-9]* | [0-9]' "$T/out")" = 200 ] || fail "not 200 replicas"
sum=$(sed -n 's/^w\.[0-9]* | \([0-9]*\)$/\1/p' "$T/out" | awk '{ s += $1 } END { print s }')
[ "$sum" = 2000 ] || fail "200 replicas read $sum items, not 2000"

manifest big.yaml <<EOF2
version: 1
processes:
  w:
    cmd: [cat]
    replicas: 10001
EOF2
if "$PYT" -c "$T/big.yaml" >"$T/out" 2>"$T/err"; then
	fail "-c took 10001 replicas"
fi
grep -Eq 'big\.yaml:5:[0-9]+: .*replicas' "$T/err" || fail "no line:col for replicas: $(cat "$T/err")"
exit 0
