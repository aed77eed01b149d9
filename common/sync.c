/*
 * sync.c: the sync protocol (sync.h; wikisync(7), THE PROTOCOL).
 *
 * A job makes one page the same on every wiki of its set that answers,
 * in rounds.  Each round reads every wiki's current revision (ids and
 * sha1, no text).  If all that answer hold one text, that is the
 * agreement: it is recorded in the job, and the round ends the job.
 * Otherwise the round picks a source, a wiki whose history holds every
 * other wiki's current text, and replays its later revisions onto the
 * others in order; when no wiki is such a source, every text that changed
 * since its base is merged into one result, written to every wiki that
 * lacks it.  Every edit is based on the revision just read; an edit
 * conflict, or a saved edit whose old revision is not the one it was
 * based on (MediaWiki merged it with an edit made meanwhile), ends the
 * round early, and the next reads again.
 *
 * A wiki's base is the text its changes are measured from: its store
 * pointer (the last agreement it took part in) until this job writes to
 * it, then what the job wrote or merged of it.  The merge starts from
 * the newest of them (this job's last result, else the newest agreement)
 * and merges in each changed wiki against its own base.
 * Invariants:
 * - agreements form a chain: each one's text grew from the one before,
 *   because a job runs only while a wiki that took part in the newest
 *   agreement answers; so every base is an ancestor of the text the merge
 *   starts from, and a three-way merge against it drops no saved line;
 * - text is only ever written as a wiki's own revision or as such a
 *   merge, and a conflict keeps every side in the page;
 * - the job's agreement names, for every wiki in it, a revision seen to
 *   hold its sha1; nothing moves a base to a new text but sync_verify
 *   (ws-verify, or sync_page first when the last push went unverified),
 *   and only forward; following a move carries a pointer to the new
 *   title with its text;
 * - a wiki that does not answer is left out and named in the job, which
 *   stays queued until it too holds the text; the others sync meanwhile;
 * - a job run again (after a crash anywhere) writes nothing a wiki has.
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

#include "sync.h"
#include "diff.h"

#define ROUNDS		5	/* reads of every wiki a job makes, at most */
#define BATCH		50	/* revisions replayed per read, at most */
#define BATCH_BYTES	(2 << 20)	/* and about this much text */
#define HISTORY_MAX	5000	/* source history searched for a wiki's text */
#define JOB_RANK	LLONG_MAX	/* a base this job made: newer than all */

/* What a wiki's changes are measured from, and where its text is. */
struct base {
	char			 sha1[SHA1_HEX + 1];	/* "": the empty text */
	long long		 rank;	/* the agreement's generation; JOB_RANK:
					   this job's; -1: none */
	const char		*text;	/* NULL: not loaded yet */
	size_t			 len;
	struct side		*from;	/* its text: this wiki's revision srev */
	long			 srev;	/* (from NULL: the store) */
};

/* One wiki of the page's set, as the job sees it. */
struct side {
	const struct wiki	*w;
	struct mw		*mw;
	int			 out;	/* left out of this job: why, code */
	char			 why[MW_ERRLEN];
	int			 code;
	struct mwpage		 top;	/* current revision, no text */
	struct timespec		 known;	/* when it was seen to be current */
	struct storeptr		 ptr;	/* its store pointer */
	int			 hasptr;
	struct base		 base;
	long			 after;	/* replay: the source's revisions
					   after this one */
	size_t			 revs;	/* revisions this job gave it */
	int			 merged;	/* 1 merged, 2 with conflicts */
	int			 kept;	/* deleted here, kept on the others
					   (deletions = keep): not synced */
	int			 noted;	/* its deleter told the page stays */
	int			 undeleted;	/* this job restored it here */
	int			 haslog;	/* log below read */
	struct mwlog		 log;	/* the page's newest deletion here */
	int			 move;	/* follow_move: 1 to move, 2 moved */
	size_t			 files;	/* files this job uploaded there */
	int			 seen;	/* fold: 1 jobs listed, 2 marked seen */
};

struct page {
	struct spool		*sp;
	struct store		*st;
	const char		*jobid;
	struct syncset		 set;
	char			 title[512];
	struct side		 s[SYNC_WIKIS];
	size_t			 n;
	size_t			 origin;	/* the job's wiki */
	long long		 newest;	/* the newest agreement's gen */
	struct base		 meet;		/* this job's last result */
	int			 hasmeet;
	char			**pool;		/* texts the job holds */
	size_t			 npool;
	int			 worst;
	char			**fold;		/* queued jobs this one covers */
	size_t			 nfold;
	int			 settled;	/* one text everywhere, as agreed */
	FILE			*out;		/* what was done, for the caller */
	char			 to[512];	/* RENAMED: where the page went */
};

#define MOVED	(-2)	/* a wiki changed meanwhile, or went: read again */
#define MERGED	(-3)	/* saved, merged by MediaWiki with an edit made
			   meanwhile: read again */
#define RENAMED	(-4)	/* the page moved, and every wiki followed: the
			   job goes on under its new title, pg->to */
#define VANISHED (-5)	/* the source's revisions went as they were
			   replayed (deleted, moved): read again */
#define SRC_OUT	(-6)	/* replay: the source did not answer */
#define MOVES_MAX	3	/* moves one job follows, at most */

/* --- small things ---------------------------------------------------- */

/* The job ends without an agreement: a permanent failure outranks. */
static void
failed(struct page *pg, const struct side *s, const struct mwerr *e)
{
	ws_log(LOG_WARNING, "%s: %s", s->w->name, e->msg);
	if (pg->worst == 0 || (pg->worst == EX_TEMPFAIL && !e->temp))
		pg->worst = e->temp ? EX_TEMPFAIL : e->code;
}

/*
 * s did not answer, or refused: it is left out of the job, which goes on
 * with the others and stays queued for it.  Always MOVED: read again.
 */
static int
leave_out(struct page *pg, struct side *s, const struct mwerr *e)
{
	ws_log(LOG_WARNING, "%s: %s: left out: %s", s->w->name, pg->title,
	    e->msg);
	s->out = 1;
	s->code = e->temp ? EX_TEMPFAIL : e->code;
	strlcpy(s->why, e->msg, sizeof(s->why));
	return MOVED;
}

/* Cut s at len bytes, on a UTF-8 character boundary. */
static void
cut(char *s, size_t len)
{
	if (strlen(s) <= len)
		return;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	s[len] = '\0';
}

/* "alpha (Editor, r12)" */
static void
label(char *buf, size_t len, const struct side *s)
{
	const char *u = s->top.rev.user;

	snprintf(buf, len, "%s (%s, r%ld)", s->w->name, u && *u ? u : "hidden",
	    s->top.rev.revid);
}

static int
sync_user(const struct wiki *w, const char *user)
{
	size_t n = strcspn(w->user, "@");

	return strlen(user) == n && strncmp(user, w->user, n) == 0;
}

/* The length MediaWiki keeps of a text: it drops trailing whitespace. */
static size_t
saved_len(const char *p, size_t len)
{
	while (len > 0 && strchr(" \t\n\r", p[len - 1]) != NULL)
		len--;
	return len;
}

/* The job keeps text (malloc'd) until it ends. */
static const char *
hold(struct page *pg, char *text)
{
	pg->pool = xreallocarray(pg->pool, pg->npool + 1, sizeof(*pg->pool));
	return pg->pool[pg->npool++] = text;
}

/* --- bases ----------------------------------------------------------- */

/* A base of this job's, whose text is in memory. */
static void
base_mine(struct base *b, const char *text, size_t len, const char *sha1)
{
	memset(b, 0, sizeof(*b));
	strlcpy(b->sha1, sha1, sizeof(b->sha1));
	b->text = text;
	b->len = len;
	b->rank = JOB_RANK;
}

/* A base of this job's: a revision of a wiki, its text read when needed. */
static void
base_rev(struct base *b, struct side *from, const struct mwrev *r)
{
	memset(b, 0, sizeof(*b));
	strlcpy(b->sha1, r->sha1, sizeof(b->sha1));
	b->from = from;
	b->srev = r->revid;
	b->rank = JOB_RANK;
}

/* The text of b, read from the store or from the wiki it came from. */
static int
base_load(struct page *pg, struct base *b)
{
	struct mwrev rv;
	struct mwerr e;
	char *t;

	if (b->text != NULL)
		return 0;
	if (*b->sha1 == '\0') {
		b->text = "";
		b->len = 0;
		return 0;
	}
	if (b->from == NULL) {
		if ((t = store_read(pg->st, b->sha1, &b->len)) == NULL)
			die(EX_TEMPFAIL, "store: %s", b->sha1);
		b->text = hold(pg, t);
		return 0;
	}
	memset(&rv, 0, sizeof(rv));
	if (mw_rev(b->from->mw, b->srev, &rv, NULL, &e) == -1)
		return leave_out(pg, b->from, &e);
	if (rv.text == NULL || strcmp(rv.sha1, b->sha1) != 0) {
		mw_rev_free(&rv);
		ws_log(LOG_NOTICE, "%s: %s: r%ld hidden or changed meanwhile",
		    b->from->w->name, pg->title, b->srev);
		return MOVED;
	}
	b->text = hold(pg, rv.text);
	b->len = rv.len;
	rv.text = NULL;
	mw_rev_free(&rv);
	return 0;
}

/*
 * Every wiki's pointer is its base; the newest generation among them is
 * the page's newest agreement.
 */
static void
read_bases(struct page *pg)
{
	struct side *s;
	size_t i;

	pg->newest = 0;
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		memset(&s->base, 0, sizeof(s->base));
		s->base.rank = -1;
		s->hasptr = store_get(pg->st, s->w->name, pg->title,
		    &s->ptr) == 0 && strcmp(s->ptr.revid, MOVED_REV) != 0;
		if (!s->hasptr)
			continue;
		strlcpy(s->base.sha1, s->ptr.sha1, sizeof(s->base.sha1));
		s->base.rank = s->ptr.gen;
		if (s->ptr.gen > pg->newest)
			pg->newest = s->ptr.gen;
	}
}

/*
 * The chain holds only while a wiki that took part in the newest
 * agreement takes part: one that does is the job's link to it.
 */
static const struct side *
chain_link(const struct page *pg)
{
	const struct side *waiting = NULL;
	size_t i;

	for (i = 0; i < pg->n; i++) {
		if (!pg->s[i].hasptr || pg->s[i].ptr.gen != pg->newest)
			continue;
		if (!pg->s[i].out)
			return NULL;
		waiting = &pg->s[i];
	}
	return waiting;
}

/* Has s a text other than its base? */
static int
changed(const struct side *s)
{
	return !s->top.missing && strcmp(s->top.rev.sha1, s->base.sha1) != 0;
}

/* Was the page's last agreement on s its deletion? */
static int
ptr_deleted(const struct side *s)
{
	return s->hasptr && strcmp(s->ptr.revid, DELETED_REV) == 0;
}

/* Was the page deleted on s since its last agreement, which had a text? */
static int
gone(const struct side *s)
{
	return s->top.missing && s->hasptr && !ptr_deleted(s) &&
	    s->base.rank != JOB_RANK;
}

/* Does s take part in what this round writes and agrees on? */
static int
in(const struct side *s)
{
	return !s->out && !s->kept;
}

/* --- writing --------------------------------------------------------- */

/*
 * MediaWiki compares an edit's base with the page to the second: an
 * editor who loaded a revision made in second S, saving after another
 * revision made in that same second, overwrites it unseen (the
 * timestamps are equal, and a conflict "with self" is suppressed when no
 * other user saved after S).  So a sync edit that editors may load, or
 * find last, is made in a later second than the revision it replaces:
 * wait until the wiki's clock is past it.
 */
