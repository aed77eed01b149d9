/*
 * push.c: ws-push, bring every peer wiki up to the source's revisions.
 *
 * A job names a wiki and a page.  If the page is in one of a group's
 * categories there (or in its pages), every other wiki of the group is a
 * peer.  For each peer: if it has the source's text, nothing is written;
 * if it is unchanged since the base (the store's text the two last
 * agreed on), the source's new revisions are replayed onto it in order,
 * each as its own edit; if it changed too, the base, its text and the
 * source's are merged and the result is written to both.  Invariants:
 * - the mail is never read here: every text comes from a wiki's API;
 * - text is never dropped: a conflict keeps both sides in the page;
 * - a job run twice writes nothing twice: a peer that has a text is not
 *   given it again, and a replay cut short resumes after the last
 *   revision the peer has;
 * - what each wiki must end with is recorded in the job (expect.WIKI,
 *   revid.WIKI) for ws-verify, which alone moves the store's base.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"
#include "diff.h"
#include "mw.h"

#define EDIT_TRIES		3

static const char usage[] = "[-qv] [-c file] [-d dir] job";

struct src {
	const struct wiki	*w;
	struct mw		*mw;
	const char		*title;
	struct mwpage		 page;		/* current, with text */
	struct mwrevs		 revs;		/* since the base, oldest first */
	enum history		 history;
	enum conflict		 conflict;
	int			 talknotes;
};

static struct spool	 sp;
static struct store	 st;
static const char	*jobid;
static int		 worst;			/* exit code for a failed peer */

static void
record(const char *k1, const char *v1, const char *k2, const char *v2)
{
	const char *keys[2] = { k1, k2 }, *vals[2] = { v1, v2 };

	if (job_update(&sp, jobid, keys, vals, k2 ? 2 : 1) == -1)
		die(EX_TEMPFAIL, "%s: recording progress", jobid);
}

static void
expect(const char *wiki, const char *sha1, long revid)
{
	char k1[64], k2[64], rv[24];

	snprintf(k1, sizeof(k1), "expect.%s", wiki);
	snprintf(k2, sizeof(k2), "revid.%s", wiki);
	snprintf(rv, sizeof(rv), "%ld", revid);
	record(k1, sha1, k2, rv);
}

static void
peer_failed(const char *wiki, const struct mwerr *e)
{
	ws_log(LOG_WARNING, "%s: %s", wiki, e->msg);
	if (e->temp || worst == 0 || worst == EX_TEMPFAIL)
		worst = e->temp ? (worst ? worst : EX_TEMPFAIL) : e->code;
}

/* "from alpha r12 by Editor: summary", cut at a character boundary. */
static void
summary(char *buf, size_t len, const char *wiki, const struct mwrev *r)
{
	size_t n;

	snprintf(buf, len, "from %s r%ld by %s%s%s", wiki, r->revid,
	    *r->user ? r->user : "(hidden)", *r->comment ? ": " : "",
	    r->comment);
	n = strlen(buf);
	if (n > 400) {
		n = 400;
		while (n > 0 && ((unsigned char)buf[n] & 0xc0) == 0x80)
			n--;
		buf[n] = '\0';
	}
}

/* Is title in one of the groups of src->w?  Sets the peers. */
static size_t
peers_of(const struct conf *c, struct src *s, const struct wiki **peers)
{
	const struct group *g;
	size_t i, j, k, n = 0;
	int in;

	for (i = 0; i < c->ngroups; i++) {
		g = &c->groups[i];
		for (in = 0, j = 0; j < g->nwikis; j++)
			in |= strcmp(g->wikis[j], s->w->name) == 0;
		if (!in)
			continue;
		in = 0;
		for (j = 0; j < g->npages && !in; j++)
			in = strcmp(g->pages[j], s->title) == 0;
		for (j = 0; j < g->ncategories && !in; j++)
			for (k = 0; k < s->page.ncats && !in; k++)
				in = strcmp(g->categories[j],
				    s->page.cats[k]) == 0;
		if (!in)
			continue;
		if (n == 0) {
			s->history = g->history;
			s->conflict = g->conflict;
			s->talknotes = g->talknotes;
		}
		for (j = 0; j < g->nwikis; j++) {
			if (strcmp(g->wikis[j], s->w->name) == 0)
				continue;
			for (k = 0; k < n; k++)
				if (strcmp(peers[k]->name, g->wikis[j]) == 0)
					break;
			if (k == n)
				peers[n++] = conf_wiki(c, g->wikis[j]);
		}
	}
	return n;
}

