/*
 * queue.c: ws-queue, the crash-safe job queue (see spool.c for the files).
 *
 * Lease: "take" moves a job from new/ to cur/ and records owner=PID@HOST
 * and lease=EXPIRY (epoch seconds) in it.  A job in cur/ whose lease has
 * passed belongs to nobody: "recover", and every "take" before it
 * chooses, returns it to new/.  A job taken but not yet stamped (a crash
 * between the two steps) counts from its ctime, which the rename set.
 * A job taken for a worker (take -w PID) records worker=PID@HOST too, and
 * is returned as soon as that process has ended: a worker that dies does
 * not hold its page until the lease runs out.
 * Each take marks the job (taken=MARK, printed by take -t): done, defer
 * and hold with -m MARK act only on the job as that take left it, so a
 * worker whose job was returned and taken again meanwhile (its lease
 * lapsed, its loop killed alone) cannot remove or move the job another
 * worker now runs.
 *
 * One page at a time: take passes over a job whose page (its title) is in
 * hand in cur/, and over the later jobs of a page it passed over, so jobs
 * run in order per page however many workers take them; a move, which
 * makes one page two titles, runs alone.
 * Nothing is ever dropped: "defer" raises attempts and moves the job back
 * to new/ due later (10 s doubling, capped at 1 h); at hold-after
 * attempts it goes to hold/ instead, until "release".
 */
#include <sys/inotify.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wikisync.h"
#include "strset.h"

#define LEASE_DEFAULT	900
#define BACKOFF_FIRST	10
#define BACKOFF_MAX	3600
#define TMP_STALE	3600

static const char usage[] =
    "[-qv] [-c file] [-d dir] command [args]\n"
    "add wiki title [key=value ...]\n"
    "ls [-a]\n"
    "take [-t] [-l seconds] [-w pid]\n"
    "done [-m mark] job\n"
    "defer [-m mark] job [reason]\n"
    "hold [-m mark] job reason\n"
    "release job\n"
    "get job key\n"
    "set job key=value ...\n"
    "wait [-t seconds]\n"
    "recover [-f]\n"
    "stats";

static struct spool sp;

static void
spool_or_die(void)
{
	const char *path = ws_spool();

	if (spool_open(&sp, path) == -1)
		spool_die(path);
}

static void
lock_or_die(void)
{
	if (spool_lock(&sp) == -1)
		die(EX_TEMPFAIL, "lock");
}

/* A job named by id or by path; exit 65 when there is no such job. */
static void
load_or_die(const char *arg, struct job *j)
{
	const char *id = strrchr(arg, '/');

	id = id ? id + 1 : arg;
	if (!job_id_valid(id))
		diex(EX_DATAERR, "%s: not a job id", arg);
	if (job_load(&sp, id, j) == -1) {
		if (errno == ENOENT)
			diex(EX_DATAERR, "%s: no such job", id);
		if (errno == EINVAL)
			diex(EX_DATAERR, "%s: not a job file", id);
		die(EX_TEMPFAIL, "%s", id);
	}
}

static void
save_or_die(struct job *j, enum jobstate st, time_t due)
{
	if (job_save(&sp, j, st, due) == -1)
		die(EX_TEMPFAIL, "%s", j->id);
}

static long
backoff(long attempts)
{
	long d = BACKOFF_FIRST;

	while (--attempts > 0 && d < BACKOFF_MAX)
		d *= 2;
	return d < BACKOFF_MAX ? d : BACKOFF_MAX;
}

static long
field_long(const struct job *j, const char *key)
{
	const char *v = job_get(j, key);
	long n;

	if (v == NULL || parse_long(v, 0, LONG_MAX, &n) == -1)
		return 0;
	return n;
}

static void
set_num(struct job *j, const char *key, long long n)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%lld", n);
	job_set(j, key, buf);
}

