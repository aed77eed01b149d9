/*
 * diff.c: two-way diff and the three-way merge built on it.
 *
 * A text is compared as a sequence of tokens: lines, or words (runs of
 * word bytes, runs of white space, single other bytes; bytes from 0x80 up
 * are word bytes, so UTF-8 letters are).  Tokens become integer ids; those
 * the other text lacks are changed outright (as xdiff does); tokens found
 * once in each text anchor the rest in their longest common order (as
 * patience diff does); between anchors Myers' O(ND) search finds the
 * middle snake in linear space, gives up on a minimal diff after sqrt(N)
 * steps and on any diff after a work budget, marking what is left as
 * changed.  Changed runs then slide to one canonical place (xdiff's
 * compaction).  Hunks come out in byte offsets on token boundaries.
 * When texts are too large to tokenize whole, what all three share at
 * the ends is cut first, then what each pair shares; past that a side is
 * one coarse hunk.  Whatever the shortcut, a diff may be less than
 * minimal, never wrong: unchanged tokens pair with equal tokens.
 *
 * merge3() lays the two diffs from base side by side.  Hunks that
 * overlap or touch form one chunk: one side's chunk is taken as it is,
 * equal changes once (and of two insertions at one place, one within the
 * other, the longer), and different changes are merged again at word
 * level; what still conflicts is written whole, both sides, in a
 * conflict block.  Everything is symmetric in the two sides except the
 * order inside a conflict block, and nothing depends on anything but the
 * input bytes and the options.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wikisync.h"
#include "diff.h"

#define COST_MIN	256		/* steps before a split may be not minimal */
#define WORK_MIN	(1 << 24)	/* steps, then all that is left differs */
#define WORK_PER_TOKEN	32

void
buf_add(struct buf *b, const void *p, size_t n)
{
	size_t cap;

	if (n == 0)
		return;
	if (b->cap - b->len < n) {
		if (n > SIZE_MAX / 2 - b->len)
			diex(EX_TEMPFAIL, "buffer too large");
		cap = b->cap ? b->cap : 4096;
		while (cap - b->len < n)
			cap *= 2;
		b->p = xreallocarray(b->p, cap, 1);
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
}

void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void
buf_free(struct buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

/* Tokens. */

enum { C_SPACE, C_WORD, C_OTHER };

static int
cclass(unsigned char c)
{
	if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	    c == '\f')
		return C_SPACE;
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80)
		return C_WORD;
	return C_OTHER;
}

static int
tok_boundary(enum tokens k, struct text t, size_t i)
{
	int a;

	if (i == 0 || i >= t.len)
		return 1;
	if (k == TOK_LINES)
		return t.p[i - 1] == '\n';
	a = cclass(t.p[i - 1]);
	return a == C_OTHER || a != cclass(t.p[i]);
}

static size_t
tok_next(enum tokens k, const char *s, size_t len, size_t i)
{
	const char *nl;
	int c;

	if (k == TOK_LINES) {
		nl = memchr(s + i, '\n', len - i);
		return nl ? (size_t)(nl - s) + 1 : len;
	}
	if ((c = cclass(s[i])) == C_OTHER)
		return i + 1;
	while (++i < len && cclass(s[i]) == c)
		;
	return i;
}

static size_t
tok_count(enum tokens k, const char *s, size_t len, size_t max)
{
	size_t i, n = 0;

	for (i = 0; i < len && n <= max; n++)
		i = tok_next(k, s, len, i);
	return n;
}

/* Equal tokens get equal ids, so the diff compares integers. */
struct intern {
	uint32_t	*slot;		/* id + 1; 0: free */
	size_t		 mask;
	const char	**tp;
	size_t		*tl;
	uint64_t	*th;
	uint32_t	 n;
	uint32_t	 cap;
};

static uint64_t
hash(const char *p, size_t n)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ n, w;

	for (; n >= 8; p += 8, n -= 8) {
		memcpy(&w, p, 8);
		h = (h ^ w) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
	}
	w = 0;
	memcpy(&w, p, n);
	h = (h ^ w) * 0xc4ceb9fe1a85ec53ULL;
	return h ^ (h >> 29);
}

