/*
 * log.c: one way to tell people what happened.
 *
 * Messages go to stderr as "prog: message"; with a syslog facility in the
 * config they go to syslog too.  -q hides LOG_NOTICE and below on stderr,
 * LOG_DEBUG shows only with -v.  die() and diex() are err(3) and errx(3)
 * that also reach syslog; the code they exit with is the caller's to pick
 * from sysexits(3), because Exim and cron act on it.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "wikisync.h"

static int logsys;

static const struct {
	const char	*name;
	int		 fac;
} facilities[] = {
	{ "daemon", LOG_DAEMON }, { "mail", LOG_MAIL }, { "user", LOG_USER },
	{ "local0", LOG_LOCAL0 }, { "local1", LOG_LOCAL1 },
	{ "local2", LOG_LOCAL2 }, { "local3", LOG_LOCAL3 },
	{ "local4", LOG_LOCAL4 }, { "local5", LOG_LOCAL5 },
	{ "local6", LOG_LOCAL6 }, { "local7", LOG_LOCAL7 },
};

int
syslog_facility(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(facilities) / sizeof(facilities[0]); i++)
		if (strcasecmp(name, facilities[i].name) == 0)
			return facilities[i].fac;
	return -1;
}

void
ws_syslog_open(const char *facility)
{
	int fac;

	if (facility == NULL || (fac = syslog_facility(facility)) == -1)
		return;
	openlog(getprogname(), LOG_PID, fac);
	logsys = 1;
}

void
ws_vlog(int prio, const char *fmt, va_list ap)
{
	va_list aq;

	if (logsys) {
		va_copy(aq, ap);
		vsyslog(prio, fmt, aq);
		va_end(aq);
	}
	if (prio == LOG_DEBUG && !wsopt.verbose)
		return;
	if (prio >= LOG_NOTICE && prio != LOG_DEBUG && wsopt.quiet)
		return;
	fflush(stdout);
	/* one line, whole, whichever thread of a job's replay writes it */
	flockfile(stderr);
	fprintf(stderr, "%s: ", getprogname());
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	funlockfile(stderr);
}

void
ws_log(int prio, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ws_vlog(prio, fmt, ap);
	va_end(ap);
}

/*
 * While threads run (mw_threaded), a fatal error ends the process with
 * _exit: exit handlers (saving sessions, flushing stdout) would run
 * under the other threads, on handles they are using.
 */
static volatile int fast;

void
ws_exit_fast(int on)
{
	fast = on;
}

static void __attribute__((noreturn))
leave(int ex)
{
	if (fast)
		_exit(ex);
	exit(ex);
}

/*
 * A time as every program prints it, for machines and operators alike:
 * UTC, ISO 8601, with its zone ("2026-12-07T04:10:03Z"); "-" for none
 * (t <= 0).  len: at least WS_TIMELEN.
 */
char *
ws_time(long long t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || gmtime_r(&tt, &tm) == NULL)
		strlcpy(buf, "-", len);
	else
		strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
	return buf;
}

void
die(int ex, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;
	int e = errno;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	ws_log(LOG_ERR, "%s: %s", msg, strerror(e));
	leave(ex);
}

void
diex(int ex, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ws_vlog(LOG_ERR, fmt, ap);
	va_end(ap);
	leave(ex);
}
