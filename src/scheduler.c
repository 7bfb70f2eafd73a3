/*
 * Turns and alarms multiplexed on one idle handle and one timer (see
 * scheduler.h). The alarms are a binary min-heap on (due, seq), so that
 * alarms due at the same time run in the order they were started, as
 * libuv's own timers do; each alarm knows its index, so stopping one is
 * O(log n).
 *
 * Fairness, as with one handle per waiter: a turn queued while turns run
 * waits for the next loop iteration, and an alarm started while alarms
 * fire waits for the next pass of the timer, even at zero delay. Without
 * that, a task that yields ("sleep 0", a burst of steps) or re-arms at
 * once would run again and again inside one callback and starve the loop.
 */
#include "config.h"

#include <stdlib.h>

#include "log.h"
#include "scheduler.h"
#include "xmalloc.h"

struct sched {
	uv_loop_t		 *loop;
	uv_idle_t		  idle;
	uv_timer_t		  timer;
	int			  open_handles;
	int			  closing;	/* sched_free ran */
	int			  closed;	/* the handles are closing */

	struct sched_turns	  due;		/* for the next iteration */
	struct sched_turns	  now;		/* running in this one */

	struct sched_alarm	**heap;
	size_t			  nheap;
	size_t			  heapcap;
	uint64_t		  seq;		/* the next alarm's */
	int			  firing;	/* inside the timer callback */
};

static void	sched_idle_cb(uv_idle_t *);
static void	sched_timer_cb(uv_timer_t *);

static void
sched_close_cb(uv_handle_t *h)
{
	struct sched	*s = h->data;

	if (--s->open_handles == 0) {
		free(s->heap);
		free(s);
	}
}

struct sched *
sched_new(uv_loop_t *loop)
{
	struct sched	*s;

	s = xcalloc(1, sizeof *s);
	s->loop = loop;
	TAILQ_INIT(&s->due);
	TAILQ_INIT(&s->now);
	if (uv_idle_init(loop, &s->idle) != 0 ||
	    uv_timer_init(loop, &s->timer) != 0)
		fatalx("cannot set up the task scheduler's handles");
	s->idle.data = s->timer.data = s;
	s->open_handles = 2;
	return s;
}

static void
sched_close(struct sched *s)
{
	if (s->closed)
		return;
	s->closed = 1;
	uv_close((uv_handle_t *)&s->idle, sched_close_cb);
	uv_close((uv_handle_t *)&s->timer, sched_close_cb);
}

void
sched_free(struct sched *s)
{
	size_t	i;

	if (s == NULL)
		return;
	s->closing = 1;
	for (i = 0; i < s->nheap; i++)
		s->heap[i]->idx = SIZE_MAX;
	s->nheap = 0;
	(void)uv_timer_stop(&s->timer);
	if (TAILQ_EMPTY(&s->due) && TAILQ_EMPTY(&s->now))
		sched_close(s);
}

uint64_t
sched_now(const struct sched *s)
{
	return uv_now(s->loop);
}

/* ---------------------------------------------------------------- turns */

void
sched_turn_init(struct sched_turn *t, void (*fn)(struct sched_turn *))
{
	t->on = NULL;
	t->fn = fn;
}

void
sched_turn_start(struct sched *s, struct sched_turn *t)
{
	if (t->on != NULL)
		return;
	if (s->closed)
		fatalx("a turn queued on a closed scheduler");
	TAILQ_INSERT_TAIL(&s->due, t, entry);
	t->on = &s->due;
	if (uv_idle_start(&s->idle, sched_idle_cb) != 0)
		fatalx("uv_idle_start failed");
}

void
sched_turn_stop(struct sched_turn *t)
{
	if (t->on == NULL)
		return;
	TAILQ_REMOVE(t->on, t, entry);
	t->on = NULL;
}

/*
 * Run the turns queued before this iteration; those queued by them wait
 * for the next. A turn's function may stop or free any other turn: each
 * is taken off the list before it runs.
 */
static void
sched_idle_cb(uv_idle_t *h)
{
	struct sched		*s = h->data;
	struct sched_turn	*t;

	while ((t = TAILQ_FIRST(&s->due)) != NULL) {
		TAILQ_REMOVE(&s->due, t, entry);
		TAILQ_INSERT_TAIL(&s->now, t, entry);
		t->on = &s->now;
	}
	while ((t = TAILQ_FIRST(&s->now)) != NULL) {
		TAILQ_REMOVE(&s->now, t, entry);
		t->on = NULL;
		t->fn(t);
	}
	if (!TAILQ_EMPTY(&s->due))
		return;
	(void)uv_idle_stop(&s->idle);
	if (s->closing)
		sched_close(s);
}

