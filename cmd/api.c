/*
 * api.c: ws-api, the MediaWiki API calls WikiSync makes, one at a time.
 *
 * Each command makes one call of the client (mw.c) as the wiki's sync
 * user, with the shared session, retries and error classes of every
 * applet, and prints the result as tab-separated lines: plumbing, as in
 * git, for scripts, for operators who want to see what a wiki answers,
 * and for the tests.  Fields never hold a tab or a newline (they become
 * spaces); page texts go out and come in (text, edit) byte for byte.
 * A text read is checked against the SHA-1 the wiki reports for it.
 * Whatever a command holds lives in the statics below, released at exit
 * whichever way the command ends, and the session is saved then.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"
#include "mw.h"

#define TEXT_MAX	(64UL << 20)

static const char usage[] =
    "[-qv] [-c file] [-d dir] command wiki [args]\n"
    "whoami wiki\n"
    "revs [-n count] wiki title [after [upto]]\n"
    "text [-r revid] wiki [title]\n"
    "current wiki title ...\n"
    "info wiki title ...\n"
    "edit [-bCmN] [-r baserevid] [-s summary] [-t basetimestamp] wiki title\n"
    "next wiki revid\n"
    "seen wiki title\n"
    "watch wiki title ...\n"
    "members wiki category\n"
    "changes [-x] wiki since";

static const struct wiki *wiki;
static struct mwerr err;
static struct mw *mw;

static struct {
	struct mwuser	 user;
	struct mwrevs	 revs;
	struct mwrev	 rev;
	struct mwpage	*pages;
	size_t		 npages;
	struct mwtitle	*titles;
	size_t		 ntitles;
	struct mwchange	*changes;
	size_t		 nchanges;
	char		*text;
	char		*title;
} held;

static void
release(void)
{
	mw_user_free(&held.user);
	mw_revs_free(&held.revs);
	mw_rev_free(&held.rev);
	mw_pages_free(held.pages, held.npages);
	free(held.pages);
	mw_titles_free(held.titles, held.ntitles);
	mw_changes_free(held.changes, held.nchanges);
	free(held.text);
	free(held.title);
	memset(&held, 0, sizeof(held));
	mw_close(mw);
	mw = NULL;
}

static void
open_wiki(const char *name)
{
	if ((wiki = conf_wiki(ws_conf(), name)) == NULL)
		diex(EX_USAGE, "%s: no such wiki", name);
	if ((mw = mw_open(wiki, &err)) == NULL)
		diex(err.code, "%s", err.msg);
	atexit(release);
}

static void __attribute__((noreturn))
failed(const char *what)
{
	diex(err.code, "%s: %s: %s", wiki->name, what, err.msg);
}

/* A field: tabs, newlines and other controls become spaces. */
static void
field(const char *s, int last)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < ' ' || *s == 127 ? ' ' : *s);
	putchar(last ? '\n' : '\t');
}

static long
revid_arg(const char *s)
{
	long n;

	if (parse_long(s, 1, LONG_MAX, &n) == -1)
		diex(EX_USAGE, "%s: not a revision id", s);
	return n;
}

static void
check_sha1(const struct mwrev *rv)
{
	char hex[SHA1_HEX + 1];

	if (rv->text == NULL || rv->sha1[0] == '\0')
		return;
	sha1_hex(rv->text, rv->len, hex);
	if (strcmp(hex, rv->sha1) != 0)
		diex(EX_PROTOCOL, "%s: revision %ld: the text's SHA-1 is %s, "
		    "the wiki says %s", wiki->name, rv->revid, hex, rv->sha1);
}

/* Commands take argv[0] = their name; options end at the wiki. */
static int
noopts(int argc, char **argv, int min, int max)
{
	int ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "+")) != -1)
		ws_usage(usage, EX_USAGE);
	if (argc - optind < min || (max >= 0 && argc - optind > max))
		ws_usage(usage, EX_USAGE);
	return optind;
}

static int
cmd_whoami(int argc, char **argv)
{
	struct mwuser *u = &held.user;
	size_t i;
	int o = noopts(argc, argv, 1, 1);

	open_wiki(argv[o]);
	if (mw_whoami(mw, u, 0, &err) == -1)
		failed("whoami");
	printf("name\t");
	field(u->name, 1);
	printf("id\t%ld\ngroups\t", u->id);
	for (i = 0; i < u->ngroups; i++)
		printf("%s%s", i ? "," : "", u->groups[i]);
	printf("\nrights\t");
	for (i = 0; i < u->nrights; i++)
		printf("%s%s", i ? "," : "", u->rights[i]);
	printf("\nratelimited\t%s\n", u->ratelimited ? "yes" : "no");
	return 0;
}

