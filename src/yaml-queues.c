/*
 * One queue (queues.NAME) from the YAML tree: capacity, mode, overflow,
 * and the keys of the Redis backend, whose URL is checked at once. No
 * libyaml, and no connection: the URL is only parsed.
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "manifest-yaml-int.h"
#include "queue.h"
#include "xmalloc.h"

/* Items a queue may hold: beyond this a capacity is surely a typo. */
#define MANIFEST_MAX_CAPACITY	10000000
/* Items a consumer may hold unread: a pipe holds no more than this. */
#define MANIFEST_MAX_PREFETCH	65536

static const char *const yload_queue_keys[] = {
	"capacity", "mode", "overflow", "prefetch", "backend", "url", "stream", "group",
	"claim_after", "connect_timeout", NULL
};

enum {
	QK_CAPACITY, QK_MODE, QK_OVERFLOW, QK_PREFETCH, QK_BACKEND, QK_URL, QK_STREAM,
	QK_GROUP, QK_CLAIM_AFTER, QK_CONNECT_TIMEOUT, QK_COUNT,
};

static const char *const yload_mode_words[] = { "share", "broadcast", NULL };
static const char *const yload_overflow_words[] = {
	"block", "drop-oldest", "drop-newest", NULL
};
static const char *const yload_backend_words[] = { "memory", "redis", NULL };

/* url as shown in a message: any password masked. */
static char *
yload_redis_url_shown(const char *url)
{
	const char	*at;

	if (strncmp(url, "redis://", 8) != 0 ||
	    (at = strrchr(url + 8, '@')) == NULL)
		return xstrdup(url);
	return xasprintf("redis://***%s", at);
}

/* queues.NAME.url: checked at once, so that a typo fails the load. */
static void
yload_redis_url(struct yload *y, struct ynode *n, const char *path,
    char **out)
{
	static const char	*what = "a URL such as redis://127.0.0.1:6379/0";
	struct redis_url	 ru;
	const char		*errstr;
	char			*text, *shown;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return;
	if (manifest_parse_redis_url(text, &ru, &errstr) == -1) {
		shown = yload_redis_url_shown(text);
		yload_expected(y, n, path, shown, what, errstr);
		free(shown);
		free(text);
		return;
	}
	manifest_redis_url_release(&ru);
	*out = text;
}

/* A non-empty string (a Redis key or group name). */
static void
yload_nonempty(struct yload *y, struct ynode *n, const char *path,
    const char *what, char **out)
{
	char	*text;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return;
	if (*text == '\0') {
		yload_expected(y, n, path, text, what, NULL);
		free(text);
		return;
	}
	*out = text;
}

/* The keys only a Redis queue takes, once the backend is known. */
static void
yload_queue_redis(struct yload *y, const struct ypair *entry,
    const char *path, struct queue_spec *q, struct ypair **keys,
    struct ynode *mode)
{
	struct ynode	*v;
	char		*kpath;
	uint64_t	 u;
	int		 k;

	for (k = QK_URL; k < QK_COUNT; k++) {
		if (keys[k] == NULL)
			continue;
		kpath = yload_path(path, keys[k]->name);
		if (!q->redis) {
			yload_error(y, keys[k]->key, kpath, "only a queue with "
			    "backend: redis takes %s", keys[k]->name);
			free(kpath);
			continue;
		}
		v = yload_visit(y, keys[k]->value);
		switch (k) {
		case QK_URL:
			yload_redis_url(y, v, kpath, &q->url);
			break;
		case QK_STREAM:
			yload_nonempty(y, v, kpath, "a stream name", &q->stream);
			break;
		case QK_GROUP:
			yload_nonempty(y, v, kpath, "a consumer group name",
			    &q->group);
			break;
		case QK_CLAIM_AFTER:
			if (yload_duration(y, v, kpath, &u) == 0) {
				if (u == 0)
					yload_expected(y, v, kpath, NULL, "a "
					    "duration greater than 0", NULL);
				else
					q->claim_after_ms = u;
			}
			break;
		case QK_CONNECT_TIMEOUT:
			yload_duration(y, v, kpath, &q->connect_timeout_ms);
			break;
		}
		free(kpath);
	}
	if (!q->redis)
		return;
	if (keys[QK_URL] == NULL)
		yload_error(y, entry->key, path, "missing key \"url\" (backend: "
		    "redis needs a URL such as redis://127.0.0.1:6379/0)");
	if (q->mode == QUEUE_BROADCAST && mode != NULL) {
		kpath = yload_path(path, "mode");
		yload_error(y, mode, kpath, "broadcast is not supported with "
		    "backend: redis (the consumers of a Redis consumer group "
		    "share its items; declare one queue per consumer instead)");
		free(kpath);
	}
	if (q->stream == NULL)
		q->stream = xstrdup(q->name);
	if (q->group == NULL)
		q->group = xstrdup(q->name);
}

