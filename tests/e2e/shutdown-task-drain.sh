# A shutdown drains queues into the tasks that read them, as it does into
# processes: producers stop first, a task reading with for or get keeps
# running until it has ended (its for loop sees the end of the queue, as
# a process sees the end of its stdin), and its start steps start nothing
# meanwhile (not a failure). Nothing is lost: in equals out, and the run
# ends before the drain timeout.
. "$(dirname "$0")/lib.sh"

cat >"$T/m.yaml" <<'YAML'
version: 1
queues:
  nums: {capacity: 50}
  words: {}
processes:
  gen:
    cmd: [sh, -c, 'i=0; while :; do i=$((i+1)); echo $i; done']
    stdout: nums
  other:
    cmd: [sleep, "300"]
    autostart: false
tasks:
  talker:
    stdout: words
    run:
      - loop:
          - echo word
          - sleep 50ms
    on_cancel:
      - echo last
  count:
    run:
      - get nums last 10s
      - echo "count got $last"
      - for n in nums:
          - set last $n
      - echo "count saw the end after $last"
      - start other
      - echo "count is done"
  words:
    run:
      - get words w 10s
      - echo "got $w"
      - for w in words:
          - echo "got $w"
YAML
start_pyt -v "$T/m.yaml"
wait_line 20 "$T/out" '^words \| got word$'
# gen has written and count has read, so the drain has something to do
# (under load, gen may not have written yet when talker has spoken).
wait_line 20 "$T/out" '^count \| count got 1$'
kill -TERM "$BGPID"
wait_pyt 30
expect_status 0
grep -q 'drain timeout' "$T/err" && fail "the drain timed out"
grep -q '^count | count saw the end after [0-9][0-9]*$' "$T/out" ||
    fail "count did not see the end of nums"
grep -q '^count | count is done$' "$T/out" ||
    fail "a start during the shutdown failed count"
grep -q 'other: started' "$T/err" && fail "other was started during the shutdown"
grep -q '^words | got last$' "$T/out" ||
    fail "the item talker said when cancelled was not delivered"
for q in nums words; do
	grep -E "queue $q: in ([0-9]+), out \\1," "$T/err" >/dev/null ||
	    fail "$q: items in and out differ"
done
grep -q 'undelivered' "$T/err" && fail "items left undelivered"
# The last number gen wrote is the last count saw.
last=$(sed -n 's/^count | count saw the end after //p' "$T/out")
in=$(sed -n 's/.*queue nums: in \([0-9]*\),.*/\1/p' "$T/err")
[ "$last" = "$in" ] || fail "count saw $last of $in numbers"
exit 0