/* --------------------------------------------------------------- alarms */

void
sched_alarm_init(struct sched_alarm *a, void (*fn)(struct sched_alarm *))
{
	a->due = 0;
	a->seq = 0;
	a->idx = SIZE_MAX;
	a->fn = fn;
}

int
sched_alarm_active(const struct sched_alarm *a)
{
	return a->idx != SIZE_MAX;
}

static int
sched_before(const struct sched_alarm *a, const struct sched_alarm *b)
{
	return a->due < b->due || (a->due == b->due && a->seq < b->seq);
}

static void
sched_heap_set(struct sched *s, size_t i, struct sched_alarm *a)
{
	s->heap[i] = a;
	a->idx = i;
}

static void
sched_sift_up(struct sched *s, size_t i)
{
	struct sched_alarm	*a = s->heap[i];
	size_t			 parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!sched_before(a, s->heap[parent]))
			break;
		sched_heap_set(s, i, s->heap[parent]);
		i = parent;
	}
	sched_heap_set(s, i, a);
}

static void
sched_sift_down(struct sched *s, size_t i)
{
	struct sched_alarm	*a = s->heap[i];
	size_t			 child;

	for (;;) {
		child = 2 * i + 1;
		if (child >= s->nheap)
			break;
		if (child + 1 < s->nheap &&
		    sched_before(s->heap[child + 1], s->heap[child]))
			child++;
		if (!sched_before(s->heap[child], a))
			break;
		sched_heap_set(s, i, s->heap[child]);
		i = child;
	}
	sched_heap_set(s, i, a);
}

static void
sched_heap_remove(struct sched *s, struct sched_alarm *a)
{
	size_t			 i = a->idx;
	struct sched_alarm	*last;

	a->idx = SIZE_MAX;
	last = s->heap[--s->nheap];
	if (i == s->nheap)
		return;
	sched_heap_set(s, i, last);
	sched_sift_down(s, i);
	sched_sift_up(s, last->idx);
}

/* Point the timer at the earliest alarm, or stop it. */
static void
sched_arm(struct sched *s)
{
	uint64_t	now, due;

	if (s->firing)
		return;
	if (s->nheap == 0) {
		(void)uv_timer_stop(&s->timer);
		return;
	}
	now = uv_now(s->loop);
	due = s->heap[0]->due;
	if (uv_timer_start(&s->timer, sched_timer_cb,
	    due > now ? due - now : 0, 0) != 0)
		fatalx("uv_timer_start failed");
}

void
sched_alarm_start(struct sched *s, struct sched_alarm *a, uint64_t ms)
{
	int	was_first = a->idx == 0;

	if (s->closing)
		fatalx("an alarm started on a closed scheduler");
	if (sched_alarm_active(a))
		sched_heap_remove(s, a);
	if (s->nheap == s->heapcap) {
		s->heapcap = s->heapcap == 0 ? 64 : s->heapcap * 2;
		s->heap = xreallocarray(s->heap, s->heapcap, sizeof *s->heap);
	}
	a->due = uv_now(s->loop) + ms;
	a->seq = s->seq++;
	s->heap[s->nheap] = a;
	a->idx = s->nheap++;
	sched_sift_up(s, a->idx);
	/* The timer moves only when the earliest alarm changed. */
	if (a->idx == 0 || was_first)
		sched_arm(s);
}

void
sched_alarm_stop(struct sched *s, struct sched_alarm *a)
{
	int	was_first = a->idx == 0;

	if (!sched_alarm_active(a))
		return;
	sched_heap_remove(s, a);
	if (was_first)
		sched_arm(s);
}

/*
 * Fire what is due, earliest first, but only alarms started before this
 * pass: one re-armed by its own function waits for the next pass.
 */
static void
sched_timer_cb(uv_timer_t *h)
{
	struct sched		*s = h->data;
	struct sched_alarm	*a;
	uint64_t		 now = uv_now(s->loop), limit = s->seq;

	s->firing = 1;
	while (s->nheap > 0 && (a = s->heap[0])->due <= now &&
	    a->seq < limit) {
		sched_heap_remove(s, a);
		a->fn(a);
	}
	s->firing = 0;
	if (!s->closing)
		sched_arm(s);
}
