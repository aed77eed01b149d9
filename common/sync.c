/*
 * sync.c: the sync protocol (sync.h; wikisync(7), THE PROTOCOL).
 *
 * A job makes one page the same on every wiki of its set, in rounds.
 * Each round reads every wiki's current revision (ids and sha1, no text).
 * If all hold one text, that is the agreement: it is recorded in the job
 * and the round ends the job.  Otherwise the round picks a source, a wiki
 * whose history since the base holds every other wiki's current text, and
 * replays its revisions onto the others in order; when no wiki is such a
 * source, the texts that changed since the base are merged against it
 * into one result, written to every wiki that lacks it.  Every edit is
 * based on the revision just read (baserevid and basetimestamp; create
 * only for a missing page); an edit conflict, or a saved edit whose old
 * revision is not the one it was based on (MediaWiki merged it with an
 * edit made meanwhile), ends the round early, and the next reads again.
 * Invariants:
 * - text is only ever written as a wiki's own revision or as a merge of
 *   texts against a base every merged wiki once held, so no saved line
 *   is dropped: a conflict keeps every side in the page;
 * - the job's agreement names, for every wiki, a revision seen to hold
 *   its sha1; nothing moves a base but sync_verify, for all wikis at once;
 * - a job run again (after a crash anywhere) writes nothing a wiki has.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sync.h"
#include "diff.h"

#define ROUNDS		5	/* reads of every wiki a job makes, at most */
#define BATCH		50	/* revisions replayed per read */
#define HISTORY_MAX	5000	/* source history searched for a wiki's text */

/* One wiki of the page's set, as the current round sees it. */
struct side {
	const struct wiki	*w;
	struct mw		*mw;
	struct mwpage		 top;	/* current revision, no text */
	struct storeptr		 ptr;	/* its base */
	int			 hasptr;
	int			 onbase;	/* merges against the page's base */
	long			 after;	/* replay: the source's revisions
					   after this one */
	size_t			 revs;	/* revisions this job gave it */
	int			 merged;	/* 1 merged, 2 with conflicts */
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
	struct storeptr		 base;		/* newest agreement, if any */
	int			 hasbase;
	int			 consistent;	/* every wiki on that base */
	int			 worst;
};

#define MOVED	(-2)	/* a wiki changed meanwhile: read again */

/* --- the job's record ------------------------------------------------ */

/*
 * sync=SHA1 WIKI:REVID ... (or "-": nothing to verify) and sync.title,
 * written together in one replacement of the job.
 */
