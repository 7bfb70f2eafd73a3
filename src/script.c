/*
 * Task scripts as plain data: the shell-style tokenizer, the builtin table
 * with its argument checks, block headers and the step tree, which owns
 * every string in it. Knows nothing of YAML (manifest-yaml.c hands it
 * strings and their positions) nor of running steps (task.c does that).
 */
#include "config.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "diag.h"
#include "script.h"
#include "util.h"
#include "xmalloc.h"

#define SCRIPT_MANY	((size_t)-1)

/* In enum order, so the builtin is its index. */
static const struct script_entry {
	enum script_builtin	 builtin;
	const char		*name;
	size_t			 min;
	size_t			 max;
	const char		*usage;
} script_table[] = {
	{ BUILTIN_ECHO, "echo", 0, SCRIPT_MANY, "WORDS..." },
	{ BUILTIN_SLEEP, "sleep", 1, 1, "DURATION" },
	{ BUILTIN_PUT, "put", 1, SCRIPT_MANY, "QUEUE WORDS..." },
	{ BUILTIN_GET, "get", 2, 3, "QUEUE NAME [TIMEOUT]" },
	{ BUILTIN_START, "start", 1, SCRIPT_MANY, "UNIT [ARGS...]" },
	{ BUILTIN_CANCEL, "cancel", 1, 1, "UNIT" },
	{ BUILTIN_RESTART, "restart", 1, 1, "UNIT" },
	{ BUILTIN_WAIT, "wait", 1, 1, "UNIT" },
	{ BUILTIN_SIGNAL, "signal", 2, 2, "UNIT SIGNAL" },
	{ BUILTIN_SET, "set", 1, SCRIPT_MANY, "NAME WORDS..." },
	{ BUILTIN_EXIT, "exit", 0, 1, "[CODE]" },
	{ BUILTIN_BREAK, "break", 0, 0, "" },
	{ BUILTIN_CLOSE, "close", 1, 1, "QUEUE" },
};
#define SCRIPT_NBUILTINS (sizeof script_table / sizeof script_table[0])

static const char *const script_builtin_names[] = {
	"echo", "sleep", "put", "get", "start", "cancel", "restart", "wait",
	"signal", "set", "exit", "break", "close", NULL
};

static const char *const script_block_names[] = {
	"loop", "repeat", "every", "for", NULL
};

#define SCRIPT_BLOCK_USAGE \
	"expected loop, repeat N, every DURATION or for NAME in QUEUE"
#define SCRIPT_DURATION_HINT	"a duration such as 250ms, 1.5s, 2m"

/* Where messages of one parse go, and whether any was an error. */
struct script_ctx {
	struct diag	*d;
	size_t		 line;
	const char	*path;
	int		 failed;
};

/* The tokenizer's state: words done, parts of the current word, its bytes. */
struct script_lex {
	const char		*s;
	size_t			 i;
	struct word		*words;
	size_t			 nwords;
	struct word_part	*parts;
	size_t			 nparts;
	struct buf		 lit;
	int			 inword;
	size_t			 wordoff;
	const char		*errstr;
	size_t			 erroff;
};

static void	script_error(struct script_ctx *, size_t, const char *, ...)
		    __attribute__((format(printf, 3, 4)));

/* Report one problem at an absolute column, prefixed by the key path. */
static void
script_error(struct script_ctx *ctx, size_t col, const char *fmt, ...)
{
	va_list	 ap, ap2;
	char	*msg;
	int	 n;

	va_start(ap, fmt);
	va_copy(ap2, ap);
	n = vsnprintf(NULL, 0, fmt, ap);
	assert(n >= 0);
	msg = xmalloc((size_t)n + 1);
	vsnprintf(msg, (size_t)n + 1, fmt, ap2);
	va_end(ap2);
	va_end(ap);
	if (ctx->path != NULL && *ctx->path != '\0')
		diag_error(ctx->d, ctx->line, col, "%s: %s", ctx->path, msg);
	else
		diag_error(ctx->d, ctx->line, col, "%s", msg);
	free(msg);
	ctx->failed = 1;
}