static void
print_rev(const struct mwrev *rv)
{
	printf("%ld\t%ld\t%s\t%s%s%s\t%ld\t%s\t", rv->revid, rv->parentid,
	    rv->timestamp, rv->minor ? "m" : "", rv->hidden ? "h" : "",
	    rv->minor || rv->hidden ? "" : "-", rv->size,
	    rv->sha1[0] ? rv->sha1 : "-");
	field(rv->user, 0);
	field(rv->comment, 1);
}

static int
cmd_revs(int argc, char **argv)
{
	long n = 0, after = 0, upto = 0;
	size_t i;
	int ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "+n:")) != -1)
		if (ch != 'n' || parse_long(optarg, 1, LONG_MAX, &n) == -1)
			ws_usage(usage, EX_USAGE);
	if (argc - optind < 2 || argc - optind > 4)
		ws_usage(usage, EX_USAGE);
	if (argc - optind > 2)
		after = revid_arg(argv[optind + 2]);
	if (argc - optind > 3)
		upto = revid_arg(argv[optind + 3]);
	open_wiki(argv[optind]);
	if (mw_revs(mw, argv[optind + 1], after, upto, (size_t)n, &held.revs,
	    &err) == -1)
		failed(argv[optind + 1]);
	if (held.revs.missing)
		diex(EX_DATAERR, "%s: %s: no such page", wiki->name,
		    argv[optind + 1]);
	for (i = 0; i < held.revs.n; i++)
		check_sha1(&held.revs.v[i]);
	for (i = 0; i < held.revs.n; i++)
		print_rev(&held.revs.v[i]);
	return 0;
}

static void
put_text(const struct mwrev *rv, const char *what)
{
	if (rv->text == NULL)
		diex(EX_DATAERR, "%s: %s: the text is hidden", wiki->name, what);
	check_sha1(rv);
	if (rv->len > 0 && fwrite(rv->text, 1, rv->len, stdout) != rv->len)
		die(EX_IOERR, "stdout");
}

static int
cmd_text(int argc, char **argv)
{
	const char *t;
	char what[40];
	long revid = 0;
	int ch;

	optind = 1;
	while ((ch = getopt(argc, argv, "+r:")) != -1) {
		if (ch != 'r')
			ws_usage(usage, EX_USAGE);
		revid = revid_arg(optarg);
	}
	if (argc - optind != (revid ? 1 : 2))
		ws_usage(usage, EX_USAGE);
	open_wiki(argv[optind]);
	if (revid) {
		snprintf(what, sizeof(what), "revision %ld", revid);
		if (mw_rev(mw, revid, &held.rev, NULL, &err) == -1)
			failed(what);
		put_text(&held.rev, what);
		return 0;
	}
	t = argv[optind + 1];
	held.pages = xcalloc(1, sizeof(*held.pages));
	if (mw_current(mw, &t, 1, held.pages, &err) == -1)
		failed(t);
	held.npages = 1;
	if (held.pages->missing || held.pages->invalid)
		diex(EX_DATAERR, "%s: %s: %s", wiki->name, t,
		    held.pages->invalid ? "invalid title" : "no such page");
	put_text(&held.pages->rev, t);
	return 0;
}

static int
pages(int argc, char **argv, int content)
{
	struct mwpage *p;
	size_t i, j, n;
	int o = noopts(argc, argv, 2, -1);

	open_wiki(argv[o]);
	n = (size_t)(argc - o - 1);
	p = held.pages = xcalloc(n, sizeof(*p));
	if ((content ? mw_current : mw_info)(mw, (const char **)argv + o + 1,
	    n, p, &err) == -1)
		failed(argv[0]);
	held.npages = n;
	for (i = 0; content && i < n; i++)
		check_sha1(&p[i].rev);
	for (i = 0; i < n; i++) {
		field(p[i].title, 0);
		if (p[i].missing || p[i].invalid) {
			printf("%s\n", p[i].invalid ? "invalid" : "missing");
			continue;
		}
		if (content) {
			printf("%ld\t%s\t%s\t%ld\n", p[i].rev.revid,
			    p[i].rev.timestamp, p[i].rev.sha1, p[i].rev.size);
			continue;
		}
		printf("%ld\t%ld\t%s\t%ld\t", p[i].pageid, p[i].lastrevid,
		    p[i].touched, p[i].length);
		for (j = 0; j < p[i].ncats; j++)
			printf("%s%s", j ? "," : "", p[i].cats[j]);
		printf("%s\n", p[i].ncats ? "" : "-");
	}
	return 0;
}

static int
cmd_current(int argc, char **argv)
{
	return pages(argc, argv, 1);
}

static int
cmd_info(int argc, char **argv)
{
	return pages(argc, argv, 0);
}

