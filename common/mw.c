/*
 * mw.c: the MediaWiki API client (see mw.h and ws-login(1)).
 *
 * Transport: one libcurl easy handle per wiki, reused for every request,
 * gzip, the wiki's timeout, TLS always verified (ca-file adds a CA
 * bundle; nothing turns verification off), http and https only, no
 * redirect followed.  Every request asks for format=json,
 * formatversion=2, errorformat=plaintext and maxlag=5; reads are GET
 * while short, writes and long requests POST.
 * Sessions: SPOOL/session/WIKI.cookies (0600) holds the wiki's cookies.
 * It is only ever replaced whole (tmp, fsync, rename), so reading it
 * needs no lock; a login holds an exclusive flock on WIKI.lock until the
 * new jar is in place, so processes that find the session lapsed at once
 * log in once: the others wait, then take the jar the first one wrote.
 * Every request but the login's own carries assert=user; on
 * assertuserfailed, notloggedin or badtoken the call logs in again and is
 * retried once, and a login that fails fails the call.
 * Errors: temporary (75): no connection, timeout, HTTP 5xx, 408, 429,
 * maxlag, ratelimited, readonly, internal errors.  Permanent: 77 the
 * login or a right refused; 78 no usable password file or ca-file;
 * 69 TLS verification failed; 76 a reply that is not the API's;
 * 65 the API refused the request itself.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sha1.h>

#include "wikisync.h"
#include "libcurl.h"
#include "mw.h"

#define REPLY_MAX	(32UL << 20)	/* MediaWiki sends 8 MB at most */
#define FILE_MAX	(4LL << 30)	/* a file downloaded, at most */
#define XFER_SPEED	1024L		/* a file's bytes a second, at least, */
					/* over the wiki's timeout */
#define XFER_MAX	3600L		/* a file's whole transfer, seconds */
#define JAR_MAX		(1UL << 20)
#define GET_MAX		1500		/* longer queries are POSTed */
#define MAXPARAM	32
#define CONT_KEYS	8		/* continuation names, at most */
#define BATCHES_MAX	100000		/* batches of one query, at most */
#define ANON_TOKEN	"+\\"

struct param {
	char		*key;
	char		*val;
	size_t		 len;
};

struct req {
	struct param	 p[MAXPARAM];
	size_t		 n;
	int		 upfd;		/* > 0: a file sent as "file" (upload) */
	off_t		 upsize;
	const char	*upname;
	unsigned	 batches;	/* continuations followed */
};

struct buf {
	char		*s;
	size_t		 len;
	size_t		 cap;
};

struct mw {
	struct mw	*next;		/* every open handle, see mw_close_all */
	struct mw	*prev;
	const struct wiki *w;
	CURL		*curl;
	struct curl_slist *headers;
	char		 errbuf[CURL_ERROR_SIZE];
	struct buf	 reply;
	int		 toobig;
	char		 user[256];	/* the account: login name before '@' */
	char		 jar[64];	/* WIKI.cookies in SPOOL/session */
	char		 lock[64];
	char		*saved;		/* the jar as last read or written */
	int		 session;	/* there are cookies worth trying */
	int		 loggedin;	/* this process logged in */
	char		 csrf[256];
	char		 watch[256];
	char		 ua[256];
};

/* Request flags. */
#define C_ANON		0x01	/* no assert=user: the login's own requests */
#define C_POST		0x02
#define C_CSRF		0x04	/* a write with the csrf token */
#define C_WATCH		0x08	/* a write with the watch token */

static int sessdir = -1;
static struct mw *open_handles;
static _Atomic int threaded;	/* handles in use on other threads */

/*
 * Every handle still open when the process exits is closed here, once:
 * an applet that dies on an error path keeps its session like one that
 * returns, and leaves nothing for a leak checker to call lost.  Not while
 * other threads use handles (mw_threaded): one that dies, out of memory,
 * must not free a handle from under another; the jar stays as it was.
 */
static void
mw_close_all(void)
{
	if (threaded)
		return;
	while (open_handles != NULL)
		mw_close(open_handles);
}

/* Handles are (1) or are no longer (0) in use on more than one thread. */
void
mw_threaded(int on)
{
	threaded = on;
	ws_exit_fast(on);
}

static int
fail(struct mwerr *e, int temp, int code, const char *fmt, ...)
{
	va_list ap;

	e->temp = temp;
	e->code = code;
	e->retry_after = 0;
	e->api[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return -1;
}

/* s as one line of printable text: whitespace runs become one space. */
static void
oneline(char *dst, size_t len, const char *s)
{
	size_t i = 0;
	int sp = 0;

	for (; *s != '\0' && i + 1 < len; s++) {
		if (isspace((unsigned char)*s) || iscntrl((unsigned char)*s)) {
			sp = i > 0;
			continue;
		}
		if (sp && i + 2 < len)
			dst[i++] = ' ';
		sp = 0;
		dst[i++] = *s;
	}
	dst[i] = '\0';
}

static void
buf_add(struct buf *b, const char *s, size_t n)
{
	size_t cap;

	if (b->len + n + 1 > b->cap) {
		cap = b->cap ? b->cap : 4096;
		while (b->len + n + 1 > cap)
			cap *= 2;
		b->s = xreallocarray(b->s, cap, 1);
		b->cap = cap;
	}
	memcpy(b->s + b->len, s, n);
	b->len += n;
	b->s[b->len] = '\0';
}

static void
buf_str(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

static void
buf_printable(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		buf_add(b, (unsigned char)s[i] < ' ' ? " " : s + i, 1);
}

/* Request parameters: a set of key=value, values copied. */
static void
req_setn(struct req *r, const char *key, const char *val, size_t len)
{
	size_t i;

	for (i = 0; i < r->n; i++)
		if (strcmp(r->p[i].key, key) == 0)
			break;
	if (i == r->n) {
		if (r->n == MAXPARAM)
			diex(EX_SOFTWARE, "mw: too many parameters");
		r->p[r->n++].key = xstrdup(key);
	} else {
		explicit_bzero(r->p[i].val, r->p[i].len);
		free(r->p[i].val);
	}
	r->p[i].val = xcalloc(1, len + 1);
	memcpy(r->p[i].val, val, len);
	r->p[i].len = len;
}

static void
req_set(struct req *r, const char *key, const char *val)
{
	req_setn(r, key, val, strlen(val));
}

static void
req_setl(struct req *r, const char *key, long n)
{
	char num[24];

	snprintf(num, sizeof(num), "%ld", n);
	req_set(r, key, num);
}

static void
req_free(struct req *r)
{
	size_t i;

	for (i = 0; i < r->n; i++) {
		free(r->p[i].key);
		explicit_bzero(r->p[i].val, r->p[i].len);
		free(r->p[i].val);
	}
	r->n = 0;
	r->batches = 0;
}

/* Titles joined by '|', or by U+001F when one of them holds a '|'. */
static void
req_titles(struct req *r, const char *key, const char **t, size_t n)
{
	struct buf b = { 0 };
	const char *sep = "|";
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr(t[i], '|') != NULL)
			sep = "\x1f";
	if (*sep != '|')
		buf_str(&b, sep);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_str(&b, sep);
		buf_str(&b, t[i]);
	}
	req_setn(r, key, b.s ? b.s : "", b.len);
	free(b.s);
}

