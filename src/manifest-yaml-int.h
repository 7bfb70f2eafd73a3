/*
 * Private to the YAML adapter's own files (manifest-yaml.c and yaml-*.c):
 * the node tree, the state of one load, and the readers those files call
 * across each other. Only they may include it; everyone else uses
 * manifest-yaml.h. No libyaml type here: only manifest-yaml.c sees them.
 */
#ifndef PYT_MANIFEST_YAML_INT_H
#define PYT_MANIFEST_YAML_INT_H

#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "diag.h"
#include "manifest.h"

enum ynode_type {
	YNODE_SCALAR,
	YNODE_SEQUENCE,
	YNODE_MAPPING,
	YNODE_ALIAS,
};

enum ynode_tag {
	YTAG_NONE,
	YTAG_STR,	/* !!str or the non-specific "!" */
	YTAG_NULL,	/* !!null */
};

/* One node of the document; aliases point at their anchor's node. */
struct ynode {
	enum ynode_type	  type;
	size_t		  line;		/* 1-based */
	size_t		  col;
	char		 *value;	/* scalars, NUL-terminated */
	size_t		  len;
	int		  plain;
	int		  quoted;	/* '...' or "..." */
	int		  verbatim;	/* value is its source text on one line */
	enum ynode_tag	  tag;
	struct ynode	**kids;		/* sequence items; key, value pairs */
	size_t		  nkids;
	size_t		  kidscap;
	struct ynode	 *target;	/* aliases */
	int		  open;		/* a collection still being read */
};

/* An anchor (&name): the tree's own, defined in manifest-yaml.c. */
struct yanchor;

/* A mapping entry whose key is a unique string. */
struct ypair {
	struct ynode	*key;
	struct ynode	*value;
	const char	*name;
};

/* The state of one load: the tree, its bounds, and the model being built. */
struct yload {
	struct diag	 *d;
	const char	 *data;
	size_t		  len;
	struct arena	 *tree;		/* nodes, kids, values, anchors */
	size_t		  nnodes;
	struct yanchor	 *anchors;
	size_t		  nanchors;
	size_t		  anchorscap;
	size_t		  naliases;
	struct ynode	 *stack[MANIFEST_MAX_DEPTH];
	size_t		  depth;
	struct ynode	 *root;
	size_t		  visits;
	size_t		  bytes;	/* of scalars visited, aliases expanded */
	int		  aborted;
	struct manifest	 *m;
	const char	 *dir;		/* the manifest's, absolute; or NULL */
	struct env_var	 *env;		/* the top level's env_file: */
	size_t		  nenv;
	uint64_t	  log_buffer;	/* the top level's, or the default */
};

/* yaml-values.c: the typed readers over the tree. */
void		 yload_error(struct yload *, const struct ynode *, const char *,
		    const char *, ...) __attribute__((format(printf, 4, 5)));
struct ynode	*yload_visit(struct yload *, struct ynode *);
int		 yload_is_null(const struct ynode *);
void		 yload_loc(struct loc *, const struct ynode *);
void		 yload_expected(struct yload *, const struct ynode *,
		    const char *, const char *, const char *, const char *);
int		 yload_text(struct yload *, const struct ynode *, const char *,
		    int, char **);
int		 yload_scalar_text(struct yload *, struct ynode *, const char *,
		    const char *, char **);
int		 yload_string(struct yload *, struct ynode *, const char *,
		    char **);
int		 yload_bool(struct yload *, struct ynode *, const char *,
		    int *);
int		 yload_uint(struct yload *, struct ynode *, const char *,
		    uint64_t, uint64_t, uint64_t *);
int		 yload_duration(struct yload *, struct ynode *, const char *,
		    uint64_t *);
int		 yload_size(struct yload *, struct ynode *, const char *,
		    const char *, uint64_t *);
int		 yload_enum(struct yload *, struct ynode *, const char *,
		    const char *const *, int *);
int		 yload_signal(struct yload *, struct ynode *, const char *,
		    int *);
int		 yload_argv(struct yload *, struct ynode *, const char *,
		    const char *, const char *, char ***, size_t *);
char		*yload_path(const char *, const char *);
struct ypair	*yload_pairs(struct yload *, struct ynode *, const char *,
		    size_t *);
int		 yload_key(struct yload *, const struct ypair *, const char *,
		    const char *const *);
int		 yload_has_synonym(const struct ypair *, size_t, const char *);

/* yaml-specs.c: what processes and tasks share. */
void		 yload_output_default(struct output *, const struct loc *);
void		 yload_output(struct yload *, struct ynode *, const char *,
		    struct output *);
int		 yload_restart_key(struct yload *, const char *, struct ynode *,
		    const char *, struct restart_spec *);
void		 yload_restart_default(struct restart_spec *);
void		 yload_deps(struct yload *, struct ynode *, const char *,
		    struct dep **, size_t *);
int		 yload_log_buffer(struct yload *, struct ynode *, const char *,
		    uint64_t *);

/* yaml-env.c: env:, env_file: and paths relative to the manifest. */
char		*yload_resolve(const struct yload *, char *);
void		 yload_env(struct yload *, struct ynode *, const char *,
		    struct env_var **, size_t *);
void		 yload_env_file(struct yload *, struct ynode *, const char *,
		    struct env_var **, size_t *);
void		 yload_env_under(struct env_var **, size_t *,
		    const struct env_var *, size_t);
void		 yload_env_free(struct env_var *, size_t);

/* yaml-procs.c, yaml-tasks.c, yaml-queues.c: one entry of each section. */
void		 yload_proc(struct yload *, const struct ypair *, const char *);
void		 yload_task(struct yload *, const struct ypair *, const char *);
void		 yload_queue(struct yload *, const struct ypair *,
		    const char *);

#endif
