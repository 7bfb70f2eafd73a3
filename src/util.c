/*
 * Parsers of small values from manifests and command lines. Pure
 * functions, no I/O: they are the first thing the fuzzers reach.
 */
#include "config.h"

#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util.h"
#include "xmalloc.h"

/* One hundred years: longer durations are surely mistakes. */
#define DURATION_MAX_MS	(100ULL * 365 * 24 * 3600 * 1000)

int
util_parse_duration(const char *s, uint64_t *ms, const char **errstr)
{
	uint64_t	 whole = 0, frac = 0, fracdiv = 1, mult;
	const char	*p = s;
	long double	 v;

	*errstr = NULL;
	if (s == NULL || *s == '\0') {
		*errstr = "empty duration";
		return -1;
	}
	if (!isdigit((unsigned char)*p)) {
		*errstr = "a duration starts with a digit";
		return -1;
	}
	for (; isdigit((unsigned char)*p); p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > DURATION_MAX_MS) {
			*errstr = "duration too large";
			return -1;
		}
	}
	if (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p)) {
			*errstr = "expected digits after the decimal point";
			return -1;
		}
		for (; isdigit((unsigned char)*p); p++) {
			if (fracdiv < 1000000000ULL) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				fracdiv *= 10;
			}
		}
	}
	if (*p == '\0' || strcmp(p, "s") == 0)
		mult = 1000;
	else if (strcmp(p, "ms") == 0)
		mult = 1;
	else if (strcmp(p, "m") == 0)
		mult = 60 * 1000;
	else if (strcmp(p, "h") == 0)
		mult = 3600 * 1000;
	else {
		*errstr = "unknown duration unit (use ms, s, m or h)";
		return -1;
	}
	v = (long double)whole * mult + (long double)frac * mult / fracdiv;
	if (v > DURATION_MAX_MS) {
		*errstr = "duration too large";
		return -1;
	}
	*ms = (uint64_t)(v + 0.5L);
	return 0;
}

void
util_format_duration(uint64_t ms, char *buf, size_t len)
{
	if (ms == 0)
		snprintf(buf, len, "0s");
	else if (ms % 3600000 == 0)
		snprintf(buf, len, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0)
		snprintf(buf, len, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		snprintf(buf, len, "%llus", (unsigned long long)(ms / 1000));
	else if (ms > 1000 && ms % 100 == 0)
		snprintf(buf, len, "%llu.%llus", (unsigned long long)(ms / 1000),
		    (unsigned long long)(ms % 1000 / 100));
	else
		snprintf(buf, len, "%llums", (unsigned long long)ms);
}

static const struct {
	const char	*name;
	int		 number;
} util_signals[] = {
	{ "HUP", SIGHUP }, { "INT", SIGINT }, { "QUIT", SIGQUIT },
	{ "ILL", SIGILL }, { "TRAP", SIGTRAP }, { "ABRT", SIGABRT },
	{ "BUS", SIGBUS }, { "FPE", SIGFPE }, { "KILL", SIGKILL },
	{ "USR1", SIGUSR1 }, { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM }, { "TERM", SIGTERM },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT }, { "STOP", SIGSTOP },
	{ "TSTP", SIGTSTP }, { "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },
	{ "URG", SIGURG }, { "XCPU", SIGXCPU }, { "XFSZ", SIGXFSZ },
	{ "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO }, { "SYS", SIGSYS },
};

int
util_parse_signal(const char *s, int *sig, const char **errstr)
{
	const char	*name = s;
	uint64_t	 n;
	size_t		 i;

	*errstr = NULL;
	if (s == NULL || *s == '\0') {
		*errstr = "empty signal name";
		return -1;
	}
	if (isdigit((unsigned char)*s)) {
		if (util_parse_uint(s, 1, 64, &n, errstr) == -1) {
			*errstr = "signal number out of range";
			return -1;
		}
		*sig = (int)n;
		return 0;
	}
	if (strncasecmp(name, "SIG", 3) == 0)
		name += 3;
	/* "SIG49" is how util_signal_name prints a signal without a name. */
	if (name != s && isdigit((unsigned char)*name))
		return util_parse_signal(name, sig, errstr);
	for (i = 0; i < sizeof util_signals / sizeof util_signals[0]; i++) {
		if (strcasecmp(name, util_signals[i].name) == 0) {
			*sig = util_signals[i].number;
			return 0;
		}
	}
	*errstr = "unknown signal";
	return -1;
}

const char *
util_signal_name(int sig, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; i < sizeof util_signals / sizeof util_signals[0]; i++)
		if (util_signals[i].number == sig)
			return util_signals[i].name;
	snprintf(buf, len, "SIG%d", sig);
	return buf;
}

int
util_parse_uint(const char *s, uint64_t min, uint64_t max, uint64_t *out,
    const char **errstr)
{
	uint64_t	v = 0;
	const char	*p;

	*errstr = NULL;
	if (s == NULL || *s == '\0') {
		*errstr = "empty number";
		return -1;
	}
	for (p = s; *p != '\0'; p++) {
		if (!isdigit((unsigned char)*p)) {
			*errstr = "not a non-negative integer";
			return -1;
		}
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10) {
			*errstr = "number too large";
			return -1;
		}
		v = v * 10 + (uint64_t)(*p - '0');
	}
	if (v < min) {
		*errstr = "number too small";
		return -1;
	}
	if (v > max) {
		*errstr = "number too large";
		return -1;
	}
	*out = v;
	return 0;
}

