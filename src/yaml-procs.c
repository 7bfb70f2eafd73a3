/*
 * One process (processes.NAME) from the YAML tree: cmd or shell, env,
 * stdin, the readiness probe, limits, umask, user and group, beside the
 * specs it shares with tasks (yaml-specs.c). No libyaml; whether a user
 * exists or a probe answers is found out when the process starts.
 */
#include "config.h"

#include <ctype.h>
#include <regex.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "manifest.h"
#include "manifest-yaml-int.h"
#include "util.h"
#include "xmalloc.h"

/* cmd: a non-empty sequence of strings, exec'd directly. */
static void
yload_cmd(struct yload *y, struct ynode *n, const char *path,
    struct proc_spec *p)
{
	(void)yload_argv(y, n, path, "[python3, app.py]", "use shell: for a "
	    "command line", &p->argv, &p->argc);
}

/* stdin: a queue name, or null (the default). */
static void
yload_stdin(struct yload *y, struct ynode *n, const char *path,
    struct proc_spec *p)
{
	static const char	*what = "a queue name or null";
	char			*text;

	if (yload_is_null(n))
		return;
	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return;
	if (strcmp(text, "null") == 0) {
		free(text);
		return;
	}
	if (*text == '\0' || strcmp(text, "inherit") == 0 ||
	    strncmp(text, "file:", 5) == 0) {
		yload_expected(y, n, path, text, what, NULL);
		free(text);
		return;
	}
	p->stdin_queue = text;
	p->stdin_loc.line = n->line;
	p->stdin_loc.col = n->col;
}

/* Free what a ready spec owns and clear it, keeping its timeout. */
static void
yload_ready_clear(struct ready_spec *r)
{
	size_t	i;

	free(r->regex);
	if (r->argv != NULL) {
		for (i = 0; r->argv[i] != NULL; i++)
			free(r->argv[i]);
		free(r->argv);
	}
	free(r->host);
	free(r->port);
	free(r->path);
	r->regex = r->host = r->port = r->path = NULL;
	r->argv = NULL;
	r->kind = READY_NONE;
}

/* ready.line: a POSIX extended regular expression, compiled to check it. */
static int
yload_ready_line(struct yload *y, struct ynode *n, const char *path,
    struct ready_spec *r)
{
	static const char	*what = "a regular expression (POSIX ERE)";
	const char		*errstr;
	regex_t			 re;
	char			*text, msg[256];
	int			 e;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return -1;
	if (*text == '\0') {
		yload_expected(y, n, path, text, what, "it would match every "
		    "line");
		free(text);
		return -1;
	}
	if (util_regex_is_tame(text, &errstr) == -1) {
		yload_expected(y, n, path, text, what, errstr);
		free(text);
		return -1;
	}
	if ((e = regcomp(&re, text, REG_EXTENDED | REG_NOSUB)) != 0) {
		regerror(e, &re, msg, sizeof msg);
		yload_expected(y, n, path, text, what, msg);
		free(text);
		return -1;
	}
	regfree(&re);
	r->kind = READY_LINE;
	r->regex = text;
	return 0;
}

/* ready.tcp: "HOST:PORT". */
static int
yload_ready_tcp(struct yload *y, struct ynode *n, const char *path,
    struct ready_spec *r)
{
	static const char	*what = "HOST:PORT such as 127.0.0.1:5432";
	const char		*errstr;
	char			*text;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return -1;
	if (manifest_parse_hostport(text, NULL, &r->host, &r->port,
	    &errstr) == -1) {
		yload_expected(y, n, path, text, what, errstr);
		free(text);
		return -1;
	}
	free(text);
	r->kind = READY_TCP;
	return 0;
}

/*
 * ready.http: "http://HOST[:PORT][/PATH]"; the path defaults to "/" and
 * may hold a query. It goes into a request line as it is, so it must hold
 * no blank or control character.
 */
