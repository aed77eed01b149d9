/*
 * strset.c: a set of strings (see strset.h).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wikisync.h"
#include "strset.h"

static uint64_t
fnv1a(const char *s)
{
	uint64_t h = 14695981039346656037ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static size_t
slot(const struct strset *s, const char *k)
{
	size_t i;

	for (i = fnv1a(k) & (s->cap - 1); s->v[i] != NULL &&
	    strcmp(s->v[i], k) != 0; i = (i + 1) & (s->cap - 1))
		;
	return i;
}

static void
grow(struct strset *s)
{
	char **old = s->v;
	size_t i, oc = s->cap;

	s->cap = oc ? 2 * oc : 256;
	s->v = xcalloc(s->cap, sizeof(*s->v));
	for (i = 0; i < oc; i++)
		if (old[i] != NULL)
			s->v[slot(s, old[i])] = old[i];
	free(old);
}

/* Adds a copy of k: 1, or 0 if k was there already. */
int
strset_add(struct strset *s, const char *k)
{
	size_t i;

	if (2 * (s->n + 1) > s->cap)
		grow(s);
	i = slot(s, k);
	if (s->v[i] != NULL)
		return 0;
	s->v[i] = xstrdup(k);
	s->n++;
	return 1;
}

/* Is k in the set? */
int
strset_has(const struct strset *s, const char *k)
{
	return s->cap > 0 && s->v[slot(s, k)] != NULL;
}

void
strset_free(struct strset *s)
{
	size_t i;

	for (i = 0; i < s->cap; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}