static int
cmd_add(int argc, char **argv)
{
	struct job j;
	char *eq;
	int i;

	if (argc < 3)
		ws_usage(usage, EX_USAGE);
	memset(&j, 0, sizeof(j));
	if (*argv[1] == '\0' || !job_val_valid(argv[1]) ||
	    *argv[2] == '\0' || !job_val_valid(argv[2]))
		diex(EX_DATAERR, "wiki and title must be one non-empty line");
	job_set(&j, "wiki", argv[1]);
	job_set(&j, "title", argv[2]);
	set_num(&j, "received", (long long)time(NULL));
	job_set(&j, "attempts", "0");
	for (i = 3; i < argc; i++) {
		if ((eq = strchr(argv[i], '=')) == NULL)
			diex(EX_USAGE, "%s: not key=value", argv[i]);
		*eq = '\0';
		if (!job_key_valid(argv[i]) || !job_val_valid(eq + 1))
			diex(EX_DATAERR, "%s: bad key or value", argv[i]);
		if (strcmp(argv[i], "wiki") == 0 ||
		    strcmp(argv[i], "title") == 0)
			diex(EX_USAGE, "%s: give it as an argument", argv[i]);
		job_set(&j, argv[i], eq + 1);
	}
	spool_or_die();
	if (job_add(&sp, &j) == -1)
		die(EX_TEMPFAIL, "add");
	printf("%s\n", j.id);
	job_free(&j);
	return 0;
}


/* Has the job's worker, a process of this host, ended? */
static int
worker_gone(const struct job *j)
{
	const char *w = job_get(j, "worker"), *at;
	long pid;
	char buf[32];

	if (w == NULL || (at = strchr(w, '@')) == NULL ||
	    (size_t)(at - w) >= sizeof(buf) || strcmp(at + 1, spool_host()) != 0)
		return 0;
	memcpy(buf, w, at - w);
	buf[at - w] = '\0';
	if (parse_long(buf, 2, INT_MAX, &pid) == -1)
		return 0;
	return kill((pid_t)pid, 0) == -1 && errno == ESRCH;
}

/* When the job in cur/ stops being anybody's. */
static time_t
lease_end(const struct job *j)
{
	long l = field_long(j, "lease");

	if (worker_gone(j))
		return 0;
	return l > 0 ? (time_t)l : j->ctime.tv_sec + LEASE_DEFAULT;
}

/*
 * The pages in hand: the titles of the jobs in cur/ (an underscore is a
 * space), and whether one of them is a move, which runs alone.
 */
struct inhand {
	struct strset	 pages;
	size_t		 n;
	int		 alone;
};

static int
is_move(const struct job *j)
{
	const char *ev = job_get(j, "event");

	return ev != NULL && strcmp(ev, "moved") == 0;
}

/*
 * May j run now?  Its page is marked in hand either way: a job passed
 * over keeps the later jobs of its page behind it.  A move passed over
 * keeps every later job behind it: a job of its new title, run first,
 * would make that title a page of its own where the move has not yet
 * been followed, and the move could no longer be.
 */
static int
runnable(struct inhand *h, const struct job *j)
{
	const char *t = job_get(j, "title");
	char key[1024];
	size_t i;
	int fresh;

	if (t == NULL)
		return 1;
	for (i = 0; t[i] != '\0' && i < sizeof(key) - 1; i++)
		key[i] = t[i] == '_' ? ' ' : t[i];
	key[i] = '\0';
	fresh = strset_add(&h->pages, key);
	if (is_move(j) && (h->n > 0 || !fresh || h->alone)) {
		h->alone = 1;
		return 0;
	}
	return fresh && !h->alone;
}

static void
inhand_load(struct inhand *h)
{
	struct job j;
	char **ids;
	size_t n, i;

	memset(h, 0, sizeof(*h));
	if (spool_ids(&sp, Q_CUR, &ids, &n) == -1)
		die(EX_TEMPFAIL, "cur");
	for (i = 0; i < n; i++) {
		if (job_load(&sp, ids[i], &j) == -1)
			continue;
		runnable(h, &j);
		h->alone |= is_move(&j);
		h->n++;
		job_free(&j);
	}
	spool_ids_free(ids, n);
}

/* Return jobs in cur/ whose lease has passed (all with force). */
static int
recover(int force)
{
	struct job j;
	char **ids;
	size_t n, i;
	time_t now = time(NULL);
	int moved = 0;

	if (spool_ids(&sp, Q_CUR, &ids, &n) == -1)
		die(EX_TEMPFAIL, "cur");
	for (i = 0; i < n; i++) {
		if (job_load(&sp, ids[i], &j) == -1 || j.state != Q_CUR)
			continue;
		if (force || lease_end(&j) <= now) {
			job_unset(&j, "owner");
			job_unset(&j, "worker");
			job_unset(&j, "lease");
			job_unset(&j, "taken");
			save_or_die(&j, Q_NEW, 0);
			ws_log(LOG_INFO, "%s: returned to new", j.id);
			moved++;
		}
		job_free(&j);
	}
	spool_ids_free(ids, n);
	return moved;
}