/* Append one part to the current word. */
static void
script_lex_push(struct script_lex *lx, enum word_part_kind kind, char *text,
    size_t len)
{
	struct word_part	*p;

	lx->parts = xreallocarray(lx->parts, lx->nparts + 1, sizeof *lx->parts);
	p = &lx->parts[lx->nparts++];
	p->kind = kind;
	p->text = text;
	p->len = len;
}

/*
 * Turn the pending literal bytes into a part. Bytes are gathered until a
 * variable or the word's end, so adjacent literal pieces ("a"'b'c) are one
 * part; force keeps an empty word ("" or '') from vanishing.
 */
static void
script_lex_flush(struct script_lex *lx, int force)
{
	size_t	len = buf_used(&lx->lit);

	if (len == 0 && !(force && lx->nparts == 0))
		return;
	script_lex_push(lx, PART_LITERAL, buf_steal(&lx->lit), len);
}

/* Close the current word, if one is open. */
static void
script_lex_end_word(struct script_lex *lx)
{
	struct word	*w;

	if (!lx->inword)
		return;
	script_lex_flush(lx, 1);
	lx->words = xreallocarray(lx->words, lx->nwords + 1, sizeof *lx->words);
	w = &lx->words[lx->nwords++];
	w->parts = lx->parts;
	w->nparts = lx->nparts;
	w->col = lx->wordoff;
	lx->parts = NULL;
	lx->nparts = 0;
	lx->inword = 0;
}

/* Record an error at byte offset off; always returns -1. */
static int
script_lex_fail(struct script_lex *lx, const char *errstr, size_t off)
{
	lx->errstr = errstr;
	lx->erroff = off;
	return -1;
}

/*
 * At a '$': read $name, $N (one digit) or ${name} as a variable part. A
 * '$' followed by anything else is a literal dollar, as in sh.
 */
static int
script_lex_dollar(struct script_lex *lx)
{
	const char	*s = lx->s;
	size_t		 start = lx->i, j;

	if (s[start + 1] == '{') {
		for (j = start + 2; isalnum((unsigned char)s[j]) || s[j] == '_';
		    j++)
			;
		if (s[j] != '}') {
			if (strchr(s + j, '}') == NULL)
				return script_lex_fail(lx, "unterminated ${",
				    start);
			return script_lex_fail(lx,
			    "invalid variable name in ${...}", start);
		}
		if (j == start + 2)
			return script_lex_fail(lx,
			    "empty variable name in ${}", start);
		if (isdigit((unsigned char)s[start + 2]) && j != start + 3)
			return script_lex_fail(lx,
			    "invalid variable name in ${...}", start);
		script_lex_flush(lx, 0);
		script_lex_push(lx, PART_VARIABLE,
		    xstrndup(s + start + 2, j - start - 2), j - start - 2);
		lx->i = j + 1;
		return 0;
	}
	if (isdigit((unsigned char)s[start + 1])) {
		script_lex_flush(lx, 0);
		script_lex_push(lx, PART_VARIABLE, xstrndup(s + start + 1, 1),
		    1);
		lx->i = start + 2;
		return 0;
	}
	if (isalpha((unsigned char)s[start + 1]) || s[start + 1] == '_') {
		for (j = start + 1; isalnum((unsigned char)s[j]) || s[j] == '_';
		    j++)
			;
		script_lex_flush(lx, 0);
		script_lex_push(lx, PART_VARIABLE,
		    xstrndup(s + start + 1, j - start - 1), j - start - 1);
		lx->i = j;
		return 0;
	}
	buf_addc(&lx->lit, '$');
	lx->i = start + 1;
	return 0;
}

