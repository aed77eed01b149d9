/*
 * mail.c: read a wiki's notification mail: which wiki, which page.
 *
 * The mail is a trigger, never a source: nothing read here is written to
 * a wiki, and a title leaves here only as a job field, never as a path.
 * Invariants: every read stays inside the buffer, which may hold NUL bytes
 * and need not end in one; memory is a small multiple of the buffer; a
 * notice is NOTICE_OK only with a configured wiki and a title that
 * mail_title_check() accepts.  Where this bends RFC 5322, 2045 and 2047,
 * ws-recv(1) says so under CAVEATS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wikisync.h"
#include "mail.h"

#define HDR_MAX		(64 * 1024)	/* bytes of a header field kept */
#define CAND_MAX	64		/* page URLs looked at */
#define RAW_TITLE	(TITLE_MAX * 4)	/* decoded title before normalising */

struct msg {
	char		*from;
	char		*subject;
	char		*msgid;
	char		*cte;
	const char	*body;
	size_t		 bodylen;
};

struct cand {
	size_t		 wiki;
	char		 title[RAW_TITLE + 1];
	size_t		 tlen;
	int		 toolong;
	int		 diffnext;
	char		 oldid[21];
};

static const char *const events[] = {
	"created", "changed", "moved", "deleted", "restored"
};

static int
lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = lower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
b64val(int c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

static int
wsp(int c)
{
	return c == ' ' || c == '\t';
}

static const char *
eol(const char *p, const char *end)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl != NULL ? nl : end;
}

/* The value from p to end unfolded: CR and LF dropped, NUL a space, trimmed. */
static char *
unfold(const char *p, const char *end)
{
	size_t n = (size_t)(end - p), i, o = 0;
	char *s;

	if (n > HDR_MAX)
		n = HDR_MAX;
	if ((s = malloc(n + 1)) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if (p[i] == '\r' || p[i] == '\n')
			continue;
		if (o == 0 && wsp(p[i]))
			continue;
		s[o++] = p[i] == '\0' ? ' ' : p[i];
	}
	while (o > 0 && wsp(s[o - 1]))
		o--;
	s[o] = '\0';
	return s;
}

/*
 * Split the header from the body and keep the fields we read, the first
 * of each.  A leading mbox "From " line is skipped; a line that is neither
 * a field nor a continuation is ignored; no empty line: no body.
 */
static int
headers(const char *buf, size_t len, struct msg *m)
{
	static const char *const names[] = {
		"from", "subject", "message-id", "content-transfer-encoding"
	};
	char **slot[] = { &m->from, &m->subject, &m->msgid, &m->cte };
	const char *p = buf, *end = buf + len, *e, *colon, *vstart = NULL;
	size_t n, k, i;
	int cur = -1;

	if (len >= 5 && memcmp(p, "From ", 5) == 0) {
		e = eol(p, end);
		p = e < end ? e + 1 : end;
	}
	m->body = end;
	for (; p < end; p = e < end ? e + 1 : end) {
		e = eol(p, end);
		n = (size_t)(e - p);
		if (n > 0 && p[n - 1] == '\r')
			n--;
		if (n > 0 && wsp(*p))
			continue;
		if (cur >= 0 && (*slot[cur] = unfold(vstart, p)) == NULL)
			return -1;
		cur = -1;
		if (n == 0) {
			m->body = e < end ? e + 1 : end;
			break;
		}
		if ((colon = memchr(p, ':', n)) == NULL)
			continue;
		for (k = (size_t)(colon - p); k > 0 && wsp(p[k - 1]); k--)
			;
		for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
			if (k == strlen(names[i]) && *slot[i] == NULL &&
			    strncasecmp(p, names[i], k) == 0) {
				cur = (int)i;
				vstart = colon + 1;
			}
	}
	if (cur >= 0 && (*slot[cur] = unfold(vstart, end)) == NULL)
		return -1;
	m->bodylen = (size_t)(end - m->body);
	return 0;
}

static size_t
qp_decode(const char *in, size_t n, char *out)
{
	size_t i = 0, o = 0, j;
	int h, l;

	while (i < n) {
		if (in[i] != '=') {
			out[o++] = in[i++];
			continue;
		}
		if (i + 2 < n && (h = hexval((unsigned char)in[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)in[i + 2])) >= 0) {
			out[o++] = (char)(h << 4 | l);
			i += 3;
			continue;
		}
		for (j = i + 1; j < n && (wsp(in[j]) || in[j] == '\r'); j++)
			;
		if (j == n || in[j] == '\n') {		/* soft line break */
			i = j < n ? j + 1 : n;
			continue;
		}
		out[o++] = in[i++];
	}
	return o;
}

