/*
 * side.c: one wiki of a page's set, as a job sees it (page.h): its base
 * (the text its changes are measured from), reading its current
 * revision and text, and the sync edit, the one way the job writes a
 * page's text to a wiki (side_save).
 * Invariants: a base only ever names a text a wiki held or this job
 * wrote; every edit is based on the revision last read there, and one
 * MediaWiki merged with an edit made meanwhile reads as MERGED, never as
 * done.
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

/* The job ends without an agreement: a permanent failure outranks. */
void
side_failed(struct page *pg, const struct side *s, const struct mwerr *e)
{
	ws_log(LOG_WARNING, "%s: %s", s->w->name, e->msg);
	if (pg->worst == 0 || (pg->worst == EX_TEMPFAIL && !e->temp))
		pg->worst = e->temp ? EX_TEMPFAIL : e->code;
}

/*
 * s did not answer, or refused: it is left out of the job, which goes on
 * with the others and stays queued for it.  Always MOVED: read again.
 */
int
side_leave_out(struct page *pg, struct side *s, const struct mwerr *e)
{
	ws_log(LOG_WARNING, "%s: %s: left out: %s", s->w->name, pg->title,
	    e->msg);
	s->out = 1;
	s->code = e->temp ? EX_TEMPFAIL : e->code;
	strlcpy(s->why, e->msg, sizeof(s->why));
	return MOVED;
}

/* Cut s at len bytes, on a UTF-8 character boundary. */
void
utf8_cut(char *s, size_t len)
{
	if (strlen(s) <= len)
		return;
	while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
		len--;
	s[len] = '\0';
}

/* "alpha (Editor, r12)" */
void
side_label(char *buf, size_t len, const struct side *s)
{
	const char *u = s->top.rev.user;

	snprintf(buf, len, "%s (%s, r%ld)", s->w->name, u && *u ? u : "hidden",
	    s->top.rev.revid);
}

int
sync_user(const struct wiki *w, const char *user)
{
	size_t n = strcspn(w->user, "@");

	return strlen(user) == n && strncmp(user, w->user, n) == 0;
}

/* The length MediaWiki keeps of a text: it drops trailing whitespace. */
size_t
saved_len(const char *p, size_t len)
{
	while (len > 0 && strchr(" \t\n\r", p[len - 1]) != NULL)
		len--;
	return len;
}

/* The job keeps text (malloc'd) until it ends. */
const char *
page_hold(struct page *pg, char *text)
{
	pg->pool = xreallocarray(pg->pool, pg->npool + 1, sizeof(*pg->pool));
	return pg->pool[pg->npool++] = text;
}

/* --- bases ----------------------------------------------------------- */

/* A base of this job's, whose text is in memory. */
void
base_mine(struct base *b, const char *text, size_t len, const char *sha1)
{
	memset(b, 0, sizeof(*b));
	strlcpy(b->sha1, sha1, sizeof(b->sha1));
	b->text = text;
	b->len = len;
	b->rank = JOB_RANK;
}

/* A base of this job's: a revision of a wiki, its text read when needed. */
void
base_rev(struct base *b, struct side *from, const struct mwrev *r)
{
	memset(b, 0, sizeof(*b));
	strlcpy(b->sha1, r->sha1, sizeof(b->sha1));
	b->from = from;
	b->srev = r->revid;
	b->rank = JOB_RANK;
}

/* The text of b, read from the store or from the wiki it came from. */
int
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
		b->text = page_hold(pg, t);
		return 0;
	}
	memset(&rv, 0, sizeof(rv));
	if (mw_rev(b->from->mw, b->srev, &rv, NULL, &e) == -1)
		return side_leave_out(pg, b->from, &e);
	if (rv.text == NULL || strcmp(rv.sha1, b->sha1) != 0) {
		mw_rev_free(&rv);
		ws_log(LOG_NOTICE, "%s: %s: r%ld hidden or changed meanwhile",
		    b->from->w->name, pg->title, b->srev);
		return MOVED;
	}
	b->text = page_hold(pg, rv.text);
	b->len = rv.len;
	rv.text = NULL;
	mw_rev_free(&rv);
	return 0;
}

/*
 * Every wiki's pointer is its base; the newest generation among them is
 * the page's newest agreement.
 */
void
page_read_bases(struct page *pg)
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
 * agreement takes part with that base: one that does is the job's link
 * to it.  One whose page was made anew (its base reset) is no link: a
 * merge without the newest agreement would start from an older base,
 * and overwrite the newer lines of the wiki that holds it once back.
 * The wiki to wait for, or NULL to go on.
 */
static const struct side *
chain_link(const struct page *pg)
{
	const struct side *waiting = NULL;
	size_t i;

	for (i = 0; i < pg->n; i++) {
		if (!pg->s[i].hasptr || pg->s[i].ptr.gen != pg->newest)
			continue;
		if (!pg->s[i].out && pg->s[i].base.rank != -1)
			return NULL;
		if (pg->s[i].out)
			waiting = &pg->s[i];
	}
	return waiting;
}

/* Has s a text other than its base? */
int
side_changed(const struct side *s)
{
	return !s->top.missing && strcmp(s->top.rev.sha1, s->base.sha1) != 0;
}

/* Was the page's last agreement on s its deletion? */
int
side_ptr_deleted(const struct side *s)
{
	return s->hasptr && strcmp(s->ptr.revid, DELETED_REV) == 0;
}