/* Replay revs[from..] onto the peer, whose current revision is cur. */
static int
replay(struct src *s, const struct wiki *pw, struct mw *pm, struct mwpage *cur,
    size_t from, size_t *done, int *conflict)
{
	struct mwedit ed;
	struct mwsaved sv;
	struct mwerr e;
	struct mwrev *r;
	char sum[512];
	size_t i;

	*done = 0;
	*conflict = 0;
	for (i = from; i < s->revs.n; i++) {
		r = &s->revs.v[i];
		if (r->text == NULL)
			continue;	/* suppressed on the source */
		if (s->history == HISTORY_LATEST && i + 1 < s->revs.n)
			continue;
		summary(sum, sizeof(sum), s->w->name, r);
		memset(&ed, 0, sizeof(ed));
		ed.title = s->title;
		ed.text = r->text;
		ed.len = r->len;
		ed.summary = sum;
		ed.flags = MW_BOT | (r->minor ? MW_MINOR : 0);
		mw_edit_on(&ed, cur);
		if (mw_edit(pm, &ed, &sv, &e) == -1) {
			peer_failed(pw->name, &e);
			return -1;
		}
		if (sv.result == MW_CONFLICT) {
			*conflict = 1;
			return 0;
		}
		if (sv.result == MW_SAVED) {
			cur->missing = 0;
			cur->rev.revid = sv.revid;
			strlcpy(cur->rev.timestamp, sv.timestamp,
			    sizeof(cur->rev.timestamp));
			(*done)++;
		}
		strlcpy(cur->rev.sha1, r->sha1, sizeof(cur->rev.sha1));
	}
	return 0;
}

static int
save(const struct wiki *w, struct mw *m, const char *title, const struct buf *b,
    const struct mwrev *base, const char *sum, struct mwsaved *sv)
{
	struct mwedit ed;
	struct mwerr e;

	memset(&ed, 0, sizeof(ed));
	ed.title = title;
	ed.text = b->p ? b->p : "";
	ed.len = b->len;
	ed.summary = sum;
	ed.flags = MW_BOT;
	ed.baserevid = base->revid;
	ed.basetimestamp = base->timestamp;
	if (mw_edit(m, &ed, sv, &e) == -1) {
		peer_failed(w->name, &e);
		return -1;
	}
	if (sv->result == MW_CONFLICT) {
		ws_log(LOG_NOTICE, "%s: %s changed meanwhile", w->name, title);
		worst = worst ? worst : EX_TEMPFAIL;
		return -1;
	}
	return 0;
}

/*
 * Tell an editor, on the talk page of the wiki where they edited, that
 * their edit met another it could not be merged with.  A note that cannot
 * be written is logged, not retried: the conflict itself is on the page.
 */