static void
later_second(const struct side *s)
{
	if (s->top.missing || strcmp(s->top.now, s->top.rev.timestamp) > 0)
		return;
	sync_wait_since(&s->known, SYNC_LATER_MS);
}

/* Sleep until ms have passed since t (CLOCK_MONOTONIC; 0: never set). */
void
sync_wait_since(const struct timespec *t, long ms)
{
	struct timespec now, d;
	long long left;

	if (t->tv_sec == 0 && t->tv_nsec == 0)
		return;
	clock_gettime(CLOCK_MONOTONIC, &now);
	left = ms - ((now.tv_sec - t->tv_sec) * 1000LL +
	    (now.tv_nsec - t->tv_nsec) / 1000000);
	if (left <= 0)
		return;
	d.tv_sec = left / 1000;
	d.tv_nsec = left % 1000 * 1000000;
	while (nanosleep(&d, &d) == -1 && errno == EINTR)
		;
}

/*
 * Save text on s, based on its revision as last read.  0 when saved as
 * it is (or the wiki had it); MERGED when MediaWiki merged it with an
 * edit made meanwhile; MOVED when the wiki changed since that reading
 * and nothing was saved, or when it did not answer.  In the first two
 * cases the caller makes the text s's base.
 */
static int
save(struct page *pg, struct side *s, const char *text, size_t len,
    const char *summary, int minor, int later)
{
	struct mwedit ed;
	struct mwsaved sv;
	struct mwerr e;
	long based;

	if (later)
		later_second(s);
	memset(&ed, 0, sizeof(ed));
	ed.title = pg->title;
	ed.text = text;
	ed.len = len;
	ed.summary = summary;
	ed.flags = MW_BOT | (minor ? MW_MINOR : 0);
	mw_edit_on(&ed, &s->top);
	based = s->top.missing ? 0 : s->top.rev.revid;
	if (mw_edit(s->mw, &ed, &sv, &e) == -1)
		return leave_out(pg, s, &e);
	if (sv.result == MW_CONFLICT) {
		ws_log(LOG_NOTICE, "%s: %s changed meanwhile (%s)", s->w->name,
		    pg->title, sv.why);
		return MOVED;
	}
	/* what s holds now is known; ws-verify reads the revision back */
	sha1_hex(text, len, s->top.rev.sha1);
	if (sv.result == MW_NOCHANGE)
		return 0;
	s->top.missing = 0;
	s->top.pageid = sv.pageid;
	s->top.rev.revid = sv.revid;
	strlcpy(s->top.rev.timestamp, sv.timestamp,
	    sizeof(s->top.rev.timestamp));
	*s->top.now = '\0';
	clock_gettime(CLOCK_MONOTONIC, &s->known);
	if (sv.oldrevid != based) {
		ws_log(LOG_NOTICE, "%s: %s: r%ld was based on r%ld, not r%ld: "
		    "read again", s->w->name, pg->title, sv.revid, sv.oldrevid,
		    based);
		return MERGED;
	}
	return 0;
}

/*
 * Add a note to a user's talk page on s's wiki.  A note that cannot be
 * written is logged, not retried: what it tells is on the page itself.
 */
static void
talk_append(struct side *s, const char *user, const char *note,
    const char *summary)
{
	struct mwpage tp;
	struct mwedit ed;
	struct mwsaved sv;
	struct mwerr e;
	struct buf b = { 0 };
	char talk[300];
	const char *t = talk;

	if (user == NULL || *user == '\0' || sync_user(s->w, user))
		return;
	snprintf(talk, sizeof(talk), "User talk:%s", user);
	memset(&tp, 0, sizeof(tp));
	if (mw_current(s->mw, &t, 1, &tp, &e) == -1)
		goto fail;
	if (!tp.missing && tp.rev.text != NULL)
		buf_add(&b, tp.rev.text, tp.rev.len);
	buf_str(&b, note);
	memset(&ed, 0, sizeof(ed));
	ed.title = talk;
	ed.text = b.p;
	ed.len = b.len;
	ed.summary = summary;
	ed.flags = MW_BOT;
	mw_edit_on(&ed, &tp);
	if (mw_edit(s->mw, &ed, &sv, &e) == -1)
		goto fail;
	if (sv.result == MW_CONFLICT)
		ws_log(LOG_WARNING, "%s: %s changed meanwhile: no note",
		    s->w->name, talk);
	buf_free(&b);
	mw_pages_free(&tp, 1);
	return;
fail:
	ws_log(LOG_WARNING, "%s: note on %s: %s", s->w->name, talk, e.msg);
	buf_free(&b);
	mw_pages_free(&tp, 1);
}

/*
 * Tell an editor, on the talk page of the wiki where they edited, that
 * their edit met another it could not be merged with.
 */
static void
talk_note(struct page *pg, struct side *s, const char *others)
{
	char note[3000];

	snprintf(note, sizeof(note), "\n\n== Edit conflict on [[%s]] ==\n"
	    "Your edit of [[%s]] and an edit on %s changed the same text "
	    "differently. Both versions are kept on the page, in a box; "
	    "please keep one, or combine them, and remove the box. "
	    "All pages like this: [[:Category:" CONFLICT_CATEGORY "]]. "
	    "~~~~\n", pg->title, pg->title, others);
	talk_append(s, s->top.rev.user, note,
	    "WikiSync: edit conflict to look at");
}

/* --- reading --------------------------------------------------------- */


/* Job id waits for w, which did not answer (waits=WIKI: sync_wake). */
static void
job_waits(struct spool *sp, const char *id, const struct wiki *w)
{
	const char *k = "waits", *v = w->name;

	if (job_update(sp, id, &k, &v, 1) == -1)
		ws_log(LOG_NOTICE, "%s: recording the wait for %s: %s", id,
		    w->name, strerror(errno));
}

/*
 * The job cannot go on without s, which did not answer: the job says so
 * (waits=WIKI), so that ws-login, finding s up again, makes it due at
 * once, held after many attempts or not (sync_wake).
 */
static void
waits_for(struct page *pg, const struct side *s)
{
	if (s->code == EX_TEMPFAIL)
		job_waits(pg->sp, pg->jobid, s->w);
}
/*
 * Every wiki's current revision of the page, without its text; a wiki
 * that does not answer is left out.  -1 when the job cannot go on.
 */
static int
read_tops(struct page *pg)
{
	struct mwerr e;
	struct side *s;
	const char *t = pg->title;
	const struct side *link;
	size_t i, in = 0;

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (s->out)
			continue;
		mw_pages_free(&s->top, 1);
		if (mw_tops(s->mw, &t, 1, &s->top, &e) == -1) {
			leave_out(pg, s, &e);
			continue;
		}
		/*
		 * Unseen: a change mailed (its job may be on its way), or a
		 * mail lost or never sent (a minor edit, a move carrying an
		 * unseen mark), after which the wiki mails nothing more.
		 * Marked seen, then read again, every later change mails.
		 */
		if (s->top.unseen && mw_seen(s->mw, &t, 1, &e) == 0) {
			mw_pages_free(&s->top, 1);
			if (mw_tops(s->mw, &t, 1, &s->top, &e) == -1) {
				leave_out(pg, s, &e);
				continue;
			}
		}
		clock_gettime(CLOCK_MONOTONIC, &s->known);
		if (s->base.rank != -1 && s->base.rank != JOB_RANK &&
		    s->ptr.pageid != 0 && !s->top.missing &&
		    s->top.pageid != s->ptr.pageid) {
			/* deleted and made again: not the page that agreed */
			ws_log(LOG_NOTICE, "%s: %s: page %ld, not %ld as at its "
			    "last agreement: merged as a new page", s->w->name,
			    pg->title, s->top.pageid, s->ptr.pageid);
			memset(&s->base, 0, sizeof(s->base));
			s->base.rank = -1;
		}
		if (s->top.invalid) {
			ws_log(LOG_WARNING, "%s: %s: not a valid title there",
			    s->w->name, pg->title);
			pg->worst = EX_DATAERR;
			return -1;
		}
		in++;
	}
	if ((link = chain_link(pg)) != NULL) {
		ws_log(LOG_NOTICE, "%s: waiting for %s, which holds its last "
		    "agreement: %s", pg->title, link->w->name, link->why);
		pg->worst = link->code ? link->code : EX_TEMPFAIL;
		waits_for(pg, link);
		return -1;
	}
	if (in < 2) {
		for (i = 0, link = NULL; i < pg->n; i++)
			if (pg->s[i].out && (link == NULL ||
			    link->code == EX_TEMPFAIL))
				link = &pg->s[i];
		pg->worst = link->code;
		ws_log(LOG_NOTICE, "%s: no other wiki answers: %s: %s",
		    pg->title, link->w->name, link->why);
		waits_for(pg, link);
		return -1;
	}
	return 0;
}

/* One wiki's current revision with its text, as top (updated). */
static int
read_text(struct page *pg, struct side *s)
{
	struct mwerr e;
	const char *t = pg->title;

	mw_pages_free(&s->top, 1);
	if (mw_current(s->mw, &t, 1, &s->top, &e) == -1)
		return leave_out(pg, s, &e);
	clock_gettime(CLOCK_MONOTONIC, &s->known);
	if (!s->top.missing && s->top.rev.text == NULL) {
		ws_log(LOG_WARNING, "%s: %s: current text hidden: later",
		    s->w->name, pg->title);
		pg->worst = EX_TEMPFAIL;
		return -1;
	}
	return 0;
}

