/*
 * libFuzzer target for the manifest loader: arbitrary bytes go through
 * manifest_load_buffer (libyaml, the walk, the cross-checks, the step
 * parser) and must come out as a model or as diagnostics, never as a
 * crash, a hang or a leak. A model that loads is printed (the -cv output)
 * and, when the print holds no "$" to interpolate again, must load back
 * and print the same. Built and run by "make fuzz".
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "diag.h"
#include "manifest.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* The manifest as manifest_print writes it (allocated), and its length. */
static char *
fuzz_print(const struct manifest *m, size_t *len)
{
	FILE	*fp;
	char	*s = NULL;

	if ((fp = open_memstream(&s, len)) == NULL)
		abort();
	manifest_print(m, fp);
	if (fclose(fp) != 0)
		abort();
	return s;
}

/*
 * Load the printed form of a manifest that loaded: it must load without
 * an error and print byte for byte the same. A "$" is left out, as the
 * print shows values after interpolation ("$$" printed as "$").
 */
static void
fuzz_round_trip(const struct manifest *m)
{
	struct diag	 d;
	struct manifest	*again;
	char		*s1, *s2;
	size_t		 len1, len2;

	s1 = fuzz_print(m, &len1);
	if (memchr(s1, '$', len1) != NULL) {
		free(s1);
		return;
	}
	diag_init(&d, "printed.yaml");
	if ((again = manifest_load_buffer("printed.yaml", s1, len1,
	    &d)) == NULL) {
		fprintf(stderr, "the printed manifest does not load:\n%s\n", s1);
		diag_print(&d, stderr);
		abort();
	}
	s2 = fuzz_print(again, &len2);
	if (len1 != len2 || memcmp(s1, s2, len1) != 0) {
		fprintf(stderr, "printed once:\n%s\nprinted again:\n%s\n",
		    s1, s2);
		abort();
	}
	free(s2);
	manifest_free(again);
	diag_release(&d);
	free(s1);
}

/* Load data as a manifest; print a model that loads, and load it back. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct diag	 d;
	struct manifest	*m;
	char		 summary[128];

	diag_init(&d, "fuzz.yaml");
	m = manifest_load_buffer("fuzz.yaml", (const char *)data, len, &d);
	if (m != NULL) {
		manifest_summary(m, summary, sizeof summary);
		fuzz_round_trip(m);
	}
	manifest_free(m);
	diag_release(&d);
	return 0;
}
