/*
 * replay.c: a source's revisions replayed onto the wikis that lack them,
 * each as its own edit, oldest first (wikisync(7), THE PROTOCOL).
 *
 * The only threaded code of the protocol.  The thread contract:
 * - replay_all runs one thread per wiki written (replayer_run); each
 *   touches its own struct side, and its own mw handle (curl easy
 *   handles are not shared), and nothing else of the page but what it
 *   reads: the source's revisions, fetched once under the mutex;
 * - a thread never exits the process for a wiki's failure: it is
 *   returned, in its side (left out, with why) or as SRC_OUT, and
 *   replay_all joins every thread before it looks at any of them; what
 *   must stop the process (memory exhausted, the store unwritable) dies
 *   with _exit while threads run (mw_threaded, ws_exit_fast), so no
 *   exit handler runs under the other threads, and the job is run again
 *   as after a kill;
 * - ws_log is the only shared output (one write a line).
 * So after replay_all returns, the page is as one thread would have left
 * it, wiki after wiki.
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

/*
 * Did src take part in what s's base says s agreed on?  In the agreement
 * itself or a later one, or the base is a revision of src's that this job
 * replayed.  When it did not (src was left out of s's newest agreement),
 * s's text in src's history is a coincidence, not where s stands: a text
 * s and others agreed on by reverting to an older one.
 */
static int
base_shared(const struct side *src, const struct side *s)
{
	if (*s->base.sha1 == '\0' || s->base.rank <= src->base.rank)
		return 1;
	return s->base.from == src;
}

/*
 * Can src be the source?  Every other wiki must lack the page or hold a
 * text of src's history (its SHA-1 found there, newest first) no older
 * than the newest revision holding its base; src's revisions after that
 * one are what it lacks.  "Whatever that text has and the replayed one
 * lacks was removed by an edit on the source" holds only then: a text
 * found before its base was made again on that wiki (a revert) after src
 * moved past it, and its lines would be lost; so would a text of a wiki
 * whose base src never shared (base_shared).  Those are merged.  A wiki
 * lacking the page gets src's history from src's base on (all of it when
 * src has none).  1 yes, 0 no, MOVED when src did not answer.
 */
int
source_for(struct page *pg, struct side *src)
{
	struct mwrevs h;
	struct mwerr e;
	struct side *s;
	size_t i, k, seen = 0, want = 0, found = 0;
	long before = 0, from = 0;
	int lacking = 0, bseen[SYNC_WIKIS] = { 0 };

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		s->after = -1;
		if (s == src || !side_in(s))
			continue;
		if (s->top.missing)
			lacking = 1;
		else if (strcmp(s->top.rev.sha1, src->top.rev.sha1) == 0)
			s->after = src->top.rev.revid;
		else if (!base_shared(src, s))
			return 0;
		else
			want++;
	}
	if (lacking && *src->base.sha1)
		from = -1;
	while ((found < want || from == -1) && seen < HISTORY_MAX) {
		memset(&h, 0, sizeof(h));
		if (mw_history_back(src->mw, pg->title, before, seen ? 500 :
		    BATCH, &h, &e) == -1)
			return side_leave_out(pg, src, &e);
		for (k = 0; k < h.n; k++) {
			if (from == -1 && strcmp(h.v[k].sha1,
			    src->base.sha1) == 0)
				from = h.v[k].revid;
			for (i = 0; i < pg->n; i++) {
				s = &pg->s[i];
				if (s == src || !side_in(s) || s->after != -1 ||
				    s->top.missing)
					continue;
				if (strcmp(s->top.rev.sha1, h.v[k].sha1) == 0) {
					/* older than its base: made again */
					if (bseen[i]) {
						mw_revs_free(&h);
						return 0;
					}
					s->after = h.v[k].revid;
					found++;
				} else if (*s->base.sha1 && strcmp(s->base.sha1,
				    h.v[k].sha1) == 0)
					bseen[i] = 1;
			}
		}
		seen += h.n;
		before = h.n ? h.v[h.n - 1].revid : 0;
		k = h.n;
		mw_revs_free(&h);
		if (k == 0 || before == 0)
			break;
	}
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (s == src || !side_in(s) || s->after != -1)
			continue;
		if (!s->top.missing)
			return 0;
		/* its base not in src's history: only src's text */
		s->after = from == -1 ? src->top.rev.revid : from;
	}
	return 1;
}