/* --- replay ---------------------------------------------------------- */

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
static int
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
		if (s == src || !in(s))
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
			return leave_out(pg, src, &e);
		for (k = 0; k < h.n; k++) {
			if (from == -1 && strcmp(h.v[k].sha1,
			    src->base.sha1) == 0)
				from = h.v[k].revid;
			for (i = 0; i < pg->n; i++) {
				s = &pg->s[i];
				if (s == src || !in(s) || s->after != -1 ||
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
		if (s == src || !in(s) || s->after != -1)
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
	cut(buf, 400);
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
	int rc, first = 1;

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
			/* between the first and the last, only the sync
			   user's revisions of this very run: no editor
			   can have based an edit on them but for a moment */
			rc = save(pg, s, r->text, r->len, sum, r->minor,
			    first || r->revid >= upto);
			first = 0;
			if (rc == 0 && r->revid == upto && store_put(pg->st,
			    r->text, r->len, got) == 0 && strcmp(got, r->sha1))
				ws_log(LOG_WARNING, "%s: %s: r%ld has sha1 %s, "
				    "not %s", src->w->name, pg->title, upto, got,
				    r->sha1);
			if (rc == 0 || rc == MERGED) {
				base_rev(&s->base, src, r);
				s->revs++;
			}
			if (rc != 0) {
				mw_revs_free(&rv);
				return rc == MERGED ? MOVED : rc;
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
static int
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
			leave_out(pg, src, &r.e[i]);
		if (r.rc[i] == SRC_OUT)
			r.rc[i] = MOVED;
		if (rc == 0 || r.rc[i] == VANISHED)
			rc = r.rc[i] ? r.rc[i] : rc;
	}
	return rc;
}

/* --- merge ----------------------------------------------------------- */

/* Newest base first, then the older edit, then the wiki's name. */
static int
by_base(const void *a, const void *b)
{
	const struct side *x = *(struct side *const *)a;
	const struct side *y = *(struct side *const *)b;
	int c;

	if (x->base.rank != y->base.rank)
		return x->base.rank > y->base.rank ? -1 : 1;
	if ((c = strcmp(x->top.rev.timestamp, y->top.rev.timestamp)) != 0)
		return c;
	return strcmp(x->w->name, y->w->name);
}

/* "merged A, B and C", or "edit conflict between A and B: ..." */
static void
merge_summary(char *sum, size_t len, char lab[][300], size_t nv,
    size_t conflicts)
{
	size_t i;

	snprintf(sum, len, "%s ", conflicts ? "edit conflict between" :
	    "merged");
	for (i = 0; i < nv; i++) {
		if (i > 0)
			strlcat(sum, i + 1 == nv ? " and " : ", ", len);
		strlcat(sum, lab[i], len);
	}
	if (conflicts)
		strlcat(sum, nv > 2 ? ": all versions kept" :
		    ": both versions kept", len);
	cut(sum, 360);
	if (conflicts)
		strlcat(sum, ", see [[Category:" CONFLICT_CATEGORY "]]", len);
}

/*
 * Every text changed since its base merged into one: from this job's last
 * result if it has one, else from the newest base of a wiki taking part;
 * then each changed wiki's text against its own base, newest base first,
 * so every run computes the same text.  Then written to every wiki that
 * lacks it, whose base it becomes; a changed wiki not written keeps what
 * was merged of it as its base.
 */
static int
merge_all(struct page *pg, const struct group *g)
{
	struct side *v[SYNC_WIKIS], *s, *top = NULL;
	struct mergeopt mo;
	struct mergestat ms;
	struct buf acc = { 0 }, out;
	struct text tb, to, tt;
	struct base from;
	char lab[SYNC_WIKIS][300], ours[1200] = "", sum[1500];
	char sha[SHA1_HEX + 1];
	const char *text;
	size_t i, nv = 0, conflicts = 0, keep;
	int rc;

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (!in(s))
			continue;
		if (top == NULL || s->base.rank > top->base.rank)
			top = s;
		if (!changed(s))
			continue;
		if ((rc = read_text(pg, s)) != 0)
			return rc;
		/*
		 * Gone since its top was read (deleted, moved): its edits
		 * would be left out of the merge, and the page made there
		 * again without them.  Read again: the round then sees the
		 * deletion, and the edit wins with what s saved before it.
		 */
		if (s->top.missing) {
			ws_log(LOG_NOTICE, "%s: %s: gone as it was read: read "
			    "again", s->w->name, pg->title);
			return MOVED;
		}
		if (changed(s))
			v[nv++] = s;
	}
	from = pg->hasmeet ? pg->meet : top->base;
	if ((rc = base_load(pg, &from)) != 0)
		return rc;
	buf_add(&acc, from.text, from.len);
	qsort(v, nv, sizeof(*v), by_base);
	for (i = 0; i < nv; i++) {
		s = v[i];
		label(lab[i], sizeof(lab[i]), s);
		if ((rc = base_load(pg, &s->base)) != 0) {
			buf_free(&acc);
			return rc;
		}
		tb.p = s->base.text;
		tb.len = s->base.len;
		to.p = acc.p ? acc.p : "";
		to.len = acc.len;
		tt.p = s->top.rev.text ? s->top.rev.text : "";
		tt.len = s->top.rev.len;
		memset(&mo, 0, sizeof(mo));
		mo.style = g->conflict == CONFLICT_MARKERS ? STYLE_MARKERS :
		    STYLE_WIKI;
		mo.ours = *ours ? ours : lab[i];
		mo.theirs = lab[i];
		mo.category = CONFLICT_CATEGORY;
		memset(&ms, 0, sizeof(ms));
		memset(&out, 0, sizeof(out));
		merge3(tb, to, tt, &mo, &out, &ms);
		conflicts += ms.conflicts;
		buf_free(&acc);
		acc = out;
		if (*ours != '\0')
			strlcat(ours, ", ", sizeof(ours));
		strlcat(ours, lab[i], sizeof(ours));
	}
	if (nv == 0)
		strlcpy(sum, "the text the other wikis agreed on", sizeof(sum));
	else
		merge_summary(sum, sizeof(sum), lab, nv, conflicts);
	keep = saved_len(acc.p ? acc.p : "", acc.len);
	sha1_hex(acc.p ? acc.p : "", keep, sha);
	text = hold(pg, acc.p ? acc.p : xstrdup(""));
	base_mine(&pg->meet, text, keep, sha);
	pg->hasmeet = 1;
	/* what was merged of each changed wiki is in the result */
	for (i = 0; i < nv; i++)
		base_mine(&v[i]->base, hold(pg, v[i]->top.rev.text),
		    v[i]->top.rev.len, v[i]->top.rev.sha1);
	for (i = 0; i < nv; i++)
		v[i]->top.rev.text = NULL;
	for (i = 0, rc = 0; i < pg->n && rc == 0; i++) {
		s = &pg->s[i];
		if (!in(s) || (!s->top.missing &&
		    strcmp(s->top.rev.sha1, sha) == 0))
			continue;
		rc = save(pg, s, text, keep, sum, 0, 1);
		if (rc == 0 || rc == MERGED) {
			s->base = pg->meet;
			s->merged = conflicts ? 2 : 1;
		}
	}
	if (rc == 0 && conflicts && g->talknotes)
		for (i = 0; i < nv; i++) {
			char others[1200] = "";
			size_t k;

			for (k = 0; k < nv; k++)
				if (k != i) {
					if (*others)
						strlcat(others, ", ",
						    sizeof(others));
					strlcat(others, v[k]->w->name,
					    sizeof(others));
				}
			talk_note(pg, v[i], others);
		}
	return rc == MERGED ? MOVED : rc;
}

/* --- moves ----------------------------------------------------------- */

static int	undelete(struct page *, struct side *, const char *);

/*
 * Was the page s synced under this title moved away on s, and to where?
 * It was when s lacks the title or holds another page there (the redirect
 * a move leaves), and the title's newest move on s, followed through at
 * most MOVES_MAX moves, ends at the page id s's base was agreed on.
 * 1 moved (to: the first move's target, as s names it; *noredir; lg:
 * the first move's entry), 0 not, MOVED when s did not answer (left out).
 * Only the first move is followed at a time: the job goes on under its
 * target, where s's log has the next; so every wiki makes the same
 * moves, leaving a redirect at the same titles.
 */
static int
moved_on(struct page *pg, struct side *s, char *to, size_t len, int *noredir,
    struct mwlog *lg)
{
	struct mwlog l;
	struct mwpage tp;
	struct mwerr e;
	const char *t = pg->title;
	char at[512], first[512] = "";
	int hop;

	if (!in(s) || !s->hasptr || s->ptr.pageid == 0 ||
	    (!s->top.missing && s->top.pageid == s->ptr.pageid))
		return 0;
	strlcpy(at, t, sizeof(at));
	for (hop = 0; hop < MOVES_MAX; hop++) {
		t = at;
		if (mw_log_last(s->mw, t, "move", &l, &e) == -1)
			return leave_out(pg, s, &e);
		if (strncmp(l.action, "move", 4) != 0 || *l.target == '\0') {
			mw_log_free(&l);
			return 0;
		}
		if (hop == 0) {
			*noredir = l.noredir;
			*lg = l;	/* the caller frees it */
		}
		t = l.target;
		memset(&tp, 0, sizeof(tp));
		if (mw_info(s->mw, &t, 1, &tp, &e) == -1) {
			if (hop != 0)
				mw_log_free(&l);
			return leave_out(pg, s, &e);
		}
		strlcpy(at, tp.title, sizeof(at));
		if (hop == 0)
			strlcpy(first, at, sizeof(first));
		else
			mw_log_free(&l);
		if (!tp.missing && tp.pageid == s->ptr.pageid) {
			strlcpy(to, first, len);
			mw_pages_free(&tp, 1);
			return 1;
		}
		mw_pages_free(&tp, 1);
	}
	return 0;
}

/* "moved on alpha by Editor: reason", or the sync user's own reason. */
static void
move_reason(char *buf, size_t len, const struct side *s,
    const struct mwlog *l)
{
	if (sync_user(s->w, l->user))
		snprintf(buf, len, "%s", l->comment);
	else
		snprintf(buf, len, "moved on %s by %s%s%s", s->w->name,
		    *l->user ? l->user : "someone", *l->comment ? ": " : "",
		    l->comment);
	cut(buf, 250);
}

/*
 * s's base follows its page from pg->title to `to`: the pointer is
 * copied there (unless one of the same page, as new, is there already),
 * then the old title's says "moved", naming `to`, and no job takes it
 * for a base.  Pending (s did not move the page): the copy names the
 * title where s still has the page, and the old pointer stays.
 */
static void
rekey(struct page *pg, struct side *s, const char *to, int pending)
{
	struct storeptr p;

	/* a base that was the page's deletion: its text before, at no
	   revision known, now that the page is back */
	if (!(store_get(pg->st, s->w->name, to, &p) == 0 &&
	    p.pageid == s->ptr.pageid && p.gen >= s->ptr.gen &&
	    strcmp(p.revid, MOVED_REV) != 0) &&
	    store_set_as(pg->st, s->w->name, to, pending ? s->ptr.title : to,
	    s->ptr.sha1, ptr_deleted(s) ? "0" : s->ptr.revid, s->ptr.gen,
	    s->ptr.pageid) == -1)
		die(EX_TEMPFAIL, "store: %s %s", s->w->name, to);
	if (!pending && store_set_as(pg->st, s->w->name, pg->title, to,
	    s->ptr.sha1, MOVED_REV, s->ptr.gen, s->ptr.pageid) == -1)
		die(EX_TEMPFAIL, "store: %s %s", s->w->name, pg->title);
}

/* Another page holds the title on s: a move is never forced over it. */
static int
move_blocked(struct page *pg, const struct side *s, const char *from,
    const char *to, const char *as)
{
	ws_log(LOG_ERR, "%s: %s: not moved to %s as on %s: %s has another "
	    "page there; move or delete one, then release the job",
	    s->w->name, from, to, as, s->w->name);
	pg->worst = EX_DATAERR;
	return -1;
}

/*
 * Is to the groups or status page's title (conf_reserved)?  Then no wiki
 * moves the page there: the job is held (65) for a person to look.
 */
static int
move_reserved(struct page *pg, const char *from, const char *to,
    const char *as)
{
	const char *what;

	if ((what = conf_reserved(ws_conf(), to)) == NULL)
		return 0;
	ws_log(LOG_ERR, "%s: not moved to %s as on %s: that is %s, which "
	    "the sync moves nothing onto; move the page back, then release "
	    "the job", from, to, as, what);
	pg->worst = EX_DATAERR;
	return 1;
}

/* A move done: the new title marked seen, see follow_move. */
static void
moved_seen(struct side *s, const char *to)
{
	struct mwerr e;

	if (mw_seen(s->mw, &to, 1, &e) == -1)
		ws_log(LOG_WARNING, "%s: %s: %s", s->w->name, to, e.msg);
}

/*
 * The page moved on mv from pg->title to `to`.  Every other wiki taking
 * part that holds, under the old title, the page it synced (its base's
 * page id) moves it there too, with its talk page, leaving a redirect
 * where mv left one; a wiki where it is at `to` already moved it.  A
 * page of another id at `to` is never moved over: the job stops, to be
 * held (65), before any wiki moves.  After a deletion they agreed on, a
 * wiki restores its own revisions first, as the mover did.  A wiki where the page went otherwise
 * meanwhile (deleted, moved elsewhere) moves nothing: the rounds under
 * the new title make the page there, so nothing saved is lost.  Then
 * every base follows: first those of the wikis that did not move the page
 * (they did not answer, or it went), as pending, then the others', mv's
 * last; so a crash between two leaves either mv's old pointer, which
 * finds the move again, or every pending pointer written.  A wiki with a
 * pending pointer moves the page when a job under the new title finds it
 * (follow_pending).  RENAMED (pg->to set), MOVED, or -1.
 */
static int
follow_move(struct page *pg, struct side *mv, const char *to, int noredir,
    const struct mwlog *lg)
{
	struct mwpage tp;
	struct mwerr e;
	struct side *s;
	const char *t = to;
	char why[300], back[300];
	size_t i, n = 0;

	ws_log(LOG_INFO, "%s: %s: moved to %s there%s", mv->w->name,
	    pg->title, to, noredir ? ", no redirect left" : "");
	if (move_reserved(pg, pg->title, to, mv->w->name))
		return -1;
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		s->move = 0;
		if (s == mv || !s->hasptr)
			continue;
		s->move = 3;			/* pending */
		if (!in(s))
			continue;
		memset(&tp, 0, sizeof(tp));
		if (mw_info(s->mw, &t, 1, &tp, &e) == -1)
			return leave_out(pg, s, &e);
		if (!tp.missing && tp.pageid == s->ptr.pageid)
			s->move = 2;		/* there already */
		else if (ptr_deleted(s) && s->top.missing &&
		    (tp.missing || tp.redirect))
			s->move = 4;		/* restored on mv, then moved */
		else if (s->top.missing || s->top.pageid != s->ptr.pageid)
			ws_log(LOG_NOTICE, "%s: %s: gone from there meanwhile: "
			    "made at %s", s->w->name, pg->title, to);
		else if (!tp.missing && !tp.redirect) {
			mw_pages_free(&tp, 1);
			return move_blocked(pg, s, pg->title, to, mv->w->name);
		} else
			s->move = 1;
		mw_pages_free(&tp, 1);
	}
	move_reason(why, sizeof(why), mv, lg);
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (s->move == 4) {
			/* its own history back first, as a restore would */
			snprintf(back, sizeof(back), "restored on %s",
			    mv->w->name);
			if (undelete(pg, s, back) != MOVED) {
				s->move = 3;
				continue;
			}
			s->move = 1;
		}
		if (s->move != 1)
			continue;
		if (mw_move(s->mw, pg->title, to, why, noredir, &e) == -1) {
			if (strcmp(e.api, "articleexists") == 0 ||
			    strcmp(e.api, "redirectexists") == 0)
				return move_blocked(pg, s, pg->title, to,
				    mv->w->name);
			/* not moved: pending, like one that did not answer */
			s->move = 3;
			leave_out(pg, s, &e);
			continue;
		}
		ws_log(LOG_INFO, "%s: %s: moved to %s (%s)", s->w->name,
		    pg->title, to, why);
		fprintf(pg->out, "%s%s", n++ ? ", " : "moved on ",
		    s->w->name);
	}
	if (n)
		fprintf(pg->out, " to %s as on %s; ", to, mv->w->name);
	for (i = 0; i < pg->n; i++)
		if (pg->s[i].move == 3)
			rekey(pg, &pg->s[i], to, 1);
	for (i = 0; i < pg->n; i++)
		if (pg->s[i].move == 1 || pg->s[i].move == 2)
			rekey(pg, &pg->s[i], to, 0);
	rekey(pg, mv, to, 0);
	/*
	 * A move copies the sync user's watch with its mark: unseen since a
	 * mail for the old title, the new one would mail no more.  Seen
	 * now, before the new title is read, every later edit mails.
	 */
	for (i = 0; i < pg->n; i++)
		if (in(&pg->s[i]))
			moved_seen(&pg->s[i], to);
	strlcpy(pg->to, to, sizeof(pg->to));
	return RENAMED;
}

