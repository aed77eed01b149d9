/*
 * scan.c: ws-scan, catch up on what mail missed.
 *
 * Per wiki of the groups asked for: the recent changes since the last
 * scan (none of the sync user's own), and for each changed page in a
 * group's categories or pages, a job when it differs from what the store
 * says was last synced there.  The first scan of a wiki, and every scan
 * with -f, also makes the sync user watch every member of the groups'
 * categories, so the next edit anywhere mails; -f also gives each member
 * that differs a job (the initial sync of a group).  Invariants:
 * - SPOOL/scan/WIKI ("TIMESTAMP REVID" of the newest change seen) is
 *   replaced whole, and only once everything for that wiki worked, so a
 *   failed scan is done again, never skipped;
 * - a scan that finds nothing new costs one request per wiki;
 * - a job is only a trigger: one for a page not synced is harmless, and
 *   none is added for a page that already waits in new/ or hold/; the
 *   groups page changed gets one too, not counted in any group;
 * - one scan of a spool at a time: each holds a flock on SPOOL/scan/.lock
 *   (a dot: no wiki, whose scan time is SPOOL/scan/WIKI, can be named so)
 *   from before it reads the queue until it exits, and another waits for
 *   it, then sees its jobs and scan times.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wikisync.h"
#include "mw.h"
#include "strset.h"
#include "sync.h"

#define WINDOW		86400		/* the first scan looks back a day */
#define STATE_DIR	"scan"

static const char usage[] = "[-fqv] [-c file] [-d dir] [-s since] [group ...]";

struct item {
	char		*title;
	int		 group;		/* the first group it is in, or -1 */
	long		 revid;		/* newest change seen, 0: none */
	char		 sha1[41];
};

struct items {
	struct item	*v;
	size_t		 n;
};

static const struct conf *conf;
static struct spool	 sp;
static struct store	 st;
static struct strset	 queued;	/* "wiki\ntitle" of waiting jobs */
static struct strset	 titles;	/* the titles of all jobs, any wiki's */
static int		*chosen;	/* per group: asked for */
static size_t		*njobs, *nwatched, *ncopied;	/* per group */
static int		 full, istty;

/* Marks wiki's title as queued: 1, or 0 if it was already. */
static int
queued_add(const char *wiki, const char *title)
{
	char *k;
	int rc;

	k = xasprintf("%s\n%s", wiki, title);
	rc = strset_add(&queued, k);
	free(k);
	return rc;
}

/* A title as titles holds it: an underscore is a space. */
static void
title_norm(const char *t, char *key, size_t len)
{
	size_t k;

	for (k = 0; t[k] != '\0' && k < len - 1; k++)
		key[k] = t[k] == '_' ? ' ' : t[k];
	key[k] = '\0';
}

/* A job's title, any wiki's: the bulk copy leaves its page alone. */
static void
title_add(const char *t)
{
	char key[1024];

	title_norm(t, key, sizeof(key));
	strset_add(&titles, key);
}

/* Waits for any other ws-scan of the spool; the lock lasts until exit. */
static int
scan_lock(int dir)
{
	int fd;

	if ((fd = openat(dir, ".lock", O_RDWR | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW, 0640)) == -1)
		die(EX_TEMPFAIL, "%s/%s/.lock", sp.path, STATE_DIR);
	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return fd;
	if (errno == EWOULDBLOCK)
		ws_log(LOG_DEBUG, "%s/%s/.lock: waiting for another ws-scan",
		    sp.path, STATE_DIR);
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR)
			die(EX_TEMPFAIL, "%s/%s/.lock", sp.path, STATE_DIR);
	return fd;
}

/*
 * What already waits: new/ (it reads the page when it runs) and hold/;
 * and every job's title, cur/'s too, which no bulk copy touches.
 */