static void
remove_stale_tmp(void)
{
	struct stat st;
	struct dirent *de;
	DIR *d;
	int fd;
	time_t now = time(NULL);

	if ((fd = dup(sp.tmp)) == -1 || (d = fdopendir(fd)) == NULL) {
		if (fd != -1)
			close(fd);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (strncmp(de->d_name, ".tmp.", 5) != 0)
			continue;
		/* ctime: a deferred job's mtime is set ahead on purpose */
		if (fstatat(sp.tmp, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    st.st_ctime + TMP_STALE < now)
			unlinkat(sp.tmp, de->d_name, 0);
	}
	closedir(d);
}

/*
 * Jobs for the same page of the same wiki, made before this one runs, are
 * this one: its ws-push marks the page seen there and reads every wiki
 * after all their mails.  So take folds them in (removes them), looking
 * at the FOLD_WINDOW jobs made next: duplicates come in bursts.
 */
#define FOLD_WINDOW	100

static void
fold(const struct job *j, char **ids, size_t n, size_t at)
{
	struct job o;
	const char *w = job_get(j, "wiki"), *t = job_get(j, "title");
	const char *ev = job_get(j, "event"), *oev;
	uint32_t tag;
	size_t i;

	if (w == NULL || t == NULL)
		return;
	tag = job_tag(w, t);
	for (i = at + 1; i < n && i <= at + FOLD_WINDOW; i++) {
		if (!job_id_may_be(ids[i], tag) ||
		    job_load(&sp, ids[i], &o) == -1)
			continue;
		oev = job_get(&o, "event");
		if (o.state == Q_NEW && job_get(&o, "wiki") != NULL &&
		    job_get(&o, "title") != NULL &&
		    strcmp(job_get(&o, "wiki"), w) == 0 &&
		    strcmp(job_get(&o, "title"), t) == 0 &&
		    strcmp(ev ? ev : "", oev ? oev : "") == 0) {
			if (job_remove(&sp, &o) == -1)
				die(EX_TEMPFAIL, "%s", o.id);
			ws_log(LOG_DEBUG, "%s: folded into %s", o.id, j->id);
		}
		job_free(&o);
	}
}

/*
 * A file in new/ no job can be made of goes to queue/bad/, logged once:
 * left in new/, it would count as due for ever while take skips it, and
 * the loop would spin.  If it cannot be moved, take fails (75), and the
 * loop backs off.
 */
static void
quarantine(const char *id, const char *why)
{
	if (spool_quarantine(&sp, id, why) == -1)
		die(EX_TEMPFAIL, "%s: %s, and not moved to queue/bad", id, why);
	ws_log(LOG_ERR, "%s: %s: moved to %s/queue/bad", id, why, sp.path);
}

/*
 * A reason as a job keeps it: one line, at most REASON_MAX bytes, cut at
 * a character's start ("..." marks the cut).  A reason is never refused:
 * the job it explains must still be deferred or held.
 */
#define REASON_MAX	1000

static void
reason(char *buf, size_t len, const char *why)
{
	size_t i, max = len - 4 < REASON_MAX ? len - 4 : REASON_MAX;

	for (i = 0; why[i] != '\0' && i < max; i++)
		buf[i] = why[i] == '\n' || why[i] == '\r' ? ' ' : why[i];
	if (why[i] != '\0') {
		/* cut before the character why[i] is inside of */
		while (i > 0 && ((unsigned char)why[i] & 0xc0) == 0x80)
			i--;
		memcpy(buf + i, "...", 3);
		i += 3;
	}
	buf[i] = '\0';
}

static int
cmd_take(int argc, char **argv)
{
	struct inhand h;
	struct job j;
	struct stat st;
	char **ids, owner[300], mark[64];
	struct timespec ts;
	size_t n, i;
	long lease = LEASE_DEFAULT, worker = 0;
	time_t now;
	int ch, tabs = 0, found = 0;

	optind = 1;
	while ((ch = getopt(argc, argv, "l:tw:")) != -1) {
		switch (ch) {
		case 'l':
			if (parse_long(optarg, 1, 86400 * 7, &lease) == -1)
				diex(EX_USAGE, "take -l %s: seconds, 1 to "
				    "604800", optarg);
			break;
		case 't':
			tabs = 1;
			break;
		case 'w':
			if (parse_long(optarg, 2, INT_MAX, &worker) == -1 ||
			    (kill((pid_t)worker, 0) == -1 && errno == ESRCH))
				diex(EX_USAGE, "take -w %s: not a running "
				    "process", optarg);
			break;
		default:
			ws_usage(usage, EX_USAGE);
		}
	}
	if (optind != argc)
		ws_usage(usage, EX_USAGE);
	spool_or_die();
	lock_or_die();
	recover(0);
	inhand_load(&h);
	now = time(NULL);
	if (spool_ids(&sp, Q_NEW, &ids, &n) == -1)
		die(EX_TEMPFAIL, "new");
	for (i = 0; i < n && !found; i++) {
		if (fstatat(sp.dir[Q_NEW], ids[i], &st, AT_SYMLINK_NOFOLLOW) == -1 ||
		    st.st_mtime > now)
			continue;
		if (!S_ISREG(st.st_mode)) {
			quarantine(ids[i], S_ISLNK(st.st_mode) ?
			    "a symbolic link, not a job file" :
			    "not a regular file");
			continue;
		}
		if (job_load(&sp, ids[i], &j) == -1) {
			if (errno != ENOENT)
				quarantine(ids[i], errno == EINVAL ?
				    "not a job file (a line without \"=\", "
				    "or a NUL byte)" : strerror(errno));
			continue;
		}
		if (j.state != Q_NEW || !runnable(&h, &j)) {
			job_free(&j);
			continue;
		}
		fold(&j, ids, n, i);
		if (renameat2(sp.dir[Q_NEW], j.id, sp.dir[Q_CUR], j.id,
		    RENAME_NOREPLACE) == -1)
			die(EX_TEMPFAIL, "%s", j.id);
		/* the stamp below syncs cur/; new/ or cur/, both are safe */
		j.state = Q_CUR;
		snprintf(owner, sizeof(owner), "%d@%s", (int)getppid(),
		    spool_host());
		job_set(&j, "owner", owner);
		if (worker > 0) {
			snprintf(owner, sizeof(owner), "%ld@%s", worker,
			    spool_host());
			job_set(&j, "worker", owner);
		}
		set_num(&j, "lease", (long long)now + lease);
		clock_gettime(CLOCK_REALTIME, &ts);
		snprintf(mark, sizeof(mark), "%lld.%09ld.%d",
		    (long long)ts.tv_sec, ts.tv_nsec, (int)getpid());
		job_set(&j, "taken", mark);
		save_or_die(&j, Q_CUR, 0);
		if (tabs)
			printf("%s/queue/cur/%s\t%s\t%s\t%s\n", sp.path, j.id,
			    job_get(&j, "wiki") ? job_get(&j, "wiki") : "",
			    job_get(&j, "title") ? job_get(&j, "title") : "",
			    mark);
		else
			printf("%s/queue/cur/%s\n", sp.path, j.id);
		job_free(&j);
		found = 1;
	}
	spool_ids_free(ids, n);
	strset_free(&h.pages);
	spool_unlock(&sp);
	return found ? 0 : 1;
}

/*
 * done, defer, hold [-m mark]: the mark, or NULL; optind past the
 * options.
 */
static const char *
mark_opt(int argc, char **argv)
{
	const char *mark = NULL;
	int ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "+m:")) != -1) {
		if (ch != 'm')
			ws_usage(usage, EX_USAGE);
		mark = optarg;
	}
	return mark;
}

