/*
 * Environments from the YAML tree: env: (a mapping) and env_file: (a path
 * or a list of paths to files of KEY=VALUE lines, as docker reads them),
 * and how they layer: the top level's env_file under a unit's env_file
 * under its env:. Relative paths resolve from the manifest's directory.
 * No libyaml; reads the env files themselves, once, at load.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "manifest.h"
#include "manifest-yaml-int.h"
#include "xmalloc.h"

/* An env file larger than this is surely not one. */
#define YLOAD_ENV_FILE_MAX	(1024 * 1024)

/* Set name to value in the list, replacing an earlier one of that name. */
static void
yload_env_set(struct env_var **env, size_t *nenv, size_t *cap,
    const char *name, size_t namelen, char *value)
{
	size_t	i;

	for (i = 0; i < *nenv; i++) {
		if (strlen((*env)[i].name) == namelen &&
		    memcmp((*env)[i].name, name, namelen) == 0) {
			free((*env)[i].value);
			(*env)[i].value = value;
			return;
		}
	}
	if (*nenv + 1 >= *cap) {
		*cap = *cap == 0 ? 8 : *cap * 2;
		*env = xreallocarray(*env, *cap, sizeof **env);
	}
	(*env)[*nenv].name = xstrndup(name, namelen);
	(*env)[*nenv].value = value;
	(*nenv)++;
	memset(&(*env)[*nenv], 0, sizeof **env);
}

/* An absolute path, or one relative to the manifest's directory. */
char *
yload_resolve(const struct yload *y, char *path)
{
	const char	*rel;
	char		*abs;

	if (path == NULL || path[0] == '/' || path[0] == '\0' ||
	    y->dir == NULL)
		return path;
	for (rel = path; rel[0] == '.' && rel[1] == '/'; rel += 2)
		while (rel[2] == '/')
			rel++;
	if (strcmp(rel, ".") == 0 || *rel == '\0')
		abs = xstrdup(y->dir);
	else
		abs = xasprintf("%s%s%s", y->dir, strcmp(y->dir, "/") == 0 ?
		    "" : "/", rel);
	free(path);
	return abs;
}

/*
 * A variable name as sh(1) knows one: letters, digits and underscores,
 * not starting with a digit. Anything else (a space, a tab, '-', '=',
 * bytes beyond ASCII) could not be set or read by a shell.
 */