static int
yload_ready_http(struct yload *y, struct ynode *n, const char *path,
    struct ready_spec *r)
{
	static const char	*what = "a URL such as "
				    "http://127.0.0.1:8080/health";
	const char		*errstr = NULL, *rest, *slash, *p;
	char			*text, *hostport;

	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return -1;
	if (strncmp(text, "https://", 8) == 0)
		errstr = "https is not supported; use exec: with a client such "
		    "as curl";
	else if (strncmp(text, "http://", 7) != 0)
		errstr = "the URL does not start with http://";
	else {
		rest = text + 7;
		if ((slash = strchr(rest, '/')) == NULL)
			slash = rest + strlen(rest);
		hostport = xstrndup(rest, (size_t)(slash - rest));
		if (memchr(rest, '@', (size_t)(slash - rest)) != NULL)
			errstr = "credentials in the URL are not supported";
		else if (manifest_parse_hostport(hostport, "80", &r->host,
		    &r->port, &errstr) == 0) {
			for (p = slash; *p != '\0'; p++)
				if ((unsigned char)*p <= ' ' || *p == 0x7f)
					break;
			if (*p != '\0')
				errstr = "a blank or control character in the "
				    "path";
			else
				r->path = xstrdup(*slash == '\0' ? "/" : slash);
		}
		free(hostport);
	}
	if (errstr != NULL) {
		yload_expected(y, n, path, text, what, errstr);
		free(text);
		return -1;
	}
	free(text);
	r->kind = READY_HTTP;
	return 0;
}

static const char *const yload_ready_keys[] = {
	"line", "fd", "exec", "tcp", "http", "interval", NULL
};

enum {
	RK_LINE, RK_FD, RK_EXEC, RK_TCP, RK_HTTP, RK_INTERVAL,
};

/*
 * ready: a mapping with exactly one way to tell readiness, and interval
 * for those that poll. null means none: started means ready.
 */
static void
yload_ready(struct yload *y, struct ynode *n, const char *path,
    struct ready_spec *r)
{
	struct ready_spec	 scratch, *into;
	struct ypair		*pairs;
	struct ynode		*v, *interval = NULL;
	char			*kpath, *q;
	uint64_t		 u;
	size_t			 i, np, nkinds = 0;
	int			 k, failed = 0, unknown = 0;

	n = yload_visit(y, n);
	if (yload_is_null(n))
		return;
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping with one of line, "
		    "fd, exec, tcp or http", NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		kpath = yload_path(path, pairs[i].name);
		v = yload_visit(y, pairs[i].value);
		if (strcmp(pairs[i].name, "timeout") == 0) {
			q = manifest_quote(pairs[i].name, 0);
			yload_error(y, pairs[i].key, path, "unknown key %s (the "
			    "timeout is ready_timeout, beside ready)", q);
			free(q);
			free(kpath);
			unknown = 1;
			continue;
		}
		if ((k = yload_key(y, &pairs[i], path, yload_ready_keys)) < 0)
			unknown = 1;
		if (k >= RK_LINE && k <= RK_HTTP) {
			/* Only the first kind is kept; all are checked. */
			memset(&scratch, 0, sizeof scratch);
			into = nkinds++ == 0 ? r : &scratch;
			switch (k) {
			case RK_LINE:
				failed |= yload_ready_line(y, v, kpath, into);
				break;
			case RK_FD:
				if (yload_uint(y, v, kpath, 3, 1023, &u) == 0) {
					into->kind = READY_FD;
					into->fd = (int)u;
				} else
					failed = 1;
				break;
			case RK_EXEC:
				if (yload_argv(y, v, kpath, "[pg_isready, -q]",
				    "a probe runs without a shell", &into->argv,
				    NULL) == 0)
					into->kind = READY_EXEC;
				else
					failed = 1;
				break;
			case RK_TCP:
				failed |= yload_ready_tcp(y, v, kpath, into);
				break;
			case RK_HTTP:
				failed |= yload_ready_http(y, v, kpath, into);
				break;
			}
			yload_ready_clear(&scratch);
		} else if (k == RK_INTERVAL) {
			interval = pairs[i].key;
			if (yload_duration(y, v, kpath, &r->interval_ms) == 0 &&
			    r->interval_ms == 0)
				yload_expected(y, v, kpath, NULL, "a duration "
				    "greater than 0", NULL);
		}
		free(kpath);
	}
	free(pairs);
	if (y->aborted)
		return;
	/* With none, an unknown key reported was surely the attempt. */
	if (nkinds > 1 || (nkinds == 0 && !unknown))
		yload_error(y, n, path, "exactly one of line, fd, exec, tcp and "
		    "http is required");
	else if (interval != NULL && !failed && (r->kind == READY_LINE ||
	    r->kind == READY_FD)) {
		kpath = yload_path(path, "interval");
		yload_error(y, interval, kpath, "only exec, tcp and http are "
		    "polled; %s waits for the process itself",
		    r->kind == READY_LINE ? "line" : "fd");
		free(kpath);
	}
}

