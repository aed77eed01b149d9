/*
 * initial.c: the initial sync of pages one wiki has alone, in bulk (sync.h;
 * ws-scan(1) -f; wikisync(7), THE PROTOCOL).
 *
 * A page that one wiki of its set has, that no other wiki of the set has,
 * and that was never synced (no wiki of the set has a base for its title,
 * nor the source one for its page id under another title: a move no job
 * followed yet) is copied as its job would copy it, with the requests of
 * many pages shared: every wiki is read 50 pages a request, each revision
 * is read once for all the peers, and what was made is verified 50
 * revisions a request.  Only the edits are one a revision and a peer.
 *
 * Every such page has a job from the start, made in cur/ and taken by
 * this process, its worker: if the process dies, ws-queue returns the job
 * at once (ws-queue(1), take -w).  A page that turns out not to be that
 * simple (a peer has it now, an edit conflict, a wiki that fails) is left
 * to its job, returned to new/, which ws-peerd runs as any other: what
 * was copied so far is the source's history, which the job goes on from.
 * A page whose copy is verified has its bases moved and its job removed,
 * as ws-verify and ws-queue done would.
 * Invariants: a page is written only while its job is in cur/ and its page
 * lock held; a job leaves the queue only after sync_verify saw the copy
 * on every wiki of its set.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sync.h"

#define LEASE		3600	/* a batch's jobs are this process's for */
#define REVS_MAX	50	/* revisions of one page copied here, at most */
#define BATCH_BYTES	(2 << 20)	/* text read in one request, about */

struct peer {
	const struct wiki	*w;
	struct mw		*m;
	int			 dead;	/* failed: its pages left to their jobs */
};

struct cand {
	struct mwpage		*src;	/* the source's info (the caller's) */
	struct syncset		 set;
	struct peer		*pe[SYNC_WIKIS];	/* set.wikis[k]'s; NULL:
							   the source */
	struct job		 job;
	int			 live;	/* 0: left to its job */
	int			 locked;
	struct mwrev		 top;	/* the source's, with its text */
	long			 rev[SYNC_WIKIS];	/* the copy there */
	long			 pageid[SYNC_WIKIS];
	struct timespec		 at[SYNC_WIKIS];	/* last saved there */
};

/* The page ids the store has bases for on one wiki (moves, see above). */
struct ids {
	const struct wiki	*w;
	struct store		*st;
	long			*v;
	size_t			 n, cap;
};
static struct ids	known;

static int
id_add(int dir, const char *wiki, const char *key, void *arg)
{
	struct ids *ids = arg;
	struct storeptr p;

	(void)dir;
	if (strcmp(wiki, ids->w->name) != 0 ||
	    store_ptr_read(ids->st, wiki, key, &p) == -1 || p.pageid == 0)
		return 0;
	if (ids->n == ids->cap) {
		ids->cap = ids->cap ? ids->cap * 2 : 256;
		ids->v = xreallocarray(ids->v, ids->cap, sizeof(*ids->v));
	}
	ids->v[ids->n++] = p.pageid;
	return 0;
}

/* Has w a base of this page id?  The store is walked once per wiki. */
static int
id_known(struct store *st, const struct wiki *w, long pageid)
{
	size_t i;

	if (known.w != w) {
		free(known.v);
		memset(&known, 0, sizeof(known));
		known.w = w;
		known.st = st;
		if (store_walk(st, id_add, &known) == -1)
			die(EX_TEMPFAIL, "store");
	}
	for (i = 0; i < known.n; i++)
		if (known.v[i] == pageid)
			return 1;
	return 0;
}

/* The page left to its job, logged with why. */
static void __attribute__((format(printf, 2, 3)))
left(struct cand *c, const char *fmt, ...)
{
	char why[600];
	va_list ap;

	if (!c->live)
		return;
	c->live = 0;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	ws_log(LOG_INFO, "%s: left to its job: %s", c->src->title, why);
}

/* A peer failed: every page it was to get is left to its job. */
static void
peer_failed(struct peer *p, struct cand *c, size_t n, const struct mwerr *e)
{
	size_t i, k;

	p->dead = 1;
	ws_log(LOG_NOTICE, "%s: %s", p->w->name, e->msg);
	for (i = 0; i < n; i++)
		for (k = 0; k < c[i].set.n; k++)
			if (c[i].pe[k] == p)
				left(&c[i], "%s did not answer", p->w->name);
}

/*
 * Revision r of the source onto the k-th wiki of c's set: made there, or
 * the next revision there, based on the one saved before.  0, or -1 when
 * the page is left to its job.
 */
