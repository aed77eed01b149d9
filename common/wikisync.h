/*
 * wikisync.h: what every applet shares.
 *
 * The applet table, the shared options (-c -d -v -q -h), the config
 * (wikisync.conf(5)), logging and fatal errors, atomic file writes.
 * Invariants: an applet reports an error as one line "prog: what: why" on
 * stderr and exits with a sysexits(3) code (ws-merge: diff3's 0/1/2);
 * a file others read is only ever replaced whole, by rename.
 */
#ifndef WIKISYNC_H
#define WIKISYNC_H

#include <sys/types.h>

#include <sys/stat.h>

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <stdio.h>
#include <sysexits.h>
#include <syslog.h>

#ifndef VERSION
#define VERSION "0.0-dev"
#endif

#define DEFAULT_CONF	"/etc/wikisync/wikisync.conf"
#define DEFAULT_SPOOL	"/var/spool/wikisync"
#define GROUPS_COPY	"groups.wiki"	/* in the spool: the groups page */
#define GROUPS_ERR	"groups.err"	/* why its last version was refused */
#define GROUPS_MAX	(1024 * 1024)

struct applet {
	const char	*name;		/* without the ws- prefix */
	int		(*main)(int, char **);
	const char	*summary;
};

/* Shared options: parsed by each applet's getopt loop through ws_opt(). */
struct wsopt {
	const char	*conf;		/* -c, else $WIKISYNC_CONF */
	const char	*spool;		/* -d, else $WIKISYNC_SPOOL */
	int		 verbose;	/* -v, may repeat */
	int		 quiet;		/* -q */
};
extern struct wsopt wsopt;

#define WS_OPTS	"c:d:hqv"
int	 ws_opt(int, const char *, const char *);
void	 ws_usage(const char *, int) __attribute__((noreturn));

/* Applets with commands (ws-queue add ...): the shared options, then one
 * of these by name. */
struct subcmd {
	const char	*name;
	int		(*fn)(int, char **);
};
int	 ws_subcmd(int, char **, const struct subcmd *, size_t, const char *);

/* Config: wikisync.conf(5). */
enum history	{ HISTORY_REPLAY, HISTORY_LATEST };
enum conflict	{ CONFLICT_WIKI, CONFLICT_MARKERS };
enum deletions	{ DELETIONS_SYNC, DELETIONS_KEEP };

struct wiki {
	char		*name;
	char		*api;		/* http(s)://host/path/api.php */
	char		*url;		/* index.php URL, derived from api */
	char		*user;		/* bot password login, User@botname */
	char		*passfile;
	char		*cafile;
	long		 timeout;	/* seconds per request */
	int		 insecure;	/* insecure-http = yes: http:// to
					   another host allowed */
	int		 line;		/* where [wiki NAME] was */
};

struct group {
	char		*name;
	char		**wikis;
	size_t		 nwikis;
	char		**categories;
	size_t		 ncategories;
	char		**pages;
	size_t		 npages;
	enum history	 history;
	enum conflict	 conflict;
	int		 talknotes;	/* tell both editors of a conflict */
	enum deletions	 deletions;
	int		 files;		/* sync the files its pages show */
	char		*peerd;		/* its syncing host's address, NULL:
					   this host's */
	int		 line;
	int		 onpage;	/* defined on the groups page */
};

struct conf {
	char		*path;		/* NULL when no file was read */
	char		*spool;
	char		*report;	/* mail address for up/down reports */
	char		*reportsmtp;	/* report-smtp: the SMTP server's URL
					   reports go to, NULL: sendmail */
	char		*peerd;		/* this host's sync address */
	char		*syslog;	/* facility name, NULL: no syslog */
	int		 holdafter;	/* attempts before a job is held */
	int		 logincheck;	/* seconds between ws-peerd's login
					   checks */
	int		 workers;	/* ws-peerd's jobs at once */
	int		 deadline;	/* job-deadline: seconds a push or
					   verify may run */
	int		 queuemax;	/* queue-max: jobs waiting in new/
					   past which ws-recv says 75 */
	int		 delmax;	/* deletions-per-hour: spread from
					   one wiki, past which jobs hold */
	char		*groupswiki;	/* groups-page = WIKI:PAGE */
	char		*groupspage;
	char		*statuswiki;	/* status-page = WIKI:PAGE */
	int		 statustitles;	/* status-titles: titles on it */
	char		*statuspage;
	char		**trust;	/* groups-trust: user groups whose
					   edits of the groups page count */
	size_t		 ntrust;
	struct wiki	*wikis;
	size_t		 nwikis;
	struct group	*groups;
	size_t		 ngroups;
};