static void
talk_note(const struct wiki *w, struct mw *m, const char *user,
    const char *title, const char *other)
{
	struct mwpage pg;
	struct mwedit ed;
	struct mwsaved sv;
	struct mwerr e;
	struct buf b = { 0 };
	char talk[300], note[1200];
	const char *t = talk;
	size_t n;

	n = strcspn(w->user, "@");
	if (*user == '\0' || (strlen(user) == n &&
	    strncmp(user, w->user, n) == 0))
		return;		/* hidden, or the sync user itself */
	snprintf(talk, sizeof(talk), "User talk:%s", user);
	snprintf(note, sizeof(note), "\n\n== Edit conflict on [[%s]] ==\n"
	    "Your edit of [[%s]] and an edit on %s changed the same text "
	    "differently. Both versions are kept on the page, in a box; "
	    "please keep one, or combine them, and remove the box. "
	    "All pages like this: [[:Category:" CONFLICT_CATEGORY "]]. "
	    "~~~~\n", title, title, other);
	memset(&pg, 0, sizeof(pg));
	if (mw_current(m, &t, 1, &pg, &e) == -1)
		goto fail;
	if (!pg.missing && pg.rev.text != NULL)
		buf_add(&b, pg.rev.text, pg.rev.len);
	buf_str(&b, note);
	memset(&ed, 0, sizeof(ed));
	ed.title = talk;
	ed.text = b.p;
	ed.len = b.len;
	ed.summary = "WikiSync: edit conflict to look at";
	ed.flags = MW_BOT;
	mw_edit_on(&ed, &pg);
	if (mw_edit(m, &ed, &sv, &e) == -1)
		goto fail;
	if (sv.result == MW_CONFLICT)
		ws_log(LOG_WARNING, "%s: %s changed meanwhile: no note", w->name,
		    talk);
	buf_free(&b);
	mw_pages_free(&pg, 1);
	return;
fail:
	ws_log(LOG_WARNING, "%s: note on %s: %s", w->name, talk, e.msg);
	buf_free(&b);
	mw_pages_free(&pg, 1);
}

/* Replace rev with the page's current revision on the wiki. */
static int
readback(const struct wiki *w, struct mw *m, const char *title,
    struct mwrev *rev)
{
	struct mwpage pg;
	struct mwerr e;

	memset(&pg, 0, sizeof(pg));
	if (mw_current(m, &title, 1, &pg, &e) == -1) {
		peer_failed(w->name, &e);
		return -1;
	}
	mw_rev_free(rev);
	*rev = pg.rev;
	memset(&pg.rev, 0, sizeof(pg.rev));
	mw_pages_free(&pg, 1);
	return 0;
}

/*
 * Both sides changed since the base: merge, sides ordered by time then
 * wiki name so every wiki computes the same text, and write the result
 * to both.  The source's current revision becomes the merged one.
 */
static int
merge_both(struct src *s, const struct wiki *pw, struct mw *pm,
    struct mwpage *cur, int *conflicts)
{
	struct storeptr base;
	struct mergeopt mo;
	struct mergestat ms;
	struct mwsaved sv;
	struct text tb = { "", 0 }, to, tt;
	struct buf out = { 0 };
	const struct mwrev *ours, *theirs;
	const char *on, *tn;
	char lo[300], lt[300], sum[700], *bt = NULL, *su = NULL, *pu = NULL;
	size_t bl;
	int src_first, rc = -1;

	if (store_get(&st, pw->name, s->title, &base) == 0 ||
	    store_get(&st, s->w->name, s->title, &base) == 0) {
		if ((bt = store_read(&st, base.sha1, &bl)) == NULL)
			die(EX_TEMPFAIL, "store: %s", base.sha1);
		tb.p = bt;
		tb.len = bl;
	}
	src_first = strcmp(s->page.rev.timestamp, cur->rev.timestamp) < 0 ||
	    (strcmp(s->page.rev.timestamp, cur->rev.timestamp) == 0 &&
	    strcmp(s->w->name, pw->name) < 0);
	ours = src_first ? &s->page.rev : &cur->rev;
	theirs = src_first ? &cur->rev : &s->page.rev;
	on = src_first ? s->w->name : pw->name;
	tn = src_first ? pw->name : s->w->name;
	snprintf(lo, sizeof(lo), "%s (%s, r%ld)", on, ours->user, ours->revid);
	snprintf(lt, sizeof(lt), "%s (%s, r%ld)", tn, theirs->user,
	    theirs->revid);
	to.p = ours->text;
	to.len = ours->len;
	tt.p = theirs->text;
	tt.len = theirs->len;
	memset(&mo, 0, sizeof(mo));
	mo.style = s->conflict == CONFLICT_MARKERS ? STYLE_MARKERS : STYLE_WIKI;
	mo.ours = lo;
	mo.theirs = lt;
	mo.category = CONFLICT_CATEGORY;
	memset(&ms, 0, sizeof(ms));
	merge3(tb, to, tt, &mo, &out, &ms);
	*conflicts = (int)ms.conflicts;
	snprintf(sum, sizeof(sum), "%s %s and %s%s", ms.conflicts ?
	    "edit conflict between" : "merged", lo, lt, ms.conflicts ?
	    ": both versions kept, see [[Category:" CONFLICT_CATEGORY "]]" : "");
	if (save(pw, pm, s->title, &out, &cur->rev, sum, &sv) == -1)
		goto done;
	if (sv.result == MW_SAVED)
		cur->rev.revid = sv.revid;
	if (save(s->w, s->mw, s->title, &out, &s->page.rev, sum, &sv) == -1)
		goto done;
	su = xstrdup(s->page.rev.user ? s->page.rev.user : "");
	pu = xstrdup(cur->rev.user ? cur->rev.user : "");
	/* the wiki transforms a text as it saves it: ask what it kept */
	if (readback(pw, pm, s->title, &cur->rev) == -1 ||
	    readback(s->w, s->mw, s->title, &s->page.rev) == -1)
		goto done;
	if (strcmp(cur->rev.sha1, s->page.rev.sha1) != 0)
		ws_log(LOG_WARNING, "%s and %s keep the merged text "
		    "differently", pw->name, s->w->name);
	expect(pw->name, cur->rev.sha1, cur->rev.revid);
	expect(s->w->name, s->page.rev.sha1, s->page.rev.revid);
	if (ms.conflicts > 0 && s->talknotes) {
		talk_note(s->w, s->mw, su, s->title, pw->name);
		talk_note(pw, pm, pu, s->title, s->w->name);
	}
	rc = 0;
done:
	buf_free(&out);
	free(bt);
	free(su);
	free(pu);
	return rc;
}