static int
save(struct cand *c, size_t k, const struct wiki *src, const struct mwrev *r,
    struct cand *all, size_t n)
{
	struct peer *p = c->pe[k];
	struct mwedit ed;
	struct mwsaved sv;
	struct mwerr e;
	char sum[512];

	if (p->dead || !c->live)
		return -1;
	sync_summary(sum, sizeof(sum), src, r);
	memset(&ed, 0, sizeof(ed));
	ed.title = c->src->title;
	ed.text = r->text;
	ed.len = r->len;
	ed.summary = sum;
	ed.flags = MW_BOT | (r->minor ? MW_MINOR : 0);
	if (c->rev[k] == 0)
		ed.flags |= MW_CREATEONLY;
	else {
		ed.flags |= MW_NOCREATE;
		ed.baserevid = c->rev[k];
	}
	if (mw_edit(p->m, &ed, &sv, &e) == -1) {
		if (e.temp)
			peer_failed(p, all, n, &e);
		else
			left(c, "%s: %s", p->w->name, e.msg);
		return -1;
	}
	if (sv.result == MW_CONFLICT) {
		left(c, "%s: changed meanwhile", p->w->name);
		return -1;
	}
	if (sv.result == MW_NOCHANGE) {
		/* the text it has already: a null revision of the source */
		if (c->rev[k] != 0)
			return 0;
		left(c, "%s: nothing made", p->w->name);
		return -1;
	}
	if (sv.oldrevid != c->rev[k]) {
		left(c, "%s: edited meanwhile", p->w->name);
		return -1;
	}
	c->rev[k] = sv.revid;
	c->pageid[k] = sv.pageid;
	clock_gettime(CLOCK_MONOTONIC, &c->at[k]);
	return 0;
}

/* The source's revisions before its top onto every peer: 0, or -1. */
static int
history(struct cand *c, const struct wiki *src, struct mw *m,
    struct cand *all, size_t n)
{
	struct mwrevs h;
	struct mwerr e;
	size_t k, i, max;

	max = c->top.size > 0 ? BATCH_BYTES / (size_t)c->top.size : REVS_MAX;
	max = max < 1 ? 1 : max > REVS_MAX ? REVS_MAX : max;
	memset(&h, 0, sizeof(h));
	if (mw_revs(m, c->src->title, 0, c->top.revid, max, &h, &e) == -1) {
		left(c, "%s: %s", src->name, e.msg);
		return -1;
	}
	if (h.n == 0 || h.v[h.n - 1].revid != c->top.revid) {
		mw_revs_free(&h);
		left(c, "a long history, copied in batches");
		return -1;
	}
	for (k = 0; k < c->set.n; k++)
		for (i = 0; c->pe[k] != NULL && i + 1 < h.n; i++)
			if (h.v[i].text != NULL &&
			    save(c, k, src, &h.v[i], all, n) == -1)
				break;
	mw_revs_free(&h);
	return c->live ? 0 : -1;
}

/* PID@HOST: the owner and worker of the jobs this process takes. */
static const char *
me(void)
{
	static char who[300];

	if (*who == '\0')
		snprintf(who, sizeof(who), "%d@%s", (int)getpid(),
		    spool_host());
	return who;
}

/*
 * The job as it is now, if it is still this process's: ws-queue recover
 * -f (ws-peerd's start) returns every taken job, and a worker may have
 * taken it since; then it is that worker's, and left alone.
 */
static int
job_mine(struct spool *sp, const char *id, struct job *j)
{
	const char *o;

	if (job_load(sp, id, j) == -1) {
		if (errno != ENOENT)
			die(EX_TEMPFAIL, "%s", id);
		ws_log(LOG_NOTICE, "%s: gone from the queue", id);
		return 0;
	}
	if (j->state == Q_CUR && (o = job_get(j, "owner")) != NULL &&
	    strcmp(o, me()) == 0)
		return 1;
	ws_log(LOG_NOTICE, "%s: returned to the queue meanwhile: left to "
	    "ws-peerd", id);
	job_free(j);
	return 0;
}

