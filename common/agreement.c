/*
 * agreement.c: the job's record of a sync, and the job a command names
 * (sync.h; wikisync(7), THE PROTOCOL).
 *
 * ws-push writes the record, ws-verify reads it, ws-login reads which
 * wikis a job waits for: this file is its one reader and one writer.
 * Invariant: the record's fields are replaced together, in one
 * replacement of the job file, so no reader sees half of one.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sync.h"

/*
 * sync=SHA1 GEN WIKI:REVID:PAGEID ... (or "-": nothing to verify; REVID 0
 * for every wiki: the page was deleted on all of them), sync.left=
 * WIKI:CODE ... (the wikis left out, and why in sync.why), sync.kept=
 * WIKI ... (where the page was deleted and kept on the others) and
 * sync.title, written together in one replacement of the job.
 */
int
agreement_read(const struct job *j, struct agreement *a)
{
	const char *v, *t, *p;
	char wiki[64];
	size_t k;
	long rev;
	int used;

	memset(a, 0, sizeof(*a));
	if ((v = job_get(j, "sync")) == NULL || strcmp(v, "-") == 0)
		return 0;
	if ((t = job_get(j, "sync.title")) == NULL ||
	    strlen(t) >= sizeof(a->title))
		goto bad;
	strlcpy(a->title, t, sizeof(a->title));
	if ((t = job_get(j, "sync.why")) != NULL)
		strlcpy(a->why, t, sizeof(a->why));
	if (strlen(v) < SHA1_HEX || v[SHA1_HEX] != ' ')
		goto bad;
	memcpy(a->sha1, v, SHA1_HEX);
	a->sha1[SHA1_HEX] = '\0';
	if (!sha1_valid(a->sha1) ||
	    sscanf(v + SHA1_HEX, " %lld%n", &a->gen, &used) != 1 || a->gen <= 0)
		goto bad;
	for (p = v + SHA1_HEX + used; *p == ' ';) {
		if (a->n == SYNC_WIKIS ||
		    sscanf(p, " %63[^: ]:%ld%n", wiki, &rev, &used) != 2 ||
		    strlen(wiki) >= sizeof(a->w[0].wiki) || rev < 0 ||
		    (a->n > 0 && (rev == 0) != a->deleted))
			goto bad;
		a->deleted = rev == 0;
		k = a->n++;
		strlcpy(a->w[k].wiki, wiki, sizeof(a->w[k].wiki));
		a->w[k].revid = rev;
		p += used;
		if (*p == ':' && sscanf(p, ":%ld%n", &a->w[k].pageid,
		    &used) == 1)
			p += used;
	}
	if (*p != '\0' || a->n == 0)
		goto bad;
	if ((p = job_get(j, "sync.left")) != NULL)
		while (*p != '\0') {
			if (a->nleft == SYNC_WIKIS || sscanf(p, " %63[^: ]:%d%n",
			    wiki, &a->left[a->nleft].code, &used) != 2 ||
			    strlen(wiki) >= sizeof(a->left[0].wiki))
				goto bad;
			strlcpy(a->left[a->nleft++].wiki, wiki,
			    sizeof(a->left[0].wiki));
			p += used;
			if (*p != ' ' && *p != '\0')
				goto bad;
		}
	if ((p = job_get(j, "sync.kept")) != NULL)
		while (*p != '\0') {
			if (a->nkept == SYNC_WIKIS || sscanf(p, " %32[^ ]%n",
			    a->kept[a->nkept], &used) != 1)
				goto bad;
			a->nkept++;
			p += used;
			while (*p == ' ')
				p++;
		}
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
agreement_write(struct spool *sp, const char *id, const struct agreement *a)
{
	const char *keys[5] = { "sync", "sync.title", "sync.left", "sync.why",
	    "sync.kept" };
	const char *vals[5];
	char v[SHA1_HEX + 24 + SYNC_WIKIS * 72], l[SYNC_WIKIS * 48] = "";
	char k[SYNC_WIKIS * 34] = "";
	size_t i, len;

	if (*a->sha1 == '\0') {
		vals[0] = "-";
		vals[1] = vals[2] = vals[3] = vals[4] = "";
	} else {
		len = snprintf(v, sizeof(v), "%s %lld", a->sha1, a->gen);
		for (i = 0; i < a->n; i++)
			len += snprintf(v + len, sizeof(v) - len, " %s:%ld:%ld",
			    a->w[i].wiki, a->w[i].revid, a->w[i].pageid);
		for (i = 0, len = 0; i < a->nleft; i++)
			len += snprintf(l + len, sizeof(l) - len, "%s%s:%d",
			    i ? " " : "", a->left[i].wiki, a->left[i].code);
		for (i = 0, len = 0; i < a->nkept; i++)
			len += snprintf(k + len, sizeof(k) - len, "%s%s",
			    i ? " " : "", a->kept[i]);
		vals[0] = v;
		vals[1] = a->title;
		vals[2] = l;
		vals[3] = a->why;
		vals[4] = k;
	}
	return job_update(sp, id, keys, vals, 5);
}

/* Is wiki one of those the job's agreement left out? */
int
agreement_waits_for(const struct agreement *a, const char *wiki)
{
	size_t i;

	for (i = 0; i < a->nleft; i++)
		if (strcmp(a->left[i].wiki, wiki) == 0)
			return 1;
	return 0;
}

/*
 * Does job j wait for wiki: its agreement left wiki out for not
 * answering, or it could not run without it (waits=WIKI)?
 */
static int
waits(const struct job *j, const char *wiki)
{
	struct agreement a;
	const char *w = job_get(j, "waits");

	if (w != NULL && strcmp(w, wiki) == 0)
		return 1;
	if (agreement_read(j, &a) == -1)
		return 0;
	return agreement_waits_for(&a, wiki);
}

/*
 * The queued jobs waiting for wiki are due now: ws-login found it
 * answering again.  So are those held after hold-after attempts
 * (ws-queue defer) while it did not answer: an outage longer than the
 * attempts allow holds nothing for good.  A job held for any other
 * reason stays held.  Returns how many, or -1.
 */
int
sync_wake(struct spool *sp, const char *wiki)
{
	static const char held_after[] = "held after ";
	static const enum jobstate qs[] = { Q_NEW, Q_HOLD };
	const char *err;
	struct job j;
	char **ids;
	size_t i, n, k;
	time_t now = time(NULL);
	int woke = 0;
	enum jobstate q;

	if (spool_lock(sp) == -1)
		return -1;
	for (k = 0; k < 2; k++) {
		q = qs[k];
		if (spool_ids(sp, q, &ids, &n) == -1) {
			spool_unlock(sp);
			return -1;
		}
		for (i = 0; i < n; i++) {
			if (job_load(sp, ids[i], &j) == -1)
				continue;
			err = job_get(&j, "error");
			if (q == Q_NEW ? j.mtime.tv_sec <= now :
			    err == NULL || strncmp(err, held_after,
			    sizeof(held_after) - 1) != 0) {
				job_free(&j);
				continue;
			}
			if (waits(&j, wiki)) {
				if (q == Q_HOLD) {
					job_set(&j, "attempts", "0");
					job_unset(&j, "held");
					job_unset(&j, "next");
				}
				if (job_save(sp, &j, Q_NEW, now) == 0)
					woke++;
			}
			job_free(&j);
		}
		spool_ids_free(ids, n);
	}
	spool_unlock(sp);
	return woke;
}

/* --- the job a command names ------------------------------------------- */

/*
 * A job run past its deadline stops at once, as a kill would: the job
 * stays queued (a kill is safe at any point of the protocol, see
 * tests/explore), and a wiki that answers without end, or a page lock
 * never let go, holds no worker for ever.
 */
static void
on_deadline(int sig)
{
	static const char msg[] = ": past job-deadline: stopped, the job "
	    "stays queued\n";

	(void)sig;
	(void)!write(STDERR_FILENO, getprogname(), strlen(getprogname()));
	(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(EX_TEMPFAIL);
}

static void
job_deadline(int seconds)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_deadline;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGALRM, &sa, NULL) == -1)
		die(EX_OSERR, "sigaction");
	alarm((unsigned)seconds);
}