/* With a mark, the job must be in cur/ as the take that gave it left it. */
static void
mine_or_die(const struct job *j, const char *mark)
{
	const char *t = job_get(j, "taken");

	if (mark != NULL && (j->state != Q_CUR || t == NULL ||
	    strcmp(t, mark) != 0))
		diex(EX_DATAERR, "%s: no longer taken as %s (returned, or "
		    "taken again since): left as it is", j->id, mark);
}

static int
cmd_done(int argc, char **argv)
{
	struct job j;
	const char *mark = mark_opt(argc, argv);

	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 2)
		ws_usage(usage, EX_USAGE);
	spool_or_die();
	lock_or_die();
	load_or_die(argv[1], &j);
	mine_or_die(&j, mark);
	if (job_remove(&sp, &j) == -1)
		die(EX_TEMPFAIL, "%s", j.id);
	spool_count(&sp, COUNT_DONE);
	job_free(&j);
	return 0;
}

static int
cmd_defer(int argc, char **argv)
{
	char why[REASON_MAX + 100], text[REASON_MAX + 4];
	struct job j;
	long attempts, delay;
	time_t now = time(NULL);
	int holdafter = ws_conf()->holdafter;
	const char *mark = mark_opt(argc, argv);

	argc -= optind - 1;
	argv += optind - 1;
	if (argc < 2 || argc > 3)
		ws_usage(usage, EX_USAGE);
	if (argc == 3)
		reason(text, sizeof(text), argv[2]);
	spool_or_die();
	lock_or_die();
	load_or_die(argv[1], &j);
	mine_or_die(&j, mark);
	if (j.state == Q_HOLD)
		diex(EX_DATAERR, "%s: held; release it first", j.id);
	attempts = field_long(&j, "attempts") + 1;
	set_num(&j, "attempts", attempts);
	job_unset(&j, "owner");
	job_unset(&j, "worker");
	job_unset(&j, "lease");
	job_unset(&j, "taken");
	if (argc == 3)
		job_set(&j, "error", text);
	if (attempts >= holdafter) {
		snprintf(why, sizeof(why), "held after %ld attempts: %s",
		    attempts, argc == 3 ? text : "deferred");
		job_set(&j, "error", why);
		set_num(&j, "held", (long long)now);
		job_unset(&j, "next");
		save_or_die(&j, Q_HOLD, 0);
		spool_count(&sp, COUNT_HELD);
		ws_log(LOG_WARNING, "%s: %s", j.id, why);
	} else {
		delay = backoff(attempts);
		set_num(&j, "next", (long long)now + delay);
		save_or_die(&j, Q_NEW, now + delay);
		spool_count(&sp, COUNT_DEFERRED);
		ws_log(LOG_DEBUG, "%s: attempt %ld, next in %lds", j.id,
		    attempts, delay);
	}
	job_free(&j);
	return 0;
}