/*
 * Did the wikis that moved the page from old leave no redirect there?
 * The first that followed, as it has old now, tells.
 */
static int
left_no_redirect(struct page *pg, const char *old)
{
	struct mwpage op;
	struct mwerr e;
	struct side *o;
	size_t i;
	int none;

	for (i = 0; i < pg->n; i++) {
		o = &pg->s[i];
		if (!in(o) || !o->hasptr || strcmp(o->ptr.title, pg->title) != 0)
			continue;
		memset(&op, 0, sizeof(op));
		if (mw_info(o->mw, &old, 1, &op, &e) == -1)
			continue;
		none = op.missing;
		mw_pages_free(&op, 1);
		return none;
	}
	return 0;
}

/*
 * The moves a wiki that followed them made of the page from `from` to
 * this title, as its log tells, in order: hops[] and noredir[], their
 * number, 0 when its log does not lead here in MOVES_MAX + 1 moves.
 */
static size_t
move_chain(struct page *pg, const char *from, char hops[][512],
    int *noredir)
{
	struct mwlog l;
	struct mwerr e;
	struct side *o;
	char at[512];
	size_t i, n;

	for (i = 0; i < pg->n; i++) {
		o = &pg->s[i];
		if (!in(o) || !o->hasptr || strcmp(o->ptr.title, pg->title) != 0)
			continue;
		strlcpy(at, from, sizeof(at));
		for (n = 0; n <= MOVES_MAX; n++) {
			if (mw_log_last(o->mw, at, "move", &l, &e) == -1)
				return 0;
			if (strncmp(l.action, "move", 4) != 0 ||
			    *l.target == '\0') {
				mw_log_free(&l);
				return 0;
			}
			strlcpy(hops[n], l.target, sizeof(hops[n]));
			noredir[n] = l.noredir;
			mw_log_free(&l);
			strlcpy(at, hops[n], sizeof(at));
			if (strcmp(at, pg->title) == 0)
				return n + 1;
		}
		return 0;
	}
	return 0;
}

/*
 * s still has the page under the title its base names, not this one: a
 * move the others made, not followed there yet (it did not answer).  The
 * page moves now through the same titles the others' moves took it,
 * leaving a redirect where they left one (one move straight here when no
 * wiki's log shows the way), unless another page holds a title on s (the
 * job is held, 65); if the page went from there meanwhile, s has no base
 * here, and the rounds make the page.  A move that fails halfway leaves
 * s's pending base naming the title s has the page at.  MOVED (read
 * again), or -1.
 */
static int
follow_pending(struct page *pg, struct side *s)
{
	struct mwpage op;
	struct mwerr e;
	const char *t;
	char old[512], from[512], hops[MOVES_MAX + 1][512];
	int has, noredir[MOVES_MAX + 1];
	size_t k, n;

	strlcpy(old, s->ptr.title, sizeof(old));
	t = old;
	memset(&op, 0, sizeof(op));
	if (mw_info(s->mw, &t, 1, &op, &e) == -1)
		return leave_out(pg, s, &e);
	has = !op.missing && op.pageid == s->ptr.pageid;
	mw_pages_free(&op, 1);
	if (!has) {
		ws_log(LOG_NOTICE, "%s: %s: gone from %s meanwhile: made here",
		    s->w->name, pg->title, old);
		if (store_set(pg->st, s->w->name, pg->title, s->ptr.sha1,
		    MOVED_REV, s->ptr.gen, s->ptr.pageid) == -1)
			die(EX_TEMPFAIL, "store: %s %s", s->w->name, pg->title);
		strlcpy(s->ptr.revid, MOVED_REV, sizeof(s->ptr.revid));
		s->hasptr = 0;
		memset(&s->base, 0, sizeof(s->base));
		s->base.rank = -1;
		return MOVED;
	}
	if (!s->top.missing && !s->top.redirect)
		return move_blocked(pg, s, old, pg->title, "the other wikis");
	if ((n = move_chain(pg, old, hops, noredir)) == 0) {
		n = 1;
		strlcpy(hops[0], pg->title, sizeof(hops[0]));
		noredir[0] = left_no_redirect(pg, old);
	}
	for (k = 0; k < n; k++)
		if (move_reserved(pg, old, hops[k], "the other wikis"))
			return -1;
	strlcpy(from, old, sizeof(from));
	for (k = 0; k < n; k++) {
		if (mw_move(s->mw, from, hops[k], "WikiSync: moved as on the "
		    "other wikis of its group", noredir[k], &e) == -1) {
			if (strcmp(e.api, "articleexists") == 0 ||
			    strcmp(e.api, "redirectexists") == 0)
				return move_blocked(pg, s, from, hops[k],
				    "the other wikis");
			return leave_out(pg, s, &e);
		}
		ws_log(LOG_INFO, "%s: %s: moved to %s, as on the other wikis",
		    s->w->name, from, hops[k]);
		fprintf(pg->out, "moved on %s from %s; ", s->w->name, from);
		/* the base here names where s has the page now (here, at
		   the last move), and no job takes the title it left for
		   a base: a move that fails later starts from there */
		if (store_set_as(pg->st, s->w->name, pg->title, hops[k],
		    s->ptr.sha1, s->ptr.revid, s->ptr.gen,
		    s->ptr.pageid) == -1 ||
		    store_set_as(pg->st, s->w->name, from, hops[k],
		    s->ptr.sha1, MOVED_REV, s->ptr.gen, s->ptr.pageid) == -1)
			die(EX_TEMPFAIL, "store: %s %s", s->w->name, from);
		strlcpy(from, hops[k], sizeof(from));
	}
	strlcpy(s->ptr.title, pg->title, sizeof(s->ptr.title));
	moved_seen(s, pg->title);
	return MOVED;
}

/*
 * Moves, before anything else a round does.  A page that moved away from
 * this title, as a pointer of a wiki that followed says, while another
 * wiki still has its base here, goes on under the new title (RENAMED),
 * where that wiki's pending pointer has it follow.  A wiki whose base
 * here names another title follows now (follow_pending).  The first
 * wiki where the page moved away, as its log says, is followed
 * (follow_move, RENAMED).  0 when there is nothing to follow.
 */
static int
moves(struct page *pg)
{
	struct mwlog lg;
	const char *went = NULL;
	char to[512];
	size_t i;
	int r, noredir = 0, here = 0;

	for (i = 0; i < pg->n; i++) {
		if (strcmp(pg->s[i].ptr.revid, MOVED_REV) == 0 &&
		    strcmp(pg->s[i].ptr.title, pg->title) != 0)
			went = pg->s[i].ptr.title;
		else if (pg->s[i].hasptr && !ptr_deleted(&pg->s[i]) &&
		    strcmp(pg->s[i].ptr.title, pg->title) == 0)
			here = 1;
	}
	if (went != NULL && here) {
		ws_log(LOG_INFO, "%s: moved to %s on a wiki: followed there",
		    pg->title, went);
		strlcpy(pg->to, went, sizeof(pg->to));
		return RENAMED;
	}
	for (i = 0; i < pg->n; i++)
		if (in(&pg->s[i]) && pg->s[i].hasptr &&
		    !ptr_deleted(&pg->s[i]) &&
		    strcmp(pg->s[i].ptr.title, pg->title) != 0)
			return follow_pending(pg, &pg->s[i]);
	for (i = 0; i < pg->n; i++) {
		memset(&lg, 0, sizeof(lg));
		r = moved_on(pg, &pg->s[i], to, sizeof(to), &noredir, &lg);
		if (r == 1)
			r = follow_move(pg, &pg->s[i], to, noredir, &lg);
		mw_log_free(&lg);
		if (r != 0)
			return r;
	}
	return 0;
}

/* --- deletions and restores --------------------------------------- */

/* The newest deletion of the page on s, from its log (read once). */
static int
deletion_on(struct page *pg, struct side *s)
{
	struct mwerr e;

	if (s->haslog)
		return 0;
	if (mw_log_last(s->mw, pg->title, "delete", &s->log, &e) == -1)
		return leave_out(pg, s, &e);
	s->haslog = 1;
	return 0;
}

/* Was the page's deletion on s the sync user's own? */
static int
deleted_by_sync(const struct side *s)
{
	return s->haslog && strcmp(s->log.action, "delete") == 0 &&
	    sync_user(s->w, s->log.user);
}

