/*
 * recv.c: ws-recv, turn a wiki's notification mail into a job.
 *
 * Exim's pipe transport runs it with one message on stdin and acts only on
 * the exit code.  0: the job is in queue/new, or the mail is no notification
 * of a configured wiki and is kept in bad/ with one log line (a bounce would
 * tell nobody anything useful).  75 (EX_TEMPFAIL): anything that may pass,
 * config errors included, so Exim keeps the mail and tries again.  64: bad
 * usage only.  The mail is a trigger: it names a wiki and a page, nothing in
 * it is ever written to a wiki, and the title is only ever a job field.
 * Invariants: stdin is always read to its end, but only its first MAIL_KEEP
 * bytes are kept, so memory stays bounded whatever comes; a job or a kept
 * mail appears whole (tmp, fsync, rename) or not at all; bad/ holds at most
 * BAD_MAX files, each at most MAIL_KEEP bytes.
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"
#include "mail.h"

#define BAD_MAX		100
#define DEDUP_MAX	100	/* newest jobs in new/ looked at for the page */
#define TMP_STALE	3600

static const char usage[] = "[-nqv] [-c file] [-d dir]";

/* Keep the first max bytes of stdin in buf, read and drop the rest. */
static size_t
read_mail(char *buf, size_t max, unsigned long long *total)
{
	char junk[65536];
	size_t len = 0;
	ssize_t n;

	*total = 0;
	for (;;) {
		if (len < max)
			n = read(STDIN_FILENO, buf + len, max - len);
		else
			n = read(STDIN_FILENO, junk, sizeof(junk));
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			die(EX_TEMPFAIL, "stdin");
		if (n == 0)
			break;
		if (len < max)
			len += (size_t)n;
		*total += (unsigned long long)n;
	}
	return len;
}

/* The config as ws_conf() finds it, but every error is temporary here. */
static struct conf *
load_conf(void)
{
	const char *path = wsopt.conf;
	struct conf *c;
	char err[512];
	int required = 1;

	if (path == NULL)
		path = getenv("WIKISYNC_CONF");
	if (path == NULL || *path == '\0') {
		path = DEFAULT_CONF;
		required = 0;
	}
	c = conf_read(path, err, sizeof(err));
	if (c == NULL && !required && errno == ENOENT)
		c = conf_read(NULL, err, sizeof(err));
	if (c == NULL)
		diex(EX_TEMPFAIL, "%s", err);
	ws_syslog_open(c->syslog);
	if (conf_unconfigured(c))
		diex(EX_TEMPFAIL, "%s: not configured yet: it names no wiki; "
		    "the mail waits in Exim's queue", c->path);
	if (c->nwikis == 0)
		diex(EX_TEMPFAIL, "%s: no wiki configured",
		    c->path ? c->path : path);
	return c;
}

/* An edit's event: none, created or changed. */
static int
edit_event(const char *ev)
{
	return ev == NULL || *ev == '\0' || strcmp(ev, "created") == 0 ||
	    strcmp(ev, "changed") == 0;
}

/*
 * A job for this wiki and page, due now, already waits in new/: its id.
 * Only one of the same kind of event: an edit's mail is not a queued
 * move's or deletion's (after a move, the old title may be a new page of
 * its own, which only its own job reads), nor the other way round.
 */
