/*
 * mwtrust.c: whether a page's text may be trusted: every revision since
 * the text last in force by a user of a trusted group (the groups page).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "wikisync.h"
#include "mw.h"
#include "mwint.h"

static int
in_list(const char *s, const char *const *v, size_t n)
{
	while (n-- > 0)
		if (strcmp(v[n], s) == 0)
			return 1;
	return 0;
}

/*
 * The revisions a trust check reads at most, newest first: past them the
 * page is refused, as too much changed to be read for trust.
 */
#define TRUST_REVS	500

struct trustrev {
	long	 revid;
	char	 user[256];		/* "" when hidden */
	int	 ok;			/* its user is in a trusted group */
};

/* Mark each revision whose user is in a group of trust. */
static int
trust_users(struct mw *m, struct trustrev *v, size_t n,
    const char *const *trust, size_t ntrust, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *u;
	char **groups, names[8192];
	const char *name;
	size_t i, k, x, ng, done = 0, len;

	while (done < n) {
		/* up to 50 names a request, each once */
		*names = '\0';
		for (i = done, k = 0; i < n && k < 50; i++, done++) {
			for (x = 0; x < i && strcmp(v[x].user, v[i].user); x++)
				;
			if (*v[i].user == '\0' || x < i)
				continue;
			len = strlen(names);
			if (len + strlen(v[i].user) + 2 >= sizeof(names))
				break;
			snprintf(names + len, sizeof(names) - len, "%s%s",
			    k++ ? "|" : "", v[i].user);
		}
		if (k == 0)
			continue;
		req_set(&r, "action", "query");
		req_set(&r, "list", "users");
		req_set(&r, "ususers", names);
		req_set(&r, "usprop", "groups");
		root = call(m, &r, 0, e);
		req_free(&r);
		if (root == NULL)
			return -1;
		json_array_foreach(jget(root, "query", "users", NULL), i, u) {
			if ((name = jstr(u, "name")) == NULL)
				continue;
			groups = jstrings(jget(u, "groups", NULL), &ng);
			for (x = 0; x < n; x++)
				if (strcmp(v[x].user, name) == 0)
					for (k = 0; k < ng && !v[x].ok; k++)
						v[x].ok = in_list(groups[k],
						    trust, ntrust);
			strings_free(groups, ng);
		}
		json_decref(root);
	}
	return 0;
}

/*
 * May revision revid of title, its newest, be trusted?  It may when every
 * revision since the text known (hex sha1 of the text in force; NULL:
 * since the page was made) was made by a user in a group of trust, or
 * when the page is protected so that only those can edit it and the
 * sync account cannot (an edit protection at one of their levels, the
 * wiki saying the account may not edit it): then whoever saved it could.
 * The sync account's own revisions are never trusted, protected or not:
 * what it writes came from other wikis, whose editors are not the ones
 * trust names.  So a trusted user's later edit does not make an
 * untrusted one trusted; a trusted user's revert to the text known does.  1 trusted, 0 not (why
 * says so, naming the newest revision at fault), MW_MOVED when the page
 * has another newest revision now (read it again), -1 on error.
 */
int
mw_trusted(struct mw *m, const char *title, long revid,
    const char *const *trust, size_t ntrust, const char *known, char *why,
    size_t len, struct mwerr *e)
{
	struct req r = { 0 };
	struct trustrev *v;
	json_t *root, *pg, *p, *rv;
	const char *type, *level, *user, *sha1;
	char me[256] = "";
	size_t i, n = 0, bad;
	int more = 1, protect = 0, canedit = 1, found = 0, ok;

	v = xcalloc(TRUST_REVS, sizeof(*v));
	req_set(&r, "action", "query");
	req_set(&r, "titles", title);
	req_set(&r, "prop", "info|revisions");
	req_set(&r, "inprop", "protection");
	req_set(&r, "intestactions", "edit");
	req_set(&r, "meta", "userinfo");
	req_set(&r, "rvprop", "ids|user|sha1");
	req_set(&r, "rvlimit", "50");
	while (more && !found && n < TRUST_REVS) {
		if ((root = call(m, &r, 0, e)) == NULL) {
			req_free(&r);
			free(v);
			return -1;
		}
		pg = json_array_get(jget(root, "query", "pages", NULL), 0);
		if (n == 0) {
			rv = json_array_get(jget(pg, "revisions", NULL), 0);
			if (jlong(rv, "revid") != revid) {
				json_decref(root);
				req_free(&r);
				free(v);
				return MW_MOVED;
			}
			json_array_foreach(jget(pg, "protection", NULL), i, p) {
				type = jstr(p, "type");
				level = jstr(p, "level");
				if (type != NULL && level != NULL &&
				    strcmp(type, "edit") == 0 &&
				    in_list(level, trust, ntrust))
					protect = 1;
			}
			canedit = jbool(jget(pg, "actions", NULL), "edit");
			if ((user = jstr(jget(root, "query", "userinfo", NULL),
			    "name")) != NULL)
				strlcpy(me, user, sizeof(me));
		}
		json_array_foreach(jget(pg, "revisions", NULL), i, rv) {
			sha1 = jstr(rv, "sha1");
			if (known != NULL && sha1 != NULL &&
			    strcmp(sha1, known) == 0) {
				found = 1;
				break;
			}
			if (n == TRUST_REVS)
				break;
			v[n].revid = jlong(rv, "revid");
			if ((user = jstr(rv, "user")) != NULL &&
			    !jbool(rv, "userhidden"))
				strlcpy(v[n].user, user, sizeof(v[n].user));
			n++;
		}
		more = next_batch(root, &r, e);
		json_decref(root);
		if (more == -1) {
			req_free(&r);
			free(v);
			return -1;
		}
	}
	req_free(&r);
	if (!found && more) {
		snprintf(why, len, "more than %d revisions since the groups "
		    "in force: load a reviewed copy with ws-groups -f",
		    TRUST_REVS);
		free(v);
		return 0;
	}
	/* protected from all but them, the sync account too: their edit */
	if (protect && !canedit)
		for (i = 0; i < n; i++)
			v[i].ok = 1;
	else if (trust_users(m, v, n, trust, ntrust, e) == -1) {
		free(v);
		return -1;
	}
	/* the newest revision at fault */
	for (bad = 0; bad < n; bad++)
		if (strcmp(v[bad].user, me) == 0 || !v[bad].ok ||
		    *v[bad].user == '\0')
			break;
	ok = bad == n;
	if (ok)
		;
	else if (*v[bad].user == '\0')
		snprintf(why, len, "r%ld: its user is hidden", v[bad].revid);
	else if (strcmp(v[bad].user, me) == 0)
		snprintf(why, len, "r%ld by %s, the sync account, whose "
		    "edits are never trusted", v[bad].revid, me);
	else
		snprintf(why, len, "r%ld by %s, who is in no group of "
		    "groups-trust%s", v[bad].revid, v[bad].user, bad == 0 ?
		    "" : " (a later edit does not make it trusted; a "
		    "trusted user's revert to the groups in force does)");
	free(v);
	return ok;
}
