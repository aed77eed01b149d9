/*
 * wikisync.c: the multi-call binary.
 *
 * "ws-NAME ARGS" and "wikisync NAME ARGS" are the same call: the basename
 * of argv[0] picks the applet from the one table below, as busybox and git
 * do.  The table lists only applets that work.  An unknown name exits 127.
 * Whatever an applet printed on stdout is flushed and checked at exit, so
 * a full disk or a closed pipe is never reported as success.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"

int	api_main(int, char **);
int	conf_main(int, char **);
int	groups_main(int, char **);
int	login_main(int, char **);
int	merge_main(int, char **);
int	push_main(int, char **);
int	queue_main(int, char **);
int	recv_main(int, char **);
int	scan_main(int, char **);
int	status_main(int, char **);
int	store_main(int, char **);
int	verify_main(int, char **);

static const struct applet applets[] = {
	{ "api",	api_main,	"the MediaWiki API calls WikiSync makes, one at a time" },
	{ "conf",	conf_main,	"check the configuration and print it" },
	{ "groups",	groups_main,	"load the groups page from its wiki" },
	{ "login",	login_main,	"log in to the wikis, keep sessions alive, report down time" },
	{ "merge",	merge_main,	"three-way merge of wikitext that never drops text" },
	{ "push",	push_main,	"bring the peer wikis up to a page's revisions" },
	{ "queue",	queue_main,	"the crash-safe job queue" },
	{ "recv",	recv_main,	"turn a wiki's notification mail into a job" },
	{ "scan",	scan_main,	"catch up on what mail missed: changes, new category members, initial sync" },
	{ "status",	status_main,	"one table: wikis, queue, conflicts, last syncs" },
	{ "store",	store_main,	"the store of synced texts and its log" },
	{ "verify",	verify_main,	"confirm the peers carry what was pushed" },
};

static void
close_stdout(void)
{
	int e;

	errno = 0;
	if (fflush(stdout) == EOF || ferror(stdout) || fclose(stdout) == EOF) {
		e = errno ? errno : EIO;
		fprintf(stderr, "%s: stdout: %s\n", getprogname(), strerror(e));
		_exit(EX_IOERR);
	}
}

static void
list(FILE *fp)
{
	size_t i;

	fprintf(fp, "usage: wikisync applet [args]\n"
	    "       ws-applet [args]\n"
	    "       wikisync --help | --version\n\napplets:\n");
	for (i = 0; i < sizeof(applets) / sizeof(applets[0]); i++)
		fprintf(fp, "  %-10s %s\n", applets[i].name,
		    applets[i].summary);
	fprintf(fp, "\nEach applet answers -h.  See wikisync(1), wikisync(7).\n");
}

int
main(int argc, char *argv[])
{
	static char progname[80];
	const char *name;
	size_t i;

	atexit(close_stdout);
	name = strrchr(argv[0], '/');
	name = name ? name + 1 : argv[0];
	if (strncmp(name, "ws-", 3) == 0)
		name += 3;
	else {
		if (argc < 2) {
			list(stderr);
			return EX_USAGE;
		}
		if (strcmp(argv[1], "--help") == 0 ||
		    strcmp(argv[1], "-h") == 0) {
			list(stdout);
			return 0;
		}
		if (strcmp(argv[1], "--version") == 0) {
			printf("wikisync %s\n", VERSION);
			return 0;
		}
		name = argv[1];
		if (strncmp(name, "ws-", 3) == 0)
			name += 3;
		argc--;
		argv++;
	}
	for (i = 0; i < sizeof(applets) / sizeof(applets[0]); i++)
		if (strcmp(name, applets[i].name) == 0)
			break;
	if (i == sizeof(applets) / sizeof(applets[0])) {
		fprintf(stderr, "wikisync: %s: no such applet "
		    "(wikisync --help lists them)\n", name);
		return 127;
	}
	snprintf(progname, sizeof(progname), "ws-%s", applets[i].name);
	setprogname(progname);
	program_invocation_short_name = progname;
	program_invocation_name = progname;
	argv[0] = progname;
	return applets[i].main(argc, argv);
}