static int
waiting(struct spool *sp, const char *wiki, const char *title,
    const char *event, char *id, size_t idlen, size_t *nnew)
{
	struct stat st;
	struct job j;
	const char *w, *t, *ev;
	char **ids;
	size_t n, i;
	time_t now = time(NULL);
	uint32_t tag = job_tag(wiki, title);
	int found = 0;

	*nnew = 0;
	if (spool_ids(sp, Q_NEW, &ids, &n) == -1)
		return 0;
	*nnew = n;
	for (i = n; i > 0 && i + DEDUP_MAX > n && !found; i--) {
		/* another page's, by its name: not read */
		if (!job_id_may_be(ids[i - 1], tag))
			continue;
		if (fstatat(sp->dir[Q_NEW], ids[i - 1], &st,
		    AT_SYMLINK_NOFOLLOW) == -1 || st.st_mtime > now)
			continue;
		if (job_load(sp, ids[i - 1], &j) == -1)
			continue;
		w = job_get(&j, "wiki");
		t = job_get(&j, "title");
		ev = job_get(&j, "event");
		/* one being folded into a running job reads nothing more */
		if (j.state == Q_NEW && w != NULL && t != NULL &&
		    job_get(&j, "folding") == NULL &&
		    strcmp(w, wiki) == 0 && strcmp(t, title) == 0 &&
		    (edit_event(ev) ? edit_event(event) :
		    strcmp(ev, event) == 0)) {
			strlcpy(id, j.id, idlen);
			found = 1;
		}
		job_free(&j);
	}
	spool_ids_free(ids, n);
	return found;
}

