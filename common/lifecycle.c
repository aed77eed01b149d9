/*
 * lifecycle.c: a page's moves, deletions and restores followed on every
 * wiki of its set, before anything else a round does (lifecycle).
 * Invariants: a move is never forced over another page, nor onto the
 * groups or status page (the job is held); a base follows a move
 * pending first, the mover's last, so a crash between two leaves a
 * pointer that finds the move again; a deletion propagates only as the
 * group's deletions setting says, and a page edited on a wiki after its
 * deletion elsewhere is restored, not lost.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "page.h"
#include "diff.h"

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

	if (!side_in(s) || !s->hasptr || s->ptr.pageid == 0 ||
	    (!s->top.missing && s->top.pageid == s->ptr.pageid))
		return 0;
	strlcpy(at, t, sizeof(at));
	for (hop = 0; hop < MOVES_MAX; hop++) {
		t = at;
		if (mw_log_last(s->mw, t, "move", &l, &e) == -1)
			return side_leave_out(pg, s, &e);
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
			return side_leave_out(pg, s, &e);
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
	utf8_cut(buf, 250);
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
	    s->ptr.sha1, side_ptr_deleted(s) ? "0" : s->ptr.revid, s->ptr.gen,
	    s->ptr.pageid) == -1)
		die(EX_TEMPFAIL, "store: %s %s", s->w->name, to);
	if (!pending && store_set_as(pg->st, s->w->name, pg->title, to,
	    s->ptr.sha1, MOVED_REV, s->ptr.gen, s->ptr.pageid) == -1)
		die(EX_TEMPFAIL, "store: %s %s", s->w->name, pg->title);
}

/*
 * Another page holds the title on s: a move is never forced over it.
 * The job is tried again (75), not held: the way may clear by itself,
 * as when a wiki swapped pages by three moves and the job of another of
 * them, run later, moves that page away; after hold-after attempts it
 * is held with this reason, for a person to look.
 */