static void
intern_grow(struct intern *in)
{
	size_t i, j, nslot = in->mask ? (in->mask + 1) * 2 : 1024;

	free(in->slot);
	in->slot = xcalloc(nslot, sizeof(*in->slot));
	in->mask = nslot - 1;
	for (i = 0; i < in->n; i++) {
		for (j = in->th[i] & in->mask; in->slot[j]; j = (j + 1) & in->mask)
			;
		in->slot[j] = (uint32_t)i + 1;
	}
	in->cap = (uint32_t)(nslot / 2);
	in->tp = xreallocarray(in->tp, in->cap, sizeof(*in->tp));
	in->tl = xreallocarray(in->tl, in->cap, sizeof(*in->tl));
	in->th = xreallocarray(in->th, in->cap, sizeof(*in->th));
}

static uint32_t
intern(struct intern *in, const char *p, size_t n)
{
	uint64_t h = hash(p, n);
	uint32_t id;
	size_t j;

	if (in->n >= in->cap)
		intern_grow(in);
	for (j = h & in->mask; (id = in->slot[j]) != 0; j = (j + 1) & in->mask)
		if (in->th[id - 1] == h && in->tl[id - 1] == n &&
		    memcmp(in->tp[id - 1], p, n) == 0)
			return id - 1;
	id = in->n++;
	in->slot[j] = id + 1;
	in->tp[id] = p;
	in->tl[id] = n;
	in->th[id] = h;
	return id;
}

static void
intern_free(struct intern *in)
{
	free(in->slot);
	free(in->tp);
	free(in->tl);
	free(in->th);
}

/* Token offsets (n + 1 of them) and ids of s[0, len). */
static size_t
tokenize(enum tokens k, struct intern *in, const char *s, size_t len,
    size_t n, size_t **offp, uint32_t **idp)
{
	size_t *off, i, j, t;
	uint32_t *id;

	off = xreallocarray(NULL, n + 1, sizeof(*off));
	id = xreallocarray(NULL, n ? n : 1, sizeof(*id));
	for (i = 0, t = 0; i < len; i = j, t++) {
		j = tok_next(k, s, len, i);
		off[t] = i;
		id[t] = intern(in, s + i, j - i);
	}
	off[t] = len;
	*offp = off;
	*idp = id;
	return t;
}

/*
 * Myers' diff in linear space: find the middle snake of the shortest
 * edit script from both ends, split there, recurse into the smaller half
 * and loop on the larger (so the stack stays logarithmic).  Past maxcost
 * steps the furthest-reaching diagonal is taken as the split instead.
 */
struct myers {
	const uint32_t	*x, *y;
	char		*cx, *cy;
	int32_t		*fd, *bd;
	int32_t		 maxcost;
	int64_t		 work;		/* steps left before giving up */
};

static void
diag(struct myers *m, int32_t xoff, int32_t xlim, int32_t yoff, int32_t ylim,
    int32_t *xmid, int32_t *ymid)
{
	int32_t *fd = m->fd, *bd = m->bd;
	const uint32_t *xv = m->x, *yv = m->y;
	int32_t dmin = xoff - ylim, dmax = xlim - yoff;
	int32_t fmid = xoff - yoff, bmid = xlim - ylim;
	int32_t fmin = fmid, fmax = fmid, bmin = bmid, bmax = bmid;
	int32_t c, d, x, y, tlo, thi, fxy, fx = 0, bxy, bx = 0;
	int odd = (fmid - bmid) & 1;

	fd[fmid] = xoff;
	bd[bmid] = xlim;
	for (c = 1;; c++) {
		if (fmin > dmin)
			fd[--fmin - 1] = -1;
		else
			fmin++;
		if (fmax < dmax)
			fd[++fmax + 1] = -1;
		else
			fmax--;
		for (d = fmax; d >= fmin; d -= 2) {
			tlo = fd[d - 1];
			thi = fd[d + 1];
			x = tlo >= thi ? tlo + 1 : thi;
			y = x - d;
			m->work += x;
			while (x < xlim && y < ylim && xv[x] == yv[y])
				x++, y++;
			m->work -= x + 1;
			fd[d] = x;
			if (odd && bmin <= d && d <= bmax && bd[d] <= x) {
				*xmid = x;
				*ymid = y;
				return;
			}
		}
		if (bmin > dmin)
			bd[--bmin - 1] = INT32_MAX;
		else
			bmin++;
		if (bmax < dmax)
			bd[++bmax + 1] = INT32_MAX;
		else
			bmax--;
		for (d = bmax; d >= bmin; d -= 2) {
			tlo = bd[d - 1];
			thi = bd[d + 1];
			x = tlo < thi ? tlo : thi - 1;
			y = x - d;
			m->work -= x;
			while (x > xoff && y > yoff && xv[x - 1] == yv[y - 1])
				x--, y--;
			m->work += x - 1;
			bd[d] = x;
			if (!odd && fmin <= d && d <= fmax && x <= fd[d]) {
				*xmid = x;
				*ymid = y;
				return;
			}
		}
		if (c < m->maxcost && m->work > 0)
			continue;
		fxy = -1;
		for (d = fmax; d >= fmin; d -= 2) {
			x = fd[d] < xlim ? fd[d] : xlim;
			y = x - d;
			if (ylim < y)
				x = ylim + d, y = ylim;
			if (fxy < x + y)
				fxy = x + y, fx = x;
		}
		bxy = INT32_MAX;
		for (d = bmax; d >= bmin; d -= 2) {
			x = bd[d] > xoff ? bd[d] : xoff;
			y = x - d;
			if (y < yoff)
				x = yoff + d, y = yoff;
			if (x + y < bxy)
				bxy = x + y, bx = x;
		}
		if ((xlim + ylim) - bxy < fxy - (xoff + yoff)) {
			*xmid = fx;
			*ymid = fxy - fx;
		} else {
			*xmid = bx;
			*ymid = bxy - bx;
		}
		return;
	}
}

