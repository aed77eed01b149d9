/*
 * store.c: ws-store, the store of synced texts and its log.
 *
 * put, set, get, cat, log, fsck over spool/store (see common/store.c for
 * the files and the crash analysis).  put and set print nothing but the
 * sha1 put; readers (get, cat, log) take no lock and can never see a
 * half-written version or pointer.
 */
#include <sys/stat.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "wikisync.h"

#define TMP_STALE	600

static const char usage[] =
    "[-qv] [-c file] [-d dir] command [args]\n"
    "put < file\n"
    "set wiki title sha1 [revid]\n"
    "get wiki title\n"
    "cat sha1 | cat wiki title\n"
    "log [-n count] [wiki]\n"
    "fsck [-r]";

static struct store st;

static void
open_or_die(void)
{
	const char *spool = ws_spool();

	if (store_open(&st, spool) == -1)
		die(EX_TEMPFAIL, "store in %s", spool);
}

static int
cmd_put(int argc, char **argv)
{
	char sha1[SHA1_HEX + 1], *buf;
	size_t len;

	(void)argv;
	if (argc != 1)
		ws_usage(usage, EX_USAGE);
	if ((buf = read_all(STDIN_FILENO, 256L * 1024 * 1024, &len)) == NULL)
		die(errno == EFBIG ? EX_DATAERR : EX_TEMPFAIL, "stdin");
	open_or_die();
	if (store_put(&st, buf, len, sha1) == -1)
		die(EX_TEMPFAIL, "put");
	printf("%s\n", sha1);
	free(buf);
	return 0;
}

static int
cmd_set(int argc, char **argv)
{
	if (argc != 4 && argc != 5)
		ws_usage(usage, EX_USAGE);
	if (!sha1_valid(argv[3]))
		diex(EX_DATAERR, "%s: not a sha1", argv[3]);
	if (strlen(argv[1]) > 32 || strchr(argv[1], '/') || *argv[1] == '.' ||
	    *argv[1] == '\0')
		diex(EX_DATAERR, "%s: not a wiki name", argv[1]);
	if (*argv[2] == '\0' || strpbrk(argv[2], "\r\n") || strlen(argv[2]) > 500)
		diex(EX_DATAERR, "title must be one line of 1 to 500 bytes");
	if (argc == 5 && (strlen(argv[4]) > 10 ||
	    strspn(argv[4], "0123456789") != strlen(argv[4])))
		diex(EX_DATAERR, "%s: not a revision id", argv[4]);
	open_or_die();
	if (store_set(&st, argv[1], argv[2], argv[3], argc == 5 ? argv[4] : "",
	    0, 0) == -1) {
		if (errno == ENOENT)
			diex(EX_DATAERR, "%s: no such version (put it first)",
			    argv[3]);
		die(EX_TEMPFAIL, "set");
	}
	return 0;
}

static int
cmd_get(int argc, char **argv)
{
	struct storeptr p;

	if (argc != 3)
		ws_usage(usage, EX_USAGE);
	open_or_die();
	if (store_get(&st, argv[1], argv[2], &p) == -1) {
		if (errno == ENOENT)
			return 1;
		die(EX_TEMPFAIL, "%s %s", argv[1], argv[2]);
	}
	printf("%s %s\n", p.sha1, *p.revid ? p.revid : "-");
	return 0;
}

static int
cmd_cat(int argc, char **argv)
{
	struct storeptr p;
	const char *sha1;
	size_t len;
	char *buf;

	if (argc != 2 && argc != 3)
		ws_usage(usage, EX_USAGE);
	open_or_die();
	sha1 = argv[1];
	if (argc == 3) {
		if (store_get(&st, argv[1], argv[2], &p) == -1) {
			if (errno == ENOENT)
				diex(1, "%s: %s: never synced", argv[1],
				    argv[2]);
			die(EX_TEMPFAIL, "%s %s", argv[1], argv[2]);
		}
		sha1 = p.sha1;
	} else if (!sha1_valid(sha1))
		diex(EX_DATAERR, "%s: not a sha1", sha1);
	if ((buf = store_read(&st, sha1, &len)) == NULL) {
		if (errno == ENOENT)
			diex(1, "%s: no such version", sha1);
		die(EX_TEMPFAIL, "%s", sha1);
	}
	fwrite(buf, 1, len, stdout);
	free(buf);
	return 0;
}

static int
cmd_log(int argc, char **argv)
{
	struct logrec r;
	struct storeptr p;
	char tb[32];
	const char *wiki = NULL;
	long max = -1, shown = 0;
	off_t i;
	int ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "n:")) != -1)
		if (ch != 'n' || parse_long(optarg, 0, 1L << 40, &max) == -1)
			ws_usage(usage, EX_USAGE);
	if (argc - optind > 1)
		ws_usage(usage, EX_USAGE);
	if (argc - optind == 1)
		wiki = argv[optind];
	open_or_die();
	for (i = store_log_records(&st) - 1; i >= 0; i--) {
		if (max >= 0 && shown >= max)
			break;
		if (store_log_read(&st, i, &r) == -1 || r.finished != '+')
			continue;
		if (wiki != NULL && strcmp(wiki, r.wiki) != 0)
			continue;
		if (store_ptr_read(&st, r.wiki, r.key, &p) == -1)
			strlcpy(p.title, r.key, sizeof(p.title));
		ws_time(r.time, tb, sizeof(tb));
		printf("%s\t%s\t%s\t%s\t%s\t%s\n", tb, r.wiki, p.title, r.old,
		    r.new, r.revid);
		shown++;
	}
	return 0;
}