/* "from alpha r12 by Editor: summary" */
void
sync_summary(char *buf, size_t len, const struct wiki *src,
    const struct mwrev *r)
{
	const char *u = r->user ? r->user : "", *c = r->comment ? r->comment : "";

	snprintf(buf, len, "from %s r%ld by %s%s%s", src->name, r->revid,
	    *u ? u : "(hidden)", *c ? ": " : "", c);
	utf8_cut(buf, 400);
}

/*
 * How many revisions a read for replay asks for: about BATCH_BYTES of
 * text, shared by the replays reading at once, judged by src's current
 * revision (texts mostly grow), so memory stays bounded whatever the
 * history; 1 to BATCH.
 */
static size_t
batch_of(const struct side *src, size_t share)
{
	long size = src->top.rev.size;
	size_t n;

	if (size <= 0)
		return BATCH;
	n = BATCH_BYTES / share / (size_t)size;
	return n < 1 ? 1 : n > BATCH ? BATCH : n;
}

/*
 * src's revisions after s->after onto s, in order, a batch at a time; a
 * wiki lacking the page whose replay would start at src's top gets just
 * that.  Each saved one becomes s's base.  src is read through from, and
 * nothing but s is written, so the replays onto the peers can run at once
 * (replay_all, share of them); SRC_OUT when src did not answer (its error
 * in srcerr).
 */
static int
replay(struct page *pg, struct side *src, struct mw *from, struct side *s,
    enum history history, size_t share, struct mwerr *srcerr)
{
	struct mwrevs rv;
	struct mwrev *r;
	char sum[512], got[SHA1_HEX + 1];
	long after = s->after, upto = src->top.rev.revid;
	size_t i;
	int rc;

	for (;;) {
		memset(&rv, 0, sizeof(rv));
		if (history == HISTORY_LATEST || after == upto) {
			/* only the top: the text is what matters */
			rv.v = xcalloc(1, sizeof(*rv.v));
			rv.n = 1;
			if (mw_rev(from, upto, rv.v, NULL, srcerr) == -1) {
				mw_revs_free(&rv);
				return SRC_OUT;
			}
		} else if (mw_revs(from, pg->title, after, upto,
		    batch_of(src, share), &rv, srcerr) == -1)
			return SRC_OUT;
		if (rv.n == 0) {
			mw_revs_free(&rv);
			if (after < upto) {
				ws_log(LOG_NOTICE, "%s: %s: r%ld to r%ld gone as "
				    "they were read: read again", src->w->name,
				    pg->title, after, upto);
				return VANISHED;
			}
			break;
		}
		for (i = 0; i < rv.n; i++) {
			r = &rv.v[i];
			after = r->revid;
			if (r->text == NULL)
				continue;	/* suppressed on the source */
			sync_summary(sum, sizeof(sum), src->w, r);
			/* each in a later second than the one before: an
			   editor who loaded one of them and saves after the
			   next would otherwise overwrite it unseen
			   (MediaWiki compares an edit's base to the
			   second); so a replay takes a second a revision */
			rc = side_save(pg, s, r->text, r->len, sum, r->minor,
			    1);
			if (rc == 0 && r->revid == upto && store_put(pg->st,
			    r->text, r->len, got) == 0 && strcmp(got, r->sha1))
				ws_log(LOG_WARNING, "%s: %s: r%ld has sha1 %s, "
				    "not %s", src->w->name, pg->title, upto, got,
				    r->sha1);
			if (rc == 0 || rc == MERGED)
				base_rev(&s->base, src, r);
			if (rc == 0 || rc == MERGED || rc == MERGED_SAME)
				s->revs++;
			if (rc != 0) {
				mw_revs_free(&rv);
				return rc == MERGED || rc == MERGED_SAME ? MOVED :
				    rc;
			}
		}
		mw_revs_free(&rv);
		if (after >= upto || history == HISTORY_LATEST)
			break;
	}
	return 0;
}

