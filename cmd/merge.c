/*
 * merge.c: ws-merge, a three-way merge of wikitext that never drops text.
 *
 * Shaped like git merge-file: merges the changes from BASE to THEIRS into
 * OURS and replaces OURS (a tmp file beside it, fsync, rename: readers
 * see the old file or the new, whole), or writes to stdout with -p.  The
 * merge itself is merge3() in diff.c: line level, then word level, and a
 * conflict keeps both sides' whole text.  Exit as diff3: 0 clean, 1
 * conflicts, 2 trouble; 64 for a usage error, as every applet.  Nothing
 * is written anywhere unless the merge is complete.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"
#include "diff.h"

#define MERGE_INPUT_MAX	(256UL << 20)
#define EX_TROUBLE	2

static const char usage[] =
    "[-pqv] [-C category] [-L label]... [-s markers | wiki] [-c file] "
    "[-d dir] base ours theirs";

static const struct option longopts[] = {
	{ "style",	required_argument,	NULL,	's' },
	{ NULL,		0,			NULL,	0 }
};

static struct text
load(const char *path, struct stat *sb)
{
	struct text t;
	size_t len;
	char *p;
	int fd;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		die(EX_TROUBLE, "%s", path);
	if (fstat(fd, sb) == -1)
		die(EX_TROUBLE, "%s", path);
	if (S_ISDIR(sb->st_mode))
		diex(EX_TROUBLE, "%s: is a directory", path);
	if ((p = read_all(fd, MERGE_INPUT_MAX, &len)) == NULL) {
		if (errno == EFBIG)
			diex(EX_TROUBLE, "%s: larger than %lu MB", path,
			    MERGE_INPUT_MAX >> 20);
		die(EX_TROUBLE, "%s", path);
	}
	close(fd);
	t.p = p;
	t.len = len;
	return t;
}

/* Replace path with buf, keeping its mode; a symlink's target is replaced. */
static void
replace(const char *path, const struct buf *b, mode_t mode)
{
	struct afile af;
	char real[PATH_MAX], dir[PATH_MAX], name[PATH_MAX];
	int dfd;

	if (realpath(path, real) == NULL)
		die(EX_TROUBLE, "%s", path);
	strlcpy(dir, real, sizeof(dir));
	strlcpy(name, real, sizeof(name));
	if ((dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		die(EX_TROUBLE, "%s", dir);
	if (afile_open(&af, dfd, dfd, basename(name), mode, 0) == -1)
		die(EX_TROUBLE, "%s", path);
	if ((b->len > 0 && fwrite(b->p, 1, b->len, af.fp) != b->len) ||
	    fchmod(fileno(af.fp), mode) == -1) {
		afile_abort(&af);
		die(EX_TROUBLE, "%s", path);
	}
	if (afile_commit(&af) == -1)
		die(EX_TROUBLE, "%s", path);
	close(dfd);
}

int
merge_main(int argc, char *argv[])
{
	struct mergeopt mo;
	struct mergestat st;
	struct text base, ours, theirs;
	struct stat sb, osb;
	struct buf out = { NULL, 0, 0 };
	const char *label[3] = { NULL, NULL, NULL };
	int ch, nlabel = 0, pflag = 0;

	memset(&mo, 0, sizeof(mo));
	mo.style = STYLE_MARKERS;
	mo.category = CONFLICT_CATEGORY;
	while ((ch = getopt_long(argc, argv, "+" WS_OPTS "C:L:ps:", longopts,
	    NULL)) != -1) {
		switch (ch) {
		case 'C':
			mo.category = optarg;
			if (strncasecmp(optarg, "Category:", 9) == 0)
				mo.category += 9;
			if (*mo.category == '\0')
				diex(EX_USAGE, "-C: empty category name");
			break;
		case 'L':
			if (nlabel == 3)
				diex(EX_USAGE, "-L: at most three labels");
			label[nlabel++] = optarg;
			break;
		case 'p':
			pflag = 1;
			break;
		case 's':
			if (strcmp(optarg, "markers") == 0)
				mo.style = STYLE_MARKERS;
			else if (strcmp(optarg, "wiki") == 0)
				mo.style = STYLE_WIKI;
			else
				diex(EX_USAGE, "%s: style is markers or wiki",
				    optarg);
			break;
		default:
			ws_opt(ch, optarg, usage);
		}
	}
	argc -= optind;
	argv += optind;
	if (argc != 3)
		ws_usage(usage, EX_USAGE);

	base = load(argv[0], &sb);
	ours = load(argv[1], &osb);
	theirs = load(argv[2], &sb);
	mo.ours = label[0] ? label[0] : argv[1];
	mo.theirs = label[2] ? label[2] : argv[2];

	merge3(base, ours, theirs, &mo, &out, &st);
	if (st.toobig > 0)
		ws_log(LOG_NOTICE, "%zu region%s too large for the word level: "
		    "kept as conflicts", st.toobig, st.toobig == 1 ? "" : "s");
	if (pflag) {
		if (fflush(stdout) == EOF || write_all(STDOUT_FILENO, out.p,
		    out.len) == -1)
			die(EX_TROUBLE, "stdout");
	} else
		replace(argv[1], &out, osb.st_mode & 07777);
	if (wsopt.verbose)
		fprintf(stderr, "%s: %zu conflict%s\n", getprogname(),
		    st.conflicts, st.conflicts == 1 ? "" : "s");
	buf_free(&out);
	free((void *)base.p);
	free((void *)ours.p);
	free((void *)theirs.p);
	return st.conflicts > 0 ? 1 : 0;
}