/* A job in cur/, this process's: owner, worker and lease set. */
static void
job_make(struct spool *sp, const struct wiki *w, struct cand *c)
{
	const char *who = me();
	char num[32];

	memset(&c->job, 0, sizeof(c->job));
	job_set(&c->job, "wiki", w->name);
	job_set(&c->job, "title", c->src->title);
	job_set(&c->job, "event", "scan");
	snprintf(num, sizeof(num), "%lld", (long long)time(NULL));
	job_set(&c->job, "received", num);
	job_set(&c->job, "attempts", "0");
	job_set(&c->job, "owner", who);
	job_set(&c->job, "worker", who);
	snprintf(num, sizeof(num), "%lld", (long long)time(NULL) + LEASE);
	job_set(&c->job, "lease", num);
	if (job_add_in(sp, &c->job, Q_CUR) == -1)
		die(EX_TEMPFAIL, "%s/queue", sp->path);
}

/* The job done, or returned to new/ for ws-peerd; the page let go. */
static void
job_end(struct spool *sp, struct cand *c, int done)
{
	struct job j;

	if (spool_lock(sp) == -1)
		die(EX_TEMPFAIL, "%s: lock", sp->path);
	if (!job_mine(sp, c->job.id, &j)) {
		spool_unlock(sp);
		return;
	}
	if (done) {
		if (job_remove(sp, &j) == -1)
			die(EX_TEMPFAIL, "%s", j.id);
	} else {
		job_unset(&j, "owner");
		job_unset(&j, "worker");
		job_unset(&j, "lease");
		if (job_save(sp, &j, Q_NEW, 0) == -1)
			die(EX_TEMPFAIL, "%s", j.id);
	}
	spool_unlock(sp);
	job_free(&j);
}

/* The candidates among pages (in[i] set), with their sets and peers. */
static size_t
choose(struct store *st, const struct wiki *w, struct mwpage *pages,
    size_t n, const int *in, struct cand *c, struct peer *pe, size_t *npe)
{
	struct storeptr ptr;
	struct mwpage *p;
	size_t i, k, x, live = 0;

	for (i = 0; i < n; i++) {
		p = &pages[i];
		c[i].src = p;
		if (!in[i] || p->missing || p->invalid || p->pageid == 0 ||
		    p->ns == NS_FILE)
			continue;
		if (syncset_of(ws_conf(), w->name, p->title, p->cats, p->ncats,
		    &c[i].set) < 2 || c[i].set.owner != NULL)
			continue;
		for (k = 0; k < c[i].set.n; k++)
			if (store_get(st, c[i].set.wikis[k]->name, p->title,
			    &ptr) == 0)
				break;
		if (k < c[i].set.n || id_known(st, w, p->pageid))
			continue;
		for (k = 0; k < c[i].set.n; k++) {
			if (c[i].set.wikis[k] == w)
				continue;
			for (x = 0; x < *npe && pe[x].w != c[i].set.wikis[k]; x++)
				;
			if (x == *npe) {
				if (*npe == SYNC_WIKIS)
					break;
				pe[(*npe)++].w = c[i].set.wikis[k];
			}
			c[i].pe[k] = &pe[x];
		}
		if (k < c[i].set.n)
			continue;
		c[i].live = 1;
		live++;
	}
	return live;
}

/* The live candidates' titles, those of peer p's only (NULL: all). */
static size_t
titles_of(struct cand *c, size_t n, const struct peer *p, const char **t,
    size_t *at)
{
	size_t i, k, nt = 0;

	for (i = 0; i < n; i++) {
		if (!c[i].live)
			continue;
		for (k = 0; p != NULL && k < c[i].set.n && c[i].pe[k] != p; k++)
			;
		if (p != NULL && k == c[i].set.n)
			continue;
		at[nt] = i;
		t[nt++] = c[i].src->title;
	}
	return nt;
}

/*
 * A peer's connection, kept for the process (and its tokens with it):
 * one scan copies many batches to the same peers.
 */
static struct mw *
peer_open(const struct wiki *w, struct mwerr *e)
{
	static struct {
		const struct wiki	*w;
		struct mw		*m;
	} open[SYNC_WIKIS];
	size_t i;

	for (i = 0; i < SYNC_WIKIS && open[i].w != NULL; i++)
		if (open[i].w == w)
			return open[i].m;
	if (i == SYNC_WIKIS)
		return mw_open(w, e);
	if ((open[i].m = mw_open(w, e)) != NULL)
		open[i].w = w;
	return open[i].m;
}

