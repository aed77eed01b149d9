/*
 * store.c: the store of synced texts, T1wiki's atomic version store.
 *
 *   store/versions/SHA1   a text, named by its SHA-1 (as MediaWiki reports
 *                         it); written in tmp/, fsynced, renamed; never
 *                         changed after, so a reader can't see half of one
 *   store/cur/WIKI/KEY    the pointer: "SHA1 REVID GEN PAGEID\nTITLE\n",
 *                         the text WIKI and its group last agreed on, at
 *                         WIKI's revision REVID of its page PAGEID; KEY is
 *                         the md5 of the title, TITLE the title itself, or
 *                         where the page is on WIKI (a move not followed
 *                         there yet) or went (REVID "moved"); GEN names
 *                         the agreement (the same on every wiki of it,
 *                         larger for a later one; 0: unknown; so is a
 *                         PAGEID of 0);
 *                         replaced whole by rename
 *   store/log             fixed-length records, STORE_LOGREC bytes:
 *                         "TIME WIKI KEY OLD NEW REVID F\n"
 *
 * Order of a pointer change, all under flock on the log: repair the last
 * record; append the record with F '-' and fsync; rename the new pointer
 * into place and fsync the directory; write F '+' and fsync.  So after a
 * crash the log's last record is torn (size not a multiple of the record:
 * truncate it), or pending with the pointer still old (the change never
 * happened: truncate it) or already new (finish it).  One fstat and one
 * pointer read tell which; the pointer is always the old or the new one.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <md5.h>
#include <sha1.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wikisync.h"

#define TEXT_MAX	(256L * 1024 * 1024)

static int
subdir(int at, const char *name)
{
	int fd;

	fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd == -1 && errno == ENOENT) {
		if (mkdirat(at, name, 0750) == -1 && errno != EEXIST)
			return -1;
		fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	return fd;
}

int
store_open(struct store *st, const char *spool)
{
	struct stat sb;
	int sp;

	st->root = st->tmp = st->versions = st->cur = st->logfd = -1;
	if ((sp = open(spool, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return -1;
	if (fstat(sp, &sb) == 0)
		spool_as_owner(&sb, spool);
	st->root = subdir(sp, "store");
	close(sp);
	if (st->root == -1 || (st->tmp = subdir(st->root, "tmp")) == -1 ||
	    (st->versions = subdir(st->root, "versions")) == -1 ||
	    (st->cur = subdir(st->root, "cur")) == -1 ||
	    (st->logfd = openat(st->root, "log", O_RDWR | O_CREAT | O_CLOEXEC,
	    0640)) == -1) {
		store_close(st);
		return -1;
	}
	return 0;
}

void
store_close(struct store *st)
{
	int e = errno;

	if (st->root != -1)
		close(st->root);
	if (st->tmp != -1)
		close(st->tmp);
	if (st->versions != -1)
		close(st->versions);
	if (st->cur != -1)
		close(st->cur);
	if (st->logfd != -1)
		close(st->logfd);
	st->root = st->tmp = st->versions = st->cur = st->logfd = -1;
	errno = e;
}

void
sha1_hex(const void *buf, size_t len, char *out)
{
	SHA1_CTX ctx;
	uint8_t d[SHA1_DIGEST_LENGTH];
	int i;

	SHA1Init(&ctx);
	SHA1Update(&ctx, buf, len);
	SHA1Final(d, &ctx);
	for (i = 0; i < SHA1_DIGEST_LENGTH; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* md5 of the title as MediaWiki writes it: underscores are spaces. */