/* The query string; for the log, secrets masked and long values cut. */
static char *
req_encode(struct mw *m, const struct req *r, int forlog, size_t *lenp)
{
	struct buf b = { 0 };
	const struct param *p;
	char *v;
	size_t i;

	for (i = 0; i < r->n; i++) {
		p = &r->p[i];
		if (forlog && (strcmp(p->key, "format") == 0 ||
		    strcmp(p->key, "formatversion") == 0 ||
		    strcmp(p->key, "errorformat") == 0 ||
		    strcmp(p->key, "maxlag") == 0))
			continue;
		if (b.len > 0)
			buf_str(&b, "&");
		buf_str(&b, p->key);
		buf_str(&b, "=");
		if (forlog && (strcmp(p->key, "lgpassword") == 0 ||
		    strcmp(p->key, "token") == 0 ||
		    strcmp(p->key, "lgtoken") == 0)) {
			buf_str(&b, "*");
			continue;
		}
		if (forlog) {
			buf_printable(&b, p->val, p->len > 60 ? 40 : p->len);
			if (p->len > 60)
				buf_str(&b, "...");
			continue;
		}
		if ((v = curl_easy_escape(m->curl, p->val, (int)p->len)) == NULL)
			die(EX_TEMPFAIL, "curl_easy_escape");
		buf_str(&b, v);
		curl_free(v);
	}
	if (b.s == NULL)
		buf_str(&b, "");
	*lenp = b.len;
	return b.s;
}

static size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct mw *m = arg;

	n *= size;
	if (m->reply.len + n > REPLY_MAX) {
		m->toobig = 1;
		return 0;
	}
	buf_add(&m->reply, p, n);
	return n;
}

/* JSON helpers: absent or mistyped members read as NULL, 0, false. */
static json_t *
jget(json_t *o, ...)
{
	const char *key;
	va_list ap;

	va_start(ap, o);
	while (o != NULL && (key = va_arg(ap, const char *)) != NULL)
		o = json_object_get(o, key);
	va_end(ap);
	return o;
}