static void
rev_dup(struct mwrev *to, const struct mwrev *from)
{
	*to = *from;
	to->user = xstrdup(from->user ? from->user : "");
	to->comment = xstrdup(from->comment ? from->comment : "");
	if (from->text != NULL) {
		to->text = xcalloc(1, from->len + 1);
		memcpy(to->text, from->text, from->len);
	}
}

/* What peers get from now on: at least the source's current revision. */
static void
revs_top(struct src *s)
{
	if (s->history == HISTORY_LATEST || (s->revs.n > 0 && strcmp(
	    s->revs.v[s->revs.n - 1].sha1, s->page.rev.sha1) != 0)) {
		mw_revs_free(&s->revs);
		memset(&s->revs, 0, sizeof(s->revs));
	}
	if (s->revs.n == 0) {
		s->revs.v = xcalloc(1, sizeof(*s->revs.v));
		rev_dup(&s->revs.v[0], &s->page.rev);
		s->revs.n = 1;
	}
}

/*
 * The sync user watches every synced page on every wiki of its group, so
 * the next edit anywhere sends mail.  Done the first time a page is
 * synced to a wiki (no base yet); ws-scan keeps it so.
 */
static void
watch_new(const struct wiki *w, struct mw *m, const char *title)
{
	struct storeptr base;
	struct mwerr e;

	if (store_get(&st, w->name, title, &base) == 0)
		return;
	if (mw_watch(m, &title, 1, &e) == -1)
		ws_log(LOG_WARNING, "%s: watching %s: %s", w->name, title,
		    e.msg);
}

