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
#define MANIFEST_DEFAULT_BACKUPS		5
#define MANIFEST_MAX_BACKUPS			100
#define MANIFEST_DEFAULT_READY_INTERVAL_MS	1000
#define MANIFEST_DEFAULT_READY_TIMEOUT_MS	60000
#define MANIFEST_DEFAULT_CLAIM_AFTER_MS		30000
#define MANIFEST_DEFAULT_CONNECT_TIMEOUT_MS	10000
#define MANIFEST_REDIS_DEFAULT_PORT		6379
#define MANIFEST_DEFAULT_LOG_BUFFER		(1024 * 1024)
#define MANIFEST_MIN_LOG_BUFFER			1024
#define MANIFEST_MAX_LOG_BUFFER			(1024 * 1024 * 1024)

/* Loader limits: a hostile file fails fast with a clear error. */
#define MANIFEST_MAX_FILE_SIZE	(4 * 1024 * 1024)
#define MANIFEST_MAX_DEPTH	64
#define MANIFEST_MAX_NODES	200000
#define MANIFEST_MAX_EXPANDED	(16 * 1024 * 1024)	/* bytes of text */
#define MANIFEST_MAX_ALIASES	1000

/*
 * The model below is built by manifest-yaml.c with malloc, then packed
 * (manifest-pack.c): copied into one arena and the original freed. A new
 * pointer field in any of these structs (or in script.h's) must be
 * deep-copied by manifest_pack, and freed by manifest_free's walk of an
 * unpacked manifest.
 */
struct arena;

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

/*
 * Once packed, the default output (one DEST_INHERIT) of every unit is one
 * shared copy at 0:0: only a queue destination's loc is ever reported.
 */
struct dest {
	enum dest_kind	 kind;
	char		*name;	/* file path or queue name */
	struct loc	 loc;
	/* DEST_FILE given as {file: PATH, max_size: 10MiB, backups: 5}. */
	uint64_t	 max_size;	/* bytes; 0: never rotate */
	unsigned	 backups;	/* PATH.1 ... PATH.N kept; default 5 */
};

/* depends_on: {db: ready, migrate: succeeded}; a list means started. */
enum dep_cond {
	DEP_STARTED,
	DEP_READY,
	DEP_SUCCEEDED,
};

struct dep {
	char		*name;	/* a process or task */
	enum dep_cond	 cond;
	int		 bind;	/* stopped while the condition no longer holds */
	struct loc	 loc;
};

/* ready: how a process says it is ready. */
enum ready_kind {
	READY_NONE,	/* started means ready */
	READY_LINE,	/* a stdout/stderr line matches regex (POSIX ERE) */
	READY_FD,	/* it writes a newline to fd N (s6 convention) */
	READY_EXEC,	/* a probe command exits 0; polled every interval */
	READY_TCP,	/* a TCP connect to host:port succeeds; polled */
	READY_HTTP,	/* GET url answers 2xx; polled; http:// only */
};

struct ready_spec {
	enum ready_kind	 kind;
	char		*regex;		/* line */
	int		 fd;		/* fd: 3..1023 */
	char		**argv;		/* exec: NULL-terminated */
	char		*host;		/* tcp, http; IPv6 without brackets */
	char		*port;		/* tcp, http (default 80) */
	char		*path;		/* http: "/health" */
	uint64_t	 interval_ms;	/* exec, tcp, http; default 1s */
	uint64_t	 timeout_ms;	/* ready_timeout; default 60s; 0: none */
	struct loc	 loc;
};

/*
 * liveness: a probe of the same kinds as ready (exec, tcp, http), run
 * every interval (probe.interval_ms) once the process is ready, each
 * given probe.timeout_ms; failures in a row make the run a failure.
 */
struct liveness_spec {
	struct ready_spec	probe;		/* kind READY_NONE: none */
	uint64_t		failures;	/* in a row; default 3 */
	uint64_t		initial_delay_ms;	/* from ready; default 0 */
};

#define MANIFEST_DEFAULT_LIVENESS_INTERVAL_MS	10000
#define MANIFEST_DEFAULT_LIVENESS_TIMEOUT_MS	1000
#define MANIFEST_DEFAULT_LIVENESS_FAILURES	3

/* limits: applied in the child before exec; a missing one is not set. */
enum limit_kind {
	LIMIT_NOFILE,
	LIMIT_NPROC,
	LIMIT_CORE,
	LIMIT_AS,
	LIMIT_CPU,
	LIMIT_FSIZE,
	LIMIT_COUNT,
};

struct limit {
	int		set;
	uint64_t	value;	/* soft and hard; UINT64_MAX: unlimited */
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
	char			*cwd;		/* NULL: ours; else absolute */
	struct env_var		*env;		/* env_file:s, then env: */
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
	int			 replicas_set;	/* replicas: given: NAME.1 ... */
	int			*success_codes;	/* NULL: only 0 */
	size_t			 nsuccess;
	uint64_t		 min_uptime_ms;	/* 0: any run counts */
	struct dep		*deps;
	size_t			 ndeps;
	struct ready_spec	 ready;
	struct liveness_spec	 liveness;
	struct limit		 limits[LIMIT_COUNT];
	int			 umask;		/* -1: inherit ours */
	char			*user;		/* NULL: ours */
	char			*group;
	uint64_t		 log_buffer;	/* bytes of recent output kept */
	/* Where cmd (or shell), cwd, user and group were given. */
	struct loc		 cmd_loc;
	struct loc		 cwd_loc;
	struct loc		 user_loc;
	struct loc		 group_loc;
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
	struct dep		*deps;
	size_t			 ndeps;
	/* Variables of its steps, before the supervisor's environment. */
	struct env_var		*env;
	size_t			 nenv;
	uint64_t		 log_buffer;	/* bytes of recent output kept */
};

