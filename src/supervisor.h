/*
 * All units and queues of one manifest on one loop: starting, restarting,
 * stopping in data-flow order, and the exit status. Borrows the manifest;
 * knows nothing of YAML. Called by main.c (and later the control server).
 */
#ifndef PYT_SUPERVISOR_H
#define PYT_SUPERVISOR_H

#include <uv.h>

#include <stddef.h>
#include <stdint.h>

#include "manifest.h"
#include "wire.h"

struct supervisor;

/* Owner: the caller. The supervisor takes a reference to the manifest. */
struct supervisor	*supervisor_new(uv_loop_t *, struct manifest *);
/* Install signal handlers and start every autostart unit. */
int			 supervisor_start(struct supervisor *);
/* Stop everything in data-flow order (what SIGTERM does). */
void			 supervisor_shutdown(struct supervisor *);
/* 0, or 1 when any unit failed or had to be killed. */
int			 supervisor_exit_status(const struct supervisor *);
/* Print queue counters and totals (for -v). */
void			 supervisor_report(const struct supervisor *);
/*
 * Say, as a warning, how many items each queue still held when the run
 * ended, which are discarded (the drain timeout has said it already).
 */
void		 supervisor_report_left(const struct supervisor *);
/* Close everything; run the loop afterwards to let close callbacks finish. */
void			 supervisor_free(struct supervisor *);

/*
 * The control interface (control.c). Calls return 0, or -1 with *cause
 * (allocated; the caller frees it) which becomes the error reply. A NAME
 * is a unit's name (all its replicas) or one replica's ("web.2").
 */

/* Do not exit when every unit has ended (--keep). */
void	supervisor_set_keep(struct supervisor *, int);
/* The control socket's path, given to children as PYTASKING_SOCKET. */
void	supervisor_set_socket(struct supervisor *, const char *);
/*
 * --exit-code-from: when the named unit has ended for good, stop
 * everything and exit with its status (128+N for a signal).
 */
int	supervisor_set_exit_from(struct supervisor *, const char *,
	    char **cause);
/* The guardian told of every process group spawned (guard.h); borrowed. */
struct guard;
void	supervisor_set_guard(struct supervisor *, struct guard *);

struct sv_unit_info {
	char		 kind[8];	/* "process" or "task" */
	const char	*name;		/* owned by the supervisor */
	const char	*state;		/* unit_state_name() */
	long		 pid;		/* 0 when none */
	uint64_t	 restarts;
	uint64_t	 uptime_ms;	/* of the current run; 0 when none */
	int		 has_ended;	/* a run ended: fields below are set */
	const char	*last_end;	/* "succeeded", "failed", "killed", ... */
	int		 last_status;	/* exit code, or 128+signal */
	const char	*base;		/* the spec's name ("web" of "web.2") */
	int		 up;		/* a run is up (starting to stopping) */
	int		 ready;		/* the current run is ready */
	const char	*stdin_queue;	/* the queue it reads; NULL: none */
	uint64_t	 in_flight;	/* items taken from it, not read yet */
};

/* Every unit instance, in manifest order; *out is allocated (free it). */
size_t	supervisor_list(struct supervisor *, struct sv_unit_info **out);
int	supervisor_status(struct supervisor *, const char *,
	    struct sv_unit_info **out, size_t *n, char **cause);
/* *started: how many instances were not running and now start. */
int	supervisor_start_unit(struct supervisor *, const char *, int *started,
	    char **cause);
/*
 * Stop, restart or remove the instances a name means. With w, w->fn is
 * called once every one has stopped (started again, gone) and *token is
 * set to cancel that wait; *token is NULL when there is nothing to wait
 * for (w->fn is not called then).
 */
struct sv_wait {
	void	(*fn)(void *);
	void	 *arg;
};
int	supervisor_stop_unit(struct supervisor *, const char *,
	    const struct sv_wait *, void **token, char **cause);
