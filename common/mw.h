/*
 * mw.h: the MediaWiki API client every applet uses (mw.c).
 *
 * One struct mw per wiki: one reused connection, one session shared with
 * every other process through SPOOL/session/WIKI.cookies.  Every call
 * returns 0 or -1; on -1 the struct mwerr says whether to retry later
 * (temp, code 75) or give up (code 65, 69, 76, 77 or 78), and why.
 * Every request but the login's own carries assert=user, so a lost
 * session is noticed, renewed and the call retried once: a failed login
 * can never turn into an anonymous edit.
 */
#ifndef MW_H
#define MW_H

#include <stddef.h>
#include <sys/types.h>

struct wiki;
struct mw;

#define MW_ERRLEN	512
#define MW_TSLEN	21		/* 2026-11-22T04:10:03Z and NUL */
#define MW_MAXTITLES	50		/* titles or revisions per request */
#define MW_MAXLIGHT	500		/* revisions without text per request */

struct mwerr {
	int	 temp;			/* 1: a temporary condition */
	int	 code;			/* sysexits(3) code for the caller */
	long	 retry_after;		/* seconds the wiki asked for, or 0 */
	char	 api[64];		/* the API's error code, or "" */
	char	 msg[MW_ERRLEN];	/* one line: why */
};

struct mwrev {
	long	 revid;
	long	 parentid;
	char	 timestamp[MW_TSLEN];
	char	*user;			/* "" when hidden */
	char	*comment;		/* "" when hidden */
	char	 sha1[41];		/* hex, "" when hidden */
	int	 minor;
	int	 hidden;		/* text, user or comment suppressed */
	long	 size;
	char	*text;			/* NULL when hidden */
	size_t	 len;
};

struct mwrevs {
	struct mwrev	*v;
	size_t		 n;
	int		 missing;	/* no such page */
};

struct mwpage {
	char		*title;		/* as the wiki names it */
	long		 pageid;	/* 0 when missing or invalid */
	int		 ns;
	int		 missing;
	int		 invalid;
	int		 redirect;
	int		 watched;	/* by the sync user */
	int		 unseen;	/* changed since the sync user saw it:
					   the wiki mails no more changes */
	long		 lastrevid;
	char		 touched[MW_TSLEN];
	char		 now[MW_TSLEN];	/* the wiki's clock when read */
	long		 length;
	char		**cats;		/* without the namespace prefix */
	size_t		 ncats;
	struct mwrev	 rev;		/* mw_current only: the top revision */
};

struct mwtitle {
	char		*title;
	long		 pageid;
	int		 ns;
};

struct mwchange {
	char		*title;
	char		*user;
	char		 type[8];	/* edit, new or log */
	char		 logaction[16];	/* log: delete, restore, move... */
	char		 timestamp[MW_TSLEN];
	char		 sha1[41];
	long		 pageid;
	long		 revid;
	long		 oldrevid;
	long		 oldlen;
	long		 newlen;
	int		 ns;
	int		 minor;
	int		 bot;
};

/*
 * A file, and one version of it: the current one, or from mw_files the
 * newest of its last ten that the sync user did not upload (a version an
 * editor uploaded, perhaps under a sync copy that landed just after it),
 * when there is one.
 */
struct mwfile {
	char		*title;		/* File:..., as the wiki names it */
	int		 missing;	/* no file (its page may be there) */
	int		 haspage;	/* its description page is there */
	int		 local;		/* in the wiki's own repository */
	char		 cur[41];	/* the current version's SHA-1 */
	char		 sha1[41];
	long		 size;
	char		*mime;
	char		*url;
	char		*user;		/* who uploaded this version */
	char		*comment;
	char		 timestamp[MW_TSLEN];
};

struct mwlog {
	char		*user;
	char		*comment;
	char		 action[32];	/* "": no entry */
	char		*target;	/* a move's: the title moved to */
	int		 noredir;	/* a move's: no redirect left */
	long		 page;		/* the page it was of (a deletion's:
					   the page deleted), 0 unknown */
};
struct mwuser {
	char		*name;
	long		 id;		/* 0: anonymous */
	char		**groups;
	size_t		 ngroups;
	char		**rights;
	size_t		 nrights;
	int		 ratelimited;	/* the wiki rate-limits this user */
	/* with MW_WHO_MAIL only */
	int		 mailknown;	/* the address was shown */
	char		*email;		/* "" when none */
	int		 emailok;	/* confirmed */
	int		 notifypages;	/* enotifwatchlistpages */
	int		 notifyminor;	/* enotifminoredits */
};

#define MW_WHO_MAIL	0x01

#define MW_MINOR	0x01
#define MW_BOT		0x02
#define MW_CREATEONLY	0x04
#define MW_NOCREATE	0x08

struct mwedit {
	const char	*title;
	const char	*text;
	size_t		 len;
	const char	*summary;
	long		 baserevid;	/* 0: none */
	const char	*basetimestamp;	/* NULL: none */
	int		 flags;
};

