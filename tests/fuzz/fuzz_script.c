/*
 * libFuzzer target for the task step parser: one step line (bytes up to
 * the first NUL) goes through script_tokenize, script_parse_command and
 * script_parse_block, then script_walk_refs; every path must free what it
 * allocated and never crash. Built and run by "make fuzz".
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "script.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Touch every reference, so a dangling name pointer would be read. */
static void
fuzz_ref_cb(const char *name, int is_queue, size_t line, size_t col,
    void *arg)
{
	size_t	*n = arg;

	*n += strlen(name) + (size_t)is_queue + line + col;
}

/* Tokenize and parse text both as a command and as a block header. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct diag	 d;
	struct script	*sc;
	struct step	*st;
	struct word	*words;
	size_t		 nwords, erroff, n = 0;
	const char	*errstr;
	char		*text;

	if ((text = malloc(len + 1)) == NULL)
		return 0;
	memcpy(text, data, len);
	text[len] = '\0';

	if (script_tokenize(text, &words, &nwords, &errstr, &erroff) == 0)
		script_words_free(words, nwords);
	else if (errstr == NULL || erroff > len)
		abort();

	diag_init(&d, "fuzz.yaml");
	sc = script_new();
	st = script_add_step(sc);
	script_parse_command(text, 1, 1, "tasks.fuzz.run[0]", &d, st);
	st = script_add_step(sc);
	if (script_parse_block(text, 2, 5, NULL, &d, st) == 0 &&
	    st->body != NULL) {
		/* A block with a one-step body, as the YAML walk builds it. */
		script_parse_command(text, 3, 7, "body", &d,
		    script_add_step(st->body));
	}
	script_walk_refs(sc, fuzz_ref_cb, &n);
	script_free(sc);
	diag_release(&d);
	free(text);
	return 0;
}
