/*
 * mwread.c: reading a wiki: revisions (one, a range, a page's history)
 * and pages (their current revision, with or without its text).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "wikisync.h"
#include "mw.h"
#include "mwint.h"

#define RVPROP	"ids|timestamp|user|comment|sha1|flags|content|size"
#define RVLIGHT	"ids|timestamp|user|comment|sha1|flags|size"

static void
rev_parse(json_t *j, struct mwrev *rv)
{
	json_t *slot = jget(j, "slots", "main", NULL), *c;

	memset(rv, 0, sizeof(*rv));
	rv->revid = jlong(j, "revid");
	rv->parentid = jlong(j, "parentid");
	jcpy(rv->timestamp, sizeof(rv->timestamp), j, "timestamp");
	rv->user = jdup(j, "user");
	rv->comment = jdup(j, "comment");
	jcpy(rv->sha1, sizeof(rv->sha1), j, "sha1");
	rv->minor = jbool(j, "minor");
	rv->size = jlong(j, "size");
	rv->hidden = jbool(j, "userhidden") || jbool(j, "commenthidden") ||
	    jbool(j, "sha1hidden") || jbool(slot, "texthidden");
	c = json_object_get(slot, "content");
	if (json_is_string(c)) {
		rv->len = json_string_length(c);
		rv->text = xcalloc(1, rv->len + 1);
		memcpy(rv->text, json_string_value(c), rv->len);
	}
}

void
mw_rev_free(struct mwrev *rv)
{
	free(rv->user);
	free(rv->comment);
	free(rv->text);
	memset(rv, 0, sizeof(*rv));
}

void
mw_revs_free(struct mwrevs *rs)
{
	size_t i;

	for (i = 0; i < rs->n; i++)
		mw_rev_free(&rs->v[i]);
	free(rs->v);
	memset(rs, 0, sizeof(*rs));
}

static int
bad_title(json_t *page, struct mwerr *e)
{
	char why[300];

	oneline(why, sizeof(why), jstr(json_object_get(page, "invalidreason"),
	    "text") ? jstr(json_object_get(page, "invalidreason"), "text") :
	    "invalid");
	return fail(e, 0, EX_DATAERR, "invalid title: %s", why);
}

#define R_CONTENT	0x01	/* with the texts */
#define R_BACK		0x02	/* newest first, from upto back */

/*
 * The revisions of a page newer than after (a revision of the page, or 0
 * for all) up to upto (0: the current), oldest first, with their text:
 * 50 a request, at most max (0: no limit).  With R_BACK, those older than
 * after (0: from the current on), newest first.
 */
static int
revs_query(struct mw *m, const char *title, long after, long upto, size_t max,
    int flags, struct mwrevs *out, struct mwerr *e)
{
	int content = flags & R_CONTENT;
	struct req r = { 0 };
	json_t *root, *page, *revs, *j;
	size_t i, cap = 0;
	int more = 1;

	memset(out, 0, sizeof(*out));
	req_set(&r, "action", "query");
	req_set(&r, "prop", "revisions");
	req_titles(&r, "titles", &title, 1);
	req_set(&r, "rvprop", content ? RVPROP : RVLIGHT);
	req_set(&r, "rvslots", "main");
	req_set(&r, "rvdir", flags & R_BACK ? "older" : "newer");
	req_setl(&r, "rvlimit", max > 0 && max + 1 < MW_MAXTITLES ?
	    (long)max + 1 : content ? MW_MAXTITLES : MW_MAXLIGHT);
	if (after > 0)
		req_setl(&r, "rvstartid", after);
	if (upto > 0)
		req_setl(&r, "rvendid", upto);
	while (more) {
		if ((root = call(m, &r, 0, e)) == NULL)
			goto fail;
		page = json_array_get(jget(root, "query", "pages", NULL), 0);
		if (jbool(page, "invalid")) {
			bad_title(page, e);
			json_decref(root);
			goto fail;
		}
		if (jbool(page, "missing")) {
			out->missing = 1;
			json_decref(root);
			break;
		}
		revs = json_object_get(page, "revisions");
		json_array_foreach(revs, i, j) {
			if (jlong(j, "revid") == after)
				continue;
			if (max > 0 && out->n == max)
				break;
			if (out->n == cap) {
				cap = cap ? cap * 2 : 16;
				out->v = xreallocarray(out->v, cap,
				    sizeof(*out->v));
			}
			rev_parse(j, &out->v[out->n++]);
		}
		more = max > 0 && out->n == max ? 0 : next_batch(root, &r, e);
		json_decref(root);
		if (more == -1)
			goto fail;
	}
	req_free(&r);
	return 0;
fail:
	req_free(&r);
	mw_revs_free(out);
	return -1;
}

int
mw_revs(struct mw *m, const char *title, long after, long upto, size_t max,
    struct mwrevs *out, struct mwerr *e)
{
	return revs_query(m, title, after, upto, max, R_CONTENT, out, e);
}

