/*
 * metrics.c: ws-status -m, the state in Prometheus's text exposition
 * format, for the node exporter's textfile collector.  Times are
 * timestamps, as Prometheus prefers, so the file is right however long
 * ago it was written; what is unknown has no sample.
 */
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "status.h"

/* printf into a buf. */
static void
bufp(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
bufp(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	buf_str(b, p);
	free(p);
}

/* A metric's HELP and TYPE lines. */
static void
metric(struct buf *b, const char *name, const char *type, const char *help)
{
	bufp(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/*
 * A label value: wiki and group names are [A-Za-z0-9_.-] (wikisync.conf
 * (5)), but a backslash, quote or newline would be escaped as the text
 * format says.
 */
static void
label(struct buf *b, const char *v)
{
	for (; *v != '\0'; v++)
		if (*v == '\\' || *v == '"')
			bufp(b, "\\%c", *v);
		else if (*v == '\n')
			buf_str(b, "\\n");
		else
			buf_add(b, v, 1);
}

/* What a per-wiki gauge reports of a wiki. */
enum wiki_fact { WIKI_UP, WIKI_LAST_OK, WIKI_CHECKED };

/* A gauge with one sample per wiki; a wiki whose fact is unknown has none. */
static void
wiki_gauge(struct buf *b, const struct status *s, enum wiki_fact f,
    const char *name, const char *help)
{
	const struct wstate *w;
	long long v = 0;
	size_t i;

	metric(b, name, "gauge", help);
	for (i = 0; i < s->nws; i++) {
		w = &s->ws[i];
		switch (f) {
		case WIKI_UP:
			if ((v = w->up) == -1)
				continue;
			break;
		case WIKI_LAST_OK:
			if ((v = w->last_ok) == 0)
				continue;
			break;
		case WIKI_CHECKED:
			if ((v = w->checked) == 0)
				continue;
			break;
		}
		bufp(b, "%s{wiki=\"", name);
		label(b, w->w->name);
		bufp(b, "\"} %lld\n", v);
	}
}

/*
 * The state as metrics in Prometheus's text exposition format, for the
 * node exporter's textfile collector: times as timestamps (seconds since
 * the epoch), as Prometheus prefers, so that the file is right however
 * long ago it was written; what is unknown is left out.
 */
static void
metrics(const struct status *s, const struct conf *c, struct buf *b)
{
	size_t i;

	wiki_gauge(b, s, WIKI_UP, "wikisync_wiki_up", "Whether the wiki "
	    "answered the sync user at its last check (ws-login).");
	wiki_gauge(b, s, WIKI_LAST_OK,
	    "wikisync_wiki_last_success_timestamp_seconds",
	    "When a request as the sync user last succeeded on the wiki.");
	wiki_gauge(b, s, WIKI_CHECKED,
	    "wikisync_wiki_checked_timestamp_seconds", "When the wiki was last checked.");
	metric(b, "wikisync_jobs", "gauge", "Jobs in the queue by state: due "
	    "now, waiting for a later try, running, held for a person.");
	bufp(b, "wikisync_jobs{state=\"due\"} %zu\n", s->due);
	bufp(b, "wikisync_jobs{state=\"waiting\"} %zu\n", s->waiting);
	bufp(b, "wikisync_jobs{state=\"running\"} %zu\n", s->running);
	bufp(b, "wikisync_jobs{state=\"held\"} %zu\n", s->nheld);
	metric(b, "wikisync_jobs_done_total", "counter", "Jobs done: every "
	    "wiki verified to hold the text.");
	bufp(b, "wikisync_jobs_done_total %lld\n", s->counts[COUNT_DONE]);
	metric(b, "wikisync_jobs_deferred_total", "counter", "Job runs that "
	    "ended deferred, to be tried again (a wiki down, say).");
	bufp(b, "wikisync_jobs_deferred_total %lld\n",
	    s->counts[COUNT_DEFERRED]);
	metric(b, "wikisync_jobs_held_total", "counter", "Jobs held for a "
	    "person.");
	bufp(b, "wikisync_jobs_held_total %lld\n", s->counts[COUNT_HELD]);
	metric(b, "wikisync_oldest_job_timestamp_seconds", "gauge", "When "
	    "the oldest job in the queue was made; absent with none.");
	if (s->oldest > 0)
		bufp(b, "wikisync_oldest_job_timestamp_seconds %lld\n",
		    s->oldest);
	metric(b, "wikisync_not_jobs", "gauge", "Files set aside in the "
	    "queue's bad directory: no job could be made of them.");
	bufp(b, "wikisync_not_jobs %zu\n", s->bad);
	metric(b, "wikisync_refused_mails", "gauge", "Mails ws-recv refused "
	    "and kept in the spool's bad directory.");
	bufp(b, "wikisync_refused_mails %zu\n", s->refused);
	metric(b, "wikisync_loop_running", "gauge", "Whether ws-peerd runs "
	    "on the spool.");
	bufp(b, "wikisync_loop_running %d\n", s->loop == 1);
	metric(b, "wikisync_loop_start_timestamp_seconds", "gauge", "When the "
	    "running ws-peerd started.");
	if (s->loop == 1 && s->loopsince > 0)
		bufp(b, "wikisync_loop_start_timestamp_seconds %lld\n",
		    s->loopsince);
	if (c->groupswiki != NULL) {
		metric(b, "wikisync_groups_page_refused", "gauge", "Whether "
		    "the groups page's newest version was refused.");
		bufp(b, "wikisync_groups_page_refused %d\n",
		    s->gerr[0] != '\0');
	}
	metric(b, "wikisync_group_last_sync_timestamp_seconds", "gauge",
	    "When a page of the group was last synced; absent: never.");
	for (i = 0; i < c->ngroups; i++) {
		if (s->last == NULL || s->last[i].time == 0)
			continue;
		buf_str(b, "wikisync_group_last_sync_timestamp_seconds"
		    "{group=\"");
		label(b, c->groups[i].name);
		bufp(b, "\"} %lld\n", s->last[i].time);
	}
	if (s->cfasked) {
		metric(b, "wikisync_pages_in_conflict", "gauge", "Pages in the "
		    "conflict category, by wiki (-w).");
		for (i = 0; i < s->nws; i++) {
			size_t k, n = 0;

			if (s->ws[i].up != 1)
				continue;
			for (k = 0; k < s->ncf; k++)
				n += strcmp(s->cf[k].wiki, s->ws[i].w->name)
				    == 0;
			buf_str(b, "wikisync_pages_in_conflict{wiki=\"");
			label(b, s->ws[i].w->name);
			bufp(b, "\"} %zu\n", n);
		}
	}
}

/*
 * -m FILE: the metrics written to FILE atomically (a temporary file
 * beside it, renamed over it), so a collector never reads half of it;
 * "-": standard output.
 */
void
metrics_write(const struct status *s, const struct conf *c, const char *path)
{
	struct buf b = { 0 };
	char dir[4096];
	const char *name;
	int fd;

	metrics(s, c, &b);
	if (strcmp(path, "-") == 0) {
		if (fwrite(b.p, 1, b.len, stdout) != b.len || fflush(stdout))
			die(EX_IOERR, "stdout");
		buf_free(&b);
		return;
	}
	if ((name = strrchr(path, '/')) == NULL) {
		strlcpy(dir, ".", sizeof(dir));
		name = path;
	} else {
		snprintf(dir, sizeof(dir), "%.*s", (int)(name - path) ?
		    (int)(name - path) : 1, path);
		name++;
	}
	if (*name == '\0')
		diex(EX_USAGE, "%s: not a file name", path);
	if ((fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		die(EX_CANTCREAT, "%s", dir);
	if (atomic_write(fd, name, b.p, b.len, 0644) == -1)
		die(EX_CANTCREAT, "%s", path);
	close(fd);
	buf_free(&b);
}

