/*
 * Accumulated diagnostics. Errors are bounded (DIAG_MAX_ERRORS) so a
 * hostile manifest cannot make us print forever; the overflow is counted
 * and said.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "xmalloc.h"

void
diag_init(struct diag *d, const char *file)
{
	memset(d, 0, sizeof *d);
	d->file = xstrdup(file != NULL ? file : "-");
}

void
diag_release(struct diag *d)
{
	size_t	i;

	for (i = 0; i < d->nitems; i++)
		free(d->items[i].msg);
	free(d->items);
	free(d->file);
	memset(d, 0, sizeof *d);
}

static void
diag_vadd(struct diag *d, enum diag_level level, size_t line, size_t col,
    const char *fmt, va_list ap)
{
	struct diag_item	*it;
	char			*msg;
	int			 n;
	va_list			 ap2;

	if (level == DIAG_ERROR) {
		if (d->nerrors >= DIAG_MAX_ERRORS) {
			d->dropped++;
			return;
		}
		d->nerrors++;
	} else {
		if (d->nwarnings >= DIAG_MAX_ERRORS)
			return;
		d->nwarnings++;
	}
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	msg = xmalloc(n < 0 ? 1 : (size_t)n + 1);
	vsnprintf(msg, n < 0 ? 1 : (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	d->items = xreallocarray(d->items, d->nitems + 1, sizeof *d->items);
	it = &d->items[d->nitems++];
	it->level = level;
	it->line = line;
	it->col = col;
	it->msg = msg;
}

void
diag_error(struct diag *d, size_t line, size_t col, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_vadd(d, DIAG_ERROR, line, col, fmt, ap);
	va_end(ap);
}

void
diag_warning(struct diag *d, size_t line, size_t col, const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	diag_vadd(d, DIAG_WARNING, line, col, fmt, ap);
	va_end(ap);
}

static int
diag_cmp(const void *a, const void *b)
{
	const struct diag_item	*x = a, *y = b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return 0;
}

void
diag_print(struct diag *d, FILE *fp)
{
	struct diag_item	*it;
	size_t			 i;

	/* A stable order keeps golden files stable: mergesort-like via index. */
	for (i = 1; i < d->nitems; i++) {
		size_t			j = i;
		struct diag_item	tmp = d->items[i];

		while (j > 0 && diag_cmp(&d->items[j - 1], &tmp) > 0) {
			d->items[j] = d->items[j - 1];
			j--;
		}
		d->items[j] = tmp;
	}
	for (i = 0; i < d->nitems; i++) {
		it = &d->items[i];
		if (it->line > 0)
			fprintf(fp, "%s:%zu:%zu: %s%s\n", d->file, it->line,
			    it->col, it->level == DIAG_WARNING ? "warning: " : "",
			    it->msg);
		else
			fprintf(fp, "%s: %s%s\n", d->file,
			    it->level == DIAG_WARNING ? "warning: " : "", it->msg);
	}
	if (d->dropped > 0)
		fprintf(fp, "%s: %zu more errors not shown\n", d->file,
		    d->dropped);
	fflush(fp);
}

int
diag_has_errors(const struct diag *d)
{
	return d->nerrors > 0;
}
