# The pytasking seed example as a manifest (configs/seed.yaml): "Hello
# World!" exactly 5 times, then hello is cancelled; ping is started and
# cancelled again and again while printer reads the queue it speaks
# into: Ping! and Pang! alternate, Pong! never appears, printer does not
# end at the first cancel, and after SIGTERM it prints what the queue
# still holds (the Pang! of the last cancel) before the run exits 0.
. "$(dirname "$0")/lib.sh"

start_pyt -v "$PYT_SRCDIR/configs/seed.yaml"
wait_line 60 "$T/err" 'hello: stopped'
[ "$(count_lines "$T/out" '^reader \| Hello World!$')" = 5 ] ||
    fail "expected 5 Hello World!, got $(count_lines "$T/out" 'Hello World')"
# Many rounds of ping, all printed by one printer.
wait_for 30 sh -c "[ \$(grep -c '^printer | Pang!\$' '$T/out') -ge 6 ]" ||
    fail "fewer than 6 rounds of ping printed"
kill -TERM "$BGPID"
wait_pyt 30
expect_status 0
[ "$(count_lines "$T/out" 'Hello World!')" = 5 ] || fail "more hellos after cancel"
grep -q 'Pong!' "$T/out" && fail "Pong! appeared"
grep -q 'printer: \(exited\|cancelled\)' "$T/err" || fail "printer never ended"
[ "$(grep -c 'printer: started' "$T/err")" = 1 ] || fail "printer started twice"
# Ping! and Pang! alternate, starting with Ping! and ending with the
# Pang! of the cancel at shutdown. A ping that main started the instant
# before SIGTERM is cancelled before its first step, and its on_cancel
# still says Pang!: one more Pang! may end the list.
sed -n 's/^printer | //p' "$T/out" | awk '
	{ l[NR] = $0 }
	END {
		n = NR
		if (n >= 2 && l[n] == "Pang!" && l[n - 1] == "Pang!")
			n--
		for (i = 1; i <= n; i++)
			if (l[i] != (i % 2 == 1 ? "Ping!" : "Pang!"))
				exit 1
		exit n < 12 || n % 2 != 0
	}' ||
    fail "Ping!/Pang! do not alternate, or the last Pang! is missing"
# Every item of pings was printed.
grep -q 'queue pings: 0 items\|queue pings: .*undelivered' "$T/err" &&
    fail "items of pings were not printed"
grep -E 'queue pings: in ([0-9]+), out \1,' "$T/err" >/dev/null ||
    fail "pings: items in and out differ"
exit 0