/* Inside "...": only \" \\ \$ are escapes, other backslashes stay. */
static int
script_lex_double(struct script_lex *lx)
{
	const char	*s = lx->s;
	size_t		 open = lx->i;

	lx->i++;
	for (;;) {
		switch (s[lx->i]) {
		case '\0':
			return script_lex_fail(lx, "unterminated double quote",
			    open);
		case '"':
			lx->i++;
			return 0;
		case '\\':
			if (s[lx->i + 1] == '"' || s[lx->i + 1] == '\\' ||
			    s[lx->i + 1] == '$') {
				buf_addc(&lx->lit, s[lx->i + 1]);
				lx->i += 2;
			} else
				buf_addc(&lx->lit, s[lx->i++]);
			break;
		case '$':
			if (script_lex_dollar(lx) == -1)
				return -1;
			break;
		default:
			buf_addc(&lx->lit, s[lx->i++]);
			break;
		}
	}
}

/* Free the words and the half-built word of a failed tokenization. */
static void
script_lex_release(struct script_lex *lx)
{
	size_t	i;

	script_words_free(lx->words, lx->nwords);
	for (i = 0; i < lx->nparts; i++)
		free(lx->parts[i].text);
	free(lx->parts);
	buf_release(&lx->lit);
}

/* Is c a word separator? Newlines too, for block scalars in YAML. */
static int
script_is_blank(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int
script_tokenize(const char *text, struct word **words, size_t *nwords,
    const char **errstr, size_t *erroff)
{
	struct script_lex	 lx;
	const char		*s = text, *q;
	size_t			 end;
	int			 rc = 0;

	memset(&lx, 0, sizeof lx);
	lx.s = text;
	buf_init(&lx.lit);
	*words = NULL;
	*nwords = 0;
	*errstr = NULL;
	*erroff = 0;
	while (rc == 0 && s[lx.i] != '\0') {
		/* Backslash-newline joins lines without breaking the word. */
		if (s[lx.i] == '\\' && s[lx.i + 1] == '\n') {
			lx.i += 2;
			continue;
		}
		if (script_is_blank(s[lx.i])) {
			script_lex_end_word(&lx);
			lx.i++;
			continue;
		}
		if (s[lx.i] == '#' && !lx.inword) {
			while (s[lx.i] != '\0' && s[lx.i] != '\n')
				lx.i++;
			continue;
		}
		if (!lx.inword) {
			lx.inword = 1;
			lx.wordoff = lx.i;
		}
		switch (s[lx.i]) {
		case '\\':
			if (s[lx.i + 1] == '\0') {
				rc = script_lex_fail(&lx, "trailing backslash",
				    lx.i);
				break;
			}
			buf_addc(&lx.lit, s[lx.i + 1]);
			lx.i += 2;
			break;
		case '\'':
			q = strchr(s + lx.i + 1, '\'');
			if (q == NULL) {
				rc = script_lex_fail(&lx,
				    "unterminated single quote", lx.i);
				break;
			}
			end = (size_t)(q - s);
			buf_add(&lx.lit, s + lx.i + 1, end - lx.i - 1);
			lx.i = end + 1;
			break;
		case '"':
			rc = script_lex_double(&lx);
			break;
		case '$':
			rc = script_lex_dollar(&lx);
			break;
		default:
			buf_addc(&lx.lit, s[lx.i++]);
			break;
		}
	}
	if (rc == -1) {
		*errstr = lx.errstr;
		*erroff = lx.erroff;
		script_lex_release(&lx);
		return -1;
	}
	script_lex_end_word(&lx);
	buf_release(&lx.lit);
	*words = lx.words;
	*nwords = lx.nwords;
	return 0;
}

void
script_words_free(struct word *words, size_t nwords)
{
	size_t	i, j;

	for (i = 0; i < nwords; i++) {
		for (j = 0; j < words[i].nparts; j++)
			free(words[i].parts[j].text);
		free(words[i].parts);
	}
	free(words);
}

struct script *
script_new(void)
{
	return xcalloc(1, sizeof(struct script));
}

void
script_free(struct script *sc)
{
	size_t	i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->nsteps; i++)
		script_step_release(&sc->steps[i]);
	free(sc->steps);
	free(sc);
}

/*
 * Append a step, growing the array by doubling: a script of 60,000 steps
 * (ctl add task) must not cost 60,000 copies of a growing array.
 */
