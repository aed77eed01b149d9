/*
 * mem.c: allocation that cannot fail quietly, and bounded whole reads.
 *
 * Out of memory is a temporary condition for everything we run (Exim or
 * the peerd loop tries again), so it exits EX_TEMPFAIL.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"

char *
xstrdup(const char *s)
{
	char *p;

	if ((p = strdup(s)) == NULL)
		die(EX_TEMPFAIL, "strdup");
	return p;
}

/* (v)asprintf that cannot fail quietly: the string, to be freed. */
char *
xvasprintf(const char *fmt, va_list ap)
{
	char *p;

	if (vasprintf(&p, fmt, ap) == -1)
		die(EX_TEMPFAIL, "vasprintf");
	return p;
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p;

	if ((p = calloc(n, size)) == NULL)
		die(EX_TEMPFAIL, "calloc");
	return p;
}

void *
xreallocarray(void *q, size_t n, size_t size)
{
	void *p;

	if ((p = reallocarray(q, n, size)) == NULL && n != 0 && size != 0)
		die(EX_TEMPFAIL, "reallocarray");
	return p;
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	ssize_t n;

	while (len > 0) {
		if ((n = write(fd, p, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Read fd to its end, at most max bytes; NUL-terminated for convenience
 * (the length is what counts).  NULL with errno EFBIG when longer.
 */
char *
read_all(int fd, size_t max, size_t *lenp)
{
	size_t len = 0, cap = 8192;
	char *buf = NULL, *nb;
	ssize_t n;

	if ((buf = malloc(cap)) == NULL)
		return NULL;
	for (;;) {
		if (len + 1 == cap) {
			if (cap > max + 1) {
				free(buf);
				errno = EFBIG;
				return NULL;
			}
			if ((nb = realloc(buf, cap * 2)) == NULL) {
				free(buf);
				return NULL;
			}
			buf = nb;
			cap *= 2;
		}
		n = read(fd, buf + len, cap - len - 1);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			free(buf);
			return NULL;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > max) {
			free(buf);
			errno = EFBIG;
			return NULL;
		}
	}
	buf[len] = '\0';
	*lenp = len;
	return buf;
}

int
parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	if (*s == '\0')
		return -1;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}
