# The pytasking seed example as a manifest (configs/seed.yaml): "Hello
# World!" exactly 5 times, then hello is cancelled; Ping! and Pang!
# alternate and Pong! never appears; SIGTERM then exits 0.
. "$(dirname "$0")/lib.sh"

start_pyt "$PYT_SRCDIR/configs/seed.yaml"
wait_line 60 "$T/err" 'hello: stopped'
[ "$(count_lines "$T/out" '^reader \| Hello World!$')" = 5 ] ||
    fail "expected 5 Hello World!, got $(count_lines "$T/out" 'Hello World')"
wait_line 10 "$T/out" 'Pang!'
kill -TERM "$BGPID"
wait_pyt 30
expect_status 0
[ "$(count_lines "$T/out" 'Hello World!')" = 5 ] || fail "more hellos after cancel"
grep -q 'Pong!' "$T/out" && fail "Pong! appeared"
# Ping! and Pang! alternate, starting with Ping!.
sed -n 's/^ping | //p' "$T/out" | awk '
	NR % 2 == 1 && $0 != "Ping!" { bad = 1 }
	NR % 2 == 0 && $0 != "Pang!" { bad = 1 }
	END { exit bad || NR < 2 }' || fail "Ping!/Pang! do not alternate"
exit 0
