/*
 * spool.c: the job queue, spool/queue/{tmp,new,cur,hold}.
 *
 * A job is a file of key=value lines named by its id, which begins with
 * the fixed-width time it was made, so names sort by age.  Invariants:
 * - a job is in exactly one of new/, cur/, hold/ at every instant: it only
 *   ever moves by rename(2) between them, never by copy;
 * - its content is only ever replaced whole (written in tmp/, fsynced,
 *   renamed over the old file, directory fsynced);
 * - in new/, a job's mtime is the time it is due (defer sets it ahead),
 *   so choosing the next job needs a stat, not a read;
 * - every change to a job that exists (set, take, defer, hold, release,
 *   done, recover) happens under an exclusive flock on queue/lock, so no
 *   two writers race on one job; adding a job needs no lock, since a new
 *   id is put in place with RENAME_NOREPLACE.
 */
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"

#define JOB_MAX	(64 * 1024)

const char *const jobstate_name[Q_NSTATE] = { "new", "cur", "hold" };

static int
opendir_at(int at, const char *name, int create)
{
	int fd;

	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT && create) {
		if (mkdirat(at, name, 0750) == -1 && errno != EEXIST)
			return -1;
		fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return fd;
}

/*
 * Root on a spool another user owns (the sync user's): what root made
 * there would be root's, and the sync user could not write it (a session
 * jar, a store text, a job).  So root becomes that user, with its groups,
 * before anything is made; if it cannot, it refuses, with the way to run
 * as that user.
 */
void
spool_as_owner(const struct stat *st, const char *path)
{
	char name[256];

	if (geteuid() != 0 || st->st_uid == 0)
		return;
	switch (become_user(st->st_uid, name, sizeof(name))) {
	case -1:
		diex(EX_NOPERM, "spool %s belongs to uid %u, no user: not run "
		    "as root there", path, (unsigned)st->st_uid);
	case -2:
		diex(EX_NOPERM, "spool %s belongs to %s, and this cannot "
		    "become it: run as that user, as runuser -u %s -- %s",
		    path, name, name, getprogname());
	}
	ws_log(LOG_DEBUG, "spool %s: running as %s, its owner", path, name);
}

/*
 * The spool could not be opened (errno): one line, and for a spool not
 * there what makes one.  Exit 75: Exim keeps the mail, cron tries again.
 */
void
spool_die(const char *path)
{
	if (errno == ENOENT && conf_missing != NULL)
		diex(EX_TEMPFAIL, "spool %s: no such directory, and no %s to "
		    "name another (wikisync.conf(5); ws-setup-spool(8) makes "
		    "the spool)", path, conf_missing);
	if (errno == ENOENT)
		diex(EX_TEMPFAIL, "spool %s: no such directory "
		    "(ws-setup-spool(8) makes it)", path);
	die(EX_TEMPFAIL, "spool %s", path);
}

/*
 * Open the spool at path.  The spool directory itself must exist (a
 * missing spool is the operator's to fix, and a temporary failure for
 * the caller); the queue's directories are made when missing.
 */
