/*
 * mwwrite.c: changing a wiki (an edit, marking seen, watching, a
 * deletion, a restore, a move) and reading its logs and lists (a
 * page's newest log entry, its moves, a category's members, recent
 * changes).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>

#include "wikisync.h"
#include "mw.h"
#include "mwint.h"

static int
conflict_code(const char *c)
{
	return strcmp(c, "editconflict") == 0 ||
	    strcmp(c, "articleexists") == 0 ||
	    strcmp(c, "missingtitle") == 0 ||
	    strcmp(c, "pagedeleted") == 0;
}

/*
 * Save a text.  An edit conflict (or, with createonly or nocreate, a page
 * that appeared or went) is a result, not an error.
 */
int
mw_edit(struct mw *m, const struct mwedit *ed, struct mwsaved *s,
    struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *j;
	const char *result;

	memset(s, 0, sizeof(*s));
	req_set(&r, "action", "edit");
	req_set(&r, "title", ed->title);
	req_set(&r, "summary", ed->summary ? ed->summary : "");
	req_set(&r, ed->flags & MW_MINOR ? "minor" : "notminor", "1");
	if (ed->flags & MW_BOT)
		req_set(&r, "bot", "1");
	if (ed->flags & MW_CREATEONLY)
		req_set(&r, "createonly", "1");
	if (ed->flags & MW_NOCREATE)
		req_set(&r, "nocreate", "1");
	if (ed->baserevid > 0)
		req_setl(&r, "baserevid", ed->baserevid);
	if (ed->basetimestamp != NULL)
		req_set(&r, "basetimestamp", ed->basetimestamp);
	req_setn(&r, "text", ed->text, ed->len);
	root = call(m, &r, C_CSRF, e);
	req_free(&r);
	if (root == NULL) {
		if (!conflict_code(e->api))
			return -1;
		s->result = MW_CONFLICT;
		strlcpy(s->why, e->api, sizeof(s->why));
		return 0;
	}
	j = json_object_get(root, "edit");
	result = jstr(j, "result");
	if (result == NULL || strcmp(result, "Success") != 0) {
		fail(e, 0, EX_DATAERR, "edit refused: %s",
		    result ? result : "no result in the reply");
		json_decref(root);
		return -1;
	}
	s->pageid = jlong(j, "pageid");
	if (jbool(j, "nochange"))
		s->result = MW_NOCHANGE;
	else {
		s->result = MW_SAVED;
		s->revid = jlong(j, "newrevid");
		s->oldrevid = jlong(j, "oldrevid");
		jcpy(s->timestamp, sizeof(s->timestamp), j, "newtimestamp");
	}
	json_decref(root);
	return 0;
}

/*
 * Base an edit on the page as read: its revision, and never create it
 * (a page moved or deleted meanwhile conflicts, rather than come back at
 * its old title); or, for a page that was missing, create only, so a
 * page made meanwhile conflicts.
 */
void
mw_edit_on(struct mwedit *ed, const struct mwpage *pg)
{
	/*
	 * The revision, never the timestamp: given basetimestamp, MediaWiki
	 * (EditPage, 1.39) lets an edit through when only its own user saved
	 * after that timestamp, counting revisions of the same second as
	 * none, and so overwrites an edit made in that second unseen.  Given
	 * only baserevid it merges with, or refuses, any other revision.
	 */
	ed->basetimestamp = NULL;
	if (pg->missing) {
		ed->flags = (ed->flags & ~MW_NOCREATE) | MW_CREATEONLY;
		ed->baserevid = 0;
	} else {
		ed->flags = (ed->flags & ~MW_CREATEONLY) | MW_NOCREATE;
		ed->baserevid = pg->rev.revid;
	}
}

/* The sync user has seen the pages: their next change mails again. */
int
mw_seen(struct mw *m, const char **titles, size_t n, struct mwerr *e)
{
	struct req r = { 0 };
	size_t b, k;

	for (b = 0; b < n; b += k) {
		k = n - b < MW_MAXTITLES ? n - b : MW_MAXTITLES;
		req_set(&r, "action", "setnotificationtimestamp");
		req_titles(&r, "titles", titles + b, k);
		if (write_call(m, &r, "setnotificationtimestamp", e) == -1)
			return -1;
	}
	return 0;
}

