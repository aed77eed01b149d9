/*
 * status.c: ws-status, one table: the wikis, the queue, what waits for a
 * person, the last sync of each group.
 *
 * Sources, all local unless -w: SPOOL/state/WIKI as ws-login -k writes
 * it, the queue, the store's log (the newest finished record of any of a
 * group's wikis is the group's last sync) and its pointers (a page
 * deleted on a wiki and kept on the others, deletions = keep).  A page in conflict is one in
 * the category ws-push gives a merge that kept both sides; only the wikis
 * know when a person has resolved one, so -w asks each wiki not recorded
 * down for its members.  Held jobs are always shown.
 * -p writes the same as wikitext to a page, and only when the page's text
 * differs: that text holds no clock reading (no ages, no check times), so
 * a run that finds nothing new makes no revision.
 * Exit 1 when a person is needed: a wiki down, a job held, a page in
 * conflict, a groups page refused (SPOOL/groups.err, see ws-groups).
 */
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wikisync.h"
#include "diff.h"
#include "sync.h"
#include "status.h"

#define MAXCOL			6
#define MAXTABLE		11
#define PEERD_LOCK		"peerd.lock"

static const char usage[] =
    "[-qtvw] [-c file] [-d dir] [-m file] [-p wiki:page]";

/* A table for people: on a terminal, padded columns; on a wiki, wikitext. */
struct table {
	const char	*caption;
	size_t		 ncol;
	char		**cell;		/* row by row, the first the header */
	size_t		 ncell;
};

/*
 * SPOOL/groups.err: ws-groups refused the page's last version, since its
 * mtime; else SPOOL/groups.wiki, the version in force, since its mtime.
 */
static void
read_groups(struct status *s)
{
	char path[4096];
	struct stat st;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ws_spool(), GROUPS_ERR);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			die(EX_TEMPFAIL, "%s", path);
		snprintf(path, sizeof(path), "%s/%s", ws_spool(), GROUPS_COPY);
		if (stat(path, &st) == 0)
			s->gtime = st.st_mtime;
		return;
	}
	if (fstat(fd, &st) == -1 ||
	    (n = read(fd, s->gerr, sizeof(s->gerr) - 1)) == -1)
		die(EX_TEMPFAIL, "%s", path);
	close(fd);
	s->gerr[n] = '\0';
	s->gerr[strcspn(s->gerr, "\n")] = '\0';
	if (s->gerr[0] == '\0')
		strlcpy(s->gerr, "refused", sizeof(s->gerr));
	s->gtime = st.st_mtime;
}

/*
 * Does ws-peerd run on this spool?  It holds a flock on SPOOL/peerd.lock
 * for its life, and writes its pid and start time into the file.  The
 * lock is looked up in /proc/locks rather than tried: a try, however
 * short, could make a loop starting just then refuse to start.  (The
 * pid there is the flock(1) that took it, long gone: the file's is the
 * loop's.)
 */
static void
read_loop(struct status *s)
{
	char path[4096], line[256], dev[64];
	unsigned long long ino;
	struct stat st;
	FILE *fp;
	char *p;

	s->loop = -1;
	snprintf(path, sizeof(path), "%s/%s", ws_spool(), PEERD_LOCK);
	if ((fp = fopen(path, "re")) == NULL) {
		if (errno != ENOENT)
			die(EX_TEMPFAIL, "%s", path);
		return;
	}
	if (fstat(fileno(fp), &st) == -1)
		die(EX_TEMPFAIL, "%s", path);
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strncmp(line, "pid=", 4) == 0)
			s->looppid = strtoll(line + 4, NULL, 10);
		else if (strncmp(line, "since=", 6) == 0)
			s->loopsince = strtoll(line + 6, NULL, 10);
	}
	fclose(fp);
	s->loop = 0;
	/* "1: FLOCK  ADVISORY  WRITE 4711 08:01:1234 0 EOF" */
	snprintf(dev, sizeof(dev), "%02x:%02x:", major(st.st_dev),
	    minor(st.st_dev));
	if ((fp = fopen("/proc/locks", "re")) == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (strstr(line, " FLOCK ") == NULL ||
		    (p = strstr(line, dev)) == NULL)
			continue;
		ino = strtoull(p + strlen(dev), NULL, 10);
		if (ino == (unsigned long long)st.st_ino) {
			s->loop = 1;
			break;
		}
	}
	fclose(fp);
}