int
util_parse_size(const char *s, uint64_t *out, const char **errstr)
{
	static const struct {
		const char	*suffix;
		uint64_t	 mult;
	} units[] = {
		{ "", 1 }, { "b", 1 }, { "k", 1024 }, { "kb", 1024 },
		{ "kib", 1024 }, { "m", 1024 * 1024 }, { "mb", 1024 * 1024 },
		{ "mib", 1024 * 1024 }, { "g", 1024ULL * 1024 * 1024 },
		{ "gb", 1024ULL * 1024 * 1024 }, { "gib", 1024ULL * 1024 * 1024 },
	};
	char		 digits[32];
	size_t		 n, i;
	uint64_t	 v;

	*errstr = NULL;
	if (s == NULL)
		s = "";
	n = strspn(s, "0123456789");
	if (n == 0 || n >= sizeof digits) {
		*errstr = "expected a size such as 4096, 64k or 10MiB";
		return -1;
	}
	memcpy(digits, s, n);
	digits[n] = '\0';
	if (util_parse_uint(digits, 0, UINT64_MAX, &v, errstr) == -1)
		return -1;
	for (i = 0; i < sizeof units / sizeof units[0]; i++) {
		if (strcasecmp(s + n, units[i].suffix) != 0)
			continue;
		if (v > UINT64_MAX / units[i].mult) {
			*errstr = "size too large";
			return -1;
		}
		*out = v * units[i].mult;
		return 0;
	}
	*errstr = "unknown size unit (use k, M or G, optionally with iB)";
	return -1;
}

int
util_is_valid_name(const char *s)
{
	if (s == NULL || *s == '\0')
		return 0;
	for (; *s != '\0'; s++) {
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '.' &&
		    *s != '-')
			return 0;
	}
	return 1;
}

/*
 * Edits between a and b: insertions, deletions, substitutions and swaps
 * of two adjacent characters (the optimal string alignment distance), so
 * that "jbos" is one typo away from "jobs", not two. Three rows of the
 * classic table: the swap looks two rows back.
 */
