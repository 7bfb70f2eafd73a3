/*
 * The manifest as plain structs: processes, tasks and queues with every
 * default filled in and every string interpolated. Immutable once loaded;
 * the supervisor borrows it. Pure: it knows nothing of YAML or libuv
 * (manifest-yaml.c builds it).
 */
#ifndef PYT_MANIFEST_H
#define PYT_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "diag.h"
#include "queue.h"
#include "script.h"

#define MANIFEST_DEFAULT_STOP_TIMEOUT_MS	10000
#define MANIFEST_DEFAULT_BACKOFF_INITIAL_MS	100
#define MANIFEST_DEFAULT_BACKOFF_MAX_MS		30000
#define MANIFEST_DEFAULT_DRAIN_TIMEOUT_MS	5000
#define MANIFEST_DEFAULT_CANCEL_TIMEOUT_MS	5000
#define MANIFEST_UNLIMITED			UINT64_MAX
#define MANIFEST_MAX_REPLICAS			10000

/* Loader limits: a hostile file fails fast with a clear error. */
#define MANIFEST_MAX_FILE_SIZE	(4 * 1024 * 1024)
#define MANIFEST_MAX_DEPTH	64
#define MANIFEST_MAX_NODES	200000
#define MANIFEST_MAX_ALIASES	1000

struct loc {
	size_t	line;
	size_t	col;
};

enum restart_policy {
	RESTART_NEVER,
	RESTART_ON_FAILURE,
	RESTART_ALWAYS,
};

enum dest_kind {
	DEST_INHERIT,	/* our stdout/stderr, lines prefixed with the unit name */
	DEST_NULL,
	DEST_FILE,	/* appended */
	DEST_QUEUE,
};

struct dest {
	enum dest_kind	 kind;
	char		*name;	/* file path or queue name */
	struct loc	 loc;
};

/* Where a stream goes: one destination, or several (a tee). */
struct output {
	struct dest	*dests;
	size_t		 ndests;
};

struct backoff {
	uint64_t	initial_ms;
	uint64_t	max_ms;
};

struct env_var {
	char	*name;
	char	*value;
};

/* Restart policy shared by processes and tasks. */
struct restart_spec {
	enum restart_policy	policy;
	struct backoff		backoff;
	uint64_t		max_restarts;	/* MANIFEST_UNLIMITED by default */
};

struct proc_spec {
	char			*name;
	struct loc		 loc;
	char			**argv;		/* cmd: NULL-terminated, or NULL */
	size_t			 argc;
	char			*shell;		/* shell: or NULL */
	char			*cwd;		/* NULL: ours */
	struct env_var		*env;
	size_t			 nenv;
	int			 autostart;
	struct restart_spec	 restart;
	int			 stop_signal;
	uint64_t		 stop_timeout_ms;
	struct output		 out;		/* default: inherit */
	struct output		 err;		/* default: inherit */
	char			*stdin_queue;	/* NULL: /dev/null */
	struct loc		 stdin_loc;
	unsigned		 replicas;	/* default 1 */
};

struct task_spec {
	char			*name;
	struct loc		 loc;
	struct script		*run;
	struct script		*on_cancel;	/* NULL when absent */
	int			 autostart;
	struct restart_spec	 restart;
	uint64_t		 cancel_timeout_ms;
	struct output		 out;		/* where echo goes; default inherit */
};

struct queue_spec {
	char			*name;
	struct loc		 loc;
	size_t			 capacity;
	enum queue_mode		 mode;
	enum queue_overflow	 overflow;
};

struct manifest {
	char			*file;
	int			 version;
	uint64_t		 drain_timeout_ms;
	struct proc_spec	*procs;
	size_t			 nprocs;
	struct task_spec	*tasks;
	size_t			 ntasks;
	struct queue_spec	*queues;
	size_t			 nqueues;
};

/* manifest-yaml.c: read and check a file; NULL when diag has errors. */
struct manifest	*manifest_load(const char *path, struct diag *);
/* Same, from bytes in memory (fuzzing, unit tests); name is for messages. */
struct manifest	*manifest_load_buffer(const char *name, const char *data,
		    size_t len, struct diag *);

/* manifest.c */
struct manifest	*manifest_new(const char *file);
void		 manifest_free(struct manifest *);
/* Cross-checks once parsed: unique names, queue references, producers
 * and consumers, cycles of queues. Errors and warnings go to diag. */
void		 manifest_check(struct manifest *, struct diag *);
struct proc_spec	*manifest_find_proc(const struct manifest *, const char *);
struct task_spec	*manifest_find_task(const struct manifest *, const char *);
struct queue_spec	*manifest_find_queue(const struct manifest *, const char *);
/* The resolved manifest (defaults filled in, variables interpolated) as YAML. */
void		 manifest_print(const struct manifest *, FILE *);
/* "3 processes, 1 task, 2 queues" */
void		 manifest_summary(const struct manifest *, char *, size_t);
const char	*manifest_restart_name(enum restart_policy);
/* s as a YAML double-quoted scalar (allocated), cut after max bytes if max > 0. */
char		*manifest_quote(const char *s, size_t max);
void		 output_release(struct output *);

#endif