/* Base64, skipping what is not in the alphabet, up to the first '='. */
static size_t
b64_decode(const char *in, size_t n, char *out)
{
	unsigned long acc = 0;
	size_t i, o = 0;
	int bits = 0, v;

	for (i = 0; i < n && in[i] != '='; i++) {
		if ((v = b64val((unsigned char)in[i])) < 0)
			continue;
		acc = (acc << 6 | (unsigned long)v) & 0xffffff;
		if ((bits += 6) >= 8) {
			bits -= 8;
			out[o++] = (char)(acc >> bits & 0xff);
		}
	}
	return o;
}

/* Strict base64 for an encoded-word: -1 on anything outside it. */
static long
b64_strict(const char *in, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n && in[i] != '='; i++)
		if (b64val((unsigned char)in[i]) < 0)
			return -1;
	for (; i < n; i++)
		if (in[i] != '=')
			return -1;
	return (long)b64_decode(in, n, out);
}

enum cs { CS_NONE, CS_UTF8, CS_LATIN1 };

static enum cs
charset(const char *s, size_t n)
{
	static const char *const utf8[] = { "utf-8", "utf8", "us-ascii" };
	static const char *const latin1[] = {
		"iso-8859-1", "iso8859-1", "iso_8859-1", "latin1", "l1",
		"windows-1252", "cp1252"
	};
	const char *star = memchr(s, '*', n);
	size_t i;

	if (star != NULL)		/* RFC 2231 language */
		n = (size_t)(star - s);
	for (i = 0; i < sizeof(utf8) / sizeof(utf8[0]); i++)
		if (n == strlen(utf8[i]) && strncasecmp(s, utf8[i], n) == 0)
			return CS_UTF8;
	for (i = 0; i < sizeof(latin1) / sizeof(latin1[0]); i++)
		if (n == strlen(latin1[i]) && strncasecmp(s, latin1[i], n) == 0)
			return CS_LATIN1;
	return CS_NONE;
}

/*
 * The encoded-word at in (which starts "=?"), decoded into out; its length
 * in the input, or 0 when it is not one we can decode (then it stays as
 * it is).  Any length is accepted.  Control characters become spaces.
 */
static size_t
encoded_word(const char *in, size_t n, char *out, size_t *olen, char *tmp)
{
	const char *end = in + n, *cs = in + 2, *q, *text, *t;
	size_t i, o = 0, tl;
	long dl;
	enum cs set;
	int enc, h, l;
	unsigned char c;

	if ((q = memchr(cs, '?', (size_t)(end - cs))) == NULL ||
	    q - cs < 1 || q - cs > 40 || end - q < 5 || q[2] != '?')
		return 0;
	enc = lower(q[1]);
	text = q + 3;
	for (t = text; t + 1 < end && !(t[0] == '?' && t[1] == '='); t++)
		if ((unsigned char)*t <= ' ' || *t == '?' || *t == 0x7f)
			return 0;
	if (t + 1 >= end)
		return 0;
	if ((set = charset(cs, (size_t)(q - cs))) == CS_NONE)
		return 0;
	tl = (size_t)(t - text);
	if (enc == 'b') {
		if ((dl = b64_strict(text, tl, tmp)) < 0)
			return 0;
	} else if (enc == 'q') {
		for (i = 0, dl = 0; i < tl; i++) {
			if (text[i] == '_')
				tmp[dl++] = ' ';
			else if (text[i] != '=')
				tmp[dl++] = text[i];
			else if (i + 2 < tl &&
			    (h = hexval((unsigned char)text[i + 1])) >= 0 &&
			    (l = hexval((unsigned char)text[i + 2])) >= 0) {
				tmp[dl++] = (char)(h << 4 | l);
				i += 2;
			} else
				return 0;
		}
	} else
		return 0;
	for (i = 0; i < (size_t)dl; i++) {
		c = (unsigned char)tmp[i];
		if (c < ' ' || c == 0x7f)
			out[o++] = ' ';
		else if (c < 0x80 || set == CS_UTF8)
			out[o++] = (char)c;
		else {
			out[o++] = (char)(0xc0 | c >> 6);
			out[o++] = (char)(0x80 | (c & 0x3f));
		}
	}
	*olen = o;
	return (size_t)(t + 2 - in);
}