static int
cmd_edit(int argc, char **argv)
{
	struct mwedit ed;
	struct mwsaved s;
	size_t len;
	int ch;

	memset(&ed, 0, sizeof(ed));
	optind = 1;
	while ((ch = getopt(argc, argv, "+bCmNr:s:t:")) != -1) {
		switch (ch) {
		case 'b':
			ed.flags |= MW_BOT;
			break;
		case 'C':
			ed.flags |= MW_CREATEONLY;
			break;
		case 'm':
			ed.flags |= MW_MINOR;
			break;
		case 'N':
			ed.flags |= MW_NOCREATE;
			break;
		case 'r':
			ed.baserevid = revid_arg(optarg);
			break;
		case 's':
			ed.summary = optarg;
			break;
		case 't':
			ed.basetimestamp = optarg;
			break;
		default:
			ws_usage(usage, EX_USAGE);
		}
	}
	if (argc - optind != 2)
		ws_usage(usage, EX_USAGE);
	open_wiki(argv[optind]);
	if ((held.text = read_all(0, TEXT_MAX, &len)) == NULL)
		die(EX_DATAERR, "stdin");
	ed.title = argv[optind + 1];
	ed.text = held.text;
	ed.len = len;
	if (mw_edit(mw, &ed, &s, &err) == -1)
		failed(ed.title);
	switch (s.result) {
	case MW_SAVED:
		printf("saved\t%ld\n", s.revid);
		return 0;
	case MW_NOCHANGE:
		printf("nochange\n");
		return 0;
	default:
		printf("conflict\t%s\n", s.why);
		return 1;
	}
}

static int
cmd_next(int argc, char **argv)
{
	long next;
	int o = noopts(argc, argv, 2, 2);

	open_wiki(argv[o]);
	if (mw_next(mw, revid_arg(argv[o + 1]), &next, &held.title, &err)
	    == -1)
		failed(argv[0]);
	if (next > 0) {
		printf("%ld\t", next);
		field(held.title, 1);
	}
	return 0;
}

static int
cmd_seen(int argc, char **argv)
{
	int o = noopts(argc, argv, 2, 2);

	open_wiki(argv[o]);
	if (mw_seen(mw, (const char **)&argv[o + 1], 1, &err) == -1)
		failed(argv[o + 1]);
	return 0;
}

static int
cmd_watch(int argc, char **argv)
{
	int o = noopts(argc, argv, 2, -1);

	open_wiki(argv[o]);
	if (mw_watch(mw, (const char **)argv + o + 1, (size_t)(argc - o - 1),
	    &err) == -1)
		failed(argv[0]);
	return 0;
}

static int
cmd_members(int argc, char **argv)
{
	struct mwtitle *v;
	size_t i;
	int o = noopts(argc, argv, 2, 2);

	open_wiki(argv[o]);
	if (mw_members(mw, argv[o + 1], &held.titles, &held.ntitles, &err)
	    == -1)
		failed(argv[o + 1]);
	for (i = 0, v = held.titles; i < held.ntitles; i++) {
		printf("%ld\t%d\t", v[i].pageid, v[i].ns);
		field(v[i].title, 1);
	}
	return 0;
}

static int
cmd_changes(int argc, char **argv)
{
	struct mwchange *c;
	size_t i;
	int ch, notself = 0, isnew;

	optind = 1;
	while ((ch = getopt(argc, argv, "+x")) != -1) {
		if (ch != 'x')
			ws_usage(usage, EX_USAGE);
		notself = 1;
	}
	if (argc - optind != 2)
		ws_usage(usage, EX_USAGE);
	open_wiki(argv[optind]);
	if (mw_changes(mw, argv[optind + 1], notself ? MW_CH_NOTSELF : 0,
	    &held.changes,
	    &held.nchanges, &err) == -1)
		failed(argv[0]);
	for (i = 0; i < held.nchanges; i++) {
		c = &held.changes[i];
		isnew = strcmp(c->type, "new") == 0;
		printf("%s\t%s\t%ld\t%ld\t%s%s%s%s\t%s\t", c->timestamp, c->type,
		    c->revid, c->oldrevid, isnew ? "N" : "", c->minor ? "m" : "",
		    c->bot ? "b" : "", !isnew && !c->minor && !c->bot ? "-" : "",
		    c->sha1[0] ? c->sha1 : "-");
		field(c->user, 0);
		field(c->title, 1);
	}
	return 0;
}

static const struct subcmd cmds[] = {
	{ "whoami", cmd_whoami }, { "revs", cmd_revs }, { "text", cmd_text },
	{ "current", cmd_current }, { "info", cmd_info },
	{ "edit", cmd_edit }, { "next", cmd_next }, { "seen", cmd_seen },
	{ "watch", cmd_watch }, { "members", cmd_members },
	{ "changes", cmd_changes },
};

int
api_main(int argc, char *argv[])
{
	return ws_subcmd(argc, argv, cmds, sizeof(cmds) / sizeof(cmds[0]),
	    usage);
}
