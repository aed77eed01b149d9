/*
 * mwfile.c: files: their versions, the pages that show them, and their
 * bytes down from one wiki and up to another, never whole in memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sha1.h>

#include "wikisync.h"
#include "libcurl.h"
#include "mw.h"
#include "mwint.h"

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