/*
 * An unstructured field with its RFC 2047 encoded-words decoded to UTF-8;
 * white space between two encoded-words goes.  Allocated, NUL-terminated.
 */
static char *
decode_2047(const char *in)
{
	size_t n = strlen(in), i = 0, o = 0, w, ol, mark = 0;
	char *out, *tmp;
	int after = 0;

	if ((out = malloc(2 * n + 1)) == NULL)
		return NULL;
	if ((tmp = malloc(n + 1)) == NULL) {
		free(out);
		return NULL;
	}
	while (i < n) {
		if (in[i] == '=' && i + 1 < n && in[i + 1] == '?' &&
		    (w = encoded_word(in + i, n - i, out + (after ? mark : o),
		    &ol, tmp)) > 0) {
			o = (after ? mark : o) + ol;
			i += w;
			after = 1;
			mark = o;
			continue;
		}
		if (!wsp(in[i])) {
			after = 0;
			mark = 0;
		}
		out[o++] = in[i++];
	}
	out[o] = '\0';
	free(tmp);
	return out;
}

/*
 * Percent-decode n bytes into c->title ('+' is a space in a query, as PHP
 * has it), '_' as a space, runs of spaces as one, trimmed.
 */
static void
title_decode(struct cand *c, const char *s, size_t n, int plus)
{
	size_t i, o = 0;
	int h, l;
	char ch;

	c->tlen = 0;
	c->toolong = 0;
	for (i = 0; i < n; i++) {
		ch = s[i];
		if (ch == '%' && i + 2 < n &&
		    (h = hexval((unsigned char)s[i + 1])) >= 0 &&
		    (l = hexval((unsigned char)s[i + 2])) >= 0) {
			ch = (char)(h << 4 | l);
			i += 2;
		} else if (ch == '+' && plus)
			ch = ' ';
		if (ch == '_')
			ch = ' ';
		if (ch == ' ' && (o == 0 || c->title[o - 1] == ' '))
			continue;
		if (o == RAW_TITLE) {
			c->toolong = 1;
			break;
		}
		c->title[o++] = ch;
	}
	while (o > 0 && c->title[o - 1] == ' ')
		o--;
	c->title[o] = '\0';
	c->tlen = o;
}

/* "http://" or "https://", any case: the rest, else NULL. */
static const char *
after_scheme(const char *s, size_t n)
{
	if (n >= 7 && strncasecmp(s, "http://", 7) == 0)
		return s + 7;
	if (n >= 8 && strncasecmp(s, "https://", 8) == 0)
		return s + 8;
	return NULL;
}

static int
url_stop(int c)
{
	return c == '/' || c == '?' || c == '#';
}

/*
 * How much of url (n bytes) is the wiki's URL prefix, the scheme (http or
 * https) and the case of the host aside; 0 when it is not.  What is left
 * starts with '/', '?', '#' or is empty.
 */
static size_t
prefix_match(const char *url, size_t n, const char *prefix)
{
	const char *u, *p, *uend = url + n;
	size_t hl, pl;

	if ((u = after_scheme(url, n)) == NULL ||
	    (p = after_scheme(prefix, strlen(prefix))) == NULL)
		return 0;
	hl = strcspn(p, "/?#");
	if ((size_t)(uend - u) < hl || strncasecmp(u, p, hl) != 0)
		return 0;
	u += hl;
	p += hl;
	if (u < uend && !url_stop(*u))
		return 0;
	pl = strlen(p);
	if (pl > 0 && p[pl - 1] == '/')
		pl--;
	if ((size_t)(uend - u) < pl || memcmp(u, p, pl) != 0)
		return 0;
	u += pl;
	if (u < uend && !url_stop(*u))
		return 0;
	return (size_t)(u - url);
}