int
mw_watch(struct mw *m, const char **titles, size_t n, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root;
	size_t b, k;
	int ok;

	for (b = 0; b < n; b += k) {
		k = n - b < MW_MAXTITLES ? n - b : MW_MAXTITLES;
		req_set(&r, "action", "watch");
		req_titles(&r, "titles", titles + b, k);
		root = call(m, &r, C_WATCH, e);
		req_free(&r);
		if (root == NULL)
			return -1;
		ok = json_is_array(json_object_get(root, "watch"));
		json_decref(root);
		if (!ok)
			return fail(e, 0, EX_PROTOCOL, "no watch in the reply");
	}
	return 0;
}

/*
 * A right the wiki refused: the message says which the sync account needs
 * (its group's right, and the bot password grant that carries it).
 */
int
refused(struct mwerr *e, const char *what, const char *right,
    const char *grant)
{
	char was[MW_ERRLEN];

	if (e->code != EX_NOPERM)
		return -1;
	strlcpy(was, e->msg, sizeof(was));
	return fail(e, 0, EX_NOPERM, "%s refused: the sync account needs the "
	    "%s right and the bot password grant \"%s\" (%s)", what,
	    right, grant, was);
}

/* Delete a page, with a reason; a page already gone is deleted. */
int
mw_delete(struct mw *m, const char *title, const char *reason,
    struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root;
	int ok;

	req_set(&r, "action", "delete");
	req_set(&r, "title", title);
	req_set(&r, "reason", reason);
	root = call(m, &r, C_CSRF, e);
	req_free(&r);
	if (root == NULL) {
		if (strcmp(e->api, "missingtitle") == 0)
			return 0;
		return refused(e, "delete", "delete", "delete");
	}
	ok = json_is_object(json_object_get(root, "delete"));
	json_decref(root);
	if (!ok)
		return fail(e, 0, EX_PROTOCOL, "no delete in the reply");
	return 0;
}

/* Restore every deleted revision of a page; *n: how many came back. */
int
mw_undelete(struct mw *m, const char *title, const char *reason, long *n,
    struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *u;

	*n = 0;
	req_set(&r, "action", "undelete");
	req_set(&r, "title", title);
	req_set(&r, "reason", reason);
	root = call(m, &r, C_CSRF, e);
	req_free(&r);
	if (root == NULL)
		return refused(e, "undelete", "undelete", "delete");
	if ((u = json_object_get(root, "undelete")) == NULL) {
		json_decref(root);
		return fail(e, 0, EX_PROTOCOL, "no undelete in the reply");
	}
	*n = jlong(u, "revisions");
	json_decref(root);
	return 0;
}

/*
 * Move a page, its talk page with it, leaving a redirect unless noredir;
 * a page already at `to` is refused, never overwritten (EX_DATAERR, API
 * code articleexists).
 */
int
mw_move(struct mw *m, struct mwmove *mv, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *o;
	const char *was;
	char id[32];

	req_set(&r, "action", "move");
	if (mv->pageid > 0) {
		snprintf(id, sizeof(id), "%ld", mv->pageid);
		req_set(&r, "fromid", id);
	} else
		req_set(&r, "from", mv->from);
	req_set(&r, "to", mv->to);
	req_set(&r, "reason", mv->reason);
	req_set(&r, "movetalk", "1");
	if (mv->noredir)
		req_set(&r, "noredirect", "1");
	root = call(m, &r, C_CSRF, e);
	req_free(&r);
	if (root == NULL) {
		if (e->code == EX_NOPERM)
			return refused(e, "move", mv->noredir ? "move and "
			    "suppressredirect" : "move", "createeditmovepage");
		return -1;
	}
	if (!json_is_object(o = json_object_get(root, "move"))) {
		json_decref(root);
		return fail(e, 0, EX_PROTOCOL, "no move in the reply");
	}
	was = jstr(o, "from");
	strlcpy(mv->was, was != NULL ? was : mv->from, sizeof(mv->was));
	json_decref(root);
	return 0;
}

