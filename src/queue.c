/*
 * The storage of one named queue: byte rings of length-prefixed records,
 * the overflow policy and the counters. Plain data on the hot path of every
 * line: push, peek and pop are a bounds check and a memcpy. It knows
 * nothing of pipes, processes, the loop or libuv.
 */
#include "config.h"

#include <sys/mman.h>

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "queue.h"
#include "xmalloc.h"

/*
 * A record is a 4-byte length followed by the item, padded to 4 bytes so
 * every header is aligned and a header never straddles the end of the
 * storage. A record is never split across the end either: when it does not
 * fit at the top, the writer wraps to offset 0 and the space left at the
 * top is skipped (the bip-buffer idea), so a reader always sees an item as
 * one contiguous run of bytes and peek can hand out a pointer into the
 * ring.
 */
#define RECORD_HDR	sizeof(uint32_t)
#define RECORD_ALIGN	4
#define RECORD_MAXLEN	(UINT32_MAX - 2 * RECORD_ALIGN)

/* Smallest storage of a ring that holds anything. */
#define RING_MIN_CAP	4096
/*
 * Storage of this size and above is mapped rather than malloc'ed, and marked
 * MADV_DONTFORK: libuv spawns by fork(), whose cost grows with the pages
 * of the parent, and a child about to exec has no use for queued items.
 */
#define RING_MMAP_MIN	(1024 * 1024)
/*
 * A ring that empties keeps storage up to this size, so a steady stream
 * that drains on every write (the common case) does not allocate per
 * chunk; anything larger is given back, so a burst does not pin memory.
 */
#define RING_KEEP_MAX	(256 * 1024)

/*
 * Not wrapped: records live in [head, tail). Wrapped: in [head, end) and
 * then [0, tail), with tail <= head; [end, cap) is unused.
 */
struct ring {
	char	*data;
	size_t	 cap;
	size_t	 head;
	size_t	 tail;
	size_t	 end;
	int	 wrapped;
	size_t	 nitems;
};

struct queue {
	size_t			 capacity;
	enum queue_mode		 mode;
	enum queue_overflow	 overflow;
	/* One ring in share mode, one per subscriber in broadcast mode. */
	struct ring		*rings;
	size_t			 nrings;
	size_t			 nsubs;
	struct queue_counters	 c;
};

/* Bytes a record of an item of len bytes takes in a ring. */
static inline size_t
record_size(size_t len)
{
	return (RECORD_HDR + len + RECORD_ALIGN - 1) &
	    ~(size_t)(RECORD_ALIGN - 1);
}

/* Allocate ring storage: mapped and kept out of fork() when large. */
static char *
ring_storage_new(size_t cap)
{
	void	*p;

	if (cap < RING_MMAP_MIN)
		return xmalloc(cap);
	p = mmap(NULL, cap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
	    -1, 0);
	if (p == MAP_FAILED)
		fatal("mmap %zu bytes of queue storage", cap);
#ifdef MADV_DONTFORK
	/* Only a cost saving: without it fork() copies, still correct. */
	(void)madvise(p, cap, MADV_DONTFORK);
#endif
	return p;
}

/* Free ring storage allocated by ring_storage_new with this cap. */
static void
ring_storage_free(char *p, size_t cap)
{
	if (p == NULL)
		return;
	if (cap < RING_MMAP_MIN)
		free(p);
	else if (munmap(p, cap) == -1)
		fatal("munmap queue storage");
}

/* Bytes of records (and skipped tops) held by a ring. */
static size_t
ring_used(const struct ring *r)
{
	if (r->wrapped)
		return (r->end - r->head) + r->tail;
	return r->tail - r->head;
}

/* Give the storage back; the ring is empty and usable afterwards. */
static void
ring_release(struct ring *r)
{
	ring_storage_free(r->data, r->cap);
	memset(r, 0, sizeof *r);
}

/*
 * Move the records into new storage of newcap bytes, contiguous, starting
 * at offset front. O(bytes held), reached only by growth and by an unshift
 * with no room before the head, both of which at least double the room.
 */
static void
ring_resize(struct ring *r, size_t newcap, size_t front)
{
	char	*nd;
	size_t	 n1, n2;

	assert(front + ring_used(r) <= newcap);
	nd = ring_storage_new(newcap);
	if (r->wrapped) {
		n1 = r->end - r->head;
		n2 = r->tail;
	} else {
		n1 = r->tail - r->head;
		n2 = 0;
	}
	if (n1 > 0)
		memcpy(nd + front, r->data + r->head, n1);
	if (n2 > 0)
		memcpy(nd + front + n1, r->data, n2);
	ring_storage_free(r->data, r->cap);
	r->data = nd;
	r->cap = newcap;
	r->head = front;
	r->tail = front + n1 + n2;
	r->end = 0;
	r->wrapped = 0;
}