enum mwsave { MW_SAVED, MW_NOCHANGE, MW_CONFLICT };

struct mwsaved {
	enum mwsave	 result;
	long		 revid;		/* MW_SAVED: the new revision */
	long		 oldrevid;
	long		 pageid;
	char		 timestamp[MW_TSLEN];
	char		 why[64];	/* MW_CONFLICT: the API's code */
};

struct mw	*mw_open(const struct wiki *, struct mwerr *);
void		 mw_no_jar(void);
void		 mw_close(struct mw *);
void		 mw_threaded(int);
int		 mw_login(struct mw *, struct mwerr *);
int		 mw_loggedin(const struct mw *);

int	 mw_whoami(struct mw *, struct mwuser *, int, struct mwerr *);
int	 mw_options(struct mw *, const char *, struct mwerr *);
int	 mw_user_can(const struct mwuser *, const char *);
void	 mw_user_free(struct mwuser *);

int	 mw_revs(struct mw *, const char *, long, long, size_t,
	    struct mwrevs *, struct mwerr *);
int	 mw_history(struct mw *, const char *, long, long, size_t,
	    struct mwrevs *, struct mwerr *);
int	 mw_history_back(struct mw *, const char *, long, size_t,
	    struct mwrevs *, struct mwerr *);
int	 mw_rev(struct mw *, long, struct mwrev *, char **, struct mwerr *);
int	 mw_rev_info(struct mw *, long, struct mwrev *, char **,
	    struct mwerr *);
int	 mw_revs_info(struct mw *, const long *, size_t, struct mwrev *,
	    char **, struct mwerr *);
void	 mw_revs_free(struct mwrevs *);
void	 mw_rev_free(struct mwrev *);
int	 mw_next(struct mw *, long, long *, char **, struct mwerr *);

int	 mw_info(struct mw *, const char **, size_t, struct mwpage *,
	    struct mwerr *);
int	 mw_current(struct mw *, const char **, size_t, struct mwpage *,
	    struct mwerr *);
int	 mw_tops(struct mw *, const char **, size_t, struct mwpage *,
	    struct mwerr *);
void	 mw_pages_free(struct mwpage *, size_t);

int	 mw_edit(struct mw *, const struct mwedit *, struct mwsaved *,
	    struct mwerr *);
void	 mw_edit_on(struct mwedit *, const struct mwpage *);
int	 mw_seen(struct mw *, const char **, size_t, struct mwerr *);
int	 mw_watch(struct mw *, const char **, size_t, struct mwerr *);

int	 mw_delete(struct mw *, const char *, const char *, struct mwerr *);
int	 mw_undelete(struct mw *, const char *, const char *, long *,
	    struct mwerr *);
/*
 * A move of the page of id pageid, wherever it is now (MediaWiki's
 * fromid): never the redirect or another page that took its title; 0:
 * the page at from.  from is where the caller read it; was, where
 * MediaWiki found it.
 */
struct mwmove {
	const char	*from;
	long		 pageid;
	const char	*to;
	const char	*reason;
	int		 noredir;
	char		 was[512];
};

int	 mw_move(struct mw *, struct mwmove *, struct mwerr *);
int	 mw_deleted_newest(struct mw *, const char *, long *, char [41],
	    struct mwerr *);
#define MW_MOVED	2	/* mw_trusted: the page has a newer revision */
int	 mw_trusted(struct mw *, const char *, long, const char *const *,
	    size_t, const char *, char *, size_t, struct mwerr *);
int	 mw_log_last(struct mw *, const char *, const char *, struct mwlog *,
	    struct mwerr *);
void	 mw_log_free(struct mwlog *);
size_t	 mw_moved_from(struct mw *, const char *, long, char (*)[512], size_t,
	    struct mwerr *);
int	 mw_members(struct mw *, const char *, struct mwtitle **, size_t *,
	    struct mwerr *);
void	 mw_titles_free(struct mwtitle *, size_t);
int	 mw_files_of(struct mw *, const char *, struct mwfile **, size_t *,
	    struct mwerr *);
int	 mw_with_files(struct mw *, const char **, size_t, int *,
	    struct mwerr *);
int	 mw_files(struct mw *, const char **, size_t, struct mwfile *,
	    struct mwerr *);
void	 mw_files_free_in(struct mwfile *, size_t);
void	 mw_files_free(struct mwfile *, size_t);
int	 mw_file_users(struct mw *, const char *,
	    int (*)(const struct mwpage *, void *), void *, struct mwerr *);
int	 mw_download(struct mw *, const struct mwfile *, int, char [41],
	    struct mwerr *);
int	 mw_upload(struct mw *, const char *, int, off_t, const char *,
	    const char *, struct mwerr *);
#define MW_CH_NOTSELF	0x01	/* mw_changes: none of the sync user's */
#define MW_CH_DELETIONS	0x02	/* and deletions, restores and moves */
int	 mw_changes(struct mw *, const char *, int, struct mwchange **,
	    size_t *, struct mwerr *);
void	 mw_changes_free(struct mwchange *, size_t);

#endif