static const char *const yload_liveness_keys[] = {
	"exec", "tcp", "http", "interval", "timeout", "failures",
	"initial_delay", NULL
};

enum {
	LK_EXEC, LK_TCP, LK_HTTP, LK_INTERVAL, LK_TIMEOUT, LK_FAILURES,
	LK_INITIAL_DELAY,
};

/*
 * liveness: exactly one probe of exec, tcp or http, as for ready, with
 * interval, timeout, failures and initial_delay. null means none.
 */
static void
yload_liveness(struct yload *y, struct ynode *n, const char *path,
    struct liveness_spec *l)
{
	struct ready_spec	 scratch, *into, *r = &l->probe;
	struct ypair		*pairs;
	struct ynode		*v;
	char			*kpath;
	uint64_t		*ms;
	size_t			 i, np, nkinds = 0;
	int			 k, unknown = 0;

	n = yload_visit(y, n);
	if (yload_is_null(n))
		return;
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping with one of exec, "
		    "tcp or http", NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		kpath = yload_path(path, pairs[i].name);
		v = yload_visit(y, pairs[i].value);
		switch ((k = yload_key(y, &pairs[i], path,
		    yload_liveness_keys))) {
		case LK_EXEC:
		case LK_TCP:
		case LK_HTTP:
			/* Only the first kind is kept; all are checked. */
			memset(&scratch, 0, sizeof scratch);
			into = nkinds++ == 0 ? r : &scratch;
			if (k == LK_EXEC) {
				if (yload_argv(y, v, kpath, "[curl, -fs, "
				    "http://127.0.0.1:8080/health]", "a probe "
				    "runs without a shell", &into->argv,
				    NULL) == 0)
					into->kind = READY_EXEC;
			} else if (k == LK_TCP)
				(void)yload_ready_tcp(y, v, kpath, into);
			else
				(void)yload_ready_http(y, v, kpath, into);
			yload_ready_clear(&scratch);
			break;
		case LK_INTERVAL:
		case LK_TIMEOUT:
			ms = k == LK_INTERVAL ? &r->interval_ms : &r->timeout_ms;
			if (yload_duration(y, v, kpath, ms) == 0 && *ms == 0)
				yload_expected(y, v, kpath, NULL, "a duration "
				    "greater than 0", NULL);
			break;
		case LK_FAILURES:
			(void)yload_uint(y, v, kpath, 1, 1000, &l->failures);
			break;
		case LK_INITIAL_DELAY:
			(void)yload_duration(y, v, kpath, &l->initial_delay_ms);
			break;
		default:
			unknown = 1;
			break;
		}
		free(kpath);
	}
	free(pairs);
	if (y->aborted)
		return;
	if (nkinds > 1 || (nkinds == 0 && !unknown))
		yload_error(y, n, path, "exactly one of exec, tcp and http is "
		    "required");
}

static const char *const yload_limit_keys[] = {
	"nofile", "nproc", "core", "as", "cpu", "fsize", NULL
};

/*
 * limits: each an integer or unlimited; core, as and fsize are sizes,
 * cpu is seconds (a duration is rounded up to whole seconds).
 */
static void
yload_limits(struct yload *y, struct ynode *n, const char *path,
    struct limit *limits)
{
	struct ypair	*pairs;
	struct ynode	*v;
	const char	*what, *errstr = NULL;
	char		*kpath, *text;
	uint64_t	 u;
	size_t		 i, np;
	int		 k, ok;