static const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static long
jlong(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

static int
jbool(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

static char *
jdup(json_t *o, const char *key)
{
	const char *s = jstr(o, key);

	return xstrdup(s ? s : "");
}

static void
jcpy(char *dst, size_t len, json_t *o, const char *key)
{
	const char *s = jstr(o, key);

	strlcpy(dst, s ? s : "", len);
}

/* Which API error codes are temporary, which a matter of rights. */
static int
api_code_class(const char *c)
{
	static const char *const temp[] = { "maxlag", "ratelimited",
	    "readonly", "editconflict", "lockmanager-fail-conflict" };
	static const char *const perm[] = { "permission", "denied",
	    "blocked", "protected", "assert", "notloggedin", "badtoken",
	    "mustbeloggedin", "cantcreate", "noedit", "cantedit" };
	size_t i;

	for (i = 0; i < sizeof(temp) / sizeof(temp[0]); i++)
		if (strcmp(c, temp[i]) == 0)
			return EX_TEMPFAIL;
	if (strncmp(c, "internal_api_error_", 19) == 0)
		return EX_TEMPFAIL;
	for (i = 0; i < sizeof(perm) / sizeof(perm[0]); i++)
		if (strstr(c, perm[i]) != NULL)
			return EX_NOPERM;
	return EX_DATAERR;
}

static int
session_lost(const char *code)
{
	return strcmp(code, "assertuserfailed") == 0 ||
	    strcmp(code, "assertnameduserfailed") == 0 ||
	    strcmp(code, "notloggedin") == 0 ||
	    strcmp(code, "badtoken") == 0;
}

/* 1 and e filled when the reply is an API error. */
static int
api_error(json_t *root, long retry_after, struct mwerr *e)
{
	json_t *er = json_array_get(json_object_get(root, "errors"), 0);
	const char *code, *text;
	char line[400];
	int ex;

	if (er == NULL && (er = json_object_get(root, "error")) == NULL)
		return 0;
	code = jstr(er, "code");
	if ((text = jstr(er, "text")) == NULL)
		text = jstr(er, "info");
	oneline(line, sizeof(line), text ? text : "");
	ex = api_code_class(code ? code : "");
	fail(e, ex == EX_TEMPFAIL, ex, "%s: %s", code ? code : "error", line);
	strlcpy(e->api, code ? code : "", sizeof(e->api));
	e->retry_after = retry_after;
	if (retry_after > 0)
		snprintf(e->msg + strlen(e->msg), sizeof(e->msg) - strlen(e->msg),
		    " (retry after %ld s)", retry_after);
	return 1;
}

static int
curl_error(struct mw *m, CURLcode cc, struct mwerr *e)
{
	char detail[sizeof(m->errbuf)];
	long oserr = 0;

	oneline(detail, sizeof(detail), m->errbuf[0] ? m->errbuf :
	    curl_easy_strerror(cc));
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
		curl_easy_getinfo(m->curl, CURLINFO_OS_ERRNO, &oserr);
		if (oserr == 0)
			return fail(e, 1, EX_TEMPFAIL, "cannot connect");
		fail(e, 1, EX_TEMPFAIL, "%s", strerror((int)oserr));
		e->msg[0] = (char)tolower((unsigned char)e->msg[0]);
		return -1;
	case CURLE_OPERATION_TIMEDOUT:
		return fail(e, 1, EX_TEMPFAIL, "timed out after %ld s",
		    m->w->timeout);
	case CURLE_COULDNT_RESOLVE_HOST:
		return fail(e, 1, EX_TEMPFAIL, "cannot resolve the host");
	case CURLE_WRITE_ERROR:
		if (m->toobig)
			return fail(e, 0, EX_PROTOCOL, "reply larger than %lu MB",
			    REPLY_MAX >> 20);
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		return fail(e, 0, EX_UNAVAILABLE, "TLS: %s", detail);
	case CURLE_SSL_CACERT_BADFILE:
		return fail(e, 0, EX_CONFIG, "ca-file: %s", detail);
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
		return fail(e, 0, EX_CONFIG, "api: %s", detail);
	default:
		break;
	}
	return fail(e, 1, EX_TEMPFAIL, "%s", detail);
}

static int
http_error(struct mw *m, long status, long retry_after, struct mwerr *e)
{
	char *loc = NULL;

	if (status >= 500 || status == 408 || status == 429) {
		fail(e, 1, EX_TEMPFAIL, "HTTP %ld", status);
		e->retry_after = retry_after;
		if (retry_after > 0)
			snprintf(e->msg + strlen(e->msg),
			    sizeof(e->msg) - strlen(e->msg),
			    " (retry after %ld s)", retry_after);
		return -1;
	}
	if (status >= 300 && status < 400 &&
	    curl_easy_getinfo(m->curl, CURLINFO_REDIRECT_URL, &loc) == CURLE_OK &&
	    loc != NULL)
		return fail(e, 0, EX_PROTOCOL, "HTTP %ld to %s: give that as "
		    "api", status, loc);
	return fail(e, 0, EX_PROTOCOL, "HTTP %ld: not the API's reply",
	    status);
}

/* An upload's file part, read from its descriptor as curl sends it. */
struct upload {
	int		 fd;
	off_t		 off;
};

static size_t
up_read(char *buf, size_t size, size_t n, void *arg)
{
	struct upload *u = arg;
	ssize_t got;

	while ((got = pread(u->fd, buf, size * n, u->off)) == -1 &&
	    errno == EINTR)
		;
	if (got == -1)
		return CURL_READFUNC_ABORT;
	u->off += got;
	return (size_t)got;
}

static int
up_seek(void *arg, curl_off_t off, int origin)
{
	struct upload *u = arg;

	if (origin != SEEK_SET)
		return CURL_SEEKFUNC_CANTSEEK;
	u->off = off;
	return CURL_SEEKFUNC_OK;
}

/* The parameters and the file as a multipart/form-data body. */
static curl_mime *
req_mime(struct mw *m, const struct req *r, struct upload *u)
{
	curl_mime *mime;
	curl_mimepart *part;
	size_t i;

	if ((mime = curl_mime_init(m->curl)) == NULL)
		die(EX_TEMPFAIL, "curl_mime_init");
	for (i = 0; i < r->n; i++) {
		part = curl_mime_addpart(mime);
		curl_mime_name(part, r->p[i].key);
		curl_mime_data(part, r->p[i].val, r->p[i].len);
	}
	u->fd = r->upfd;
	u->off = 0;
	part = curl_mime_addpart(mime);
	curl_mime_name(part, "file");
	curl_mime_filename(part, r->upname);
	curl_mime_data_cb(part, (curl_off_t)r->upsize, up_read, up_seek, NULL,
	    u);
	return mime;
}

/* One request, one reply: the JSON, or NULL and e filled. */
static json_t *
send_req(struct mw *m, struct req *r, int post, struct mwerr *e)
{
	struct timespec t0, t1;
	struct upload up;
	curl_mime *mime = NULL;
	json_error_t je;
	curl_off_t ra = 0;
	json_t *root;
	char *q, *url = NULL, *lq, head[80];
	size_t qlen, lqlen;
	long status = 0, ms;
	CURLcode cc;

	req_set(r, "format", "json");
	req_set(r, "formatversion", "2");
	req_set(r, "errorformat", "plaintext");
	req_set(r, "maxlag", "5");
	q = req_encode(m, r, 0, &qlen);
	if (qlen > GET_MAX)
		post = 1;
	m->reply.len = 0;
	if (m->reply.s != NULL)
		m->reply.s[0] = '\0';
	m->toobig = 0;
	m->errbuf[0] = '\0';
	if (r->upfd > 0) {
		mime = req_mime(m, r, &up);
		curl_easy_setopt(m->curl, CURLOPT_URL, m->w->api);
		curl_easy_setopt(m->curl, CURLOPT_MIMEPOST, mime);
		/* a large file takes its time: stalls time out, not size */
		curl_easy_setopt(m->curl, CURLOPT_TIMEOUT, XFER_MAX);
		curl_easy_setopt(m->curl, CURLOPT_LOW_SPEED_LIMIT, XFER_SPEED);
		curl_easy_setopt(m->curl, CURLOPT_LOW_SPEED_TIME, m->w->timeout);
		post = 1;
	} else if (post) {
		curl_easy_setopt(m->curl, CURLOPT_URL, m->w->api);
		curl_easy_setopt(m->curl, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)qlen);
		curl_easy_setopt(m->curl, CURLOPT_POSTFIELDS, q);
	} else {
		if (asprintf(&url, "%s%c%s", m->w->api,
		    strchr(m->w->api, '?') ? '&' : '?', q) == -1)
			die(EX_TEMPFAIL, "asprintf");
		curl_easy_setopt(m->curl, CURLOPT_URL, url);
		curl_easy_setopt(m->curl, CURLOPT_HTTPGET, 1L);
	}
	clock_gettime(CLOCK_MONOTONIC, &t0);
	cc = curl_easy_perform(m->curl);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	curl_easy_setopt(m->curl, CURLOPT_POSTFIELDS, NULL);
	if (mime != NULL) {
		curl_easy_setopt(m->curl, CURLOPT_MIMEPOST, NULL);
		curl_mime_free(mime);
		curl_easy_setopt(m->curl, CURLOPT_TIMEOUT, m->w->timeout);
		curl_easy_setopt(m->curl, CURLOPT_LOW_SPEED_LIMIT, 0L);
	}
	explicit_bzero(q, qlen);
	free(q);
	free(url);
	curl_easy_getinfo(m->curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_getinfo(m->curl, CURLINFO_RETRY_AFTER, &ra);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	if (wsopt.verbose) {
		lq = req_encode(m, r, 1, &lqlen);
		ws_log(LOG_DEBUG, "%s: %s %s: HTTP %ld, %zu bytes, %ld ms",
		    m->w->name, post ? "POST" : "GET", lq, status, m->reply.len,
		    ms);
		free(lq);
	}
	if (cc != CURLE_OK) {
		curl_error(m, cc, e);
		return NULL;
	}
	if (status != 200) {
		http_error(m, status, (long)ra, e);
		return NULL;
	}
	root = json_loadb(m->reply.s ? m->reply.s : "", m->reply.len,
	    JSON_ALLOW_NUL, &je);
	if (!json_is_object(root)) {
		json_decref(root);
		oneline(head, sizeof(head), m->reply.s ? m->reply.s : "");
		fail(e, 0, EX_PROTOCOL, "not an API reply: \"%s\"", head);
		return NULL;
	}
	if (api_error(root, (long)ra, e)) {
		ws_log(LOG_DEBUG, "%s: %s", m->w->name, e->msg);
		json_decref(root);
		return NULL;
	}
	return root;
}

/* The jar: a Netscape cookie file, written only by jar_save. */
static char *
jar_read(struct mw *m)
{
	size_t len;
	char *s;
	int fd;

	if (sessdir == -1)
		return NULL;
	if ((fd = openat(sessdir, m->jar, O_RDONLY | O_CLOEXEC | O_NOFOLLOW))
	    == -1)
		return NULL;
	s = read_all(fd, JAR_MAX, &len);
	close(fd);
	if (s != NULL && strlen(s) != len) {
		free(s);
		s = NULL;
	}
	return s;
}

/* Replace the handle's cookies with those of text; 1 if there were any. */
static int
jar_load(struct mw *m, const char *text)
{
	char *copy, *line, *save = NULL;
	int any = 0;

	curl_easy_setopt(m->curl, CURLOPT_COOKIELIST, "ALL");
	copy = xstrdup(text);
	for (line = strtok_r(copy, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		if (line[0] == '#' && strncmp(line, "#HttpOnly_", 10) != 0)
			continue;
		curl_easy_setopt(m->curl, CURLOPT_COOKIELIST, line);
		any = 1;
	}
	free(copy);
	return any;
}

static char *
jar_text(struct mw *m)
{
	struct curl_slist *list = NULL, *p;
	struct buf b = { 0 };

	buf_str(&b, "# Netscape HTTP Cookie File\n"
	    "# WikiSync's session: replaced whole, never edited.\n");
	curl_easy_getinfo(m->curl, CURLINFO_COOKIELIST, &list);
	for (p = list; p != NULL; p = p->next) {
		buf_str(&b, p->data);
		buf_str(&b, "\n");
	}
	curl_slist_free_all(list);
	return b.s;
}

static int
jar_changed(struct mw *m)
{
	char *text = jar_text(m);
	int r = m->saved == NULL || strcmp(text, m->saved) != 0;

	free(text);
	return r;
}

static void
jar_save(struct mw *m)
{
	char *text;

	if (sessdir == -1)
		return;
	text = jar_text(m);
	if (m->saved != NULL && strcmp(text, m->saved) == 0) {
		free(text);
		return;
	}
	if (atomic_write(sessdir, m->jar, text, strlen(text), 0600) == -1) {
		ws_log(LOG_WARNING, "%s: session/%s: cannot save the session: "
		    "%s", m->w->name, m->jar, strerror(errno));
		free(text);
		return;
	}
	free(m->saved);
	m->saved = text;
}

static int
jar_lock(struct mw *m)
{
	int fd;

	if (sessdir == -1)
		return -1;
	fd = openat(sessdir, m->lock, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
	    0600);
	if (fd == -1)
		return -1;
	while (flock(fd, LOCK_EX) == -1)
		if (errno != EINTR) {
			close(fd);
			return -1;
		}
	return fd;
}

static json_t *call(struct mw *, struct req *, int, struct mwerr *);

/*
 * Log in under the jar's lock: 0.  Unless forced, a jar that another
 * process replaced since this one read it is taken instead, for that
 * process has just logged in: 1.
 */
static int
login(struct mw *m, int force, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root = NULL, *res;
	const char *tok, *result, *why;
	char pw[512], err[400], line[300];
	char *cur;
	int lockfd, rc = -1;

	lockfd = jar_lock(m);
	if (!force && (cur = jar_read(m)) != NULL) {
		if (m->saved == NULL || strcmp(cur, m->saved) != 0) {
			m->session = jar_load(m, cur);
			free(m->saved);
			m->saved = cur;
			m->csrf[0] = m->watch[0] = '\0';
			if (m->session) {
				ws_log(LOG_DEBUG, "%s: took the session another "
				    "process made", m->w->name);
				rc = 1;
				goto done;
			}
		} else
			free(cur);
	}
	curl_easy_setopt(m->curl, CURLOPT_COOKIELIST, "ALL");
	m->session = 0;
	m->csrf[0] = m->watch[0] = '\0';
	if (conf_password(m->w, pw, sizeof(pw), err, sizeof(err)) == -1) {
		fail(e, 0, EX_CONFIG, "password-file %s", err);
		goto done;
	}
	req_set(&r, "action", "query");
	req_set(&r, "meta", "tokens");
	req_set(&r, "type", "login");
	if ((root = call(m, &r, C_ANON, e)) == NULL)
		goto done;
	if ((tok = jstr(jget(root, "query", "tokens", NULL), "logintoken"))
	    == NULL) {
		fail(e, 0, EX_PROTOCOL, "no login token in the reply");
		goto done;
	}
	req_free(&r);
	req_set(&r, "action", "login");
	req_set(&r, "lgname", m->w->user);
	req_set(&r, "lgpassword", pw);
	req_set(&r, "lgtoken", tok);
	json_decref(root);
	if ((root = call(m, &r, C_ANON | C_POST, e)) == NULL)
		goto done;
	res = json_object_get(root, "login");
	result = jstr(res, "result");
	if (result != NULL && strcmp(result, "Success") == 0) {
		m->session = m->loggedin = 1;
		jar_save(m);
		ws_log(LOG_DEBUG, "%s: logged in as %s", m->w->name,
		    m->w->user);
		rc = 0;
		goto done;
	}
	if ((why = jstr(res, "reason")) == NULL)
		why = jstr(json_object_get(res, "reason"), "text");
	oneline(line, sizeof(line), why ? why : "");
	if (result != NULL && (strcmp(result, "NeedToken") == 0 ||
	    strcmp(result, "WrongToken") == 0))
		fail(e, 0, EX_PROTOCOL, "login as %s: %s: the wiki did not "
		    "get its session cookie back (is api the wiki's own URL?)",
		    m->w->user, result);
	else
		fail(e, 0, EX_NOPERM, "login as %s refused: %s%s%s",
		    m->w->user, result ? result : "no result",
		    *line ? ": " : "", line);
done:
	explicit_bzero(pw, sizeof(pw));
	json_decref(root);
	req_free(&r);
	if (lockfd != -1)
		close(lockfd);
	return rc;
}

static int
tokens(struct mw *m, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *t;
	const char *csrf, *watch;

	if (m->csrf[0] != '\0' && m->watch[0] != '\0')
		return 0;
	req_set(&r, "action", "query");
	req_set(&r, "meta", "tokens");
	req_set(&r, "type", "csrf|watch");
	root = call(m, &r, 0, e);
	req_free(&r);
	if (root == NULL)
		return -1;
	t = jget(root, "query", "tokens", NULL);
	csrf = jstr(t, "csrftoken");
	watch = jstr(t, "watchtoken");
	if (csrf == NULL || watch == NULL || strcmp(csrf, ANON_TOKEN) == 0) {
		json_decref(root);
		return fail(e, 0, EX_PROTOCOL, "no tokens for a logged-in "
		    "user in the reply");
	}
	strlcpy(m->csrf, csrf, sizeof(m->csrf));
	strlcpy(m->watch, watch, sizeof(m->watch));
	json_decref(root);
	return 0;
}

/*
 * A request as the sync user: logged in first when there is no session,
 * with assert=user; on a lost session it takes the session another
 * process has just made, or logs in, and tries again, at most once after
 * its own login.  Writes carry their token.
 */
static json_t *
call(struct mw *m, struct req *r, int flags, struct mwerr *e)
{
	json_t *root;
	int took = 0, relogged = 0, rc;

	for (;;) {
		if (!(flags & C_ANON) && !m->session) {
			if ((rc = login(m, took, e)) == -1)
				return NULL;
			if (rc == 1)
				took = 1;
			else
				relogged = 1;
		}
		if (!(flags & C_ANON))
			req_set(r, "assert", "user");
		if ((flags & (C_CSRF | C_WATCH)) && tokens(m, e) == -1)
			return NULL;
		if (flags & C_CSRF)
			req_set(r, "token", m->csrf);
		if (flags & C_WATCH)
			req_set(r, "token", m->watch);
		root = send_req(m, r, flags & (C_POST | C_CSRF | C_WATCH), e);
		if (root != NULL || (flags & C_ANON) || relogged ||
		    !session_lost(e->api))
			return root;
		ws_log(LOG_DEBUG, "%s: %s: the session has lapsed", m->w->name,
		    e->api);
		m->session = 0;
		m->csrf[0] = m->watch[0] = '\0';
	}
}

/* What a query asks for, to name it in an error. */
static const char *
req_what(const struct req *r)
{
	static const char *const keys[] = { "list", "generator", "prop" };
	size_t i, k;

	for (k = 0; k < 3; k++)
		for (i = 0; i < r->n; i++)
			if (strcmp(r->p[i].key, keys[k]) == 0)
				return r->p[i].val;
	return "query";
}

/*
 * Copy every continuation parameter of the reply into r: 1, or 0 if none.
 * -1 (e set) when the continuation cannot be a wiki's: not an object of
 * at most CONT_KEYS names ending in "continue", the same as the request
 * it answers (it would go round for ever), or past BATCHES_MAX batches.
 */
static int
next_batch(json_t *root, struct req *r, struct mwerr *e)
{
	json_t *cont = json_object_get(root, "continue"), *v;
	const char *key, *val;
	char num[32];
	size_t i, len, same = 0, n = 0;

	if (cont == NULL)
		return 0;
	if (!json_is_object(cont) || json_object_size(cont) > CONT_KEYS)
		return fail(e, 0, EX_PROTOCOL, "%s: a continuation of %zu "
		    "names: no wiki sends that", req_what(r),
		    json_object_size(cont));
	if (++r->batches > BATCHES_MAX)
		return fail(e, 0, EX_PROTOCOL, "%s: more than %d batches: "
		    "it would never end", req_what(r), BATCHES_MAX);
	json_object_foreach(cont, key, v) {
		len = strlen(key);
		if (len < 8 || strcmp(key + len - 8, "continue") != 0 ||
		    !(json_is_string(v) || json_is_integer(v)))
			return fail(e, 0, EX_PROTOCOL, "%s: a continuation "
			    "no wiki sends (%s)", req_what(r), key);
		if (json_is_integer(v)) {
			snprintf(num, sizeof(num), "%lld",
			    (long long)json_integer_value(v));
			val = num;
		} else
			val = json_string_value(v);
		for (i = 0; i < r->n; i++)
			if (strcmp(r->p[i].key, key) == 0 &&
			    strcmp(r->p[i].val, val) == 0)
				same++;
		req_set(r, key, val);
		n++;
	}
	if (n > 0 && same == n)
		return fail(e, 0, EX_PROTOCOL, "%s: the wiki answered the "
		    "same continuation again: it would never end", req_what(r));
	return n > 0;
}

/*
 * Every item of a list query (list=NAME), batch after batch, each handed
 * to add with arg; frees r.  -1 when a request failed, after drop(arg)
 * let go of what add kept.
 */
static int
list_all(struct mw *m, struct req *r, const char *name,
    void (*add)(json_t *, void *), void (*drop)(void *), void *arg,
    struct mwerr *e)
{
	json_t *root, *j;
	size_t i;
	int more = 1;

	while (more) {
		if ((root = call(m, r, 0, e)) == NULL) {
			req_free(r);
			drop(arg);
			return -1;
		}
		json_array_foreach(jget(root, "query", name, NULL), i, j)
			add(j, arg);
		more = next_batch(root, r, e);
		json_decref(root);
		if (more == -1) {
			req_free(r);
			drop(arg);
			return -1;
		}
	}
	req_free(r);
	return 0;
}

/* Room for one more of n items of size sz in *v (cap of them so far). */
static void *
grow(void *v, size_t n, size_t *cap, size_t sz)
{
	if (n < *cap)
		return v;
	*cap = *cap ? *cap * 2 : 16;
	return xreallocarray(v, *cap, sz);
}

static int
open_sessdir(struct mwerr *e)
{
	const char *spool = ws_spool();
	int root;

	if ((root = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return fail(e, 1, EX_TEMPFAIL, "spool %s: %s", spool,
		    strerror(errno));
	if (mkdirat(root, "session", 0700) == -1 && errno != EEXIST) {
		fail(e, 1, EX_TEMPFAIL, "%s/session: %s", spool, strerror(errno));
		close(root);
		return -1;
	}
	sessdir = openat(root, "session", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (sessdir == -1)
		fail(e, 1, EX_TEMPFAIL, "%s/session: %s", spool, strerror(errno));
	close(root);
	return sessdir == -1 ? -1 : 0;
}

struct mw *
mw_open(const struct wiki *w, struct mwerr *e)
{
	static int inited;
	const char *report = ws_conf()->report;
	struct mw *m;
	size_t n;
	char *text;

	if (!inited) {
		char why[300];

		if (libcurl_load(why, sizeof(why)) == -1) {
			fail(e, 0, EX_UNAVAILABLE, "libcurl: %s", why);
			return NULL;
		}
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
			fail(e, 1, EX_TEMPFAIL, "curl_global_init failed");
			return NULL;
		}
		inited = 1;
		atexit(mw_close_all);
	}
	if (sessdir == -1 && open_sessdir(e) == -1)
		return NULL;
	m = xcalloc(1, sizeof(*m));
	m->w = w;
	if ((m->curl = curl_easy_init()) == NULL) {
		free(m);
		fail(e, 1, EX_TEMPFAIL, "curl_easy_init failed");
		return NULL;
	}
	if ((m->next = open_handles) != NULL)
		open_handles->prev = m;
	open_handles = m;
	n = strcspn(w->user, "@");
	snprintf(m->user, sizeof(m->user), "%.*s", (int)n, w->user);
	snprintf(m->jar, sizeof(m->jar), "%s.cookies", w->name);
	snprintf(m->lock, sizeof(m->lock), "%s.lock", w->name);
	snprintf(m->ua, sizeof(m->ua), "wikisync/%s (%s%s%s) libcurl/%s",
	    VERSION, getprogname(), report ? "; " : "", report ? report : "",
	    curl_version_info(CURLVERSION_NOW)->version);
	m->headers = curl_slist_append(NULL, "Expect:");
	curl_easy_setopt(m->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(m->curl, CURLOPT_ERRORBUFFER, m->errbuf);
	curl_easy_setopt(m->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(m->curl, CURLOPT_WRITEDATA, m);
	curl_easy_setopt(m->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(m->curl, CURLOPT_USERAGENT, m->ua);
	curl_easy_setopt(m->curl, CURLOPT_HTTPHEADER, m->headers);
	curl_easy_setopt(m->curl, CURLOPT_TIMEOUT, w->timeout);
	curl_easy_setopt(m->curl, CURLOPT_CONNECTTIMEOUT, w->timeout);
	curl_easy_setopt(m->curl, CURLOPT_TCP_KEEPALIVE, 1L);
	curl_easy_setopt(m->curl, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(m->curl, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(m->curl, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(m->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(m->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	if (w->cafile != NULL)
		curl_easy_setopt(m->curl, CURLOPT_CAINFO, w->cafile);
	curl_easy_setopt(m->curl, CURLOPT_COOKIEFILE, "");
	if ((text = jar_read(m)) != NULL) {
		m->session = jar_load(m, text);
		m->saved = text;
	}
	return m;
}

/* Keeps cookies the wiki changed without a login for the next process. */
void
mw_close(struct mw *m)
{
	int lockfd;

	if (m == NULL)
		return;
	if (m->prev != NULL)
		m->prev->next = m->next;
	else
		open_handles = m->next;
	if (m->next != NULL)
		m->next->prev = m->prev;
	if (m->session && jar_changed(m)) {
		lockfd = jar_lock(m);
		jar_save(m);
		if (lockfd != -1)
			close(lockfd);
	}
	curl_easy_cleanup(m->curl);
	curl_slist_free_all(m->headers);
	free(m->reply.s);
	free(m->saved);
	explicit_bzero(m, sizeof(*m));
	free(m);
}

int
mw_login(struct mw *m, struct mwerr *e)
{
	return login(m, 1, e) == -1 ? -1 : 0;
}

int
mw_loggedin(const struct mw *m)
{
	return m->loggedin;
}

static char **
jstrings(json_t *a, size_t *n)
{
	char **v;
	size_t i;

	*n = json_array_size(a);
	v = xcalloc(*n + 1, sizeof(*v));
	for (i = 0; i < *n; i++)
		v[i] = xstrdup(json_is_string(json_array_get(a, i)) ?
		    json_string_value(json_array_get(a, i)) : "");
	return v;
}

static void
strings_free(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

/*
 * A write with the csrf token whose reply must hold key (the module's
 * own answer); r is freed.  0, or -1 with e set.
 */
static int
write_call(struct mw *m, struct req *r, const char *key, struct mwerr *e)
{
	json_t *root;
	int ok;

	root = call(m, r, C_CSRF, e);
	req_free(r);
	if (root == NULL)
		return -1;
	ok = json_object_get(root, key) != NULL;
	json_decref(root);
	if (!ok)
		return fail(e, 0, EX_PROTOCOL, "no %s in the reply", key);
	return 0;
}

/* An option's value as MediaWiki gives it: true, 1 or "1" are on. */
static int
jon(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_true(v) || (json_is_integer(v) &&
	    json_integer_value(v) != 0) || (json_is_string(v) &&
	    strcmp(json_string_value(v), "1") == 0);
}

/*
 * Who the session is, with its rights; with MW_WHO_MAIL also whether
 * the wiki can mail it each change: a confirmed address and the
 * watchlist options on.
 */
int
mw_whoami(struct mw *m, struct mwuser *u, int flags, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *ui, *rl, *opt;

	memset(u, 0, sizeof(*u));
	req_set(&r, "action", "query");
	req_set(&r, "meta", "userinfo");
	req_set(&r, "uiprop", flags & MW_WHO_MAIL ?
	    "rights|ratelimits|groups|email|options" :
	    "rights|ratelimits|groups");
	root = call(m, &r, 0, e);
	req_free(&r);
	if (root == NULL)
		return -1;
	if ((ui = jget(root, "query", "userinfo", NULL)) == NULL) {
		json_decref(root);
		return fail(e, 0, EX_PROTOCOL, "no userinfo in the reply");
	}
	u->name = jdup(ui, "name");
	u->id = jlong(ui, "id");
	u->groups = jstrings(json_object_get(ui, "groups"), &u->ngroups);
	u->rights = jstrings(json_object_get(ui, "rights"), &u->nrights);
	rl = json_object_get(ui, "ratelimits");
	u->ratelimited = json_is_object(rl) && json_object_size(rl) > 0;
	if (flags & MW_WHO_MAIL) {
		/* without the grant privateinfo the address is not shown */
		u->mailknown = json_object_get(ui, "email") != NULL;
		u->email = jdup(ui, "email");
		u->emailok = json_object_get(ui, "emailauthenticated") != NULL;
		opt = json_object_get(ui, "options");
		u->notifypages = jon(opt, "enotifwatchlistpages");
		u->notifyminor = jon(opt, "enotifminoredits");
	}
	json_decref(root);
	return 0;
}

/* Set the session user's own preferences: "name=value|name=value". */
int
mw_options(struct mw *m, const char *change, struct mwerr *e)
{
	struct req r = { 0 };

	req_set(&r, "action", "options");
	req_set(&r, "change", change);
	return write_call(m, &r, "options", e);
}

int
mw_user_can(const struct mwuser *u, const char *right)
{
	size_t i;

	for (i = 0; i < u->nrights; i++)
		if (strcmp(u->rights[i], right) == 0)
			return 1;
	return 0;
}

void
mw_user_free(struct mwuser *u)
{
	free(u->name);
	free(u->email);
	strings_free(u->groups, u->ngroups);
	strings_free(u->rights, u->nrights);
	memset(u, 0, sizeof(*u));
}

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
			buf_str(&b, num);
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
static const char *
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

static void
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
static int
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
mw_move(struct mw *m, const char *from, const char *to, const char *reason,
    int noredir, struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root;
	int ok;

	req_set(&r, "action", "move");
	req_set(&r, "from", from);
	req_set(&r, "to", to);
	req_set(&r, "reason", reason);
	req_set(&r, "movetalk", "1");
	if (noredir)
		req_set(&r, "noredirect", "1");
	root = call(m, &r, C_CSRF, e);
	req_free(&r);
	if (root == NULL) {
		if (e->code == EX_NOPERM)
			return refused(e, "move", noredir ? "move and "
			    "suppressredirect" : "move", "createeditmovepage");
		return -1;
	}
	ok = json_is_object(json_object_get(root, "move"));
	json_decref(root);
	if (!ok)
		return fail(e, 0, EX_PROTOCOL, "no move in the reply");
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
	if (asprintf(&full, "Category:%s", cat) == -1)
		die(EX_TEMPFAIL, "asprintf");
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

/* --- files ------------------------------------------------------------ */

/*
 * f from a page of prop=imageinfo: its current version, or with self
 * (the sync user's name) the newest of those listed that self did not
 * upload, when there is one (see struct mwfile).
 */
static void
file_fill(struct mwfile *f, json_t *j, const char *self)
{
	json_t *vs = json_object_get(j, "imageinfo");
	json_t *ii = json_array_get(vs, 0), *v;
	const char *repo = jstr(j, "imagerepository"), *u;
	size_t i;

	f->title = jdup(j, "title");
	f->haspage = !jbool(j, "missing");
	f->missing = ii == NULL;
	f->local = repo != NULL && strcmp(repo, "local") == 0;
	jcpy(f->cur, sizeof(f->cur), ii, "sha1");
	json_array_foreach(vs, i, v)
		if (self != NULL && (u = jstr(v, "user")) != NULL &&
		    strcmp(u, self) != 0) {
			ii = v;
			break;
		}
	jcpy(f->sha1, sizeof(f->sha1), ii, "sha1");
	f->size = jlong(ii, "size");
	f->mime = jdup(ii, "mime");
	f->url = jdup(ii, "url");
	f->user = jdup(ii, "user");
	f->comment = jdup(ii, "comment");
	jcpy(f->timestamp, sizeof(f->timestamp), ii, "timestamp");
}

#define IIPROP	"sha1|size|mime|timestamp|url|user|comment"
#define FILE_VERSIONS	"10"	/* of a file, read for one not the sync's */

struct files { struct mwfile *v; size_t n, cap; };

/*
 * The files a page shows (prop=images: links, galleries, templates),
 * each with its current version; none when the page is missing.
 */
int
mw_files_of(struct mw *m, const char *title, struct mwfile **v, size_t *n,
    struct mwerr *e)
{
	struct req r = { 0 };
	struct files f = { 0 };
	json_t *root, *j;
	size_t i;
	int more = 1;

	req_set(&r, "action", "query");
	req_set(&r, "generator", "images");
	req_titles(&r, "titles", &title, 1);
	req_set(&r, "gimlimit", "max");
	req_set(&r, "prop", "imageinfo|info");
	req_set(&r, "iiprop", IIPROP);
	while (more) {
		if ((root = call(m, &r, 0, e)) == NULL) {
			req_free(&r);
			mw_files_free(f.v, f.n);
			return -1;
		}
		json_array_foreach(jget(root, "query", "pages", NULL), i, j) {
			/* a later batch may hold a page again, for its info */
			if (f.n > 0 && jstr(j, "title") != NULL &&
			    strcmp(f.v[f.n - 1].title, jstr(j, "title")) == 0)
				continue;
			f.v = grow(f.v, f.n, &f.cap, sizeof(*f.v));
			memset(&f.v[f.n], 0, sizeof(f.v[0]));
			file_fill(&f.v[f.n++], j, NULL);
		}
		more = next_batch(root, &r, e);
		json_decref(root);
		if (more == -1) {
			req_free(&r);
			mw_files_free(f.v, f.n);
			return -1;
		}
	}
	req_free(&r);
	*v = f.v;
	*n = f.n;
	return 0;
}

/*
 * Which of n pages show a file (an image link, the file there or not):
 * has[i] is 1 for titles[i] (as the wiki names it) if it does.
 */
int
mw_with_files(struct mw *m, const char **titles, size_t n, int *has,
    struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *j;
	const char *t;
	size_t b, k, i, x;
	int more;

	memset(has, 0, n * sizeof(*has));
	for (b = 0; b < n; b += k) {
		k = n - b < MW_MAXTITLES ? n - b : MW_MAXTITLES;
		req_set(&r, "action", "query");
		req_set(&r, "prop", "images");
		req_titles(&r, "titles", titles + b, k);
		req_set(&r, "imlimit", "max");
		for (more = 1; more;) {
			if ((root = call(m, &r, 0, e)) == NULL) {
				req_free(&r);
				return -1;
			}
			json_array_foreach(jget(root, "query", "pages", NULL),
			    x, j) {
				if ((t = jstr(j, "title")) == NULL ||
				    json_array_size(json_object_get(j,
				    "images")) == 0)
					continue;
				for (i = b; i < b + k; i++)
					if (strcmp(titles[i], t) == 0)
						has[i] = 1;
			}
			more = next_batch(root, &r, e);
			json_decref(root);
			if (more == -1) {
				req_free(&r);
				return -1;
			}
		}
		req_free(&r);
	}
	return 0;
}

/* The current version of n files, by title (File:...); v[i] is titles[i]. */
int
mw_files(struct mw *m, const char **titles, size_t n, struct mwfile *v,
    struct mwerr *e)
{
	struct req r = { 0 };
	json_t *root, *j;
	const char *t, *want;
	size_t b, k, i, jn;

	memset(v, 0, n * sizeof(*v));
	for (b = 0; b < n; b += k) {
		k = n - b < MW_MAXTITLES ? n - b : MW_MAXTITLES;
		req_set(&r, "action", "query");
		req_titles(&r, "titles", titles + b, k);
		req_set(&r, "prop", "imageinfo|info");
		req_set(&r, "iiprop", IIPROP);
		req_set(&r, "iilimit", FILE_VERSIONS);
		root = call(m, &r, 0, e);
		req_free(&r);
		if (root == NULL) {
			mw_files_free_in(v, n);
			return -1;
		}
		json_array_foreach(jget(root, "query", "pages", NULL), jn, j) {
			if ((t = jstr(j, "title")) == NULL)
				continue;
			for (i = b; i < b + k; i++) {
				want = normalized(root, titles[i]);
				if (v[i].title == NULL && strcmp(want, t) == 0)
					file_fill(&v[i], j, m->user);
			}
		}
		json_decref(root);
	}
	for (i = 0; i < n; i++)
		if (v[i].title == NULL) {
			v[i].title = xstrdup(titles[i]);
			v[i].missing = 1;
		}
	return 0;
}

void
mw_files_free_in(struct mwfile *v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++) {
		free(v[i].title);
		free(v[i].mime);
		free(v[i].url);
		free(v[i].user);
		free(v[i].comment);
	}
	if (v != NULL)
		memset(v, 0, n * sizeof(*v));
}

void
mw_files_free(struct mwfile *v, size_t n)
{
	mw_files_free_in(v, n);
	free(v);
}

/*
 * The pages that show a file (prop=fileusage), with their categories,
 * one batch of 50 at a time: each handed to fn until it returns non-zero.
 */
int
mw_file_users(struct mw *m, const char *title,
    int (*fn)(const struct mwpage *, void *), void *arg, struct mwerr *e)
{
	struct req r = { 0 };
	struct mwpage p;
	json_t *root, *j;
	size_t i;
	int more = 1, done = 0;

	req_set(&r, "action", "query");
	req_set(&r, "generator", "fileusage");
	req_titles(&r, "titles", &title, 1);
	req_set(&r, "gfulimit", "50");
	req_set(&r, "prop", "categories|info");
	req_set(&r, "cllimit", "max");
	while (more && !done) {
		if ((root = call(m, &r, 0, e)) == NULL) {
			req_free(&r);
			return -1;
		}
		json_array_foreach(jget(root, "query", "pages", NULL), i, j) {
			memset(&p, 0, sizeof(p));
			page_fill(&p, j);
			if (!done && fn(&p, arg))
				done = 1;
			mw_pages_free(&p, 1);
		}
		more = next_batch(root, &r, e);
		json_decref(root);
		if (more == -1) {
			req_free(&r);
			return -1;
		}
	}
	req_free(&r);
	return 0;
}

/* A file's bytes as they arrive: to fd, and into its SHA-1. */
struct dl {
	int		 fd;
	SHA1_CTX	 sha;
	long long	 len;
	int		 err;
};

static size_t
on_file(char *p, size_t size, size_t n, void *arg)
{
	struct dl *d = arg;
	ssize_t w;
	size_t done = 0;

	n *= size;
	SHA1Update(&d->sha, (const uint8_t *)p, n);
	while (done < n) {
		if ((w = write(d->fd, p + done, n - done)) == -1) {
			if (errno == EINTR)
				continue;
			d->err = errno;
			return 0;
		}
		done += (size_t)w;
	}
	d->len += (long long)n;
	return n;
}

/* Is url on the same scheme, host and port as the wiki's API? */
static int
same_origin(const char *api, const char *url)
{
	const char *p = strstr(api, "://");
	size_t n;

	if (p == NULL || (p = strchr(p + 3, '/')) == NULL)
		return 0;
	n = (size_t)(p - api) + 1;
	return strncmp(api, url, n) == 0;
}

/*
 * The bytes of a file's current version, from the wiki's own host only,
 * streamed to fd; sha1 is what arrived.  The session's cookies go with
 * the request, for wikis that serve files through img_auth.php.
 */
int
mw_download(struct mw *m, const struct mwfile *f, int fd, char sha1[41],
    struct mwerr *e)
{
	struct dl d;
	long status = 0;
	CURLcode cc;

	if (!same_origin(m->w->api, f->url))
		return fail(e, 0, EX_DATAERR, "%s: its URL %s is not on the "
		    "wiki's own host", f->title, f->url);
	memset(&d, 0, sizeof(d));
	d.fd = fd;
	SHA1Init(&d.sha);
	m->errbuf[0] = '\0';
	curl_easy_setopt(m->curl, CURLOPT_URL, f->url);
	curl_easy_setopt(m->curl, CURLOPT_HTTPGET, 1L);
	curl_easy_setopt(m->curl, CURLOPT_WRITEFUNCTION, on_file);
	curl_easy_setopt(m->curl, CURLOPT_WRITEDATA, &d);
	curl_easy_setopt(m->curl, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)FILE_MAX);
	curl_easy_setopt(m->curl, CURLOPT_TIMEOUT, XFER_MAX);
	curl_easy_setopt(m->curl, CURLOPT_LOW_SPEED_LIMIT, XFER_SPEED);
	curl_easy_setopt(m->curl, CURLOPT_LOW_SPEED_TIME, m->w->timeout);
	cc = curl_easy_perform(m->curl);
	curl_easy_setopt(m->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(m->curl, CURLOPT_WRITEDATA, m);
	curl_easy_setopt(m->curl, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)0);
	curl_easy_setopt(m->curl, CURLOPT_TIMEOUT, m->w->timeout);
	curl_easy_setopt(m->curl, CURLOPT_LOW_SPEED_LIMIT, 0L);
	curl_easy_getinfo(m->curl, CURLINFO_RESPONSE_CODE, &status);
	if (d.err != 0)
		return fail(e, 1, EX_TEMPFAIL, "%s: writing it down: %s",
		    f->title, strerror(d.err));
	if (cc == CURLE_FILESIZE_EXCEEDED)
		return fail(e, 0, EX_DATAERR, "%s: larger than %lld MB",
		    f->title, FILE_MAX >> 20);
	if (cc != CURLE_OK)
		return curl_error(m, cc, e);
	if (status != 200)
		return fail(e, status >= 500 || status == 404, status >= 500 ||
		    status == 404 ? EX_TEMPFAIL : EX_PROTOCOL,
		    "%s: %s: HTTP %ld", f->title, f->url, status);
	SHA1End(&d.sha, sha1);
	ws_log(LOG_DEBUG, "%s: %s: %lld bytes", m->w->name, f->title, d.len);
	return 0;
}

/*
 * MediaWiki keeps a replaced file version as archive/TIMESTAMP!NAME, to
 * the second: a second replacement of one file within one second (an
 * editor's upload, then the sync's) finds that name taken and fails
 * ("backend-fail-alreadyexists: The file .../archive/...!NAME already
 * exists"), with nothing saved.  In the next second it goes through.
 */
static int
same_second(const struct mwerr *e)
{
	/* the code depends on the error format asked for */
	return (strcmp(e->api, "backend-fail-alreadyexists") == 0 ||
	    strcmp(e->api, "uploadstash-exception") == 0) &&
	    strstr(e->msg, "/archive/") != NULL &&
	    strstr(e->msg, "already exists") != NULL;
}

/*
 * Upload size bytes from fd as the file name (without "File:"), over
 * whatever version is there; text is the description page's for a new
 * file.  A version the wiki already has is uploaded.  Made again in the
 * wiki's next second when another version was uploaded in this one
 * (same_second), a few times at most.
 */
int
mw_upload(struct mw *m, const char *name, int fd, off_t size,
    const char *text, const char *comment, struct mwerr *e)
{
	struct req r = { 0 };
	struct timespec d = { 1, 50 * 1000000 };
	json_t *root;
	const char *res;
	char *fname;
	int tries = 0;

	if ((fname = strchr(name, ':')) != NULL)
		name = fname + 1;
	req_set(&r, "action", "upload");
	req_set(&r, "filename", name);
	req_set(&r, "comment", comment);
	req_set(&r, "text", text);
	req_set(&r, "ignorewarnings", "1");
	r.upname = name;
	r.upsize = size;
	for (;;) {
		r.upfd = fd;	/* read with pread from 0, each try */
		root = call(m, &r, C_CSRF, e);
		if (root != NULL || !same_second(e) || ++tries == 3)
			break;
		ws_log(LOG_INFO, "%s: File:%s: another version in this "
		    "second: uploaded in the next", m->w->name, name);
		while (nanosleep(&d, &d) == -1 && errno == EINTR)
			;
		d.tv_sec = 1;
		d.tv_nsec = 50 * 1000000;
	}
	req_free(&r);
	if (root == NULL) {
		if (strcmp(e->api, "fileexists-no-change") == 0)
			return 0;
		if (e->code == EX_NOPERM)
			return refused(e, "upload", "upload and reupload",
			    "uploadfile and uploadeditmovefile");
		return -1;
	}
	res = jstr(json_object_get(root, "upload"), "result");
	if (res == NULL || strcmp(res, "Success") != 0) {
		fail(e, 0, EX_DATAERR, "upload of %s: %s", name,
		    res ? res : "no result in the reply");
		json_decref(root);
		return -1;
	}
	json_decref(root);
	return 0;
}

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