static void
compareseq(struct myers *m, int32_t xoff, int32_t xlim, int32_t yoff,
    int32_t ylim)
{
	int32_t xmid, ymid;

	for (;;) {
		while (xoff < xlim && yoff < ylim && m->x[xoff] == m->y[yoff])
			xoff++, yoff++;
		while (xlim > xoff && ylim > yoff &&
		    m->x[xlim - 1] == m->y[ylim - 1])
			xlim--, ylim--;
		if (xoff == xlim || yoff == ylim || m->work <= 0)
			break;
		diag(m, xoff, xlim, yoff, ylim, &xmid, &ymid);
		if (xmid < xoff || xmid > xlim || ymid < yoff || ymid > ylim ||
		    (xmid == xoff && ymid == yoff) ||
		    (xmid == xlim && ymid == ylim))
			break;
		if ((xmid - xoff) + (ymid - yoff) <
		    (xlim - xmid) + (ylim - ymid)) {
			compareseq(m, xoff, xmid, yoff, ymid);
			xoff = xmid;
			yoff = ymid;
		} else {
			compareseq(m, xmid, xlim, ymid, ylim);
			xlim = xmid;
			ylim = ymid;
		}
	}
	memset(m->cx + xoff, 1, (size_t)(xlim - xoff));
	memset(m->cy + yoff, 1, (size_t)(ylim - yoff));
}

static int32_t
isqrt(int64_t n)
{
	int64_t r = 1;

	while (r * r < n)
		r *= 2;
	while (r * r > n)
		r--;
	return (int32_t)r;
}

/*
 * Mark in cx and cy the tokens of x and y that are not in a (nearly)
 * longest common subsequence.  As xdiff does, tokens the other side does
 * not have at all are marked first and left out of the search.
 */
/*
 * Patience anchors: tokens found once in each text, the longest run of
 * them in the same order in both, are kept as they are, and Myers runs
 * between them.  A heading or a paragraph that both keep then lines up,
 * where plain Myers may as well line up a blank line around it.
 */
static void
anchored(struct myers *m, const uint32_t *cnt, uint32_t nid, size_t nx,
    size_t ny)
{
	uint32_t *pos, *ax, *ay, *tail, *prev;
	size_t i, u = 0, len = 0, lo, hi, mid;
	int32_t x0 = 0, y0 = 0;

	pos = xreallocarray(NULL, nid ? nid : 1, sizeof(*pos));
	for (i = 0; i < ny; i++)
		if (cnt[m->y[i] * 2] == 1 && cnt[m->y[i] * 2 + 1] == 1)
			pos[m->y[i]] = (uint32_t)i;
	ax = xreallocarray(NULL, nx ? nx : 1, sizeof(*ax));
	ay = xreallocarray(NULL, nx ? nx : 1, sizeof(*ay));
	for (i = 0; i < nx; i++)
		if (cnt[m->x[i] * 2] == 1 && cnt[m->x[i] * 2 + 1] == 1) {
			ax[u] = (uint32_t)i;
			ay[u++] = pos[m->x[i]];
		}
	free(pos);
	tail = xreallocarray(NULL, u ? u : 1, sizeof(*tail));
	prev = xreallocarray(NULL, u ? u : 1, sizeof(*prev));
	for (i = 0; i < u; i++) {
		for (lo = 0, hi = len; lo < hi;) {
			mid = (lo + hi) / 2;
			if (ay[tail[mid]] < ay[i])
				lo = mid + 1;
			else
				hi = mid;
		}
		prev[i] = lo > 0 ? tail[lo - 1] : UINT32_MAX;
		tail[lo] = (uint32_t)i;
		if (lo == len)
			len++;
	}
	/* the chain, last to first, reversed into tail[] */
	for (i = len, lo = len ? tail[len - 1] : 0; i > 0; i--) {
		tail[i - 1] = (uint32_t)lo;
		lo = prev[lo];
	}
	for (i = 0; i < len; i++) {
		compareseq(m, x0, (int32_t)ax[tail[i]], y0,
		    (int32_t)ay[tail[i]]);
		x0 = (int32_t)ax[tail[i]] + 1;
		y0 = (int32_t)ay[tail[i]] + 1;
	}
	compareseq(m, x0, (int32_t)nx, y0, (int32_t)ny);
	free(ax);
	free(ay);
	free(tail);
	free(prev);
}