/* The newest deleted revision of a page: its id (0: none) and sha1. */
int
mw_deleted_newest(struct mw *m, const char *title, long *revid,
    char sha1[41], struct mwerr *e)
{
	json_t *rv;
	struct req r = { 0 };
	json_t *root, *page;

	*revid = 0;
	req_set(&r, "action", "query");
	req_set(&r, "prop", "deletedrevisions");
	req_titles(&r, "titles", &title, 1);
	req_set(&r, "drvprop", "ids|sha1");
	req_set(&r, "drvlimit", "1");
	root = call(m, &r, 0, e);
	req_free(&r);
	if (root == NULL)
		return refused(e, "reading deleted revisions",
		    "deletedhistory", "delete");
	page = json_array_get(jget(root, "query", "pages", NULL), 0);
	rv = json_array_get(json_object_get(page, "deletedrevisions"), 0);
	*revid = jlong(rv, "revid");
	jcpy(sha1, 41, rv, "sha1");
	json_decref(root);
	return 0;
}

/*
 * The newest entry of one log type for a page: its action, who and why
 * (malloc'd; each "" when hidden or when there is none); of a move, where
 * to and whether it left a redirect.
 */
int
mw_log_last(struct mw *m, const char *title, const char *type,
    struct mwlog *l, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *j;
	const char *v;

	memset(l, 0, sizeof(*l));
	req_set(&r, "action", "query");
	req_set(&r, "list", "logevents");
	req_set(&r, "letype", type);
	req_set(&r, "letitle", title);
	req_set(&r, "leprop", "ids|user|comment|type|details");
	req_set(&r, "lelimit", "1");
	root = call(m, &r, 0, e);
	req_free(&r);
	if (root == NULL)
		return -1;
	j = json_array_get(jget(root, "query", "logevents", NULL), 0);
	l->user = xstrdup((v = jstr(j, "user")) ? v : "");
	l->comment = xstrdup((v = jstr(j, "comment")) ? v : "");
	jcpy(l->action, sizeof(l->action), j, "action");
	l->target = xstrdup((v = jstr(jget(j, "params", NULL),
	    "target_title")) ? v : "");
	l->noredir = jbool(jget(j, "params", NULL), "suppressredirect");
	l->page = jlong(j, "logpage");
	json_decref(root);
	return 0;
}

/*
 * The titles the page pageid had before `title`, newest first, as the
 * wiki's recent moves (its newest 50) tell: from[0] the one it was moved
 * from to `title`, from[1] the one before, and so on, max at most.  Their
 * number, or (size_t)-1 (e set).
 */
size_t
mw_moved_from(struct mw *m, const char *title, long pageid,
    char (*from)[512], size_t max, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *v, *j;
	const char *t, *at = title;
	size_t i, n = 0;

	req_set(&r, "action", "query");
	req_set(&r, "list", "logevents");
	req_set(&r, "letype", "move");
	req_set(&r, "leprop", "title|ids|details");
	req_set(&r, "lelimit", "50");
	root = call(m, &r, 0, e);
	req_free(&r);
	if (root == NULL)
		return (size_t)-1;
	v = jget(root, "query", "logevents", NULL);
	for (i = 0; n < max && i < json_array_size(v); i++) {
		j = json_array_get(v, i);
		t = jstr(jget(j, "params", NULL), "target_title");
		if (jlong(j, "logpage") != pageid || t == NULL ||
		    strcmp(t, at) != 0 || jstr(j, "title") == NULL)
			continue;
		strlcpy(from[n], jstr(j, "title"), sizeof(from[n]));
		at = from[n++];
	}
	json_decref(root);
	return n;
}

void
mw_log_free(struct mwlog *l)
{
	free(l->user);
	free(l->comment);
	free(l->target);
	memset(l, 0, sizeof(*l));
}

struct titles { struct mwtitle *v; size_t n, cap; };

static void
add_title(json_t *j, void *arg)
{
	struct titles *t = arg;

	t->v = grow(t->v, t->n, &t->cap, sizeof(*t->v));
	t->v[t->n].title = jdup(j, "title");
	t->v[t->n].pageid = jlong(j, "pageid");
	t->v[t->n++].ns = (int)jlong(j, "ns");
}

