/*
 * A list of "file:line:col: message" diagnostics, errors and warnings,
 * accumulated while loading a manifest so every mistake is reported at
 * once. Plain data: printing is the caller's choice.
 */
#ifndef PYT_DIAG_H
#define PYT_DIAG_H

#include <stddef.h>
#include <stdio.h>

/* Past this many errors the rest are counted, not kept. */
#define DIAG_MAX_ERRORS	50

enum diag_level {
	DIAG_ERROR,
	DIAG_WARNING,
};

struct diag_item {
	enum diag_level	 level;
	size_t		 line;	/* 1-based; 0 when not about a place */
	size_t		 col;	/* 1-based */
	char		*msg;
};

struct diag {
	char		 *file;
	struct diag_item *items;
	size_t		  nitems;
	size_t		  nerrors;
	size_t		  nwarnings;
	size_t		  dropped;	/* errors beyond DIAG_MAX_ERRORS */
};

void	diag_init(struct diag *, const char *file);
void	diag_release(struct diag *);
void	diag_error(struct diag *, size_t line, size_t col, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	diag_warning(struct diag *, size_t line, size_t col, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
/* Sort by position and print as "file:line:col: [warning: ]msg". */
void	diag_print(struct diag *, FILE *);
int	diag_has_errors(const struct diag *);

#endif
