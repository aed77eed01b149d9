/*
 * sync.h: the sync protocol, wikisync(7) THE PROTOCOL.
 *
 * A page synced across a set of wikis has one base: the last text every
 * one of them was seen to hold, with the revision each held it in (the
 * store's pointers, one per wiki, all of one agreement).  A job makes
 * the page the same on every wiki again (sync_page, for ws-push) and
 * records what each then held (the agreement, in the job); ws-verify
 * checks that record and only then moves every wiki's base together.
 * One home for each contract: the job's "sync" record is read and
 * written only here, and which wikis sync a page is decided only here.
 */
#ifndef SYNC_H
#define SYNC_H

#include <time.h>

#include "wikisync.h"
#include "mw.h"

#define SYNC_WIKIS	32
#define NS_FILE		6	/* MediaWiki's namespace of files */	/* wikis one page is synced across, at most */
#define MOVED_REV	"moved"		/* ... when the page went to another
					   title: not a base */
#define KEPT_REV	"kept"		/* ... when the page was deleted there
					   and kept on the others (deletions =
					   keep): its text before, still a base */
#define DELETED_REV	"deleted"	/* a store pointer's revision when the
					   agreement was the page's deletion */

/*
 * The job's record of what every wiki taking part held when ws-push was
 * done, and which wikis it left out (they did not answer, or refused).
 */
struct agreement {
	char		 sha1[SHA1_HEX + 1];	/* "": nothing to verify */
	long long	 gen;			/* newer than every base */
	char		 title[512];		/* as the wikis name it */
	int		 deleted;		/* the page is gone from every
						   wiki in it (revid 0 each);
						   sha1: its text before */
	size_t		 n;
	struct {
		char	 wiki[33];
		long	 revid;
		long	 pageid;		/* 0: not known */
	}		 w[SYNC_WIKIS];
	size_t		 nleft;
	struct {
		char	 wiki[33];
		int	 code;			/* sysexits(3): why */
	}		 left[SYNC_WIKIS];
	char		 why[600];		/* the first left out, why */
	size_t		 nkept;			/* deleted there, kept on */
	char		 kept[SYNC_WIKIS][33];	/* the others (deletions =
						   keep) */
};

int	 agreement_read(const struct job *, struct agreement *);
int	 agreement_write(struct spool *, const char *,
	    const struct agreement *);
int	 agreement_waits_for(const struct agreement *, const char *);

/* The wikis that sync a page as one wiki has it: every group of that
 * wiki that lists the title or one of the page's categories, joined. */
struct syncset {
	const struct group	*first;		/* its history and conflict */
	const struct wiki	*wikis[SYNC_WIKIS];
	size_t			 n;
	const char		*owner;		/* n == 0: another host's */
};

int	 group_syncs(const struct group *, const char *, const char *,
	    char *const *, size_t);
size_t	 syncset_of(const struct conf *, const char *, const char *,
	    char *const *, size_t, struct syncset *);
int	 group_ours(const struct conf *, const struct group *);
int	 syncset_within(const struct conf *, const char *,
	    const struct syncset *);
void	 syncset_recipient(const char *);

/* ws-push: one job's page made the same everywhere; an exit code. */
int	 sync_page(struct spool *, struct store *, const struct job *,
	    const struct wiki *, const char *, FILE *);

/* ws-verify: the job's agreement checked, the bases moved; an exit code. */
int	 sync_verify(struct store *, const struct job *, const struct wiki *);
void	 sync_verify_prefetch(const struct job *, size_t);

/* A sync edit that replaces a revision waits this long after it was
   seen, for the wiki's next second (sync.c, later_second). */
#define SYNC_LATER_MS	1050
void	 sync_wait_since(const struct timespec *, long);

/* A replayed revision's edit summary: "from alpha r12 by Editor: ..." */
void	 sync_summary(char *, size_t, const struct wiki *,
	    const struct mwrev *);

/*
 * ws-scan -f: the pages one wiki has that no other wiki of their set has
 * and that were never synced, copied in bulk (initial.c).  in[i] set: a
 * page scan would queue; out: INITIAL_DONE (copied and verified, no job
 * left), INITIAL_QUEUED (a job left queued for it) or 0 (not copied: the
 * caller queues it); ids[i] is the job's when one was made.
 */
#define INITIAL_DONE	1
#define INITIAL_QUEUED	2
void	 sync_initial(struct spool *, struct store *, const struct wiki *,
	    struct mw *, struct mwpage *, size_t, int *, char (*)[64]);

/* ws-login: the jobs waiting for a wiki that answers again made due. */
int	 sync_wake(struct spool *, const char *);

const struct wiki *sync_job_open(const char *, struct spool *, struct store *,
	    struct job *, const char **);

#endif