static void
load_queued(void)
{
	static const enum jobstate states[] = { Q_NEW, Q_HOLD, Q_CUR };
	struct job j;
	const char *w, *t;
	char **ids;
	size_t n, i, s;

	for (s = 0; s < 3; s++) {
		if (spool_ids(&sp, states[s], &ids, &n) == -1)
			die(EX_TEMPFAIL, "%s/queue", sp.path);
		for (i = 0; i < n; i++) {
			if (job_load(&sp, ids[i], &j) == -1)
				continue;
			if ((w = job_get(&j, "wiki")) != NULL &&
			    (t = job_get(&j, "title")) != NULL) {
				if (states[s] != Q_CUR)
					queued_add(w, t);
				title_add(t);
			}
			job_free(&j);
		}
		spool_ids_free(ids, n);
	}
}

static void
items_add(struct items *it, const char *title, int group)
{
	it->v = xreallocarray(it->v, it->n + 1, sizeof(*it->v));
	memset(&it->v[it->n], 0, sizeof(*it->v));
	it->v[it->n].title = xstrdup(title);
	it->v[it->n++].group = group;
}

static void
items_free(struct items *it)
{
	size_t i;

	for (i = 0; i < it->n; i++)
		free(it->v[i].title);
	free(it->v);
	memset(it, 0, sizeof(*it));
}

