/*
 * login.c: ws-login, log in to the wikis, keep sessions alive, report
 * down time.
 *
 * Each run checks the wikis named (all by default), prints a line for
 * each, and records what it found in SPOOL/state/WIKI: key=value lines,
 * only ever replaced whole (state, since, previous, last_ok, last_error,
 * code, checked, reported).  A wiki is up when a request as the sync user
 * succeeds, down otherwise, whatever the reason.  The state directory's
 * flock is held from reading a wiki's state to writing it back, so runs
 * that overlap see each change once: each change is logged once, and
 * mailed once to the report address (reported= holds the since of the
 * last change mailed; a mail that failed goes out with the next run).
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wikisync.h"
#include "libcurl.h"
#include "mw.h"
#include "sync.h"

#define SENDMAIL	"/usr/sbin/sendmail"

static const char usage[] = "[-knqv] [-c file] [-d dir] [wiki ...]";


static int
state_write(int dir, const char *name, const struct wikistate *st)
{
	char buf[MW_ERRLEN + 256];
	int n;

	n = snprintf(buf, sizeof(buf), "state=%s\nsince=%lld\nprevious=%lld\n"
	    "last_ok=%lld\nlast_error=%s\ncode=%d\nchecked=%lld\n"
	    "reported=%lld\n", st->up == 1 ? "up" : "down", st->since,
	    st->previous, st->last_ok, st->error, st->code, st->checked,
	    st->reported);
	return atomic_write(dir, name, buf, (size_t)n, 0644);
}

/* Mail msg to the report address through sendmail -t; 0 when it took it. */
static int
mail_sendmail(const char *msg)
{
	const char *path = getenv("WIKISYNC_SENDMAIL");
	FILE *fp;
	pid_t pid;
	int fd[2], status, e = 0;

	if (path == NULL || *path == '\0')
		path = SENDMAIL;
	if (pipe2(fd, O_CLOEXEC) == -1)
		return -1;
	if ((pid = fork()) == -1) {
		close(fd[0]);
		close(fd[1]);
		return -1;
	}
	if (pid == 0) {
		if (dup2(fd[0], 0) == -1)
			_exit(EX_OSERR);
		execl(path, "sendmail", "-t", "-oi", (char *)NULL);
		fprintf(stderr, "%s: %s: %s\n", getprogname(), path,
		    strerror(errno));
		_exit(EX_UNAVAILABLE);
	}
	close(fd[0]);
	if ((fp = fdopen(fd[1], "w")) == NULL) {
		close(fd[1]);
		e = 1;
	} else {
		if (fputs(msg, fp) == EOF || fflush(fp) == EOF || ferror(fp))
			e = 1;
		if (fclose(fp) == EOF)
			e = 1;
	}
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR)
			return -1;
	if (e || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return -1;
	return 0;
}

struct outmsg {
	const char	*p;
	size_t		 left;
};

static size_t
outmsg_read(char *buf, size_t size, size_t n, void *arg)
{
	struct outmsg *m = arg;
	size_t k = size * n < m->left ? size * n : m->left;

	memcpy(buf, m->p, k);
	m->p += k;
	m->left -= k;
	return k;
}

/*
 * Mail msg from `from` to `to` through the SMTP server at url
 * (report-smtp): what a sandboxed service can do where sendmail cannot
 * (ws-login(1)).  0 when the server took it,
 * else -1 with why.
 */
static int
mail_smtp(const char *url, const char *from, const char *to,
    const char *msg, char *why, size_t len)
{
	char err[CURL_ERROR_SIZE] = "";
	struct curl_slist *rcpt;
	struct outmsg m = { msg, strlen(msg) };
	CURLcode rc;
	CURL *c;

	if (libcurl_load(why, len) == -1)
		return -1;
	if ((c = curl_easy_init()) == NULL) {
		snprintf(why, len, "curl_easy_init failed");
		return -1;
	}
	rcpt = curl_slist_append(NULL, to);
	curl_easy_setopt(c, CURLOPT_URL, url);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "smtp,smtps");
#else
	curl_easy_setopt(c, CURLOPT_PROTOCOLS,
	    (long)(CURLPROTO_SMTP | CURLPROTO_SMTPS));