static void
myers(const uint32_t *x, size_t nx, const uint32_t *y, size_t ny,
    uint32_t nid, char *cx, char *cy)
{
	struct myers m;
	uint32_t *cnt, *rx, *ry;
	size_t *mx, *my, i, rnx = 0, rny = 0;
	int32_t *v;

	cnt = xcalloc((size_t)nid * 2, sizeof(*cnt));
	for (i = 0; i < nx; i++)
		cnt[x[i] * 2]++;
	for (i = 0; i < ny; i++)
		cnt[y[i] * 2 + 1]++;
	rx = xreallocarray(NULL, nx, sizeof(*rx));
	ry = xreallocarray(NULL, ny, sizeof(*ry));
	mx = xreallocarray(NULL, nx, sizeof(*mx));
	my = xreallocarray(NULL, ny, sizeof(*my));
	for (i = 0; i < nx; i++) {
		if (cnt[x[i] * 2 + 1] == 0)
			cx[i] = 1;
		else {
			mx[rnx] = i;
			rx[rnx++] = x[i];
		}
	}
	for (i = 0; i < ny; i++) {
		if (cnt[y[i] * 2] == 0)
			cy[i] = 1;
		else {
			my[rny] = i;
			ry[rny++] = y[i];
		}
	}
	memset(&m, 0, sizeof(m));
	m.x = rx;
	m.y = ry;
	m.cx = xcalloc(rnx + 1, 1);
	m.cy = xcalloc(rny + 1, 1);
	v = xreallocarray(NULL, 2 * (rnx + rny + 3), sizeof(*v));
	m.fd = v + rny + 1;
	m.bd = v + (rnx + rny + 3) + rny + 1;
	m.maxcost = isqrt((int64_t)rnx + rny);
	if (m.maxcost < COST_MIN)
		m.maxcost = COST_MIN;
	m.work = WORK_MIN + WORK_PER_TOKEN * ((int64_t)rnx + rny);
	anchored(&m, cnt, nid, rnx, rny);
	free(cnt);
	for (i = 0; i < rnx; i++)
		cx[mx[i]] = m.cx[i];
	for (i = 0; i < rny; i++)
		cy[my[i]] = m.cy[i];
	free(v);
	free(m.cx);
	free(m.cy);
	free(rx);
	free(ry);
	free(mx);
	free(my);
}

static size_t
add_hunk(struct hunk **hp, size_t n, size_t a0, size_t a1, size_t b0,
    size_t b1)
{
	if ((n & (n - 1)) == 0)
		*hp = xreallocarray(*hp, n ? n * 2 : 1, sizeof(**hp));
	(*hp)[n].a0 = a0;
	(*hp)[n].a1 = a1;
	(*hp)[n].b0 = b0;
	(*hp)[n].b1 = b1;
	return n + 1;
}

/*
 * Compaction, as xdiff does it: slide each group of changed tokens up as
 * far as it goes (joining the groups it meets), then down as far as it
 * goes, and leave it at the bottom, or level with the last change in the
 * other text it could line up with.  Equal changes on two sides of a
 * merge then sit at the same place whatever else differs.  c and co have
 * a 0 before index 0 and at index n.
 */
struct run {
	int32_t		 start, end;
};

static void
g_init(const char *c, struct run *g)
{
	g->start = g->end = 0;
	while (c[g->end])
		g->end++;
}

static int
g_next(const char *c, int32_t n, struct run *g)
{
	if (g->end == n)
		return -1;
	g->start = g->end + 1;
	for (g->end = g->start; c[g->end]; g->end++)
		;
	return 0;
}

