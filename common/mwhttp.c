/*
 * mwhttp.c: one API request on the wire, and what its answer means.
 *
 * Transport: one libcurl easy handle per wiki, reused for every request,
 * gzip, the wiki's timeout, TLS always verified (ca-file adds a CA
 * bundle; nothing turns verification off), http and https only, no
 * redirect followed.  Every request asks for format=json,
 * formatversion=2, errorformat=plaintext and maxlag=5; reads are GET
 * while short, writes and long requests POST.
 * Errors: temporary (75): no connection, timeout, HTTP 5xx, 408, 429,
 * maxlag, ratelimited, readonly, internal errors.  Permanent: 77 the
 * login or a right refused; 78 no usable password file or ca-file;
 * 69 TLS verification failed; 76 a reply that is not the API's;
 * 65 the API refused the request itself.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "wikisync.h"
#include "libcurl.h"
#include "mw.h"
#include "mwint.h"

int
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
void
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
reply_add(struct buf *b, const char *s, size_t n)
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

void
reply_str(struct buf *b, const char *s)
{
	reply_add(b, s, strlen(s));
}

static void
reply_printable(struct buf *b, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		reply_add(b, (unsigned char)s[i] < ' ' ? " " : s + i, 1);
}

/* Request parameters: a set of key=value, values copied. */
void
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

void
req_set(struct req *r, const char *key, const char *val)
{
	req_setn(r, key, val, strlen(val));
}

void
req_setl(struct req *r, const char *key, long n)
{
	char num[24];

	snprintf(num, sizeof(num), "%ld", n);
	req_set(r, key, num);
}

void
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
void
req_titles(struct req *r, const char *key, const char **t, size_t n)
{
	struct buf b = { 0 };
	const char *sep = "|";
	size_t i;

	for (i = 0; i < n; i++)
		if (strchr(t[i], '|') != NULL)
			sep = "\x1f";
	if (*sep != '|')
		reply_str(&b, sep);
	for (i = 0; i < n; i++) {
		if (i > 0)
			reply_str(&b, sep);
		reply_str(&b, t[i]);
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
			reply_str(&b, "&");
		reply_str(&b, p->key);
		reply_str(&b, "=");
		if (forlog && (strcmp(p->key, "lgpassword") == 0 ||
		    strcmp(p->key, "token") == 0 ||
		    strcmp(p->key, "lgtoken") == 0)) {
			reply_str(&b, "*");
			continue;
		}
		if (forlog) {
			reply_printable(&b, p->val, p->len > 60 ? 40 : p->len);
			if (p->len > 60)
				reply_str(&b, "...");
			continue;
		}
		if ((v = curl_easy_escape(m->curl, p->val, (int)p->len)) == NULL)
			die(EX_TEMPFAIL, "curl_easy_escape");
		reply_str(&b, v);
		curl_free(v);
	}
	if (b.s == NULL)
		reply_str(&b, "");
	*lenp = b.len;
	return b.s;
}

size_t
on_data(char *p, size_t size, size_t n, void *arg)
{
	struct mw *m = arg;

	n *= size;
	if (m->reply.len + n > REPLY_MAX) {
		m->toobig = 1;
		return 0;
	}
	reply_add(&m->reply, p, n);
	return n;
}

/* JSON helpers: absent or mistyped members read as NULL, 0, false. */
json_t *
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

const char *
jstr(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

long
jlong(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (long)json_integer_value(v) : 0;
}

int
jbool(json_t *o, const char *key)
{
	return json_is_true(json_object_get(o, key));
}

char *
jdup(json_t *o, const char *key)
{
	const char *s = jstr(o, key);

	return xstrdup(s ? s : "");
}

void
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

int
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

/*
 * -v: the API's warnings, one line each.  A deprecation warns before a
 * later MediaWiki release refuses, so this is where a wiki's upgrade
 * shows first (wikisync(7), COMPATIBILITY).
 */
static void
api_warnings(const struct mw *m, json_t *root)
{
	json_t *w;
	size_t i;
	char line[400];
	const char *s;

	if (!wsopt.verbose)
		return;
	json_array_foreach(json_object_get(root, "warnings"), i, w) {
		s = jstr(w, "text");
		oneline(line, sizeof(line), s != NULL ? s : "");
		s = jstr(w, "module");
		ws_log(LOG_DEBUG, "%s: API warning: %s: %s: %s", m->w->name,
		    s != NULL ? s : "?", jstr(w, "code") != NULL ?
		    jstr(w, "code") : "?", line);
	}
}

int
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
json_t *
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
		url = xasprintf("%s%c%s", m->w->api,
		    strchr(m->w->api, '?') ? '&' : '?', q);
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
	api_warnings(m, root);
	return root;
}
