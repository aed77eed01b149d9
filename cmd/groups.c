/*
 * groups.c: ws-groups, load the groups page.
 *
 * Reads the page that groups-page names (wikisync.conf(5)), checks it by
 * the rules of the config file, and when it holds makes it the groups in
 * force: its text becomes SPOOL/groups.wiki, the last good copy every
 * applet reads with the config.  Prints the names of the groups that are
 * new or changed, one per line, for ws-peerd to scan.  The sync user
 * watches the page, so the wiki mails each edit of it and ws-peerd runs
 * this again.
 * Only a revision made by a user of a group in groups-trust, or of a page
 * protected so that only those can edit it, is used: whoever writes the
 * page decides which pages are copied between which wikis.
 * Invariants: a page that does not hold changes nothing in force; its
 * error goes to the log and to SPOOL/groups.err (which ws-status shows)
 * until a version that holds replaces it.  The copy is replaced whole.
 * Exit: 0 loaded or unchanged, 65 the page is wrong (the old groups stay),
 * 75 the wiki could not be asked, 78 no groups-page or a config error.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"
#include "mw.h"

static const char usage[] = "[-nqv] [-c file] [-d dir] [-f file]";

/* A group as text, to tell whether it changed. */
static char *
sig(const struct group *g)
{
	char *s = NULL;
	size_t n;
	FILE *fp;

	if ((fp = open_memstream(&s, &n)) == NULL)
		die(EX_OSERR, "open_memstream");
	conf_print_group(fp, g);
	if (fclose(fp) == EOF)
		die(EX_OSERR, "open_memstream");
	return s;
}

static int
changed(const struct conf *old, const struct group *g)
{
	const struct group *o;
	char *a, *b;
	int r;

	if ((o = conf_group(old, g->name)) == NULL)
		return 1;
	a = sig(o);
	b = sig(g);
	r = strcmp(a, b) != 0;
	free(a);
	free(b);
	return r;
}

/*
 * The hex sha1 of the groups in force (SPOOL/groups.wiki) in buf, or
 * NULL when there are none: trust is read back to them.
 */