/* "deleted on alpha by Admin: spam", or the sync user's own reason. */
static void
deletion_reason(char *buf, size_t len, const struct side *s)
{
	if (deleted_by_sync(s))
		snprintf(buf, len, "%s", s->log.comment);
	else
		snprintf(buf, len, "%s on %s by %s%s%s",
		    strcmp(s->log.action, "restore") == 0 ? "restored" :
		    "deleted", s->w->name, *s->log.user ? s->log.user :
		    "someone", *s->log.comment ? ": " : "", s->log.comment);
	cut(buf, 250);
}

/* Restore every deleted revision of the page on s. */
static int
undelete(struct page *pg, struct side *s, const char *why)
{
	struct mwerr e;
	long n;

	if (mw_undelete(s->mw, pg->title, why, &n, &e) == -1) {
		if (e.code == EX_NOPERM)
			return leave_out(pg, s, &e);
		/* nothing to restore there: the round makes it again */
		ws_log(LOG_NOTICE, "%s: %s: not restored: %s", s->w->name,
		    pg->title, e.msg);
		s->undeleted = 1;
		return 0;
	}
	ws_log(LOG_NOTICE, "%s: %s: restored, %ld revision%s (%s)",
	    s->w->name, pg->title, n, n == 1 ? "" : "s", why);
	s->undeleted = 1;
	s->haslog = 0;
	mw_log_free(&s->log);
	return MOVED;
}

/*
 * A deletion the sync user made can have taken an edit saved between the
 * reading and the deletion (MediaWiki deletes whatever the page holds).
 * The newest deleted revision tells: a text other than the page's base
 * there is an edit no wiki has seen, so the page is restored, and the
 * edit wins.
 */
static int
unseen_deleted(struct page *pg, struct side *s)
{
	struct mwerr e;
	char sha1[41];
	long revid;
	int rc;

	if ((rc = deletion_on(pg, s)) != 0 || !deleted_by_sync(s) ||
	    s->undeleted)
		return rc;
	if (mw_deleted_newest(s->mw, pg->title, &revid, sha1, &e) == -1)
		return leave_out(pg, s, &e);
	if (revid == 0 || strcmp(sha1, s->ptr.sha1) == 0)
		return 0;
	ws_log(LOG_WARNING, "%s: %s: r%ld, an edit not yet synced, was "
	    "deleted with the page: restoring it", s->w->name, pg->title,
	    revid);
	return undelete(pg, s, "WikiSync: an edit made as the page was "
	    "deleted is kept");
}

/* Tell whoever deleted the page on s that it stays, and why. */
static void
deletion_note(struct page *pg, struct side *s, const struct side *ed)
{
	char note[1600];

	if (s->noted || deleted_by_sync(s) || !s->haslog)
		return;
	s->noted = 1;
	snprintf(note, sizeof(note), "\n\n== [[%s]] is back ==\n"
	    "You deleted [[%s]], but it was edited meanwhile on %s, and "
	    "WikiSync drops no saved edit: the page is back, with that edit. "
	    "If it should still go, please delete it again. ~~~~\n",
	    pg->title, pg->title, ed->w->name);
	talk_append(s, s->log.user, note,
	    "WikiSync: a page you deleted was edited meanwhile");
}

/*
 * Every wiki where the page went lost it to the sync user, following a
 * deletion no wiki shows any more: the wiki that deleted it restored it
 * (or made it again) before the others followed.  The later restore wins:
 * each of them restores its revisions.  MOVED when one was; 0 when none
 * could be (the round makes the page there).
 */
static int
restored_stale(struct page *pg)
{
	struct side *s;
	size_t i;
	int rc = 0;

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (!in(s) || !gone(s) || s->undeleted)
			continue;
		ws_log(LOG_NOTICE, "%s: %s: deleted there after a deletion "
		    "undone meanwhile: restored", s->w->name, pg->title);
		if (undelete(pg, s, "WikiSync: the deletion it followed was "
		    "undone") != 0)
			rc = MOVED;
	}
	return rc;
}

/*
 * Moves (moves(), above), then deletions and restores, before a round
 * writes any text.  A wiki where
 * the page was deleted since its last agreement (gone), or where it is
 * missing after an agreement that was its deletion, asks for the page's
 * deletion.  With deletions = sync, when no wiki taking part changed the
 * page since its base, it is deleted on every one of them with a reason
 * naming the first deletion, and the deletion becomes the agreement.
 * When one did, the edit wins: no saved text is dropped, the round makes
 * the page again where it is missing, and whoever deleted it is told.
 * With deletions = keep, a wiki where it was deleted keeps its deletion
 * and is not synced while it lacks the page.  A wiki where the page is
 * back with the page id it had before an agreed deletion (restored) has
 * every other wiki restore its own history first.
 * 0 to go on, MOVED to read again, RENAMED, -1 to stop.
 */
static int
lifecycle(struct page *pg)
{
	const struct group *g = pg->set.first;
	struct side *s, *del = NULL, *ed = NULL, *back = NULL;
	char why[300];
	size_t i;
	int rc, here = 0;
	struct mwerr e;

	for (i = 0; i < pg->n; i++)
		pg->s[i].kept = 0;
	if ((rc = moves(pg)) != 0)
		return rc;
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (s->out)
			continue;
		if (gone(s)) {
			if ((rc = unseen_deleted(pg, s)) != 0)
				return rc;
			if (g->deletions == DELETIONS_KEEP) {
				ws_log(LOG_NOTICE, "%s: %s: deleted there, "
				    "kept on the others (deletions = keep)",
				    s->w->name, pg->title);
				s->kept = 1;
			} else if (del == NULL || deleted_by_sync(del))
				del = s;
		} else if (s->top.missing) {
			if (ptr_deleted(s) && s->ptr.gen == pg->newest &&
			    del == NULL)
				del = s;
		} else if (ptr_deleted(s) && s->top.pageid == s->ptr.pageid)
			back = s;
		else if (changed(s))
			ed = s;
		else
			here = 1;
	}
	if (back != NULL) {
		if ((rc = deletion_on(pg, back)) != 0)
			return rc;
		snprintf(why, sizeof(why), "restored on %s", back->w->name);
		for (i = 0, rc = 0; i < pg->n; i++) {
			s = &pg->s[i];
			if (in(s) && s->top.missing && ptr_deleted(s) &&
			    !s->undeleted && undelete(pg, s, why) != 0)
				rc = MOVED;
		}
		return rc;
	}
	if (del == NULL)
		return 0;
	if (deleted_by_sync(del))
		return restored_stale(pg);
	if (ed != NULL) {
		/*
		 * The edit wins: the page is restored where it went, with
		 * that wiki's own revisions (an edit it saved before the
		 * deletion and never synced comes back too), and merged;
		 * where nothing can be restored, the round makes it again.
		 */
		snprintf(why, sizeof(why), "WikiSync: edited meanwhile on %s: "
		    "the edit wins", ed->w->name);
		for (i = 0, rc = 0; i < pg->n; i++) {
			s = &pg->s[i];
			if (!in(s) || !gone(s))
				continue;
			ws_log(LOG_NOTICE, "%s: %s: deleted there, edited on %s: "
			    "the edit wins", s->w->name, pg->title,
			    ed->w->name);
			deletion_note(pg, s, ed);
			if (!s->undeleted && undelete(pg, s, why) != 0)
				rc = MOVED;
		}
		return rc;
	}
	if (!here)
		return 0;	/* gone from every wiki taking part */
	if ((rc = deletion_on(pg, del)) != 0)
		return rc;
	deletion_reason(why, sizeof(why), del);
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (!in(s) || s->top.missing)
			continue;
		if (mw_delete(s->mw, pg->title, why, &e) == -1)
			return leave_out(pg, s, &e);
		ws_log(LOG_INFO, "%s: %s: deleted (%s)", s->w->name,
		    pg->title, why);
	}
	return MOVED;
}

/* --- files ------------------------------------------------------------ */

/*
 * A file to write down for an upload: unnamed, in the store's tmp, so a
 * crash leaves nothing behind; -1 when none can be made.
 */
static int
file_tmp(struct page *pg)
{
	char name[PATH_MAX];
	int fd;

	if ((fd = openat(pg->st->tmp, ".", O_TMPFILE | O_RDWR | O_CLOEXEC,
	    0600)) != -1)
		return fd;
	/* a file system without O_TMPFILE: a name, gone at once */
	snprintf(name, sizeof(name), "%s/store/tmp/.upload.XXXXXX",
	    pg->sp->path);
	if ((fd = mkostemp(name, O_CLOEXEC)) != -1)
		unlink(name);
	return fd;
}

/*
 * Of the wikis that have the file, the one every other should match:
 * versions someone uploaded there outrank the sync user's copies, then
 * the newest; -1 when no wiki taking part has it in its own repository.
 */
static int
file_source(const struct page *pg, struct mwfile *const *fv, size_t k)
{
	const struct mwfile *f, *best = NULL;
	int i, src = -1, own, bestown = 0;

	for (i = 0; i < (int)pg->n; i++) {
		f = fv[i] ? &fv[i][k] : NULL;
		if (f == NULL || !in(&pg->s[i]) || f->missing || !f->local)
			continue;
		own = !sync_user(pg->s[i].w, f->user);
		if (best == NULL || own > bestown || (own == bestown &&
		    strcmp(f->timestamp, best->timestamp) > 0)) {
			best = f;
			bestown = own;
			src = i;
		}
	}
	return src;
}

/* The description page's text on s (malloc'd), "" when it has none. */
static char *
file_text(struct page *pg, struct side *s, const char *title)
{
	struct mwpage p;
	struct mwerr e;
	char *t;

	memset(&p, 0, sizeof(p));
	if (mw_current(s->mw, &title, 1, &p, &e) == -1) {
		ws_log(LOG_NOTICE, "%s: %s: %s", s->w->name, title, e.msg);
		return xstrdup("");
	}
	t = xstrdup(p.rev.text ? p.rev.text : "");
	mw_pages_free(&p, 1);
	(void)pg;
	return t;
}

/*
 * The files titles[] made the same on every wiki taking part: a wiki that
 * lacks one, or has another version, gets the source's bytes (file_source)
 * uploaded, through one unnamed temporary file, never whole in memory; a
 * new file's description page gets the source's text.  A wiki that
 * refuses a file (too large, a type it does not take) stops the job with
 * its reason, to be held (65); one that does not answer is left out,
 * and the job stays queued for it (75).
 * Every wiki of a file uploaded then watches it, so its next version and
 * its description's edits mail.  0, or -1 (pg->worst set).
 */