/* The same without the texts: ids, sha1s, users, summaries. */
int
mw_history(struct mw *m, const char *title, long after, long upto,
    size_t max, struct mwrevs *out, struct mwerr *e)
{
	return revs_query(m, title, after, upto, max, 0, out, e);
}

/* Without texts, newest first: those older than before (0: all), max. */
int
mw_history_back(struct mw *m, const char *title, long before, size_t max,
    struct mwrevs *out, struct mwerr *e)
{
	return revs_query(m, title, before, 0, max, R_BACK, out, e);
}

static int
rev_query(struct mw *m, long revid, int content, struct mwrev *rv,
    char **title, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *page, *j;

	memset(rv, 0, sizeof(*rv));
	req_set(&r, "action", "query");
	req_set(&r, "prop", "revisions");
	req_setl(&r, "revids", revid);
	req_set(&r, "rvprop", content ? RVPROP : RVLIGHT);
	req_set(&r, "rvslots", "main");
	root = call(m, &r, 0, e);
	req_free(&r);
	if (root == NULL)
		return -1;
	page = json_array_get(jget(root, "query", "pages", NULL), 0);
	j = json_array_get(json_object_get(page, "revisions"), 0);
	if (j == NULL) {
		json_decref(root);
		return fail(e, 0, EX_DATAERR, "no revision %ld", revid);
	}
	rev_parse(j, rv);
	if (title != NULL)
		*title = jdup(page, "title");
	json_decref(root);
	return 0;
}

/* One revision by its id, with its text, and the title of its page. */
int
mw_rev(struct mw *m, long revid, struct mwrev *rv, char **title,
    struct mwerr *e)
{
	return rev_query(m, revid, 1, rv, title, e);
}

/* The same without its text. */
int
mw_rev_info(struct mw *m, long revid, struct mwrev *rv, char **title,
    struct mwerr *e)
{
	return rev_query(m, revid, 0, rv, title, e);
}

/*
 * n revisions by their ids, without their texts, 50 a request: rv[i] and
 * titles[i] (its page's, or NULL) are revids[i]'s; a revision the wiki
 * does not show (deleted, or no such id) is left with revid 0.
 */
int
mw_revs_info(struct mw *m, const long *revids, size_t n, struct mwrev *rv,
    char **titles, struct mwerr *e)
{
	struct req r = { 0 };
	struct buf b = { 0 };
	json_t *root, *page, *j;
	char num[24];
	size_t at, k, i, x, y;
	long id;

	memset(rv, 0, n * sizeof(*rv));
	memset(titles, 0, n * sizeof(*titles));
	for (at = 0; at < n; at += k) {
		k = n - at < MW_MAXTITLES ? n - at : MW_MAXTITLES;
		for (i = 0; i < k; i++) {
			snprintf(num, sizeof(num), "%s%ld", i ? "|" : "",
			    revids[at + i]);
			reply_str(&b, num);
		}
		req_set(&r, "action", "query");
		req_set(&r, "prop", "revisions");
		req_setn(&r, "revids", b.s, b.len);
		req_set(&r, "rvprop", RVLIGHT);
		req_set(&r, "rvslots", "main");
		free(b.s);
		memset(&b, 0, sizeof(b));
		root = call(m, &r, 0, e);
		req_free(&r);
		if (root == NULL) {
			for (i = 0; i < at; i++) {
				mw_rev_free(&rv[i]);
				free(titles[i]);
				titles[i] = NULL;
			}
			return -1;
		}
		json_array_foreach(jget(root, "query", "pages", NULL), x, page)
			json_array_foreach(json_object_get(page, "revisions"),
			    y, j) {
				id = jlong(j, "revid");
				for (i = at; i < at + k; i++)
					if (revids[i] == id && rv[i].revid == 0) {
						rev_parse(j, &rv[i]);
						titles[i] = jdup(page, "title");
					}
			}
		json_decref(root);
	}
	return 0;
}

/* The revision after revid on its page (0: revid is the latest). */
int
mw_next(struct mw *m, long revid, long *next, char **title, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *c;

	req_set(&r, "action", "compare");
	req_setl(&r, "fromrev", revid);
	req_set(&r, "torelative", "next");
	req_set(&r, "prop", "ids|title");
	root = call(m, &r, 0, e);
	req_free(&r);
	if (root == NULL)
		return -1;
	if ((c = json_object_get(root, "compare")) == NULL) {
		json_decref(root);
		return fail(e, 0, EX_PROTOCOL, "no compare in the reply");
	}
	*next = jlong(c, "torevid");
	if (title != NULL)
		*title = jdup(c, "fromtitle");
	json_decref(root);
	return 0;
}

/* What the wiki calls title: its normalized form, if the reply has one. */
const char *
normalized(json_t *root, const char *title)
{
	json_t *n;
	size_t i;

	json_array_foreach(jget(root, "query", "normalized", NULL), i, n)
		if (jstr(n, "from") != NULL && strcmp(jstr(n, "from"), title) == 0 &&
		    jstr(n, "to") != NULL)
			return jstr(n, "to");
	return title;
}