struct step *
script_add_step(struct script *sc)
{
	struct step	*st;

	if (sc->nsteps == sc->capsteps) {
		sc->capsteps = sc->capsteps == 0 ? 4 : sc->capsteps * 2;
		sc->steps = xreallocarray(sc->steps, sc->capsteps,
		    sizeof *sc->steps);
	}
	st = &sc->steps[sc->nsteps++];
	memset(st, 0, sizeof *st);
	return st;
}

void
script_step_release(struct step *st)
{
	if (st == NULL)
		return;
	script_words_free(st->words, st->nwords);
	free(st->text);
	free(st->var);
	free(st->queue);
	free(st->unit);
	script_free(st->body);
	memset(st, 0, sizeof *st);
}

const char *
script_builtin_name(enum script_builtin b)
{
	if ((size_t)b >= SCRIPT_NBUILTINS)
		return "?";
	return script_table[b].name;
}

/* The word's text when it is one literal part, else NULL. */
static const char *
script_word_literal(const struct word *w)
{
	if (w->nparts == 1 && w->parts[0].kind == PART_LITERAL)
		return w->parts[0].text;
	return NULL;
}

/* The word as it reads, with ${name} for variables, for messages. */
static char *
script_word_render(const struct word *w)
{
	struct buf	b;
	size_t		i;

	buf_init(&b);
	for (i = 0; i < w->nparts; i++) {
		if (w->parts[i].kind == PART_VARIABLE)
			buf_addf(&b, "${%s}", w->parts[i].text);
		else
			buf_add(&b, w->parts[i].text, w->parts[i].len);
	}
	return buf_steal(&b);
}

/* Does s match [A-Za-z_][A-Za-z0-9_]* ? */
static int
script_is_var_name(const char *s)
{
	if (!isalpha((unsigned char)*s) && *s != '_')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_')
			return 0;
	return 1;
}

/* Check the number of arguments (words after the first) against min, max. */
static int
script_check_arity(struct script_ctx *ctx, const char *name, size_t min,
    size_t max, const char *usage, const struct word *words, size_t nwords)
{
	size_t	got = nwords - 1, col;

	if (got >= min && got <= max)
		return 0;
	/* Point at the first extra word, or at the name when one is missing. */
	col = got > max ? words[max + 1].col : words[0].col;
	if (max == 0)
		script_error(ctx, col, "%s: expected no arguments, got %zu",
		    name, got);
	else if (min == max)
		script_error(ctx, col,
		    "%s: expected %zu argument%s (%s), got %zu",
		    name, min, min == 1 ? "" : "s", usage, got);
	else if (max == SCRIPT_MANY)
		script_error(ctx, col,
		    "%s: expected at least %zu argument%s (%s), got %zu",
		    name, min, min == 1 ? "" : "s", usage, got);
	else
		script_error(ctx, col,
		    "%s: expected %zu or %zu arguments (%s), got %zu",
		    name, min, max, usage, got);
	return -1;
}

/*
 * A queue or unit name: literal, so the manifest can check it before
 * anything runs, and a valid name. *out gets a copy.
 */
static void
script_check_name(struct script_ctx *ctx, const char *cmd, const char *what,
    const struct word *w, char **out)
{
	const char	*lit = script_word_literal(w);
	char		*r;

	if (lit == NULL) {
		r = script_word_render(w);
		script_error(ctx, w->col,
		    "%s: %s names in steps are literal; got \"%s\"", cmd, what,
		    r);
		free(r);
		return;
	}
	if (!util_is_valid_name(lit)) {
		script_error(ctx, w->col, "%s: invalid %s name \"%s\"", cmd,
		    what, lit);
		return;
	}
	*out = xstrdup(lit);
}

/* A variable name to assign: literal and [A-Za-z_][A-Za-z0-9_]*. */
static void
script_check_var(struct script_ctx *ctx, const char *cmd,
    const struct word *w, char **out)
{
	const char	*lit = script_word_literal(w);
	char		*r;

	if (lit == NULL || !script_is_var_name(lit)) {
		r = script_word_render(w);
		script_error(ctx, w->col, "%s: invalid variable name \"%s\" "
		    "(letters, digits and _, not starting with a digit)",
		    cmd, r);
		free(r);
		return;
	}
	*out = xstrdup(lit);
}

