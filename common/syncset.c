/*
 * syncset.c: which wikis sync a page (sync.h).
 *
 * A page is synced by every group of the wiki it is read on that lists
 * its title, or one of its categories there, and by every group of this
 * host's that lists them and shares a wiki with those (overlapping
 * groups); the wikis of all of them take part.  ws-push and ws-scan ask
 * here, and nowhere else.
 *
 * A group whose peerd names another host is that host's: it is only
 * described here, so that a page both hosts' groups match is synced by
 * one of them.  That one is the owner whose address sorts first (bytes,
 * case folded), a rule both hosts reach alone when each describes the
 * other's groups.  The config refuses the overlaps it can show
 * (conf_check_owners); this settles those only a page's categories show.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sync.h"

static const char *recipient;	/* the job's mail went to this host here */

/* This host is also the address the job's mail was sent to. */
void
syncset_recipient(const char *to)
{
	recipient = to;
}

/* Is g this host's to sync? */
int
group_ours(const struct conf *c, const struct group *g)
{
	if (g->peerd == NULL)
		return 1;
	if (c->peerd != NULL && strcasecmp(g->peerd, c->peerd) == 0)
		return 1;
	return recipient != NULL && strcasecmp(g->peerd, recipient) == 0;
}

static int
listed(char *const *v, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return 1;
	return 0;
}

/* Does g sync title, by name or by one of the categories cats? */
static int
group_matches(const struct group *g, const char *title, char *const *cats,
    size_t ncats)
{
	size_t k;

	if (listed(g->pages, g->npages, title))
		return 1;
	for (k = 0; k < ncats; k++)
		if (listed(g->categories, g->ncategories, cats[k]))
			return 1;
	return 0;
}

/* Does g sync title, as wiki has it in categories cats? */
int
group_syncs(const struct group *g, const char *wiki, const char *title,
    char *const *cats, size_t ncats)
{
	return listed(g->wikis, g->nwikis, wiki) &&
	    group_matches(g, title, cats, ncats);
}

/* Does g list a wiki of set? */
static int
group_meets(const struct group *g, const struct syncset *set)
{
	size_t k;

	for (k = 0; k < set->n; k++)
		if (listed(g->wikis, g->nwikis, set->wikis[k]->name))
			return 1;
	return 0;
}

/*
 * The set of the page title that wiki has in categories cats: the wikis
 * of every group of ours that syncs it there, and of every group of ours
 * that syncs it and lists a wiki already in the set, until none is added.
 * With overlapping groups (docs = a, b; shared = b, c; the page in both
 * categories) a's edit reaches c too: b, which both groups keep level,
 * holds it, and only a job that reads c with b can bring c level with
 * b (a sync edit mails nobody).  So every job of the page has the same
 * set, and the settings of the first group of it in the config (first).
 * Another host's group that syncs the page on wiki itself makes the
 * owner rule decide, as before the closure; one that only the closure
 * meets does not, or the edits of a wiki that host does not sync would
 * be left by both hosts.
 * 0 when another host syncs it (owner) or nobody does.
 */
size_t
syncset_of(const struct conf *c, const char *wiki, const char *title,
    char *const *cats, size_t ncats, struct syncset *set)
{
	const struct group *g;
	const char *mine = NULL, *theirs = NULL, *o;
	const struct wiki *w;
	unsigned char *in;
	size_t i, j, k;
	int grew;

	memset(set, 0, sizeof(*set));
	if (conf_reserved(c, title) != NULL || c->ngroups == 0)
		return 0;
	in = xcalloc(c->ngroups, 1);
	do {
		grew = 0;
		for (i = 0; i < c->ngroups; i++) {
			g = &c->groups[i];
			if (in[i] || !group_matches(g, title, cats, ncats))
				continue;
			/* another host's group counts only where it lists
			 * wiki: the closure is over this host's own groups */
			if (!listed(g->wikis, g->nwikis, wiki) &&
			    (!group_ours(c, g) || !group_meets(g, set)))
				continue;
			in[i] = 1;
			o = group_owner(c, g);
			if (!group_ours(c, g)) {
				if (theirs == NULL || strcasecmp(o, theirs) < 0)
					theirs = o;
				continue;
			}
			if (mine == NULL || strcasecmp(o, mine) < 0)
				mine = o;
			if (set->first == NULL || g < set->first)
				set->first = g;
			for (j = 0; j < g->nwikis && set->n < SYNC_WIKIS; j++) {
				for (k = 0; k < set->n; k++)
					if (strcmp(set->wikis[k]->name,
					    g->wikis[j]) == 0)
						break;
				if (k == set->n &&
				    (w = conf_wiki(c, g->wikis[j])) != NULL) {
					set->wikis[set->n++] = w;
					grew = 1;
				}
			}
		}
	} while (grew);
	free(in);
	if (theirs != NULL && (mine == NULL || strcasecmp(theirs, mine) < 0)) {
		memset(set, 0, sizeof(*set));
		set->owner = theirs;
	}
	return set->n;
}

/*
 * Could a job of wiki's sync no wiki outside set, whatever the page's
 * title and categories there?  Every group of ours listing wiki has its
 * wikis in set.  A job folded into another is removed, so one that might
 * reach a wiki the other does not (overlapping groups: the page's set on
 * wiki is wider) must run on its own.
 */
int
syncset_within(const struct conf *c, const char *wiki,
    const struct syncset *set)
{
	const struct group *g;
	size_t i, j, k;

	for (i = 0; i < c->ngroups; i++) {
		g = &c->groups[i];
		if (!listed(g->wikis, g->nwikis, wiki) || !group_ours(c, g))
			continue;
		for (j = 0; j < g->nwikis; j++) {
			for (k = 0; k < set->n; k++)
				if (strcmp(set->wikis[k]->name, g->wikis[j]) == 0)
					break;
			if (k == set->n)
				return 0;
		}
	}
	return 1;
}