/* Mail ws-recv refused and kept in SPOOL/bad/: how many, the newest. */
static void
read_refused(struct status *s)
{
	char path[4096];
	struct dirent *de;
	struct stat st;
	DIR *d;

	snprintf(path, sizeof(path), "%s/bad", ws_spool());
	if ((d = opendir(path)) == NULL) {
		if (errno != ENOENT)
			die(EX_TEMPFAIL, "%s", path);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.' ||
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW)
		    == -1 || !S_ISREG(st.st_mode))
			continue;
		s->refused++;
		if (st.st_mtime > s->refusedlast)
			s->refusedlast = st.st_mtime;
	}
	closedir(d);
}

static void
read_wikis(const struct conf *c, struct status *s)
{
	struct wikistate st;
	char path[4096];
	size_t i;
	int dir;

	snprintf(path, sizeof(path), "%s/state", ws_spool());
	if ((dir = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 &&
	    errno != ENOENT)
		die(EX_TEMPFAIL, "%s", path);
	s->nws = c->nwikis;
	s->ws = xcalloc(s->nws ? s->nws : 1, sizeof(*s->ws));
	for (i = 0; i < s->nws; i++) {
		s->ws[i].w = &c->wikis[i];
		wikistate_read(dir, c->wikis[i].name, &st);
		s->ws[i].up = st.up;
		s->ws[i].since = st.since;
		s->ws[i].checked = st.checked;
		s->ws[i].last_ok = st.last_ok;
		strlcpy(s->ws[i].error, st.error, sizeof(s->ws[i].error));
	}
	if (dir != -1)
		close(dir);
}

static char *
dup_or_dash(const char *v)
{
	return xstrdup(v != NULL && *v != '\0' ? v : "-");
}

static void
read_queue(struct spool *sp, struct status *s)
{
	struct stat sb;
	struct job j;
	struct held *h;
	char **ids;
	size_t n, i;
	long long t;
	int q;

	for (q = 0; q < Q_NSTATE; q++) {
		if (spool_ids(sp, (enum jobstate)q, &ids, &n) == -1)
			die(EX_TEMPFAIL, "queue/%s", jobstate_name[q]);
		for (i = 0; i < n; i++) {
			t = strtoll(ids[i], NULL, 10);
			if (t > 0 && (s->oldest == 0 || t < s->oldest))
				s->oldest = t;
			if (q == Q_CUR)
				s->running++;
			else if (q == Q_NEW && fstatat(sp->dir[Q_NEW], ids[i],
			    &sb, AT_SYMLINK_NOFOLLOW) == 0 &&
			    sb.st_mtime > s->now)
				s->waiting++;
			else if (q == Q_NEW)
				s->due++;
			else if (job_load(sp, ids[i], &j) == 0) {
				s->held = xreallocarray(s->held, s->nheld + 1,
				    sizeof(*s->held));
				h = &s->held[s->nheld++];
				strlcpy(h->id, j.id, sizeof(h->id));
				h->wiki = dup_or_dash(job_get(&j, "wiki"));
				h->title = dup_or_dash(job_get(&j, "title"));
				h->reason = dup_or_dash(job_get(&j, "error"));
				job_free(&j);
			}
		}
		spool_ids_free(ids, n);
	}
	s->bad = spool_bad(sp);
	spool_counts(sp, s->counts);
}

static int
in_group(const struct group *g, const char *wiki)
{
	size_t i;

	for (i = 0; i < g->nwikis; i++)
		if (strcmp(g->wikis[i], wiki) == 0)
			return 1;
	return 0;
}

/*
 * The categories a text puts its page in by its own [[Category:...]]
 * links (English namespace name; those a template adds are not seen),
 * as wikisync.conf(5) writes them.  At most max.
 */
static size_t
text_cats(const char *text, size_t len, char **cats, size_t max)
{
	static const char pre[] = "[[category:";
	const char *p = text, *end = text + len, *q;
	size_t n = 0, k;

	while (n < max && (p = memmem(p, (size_t)(end - p), "[[", 2)) != NULL) {
		if ((size_t)(end - p) < sizeof(pre) ||
		    strncasecmp(p, pre, sizeof(pre) - 1) != 0) {
			p += 2;
			continue;
		}
		p += sizeof(pre) - 1;
		for (q = p; q < end && *q != '|' && *q != ']' && *q != '\n' &&
		    q - p < 255; q++)
			;
		cats[n] = xcalloc(1, (size_t)(q - p) + 1);
		memcpy(cats[n], p, (size_t)(q - p));
		for (k = 0; cats[n][k] != '\0'; k++)
			if (cats[n][k] == '_')
				cats[n][k] = ' ';
		conf_title(cats[n]);
		n++;
		p = q;
	}
	return n;
}

/*
 * Does the record belong to group g?  Its wiki must be one of g's; where
 * that wiki is in other groups too, the text synced (or, for a deletion,
 * the one before it) says by its title and categories.  texts counts the
 * texts read, so that a long log of another group's pages costs at most
 * a bounded number of reads: past it a record is credited by its wiki.
 */
#define TEXT_READS	2000

static int
record_in(const struct conf *c, const struct group *g, struct store *st,
    const struct logrec *r, const char *title, size_t *texts)
{
	char *cats[64], *text;
	const char *sha1;
	size_t i, len, n, shared = 0;
	int yes;

	if (!in_group(g, r->wiki))
		return 0;
	for (i = 0; i < c->ngroups; i++)
		shared += in_group(&c->groups[i], r->wiki);
	if (shared < 2 || *texts >= TEXT_READS)
		return 1;
	sha1 = sha1_valid(r->new) ? r->new : r->old;
	(*texts)++;
	if (!sha1_valid(sha1) || (text = store_read(st, sha1, &len)) == NULL)
		return group_syncs(g, r->wiki, title, NULL, 0);
	n = text_cats(text, len, cats, sizeof(cats) / sizeof(cats[0]));
	yes = group_syncs(g, r->wiki, title, cats, n);
	while (n > 0)
		free(cats[--n]);
	free(text);
	return yes;
}

/* A pointer whose page was deleted on its wiki and kept on the others. */
static int
kept_one(int wfd, const char *wiki, const char *key, void *arg)
{
	struct status *s = ((void **)arg)[0];
	struct store *st = ((void **)arg)[1];
	const struct wiki *w;
	struct storeptr p;

	(void)wfd;
	if ((w = conf_wiki(ws_conf(), wiki)) == NULL ||
	    store_ptr_read(st, wiki, key, &p) == -1 ||
	    strcmp(p.revid, KEPT_REV) != 0)
		return 0;
	s->kept = xreallocarray(s->kept, s->nkept + 1, sizeof(*s->kept));
	s->kept[s->nkept].wiki = w->name;
	s->kept[s->nkept++].title = xstrdup(p.title);
	return 0;
}

/*
 * The newest finished log record of each group's wikis, newest first;
 * and the deletions kept, from the pointers.
 */
static void
read_store(const struct conf *c, struct status *s)
{
	struct store st;
	struct storeptr p;
	struct logrec r;
	struct last *l;
	char title[sizeof(p.title)];
	size_t g, left = c->ngroups, texts = 0;
	off_t i;

	void *arg[2] = { s, &st };

	s->last = xcalloc(c->ngroups ? c->ngroups : 1, sizeof(*s->last));
	if (left == 0)
		return;
	if (store_open(&st, ws_spool()) == -1)
		die(EX_TEMPFAIL, "store in %s", ws_spool());
	for (g = 0; g < c->ngroups; g++)
		if (c->groups[g].deletions == DELETIONS_KEEP) {
			if (store_walk(&st, kept_one, arg) == -1)
				ws_log(LOG_WARNING, "store: %s",
				    strerror(errno));
			break;
		}
	for (i = store_log_records(&st) - 1; i >= 0 && left > 0; i--) {
		if (store_log_read(&st, i, &r) == -1 || r.finished != '+')
			continue;
		if (store_ptr_read(&st, r.wiki, r.key, &p) == 0)
			strlcpy(title, p.title, sizeof(title));
		else
			strlcpy(title, r.key, sizeof(title));
		for (g = 0; g < c->ngroups; g++) {
			l = &s->last[g];
			if (l->time != 0 || !record_in(c, &c->groups[g], &st, &r,
			    title, &texts))
				continue;
			l->time = r.time;
			strlcpy(l->wiki, r.wiki, sizeof(l->wiki));
			strlcpy(l->title, title, sizeof(l->title));
			left--;
		}
	}
	store_close(&st);
}

/* -w: the members of the conflict category on each wiki not down. */
static void
read_conflicts(struct status *s)
{
	struct mwtitle *t;
	struct mwerr e;
	struct mw *m;
	size_t i, k, n;

	s->cfasked = 1;
	for (i = 0; i < s->nws; i++) {
		if (s->ws[i].up == 0)
			continue;
		if ((m = mw_open(s->ws[i].w, &e)) == NULL ||
		    mw_members(m, CONFLICT_CATEGORY, &t, &n, &e) == -1) {
			ws_log(LOG_WARNING, "%s: conflicts: %s",
			    s->ws[i].w->name, e.msg);
			mw_close(m);
			continue;
		}
		for (k = 0; k < n; k++) {
			s->cf = xreallocarray(s->cf, s->ncf + 1, sizeof(*s->cf));
			s->cf[s->ncf].wiki = s->ws[i].w->name;
			s->cf[s->ncf++].title = xstrdup(t[k].title);
		}
		mw_titles_free(t, n);
		mw_close(m);
	}
}

/*
 * An error as a wiki page may show it: anyone can read the status page,
 * so it gets the kind of trouble, never the raw text (paths, hosts,
 * server replies), which stays in the local log and the terminal's
 * table.  The first class whose words the text has.
 */
static const struct {
	const char	*words;		/* all of these, any case */
	const char	*says;
} classes[] = {
	{ "connect", "cannot connect" },
	{ "timed out", "timed out" },
	{ "resolve", "host not found" },
	{ "TLS", "TLS failed" },
	{ "ca-file", "TLS failed" },
	{ "HTTP 5", "server error" },
	{ "HTTP", "unexpected HTTP reply" },
	{ "login", "login failed" },
	{ "password", "login failed" },
	{ "changed on some wiki", "the page kept changing" },
	{ "not moved to", "a move blocked by another page" },
	{ "not yet on every wiki", "not yet on every wiki" },
	{ "not a valid title", "not a valid title" },
	{ "needs the", "a right the sync account lacks" },
	{ "refused", "refused by a wiki" },
	{ "reply", "an unexpected reply" },
};

static const char *
public_reason(const char *raw)
{
	size_t i;

	for (i = 0; i < sizeof(classes) / sizeof(classes[0]); i++)
		if (strcasestr(raw, classes[i].words) != NULL)
			return classes[i].says;
	return "an error (the local log has it)";
}

static void
cell(struct table *t, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void
cell(struct table *t, const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	t->cell = xreallocarray(t->cell, t->ncell + 1, sizeof(*t->cell));
	t->cell[t->ncell++] = p;
}

static void
table_free(struct table *t)
{
	size_t i;

	for (i = 0; i < t->ncell; i++)
		free(t->cell[i]);
	free(t->cell);
}

/* A page's title in a table: on the wiki page only with status-titles. */
static const char *
title_cell(const struct conf *c, int clock, const char *title)
{
	return clock || c->statustitles ? title : "(a page)";
}

/*
 * The tables, for a terminal (clock: with ages and check times) or for a
 * wiki page (without: the page changes only when the state does).
 */
static size_t
tables(const struct status *s, const struct conf *c, int clock,
    struct table *tb)
{
	const struct wstate *w;
	struct table *t;
	char a[32], b[32], d[32], host[256];
	size_t i, k, n = 0;

	t = &tb[n++];
	*t = (struct table){ "Wikis", clock ? 5 : 4, NULL, 0 };
	cell(t, "wiki");
	cell(t, "state");
	cell(t, "since");
	cell(t, "session");
	if (clock)
		cell(t, "checked");
	for (i = 0; i < s->nws; i++) {
		w = &s->ws[i];
		ws_time(w->since, a, sizeof(a));
		duration((long long)s->now - w->checked, d, sizeof(d));
		cell(t, "%s", w->w->name);
		cell(t, "%s", w->up == 1 ? "up" : w->up == 0 ? "down" :
		    "unknown");
		cell(t, "%s", w->up == -1 ? "-" : a);
		if (w->up == -1)
			cell(t, "unknown");
		else if (w->up == 1 && w->last_ok == w->checked)
			cell(t, "ok");
		else
			cell(t, "failed: %s", clock ? w->error :
			    public_reason(w->error));
		if (clock)
			cell(t, "%s", w->checked > 0 ? strcat(d, " ago") :
			    "never");
	}

	t = &tb[n++];
	*t = (struct table){ "Loop", clock ? 3 : 2, NULL, 0 };
	cell(t, "ws-peerd");
	cell(t, "since");
	if (clock)
		cell(t, "pid");
	ws_time(s->loopsince, a, sizeof(a));
	cell(t, "%s", s->loop == 1 ? "running" : s->loop == 0 ?
	    "not running" : "never ran");
	cell(t, "%s", s->loop == 1 ? a : "-");
	if (clock && s->loop == 1 && s->looppid > 0)
		cell(t, "%lld", s->looppid);
	else if (clock)
		cell(t, "-");

	t = &tb[n++];
	*t = (struct table){ "Queue", 5, NULL, 0 };
	cell(t, "due");
	cell(t, "waiting");
	cell(t, "running");
	cell(t, "held");
	cell(t, "oldest job");
	cell(t, "%zu", s->due);
	cell(t, "%zu", s->waiting);
	cell(t, "%zu", s->running);
	cell(t, "%zu", s->nheld);
	ws_time(s->oldest, a, sizeof(a));
	duration((long long)s->now - s->oldest, d, sizeof(d));
	if (s->oldest == 0 || !clock)
		cell(t, "%s", a);
	else
		cell(t, "%s ago", d);

	if (s->nheld > 0) {
		t = &tb[n++];
		*t = (struct table){ "Held jobs", 4, NULL, 0 };
		cell(t, "job");
		cell(t, "wiki");
		cell(t, "page");
		cell(t, "reason");
		for (i = 0; i < s->nheld; i++) {
			cell(t, "%s", s->held[i].id);
			cell(t, "%s", s->held[i].wiki);
			cell(t, "%s", title_cell(c, clock, s->held[i].title));
			cell(t, "%s", clock ? s->held[i].reason :
			    public_reason(s->held[i].reason));
		}
	}

	for (i = 0, k = 0; i < c->nwikis; i++)
		if (c->wikis[i].insecure &&
		    conf_clear(&c->wikis[i], host, sizeof(host))) {
			if (k++ == 0) {
				t = &tb[n++];
				*t = (struct table){ "Bot passwords sent in "
				    "clear (insecure-http = yes)", 2, NULL, 0 };
				cell(t, "wiki");
				cell(t, clock ? "host" : "in clear");
			}
			cell(t, "%s", c->wikis[i].name);
			/* the page names no host */
			cell(t, "%s", clock ? host : "yes");
		}

	if (s->bad > 0) {
		t = &tb[n++];
		*t = (struct table){ "Not jobs, set aside in the queue's bad "
		    "directory", 1, NULL, 0 };
		cell(t, "files");
		cell(t, "%zu", s->bad);
	}

	if (s->refused > 0) {
		t = &tb[n++];
		*t = (struct table){ "Mail refused, kept in the spool's bad "
		    "directory", 2, NULL, 0 };
		cell(t, "mails");
		cell(t, "newest");
		ws_time(s->refusedlast, a, sizeof(a));
		cell(t, "%zu", s->refused);
		cell(t, "%s", a);
	}

	if (s->nkept > 0) {
		t = &tb[n++];
		*t = (struct table){ "Deleted on one wiki, kept on the others "
		    "(deletions = keep)", 2, NULL, 0 };
		cell(t, "deleted on");
		cell(t, "page");
		for (i = 0; i < s->nkept; i++) {
			cell(t, "%s", s->kept[i].wiki);
			cell(t, "%s", title_cell(c, clock, s->kept[i].title));
		}
	}

	if (s->cfasked) {
		t = &tb[n++];
		*t = (struct table){ "Pages in conflict", 2, NULL, 0 };
		cell(t, "wiki");
		cell(t, "page");
		for (i = 0; i < s->ncf; i++) {
			cell(t, "%s", s->cf[i].wiki);
			cell(t, "%s", title_cell(c, clock, s->cf[i].title));
		}
	}

	if (c->groupswiki != NULL) {
		t = &tb[n++];
		*t = (struct table){ "Groups page", 3, NULL, 0 };
		cell(t, "page");
		cell(t, "state");
		cell(t, "since");
		ws_time(s->gtime, a, sizeof(a));
		cell(t, "%s:%s", c->groupswiki, c->groupspage);
		if (s->gerr[0] != '\0')
			cell(t, "refused: %s", clock ? s->gerr :
			    "ws-status on the syncing host says why");
		else if (s->gtime != 0)
			cell(t, "in force");
		else
			cell(t, "never loaded");
		cell(t, "%s", a);
	}

	if (c->ngroups > 0) {
		t = &tb[n++];
		*t = (struct table){ "Last sync", 3, NULL, 0 };
		cell(t, "group");
		cell(t, "last sync");
		cell(t, "page");
		for (i = 0; i < c->ngroups; i++) {
			ws_time(s->last[i].time, b, sizeof(b));
			cell(t, "%s", c->groups[i].name);
			cell(t, "%s", b);
			if (s->last[i].time == 0)
				cell(t, "-");
			else
				cell(t, "%s on %s", title_cell(c, clock,
				    s->last[i].title),
				    s->last[i].wiki);
		}
	}
	return n;
}

static void
print_tables(struct table *tb, size_t n)
{
	size_t w[MAXCOL], i, k, col;
	int len;

	for (i = 0; i < n; i++) {
		memset(w, 0, sizeof(w));
		for (k = 0; k < tb[i].ncell; k++)
			if (strlen(tb[i].cell[k]) > w[k % tb[i].ncol])
				w[k % tb[i].ncol] = strlen(tb[i].cell[k]);
		printf("%s%s\n", i > 0 ? "\n" : "", tb[i].caption);
		for (k = 0; k < tb[i].ncell; k++) {
			col = k % tb[i].ncol;
			len = col + 1 == tb[i].ncol ? 0 : (int)w[col];
			printf("  %-*s%s", len,
			    tb[i].cell[k], col + 1 == tb[i].ncol ? "\n" : "");
		}
	}
}

/* One field of a tab-separated line: no tab or newline inside. */
static void
field(const char *v)
{
	putchar('\t');
	for (; *v != '\0'; v++)
		putchar(*v == '\t' || *v == '\n' || *v == '\r' ? ' ' : *v);
}

static void
print_tsv(const struct status *s, const struct conf *c)
{
	const struct wstate *w;
	char host[256];
	size_t i;

	for (i = 0; i < s->nws; i++) {
		w = &s->ws[i];
		printf("wiki");
		field(w->w->name);
		printf("\t%s\t%lld\t%lld\t%s", w->up == 1 ? "up" : w->up == 0 ?
		    "down" : "unknown", w->since, w->checked, w->up == -1 ?
		    "unknown" : w->up == 1 && w->last_ok == w->checked ? "ok" :
		    "failed");
		field(w->up == 1 || *w->error == '\0' ? "-" : w->error);
		putchar('\n');
	}
	printf("queue\tdue\t%zu\twaiting\t%zu\trunning\t%zu\theld\t%zu\t"
	    "oldest\t%lld\n", s->due, s->waiting, s->running, s->nheld,
	    s->oldest ? (long long)s->now - s->oldest : 0LL);
	for (i = 0; i < c->nwikis; i++)
		if (c->wikis[i].insecure &&
		    conf_clear(&c->wikis[i], host, sizeof(host)))
			printf("insecure\t%s\t%s\n", c->wikis[i].name, host);
	if (s->bad > 0)
		printf("bad\t%zu\n", s->bad);
	for (i = 0; i < s->nheld; i++) {
		printf("held");
		field(s->held[i].id);
		field(s->held[i].wiki);
		field(s->held[i].title);
		field(s->held[i].reason);
		putchar('\n');
	}
	for (i = 0; i < s->ncf; i++) {
		printf("conflict");
		field(s->cf[i].wiki);
		field(s->cf[i].title);
		putchar('\n');
	}
	for (i = 0; i < s->nkept; i++) {
		printf("kept");
		field(s->kept[i].wiki);
		field(s->kept[i].title);
		putchar('\n');
	}
	if (c->groupswiki != NULL) {
		printf("groups-page\t%s:%s\t%s\t%lld", c->groupswiki,
		    c->groupspage, s->gerr[0] ? "refused" : s->gtime ? "ok" :
		    "never", s->gtime);
		field(s->gerr[0] ? s->gerr : "-");
		putchar('\n');
	}
	for (i = 0; i < c->ngroups; i++) {
		printf("group");
		field(c->groups[i].name);
		printf("\t%lld", s->last[i].time);
		field(s->last[i].time ? s->last[i].wiki : "-");
		field(s->last[i].time ? s->last[i].title : "-");
		putchar('\n');
	}
	/* the newer records last: a script that reads by position reads on */
	printf("loop\t%s\t%lld\t%lld\n", s->loop == 1 ? "running" :
	    s->loop == 0 ? "stopped" : "never", s->loop == 1 ? s->loopsince :
	    0LL, s->loop == 1 ? s->looppid : 0LL);
	if (s->refused > 0)
		printf("refused\t%zu\t%lld\n", s->refused, s->refusedlast);
}

/* Text as it shows, never as markup: titles and reasons are anybody's. */
static void
wiki_escape(struct buf *b, const char *v)
{
	char ent[8];

	for (; *v != '\0'; v++) {
		if (strchr("&<>[]{}|~'_!", *v) != NULL ||
		    *v == '\n' || *v == '\r' || *v == '\t') {
			snprintf(ent, sizeof(ent), "&#%d;", *v == '\n' ||
			    *v == '\r' || *v == '\t' ? ' ' : *v);
			buf_str(b, ent);
		} else
			buf_add(b, v, 1);
	}
}

static void
wikitext(struct table *tb, size_t n, struct buf *b)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		buf_str(b, i > 0 ? "\n\n" : "");
		buf_str(b, "{| class=\"wikitable\"\n|+ ");
		buf_str(b, tb[i].caption);
		for (k = 0; k < tb[i].ncell; k++) {
			if (k % tb[i].ncol == 0)
				buf_str(b, k < tb[i].ncol ? "\n! " :
				    "\n|-\n| ");
			else
				buf_str(b, k < tb[i].ncol ? " !! " : " || ");
			wiki_escape(b, tb[i].cell[k]);
		}
		buf_str(b, "\n|}");
	}
}