const struct conf	*ws_conf(void);
struct conf		*conf_read(const char *, char *, size_t);
void			 conf_free(struct conf *);
const struct wiki	*conf_wiki(const struct conf *, const char *);
const struct group	*conf_group(const struct conf *, const char *);
const char		*conf_reserved(const struct conf *, const char *);
const char		*group_owner(const struct conf *, const struct group *);
int			 conf_password(const struct wiki *, char *, size_t,
			    char *, size_t);
int			 conf_groups_page(struct conf *, const char *, size_t,
			    char *, size_t);
void			 conf_print_group(FILE *, const struct group *);
void			 conf_title(char *);
int			 conf_unconfigured(const struct conf *);
const char		*ws_spool(void);

/* Logging: stderr always (unless -q hides LOG_INFO and below), syslog when
 * the config names a facility. */
void	 ws_log(int, const char *, ...) __attribute__((format(printf, 2, 3)));
void	 ws_vlog(int, const char *, va_list);
void	 die(int, const char *, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));
void	 diex(int, const char *, ...)
	    __attribute__((noreturn, format(printf, 2, 3)));
void	 ws_exit_fast(int);
#define WS_TIMELEN	21	/* "2026-12-07T04:10:03Z" and its NUL */
char	*ws_time(long long, char *, size_t);
void	 ws_syslog_open(const char *);
int	 syslog_facility(const char *);

/* Atomic files: tmp (O_EXCL) in tmpdir, write, fflush, ferror, fsync,
 * fclose, rename into dstdir, fsync dstdir. */
#define AF_NOREPLACE	0x1	/* the final name must not exist yet */

struct afile {
	FILE		*fp;
	int		 tmpdir;
	int		 dstdir;
	int		 flags;
	char		 tmpname[64];
	char		 name[256];
};

int	 afile_open(struct afile *, int, int, const char *, mode_t, int);
int	 afile_commit(struct afile *);
void	 afile_abort(struct afile *);
int	 atomic_write(int, const char *, const void *, size_t, mode_t);
int	 fsync_dir(int);

/* Small things more than one applet needs. */
int	 write_all(int, const void *, size_t);
char	*read_all(int, size_t, size_t *);
char	*xstrdup(const char *);
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));
char	*xvasprintf(const char *, va_list)
	    __attribute__((format(printf, 1, 0)));
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
int	 parse_long(const char *, long, long, long *);


/* The job queue: spool/queue/{tmp,new,cur,hold}, see spool.c. */
enum jobstate	{ Q_NEW, Q_CUR, Q_HOLD, Q_NSTATE };

#define WORKERS_MAX	64

struct spool {
	char		*path;
	uid_t		 owner;		/* of the spool: the sync user */
	int		 root;
	int		 tmp;
	int		 dir[Q_NSTATE];
	int		 lockfd;
};

struct job {
	char		 id[64];
	enum jobstate	 state;
	char		**key;
	char		**val;
	size_t		 n;
	struct timespec	 mtime;		/* new/: when the job is due */
	struct timespec	 ctime;
};

extern const char *const jobstate_name[Q_NSTATE];

enum spoolcount { COUNT_DONE, COUNT_DEFERRED, COUNT_HELD, SPOOL_NCOUNTS };