static int
sync_files(struct page *pg, const char **titles, size_t nt)
{
	struct mwfile *fv[SYNC_WIKIS] = { 0 };
	const struct mwfile *sf, *f;
	struct side *s, *src;
	struct mwerr e;
	char sha1[41], comment[600], *text;
	size_t i, k;
	int si, fd, rc = 0, any = 0;

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (!in(s))
			continue;
		fv[i] = xcalloc(nt, sizeof(*fv[i]));
		if (mw_files(s->mw, titles, nt, fv[i], &e) == -1) {
			failed(pg, s, &e);
			leave_out(pg, s, &e);
			free(fv[i]);
			fv[i] = NULL;
		}
	}
	for (k = 0; k < nt && rc == 0; k++) {
		if ((si = file_source(pg, fv, k)) == -1)
			continue;
		src = &pg->s[si];
		sf = &fv[si][k];
		fd = -1;
		text = NULL;
		for (i = 0; i < pg->n && rc == 0; i++) {
			s = &pg->s[i];
			f = fv[i] ? &fv[i][k] : NULL;
			if (s == src || f == NULL || !in(s) || (!f->missing &&
			    strcmp(f->sha1, sf->sha1) == 0))
				continue;
			if (!f->missing && !f->local) {
				ws_log(LOG_NOTICE, "%s: %s: from a shared "
				    "repository there: not overwritten",
				    s->w->name, f->title);
				continue;
			}
			if (fd == -1) {
				if ((fd = file_tmp(pg)) == -1)
					die(EX_TEMPFAIL, "a temporary file for "
					    "%s", sf->title);
				if (mw_download(src->mw, sf, fd, sha1, &e) == -1) {
					failed(pg, src, &e);
					rc = -1;
					break;
				}
				if (strcmp(sha1, sf->sha1) != 0) {
					ws_log(LOG_NOTICE, "%s: %s: changed as it "
					    "was read: later", src->w->name,
					    sf->title);
					pg->worst = EX_TEMPFAIL;
					rc = -1;
					break;
				}
			}
			if (text == NULL && !f->haspage)
				text = file_text(pg, src, sf->title);
			snprintf(comment, sizeof(comment), "from %s, uploaded "
			    "by %s%s%s", src->w->name, *sf->user ? sf->user :
			    "someone", *sf->comment ? ": " : "", sf->comment);
			cut(comment, 250);
			if (mw_upload(s->mw, sf->title, fd, (off_t)sf->size,
			    text ? text : "", comment, &e) == -1) {
				if (e.temp) {
					/* the job stays queued for it */
					failed(pg, s, &e);
					leave_out(pg, s, &e);
					continue;
				}
				ws_log(LOG_ERR, "%s: %s: not uploaded: %s",
				    s->w->name, sf->title, e.msg);
				pg->worst = e.code;
				rc = -1;
				break;
			}
			ws_log(LOG_INFO, "%s: %s: uploaded from %s (%ld bytes)",
			    s->w->name, sf->title, src->w->name, sf->size);
			s->files++;
			any = 1;
		}
		if (fd != -1)
			close(fd);
		free(text);
	}
	for (i = 0; i < pg->n; i++) {
		if (any && fv[i] != NULL && in(&pg->s[i]) &&
		    mw_watch(pg->s[i].mw, titles, nt, &e) == -1)
			ws_log(LOG_NOTICE, "%s: watching files: %s",
			    pg->s[i].w->name, e.msg);
		if (fv[i] != NULL)
			mw_files_free(fv[i], nt);
	}
	return rc;
}

/* The files the page shows, as its first wiki taking part has it. */
static int
page_files(struct page *pg)
{
	struct mwfile *v = NULL;
	const char **titles;
	struct side *s = NULL;
	struct mwerr e;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < pg->n && s == NULL; i++)
		if (in(&pg->s[i]) && !pg->s[i].top.missing)
			s = &pg->s[i];
	if (s == NULL)
		return 0;
	if (mw_files_of(s->mw, pg->title, &v, &n, &e) == -1) {
		failed(pg, s, &e);
		return -1;
	}
	if (n == 0)
		return 0;
	titles = xreallocarray(NULL, n, sizeof(*titles));
	for (i = 0; i < n; i++)
		titles[i] = v[i].title;
	rc = sync_files(pg, titles, n);
	free(titles);
	mw_files_free(v, n);
	return rc;
}

/* mw_file_users: the first page showing the file that a group syncs. */
struct fileuse {
	const char	*wiki;
	struct syncset	*set;
	int		 found;
};

static int
file_user(const struct mwpage *p, void *arg)
{
	struct fileuse *u = arg;

	if (p->missing || syncset_of(ws_conf(), u->wiki, p->title, p->cats,
	    p->ncats, u->set) < 2 || !u->set->first->files)
		return 0;
	return u->found = 1;
}

/*
 * A file's description page that no group syncs itself is synced with
 * the set of the first page showing the file that a group with files =
 * yes syncs: so a new version of the file, and the description's edits,
 * reach every wiki that shows it.
 */
static int
file_set(struct mw *m, const struct wiki *w, const char *title,
    struct syncset *set)
{
	struct fileuse u = { w->name, set, 0 };
	struct mwerr e;

	if (mw_file_users(m, title, file_user, &u, &e) == -1) {
		ws_log(LOG_NOTICE, "%s: %s: its users: %s", w->name, title,
		    e.msg);
		return 0;
	}
	return u.found;
}

/* --- the job --------------------------------------------------------- */

/* Does every wiki take part, holding the revision its base names? */
static int
settled(const struct page *pg)
{
	const struct side *s;
	size_t i;

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (s->out || s->kept || !s->hasptr)
			return 0;
		if (s->top.missing ? !ptr_deleted(s) :
		    strcmp(s->ptr.sha1, s->top.rev.sha1) != 0 ||
		    atol(s->ptr.revid) != s->top.rev.revid)
			return 0;
	}
	return 1;
}

/*
 * The agreement's generation, newer than every pointer's, and its wikis:
 * each taking part with the revision it holds (0: the page is gone), each
 * left out with why; then it is written to the job.
 */
static void
agree_sides(struct page *pg, struct agreement *a)
{
	struct timespec now;
	struct side *s;
	size_t i;

	strlcpy(a->title, pg->title, sizeof(a->title));
	clock_gettime(CLOCK_REALTIME, &now);
	a->gen = (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
	if (a->gen <= pg->newest)
		a->gen = pg->newest + 1;
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (s->kept) {
			strlcpy(a->kept[a->nkept++], s->w->name,
			    sizeof(a->kept[0]));
			continue;
		}
		if (s->out) {
			strlcpy(a->left[a->nleft].wiki, s->w->name,
			    sizeof(a->left[0].wiki));
			a->left[a->nleft++].code = s->code;
			if (*a->why == '\0')
				snprintf(a->why, sizeof(a->why), "%s: %s",
				    s->w->name, s->why);
			continue;
		}
		strlcpy(a->w[a->n].wiki, s->w->name, sizeof(a->w[0].wiki));
		if (a->deleted) {
			a->w[a->n].pageid = s->hasptr ? s->ptr.pageid : 0;
			a->w[a->n++].revid = 0;
		} else {
			a->w[a->n].pageid = s->top.pageid;
			a->w[a->n++].revid = s->top.rev.revid;
		}
	}
	if (agreement_write(pg->sp, pg->jobid, a) == -1)
		die(EX_TEMPFAIL, "%s: recording the agreement", pg->jobid);
}

/*
 * Every wiki taking part lacks the page, and one at least had it at the
 * last agreement: the page's deletion is the agreement.  Its text before
 * (the newest agreement's, in the store) is what a restore comes back to.
 */
static int
agree_deleted(struct page *pg)
{
	struct agreement a;
	const struct side *s, *had = NULL;
	size_t i;

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (in(s) && s->hasptr && (had == NULL ||
		    s->ptr.gen > had->ptr.gen))
			had = s;
	}
	memset(&a, 0, sizeof(a));
	if (had == NULL) {
		/* never synced: nothing to agree on */
		if (agreement_write(pg->sp, pg->jobid, &a) == -1)
			die(EX_TEMPFAIL, "%s: recording progress", pg->jobid);
		return 0;
	}
	a.deleted = 1;
	strlcpy(a.sha1, had->ptr.sha1, sizeof(a.sha1));
	agree_sides(pg, &a);
	return 0;
}

/*
 * Every wiki taking part holds one text: put it in the store (checked
 * against its sha1) and record the agreement in the job, with the wikis
 * left out and why.  Its generation is newer than every pointer's.
 */
static int
agree(struct page *pg)
{
	struct agreement a;
	struct side *s = &pg->s[pg->origin];
	struct stat sb;
	char got[SHA1_HEX + 1] = "";
	size_t i;
	long was;
	int rc;

	for (i = 0; !in(s) && i < pg->n; i++)
		s = &pg->s[i];
	if (settled(pg)) {
		/* the bases name these very revisions: nothing to verify */
		memset(&a, 0, sizeof(a));
		if (agreement_write(pg->sp, pg->jobid, &a) == -1)
			die(EX_TEMPFAIL, "%s: recording progress", pg->jobid);
		return 0;
	}
	if (s->top.missing)
		return agree_deleted(pg);
	was = s->top.rev.revid;
	if (fstatat(pg->st->versions, s->top.rev.sha1, &sb, 0) == -1) {
		if (pg->hasmeet && strcmp(pg->meet.sha1, s->top.rev.sha1) == 0 &&
		    pg->meet.text != NULL) {
			if (store_put(pg->st, pg->meet.text, pg->meet.len,
			    got) == -1)
				die(EX_TEMPFAIL, "store");
		} else {
			if ((rc = read_text(pg, s)) != 0)
				return rc;
			if (s->top.missing || s->top.rev.revid != was)
				return MOVED;
			if (store_put(pg->st, s->top.rev.text, s->top.rev.len,
			    got) == -1)
				die(EX_TEMPFAIL, "store");
		}
		if (strcmp(got, s->top.rev.sha1) != 0) {
			ws_log(LOG_WARNING, "%s: %s: text read has sha1 %s, "
			    "the wiki says %s", s->w->name, pg->title, got,
			    s->top.rev.sha1);
			return MOVED;
		}
	}
	memset(&a, 0, sizeof(a));
	strlcpy(a.sha1, s->top.rev.sha1, sizeof(a.sha1));
	agree_sides(pg, &a);
	return 0;
}

/* Do all wikis taking part hold one text, or all lack the page? */
static int
all_same(const struct page *pg)
{
	const char *sha = NULL;
	int missing = 0;
	size_t i;

	for (i = 0; i < pg->n; i++) {
		if (!in(&pg->s[i]))
			continue;
		if (pg->s[i].top.missing) {
			if (sha != NULL)
				return 0;
			missing = 1;
			continue;
		}
		if (missing)
			return 0;
		if (sha == NULL)
			sha = pg->s[i].top.rev.sha1;
		else if (strcmp(pg->s[i].top.rev.sha1, sha) != 0)
			return 0;
	}
	return 1;
}

/*
 * One round: replay from a source (a changed wiki first, the job's own
 * before the others), or merge; 0, MOVED or -1.
 */
static int
round_once(struct page *pg)
{
	struct side *src = NULL, *s, *v[SYNC_WIKIS];
	struct base was, wasmeet = pg->meet;
	int hadmeet = pg->hasmeet;
	size_t i, k, nv = 0;
	int r, pass;

	for (pass = 0; pass < 2 && src == NULL; pass++)
		for (k = 0; k < pg->n && src == NULL; k++) {
			s = &pg->s[(pg->origin + k) % pg->n];
			if (!in(s) || s->top.missing || changed(s) == pass)
				continue;
			if ((r = source_for(pg, s)) < 0)
				return r;
			if (r)
				src = s;
		}
	if (src == NULL)
		return merge_all(pg, pg->set.first);
	/* every text replayed grew into src's: the job's result */
	was = src->base;
	base_rev(&pg->meet, src, &src->top.rev);
	pg->hasmeet = 1;
	src->base = pg->meet;
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (s == src || !in(s) || (!s->top.missing &&
		    strcmp(s->top.rev.sha1, src->top.rev.sha1) == 0))
			continue;
		v[nv++] = s;
	}
	if ((r = replay_all(pg, src, v, nv, pg->set.first->history)) == 0)
		return 0;
	/* src's text is no result while it went: its agreed base back, so
	   the next reading sees the deletion or move */
	if (r == VANISHED) {
		src->base = was;
		pg->meet = wasmeet;
		pg->hasmeet = hadmeet;
		r = MOVED;
	}
	return r;
}