	n = yload_visit(y, n);
	if (yload_is_null(n))
		return;
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping such as {nofile: "
		    "4096, core: 0}", NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		if ((k = yload_key(y, &pairs[i], path, yload_limit_keys)) < 0)
			continue;
		kpath = yload_path(path, pairs[i].name);
		v = yload_visit(y, pairs[i].value);
		if (k == LIMIT_CORE || k == LIMIT_AS || k == LIMIT_FSIZE)
			what = "a size such as 4096, 64k or 1GiB, or unlimited";
		else if (k == LIMIT_CPU)
			what = "seconds such as 10 or a duration such as 2m, "
			    "or unlimited";
		else
			what = "an integer of 0 or more, or unlimited";
		if (yload_scalar_text(y, v, kpath, what, &text) == -1) {
			free(kpath);
			continue;
		}
		errstr = NULL;
		if (strcmp(text, "unlimited") == 0) {
			u = MANIFEST_UNLIMITED;
			ok = 1;
		} else if (k == LIMIT_CORE || k == LIMIT_AS ||
		    k == LIMIT_FSIZE) {
			ok = util_parse_size(text, &u, &errstr) == 0 &&
			    u != MANIFEST_UNLIMITED;
			if (errstr != NULL && strncmp(errstr, "expected",
			    8) == 0)
				errstr = NULL;
		} else if (k == LIMIT_CPU) {
			ok = util_parse_duration(text, &u, &errstr) == 0;
			u = u / 1000 + (u % 1000 != 0);
		} else
			ok = util_parse_uint(text, 0, MANIFEST_UNLIMITED - 1,
			    &u, &errstr) == 0;
		if (ok) {
			limits[k].set = 1;
			limits[k].value = u;
		} else
			yload_expected(y, v, kpath, text, what,
			    k == LIMIT_NOFILE || k == LIMIT_NPROC ? NULL :
			    errstr);
		free(text);
		free(kpath);
	}
	free(pairs);
}

/*
 * umask: octal digits, as a string ("022") or a YAML 1.1 octal integer
 * (022, 0o22), which we see as the same text; null inherits ours.
 */
static void
yload_umask(struct yload *y, struct ynode *n, const char *path, int *out)
{
	static const char	*what = "an octal mode such as \"022\" or "
				    "\"0027\"";
	const char		*p;
	char			*text;
	unsigned		 v = 0;
	size_t			 len;

	if (yload_is_null(n)) {
		*out = -1;
		return;
	}
	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return;
	p = strncmp(text, "0o", 2) == 0 ? text + 2 : text;
	len = strlen(p);
	if (len == 0 || len > 6 || strspn(p, "01234567") != len) {
		yload_expected(y, n, path, text, what, NULL);
		free(text);
		return;
	}
	for (; *p != '\0'; p++)
		v = v * 8 + (unsigned)(*p - '0');
	if (v > 0777)
		yload_expected(y, n, path, text, what, "at most 0777");
	else
		*out = (int)v;
	free(text);
}

/*
 * user, group: a name (letters, digits, ".", "_", "-", and "$" last, as
 * useradd allows) or a numeric id; null means ours. Whether it exists is
 * checked when the process starts, on the machine that runs it.
 */
static void
yload_account(struct yload *y, struct ynode *n, const char *path,
    const char *what, char **out)
{
	const char	*errstr, *p;
	char		*text;
	uint64_t	 u;
	int		 ok = 1;

	if (yload_is_null(n))
		return;
	if (yload_scalar_text(y, n, path, what, &text) == -1)
		return;
	if (*text == '\0' || *text == '-')
		ok = 0;
	else if (strspn(text, "0123456789") == strlen(text))
		ok = util_parse_uint(text, 0, UINT32_MAX - 1, &u, &errstr) == 0;
	else
		for (p = text; *p != '\0' && ok; p++)
			ok = isalnum((unsigned char)*p) || *p == '.' ||
			    *p == '_' || *p == '-' || (*p == '$' &&
			    p[1] == '\0');
	if (!ok) {
		yload_expected(y, n, path, text, what, NULL);
		free(text);
		return;
	}
	free(*out);
	*out = text;
}

/* success_codes: [0, 130]: exit statuses (0 to 255) that are success. */
static void
yload_success_codes(struct yload *y, struct ynode *n, const char *path,
    struct proc_spec *p)
{
	struct ynode	*e;
	char		*epath;
	uint64_t	 u;
	size_t		 i;