static int
in_list(char **v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* The first asked-for group of wiki that syncs the page, or -1. */
static int
group_of(const char *wiki, const struct mwpage *p)
{
	size_t i;

	for (i = 0; i < conf->ngroups; i++)
		if (chosen[i] && group_syncs(&conf->groups[i], wiki, p->title,
		    p->cats, p->ncats))
			return (int)i;
	return -1;
}

/*
 * A page in none of w's asked-for groups there, which w synced (a live
 * base: not deleted, moved or kept): the first asked-for group of w, or
 * -1.  The edit that took it out of the category is still to reach the
 * others (its mail may be lost); its job decides (set_elsewhere).
 */
static int
group_by_base(const struct wiki *w, const char *title)
{
	struct storeptr ptr;
	size_t g;

	if (store_get(&st, w->name, title, &ptr) == -1 ||
	    strcmp(ptr.revid, DELETED_REV) == 0 ||
	    strcmp(ptr.revid, MOVED_REV) == 0 ||
	    strcmp(ptr.revid, KEPT_REV) == 0)
		return -1;
	for (g = 0; g < conf->ngroups; g++)
		if (chosen[g] && in_list(conf->groups[g].wikis,
		    conf->groups[g].nwikis, w->name))
			return (int)g;
	return -1;
}

/*
 * May the bulk copy take the page (initial.c)?  Not the groups page, nor
 * one with a base here, nor one any job names (that job runs first), nor
 * one this scan queued already.
 */
static int
may_copy(const struct wiki *w, const struct mwpage *p, int group)
{
	struct storeptr ptr;
	char key[1024];

	if (group == (int)conf->ngroups || store_get(&st, w->name, p->title,
	    &ptr) == 0)
		return 0;
	title_norm(p->title, key, sizeof(key));
	return !strset_has(&titles, key);
}

/* Not yet synced as the wiki has it now: no base, or another revision. */
static int
differs(const char *wiki, const struct mwpage *p, const struct item *it)
{
	struct storeptr ptr;

	if (store_get(&st, wiki, p->title, &ptr) == -1)
		return 1;
	if (atol(ptr.revid) == p->lastrevid)
		return 0;
	return !(it->revid == p->lastrevid && strcmp(it->sha1, ptr.sha1) == 0);
}

/* A job made (by enqueue or the bulk copy) for a title. */
static void
queued_made(const char *id, const char *title, int group)
{
	title_add(title);
	if (wsopt.verbose)
		printf("%s\n", id);
	njobs[group]++;
}

static void
enqueue(const char *wiki, const char *title, int group)
{
	struct job j;
	char id[sizeof(j.id)];

	if (!queued_add(wiki, title))
		return;
	if (job_queue(&sp, wiki, title, "scan", id) == -1)
		die(EX_TEMPFAIL, "%s/queue", sp.path);
	ws_log(LOG_DEBUG, "%s: %s: queued as %s", wiki, title, id);
	queued_made(id, title, group);
}

static void
progress(const char *wiki, size_t done, size_t total, struct timespec *t0)
{
	struct timespec now;
	double secs, rate;

	if (!istty || total == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	secs = (double)(now.tv_sec - t0->tv_sec) +
	    (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
	rate = secs > 0 ? (double)done / secs : 0;
	fprintf(stderr, "\r%s: %s: %zu/%zu pages, %.0f/s, %.0f s left ",
	    getprogname(), wiki, done, total, rate,
	    rate > 0 ? (double)(total - done) / rate : 0.0);
	if (done == total)
		fputc('\n', stderr);
}

/*
 * Looks up the items (50 a request), watches those that are synced and
 * queues a job for each of them that differs.  Items with a group set are
 * its members, whatever the wiki says of their categories; a sweep of
 * members shows its progress on a terminal.
 */
static int
check(const struct wiki *w, struct mw *m, struct items *it, int sweep,
    struct mwerr *e)
{
	struct mwpage pages[MW_MAXTITLES];
	const char *names[MW_MAXTITLES];
	char ids[MW_MAXTITLES][64];
	int grp[MW_MAXTITLES], res[MW_MAXTITLES];
	struct timespec t0;
	size_t b, k, i, nw;
	int g;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (b = 0; b < it->n; b += k) {
		k = it->n - b < MW_MAXTITLES ? it->n - b : MW_MAXTITLES;
		for (i = 0; i < k; i++)
			names[i] = it->v[b + i].title;
		if (mw_info(m, names, k, pages, e) == -1)
			return -1;
		for (nw = 0, i = 0; i < k; i++) {
			res[i] = 0;
			grp[i] = -1;
			/* never synced (conf_reserved): not a job */
			if (pages[i].missing || pages[i].invalid ||
			    conf_reserved(conf, pages[i].title) != NULL)
				continue;
			if ((g = it->v[b + i].group) == -1)
				g = group_of(w->name, &pages[i]);
			if (g == -1 && !sweep)
				g = group_by_base(w, pages[i].title);
			if (g == -1)
				continue;
			/* the bulk copy's pages: watched as they were made */
			if (!pages[i].watched)
				names[nw++] = pages[i].title;
			nwatched[g]++;
			if (differs(w->name, &pages[i], &it->v[b + i])) {
				grp[i] = g;
				res[i] = full && may_copy(w, &pages[i], g);
			}
		}
		/* watched before copied: an edit made from now on mails */
		if (mw_watch(m, names, nw, e) == -1) {
			mw_pages_free(pages, k);
			return -1;
		}
		sync_initial(&sp, &st, w, m, pages, k, res, ids);
		for (i = 0; i < k; i++) {
			if (grp[i] == -1)
				continue;
			if (res[i] == INITIAL_DONE)
				ncopied[grp[i]]++;
			else if (res[i] == INITIAL_QUEUED) {
				queued_add(w->name, pages[i].title);
				queued_made(ids[i], pages[i].title, grp[i]);
			} else
				enqueue(w->name, pages[i].title, grp[i]);
		}
		mw_pages_free(pages, k);
		if (sweep)
			progress(w->name, b + k, it->n, &t0);
	}
	return 0;
}

/* Every member of the asked-for groups' categories and pages on w. */
static int
members(const struct wiki *w, struct mw *m, struct items *it,
    struct mwerr *e)
{
	const struct group *g;
	struct mwtitle *v;
	struct strset seen = { 0 };
	size_t i, k, n, x;
	int rc = 0;

	for (i = 0; i < conf->ngroups && rc == 0; i++) {
		g = &conf->groups[i];
		if (!chosen[i] || !in_list(g->wikis, g->nwikis, w->name))
			continue;
		for (k = 0; k < g->npages; k++)
			if (strset_add(&seen, g->pages[k]))
				items_add(it, g->pages[k], (int)i);
		for (k = 0; k < g->ncategories; k++) {
			if (mw_members(m, g->categories[k], &v, &n, e) == -1) {
				rc = -1;
				break;
			}
			for (x = 0; x < n; x++)
				if (strset_add(&seen, v[x].title))
					items_add(it, v[x].title, (int)i);
			mw_titles_free(v, n);
		}
	}
	strset_free(&seen);
	return rc;
}

/* Watch items without a job check: the first scan of a wiki. */
static int
watch_all(struct mw *m, struct items *it, struct mwerr *e)
{
	const char *titles[MW_MAXTITLES];
	size_t b, k, i;

	for (b = 0; b < it->n; b += k) {
		k = it->n - b < MW_MAXTITLES ? it->n - b : MW_MAXTITLES;
		for (i = 0; i < k; i++) {
			titles[i] = it->v[b + i].title;
			nwatched[it->v[b + i].group]++;
		}
		if (mw_watch(m, titles, k, e) == -1)
			return -1;
	}
	return 0;
}

static int
state_read(int dir, const char *wiki, char *ts, long *revid)
{
	char buf[128];
	ssize_t n;
	int fd;

	if ((fd = openat(dir, wiki, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno == ENOENT)
			return 0;
		die(EX_TEMPFAIL, "%s/%s/%s", sp.path, STATE_DIR, wiki);
	}
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n > 0 ? n : 0] = '\0';
	if (sscanf(buf, "%20s %ld", ts, revid) != 2 || strlen(ts) != 20) {
		ws_log(LOG_WARNING, "%s/%s/%s: not a scan time, scanning "
		    "afresh", sp.path, STATE_DIR, wiki);
		return 0;
	}
	return 1;
}

static void
mwtime(time_t t, char *buf)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, MW_TSLEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* -s: a MediaWiki timestamp, or an age: seconds, or with m, h or d. */
static void
parse_since(const char *s, char *ts)
{
	struct tm tm;
	char *end;
	long n, unit = 1;

	memset(&tm, 0, sizeof(tm));
	if (strchr(s, 'T') != NULL) {
		end = strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm);
		if (end == NULL || *end != '\0')
			goto bad;
		mwtime(timegm(&tm), ts);
		return;
	}
	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || errno != 0 || n < 0)
		goto bad;
	switch (*end) {
	case 'd': unit = 86400; end++; break;
	case 'h': unit = 3600; end++; break;
	case 'm': unit = 60; end++; break;
	case 's': end++; break;
	}
	if (*end != '\0' || n > 100L * 365 * 86400 / unit)
		goto bad;
	mwtime(time(NULL) - n * unit, ts);
	return;
bad:
	ws_log(LOG_ERR, "%s: not a time (2026-11-22T04:10:03Z, or an age "
	    "like 3600, 90m, 2h, 1d)", s);
	ws_usage(usage, EX_USAGE);
}

/*
 * A page deleted or moved away since the scan time, its mail maybe lost,
 * that the store knows as synced on w (not as deleted or moved) gets a
 * job under the title it had, which finds what became of it; a page
 * restored is checked like one changed.
 */
static void
lifecycle(const struct wiki *w, const struct mwchange *c, struct items *it)
{
	struct storeptr ptr;
	size_t g;

	if (strcmp(c->logaction, "restore") == 0) {
		items_add(it, c->title, -1);
		return;
	}
	if ((strcmp(c->logaction, "delete") != 0 &&
	    strncmp(c->logaction, "move", 4) != 0) ||
	    store_get(&st, w->name, c->title, &ptr) == -1 ||
	    strcmp(ptr.revid, DELETED_REV) == 0 ||
	    strcmp(ptr.revid, MOVED_REV) == 0)
		return;
	for (g = 0; g < conf->ngroups; g++)
		if (chosen[g] && in_list(conf->groups[g].wikis,
		    conf->groups[g].nwikis, w->name)) {
			enqueue(w->name, c->title, (int)g);
			return;
		}
}

/* One wiki: 0, or the exit code of what failed. */
static int
scan_wiki(const struct wiki *w, int dir, const char *since)
{
	struct mwerr e;
	struct mw *m;
	struct mwchange *ch = NULL;
	struct items it = { 0 }, mem = { 0 };
	struct item swap;
	struct strset seen = { 0 };
	char ts[MW_TSLEN] = "", top[MW_TSLEN], line[64];
	long last = 0, toprev;
	size_t n = 0, i;
	int known, rc = 0;

	known = state_read(dir, w->name, ts, &last);
	/* -s reads again what was seen, but never moves the scan time back */
	strlcpy(top, ts, sizeof(top));
	toprev = last;
	if (since != NULL) {
		strlcpy(ts, since, sizeof(ts));
		last = 0;
	} else if (!known)
		mwtime(time(NULL) - WINDOW, ts);
	if (!known)
		strlcpy(top, ts, sizeof(top));
	if ((m = mw_open(w, &e)) == NULL)
		goto fail;
	if (mw_changes(m, ts, MW_CH_NOTSELF | MW_CH_DELETIONS, &ch, &n,
	    &e) == -1)
		goto fail;
	/* the newest change of each page wins; its job, oldest first */
	for (i = n; i > 0; i--) {
		if (strcmp(ch[i - 1].type, "log") == 0) {
			if (strset_add(&seen, ch[i - 1].title))
				lifecycle(w, &ch[i - 1], &it);
			continue;
		}
		if (ch[i - 1].revid <= last)
			continue;
		if (ch[i - 1].revid > toprev) {
			toprev = ch[i - 1].revid;
			strlcpy(top, ch[i - 1].timestamp, sizeof(top));
		}
		if (!strset_add(&seen, ch[i - 1].title))
			continue;
		/* its mail lost: ws-peerd reloads the groups on this job */
		if (conf->groupswiki != NULL &&
		    strcmp(w->name, conf->groupswiki) == 0 &&
		    strcmp(ch[i - 1].title, conf->groupspage) == 0)
			enqueue(w->name, ch[i - 1].title, (int)conf->ngroups);
		items_add(&it, ch[i - 1].title, -1);
		it.v[it.n - 1].revid = ch[i - 1].revid;
		strlcpy(it.v[it.n - 1].sha1, ch[i - 1].sha1,
		    sizeof(it.v[0].sha1));
	}
	for (i = 0; i < it.n / 2; i++) {
		swap = it.v[i];
		it.v[i] = it.v[it.n - 1 - i];
		it.v[it.n - 1 - i] = swap;
	}
	ws_log(LOG_DEBUG, "%s: %zu pages changed since %s", w->name, it.n, ts);
	if (check(w, m, &it, 0, &e) == -1)
		goto fail;
	if (full || !known) {
		if (members(w, m, &mem, &e) == -1)
			goto fail;
		if ((full ? check(w, m, &mem, 1, &e) :
		    watch_all(m, &mem, &e)) == -1)
			goto fail;
	}
	snprintf(line, sizeof(line), "%s %ld\n", top, toprev);
	if (atomic_write(dir, w->name, line, strlen(line), 0640) == -1)
		die(EX_TEMPFAIL, "%s/%s/%s", sp.path, STATE_DIR, w->name);
	goto out;
fail:
	ws_log(LOG_WARNING, "%s: %s", w->name, e.msg);
	rc = e.temp ? EX_TEMPFAIL : e.code;
out:
	if (istty && full && rc != 0)
		fputc('\n', stderr);
	strset_free(&seen);
	items_free(&it);
	items_free(&mem);
	mw_changes_free(ch, n);
	if (m != NULL)
		mw_close(m);
	return rc;
}

int
scan_main(int argc, char *argv[])
{
	static const struct option longopts[] = {
		{ "full",	no_argument,		NULL,	'f' },
		{ "since",	required_argument,	NULL,	's' },
		{ "help",	no_argument,		NULL,	'h' },
		{ NULL,		0,			NULL,	0 }
	};
	const struct group *g;
	const struct wiki *w;
	struct strset done = { 0 };
	char since[MW_TSLEN], *sincep = NULL;
	size_t i, k;
	int ch, dir, lock, rc, worst = 0;

	while ((ch = getopt_long(argc, argv, "fs:" WS_OPTS, longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'f':
			full = 1;
			break;
		case 's':
			parse_since(optarg, since);
			sincep = since;
			break;
		default:
			ws_opt(ch, optarg, usage);
		}
	}
	conf = ws_conf();
	chosen = xcalloc(conf->ngroups + 1, sizeof(*chosen));
	njobs = xcalloc(conf->ngroups + 1, sizeof(*njobs));
	nwatched = xcalloc(conf->ngroups + 1, sizeof(*nwatched));
	ncopied = xcalloc(conf->ngroups + 1, sizeof(*ncopied));
	for (i = optind; i < (size_t)argc; i++) {
		if ((g = conf_group(conf, argv[i])) == NULL) {
			ws_log(LOG_ERR, "%s: no such group", argv[i]);
			ws_usage(usage, EX_USAGE);
		}
		if (!group_ours(conf, g))
			diex(EX_USAGE, "group %s: synced by %s, not here",
			    g->name, g->peerd);
		chosen[g - conf->groups] = 1;
	}
	/* another host's groups are only described here */
	for (i = 0; i < conf->ngroups; i++)
		chosen[i] |= optind == argc &&
		    group_ours(conf, &conf->groups[i]);
	istty = isatty(STDERR_FILENO);
	if (spool_open(&sp, ws_spool()) == -1 ||
	    store_open(&st, ws_spool()) == -1)
		spool_die(ws_spool());
	if (mkdirat(sp.root, STATE_DIR, 0750) == -1 && errno != EEXIST)
		die(EX_TEMPFAIL, "%s/%s", sp.path, STATE_DIR);
	if ((dir = openat(sp.root, STATE_DIR, O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		die(EX_TEMPFAIL, "%s/%s", sp.path, STATE_DIR);
	lock = scan_lock(dir);
	load_queued();
	for (i = 0; i < conf->ngroups; i++) {
		g = &conf->groups[i];
		for (k = 0; chosen[i] && k < g->nwikis; k++) {
			if (!strset_add(&done, g->wikis[k]))
				continue;
			if ((w = conf_wiki(conf, g->wikis[k])) == NULL)
				diex(EX_CONFIG, "group %s: %s: no such wiki",
				    g->name, g->wikis[k]);
			rc = scan_wiki(w, dir, sincep);
			if (rc != 0 && (worst == 0 || worst == EX_TEMPFAIL))
				worst = rc;
		}
	}
	for (i = 0; i < conf->ngroups; i++)
		if (chosen[i] && ncopied[i] > 0)
			printf("%s: %zu page%s copied, %zu job%s, %zu page%s "
			    "watched\n", conf->groups[i].name, ncopied[i],
			    ncopied[i] == 1 ? "" : "s", njobs[i],
			    njobs[i] == 1 ? "" : "s", nwatched[i],
			    nwatched[i] == 1 ? "" : "s");
		else if (chosen[i])
			printf("%s: %zu job%s, %zu page%s watched\n",
			    conf->groups[i].name, njobs[i],
			    njobs[i] == 1 ? "" : "s", nwatched[i],
			    nwatched[i] == 1 ? "" : "s");
	strset_free(&done);
	strset_free(&queued);
	strset_free(&titles);
	free(chosen);
	free(njobs);
	free(nwatched);
	free(ncopied);
	close(lock);
	close(dir);
	store_close(&st);
	spool_close(&sp);
	return worst;
}