int	 spool_open(struct spool *, const char *);
void	 spool_counts(struct spool *, long long *);
void	 spool_count(struct spool *, enum spoolcount);
void	 spool_as_owner(const struct stat *, const char *);
int	 become_user(uid_t, char *, size_t);
void	 spool_die(const char *) __attribute__((noreturn));
extern const char *conf_missing;
int	 spool_open_add(struct spool *, const char *);
void	 spool_close(struct spool *);
int	 spool_lock(struct spool *);
void	 spool_unlock(struct spool *);
uint32_t job_tag(const char *, const char *);
int	 job_id_may_be(const char *, uint32_t);
const char *spool_host(void);
int	 spool_page_lock(struct spool *, const char *);
void	 spool_page_unlock(struct spool *, const char *);
int	 spool_ids(struct spool *, enum jobstate, char ***, size_t *);
void	 spool_ids_free(char **, size_t);
int	 conf_clear(const struct wiki *, char *, size_t);
int	 spool_quarantine(struct spool *, const char *, const char *);
size_t	 spool_bad(struct spool *);
int	 job_id_valid(const char *);
int	 job_key_valid(const char *);
int	 job_val_valid(const char *);
int	 job_load(struct spool *, const char *, struct job *);
void	 job_free(struct job *);
const char *job_get(const struct job *, const char *);
void	 job_set(struct job *, const char *, const char *);
void	 job_unset(struct job *, const char *);
int	 job_add(struct spool *, struct job *);
int	 job_queue(struct spool *, const char *, const char *, const char *,
	    char *);
int	 job_queue_once(struct spool *, const char *, const char *, const char *,
	    char *);
int	 job_add_in(struct spool *, struct job *, enum jobstate);
int	 job_save(struct spool *, struct job *, enum jobstate, time_t);
int	 job_remove(struct spool *, struct job *);
int	 job_update(struct spool *, const char *, const char **,
	    const char **, size_t);

/* The store of synced texts, spool/store (T1wiki's), see store.c. */
#define SHA1_HEX	40
#define MD5_HEX		32

struct store {
	int		 root;
	int		 tmp;
	int		 versions;
	int		 cur;
	int		 logfd;
};

struct storeptr {
	char		 sha1[SHA1_HEX + 1];
	char		 revid[24];
	char		 title[512];
	long long	 gen;		/* the agreement; 0: unknown */
	long		 pageid;	/* the wiki's page then; 0: unknown */
};

struct logrec {
	long long	 time;
	char		 wiki[33];
	char		 key[MD5_HEX + 1];
	char		 old[SHA1_HEX + 1];
	char		 new[SHA1_HEX + 1];
	char		 revid[11];
	char		 finished;
};

int	 store_open(struct store *, const char *);
void	 store_close(struct store *);
void	 sha1_hex(const void *, size_t, char *);
void	 title_key(const char *, char *);
int	 sha1_valid(const char *);
int	 store_put(struct store *, const void *, size_t, char *);
char	*store_read(struct store *, const char *, size_t *);
int	 store_get(struct store *, const char *, const char *,
	    struct storeptr *);
int	 store_set(struct store *, const char *, const char *, const char *,
	    const char *, long long, long);
int	 store_set_as(struct store *, const char *, const char *, const char *,
	    const char *, const char *, long long, long);
int	 store_log_lock(struct store *);
void	 store_log_unlock(struct store *);
off_t	 store_log_records(struct store *);
int	 store_log_read(struct store *, off_t, struct logrec *);
int	 store_log_repair(struct store *, char *, size_t);
int	 store_ptr_read(struct store *, const char *, const char *,
	    struct storeptr *);
int	 store_walk(struct store *, int (*)(int, const char *, const char *,
	    void *), void *);
#define STORE_LOGREC	182

/* SPOOL/state/WIKI: is the wiki up, see state.c. */
struct wikistate {
	int		 up;		/* -1: never checked */
	long long	 since;
	long long	 previous;	/* since of the state before */
	long long	 last_ok;
	long long	 checked;
	long long	 reported;
	int		 code;
	char		 error[512];
};

void	 wikistate_read(int, const char *, struct wikistate *);
void	 duration(long long, char *, size_t);

#endif