static int
cmd_hold(int argc, char **argv)
{
	struct job j;
	char text[REASON_MAX + 4];
	const char *mark = mark_opt(argc, argv);

	argc -= optind - 1;
	argv += optind - 1;
	if (argc != 3)
		ws_usage(usage, EX_USAGE);
	reason(text, sizeof(text), argv[2]);
	spool_or_die();
	lock_or_die();
	load_or_die(argv[1], &j);
	mine_or_die(&j, mark);
	job_set(&j, "error", text);
	set_num(&j, "held", (long long)time(NULL));
	job_unset(&j, "owner");
	job_unset(&j, "worker");
	job_unset(&j, "lease");
	job_unset(&j, "taken");
	job_unset(&j, "next");
	save_or_die(&j, Q_HOLD, 0);
	spool_count(&sp, COUNT_HELD);
	job_free(&j);
	return 0;
}

static int
cmd_release(int argc, char **argv)
{
	struct job j;

	if (argc != 2)
		ws_usage(usage, EX_USAGE);
	spool_or_die();
	lock_or_die();
	load_or_die(argv[1], &j);
	if (j.state != Q_HOLD)
		diex(EX_DATAERR, "%s: not held", j.id);
	job_set(&j, "attempts", "0");
	job_unset(&j, "held");
	job_unset(&j, "next");
	save_or_die(&j, Q_NEW, 0);
	job_free(&j);
	return 0;
}

static int
cmd_get(int argc, char **argv)
{
	struct job j;
	const char *v;

	if (argc != 3)
		ws_usage(usage, EX_USAGE);
	spool_or_die();
	load_or_die(argv[1], &j);
	if (strcmp(argv[2], "state") == 0)
		v = jobstate_name[j.state];
	else if (strcmp(argv[2], "id") == 0)
		v = j.id;
	else
		v = job_get(&j, argv[2]);
	if (v != NULL)
		printf("%s\n", v);
	job_free(&j);
	return v != NULL ? 0 : 1;
}

