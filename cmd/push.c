/*
 * push.c: ws-push, make a job's page the same on every wiki of its group.
 *
 * The protocol is sync_page() in common/sync.c, written down in
 * wikisync(7) THE PROTOCOL: every wiki is read; when one wiki's history
 * holds what every other has, its revisions are replayed onto them in
 * order, each as its own edit; when several changed, their texts are
 * merged against the page's base into one, written to every wiki that
 * lacks it.  Invariants: every text written comes from a wiki's API,
 * never from mail; no saved text is dropped; a job run twice writes
 * nothing twice; what every wiki then holds is recorded in the job for
 * ws-verify, which alone moves the page's base.
 */
#include <stdio.h>
#include <unistd.h>

#include "sync.h"

static const char usage[] = "[-qv] [-c file] [-d dir] job";

int
push_main(int argc, char *argv[])
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
	rc = sync_page(&sp, &st, &j, w, title, stdout);
	job_free(&j);
	store_close(&st);
	spool_close(&sp);
	return rc;
}