	if (n->type != YNODE_SEQUENCE || n->nkids == 0) {
		yload_expected(y, n, path, NULL, "a list of exit statuses "
		    "(0 to 255), such as [0, 130]", NULL);
		return;
	}
	free(p->success_codes);
	p->success_codes = xcalloc(n->nkids, sizeof *p->success_codes);
	p->nsuccess = 0;
	for (i = 0; i < n->nkids; i++) {
		epath = xasprintf("%s[%zu]", path, i);
		e = yload_visit(y, n->kids[i]);
		if (yload_uint(y, e, epath, 0, 255, &u) == 0)
			p->success_codes[p->nsuccess++] = (int)u;
		free(epath);
	}
}

static const char *const yload_proc_keys[] = {
	"cmd", "shell", "cwd", "env", "autostart", "restart", "backoff",
	"max_restarts", "stop_signal", "stop_timeout", "stdout", "stderr",
	"stdin", "replicas", "depends_on", "ready", "ready_timeout", "limits",
	"umask", "user", "group", "success_codes", "min_uptime", "liveness",
	"env_file", "log_buffer", NULL
};

enum {
	PK_CMD, PK_SHELL, PK_CWD, PK_ENV, PK_AUTOSTART, PK_RESTART,
	PK_BACKOFF, PK_MAX_RESTARTS, PK_STOP_SIGNAL, PK_STOP_TIMEOUT,
	PK_STDOUT, PK_STDERR, PK_STDIN, PK_REPLICAS, PK_DEPENDS_ON, PK_READY,
	PK_READY_TIMEOUT, PK_LIMITS, PK_UMASK, PK_USER, PK_GROUP,
	PK_SUCCESS_CODES, PK_MIN_UPTIME, PK_LIVENESS, PK_ENV_FILE,
	PK_LOG_BUFFER,
};