/*
 * Jobs queued for this page, from any wiki of its set, are this job's too
 * when their mail came before the page was marked seen on their wiki and
 * that was before this job reads it: every edit their mails announced is
 * read here, and every later edit mails again.  The job's own wiki was
 * marked seen at seen_at; the others are marked here, after their jobs
 * were listed.  Only the FOLD_WINDOW oldest jobs are looked at, and only
 * jobs of edits (no event, created or changed) under the title this job
 * reads now: after a move it followed, the old title may be a new page
 * on some wiki, which this job never reads (bench/chaos: 3 wikis,
 * lifecycle, seed 5).  Nor a job whose wiki is in a group with wikis
 * outside this job's set (syncset_within): with overlapping groups its
 * page may sync more wikis than this one does.  They are folded in
 * (removed) by fold_done, only once this job has made every wiki hold one
 * text under that title.
 */
#define FOLD_WINDOW	200

static int
edit_event(const struct job *j)
{
	const char *ev = job_get(j, "event");

	return ev == NULL || strcmp(ev, "created") == 0 ||
	    strcmp(ev, "changed") == 0;
}

/* The time in a job's id: when it was made, in microseconds. */
static long long
job_made(const char *id)
{
	long long sec = 0, usec = 0;

	sscanf(id, "%lld.%lld", &sec, &usec);
	return sec * 1000000 + usec;
}

/*
 * A job listed to be folded in no longer stands for edits to come: an
 * edit after its wiki is marked seen mails, and ws-recv makes that mail a
 * job of its own instead of taking it as queued already (bench/chaos: 5
 * wikis, lifecycle, seed 5).  The mark, folding=ID, is written before the
 * page is marked seen; a job that cannot be marked is not folded in.  A
 * job left marked (this one failed, or crashed) still runs; it only no
 * longer absorbs mails.
 */