size_t
util_edit_distance(const char *a, const char *b)
{
	size_t	 la = strlen(a), lb = strlen(b), i, j, *rows, *r0, *r1, *r2;
	size_t	*tmp, best;

	rows = xcalloc(3 * (lb + 1), sizeof *rows);
	r0 = rows;			/* row i - 2 */
	r1 = rows + lb + 1;		/* row i - 1 */
	r2 = rows + 2 * (lb + 1);	/* row i */
	for (j = 0; j <= lb; j++)
		r1[j] = j;
	for (i = 1; i <= la; i++) {
		r2[0] = i;
		for (j = 1; j <= lb; j++) {
			best = r1[j - 1] + (a[i - 1] != b[j - 1]);
			if (r1[j] + 1 < best)
				best = r1[j] + 1;
			if (r2[j - 1] + 1 < best)
				best = r2[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && r0[j - 2] + 1 < best)
				best = r0[j - 2] + 1;
			r2[j] = best;
		}
		tmp = r0;
		r0 = r1;
		r1 = r2;
		r2 = tmp;
	}
	best = r1[lb];
	free(rows);
	return best;
}

/*
 * A suggestion is offered when the edit distance is at most a third of the
 * word's length (at least 1, at most 3): close enough to be a typo, far
 * enough that short words do not match everything.
 */
const char *
util_did_you_mean(const char *word, const char *const *candidates)
{
	const char	*best = NULL;
	size_t		 bestd = (size_t)-1, d, limit;

	limit = strlen(word) / 3;
	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	for (; *candidates != NULL; candidates++) {
		d = util_edit_distance(word, *candidates);
		if (d < bestd) {
			bestd = d;
			best = *candidates;
		}
	}
	return bestd <= limit ? best : NULL;
}

/* ppid and pgrp of a process from /proc/PID/stat; -1 if it is gone. */
int
util_proc_stat(pid_t pid, pid_t *ppid, pid_t *pgrp)
{
	char		 path[64], buf[512], *p;
	ssize_t		 n;
	long		 pp, pg;
	int		 fd;

	snprintf(path, sizeof path, "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof buf - 1);
	(void)close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid pgrp ...": comm may hold ')' itself. */
	if ((p = strrchr(buf, ')')) == NULL ||
	    sscanf(p + 1, " %*c %ld %ld", &pp, &pg) != 2)
		return -1;
	*ppid = (pid_t)pp;
	*pgrp = (pid_t)pg;
	return 0;
}

int
util_connect_unix(const char *path)
{
	struct sockaddr_un	sun;
	int			fd, r, saved;

	if (strlen(path) >= sizeof sun.sun_path) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	memset(&sun, 0, sizeof sun);
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	do
		r = connect(fd, (struct sockaddr *)&sun, sizeof sun);
	while (r == -1 && errno == EINTR);
	if (r == 0)
		return fd;
	saved = errno;
	(void)close(fd);
	errno = saved;
	return -1;
}

uint64_t
util_now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_REALTIME, &ts) == -1)
		return 0;
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int
util_parse_id(const char *s, unsigned long *id)
{
	char	*end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*id = strtoul(s, &end, 10);
	if (*end != '\0' || errno != 0 || *id >= (unsigned long)(uid_t)-1)
		return -1;
	return 0;
}

/*
 * What glibc's regcomp costs, estimated from the text of an extended
 * regex. A repetition copies what it applies to (x+ is x x*, x{3} is
 * x x x), so stacked or nested repetitions grow the tree exponentially,
 * and the empty transitions of optional parts cost time quadratic in
 * their number: more than UTIL_REGEX_MAX_NODES nodes are refused (5000
 * keep regcomp under a tenth of a second on the worst inputs a random
 * search found). A loop (*, +, {n,}) over what can match nothing, such
 * as (a*)+, makes a cycle of empty transitions whose copies took seconds
 * at a few hundred nodes; it never says more than the loop alone, and is
 * refused, as are two repetition operators in a row (undefined in POSIX).
 */
#define UTIL_REGEX_MAX_NODES	5000
#define UTIL_REGEX_MAX_LEN	4096
#define UTIL_REGEX_MAX_DEPTH	32

/* A group being read: its nodes, and whether it can match nothing. */
struct util_regex_group {
	uint64_t	nodes;
	int		branch_null;	/* every atom of this branch so far */
	int		some_null;	/* a finished branch was nullable */
};