int
agreement_read(const struct job *j, struct agreement *a)
{
	const char *v, *t, *p;
	char wiki[64];
	size_t k;
	long rev;
	int used;

	memset(a, 0, sizeof(*a));
	if ((v = job_get(j, "sync")) == NULL || strcmp(v, "-") == 0)
		return 0;
	if ((t = job_get(j, "sync.title")) == NULL || strlen(t) >= sizeof(a->title))
		goto bad;
	strlcpy(a->title, t, sizeof(a->title));
	if (strlen(v) < SHA1_HEX || v[SHA1_HEX] != ' ')
		goto bad;
	memcpy(a->sha1, v, SHA1_HEX);
	a->sha1[SHA1_HEX] = '\0';
	if (!sha1_valid(a->sha1))
		goto bad;
	for (p = v + SHA1_HEX; *p == ' ';) {
		if (a->n == SYNC_WIKIS ||
		    sscanf(p, " %63[^: ]:%ld%n", wiki, &rev, &used) != 2 ||
		    strlen(wiki) >= sizeof(a->w[0].wiki) || rev <= 0)
			goto bad;
		k = a->n++;
		strlcpy(a->w[k].wiki, wiki, sizeof(a->w[k].wiki));
		a->w[k].revid = rev;
		p += used;
		if (*p != ' ' && *p != '\0')
			goto bad;
	}
	if (a->n == 0)
		goto bad;
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
agreement_write(struct spool *sp, const char *id, const struct agreement *a)
{
	const char *keys[2] = { "sync", "sync.title" }, *vals[2];
	char v[SHA1_HEX + 1 + SYNC_WIKIS * 48];
	size_t i, len;

	if (*a->sha1 == '\0') {
		vals[0] = "-";
		vals[1] = "";
	} else {
		len = strlcpy(v, a->sha1, sizeof(v));
		for (i = 0; i < a->n; i++)
			len += snprintf(v + len, sizeof(v) - len, " %s:%ld",
			    a->w[i].wiki, a->w[i].revid);
		vals[0] = v;
		vals[1] = a->title;
	}
	return job_update(sp, id, keys, vals, 2);
}

/* --- which wikis sync a page ---------------------------------------- */

static int
listed(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* Does g sync title, as wiki has it in categories cats? */
int
group_syncs(const struct group *g, const char *wiki, const char *title,
    char *const *cats, size_t ncats)
{
	size_t k;

	if (!listed(g->wikis, g->nwikis, wiki))
		return 0;
	if (listed(g->pages, g->npages, title))
		return 1;
	for (k = 0; k < ncats; k++)
		if (listed(g->categories, g->ncategories, cats[k]))
			return 1;
	return 0;
}

size_t
syncset_of(const struct conf *c, const char *wiki, const char *title,
    char *const *cats, size_t ncats, struct syncset *set)
{
	const struct group *g;
	size_t i, j, k;

	memset(set, 0, sizeof(*set));
	for (i = 0; i < c->ngroups; i++) {
		g = &c->groups[i];
		if (!group_syncs(g, wiki, title, cats, ncats))
			continue;
		if (set->first == NULL)
			set->first = g;
		for (j = 0; j < g->nwikis && set->n < SYNC_WIKIS; j++) {
			for (k = 0; k < set->n; k++)
				if (strcmp(set->wikis[k]->name, g->wikis[j]) == 0)
					break;
			if (k == set->n)
				set->wikis[set->n++] = conf_wiki(c, g->wikis[j]);
		}
	}
	return set->n;
}

/* --- small things ---------------------------------------------------- */

static void
failed(struct page *pg, const struct side *s, const struct mwerr *e)
{
	ws_log(LOG_WARNING, "%s: %s", s->w->name, e->msg);
	if (pg->worst == 0 || (pg->worst == EX_TEMPFAIL && !e->temp))
		pg->worst = e->temp ? EX_TEMPFAIL : e->code;
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

/*
 * Save text on s, based on its revision as last read.  0 when saved (or
 * the wiki had it), MOVED when the wiki changed since that reading.
 */
static int
save(struct page *pg, struct side *s, const char *text, size_t len,
    const char *summary, int minor)
{
	struct mwedit ed;
	struct mwsaved sv;
	struct mwerr e;
	long based;

	memset(&ed, 0, sizeof(ed));
	ed.title = pg->title;
	ed.text = text;
	ed.len = len;
	ed.summary = summary;
	ed.flags = MW_BOT | (minor ? MW_MINOR : 0);
	mw_edit_on(&ed, &s->top);
	based = s->top.missing ? 0 : s->top.rev.revid;
	if (mw_edit(s->mw, &ed, &sv, &e) == -1) {
		failed(pg, s, &e);
		return -1;
	}
	if (sv.result == MW_CONFLICT) {
		ws_log(LOG_NOTICE, "%s: %s changed meanwhile (%s)", s->w->name,
		    pg->title, sv.why);
		return MOVED;
	}
	if (sv.result == MW_NOCHANGE)
		return 0;
	s->top.missing = 0;
	s->top.rev.revid = sv.revid;
	strlcpy(s->top.rev.timestamp, sv.timestamp,
	    sizeof(s->top.rev.timestamp));
	if (sv.oldrevid != based) {
		/* MediaWiki merged our text with an edit made meanwhile */
		ws_log(LOG_NOTICE, "%s: %s: r%ld was based on r%ld, not r%ld: "
		    "read again", s->w->name, pg->title, sv.revid, based,
		    sv.oldrevid);
		return MOVED;
	}
	return 0;
}

/*
 * Tell an editor, on the talk page of the wiki where they edited, that
 * their edit met another it could not be merged with.  A note that cannot
 * be written is logged, not retried: the conflict itself is on the page.
 */
static void
talk_note(struct page *pg, struct side *s, const char *others)
{
	struct mwpage tp;
	struct mwedit ed;
	struct mwsaved sv;
	struct mwerr e;
	struct buf b = { 0 };
	char talk[300], note[1500];
	const char *t = talk, *user = s->top.rev.user;

	if (user == NULL || *user == '\0' || sync_user(s->w, user))
		return;
	snprintf(talk, sizeof(talk), "User talk:%s", user);
	snprintf(note, sizeof(note), "\n\n== Edit conflict on [[%s]] ==\n"
	    "Your edit of [[%s]] and an edit on %s changed the same text "
	    "differently. Both versions are kept on the page, in a box; "
	    "please keep one, or combine them, and remove the box. "
	    "All pages like this: [[:Category:" CONFLICT_CATEGORY "]]. "
	    "~~~~\n", pg->title, pg->title, others);
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
	ed.summary = "WikiSync: edit conflict to look at";
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

/* --- reading --------------------------------------------------------- */

/* Every wiki's current revision of the page, without its text. */
static int
read_tops(struct page *pg)
{
	struct mwerr e;
	const char *t = pg->title;
	size_t i;

	for (i = 0; i < pg->n; i++) {
		mw_pages_free(&pg->s[i].top, 1);
		if (mw_tops(pg->s[i].mw, &t, 1, &pg->s[i].top, &e) == -1) {
			failed(pg, &pg->s[i], &e);
			return -1;
		}
		if (pg->s[i].top.invalid) {
			ws_log(LOG_WARNING, "%s: %s: not a valid title there",
			    pg->s[i].w->name, pg->title);
			pg->worst = EX_DATAERR;
			return -1;
		}
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
	if (mw_current(s->mw, &t, 1, &s->top, &e) == -1) {
		failed(pg, s, &e);
		return -1;
	}
	return 0;
}

/*
 * The bases: each wiki's pointer; the page's base is the newest agreement
 * among them.  Every agreement was held by every wiki of it before any
 * pointer moved, so a wiki whose pointer lags (a verify cut short) held
 * the newest one too and merges against it.
 */
static void
read_bases(struct page *pg)
{
	struct side *s;
	size_t i;

	pg->hasbase = 0;
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		s->hasptr = store_get(pg->st, s->w->name, pg->title,
		    &s->ptr) == 0;
		if (s->hasptr && (!pg->hasbase || s->ptr.gen > pg->base.gen)) {
			pg->base = s->ptr;
			pg->hasbase = 1;
		}
	}
	pg->consistent = pg->hasbase;
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		s->onbase = s->hasptr && (s->ptr.gen < pg->base.gen ||
		    strcmp(s->ptr.sha1, pg->base.sha1) == 0);
		if (!s->hasptr || s->ptr.gen != pg->base.gen ||
		    strcmp(s->ptr.sha1, pg->base.sha1) != 0)
			pg->consistent = 0;
	}
}

/* Has s a text other than the page's base? */
static int
changed(const struct page *pg, const struct side *s)
{
	if (s->top.missing)
		return 0;
	return !s->hasptr || strcmp(s->top.rev.sha1, pg->base.sha1) != 0;
}

/* --- replay ---------------------------------------------------------- */

/*
 * Can src be the source?  Every other wiki must be missing the page,
 * hold src's base, or hold a text of src's history since then: its
 * replay starts after that revision.
 */
static int
source_for(struct page *pg, struct side *src)
{
	struct mwrevs h;
	struct mwerr e;
	struct side *s;
	size_t i, k;
	long from = src->hasptr ? atol(src->ptr.revid) : 0;
	int ok = 1, fetched = 0;

	memset(&h, 0, sizeof(h));
	for (i = 0; i < pg->n && ok; i++) {
		s = &pg->s[i];
		if (s == src)
			continue;
		s->after = from;
		if (s->top.missing || strcmp(s->top.rev.sha1,
		    src->top.rev.sha1) == 0)
			continue;
		if (src->hasptr && strcmp(s->top.rev.sha1, src->ptr.sha1) == 0)
			continue;
		if (!fetched) {
			if (mw_history(src->mw, pg->title, from,
			    src->top.rev.revid, HISTORY_MAX, &h, &e) == -1) {
				failed(pg, src, &e);
				return -1;
			}
			fetched = 1;
		}
		for (k = h.n; k > 0; k--)
			if (strcmp(h.v[k - 1].sha1, s->top.rev.sha1) == 0)
				break;
		if (k == 0)
			ok = 0;
		else
			s->after = h.v[k - 1].revid;
	}
	mw_revs_free(&h);
	return ok;
}

/* "from alpha r12 by Editor: summary" */
static void
replay_summary(char *buf, size_t len, const struct side *src,
    const struct mwrev *r)
{
	const char *u = r->user ? r->user : "", *c = r->comment ? r->comment : "";

	snprintf(buf, len, "from %s r%ld by %s%s%s", src->w->name, r->revid,
	    *u ? u : "(hidden)", *c ? ": " : "", c);
	cut(buf, 400);
}

/* src's revisions after s->after onto s, in order, BATCH at a time. */
static int
replay(struct page *pg, struct side *src, struct side *s,
    enum history history)
{
	struct mwrevs rv;
	struct mwerr e;
	struct mwrev *r;
	char sum[512];
	long after = s->after, upto = src->top.rev.revid;
	size_t i;
	int rc;

	for (;;) {
		memset(&rv, 0, sizeof(rv));
		if (history == HISTORY_LATEST || (s->top.missing &&
		    after == upto)) {
			/* only the top: the text is what matters */
			if (mw_rev(src->mw, upto, (rv.v = xcalloc(1,
			    sizeof(*rv.v))), NULL, &e) == -1) {
				free(rv.v);
				failed(pg, src, &e);
				return -1;
			}
			rv.n = 1;
		} else if (mw_revs(src->mw, pg->title, after, upto, BATCH,
		    &rv, &e) == -1) {
			failed(pg, src, &e);
			return -1;
		}
		if (rv.n == 0)
			break;
		for (i = 0; i < rv.n; i++) {
			r = &rv.v[i];
			after = r->revid;
			if (r->text == NULL)
				continue;	/* suppressed on the source */
			replay_summary(sum, sizeof(sum), src, r);
			if ((rc = save(pg, s, r->text, r->len, sum,
			    r->minor)) != 0) {
				mw_revs_free(&rv);
				return rc;
			}
			strlcpy(s->top.rev.sha1, r->sha1,
			    sizeof(s->top.rev.sha1));
			s->revs++;
		}
		mw_revs_free(&rv);
		if (after >= upto || history == HISTORY_LATEST)
			break;
	}
	return 0;
}

/* --- merge ----------------------------------------------------------- */

static int
by_time(const void *a, const void *b)
{
	const struct side *x = *(struct side *const *)a;
	const struct side *y = *(struct side *const *)b;
	int c;

	if (x->onbase != y->onbase)
		return y->onbase - x->onbase;
	if ((c = strcmp(x->top.rev.timestamp, y->top.rev.timestamp)) != 0)
		return c;
	return strcmp(x->w->name, y->w->name);
}

/* The text of a base, "" for none. */
static char *
base_text(struct page *pg, const struct storeptr *p, size_t *len)
{
	char *t;

	if (p == NULL) {
		*len = 0;
		return xstrdup("");
	}
	if ((t = store_read(pg->st, p->sha1, len)) == NULL)
		die(EX_TEMPFAIL, "store: %s", p->sha1);
	return t;
}

/*
 * Every text changed since its base merged into one: the wikis on the
 * page's base first, then any other, each by time then name so every
 * run computes the same text; then written to every wiki that lacks it.
 */
static int
merge_all(struct page *pg, const struct group *g)
{
	struct side *v[SYNC_WIKIS], *s;
	struct mergeopt mo;
	struct mergestat ms;
	struct buf acc = { 0 }, out;
	struct text tb, to, tt;
	char lab[SYNC_WIKIS][300], ours[1200] = "", sum[1500], sha[SHA1_HEX + 1];
	char *bt;
	size_t i, nv = 0, bl, conflicts = 0, keep;
	int rc = 0;

	for (i = 0; i < pg->n; i++)
		if (changed(pg, &pg->s[i])) {
			if (read_text(pg, &pg->s[i]) == -1)
				return -1;
			if (pg->s[i].top.rev.text == NULL) {
				ws_log(LOG_WARNING, "%s: %s: current text "
				    "hidden: later", pg->s[i].w->name,
				    pg->title);
				pg->worst = EX_TEMPFAIL;
				return -1;
			}
			if (changed(pg, &pg->s[i]))
				v[nv++] = &pg->s[i];
		}
	if (nv == 0)
		return MOVED;		/* they went back meanwhile */
	qsort(v, nv, sizeof(*v), by_time);
	bt = base_text(pg, v[0]->onbase ? &pg->base : v[0]->hasptr ?
	    &v[0]->ptr : NULL, &bl);
	buf_add(&acc, bt, bl);
	free(bt);
	for (i = 0; i < nv; i++) {
		s = v[i];
		label(lab[i], sizeof(lab[i]), s);
		bt = base_text(pg, s->onbase ? &pg->base : s->hasptr ?
		    &s->ptr : NULL, &bl);
		tb.p = bt;
		tb.len = bl;
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
		free(bt);
		if (*ours != '\0')
			strlcat(ours, ", ", sizeof(ours));
		strlcat(ours, lab[i], sizeof(ours));
	}
	/* "merged A, B and C", or "edit conflict between A and B: ..." */
	snprintf(sum, sizeof(sum), "%s ", conflicts ? "edit conflict between" :
	    "merged");
	for (i = 0; i < nv; i++) {
		if (i > 0)
			strlcat(sum, i + 1 == nv ? " and " : ", ", sizeof(sum));
		strlcat(sum, lab[i], sizeof(sum));
	}
	if (conflicts)
		strlcat(sum, nv > 2 ? ": all versions kept" :
		    ": both versions kept", sizeof(sum));
	cut(sum, 360);
	if (conflicts)
		strlcat(sum, ", see [[Category:" CONFLICT_CATEGORY "]]",
		    sizeof(sum));
	keep = saved_len(acc.p ? acc.p : "", acc.len);
	sha1_hex(acc.p ? acc.p : "", keep, sha);
	for (i = 0; i < pg->n && rc == 0; i++) {
		s = &pg->s[i];
		if (!s->top.missing && strcmp(s->top.rev.sha1, sha) == 0)
			continue;
		rc = save(pg, s, acc.p ? acc.p : "", keep, sum, 0);
		if (rc == 0)
			s->merged = conflicts ? 2 : 1;
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
	buf_free(&acc);
	return rc;
}

/* --- the job --------------------------------------------------------- */

/*
 * Every wiki holds one text: put it in the store (from the job's wiki,
 * checked against its sha1) and record the agreement in the job.
 */
static int
agree(struct page *pg)
{
	struct agreement a;
	struct side *s = &pg->s[pg->origin];
	struct stat sb;
	char got[SHA1_HEX + 1];
	size_t i;
	long was = s->top.rev.revid;

	if (fstatat(pg->st->versions, s->top.rev.sha1, &sb, 0) == -1) {
		if (read_text(pg, s) == -1)
			return -1;
		if (s->top.missing || s->top.rev.revid != was ||
		    s->top.rev.text == NULL)
			return MOVED;
		if (store_put(pg->st, s->top.rev.text ? s->top.rev.text : "",
		    s->top.rev.len, got) == -1)
			die(EX_TEMPFAIL, "store");
		if (strcmp(got, s->top.rev.sha1) != 0) {
			ws_log(LOG_WARNING, "%s: %s: text read has sha1 %s, "
			    "the wiki says %s", s->w->name, pg->title, got,
			    s->top.rev.sha1);
			return MOVED;
		}
	}
	memset(&a, 0, sizeof(a));
	strlcpy(a.sha1, s->top.rev.sha1, sizeof(a.sha1));
	strlcpy(a.title, pg->title, sizeof(a.title));
	for (i = 0; i < pg->n; i++) {
		strlcpy(a.w[i].wiki, pg->s[i].w->name, sizeof(a.w[i].wiki));
		a.w[i].revid = pg->s[i].top.rev.revid;
	}
	a.n = pg->n;
	if (agreement_write(pg->sp, pg->jobid, &a) == -1)
		die(EX_TEMPFAIL, "%s: recording the agreement", pg->jobid);
	return 0;
}

/* Do all wikis hold one text? */
static int
all_same(const struct page *pg)
{
	size_t i;

	for (i = 0; i < pg->n; i++)
		if (pg->s[i].top.missing || strcmp(pg->s[i].top.rev.sha1,
		    pg->s[0].top.rev.sha1) != 0)
			return 0;
	return 1;
}

/* One round: replay from a source, or merge; 0, MOVED or -1. */
static int
round_once(struct page *pg)
{
	struct side *src = NULL, *s;
	enum history hist = pg->set.first->history;
	size_t i, k;
	int r;

	read_bases(pg);
	/* a source: the job's wiki first, then the others */
	for (k = 0; k < pg->n && src == NULL; k++) {
		s = &pg->s[(pg->origin + k) % pg->n];
		if (!changed(pg, s))
			continue;
		if ((r = source_for(pg, s)) == -1)
			return -1;
		if (r)
			src = s;
	}
	if (src == NULL) {
		/* nothing changed anywhere, only missing: the base's holder */
		for (i = 0; i < pg->n; i++)
			if (changed(pg, &pg->s[i]))
				return merge_all(pg, pg->set.first);
		for (i = 0; i < pg->n && src == NULL; i++)
			if (!pg->s[i].top.missing) {
				if ((r = source_for(pg, &pg->s[i])) == -1)
					return -1;
				if (r)
					src = &pg->s[i];
			}
		if (src == NULL)
			return MOVED;
	}
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (s == src || (!s->top.missing &&
		    strcmp(s->top.rev.sha1, src->top.rev.sha1) == 0))
			continue;
		if ((r = replay(pg, src, s, hist)) != 0)
			return r;
	}
	return 0;
}

/* The sync user watches the page where it has no base yet. */
static void
watch_new(struct page *pg)
{
	struct storeptr p;
	struct mwerr e;
	const char *t = pg->title;
	size_t i;

	for (i = 0; i < pg->n; i++)
		if (store_get(pg->st, pg->s[i].w->name, pg->title, &p) == -1 &&
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
		if (i == pg->origin && s->revs == 0 && !s->merged)
			continue;
		fprintf(out, "%s%s: ", any++ ? "; " : "", s->w->name);
		if (s->merged)
			fprintf(out, "%s%s", s->revs ? "revisions, " : "",
			    s->merged == 2 ? "conflict, all kept" : "merged");
		else if (s->revs)
			fprintf(out, "%zu revision%s", s->revs,
			    s->revs == 1 ? "" : "s");
		else
			fputs("has it", out);
	}
	fputs(any ? "\n" : "nothing to push\n", out);
}

int
sync_page(struct spool *sp, struct store *st, const struct job *j,
    const struct wiki *w, const char *title, FILE *out)
{
	struct page pg;
	struct mwpage cur;
	struct mwerr e;
	struct agreement none;
	struct mw *m;
	size_t i, round;
	int r;

	memset(&pg, 0, sizeof(pg));
	memset(&cur, 0, sizeof(cur));
	memset(&none, 0, sizeof(none));
	pg.sp = sp;
	pg.st = st;
	pg.jobid = j->id;
	/* seen before read: an edit made from now on mails again */
	if ((m = mw_open(w, &e)) == NULL || mw_seen(m, title, &e) == -1 ||
	    mw_info(m, &title, 1, &cur, &e) == -1)
		diex(e.code, "%s: %s", w->name, e.msg);
	if (cur.missing || cur.invalid) {
		fprintf(out, "%s: %s: no such page, nothing to push\n",
		    w->name, title);
		goto nothing;
	}
	/* from here on the page is called what the wiki calls it */
	strlcpy(pg.title, cur.title, sizeof(pg.title));
	if (syncset_of(ws_conf(), w->name, pg.title, cur.cats, cur.ncats,
	    &pg.set) < 2) {
		fprintf(out, "%s: %s: not in a synced group\n", w->name,
		    pg.title);
		goto nothing;
	}
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
	watch_new(&pg);
	for (round = 0; round < ROUNDS; round++) {
		if (read_tops(&pg) == -1)
			goto out;
		if (all_same(&pg)) {
			if ((r = agree(&pg)) == 0) {
				report(&pg, out);
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
	pg.worst = pg.worst ? pg.worst : EX_TEMPFAIL;
out:
	for (i = 0; i < pg.n; i++) {
		mw_pages_free(&pg.s[i].top, 1);
		if (pg.s[i].mw != m)
			mw_close(pg.s[i].mw);
	}
	mw_close(m);
	return pg.worst;
nothing:
	mw_pages_free(&cur, 1);
	mw_close(m);
	if (agreement_write(sp, j->id, &none) == -1)
		die(EX_TEMPFAIL, "%s: recording progress", j->id);
	return 0;
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
 * (checked by sha1, without the text); only then every wiki's base moves
 * to it, all with one generation.  A wiki no longer configured is left
 * out with a warning: it is no longer synced.
 */
int
sync_verify(struct store *st, const struct job *j, const struct wiki *origin)
{
	const struct wiki *w[SYNC_WIKIS];
	struct agreement a;
	struct mwrev rv;
	struct mwerr e;
	struct stat sb;
	struct timespec now;
	struct mw *m;
	char *t, revid[24];
	size_t i, k, last = 0, ok = 0;
	long long gen;

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
		if ((m = mw_open(w[i], &e)) == NULL ||
		    mw_rev_info(m, a.w[i].revid, &rv, &t, &e) == -1)
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
		mw_close(m);
	}
	if (ok < a.n) {
		ws_log(LOG_WARNING, "%zu of %zu wikis not verified", a.n - ok,
		    a.n);
		return EX_TEMPFAIL;
	}
	clock_gettime(CLOCK_REALTIME, &now);
	gen = (long long)now.tv_sec * 1000000 + now.tv_nsec / 1000;
	/* the job's wiki last: the log's newest record names where it began */
	for (k = 0; k < a.n; k++) {
		i = (k + 1 + last) % a.n;
		if (w[i] == NULL)
			continue;
		snprintf(revid, sizeof(revid), "%ld", a.w[i].revid);
		if (store_set(st, w[i]->name, a.title, a.sha1, revid, gen) == -1)
			die(EX_TEMPFAIL, "store: %s %s", w[i]->name, a.title);
	}
	return 0;
}

/* --- the job a command names ------------------------------------------- */

/*
 * A job is named by id or path; it must exist and name a configured wiki
 * and a title, or the caller exits 65 and ws-peerd holds the job for a
 * person.  A spool that cannot be read is a temporary failure (75).
 */
const struct wiki *
sync_job_open(const char *arg, struct spool *sp, struct store *st,
    struct job *j, const char **title)
{
	const struct wiki *w;
	const char *id, *name;

	id = strrchr(arg, '/');
	id = id ? id + 1 : arg;
	if (spool_open(sp, ws_spool()) == -1 || store_open(st, ws_spool()) == -1)
		die(EX_TEMPFAIL, "spool %s", ws_spool());
	if (!job_id_valid(id))
		diex(EX_DATAERR, "%s: not a job id", arg);
	if (job_load(sp, id, j) == -1) {
		if (errno == ENOENT || errno == EINVAL)
			diex(EX_DATAERR, "%s: no such job", arg);
		die(EX_TEMPFAIL, "%s", id);
	}
	if ((*title = job_get(j, "title")) == NULL ||
	    (name = job_get(j, "wiki")) == NULL)
		diex(EX_DATAERR, "%s: no wiki or title", id);
	if ((w = conf_wiki(ws_conf(), name)) == NULL)
		diex(EX_DATAERR, "%s: wiki %s is not configured", id, name);
	return w;
}
