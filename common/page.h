/*
 * page.h: what the sync protocol's files share, and no one else
 * (sync.h is the module's face).  A job works on one page: struct page
 * holds what it knows of the page, struct side what it knows of one wiki
 * of the page's set.  Who reads and writes what:
 *   sync.c       the job: its rounds, their merge, folding, which wikis;
 *   side.c       bases, reading a wiki, the sync edit (one place);
 *   replay.c     replaying a source's revisions, on threads;
 *   lifecycle.c  moves, deletions and restores;
 *   files.c      the files a page shows;
 *   verify.c     ws-verify: an agreement checked, the bases moved.
 * Return codes: a sysexits(3) code, 0, -1 (the job stops: pg->worst
 * says why), or one of the negative words below, each an instruction
 * to the round: read again, go on under the new title.
 */
#ifndef PAGE_H
#define PAGE_H

#include "sync.h"

#define ROUNDS		5	/* reads of every wiki a job makes, at most */
#define BATCH		50	/* revisions replayed per read, at most */
#define BATCH_BYTES	(2 << 20)	/* and about this much text */
#define HISTORY_MAX	5000	/* source history searched for a wiki's text */
#define JOB_RANK	LLONG_MAX	/* a base this job made: newer than all */

/* What a wiki's changes are measured from, and where its text is. */
struct base {
	char			 sha1[SHA1_HEX + 1];	/* "": the empty text */
	long long		 rank;	/* the agreement's generation; JOB_RANK:
					   this job's; -1: none */
	const char		*text;	/* NULL: not loaded yet */
	size_t			 len;
	struct side		*from;	/* its text: this wiki's revision srev */
	long			 srev;	/* (from NULL: the store) */
};

/* One wiki of the page's set, as the job sees it. */
struct side {
	const struct wiki	*w;
	struct mw		*mw;
	int			 out;	/* left out of this job: why, code */
	char			 why[MW_ERRLEN];
	int			 code;
	struct mwpage		 top;	/* current revision, no text */
	struct timespec		 known;	/* when it was seen to be current */
	struct storeptr		 ptr;	/* its store pointer */
	int			 hasptr;
	struct base		 base;
	long			 after;	/* replay: the source's revisions
					   after this one */
	size_t			 revs;	/* revisions this job gave it */
	int			 merged;	/* 1 merged, 2 with conflicts */
	int			 kept;	/* deleted here, kept on the others
					   (deletions = keep): not synced */
	int			 noted;	/* its deleter told the page stays */
	int			 undeleted;	/* this job restored it here */
	int			 haslog;	/* log below read */
	struct mwlog		 log;	/* the page's newest deletion here */
	int			 move;	/* follow_move: 1 to move, 2 moved */
	size_t			 files;	/* files this job uploaded there */
	int			 seen;	/* fold: 1 jobs listed, 2 marked seen */
};

struct page {
	struct spool		*sp;
	struct store		*st;
	const char		*jobid;
	struct syncset		 set;
	char			 title[512];
	struct side		 s[SYNC_WIKIS];
	size_t			 n;
	size_t			 origin;	/* the job's wiki */
	long long		 newest;	/* the newest agreement's gen */
	struct base		 meet;		/* this job's last result */
	int			 hasmeet;
	char			**pool;		/* texts the job holds */
	size_t			 npool;
	int			 worst;
	char			**fold;		/* queued jobs this one covers */
	size_t			 nfold;
	int			 settled;	/* one text everywhere, as agreed */
	FILE			*out;		/* what was done, for the caller */
	char			 to[512];	/* RENAMED: where the page went */
};

#define MOVED	(-2)	/* a wiki changed meanwhile, or went: read again */
#define MERGED	(-3)	/* saved, merged by MediaWiki with an edit made
			   meanwhile: read again */
#define RENAMED	(-4)	/* the page moved, and every wiki followed: the
			   job goes on under its new title, pg->to */
#define VANISHED (-5)	/* the source's revisions went as they were
			   replayed (deleted, moved): read again */
#define SRC_OUT	(-6)	/* replay: the source did not answer */
#define MERGED_SAME (-7)	/* MERGED, into the second of the edit it
			   met: s's base stays (side_save) */
#define MOVES_MAX	3	/* moves one job follows, at most */

/* side.c: a wiki as the job sees it, its base, reading, the sync edit */
void	 side_failed(struct page *, const struct side *, const struct mwerr *);
int	 side_leave_out(struct page *, struct side *, const struct mwerr *);
void	 utf8_cut(char *, size_t);
void	 side_label(char *, size_t, const struct side *);
int	 sync_user(const struct wiki *, const char *);
size_t	 saved_len(const char *, size_t);
const char	*page_hold(struct page *, char *);
void	 base_mine(struct base *, const char *, size_t, const char *);
void	 base_rev(struct base *, struct side *, const struct mwrev *);
int	 base_load(struct page *, struct base *);
void	 page_read_bases(struct page *);
int	 side_changed(const struct side *);
int	 side_ptr_deleted(const struct side *);
int	 side_gone(const struct side *);
int	 side_in(const struct side *);
int	 side_save(struct page *, struct side *, const char *, size_t,
	    const char *, int, int);
void	 side_talk_append(struct side *, const char *, const char *,
	    const char *);
void	 side_talk_note(struct page *, struct side *, const char *);
void	 job_waits(struct spool *, const char *, const struct wiki *);
void	 side_waits(struct page *, const struct side *);
int	 page_read_tops(struct page *);
int	 side_read_text(struct page *, struct side *);

/* replay.c */
int	 source_for(struct page *, struct side *);
int	 replay_all(struct page *, struct side *, struct side **, size_t,
	    enum history);

/* lifecycle.c: RENAMED, MOVED, 0 (nothing happened), -1 */
int	 lifecycle(struct page *);

/* verify.c */
int	 title_same(const char *, const char *);

/* files.c */
int	 sync_files(struct page *, const char **, size_t);
int	 page_files(struct page *);
int	 file_set(struct mw *, const struct wiki *, const char *,
	    struct syncset *);

#endif