int
spool_open(struct spool *sp, const char *path)
{
	struct stat st;
	int q, i;

	memset(sp, 0, sizeof(*sp));
	sp->root = sp->tmp = sp->lockfd = -1;
	for (i = 0; i < Q_NSTATE; i++)
		sp->dir[i] = -1;
	if ((sp->root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	sp->path = xstrdup(path);
	if (fstat(sp->root, &st) == -1)
		goto fail;
	spool_as_owner(&st, path);
	sp->owner = st.st_uid;
	if ((q = opendir_at(sp->root, "queue", 1)) == -1)
		goto fail;
	sp->tmp = opendir_at(q, "tmp", 1);
	for (i = 0; i < Q_NSTATE && sp->tmp != -1; i++)
		if ((sp->dir[i] = opendir_at(q, jobstate_name[i], 1)) == -1)
			break;
	if (sp->tmp == -1 || i < Q_NSTATE) {
		close(q);
		goto fail;
	}
	sp->lockfd = openat(q, "lock", O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	close(q);
	if (sp->lockfd == -1)
		goto fail;
	return 0;
fail:
	spool_close(sp);
	return -1;
}

/*
 * Open the spool only to add jobs: queue/tmp and queue/new, nothing else
 * (no lock, no other state).  ws-recv runs so, as a user that may write
 * those two and read nothing else of the spool (wikisync(7)).
 */
int
spool_open_add(struct spool *sp, const char *path)
{
	struct stat st;
	int q, i, e;

	memset(sp, 0, sizeof(*sp));
	sp->root = sp->tmp = sp->lockfd = -1;
	for (i = 0; i < Q_NSTATE; i++)
		sp->dir[i] = -1;
	if ((sp->root = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1 &&
	    (sp->root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	sp->path = xstrdup(path);
	if (fstat(sp->root, &st) == -1)
		goto fail;
	sp->owner = st.st_uid;
	/* queue/ may be one to pass, not to list (mode 0710) */
	if ((q = opendir_at(sp->root, "queue", 1)) == -1) {
		e = errno;
		if ((q = openat(sp->root, "queue", O_PATH | O_DIRECTORY |
		    O_CLOEXEC)) == -1) {
			errno = e;
			goto fail;
		}
	}
	sp->tmp = opendir_at(q, "tmp", 1);
	sp->dir[Q_NEW] = opendir_at(q, jobstate_name[Q_NEW], 1);
	close(q);
	if (sp->tmp == -1 || sp->dir[Q_NEW] == -1)
		goto fail;
	return 0;
fail:
	spool_close(sp);
	return -1;
}

void
spool_close(struct spool *sp)
{
	int i, e = errno;

	if (sp->root != -1)
		close(sp->root);
	if (sp->tmp != -1)
		close(sp->tmp);
	for (i = 0; i < Q_NSTATE; i++)
		if (sp->dir[i] != -1)
			close(sp->dir[i]);
	if (sp->lockfd != -1)
		close(sp->lockfd);
	free(sp->path);
	sp->path = NULL;
	sp->root = sp->tmp = sp->lockfd = -1;
	errno = e;
}

int
spool_lock(struct spool *sp)
{
	while (flock(sp->lockfd, LOCK_EX) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

void
spool_unlock(struct spool *sp)
{
	flock(sp->lockfd, LOCK_UN);
}

/*
 * The jobs' outcomes counted since the spool was made, in queue/counts:
 * "done N", "deferred N", "held N" lines, for ws-status -m.  Counted
 * under the queue's lock (the caller holds it), replaced whole.  A count
 * that cannot be written is logged: the job's outcome stands.
 */
static const char *const count_names[] = { "done", "deferred", "held" };

void
spool_counts(struct spool *sp, long long *v)
{
	char buf[256], name[16];
	long long n;
	ssize_t len;
	size_t i;
	char *p, *nl;
	int q, fd;

	memset(v, 0, SPOOL_NCOUNTS * sizeof(*v));
	if ((q = opendir_at(sp->root, "queue", 0)) == -1)
		return;
	fd = openat(q, "counts", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	close(q);
	if (fd == -1)
		return;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return;
	buf[len] = '\0';
	for (p = buf; p != NULL && *p != '\0'; p = nl) {
		if ((nl = strchr(p, '\n')) != NULL)
			*nl++ = '\0';
		if (sscanf(p, "%15s %lld", name, &n) != 2 || n < 0)
			continue;
		for (i = 0; i < SPOOL_NCOUNTS; i++)
			if (strcmp(name, count_names[i]) == 0)
				v[i] = n;
	}
}

void
spool_count(struct spool *sp, enum spoolcount what)
{
	long long v[SPOOL_NCOUNTS];
	char buf[256];
	size_t i, len = 0;
	int q;

	spool_counts(sp, v);
	v[what]++;
	for (i = 0; i < SPOOL_NCOUNTS; i++)
		len += (size_t)snprintf(buf + len, sizeof(buf) - len,
		    "%s %lld\n", count_names[i], v[i]);
	if ((q = opendir_at(sp->root, "queue", 0)) == -1 ||
	    atomic_write(q, "counts", buf, len, 0640) == -1)
		ws_log(LOG_WARNING, "%s/queue/counts: %s", sp->path,
		    strerror(errno));
	if (q != -1)
		close(q);
}

/*
 * One push per page at a time, whoever started it: an open file
 * description lock on one byte of queue/lock, at an offset hashed from
 * the title (an underscore is a space; FNV-1a).  It waits for the holder,
 * and ends with spool_page_unlock or with the process: a crash leaves
 * nothing behind.  Two titles that hash alike only wait for each other.
 */
static off_t
page_byte(const char *title)
{
	uint64_t h = 14695981039346656037ULL;

	for (; *title != '\0'; title++)
		h = (h ^ (unsigned char)(*title == '_' ? ' ' : *title)) *
		    1099511628211ULL;
	return (off_t)(h % (1ULL << 40));
}

static int
page_lock(struct spool *sp, const char *title, short type)
{
	struct flock fl;

	memset(&fl, 0, sizeof(fl));
	fl.l_type = type;
	fl.l_whence = SEEK_SET;
	fl.l_start = page_byte(title);
	fl.l_len = 1;
	while (fcntl(sp->lockfd, F_OFD_SETLKW, &fl) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

int
spool_page_lock(struct spool *sp, const char *title)
{
	return page_lock(sp, title, F_WRLCK);
}

void
spool_page_unlock(struct spool *sp, const char *title)
{
	page_lock(sp, title, F_UNLCK);
}

/*
 * This host's name, as a taken job's owner and worker name it (PID@HOST):
 * one spelling for every taker, and for the check that a worker is gone.
 */
const char *
spool_host(void)
{
	static char host[256];

	if (*host == '\0' && gethostname(host, sizeof(host) - 1) == -1)
		strlcpy(host, "localhost", sizeof(host));
	return host;
}

int
job_id_valid(const char *id)
{
	size_t n = strlen(id), i;

	if (n < 20 || n >= sizeof(((struct job *)0)->id))
		return 0;
	for (i = 0; i < 10; i++)
		if (!isdigit((unsigned char)id[i]))
			return 0;
	for (; i < n; i++)
		if (!isxdigit((unsigned char)id[i]) && id[i] != '.')
			return 0;
	return 1;
}

int
job_key_valid(const char *k)
{
	if (*k == '\0' || strlen(k) > 128)
		return 0;
	for (; *k != '\0'; k++)
		if (!isalnum((unsigned char)*k) && strchr("._-", *k) == NULL)
			return 0;
	return 1;
}

int
job_val_valid(const char *v)
{
	return strpbrk(v, "\r\n") == NULL && strlen(v) < 8192;
}

static int
cmpstr(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The ids in one state directory, oldest first. */
int
spool_ids(struct spool *sp, enum jobstate st, char ***ids, size_t *n)
{
	struct dirent *de;
	DIR *d;
	int fd;

	*ids = NULL;
	*n = 0;
	if ((fd = dup(sp->dir[st])) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		if (!job_id_valid(de->d_name))
			continue;
		*ids = xreallocarray(*ids, *n + 1, sizeof(**ids));
		(*ids)[(*n)++] = xstrdup(de->d_name);
	}
	closedir(d);
	if (*n > 1)
		qsort(*ids, *n, sizeof(**ids), cmpstr);
	return 0;
}

void
spool_ids_free(char **ids, size_t n)
{
	while (n > 0)
		free(ids[--n]);
	free(ids);
}

static int
parse_job(struct job *j, char *buf, size_t len)
{
	char *line, *nl, *eq, *end = buf + len;

	for (line = buf; line < end; line = nl + 1) {
		if ((nl = memchr(line, '\n', (size_t)(end - line))) == NULL)
			nl = end;
		*nl = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		if ((eq = strchr(line, '=')) == NULL) {
			errno = EINVAL;
			return -1;
		}
		*eq = '\0';
		job_set(j, line, eq + 1);
	}
	return 0;
}

/*
 * A job file another user wrote (the receiving user, ws-recv's, in
 * queue/new) gives only what a mail may say: a field the sync's own
 * programs keep (attempts, waits, owner, lease, a fold or a move in
 * hand) is theirs to set, never a mail's.
 */
static void
mail_fields_only(struct job *j)
{
	static const char *const mail[] = {
		"wiki", "title", "event", "oldid", "msgid", "to", "received"
	};
	size_t i, k;

	for (i = j->n; i > 0; i--) {
		for (k = 0; k < sizeof(mail) / sizeof(mail[0]); k++)
			if (strcmp(j->key[i - 1], mail[k]) == 0)
				break;
		if (k == sizeof(mail) / sizeof(mail[0]))
			job_unset(j, j->key[i - 1]);
	}
}

/* Find job id in any state and read it. */
int
job_load(struct spool *sp, const char *id, struct job *j)
{
	struct stat st;
	size_t len;
	char *buf;
	int fd = -1, i, e;

	memset(j, 0, sizeof(*j));
	if (!job_id_valid(id)) {
		errno = EINVAL;
		return -1;
	}
	strlcpy(j->id, id, sizeof(j->id));
	for (i = 0; i < Q_NSTATE; i++) {
		/* O_NONBLOCK: a FIFO planted in the spool must not hang us */
		fd = openat(sp->dir[i], id, O_RDONLY | O_CLOEXEC | O_NOFOLLOW |
		    O_NONBLOCK);
		if (fd != -1 || errno != ENOENT)
			break;
	}
	if (fd == -1)
		return -1;
	j->state = (enum jobstate)i;
	if (fstat(fd, &st) == 0 && !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;		/* a directory, FIFO, socket... */
		return -1;
	}
	if (fstat(fd, &st) == -1 ||
	    (buf = read_all(fd, JOB_MAX, &len)) == NULL) {
		e = errno;
		close(fd);
		errno = e;
		return -1;
	}
	close(fd);
	j->mtime = st.st_mtim;
	j->ctime = st.st_ctim;
	if (memchr(buf, '\0', len) != NULL || parse_job(j, buf, len) == -1) {
		free(buf);
		job_free(j);
		errno = EINVAL;
		return -1;
	}
	free(buf);
	if (st.st_uid != sp->owner && st.st_uid != 0 && st.st_uid != geteuid())
		mail_fields_only(j);
	return 0;
}

/*
 * Move a file out of new/ that no job can be made of (a stray line, a NUL
 * byte, not a regular file, unreadable) to queue/bad/, with why beside it
 * in ID.why: it is never taken again, and no longer due, so nothing
 * waits on it.  The operator looks, and removes or mends it.
 */
int
spool_quarantine(struct spool *sp, const char *id, const char *why)
{
	char note[sizeof(((struct job *)0)->id) + 8];
	int q, bad, fd, e;

	if ((q = opendir_at(sp->root, "queue", 0)) == -1)
		return -1;
	bad = opendir_at(q, "bad", 1);
	close(q);
	if (bad == -1)
		return -1;
	if (renameat(sp->dir[Q_NEW], id, bad, id) == -1) {
		e = errno;
		close(bad);
		errno = e;
		return -1;
	}
	snprintf(note, sizeof(note), "%s.why", id);
	if ((fd = openat(bad, note, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC |
	    O_NOFOLLOW, 0640)) != -1) {
		dprintf(fd, "%s\n", why);
		close(fd);
	}
	fsync(bad);
	fsync(sp->dir[Q_NEW]);
	close(bad);
	return 0;
}

/* How many files queue/bad/ holds (not counting their notes). */
size_t
spool_bad(struct spool *sp)
{
	struct dirent *de;
	DIR *d;
	size_t n = 0;
	int q, bad;

	if ((q = opendir_at(sp->root, "queue", 0)) == -1)
		return 0;
	bad = opendir_at(q, "bad", 0);
	close(q);
	if (bad == -1 || (d = fdopendir(bad)) == NULL) {
		if (bad != -1)
			close(bad);
		return 0;
	}
	while ((de = readdir(d)) != NULL)
		if (job_id_valid(de->d_name))
			n++;
	closedir(d);
	return n;
}

void
job_free(struct job *j)
{
	size_t i;

	for (i = 0; i < j->n; i++) {
		free(j->key[i]);
		free(j->val[i]);
	}
	free(j->key);
	free(j->val);
	j->key = j->val = NULL;
	j->n = 0;
}

const char *
job_get(const struct job *j, const char *key)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (strcmp(j->key[i], key) == 0)
			return j->val[i];
	return NULL;
}

/*
 * A job is one field a line: a line break in a value (a title or an
 * error a wiki sent, say) would forge the fields after it, so it is
 * written as a space.  Keys are the callers' own words.
 */
static char *
one_line(const char *val)
{
	char *v = xstrdup(val), *p;

	for (p = v; (p = strpbrk(p, "\r\n")) != NULL; p++)
		*p = ' ';
	return v;
}

void
job_set(struct job *j, const char *key, const char *val)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (strcmp(j->key[i], key) == 0) {
			free(j->val[i]);
			j->val[i] = one_line(val);
			return;
		}
	j->key = xreallocarray(j->key, j->n + 1, sizeof(*j->key));
	j->val = xreallocarray(j->val, j->n + 1, sizeof(*j->val));
	j->key[j->n] = xstrdup(key);
	j->val[j->n++] = one_line(val);
}

void
job_unset(struct job *j, const char *key)
{
	size_t i;

	for (i = 0; i < j->n; i++)
		if (strcmp(j->key[i], key) == 0) {
			free(j->key[i]);
			free(j->val[i]);
			memmove(&j->key[i], &j->key[i + 1],
			    (j->n - i - 1) * sizeof(*j->key));
			memmove(&j->val[i], &j->val[i + 1],
			    (j->n - i - 1) * sizeof(*j->val));
			j->n--;
			return;
		}
}

/* Write the job's lines into a new file in tmp/, mtime set to due. */
static int
write_tmp(struct spool *sp, struct job *j, int dstdir, time_t due,
    struct afile *af, int flags)
{
	struct timespec ts[2];
	size_t i;

	if (afile_open(af, sp->tmp, dstdir, j->id, 0640, flags) == -1)
		return -1;
	for (i = 0; i < j->n; i++)
		fprintf(af->fp, "%s=%s\n", j->key[i], j->val[i]);
	if (due > 0) {
		ts[0].tv_sec = ts[1].tv_sec = due;
		ts[0].tv_nsec = ts[1].tv_nsec = 0;
		if (fflush(af->fp) == EOF ||
		    futimens(fileno(af->fp), ts) == -1) {
			afile_abort(af);
			return -1;
		}
	}
	return 0;
}

/*
 * The page's tag: FNV-1a of "wiki\ntitle", the last field of the ids of
 * the jobs made since it was added, so that the jobs of one page are
 * found among many by their names, without reading them.
 */
uint32_t
job_tag(const char *wiki, const char *title)
{
	uint32_t h = 2166136261U;

	for (; *wiki != '\0'; wiki++)
		h = (h ^ (unsigned char)*wiki) * 16777619U;
	h = (h ^ '\n') * 16777619U;
	for (; *title != '\0'; title++)
		h = (h ^ (unsigned char)*title) * 16777619U;
	return h;
}

/* May the job named id be one of the page with this tag?  An id made
   before tags were (four fields) may be any page's. */
int
job_id_may_be(const char *id, uint32_t tag)
{
	const char *dot = strrchr(id, '.');
	char want[9];

	if (dot == NULL || strlen(dot + 1) != 8)
		return 1;
	snprintf(want, sizeof(want), "%08x", (unsigned)tag);
	return strcmp(dot + 1, want) == 0;
}

/*
 * A job for wiki's title, made by the sync or a scan (not a mail): due
 * now, event as given.  Its id in id (sizeof(j.id)), or -1, errno set.
 */
int
job_queue(struct spool *sp, const char *wiki, const char *title,
    const char *event, char *id)
{
	struct job j;
	char num[32];
	int r;

	memset(&j, 0, sizeof(j));
	job_set(&j, "wiki", wiki);
	job_set(&j, "title", title);
	job_set(&j, "event", event);
	snprintf(num, sizeof(num), "%lld", (long long)time(NULL));
	job_set(&j, "received", num);
	job_set(&j, "attempts", "0");
	if ((r = job_add(sp, &j)) == 0 && id != NULL)
		strlcpy(id, j.id, sizeof(j.id));
	job_free(&j);
	return r;
}

/*
 * The same, unless a job of wiki's title waits in new/ (due or not) or
 * runs in cur/: then 1, its id in id.  So a job that asks for another
 * each time it runs asks once, whatever the backoff makes of both.
 */
int
job_queue_once(struct spool *sp, const char *wiki, const char *title,
    const char *event, char *id)
{
	static const enum jobstate in[] = { Q_NEW, Q_CUR };
	uint32_t tag = job_tag(wiki, title);
	struct job j;
	const char *w, *t;
	char **ids;
	size_t n, i, k;
	int found = 0;

	for (k = 0; k < 2 && !found; k++) {
		if (spool_ids(sp, in[k], &ids, &n) == -1)
			return -1;
		for (i = 0; i < n && !found; i++) {
			if (!job_id_may_be(ids[i], tag) ||
			    job_load(sp, ids[i], &j) == -1)
				continue;
			w = job_get(&j, "wiki");
			t = job_get(&j, "title");
			if (w != NULL && t != NULL && strcmp(w, wiki) == 0 &&
			    strcmp(t, title) == 0) {
				strlcpy(id, j.id, sizeof(j.id));
				found = 1;
			}
			job_free(&j);
		}
		spool_ids_free(ids, n);
	}
	if (found)
		return 1;
	return job_queue(sp, wiki, title, event, id);
}

int
job_add(struct spool *sp, struct job *j)
{
	return job_add_in(sp, j, Q_NEW);
}

/*
 * The same in state st: cur/ for a job its maker runs itself, taken the
 * moment it exists (its owner, worker and lease already among its fields,
 * as take sets them).
 */
int
job_add_in(struct spool *sp, struct job *j, enum jobstate st)
{
	struct afile af;
	struct timeval tv;
	const char *w = job_get(j, "wiki"), *t = job_get(j, "title");
	int tries;

	for (tries = 0; tries < 100; tries++) {
		gettimeofday(&tv, NULL);
		snprintf(j->id, sizeof(j->id), "%010lld.%06ld.%d.%04x.%08x",
		    (long long)tv.tv_sec, (long)tv.tv_usec, (int)getpid(),
		    arc4random() & 0xffff, w != NULL && t != NULL ?
		    (unsigned)job_tag(w, t) : 0U);
		if (write_tmp(sp, j, sp->dir[st], 0, &af, AF_NOREPLACE) == -1)
			return -1;
		if (afile_commit(&af) == 0) {
			j->state = st;
			return 0;
		}
		if (errno != EEXIST)
			return -1;
	}
	return -1;
}

/*
 * Replace the job's file with its fields (mtime due, 0: now), then move it
 * to state st.  The caller holds the lock.  A crash between the two steps
 * leaves the updated job in its old state, never in two.
 */
int
job_save(struct spool *sp, struct job *j, enum jobstate st, time_t due)
{
	struct afile af;

	if (write_tmp(sp, j, sp->dir[j->state], due, &af, 0) == -1 ||
	    afile_commit(&af) == -1)
		return -1;
	if (st == j->state)
		return 0;
	if (renameat2(sp->dir[j->state], j->id, sp->dir[st], j->id,
	    RENAME_NOREPLACE) == -1)
		return -1;
	if (fsync_dir(sp->dir[st]) == -1 || fsync_dir(sp->dir[j->state]) == -1)
		return -1;
	j->state = st;
	return 0;
}

int
job_remove(struct spool *sp, struct job *j)
{
	if (unlinkat(sp->dir[j->state], j->id, 0) == -1)
		return -1;
	return fsync_dir(sp->dir[j->state]);
}

/*
 * Set fields of job id wherever it is, under the lock: the way an applet
 * working on a job records its progress.  keys and vals are n long.
 */
int
job_update(struct spool *sp, const char *id, const char **keys,
    const char **vals, size_t n)
{
	struct job j;
	size_t i;
	int r;

	if (spool_lock(sp) == -1)
		return -1;
	if (job_load(sp, id, &j) == -1) {
		spool_unlock(sp);
		return -1;
	}
	for (i = 0; i < n; i++)
		job_set(&j, keys[i], vals[i]);
	r = job_save(sp, &j, j.state, j.state == Q_NEW ? j.mtime.tv_sec : 0);
	job_free(&j);
	spool_unlock(sp);
	return r;
}
