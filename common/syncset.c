/*
 * syncset.c: which wikis sync a page (sync.h).
 *
 * A page is synced by every group of the wiki it is read on that lists
 * its title, or one of its categories there; the wikis of all of them
 * take part.  ws-push and ws-scan ask here, and nowhere else.
 */
#include <string.h>

#include "sync.h"

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

