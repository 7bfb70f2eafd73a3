/*
 * `pytasking-run ctl`: the commands. Turns the user's words into one
 * request, sends it over the connection of ctl-conn.c and has the reply
 * rendered by ctl-print.c as an aligned table or as one JSON document. Streams lines for `put`
 * (the supervisor stops reading while its queue is full, so our writes
 * block: back-pressure) and for `logs -f`. Knows the server only through
 * the protocol.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "ctl.h"
#include "ctl-int.h"
#include "ctlproto.h"
#include "log.h"
#include "util.h"
#include "xmalloc.h"

/* Bytes read from stdin at once. */
#define CTL_READ_CHUNK	(64 * 1024)

static const char *const ctl_words[] = {
	"list", "status", "start", "stop", "restart", "cancel", "signal",
	"scale", "add", "remove", "put", "get", "close", "queues", "logs",
	"reload", "shutdown", "metrics", "top", NULL
};

static void
ctl_usage(FILE *fp)
{
	fprintf(fp,
	    "usage: pytasking-run ctl [-s SOCKET] [--json] COMMAND [ARG...]\n"
	    "\n"
	    "Drive a running pytasking-run through its control socket.\n"
	    "\n"
	    "  list                        every unit: kind, name, state, pid, restarts,\n"
	    "                              uptime, last exit\n"
	    "  status UNIT                 one unit (every replica of it)\n"
	    "  start UNIT                  start a unit (later, if it is stopping)\n"
	    "  stop UNIT, restart UNIT, cancel UNIT (= stop) [--no-wait]\n"
	    "                              return once done, or at once with --no-wait\n"
	    "  scale NAME N                run N replicas of a process\n"
	    "  signal UNIT SIGNAL          send a signal to a process's group\n"
	    "  add proc NAME [--restart POLICY] [--stdin QUEUE] [--stdout QUEUE] -- ARGV...\n"
	    "  add task NAME -- STEP...    add and start a unit\n"
	    "  remove UNIT [--no-wait]     stop a unit and forget it\n"
	    "  put QUEUE [LINE...]         put LINEs, or the lines of standard input\n"
	    "  get QUEUE                   take one item (exit 1 at the end of the stream)\n"
	    "  close QUEUE                 end a queue: its consumers drain it, then see\n"
	    "                              the end; later puts are refused\n"
	    "  queues                      state, counters and rates of every queue\n"
	    "  metrics                     every figure in the Prometheus text format\n"
	    "  top [-b] [-n N] [-d DURATION]  a live view of units and queues\n"
	    "  logs [UNIT] [-f] [-n N] [--since DURATION] [--timestamps]\n"
	    "                              recent output of a unit, or of every unit\n"
	    "                              in time order; -f: follow; -n: the last N\n"
	    "                              lines; --since: that recent only;\n"
	    "                              --timestamps: with each line's arrival\n"
	    "  reload                      read the manifest again\n"
	    "  shutdown                    stop everything, and wait until it has stopped\n"
	    "\n"
	    "  -s, --socket PATH   the control socket (default: $PYTASKING_SOCKET, else\n"
	    "                      the only supervisor in the default directory, or\n"
	    "                      of several the one of a manifest in this directory)\n"
	    "  -j, --json          print one JSON document\n"
	    "  -h, --help          show this help\n"
	    "\n"
	    "Exit status: 0 done, 1 refused or failed, 2 usage error.\n"
	    "See pytasking-run(1).\n");
}

/* A usage error: message, hint, status 2. */
static int
ctl_bad_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "pytasking-run: ctl: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry 'pytasking-run ctl --help'.\n");
	return 2;
}

/* Report an error; in JSON mode also as a document on stdout. */
static int
ctl_fail(struct ctl *c, const char *msg, size_t len)
{
	struct buf	b;

	fprintf(stderr, "pytasking-run: %.*s\n", (int)len, msg);
	if (c->json) {
		buf_init(&b);
		buf_adds(&b, "{\"ok\":false,\"error\":");
		buf_add_json_string(&b, msg, len);
		buf_adds(&b, "}\n");
		fwrite(buf_ptr(&b), 1, buf_used(&b), stdout);
		buf_release(&b);
		fflush(stdout);
	}
	return 1;
}

static int
ctl_fails(struct ctl *c, char *msg)
{
	int	r = ctl_fail(c, msg, strlen(msg));

	free(msg);
	return r;
}

/*
 * Stream standard input as items, then the empty frame that ends it.
 * The supervisor says nothing until the end unless it fails: when the
 * socket becomes readable early, stop and read why.
 */