static int
folding(struct spool *sp, struct job *o, const char *by)
{
	const char *was = job_get(o, "folding");

	if (was != NULL && strcmp(was, by) == 0)
		return 0;
	job_set(o, "folding", by);
	if (job_save(sp, o, o->state, o->mtime.tv_sec) == -1) {
		ws_log(LOG_NOTICE, "%s: not folded in: %s", o->id,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* The jobs to fold in, listed in pg->fold; raw: the title as asked for. */
static void
fold_find(struct page *pg, const struct job *self, const char *raw,
    long long seen_at)
{
	struct job o;
	struct mwerr e;
	char **ids;
	const char *w, *t, *pt = pg->title;
	uint32_t tag[SYNC_WIKIS][2];
	size_t i, k, n;

	if (!edit_event(self) || spool_lock(pg->sp) == -1)
		return;
	if (spool_ids(pg->sp, Q_NEW, &ids, &n) == -1) {
		spool_unlock(pg->sp);
		return;
	}
	for (k = 0; k < pg->n; k++) {
		tag[k][0] = job_tag(pg->s[k].w->name, pg->title);
		tag[k][1] = job_tag(pg->s[k].w->name, raw);
	}
	for (i = 0; i < n && i < FOLD_WINDOW; i++) {
		/* by their names, the jobs of other pages are not read */
		for (k = 0; k < pg->n; k++)
			if (job_id_may_be(ids[i], tag[k][0]) ||
			    job_id_may_be(ids[i], tag[k][1]))
				break;
		if (k == pg->n || strcmp(ids[i], self->id) == 0 ||
		    job_load(pg->sp, ids[i], &o) == -1)
			continue;
		w = job_get(&o, "wiki");
		t = job_get(&o, "title");
		for (k = 0; w != NULL && t != NULL && k < pg->n; k++)
			if (!pg->s[k].out && strcmp(pg->s[k].w->name, w) == 0 &&
			    (strcmp(t, pg->title) == 0 || strcmp(t, raw) == 0) &&
			    edit_event(&o) && (k != pg->origin ||
			    job_made(o.id) < seen_at) &&
			    syncset_within(ws_conf(), w, &pg->set)) {
				if (folding(pg->sp, &o, self->id) == -1)
					break;
				pg->fold = xreallocarray(pg->fold,
				    pg->nfold + 1, sizeof(*pg->fold));
				pg->fold[pg->nfold++] = xstrdup(o.id);
				pg->s[k].seen = 1;
				break;
			}
		job_free(&o);
	}
	spool_ids_free(ids, n);
	spool_unlock(pg->sp);
	/* the origin was marked seen first thing: its jobs made before */
	pg->s[pg->origin].seen = 2;
	for (k = 0; k < pg->n; k++)
		if (pg->s[k].seen == 1 && mw_seen(pg->s[k].mw, &pt, 1, &e) == 0)
			pg->s[k].seen = 2;
}

/* The listed jobs of wikis marked seen removed: when settled is set. */
static void
fold_done(struct page *pg, int settled)
{
	struct job o;
	const char *w;
	size_t i, k, folded = 0;

	if (settled && pg->nfold > 0 && spool_lock(pg->sp) == 0) {
		for (i = 0; i < pg->nfold; i++) {
			if (job_load(pg->sp, pg->fold[i], &o) == -1)
				continue;
			w = job_get(&o, "wiki");
			for (k = 0; k < pg->n; k++)
				if (o.state == Q_NEW && w != NULL &&
				    strcmp(pg->s[k].w->name, w) == 0 &&
				    pg->s[k].seen == 2 &&
				    job_remove(pg->sp, &o) == 0)
					folded++;
			job_free(&o);
		}
		spool_unlock(pg->sp);
	}
	for (i = 0; i < pg->nfold; i++)
		free(pg->fold[i]);
	free(pg->fold);
	pg->fold = NULL;
	pg->nfold = 0;
	if (folded > 0)
		ws_log(LOG_DEBUG, "%s: %zu queued job%s folded in", pg->title,
		    folded, folded > 1 ? "s" : "");
}

/* The sync user watches the page where it has no base yet. */
static void
watch_new(struct page *pg)
{
	struct mwerr e;
	const char *t = pg->title;
	size_t i;

	for (i = 0; i < pg->n; i++)
		if (!pg->s[i].hasptr && !pg->s[i].out &&
		    mw_watch(pg->s[i].mw, &t, 1, &e) == -1)
			ws_log(LOG_WARNING, "%s: watching %s: %s",
			    pg->s[i].w->name, pg->title, e.msg);
}

static void
report(const struct page *pg, FILE *out)
{
	const struct side *s;
	size_t i;
	int any = 0;

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (i == pg->origin && s->revs == 0 && !s->merged && !s->out &&
		    !s->files)
			continue;
		fprintf(out, "%s%s: ", any++ ? "; " : "", s->w->name);
		if (s->out)
			fprintf(out, "left out (%s)", s->why);
		else if (s->merged)
			fprintf(out, "%s%s", s->revs ? "revisions, " : "",
			    s->merged == 2 ? "conflict, all kept" : "merged");
		else if (s->revs)
			fprintf(out, "%zu revision%s", s->revs,
			    s->revs == 1 ? "" : "s");
		else if (!s->files)
			fputs("has it", out);
		if (s->files)
			fprintf(out, "%s%zu file%s", s->revs || s->merged ?
			    ", " : "", s->files, s->files == 1 ? "" : "s");
	}
	fputs(any ? "\n" : "nothing to push\n", out);
}

/*
 * The page is missing on w, or in none of w's groups there, but w synced
 * it (its store pointer says so, and not that the page was deleted there
 * by agreement): the set of wikis is what another wiki that synced it and
 * has it still makes of it, if w is in that set.  So the edit that takes
 * a page out of its group's categories, or deletes it, reaches every
 * wiki of the group; once none has it in the group, it is not synced.
 * 1 found, 0 not; -1 when not found, but a wiki that synced the page did
 * not answer (*silent, why in *why): that one may have it still, and the
 * job waits for it rather than end without the others hearing of it.
 */
static int
set_elsewhere(struct store *st, const struct wiki *w, const char *title,
    struct syncset *set, const struct wiki **silent, struct mwerr *why)
{
	const struct conf *c = ws_conf();
	struct storeptr p;
	struct mwpage pg;
	struct mwerr e;
	struct mw *m;
	size_t i, k;
	int found = 0;

	*silent = NULL;

	if (store_get(st, w->name, title, &p) == -1 ||
	    strcmp(p.revid, DELETED_REV) == 0 || strcmp(p.revid, MOVED_REV) == 0)
		return 0;
	for (i = 0; i < c->nwikis && !found; i++) {
		if (&c->wikis[i] == w ||
		    store_get(st, c->wikis[i].name, title, &p) == -1 ||
		    strcmp(p.revid, DELETED_REV) == 0 ||
		    strcmp(p.revid, MOVED_REV) == 0)
			continue;
		memset(&pg, 0, sizeof(pg));
		if ((m = mw_open(&c->wikis[i], &e)) == NULL ||
		    mw_info(m, &title, 1, &pg, &e) == -1) {
			ws_log(LOG_NOTICE, "%s: %s", c->wikis[i].name, e.msg);
			if (e.temp && *silent == NULL) {
				*silent = &c->wikis[i];
				*why = e;
			}
			mw_close(m);
			continue;
		}
		if (!pg.missing && syncset_of(c, c->wikis[i].name, pg.title,
		    pg.cats, pg.ncats, set) >= 2)
			for (k = 0; k < set->n; k++)
				if (set->wikis[k] == w)
					found = 1;
		mw_pages_free(&pg, 1);
		mw_close(m);
	}
	return found ? 1 : *silent != NULL ? -1 : 0;
}

/*
 * The page w synced under this title (its store pointer, even one that
 * says the page was deleted: it may have been restored since) moved away
 * on w: the set is the one the page makes where it went, and the rounds
 * follow the move (moves).
 */
static int
set_moved(struct store *st, struct mw *m, const struct wiki *w,
    const char *title, struct syncset *set)
{
	struct storeptr p;
	struct mwlog l;
	struct mwpage tp;
	struct mwerr e;
	const char *t;
	int found = 0;

	if (store_get(st, w->name, title, &p) == -1 || p.pageid == 0 ||
	    strcmp(p.revid, MOVED_REV) == 0)
		return 0;
	if (mw_log_last(m, title, "move", &l, &e) == -1) {
		ws_log(LOG_NOTICE, "%s: %s: %s", w->name, title, e.msg);
		return 0;
	}
	t = l.target;
	memset(&tp, 0, sizeof(tp));
	if (strncmp(l.action, "move", 4) == 0 && *t != '\0' &&
	    mw_info(m, &t, 1, &tp, &e) == 0 && !tp.missing &&
	    tp.pageid == p.pageid && syncset_of(ws_conf(), w->name, tp.title,
	    tp.cats, tp.ncats, set) >= 2)
		found = 1;
	mw_pages_free(&tp, 1);
	mw_log_free(&l);
	return found;
}

/*
 * w moved the page away from title, as w's pointer here says (the sync
 * made or followed the move), and a wiki has not followed yet: its base
 * where the page went still names the title it has the page at.  The job
 * goes on there (to), where the rounds have that wiki follow; a job for
 * the title the page left would otherwise find nothing a group syncs
 * here, and the wiki would wait for the page's next edit.  1, else 0.
 */
static int
moved_away(struct store *st, const struct wiki *w, const char *title,
    char *to, size_t tolen)
{
	const struct conf *c = ws_conf();
	struct storeptr p;
	size_t i;

	if (store_get(st, w->name, title, &p) == -1 ||
	    strcmp(p.revid, MOVED_REV) != 0 || strcmp(p.title, title) == 0)
		return 0;
	strlcpy(to, p.title, tolen);
	for (i = 0; i < c->nwikis; i++)
		if (&c->wikis[i] != w &&
		    store_get(st, c->wikis[i].name, to, &p) == 0 &&
		    strcmp(p.revid, MOVED_REV) != 0 &&
		    strcmp(p.revid, DELETED_REV) != 0 &&
		    strcmp(p.title, to) != 0)
			return 1;
	return 0;
}

/*
 * The page came to this title on w by a move no job has followed yet: w
 * has no base here, but has one, of the same page id, at a title the page
 * had before, as w's move log tells.  The job goes there first (to),
 * where the rounds find the move and have every wiki make it; here the
 * page would look new, be made anew on every other wiki, and the moved
 * one stay behind at its old title there.  1, else 0; a log that cannot
 * be read ends the job, to be tried again.
 */
static int
moved_here(struct store *st, struct mw *m, const struct wiki *w,
    const struct mwpage *cur, char *to, size_t tolen)
{
	struct storeptr p;
	struct mwerr e;
	char from[MOVES_MAX][512];
	size_t i, n;

	if (cur->pageid == 0 || store_get(st, w->name, cur->title, &p) == 0)
		return 0;
	n = mw_moved_from(m, cur->title, cur->pageid, from, MOVES_MAX, &e);
	if (n == (size_t)-1)
		diex(e.code, "%s: %s", w->name, e.msg);
	for (i = 0; i < n; i++)
		if (store_get(st, w->name, from[i], &p) == 0 &&
		    p.pageid == cur->pageid &&
		    strcmp(p.revid, MOVED_REV) != 0 &&
		    strcmp(p.revid, DELETED_REV) != 0) {
			strlcpy(to, from[i], tolen);
			return 1;
		}
	return 0;
}

static int	 left_to(struct spool *, const struct wiki *, const char *,
		    const char *);

/*
 * The job under one title: an exit code, or RENAMED (to: the new one).
 * early: the bases were just moved by verifying the last push's agreement
 * (sync_page), so that the page seems settled though that push may have
 * stopped before its files.
 */
static int
sync_title(struct spool *sp, struct store *st, const struct job *j,
    const struct wiki *w, const char *title, char *to, size_t tolen,
    FILE *out, int early)
{
	struct page pg;
	struct mwpage cur;
	struct mwerr e;
	struct agreement none;
	struct timeval tv;
	struct mw *m;
	long long seen_at;
	char held[sizeof(pg.title)] = "";
	const struct wiki *silent = NULL;
	const char *what;
	size_t i, round;
	int r, isfile, was, renamed = 0, elsewhere = 0;

	memset(&pg, 0, sizeof(pg));
	memset(&cur, 0, sizeof(cur));
	memset(&none, 0, sizeof(none));
	pg.sp = sp;
	pg.st = st;
	pg.jobid = j->id;
	pg.out = out;
	/* seen before read: an edit made from now on mails again */
	gettimeofday(&tv, NULL);
	seen_at = (long long)tv.tv_sec * 1000000 + tv.tv_usec;
	if ((m = mw_open(w, &e)) == NULL || mw_seen(m, &title, 1, &e) == -1 ||
	    mw_info(m, &title, 1, &cur, &e) == -1)
		diex(e.code, "%s: %s", w->name, e.msg);
	if (!cur.invalid && (what = conf_reserved(ws_conf(), cur.title))) {
		ws_log(LOG_NOTICE, "%s: %s: %s, never synced", w->name,
		    cur.title, what);
		fprintf(out, "%s, never synced\n", what);
		goto nothing;
	}
	if (!cur.invalid && cur.missing && (elsewhere = set_elsewhere(st, w,
	    cur.title, &pg.set, &silent, &e)) == -1 &&
	    !set_moved(st, m, w, cur.title, &pg.set))
		goto unanswered;
	if (cur.invalid || (cur.missing && elsewhere == 0 &&
	    !set_moved(st, m, w, cur.title, &pg.set))) {
		if (!cur.invalid && (renamed = moved_away(st, w, cur.title, to,
		    tolen)))
			goto nothing;
		/* the caller names the job's wiki and page */
		fputs("no such page, nothing to push\n", out);
		goto nothing;
	}
	/* from here on the page is called what the wiki calls it, and
	   no other push works on it (workers, or a move followed) */
	strlcpy(pg.title, cur.title, sizeof(pg.title));
	strlcpy(held, pg.title, sizeof(held));
	if (spool_page_lock(sp, held) == -1)
		die(EX_TEMPFAIL, "%s: page lock", held);
	if (!cur.missing && syncset_of(ws_conf(), w->name, pg.title, cur.cats,
	    cur.ncats, &pg.set) == 0 && pg.set.owner != NULL) {
		if (left_to(sp, w, pg.title, pg.set.owner))
			fprintf(out, "left to %s, whose group also syncs it\n",
			    pg.set.owner);
		else
			fputs("left to its owner\n", out);
		goto nothing;
	}
	if (!cur.missing && pg.set.n < 2 && (elsewhere = set_elsewhere(st, w,
	    pg.title, &pg.set, &silent, &e)) != 1 &&
	    !set_moved(st, m, w, pg.title, &pg.set) &&
	    !(cur.ns == NS_FILE && file_set(m, w, pg.title, &pg.set))) {
		if (elsewhere == -1)
			goto unanswered;
		if ((renamed = moved_away(st, w, pg.title, to, tolen)))
			goto nothing;
		fputs("not in a synced group\n", out);
		goto nothing;
	}
	if (!cur.missing && (renamed = moved_here(st, m, w, &cur, to, tolen)))
		goto nothing;
	isfile = cur.ns == NS_FILE && !cur.missing;
	mw_pages_free(&cur, 1);
	for (i = 0; i < pg.set.n; i++) {
		pg.s[i].w = pg.set.wikis[i];
		if (pg.s[i].w == w) {
			pg.origin = i;
			pg.s[i].mw = m;
		} else if ((pg.s[i].mw = mw_open(pg.s[i].w, &e)) == NULL) {
			failed(&pg, &pg.s[i], &e);
			goto out;
		}
	}
	pg.n = pg.set.n;
	read_bases(&pg);
	watch_new(&pg);
	fold_find(&pg, j, title, seen_at);
	/* a file's own page: the file first, which makes its page where
	   it is new */
	if (isfile && pg.set.first->files) {
		const char *t = pg.title;

		if (read_tops(&pg) == -1 || sync_files(&pg, &t, 1) == -1)
			goto out;
	}
	for (round = 0, r = MOVED; round < ROUNDS; round++) {
		/*
		 * After a round whose every edit MediaWiki saved as sent, what
		 * each wiki holds is known without reading: an edit made since
		 * mails, and ws-verify reads back each revision agreed on.
		 */
		if ((r != 0 || !all_same(&pg)) && read_tops(&pg) == -1)
			goto out;
		if ((r = lifecycle(&pg)) == -1)
			goto out;
		if (r == RENAMED) {
			strlcpy(to, pg.to, tolen);
			pg.worst = RENAMED;
			goto out;
		}
		if (r != 0)
			continue;
		if (all_same(&pg)) {
			/* settled: the files were made the same when the
			   bases were agreed on, and a new version mails */
			was = settled(&pg) && !early;
			if ((r = agree(&pg)) == 0) {
				if (!isfile && !was && pg.set.first->files &&
				    page_files(&pg) == -1)
					goto out;
				report(&pg, out);
				pg.settled = 1;
				goto out;
			}
			if (r == -1)
				goto out;
			continue;
		}
		if ((r = round_once(&pg)) == -1)
			goto out;
	}
	ws_log(LOG_NOTICE, "%s: changed on some wiki in each of %d rounds: "
	    "later", pg.title, ROUNDS);
	if (pg.worst == 0)
		pg.worst = EX_TEMPFAIL;
out:
	fold_done(&pg, pg.settled && pg.worst == 0);
	for (i = 0; i < pg.n; i++) {
		mw_pages_free(&pg.s[i].top, 1);
		mw_log_free(&pg.s[i].log);
		if (pg.s[i].mw != m)
			mw_close(pg.s[i].mw);
	}
	mw_close(m);
	for (i = 0; i < pg.npool; i++)
		free(pg.pool[i]);
	free(pg.pool);
	spool_page_unlock(sp, held);
	return pg.worst;
nothing:
	mw_pages_free(&cur, 1);
	mw_close(m);
	if (*held != '\0')
		spool_page_unlock(sp, held);
	if (agreement_write(sp, j->id, &none) == -1)
		die(EX_TEMPFAIL, "%s: recording progress", j->id);
	return renamed ? RENAMED : 0;
unanswered:
	/*
	 * The page left w's groups, or went from w, and a wiki that synced
	 * it did not answer: that one may hold it in the group yet, and
	 * must hear of this.  The job waits for it (waits=WIKI).
	 */
	ws_log(LOG_NOTICE, "%s: %s: waiting for %s, which synced it: %s",
	    w->name, cur.title, silent->name, e.msg);
	mw_pages_free(&cur, 1);
	mw_close(m);
	if (*held != '\0')
		spool_page_unlock(sp, held);
	job_waits(sp, j->id, silent);
	return EX_TEMPFAIL;
}

/*
 * A page another syncing host owns is left to it, said once: 1 when it
 * is said now (logged, and the caller says why), 0 when it was said
 * already.  left/WIKI.KEY holds the owner last said, so the next edits
 * of the page are quiet until the owner changes.  Nothing else reads it.
 */
static int
left_to(struct spool *sp, const struct wiki *w, const char *title,
    const char *owner)
{
	char name[NAME_MAX + 1], key[MD5_HEX + 1], was[256];
	ssize_t n = -1;
	int dir, fd;

	if (mkdirat(sp->root, "left", 0750) == -1 && errno != EEXIST)
		goto say;
	if ((dir = openat(sp->root, "left", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		goto say;
	title_key(title, key);
	snprintf(name, sizeof(name), "%s.%s", w->name, key);
	if ((fd = openat(dir, name, O_RDONLY | O_CLOEXEC)) != -1) {
		n = read(fd, was, sizeof(was) - 1);
		close(fd);
	}
	if (n > 0 && (size_t)n == strlen(owner) + 1 &&
	    strncasecmp(was, owner, strlen(owner)) == 0) {
		close(dir);
		return 0;
	}
	snprintf(was, sizeof(was), "%s\n", owner);
	(void)atomic_write(dir, name, was, strlen(was), 0640);
	close(dir);
say:
	ws_log(LOG_NOTICE, "%s: %s: left to %s, whose group also syncs it",
	    w->name, title, owner);
	return 1;
}

/*
 * ws-push: the job's page made the same everywhere, following it through
 * the moves made of it (MOVES_MAX at most: a page moved back and forth
 * on two wikis at once waits for a later try).
 */
int
sync_page(struct spool *sp, struct store *st, const struct job *j,
    const struct wiki *w, const char *title, FILE *out)
{
	struct agreement a;
	char at[2][512];
	int hop, rc, early = 0;

	/* the address the wiki mailed is this host too */
	syncset_recipient(job_get(j, "to"));
	/*
	 * A job run again whose last push recorded an agreement no verify
	 * checked (the loop killed between the two, or a wiki that did not
	 * answer the verify): it is checked first, as ws-verify would, so
	 * the bases are where that push left the wikis.  Else a page new to
	 * the store is merged against the empty text, and two edits made
	 * since on two wikis end whole in a conflict box.
	 */
	if (agreement_read(j, &a) == 0 && *a.sha1 != '\0' &&
	    sync_verify(st, j, w) == 0) {
		ws_log(LOG_DEBUG, "%s: the last push's agreement verified first",
		    a.title);
		early = 1;
	}
	for (hop = 0; hop <= MOVES_MAX; hop++) {
		rc = sync_title(sp, st, j, w, title, at[hop % 2],
		    sizeof(at[0]), out, early);
		if (rc != RENAMED)
			return rc;
		title = at[hop % 2];
	}
	ws_log(LOG_NOTICE, "%s: moved %d times in one job: later", title,
	    MOVES_MAX + 1);
	return EX_TEMPFAIL;
}

/* --- verify ------------------------------------------------------------ */

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
