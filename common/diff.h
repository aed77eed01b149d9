/*
 * diff.h: the diff and three-way merge that ws-merge(1) is made of.
 *
 * Texts are byte strings with a length (NUL bytes are text like any
 * other).  A merge is made at line level first; a region where both
 * sides changed the same lines differently is merged again at word
 * level, and only if that conflicts too is it a conflict, which keeps
 * both sides' whole text of the region.  Invariants: every byte of the
 * output comes from one of the inputs or from a conflict block's frame;
 * a region neither side changed is base, a region one side changed is
 * that side; the same inputs and options give the same bytes.
 */
#ifndef DIFF_H
#define DIFF_H

#include <stddef.h>

struct text {
	const char	*p;
	size_t		 len;
};

/* A growing output buffer; p may be NULL while len is 0. */
struct buf {
	char		*p;
	size_t		 len;
	size_t		 cap;
};

/* Base bytes [a0, a1) became side bytes [b0, b1). */
struct hunk {
	size_t		 a0, a1;
	size_t		 b0, b1;
};

enum tokens	{ TOK_LINES, TOK_WORDS };
enum style	{ STYLE_MARKERS, STYLE_WIKI };

/* The category a page with a conflict joins, in the wiki style. */
#define CONFLICT_CATEGORY	"WikiSync conflicts"

#define MERGE_WORDS_MAX	(1u << 21)	/* tokens a side: word level */
#define MERGE_LINES_MAX	(1u << 25)	/* lines a side: line level */

struct mergeopt {
	enum style	 style;
	const char	*ours;		/* labels */
	const char	*theirs;
	const char	*category;	/* STYLE_WIKI: tracking category */
	size_t		 words_max;	/* 0: MERGE_WORDS_MAX */
};

struct mergestat {
	size_t		 conflicts;	/* conflict blocks written */
	size_t		 wordclean;	/* line conflicts the word level merged */
	size_t		 toobig;	/* regions too big for the word level */
};

void	 buf_add(struct buf *, const void *, size_t);
void	 buf_str(struct buf *, const char *);
void	 buf_free(struct buf *);

size_t	 diff_text(struct text, struct text, enum tokens, size_t,
	    struct hunk **, int *);
size_t	 merge3(struct text, struct text, struct text,
	    const struct mergeopt *, struct buf *, struct mergestat *);

#endif