static int
ctl_put_stdin(struct ctl *c)
{
	struct ctl_frame	 fr;
	struct pollfd		 pfd[2];
	struct buf		 line, out;
	char			 chunk[CTL_READ_CHUNK];
	const char		*p, *nl;
	ssize_t			 n;
	size_t			 left;
	int			 error = 0;

	if (buf_used(&c->in) > 0)
		return -1;
	buf_init(&line);
	buf_init(&out);
	for (;;) {
		pfd[0].fd = STDIN_FILENO;
		pfd[0].events = POLLIN;
		pfd[1].fd = c->fd;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, -1) == -1) {
			if (errno == EINTR)
				continue;
			error = -1;
			break;
		}
		if (pfd[1].revents != 0) {
			error = -1;
			break;
		}
		if (pfd[0].revents == 0)
			continue;
		do
			n = read(STDIN_FILENO, chunk, sizeof chunk);
		while (n == -1 && errno == EINTR);
		if (n == -1) {
			log_warn("standard input");
			error = -1;
			break;
		}
		ctlproto_frame_init(&fr);
		p = chunk;
		left = (size_t)n;
		while (left > 0) {
			nl = memchr(p, '\n', left);
			buf_add(&line, p, nl != NULL ? (size_t)(nl - p) : left);
			if (nl == NULL) {
				left = 0;
			} else {
				left -= (size_t)(nl - p) + 1;
				p = nl + 1;
			}
			/* Longer lines go as several items, like a pipe's. */
			while (buf_used(&line) >= CTL_MAX_ITEM) {
				ctlproto_frame_add(&fr, buf_ptr(&line),
				    CTL_MAX_ITEM);
				buf_consume(&line, CTL_MAX_ITEM);
				ctlproto_frame_finish(&fr, &out);
				ctlproto_frame_init(&fr);
			}
			if (nl != NULL) {
				ctlproto_frame_add(&fr, buf_ptr(&line),
				    buf_used(&line));
				buf_clear(&line);
			}
			if (buf_used(&fr.fields) >= CTL_MAX_FRAME / 2) {
				ctlproto_frame_finish(&fr, &out);
				ctlproto_frame_init(&fr);
			}
		}
		/* The last line, even without its newline. */
		if (n == 0 && buf_used(&line) > 0)
			ctlproto_frame_add(&fr, buf_ptr(&line),
			    buf_used(&line));
		if (fr.n > 0)
			ctlproto_frame_finish(&fr, &out);
		else
			buf_release(&fr.fields);
		/* Send what is complete now: lines flow as they come. */
		if (buf_used(&out) > 0 && ctl_conn_write(c->fd, buf_ptr(&out),
		    buf_used(&out)) == -1) {
			error = -1;
			break;
		}
		buf_clear(&out);
		if (n == 0)
			break;
	}
	buf_release(&line);
	buf_release(&out);
	/* The empty frame ends the stream; on errors the reply says why. */
	if (error == 0 && ctl_conn_write(c->fd, "0:,", 3) == -1)
		error = -1;
	return error;
}

/* Add LINE as items, a line with newlines as several. */
static void
frame_add_lines(struct ctl_frame *fr, const char *s)
{
	const char	*nl;
	int		 split = 0;

	while ((nl = strchr(s, '\n')) != NULL) {
		ctlproto_frame_add(fr, s, (size_t)(nl - s));
		s = nl + 1;
		split = 1;
	}
	/* "a\n" is one line; "" is one empty line. */
	if (*s != '\0' || !split)
		ctlproto_frame_adds(fr, s);
}

