/*
 * verify.c: ws-verify, confirm each wiki carries what ws-push gave it.
 *
 * For every expect.WIKI=SHA1 that ws-push recorded in the job: the page's
 * current revision on WIKI must have that SHA-1, and every revision the
 * source made since the base must be in WIKI's history (by SHA-1, in
 * order).  Only then does the store's base for WIKI move to that text
 * (ws-store's order, crash-safe).  Invariant: exit 0 only when every
 * wiki was seen to carry its text; the job may leave the queue only
 * then.  Anything less exits 75 and the job is tried again.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"
#include "mw.h"

static const char usage[] = "[-qv] [-c file] [-d dir] job";

/* Titles as MediaWiki compares them: an underscore is a space. */
static int
title_same(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (*a != *b && !((*a == '_' || *a == ' ') &&
		    (*b == '_' || *b == ' ')))
			return 0;
	return *a == *b;
}

/* Is every SHA-1 of want[] in revs[], in order? */
static int
has_in_order(const struct mwrevs *revs, const struct mwrevs *want)
{
	size_t i = 0, k = 0;

	for (;;) {
		while (i < want->n && want->v[i].text == NULL)
			i++;			/* suppressed: not copied */
		if (i == want->n)
			return 1;
		while (k < revs->n && strcmp(revs->v[k].sha1,
		    want->v[i].sha1) != 0)
			k++;
		if (k == revs->n)
			return 0;
		i++;
		k++;
	}
}

/* The revision the job says WIKI holds the text in; 0 when not recorded. */
static long
job_revid(const struct job *j, const char *wiki)
{
	char key[64];
	const char *v;

	snprintf(key, sizeof(key), "revid.%s", wiki);
	return (v = job_get(j, key)) != NULL ? atol(v) : 0;
}

/* Has w's title the text sha1 in revision revid (0: the current one)? */
static int
verify_wiki(const struct wiki *w, const char *title, const char *sha1,
    long revid, int replayed, const struct wiki *src, long srcrevid,
    struct mw *srcmw, struct store *st)
{
	struct storeptr base, sbase;
	struct mwpage cur;
	struct mwrev *rev = &cur.rev;
	struct mwrevs mine, theirs;
	struct mwerr e;
	struct mw *m;
	char got[SHA1_HEX + 1], rv[24], *t = NULL;
	int ok = 0;

	memset(&cur, 0, sizeof(cur));
	memset(&mine, 0, sizeof(mine));
	memset(&theirs, 0, sizeof(theirs));
	if ((m = mw_open(w, &e)) == NULL)
		goto fail;
	if (revid > 0) {
		/* that revision, even if the page has moved on since */
		if (mw_rev(m, revid, rev, &t, &e) == -1)
			goto fail;
		if (!title_same(t, title)) {
			ws_log(LOG_WARNING, "%s: r%ld is of %s, not %s", w->name,
			    revid, t, title);
			goto out;
		}
	} else if (mw_current(m, &title, 1, &cur, &e) == -1)
		goto fail;
	if (cur.missing || strcmp(rev->sha1, sha1) != 0) {
		ws_log(LOG_WARNING, "%s: %s: text is %s, not %s", w->name, title,
		    cur.missing ? "missing" : rev->sha1, sha1);
		goto out;
	}
	/* the source's revisions since its base are in this wiki's history */
	if (replayed && store_get(st, w->name, title, &base) == 0 &&
	    store_get(st, src->name, title, &sbase) == 0) {
		if (mw_revs(m, title, atol(base.revid), rev->revid, 0, &mine,
		    &e) == -1 || mw_revs(srcmw, title, atol(sbase.revid),
		    srcrevid, 0, &theirs, &e) == -1)
			goto fail;
		if (!has_in_order(&mine, &theirs)) {
			ws_log(LOG_WARNING, "%s: %s: revisions from %s missing "
			    "in its history", w->name, title, src->name);
			goto out;
		}
	}
	if (store_put(st, rev->text ? rev->text : "", rev->len, got) == -1)
		die(EX_TEMPFAIL, "store");
	if (strcmp(got, sha1) != 0) {
		ws_log(LOG_WARNING, "%s: %s: text read has sha1 %s, the wiki "
		    "says %s", w->name, title, got, sha1);
		goto out;
	}
	snprintf(rv, sizeof(rv), "%ld", rev->revid);
	if (store_set(st, w->name, title, sha1, rv) == -1)
		die(EX_TEMPFAIL, "store: %s %s", w->name, title);
	ok = 1;
	goto out;
fail:
	ws_log(LOG_WARNING, "%s: %s", w->name, e.msg);
out:
	free(t);
	mw_revs_free(&mine);
	mw_revs_free(&theirs);
	mw_pages_free(&cur, 1);
	if (m != NULL)
		mw_close(m);
	return ok;
}

int
verify_main(int argc, char *argv[])
{
	const struct conf *c;
	const struct wiki *w, *src;
	struct spool sp;
	struct store st;
	struct job j;
	struct mwerr e;
	struct mw *srcmw;
	const char *title;
	char key[64];
	size_t i, n = 0, ok = 0;
	int ch;

	while ((ch = getopt(argc, argv, WS_OPTS)) != -1)
		ws_opt(ch, optarg, usage);
	if (argc - optind != 1)
		ws_usage(usage, EX_USAGE);
	c = ws_conf();
	src = sync_job_open(argv[optind], &sp, &st, &j, &title);
	if ((srcmw = mw_open(src, &e)) == NULL)
		diex(e.code, "%s: %s", src->name, e.msg);
	/* the peers first: the source's base moves last */
	for (i = 0; i < j.n; i++) {
		if (strncmp(j.key[i], "expect.", 7) != 0 ||
		    strcmp(j.key[i] + 7, src->name) == 0)
			continue;
		n++;
		if ((w = conf_wiki(c, j.key[i] + 7)) == NULL)
			ws_log(LOG_WARNING, "%s: no longer configured",
			    j.key[i] + 7);
		else {
			snprintf(key, sizeof(key), "replay.%s", w->name);
			ok += verify_wiki(w, title, j.val[i], job_revid(&j,
			    w->name), job_get(&j, key) != NULL, src,
			    job_revid(&j, src->name), srcmw, &st);
		}
	}
	for (i = 0; i < j.n; i++)
		if (strncmp(j.key[i], "expect.", 7) == 0 &&
		    strcmp(j.key[i] + 7, src->name) == 0 && ok == n) {
			n++;
			ok += verify_wiki(src, title, j.val[i], job_revid(&j,
			    src->name), 0, src, 0, srcmw, &st);
		}
	mw_close(srcmw);
	job_free(&j);
	store_close(&st);
	spool_close(&sp);
	if (ok < n) {
		ws_log(LOG_WARNING, "%zu of %zu wikis not verified", n - ok, n);
		return EX_TEMPFAIL;
	}
	return 0;
}