/* The storage size to grow to for holding need bytes: a power of two. */
static size_t
ring_grow_cap(size_t cap, size_t need)
{
	size_t	c = cap < RING_MIN_CAP ? RING_MIN_CAP : cap * 2;

	while (c < need) {
		if (c > SIZE_MAX / 2)
			fatalx("queue ring too large");
		c *= 2;
	}
	return c;
}

/* Write a record of an item at offset off. */
static inline void
ring_write(struct ring *r, size_t off, const void *p, size_t len)
{
	uint32_t	hdr = (uint32_t)len;

	memcpy(r->data + off, &hdr, RECORD_HDR);
	if (len > 0)
		memcpy(r->data + off + RECORD_HDR, p, len);
}

/* Length of the item of the record at offset off. */
static inline size_t
ring_len_at(const struct ring *r, size_t off)
{
	uint32_t	hdr;

	memcpy(&hdr, r->data + off, RECORD_HDR);
	return hdr;
}

/* Append an item at the tail, growing the storage when it does not fit. */
static void
ring_push(struct ring *r, const void *p, size_t len)
{
	size_t	rs = record_size(len), off;

	if (!r->wrapped) {
		if (r->cap - r->tail >= rs) {
			off = r->tail;
			r->tail += rs;
		} else if (r->head >= rs) {
			/* Wrap: the top [tail, cap) is skipped. */
			r->end = r->tail;
			r->wrapped = 1;
			off = 0;
			r->tail = rs;
		} else {
			ring_resize(r, ring_grow_cap(r->cap, ring_used(r) + rs),
			    0);
			off = r->tail;
			r->tail += rs;
		}
	} else if (r->head - r->tail >= rs) {
		off = r->tail;
		r->tail += rs;
	} else {
		ring_resize(r, ring_grow_cap(r->cap, ring_used(r) + rs), 0);
		off = r->tail;
		r->tail += rs;
	}
	ring_write(r, off, p, len);
	r->nitems++;
}

/* Remove the head record; an emptied ring starts over at offset 0. */
static void
ring_pop(struct ring *r)
{
	assert(r->nitems > 0);
	r->head += record_size(ring_len_at(r, r->head));
	if (--r->nitems == 0) {
		r->head = r->tail = r->end = 0;
		r->wrapped = 0;
		if (r->cap > RING_KEEP_MAX)
			ring_release(r);
		return;
	}
	if (r->wrapped && r->head == r->end) {
		r->head = 0;
		r->end = 0;
		r->wrapped = 0;
	}
}

/*
 * Put an item before the head. When there is no room just before it, the
 * records are moved to the end of new storage at least twice their size,
 * so a run of unshifts (a dead consumer's backlog) stays linear.
 */
static void
ring_unshift(struct ring *r, const void *p, size_t len)
{
	size_t	rs = record_size(len), used, cap;

	if (r->nitems == 0) {
		ring_push(r, p, len);
		return;
	}
	if (r->wrapped ? r->head - r->tail < rs : r->head < rs) {
		used = ring_used(r);
		cap = r->cap;
		if (cap < 2 * (used + rs))
			cap = ring_grow_cap(cap, 2 * (used + rs));
		ring_resize(r, cap, cap - used);
	}
	r->head -= rs;
	ring_write(r, r->head, p, len);
	r->nitems++;
}

/* The ring a subscriber reads. */
static inline struct ring *
queue_ring(const struct queue *q, size_t sub)
{
	size_t	i = q->mode == QUEUE_SHARE ? 0 : sub;

	assert(i < q->nrings);
	return &q->rings[i];
}

/* Recompute the depth (largest ring) after a ring got smaller. */
static void
queue_update_depth(struct queue *q)
{
	size_t		i;
	uint64_t	d = 0;

	for (i = 0; i < q->nrings; i++)
		if (q->rings[i].nitems > d)
			d = q->rings[i].nitems;
	q->c.depth = d;
}

/* Note that a ring now holds n items. */
static inline void
queue_note_grown(struct queue *q, size_t n)
{
	if (n > q->c.depth) {
		q->c.depth = n;
		if (n > q->c.high_water)
			q->c.high_water = n;
	}
}

/* A capacity of 0 means the default. Owner: the caller, via queue_free. */
struct queue *
queue_new(size_t capacity, enum queue_mode mode, enum queue_overflow overflow)
{
	struct queue	*q;

	q = xcalloc(1, sizeof *q);
	q->capacity = capacity > 0 ? capacity : QUEUE_DEFAULT_CAPACITY;
	q->mode = mode;
	q->overflow = overflow;
	q->rings = xcalloc(1, sizeof *q->rings);
	q->nrings = 1;
	return q;
}

/* Free a queue and every item it holds; NULL is a no-op. */
void
queue_free(struct queue *q)
{
	size_t	i;

	if (q == NULL)
		return;
	for (i = 0; i < q->nrings; i++)
		ring_release(&q->rings[i]);
	free(q->rings);
	free(q);
}

