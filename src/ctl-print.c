/*
 * The output of `pytasking-run ctl`: the reply's records kept as they
 * came, and rendered as an aligned table, as one JSON document, or line
 * by line while following logs. Knows nothing of sockets or of how the
 * request was made (ctl.c); only what a parsed reply holds (ctlproto.h).
 */
#include "config.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "buf.h"
#include "ctl-int.h"
#include "ctlproto.h"
#include "xmalloc.h"

/* Copy a parsed reply's fields. */
void
record_fill(struct record *rec, const struct ctl_reply *r)
{
	size_t	i;

	rec->set = r->set != NULL ? xstrdup(r->set) : NULL;
	rec->n = r->nkv;
	rec->f = xcalloc(r->nkv + 1, sizeof *rec->f);
	for (i = 0; i < r->nkv; i++) {
		rec->f[i].type = r->kv[i].type;
		rec->f[i].key = xstrdup(r->kv[i].key);
		rec->f[i].val = xmalloc(r->kv[i].vlen + 1);
		memcpy(rec->f[i].val, r->kv[i].val, r->kv[i].vlen);
		rec->f[i].val[r->kv[i].vlen] = '\0';
		rec->f[i].vlen = r->kv[i].vlen;
	}
}

void
record_release(struct record *rec)
{
	size_t	i;

	for (i = 0; i < rec->n; i++) {
		free(rec->f[i].key);
		free(rec->f[i].val);
	}
	free(rec->f);
	free(rec->set);
	memset(rec, 0, sizeof *rec);
}

const struct field *
record_get(const struct record *rec, const char *key)
{
	size_t	i;

	for (i = 0; i < rec->n; i++)
		if (strcmp(rec->f[i].key, key) == 0)
			return &rec->f[i];
	return NULL;
}

/* Append the fields of rec to a JSON object being built. */
void
json_fields(struct buf *b, const struct record *rec, int first)
{
	struct ctl_kv	kv;
	size_t		i;

	for (i = 0; i < rec->n; i++) {
		if (!first || i > 0)
			buf_addc(b, ',');
		buf_add_json_string(b, rec->f[i].key, strlen(rec->f[i].key));
		buf_addc(b, ':');
		kv.type = rec->f[i].type;
		kv.key = rec->f[i].key;
		kv.val = rec->f[i].val;
		kv.vlen = rec->f[i].vlen;
		ctlproto_json_value(b, &kv);
	}
}

static void
json_object(struct buf *b, const struct record *rec)
{
	buf_addc(b, '{');
	json_fields(b, rec, 1);
	buf_addc(b, '}');
}

/* The whole reply as one JSON document on stdout. */
static void
ctl_print_json(struct ctl *c)
{
	struct buf	 b;
	const char	**sets;
	size_t		 nsets = 0, i, j, k;
	int		 first;

	buf_init(&b);
	buf_adds(&b, "{\"ok\":true");
	json_fields(&b, &c->final, 0);
	sets = xcalloc(c->nrecs + 2, sizeof *sets);
	if (c->set != NULL)
		sets[nsets++] = c->set;
	for (i = 0; i < c->nrecs; i++) {
		for (j = 0; j < nsets; j++)
			if (strcmp(sets[j], c->recs[i].set) == 0)
				break;
		if (j == nsets)
			sets[nsets++] = c->recs[i].set;
	}
	for (j = 0; j < nsets; j++) {
		/* A set named like a field of the ok frame is not repeated. */
		if (record_get(&c->final, sets[j]) != NULL)
			continue;
		buf_addc(&b, ',');
		buf_add_json_string(&b, sets[j], strlen(sets[j]));
		buf_adds(&b, ":[");
		first = 1;
		for (k = 0; k < c->nrecs; k++) {
			if (strcmp(c->recs[k].set, sets[j]) != 0)
				continue;
			if (!first)
				buf_addc(&b, ',');
			first = 0;
			json_object(&b, &c->recs[k]);
		}
		buf_addc(&b, ']');
	}
	buf_adds(&b, "}\n");
	fwrite(buf_ptr(&b), 1, buf_used(&b), stdout);
	free(sets);
	buf_release(&b);
}

/* 1234567 ms as "20m34s": two units at most, for people. */
void
ctl_format_uptime(uint64_t ms, char *out, size_t len)
{
	uint64_t	s = ms / 1000;

	if (ms == 0)
		snprintf(out, len, "-");
	else if (ms < 1000)
		snprintf(out, len, "%llums", (unsigned long long)ms);
	else if (s < 60)
		snprintf(out, len, "%llus", (unsigned long long)s);
	else if (s < 3600)
		snprintf(out, len, "%llum%02llus", (unsigned long long)s / 60,
		    (unsigned long long)s % 60);
	else if (s < 86400)
		snprintf(out, len, "%lluh%02llum",
		    (unsigned long long)s / 3600,
		    (unsigned long long)(s % 3600) / 60);
	else
		snprintf(out, len, "%llud%02lluh",
		    (unsigned long long)s / 86400,
		    (unsigned long long)(s % 86400) / 3600);
}

