/*
 * The manifest model as plain structs. Pure: it never sees YAML syntax
 * trees or libuv; manifest-yaml.c fills it in, the supervisor borrows it
 * read-only. This file owns its life cycle (new, free, lookups by name),
 * the quoting of values for messages and the parsing of addresses; the
 * cross-checks that need the whole file are manifest-check.c's, the
 * printing as YAML manifest-print.c's, the comparison for a reload
 * manifest-cmp.c's.
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"
#include "buf.h"
#include "manifest.h"
#include "script.h"
#include "util.h"
#include "xmalloc.h"

/* Allocate an empty manifest for the named file (owner: the caller). */
struct manifest *
manifest_new(const char *file)
{
	struct manifest	*m;

	m = xcalloc(1, sizeof *m);
	m->refs = 1;
	m->file = xstrdup(file != NULL ? file : "-");
	m->version = 1;
	m->drain_timeout_ms = MANIFEST_DEFAULT_DRAIN_TIMEOUT_MS;
	return m;
}

/* Free the destinations of a stream and leave it empty. */
void
output_release(struct output *o)
{
	size_t	i;

	for (i = 0; i < o->ndests; i++)
		free(o->dests[i].name);
	free(o->dests);
	o->dests = NULL;
	o->ndests = 0;
}

/* Free the names of a list of dependencies. */
static void
manifest_deps_free(struct dep *deps, size_t n)
{
	size_t	i;

	for (i = 0; i < n; i++)
		free(deps[i].name);
	free(deps);
}

/* Free a NULL-terminated argument vector. */
static void
manifest_argv_free(char **argv)
{
	size_t	i;

	if (argv == NULL)
		return;
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
}

/* Free what one process spec owns. */
/* Free a list of variables. */
static void
manifest_env_free(struct env_var *env, size_t nenv)
{
	size_t	i;

	for (i = 0; i < nenv; i++) {
		free(env[i].name);
		free(env[i].value);
	}
	free(env);
}

static void
manifest_proc_release(struct proc_spec *p)
{
	size_t	i;

	free(p->name);
	if (p->argv != NULL) {
		for (i = 0; i < p->argc; i++)
			free(p->argv[i]);
		free(p->argv);
	}
	free(p->shell);
	free(p->cwd);
	manifest_env_free(p->env, p->nenv);
	output_release(&p->out);
	output_release(&p->err);
	free(p->stdin_queue);
	manifest_deps_free(p->deps, p->ndeps);
	free(p->ready.regex);
	manifest_argv_free(p->ready.argv);
	free(p->ready.host);
	free(p->ready.port);
	free(p->ready.path);
	manifest_argv_free(p->liveness.probe.argv);
	free(p->liveness.probe.host);
	free(p->liveness.probe.port);
	free(p->liveness.probe.path);
	free(p->user);
	free(p->group);
	free(p->success_codes);
}

void
manifest_ref(struct manifest *m)
{
	if (m != NULL)
		m->refs++;
}

/*
 * Drop a reference; with the last, free the manifest and everything in it; NULL is a no-op. A packed one is
 * its arena, m included; an unpacked one (being loaded, or built by hand
 * for ctl) is walked part by part.
 */
void
manifest_free(struct manifest *m)
{
	size_t	i;

	if (m == NULL || --m->refs > 0)
		return;
	if (m->arena != NULL) {
		arena_free(m->arena);
		return;
	}
	for (i = 0; i < m->nprocs; i++)
		manifest_proc_release(&m->procs[i]);
	free(m->procs);
	for (i = 0; i < m->ntasks; i++) {
		free(m->tasks[i].name);
		script_free(m->tasks[i].run);
		script_free(m->tasks[i].on_cancel);
		output_release(&m->tasks[i].out);
		manifest_deps_free(m->tasks[i].deps, m->tasks[i].ndeps);
		manifest_env_free(m->tasks[i].env, m->tasks[i].nenv);
	}
	free(m->tasks);
	for (i = 0; i < m->nqueues; i++) {
		free(m->queues[i].name);
		free(m->queues[i].url);
		free(m->queues[i].stream);
		free(m->queues[i].group);
	}
	free(m->queues);
	free(m->metrics);
	free(m->file);
	free(m);
}

/* The process named name, or NULL. */
struct proc_spec *
manifest_find_proc(const struct manifest *m, const char *name)
{
	size_t	i;

	for (i = 0; i < m->nprocs; i++)
		if (strcmp(m->procs[i].name, name) == 0)
			return &m->procs[i];
	return NULL;
}

