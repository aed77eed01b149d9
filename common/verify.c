/*
 * verify.c: ws-verify.  Every wiki of a push's agreement is read back: it
 * holds the text agreed on in the revision recorded (by sha1, without the
 * text).  Only then every one's base moves to it, forward only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "page.h"
#include "diff.h"

/* Titles as MediaWiki compares them: an underscore is a space. */
int
title_same(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (*a != *b && !((*a == '_' || *a == ' ') &&
		    (*b == '_' || *b == ' ')))
			return 0;
	return *a == *b;
}

/*
 * Every wiki of the agreement holds its text in the revision recorded
 * (checked by sha1, without the text); only then every one's base moves
 * to it, forward only: a pointer of a later agreement stays.  A wiki no
 * longer configured is left out with a warning: it is no longer synced.
 * A job whose agreement left wikis out stays queued for them (75, or
 * the code of the permanent failure that left one out).
 */
/* Does w lack the page, as a deletion agreed on says it does? */
static int
gone_from(const struct wiki *w, const char *title)
{
	struct mwpage pg;
	struct mwerr e;
	struct mw *m;
	int gone = 0;

	memset(&pg, 0, sizeof(pg));
	if ((m = mw_open(w, &e)) == NULL || mw_info(m, &title, 1, &pg,
	    &e) == -1)
		ws_log(LOG_WARNING, "%s: %s", w->name, e.msg);
	else if (!pg.missing)
		ws_log(LOG_WARNING, "%s: %s: there again, page %ld", w->name,
		    title, pg.pageid);
	else
		gone = 1;
	mw_pages_free(&pg, 1);
	mw_close(m);
	return gone;
}

/*
 * Revisions read ahead for ws-scan's bulk copy, which verifies many jobs
 * at once: sync_verify_prefetch reads every revision their agreements
 * name, 50 a request per wiki, and sync_verify looks here before it reads
 * a revision on its own.  A revision the wiki did not show is not kept:
 * sync_verify reads it again, and says why it failed.
 */
struct ahead {
	const struct wiki	*w;
	long			 revid;
	char			 sha1[SHA1_HEX + 1];
	char			*title;
};
static struct ahead	*ahead;
static size_t		 nahead;

static void
ahead_free(void)
{
	size_t i;

	for (i = 0; i < nahead; i++)
		free(ahead[i].title);
	free(ahead);
	ahead = NULL;
	nahead = 0;
}

void
sync_verify_prefetch(const struct job *jobs, size_t n)
{
	struct agreement a;
	const struct wiki *w;
	struct ahead *v = NULL;
	struct mwrev *rv;
	struct mwerr e;
	struct mw *m;
	char **titles;
	long *ids;
	size_t i, k, nv = 0, cap = 0, b, x, nid;

	ahead_free();
	for (i = 0; i < n; i++) {
		if (agreement_read(&jobs[i], &a) == -1 || *a.sha1 == '\0' ||
		    a.deleted)
			continue;
		for (k = 0; k < a.n; k++) {
			if ((w = conf_wiki(ws_conf(), a.w[k].wiki)) == NULL)
				continue;
			if (nv == cap) {
				cap = cap ? cap * 2 : 64;
				v = xreallocarray(v, cap, sizeof(*v));
			}
			memset(&v[nv], 0, sizeof(v[0]));
			v[nv].w = w;
			v[nv++].revid = a.w[k].revid;
		}
	}
	ids = xreallocarray(NULL, nv ? nv : 1, sizeof(*ids));
	rv = xreallocarray(NULL, nv ? nv : 1, sizeof(*rv));
	titles = xreallocarray(NULL, nv ? nv : 1, sizeof(*titles));
	for (b = 0; b < nv; b++) {
		/* the first of each wiki gathers that wiki's ids */
		for (x = 0; x < b && v[x].w != v[b].w; x++)
			;
		if (x < b)
			continue;
		for (nid = 0, x = b; x < nv; x++)
			if (v[x].w == v[b].w)
				ids[nid++] = v[x].revid;
		if ((m = mw_open(v[b].w, &e)) == NULL ||
		    mw_revs_info(m, ids, nid, rv, titles, &e) == -1) {
			ws_log(LOG_NOTICE, "%s: reading ahead: %s",
			    v[b].w->name, e.msg);
			mw_close(m);
			continue;
		}
		for (nid = 0, x = b; x < nv; x++) {
			if (v[x].w != v[b].w)
				continue;
			if (rv[nid].revid != 0 && titles[nid] != NULL) {
				strlcpy(v[x].sha1, rv[nid].sha1,
				    sizeof(v[x].sha1));
				v[x].title = titles[nid];
				titles[nid] = NULL;
			}
			free(titles[nid]);
			mw_rev_free(&rv[nid++]);
		}
		mw_close(m);
	}
	free(ids);
	free(rv);
	free(titles);
	ahead = v;
	nahead = nv;
}

/* Revision revid of w without its text, and its page's title. */
static int
rev_of(const struct wiki *w, long revid, struct mwrev *rv, char **title,
    struct mwerr *e)
{
	struct mw *m;
	size_t i;
	int rc;

