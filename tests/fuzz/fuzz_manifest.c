/*
 * libFuzzer target for the manifest loader: arbitrary bytes go through
 * manifest_load_buffer (libyaml, the walk, the cross-checks, the step
 * parser) and must come out as a model or as diagnostics, never as a
 * crash, a hang or a leak. Built and run by "make fuzz".
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "manifest.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Load data as a manifest; print it when it loads, to walk every field. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct diag	 d;
	struct manifest	*m;
	FILE		*null;
	char		 summary[128];

	diag_init(&d, "fuzz.yaml");
	m = manifest_load_buffer("fuzz.yaml", (const char *)data, len, &d);
	if (m != NULL) {
		manifest_summary(m, summary, sizeof summary);
		if ((null = fopen("/dev/null", "w")) != NULL) {
			manifest_print(m, null);
			fclose(null);
		}
	}
	manifest_free(m);
	diag_release(&d);
	return 0;
}