/* The task named name, or NULL. */
struct task_spec *
manifest_find_task(const struct manifest *m, const char *name)
{
	size_t	i;

	for (i = 0; i < m->ntasks; i++)
		if (strcmp(m->tasks[i].name, name) == 0)
			return &m->tasks[i];
	return NULL;
}

/* The queue named name, or NULL. */
struct queue_spec *
manifest_find_queue(const struct manifest *m, const char *name)
{
	size_t	i;

	for (i = 0; i < m->nqueues; i++)
		if (strcmp(m->queues[i].name, name) == 0)
			return &m->queues[i];
	return NULL;
}

/* The manifest spelling of a restart policy. */
const char *
manifest_restart_name(enum restart_policy p)
{
	switch (p) {
	case RESTART_NEVER:
		return "never";
	case RESTART_ON_FAILURE:
		return "on-failure";
	case RESTART_ALWAYS:
		return "always";
	}
	return "never";
}

/* The length of the valid UTF-8 sequence at s, or 0. */
static size_t
manifest_utf8_len(const unsigned char *s)
{
	size_t	n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	if ((n == 3 && s[0] == 0xe0 && s[1] < 0xa0) ||
	    (n == 3 && s[0] == 0xed && s[1] >= 0xa0) ||
	    (n == 4 && s[0] == 0xf0 && s[1] < 0x90) ||
	    (n == 4 && s[0] == 0xf4 && s[1] >= 0x90))
		return 0;
	return n;
}

/*
 * Quote s as a YAML double-quoted scalar, which is also how messages show
 * a value. Control bytes and C1 controls (a terminal may act on either),
 * U+FFFE and U+FFFF (which YAML refuses raw), the Unicode line breaks
 * YAML would fold, and bytes that are not UTF-8 (a value from the environment may hold any) are
 * escaped, so the result always parses. With max > 0, longer text is cut
 * on a character boundary and marked with "...".
 */