int
util_regex_is_tame(const char *re, const char **errstr)
{
	struct util_regex_group	 g[UTIL_REGEX_MAX_DEPTH + 1];
	uint64_t		 last = 0, lo, hi, f;
	size_t			 i, depth = 0;
	int			 last_null = 0, last_rep = 0, unbounded;
	char			*end;

	if (strlen(re) > UTIL_REGEX_MAX_LEN) {
		*errstr = "longer than 4096 bytes";
		return -1;
	}
	memset(&g[0], 0, sizeof g[0]);
	g[0].branch_null = 1;
	for (i = 0; re[i] != '\0'; i++) {
		if (re[i] == '|') {
			if (last > 0)
				g[depth].branch_null &= last_null;
			g[depth].some_null |= g[depth].branch_null;
			g[depth].branch_null = 1;
			last = 0;
			last_rep = 0;
			continue;
		}
		if (re[i] == ')' && depth > 0) {
			if (last > 0)
				g[depth].branch_null &= last_null;
			last = g[depth].nodes + 1;
			last_null = g[depth].branch_null || g[depth].some_null;
			depth--;
			g[depth].nodes += last;
			last_rep = 0;
			continue;
		}
		if (strchr("*?+{", re[i]) == NULL) {
			/* An atom (a lone ")" too): the one before is done. */
			if (last > 0)
				g[depth].branch_null &= last_null;
			last_rep = 0;
			if (re[i] == '(') {
				if (depth == UTIL_REGEX_MAX_DEPTH) {
					*errstr = "groups nested more than 32 "
					    "deep";
					return -1;
				}
				depth++;
				memset(&g[depth], 0, sizeof g[depth]);
				g[depth].branch_null = 1;
				last = 0;
				continue;
			}
			if (re[i] == '\\' && re[i + 1] != '\0')
				i++;
			else if (re[i] == '[') {
				/* A bracket expression is one node. */
				i++;
				if (re[i] == '^')
					i++;
				if (re[i] == ']')
					i++;
				while (re[i] != '\0' && re[i] != ']') {
					if (re[i] == '[' && (re[i + 1] == ':' ||
					    re[i + 1] == '=' ||
					    re[i + 1] == '.')) {
						end = strchr(re + i + 2, ']');
						if (end == NULL)
							break;
						i = (size_t)(end - re);
					}
					i++;
				}
				if (re[i] == '\0')
					i--;
			}
			last = 1;
			last_null = 0;
			g[depth].nodes += 1;
			continue;
		}

		/* A repetition of the last atom (none: a literal to regcomp). */
		if (last_rep) {
			*errstr = "two repetition operators in a row (undefined "
			    "in POSIX: write one)";
			return -1;
		}
		lo = re[i] == '+' ? 1 : 0;
		unbounded = re[i] != '?';
		f = re[i] == '+' ? 2 : 1;
		if (re[i] == '{') {
			lo = strtoull(re + i + 1, &end, 10);
			hi = lo;
			unbounded = 0;
			if (*end == ',') {
				if (end[1] == '}') {
					hi = lo + 1;
					unbounded = 1;
				} else
					hi = strtoull(end + 1, &end, 10);
			}
			if (hi > 1000) {
				*errstr = "a repetition count over 1000";
				return -1;
			}
			if ((end = strchr(re + i, '}')) != NULL)
				i = (size_t)(end - re);
			f = hi > 1 ? hi : 1;
		}
		if (last == 0)
			continue;
		last_rep = 1;
		if (unbounded && last_null) {
			*errstr = "a loop (*, + or {n,}) over what can match "
			    "nothing, such as (a*)+: write it without one of "
			    "the two";
			return -1;
		}
		if (f > 1) {
			g[depth].nodes += last * (f - 1);
			last *= f;
		}
		if (lo == 0)
			last_null = 1;
		if (last > UTIL_REGEX_MAX_NODES || g[depth].nodes >
		    UTIL_REGEX_MAX_NODES) {
			*errstr = "too costly to compile (nested or stacked "
			    "repetitions)";
			return -1;
		}
	}
	return 0;
}