void
title_key(const char *title, char *out)
{
	MD5_CTX ctx;
	uint8_t d[16];
	char *t, *p;
	int i;

	t = xstrdup(title);
	for (p = t; *p != '\0'; p++)
		if (*p == '_')
			*p = ' ';
	MD5Init(&ctx);
	MD5Update(&ctx, (const uint8_t *)t, strlen(t));
	MD5Final(d, &ctx);
	free(t);
	for (i = 0; i < 16; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

int
sha1_valid(const char *s)
{
	int i;

	for (i = 0; i < SHA1_HEX; i++)
		if (!isxdigit((unsigned char)s[i]) || isupper((unsigned char)s[i]))
			return 0;
	return s[i] == '\0';
}

/* Store buf as versions/SHA1 unless it is there; sha1 out (41 bytes). */
int
store_put(struct store *st, const void *buf, size_t len, char *sha1)
{
	struct afile af;
	struct stat sb;

	sha1_hex(buf, len, sha1);
	if (fstatat(st->versions, sha1, &sb, 0) == 0)
		return 0;
	if (afile_open(&af, st->tmp, st->versions, sha1, 0640,
	    AF_NOREPLACE) == -1)
		return -1;
	if (len > 0 && fwrite(buf, 1, len, af.fp) != len) {
		afile_abort(&af);
		return -1;
	}
	if (afile_commit(&af) == -1)
		return errno == EEXIST ? 0 : -1;
	return 0;
}

char *
store_read(struct store *st, const char *sha1, size_t *len)
{
	char *buf;
	int fd, e;

	if (!sha1_valid(sha1)) {
		errno = EINVAL;
		return NULL;
	}
	if ((fd = openat(st->versions, sha1, O_RDONLY | O_CLOEXEC)) == -1)
		return NULL;
	buf = read_all(fd, TEXT_MAX, len);
	e = errno;
	close(fd);
	errno = e;
	return buf;
}

int
store_ptr_read(struct store *st, const char *wiki, const char *key,
    struct storeptr *p)
{
	char path[128], buf[1024], *nl, *sp, *gen;
	ssize_t n;
	int fd;

	memset(p, 0, sizeof(*p));
	snprintf(path, sizeof(path), "%s/%s", wiki, key);
	if ((fd = openat(st->cur, path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n == -1)
		return -1;
	buf[n] = '\0';
	if ((nl = strchr(buf, '\n')) == NULL)
		goto bad;
	*nl++ = '\0';
	if ((sp = strchr(buf, ' ')) != NULL)
		*sp++ = '\0';
	if (!sha1_valid(buf))
		goto bad;
	strlcpy(p->sha1, buf, sizeof(p->sha1));
	if (sp != NULL && (gen = strchr(sp, ' ')) != NULL) {
		*gen++ = '\0';
		p->gen = strtoll(gen, &gen, 10);
		if (*gen == ' ')
			p->pageid = strtol(gen + 1, NULL, 10);
	}
	strlcpy(p->revid, sp ? sp : "", sizeof(p->revid));
	nl[strcspn(nl, "\n")] = '\0';
	strlcpy(p->title, nl, sizeof(p->title));
	return 0;
bad:
	errno = EINVAL;
	return -1;
}

int
store_get(struct store *st, const char *wiki, const char *title,
    struct storeptr *p)
{
	char key[MD5_HEX + 1];

	title_key(title, key);
	return store_ptr_read(st, wiki, key, p);
}

int
store_log_lock(struct store *st)
{
	while (flock(st->logfd, LOCK_EX) == -1)
		if (errno != EINTR)
			return -1;
	return 0;
}

void
store_log_unlock(struct store *st)
{
	flock(st->logfd, LOCK_UN);
}

/* Complete records in the log; a torn tail is not counted. */
off_t
store_log_records(struct store *st)
{
	struct stat sb;

	if (fstat(st->logfd, &sb) == -1)
		return -1;
	return sb.st_size / STORE_LOGREC;
}

int
store_log_read(struct store *st, off_t i, struct logrec *r)
{
	char buf[STORE_LOGREC + 1];
	ssize_t n;

	n = pread(st->logfd, buf, STORE_LOGREC, i * STORE_LOGREC);
	if (n != STORE_LOGREC) {
		if (n >= 0)
			errno = EIO;
		return -1;
	}
	buf[STORE_LOGREC] = '\0';
	memset(r, 0, sizeof(*r));
	if (sscanf(buf, "%lld %32s %32s %40s %40s %10s %c", &r->time, r->wiki,
	    r->key, r->old, r->new, r->revid, &r->finished) != 7 ||
	    buf[STORE_LOGREC - 1] != '\n') {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

/*
 * With the log locked: make its last record whole and finished, or gone.
 * Returns 1 when something was repaired, 0 when nothing needed it.
 */
int
store_log_repair(struct store *st, char *what, size_t len)
{
	struct stat sb;
	struct logrec r;
	struct storeptr p;
	off_t n;

	if (fstat(st->logfd, &sb) == -1)
		return -1;
	if (sb.st_size % STORE_LOGREC != 0) {
		if (ftruncate(st->logfd, sb.st_size - sb.st_size % STORE_LOGREC)
		    == -1 || fsync(st->logfd) == -1)
			return -1;
		snprintf(what, len, "torn last log record (%lld bytes): "
		    "truncated", (long long)(sb.st_size % STORE_LOGREC));
		return 1;
	}
	if ((n = sb.st_size / STORE_LOGREC) == 0)
		return 0;
	if (store_log_read(st, n - 1, &r) == -1) {
		if (errno != EINVAL)
			return -1;
		if (ftruncate(st->logfd, (n - 1) * STORE_LOGREC) == -1 ||
		    fsync(st->logfd) == -1)
			return -1;
		snprintf(what, len, "garbled last log record: truncated");
		return 1;
	}
	if (r.finished == '+')
		return 0;
	if (store_ptr_read(st, r.wiki, r.key, &p) == 0 &&
	    strcmp(p.sha1, r.new) == 0 &&
	    strcmp(*p.revid ? p.revid : "-", r.revid) == 0) {
		if (pwrite(st->logfd, "+", 1, n * STORE_LOGREC - 2) != 1 ||
		    fsync(st->logfd) == -1)
			return -1;
		snprintf(what, len, "unfinished last log record, pointer "
		    "moved: finished");
		return 1;
	}
	if (ftruncate(st->logfd, (n - 1) * STORE_LOGREC) == -1 ||
	    fsync(st->logfd) == -1)
		return -1;
	snprintf(what, len, "unfinished last log record, pointer not moved: "
	    "removed");
	return 1;
}

/*
 * Point WIKI's TITLE at version sha1 (which must be stored), logging the
 * change.  Setting what is already set is a no-op.
 */
int
store_set(struct store *st, const char *wiki, const char *title,
    const char *sha1, const char *revid, long long gen, long pageid)
{
	return store_set_as(st, wiki, title, title, sha1, revid, gen, pageid);
}

/*
 * The same, the pointer naming the page as shown: where the wiki still
 * has it under another title (a move not yet followed there), or where
 * it went (a pointer that says "moved").
 */
int
store_set_as(struct store *st, const char *wiki, const char *title,
    const char *shown, const char *sha1, const char *revid, long long gen,
    long pageid)
{
	char key[MD5_HEX + 1], rec[STORE_LOGREC + 1], what[128], body[700];
	struct storeptr old;
	struct afile af;
	struct stat sb;
	off_t end;
	int dir = -1, e, had;

	if (!sha1_valid(sha1) || strlen(wiki) > 32 || strlen(revid) > 10 ||
	    strlen(shown) >= sizeof(old.title) || strchr(shown, '\n')) {
		errno = EINVAL;
		return -1;
	}
	if (fstatat(st->versions, sha1, &sb, 0) == -1)
		return -1;
	title_key(title, key);
	if ((dir = subdir(st->cur, wiki)) == -1)
		return -1;
	if (store_log_lock(st) == -1)
		goto fail;
	if (store_log_repair(st, what, sizeof(what)) == -1)
		goto fail;
	had = store_ptr_read(st, wiki, key, &old) == 0;
	errno = 0;
	if (had && strcmp(old.sha1, sha1) == 0 && strcmp(old.revid, revid) == 0 &&
	    old.gen == gen && old.pageid == pageid &&
	    strcmp(old.title, shown) == 0) {
		store_log_unlock(st);
		close(dir);
		return 0;
	}
	snprintf(rec, sizeof(rec), "%020lld %-32s %32s %-40s %-40s %-10s -\n",
	    (long long)time(NULL), wiki, key, had ? old.sha1 : "-", sha1,
	    *revid ? revid : "-");
	/* no O_APPEND: Linux would append pwrite()s too */
	if ((end = lseek(st->logfd, 0, SEEK_END)) == -1)
		goto fail;
	if (pwrite(st->logfd, rec, STORE_LOGREC, end) != STORE_LOGREC ||
	    fsync(st->logfd) == -1) {
		if (errno == 0)
			errno = ENOSPC;
		goto undo;
	}
	snprintf(body, sizeof(body), "%s %s %lld %ld\n%s\n", sha1, revid, gen,
	    pageid, shown);
	if (afile_open(&af, st->tmp, dir, key, 0640, 0) == -1)
		goto undo;
	fputs(body, af.fp);
	if (afile_commit(&af) == -1)
		goto undo;
	if (pwrite(st->logfd, "+", 1, end + STORE_LOGREC - 2) != 1 ||
	    fsync(st->logfd) == -1)
		goto fail;
	store_log_unlock(st);
	close(dir);
	return 0;
undo:
	/* the pointer did not move: the pending record must go */
	e = errno;
	store_log_repair(st, what, sizeof(what));
	errno = e;
fail:
	e = errno;
	store_log_unlock(st);
	if (dir != -1)
		close(dir);
	errno = e;
	return -1;
}

/*
 * Every pointer file: fn(wiki's directory, wiki, key, arg) for each, in
 * no order, until fn returns non-zero (returned); -1 when a directory
 * cannot be read.
 */
int
store_walk(struct store *st, int (*fn)(int, const char *, const char *,
    void *), void *arg)
{
	struct dirent *wd, *pd;
	int fd, wfd, rc = 0;
	DIR *d, *w;

	if ((fd = dup(st->cur)) == -1)
		return -1;
	if ((d = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	while (rc == 0 && (wd = readdir(d)) != NULL) {
		if (wd->d_name[0] == '.')
			continue;
		if ((wfd = openat(st->cur, wd->d_name, O_RDONLY | O_DIRECTORY |
		    O_CLOEXEC)) == -1 || (w = fdopendir(wfd)) == NULL) {
			if (wfd != -1)
				close(wfd);
			rc = -1;
			break;
		}
		while (rc == 0 && (pd = readdir(w)) != NULL)
			if (pd->d_name[0] != '.')
				rc = fn(wfd, wd->d_name, pd->d_name, arg);
		closedir(w);
	}
	closedir(d);
	return rc;
}