/*
 * A duration: parsed now when literal; with a variable it is checked when
 * the step runs, unless the caller needs it literal.
 */
static void
script_check_duration(struct script_ctx *ctx, const char *cmd,
    const struct word *w, int need_literal, struct step *st)
{
	const char	*lit = script_word_literal(w), *errstr;
	char		*r;
	uint64_t	 ms;

	if (lit == NULL) {
		if (!need_literal)
			return;
		r = script_word_render(w);
		script_error(ctx, w->col, "%s: expected %s; got \"%s\"", cmd,
		    SCRIPT_DURATION_HINT, r);
		free(r);
		return;
	}
	if (util_parse_duration(lit, &ms, &errstr) == -1) {
		script_error(ctx, w->col, "%s: expected %s; got \"%s\"", cmd,
		    SCRIPT_DURATION_HINT, lit);
		return;
	}
	st->duration_ms = ms;
	st->has_duration = 1;
}

/* Make word columns absolute and hand the words to the step. */
static void
script_take_words(struct step *st, struct word *words, size_t nwords,
    size_t col)
{
	size_t	i;

	for (i = 0; i < nwords; i++)
		words[i].col += col;
	st->words = words;
	st->nwords = nwords;
}

/* Argument checks of one builtin, beyond their number. */
static void
script_check_args(struct script_ctx *ctx, struct step *st)
{
	const char	*name = script_table[st->builtin].name, *lit, *errstr;
	struct word	*w = st->words;
	uint64_t	 v;
	int		 sig;

	switch (st->builtin) {
	case BUILTIN_ECHO:
	case BUILTIN_BREAK:
		break;
	case BUILTIN_SLEEP:
		script_check_duration(ctx, name, &w[1], 0, st);
		break;
	case BUILTIN_PUT:
	case BUILTIN_CLOSE:
		script_check_name(ctx, name, "queue", &w[1], &st->queue);
		break;
	case BUILTIN_GET:
		script_check_name(ctx, name, "queue", &w[1], &st->queue);
		script_check_var(ctx, name, &w[2], &st->var);
		if (st->nwords == 4)
			script_check_duration(ctx, name, &w[3], 0, st);
		break;
	case BUILTIN_START:
	case BUILTIN_CANCEL:
	case BUILTIN_RESTART:
	case BUILTIN_WAIT:
		script_check_name(ctx, name, "unit", &w[1], &st->unit);
		break;
	case BUILTIN_SIGNAL:
		script_check_name(ctx, name, "unit", &w[1], &st->unit);
		if ((lit = script_word_literal(&w[2])) == NULL)
			break;
		if (util_parse_signal(lit, &sig, &errstr) == -1)
			script_error(ctx, w[2].col, "%s: expected a signal "
			    "such as TERM, HUP or 9; got \"%s\"", name, lit);
		else
			st->signal = sig;
		break;
	case BUILTIN_SET:
		script_check_var(ctx, name, &w[1], &st->var);
		break;
	case BUILTIN_EXIT:
		if (st->nwords < 2 ||
		    (lit = script_word_literal(&w[1])) == NULL)
			break;
		if (util_parse_uint(lit, 0, 255, &v, &errstr) == -1)
			script_error(ctx, w[1].col, "%s: expected a status "
			    "from 0 to 255; got \"%s\"", name, lit);
		else
			st->count = v;
		break;
	}
}

/*
 * The closest candidate, as util_did_you_mean finds it; failing that, one
 * that differs by two swapped neighbours ("ehco"), the commonest typo,
 * which an edit distance counts as two edits.
 */