	for (i = 0; i < nahead; i++)
		if (ahead[i].w == w && ahead[i].revid == revid &&
		    ahead[i].title != NULL) {
			memset(rv, 0, sizeof(*rv));
			rv->revid = revid;
			strlcpy(rv->sha1, ahead[i].sha1, sizeof(rv->sha1));
			*title = xstrdup(ahead[i].title);
			return 0;
		}
	if ((m = mw_open(w, e)) == NULL)
		return -1;
	rc = mw_rev_info(m, revid, rv, title, e);
	mw_close(m);
	return rc;
}

int
sync_verify(struct store *st, const struct job *j, const struct wiki *origin)
{
	const struct wiki *w[SYNC_WIKIS];
	struct agreement a;
	struct storeptr p;
	struct mwrev rv;
	struct mwerr e;
	struct stat sb;
	char *t, revid[24];
	const char *sha;
	size_t i, k, last = 0, ok = 0;
	int code = 0, had;

	if (agreement_read(j, &a) == -1)
		diex(EX_DATAERR, "%s: sync record unreadable", j->id);
	if (*a.sha1 == '\0')
		return 0;
	if (fstatat(st->versions, a.sha1, &sb, 0) == -1) {
		ws_log(LOG_WARNING, "%s: %s not in the store", a.title, a.sha1);
		return EX_TEMPFAIL;
	}
	for (i = 0; i < a.n; i++) {
		if (strcmp(a.w[i].wiki, origin->name) == 0)
			last = i;
		if ((w[i] = conf_wiki(ws_conf(), a.w[i].wiki)) == NULL) {
			ws_log(LOG_WARNING, "%s: no longer configured",
			    a.w[i].wiki);
			ok++;
			continue;
		}
		t = NULL;
		memset(&rv, 0, sizeof(rv));
		if (a.deleted) {
			if (gone_from(w[i], a.title))
				ok++;
			continue;
		}
		if (rev_of(w[i], a.w[i].revid, &rv, &t, &e) == -1)
			ws_log(LOG_WARNING, "%s: %s", w[i]->name, e.msg);
		else if (t == NULL || !title_same(t, a.title))
			ws_log(LOG_WARNING, "%s: r%ld is of %s, not %s",
			    w[i]->name, a.w[i].revid, t ? t : "no page",
			    a.title);
		else if (strcmp(rv.sha1, a.sha1) != 0)
			ws_log(LOG_WARNING, "%s: %s: r%ld has %s, not %s",
			    w[i]->name, a.title, a.w[i].revid, rv.sha1, a.sha1);
		else
			ok++;
		free(t);
		mw_rev_free(&rv);
	}
	if (ok < a.n) {
		ws_log(LOG_WARNING, "%zu of %zu wikis not verified", a.n - ok,
		    a.n);
		return EX_TEMPFAIL;
	}
	/* the job's wiki last: the log's newest record names where it began */
	for (k = 0; k < a.n; k++) {
		i = (k + 1 + last) % a.n;
		if (w[i] == NULL)
			continue;
		memset(&p, 0, sizeof(p));
		had = store_get(st, w[i]->name, a.title, &p);
		if (had == 0 && p.gen >= a.gen)
			continue;
		/*
		 * Deleted: each wiki's base is the text it held, its own
		 * last base (a wiki that had changed since would have won
		 * over the deletion), not the deleting wiki's: one that was
		 * behind, restored, must not read the lines it never had as
		 * lines it removed.
		 */
		sha = a.sha1;
		if (a.deleted) {
			strlcpy(revid, DELETED_REV, sizeof(revid));
			if (had == 0 && *p.sha1 != '\0')
				sha = p.sha1;
		} else
			snprintf(revid, sizeof(revid), "%ld", a.w[i].revid);
		if (store_set(st, w[i]->name, a.title, sha, revid, a.gen,
		    a.w[i].pageid) == -1)
			die(EX_TEMPFAIL, "store: %s %s", w[i]->name, a.title);
	}
	/* a deletion kept: its wiki's base says so, its text unchanged */
	for (i = 0; i < a.nkept; i++)
		if (conf_wiki(ws_conf(), a.kept[i]) != NULL &&
		    store_get(st, a.kept[i], a.title, &p) == 0 &&
		    strcmp(p.revid, KEPT_REV) != 0 &&
		    strcmp(p.revid, DELETED_REV) != 0 &&
		    strcmp(p.revid, MOVED_REV) != 0 &&
		    store_set(st, a.kept[i], a.title, p.sha1, KEPT_REV, p.gen,
		    p.pageid) == -1)
			die(EX_TEMPFAIL, "store: %s %s", a.kept[i], a.title);
	for (i = 0; i < a.nleft; i++) {
		if (conf_wiki(ws_conf(), a.left[i].wiki) == NULL)
			continue;
		if (code == 0 || (code == EX_TEMPFAIL &&
		    a.left[i].code != EX_TEMPFAIL))
			code = a.left[i].code ? a.left[i].code : EX_TEMPFAIL;
	}
	if (code != 0)
		ws_log(LOG_WARNING, "%s: not yet on every wiki: %s", a.title,
		    a.why);
	return code;
}