/*
 * The replays of one round, run by up to REPLAYERS threads at once (the
 * caller's among them), each taking the next peer when it is done.
 */
#define REPLAYERS	4

struct replays {
	struct page	*pg;
	struct side	*src;
	struct side	**v;	/* the peers */
	size_t		 n;
	size_t		 next;	/* the next peer to take, under mu */
	pthread_mutex_t	 mu;
	enum history	 history;
	size_t		 share;	/* replays holding a batch at once */
	int		 rc[SYNC_WIKIS];
	struct mwerr	 e[SYNC_WIKIS];	/* src's error, rc[i] SRC_OUT */
};

struct replayer {
	struct replays	*r;
	struct mw	*from;	/* src, through a handle of its own */
	pthread_t	 tid;
};

static void *
replayer_run(void *arg)
{
	struct replayer *t = arg;
	struct replays *r = t->r;
	size_t i;

	for (;;) {
		pthread_mutex_lock(&r->mu);
		i = r->next < r->n ? r->next++ : r->n;
		pthread_mutex_unlock(&r->mu);
		if (i == r->n)
			return NULL;
		r->rc[i] = replay(r->pg, r->src, t->from, r->v[i], r->history,
		    r->share, &r->e[i]);
	}
}

/*
 * src replayed onto the n peers v at once: each wiki's replay is its own
 * order of edits, and none waits on another's, so a job with two peers
 * takes about as long as its slower replay rather than their sum (the
 * wait for each wiki's next second before its last edit, most of all).
 * This thread replays too, reading src through src->mw; each other one
 * reads it through a handle of its own (without one, it is not started).
 * Each holds a batch of text at a time, so batches are made smaller by
 * their number, and a page whose text would not fit that many times in
 * one batch's bytes has fewer: memory stays about what one replay took.
 * The first failure in v's order is returned, as replays one after the
 * other would, but VANISHED before any other (what the caller undoes);
 * the others have gone on, which a replay onto each alone may do too.
 */
int
replay_all(struct page *pg, struct side *src, struct side **v, size_t n,
    enum history history)
{
	struct replays r;
	struct replayer t[REPLAYERS];
	struct mwerr e;
	size_t i, nt = 1;
	int rc = 0;

	memset(&r, 0, sizeof(r));
	r.pg = pg;
	r.src = src;
	r.v = v;
	r.n = n;
	r.history = history;
	pthread_mutex_init(&r.mu, NULL);
	/* as many as hold a text each within BATCH_BYTES, at least one */
	r.share = n < REPLAYERS ? n : REPLAYERS;
	if (src->top.rev.size > 0 && (size_t)src->top.rev.size * r.share >
	    BATCH_BYTES)
		r.share = BATCH_BYTES / (size_t)src->top.rev.size;
	if (r.share < 1)
		r.share = 1;
	t[0].r = &r;
	t[0].from = src->mw;
	for (i = 1; i < r.share; i++) {
		t[nt].r = &r;
		if ((t[nt].from = mw_open(src->w, &e)) == NULL) {
			ws_log(LOG_NOTICE, "%s: %s: replays one fewer at once: "
			    "%s", src->w->name, pg->title, e.msg);
			continue;
		}
		mw_threaded(1);
		if (pthread_create(&t[nt].tid, NULL, replayer_run, &t[nt])) {
			mw_close(t[nt].from);
			continue;
		}
		nt++;
	}
	replayer_run(&t[0]);
	for (i = 1; i < nt; i++)
		pthread_join(t[i].tid, NULL);
	mw_threaded(0);
	for (i = 1; i < nt; i++)
		mw_close(t[i].from);
	pthread_mutex_destroy(&r.mu);
	for (i = 0; i < n; i++) {
		if (r.rc[i] == SRC_OUT && !src->out)
			side_leave_out(pg, src, &r.e[i]);
		if (r.rc[i] == SRC_OUT)
			r.rc[i] = MOVED;
		if (rc == 0 || r.rc[i] == VANISHED)
			rc = r.rc[i] ? r.rc[i] : rc;
	}
	return rc;
}
