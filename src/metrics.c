/*
 * Prometheus text from a snapshot: one family per metric, each with its
 * HELP and TYPE lines and then its samples, as the format wants (a
 * family's samples together, never interleaved). Pure; the snapshot's
 * owner fills it and frees it.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <assert.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "xmalloc.h"

enum metrics_field {
	MF_UNIT_UP,
	MF_UNIT_READY,
	MF_UNIT_RESTARTS,
	MF_UNIT_CPU,
	MF_UNIT_RSS,
	MF_QUEUE_DEPTH,
	MF_QUEUE_CAPACITY,
	MF_QUEUE_IN,
	MF_QUEUE_OUT,
	MF_QUEUE_DROPPED,
	MF_QUEUE_REDELIVERED,
	MF_QUEUE_TORN,
};

static const struct {
	enum metrics_field	 field;
	const char		*name;
	const char		*type;
	const char		*help;
} metrics_families[] = {
	{ MF_UNIT_UP, "pytasking_unit_up", "gauge",
	    "1 when the unit has a run going on (starting to stopping)." },
	{ MF_UNIT_READY, "pytasking_unit_ready", "gauge",
	    "1 when the unit's current run is ready." },
	{ MF_UNIT_RESTARTS, "pytasking_unit_restarts_total", "counter",
	    "Restarts of the unit." },
	{ MF_UNIT_CPU, "pytasking_unit_cpu_seconds_total", "counter",
	    "User and system CPU time of the unit's processes, every run." },
	{ MF_UNIT_RSS, "pytasking_unit_memory_rss_bytes", "gauge",
	    "Resident memory of the unit's process." },
	{ MF_QUEUE_DEPTH, "pytasking_queue_depth", "gauge",
	    "Items held in the queue." },
	{ MF_QUEUE_CAPACITY, "pytasking_queue_capacity", "gauge",
	    "Items the queue holds before its overflow policy applies." },
	{ MF_QUEUE_IN, "pytasking_queue_items_in_total", "counter",
	    "Items pushed into the queue by producers." },
	{ MF_QUEUE_OUT, "pytasking_queue_items_out_total", "counter",
	    "Items taken from the queue by consumers." },
	{ MF_QUEUE_DROPPED, "pytasking_queue_dropped_total", "counter",
	    "Items lost to the queue's drop-oldest or drop-newest policy." },
	{ MF_QUEUE_REDELIVERED, "pytasking_queue_redelivered_total",
	    "counter", "Items put back for another consumer to take." },
	{ MF_QUEUE_TORN, "pytasking_queue_torn_total", "counter",
	    "Unfinished last lines of producers that died, dropped." },
};

/* A label value: the format escapes backslash, quote and newline. */
void
metrics_label_value(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (*s == '\\')
			buf_adds(b, "\\\\");
		else if (*s == '"')
			buf_adds(b, "\\\"");
		else if (*s == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *s);
	}
}

/* A valid metric name. */
int
metrics_is_valid_name(const char *s)
{
	const char	*p;

	if (s == NULL || *s == '\0' || (*s >= '0' && *s <= '9'))
		return 0;
	for (p = s; *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '_' || *p == ':'))
			return 0;
	return 1;
}

/* HELP text: the format escapes backslash and newline there. */
static void
metrics_help(struct buf *b, const char *name, const char *help)
{
	buf_addf(b, "# HELP %s ", name);
	for (; *help != '\0'; help++) {
		if (*help == '\\')
			buf_adds(b, "\\\\");
		else if (*help == '\n')
			buf_adds(b, "\\n");
		else
			buf_addc(b, *help);
	}
	buf_addc(b, '\n');
}

/* The sample of one unit for a family; nothing when it has none. */
static void
metrics_unit_sample(struct buf *b, const char *name, enum metrics_field f,
    const struct metrics_unit *u)
{
	if (f == MF_UNIT_RSS && !u->has_rss)
		return;
	buf_addf(b, "%s{unit=\"", name);
	metrics_label_value(b, u->unit);
	if (u->replica != NULL) {
		buf_adds(b, "\",replica=\"");
		metrics_label_value(b, u->replica);
	}
	buf_adds(b, "\"} ");
	switch (f) {
	case MF_UNIT_UP:
		buf_addf(b, "%d\n", u->up ? 1 : 0);
		break;
	case MF_UNIT_READY:
		buf_addf(b, "%d\n", u->ready ? 1 : 0);
		break;
	case MF_UNIT_RESTARTS:
		buf_addf(b, "%" PRIu64 "\n", u->restarts);
		break;
	case MF_UNIT_CPU:
		buf_addf(b, "%" PRIu64 ".%03" PRIu64 "\n", u->cpu_ms / 1000,
		    u->cpu_ms % 1000);
		break;
	case MF_UNIT_RSS:
		buf_addf(b, "%" PRIu64 "\n", u->rss_bytes);
		break;
	default:
		assert(0);
	}
}