/*
 * In broadcast mode the first subscriber takes over the ring that held
 * items pushed while nobody subscribed, so a consumer that subscribes
 * after its producer started loses nothing; every later one starts empty.
 */
size_t
queue_subscribe(struct queue *q)
{
	if (q->mode == QUEUE_BROADCAST && q->nsubs > 0) {
		q->rings = xreallocarray(q->rings, q->nrings + 1,
		    sizeof *q->rings);
		memset(&q->rings[q->nrings], 0, sizeof *q->rings);
		q->nrings++;
	}
	return q->nsubs++;
}

/* Number of subscribers registered. */
size_t
queue_nsubscribers(const struct queue *q)
{
	return q->nsubs;
}

/* Store an item in one ring under the overflow policy; 1 if dropped one. */
static inline int
queue_push_ring(struct queue *q, struct ring *r, const void *p, size_t len,
    int *refused)
{
	int	dropped = 0;

	if (r->nitems >= q->capacity) {
		if (q->overflow == QUEUE_DROP_NEWEST) {
			q->c.dropped++;
			*refused = 1;
			return 0;
		}
		if (q->overflow == QUEUE_DROP_OLDEST) {
			while (r->nitems >= q->capacity) {
				ring_pop(r);
				q->c.dropped++;
			}
			dropped = 1;
		}
	}
	ring_push(r, p, len);
	queue_note_grown(q, r->nitems);
	return dropped;
}

/*
 * Append an item; in counts it even when refused. In broadcast mode each
 * ring applies the policy on its own, so a slow subscriber loses items
 * without costing the others any; the result is QUEUE_DROPPED when any
 * ring refused the item, QUEUE_PUSHED_DROPPED when any dropped its head.
 */
enum queue_push_result
queue_push(struct queue *q, const void *p, size_t len)
{
	size_t	i;
	int	dropped = 0, refused = 0;

	assert(len <= RECORD_MAXLEN);
	q->c.in++;
	for (i = 0; i < q->nrings; i++)
		dropped |= queue_push_ring(q, &q->rings[i], p, len, &refused);
	if (dropped && q->overflow == QUEUE_DROP_OLDEST)
		queue_update_depth(q);
	if (refused)
		return QUEUE_DROPPED;
	return dropped ? QUEUE_PUSHED_DROPPED : QUEUE_PUSHED;
}

/* True when any ring holds capacity items or more. */
int
queue_is_full(const struct queue *q)
{
	return q->c.depth >= q->capacity;
}

/* Items waiting for one subscriber. */
size_t
queue_depth(const struct queue *q, size_t sub)
{
	return queue_ring(q, sub)->nitems;
}

/* Borrow the head item of a subscriber's ring; -1 when it is empty. */
int
queue_peek(const struct queue *q, size_t sub, const void **p, size_t *len)
{
	const struct ring	*r = queue_ring(q, sub);

	if (r->nitems == 0)
		return -1;
	*len = ring_len_at(r, r->head);
	*p = r->data + r->head + RECORD_HDR;
	return 0;
}

/* Remove a subscriber's head item, counted as out. */
void
queue_pop(struct queue *q, size_t sub)
{
	struct ring	*r = queue_ring(q, sub);
	size_t		 before = r->nitems;

	ring_pop(r);
	q->c.out++;
	if (q->nrings == 1)
		q->c.depth = r->nitems;
	else if (before == q->c.depth)
		queue_update_depth(q);
}

/*
 * An item went straight from a producer to the only consumer that was
 * waiting, the queue being empty: count it in and out, as a push and a
 * pop would (wire.c's direct path).
 */
void
queue_count_through(struct queue *q)
{
	assert(q->mode == QUEUE_SHARE && q->c.depth == 0);
	q->c.in++;
	q->c.out++;
}

/* Count an item refused before it was stored (its queue was closed). */
void
queue_count_dropped(struct queue *q)
{
	q->c.dropped++;
}

/* Put an item back at a subscriber's head for redelivery; never dropped. */
void
queue_unshift(struct queue *q, size_t sub, const void *p, size_t len)
{
	struct ring	*r = queue_ring(q, sub);

	assert(len <= RECORD_MAXLEN);
	ring_unshift(r, p, len);
	q->c.redelivered++;
	queue_note_grown(q, r->nitems);
}

/* Bytes of ring storage allocated now, over all rings. */
size_t
queue_memory(const struct queue *q)
{
	size_t	i, n = 0;

	for (i = 0; i < q->nrings; i++)
		n += q->rings[i].cap;
	return n;
}

/* The counters, borrowed; they change with every call above. */
const struct queue_counters *
queue_counters(const struct queue *q)
{
	return &q->c;
}

/* The distribution mode given to queue_new. */
enum queue_mode
queue_mode(const struct queue *q)
{
	return q->mode;
}

/* Items a ring holds before the queue is full. */
size_t
queue_capacity(const struct queue *q)
{
	return q->capacity;
}
