/*
 * The YAML reader of manifests: manifest-yaml.c, the only file that
 * includes <yaml.h>, builds a node tree; the yaml-*.c files read the
 * manifest's sections from it (manifest-yaml-int.h). Its entry points,
 * manifest_load and manifest_load_buffer, are declared in manifest.h with
 * the model they build, so callers need not know the model comes from YAML.
 */
#ifndef PYT_MANIFEST_YAML_H
#define PYT_MANIFEST_YAML_H

#include "manifest.h"

/*
 * manifest_load_buffer without the packing: every part of the model
 * malloc'd as the loader built it (tests compare the two forms).
 */
struct manifest	*manifest_yaml_load(const char *name, const char *data,
		    size_t len, struct diag *);
/* The same, with relative paths resolved from dir (absolute, or NULL). */
struct manifest	*manifest_yaml_load_at(const char *name, const char *dir,
		    const char *data, size_t len, struct diag *);

#endif
