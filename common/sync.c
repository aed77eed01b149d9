/*
 * sync.c: the sync protocol's rounds (sync.h; wikisync(7), THE PROTOCOL;
 * page.h says which file holds what).
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
 */#include <errno.h>
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
	utf8_cut(sum, 360);
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
		if (!side_in(s))
			continue;
		if (top == NULL || s->base.rank > top->base.rank)
			top = s;
		if (!side_changed(s))
			continue;
		if ((rc = side_read_text(pg, s)) != 0)
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
		if (side_changed(s))
			v[nv++] = s;
	}
	from = pg->hasmeet ? pg->meet : top->base;
	if ((rc = base_load(pg, &from)) != 0)
		return rc;
	buf_add(&acc, from.text, from.len);
	qsort(v, nv, sizeof(*v), by_base);
	for (i = 0; i < nv; i++) {
		s = v[i];
		side_label(lab[i], sizeof(lab[i]), s);
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
	text = page_hold(pg, acc.p ? acc.p : xstrdup(""));
	base_mine(&pg->meet, text, keep, sha);
	pg->hasmeet = 1;
	/* what was merged of each changed wiki is in the result */
	for (i = 0; i < nv; i++)
		base_mine(&v[i]->base, page_hold(pg, v[i]->top.rev.text),
		    v[i]->top.rev.len, v[i]->top.rev.sha1);
	for (i = 0; i < nv; i++)
		v[i]->top.rev.text = NULL;
	for (i = 0, rc = 0; i < pg->n && rc == 0; i++) {
		s = &pg->s[i];
		if (!side_in(s) || (!s->top.missing &&
		    strcmp(s->top.rev.sha1, sha) == 0))
			continue;
		rc = side_save(pg, s, text, keep, sum, 0, 1);
		if (rc == 0 || rc == MERGED)
			s->base = pg->meet;
		if (rc == 0 || rc == MERGED || rc == MERGED_SAME)
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
			side_talk_note(pg, v[i], others);
		}
	return rc == MERGED || rc == MERGED_SAME ? MOVED : rc;
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
		if (s->top.missing ? !side_ptr_deleted(s) :
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
		if (side_in(s) && s->hasptr && (had == NULL ||
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

	for (i = 0; !side_in(s) && i < pg->n; i++)
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
			if ((rc = side_read_text(pg, s)) != 0)
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
		if (!side_in(&pg->s[i]))
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
			if (!side_in(s) || s->top.missing || side_changed(s) == pass)
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
		if (s == src || !side_in(s) || (!s->top.missing &&
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
 * it (its store pointer says so, or that the page was deleted there by an
 * agreement another wiki was left out of): the set of wikis is what
 * another wiki that synced it and has it still, with a live pointer,
 * makes of it, if w is in that set.  So the edit that takes
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

	/* w's deletion agreed on without a wiki that did not answer: that
	   one has the page still, and its set takes the deletion there */
	if (store_get(st, w->name, title, &p) == -1 ||
	    strcmp(p.revid, MOVED_REV) == 0)
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
 * follow the move (moves).  Where it went is found by the move log, hop
 * by hop while a title it passed holds no page or another page (a move
 * without a redirect, or the redirect a later move left), up to
 * MOVES_MAX moves: a page moved twice before any job ran is found at its
 * last title, not lost at the first.
 */
static int
set_moved(struct store *st, struct mw *m, const struct wiki *w,
    const char *title, struct syncset *set)
{
	struct storeptr p;
	struct mwlog l;
	struct mwpage tp;
	struct mwerr e;
	char at[512];
	const char *t;
	int found = 0, hop, more;

	if (store_get(st, w->name, title, &p) == -1 || p.pageid == 0 ||
	    strcmp(p.revid, MOVED_REV) == 0)
		return 0;
	strlcpy(at, title, sizeof(at));
	for (hop = 0, more = 1; hop < MOVES_MAX && more; hop++) {
		more = 0;
		if (mw_log_last(m, at, "move", &l, &e) == -1) {
			ws_log(LOG_NOTICE, "%s: %s: %s", w->name, at, e.msg);
			return 0;
		}
		t = l.target;
		memset(&tp, 0, sizeof(tp));
		if (strncmp(l.action, "move", 4) == 0 && *t != '\0' &&
		    mw_info(m, &t, 1, &tp, &e) == 0) {
			if (!tp.missing && tp.pageid == p.pageid)
				found = syncset_of(ws_conf(), w->name, tp.title,
				    tp.cats, tp.ncats, set) >= 2;
			else if (tp.missing || tp.redirect) {
				strlcpy(at, t, sizeof(at));
				more = 1;
			}
		}
		mw_pages_free(&tp, 1);
		mw_log_free(&l);
	}
	return found;
}

/*
 * w moved the page away from title, as w's pointer here says (the sync
 * made or followed the move).  The job goes on there (to): a wiki that
 * has not followed yet (its base there still names the title it has the
 * page at) follows in the rounds; and the edits this job stands for were
 * carried there by the move, which a push killed after the moves and
 * before the rounds under the new title left unsynced (explorer:
 * move-kill, a kill at any request from the moves to the edits).  A job
 * for the title the page left would otherwise find nothing a group syncs
 * here, and those edits would wait for the page's next one.  1, else 0.
 */
static int
moved_away(struct store *st, const struct wiki *w, const char *title,
    char *to, size_t tolen)
{
	struct storeptr p;

	if (store_get(st, w->name, title, &p) == -1 ||
	    strcmp(p.revid, MOVED_REV) != 0 || strcmp(p.title, title) == 0)
		return 0;
	strlcpy(to, p.title, tolen);
	return 1;
}

/*
 * The page came to this title on w by a move no job has followed yet: w
 * has no base here (none, or one saying the page synced here moved away:
 * two pages swapped), but has one, of the same page id, at a title the
 * page had before, as w's move log tells.  The job goes there first (to),
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

	/* a base here: the page synced here (which may have moved away:
	   the rounds follow that first); one saying the page synced here
	   moved away says nothing of this one */
	if (cur->pageid == 0 || (store_get(st, w->name, cur->title, &p) == 0 &&
	    strcmp(p.revid, MOVED_REV) != 0))
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
 * A wiki of the set that has a page of this title, never synced there (no
 * base), which it does not put in a synced category itself: a page of its
 * own there (its Main Page, say).  Another wiki's editors, putting a page
 * of that title in a synced category, must not overwrite it with the sync
 * account's rights.  The job is held (65) until an operator sets
 * adopt=yes on it (ws-queue set) and releases it; then it is merged as
 * two pages never synced are.  A redirect is no page of its own (a move's
 * leftover: moves go over them too), and a file's page is its file's
 * business (files.c).  0 to go on, -1 held.
 */
static int
foreign(struct page *pg, const struct job *j)
{
	const char *adopt = job_get(j, "adopt");
	struct syncset there;
	struct side *s;
	size_t i;

	if (adopt != NULL && strcmp(adopt, "yes") == 0)
		return 0;
	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		/* one this job or an earlier one wrote is the sync's
		   (its categories may not be listed yet) */
		if (!side_in(s) || s->hasptr || s->top.missing ||
		    s->top.redirect || s->top.ns == NS_FILE ||
		    s->base.rank == JOB_RANK ||
		    (s->top.rev.user != NULL &&
		    sync_user(s->w, s->top.rev.user)) ||
		    syncset_of(ws_conf(), s->w->name, pg->title, s->top.cats,
		    s->top.ncats, &there) >= 2)
			continue;
		ws_log(LOG_ERR, "%s: %s: a page of its own there, in no "
		    "synced category, never synced: not overwritten; to merge "
		    "it with the others' text, ws-queue set JOB adopt=yes, "
		    "then release the job", s->w->name, pg->title);
		pg->worst = EX_DATAERR;
		return -1;
	}
	return 0;
}

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
			side_failed(&pg, &pg.s[i], &e);
			goto out;
		}
	}
	pg.n = pg.set.n;
	page_read_bases(&pg);
	watch_new(&pg);
	fold_find(&pg, j, title, seen_at);
	/* a file's own page: the file first, which makes its page where
	   it is new */
	if (isfile && pg.set.first->files) {
		const char *t = pg.title;

		if (page_read_tops(&pg) == -1 || sync_files(&pg, &t, 1) == -1)
			goto out;
	}
	for (round = 0, r = MOVED; round < ROUNDS; round++) {
		/*
		 * After a round whose every edit MediaWiki saved as sent, what
		 * each wiki holds is known without reading: an edit made since
		 * mails, and ws-verify reads back each revision agreed on.
		 */
		if ((r != 0 || !all_same(&pg)) && page_read_tops(&pg) == -1)
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
		if (foreign(&pg, j) == -1)
			goto out;
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
	if (agreement_read(j, &a) == 0 && *a.sha1 != '\0') {
		if (sync_verify(st, j, w) == 0) {
			ws_log(LOG_DEBUG, "%s: the last push's agreement "
			    "verified first", a.title);
			early = 1;
		}
		/*
		 * That push followed the page to another title: the job
		 * goes on there, where a wiki it left out still waits for
		 * the text (its old title is a redirect, in no group).
		 */
		if (*a.title != '\0' && !title_same(a.title, title)) {
			strlcpy(at[1], a.title, sizeof(at[1]));
			title = at[1];
		}
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