/* Versions: each named by its content's sha1.  Bad ones go to bad/. */
static int
fsck_versions(int repair, int *fixed)
{
	struct dirent *de;
	char sha1[SHA1_HEX + 1], *buf;
	size_t len;
	int fd, bad = 0, quarantine;
	DIR *d;

	if ((fd = dup(st.versions)) == -1 || (d = fdopendir(fd)) == NULL)
		die(EX_TEMPFAIL, "versions");
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (!sha1_valid(de->d_name)) {
			printf("versions/%s: not a version name\n", de->d_name);
			bad++;
			continue;
		}
		if ((buf = store_read(&st, de->d_name, &len)) == NULL)
			die(EX_TEMPFAIL, "versions/%s", de->d_name);
		sha1_hex(buf, len, sha1);
		free(buf);
		if (strcmp(sha1, de->d_name) == 0)
			continue;
		printf("versions/%s: content has sha1 %s%s\n", de->d_name,
		    sha1, repair ? ": moved to bad/" : "");
		bad++;
		if (!repair)
			continue;
		if ((quarantine = openat(st.root, "bad", O_RDONLY |
		    O_DIRECTORY)) == -1 && (mkdirat(st.root, "bad", 0750) ==
		    -1 || (quarantine = openat(st.root, "bad", O_RDONLY |
		    O_DIRECTORY)) == -1))
			die(EX_TEMPFAIL, "bad");
		if (renameat(st.versions, de->d_name, quarantine, de->d_name)
		    == -1 || fsync_dir(st.versions) == -1)
			die(EX_TEMPFAIL, "versions/%s", de->d_name);
		close(quarantine);
		(*fixed)++;
	}
	closedir(d);
	return bad;
}

/* Pointers: each to a version that exists. */
struct fsck { int repair, bad, fixed; };

static int
fsck_pointer(int wfd, const char *wiki, const char *key, void *arg)
{
	struct fsck *f = arg;
	struct storeptr p;
	struct stat sb;

	if (store_ptr_read(&st, wiki, key, &p) == 0 &&
	    fstatat(st.versions, p.sha1, &sb, 0) == 0)
		return 0;
	printf("cur/%s/%s: %s%s\n", wiki, key, errno == ENOENT ?
	    "points to a missing version" : "not a pointer", f->repair ?
	    ": removed (the page counts as never synced)" : "");
	f->bad++;
	if (f->repair) {
		if (unlinkat(wfd, key, 0) == -1 || fsync_dir(wfd) == -1)
			die(EX_TEMPFAIL, "cur/%s/%s", wiki, key);
		f->fixed++;
	}
	return 0;
}

static int
fsck_pointers(int repair, int *fixed)
{
	struct fsck f = { repair, 0, 0 };

	if (store_walk(&st, fsck_pointer, &f) == -1)
		die(EX_TEMPFAIL, "cur");
	*fixed += f.fixed;
	return f.bad;
}

static int
fsck_tmp(int repair, int *fixed)
{
	struct dirent *de;
	struct stat sb;
	time_t now = time(NULL);
	int fd, bad = 0;
	DIR *d;

	if ((fd = dup(st.tmp)) == -1 || (d = fdopendir(fd)) == NULL)
		die(EX_TEMPFAIL, "tmp");
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		/* younger ones may be a writer's at work */
		if (fstatat(st.tmp, de->d_name, &sb, AT_SYMLINK_NOFOLLOW) == -1 ||
		    sb.st_ctime + TMP_STALE > now)
			continue;
		printf("tmp/%s: stray%s\n", de->d_name, repair ? ": removed" : "");
		bad++;
		if (repair && unlinkat(st.tmp, de->d_name, 0) == 0)
			(*fixed)++;
	}
	closedir(d);
	return bad;
}

static int
cmd_fsck(int argc, char **argv)
{
	struct stat sb;
	struct logrec r;
	char what[128];
	int ch, repair = 0, bad = 0, fixed = 0, rv;
	off_t n;

	optind = 1;
	while ((ch = getopt(argc, argv, "r")) != -1) {
		if (ch != 'r')
			ws_usage(usage, EX_USAGE);
		repair = 1;
	}
	if (optind != argc)
		ws_usage(usage, EX_USAGE);
	open_or_die();
	if (store_log_lock(&st) == -1)
		die(EX_TEMPFAIL, "log");
	if (repair) {
		if ((rv = store_log_repair(&st, what, sizeof(what))) == -1)
			die(EX_TEMPFAIL, "log");
		if (rv == 1) {
			printf("log: %s\n", what);
			bad++;
			fixed++;
		}
	} else if (fstat(st.logfd, &sb) == -1)
		die(EX_TEMPFAIL, "log");
	else if (sb.st_size % STORE_LOGREC != 0) {
		printf("log: torn last record (%lld bytes)\n",
		    (long long)(sb.st_size % STORE_LOGREC));
		bad++;
	} else if ((n = sb.st_size / STORE_LOGREC) > 0) {
		if (store_log_read(&st, n - 1, &r) == -1) {
			printf("log: garbled last record\n");
			bad++;
		} else if (r.finished != '+') {
			printf("log: unfinished last record\n");
			bad++;
		}
	}
	bad += fsck_versions(repair, &fixed);
	bad += fsck_pointers(repair, &fixed);
	bad += fsck_tmp(repair, &fixed);
	store_log_unlock(&st);
	if (bad > fixed)
		ws_log(LOG_ERR, "%d problem(s)%s", bad - fixed,
		    repair ? " left" : "; ws-store fsck -r repairs them");
	return bad > fixed ? 1 : 0;
}

static const struct subcmd cmds[] = {
	{ "put", cmd_put }, { "set", cmd_set }, { "get", cmd_get },
	{ "cat", cmd_cat }, { "log", cmd_log }, { "fsck", cmd_fsck },
};

int
store_main(int argc, char *argv[])
{
	return ws_subcmd(argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]),
	    usage);
}