/* A cell of the table: printable, control bytes shown as '?'. */
static char *
cell_text(const struct field *f)
{
	char		 tmp[64];
	char		*s;
	size_t		 i, klen = strlen(f->key);

	if (f->type == CTL_T_NULL)
		return xstrdup("-");
	if (f->type == CTL_T_BOOL)
		return xstrdup(f->val[0] == 't' ? "yes" : "no");
	if (f->type == CTL_T_INT && klen > 3 &&
	    strcmp(f->key + klen - 3, "_ms") == 0) {
		ctl_format_uptime(strtoull(f->val, NULL, 10), tmp, sizeof tmp);
		return xstrdup(tmp);
	}
	s = xmalloc(f->vlen + 1);
	for (i = 0; i < f->vlen; i++)
		s[i] = ((unsigned char)f->val[i] < 0x20 ||
		    f->val[i] == 0x7f) ? '?' : f->val[i];
	s[f->vlen] = '\0';
	return s;
}

/* A column's title: the key upper-cased, "_ms" dropped, '_' as ' '. */
static char *
column_title(const char *key)
{
	char	*t = xstrdup(key), *p;
	size_t	 len = strlen(t);

	if (len > 3 && strcmp(t + len - 3, "_ms") == 0)
		t[len - 3] = '\0';
	for (p = t; *p != '\0'; p++)
		*p = *p == '_' ? ' ' : (char)(*p >= 'a' && *p <= 'z' ?
		    *p - 'a' + 'A' : *p);
	return t;
}

/*
 * Keys of the sampler's figures (rates, CPU, memory, a queue's capacity
 * and depth history) and a replica's base name: left out of the tables,
 * which stay as they were.
 */
static int
is_sampled(const char *key)
{
	static const char *const keys[] = {
		"base", "cpu_pct", "cpu_time_ms", "rss_bytes", "capacity", "torn",
		"producers", "producers_pending", "consumers", "in_flight",
		"in_per_s", "out_per_s",
		"depth_history", NULL
	};
	size_t	i;

	for (i = 0; keys[i] != NULL; i++)
		if (strcmp(key, keys[i]) == 0)
			return 1;
	return 0;
}

/* The records of one set as an aligned table, columns from the first. */
static void
ctl_print_table(struct ctl *c, const char *set)
{
	const struct record	 *first = NULL;
	const struct field	 *f;
	char			**titles, ***cells;
	size_t			 *width, ncols, nrows = 0, i, j, w;
	int			 *right;

	for (i = 0; i < c->nrecs; i++)
		if (strcmp(c->recs[i].set, set) == 0) {
			if (first == NULL)
				first = &c->recs[i];
			nrows++;
		}
	if (first == NULL)
		return;
	ncols = first->n;
	/* The sampler's figures come last: JSON and top show them. */
	for (j = 0; j < ncols; j++)
		if (is_sampled(first->f[j].key))
			break;
	ncols = j;
	titles = xcalloc(ncols, sizeof *titles);
	width = xcalloc(ncols, sizeof *width);
	right = xcalloc(ncols, sizeof *right);
	cells = xcalloc(nrows, sizeof *cells);
	for (j = 0; j < ncols; j++) {
		titles[j] = column_title(first->f[j].key);
		width[j] = strlen(titles[j]);
	}
	for (i = 0, nrows = 0; i < c->nrecs; i++) {
		if (strcmp(c->recs[i].set, set) != 0)
			continue;
		cells[nrows] = xcalloc(ncols, sizeof **cells);
		for (j = 0; j < ncols; j++) {
			f = record_get(&c->recs[i], first->f[j].key);
			cells[nrows][j] = f != NULL ? cell_text(f) :
			    xstrdup("-");
			/* Numbers align right, "-" for none with them. */
			if (f != NULL && f->type == CTL_T_INT)
				right[j] = 1;
			if ((w = strlen(cells[nrows][j])) > width[j])
				width[j] = w;
		}
		nrows++;
	}
	for (i = 0; i <= nrows; i++) {
		for (j = 0; j < ncols; j++) {
			const char *s = i == 0 ? titles[j] : cells[i - 1][j];

			if (j + 1 == ncols && !right[j])
				printf("%s", s);
			else if (right[j])
				printf("%*s", (int)width[j], s);
			else
				printf("%-*s", (int)width[j], s);
			printf("%s", j + 1 == ncols ? "\n" : "  ");
		}
	}
	for (i = 0; i < nrows; i++) {
		for (j = 0; j < ncols; j++)
			free(cells[i][j]);
		free(cells[i]);
	}
	for (j = 0; j < ncols; j++)
		free(titles[j]);
	free(cells);
	free(titles);
	free(width);
	free(right);
}

