/*
 * mw.c: the MediaWiki API client (see mw.h and ws-login(1)): its
 * sessions, the call every request goes through, and the handles.
 * The client's other files: mwhttp.c (a request on the wire, and the
 * API's errors), mwread.c (revisions and pages), mwwrite.c (edits,
 * moves, deletions, logs, lists), mwfile.c (files), mwtrust.c (whom a
 * page's history may be trusted from); mwint.h is what they share.
 *
 * Sessions: SPOOL/session/WIKI.cookies (0600) holds the wiki's cookies.
 * It is only ever replaced whole (tmp, fsync, rename), so reading it
 * needs no lock; a login holds an exclusive flock on WIKI.lock until the
 * new jar is in place, so processes that find the session lapsed at once
 * log in once: the others wait, then take the jar the first one wrote.
 * Every request but the login's own carries assert=user; on
 * assertuserfailed, notloggedin or badtoken the call logs in again and is
 * retried once, and a login that fails fails the call.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "wikisync.h"
#include "libcurl.h"
#include "mw.h"
#include "mwint.h"

static int sessdir = -1;
static int nojar;		/* mw_no_jar: sessions in memory only */
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

	reply_str(&b, "# Netscape HTTP Cookie File\n"
	    "# WikiSync's session: replaced whole, never edited.\n");
	curl_easy_getinfo(m->curl, CURLINFO_COOKIELIST, &list);
	for (p = list; p != NULL; p = p->next) {
		reply_str(&b, p->data);
		reply_str(&b, "\n");
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
json_t *
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
int
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
int
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
void *
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
	struct stat st;
	int root;

	if ((root = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return fail(e, 1, EX_TEMPFAIL, "spool %s: %s", spool,
		    strerror(errno));
	/* a session jar root made would be root's: not the sync user's */
	if (fstat(root, &st) == 0)
		spool_as_owner(&st, spool);
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

/*
 * From now on sessions live in memory only: no jar is read or written,
 * no session directory made (a check of a draft configuration must not
 * touch the sessions the sync shares).  Before the first mw_open.
 */
void
mw_no_jar(void)
{
	nojar = 1;
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
	if (!nojar && sessdir == -1 && open_sessdir(e) == -1)
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

char **
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

void
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
int
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