static void
enqueue(struct spool *sp, const struct conf *c, const struct notice *nt)
{
	const char *wiki = c->wikis[nt->wiki].name, *to;
	struct job j;
	char num[32], id[sizeof(j.id)];
	size_t nnew;

	if (waiting(sp, wiki, nt->title, nt->event, id, sizeof(id), &nnew)) {
		ws_log(LOG_DEBUG, "%s: %s: already queued as %s", wiki,
		    nt->title, id);
		if (wsopt.verbose)
			printf("%s\n", id);
		return;
	}
	/* a flood of mail waits in Exim's queue, not in the spool */
	if (nnew >= (size_t)c->queuemax)
		diex(EX_TEMPFAIL, "%s: %s: %zu jobs wait already (queue-max): "
		    "the mail stays with Exim", wiki, nt->title, nnew);
	memset(&j, 0, sizeof(j));
	job_set(&j, "wiki", wiki);
	job_set(&j, "title", nt->title);
	if (nt->event[0] != '\0')
		job_set(&j, "event", nt->event);
	if (nt->oldid[0] != '\0')
		job_set(&j, "oldid", nt->oldid);
	if (nt->msgid[0] != '\0')
		job_set(&j, "msgid", nt->msgid);
	/* the address the wiki mailed, as Exim's pipe says: ws-push knows
	   this host by it (a group's peerd) */
	if ((to = getenv("RECIPIENT")) != NULL && strlen(to) < 256 &&
	    strchr(to, '@') != NULL && strpbrk(to, " \t<>") == NULL &&
	    job_val_valid(to))
		job_set(&j, "to", to);
	snprintf(num, sizeof(num), "%lld", (long long)time(NULL));
	job_set(&j, "received", num);
	job_set(&j, "attempts", "0");
	if (job_add(sp, &j) == -1)
		die(EX_TEMPFAIL, "%s/queue", sp->path);
	ws_log(LOG_DEBUG, "%s: %s: queued as %s", wiki, nt->title, j.id);
	if (wsopt.verbose)
		printf("%s\n", j.id);
	job_free(&j);
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Leave the newest BAD_MAX kept mails, and no stale tmp file. */
static void
prune_bad(int dir)
{
	struct dirent *de;
	struct stat st;
	DIR *d;
	char **names = NULL;
	size_t n = 0, i;
	time_t now = time(NULL);
	int fd;

	if ((fd = dup(dir)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".tmp.", 5) == 0) {
			if (fstatat(dir, de->d_name, &st,
			    AT_SYMLINK_NOFOLLOW) == 0 &&
			    st.st_ctime + TMP_STALE < now)
				unlinkat(dir, de->d_name, 0);
			continue;
		}
		if (de->d_name[0] == '.')
			continue;
		names = xreallocarray(names, n + 1, sizeof(*names));
		names[n++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (n > BAD_MAX) {
		qsort(names, n, sizeof(*names), cmpstr);
		for (i = 0; i < n - BAD_MAX; i++)
			if (unlinkat(dir, names[i], 0) == -1 && errno != ENOENT)
				ws_log(LOG_WARNING, "bad/%s: %s", names[i],
				    strerror(errno));
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Keep the mail in spool/bad/ for an operator to look at; its name. */
static void
keep_bad(struct spool *sp, const char *buf, size_t len, char *name,
    size_t namelen)
{
	struct afile af;
	struct timeval tv;
	int dir, tries;

	if (mkdirat(sp->root, "bad", 0750) == -1 && errno != EEXIST)
		die(EX_TEMPFAIL, "%s/bad", sp->path);
	if ((dir = openat(sp->root, "bad", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		die(EX_TEMPFAIL, "%s/bad", sp->path);
	for (tries = 0; tries < 100; tries++) {
		gettimeofday(&tv, NULL);
		snprintf(name, namelen, "%010lld.%06ld.%d.%04x",
		    (long long)tv.tv_sec, (long)tv.tv_usec, (int)getpid(),
		    arc4random() & 0xffff);
		if (afile_open(&af, dir, dir, name, 0640, AF_NOREPLACE) == -1)
			die(EX_TEMPFAIL, "%s/bad", sp->path);
		if (len > 0 && fwrite(buf, 1, len, af.fp) != len) {
			afile_abort(&af);
			die(EX_TEMPFAIL, "%s/bad", sp->path);
		}
		if (afile_commit(&af) == 0)
			break;
		if (errno != EEXIST)
			die(EX_TEMPFAIL, "%s/bad", sp->path);
	}
	if (tries == 100)
		die(EX_TEMPFAIL, "%s/bad", sp->path);
	prune_bad(dir);
	close(dir);
}

static void
print_notice(const struct conf *c, const struct notice *nt)
{
	printf("wiki=%s\ntitle=%s\n", c->wikis[nt->wiki].name, nt->title);
	if (nt->event[0] != '\0')
		printf("event=%s\n", nt->event);
	if (nt->oldid[0] != '\0')
		printf("oldid=%s\n", nt->oldid);
	if (nt->msgid[0] != '\0')
		printf("msgid=%s\n", nt->msgid);
}

int
recv_main(int argc, char **argv)
{
	struct spool sp;
	struct notice nt;
	struct conf *c;
	unsigned long long total;
	const char *path;
	char *buf, name[64];
	size_t len;
	int ch, dry = 0;

	while ((ch = getopt(argc, argv, "+n" WS_OPTS)) != -1) {
		if (ch == 'n')
			dry = 1;
		else
			ws_opt(ch, optarg, usage);
	}
	if (optind != argc)
		ws_usage(usage, EX_USAGE);
	if ((buf = malloc(MAIL_KEEP)) == NULL)
		die(EX_TEMPFAIL, "malloc");
	len = read_mail(buf, MAIL_KEEP, &total);
	c = load_conf();
	if (mail_notice(c, buf, len, &nt) == -1)
		die(EX_TEMPFAIL, "reading the mail");
	if (dry) {
		if (nt.status != NOTICE_OK)
			diex(EX_DATAERR, "not queued: %s", nt.why);
		print_notice(c, &nt);
		conf_free(c);
		free(buf);
		return 0;
	}
	if ((path = wsopt.spool) == NULL &&
	    ((path = getenv("WIKISYNC_SPOOL")) == NULL || *path == '\0'))
		path = c->spool;
	/* queue/tmp and queue/new only: see wikisync(7), Users */
	if (spool_open_add(&sp, path) == -1)
		spool_die(path);
	if (nt.status == NOTICE_OK)
		enqueue(&sp, c, &nt);
	else {
		keep_bad(&sp, buf, len, name, sizeof(name));
		ws_log(LOG_NOTICE, "not queued: %s; kept as %s/bad/%s%s",
		    nt.why, sp.path, name, total > len ? " (cut at 1 MB)" : "");
	}
	spool_close(&sp);
	conf_free(c);
	free(buf);
	return 0;
}