static int
g_prev(const char *c, struct run *g)
{
	if (g->start == 0)
		return -1;
	g->end = g->start - 1;
	for (g->start = g->end; c[g->start - 1]; g->start--)
		;
	return 0;
}

static int
g_down(char *c, const uint32_t *v, int32_t n, struct run *g)
{
	if (g->end >= n || v[g->start] != v[g->end])
		return -1;
	c[g->start++] = 0;
	c[g->end++] = 1;
	while (c[g->end])
		g->end++;
	return 0;
}

static int
g_up(char *c, const uint32_t *v, struct run *g)
{
	if (g->start == 0 || v[g->start - 1] != v[g->end - 1])
		return -1;
	c[--g->start] = 1;
	c[--g->end] = 0;
	while (c[g->start - 1])
		g->start--;
	return 0;
}

static void
compact(char *c, const uint32_t *v, int32_t n, const char *co, int32_t no)
{
	struct run g, go;
	int32_t size, earliest, endo;

	g_init(c, &g);
	g_init(co, &go);
	for (;;) {
		if (g.end != g.start) {
			do {
				size = g.end - g.start;
				endo = -1;
				while (g_up(c, v, &g) == 0)
					if (g_prev(co, &go) == -1)
						return;
				earliest = g.end;
				if (go.end > go.start)
					endo = g.end;
				while (g_down(c, v, n, &g) == 0) {
					if (g_next(co, no, &go) == -1)
						return;
					if (go.end > go.start)
						endo = g.end;
				}
			} while (size != g.end - g.start);
			if (g.end != earliest && endo != -1)
				while (go.end == go.start)
					if (g_up(c, v, &g) == -1 ||
					    g_prev(co, &go) == -1)
						break;
		}
		if (g_next(c, n, &g) == -1 || g_next(co, no, &go) == -1)
			break;
	}
}

/*
 * The hunks turning x into y, both tokenized whole (nx, ny tokens), in
 * byte offsets plus px and py.
 */
static size_t
diff_tokens(struct text x, struct text y, size_t px, size_t py,
    enum tokens k, size_t nx, size_t ny, struct hunk **hp)
{
	struct intern in;
	size_t i, j, i0, j0, n = 0;
	size_t *ox, *oy;
	uint32_t *ix, *iy;
	char *cx, *cy;

	*hp = NULL;
	if (nx == 0 && ny == 0)
		return 0;
	if (nx == 0 || ny == 0)
		return add_hunk(hp, 0, px, px + x.len, py, py + y.len);
	memset(&in, 0, sizeof(in));
	tokenize(k, &in, x.p, x.len, nx, &ox, &ix);
	tokenize(k, &in, y.p, y.len, ny, &oy, &iy);
	cx = xcalloc(nx + 2, 1);
	cy = xcalloc(ny + 2, 1);
	myers(ix, nx, iy, ny, in.n, cx + 1, cy + 1);
	intern_free(&in);
	compact(cx + 1, ix, (int32_t)nx, cy + 1, (int32_t)ny);
	compact(cy + 1, iy, (int32_t)ny, cx + 1, (int32_t)nx);

	for (i = j = 0; i < nx || j < ny;) {
		if (i < nx && j < ny && !cx[i + 1] && !cy[j + 1]) {
			i++, j++;
			continue;
		}
		i0 = i;
		j0 = j;
		while (i < nx && cx[i + 1])
			i++;
		while (j < ny && cy[j + 1])
			j++;
		if (i == i0 && j == j0)		/* cannot happen; be total */
			i = nx, j = ny;
		n = add_hunk(hp, n, px + ox[i0], px + ox[i], py + oy[j0],
		    py + oy[j]);
	}
	free(cx);
	free(cy);
	free(ox);
	free(oy);
	free(ix);
	free(iy);
	return n;
}

static size_t
clamp_max(size_t max)
{
	return max > INT32_MAX / 2 - 2 ? INT32_MAX / 2 - 2 : max;
}

/*
 * Cut what texts t[0..n) all begin and end with, on token boundaries of
 * every one: *pre and *suf bytes.
 */
