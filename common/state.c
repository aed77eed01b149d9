/*
 * state.c: SPOOL/state/WIKI, whether a wiki is up, as ws-login records it
 * and ws-status reports it.
 *
 * key=value lines: state (up or down), since, previous (when the state
 * before began), last_ok, last_error, code, checked, reported.  Written
 * whole by ws-login (atomic_write); a missing or unreadable file reads as
 * "never checked" (up = -1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"

void
wikistate_read(int dir, const char *name, struct wikistate *st)
{
	char *text, *line, *save = NULL, *eq;
	size_t len;
	long long n;
	int fd;

	memset(st, 0, sizeof(*st));
	st->up = -1;
	if (dir == -1 || (fd = openat(dir, name, O_RDONLY | O_CLOEXEC |
	    O_NOFOLLOW)) == -1)
		return;
	text = read_all(fd, 64 * 1024, &len);
	close(fd);
	if (text == NULL)
		return;
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if ((eq = strchr(line, '=')) == NULL)
			continue;
		*eq++ = '\0';
		n = strtoll(eq, NULL, 10);
		if (strcmp(line, "state") == 0)
			st->up = strcmp(eq, "up") == 0;
		else if (strcmp(line, "since") == 0)
			st->since = n;
		else if (strcmp(line, "previous") == 0)
			st->previous = n;
		else if (strcmp(line, "last_ok") == 0)
			st->last_ok = n;
		else if (strcmp(line, "checked") == 0)
			st->checked = n;
		else if (strcmp(line, "reported") == 0)
			st->reported = n;
		else if (strcmp(line, "code") == 0)
			st->code = (int)n;
		else if (strcmp(line, "last_error") == 0)
			strlcpy(st->error, eq, sizeof(st->error));
	}
	free(text);
}

/* A span of seconds for people: 42s, 7m37s, 3h05m, 2d4h. */
void
duration(long long s, char *buf, size_t len)
{
	if (s < 0)
		s = 0;
	if (s < 60)
		snprintf(buf, len, "%llds", s);
	else if (s < 3600)
		snprintf(buf, len, "%lldm%llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(buf, len, "%lldh%lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(buf, len, "%lldd%lldh", s / 86400, s % 86400 / 3600);
}