char *
manifest_quote(const char *s, size_t max)
{
	const unsigned char	*p = (const unsigned char *)s;
	struct buf		 b;
	size_t			 i, n, len = strlen(s);

	buf_init(&b);
	buf_addc(&b, '"');
	for (i = 0; i < len; i += n) {
		if (max > 0 && i >= max) {
			buf_adds(&b, "...");
			break;
		}
		n = manifest_utf8_len(p + i);
		if (n == 0) {
			buf_addf(&b, "\\x%02x", p[i]);
			n = 1;
		} else if (p[i] == '"' || p[i] == '\\') {
			buf_addc(&b, '\\');
			buf_addc(&b, (char)p[i]);
		} else if (p[i] == '\n')
			buf_adds(&b, "\\n");
		else if (p[i] == '\t')
			buf_adds(&b, "\\t");
		else if (p[i] == '\r')
			buf_adds(&b, "\\r");
		else if (p[i] < 0x20 || p[i] == 0x7f)
			buf_addf(&b, "\\x%02x", p[i]);
		else if (n == 2 && p[i] == 0xc2 && p[i + 1] == 0x85)
			buf_adds(&b, "\\N");
		else if (n == 2 && p[i] == 0xc2 && p[i + 1] < 0xa0)
			/* The other C1 controls: YAML refuses them raw. */
			buf_addf(&b, "\\x%02x", p[i + 1]);
		else if (n == 3 && p[i] == 0xef && p[i + 1] == 0xbf &&
		    p[i + 2] >= 0xbe)
			/* U+FFFE and U+FFFF: not characters to YAML either. */
			buf_addf(&b, "\\u%s", p[i + 2] == 0xbe ? "FFFE" : "FFFF");
		else if (n == 3 && p[i] == 0xe2 && p[i + 1] == 0x80 &&
		    (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
			buf_adds(&b, p[i + 2] == 0xa8 ? "\\L" : "\\P");
		else
			buf_add(&b, p + i, n);
	}
	buf_addc(&b, '"');
	return buf_steal(&b);
}

/* "3 processes, 1 task, 2 queues" into buf. */
void
manifest_summary(const struct manifest *m, char *buf, size_t len)
{
	snprintf(buf, len, "%zu process%s, %zu task%s, %zu queue%s",
	    m->nprocs, m->nprocs == 1 ? "" : "es",
	    m->ntasks, m->ntasks == 1 ? "" : "s",
	    m->nqueues, m->nqueues == 1 ? "" : "s");
}

/* ---------------------------------------------------------------- addresses */

/*
 * "HOST:PORT" or "[V6]:PORT". A host name or IPv4 address is letters,
 * digits, ".", "-" and "_"; an IPv6 address (with an optional %zone) goes
 * in brackets, so that its colons are not taken for the port's. The port
 * is a number, kept in its shortest spelling so that equal specs compare
 * equal.
 */
int
manifest_parse_hostport(const char *s, const char *defport, char **host,
    char **port, const char **errstr)
{
	const char	*h, *end, *p, *e;
	uint64_t	 u;
	size_t		 hlen, i;
	int		 v6 = 0, c;

	*host = *port = NULL;
	*errstr = NULL;
	if (*s == '[') {
		h = s + 1;
		if ((end = strchr(h, ']')) == NULL) {
			*errstr = "no \"]\" after \"[\"";
			return -1;
		}
		p = end + 1;
		v6 = 1;
	} else {
		h = s;
		if ((end = strchr(s, ':')) == NULL)
			end = s + strlen(s);
		p = end;
		if (*p == ':' && strchr(p + 1, ':') != NULL) {
			*errstr = "an IPv6 address goes in brackets, as "
			    "[::1]:80";
			return -1;
		}
	}
	hlen = (size_t)(end - h);
	if (hlen == 0) {
		*errstr = "no host";
		return -1;
	}
	for (i = 0; i < hlen; i++) {
		c = (unsigned char)h[i];
		if (isalnum(c) || c == '.' || c == '-' || c == '_' ||
		    (v6 && (c == ':' || c == '%')))
			continue;
		*errstr = "invalid character in the host";
		return -1;
	}
	if (v6 && memchr(h, ':', hlen) == NULL) {
		*errstr = "brackets are for IPv6 addresses";
		return -1;
	}
	if (*p == '\0') {
		if (defport == NULL) {
			*errstr = "no port";
			return -1;
		}
		p = defport;
	} else if (*p != ':') {
		*errstr = "expected \":PORT\" after the address";
		return -1;
	} else
		p++;
	if (util_parse_uint(p, 1, 65535, &u, &e) == -1) {
		*errstr = "the port is a number from 1 to 65535";
		return -1;
	}
	*host = xstrndup(h, hlen);
	*port = xasprintf("%u", (unsigned)u);
	return 0;
}

/* Free the strings of a parsed Redis URL. */
void
manifest_redis_url_release(struct redis_url *r)
{
	free(r->user);
	free(r->password);
	free(r->host);
	memset(r, 0, sizeof *r);
}

/*
 * redis://[[USER]:PASSWORD@]HOST[:PORT][/DB], as redis-cli -u takes it.
 * The password ends at the last "@", so it may hold any character; it is
 * taken literally (no %-decoding).
 */
int
manifest_parse_redis_url(const char *url, struct redis_url *r,
    const char **errstr)
{
	const char	*rest, *at, *colon, *slash, *e;
	char		*hostport, *port;
	uint64_t	 u;

	memset(r, 0, sizeof *r);
	*errstr = NULL;
	if (strncmp(url, "rediss://", 9) == 0) {
		*errstr = "rediss:// (TLS) is not supported";
		return -1;
	}
	if (strncmp(url, "redis://", 8) != 0) {
		*errstr = "the URL does not start with redis://";
		return -1;
	}
	rest = url + 8;
	if ((at = strrchr(rest, '@')) != NULL) {
		if ((colon = memchr(rest, ':', (size_t)(at - rest))) == NULL) {
			*errstr = "expected :PASSWORD@ before the host";
			return -1;
		}
		if (at == colon + 1) {
			*errstr = "empty password";
			return -1;
		}
		if (colon > rest)
			r->user = xstrndup(rest, (size_t)(colon - rest));
		r->password = xstrndup(colon + 1, (size_t)(at - colon - 1));
		rest = at + 1;
	}
	if ((slash = strchr(rest, '/')) != NULL)
		hostport = xstrndup(rest, (size_t)(slash - rest));
	else
		hostport = xstrdup(rest);
	if (manifest_parse_hostport(hostport, "6379", &r->host, &port,
	    errstr) == -1) {
		free(hostport);
		manifest_redis_url_release(r);
		return -1;
	}
	free(hostport);
	r->port = (unsigned)strtoul(port, NULL, 10);
	free(port);
	r->db = 0;
	if (slash != NULL && slash[1] != '\0') {
		if (util_parse_uint(slash + 1, 0, INT32_MAX, &u, &e) == -1) {
			*errstr = "the database is a number, as in /0";
			manifest_redis_url_release(r);
			return -1;
		}
		r->db = (unsigned)u;
	}
	return 0;
}