/* The page a wiki URL's rest names: index.php/Title or ?title=Title. */
static int
url_page(const char *r, size_t n, struct cand *c)
{
	const char *q, *h, *p, *amp, *eq, *qend;
	size_t kl, vl, i;
	int have = 0;

	if ((h = memchr(r, '#', n)) != NULL)
		n = (size_t)(h - r);
	q = memchr(r, '?', n);
	c->diffnext = 0;
	c->oldid[0] = '\0';
	if (n > 0 && r[0] == '/') {
		title_decode(c, r + 1, (size_t)((q ? q : r + n) - (r + 1)), 0);
		have = c->tlen > 0 || c->toolong;
	}
	if (q == NULL)
		return have;
	qend = r + n;
	for (p = q + 1; p < qend; p = amp + 1) {
		if ((amp = memchr(p, '&', (size_t)(qend - p))) == NULL)
			amp = qend;
		if ((eq = memchr(p, '=', (size_t)(amp - p))) == NULL)
			continue;
		kl = (size_t)(eq - p);
		vl = (size_t)(amp - eq - 1);
		if (kl == 5 && memcmp(p, "title", 5) == 0 && !have) {
			title_decode(c, eq + 1, vl, 1);
			have = c->tlen > 0 || c->toolong;
		} else if (kl == 4 && memcmp(p, "diff", 4) == 0)
			c->diffnext = vl == 4 && memcmp(eq + 1, "next", 4) == 0;
		else if (kl == 5 && memcmp(p, "oldid", 5) == 0 &&
		    vl > 0 && vl < sizeof(c->oldid)) {
			for (i = 0; i < vl && eq[1 + i] >= '0' &&
			    eq[1 + i] <= '9'; i++)
				;
			if (i == vl) {
				memcpy(c->oldid, eq + 1, vl);
				c->oldid[vl] = '\0';
			}
		}
	}
	return have;
}

static int
urlchar(int c)
{
	return c > ' ' && c < 0x7f && c != '<' && c != '>' && c != '"';
}

/* Where the next http:// or https:// is in [p, end), else end. */
static const char *
next_url(const char *p, const char *end)
{
	for (; p + 7 <= end; p++)
		if ((*p == 'h' || *p == 'H') &&
		    after_scheme(p, (size_t)(end - p)) != NULL)
			return p;
	return end;
}

/* A host for a log line: printable, short. */
static void
host_of(const char *url, size_t n, char *buf, size_t len)
{
	const char *h = after_scheme(url, n), *e;
	size_t i, o = 0;

	if (h == NULL)
		h = url;
	for (e = h; e < url + n && !url_stop(*e); e++)
		;
	for (i = 0; h + i < e && o + 1 < len && o < 100; i++)
		buf[o++] = urlchar((unsigned char)h[i]) ? h[i] : '?';
	buf[o] = '\0';
}

/*
 * Every page URL of a configured wiki in the body, in order, at most
 * CAND_MAX; *mwhost gets the host of the first URL that looks like
 * MediaWiki's (index.php) when none is a configured wiki's.
 */
static size_t
scan_body(const struct conf *conf, const char *b, size_t len,
    struct cand *cands, char *mwhost, size_t hostlen)
{
	const char *p, *end = b + len, *e;
	size_t nc = 0, w, m, best, bw = 0;

	for (p = next_url(b, end); p < end && nc < CAND_MAX;
	    p = next_url(e, end)) {
		for (e = p; e < end && urlchar((unsigned char)*e); e++)
			;
		best = 0;
		for (w = 0; w < conf->nwikis; w++) {
			m = prefix_match(p, (size_t)(e - p), conf->wikis[w].url);
			if (m > best) {
				best = m;
				bw = w;
			}
		}
		if (best == 0) {
			if (*mwhost == '\0' &&
			    memmem(p, (size_t)(e - p), "index.php", 9) != NULL)
				host_of(p, (size_t)(e - p), mwhost, hostlen);
			continue;
		}
		cands[nc].wiki = bw;
		if (url_page(p + best, (size_t)(e - p) - best, &cands[nc]))
			nc++;
	}
	return nc;
}

/* The event the subject shows: the last "has been EVENT by". */
static const char *
subject_event(const char *s)
{
	const char *p, *w, *found = NULL;
	size_t i, l;

	for (p = strstr(s, " has been "); p != NULL;
	    p = strstr(p + 1, " has been ")) {
		w = p + 10;
		for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
			l = strlen(events[i]);
			if (strncmp(w, events[i], l) == 0 &&
			    strncmp(w + l, " by ", 4) == 0)
				found = events[i];
		}
	}
	return found;
}

/* The domain of the From address, lower case, into buf ("" if none). */
static void
from_domain(const char *from, char *buf, size_t len)
{
	const char *a, *at, *e;
	size_t o = 0;

	buf[0] = '\0';
	if ((a = strrchr(from, '<')) != NULL)
		at = memchr(a, '@', strcspn(a, ">"));
	else
		at = strchr(from, '@');
	if (at == NULL)
		return;
	at++;
	if (*at == '[')
		at++;
	for (e = at; *e != '\0' && strchr(" \t>()<,;]\"", *e) == NULL; e++)
		;
	while (e > at && e[-1] == '.')
		e--;
	for (; at < e && o + 1 < len; at++)
		buf[o++] = (char)lower((unsigned char)*at);
	buf[o] = '\0';
}