/*
 * Was the page deleted on s since its last agreement, which had a text?
 * Also when this job wrote there since: a page missing after the job's
 * own write was deleted by someone meanwhile, and made anew from the
 * others' text it would lose what an editor saved there just before
 * (MediaWiki merges such a save into the sync's edit).
 */
int
side_gone(const struct side *s)
{
	return s->top.missing && s->hasptr && !side_ptr_deleted(s);
}

/* Does s take part in what this round writes and agrees on? */
int
side_in(const struct side *s)
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
 * Did the sync edit MediaWiki merged (sv) land in the second of the edit
 * it met?  Then an editor who loaded that edit saves over the merge
 * unseen (MediaWiki compares an edit's base to the second), dropping
 * what the sync wrote.  Unknown counts as yes.
 */
static int
merged_in_second(struct side *s, const struct mwsaved *sv)
{
	struct mwrev rv;
	struct mwerr e;
	int same;

	memset(&rv, 0, sizeof(rv));
	if (mw_rev_info(s->mw, sv->oldrevid, &rv, NULL, &e) == -1)
		return 1;
	same = strcmp(rv.timestamp, sv->timestamp) == 0;
	mw_rev_free(&rv);
	return same;
}

/*
 * Save text on s, based on its revision as last read.  0 when saved as
 * it is (or the wiki had it): the caller makes the text s's base.
 * MERGED when MediaWiki merged it with an edit made meanwhile: the text
 * is what that merge measured from, so it becomes s's base too, and the
 * job reads again; MERGED_SAME when that merge landed in the second of
 * the edit it met (merged_in_second): s's base stays as it was, since
 * an editor may drop the sync's lines unseen, and measured from the
 * text sent those would read as that editor's removals, measured from
 * the base before as lines still to come.  MOVED when the wiki changed
 * since that reading and nothing was saved, or when it did not answer.
 */
int
side_save(struct page *pg, struct side *s, const char *text, size_t len,
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
		return side_leave_out(pg, s, &e);
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
		return merged_in_second(s, &sv) ? MERGED_SAME : MERGED;
	}
	return 0;
}

/*
 * Add a note to a user's talk page on s's wiki.  A note that cannot be
 * written is logged, not retried: what it tells is on the page itself.
 */
void
side_talk_append(struct side *s, const char *user, const char *note,
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
void
side_talk_note(struct page *pg, struct side *s, const char *others)
{
	char note[3000];

	snprintf(note, sizeof(note), "\n\n== Edit conflict on [[%s]] ==\n"
	    "Your edit of [[%s]] and an edit on %s changed the same text "
	    "differently. Both versions are kept on the page, in a box; "
	    "please keep one, or combine them, and remove the box. "
	    "All pages like this: [[:Category:" CONFLICT_CATEGORY "]]. "
	    "~~~~\n", pg->title, pg->title, others);
	side_talk_append(s, s->top.rev.user, note,
	    "WikiSync: edit conflict to look at");
}

/* --- reading --------------------------------------------------------- */


/* Job id waits for w, which did not answer (waits=WIKI: sync_wake). */
void
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
void
side_waits(struct page *pg, const struct side *s)
{
	if (s->code == EX_TEMPFAIL)
		job_waits(pg->sp, pg->jobid, s->w);
}

/*
 * Every wiki's current revision of the page, without its text; a wiki
 * that does not answer is left out.  -1 when the job cannot go on.
 */
/*
 * One title can name pages of two kinds: "Handbook:Rules" is in a
 * namespace of its own on a wiki that declares Handbook, in the main one
 * on a wiki that does not.  Synced across, an editor of one would write
 * into a namespace the other protects, or the page would land where no
 * one looks for it.  The job is held, saying so: 1 when it is.
 */
static int
ns_differs(struct page *pg)
{
	const struct side *a = NULL, *s;
	size_t i;

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (s->out)
			continue;
		if (a == NULL) {
			a = s;
			continue;
		}
		if (s->top.ns == a->top.ns)
			continue;
		ws_log(LOG_ERR, "%s: namespace %d on %s, %d on %s: not the "
		    "same kind of page on both, not synced; declare the "
		    "namespace alike on every wiki of the group (or take the "
		    "page out of the synced category), then release the job",
		    pg->title, a->top.ns, a->w->name, s->top.ns, s->w->name);
		pg->worst = EX_DATAERR;
		return 1;
	}
	return 0;
}

int
page_read_tops(struct page *pg)
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
			side_leave_out(pg, s, &e);
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
				side_leave_out(pg, s, &e);
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
	if (ns_differs(pg))
		return -1;
	if ((link = chain_link(pg)) != NULL) {
		ws_log(LOG_NOTICE, "%s: waiting for %s, which holds its last "
		    "agreement: %s", pg->title, link->w->name, link->why);
		pg->worst = link->code ? link->code : EX_TEMPFAIL;
		side_waits(pg, link);
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
		side_waits(pg, link);
		return -1;
	}
	return 0;
}

/* One wiki's current revision with its text, as top (updated). */
int
side_read_text(struct page *pg, struct side *s)
{
	struct mwerr e;
	const char *t = pg->title;

	mw_pages_free(&s->top, 1);
	if (mw_current(s->mw, &t, 1, &s->top, &e) == -1)
		return side_leave_out(pg, s, &e);
	clock_gettime(CLOCK_MONOTONIC, &s->known);
	if (!s->top.missing && s->top.rev.text == NULL) {
		ws_log(LOG_WARNING, "%s: %s: current text hidden: later",
		    s->w->name, pg->title);
		pg->worst = EX_TEMPFAIL;
		return -1;
	}
	return 0;
}