/* Parse "add proc|task NAME [options] -- ARGS..." into the frame. */
static int
ctl_build_add(struct ctl *c, struct ctl_frame *fr, int argc, char **argv)
{
	const char	*restart = "", *in = "", *out = "", *opt, *val;
	int		 i, proc;

	if (argc < 2)
		return ctl_bad_usage("add: expected 'add proc NAME ... -- "
		    "ARGV...' or 'add task NAME -- STEP...'%s", "");
	if (strcmp(argv[0], "proc") == 0)
		proc = 1;
	else if (strcmp(argv[0], "task") == 0)
		proc = 0;
	else
		return ctl_bad_usage("add: unknown kind '%s' (proc or task)",
		    argv[0]);
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (strncmp(argv[i], "--", 2) != 0)
			break;
		opt = argv[i];
		if ((val = strchr(opt, '=')) != NULL)
			val++;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			return ctl_bad_usage("add: %s needs a value", opt);
		if (!proc)
			return ctl_bad_usage("add task: unknown option %s",
			    opt);
		if (strncmp(opt, "--restart", 9) == 0 &&
		    (opt[9] == '\0' || opt[9] == '='))
			restart = val;
		else if (strncmp(opt, "--stdin", 7) == 0 &&
		    (opt[7] == '\0' || opt[7] == '='))
			in = val;
		else if (strncmp(opt, "--stdout", 8) == 0 &&
		    (opt[8] == '\0' || opt[8] == '='))
			out = val;
		else
			return ctl_bad_usage("add proc: unknown option %s",
			    opt);
	}
	if (i >= argc)
		return ctl_bad_usage("add: nothing to run after '%s'", "--");
	if (proc) {
		c->req = CTL_ADD_PROC;
		ctlproto_frame_adds(fr, "add-proc");
		ctlproto_frame_adds(fr, argv[1]);
		ctlproto_frame_adds(fr, restart);
		ctlproto_frame_adds(fr, in);
		ctlproto_frame_adds(fr, out);
	} else {
		c->req = CTL_ADD_TASK;
		ctlproto_frame_adds(fr, "add-task");
		ctlproto_frame_adds(fr, argv[1]);
	}
	for (; i < argc; i++)
		ctlproto_frame_adds(fr, argv[i]);
	return 0;
}

/*
 * logs [UNIT] [-f] [-n N] [--since DURATION] [--timestamps]: without a
 * unit, every unit's lines merged in time order.
 */
static int
ctl_build_logs(struct ctl *c, struct ctl_frame *fr, int argc, char **argv)
{
	const char	*unit = NULL, *lines = "", *errstr, *opt;
	char		 since[32];
	uint64_t	 u;
	int		 i, follow = 0;

	since[0] = '\0';
	for (i = 0; i < argc; i++) {
		opt = argv[i];
		if (strcmp(opt, "-f") == 0 || strcmp(opt, "--follow") == 0)
			follow = 1;
		else if (strcmp(opt, "-t") == 0 ||
		    strcmp(opt, "--timestamps") == 0)
			c->timestamps = 1;
		else if (strcmp(opt, "-n") == 0 ||
		    strcmp(opt, "--lines") == 0) {
			if (++i == argc)
				return ctl_bad_usage("logs: %s needs a number",
				    opt);
			if (util_parse_uint(argv[i], 0, UINT32_MAX, &u,
			    &errstr) == -1)
				return ctl_bad_usage("logs: -n: expected a "
				    "number of lines; got %s", argv[i]);
			lines = argv[i];
		} else if (strcmp(opt, "--since") == 0) {
			if (++i == argc)
				return ctl_bad_usage("logs: %s needs a "
				    "duration", opt);
			if (util_parse_duration(argv[i], &u, &errstr) == -1 ||
			    u == 0)
				return ctl_bad_usage("logs: --since: expected "
				    "a duration such as 10m; got %s", argv[i]);
			snprintf(since, sizeof since, "%llu",
			    (unsigned long long)u);
		} else if (unit == NULL && opt[0] != '-')
			unit = opt;
		else
			return ctl_bad_usage("logs: unexpected argument %s",
			    opt);
	}
	c->req = follow ? CTL_FOLLOW : CTL_LOGS;
	c->set = "lines";
	ctlproto_frame_adds(fr, follow ? "logs-follow" : "logs");
	ctlproto_frame_adds(fr, unit != NULL ? unit : "");
	ctlproto_frame_adds(fr, lines);
	ctlproto_frame_adds(fr, since);
	return 0;
}