/* One queue: queues.NAME; null or {} means every default. */
void
yload_queue(struct yload *y, const struct ypair *entry, const char *path)
{
	struct manifest		*m = y->m;
	struct queue_spec	*q;
	struct ypair		*pairs, *keys[QK_COUNT];
	struct ynode		*n, *mode = NULL;
	char			*kpath;
	uint64_t		 u;
	size_t			 i, np;
	int			 e, k, backend_ok = 1;

	q = &m->queues[m->nqueues++];
	memset(q, 0, sizeof *q);
	q->name = xstrdup(entry->name);
	q->loc.line = entry->key->line;
	q->loc.col = entry->key->col;
	q->capacity = QUEUE_DEFAULT_CAPACITY;
	q->mode = QUEUE_SHARE;
	q->overflow = QUEUE_BLOCK;
	q->redis = 0;
	q->claim_after_ms = MANIFEST_DEFAULT_CLAIM_AFTER_MS;
	q->connect_timeout_ms = MANIFEST_DEFAULT_CONNECT_TIMEOUT_MS;

	n = yload_visit(y, entry->value);
	if (yload_is_null(n))
		return;
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping such as "
		    "{capacity: 100}", NULL);
		return;
	}
	memset(keys, 0, sizeof keys);
	pairs = yload_pairs(y, n, path, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		kpath = yload_path(path, pairs[i].name);
		switch ((k = yload_key(y, &pairs[i], path, yload_queue_keys))) {
		case QK_CAPACITY:
			if (yload_uint(y, yload_visit(y, pairs[i].value),
			    kpath, 1, MANIFEST_MAX_CAPACITY, &u) == 0)
				q->capacity = (size_t)u;
			break;
		case QK_MODE:
			mode = yload_visit(y, pairs[i].value);
			if (yload_enum(y, mode, kpath, yload_mode_words,
			    &e) == 0)
				q->mode = e == 0 ? QUEUE_SHARE :
				    QUEUE_BROADCAST;
			break;
		case QK_OVERFLOW:
			if (yload_enum(y, yload_visit(y, pairs[i].value),
			    kpath, yload_overflow_words, &e) == 0)
				q->overflow = e == 0 ? QUEUE_BLOCK : e == 1 ?
				    QUEUE_DROP_OLDEST : QUEUE_DROP_NEWEST;
			break;
		case QK_PREFETCH:
			if (yload_uint(y, yload_visit(y, pairs[i].value),
			    kpath, 1, MANIFEST_MAX_PREFETCH, &u) == 0)
				q->prefetch = (size_t)u;
			break;
		case QK_BACKEND:
			if (yload_enum(y, yload_visit(y, pairs[i].value),
			    kpath, yload_backend_words, &e) == 0)
				q->redis = e == 1;
			else
				backend_ok = 0;
			break;
		default:
			if (k >= QK_URL && k < QK_COUNT)
				keys[k] = &pairs[i];
			break;
		}
		free(kpath);
	}
	/* With a backend in error, which keys belong is unknown. */
	if (!y->aborted && backend_ok)
		yload_queue_redis(y, entry, path, q, keys, mode);
	free(pairs);
}