static const char *
in_force(char buf[SHA1_HEX + 1])
{
	char *text;
	size_t len;
	int dir, fd;

	if ((dir = open(ws_spool(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		return NULL;
	fd = openat(dir, GROUPS_COPY, O_RDONLY | O_CLOEXEC);
	close(dir);
	if (fd == -1)
		return NULL;
	text = read_all(fd, GROUPS_MAX, &len);
	close(fd);
	if (text == NULL)
		return NULL;
	sha1_hex(text, len, buf);
	free(text);
	return buf;
}

/*
 * The page's text, as the sync user reads it; exits when it cannot.  A
 * revision no one trusted made (mw_trusted, groups-trust) is returned
 * with why it is not trusted in untrusted, else that is "".
 */
static char *
fetch(const struct conf *c, size_t *len, char *untrusted, size_t ulen)
{
	const struct wiki *w = conf_wiki(c, c->groupswiki);
	const char *title = c->groupspage;
	struct mwpage pg;
	struct mwerr e;
	struct mw *m;
	char *text, known[SHA1_HEX + 1];

	if ((m = mw_open(w, &e)) == NULL)
		diex(e.code, "%s: %s", w->name, e.msg);
	memset(&pg, 0, sizeof(pg));
	/* seen before read: an edit after the read mails again */
	if (mw_watch(m, &title, 1, &e) == -1 ||
	    mw_seen(m, &title, 1, &e) == -1 ||
	    mw_current(m, &title, 1, &pg, &e) == -1) {
		mw_close(m);
		diex(e.code, "%s: %s: %s", w->name, title, e.msg);
	}
	*untrusted = '\0';
	if (!pg.invalid && !pg.missing) {
		switch (mw_trusted(m, pg.title ? pg.title : title,
		    pg.rev.revid, (const char *const *)c->trust, c->ntrust,
		    in_force(known), untrusted, ulen, &e)) {
		case -1:
			mw_close(m);
			diex(e.code, "%s: %s: %s", w->name, title, e.msg);
		case MW_MOVED:
			mw_close(m);
			diex(EX_TEMPFAIL, "%s: %s: edited as it was read: "
			    "try again", w->name, title);
		case 1:
			*untrusted = '\0';
			break;
		}
	}
	mw_close(m);
	if (pg.invalid || pg.missing || pg.rev.text == NULL) {
		*len = 0;
		text = NULL;
	} else {
		if (pg.title != NULL && strcmp(pg.title, title) != 0)
			ws_log(LOG_WARNING, "%s: %s: the wiki calls it \"%s\": "
			    "write that in groups-page, or its mail will not "
			    "reload the groups", w->name, title, pg.title);
		text = xcalloc(1, pg.rev.len + 1);
		memcpy(text, pg.rev.text, pg.rev.len);
		*len = pg.rev.len;
	}
	mw_pages_free(&pg, 1);
	return text;
}

static char *
slurp(const char *path, size_t *len)
{
	char *text;
	int fd;

	if (strcmp(path, "-") == 0)
		fd = STDIN_FILENO;
	else if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		die(EX_NOINPUT, "%s", path);
	if ((text = read_all(fd, GROUPS_MAX, len)) == NULL)
		die(errno == EFBIG ? EX_DATAERR : EX_IOERR, "%s", path);
	if (fd != STDIN_FILENO)
		close(fd);
	return text;
}

/* The error stays beside the copy until a good version comes. */
static int
refuse(int dir, const char *err)
{
	char line[600];

	snprintf(line, sizeof(line), "%s\n", err);
	if (atomic_write(dir, GROUPS_ERR, line, strlen(line), 0644) == -1)
		die(EX_TEMPFAIL, "%s/%s", ws_spool(), GROUPS_ERR);
	ws_log(LOG_ERR, "%s: the groups stay as they were", err);
	return EX_DATAERR;
}

/* Install text as the copy unless it is already; 1 when it was not. */
static int
install(int dir, const char *text, size_t len)
{
	char *old;
	size_t olen;
	int fd, same = 0;

	if ((fd = openat(dir, GROUPS_COPY, O_RDONLY | O_CLOEXEC)) != -1) {
		old = read_all(fd, GROUPS_MAX, &olen);
		close(fd);
		same = old != NULL && olen == len && memcmp(old, text, len) == 0;
		free(old);
	}
	if (!same && atomic_write(dir, GROUPS_COPY, text, len, 0644) == -1)
		die(EX_TEMPFAIL, "%s/%s", ws_spool(), GROUPS_COPY);
	if (unlinkat(dir, GROUPS_ERR, 0) == 0)
		fsync_dir(dir);
	else if (errno != ENOENT)
		die(EX_TEMPFAIL, "%s/%s", ws_spool(), GROUPS_ERR);
	return !same;
}

int
groups_main(int argc, char *argv[])
{
	const struct conf *c;
	struct conf *nc;
	const char *file = NULL;
	char err[512], untrusted[400], *text;
	size_t len, i, n = 0;
	int ch, dry = 0, dir = -1, rc;

	while ((ch = getopt(argc, argv, WS_OPTS "f:n")) != -1) {
		if (ch == 'f')
			file = optarg;
		else if (ch == 'n')
			dry = 1;
		else
			ws_opt(ch, optarg, usage);
	}
	if (optind != argc)
		ws_usage(usage, EX_USAGE);
	c = ws_conf();
	if (c->groupswiki == NULL)
		diex(EX_CONFIG, "%s: no groups-page", c->path ? c->path :
		    "the config");
	if (file == NULL && !dry &&
	    (dir = open(ws_spool(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)) == -1)
		spool_die(ws_spool());
	*untrusted = '\0';
	text = file ? slurp(file, &len) : fetch(c, &len, untrusted,
	    sizeof(untrusted));
	/* the file's groups alone, then the page's */
	if ((nc = conf_read(c->path, err, sizeof(err))) == NULL) {
		free(text);
		diex(EX_CONFIG, "%s", err);
	}
	if (text == NULL) {
		snprintf(err, sizeof(err), "%s:%s: no such page",
		    c->groupswiki, c->groupspage);
		rc = -1;
	} else if (*untrusted != '\0') {
		snprintf(err, sizeof(err), "%s:%s: not trusted: %s",
		    c->groupswiki, c->groupspage, untrusted);
		rc = -1;
	} else
		rc = conf_groups_page(nc, text, len, err, sizeof(err));
	if (rc == -1) {
		free(text);
		conf_free(nc);
		if (dir == -1)
			diex(EX_DATAERR, "%s", err);
		return refuse(dir, err);
	}
	for (i = 0; i < nc->ngroups; i++) {
		if (!nc->groups[i].onpage)
			continue;
		if (dir == -1) {
			printf("%s", n++ ? "\n" : "");
			conf_print_group(stdout, &nc->groups[i]);
		} else if (changed(c, &nc->groups[i]))
			printf("%s\n", nc->groups[i].name);
	}
	if (dir != -1 && install(dir, text, len)) {
		for (i = n = 0; i < nc->ngroups; i++)
			n += nc->groups[i].onpage;
		ws_log(LOG_NOTICE, "%s:%s: %zu group%s loaded", c->groupswiki,
		    c->groupspage, n, n == 1 ? "" : "s");
	}
	if (dir != -1)
		close(dir);
	free(text);
	conf_free(nc);
	return 0;
}