int	supervisor_restart_unit(struct supervisor *, const char *,
	    const struct sv_wait *, void **token, char **cause);
/* Forget a wait; its fn is never called. */
void	supervisor_wait_cancel(struct supervisor *, void *token);
/* Run n instances of a process with replicas: only the difference changes. */
int	supervisor_scale(struct supervisor *, const char *, unsigned n,
	    char **cause);
int	supervisor_signal_unit(struct supervisor *, const char *, int sig,
	    char **cause);

struct sv_proc_add {
	const char		 *name;
	char			**argv;		/* NULL-terminated */
	enum restart_policy	  restart;
	const char		 *stdin_queue;	/* NULL: none */
	const char		 *stdout_queue;	/* NULL: inherit */
};
int	supervisor_add_proc(struct supervisor *, const struct sv_proc_add *,
	    char **cause);
/* steps: command lines, parsed as a task's run: steps. */
int	supervisor_add_task(struct supervisor *, const char *name,
	    char **steps, size_t nsteps, char **cause);
/* Stop a unit if running, then forget it (waits as stop does). */
int	supervisor_remove_unit(struct supervisor *, const char *,
	    const struct sv_wait *, void **token, char **cause);

/* The named queue's run-time handle, for put/get/queues (wire.h). */
struct wqueue	*supervisor_queue(struct supervisor *, const char *);
/* Every queue, in manifest order. */
size_t	supervisor_queues(struct supervisor *, struct wqueue ***out);
/* The manifest in force (the latest reload's); borrowed. */
const struct manifest *supervisor_manifest(const struct supervisor *);

/*
 * A line of a unit's output as "ctl logs" gets it: the unit, the time
 * the line arrived (ms since the epoch), its bytes.
 */
typedef void	sv_line_fn(const char *unit, uint64_t time_ms,
		    const char *line, size_t len, void *arg);
/*
 * Recent output lines of a unit, or of every unit when the name is NULL
 * (each unit's lines in order; the caller merges them by seq, their
 * order of arrival): fn per line; then, for each unit whose ring had
 * to drop lines from its head, dropped_fn with their count and the
 * ring's size. 0, or -1 with *cause.
 */
int	supervisor_logs(struct supervisor *, const char *,
	    void (*fn)(const char *unit, uint64_t time_ms, uint64_t seq,
	    const char *line, size_t len, void *arg),
	    void (*dropped_fn)(const char *unit, uint64_t lines,
	    uint64_t size, void *arg), void *arg, char **cause);
/*
 * Follow the output of what a name means, or of every unit when it is
 * NULL, instances added by a reload or a scale included: fn is called
 * for each new line until supervisor_unfollow; once a removal leaves
 * nothing the name means, fn is called with a NULL line. Returns a
 * token, or NULL with *cause.
 */
void	*supervisor_follow(struct supervisor *, const char *, sv_line_fn *fn,
	    void *arg, char **cause);
void	 supervisor_unfollow(struct supervisor *, void *);

/*
 * Reload: how to read the manifest again (main.c gives manifest_load on
 * the same path; the supervisor knows no file format). On errors the
 * loader returns NULL with the diagnostics in *cause.
 */
typedef struct manifest *(*supervisor_loader)(void *arg, char **cause);
void	supervisor_set_loader(struct supervisor *, supervisor_loader, void *);
/*
 * Called by a reload once the new manifest is loaded and checked, just
 * before it is applied, for what the supervisor does not own (the
 * metrics listener): -1 with *cause refuses the reload, and nothing
 * changes.
 */
typedef int (*supervisor_reload_hook)(void *arg, const struct manifest *,
    char **cause);
void	supervisor_set_reload_hook(struct supervisor *, supervisor_reload_hook,
	    void *);
/* Re-read the manifest and apply the difference (SIGHUP, ctl reload). */
int	supervisor_reload(struct supervisor *, char **cause);

#endif