/*
 * A job is named by id or path; it must exist and name a configured wiki
 * and a title, or the caller exits 65 and ws-peerd holds the job for a
 * person.  A spool that cannot be read is a temporary failure (75).
 */
const struct wiki *
sync_job_open(const char *arg, struct spool *sp, struct store *st,
    struct job *j, const char **title)
{
	const struct wiki *w;
	const char *id, *name;

	id = strrchr(arg, '/');
	id = id ? id + 1 : arg;
	if (spool_open(sp, ws_spool()) == -1 || store_open(st, ws_spool()) == -1)
		spool_die(ws_spool());
	if (!job_id_valid(id))
		diex(EX_DATAERR, "%s: not a job id", arg);
	if (job_load(sp, id, j) == -1) {
		if (errno == ENOENT || errno == EINVAL)
			diex(EX_DATAERR, "%s: no such job", arg);
		die(EX_TEMPFAIL, "%s", id);
	}
	if ((*title = job_get(j, "title")) == NULL ||
	    (name = job_get(j, "wiki")) == NULL)
		diex(EX_DATAERR, "%s: no wiki or title", id);
	if ((w = conf_wiki(ws_conf(), name)) == NULL)
		diex(EX_DATAERR, "%s: wiki %s is not configured", id, name);
	job_deadline(ws_conf()->deadline);
	return w;
}
