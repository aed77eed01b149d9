/*
 * status.h: what ws-status reads of the spool and the wikis, shared by
 * its tables (cmd/status.c) and its metrics (common/metrics.c).
 */
#ifndef STATUS_H
#define STATUS_H

#include <time.h>

#include "wikisync.h"
#include "diff.h"
#include "mw.h"

struct wstate {
	const struct wiki *w;
	int		 up;		/* -1: never checked */
	long long	 since;
	long long	 checked;
	long long	 last_ok;
	char		 error[MW_ERRLEN];
};

struct held {
	char		 id[64];
	char		*wiki;
	char		*title;
	char		*reason;
};

struct inconflict {
	const char	*wiki;
	char		*title;
};

struct last {
	long long	 time;		/* 0: never */
	char		 wiki[33];
	char		 title[512];
};

struct status {
	struct wstate	*ws;
	size_t		 nws;
	size_t		 due, waiting, running;
	long long	 oldest;	/* the oldest job's time, 0: none */
	struct held	*held;
	size_t		 nheld;
	size_t		 bad;		/* files in queue/bad */
	long long	 counts[SPOOL_NCOUNTS];	/* jobs done, deferred, held */
	size_t		 refused;	/* mail ws-recv kept in bad/ */
	long long	 refusedlast;	/* the newest's time */
	int		 loop;		/* ws-peerd: 1 runs, 0 not, -1 never */
	long long	 looppid;
	long long	 loopsince;	/* its start (the last one's) */
	struct inconflict	*cf;
	size_t		 ncf;
	struct inconflict	*kept;	/* deleted there, kept elsewhere */
	size_t		 nkept;
	int		 cfasked;	/* -w */
	struct last	*last;		/* one per group */
	char		 gerr[600];	/* why the groups page was refused */
	long long	 gtime;		/* refused, or in force, since */
	time_t		 now;
};

/* metrics.c: -m, the state in Prometheus's text exposition format */
void	 metrics_write(const struct status *, const struct conf *,
	    const char *);

#endif