/* The request for the command words in argv; 0, or a usage status. */
static int
ctl_build(struct ctl *c, struct ctl_frame *fr, int argc, char **argv)
{
	const char	*cmd = argv[0], *unit = NULL, *hint;
	int		 i, nowait = 0;

	argc--;
	argv++;
	c->cmd = cmd;
	if (strcmp(cmd, "metrics") == 0) {
		if (argc != 0)
			return ctl_bad_usage("%s takes no arguments", cmd);
		ctlproto_frame_adds(fr, cmd);
		c->req = CTL_METRICS;
		c->set = "metrics";
		return 0;
	}
	if (strcmp(cmd, "list") == 0 || strcmp(cmd, "queues") == 0 ||
	    strcmp(cmd, "reload") == 0 || strcmp(cmd, "shutdown") == 0) {
		if (argc != 0)
			return ctl_bad_usage("%s takes no arguments", cmd);
		ctlproto_frame_adds(fr, cmd);
		c->req = cmd[0] == 'l' ? CTL_LIST : cmd[0] == 'q' ?
		    CTL_QUEUES : cmd[0] == 'r' ? CTL_RELOAD : CTL_SHUTDOWN;
		c->set = c->req == CTL_LIST ? "units" : c->req == CTL_QUEUES ?
		    "queues" : NULL;
		return 0;
	}
	if (strcmp(cmd, "stop") == 0 || strcmp(cmd, "restart") == 0 ||
	    strcmp(cmd, "cancel") == 0 || strcmp(cmd, "remove") == 0) {
		for (i = 0; i < argc; i++) {
			if (strcmp(argv[i], "--no-wait") == 0)
				nowait = 1;
			else if (unit == NULL && argv[i][0] != '-')
				unit = argv[i];
			else
				return ctl_bad_usage("unexpected argument %s",
				    argv[i]);
		}
		if (unit == NULL)
			return ctl_bad_usage("%s takes a unit", cmd);
		ctlproto_frame_adds(fr, cmd);
		ctlproto_frame_adds(fr, unit);
		if (nowait)
			ctlproto_frame_adds(fr, "nowait");
		c->req = CTL_STOP;
		return 0;
	}
	if (strcmp(cmd, "scale") == 0) {
		if (argc != 2)
			return ctl_bad_usage("%s takes a process and a number",
			    cmd);
		c->req = CTL_SCALE;
		ctlproto_frame_adds(fr, cmd);
		ctlproto_frame_adds(fr, argv[0]);
		ctlproto_frame_adds(fr, argv[1]);
		return 0;
	}
	if (strcmp(cmd, "status") == 0 || strcmp(cmd, "start") == 0 ||
	    strcmp(cmd, "close") == 0) {
		if (argc != 1)
			return ctl_bad_usage("%s takes one argument", cmd);
		ctlproto_frame_adds(fr, cmd);
		ctlproto_frame_adds(fr, argv[0]);
		if (strcmp(cmd, "status") == 0) {
			c->req = CTL_STATUS;
			c->set = "units";
		} else
			c->req = CTL_START;
		return 0;
	}
	if (strcmp(cmd, "get") == 0) {
		if (argc != 1)
			return ctl_bad_usage("%s takes one argument", cmd);
		/* Acknowledged once printed: see ctl_get_ack. */
		ctlproto_frame_adds(fr, "get-ack");
		ctlproto_frame_adds(fr, argv[0]);
		c->req = CTL_GET_ACK;
		return 0;
	}
	if (strcmp(cmd, "signal") == 0) {
		if (argc != 2)
			return ctl_bad_usage("%s takes a unit and a signal",
			    cmd);
		c->req = CTL_SIGNAL;
		ctlproto_frame_adds(fr, cmd);
		ctlproto_frame_adds(fr, argv[0]);
		ctlproto_frame_adds(fr, argv[1]);
		return 0;
	}
	if (strcmp(cmd, "add") == 0)
		return ctl_build_add(c, fr, argc, argv);
	if (strcmp(cmd, "put") == 0) {
		if (argc < 1)
			return ctl_bad_usage("%s needs a queue", cmd);
		if (argc == 1) {
			c->req = CTL_PUT_STREAM;
			ctlproto_frame_adds(fr, "put-stream");
			ctlproto_frame_adds(fr, argv[0]);
			return 0;
		}
		c->req = CTL_PUT;
		ctlproto_frame_adds(fr, "put");
		ctlproto_frame_adds(fr, argv[0]);
		for (i = 1; i < argc; i++)
			frame_add_lines(fr, argv[i]);
		return 0;
	}
	if (strcmp(cmd, "logs") == 0)
		return ctl_build_logs(c, fr, argc, argv);
	hint = util_did_you_mean(cmd, ctl_words);
	if (hint != NULL) {
		fprintf(stderr, "pytasking-run: ctl: unknown command %s; did "
		    "you mean %s?\n", cmd, hint);
		return 2;
	}
	return ctl_bad_usage("unknown command %s", cmd);
}

/*
 * A supervisor older than get-ack answers it with "unknown command": ask
 * it again with a plain get, which holds the item only until its reply
 * is written. Returns ctl_conn_reply's answer to whichever was asked.
 */