static void
drop_titles(void *arg)
{
	struct titles *x = arg;

	mw_titles_free(x->v, x->n);
	memset(x, 0, sizeof(*x));
}

/* The members of a category, given with or without "Category:". */
int
mw_members(struct mw *m, const char *cat, struct mwtitle **v, size_t *n,
    struct mwerr *e)
{
	struct req r = { 0 };
	struct titles t = { 0 };
	char *full;
	int rc;

	if (strncasecmp(cat, "Category:", 9) == 0)
		cat += 9;
	full = xasprintf("Category:%s", cat);
	req_set(&r, "action", "query");
	req_set(&r, "list", "categorymembers");
	req_set(&r, "cmtitle", full);
	req_set(&r, "cmprop", "ids|title");
	req_set(&r, "cmlimit", "max");
	free(full);
	rc = list_all(m, &r, "categorymembers", add_title, drop_titles, &t, e);
	*v = t.v;
	*n = t.n;
	return rc;
}

void
mw_titles_free(struct mwtitle *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i].title);
	free(v);
}

struct changes { struct mwchange *v; size_t n, cap; };

static void
add_change(json_t *j, void *arg)
{
	struct changes *cs = arg;
	struct mwchange *c;
	const char *lt = jstr(j, "logtype");

	/* of the log, only deletions, restores and moves */
	if (strcmp(jstr(j, "type") ? jstr(j, "type") : "", "log") == 0 &&
	    (lt == NULL || (strcmp(lt, "delete") != 0 &&
	    strcmp(lt, "move") != 0) || jstr(j, "title") == NULL))
		return;
	cs->v = grow(cs->v, cs->n, &cs->cap, sizeof(*cs->v));
	c = &cs->v[cs->n++];
	memset(c, 0, sizeof(*c));
	c->title = jdup(j, "title");
	c->user = jdup(j, "user");
	jcpy(c->type, sizeof(c->type), j, "type");
	jcpy(c->logaction, sizeof(c->logaction), j, "logaction");
	jcpy(c->timestamp, sizeof(c->timestamp), j, "timestamp");
	jcpy(c->sha1, sizeof(c->sha1), j, "sha1");
	c->pageid = jlong(j, "pageid");
	c->revid = jlong(j, "revid");
	c->oldrevid = jlong(j, "old_revid");
	c->oldlen = jlong(j, "oldlen");
	c->newlen = jlong(j, "newlen");
	c->ns = (int)jlong(j, "ns");
	c->minor = jbool(j, "minor");
	c->bot = jbool(j, "bot");
}

static void
drop_changes(void *arg)
{
	struct changes *x = arg;

	mw_changes_free(x->v, x->n);
	memset(x, 0, sizeof(*x));
}

/*
 * Edits and page creations at or after since (a MediaWiki timestamp),
 * oldest first, bot edits included; with MW_CH_NOTSELF, none of the sync
 * user's; with MW_CH_DELETIONS, deletions, restores and moves too (type
 * "log", logaction "delete", "restore", "move" or "move_redir", no
 * revision; a move under the title moved from).
 */
int
mw_changes(struct mw *m, const char *since, int flags, struct mwchange **v,
    size_t *n, struct mwerr *e)
{
	struct req r = { 0 };
	struct changes c = { 0 };
	int rc;

	req_set(&r, "action", "query");
	req_set(&r, "list", "recentchanges");
	req_set(&r, "rcstart", since);
	req_set(&r, "rcdir", "newer");
	req_set(&r, "rcprop", "title|ids|sizes|flags|user|timestamp|sha1"
	    "|loginfo");
	req_set(&r, "rctype", (flags & MW_CH_DELETIONS) ? "edit|new|log" :
	    "edit|new");
	req_set(&r, "rclimit", "max");
	if (flags & MW_CH_NOTSELF)
		req_set(&r, "rcexcludeuser", m->user);
	rc = list_all(m, &r, "recentchanges", add_change, drop_changes, &c, e);
	*v = c.v;
	*n = c.n;
	return rc;
}

void
mw_changes_free(struct mwchange *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].title);
		free(v[i].user);
	}
	free(v);
}
