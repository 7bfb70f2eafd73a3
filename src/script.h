/*
 * Task scripts as plain data: the tokenizer for one shell-style step
 * line, the builtin table with argument counts, and the step tree
 * (commands and blocks). Pure: no libuv, no YAML. manifest-yaml.c builds
 * the tree from YAML; task.c interprets it.
 */
#ifndef PYT_SCRIPT_H
#define PYT_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "diag.h"

enum script_builtin {
	BUILTIN_ECHO,
	BUILTIN_SLEEP,
	BUILTIN_PUT,
	BUILTIN_GET,
	BUILTIN_START,
	BUILTIN_CANCEL,
	BUILTIN_RESTART,
	BUILTIN_WAIT,
	BUILTIN_SIGNAL,
	BUILTIN_SET,
	BUILTIN_EXIT,
	BUILTIN_BREAK,
	BUILTIN_CLOSE,
};

/*
 * A new pointer field in the structs below must be deep-copied by
 * manifest_pack (manifest-pack.c): a loaded manifest's scripts are packed.
 */

/* A piece of a word: literal bytes, or a variable to expand at run time. */
enum word_part_kind {
	PART_LITERAL,
	PART_VARIABLE,	/* name in text: "line", "1", "index", "status" */
};

struct word_part {
	enum word_part_kind	 kind;
	char			*text;	/* NUL-terminated; literals may hold no NUL */
	size_t			 len;
};

struct word {
	struct word_part	*parts;
	size_t			 nparts;
	size_t			 col;	/* column of the word's first byte */
};

enum step_kind {
	STEP_COMMAND,
	STEP_LOOP,	/* loop: */
	STEP_REPEAT,	/* repeat N: ($index from 1) */
	STEP_EVERY,	/* every DURATION: */
	STEP_FOR,	/* for NAME in QUEUE: */
};

struct script;

/* The ints in pairs: no padding, 104 bytes (a step per task line). */
struct step {
	enum step_kind		 kind;
	/* STEP_COMMAND: words[0] is the builtin's name. */
	enum script_builtin	 builtin;
	size_t			 line;
	size_t			 col;
	char			*text;	/* the step as written, for messages */
	struct word		*words;	/* blocks: the header's words */
	size_t			 nwords;
	/* Literal arguments resolved at parse time, when the builtin has them. */
	uint64_t		 duration_ms;	/* sleep (if literal), every */
	uint64_t		 count;		/* repeat; exit CODE (if literal) */
	int			 has_duration;
	int			 signal;	/* signal UNIT SIG (if literal) */
	char			*var;		/* for NAME, get QUEUE NAME, set NAME */
	char			*queue;		/* put, get, for */
	char			*unit;		/* start, cancel, restart, wait, signal */
	/* Blocks: */
	struct script		*body;
};

struct script {
	struct step	*steps;
	size_t		 nsteps;
	size_t		 capsteps;	/* allocated; 0 when packed */
};

/* Owner: the caller; script_free(NULL) is a no-op. */
struct script	*script_new(void);
void		 script_free(struct script *);
/* Append a zeroed step and return it (valid until the next append). */
struct step	*script_add_step(struct script *);

/*
 * Parse one command line (a string step) into step, reporting every
 * problem to diag at line, col + offset as "PATH: message" (path may be
 * NULL). Word columns in step are absolute (col + offset). Returns 0, or -1
 * when the step is unusable (then step is left zeroed). An empty line or a
 * comment-only line is an error ("empty step").
 */
int	script_parse_command(const char *text, size_t line, size_t col,
	    const char *path, struct diag *, struct step *);
/*
 * Parse a block header (the key of a one-key mapping: "loop", "repeat 5",
 * "every 2s", "for line in jobs") into step (kind and parameters; body is
 * allocated empty). Returns 0 or -1 (reported to diag).
 */
int	script_parse_block(const char *key, size_t line, size_t col,
	    const char *path, struct diag *, struct step *);
/* Release what a step owns (words, names, body), not the step itself. */
void	script_step_release(struct step *);

/* Name of a builtin ("echo"), for messages. */
const char *script_builtin_name(enum script_builtin);

/*
 * Call fn for every queue and unit name the script refers to (literal words
 * by construction), so the manifest can check them; is_queue tells which.
 */
typedef void (*script_ref_fn)(const char *name, int is_queue, size_t line,
    size_t col, void *arg);
void	script_walk_refs(const struct script *, script_ref_fn, void *);

/*
 * Tokenize a line into words without interpreting the builtin: used by
 * script_parse_command and by ctl "add task". Returns 0, or -1 with *errstr
 * and *erroff (byte offset in text).
 */
int	script_tokenize(const char *text, struct word **words, size_t *nwords,
	    const char **errstr, size_t *erroff);
void	script_words_free(struct word *, size_t);

#endif