/* The host of a wiki's URL, lower case, no port. */
static void
url_host(const char *url, char *buf, size_t len)
{
	const char *h = after_scheme(url, strlen(url)), *e;
	size_t o = 0;

	buf[0] = '\0';
	if (h == NULL)
		return;
	if (*h == '[') {
		h++;
		e = h + strcspn(h, "]");
	} else
		e = h + strcspn(h, ":/?#");
	for (; h < e && o + 1 < len; h++)
		buf[o++] = (char)lower((unsigned char)*h);
	buf[o] = '\0';
}

static size_t
utf8_char(const unsigned char *s, size_t n, unsigned long *cp)
{
	unsigned long c;
	size_t len, i;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		c = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		c = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		c = s[0] & 0x07;
	} else
		return 0;
	if (n < len)
		return 0;
	for (i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && (c < 0x800 || (c >= 0xd800 && c <= 0xdfff))) ||
	    (len == 4 && (c < 0x10000 || c > 0x10ffff)))
		return 0;
	*cp = c;
	return len;
}

/*
 * Characters that change how a title looks, or show nothing, without
 * being text: bidirectional controls (a title that reads one way and
 * names another page), zero-width characters, the soft hyphen and the
 * byte order mark.  MediaWiki drops some of them from titles and keeps
 * others, so a title holding one names a page other than it shows.
 */
static int
invisible(unsigned long cp)
{
	return cp == 0xad || cp == 0x61c || cp == 0x180e ||
	    (cp >= 0x200b && cp <= 0x200f) || (cp >= 0x202a && cp <= 0x202e) ||
	    (cp >= 0x2060 && cp <= 0x2064) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0xfeff;
}

/*
 * Why MediaWiki would refuse the title t (n bytes), or NULL when it would
 * take it: too long, not UTF-8, control characters (C0, DEL, C1, line and
 * paragraph separators), invisible and bidirectional controls, # < > [ ]
 * | { }, %XX, ~~~, relative paths.
 */
const char *
mail_title_check(const char *t, size_t n)
{
	const unsigned char *s = (const unsigned char *)t;
	unsigned long cp;
	size_t i, l;

	if (n == 0)
		return "empty title";
	if (n > TITLE_MAX)
		return "title longer than 255 bytes";
	for (i = 0; i < n; i += l) {
		if ((l = utf8_char(s + i, n - i, &cp)) == 0)
			return "title not valid UTF-8";
		if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0) ||
		    cp == 0x2028 || cp == 0x2029)
			return "control character in title";
		if (invisible(cp))
			return "invisible or bidirectional control character "
			    "in title";
		if (cp < 0x80 && strchr("#<>[]|{}", (int)cp) != NULL)
			return "title has one of # < > [ ] | { }";
		if (cp == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 &&
		    hexval(s[i + 2]) >= 0)
			return "percent-encoded sequence in title";
		if (cp == '~' && i + 2 < n && s[i + 1] == '~' && s[i + 2] == '~')
			return "title has ~~~";
	}
	if ((n == 1 && t[0] == '.') || (n == 2 && memcmp(t, "..", 2) == 0) ||
	    (n >= 2 && memcmp(t, "./", 2) == 0) ||
	    (n >= 3 && memcmp(t, "../", 3) == 0) ||
	    memmem(t, n, "/./", 3) != NULL || memmem(t, n, "/../", 4) != NULL ||
	    (n >= 2 && memcmp(t + n - 2, "/.", 2) == 0) ||
	    (n >= 3 && memcmp(t + n - 3, "/..", 3) == 0))
		return "relative path title (. or .. as a path segment)";
	if (t[0] == ' ' || t[n - 1] == ' ' || t[0] == ':')
		return "title starts or ends badly";
	return NULL;
}

static void
msgid_copy(const char *id, char *buf, size_t len)
{
	size_t n = strlen(id), i;

	buf[0] = '\0';
	if (n == 0 || n >= len || n > 250)
		return;
	for (i = 0; i < n; i++)
		if ((unsigned char)id[i] <= ' ' || (unsigned char)id[i] >= 0x7f)
			return;
	memcpy(buf, id, n + 1);
}

/* Pick the page: the first whose title the subject shows, else the first. */
static size_t
choose(struct cand *c, size_t nc, const char *subject)
{
	size_t i;

	for (i = 0; i < nc; i++)
		if (subject != NULL && !c[i].toolong && c[i].tlen > 0 &&
		    memmem(subject, strlen(subject), c[i].title, c[i].tlen) != NULL)
			return i;
	for (i = 0; i < nc; i++)
		if (c[i].toolong || c[i].tlen < 8 ||
		    strncasecmp(c[i].title, "Special:", 8) != 0)
			return i;
	return 0;
}