static int
cmd_set(int argc, char **argv)
{
	struct job j;
	char *eq;
	int i;

	if (argc < 3)
		ws_usage(usage, EX_USAGE);
	for (i = 2; i < argc; i++) {
		if ((eq = strchr(argv[i], '=')) == NULL)
			diex(EX_USAGE, "%s: not key=value", argv[i]);
		*eq = '\0';
		if (!job_key_valid(argv[i]) || !job_val_valid(eq + 1))
			diex(EX_DATAERR, "%s: bad key or value", argv[i]);
		*eq = '=';
	}
	spool_or_die();
	lock_or_die();
	load_or_die(argv[1], &j);
	for (i = 2; i < argc; i++) {
		eq = strchr(argv[i], '=');
		*eq = '\0';
		job_set(&j, argv[i], eq + 1);
	}
	/* in new/ the mtime is the due time: keep it */
	save_or_die(&j, j.state, j.state == Q_NEW ? j.mtime.tv_sec : 0);
	job_free(&j);
	return 0;
}

static int
cmd_recover(int argc, char **argv)
{
	int ch, force = 0, n;

	optind = 1;
	while ((ch = getopt(argc, argv, "f")) != -1) {
		if (ch != 'f')
			ws_usage(usage, EX_USAGE);
		force = 1;
	}
	if (optind != argc)
		ws_usage(usage, EX_USAGE);
	spool_or_die();
	lock_or_die();
	n = recover(force);
	remove_stale_tmp();
	spool_unlock(&sp);
	ws_log(LOG_DEBUG, "%d job(s) returned", n);
	return 0;
}

/*
 * Seconds until something is due (0: now), or -1 when nothing is waiting:
 * the earliest mtime in new/ of a job that may run (one whose page is in
 * hand is due when its page is free: the worker's end wakes the loop),
 * the earliest lease end in cur/.
 */
static long
due_in(void)
{
	struct inhand h;
	struct stat st;
	struct job j;
	char **ids;
	size_t n, i;
	time_t now = time(NULL), first = 0, t;
	int due = 0;

	inhand_load(&h);
	if (spool_ids(&sp, Q_NEW, &ids, &n) == -1)
		die(EX_TEMPFAIL, "new");
	for (i = 0; i < n && !due; i++) {
		if (fstatat(sp.dir[Q_NEW], ids[i], &st, AT_SYMLINK_NOFOLLOW) == -1)
			continue;
		if (st.st_mtime > now) {
			if (first == 0 || st.st_mtime < first)
				first = st.st_mtime;
			continue;
		}
		/* nothing in hand: any job due is (take sets aside what
		   is no job) */
		if (h.n == 0 || job_load(&sp, ids[i], &j) == -1) {
			due = h.n == 0 || errno != ENOENT;
			continue;
		}
		due = j.state == Q_NEW && runnable(&h, &j);
		job_free(&j);
	}
	spool_ids_free(ids, n);
	strset_free(&h.pages);
	if (due)
		return 0;
	if (spool_ids(&sp, Q_CUR, &ids, &n) == -1)
		die(EX_TEMPFAIL, "cur");
	for (i = 0; i < n; i++)
		if (job_load(&sp, ids[i], &j) == 0) {
			if ((t = lease_end(&j)) <= now)
				due = 1;
			else if (first == 0 || t < first)
				first = t;
			job_free(&j);
		}
	spool_ids_free(ids, n);
	if (due)
		return 0;
	if (first == 0)
		return -1;
	return first <= now ? 0 : (long)(first - now);
}

static int
cmd_wait(int argc, char **argv)
{
	struct pollfd pfd;
	struct timespec t0, t1;
	char buf[4096];
	long limit = -1, left, d, ms;
	int ch, fd, q;

	optind = 1;
	while ((ch = getopt(argc, argv, "t:")) != -1) {
		if (ch != 't' || parse_long(optarg, 0, 86400 * 365, &limit) == -1)
			ws_usage(usage, EX_USAGE);
	}
	if (optind != argc)
		ws_usage(usage, EX_USAGE);
	spool_or_die();
	if ((fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK)) == -1)
		die(EX_TEMPFAIL, "inotify");
	snprintf(buf, sizeof(buf), "%s/queue/new", sp.path);
	if ((q = inotify_add_watch(fd, buf, IN_MOVED_TO | IN_CREATE |
	    IN_ATTRIB)) == -1)
		die(EX_TEMPFAIL, "inotify %s", buf);
	/* a job leaving cur/ frees its page for the jobs passed over */
	snprintf(buf, sizeof(buf), "%s/queue/cur", sp.path);
	if (inotify_add_watch(fd, buf, IN_MOVED_FROM | IN_DELETE) == -1)
		die(EX_TEMPFAIL, "inotify %s", buf);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		/* watch first, then look: an add in between still wakes us */
		while (read(fd, buf, sizeof(buf)) > 0)
			;
		if ((d = due_in()) == 0)
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		left = -1;
		if (limit >= 0) {
			ms = (t1.tv_sec - t0.tv_sec) * 1000 +
			    (t1.tv_nsec - t0.tv_nsec) / 1000000;
			if ((left = limit * 1000 - ms) <= 0)
				return 1;
		}
		if (d > 0 && (left < 0 || d * 1000 < left))
			left = d * 1000;
		pfd.fd = fd;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, left > INT_MAX ? INT_MAX : (int)left) == -1 &&
		    errno != EINTR)
			die(EX_TEMPFAIL, "poll");
	}
}

