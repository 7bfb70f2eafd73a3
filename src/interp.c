/*
 * ${VAR} and ${VAR:-default} interpolation of manifest strings. It owns
 * the syntax only: values come from the caller's lookup function, and
 * nothing is ever executed. It knows nothing of YAML or of the manifest.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "interp.h"
#include "xmalloc.h"

/*
 * Defaults may hold further ${...}; the bound keeps a hostile string from
 * recursing deep into the stack.
 */
#define INTERP_MAX_NESTING	16

struct interp {
	const char		*s;
	interp_lookup_fn	 lookup;
	void			*arg;
	char			*errbuf;
	size_t			 errlen;
	const char		*errstr;
	size_t			 erroff;
};

/* Record the first error: a message and the offset of its "$". */
static int
interp_fail(struct interp *ip, size_t off, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	if (ip->errbuf != NULL && ip->errlen > 0) {
		vsnprintf(ip->errbuf, ip->errlen, fmt, ap);
		ip->errstr = ip->errbuf;
	} else
		ip->errstr = "bad ${...} interpolation";
	va_end(ap);
	ip->erroff = off;
	return -1;
}

/* Is c allowed in a variable name (after its first character)? */
static int
interp_is_name_char(char c, int first)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_')
		return 1;
	return !first && c >= '0' && c <= '9';
}

/*
 * Expand from *pos into out. At depth 0 the whole string is read; inside a
 * default (depth > 0) an unmatched "}" ends it, and *pos is left on it.
 * When emit is 0 the text is parsed for errors but not produced (a default
 * that is not used must still be well formed).
 */
static int
interp_run(struct interp *ip, size_t *pos, int depth, int emit,
    struct buf *out)
{
	const char	*s = ip->s, *value;
	size_t		 i = *pos, start, nlen;
	char		*name;
	int		 use_default;

	while (s[i] != '\0') {
		if (s[i] == '}' && depth > 0)
			break;
		if (s[i] != '$' || (s[i + 1] != '{' && s[i + 1] != '$')) {
			if (emit)
				buf_addc(out, s[i]);
			i++;
			continue;
		}
		if (s[i + 1] == '$') {
			if (emit)
				buf_addc(out, '$');
			i += 2;
			continue;
		}
		/* "${" */
		start = i;
		i += 2;
		nlen = 0;
		while (interp_is_name_char(s[i + nlen], nlen == 0))
			nlen++;
		if (nlen == 0) {
			if (s[i] == '}')
				return interp_fail(ip, start,
				    "empty variable name in ${}");
			if (s[i] == '\0')
				return interp_fail(ip, start,
				    "unterminated ${ (write $$ for a "
				    "literal $)");
			return interp_fail(ip, start, "invalid variable name "
			    "after ${ (a name is letters, digits and _, "
			    "not starting with a digit)");
		}
		name = xstrndup(s + i, nlen);
		i += nlen;
		if (s[i] == '}') {
			i++;
			value = emit ? ip->lookup(name, ip->arg) : NULL;
			if (value == NULL && emit) {
				interp_fail(ip, start, "variable %s is not set "
				    "(write ${%s:-default} to give a default)",
				    name, name);
				free(name);
				return -1;
			}
			if (emit)
				buf_adds(out, value);
			free(name);
			continue;
		}
		if (s[i] == ':' && s[i + 1] == '-') {
			i += 2;
			if (depth + 1 > INTERP_MAX_NESTING) {
				free(name);
				return interp_fail(ip, start,
				    "${...} nested too deeply");
			}
			value = emit ? ip->lookup(name, ip->arg) : NULL;
			use_default = emit && (value == NULL || *value == '\0');
			if (emit && !use_default)
				buf_adds(out, value);
			free(name);
			if (interp_run(ip, &i, depth + 1, use_default,
			    out) == -1)
				return -1;
			if (s[i] != '}')
				return interp_fail(ip, start,
				    "unterminated ${ (write $$ for a "
				    "literal $)");
			i++;
			continue;
		}
		if (s[i] == '\0') {
			free(name);
			return interp_fail(ip, start,
			    "unterminated ${ (write $$ for a literal $)");
		}
		interp_fail(ip, start, "expected } or :- after ${%s", name);
		free(name);
		return -1;
	}
	*pos = i;
	return 0;
}

/* Expand s into a new string; see interp.h for the rules and errors. */
int
interp_expand(const char *s, interp_lookup_fn lookup, void *arg, char **out,
    char *errbuf, size_t errlen, const char **errstr, size_t *erroff)
{
	struct interp	ip;
	struct buf	b;
	size_t		pos = 0;

	memset(&ip, 0, sizeof ip);
	ip.s = s;
	ip.lookup = lookup;
	ip.arg = arg;
	ip.errbuf = errbuf;
	ip.errlen = errlen;
	*out = NULL;
	if (errstr != NULL)
		*errstr = NULL;
	if (erroff != NULL)
		*erroff = 0;
	buf_init(&b);
	if (interp_run(&ip, &pos, 0, 1, &b) == -1) {
		buf_release(&b);
		if (errstr != NULL)
			*errstr = ip.errstr;
		if (erroff != NULL)
			*erroff = ip.erroff;
		return -1;
	}
	*out = buf_steal(&b);
	return 0;
}