/* One process: processes.NAME. */
void
yload_proc(struct yload *y, const struct ypair *entry, const char *path)
{
	struct manifest		*m = y->m;
	struct proc_spec	*p;
	struct ypair		*pairs;
	struct ynode		*n, *v;
	struct env_var		*fenv = NULL;
	char			*kpath;
	uint64_t		 u;
	size_t			 i, np, nfenv = 0;
	int			 has_cmd = 0, has_shell = 0;

	p = &m->procs[m->nprocs++];
	memset(p, 0, sizeof *p);
	p->name = xstrdup(entry->name);
	p->loc.line = entry->key->line;
	p->loc.col = entry->key->col;
	p->autostart = 1;
	yload_restart_default(&p->restart);
	p->stop_signal = SIGTERM;
	p->stop_timeout_ms = MANIFEST_DEFAULT_STOP_TIMEOUT_MS;
	yload_output_default(&p->out, &p->loc);
	yload_output_default(&p->err, &p->loc);
	p->replicas = 1;
	p->ready.kind = READY_NONE;
	p->ready.interval_ms = MANIFEST_DEFAULT_READY_INTERVAL_MS;
	p->ready.timeout_ms = MANIFEST_DEFAULT_READY_TIMEOUT_MS;
	p->liveness.probe.kind = READY_NONE;
	p->liveness.probe.interval_ms = MANIFEST_DEFAULT_LIVENESS_INTERVAL_MS;
	p->liveness.probe.timeout_ms = MANIFEST_DEFAULT_LIVENESS_TIMEOUT_MS;
	p->liveness.failures = MANIFEST_DEFAULT_LIVENESS_FAILURES;
	p->ready.loc = p->loc;
	p->umask = -1;
	p->log_buffer = y->log_buffer;

	n = yload_visit(y, entry->value);
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping with cmd or shell",
		    NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	for (i = 0; i < np && !y->aborted; i++) {
		kpath = yload_path(path, pairs[i].name);
		v = pairs[i].value;
		switch (yload_key(y, &pairs[i], path, yload_proc_keys)) {
		case PK_CMD:
			has_cmd = 1;
			v = yload_visit(y, v);
			yload_loc(&p->cmd_loc, v->type == YNODE_SEQUENCE &&
			    v->nkids > 0 ? v->kids[0] : v);
			yload_cmd(y, v, kpath, p);
			break;
		case PK_SHELL:
			has_shell = 1;
			/* Verbatim: /bin/sh expands its own variables. */
			v = yload_visit(y, v);
			yload_loc(&p->cmd_loc, v);
			if (v->type != YNODE_SCALAR || yload_is_null(v) ||
			    v->len == 0)
				yload_expected(y, v, kpath, NULL, "a command "
				    "line", NULL);
			else
				yload_text(y, v, kpath, 1, &p->shell);
			break;
		case PK_CWD:
			v = yload_visit(y, v);
			yload_loc(&p->cwd_loc, v);
			if (!yload_is_null(v) &&
			    yload_string(y, v, kpath, &p->cwd) == 0)
				p->cwd = yload_resolve(y, p->cwd);
			break;
		case PK_ENV:
			yload_env(y, yload_visit(y, v), kpath, &p->env,
			    &p->nenv);
			break;
		case PK_LOG_BUFFER:
			yload_log_buffer(y, yload_visit(y, v), kpath,
			    &p->log_buffer);
			break;
		case PK_ENV_FILE:
			yload_env_file(y, yload_visit(y, v), kpath, &fenv,
			    &nfenv);
			break;
		case PK_AUTOSTART:
			yload_bool(y, yload_visit(y, v), kpath, &p->autostart);
			break;
		case PK_RESTART:
		case PK_BACKOFF:
		case PK_MAX_RESTARTS:
			yload_restart_key(y, pairs[i].name, v, kpath,
			    &p->restart);
			break;
		case PK_STOP_SIGNAL:
			yload_signal(y, yload_visit(y, v), kpath,
			    &p->stop_signal);
			break;
		case PK_STOP_TIMEOUT:
			yload_duration(y, yload_visit(y, v), kpath,
			    &p->stop_timeout_ms);
			break;
		case PK_STDOUT:
			yload_output(y, v, kpath, &p->out);
			break;
		case PK_STDERR:
			yload_output(y, v, kpath, &p->err);
			break;
		case PK_STDIN:
			yload_stdin(y, yload_visit(y, v), kpath, p);
			break;
		case PK_REPLICAS:
			if (yload_uint(y, yload_visit(y, v), kpath, 1,
			    MANIFEST_MAX_REPLICAS, &u) == 0)
				p->replicas = (unsigned)u;
			p->replicas_set = 1;
			break;
		case PK_DEPENDS_ON:
			yload_deps(y, v, kpath, &p->deps, &p->ndeps);
			break;
		case PK_READY:
			v = yload_visit(y, v);
			p->ready.loc.line = v->line;
			p->ready.loc.col = v->col;
			yload_ready(y, v, kpath, &p->ready);
			break;
		case PK_READY_TIMEOUT:
			yload_duration(y, yload_visit(y, v), kpath,
			    &p->ready.timeout_ms);
			break;
		case PK_LIMITS:
			yload_limits(y, v, kpath, p->limits);
			break;
		case PK_UMASK:
			yload_umask(y, yload_visit(y, v), kpath, &p->umask);
			break;
		case PK_USER:
			v = yload_visit(y, v);
			yload_loc(&p->user_loc, v);
			yload_account(y, v, kpath, "a user name "
			    "or a numeric id", &p->user);
			break;
		case PK_GROUP:
			v = yload_visit(y, v);
			yload_loc(&p->group_loc, v);
			yload_account(y, v, kpath, "a group "
			    "name or a numeric id", &p->group);
			break;
		case PK_SUCCESS_CODES:
			yload_success_codes(y, yload_visit(y, v), kpath, p);
			break;
		case PK_MIN_UPTIME:
			yload_duration(y, yload_visit(y, v), kpath,
			    &p->min_uptime_ms);
			break;
		case PK_LIVENESS:
			yload_liveness(y, v, kpath, &p->liveness);
			break;
		default:
			break;
		}
		free(kpath);
	}
	/* env: over the process's env_file: over the top level's. */
	yload_env_under(&fenv, &nfenv, y->env, y->nenv);
	yload_env_under(&p->env, &p->nenv, fenv, nfenv);
	yload_env_free(fenv, nfenv);
	/* "command:" was reported as such: no need to ask for cmd too. */
	if (has_cmd + has_shell == 0 && yload_has_synonym(pairs, np, "cmd"))
		has_cmd = 1;
	free(pairs);
	if (has_cmd + has_shell != 1 && !y->aborted)
		yload_error(y, entry->key, path, "exactly one of cmd and "
		    "shell is required");
}
