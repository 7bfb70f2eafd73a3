/*
 * The console: the supervisor's own stdout or stderr as the lines of its
 * units reach it. Writing never waits on the loop: what the fd does not
 * take now is held, in a bounded buffer, and written when it is writable;
 * while the buffer is full, whoever feeds it waits (struct
 * console_waiter), so that nothing is lost and nothing grows.
 */
#ifndef PYT_CONSOLE_H
#define PYT_CONSOLE_H

#include <sys/queue.h>

#include <stddef.h>
#include <uv.h>

/* Bytes held before the console counts as full; it is free again at half. */
#define CONSOLE_MAX		(1024 * 1024)
/*
 * Past CONSOLE_MAX, writers that cannot wait (the supervisor's messages)
 * are still held, up to this; beyond it their writes are
 * dropped, counted, and said once the console has drained.
 */
#define CONSOLE_HARD_MAX	(4 * CONSOLE_MAX)
/*
 * After a stop (console_stop) or at the end (console_free), bytes the
 * reader does not take within this long of its last read are dropped.
 */
#define CONSOLE_STOP_WAIT_MS	5000

struct console;

/* Someone waiting for the console to have room again. */
struct console_waiter {
	TAILQ_ENTRY(console_waiter) entry;
	struct console	*on;		/* non-NULL while registered */
	void		(*fn)(struct console_waiter *);
	void		*arg;
};

/* fd: 1 or 2, ours but not owned (a dup is made when one is needed). */
struct console	*console_new(uv_loop_t *, int fd);
/*
 * Let go: what is held is still written as the reader takes it (within
 * CONSOLE_STOP_WAIT_MS of its last read), then the console frees itself
 * with its last close; the loop runs until then.
 */
void		 console_free(struct console *);
/*
 * Write p now, or hold what the fd does not take (even when full, up to
 * CONSOLE_HARD_MAX).
 */
void		 console_write(struct console *, const char *, size_t);
/* Holding CONSOLE_MAX bytes or more: its feeders should pause. */
int		 console_is_full(const struct console *);
/* Call w->fn once, from the loop, when the console has room again. */
void		 console_wait(struct console *, struct console_waiter *);
void		 console_unwait(struct console_waiter *);
/* The run stops: from now on a reader that takes nothing is not waited for. */
void		 console_stop(struct console *);
/* Do fd 1 and fd 2 lead to the same place (one console for both)? */
int		 console_is_same(int, int);

#endif