/* One peer: nothing, a replay, or a merge. */
static void
push_peer(struct src *s, const struct wiki *pw, char *line, size_t len)
{
	struct mwpage cur;
	struct mwerr e;
	struct storeptr base;
	struct mw *pm;
	size_t i, from = 0, done = 0;
	int unchanged, conflict = 0, conflicts = 0, tries;
	char what[128], key[64];

	if ((pm = mw_open(pw, &e)) == NULL) {
		peer_failed(pw->name, &e);
		return;
	}
	memset(&cur, 0, sizeof(cur));
	watch_new(pw, pm, s->title);
	for (tries = 0; tries < EDIT_TRIES; tries++) {
		memset(&cur, 0, sizeof(cur));
		if (mw_current(pm, &s->title, 1, &cur, &e) == -1) {
			peer_failed(pw->name, &e);
			goto out;
		}
		if (!cur.missing && strcmp(cur.rev.sha1, s->page.rev.sha1) == 0) {
			snprintf(what, sizeof(what), "%s: has it", pw->name);
			expect(pw->name, cur.rev.sha1, cur.rev.revid);
			break;
		}
		unchanged = cur.missing;
		if (!unchanged && store_get(&st, pw->name, s->title, &base) == 0)
			unchanged = strcmp(base.sha1, cur.rev.sha1) == 0;
		/* a replay cut short: resume after what the peer has */
		for (i = s->revs.n; i > 0 && !cur.missing; i--)
			if (strcmp(s->revs.v[i - 1].sha1, cur.rev.sha1) == 0) {
				unchanged = 1;
				from = i;
				break;
			}
		if (unchanged) {
			if (replay(s, pw, pm, &cur, from, &done, &conflict) == -1)
				goto out;
			if (conflict) {
				mw_pages_free(&cur, 1);
				continue;
			}
			snprintf(what, sizeof(what), "%s: %zu revision%s",
			    pw->name, done, done == 1 ? "" : "s");
			if (s->history == HISTORY_REPLAY && done > 0) {
				snprintf(key, sizeof(key), "replay.%s",
				    pw->name);
				record(key, "1", NULL, NULL);
			}
			expect(pw->name, s->page.rev.sha1, cur.rev.revid);
			break;
		}
		if (merge_both(s, pw, pm, &cur, &conflicts) == -1)
			goto out;
		revs_top(s);
		snprintf(what, sizeof(what), "%s: %s", pw->name, conflicts ?
		    "conflict, both kept" : "merged");
		break;
	}
	if (tries == EDIT_TRIES) {
		ws_log(LOG_NOTICE, "%s: edit conflicts %d times, later",
		    pw->name, tries);
		worst = worst ? worst : EX_TEMPFAIL;
		goto out;
	}
	if (*line != '\0')
		strlcat(line, "; ", len);
	strlcat(line, what, len);
out:
	mw_pages_free(&cur, 1);
	mw_close(pm);
}

int
push_main(int argc, char *argv[])
{
	const struct conf *c;
	const struct wiki *peers[64];
	struct src s;
	struct job j;
	struct storeptr base;
	struct mwerr e;
	char line[1024] = "";
	size_t np, i;
	int ch;

	while ((ch = getopt(argc, argv, WS_OPTS)) != -1)
		ws_opt(ch, optarg, usage);
	if (argc - optind != 1)
		ws_usage(usage, EX_USAGE);
	c = ws_conf();
	memset(&s, 0, sizeof(s));
	s.w = sync_job_open(argv[optind], &sp, &st, &j, &s.title);
	jobid = j.id;
	if ((s.mw = mw_open(s.w, &e)) == NULL ||
	    mw_seen(s.mw, s.title, &e) == -1 ||
	    mw_current(s.mw, &s.title, 1, &s.page, &e) == -1)
		diex(e.code, "%s: %s", s.w->name, e.msg);
	if (s.page.missing || s.page.invalid) {
		printf("%s: %s: no such page, nothing to push\n", s.w->name,
		    s.title);
		goto out;
	}
	if ((np = peers_of(c, &s, peers)) == 0) {
		printf("%s: %s: not in a synced group\n", s.w->name, s.title);
		goto out;
	}
	/* the source's revisions since the base, when a peer needs them */
	if (s.history == HISTORY_REPLAY) {
		base.revid[0] = '\0';
		if (store_get(&st, s.w->name, s.title, &base) == -1)
			base.revid[0] = '\0';
		if (mw_revs(s.mw, s.title, atol(base.revid), s.page.rev.revid,
		    0, &s.revs, &e) == -1)
			diex(e.code, "%s: %s", s.w->name, e.msg);
	}
	revs_top(&s);
	watch_new(s.w, s.mw, s.title);
	expect(s.w->name, s.page.rev.sha1, s.page.rev.revid);
	for (i = 0; i < np; i++)
		push_peer(&s, peers[i], line, sizeof(line));
	printf("%s\n", *line ? line : "nothing to push");
out:
	mw_revs_free(&s.revs);
	mw_pages_free(&s.page, 1);
	mw_close(s.mw);
	job_free(&j);
	store_close(&st);
	spool_close(&sp);
	return worst;
}