static const char *
script_suggest(const char *word, const char *const *candidates)
{
	const char	*hint;
	size_t		 len = strlen(word), i;

	if ((hint = util_did_you_mean(word, candidates)) != NULL)
		return hint;
	for (; *candidates != NULL; candidates++) {
		if (strlen(*candidates) != len)
			continue;
		for (i = 0; i + 1 < len; i++) {
			if (word[i] != (*candidates)[i])
				break;
		}
		if (i + 1 < len && word[i] == (*candidates)[i + 1] &&
		    word[i + 1] == (*candidates)[i] &&
		    strcmp(word + i + 2, *candidates + i + 2) == 0)
			return *candidates;
	}
	return NULL;
}

/* Is name a builtin? Then a "key: value" step was probably meant as text. */
static int
script_is_builtin(const char *name)
{
	size_t	i;

	for (i = 0; i < SCRIPT_NBUILTINS; i++)
		if (strcmp(name, script_table[i].name) == 0)
			return 1;
	return 0;
}

/* Tokenize for a parse, reporting a tokenizer error at its column. */
static int
script_split(struct script_ctx *ctx, const char *text, size_t col,
    struct word **words, size_t *nwords)
{
	const char	*errstr;
	size_t		 erroff;

	if (script_tokenize(text, words, nwords, &errstr, &erroff) == -1) {
		script_error(ctx, col + erroff, "%s", errstr);
		return -1;
	}
	return 0;
}

int
script_parse_command(const char *text, size_t line, size_t col,
    const char *path, struct diag *d, struct step *st)
{
	struct script_ctx	 ctx = { d, line, path, 0 };
	const struct script_entry *e = NULL;
	struct word		*words;
	size_t			 nwords, i;
	const char		*name, *hint;
	char			*r;

	memset(st, 0, sizeof *st);
	if (script_split(&ctx, text, col, &words, &nwords) == -1)
		return -1;
	if (nwords == 0) {
		script_error(&ctx, col, "empty step");
		return -1;
	}
	st->kind = STEP_COMMAND;
	st->line = line;
	st->col = col;
	script_take_words(st, words, nwords, col);

	if ((name = script_word_literal(&words[0])) == NULL) {
		r = script_word_render(&words[0]);
		script_error(&ctx, words[0].col, "the command name must be "
		    "a literal builtin; got \"%s\"", r);
		free(r);
		goto fail;
	}
	for (i = 0; i < SCRIPT_NBUILTINS; i++) {
		if (strcmp(name, script_table[i].name) == 0) {
			e = &script_table[i];
			break;
		}
	}
	if (e == NULL) {
		hint = script_suggest(name, script_builtin_names);
		if (hint != NULL)
			script_error(&ctx, words[0].col, "unknown builtin "
			    "\"%s\" (did you mean \"%s\"?)", name, hint);
		else
			script_error(&ctx, words[0].col,
			    "unknown builtin \"%s\"", name);
		goto fail;
	}
	assert(e->builtin == (enum script_builtin)(e - script_table));
	st->builtin = e->builtin;
	if (script_check_arity(&ctx, e->name, e->min, e->max, e->usage, words,
	    nwords) == -1)
		goto fail;
	script_check_args(&ctx, st);
	if (ctx.failed)
		goto fail;
	st->text = xstrdup(text);
	return 0;

fail:
	script_step_release(st);
	return -1;
}