static void
from_check(const struct conf *conf, const char *from, struct notice *nt)
{
	char dom[256], host[256];
	const char *named = NULL;
	size_t w;

	if (from == NULL)
		return;
	from_domain(from, dom, sizeof(dom));
	if (dom[0] == '\0')
		return;
	for (w = 0; w < conf->nwikis; w++) {
		url_host(conf->wikis[w].url, host, sizeof(host));
		if (strcmp(dom, host) != 0)
			continue;
		if (w == nt->wiki)
			return;
		if (named == NULL)
			named = conf->wikis[w].name;
	}
	if (named == NULL)
		return;
	nt->status = NOTICE_MISMATCH;
	snprintf(nt->why, sizeof(nt->why), "From is %.100s, host of wiki %.32s, "
	    "but the page URL is wiki %.32s's", dom, named,
	    conf->wikis[nt->wiki].name);
}

/*
 * Read the message buf (len bytes) against the config's wikis into nt.
 * -1 (errno ENOMEM) only when out of memory; else 0 and nt->status says.
 */
int
mail_notice(const struct conf *conf, const char *buf, size_t len,
    struct notice *nt)
{
	struct msg m;
	struct cand *cands = NULL, *c;
	char *subject = NULL, *body = NULL, mwhost[128] = "";
	const char *b, *ev, *why;
	size_t blen, nc, i;
	int r = -1;

	memset(nt, 0, sizeof(*nt));
	memset(&m, 0, sizeof(m));
	if (headers(buf, len, &m) == -1)
		goto out;
	if (m.subject != NULL && (subject = decode_2047(m.subject)) == NULL)
		goto out;
	b = m.body;
	blen = m.bodylen;
	if (m.cte != NULL && (strncasecmp(m.cte, "base64", 6) == 0 ||
	    strncasecmp(m.cte, "quoted-printable", 16) == 0)) {
		if ((body = malloc(blen + 1)) == NULL)
			goto out;
		if (lower((unsigned char)m.cte[0]) == 'b')
			blen = b64_decode(b, blen, body);
		else
			blen = qp_decode(b, blen, body);
		b = body;
	}
	if ((cands = calloc(CAND_MAX, sizeof(*cands))) == NULL)
		goto out;
	nc = scan_body(conf, b, blen, cands, mwhost, sizeof(mwhost));
	r = 0;
	if (nc == 0) {
		if (mwhost[0] != '\0') {
			nt->status = NOTICE_UNKNOWN;
			snprintf(nt->why, sizeof(nt->why),
			    "page URL on %s, no configured wiki", mwhost);
		} else {
			nt->status = NOTICE_NONE;
			snprintf(nt->why, sizeof(nt->why),
			    "no page URL of a configured wiki");
		}
		goto out;
	}
	c = &cands[choose(cands, nc, subject)];
	nt->wiki = c->wiki;
	if ((why = c->toolong ? "title longer than 255 bytes" :
	    mail_title_check(c->title, c->tlen)) != NULL) {
		nt->status = NOTICE_BADTITLE;
		snprintf(nt->why, sizeof(nt->why), "wiki %s: %s",
		    conf->wikis[c->wiki].name, why);
		goto out;
	}
	memcpy(nt->title, c->title, c->tlen + 1);
	for (i = 0; i < nc; i++)
		if (cands[i].diffnext && cands[i].oldid[0] != '\0' &&
		    cands[i].wiki == c->wiki && !cands[i].toolong &&
		    cands[i].tlen == c->tlen &&
		    memcmp(cands[i].title, c->title, c->tlen) == 0) {
			strlcpy(nt->oldid, cands[i].oldid, sizeof(nt->oldid));
			break;
		}
	if (subject != NULL && (ev = subject_event(subject)) != NULL)
		strlcpy(nt->event, ev, sizeof(nt->event));
	if (m.msgid != NULL)
		msgid_copy(m.msgid, nt->msgid, sizeof(nt->msgid));
	nt->status = NOTICE_OK;
	from_check(conf, m.from, nt);
out:
	free(cands);
	free(body);
	free(subject);
	free(m.from);
	free(m.subject);
	free(m.msgid);
	free(m.cte);
	if (r == -1)
		errno = ENOMEM;
	return r;
}
