/*
 * mwint.h: what the files of the MediaWiki client (mw.c and its parts)
 * share, and nothing else includes: a request, a reply, a handle, and
 * the helpers every call uses.
 */
#ifndef MWINT_H
#define MWINT_H

#include <jansson.h>

#include "libcurl.h"

#define REPLY_MAX	(32UL << 20)	/* MediaWiki sends 8 MB at most */
#define FILE_MAX	(4LL << 30)	/* a file downloaded, at most */
#define XFER_SPEED	1024L		/* a file's bytes a second, at least, */
					/* over the wiki's timeout */
#define XFER_MAX	3600L		/* a file's whole transfer, seconds */
#define JAR_MAX		(1UL << 20)
#define GET_MAX		1500		/* longer queries are POSTed */
#define MAXPARAM	32
#define CONT_KEYS	8		/* continuation names, at most */
#define BATCHES_MAX	100000		/* batches of one query, at most */
#define ANON_TOKEN	"+\\"

struct param {
	char		*key;
	char		*val;
	size_t		 len;
};

struct req {
	struct param	 p[MAXPARAM];
	size_t		 n;
	int		 upfd;		/* > 0: a file sent as "file" (upload) */
	off_t		 upsize;
	const char	*upname;
	unsigned	 batches;	/* continuations followed */
};

struct buf {
	char		*s;
	size_t		 len;
	size_t		 cap;
};

struct mw {
	struct mw	*next;		/* every open handle, see mw_close_all */
	struct mw	*prev;
	const struct wiki *w;
	CURL		*curl;
	struct curl_slist *headers;
	char		 errbuf[CURL_ERROR_SIZE];
	struct buf	 reply;
	int		 toobig;
	char		 user[256];	/* the account: login name before '@' */
	char		 jar[64];	/* WIKI.cookies in SPOOL/session */
	char		 lock[64];
	char		*saved;		/* the jar as last read or written */
	int		 session;	/* there are cookies worth trying */
	int		 loggedin;	/* this process logged in */
	char		 csrf[256];
	char		 watch[256];
	char		 ua[256];
};

/* Request flags. */
#define C_ANON		0x01	/* no assert=user: the login's own requests */
#define C_POST		0x02
#define C_CSRF		0x04	/* a write with the csrf token */
#define C_WATCH		0x08	/* a write with the watch token */

/* mwhttp.c: a request, its reply's JSON, its errors */
int	 fail(struct mwerr *, int, int, const char *, ...)
	    __attribute__((format(printf, 4, 5)));
void	 oneline(char *, size_t, const char *);
void	 reply_str(struct buf *, const char *);
size_t	 on_data(char *, size_t, size_t, void *);
void	 req_set(struct req *, const char *, const char *);
void	 req_setn(struct req *, const char *, const char *, size_t);
void	 req_setl(struct req *, const char *, long);
void	 req_titles(struct req *, const char *, const char **, size_t);
void	 req_free(struct req *);
json_t	*send_req(struct mw *, struct req *, int, struct mwerr *);
int	 session_lost(const char *);
int	 curl_error(struct mw *, CURLcode, struct mwerr *);
json_t	*jget(json_t *, ...);
const char *jstr(json_t *, const char *);
long	 jlong(json_t *, const char *);
int	 jbool(json_t *, const char *);
char	*jdup(json_t *, const char *);
void	 jcpy(char *, size_t, json_t *, const char *);

/* mw.c: the call every request goes through, batches, lists */
json_t	*call(struct mw *, struct req *, int, struct mwerr *);
int	 write_call(struct mw *, struct req *, const char *, struct mwerr *);
int	 next_batch(json_t *, struct req *, struct mwerr *);
int	 list_all(struct mw *, struct req *, const char *,
	    void (*)(json_t *, void *), void (*)(void *), void *,
	    struct mwerr *);
void	*grow(void *, size_t, size_t *, size_t);
char	**jstrings(json_t *, size_t *);
void	 strings_free(char **, size_t);

/* mwread.c */
const char *normalized(json_t *, const char *);
void	 page_fill(struct mwpage *, json_t *);

/* mwwrite.c */
int	 refused(struct mwerr *, const char *, const char *,
	    const char *);

#endif
