/*
 * files.c: the files a synced page shows, made the same on every wiki of
 * its set (a file's own page: the file first).  Each version is
 * downloaded from the wiki that has it, checked by its SHA-1, and
 * uploaded to each wiki that lacks it; a file a wiki refused holds the
 * job (65).
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

#define FILE_PASSES	3	/* reads of a page's files a job makes */

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
 * Each wiki offers its newest version an editor uploaded (struct
 * mwfile), current or not: one uploaded there just before a sync copy
 * landed on top of it is not passed over.
 */
static int
file_source(const struct page *pg, struct mwfile *const *fv, size_t k)
{
	const struct mwfile *f, *best = NULL;
	int i, src = -1, own, bestown = 0;

	for (i = 0; i < (int)pg->n; i++) {
		f = fv[i] ? &fv[i][k] : NULL;
		if (f == NULL || !side_in(&pg->s[i]) || f->missing || !f->local)
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
 * One pass of sync_files: *any set when it uploaded something.
 */
static int
files_pass(struct page *pg, const char **titles, size_t nt, int *any)
{
	struct mwfile *fv[SYNC_WIKIS] = { 0 };
	const struct mwfile *sf, *f;
	struct side *s, *src;
	struct mwerr e;
	char sha1[41], comment[600], *text;
	size_t i, k;
	int si, fd, rc = 0;

	for (i = 0; i < pg->n; i++) {
		s = &pg->s[i];
		if (!side_in(s))
			continue;
		fv[i] = xcalloc(nt, sizeof(*fv[i]));
		if (mw_files(s->mw, titles, nt, fv[i], &e) == -1) {
			side_failed(pg, s, &e);
			side_leave_out(pg, s, &e);
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
			if (f == NULL || !side_in(s) || (!f->missing &&
			    strcmp(f->cur, sf->sha1) == 0))
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
					side_failed(pg, src, &e);
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
			utf8_cut(comment, 250);
			if (mw_upload(s->mw, sf->title, fd, (off_t)sf->size,
			    text ? text : "", comment, &e) == -1) {
				if (e.temp) {
					/* the job stays queued for it */
					side_failed(pg, s, &e);
					side_leave_out(pg, s, &e);
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
			*any = 1;
		}
		if (fd != -1)
			close(fd);
		free(text);
	}
	for (i = 0; i < pg->n; i++)
		if (fv[i] != NULL)
			mw_files_free(fv[i], nt);
	return rc;
}

/*
 * The files titles[] made the same on every wiki taking part: a wiki that
 * lacks one, or has another version, gets the source's bytes (file_source)
 * uploaded, through one unnamed temporary file, never whole in memory; a
 * new file's description page gets the source's text.  An upload takes
 * no base (MediaWiki has none for files), so a version an editor uploads
 * as the sync uploads there may end under the sync's copy: after any
 * upload the files are read again, and that version, the newer, is
 * uploaded everywhere on top.  A wiki that refuses a file (too large, a
 * type it does not take) stops the job with its reason, to be held (65);
 * one that does not answer is left out, and the job stays queued for it
 * (75).  Every wiki of a file uploaded then watches it, so its next
 * version and its description's edits mail.  0, or -1 (pg->worst set).
 */
int
sync_files(struct page *pg, const char **titles, size_t nt)
{
	struct mwerr e;
	size_t i, pass;
	int rc = 0, any = 0, more = 1;

	for (pass = 0; pass < FILE_PASSES && more && rc == 0; pass++) {
		more = 0;
		rc = files_pass(pg, titles, nt, &more);
		any |= more;
	}
	for (i = 0; i < pg->n && any; i++)
		if (side_in(&pg->s[i]) && mw_watch(pg->s[i].mw, titles, nt,
		    &e) == -1)
			ws_log(LOG_NOTICE, "%s: watching files: %s",
			    pg->s[i].w->name, e.msg);
	if (rc == 0 && more) {
		ws_log(LOG_NOTICE, "%s: files still changing: later",
		    pg->title);
		pg->worst = EX_TEMPFAIL;
		rc = -1;
	}
	return rc;
}

/* The files the page shows, as its first wiki taking part has it. */
int
page_files(struct page *pg)
{
	struct mwfile *v = NULL;
	const char **titles;
	struct side *s = NULL;
	struct mwerr e;
	size_t i, n = 0;
	int rc;

	for (i = 0; i < pg->n && s == NULL; i++)
		if (side_in(&pg->s[i]) && !pg->s[i].top.missing)
			s = &pg->s[i];
	if (s == NULL)
		return 0;
	if (mw_files_of(s->mw, pg->title, &v, &n, &e) == -1) {
		side_failed(pg, s, &e);
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
int
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