/* The sample of one queue for a family. */
static void
metrics_queue_sample(struct buf *b, const char *name, enum metrics_field f,
    const struct metrics_queue *q)
{
	uint64_t	v = 0;

	switch (f) {
	case MF_QUEUE_DEPTH:
		v = q->depth;
		break;
	case MF_QUEUE_CAPACITY:
		v = q->capacity;
		break;
	case MF_QUEUE_IN:
		v = q->in;
		break;
	case MF_QUEUE_OUT:
		v = q->out;
		break;
	case MF_QUEUE_DROPPED:
		v = q->dropped;
		break;
	case MF_QUEUE_REDELIVERED:
		v = q->redelivered;
		break;
	case MF_QUEUE_TORN:
		v = q->torn;
		break;
	default:
		assert(0);
	}
	buf_addf(b, "%s{queue=\"", name);
	metrics_label_value(b, q->queue);
	buf_addf(b, "\"} %" PRIu64 "\n", v);
}

/* Every family, with its samples. */
void
metrics_format(struct buf *b, const struct metrics_unit *units,
    size_t nunits, const struct metrics_queue *queues, size_t nqueues)
{
	const char	*name;
	size_t		 f, i;
	int		 unit;

	for (f = 0; f < sizeof metrics_families / sizeof
	    metrics_families[0]; f++) {
		name = metrics_families[f].name;
		unit = strncmp(name, "pytasking_unit_", 15) == 0;
		metrics_help(b, name, metrics_families[f].help);
		buf_addf(b, "# TYPE %s %s\n", name, metrics_families[f].type);
		if (unit)
			for (i = 0; i < nunits; i++)
				metrics_unit_sample(b, name,
				    metrics_families[f].field, &units[i]);
		else
			for (i = 0; i < nqueues; i++)
				metrics_queue_sample(b, name,
				    metrics_families[f].field, &queues[i]);
	}
}

/* PORT (digits only, 0 to 65535) on host. */
static int
metrics_port_only(const char *host, const char *p, char **hostp,
    unsigned *port, const char **errstr)
{
	unsigned long	n;

	if (*p == '\0' || strspn(p, "0123456789") != strlen(p) ||
	    strlen(p) > 5 || (n = strtoul(p, NULL, 10)) > 65535) {
		*errstr = "expected a port from 0 to 65535";
		return -1;
	}
	*hostp = xstrdup(host);
	*port = (unsigned)n;
	return 0;
}

/* "HOST:PORT", "[V6]:PORT", ":PORT" or "PORT". */
int
metrics_parse_addr(const char *s, char **host, unsigned *port,
    const char **errstr)
{
	struct in6_addr	 a6;
	struct in_addr	 a4;
	const char	*colon, *p;
	char		*h;
	unsigned long	 n;
	size_t		 hlen;
	int		 v6 = 0;

	*host = NULL;
	/* A port alone, or ":PORT": loopback, the safe default. */
	if (*s != '\0' && strspn(s, "0123456789") == strlen(s))
		return metrics_port_only("127.0.0.1", s, host, port, errstr);
	if (s[0] == ':')
		return metrics_port_only("127.0.0.1", s + 1, host, port,
		    errstr);
	if (s[0] == '[') {
		if ((p = strchr(s, ']')) == NULL || p[1] != ':') {
			*errstr = "expected [IPV6]:PORT";
			return -1;
		}
		v6 = 1;
		hlen = (size_t)(p - s) - 1;
		s++;
		colon = p + 1;
	} else {
		if ((colon = strrchr(s, ':')) == NULL) {
			*errstr = "expected ADDRESS:PORT";
			return -1;
		}
		hlen = (size_t)(colon - s);
	}
	p = colon + 1;
	if (*p == '\0' || strspn(p, "0123456789") != strlen(p) ||
	    strlen(p) > 5 || (n = strtoul(p, NULL, 10)) > 65535) {
		*errstr = "expected a port from 0 to 65535";
		return -1;
	}
	h = xmalloc(hlen + 1);
	memcpy(h, s, hlen);
	h[hlen] = '\0';
	if (v6 ? inet_pton(AF_INET6, h, &a6) != 1 :
	    inet_pton(AF_INET, h, &a4) != 1) {
		free(h);
		*errstr = v6 ? "not an IPv6 address" : "not an IPv4 address; "
		    "IPv6 goes in brackets, names are not resolved";
		return -1;
	}
	*host = h;
	*port = (unsigned)n;
	return 0;
}

/* 127.0.0.0/8 or ::1. */
int
metrics_addr_is_loopback(const char *host)
{
	struct in6_addr	a6;
	struct in_addr	a4;

	if (inet_pton(AF_INET, host, &a4) == 1)
		return (ntohl(a4.s_addr) >> 24) == 127;
	if (inet_pton(AF_INET6, host, &a6) == 1)
		return IN6_IS_ADDR_LOOPBACK(&a6);
	return 0;
}