static int
cmd_ls(int argc, char **argv)
{
	struct job j;
	char **ids, tb[32];
	const char *state, *err;
	size_t n, i;
	time_t now = time(NULL);
	int ch, all = 0, st;

	optind = 1;
	while ((ch = getopt(argc, argv, "a")) != -1) {
		if (ch != 'a')
			ws_usage(usage, EX_USAGE);
		all = 1;
	}
	if (optind != argc)
		ws_usage(usage, EX_USAGE);
	spool_or_die();
	for (st = 0; st < Q_NSTATE; st++) {
		if (st == Q_HOLD && !all)
			continue;
		if (spool_ids(&sp, (enum jobstate)st, &ids, &n) == -1)
			die(EX_TEMPFAIL, "%s", jobstate_name[st]);
		for (i = 0; i < n; i++) {
			if (job_load(&sp, ids[i], &j) == -1)
				continue;
			state = jobstate_name[j.state];
			if (j.state == Q_NEW && j.mtime.tv_sec > now) {
				if (!all) {
					job_free(&j);
					continue;
				}
				state = "wait";
			}
			err = job_get(&j, "error");
			printf("%s\t%s\t%s\t%s\t%ld\t%s\t%s\n", state, j.id,
			    job_get(&j, "wiki") ? job_get(&j, "wiki") : "-",
			    job_get(&j, "title") ? job_get(&j, "title") : "-",
			    field_long(&j, "attempts"),
			    ws_time(j.state == Q_NEW ? (long)j.mtime.tv_sec :
			    0, tb, sizeof(tb)), err ? err : "-");
			job_free(&j);
		}
		spool_ids_free(ids, n);
	}
	return 0;
}

static int
cmd_stats(int argc, char **argv)
{
	struct stat st;
	char **ids;
	size_t n, i, due = 0, wait = 0;
	time_t now = time(NULL), oldest = 0, t;
	int s;

	(void)argv;
	if (argc != 1)
		ws_usage(usage, EX_USAGE);
	spool_or_die();
	for (s = 0; s < Q_NSTATE; s++) {
		if (spool_ids(&sp, (enum jobstate)s, &ids, &n) == -1)
			die(EX_TEMPFAIL, "%s", jobstate_name[s]);
		for (i = 0; i < n; i++) {
			t = (time_t)strtoll(ids[i], NULL, 10);
			if (oldest == 0 || t < oldest)
				oldest = t;
			if (s == Q_NEW && fstatat(sp.dir[Q_NEW], ids[i], &st,
			    AT_SYMLINK_NOFOLLOW) == 0 && st.st_mtime > now)
				wait++;
			else if (s == Q_NEW)
				due++;
		}
		if (s == Q_NEW)
			printf("due %zu\nwaiting %zu\n", due, wait);
		else
			printf("%s %zu\n", s == Q_CUR ? "running" : "held", n);
		spool_ids_free(ids, n);
	}
	printf("oldest %lld\n", oldest ? (long long)(now - oldest) : 0LL);
	printf("bad %zu\n", spool_bad(&sp));
	return 0;
}

static const struct subcmd cmds[] = {
	{ "add", cmd_add }, { "ls", cmd_ls }, { "take", cmd_take },
	{ "done", cmd_done }, { "defer", cmd_defer }, { "hold", cmd_hold },
	{ "release", cmd_release }, { "get", cmd_get }, { "set", cmd_set },
	{ "wait", cmd_wait }, { "recover", cmd_recover },
	{ "stats", cmd_stats },
};

int
queue_main(int argc, char *argv[])
{
	return ws_subcmd(argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]),
	    usage);
}
