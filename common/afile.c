/*
 * afile.c: files that appear whole or not at all.
 *
 * The discipline (maildir's, and T1wiki's): create a uniquely named file
 * with O_EXCL in a tmp directory, write it, fflush, ferror, fsync, fclose,
 * rename it into place, fsync the directory.  Any failure before the
 * rename unlinks the tmp file and leaves the final name untouched.  With
 * AF_NOREPLACE the rename refuses an existing name, and a failed fsync of
 * the directory afterwards unlinks the new name again, so the caller's
 * error really means "not there".  Every step is checked: a full disk or
 * an I/O error is never reported as success.
 */
#include <sys/stat.h>
#include <sys/time.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"

int
fsync_dir(int dirfd)
{
	if (fsync(dirfd) == -1 && errno != EINVAL)
		return -1;
	return 0;
}

int
afile_open(struct afile *af, int tmpdir, int dstdir, const char *name,
    mode_t mode, int flags)
{
	struct timeval tv;
	int fd, tries, e;

	memset(af, 0, sizeof(*af));
	af->tmpdir = tmpdir;
	af->dstdir = dstdir;
	af->flags = flags;
	if (strlcpy(af->name, name, sizeof(af->name)) >= sizeof(af->name)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	for (tries = 0; tries < 100; tries++) {
		gettimeofday(&tv, NULL);
		snprintf(af->tmpname, sizeof(af->tmpname), ".tmp.%lld.%06ld.%d.%u",
		    (long long)tv.tv_sec, (long)tv.tv_usec, (int)getpid(),
		    arc4random());
		fd = openat(tmpdir, af->tmpname,
		    O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
		if (fd != -1)
			break;
		if (errno != EEXIST)
			return -1;
	}
	if (fd == -1)
		return -1;
	if ((af->fp = fdopen(fd, "w")) == NULL) {
		e = errno;
		close(fd);
		unlinkat(tmpdir, af->tmpname, 0);
		errno = e;
		return -1;
	}
	return 0;
}

void
afile_abort(struct afile *af)
{
	int e = errno;

	if (af->fp != NULL)
		fclose(af->fp);
	af->fp = NULL;
	if (af->tmpname[0] != '\0')
		unlinkat(af->tmpdir, af->tmpname, 0);
	af->tmpname[0] = '\0';
	errno = e;
}

int
afile_commit(struct afile *af)
{
	FILE *fp = af->fp;
	int e, r;

	af->fp = NULL;
	errno = 0;
	if (fflush(fp) == EOF || ferror(fp) || fsync(fileno(fp)) == -1) {
		e = errno ? errno : EIO;
		fclose(fp);
		goto fail;
	}
	if (fclose(fp) == EOF) {
		e = errno;
		goto fail;
	}
	if (af->flags & AF_NOREPLACE)
		r = renameat2(af->tmpdir, af->tmpname, af->dstdir, af->name,
		    RENAME_NOREPLACE);
	else
		r = renameat(af->tmpdir, af->tmpname, af->dstdir, af->name);
	if (r == -1) {
		e = errno;
		goto fail;
	}
	af->tmpname[0] = '\0';
	if (fsync_dir(af->dstdir) == -1) {
		e = errno;
		if (af->flags & AF_NOREPLACE)
			unlinkat(af->dstdir, af->name, 0);
		errno = e;
		return -1;
	}
	return 0;
fail:
	if (af->tmpname[0] != '\0')
		unlinkat(af->tmpdir, af->tmpname, 0);
	af->tmpname[0] = '\0';
	errno = e;
	return -1;
}

/* Replace dir/name with buf, the tmp file beside it. */
int
atomic_write(int dir, const char *name, const void *buf, size_t len,
    mode_t mode)
{
	struct afile af;

	if (afile_open(&af, dir, dir, name, mode, 0) == -1)
		return -1;
	if (len > 0 && fwrite(buf, 1, len, af.fp) != len) {
		afile_abort(&af);
		return -1;
	}
	return afile_commit(&af);
}