/* Every peer lacks every page it is to get, and watches it. */
static void
peers_lack(struct cand *c, size_t n, struct peer *pe, size_t npe,
    const char **t, size_t *at)
{
	struct mwpage *tops;
	struct mwerr e;
	size_t x, i, nt;

	tops = xcalloc(n, sizeof(*tops));
	for (x = 0; x < npe; x++) {
		if ((pe[x].m = peer_open(pe[x].w, &e)) == NULL) {
			peer_failed(&pe[x], c, n, &e);
			continue;
		}
		if ((nt = titles_of(c, n, &pe[x], t, at)) == 0)
			continue;
		if (mw_tops(pe[x].m, t, nt, tops, &e) == -1) {
			peer_failed(&pe[x], c, n, &e);
			continue;
		}
		for (i = 0; i < nt; i++)
			if (!tops[i].missing || tops[i].invalid)
				left(&c[at[i]], "%s %s", pe[x].w->name,
				    tops[i].invalid ? "takes no such title" :
				    "has it");
		mw_pages_free(tops, nt);
		/* watched before made: its first edit mails */
		if ((nt = titles_of(c, n, &pe[x], t, at)) > 0 &&
		    mw_watch(pe[x].m, t, nt, &e) == -1)
			peer_failed(&pe[x], c, n, &e);
	}
	free(tops);
}

/*
 * The source's current revisions, with their texts, about BATCH_BYTES a
 * request; marked seen first, so an edit made after the reading mails.
 */
static int
read_source(struct cand *c, size_t n, struct mw *m, const char **t,
    size_t *at)
{
	struct mwpage *cur;
	struct mwerr e;
	size_t nt, b, k, i;
	long bytes;

	/* unseen: the wiki mails no more changes until marked seen */
	for (i = 0, nt = 0; i < n; i++)
		if (c[i].live && c[i].src->unseen)
			t[nt++] = c[i].src->title;
	if (nt > 0 && mw_seen(m, t, nt, &e) == -1) {
		nt = titles_of(c, n, NULL, t, at);
		goto fail;
	}
	nt = titles_of(c, n, NULL, t, at);
	if (nt == 0)
		return 0;
	cur = xcalloc(nt, sizeof(*cur));
	for (b = 0; b < nt; b += k) {
		for (k = 0, bytes = 0; b + k < nt && (k == 0 || bytes +
		    c[at[b + k]].src->length <= BATCH_BYTES); k++)
			bytes += c[at[b + k]].src->length;
		if (mw_current(m, t + b, k, cur + b, &e) == -1) {
			mw_pages_free(cur, b);
			free(cur);
			goto fail;
		}
	}
	for (i = 0; i < nt; i++) {
		if (cur[i].missing || cur[i].pageid != c[at[i]].src->pageid ||
		    cur[i].rev.text == NULL)
			left(&c[at[i]], "changed as it was read");
		else {
			c[at[i]].top = cur[i].rev;
			memset(&cur[i].rev, 0, sizeof(cur[i].rev));
		}
	}
	mw_pages_free(cur, nt);
	free(cur);
	return 0;
fail:
	ws_log(LOG_NOTICE, "%s", e.msg);
	for (i = 0; i < nt; i++)
		left(&c[at[i]], "its wiki did not answer");
	return -1;
}

/* The copy agreed on, as a job's agreement: the text stored, the record
   written in the job. */
static void
agreed(struct spool *sp, struct store *st, const struct wiki *w,
    struct cand *c)
{
	struct agreement a;
	struct timeval tv;
	char got[SHA1_HEX + 1];
	size_t k;

	if (store_put(st, c->top.text, c->top.len, got) == -1)
		die(EX_TEMPFAIL, "store");
	if (strcmp(got, c->top.sha1) != 0) {
		ws_log(LOG_WARNING, "%s: %s: text read has sha1 %s, the wiki "
		    "says %s", w->name, c->src->title, got, c->top.sha1);
		left(c, "its text and sha1 differ");
		return;
	}
	memset(&a, 0, sizeof(a));
	strlcpy(a.sha1, got, sizeof(a.sha1));
	strlcpy(a.title, c->src->title, sizeof(a.title));
	gettimeofday(&tv, NULL);
	a.gen = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
	for (k = 0; k < c->set.n; k++) {
		strlcpy(a.w[k].wiki, c->set.wikis[k]->name,
		    sizeof(a.w[0].wiki));
		a.w[k].revid = c->pe[k] ? c->rev[k] : c->top.revid;
		a.w[k].pageid = c->pe[k] ? c->pageid[k] : c->src->pageid;
	}
	a.n = c->set.n;
	if (agreement_write(sp, c->job.id, &a) == -1)
		die(EX_TEMPFAIL, "%s: recording the agreement", c->job.id);
}