void
page_fill(struct mwpage *p, json_t *j)
{
	json_t *cats, *c, *rev;
	const char *ct, *colon;
	size_t i;

	if (p->title == NULL) {
		p->title = jdup(j, "title");
		p->ns = (int)jlong(j, "ns");
		p->pageid = jlong(j, "pageid");
		p->missing = jbool(j, "missing");
		p->invalid = jbool(j, "invalid");
		/* "" when seen, a time when unseen, absent when unwatched */
		p->watched = jstr(j, "notificationtimestamp") != NULL;
		p->unseen = p->watched &&
		    *jstr(j, "notificationtimestamp") != '\0';
	}
	if (json_object_get(j, "lastrevid") != NULL) {
		p->lastrevid = jlong(j, "lastrevid");
		p->length = jlong(j, "length");
		p->redirect = jbool(j, "redirect");
		jcpy(p->touched, sizeof(p->touched), j, "touched");
	}
	cats = json_object_get(j, "categories");
	json_array_foreach(cats, i, c) {
		if ((ct = jstr(c, "title")) == NULL)
			continue;
		colon = strchr(ct, ':');
		p->cats = xreallocarray(p->cats, p->ncats + 1, sizeof(*p->cats));
		p->cats[p->ncats++] = xstrdup(colon ? colon + 1 : ct);
	}
	rev = json_array_get(json_object_get(j, "revisions"), 0);
	if (rev != NULL && p->rev.revid == 0)
		rev_parse(rev, &p->rev);
}

static int
pages_query(struct mw *m, const char **titles, size_t n, int content,
    struct mwpage *pages, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *j;
	char *names[MW_MAXTITLES];
	const char *t;
	size_t i, k, b, jn;
	int more;

	memset(pages, 0, n * sizeof(*pages));
	for (b = 0; b < n; b += k) {
		k = n - b < MW_MAXTITLES ? n - b : MW_MAXTITLES;
		memset(names, 0, sizeof(names));
		req_set(&r, "action", "query");
		req_titles(&r, "titles", titles + b, k);
		req_set(&r, "cllimit", "max");
		req_set(&r, "curtimestamp", "1");
		/* whether the sync user has seen it: see mw_seen */
		req_set(&r, "inprop", "notificationtimestamp");
		if (content) {
			req_set(&r, "prop", "info|categories|revisions");
			req_set(&r, "rvprop", content > 1 ? RVLIGHT : RVPROP);
			req_set(&r, "rvslots", "main");
		} else
			req_set(&r, "prop", "info|categories");
		for (more = 1; more;) {
			if ((root = call(m, &r, 0, e)) == NULL)
				break;
			for (i = 0; i < k; i++)
				if (names[i] == NULL)
					names[i] = xstrdup(normalized(root,
					    titles[b + i]));
			json_array_foreach(jget(root, "query", "pages", NULL),
			    jn, j) {
				if ((t = jstr(j, "title")) == NULL)
					continue;
				for (i = 0; i < k; i++)
					/* one title asked, one page: ours,
					   however the wiki normalized it (NFC
					   before the API sees it, say) */
					if (strcmp(names[i], t) == 0 ||
					    (k == 1 && json_array_size(jget(root,
					    "query", "pages", NULL)) == 1)) {
						page_fill(&pages[b + i], j);
						strlcpy(pages[b + i].now,
						    jstr(root, "curtimestamp") ?
						    jstr(root, "curtimestamp") :
						    "", sizeof(pages[0].now));
					}
			}
			more = next_batch(root, &r, e);
			json_decref(root);
			if (more == -1) {
				root = NULL;
				break;
			}
		}
		for (i = 0; i < k; i++)
			free(names[i]);
		req_free(&r);
		if (root == NULL) {
			mw_pages_free(pages, n);
			return -1;
		}
	}
	for (i = 0; i < n; i++)
		if (pages[i].title == NULL) {
			pages[i].title = xstrdup(titles[i]);
			pages[i].invalid = 1;
		}
	return 0;
}

/* Info and categories of n titles, 50 a request; pages[i] is titles[i]. */
int
mw_info(struct mw *m, const char **titles, size_t n, struct mwpage *pages,
    struct mwerr *e)
{
	return pages_query(m, titles, n, 0, pages, e);
}

/* The same, and each page's current revision with its text. */
int
mw_current(struct mw *m, const char **titles, size_t n, struct mwpage *pages,
    struct mwerr *e)
{
	return pages_query(m, titles, n, 1, pages, e);
}

/* The same, the current revision without its text. */
int
mw_tops(struct mw *m, const char **titles, size_t n, struct mwpage *pages,
    struct mwerr *e)
{
	return pages_query(m, titles, n, 2, pages, e);
}

void
mw_pages_free(struct mwpage *pages, size_t n)
{
	size_t i;

	if (pages == NULL)
		return;
	for (i = 0; i < n; i++) {
		free(pages[i].title);
		strings_free(pages[i].cats, pages[i].ncats);
		mw_rev_free(&pages[i].rev);
	}
	memset(pages, 0, n * sizeof(*pages));
}