static void
trim(enum tokens k, const struct text *t, int n, size_t *pre, size_t *suf)
{
	size_t p, s, lim;
	int i, ok;

	lim = t[0].len;
	for (i = 1; i < n; i++)
		if (t[i].len < lim)
			lim = t[i].len;
	for (p = 0; p < lim; p++) {
		for (i = 1; i < n && t[i].p[p] == t[0].p[p]; i++)
			;
		if (i < n)
			break;
	}
	for (;; p--) {
		for (i = 0, ok = 1; i < n && ok; i++)
			ok = tok_boundary(k, t[i], p);
		if (ok || p == 0)
			break;
	}
	for (s = 0; s < lim - p; s++) {
		for (i = 1; i < n && t[i].p[t[i].len - 1 - s] ==
		    t[0].p[t[0].len - 1 - s]; i++)
			;
		if (i < n)
			break;
	}
	for (;; s--) {
		for (i = 0, ok = 1; i < n && ok; i++)
			ok = tok_boundary(k, t[i], t[i].len - s);
		if (ok || s == 0)
			break;
	}
	*pre = p;
	*suf = s;
}

/*
 * The hunks turning x into y, in byte offsets on boundaries of k's tokens.
 * The common prefix and suffix are cut first; when a side still has more
 * than max tokens, one coarse hunk covers the part that differs and
 * *coarse is set.
 */
size_t
diff_text(struct text x, struct text y, enum tokens k, size_t max,
    struct hunk **hp, int *coarse)
{
	struct text t[2];
	size_t p, s, nx, ny;

	t[0] = x;
	t[1] = y;
	trim(k, t, 2, &p, &s);
	x.p += p;
	y.p += p;
	x.len -= p + s;
	y.len -= p + s;
	max = clamp_max(max);
	nx = tok_count(k, x.p, x.len, max);
	ny = tok_count(k, y.p, y.len, max);
	if (nx > max || ny > max) {
		if (coarse != NULL)
			*coarse = 1;
		*hp = NULL;
		return add_hunk(hp, 0, p, p + x.len, p, p + y.len);
	}
	return diff_tokens(x, y, p, p, k, nx, ny, hp);
}

/*
 * Both diffs of a merge, base->ours and base->theirs.  The three texts
 * are tokenized whole when they are small enough, so that compaction sees
 * everything; else what all three share at the ends is cut (the same cut
 * for both diffs, so equal changes still line up); else each diff cuts
 * its own ends, which may leave a coarse hunk.
 */
static void
diff_both(const struct text *t, enum tokens k, size_t max, struct hunk **h1,
    size_t *n1, struct hunk **h2, size_t *n2, int *coarse)
{
	struct text m[3];
	size_t c[3], p = 0, s = 0;
	int i, pass;

	max = clamp_max(max);
	for (pass = 0; pass < 2; pass++) {
		for (i = 0; i < 3; i++) {
			m[i].p = t[i].p + p;
			m[i].len = t[i].len - p - s;
			c[i] = tok_count(k, m[i].p, m[i].len, max);
		}
		if (c[0] <= max && c[1] <= max && c[2] <= max) {
			*n1 = diff_tokens(m[0], m[1], p, p, k, c[0], c[1], h1);
			*n2 = diff_tokens(m[0], m[2], p, p, k, c[0], c[2], h2);
			return;
		}
		trim(k, t, 3, &p, &s);
	}
	*n1 = diff_text(t[0], t[1], k, max, h1, coarse);
	*n2 = diff_text(t[0], t[2], k, max, h2, coarse);
}

/* Three-way merge. */

enum { K_BASE, K_OURS, K_THEIRS, K_SAME, K_CONFLICT };

struct chunk {
	int		 kind;
	struct text	 b, o, t;
};

static struct text
slice(struct text t, size_t a, size_t b)
{
	struct text s = { t.p + a, b - a };

	return s;
}