static int
yload_env_name_ok(const char *s, size_t len)
{
	size_t	i;

	if (len == 0 || !((*s >= 'A' && *s <= 'Z') ||
	    (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (i = 1; i < len; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* env: a mapping of variable names to scalars. */
void
yload_env(struct yload *y, struct ynode *n, const char *path,
    struct env_var **env, size_t *nenv)
{
	struct ypair	*pairs;
	char		*kpath, *value, *q;
	size_t		 i, np;

	if (yload_is_null(n))
		return;
	if (n->type != YNODE_MAPPING) {
		yload_expected(y, n, path, NULL, "a mapping of names to "
		    "values", NULL);
		return;
	}
	pairs = yload_pairs(y, n, path, &np);
	*env = xcalloc(np + 1, sizeof **env);
	for (i = 0; i < np && !y->aborted; i++) {
		if (!yload_env_name_ok(pairs[i].name,
		    strlen(pairs[i].name))) {
			q = manifest_quote(pairs[i].name, 60);
			yload_error(y, pairs[i].key, path, "invalid variable "
			    "name %s: letters, digits and _ only, not starting "
			    "with a digit", q);
			free(q);
			continue;
		}
		kpath = yload_path(path, pairs[i].name);
		if (yload_string(y, yload_visit(y, pairs[i].value), kpath,
		    &value) == 0) {
			(*env)[*nenv].name = xstrdup(pairs[i].name);
			(*env)[*nenv].value = value;
			(*nenv)++;
		}
		free(kpath);
	}
	free(pairs);
}

/*
 * The value after "KEY=": '...' taken literally, "..." with \n, \t, \",
 * \\ and \$ escapes, else the rest of the line without surrounding blanks
 * and without a comment that starts with " #". NULL with *errstr when a
 * quote is not closed or is followed by more than a comment.
 */
static char *
yload_env_value(const char *p, const char *end, const char **errstr)
{
	struct buf	 b;
	const char	*q;
	char		 quote;

	while (p < end && (*p == ' ' || *p == '\t'))
		p++;
	buf_init(&b);
	if (p < end && (*p == '\'' || *p == '"')) {
		quote = *p++;
		for (; p < end && *p != quote; p++) {
			if (quote == '"' && *p == '\\' && p + 1 < end) {
				p++;
				switch (*p) {
				case 'n':
					buf_addc(&b, '\n');
					break;
				case 't':
					buf_addc(&b, '\t');
					break;
				case 'r':
					buf_addc(&b, '\r');
					break;
				case '"':
				case '\\':
				case '$':
					buf_addc(&b, *p);
					break;
				default:
					buf_addc(&b, '\\');
					buf_addc(&b, *p);
					break;
				}
			} else
				buf_addc(&b, *p);
		}
		if (p == end) {
			buf_release(&b);
			*errstr = "a quote is not closed";
			return NULL;
		}
		for (p++; p < end && (*p == ' ' || *p == '\t'); p++)
			;
		if (p < end && *p != '#') {
			buf_release(&b);
			*errstr = "text after the closing quote";
			return NULL;
		}
	} else {
		for (q = p; q < end; q++)
			if (*q == '#' && (q == p || q[-1] == ' ' ||
			    q[-1] == '\t'))
				break;
		while (q > p && (q[-1] == ' ' || q[-1] == '\t'))
			q--;
		buf_add(&b, p, (size_t)(q - p));
	}
	buf_addc(&b, '\0');
	return buf_steal(&b);
}

/*
 * Read the env file at file into the list; problems are reported at n
 * (the path's node) with the file's own line number.
 */
static void
yload_env_read(struct yload *y, const struct ynode *n, const char *path,
    const char *file, struct env_var **env, size_t *nenv, size_t *cap)
{
	struct buf	 b;
	FILE		*fp;
	const char	*p, *end, *bend, *eol, *next, *eq, *key;
	const char	*errstr = NULL;
	char		 chunk[8192], *value, *q;
	size_t		 got, lineno = 0, keylen;
	int		 saved;

	if ((fp = fopen(file, "rb")) == NULL) {
		yload_error(y, n, path, "cannot read %s: %s", file,
		    strerror(errno));
		return;
	}
	buf_init(&b);
	while ((got = fread(chunk, 1, sizeof chunk, fp)) > 0) {
		buf_add(&b, chunk, got);
		if (buf_used(&b) > YLOAD_ENV_FILE_MAX)
			break;
	}
	saved = ferror(fp) ? errno : 0;
	(void)fclose(fp);
	if (saved != 0 || buf_used(&b) > YLOAD_ENV_FILE_MAX) {
		if (saved != 0)
			yload_error(y, n, path, "cannot read %s: %s", file,
			    strerror(saved));
		else
			yload_error(y, n, path, "%s: larger than %d bytes; not "
			    "an env file", file, YLOAD_ENV_FILE_MAX);
		buf_release(&b);
		return;
	}
	p = buf_used(&b) > 0 ? buf_ptr(&b) : "";
	bend = p + buf_used(&b);
	if (memchr(p, '\0', (size_t)(bend - p)) != NULL) {
		yload_error(y, n, path, "%s: a NUL byte; not an env file", file);
		buf_release(&b);
		return;
	}
	for (; p < bend; p = next) {
		lineno++;
		if ((eol = memchr(p, '\n', (size_t)(bend - p))) == NULL)
			eol = bend;
		next = eol < bend ? eol + 1 : bend;
		/* CRLF files are common; the CR is not part of the value. */
		end = eol;
		if (end > p && end[-1] == '\r')
			end--;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (p == end || *p == '#')
			continue;
		if (end - p > 7 && strncmp(p, "export ", 7) == 0)
			for (p += 7; p < end && *p == ' '; p++)
				;
		key = p;
		eq = memchr(p, '=', (size_t)(end - p));
		keylen = eq != NULL ? (size_t)(eq - key) : 0;
		while (keylen > 0 && (key[keylen - 1] == ' ' ||
		    key[keylen - 1] == '\t'))
			keylen--;
		if (eq == NULL || keylen == 0 || memchr(key, ' ', keylen) ||
		    memchr(key, '\t', keylen)) {
			q = xstrndup(key, (size_t)(end - key));
			value = manifest_quote(q, 60);
			yload_error(y, n, path, "%s:%zu: expected KEY=VALUE; got "
			    "%s", file, lineno, value);
			free(value);
			free(q);
		} else if ((value = yload_env_value(eq + 1, end,
		    &errstr)) == NULL)
			yload_error(y, n, path, "%s:%zu: %s", file, lineno,
			    errstr);
		else if (!yload_env_name_ok(key, keylen)) {
			q = xstrndup(key, keylen);
			free(value);
			value = manifest_quote(q, 60);
			yload_error(y, n, path, "%s:%zu: invalid variable name "
			    "%s: letters, digits and _ only, not starting with "
			    "a digit", file, lineno, value);
			free(value);
			free(q);
		} else
			yload_env_set(env, nenv, cap, key, keylen, value);
	}
	buf_release(&b);
}

/* One path of env_file:, resolved; not empty. */
static int
yload_env_path(struct yload *y, struct ynode *n, const char *path,
    const char *what, char **file)
{
	if (yload_scalar_text(y, n, path, what, file) == -1)
		return -1;
	if (**file == '\0') {
		yload_expected(y, n, path, *file, what, NULL);
		free(*file);
		*file = NULL;
		return -1;
	}
	*file = yload_resolve(y, *file);
	return 0;
}

/*
 * env_file: one path or a sequence of them, read in order (a later file
 * wins over an earlier one). The variables go into *env (a fresh list).
 */
void
yload_env_file(struct yload *y, struct ynode *n, const char *path,
    struct env_var **env, size_t *nenv)
{
	static const char	*what = "a file path or a sequence of them";
	struct ynode		*kid;
	char			*file, *kpath;
	size_t			 i, cap = 0;

	*env = NULL;
	*nenv = 0;
	if (yload_is_null(n))
		return;
	if (n->type == YNODE_SCALAR) {
		if (yload_env_path(y, n, path, what, &file) == -1)
			return;
		yload_env_read(y, n, path, file, env, nenv, &cap);
		free(file);
		return;
	}
	if (n->type != YNODE_SEQUENCE) {
		yload_expected(y, n, path, NULL, what, NULL);
		return;
	}
	for (i = 0; i < n->nkids && !y->aborted; i++) {
		kpath = xasprintf("%s[%zu]", path, i);
		kid = yload_visit(y, n->kids[i]);
		if (yload_env_path(y, kid, kpath, "a file path",
		    &file) == 0) {
			yload_env_read(y, kid, kpath, file, env, nenv, &cap);
			free(file);
		}
		free(kpath);
	}
}

/*
 * Put the variables of under beneath those of *env: a name *env has
 * keeps its value. The strings of under are copied; the new list is in
 * the order of under's variables, then *env's.
 */
void
yload_env_under(struct env_var **env, size_t *nenv,
    const struct env_var *under, size_t nunder)
{
	struct env_var	*merged;
	size_t		 i, j, n = 0;

	if (nunder == 0)
		return;
	merged = xcalloc(nunder + *nenv + 1, sizeof *merged);
	for (i = 0; i < nunder; i++) {
		for (j = 0; j < *nenv; j++)
			if (strcmp((*env)[j].name, under[i].name) == 0)
				break;
		if (j < *nenv)
			continue;
		merged[n].name = xstrdup(under[i].name);
		merged[n].value = xstrdup(under[i].value);
		n++;
	}
	for (j = 0; j < *nenv; j++)
		merged[n++] = (*env)[j];
	free(*env);
	*env = merged;
	*nenv = n;
}

/* Free a list of variables. */
void
yload_env_free(struct env_var *env, size_t nenv)
{
	size_t	i;

	for (i = 0; i < nenv; i++) {
		free(env[i].name);
		free(env[i].value);
	}
	free(env);
}