static int
move_blocked(struct page *pg, const struct side *s, const char *from,
    const char *to, const char *as)
{
	ws_log(LOG_ERR, "%s: %s: not moved to %s as on %s: %s has another "
	    "page there; tried again until one is moved or deleted",
	    s->w->name, from, to, as, s->w->name);
	pg->worst = EX_TEMPFAIL;
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

/*
 * The page went from old on s meanwhile: by a move of its own there, to
 * another title than the group's (two wikis moved it two ways at once)?
 * Then the page it moved is its editors' too, and is synced as a page of
 * its own, by a job queued for it now, not left on s alone; both titles
 * end on every wiki, and nothing either side did is undone.  Where it
 * went in at (size 512), else "".
 */
static void
moved_elsewhere(struct page *pg, const struct side *s, const char *old,
    char *at)
{
	struct mwlog l;
	struct mwpage tp;
	struct mwerr e;
	const char *t;
	char id[64];

	*at = '\0';
	if (mw_log_last(s->mw, old, "move", &l, &e) == -1)
		return;
	if (strncmp(l.action, "move", 4) != 0 || *l.target == '\0' ||
	    strcmp(l.target, pg->title) == 0) {
		mw_log_free(&l);
		return;
	}
	t = l.target;
	memset(&tp, 0, sizeof(tp));
	if (mw_info(s->mw, &t, 1, &tp, &e) == 0 && !tp.missing &&
	    tp.pageid == s->ptr.pageid) {
		if (job_queue(pg->sp, s->w->name, tp.title, "moved", id) == -1)
			die(EX_TEMPFAIL, "%s/queue", pg->sp->path);
		ws_log(LOG_NOTICE, "%s: %s: moved to %s there meanwhile: "
		    "queued as %s, to sync as a page of its own", s->w->name,
		    old, tp.title, id);
		strlcpy(at, tp.title, 512);
	}
	mw_pages_free(&tp, 1);
	mw_log_free(&l);
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
	struct mwpage tp[2];
	struct mwmove mm;
	struct mwerr e;
	struct side *s;
	const char *t[2] = { pg->title, to };
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
		if (!side_in(s))
			continue;
		/* both titles now: an editor there may have moved it too */
		memset(tp, 0, sizeof(tp));
		if (mw_info(s->mw, t, 2, tp, &e) == -1)
			return side_leave_out(pg, s, &e);
		if (!tp[1].missing && tp[1].pageid == s->ptr.pageid)
			s->move = 2;		/* there already */
		else if (side_ptr_deleted(s) && s->top.missing &&
		    (tp[1].missing || tp[1].redirect))
			s->move = 4;		/* restored on mv, then moved */
		else if (s->top.missing || s->top.pageid != s->ptr.pageid ||
		    tp[0].missing || tp[0].pageid != s->ptr.pageid) {
			ws_log(LOG_NOTICE, "%s: %s: gone from there meanwhile: "
			    "made at %s", s->w->name, pg->title, to);
		}
		else if (!tp[1].missing && !tp[1].redirect) {
			mw_pages_free(tp, 2);
			return move_blocked(pg, s, pg->title, to, mv->w->name);
		} else
			s->move = 1;
		mw_pages_free(tp, 2);
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
		memset(&mm, 0, sizeof(mm));
		mm.from = pg->title;
		/* just restored: the title is that page (its id may be new) */
		mm.pageid = side_ptr_deleted(s) ? 0 : s->ptr.pageid;
		mm.to = to;
		mm.reason = why;
		mm.noredir = noredir;
		if (mw_move(s->mw, &mm, &e) == -1) {
			if (strcmp(e.api, "articleexists") == 0 ||
			    strcmp(e.api, "redirectexists") == 0)
				return move_blocked(pg, s, pg->title, to,
				    mv->w->name);
			/* not moved: pending, like one that did not answer */
			s->move = 3;
			side_leave_out(pg, s, &e);
			continue;
		}
		ws_log(LOG_INFO, "%s: %s: moved to %s (%s)", s->w->name,
		    pg->title, to, why);
		if (strcmp(mm.was, pg->title) != 0)
			ws_log(LOG_NOTICE, "%s: %s: moved to %s from %s, where "
			    "it had gone just before", s->w->name, pg->title,
			    to, mm.was);
		fprintf(pg->out, "%s%s", n++ ? ", " : "moved on ",
		    s->w->name);
	}
	if (n)
		fprintf(pg->out, " to %s as on %s; ", to, mv->w->name);
	for (i = 0; i < pg->n; i++)
		if (pg->s[i].move == 3)
			/* one still at `to` (a move back while it was away)
			   has nothing to follow: its old pointer goes too */
			rekey(pg, &pg->s[i], to,
			    strcmp(pg->s[i].ptr.title, to) != 0);
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
		if (side_in(&pg->s[i]))
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
		if (!side_in(o) || !o->hasptr || strcmp(o->ptr.title, pg->title) != 0)
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
		if (!side_in(o) || !o->hasptr || strcmp(o->ptr.title, pg->title) != 0)
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
	struct mwmove mm;
	struct mwerr e;
	const char *t;
	char old[512], from[512], at[512], hops[MOVES_MAX + 1][512];
	int has, noredir[MOVES_MAX + 1];
	size_t k, n;

	strlcpy(old, s->ptr.title, sizeof(old));
	t = old;
	memset(&op, 0, sizeof(op));
	if (mw_info(s->mw, &t, 1, &op, &e) == -1)
		return side_leave_out(pg, s, &e);
	has = !op.missing && op.pageid == s->ptr.pageid;
	mw_pages_free(&op, 1);
	if (!has) {
		ws_log(LOG_NOTICE, "%s: %s: gone from %s meanwhile: made here",
		    s->w->name, pg->title, old);
		/*
		 * No base here; and none at the old title either, which
		 * would send later jobs of that title here: it says where
		 * the page went there (a move of its own), else here.
		 */
		moved_elsewhere(pg, s, old, at);
		if (store_set_as(pg->st, s->w->name, old, *at ? at : pg->title,
		    s->ptr.sha1, MOVED_REV, s->ptr.gen, s->ptr.pageid) == -1 ||
		    store_set(pg->st, s->w->name, pg->title, s->ptr.sha1,
		    MOVED_REV, s->ptr.gen, s->ptr.pageid) == -1)
			die(EX_TEMPFAIL, "store: %s %s", s->w->name, pg->title);
		/* as the store has it now: no base here, and no move to
		   follow back to the title it left (moves) */
		strlcpy(s->ptr.revid, MOVED_REV, sizeof(s->ptr.revid));
		strlcpy(s->ptr.title, pg->title, sizeof(s->ptr.title));
		s->hasptr = 0;
		/* made here as a new page: watched, so its edits mail */
		t = pg->title;
		if (mw_watch(s->mw, &t, 1, &e) == -1)
			ws_log(LOG_WARNING, "%s: watching %s: %s", s->w->name,
			    pg->title, e.msg);
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
		memset(&mm, 0, sizeof(mm));
		mm.from = from;
		mm.pageid = s->ptr.pageid;
		mm.to = hops[k];
		mm.reason = "WikiSync: moved as on the other wikis of its group";
		mm.noredir = noredir[k];
		if (mw_move(s->mw, &mm, &e) == -1) {
			if (strcmp(e.api, "articleexists") == 0 ||
			    strcmp(e.api, "redirectexists") == 0)
				return move_blocked(pg, s, from, hops[k],
				    "the other wikis");
			return side_leave_out(pg, s, &e);
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
 * The page moved from this title to `went`, and another wiki has not
 * followed yet; but a wiki where it moved holds a page of its own here
 * now (its redirect made a page, or an edit form saved after the move).
 * This job is that page's, not the moved one's: it syncs once every wiki
 * followed the move, so the moved page is never taken for it.  A job of
 * `went` is queued for the wiki that did not follow, when it answers;
 * this one is tried again later (75), or waits for that wiki.  -1.
 */
static int
anew_at_old(struct page *pg, const struct side *own, const char *went)
{
	const struct side *p;
	char id[64];
	size_t i;

	pg->worst = EX_TEMPFAIL;
	for (i = 0; i < pg->n; i++) {
		p = &pg->s[i];
		if (!p->hasptr || side_ptr_deleted(p) ||
		    strcmp(p->ptr.title, pg->title) != 0)
			continue;
		ws_log(LOG_NOTICE, "%s: %s: a page of its own there, while %s "
		    "has not followed the move to %s: synced once it has",
		    own->w->name, pg->title, p->w->name, went);
		if (p->out) {
			side_waits(pg, p);
			continue;
		}
		switch (job_queue_once(pg->sp, own->w->name, went, "moved",
		    id)) {
		case -1:
			die(EX_TEMPFAIL, "%s/queue", pg->sp->path);
		case 0:
			ws_log(LOG_INFO, "%s: queued as %s, for %s to follow",
			    went, id, p->w->name);
		}
	}
	return -1;
}

/*
 * The job leaves this title for the page's new one.  A wiki that holds a
 * page of its own here (an edit form loaded before the move and saved
 * after it, over the redirect; a page made anew) was read by this job
 * after the title was marked seen there, so no mail will announce what
 * it holds: its job is queued here, to sync it as a page of its own
 * (chaos: 3 wikis, seed 13, on 1.43).  A redirect is not such a page.
 */
static void
left_behind(struct page *pg)
{
	const struct side *s;
	char id[64];
	size_t i;

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (s->top.pageid == 0 || s->top.missing || s->top.redirect ||
		    (s->hasptr && s->top.pageid == s->ptr.pageid))
			continue;
		if (job_queue(pg->sp, s->w->name, pg->title, "changed",
		    id) == -1)
			die(EX_TEMPFAIL, "%s/queue", pg->sp->path);
		ws_log(LOG_NOTICE, "%s: %s: a page of its own there, not the "
		    "one moved to %s: queued as %s", s->w->name, pg->title,
		    pg->to, id);
	}
}

/*
 * Moves, before anything else a round does.  A page that moved away from
 * this title, as a pointer of a wiki that followed says, while another
 * wiki still has its base here, goes on under the new title (RENAMED),
 * where that wiki's pending pointer has it follow; unless a page of its
 * own is here now on a wiki that moved it (anew_at_old).  A wiki whose base
 * here names another title follows now (follow_pending).  The first
 * wiki where the page moved away, as its log says, is followed
 * (follow_move, RENAMED).  Going on under the new title, a page of its
 * own left at this one gets its job (left_behind).  0 when there is
 * nothing to follow.
 */
static int
moves(struct page *pg)
{
	struct mwlog lg;
	const struct side *own = NULL, *s;
	const char *went = NULL;
	char to[512];
	size_t i;
	int r, noredir = 0, here = 0;

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (strcmp(s->ptr.revid, MOVED_REV) == 0 &&
		    strcmp(s->ptr.title, pg->title) != 0) {
			went = s->ptr.title;
			if (side_in(s) && !s->top.missing &&
			    !s->top.redirect && s->top.pageid != s->ptr.pageid)
				own = s;
		} else if (pg->s[i].hasptr && !side_ptr_deleted(&pg->s[i]) &&
		    strcmp(pg->s[i].ptr.title, pg->title) == 0)
			here = 1;
	}
	if (went != NULL && here) {
		if (own != NULL)
			return anew_at_old(pg, own, own->ptr.title);
		ws_log(LOG_INFO, "%s: moved to %s on a wiki: followed there",
		    pg->title, went);
		strlcpy(pg->to, went, sizeof(pg->to));
		left_behind(pg);
		return RENAMED;
	}
	for (i = 0; i < pg->n; i++)
		if (side_in(&pg->s[i]) && pg->s[i].hasptr &&
		    !side_ptr_deleted(&pg->s[i]) &&
		    strcmp(pg->s[i].ptr.title, pg->title) != 0)
			return follow_pending(pg, &pg->s[i]);
	for (i = 0; i < pg->n; i++) {
		memset(&lg, 0, sizeof(lg));
		r = moved_on(pg, &pg->s[i], to, sizeof(to), &noredir, &lg);
		if (r == 1)
			r = follow_move(pg, &pg->s[i], to, noredir, &lg);
		mw_log_free(&lg);
		if (r == RENAMED)
			left_behind(pg);
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
		return side_leave_out(pg, s, &e);
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

/*
 * Does the deletion log of s show the page synced there deleted (the
 * newest entry a deletion of its page id)?  A page merely missing (a wiki
 * restored from an old backup, an answer forged) is no deletion to
 * spread to the other wikis.
 */
static int
deleted_there(const struct side *s)
{
	return s->haslog && strcmp(s->log.action, "delete") == 0 &&
	    (s->ptr.pageid == 0 || s->log.page == 0 ||
	    s->log.page == s->ptr.pageid);
}

/*
 * May a deletion on s be spread now?  At most deletions-per-hour from one
 * wiki an hour (SPOOL/state/WIKI.deleted: the times of the last hour's,
 * under a lock), so that a wiki losing many pages at once (a bad restore,
 * an attack) has the others delete a few before a person looks; past
 * that the job is held.  One released with deletion=spread set (ws-queue
 * set) goes past it.  1 yes (counted), 0 no, -1 on trouble.
 */
static int
deletion_allowed(struct page *pg, const struct side *s)
{
	struct job j;
	time_t now = time(NULL), t[1024];
	char name[300], *text, *line, *save = NULL, buf[32];
	size_t len, n = 0, i;
	int dir, fd, ok, spread = 0;
	long long v;

	if (job_load(pg->sp, pg->jobid, &j) == 0) {
		spread = job_get(&j, "deletion") != NULL &&
		    strcmp(job_get(&j, "deletion"), "spread") == 0;
		job_free(&j);
	}
	if (mkdirat(pg->sp->root, "state", 0750) == -1 && errno != EEXIST)
		return -1;
	if ((dir = openat(pg->sp->root, "state", O_RDONLY | O_DIRECTORY |
	    O_CLOEXEC)) == -1)
		return -1;
	snprintf(name, sizeof(name), "%s.deleted", s->w->name);
	fd = openat(dir, name, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	close(dir);
	if (fd == -1 || flock(fd, LOCK_EX) == -1) {
		if (fd != -1)
			close(fd);
		return -1;
	}
	if ((text = read_all(fd, 64 * 1024, &len)) != NULL) {
		for (line = strtok_r(text, "\n", &save); line != NULL &&
		    n < sizeof(t) / sizeof(t[0]) - 1;
		    line = strtok_r(NULL, "\n", &save))
			if (sscanf(line, "%lld", &v) == 1 && v > now - 3600 &&
			    v <= now)
				t[n++] = (time_t)v;
		free(text);
	}
	ok = spread || n < (size_t)ws_conf()->delmax;
	if (ok) {
		t[n++] = now;
		if (ftruncate(fd, 0) == 0 && lseek(fd, 0, SEEK_SET) == 0)
			for (i = 0; i < n; i++) {
				snprintf(buf, sizeof(buf), "%lld\n",
				    (long long)t[i]);
				if (write(fd, buf, strlen(buf)) == -1)
					break;
			}
	}
	close(fd);
	if (!ok) {
		ws_log(LOG_ERR, "%s: %s: %zu deletions from %s spread in the "
		    "last hour (deletions-per-hour): not deleted on the others "
		    "for now; to spread it, ws-queue set JOB deletion=spread, "
		    "then release the job", s->w->name, pg->title, n,
		    s->w->name);
		pg->worst = EX_DATAERR;
	}
	return ok;
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
	utf8_cut(buf, 250);
}

/* Restore every deleted revision of the page on s. */
static int
undelete(struct page *pg, struct side *s, const char *why)
{
	struct mwerr e;
	long n;

	if (mw_undelete(s->mw, pg->title, why, &n, &e) == -1) {
		if (e.code == EX_NOPERM)
			return side_leave_out(pg, s, &e);
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
		return side_leave_out(pg, s, &e);
	if (revid == 0 || strcmp(sha1, s->ptr.sha1) == 0)
		return 0;
	ws_log(LOG_WARNING, "%s: %s: r%ld, an edit not yet synced, was "
	    "deleted with the page: restoring it", s->w->name, pg->title,
	    revid);
	return undelete(pg, s, "WikiSync: an edit made as the page was "
	    "deleted is kept");
}

/*
 * The sync has just deleted the page on s.  MediaWiki deletes whatever
 * the page holds when the deletion arrives: an edit saved there after the
 * round read it went with the page.  Looked for at once, while the job
 * still works on this title: by the next round a restore and a move on
 * another wiki can have sent the job elsewhere, and the edit would stay
 * in this title's archive, on no wiki's page.  Found, the page is
 * restored there and the edit wins.  0 when the deletion took nothing
 * unseen, MOVED when the page is back, else as side_leave_out.
 */
static int
took_an_edit(struct page *pg, struct side *s)
{
	struct mwerr e;
	char sha1[41];
	long revid;

	if (mw_deleted_newest(s->mw, pg->title, &revid, sha1, &e) == -1)
		return side_leave_out(pg, s, &e);
	if (revid <= s->top.lastrevid)
		return 0;
	ws_log(LOG_WARNING, "%s: %s: r%ld, saved after the round read r%ld, "
	    "was deleted with the page: restoring it", s->w->name, pg->title,
	    revid, s->top.lastrevid);
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
	side_talk_append(s, s->log.user, note,
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
		if (!side_in(s) || !side_gone(s) || s->undeleted)
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
 * Was the page's deletion on s agreed without ed, whose base is older?
 * Then what s agreed on after ed left is only in its deleted history:
 * when ed's edit wins, s is restored too, and the round merges it.
 */
static int
agreed_before(const struct side *s, const struct side *ed)
{
	return s->top.missing && side_ptr_deleted(s) && ed->hasptr &&
	    !side_ptr_deleted(ed) && ed->ptr.gen < s->ptr.gen;
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
int
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
		if (side_gone(s)) {
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
			if (side_ptr_deleted(s) && s->ptr.gen == pg->newest &&
			    del == NULL)
				del = s;
		} else if (side_ptr_deleted(s) && s->top.pageid == s->ptr.pageid)
			back = s;
		else if (side_changed(s))
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
			if (side_in(s) && s->top.missing && side_ptr_deleted(s) &&
			    !s->undeleted && undelete(pg, s, why) != 0)
				rc = MOVED;
		}
		return rc;
	}
	if (del == NULL)
		return 0;
	if (deleted_by_sync(del)) {
		/*
		 * "No wiki shows the deletion any more" holds only when
		 * every wiki that had the page answers: the deleting one
		 * down is not a deletion undone.
		 */
		for (i = 0; i < pg->n; i++) {
			s = &pg->s[i];
			if (!s->out || !s->hasptr || side_ptr_deleted(s))
				continue;
			ws_log(LOG_NOTICE, "%s: deleted by the sync, following "
			    "a deletion %s may hold: waiting for it",
			    pg->title, s->w->name);
			pg->worst = s->code ? s->code : EX_TEMPFAIL;
			side_waits(pg, s);
			return -1;
		}
		return restored_stale(pg);
	}
	if (ed != NULL) {
		/*
		 * The edit wins: the page is restored where it went, with
		 * that wiki's own revisions (an edit it saved before the
		 * deletion and never synced comes back too), and merged;
		 * so is it where a deletion was agreed without the editing
		 * wiki (agreed_before); where nothing can be restored, the
		 * round makes it again.
		 */
		snprintf(why, sizeof(why), "WikiSync: edited meanwhile on %s: "
		    "the edit wins", ed->w->name);
		for (i = 0, rc = 0; i < pg->n; i++) {
			s = &pg->s[i];
			if (!side_in(s) || !(side_gone(s) ||
			    agreed_before(s, ed)))
				continue;
			if (!side_gone(s) && (rc = deletion_on(pg, s)) != 0)
				return rc;
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
	if (side_gone(del) && !deleted_there(del)) {
		ws_log(LOG_ERR, "%s: %s: missing there, but its log shows no "
		    "deletion of the page synced (page %ld): not deleted on "
		    "the others; restore it there, or delete it on each, "
		    "then release the job", del->w->name, pg->title,
		    del->ptr.pageid);
		pg->worst = EX_DATAERR;
		return -1;
	}
	if (side_gone(del) && (rc = deletion_allowed(pg, del)) != 1) {
		if (rc == -1)
			die(EX_TEMPFAIL, "%s/state: deletions of %s", pg->sp->path,
			    del->w->name);
		return -1;
	}
	deletion_reason(why, sizeof(why), del);
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (!side_in(s) || s->top.missing)
			continue;
		if (mw_delete(s->mw, pg->title, why, &e) == -1)
			return side_leave_out(pg, s, &e);
		ws_log(LOG_INFO, "%s: %s: deleted (%s)", s->w->name,
		    pg->title, why);
		if ((rc = took_an_edit(pg, s)) != 0)
			return rc;
	}
	return MOVED;
}