static int
text_eq(struct text a, struct text b)
{
	return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

/*
 * The chunks of base, ours, theirs given the hunks base->ours (h1) and
 * base->theirs (h2); hunks that overlap or touch go into one chunk.
 */
static size_t
chunks(struct text base, struct text ours, struct text theirs,
    const struct hunk *h1, size_t n1, const struct hunk *h2, size_t n2,
    struct chunk **cp)
{
	struct chunk *c = NULL;
	size_t i = 0, j = 0, i0, j0, pos = 0, lo, hi, n = 0, cap = 0;
	size_t o0, o1, t0, t1;
	ptrdiff_t d1 = 0, d2 = 0;

	for (;;) {
		if (n + 2 > cap) {
			cap = cap ? cap * 2 : 16;
			c = xreallocarray(c, cap, sizeof(*c));
		}
		if (i == n1 && j == n2)
			lo = base.len;
		else if (j == n2 || (i < n1 && h1[i].a0 <= h2[j].a0))
			lo = h1[i].a0;
		else
			lo = h2[j].a0;
		if (lo > pos) {
			c[n].kind = K_BASE;
			c[n].b = c[n].o = c[n].t = slice(base, pos, lo);
			n++;
		}
		if (i == n1 && j == n2)
			break;
		hi = lo;
		i0 = i;
		j0 = j;
		for (;;) {
			if (i < n1 && h1[i].a0 <= hi) {
				if (h1[i].a1 > hi)
					hi = h1[i].a1;
				i++;
			} else if (j < n2 && h2[j].a0 <= hi) {
				if (h2[j].a1 > hi)
					hi = h2[j].a1;
				j++;
			} else
				break;
		}
		if (i > i0) {
			o0 = h1[i0].b0 - (h1[i0].a0 - lo);
			o1 = h1[i - 1].b1 + (hi - h1[i - 1].a1);
			d1 = (ptrdiff_t)h1[i - 1].b1 - (ptrdiff_t)h1[i - 1].a1;
		} else {
			o0 = lo + d1;
			o1 = hi + d1;
		}
		if (j > j0) {
			t0 = h2[j0].b0 - (h2[j0].a0 - lo);
			t1 = h2[j - 1].b1 + (hi - h2[j - 1].a1);
			d2 = (ptrdiff_t)h2[j - 1].b1 - (ptrdiff_t)h2[j - 1].a1;
		} else {
			t0 = lo + d2;
			t1 = hi + d2;
		}
		c[n].b = slice(base, lo, hi);
		c[n].o = slice(ours, o0, o1);
		c[n].t = slice(theirs, t0, t1);
		if (j == j0)
			c[n].kind = K_OURS;
		else if (i == i0)
			c[n].kind = K_THEIRS;
		else if (text_eq(c[n].o, c[n].t))
			c[n].kind = K_SAME;
		else
			c[n].kind = K_CONFLICT;
		n++;
		pos = hi;
	}
	*cp = c;
	return n;
}

static void
put_chunk(struct buf *out, const struct chunk *c)
{
	switch (c->kind) {
	case K_BASE:
		buf_add(out, c->b.p, c->b.len);
		break;
	case K_THEIRS:
		buf_add(out, c->t.p, c->t.len);
		break;
	default:
		buf_add(out, c->o.p, c->o.len);
		break;
	}
}

/*
 * Both sides inserted lines at one place (no base text there), and one
 * side's lines are a run of the other's: the same insertion, one side
 * adding more around it.  The longer is taken once, as a change both
 * made alike is: it holds every line of either.  Where base text was
 * there, the shorter side may have removed what the longer keeps, so
 * that stays the word level's to judge.  The chunk's text to take, or
 * NULL.
 */
static const struct text *
inserted_within(const struct chunk *c)
{
	const struct text *lo, *sh;
	size_t p;

	if (c->b.len != 0 || c->o.len == 0 || c->t.len == 0)
		return NULL;
	lo = c->o.len > c->t.len ? &c->o : &c->t;
	sh = lo == &c->o ? &c->t : &c->o;
	for (p = 0; p + sh->len <= lo->len; p++) {
		if (p > 0 && lo->p[p - 1] != '\n')
			continue;
		if (memcmp(lo->p + p, sh->p, sh->len) != 0)
			continue;
		/* whole lines: the shorter's last may lack its newline */
		if (p + sh->len == lo->len || sh->p[sh->len - 1] == '\n' ||
		    lo->p[p + sh->len] == '\n')
			return lo;
	}
	return NULL;
}

/* Merge one region word by word; 0 and the merge appended, or -1. */
static int
merge_words(const struct chunk *r, size_t max, struct buf *out,
    struct mergestat *st)
{
	struct text t[3];
	struct hunk *h1, *h2;
	struct chunk *c;
	size_t n1, n2, n, i, mark = out->len;
	int coarse = 0, ret = 0;

	t[0] = r->b;
	t[1] = r->o;
	t[2] = r->t;
	diff_both(t, TOK_WORDS, max, &h1, &n1, &h2, &n2, &coarse);
	if (coarse)
		st->toobig++;
	n = chunks(r->b, r->o, r->t, h1, n1, h2, n2, &c);
	for (i = 0; i < n && ret == 0; i++) {
		if (c[i].kind == K_CONFLICT)
			ret = -1;
		else
			put_chunk(out, &c[i]);
	}
	if (ret == -1)
		out->len = mark;
	free(c);
	free(h1);
	free(h2);
	return ret;
}

/* The newline of a conflict block's own lines: CRLF if the texts use it. */
static const char *
newline(struct text a, struct text b)
{
	const char *nl;

	if (a.len > 0 && (nl = memchr(a.p, '\n', a.len)) != NULL &&
	    nl > a.p && nl[-1] == '\r')
		return "\r\n";
	if (b.len > 0 && (nl = memchr(b.p, '\n', b.len)) != NULL &&
	    nl > b.p && nl[-1] == '\r')
		return "\r\n";
	return "\n";
}

/* A label on one line: line breaks become spaces. */
static void
put_label(struct buf *out, const char *s)
{
	for (; *s != '\0'; s++)
		buf_add(out, *s == '\n' || *s == '\r' ? " " : s, 1);
}

static void
put_side(struct buf *out, struct text t, const char *nl)
{
	buf_add(out, t.p, t.len);
	if (t.len > 0 && t.p[t.len - 1] != '\n')
		buf_str(out, nl);
}

static void
put_conflict(struct buf *out, const struct chunk *c, const struct mergeopt *o)
{
	const char *nl = newline(c->o, c->t);

	if (o->style == STYLE_MARKERS) {
		buf_str(out, "<<<<<<<");
		if (*o->ours != '\0')
			buf_str(out, " ");
		put_label(out, o->ours);
		buf_str(out, nl);
		put_side(out, c->o, nl);
		buf_str(out, "=======");
		buf_str(out, nl);
		put_side(out, c->t, nl);
		buf_str(out, ">>>>>>>");
		if (*o->theirs != '\0')
			buf_str(out, " ");
		put_label(out, o->theirs);
		buf_str(out, nl);
		return;
	}
	buf_str(out, "<div class=\"wikisync-conflict\" style=\"border:2px solid "
	    "#c00;padding:0 1em;margin:1em 0\">");
	buf_str(out, nl);
	buf_str(out, "'''Edit conflict:''' two edits changed this part "
	    "differently. Both versions are kept below: keep one, or combine "
	    "them, then remove this box, down to its last line.");
	buf_str(out, nl);
	buf_str(out, "; ");
	put_label(out, o->ours);
	if (c->o.len == 0)
		buf_str(out, " (removed this part)");
	buf_str(out, nl);
	buf_str(out, "<div class=\"wikisync-side\">");
	buf_str(out, nl);
	put_side(out, c->o, nl);
	buf_str(out, "</div>");
	buf_str(out, nl);
	buf_str(out, "; ");
	put_label(out, o->theirs);
	if (c->t.len == 0)
		buf_str(out, " (removed this part)");
	buf_str(out, nl);
	buf_str(out, "<div class=\"wikisync-side\">");
	buf_str(out, nl);
	put_side(out, c->t, nl);
	buf_str(out, "</div>");
	buf_str(out, nl);
	/*
	 * The category in the box: removing the box as it says takes the
	 * page out of the list once no box is left.
	 */
	if (o->category != NULL && *o->category != '\0') {
		buf_str(out, "[[Category:");
		put_label(out, o->category);
		buf_str(out, "]]");
		buf_str(out, nl);
	}
	buf_str(out, "</div>");
	buf_str(out, nl);
}

/* Append the merge to out; returns the number of conflict blocks. */
size_t
merge3(struct text base, struct text ours, struct text theirs,
    const struct mergeopt *opt, struct buf *out, struct mergestat *st)
{
	struct mergestat dummy;
	struct text t[3];
	const struct text *in;
	struct hunk *h1, *h2;
	struct chunk *c;
	size_t n1, n2, n, i, max;
	int coarse = 0;

	if (st == NULL)
		st = &dummy;
	if (base.p == NULL)
		base.p = "";
	if (ours.p == NULL)
		ours.p = "";
	if (theirs.p == NULL)
		theirs.p = "";
	memset(st, 0, sizeof(*st));
	max = opt->words_max ? opt->words_max : MERGE_WORDS_MAX;
	t[0] = base;
	t[1] = ours;
	t[2] = theirs;
	diff_both(t, TOK_LINES, MERGE_LINES_MAX, &h1, &n1, &h2, &n2, &coarse);
	n = chunks(base, ours, theirs, h1, n1, h2, n2, &c);
	for (i = 0; i < n; i++) {
		if (c[i].kind != K_CONFLICT)
			put_chunk(out, &c[i]);
		else if ((in = inserted_within(&c[i])) != NULL)
			buf_add(out, in->p, in->len);
		else if (merge_words(&c[i], max, out, st) == 0)
			st->wordclean++;
		else {
			put_conflict(out, &c[i], opt);
			st->conflicts++;
		}
	}
	if (coarse)
		st->toobig++;
	free(c);
	free(h1);
	free(h2);
	return st->conflicts;
}