static int
ctl_get_fallback(struct ctl *c, const char *sock, const char *queue,
    char **cause)
{
	struct ctl_frame	fr;
	static const char	unknown[] = "unknown command";
	int			r;

	if (c->errlen < sizeof unknown - 1 ||
	    memcmp(c->error, unknown, sizeof unknown - 1) != 0)
		return 1;
	close(c->fd);
	c->fd = -1;
	ctl_conn_forget(c);
	c->req = CTL_GET;
	ctlproto_frame_init(&fr);
	ctlproto_frame_adds(&fr, "get");
	ctlproto_frame_adds(&fr, queue);
	if (ctl_conn_send(c, sock, &fr, cause) == -1)
		return -1;
	if ((r = ctl_conn_reply(c, cause)) == 0)
		ctl_print(c);
	return r;
}

/*
 * get-ack's item is ours until we acknowledge it: print it, and only once
 * it is out of our hands (written and flushed) say so. A print that fails
 * (a closed pipe or file) says nothing, and the supervisor gives the item
 * again. Returns the exit status.
 */
static int
ctl_get_ack(struct ctl *c)
{
	char	*cause = NULL;

	ctl_print(c);
	if (fflush(stdout) == EOF || ferror(stdout)) {
		log_warn("get: standard output: the item was not "
		    "acknowledged and goes back to the queue");
		return 1;
	}
	if (ctl_conn_ack(c, &cause) == -1) {
		log_warnx("%s", cause);
		free(cause);
		return 1;
	}
	return 0;
}

int
ctl_main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct ctl_frame	 fr;
	struct ctl		 c;
	const char		*sock = NULL;
	char			*cause = NULL;
	int			 ch, r, status;

	log_init("pytasking-run", 0);
	memset(&c, 0, sizeof c);
	c.fd = -1;
	while ((ch = getopt_long(argc, argv, "+s:jh", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'j':
			c.json = 1;
			break;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			ctl_usage(stderr);
			return 2;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc == 0)
		return ctl_bad_usage("missing COMMAND%s", "");
	/* top is a loop of requests with a screen: ctl-top.c. */
	if (strcmp(argv[0], "top") == 0)
		return ctl_top_main(sock, argc, argv);

	ctlproto_frame_init(&fr);
	if ((status = ctl_build(&c, &fr, argc, argv)) != 0) {
		buf_release(&fr.fields);
		return status;
	}
	if (c.req == CTL_GET_ACK) {
		/* Else the socket would take descriptor 1, and the item. */
		if (fcntl(STDOUT_FILENO, F_GETFD) == -1) {
			log_warnx("get: standard output is closed: no item "
			    "taken");
			buf_release(&fr.fields);
			return 1;
		}
		/* A closed reader is an EPIPE we report, not our death. */
		(void)signal(SIGPIPE, SIG_IGN);
	}
	buf_init(&c.in);
	if (ctl_conn_send(&c, sock, &fr, &cause) == -1)
		goto fail;
	if (c.req == CTL_PUT_STREAM)
		(void)ctl_put_stdin(&c);

	r = ctl_conn_reply(&c, &cause);
	if (r == 1 && c.req == CTL_GET_ACK) {
		if ((r = ctl_get_fallback(&c, sock, argv[1], &cause)) == 0)
			goto out;
	}
	if (r == -1)
		goto fail;
	if (r == 1) {
		status = 1;
		fprintf(stderr, "pytasking-run: %.*s\n", (int)c.errlen,
		    c.error);
		if (c.json) {
			struct buf	b;

			buf_init(&b);
			buf_adds(&b, "{\"ok\":false,\"error\":");
			buf_add_json_string(&b, c.error, c.errlen);
			json_fields(&b, &c.final, 0);
			buf_adds(&b, "}\n");
			fwrite(buf_ptr(&b), 1, buf_used(&b), stdout);
			buf_release(&b);
		}
	} else {
		status = 0;
		/* shutdown: the socket closes when the supervisor is gone. */
		if (c.req == CTL_SHUTDOWN)
			while (ctl_conn_read(&c, &cause) == 1)
				buf_clear(&c.in);
		free(cause);
		cause = NULL;
		if (c.req == CTL_GET_ACK)
			status = ctl_get_ack(&c);
		else
			ctl_print(&c);
	}
	goto out;
fail:
	status = ctl_fails(&c, cause);
out:
	if (fflush(stdout) == EOF && status == 0) {
		log_warn("standard output");
		status = 1;
	}
	if (c.fd != -1)
		close(c.fd);
	ctl_conn_forget(&c);
	buf_release(&c.in);
	return status;
}
