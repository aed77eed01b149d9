/*
 * mail.h: what a wiki's notification mail says (mail.c).
 *
 * A notice is NOTICE_OK only when it names a configured wiki and a title
 * MediaWiki would accept: one line of valid UTF-8, 1 to 255 bytes, no
 * control character and none of # < > [ ] | { }.  Everything in a notice
 * is a NUL-terminated string that fits its array.
 */
#ifndef MAIL_H
#define MAIL_H

#include <stddef.h>

#define MAIL_KEEP	(1024 * 1024)	/* bytes of a message read and kept */
#define TITLE_MAX	255		/* bytes, as MediaWiki counts them */

struct conf;

enum notice_status {
	NOTICE_OK,		/* a page of a configured wiki */
	NOTICE_NONE,		/* no page URL of any wiki: not a notification */
	NOTICE_UNKNOWN,		/* page URLs, but of no configured wiki */
	NOTICE_MISMATCH,	/* From names one wiki, the URL another */
	NOTICE_BADTITLE		/* a title MediaWiki would refuse */
};

struct notice {
	enum notice_status status;
	size_t		 wiki;			/* index into conf->wikis */
	char		 title[TITLE_MAX + 1];
	char		 oldid[21];		/* "" when the mail has none */
	char		 event[16];		/* "" when the subject shows none */
	char		 msgid[256];		/* "" when missing or unusable */
	char		 why[256];		/* why it is not NOTICE_OK */
};

int		 mail_notice(const struct conf *, const char *, size_t,
		    struct notice *);
const char	*mail_title_check(const char *, size_t);

#endif