/* "2026-11-25T19:00:00.123Z", UTC, from ms since the epoch. */
static void
format_time(uint64_t ms, char *out, size_t len)
{
	struct tm	tm;
	time_t		sec = (time_t)(ms / 1000);
	char		s[32];

	if (gmtime_r(&sec, &tm) == NULL ||
	    strftime(s, sizeof s, "%Y-%m-%dT%H:%M:%S", &tm) == 0) {
		snprintf(out, len, "%llu", (unsigned long long)ms);
		return;
	}
	snprintf(out, len, "%s.%03uZ", s, (unsigned)(ms % 1000));
}

/* A ring's size as the manifest writes it: 1MiB, 64KiB, or bytes. */
static void
format_size(uint64_t v, char *out, size_t len)
{
	if (v % (1024 * 1024) == 0)
		snprintf(out, len, "%lluMiB", (unsigned long long)(v >> 20));
	else if (v % 1024 == 0)
		snprintf(out, len, "%lluKiB", (unsigned long long)(v >> 10));
	else
		snprintf(out, len, "%llu", (unsigned long long)v);
}

/* The integer value of a field, or 0. */
static uint64_t
field_uint(const struct field *f)
{
	return f != NULL ? strtoull(f->val, NULL, 10) : 0;
}

/*
 * A line of a unit's output, printed as soon as it arrives; a ring that
 * dropped lines from its head is said on stderr, once, before them.
 */
void
ctl_print_line(struct ctl *c, const struct record *rec)
{
	const struct field	*unit, *line;
	struct buf		 b;
	char			 t[48];

	if (!c->json && rec->set != NULL &&
	    strcmp(rec->set, "dropped") == 0) {
		unit = record_get(rec, "unit");
		format_size(field_uint(record_get(rec, "log_buffer")), t,
		    sizeof t);
		fflush(stdout);
		fprintf(stderr, "pytasking-run: %s: %llu older lines were "
		    "dropped (log_buffer: %s)\n", unit != NULL ? unit->val :
		    "?", (unsigned long long)field_uint(record_get(rec,
		    "lines")), t);
		return;
	}

	if (c->json) {
		/* Following never ends: one JSON object per line. */
		buf_init(&b);
		json_object(&b, rec);
		buf_addc(&b, '\n');
		fwrite(buf_ptr(&b), 1, buf_used(&b), stdout);
		buf_release(&b);
	} else {
		unit = record_get(rec, "unit");
		line = record_get(rec, "line");
		if (c->timestamps) {
			format_time(field_uint(record_get(rec, "time")), t,
			    sizeof t);
			printf("%s ", t);
		}
		if (unit != NULL)
			printf("%s | ", unit->val);
		if (line != NULL)
			fwrite(line->val, 1, line->vlen, stdout);
		putchar('\n');
	}
	fflush(stdout);
}

/* Show a successful reply. */
void
ctl_print(struct ctl *c)
{
	const struct field	*item;
	size_t			 i;

	if (c->json) {
		if (c->req != CTL_FOLLOW)
			ctl_print_json(c);
		return;
	}
	switch (c->req) {
	case CTL_LIST:
	case CTL_STATUS:
	case CTL_QUEUES:
		ctl_print_table(c, c->set);
		break;
	case CTL_METRICS:
		/* The exposition as it is: records of whole lines. */
		for (i = 0; i < c->nrecs; i++)
			if ((item = record_get(&c->recs[i], "text")) != NULL)
				fwrite(item->val, 1, item->vlen, stdout);
		break;
	case CTL_START:
		/* Not an error: what was asked holds already. */
		if ((item = record_get(&c->final, "already")) != NULL)
			printf("%.*s: already running\n", (int)item->vlen,
			    item->val);
		break;
	case CTL_GET:
	case CTL_GET_ACK:
		if ((item = record_get(&c->final, "item")) != NULL) {
			fwrite(item->val, 1, item->vlen, stdout);
			putchar('\n');
		}
		break;
	case CTL_PUT:
	case CTL_PUT_STREAM:
		/* Items lost to a drop-* policy are said, not only counted. */
		if ((item = record_get(&c->final, "dropped")) != NULL &&
		    !(item->vlen == 1 && item->val[0] == '0'))
			fprintf(stderr, "pytasking-run: ctl: put: %.*s item(s) "
			    "dropped: the queue was full\n", (int)item->vlen,
			    item->val);
		break;
	default:
		break;
	}
}