/* The agreements verified, 50 revisions a request: 1 done, 0 not. */
static void
verify(struct spool *sp, struct store *st, const struct wiki *w,
    struct cand *c, size_t n, int *done)
{
	struct job *jobs;
	size_t i, nj = 0, *at;

	jobs = xcalloc(n, sizeof(*jobs));
	at = xcalloc(n, sizeof(*at));
	for (i = 0; i < n; i++) {
		if (!c[i].live)
			continue;
		if (spool_lock(sp) == -1)
			die(EX_TEMPFAIL, "%s: lock", sp->path);
		if (job_mine(sp, c[i].job.id, &jobs[nj]))
			at[nj++] = i;
		else
			c[i].live = 0;
		spool_unlock(sp);
	}
	sync_verify_prefetch(jobs, nj);
	for (i = 0; i < nj; i++) {
		done[at[i]] = sync_verify(st, &jobs[i], w) == 0;
		job_free(&jobs[i]);
	}
	free(jobs);
	free(at);
}

void
sync_initial(struct spool *sp, struct store *st, const struct wiki *w,
    struct mw *m, struct mwpage *pages, size_t n, int *res,
    char (*ids)[64])
{
	struct peer pe[SYNC_WIKIS];
	struct mwerr e;
	struct cand *c;
	const char **t;
	size_t i, k, npe = 0, *at, copied = 0, left_n = 0;
	int *done, *files;

	memset(pe, 0, sizeof(pe));
	c = xcalloc(n, sizeof(*c));
	if (choose(st, w, pages, n, res, c, pe, &npe) == 0) {
		memset(res, 0, n * sizeof(*res));
		free(c);
		return;
	}
	memset(res, 0, n * sizeof(*res));
	t = xcalloc(n, sizeof(*t));
	at = xcalloc(n, sizeof(*at));
	done = xcalloc(n, sizeof(*done));
	files = xcalloc(n, sizeof(*files));

	/* the pages showing files the group syncs: their jobs do both */
	for (i = 0, k = 0; i < n; i++)
		if (c[i].live && c[i].set.first->files) {
			at[k] = i;
			t[k++] = c[i].src->title;
		}
	if (k > 0 && mw_with_files(m, t, k, files, &e) == -1) {
		ws_log(LOG_NOTICE, "%s: %s", w->name, e.msg);
		goto none;
	}
	while (k-- > 0)
		if (files[k])
			c[at[k]].live = 0;

	/* from here each page has its job, and no other push works on it */
	for (i = 0; i < n; i++) {
		if (!c[i].live)
			continue;
		job_make(sp, w, &c[i]);
		strlcpy(ids[i], c[i].job.id, sizeof(ids[0]));
		res[i] = INITIAL_QUEUED;
		if (spool_page_lock(sp, c[i].src->title) == -1)
			die(EX_TEMPFAIL, "%s: page lock", c[i].src->title);
		c[i].locked = 1;
	}
	peers_lack(c, n, pe, npe, t, at);
	if (read_source(c, n, m, t, at) == 0) {
		for (i = 0; i < n; i++)
			if (c[i].live && c[i].set.first->history ==
			    HISTORY_REPLAY && c[i].top.parentid != 0)
				history(&c[i], w, m, c, n);
		/* the tops last: a page made in phase one waits less for
		   the second its last revision must be in (sync.c,
		   later_second) */
		for (i = 0; i < n; i++)
			for (k = 0; k < c[i].set.n; k++) {
				if (c[i].pe[k] == NULL || c[i].pe[k]->dead ||
				    !c[i].live)
					continue;
				sync_wait_since(&c[i].at[k], SYNC_LATER_MS);
				save(&c[i], k, w, &c[i].top, c, n);
			}
		for (i = 0; i < n; i++)
			if (c[i].live)
				agreed(sp, st, w, &c[i]);
		verify(sp, st, w, c, n, done);
	}
	for (i = 0; i < n; i++) {
		if (res[i] == 0)
			continue;
		job_end(sp, &c[i], done[i]);
		if (done[i]) {
			res[i] = INITIAL_DONE;
			copied++;
		} else
			left_n++;
		if (c[i].locked)
			spool_page_unlock(sp, c[i].src->title);
	}
	if (copied + left_n > 0)
		ws_log(LOG_DEBUG, "%s: %zu pages copied to every wiki of their "
		    "sets, %zu left to their jobs", w->name, copied, left_n);
none:
	for (i = 0; i < n; i++) {
		mw_rev_free(&c[i].top);
		job_free(&c[i].job);
	}
	free(c);
	free(t);
	free(at);
	free(done);
	free(files);
}
