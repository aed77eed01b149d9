/*
 * strset.h: a set of strings, for "seen that already" in one run.
 *
 * Open addressing, FNV-1a, the table at most half full and a power of
 * two in size.  Invariants: every string in it is a copy of its own, and
 * none is in it twice.  A zeroed struct strset is an empty set.
 */
#ifndef STRSET_H
#define STRSET_H

#include <stddef.h>

struct strset {
	char		**v;
	size_t		 cap;
	size_t		 n;
};

int	 strset_add(struct strset *, const char *);
int	 strset_has(const struct strset *, const char *);
void	 strset_free(struct strset *);

#endif
