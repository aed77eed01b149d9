/*
 * verify.c: ws-verify, confirm every wiki holds what ws-push recorded.
 *
 * ws-push records in the job the text every wiki of the page's group held
 * when it was done (its sha1) and the revision each held it in.  Each of
 * those revisions is read (its sha1, not its text): only when every one
 * holds the text does the page's base move, on every wiki at once
 * (sync_verify() in common/sync.c).  Invariant: exit 0 only when every
 * wiki was seen to hold its text; the job may leave the queue only then.
 * Anything less exits 75 and the job is tried again.
 */
#include <stdio.h>
#include <unistd.h>

#include "sync.h"

static const char usage[] = "[-qv] [-c file] [-d dir] job";

int
verify_main(int argc, char *argv[])
{
	const struct wiki *w;
	struct spool sp;
	struct store st;
	struct job j;
	const char *title;
	int ch, rc;

	while ((ch = getopt(argc, argv, WS_OPTS)) != -1)
		ws_opt(ch, optarg, usage);
	if (argc - optind != 1)
		ws_usage(usage, EX_USAGE);
	w = sync_job_open(argv[optind], &sp, &st, &j, &title);
	rc = sync_verify(&st, &j, w);
	job_free(&j);
	store_close(&st);
	spool_close(&sp);
	return rc;
}