int
script_parse_block(const char *key, size_t line, size_t col,
    const char *path, struct diag *d, struct step *st)
{
	struct script_ctx	 ctx = { d, line, path, 0 };
	struct word		*words, *w;
	size_t			 nwords;
	const char		*name, *hint, *lit, *errstr;
	char			*r;
	uint64_t		 v;

	memset(st, 0, sizeof *st);
	if (script_split(&ctx, key, col, &words, &nwords) == -1)
		return -1;
	if (nwords == 0) {
		script_error(&ctx, col, "empty block (%s)", SCRIPT_BLOCK_USAGE);
		return -1;
	}
	st->line = line;
	st->col = col;
	script_take_words(st, words, nwords, col);
	w = st->words;

	if ((name = script_word_literal(&w[0])) == NULL) {
		r = script_word_render(&w[0]);
		script_error(&ctx, w[0].col, "unknown block \"%s\" (%s)", r,
		    SCRIPT_BLOCK_USAGE);
		free(r);
		goto fail;
	}
	if (strcmp(name, "loop") == 0) {
		st->kind = STEP_LOOP;
		if (script_check_arity(&ctx, name, 0, 0, "", w, nwords) == -1)
			goto fail;
	} else if (strcmp(name, "repeat") == 0) {
		st->kind = STEP_REPEAT;
		if (script_check_arity(&ctx, name, 1, 1, "N", w, nwords) == -1)
			goto fail;
		lit = script_word_literal(&w[1]);
		if (lit == NULL ||
		    util_parse_uint(lit, 1, UINT64_MAX, &v, &errstr) == -1) {
			r = script_word_render(&w[1]);
			script_error(&ctx, w[1].col, "repeat: expected a "
			    "count of 1 or more; got \"%s\"", r);
			free(r);
			goto fail;
		}
		st->count = v;
	} else if (strcmp(name, "every") == 0) {
		st->kind = STEP_EVERY;
		if (script_check_arity(&ctx, name, 1, 1, "DURATION", w,
		    nwords) == -1)
			goto fail;
		script_check_duration(&ctx, name, &w[1], 1, st);
		if (ctx.failed)
			goto fail;
		/* A zero period would spin the loop without ever yielding. */
		if (st->duration_ms == 0) {
			script_error(&ctx, w[1].col, "every: expected a "
			    "duration greater than 0; got \"%s\"",
			    w[1].parts[0].text);
			goto fail;
		}
	} else if (strcmp(name, "for") == 0) {
		st->kind = STEP_FOR;
		if (script_check_arity(&ctx, name, 3, 3, "NAME in QUEUE", w,
		    nwords) == -1)
			goto fail;
		script_check_var(&ctx, name, &w[1], &st->var);
		lit = script_word_literal(&w[2]);
		if (lit == NULL || strcmp(lit, "in") != 0) {
			r = script_word_render(&w[2]);
			script_error(&ctx, w[2].col,
			    "for: expected \"in\" after the variable name; "
			    "got \"%s\"", r);
			free(r);
		}
		script_check_name(&ctx, name, "queue", &w[3], &st->queue);
	} else {
		hint = script_suggest(name, script_block_names);
		if (script_is_builtin(name))
			script_error(&ctx, w[0].col, "unknown block \"%s\" "
			    "(quote a command step that contains \": \")",
			    name);
		else if (hint != NULL)
			script_error(&ctx, w[0].col,
			    "unknown block \"%s\" (did you mean \"%s\"?)", name,
			    hint);
		else
			script_error(&ctx, w[0].col,
			    "unknown block \"%s\" (%s)", name,
			    SCRIPT_BLOCK_USAGE);
		goto fail;
	}
	if (ctx.failed)
		goto fail;
	st->text = xstrdup(key);
	st->body = script_new();
	return 0;

fail:
	script_step_release(st);
	return -1;
}

/* Report the literal names of one step, then those of its body. */
static void
script_walk_step(const struct step *st, script_ref_fn fn, void *arg)
{
	switch (st->kind) {
	case STEP_COMMAND:
		if (st->queue != NULL && st->nwords > 1)
			fn(st->queue, 1, st->line, st->words[1].col, arg);
		if (st->unit != NULL && st->nwords > 1)
			fn(st->unit, 0, st->line, st->words[1].col, arg);
		break;
	case STEP_FOR:
		if (st->queue != NULL && st->nwords > 3)
			fn(st->queue, 1, st->line, st->words[3].col, arg);
		break;
	case STEP_LOOP:
	case STEP_REPEAT:
	case STEP_EVERY:
		break;
	}
	if (st->body != NULL)
		script_walk_refs(st->body, fn, arg);
}

void
script_walk_refs(const struct script *sc, script_ref_fn fn, void *arg)
{
	size_t	i;

	if (sc == NULL)
		return;
	for (i = 0; i < sc->nsteps; i++)
		script_walk_step(&sc->steps[i], fn, arg);
}