static size_t
trimmed(const char *p, size_t len)
{
	while (len > 0 && strchr(" \t\n\r", p[len - 1]) != NULL)
		len--;
	return len;
}

/* Write text to WIKI:PAGE as the sync user unless the page has it. */
static void
publish(const struct conf *c, const char *spec, const struct buf *text)
{
	const struct wiki *w;
	struct mwpage pg;
	struct mwedit ed;
	struct mwsaved sv;
	struct mwerr e;
	struct mw *m;
	const char *title;
	char name[64];
	size_t n, tl;

	n = strcspn(spec, ":");
	snprintf(name, sizeof(name), "%.*s", (int)n, spec);
	title = spec + n + 1;
	if ((w = conf_wiki(c, name)) == NULL)
		diex(EX_USAGE, "%s: no such wiki", name);
	if ((m = mw_open(w, &e)) == NULL)
		diex(e.code, "%s: %s", w->name, e.msg);
	memset(&pg, 0, sizeof(pg));
	if (mw_current(m, &title, 1, &pg, &e) == -1)
		diex(e.code, "%s: %s", w->name, e.msg);
	if (pg.invalid)
		diex(EX_USAGE, "%s: %s: not a valid title", w->name, title);
	tl = trimmed(text->p, text->len);
	if (!pg.missing && pg.rev.text != NULL &&
	    trimmed(pg.rev.text, pg.rev.len) == tl &&
	    memcmp(pg.rev.text, text->p, tl) == 0) {
		printf("%s:%s unchanged\n", w->name, title);
		mw_pages_free(&pg, 1);
		mw_close(m);
		return;
	}
	memset(&ed, 0, sizeof(ed));
	ed.title = title;
	ed.text = text->p;
	ed.len = tl;
	ed.summary = "WikiSync status";
	ed.flags = MW_BOT;
	mw_edit_on(&ed, &pg);
	if (mw_edit(m, &ed, &sv, &e) == -1)
		diex(e.code, "%s: %s: %s", w->name, title, e.msg);
	if (sv.result == MW_CONFLICT)
		diex(EX_TEMPFAIL, "%s: %s: changed meanwhile", w->name, title);
	if (sv.result == MW_SAVED)
		printf("%s:%s saved r%ld\n", w->name, title, sv.revid);
	else
		printf("%s:%s unchanged\n", w->name, title);
	mw_pages_free(&pg, 1);
	mw_close(m);
}

