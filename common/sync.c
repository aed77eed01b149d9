/*
 * sync.c: what ws-push and ws-verify share: opening the job they work on.
 *
 * A job is named by id or path; it must exist and name a configured wiki
 * and a title, or the caller exits 65 and ws-peerd holds the job for a
 * person.  A spool that cannot be read is a temporary failure (75).
 */
#include <errno.h>
#include <string.h>

#include "wikisync.h"

const struct wiki *
sync_job_open(const char *arg, struct spool *sp, struct store *st,
    struct job *j, const char **title)
{
	const struct wiki *w;
	const char *id, *name;

	id = strrchr(arg, '/');
	id = id ? id + 1 : arg;
	if (spool_open(sp, ws_spool()) == -1 || store_open(st, ws_spool()) == -1)
		die(EX_TEMPFAIL, "spool %s", ws_spool());
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
	return w;
}