struct queue_spec {
	char			*name;
	struct loc		 loc;
	size_t			 capacity;
	enum queue_mode		 mode;
	enum queue_overflow	 overflow;
	/* Units whose specs feed it (manifest_check); 0: fed from outside. */
	size_t			 producers;
	/* Items a consumer may hold unread; 0: 1 growing, or none if alone. */
	size_t			 prefetch;
	/* backend: redis (issue 8) when redis; url, stream, group set then. */
	int			 redis;
	char			*url;		/* redis://[:password@]host:port/db */
	char			*stream;	/* default: the queue's name */
	char			*group;		/* default: the queue's name */
	uint64_t		 claim_after_ms;	/* default 30s */
	uint64_t		 connect_timeout_ms;	/* default 10s */
};

struct manifest {
	/* Packed: everything, this struct included, lives in the arena. */
	struct arena		*arena;
	int			 refs;		/* manifest_ref; free at 0 */
	char			*file;
	int			 version;
	uint64_t		 drain_timeout_ms;
	char			*metrics;	/* "HOST:PORT" to serve; or NULL */
	struct proc_spec	*procs;
	size_t			 nprocs;
	struct task_spec	*tasks;
	size_t			 ntasks;
	struct queue_spec	*queues;
	size_t			 nqueues;
};

/*
 * manifest-yaml.c: read and check a file; NULL when diag has errors. Any
 * readable file at start-up (a pipe from <(...) too, before the loop
 * runs); manifest_reload reads only a regular file, so a FIFO put in the
 * manifest's place never blocks the running supervisor.
 */
struct manifest	*manifest_load(const char *path, struct diag *);
struct manifest	*manifest_reload(const char *path, struct diag *);
/* Same, from bytes in memory (fuzzing, unit tests); name is for messages. */
struct manifest	*manifest_load_buffer(const char *name, const char *data,
		    size_t len, struct diag *);

/*
 * manifest.c, but manifest_check (manifest-check.c), manifest_print
 * (manifest-print.c) and the _equal functions (manifest-cmp.c).
 */
struct manifest	*manifest_new(const char *file);
/*
 * A manifest is reference-counted: manifest_new gives the first
 * reference, manifest_ref takes another, manifest_free drops one and
 * frees the manifest (packed or not) with the last. NULL is a no-op.
 */
void		 manifest_ref(struct manifest *);
void		 manifest_free(struct manifest *);
/*
 * manifest-pack.c: m deep-copied into one arena, at exact sizes; m is
 * freed. The result is read-only: no part of it may be freed or grown.
 */
struct manifest	*manifest_pack(struct manifest *m);
/* Cross-checks once parsed: unique names, queue references, producers
 * and consumers, cycles of queues. Errors and warnings go to diag. */
void		 manifest_check(struct manifest *, struct diag *);
/*
 * manifest-host.c: what the run would refuse on this machine (a user or
 * group that does not exist, an output file that cannot be written) as
 * errors; a program not in PATH and a missing cwd as warnings.
 */
void		 manifest_check_host(const struct manifest *, struct diag *);
struct proc_spec	*manifest_find_proc(const struct manifest *, const char *);
struct task_spec	*manifest_find_task(const struct manifest *, const char *);
struct queue_spec	*manifest_find_queue(const struct manifest *, const char *);
/* The resolved manifest (defaults filled in, variables set) as YAML. */
void		 manifest_print(const struct manifest *, FILE *);
/* "3 processes, 1 task, 2 queues" */
void		 manifest_summary(const struct manifest *, char *, size_t);
const char	*manifest_restart_name(enum restart_policy);
/* Same specification (for reload: an unchanged unit keeps running). */
int		 manifest_proc_equal(const struct proc_spec *,
		    const struct proc_spec *);
int		 manifest_task_equal(const struct task_spec *,
		    const struct task_spec *);
int		 manifest_queue_equal(const struct queue_spec *,
		    const struct queue_spec *);
/*
 * "HOST:PORT" or "[V6]:PORT" into allocated host (no brackets) and port;
 * without a port, defport (NULL: the port is required). 0, or -1 with
 * *errstr saying why.
 */
int		 manifest_parse_hostport(const char *, const char *defport,
		    char **host, char **port, const char **errstr);
/* The parts of redis://[[USER]:PASSWORD@]HOST[:PORT][/DB]. */
struct redis_url {
	char		*user;		/* NULL: none (the default user) */
	char		*password;	/* NULL: none */
	char		*host;		/* IPv6 without brackets */
	unsigned	 port;		/* default 6379 */
	unsigned	 db;		/* default 0 */
};
int		 manifest_parse_redis_url(const char *, struct redis_url *,
		    const char **errstr);
void		 manifest_redis_url_release(struct redis_url *);
/* s as a YAML double-quoted scalar (allocated), cut after max > 0 bytes. */
char		*manifest_quote(const char *s, size_t max);
void		 output_release(struct output *);

#endif