static void
status_free(struct status *s)
{
	size_t i;

	for (i = 0; i < s->nheld; i++) {
		free(s->held[i].wiki);
		free(s->held[i].title);
		free(s->held[i].reason);
	}
	for (i = 0; i < s->ncf; i++)
		free(s->cf[i].title);
	for (i = 0; i < s->nkept; i++)
		free(s->kept[i].title);
	free(s->held);
	free(s->cf);
	free(s->kept);
	free(s->ws);
	free(s->last);
}

int
status_main(int argc, char *argv[])
{
	const struct conf *c;
	const char *page = NULL, *mfile = NULL;
	struct status s;
	struct spool sp;
	struct table tb[MAXTABLE];
	struct buf b = { 0 };
	size_t n = 0, i;
	int ch, tsv = 0, ask = 0, rc = 0;

	static const struct option longopts[] = {
		{ "metrics",	required_argument,	NULL,	'm' },
		{ "publish",	required_argument,	NULL,	'p' },
		{ "tsv",	no_argument,		NULL,	't' },
		{ "wikis",	no_argument,		NULL,	'w' },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};

	while ((ch = getopt_long(argc, argv, WS_OPTS "m:p:tw", longopts,
	    NULL)) != -1) {
		if (ch == 'p') {
			n = strcspn(optarg, ":");
			if (n == 0 || n >= 64 || optarg[n] != ':' ||
			    optarg[n + 1] == '\0')
				diex(EX_USAGE, "%s: not wiki:page", optarg);
			page = optarg;
		} else if (ch == 'm')
			mfile = optarg;
		else if (ch == 't')
			tsv = 1;
		else if (ch == 'w')
			ask = 1;
		else
			ws_opt(ch, optarg, usage);
	}
	if (optind != argc)
		ws_usage(usage, EX_USAGE);
	c = ws_conf();
	memset(&s, 0, sizeof(s));
	s.now = time(NULL);
	if (spool_open(&sp, ws_spool()) == -1)
		spool_die(ws_spool());
	read_wikis(c, &s);
	read_queue(&sp, &s);
	spool_close(&sp);
	read_store(c, &s);
	read_groups(&s);
	read_loop(&s);
	read_refused(&s);
	if (ask)
		read_conflicts(&s);
	for (i = 0; i < s.nws; i++)
		if (s.ws[i].up == 0)
			rc = 1;
	if (s.nheld > 0 || s.ncf > 0 || s.bad > 0 || s.gerr[0] != '\0')
		rc = 1;
	if (mfile != NULL) {
		/* the state is in the metrics: 0 says they were written */
		metrics_write(&s, c, mfile);
		rc = 0;
	} else if (page != NULL) {
		n = tables(&s, c, 0, tb);
		wikitext(tb, n, &b);
		publish(c, page, &b);
		buf_free(&b);
	} else if (tsv)
		print_tsv(&s, c);
	else {
		n = tables(&s, c, 1, tb);
		print_tables(tb, n);
	}
	for (i = 0; i < n; i++)
		table_free(&tb[i]);
	status_free(&s);
	return rc;
}