#endif
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, err);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 30L);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
	curl_easy_setopt(c, CURLOPT_MAIL_FROM, from);
	curl_easy_setopt(c, CURLOPT_MAIL_RCPT, rcpt);
	curl_easy_setopt(c, CURLOPT_CRLF, 1L);
	curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(c, CURLOPT_READFUNCTION, outmsg_read);
	curl_easy_setopt(c, CURLOPT_READDATA, &m);
	rc = curl_easy_perform(c);
	if (rc != CURLE_OK)
		snprintf(why, len, "%s", *err ? err : curl_easy_strerror(rc));
	curl_slist_free_all(rcpt);
	curl_easy_cleanup(c);
	return rc == CURLE_OK ? 0 : -1;
}

/* RFC 5322's date of t, in UTC, whatever the locale. */
static void
mail_date(time_t t, char *buf, size_t len)
{
	static const char day[7][4] = {
		"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"
	};
	static const char mon[12][4] = {
		"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep",
		"Oct", "Nov", "Dec"
	};
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%s, %02d %s %04d %02d:%02d:%02d +0000",
	    day[tm.tm_wday], tm.tm_mday, mon[tm.tm_mon], tm.tm_year + 1900,
	    tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/*
 * Mail the report address; 0 when the mail was taken, else -1 with why
 * ("" when sendmail said it).  Through sendmail -t, which adds From and
 * Date, or through report-smtp's server, from the user ws-login runs as
 * at this host.
 */
static int
mail(const char *to, const char *subject, const char *body, char *why,
    size_t len)
{
	const char *url = ws_conf()->reportsmtp;
	char from[384] = "", date[64], host[256];
	struct passwd *pw;
	char *msg;
	int r;

	*why = '\0';
	if (url != NULL) {
		if (gethostname(host, sizeof(host)) == -1)
			strlcpy(host, "localhost", sizeof(host));
		host[sizeof(host) - 1] = '\0';
		pw = getpwuid(geteuid());
		snprintf(from, sizeof(from), "%s@%s",
		    pw != NULL ? pw->pw_name : "wikisync", host);
		mail_date(time(NULL), date, sizeof(date));
	}
	msg = xasprintf("%s%s%s%s%s%sTo: %s\nSubject: wikisync: %s\n"
	    "Auto-Submitted: auto-generated\nMIME-Version: 1.0\n"
	    "Content-Type: text/plain; charset=utf-8\n"
	    "Content-Transfer-Encoding: 8bit\n\n%s",
	    url ? "From: " : "", url ? from : "", url ? "\n" : "",
	    url ? "Date: " : "", url ? date : "", url ? "\n" : "",
	    to, subject, body);
	if (url != NULL)
		r = mail_smtp(url, from, to, msg, why, len);
	else
		r = mail_sendmail(msg);
	free(msg);
	return r;
}

/* The change st records, as one line, for the log, the mail, stdout. */
static void
change_line(const struct wiki *w, const struct wikistate *st, char *buf,
    size_t len)
{
	char at[WS_TIMELEN], d[32];

	ws_time(st->since, at, sizeof(at));
	if (st->up == 1) {
		duration(st->since - st->previous, d, sizeof(d));
		snprintf(buf, len, "%s up again at %s after %s down", w->name,
		    at, d);
	} else
		snprintf(buf, len, "%s down since %s (%s)", w->name, at,
		    st->error);
}

static void
report(const struct wiki *w, struct wikistate *st, const char *line)
{
	const char *to = ws_conf()->report;
	char subject[160], since[32], host[256], error[MW_ERRLEN + 16] = "";
	char why[CURL_ERROR_SIZE + 64];
	char *body;
	size_t i;

	if (to == NULL) {
		st->reported = st->since;
		return;
	}
	for (i = 0; line[i] != '\0' && i + 1 < sizeof(subject); i++)
		subject[i] = line[i] >= ' ' && line[i] < 127 ? line[i] : '?';
	subject[i] = '\0';
	ws_time(st->since, since, sizeof(since));
	if (gethostname(host, sizeof(host)) == -1)
		strlcpy(host, "?", sizeof(host));
	host[sizeof(host) - 1] = '\0';
	if (st->up != 1)
		snprintf(error, sizeof(error), "error:   %s\n", st->error);
	body = xasprintf("%s\n\nwiki:    %s\napi:     %s\nstate:   %s "
	    "since %s\n%schecked: by %s on %s\n", line, w->name, w->api,
	    st->up == 1 ? "up" : "down", since, error, getprogname(), host);
	if (mail(to, subject, body, why, sizeof(why)) == 0)
		st->reported = st->since;
	else
		ws_log(LOG_WARNING, "%s: cannot mail the report to %s%s%s; "
		    "the next run tries again", w->name, to, *why ? ": " : "",
		    why);
	free(body);
}

/*
 * Record the outcome of a check of w (e NULL: up) under the state
 * directory's lock; log and mail a change.  1 when w just came up.
 */
static int
record(int dir, const struct wiki *w, const struct mwerr *e,
    struct wikistate *st)
{
	struct wikistate old;
	long long now = (long long)time(NULL);
	char line[MW_ERRLEN + 128];
	int changed;

	while (flock(dir, LOCK_EX) == -1)
		if (errno != EINTR)
			die(EX_TEMPFAIL, "state: lock");
	wikistate_read(dir, w->name, &old);
	*st = old;
	st->checked = now;
	if (e == NULL) {
		st->up = 1;
		st->last_ok = now;
	} else {
		st->up = 0;
		st->code = e->code;
		strlcpy(st->error, e->msg, sizeof(st->error));
	}
	changed = old.up != st->up;
	if (changed) {
		st->previous = old.up == -1 ? 0 : old.since;
		st->since = now;
	}
	if (old.up == -1 && st->up == 1)
		st->reported = st->since;
	change_line(w, st, line, sizeof(line));
	if (changed && !(old.up == -1 && st->up == 1))
		ws_log(st->up ? LOG_NOTICE : LOG_WARNING, "%s", line);
	if (st->reported != st->since)
		report(w, st, line);
	if (state_write(dir, w->name, st) == -1)
		die(EX_TEMPFAIL, "state/%s", w->name);
	flock(dir, LOCK_UN);
	return changed && st->up == 1;
}

/* Warn when the sync user would be rate-limited or flood recent changes. */
static void
warn_rights(const struct wiki *w, const struct mwuser *u)
{
	const char *need[] = { "noratelimit", "bot" };
	char lacks[64] = "";
	size_t i;

	for (i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!mw_user_can(u, need[i])) {
			if (lacks[0] != '\0')
				strlcat(lacks, ", ", sizeof(lacks));
			strlcat(lacks, need[i], sizeof(lacks));
		}
	if (lacks[0] != '\0')
		ws_log(LOG_WARNING, "%s: %s lacks the right %s: put %s in the "
		    "bot group and the wikisync group (wikisync(7), SETTING "
		    "UP), and give its bot password the high-volume grant",
		    w->name, w->user, lacks, u->name);
}

/*
 * A wiki mails the sync user each change only to a confirmed address,
 * and each minor one only with both watchlist options on.  The options
 * are set here (the account is WikiSync's own); the address is the
 * operator's to give.
 */
static void
mail_ready(const struct wiki *w, struct mw *m, const struct mwuser *u,
    int dry)
{
	struct mwerr e;

	if (u->mailknown && (u->email[0] == '\0' || !u->emailok))
		ws_log(LOG_WARNING, "%s: %s has %s e-mail address: the wiki "
		    "mails it nothing unless $wgEmailAuthentication is false; "
		    "give it the sync address (wikisync(7), SETTING UP)",
		    w->name, u->name, u->email[0] == '\0' ? "no" :
		    "an unconfirmed");
	if (u->notifypages && u->notifyminor)
		return;
	if (dry) {
		ws_log(LOG_WARNING, "%s: %s is not mailed every change to the "
		    "pages it watches; ws-login without -n sets that",
		    w->name, u->name);
		return;
	}
	if (mw_options(m, "enotifwatchlistpages=1|enotifminoredits=1", &e)
	    == -1)
		ws_log(LOG_WARNING, "%s: %s is not mailed every change to the "
		    "pages it watches, and setting that failed: %s; give its "
		    "bot password the grant to edit your preferences "
		    "(editmyoptions)", w->name, u->name, e.msg);
	else
		ws_log(LOG_NOTICE, "%s: %s is now mailed every change to the "
		    "pages it watches, minor ones too", w->name, u->name);
}

/*
 * Check one wiki: a fresh login, which also sees that the wiki mails
 * the sync user, or (keep) the session kept alive.
 */
static int
check(const struct wiki *w, int keep, int dry, struct mwuser *u,
    int *loggedin, struct mwerr *e)
{
	struct mw *m;
	int r;

	memset(u, 0, sizeof(*u));
	*loggedin = 0;
	if ((m = mw_open(w, e)) == NULL)
		diex(e->code, "%s", e->msg);
	r = keep ? 0 : mw_login(m, e);
	if (r == 0)
		r = mw_whoami(m, u, keep ? 0 : MW_WHO_MAIL, e);
	if (r == 0 && !keep)
		mail_ready(w, m, u, dry);
	*loggedin = mw_loggedin(m);
	mw_close(m);
	return r;
}

/* The exit status with failure e added: a permanent one outranks 75. */
static int
worse(int rc, const struct mwerr *e)
{
	if (!e->temp && (rc == 0 || rc == EX_TEMPFAIL))
		return e->code;
	return rc == 0 ? EX_TEMPFAIL : rc;
}

/*
 * -n: each wiki checked with a fresh login held in memory, for a draft
 * configuration: no session, state, report or job of the spool touched,
 * nothing set on the wiki.  Lines as a run's, the time this check's.
 */
static int
check_only(const struct wiki **ws, size_t n)
{
	struct mwuser u;
	struct mwerr e;
	char now[32];
	size_t i;
	int rc = 0, loggedin;

	mw_no_jar();
	for (i = 0; i < n; i++) {
		ws_time((long long)time(NULL), now, sizeof(now));
		if (check(ws[i], 0, 1, &u, &loggedin, &e) == 0) {
			warn_rights(ws[i], &u);
			printf("%s up %s as %s, a check: nothing recorded\n",
			    ws[i]->name, now, u.name);
		} else {
			printf("%s down %s %s\n", ws[i]->name, now, e.msg);
			rc = worse(rc, &e);
		}
		mw_user_free(&u);
	}
	return rc;
}

static int
open_state(void)
{
	const char *spool = ws_spool();
	int root, dir;

	if ((root = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		spool_die(spool);
	if (mkdirat(root, "state", 0755) == -1 && errno != EEXIST)
		die(EX_TEMPFAIL, "%s/state", spool);
	if ((dir = openat(root, "state", O_RDONLY | O_DIRECTORY | O_CLOEXEC))
	    == -1)
		die(EX_TEMPFAIL, "%s/state", spool);
	close(root);
	return dir;
}

int
login_main(int argc, char *argv[])
{
	static const struct wiki **ws;
	const struct conf *c;
	const struct wiki *w;
	struct mwuser u;
	struct mwerr e;
	struct wikistate st;
	struct spool sp;
	char since[32];
	size_t i, n;
	int ch, keep = 0, dry = 0, rc = 0, dir, loggedin, ok, came_up, woke;

	while ((ch = getopt(argc, argv, "+" WS_OPTS "kn")) != -1) {
		if (ch == 'k')
			keep = 1;
		else if (ch == 'n')
			dry = 1;
		else
			ws_opt(ch, optarg, usage);
	}
	argc -= optind;
	argv += optind;
	c = ws_conf();
	n = argc > 0 ? (size_t)argc : c->nwikis;
	if (n == 0)
		diex(EX_CONFIG, "%s: no wikis configured",
		    c->path ? c->path : "built-in defaults");
	ws = xcalloc(n, sizeof(*ws));
	for (i = 0; i < n; i++)
		if ((ws[i] = argc > 0 ? conf_wiki(c, argv[i]) : &c->wikis[i])
		    == NULL)
			diex(EX_USAGE, "%s: no such wiki", argv[i]);
	signal(SIGPIPE, SIG_IGN);
	if (dry) {
		if (keep)
			diex(EX_USAGE, "-k and -n: a check keeps no session");
		rc = check_only(ws, n);
		free(ws);
		return rc;
	}
	/* the spool first: run as root, the applet becomes its owner
	   before it makes anything there */
	if (spool_open(&sp, ws_spool()) == -1)
		spool_die(ws_spool());
	dir = open_state();
	for (i = 0; i < n; i++) {
		w = ws[i];
		ok = check(w, keep, 0, &u, &loggedin, &e) == 0;
		came_up = record(dir, w, ok ? NULL : &e, &st);
		ws_time(st.since, since, sizeof(since));
		if (ok) {
			if (!keep || came_up)
				warn_rights(w, &u);
			printf("%s up %s as %s%s\n", w->name, since, u.name,
			    loggedin ? ", new session" : "");
			/* the jobs that left it out need not wait longer */
			if ((woke = sync_wake(&sp, w->name)) == -1)
				ws_log(LOG_WARNING, "%s: waking the jobs "
				    "waiting for it: %s", w->name,
				    strerror(errno));
			else if (woke > 0)
				ws_log(LOG_INFO, "%s: %d job%s waiting for it "
				    "due now", w->name, woke, woke > 1 ? "s" :
				    "");
		} else {
			printf("%s down %s %s\n", w->name, since, e.msg);
			rc = worse(rc, &e);
		}
		mw_user_free(&u);
	}
	spool_close(&sp);
	close(dir);
	free(ws);
	return rc;
}
