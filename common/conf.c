/*
 * conf.c: read wikisync.conf(5).
 *
 * INI-like: global "key = value" lines, then [wiki NAME] and [group NAME]
 * sections.  Every error names the file and line and the caller exits 78.
 * What holds after conf_read() returns a config: every key was known and
 * given once per section, every wiki has api, url, user and password-file,
 * every group names at least two configured wikis and something to sync.
 * Password files are checked when read (conf_password), not here, so an
 * applet that never logs in does not need to be able to read them.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"
#include "conf.h"

#define fail	conf_fail
#define trim	conf_trim

int
conf_fail(struct parser *p, int line, const char *fmt, ...)
{
	char msg[400];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(p->err, p->errlen, "%s:%d: %s", p->path, line, msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->path, msg);
	return -1;
}

char *
conf_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

int
conf_valid_name(const char *s)
{
	if (*s == '\0' || *s == '.' || strlen(s) > 32)
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && strchr("_.-", *s) == NULL)
			return 0;
	return 1;
}

/* The keys of each kind of section, for a misspelling's suggestion. */
static const char *const global_keys[] = {
	"spool", "report", "report-smtp", "peerd", "syslog", "hold-after", "login-check",
	"workers", "queue-max", "deletions-per-hour", "job-deadline",
	"groups-page", "status-page", "status-titles", "groups-trust", NULL
};
static const char *const wiki_keys[] = {
	"api", "url", "user", "password-file", "ca-file", "timeout",
	"insecure-http", NULL
};
static const char *const group_keys[] = {
	"wikis", "categories", "pages", "history", "conflict", "talk-notes",
	"deletions", "files", "peerd", NULL
};

/* Edit distance of a and b (each at most 63 bytes), else a large one. */
static size_t
distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j, d[64][64];

	if (la >= 64 || lb >= 64)
		return (size_t)-1;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++)
		for (j = 1; j <= lb; j++) {
			d[i][j] = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
			if (d[i - 1][j] + 1 < d[i][j])
				d[i][j] = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < d[i][j])
				d[i][j] = d[i][j - 1] + 1;
		}
	return d[la][lb];
}

/*
 * An unknown key: the error says which key of this kind of section it
 * is probably a misspelling of, or which other kind of section has it.
 */
static int
unknown_key(struct parser *p, const char *key, const char *const *keys)
{
	static const struct {
		const char *const *keys;
		const char *where;
	} other[] = {
		{ global_keys, "before the first section" },
		{ wiki_keys, "in a [wiki NAME] section" },
		{ group_keys, "in a [group NAME] section" },
	};
	const char *best = NULL;
	/* two edits, three in a longer key ("category" for "categories") */
	size_t i, d, bestd = strlen(key) >= 8 ? 4 : 3;

	for (i = 0; keys[i] != NULL; i++)
		if ((d = distance(key, keys[i])) < bestd) {
			best = keys[i];
			bestd = d;
		}
	if (best != NULL)
		return fail(p, p->line, "unknown key \"%s\" (did you mean "
		    "\"%s\"?)", key, best);
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		if (other[i].keys == keys)
			continue;
		for (d = 0; other[i].keys[d] != NULL; d++)
			if (strcmp(key, other[i].keys[d]) == 0)
				return fail(p, p->line, "key \"%s\" belongs %s",
				    key, other[i].where);
	}
	return fail(p, p->line, "unknown key \"%s\"", key);
}

/* "a, b ,c" into a NULL-less array of trimmed, non-empty strings. */
static int
split_list(struct parser *p, const char *val, const char *prefix,
    char ***out, size_t *nout)
{
	char *copy, *tok, *s, *save = NULL;
	size_t plen = prefix ? strlen(prefix) : 0;

	copy = xstrdup(val);
	for (tok = strtok_r(copy, ",", &save); tok != NULL;
	    tok = strtok_r(NULL, ",", &save)) {
		s = trim(tok);
		if (plen > 0 && strncasecmp(s, prefix, plen) == 0)
			s = trim(s + plen);
		if (*s == '\0')
			continue;
		*out = xreallocarray(*out, *nout + 1, sizeof(**out));
		(*out)[(*nout)++] = xstrdup(s);
	}
	free(copy);
	if (*nout == 0)
		return fail(p, p->line, "empty list");
	return 0;
}

static int
once(struct parser *p, unsigned bit, const char *key)
{
	if (p->seen & bit)
		return fail(p, p->line, "duplicate key \"%s\"", key);
	p->seen |= bit;
	return 0;
}

/* A yes-or-no key's value into *out: 0, or -1 with the error made. */
static int
yes_no(struct parser *p, const char *key, const char *val, int *out)
{
	if (strcmp(val, "yes") == 0 || strcmp(val, "no") == 0) {
		*out = strcmp(val, "yes") == 0;
		return 0;
	}
	return fail(p, p->line, "%s: not yes or no: %s", key, val);
}

/*
 * A page title as MediaWiki writes it: underscores are spaces, runs of
 * them one, none at either end, and the first letter a capital.  Only
 * ASCII is folded; namespace names are the wiki's business.
 */
void
conf_title(char *t)
{
	char *r, *w;

	for (r = w = t; *r != '\0'; r++) {
		if (*r == '_' || *r == ' ') {
			if (w > t && w[-1] != ' ')
				*w++ = ' ';
		} else
			*w++ = *r;
	}
	while (w > t && w[-1] == ' ')
		w--;
	*w = '\0';
	if (*t >= 'a' && *t <= 'z')
		*t = (char)(*t - 'a' + 'A');
}

/* "WIKI:PAGE": the wiki is checked once all wikis are known. */
static int
page_key(struct parser *p, const char *key, const char *val, char **wiki,
    char **page)
{
	size_t n = strcspn(val, ":");

	if (val[n] != ':' || n == 0 || n > 32)
		return fail(p, p->line, "%s: not wiki:page: %s", key, val);
	*wiki = xcalloc(1, n + 1);
	memcpy(*wiki, val, n);
	*page = xstrdup(val + n + 1);
	conf_title(*page);
	if (**page == '\0' || strpbrk(*page, "#<>[]|{}") != NULL)
		return fail(p, p->line, "%s: not a page title: %s", key,
		    val + n + 1);
	return 0;
}

/* A plain mail address: local@domain, no name, no brackets. */
static int
address(struct parser *p, const char *key, const char *val)
{
	const char *at = strchr(val, '@');

	if (at == NULL || at == val || at[1] == '\0' ||
	    strchr(at + 1, '@') != NULL || strpbrk(val, " \t<>,;\"") != NULL)
		return fail(p, p->line, "%s: not a mail address: %s", key,
		    val);
	return 0;
}

static int
global_key(struct parser *p, struct conf *c, const char *key, const char *val)
{
	long n;

	if (strcmp(key, "spool") == 0) {
		if (once(p, 1, key) == -1)
			return -1;
		if (val[0] != '/')
			return fail(p, p->line, "spool must be an absolute path");
		free(c->spool);
		c->spool = xstrdup(val);
	} else if (strcmp(key, "report") == 0) {
		if (once(p, 2, key) == -1 || address(p, key, val) == -1)
			return -1;
		c->report = xstrdup(val);
	} else if (strcmp(key, "report-smtp") == 0) {
		if (once(p, 16384, key) == -1)
			return -1;
		if ((strncmp(val, "smtp://", 7) != 0 &&
		    strncmp(val, "smtps://", 8) != 0) || strpbrk(val, " \t") != NULL)
			return fail(p, p->line, "report-smtp: not an smtp:// or "
			    "smtps:// URL: %s", val);
		c->reportsmtp = xstrdup(val);
	} else if (strcmp(key, "peerd") == 0) {
		if (once(p, 512, key) == -1 || address(p, key, val) == -1)
			return -1;
		c->peerd = xstrdup(val);
	} else if (strcmp(key, "syslog") == 0) {
		if (once(p, 4, key) == -1)
			return -1;
		if (strcmp(val, "none") == 0)
			return 0;
		if (syslog_facility(val) == -1)
			return fail(p, p->line, "syslog: unknown facility \"%s\"",
			    val);
		c->syslog = xstrdup(val);
	} else if (strcmp(key, "hold-after") == 0) {
		if (once(p, 8, key) == -1)
			return -1;
		if (parse_long(val, 1, 1000, &n) == -1)
			return fail(p, p->line,
			    "hold-after: not a number from 1 to 1000: %s", val);
		c->holdafter = (int)n;
	} else if (strcmp(key, "login-check") == 0) {
		if (once(p, 128, key) == -1)
			return -1;
		if (parse_long(val, 5, 86400, &n) == -1)
			return fail(p, p->line, "login-check: not a number of "
			    "seconds from 5 to 86400: %s", val);
		c->logincheck = (int)n;
	} else if (strcmp(key, "workers") == 0) {
		if (once(p, 256, key) == -1)
			return -1;
		if (parse_long(val, 1, WORKERS_MAX, &n) == -1)
			return fail(p, p->line, "workers: not a number from 1 "
			    "to %d: %s", WORKERS_MAX, val);
		c->workers = (int)n;
	} else if (strcmp(key, "queue-max") == 0) {
		if (once(p, 2048, key) == -1)
			return -1;
		if (parse_long(val, 1, 10000000, &n) == -1)
			return fail(p, p->line, "queue-max: not a number from 1 "
			    "to 10000000: %s", val);
		c->queuemax = (int)n;
	} else if (strcmp(key, "deletions-per-hour") == 0) {
		if (once(p, 4096, key) == -1)
			return -1;
		if (parse_long(val, 1, 1000, &n) == -1)
			return fail(p, p->line, "deletions-per-hour: not a number "
			    "from 1 to 1000: %s", val);
		c->delmax = (int)n;
	} else if (strcmp(key, "job-deadline") == 0) {
		if (once(p, 1024, key) == -1)
			return -1;
		if (parse_long(val, 5, 86400, &n) == -1)
			return fail(p, p->line, "job-deadline: not a number of "
			    "seconds from 5 to 86400: %s", val);
		c->deadline = (int)n;
	} else if (strcmp(key, "groups-page") == 0) {
		if (once(p, 16, key) == -1 ||
		    page_key(p, key, val, &c->groupswiki, &c->groupspage) == -1)
			return -1;
	} else if (strcmp(key, "status-page") == 0) {
		if (once(p, 32, key) == -1 ||
		    page_key(p, key, val, &c->statuswiki, &c->statuspage) == -1)
			return -1;
	} else if (strcmp(key, "status-titles") == 0) {
		if (once(p, 8192, key) == -1)
			return -1;
		if (yes_no(p, key, val, &c->statustitles) == -1)
			return -1;
	} else if (strcmp(key, "groups-trust") == 0) {
		if (once(p, 64, key) == -1)
			return -1;
		while (c->ntrust > 0)		/* not the default's */
			free(c->trust[--c->ntrust]);
		if (split_list(p, val, NULL, &c->trust, &c->ntrust) == -1)
			return -1;
	} else
		return unknown_key(p, key, global_keys);
	return 0;
}

/*
 * The system's file naming no wiki is the example a package installs:
 * every program refuses it, rather than run on nothing.  (Other files,
 * named with -c or WIKISYNC_CONF, may hold only global keys, for the
 * programs that need no wiki.)
 */
int
conf_unconfigured(const struct conf *c)
{
	return c->path != NULL && strcmp(c->path, DEFAULT_CONF) == 0 &&
	    c->nwikis == 0;
}

/*
 * A category written with its namespace in the wiki's language: the wiki
 * lists a page's categories by name alone, so it would match nothing.
 * (English "Category:" is taken off by split_list.)
 */
static int
foreign_prefix(struct parser *p, char **cats, size_t n)
{
	static const char *names[] = {
		"Kategorie", "Cat\xc3\xa9gorie", "Categor\xc3\xad" "a",
		"Categoria", "Categorie", "Kategoria", "Kategori",
		"Kategorija", "Kateg\xc3\xb3ria", "Luokka", "Flokkur",
		"\xd0\x9a\xd0\xb0\xd1\x82\xd0\xb5\xd0\xb3\xd0\xbe"
		"\xd1\x80\xd0\xb8\xd1\x8f",		/* Категория */
		"\xd0\x9a\xd0\xb0\xd1\x82\xd0\xb5\xd0\xb3\xd0\xbe"
		"\xd1\x80\xd1\x96\xd1\x8f",		/* Категорія */
		"\xe5\x88\x86\xe7\xb1\xbb",		/* 分类 */
		"\xe5\x88\x86\xe9\xa1\x9e",		/* 分類 */
		"\xe3\x82\xab\xe3\x83\x86\xe3\x82\xb4\xe3\x83\xaa",
							/* カテゴリ */
		"\xeb\xb6\x84\xeb\xa5\x98",		/* 분류 */
	};
	const char *colon;
	size_t i, k, len;

	for (i = 0; i < n; i++) {
		if ((colon = strchr(cats[i], ':')) == NULL)
			continue;
		len = (size_t)(colon - cats[i]);
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++)
			if (strlen(names[k]) == len &&
			    strncasecmp(cats[i], names[k], len) == 0)
				return fail(p, p->line, "categories: \"%s\" "
				    "names the category with its namespace; "
				    "write the name alone, as in "
				    "categories = %s", cats[i], colon + 1);
	}
	return 0;
}

static int
wiki_key(struct parser *p, struct wiki *w, const char *key, const char *val)
{
	long n;

	if (strcmp(key, "api") == 0) {
		if (once(p, 1, key) == -1)
			return -1;
		if (strncmp(val, "http://", 7) != 0 &&
		    strncmp(val, "https://", 8) != 0)
			return fail(p, p->line, "api: not an http(s) URL: %s",
			    val);
		w->api = xstrdup(val);
	} else if (strcmp(key, "url") == 0) {
		if (once(p, 2, key) == -1)
			return -1;
		if (strncmp(val, "http://", 7) != 0 &&
		    strncmp(val, "https://", 8) != 0)
			return fail(p, p->line, "url: not an http(s) URL: %s",
			    val);
		w->url = xstrdup(val);
	} else if (strcmp(key, "user") == 0) {
		if (once(p, 4, key) == -1)
			return -1;
		if (strchr(val, '@') == NULL)
			return fail(p, p->line, "user: not a bot password "
			    "login (User@botname): %s", val);
		w->user = xstrdup(val);
	} else if (strcmp(key, "password-file") == 0) {
		if (once(p, 8, key) == -1)
			return -1;
		w->passfile = xstrdup(val);
	} else if (strcmp(key, "ca-file") == 0) {
		if (once(p, 16, key) == -1)
			return -1;
		w->cafile = xstrdup(val);
	} else if (strcmp(key, "timeout") == 0) {
		if (once(p, 32, key) == -1)
			return -1;
		if (parse_long(val, 1, 3600, &n) == -1)
			return fail(p, p->line,
			    "timeout: not a number of seconds (1-3600): %s", val);
		w->timeout = n;
	} else if (strcmp(key, "insecure-http") == 0) {
		if (once(p, 64, key) == -1)
			return -1;
		if (yes_no(p, key, val, &w->insecure) == -1)
			return -1;
	} else
		return unknown_key(p, key, wiki_keys);
	return 0;
}

int
conf_group_key(struct parser *p, struct group *g, const char *key,
    const char *val)
{
	if (strcmp(key, "wikis") == 0) {
		if (once(p, 1, key) == -1 ||
		    split_list(p, val, NULL, &g->wikis, &g->nwikis) == -1)
			return -1;
	} else if (strcmp(key, "categories") == 0) {
		if (once(p, 2, key) == -1 ||
		    split_list(p, val, "Category:", &g->categories,
		    &g->ncategories) == -1 ||
		    foreign_prefix(p, g->categories, g->ncategories) == -1)
			return -1;
	} else if (strcmp(key, "pages") == 0) {
		if (once(p, 4, key) == -1 ||
		    split_list(p, val, NULL, &g->pages, &g->npages) == -1)
			return -1;
	} else if (strcmp(key, "history") == 0) {
		if (once(p, 8, key) == -1)
			return -1;
		if (strcmp(val, "replay") == 0)
			g->history = HISTORY_REPLAY;
		else if (strcmp(val, "latest") == 0)
			g->history = HISTORY_LATEST;
		else
			return fail(p, p->line,
			    "history: not replay or latest: %s", val);
	} else if (strcmp(key, "conflict") == 0) {
		if (once(p, 16, key) == -1)
			return -1;
		if (strcmp(val, "wiki") == 0)
			g->conflict = CONFLICT_WIKI;
		else if (strcmp(val, "markers") == 0)
			g->conflict = CONFLICT_MARKERS;
		else
			return fail(p, p->line,
			    "conflict: not wiki or markers: %s", val);
	} else if (strcmp(key, "talk-notes") == 0) {
		if (once(p, 32, key) == -1)
			return -1;
		if (yes_no(p, key, val, &g->talknotes) == -1)
			return -1;
	} else if (strcmp(key, "deletions") == 0) {
		if (once(p, 64, key) == -1)
			return -1;
		if (strcmp(val, "sync") == 0)
			g->deletions = DELETIONS_SYNC;
		else if (strcmp(val, "keep") == 0)
			g->deletions = DELETIONS_KEEP;
		else
			return fail(p, p->line,
			    "deletions: not sync or keep: %s", val);
	} else if (strcmp(key, "files") == 0) {
		if (once(p, 128, key) == -1)
			return -1;
		if (yes_no(p, key, val, &g->files) == -1)
			return -1;
	} else if (strcmp(key, "peerd") == 0) {
		if (once(p, 256, key) == -1 || address(p, key, val) == -1)
			return -1;
		g->peerd = xstrdup(val);
	} else
		return unknown_key(p, key, group_keys);
	return 0;
}

static int
section(struct parser *p, struct conf *c, char *s, struct wiki **w,
    struct group **g)
{
	char *kind, *name, *end;
	size_t i;

	if ((end = strchr(s, ']')) == NULL || trim(end + 1)[0] != '\0')
		return fail(p, p->line, "bad section line");
	*end = '\0';
	kind = trim(s + 1);
	name = kind + strcspn(kind, " \t");
	if (*name != '\0')
		*name++ = '\0';
	name = trim(name);
	if (strcmp(kind, "wiki") != 0 && strcmp(kind, "group") != 0)
		return fail(p, p->line, "unknown section \"%s\"", kind);
	if (!conf_valid_name(name))
		return fail(p, p->line, "bad %s name \"%s\" (letters, digits, "
		    "_ . - only)", kind, name);
	p->seen = 0;
	*w = NULL;
	*g = NULL;
	if (strcmp(kind, "wiki") == 0) {
		for (i = 0; i < c->nwikis; i++)
			if (strcmp(c->wikis[i].name, name) == 0)
				return fail(p, p->line,
				    "wiki \"%s\" defined twice", name);
		c->wikis = xreallocarray(c->wikis, c->nwikis + 1,
		    sizeof(*c->wikis));
		*w = &c->wikis[c->nwikis++];
		memset(*w, 0, sizeof(**w));
		(*w)->name = xstrdup(name);
		(*w)->timeout = 30;
		(*w)->line = p->line;
	} else {
		for (i = 0; i < c->ngroups; i++)
			if (strcmp(c->groups[i].name, name) == 0)
				return fail(p, p->line,
				    "group \"%s\" defined twice", name);
		c->groups = xreallocarray(c->groups, c->ngroups + 1,
		    sizeof(*c->groups));
		*g = &c->groups[c->ngroups++];
		memset(*g, 0, sizeof(**g));
		(*g)->name = xstrdup(name);
		(*g)->talknotes = 1;
		(*g)->files = 1;
		(*g)->line = p->line;
	}
	return 0;
}

/* "a,,b" as "a, b": the runs of commas one, each followed by a space. */
static const char *
comma_list(char *s)
{
	static char out[512];
	size_t o = 0;
	int comma = 0;

	for (; *s != '\0' && o + 3 < sizeof(out); s++) {
		if (*s == ',') {
			comma = 1;
			continue;
		}
		if (comma && o > 0) {
			out[o++] = ',';
			out[o++] = ' ';
		}
		comma = 0;
		out[o++] = *s;
	}
	out[o] = '\0';
	return out;
}

/* "the wikis are a, b", or "no wiki is defined": for an error. */
static const char *
defined_wikis(const struct conf *c)
{
	static char out[512];
	size_t i;

	if (c->nwikis == 0)
		return "no [wiki] section defines one";
	strlcpy(out, c->nwikis == 1 ? "the one wiki is " : "the wikis are ",
	    sizeof(out));
	for (i = 0; i < c->nwikis; i++) {
		if (i > 0)
			strlcat(out, ", ", sizeof(out));
		strlcat(out, c->wikis[i].name, sizeof(out));
	}
	return out;
}

/* What every group, from the file or the groups page, must be. */
int
conf_check_group(struct parser *p, const struct conf *c,
    const struct group *g)
{
	size_t j, k;
	char fixed[256];

	/* wiki names are words: a space is a missing comma */
	for (j = 0; j < g->nwikis; j++)
		if (strpbrk(g->wikis[j], " \t") != NULL) {
			strlcpy(fixed, g->wikis[j], sizeof(fixed));
			for (k = 0; fixed[k] != '\0'; k++)
				if (fixed[k] == ' ' || fixed[k] == '\t')
					fixed[k] = ',';
			return fail(p, g->line, "group %s: wikis: \"%s\" is "
			    "not one wiki: separate them with commas, as in "
			    "wikis = %s", g->name, g->wikis[j],
			    comma_list(fixed));
		}
	if (g->nwikis < 2)
		return fail(p, g->line, "group %s: needs two wikis or more",
		    g->name);
	if (g->peerd != NULL && c->peerd == NULL)
		return fail(p, g->line, "group %s: peerd names its syncing "
		    "host, so this host's own must be named too (peerd = "
		    "ADDRESS before the first section)", g->name);
	if (g->ncategories == 0 && g->npages == 0)
		return fail(p, g->line, "group %s: no categories or pages",
		    g->name);
	for (j = 0; j < g->nwikis; j++) {
		if (conf_wiki(c, g->wikis[j]) == NULL)
			return fail(p, g->line, "group %s: unknown wiki "
			    "\"%s\" (%s)", g->name, g->wikis[j],
			    defined_wikis(c));
		for (k = 0; k < j; k++)
			if (strcmp(g->wikis[j], g->wikis[k]) == 0)
				return fail(p, g->line, "group %s: wiki "
				    "\"%s\" named twice", g->name, g->wikis[j]);
	}
	return 0;
}

/* The address of the host that syncs g ("": this host, unnamed). */
const char *
group_owner(const struct conf *c, const struct group *g)
{
	if (g->peerd != NULL)
		return g->peerd;
	return c->peerd != NULL ? c->peerd : "";
}

static const char *
in_both(char *const *a, size_t na, char *const *b, size_t nb)
{
	size_t i, j;

	for (i = 0; i < na; i++)
		for (j = 0; j < nb; j++)
			if (strcmp(a[i], b[j]) == 0)
				return a[i];
	return NULL;
}

/*
 * One page, one syncing host: two groups of different owners must not
 * both sync a page the config can name, that is a category or a page
 * both list on a wiki both list.  An overlap only a page's categories
 * show is settled when the page is synced (syncset_of).
 */
int
conf_check_owners(struct parser *p, const struct conf *c,
    const struct group *const *v, size_t n)
{
	const struct group *a, *b;
	const char *w, *what;
	size_t i, j;

	for (i = 0; i < n; i++)
		for (j = i + 1; j < n; j++) {
			a = v[i];
			b = v[j];
			if (strcasecmp(group_owner(c, a),
			    group_owner(c, b)) == 0 ||
			    (w = in_both(a->wikis, a->nwikis, b->wikis,
			    b->nwikis)) == NULL)
				continue;
			if ((what = in_both(a->categories, a->ncategories,
			    b->categories, b->ncategories)) == NULL &&
			    (what = in_both(a->pages, a->npages, b->pages,
			    b->npages)) == NULL)
				continue;
			return fail(p, b->line, "groups %s and %s both sync "
			    "%s on wiki %s, but %s syncs one and %s the other: "
			    "give a page one syncing host", a->name, b->name,
			    what, w, *group_owner(c, a) ? group_owner(c, a) :
			    "this host", *group_owner(c, b) ?
			    group_owner(c, b) : "this host");
		}
	return 0;
}

/*
 * Does the wiki's api send the bot password in clear to another host?
 * An http:// URL is fine to a loopback host (localhost, 127.0.0.0/8,
 * ::1) only.  1 (host, as the URL names it, in host), else 0.
 */
int
conf_clear(const struct wiki *w, char *host, size_t len)
{
	const char *h, *e, *at;
	size_t n;

	if (strncmp(w->api, "http://", 7) != 0)
		return 0;
	h = w->api + 7;
	e = h + strcspn(h, "/?#");
	if ((at = memchr(h, '@', (size_t)(e - h))) != NULL)
		h = at + 1;			/* user:pass@host */
	if (*h == '[')
		n = strcspn(h, "]") + (h[strcspn(h, "]")] == ']');
	else
		n = strcspn(h, ":/?#");
	if (n > (size_t)(e - h))
		n = (size_t)(e - h);
	snprintf(host, len, "%.*s", (int)n, h);
	if (strcasecmp(host, "localhost") == 0 ||
	    strcasecmp(host, "localhost.") == 0 ||
	    strcmp(host, "[::1]") == 0)
		return 0;
	if (strncmp(host, "127.", 4) == 0 &&
	    strspn(host, "0123456789.") == strlen(host))
		return 0;
	return 1;
}

static int
check(struct parser *p, struct conf *c)
{
	char host[256];
	struct wiki *w;
	const struct group **gv;
	size_t i, n;
	int r;

	for (i = 0; i < c->nwikis; i++) {
		w = &c->wikis[i];
		if (w->api == NULL)
			return fail(p, w->line, "wiki %s: no api", w->name);
		if (w->user == NULL)
			return fail(p, w->line, "wiki %s: no user", w->name);
		if (w->passfile == NULL)
			return fail(p, w->line, "wiki %s: no password-file",
			    w->name);
		if (w->url == NULL) {
			n = strlen(w->api);
			if (n < 7 || strcmp(w->api + n - 7, "api.php") != 0)
				return fail(p, w->line, "wiki %s: no url, and "
				    "api does not end in api.php", w->name);
			w->url = xcalloc(1, n + 3);
			memcpy(w->url, w->api, n - 7);
			strlcat(w->url, "index.php", n + 3);
		}
	}
	if (c->groupswiki != NULL && conf_wiki(c, c->groupswiki) == NULL)
		return fail(p, 0, "groups-page: unknown wiki \"%s\"",
		    c->groupswiki);
	if (c->statuswiki != NULL && conf_wiki(c, c->statuswiki) == NULL)
		return fail(p, 0, "status-page: unknown wiki \"%s\"",
		    c->statuswiki);
	for (i = 0; i < c->ngroups; i++)
		if (conf_check_group(p, c, &c->groups[i]) == -1)
			return -1;
	gv = xreallocarray(NULL, c->ngroups + 1, sizeof(*gv));
	for (i = 0; i < c->ngroups; i++)
		gv[i] = &c->groups[i];
	r = conf_check_owners(p, c, gv, c->ngroups);
	free(gv);
	if (r == -1)
		return -1;
	for (i = 0; i < c->nwikis; i++) {
		w = &c->wikis[i];
		if (conf_clear(w, host, sizeof(host)) && !w->insecure)
			return fail(p, w->line, "wiki %s: api: http:// to %s "
			    "would send the bot password in clear: use "
			    "https://, or set insecure-http = yes", w->name,
			    host);
	}
	return 0;
}

static int
parse(struct parser *p, struct conf *c, FILE *fp)
{
	char *buf = NULL, *s, *eq, *key, *val;
	size_t cap = 0;
	ssize_t n;
	struct wiki *w = NULL;
	struct group *g = NULL;
	int r = 0;

	while (r == 0 && (n = getline(&buf, &cap, fp)) != -1) {
		p->line++;
		if (memchr(buf, '\0', (size_t)n) != NULL) {
			r = fail(p, p->line, "NUL byte");
			break;
		}
		s = trim(buf);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			r = section(p, c, s, &w, &g);
			continue;
		}
		if ((eq = strchr(s, '=')) == NULL) {
			r = fail(p, p->line, "expected key = value");
			continue;
		}
		*eq = '\0';
		key = trim(s);
		val = trim(eq + 1);
		if (*val == '\0')
			r = fail(p, p->line, "no value for \"%s\"", key);
		else if (w != NULL)
			r = wiki_key(p, w, key, val);
		else if (g != NULL)
			r = conf_group_key(p, g, key, val);
		else
			r = global_key(p, c, key, val);
	}
	free(buf);
	if (r == 0 && ferror(fp))
		r = fail(p, 0, "%s", strerror(errno));
	if (r == 0)
		r = check(p, c);
	return r;
}

/*
 * Read the config at path (NULL: the built-in defaults).  On error NULL,
 * errno set (ENOENT for a missing file) and the message in err.
 */
struct conf *
conf_read(const char *path, char *err, size_t errlen)
{
	struct parser p = { path, 0, err, errlen, 0 };
	struct conf *c;
	FILE *fp;
	int e;

	c = xcalloc(1, sizeof(*c));
	c->spool = xstrdup(DEFAULT_SPOOL);
	c->holdafter = 20;
	c->logincheck = 60;
	c->workers = 4;
	c->deadline = 3600;
	c->queuemax = 10000;
	c->delmax = 30;
	c->statustitles = 1;
	c->trust = xcalloc(1, sizeof(*c->trust));
	c->trust[c->ntrust++] = xstrdup("sysop");
	if (path == NULL)
		return c;
	if ((fp = fopen(path, "re")) == NULL) {
		e = errno;
		snprintf(err, errlen, "%s: %s", path, strerror(e));
		conf_free(c);
		errno = e;
		return NULL;
	}
	c->path = xstrdup(path);
	if (parse(&p, c, fp) == -1) {
		fclose(fp);
		conf_free(c);
		errno = EINVAL;
		return NULL;
	}
	fclose(fp);
	return c;
}

static void
free_list(char **v, size_t n)
{
	while (n > 0)
		free(v[--n]);
	free(v);
}

void
conf_group_free(struct group *g)
{
	free(g->name);
	free_list(g->wikis, g->nwikis);
	free_list(g->categories, g->ncategories);
	free_list(g->pages, g->npages);
	free(g->peerd);
}

static void
list(FILE *fp, const char *key, char **v, size_t n)
{
	size_t i;

	fprintf(fp, "%s = ", key);
	for (i = 0; i < n; i++)
		fprintf(fp, "%s%s", i ? ", " : "", v[i]);
	fprintf(fp, "\n");
}

/* A group as a [group] section would give it, defaults spelled out. */
void
conf_print_group(FILE *fp, const struct group *g)
{
	fprintf(fp, "[group %s]\n", g->name);
	list(fp, "wikis", g->wikis, g->nwikis);
	if (g->ncategories)
		list(fp, "categories", g->categories, g->ncategories);
	if (g->npages)
		list(fp, "pages", g->pages, g->npages);
	fprintf(fp, "history = %s\nconflict = %s\ntalk-notes = %s\n"
	    "deletions = %s\nfiles = %s\n",
	    g->history == HISTORY_LATEST ? "latest" : "replay",
	    g->conflict == CONFLICT_MARKERS ? "markers" : "wiki",
	    g->talknotes ? "yes" : "no",
	    g->deletions == DELETIONS_KEEP ? "keep" : "sync",
	    g->files ? "yes" : "no");
	if (g->peerd != NULL)
		fprintf(fp, "peerd = %s\n", g->peerd);
}

void
conf_free(struct conf *c)
{
	size_t i;

	if (c == NULL)
		return;
	for (i = 0; i < c->nwikis; i++) {
		free(c->wikis[i].name);
		free(c->wikis[i].api);
		free(c->wikis[i].url);
		free(c->wikis[i].user);
		free(c->wikis[i].passfile);
		free(c->wikis[i].cafile);
	}
	for (i = 0; i < c->ngroups; i++)
		conf_group_free(&c->groups[i]);
	free(c->wikis);
	free(c->groups);
	free(c->path);
	free(c->spool);
	free(c->report);
	free(c->reportsmtp);
	free(c->peerd);
	free(c->syslog);
	free(c->groupswiki);
	free(c->groupspage);
	free(c->statuswiki);
	free(c->statuspage);
	for (i = 0; i < c->ntrust; i++)
		free(c->trust[i]);
	free(c->trust);
	free(c);
}

const struct wiki *
conf_wiki(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->nwikis; i++)
		if (strcmp(c->wikis[i].name, name) == 0)
			return &c->wikis[i];
	return NULL;
}

/* Titles as MediaWiki compares them: first letter either case, _ a space. */
static int
title_is(const char *a, const char *b)
{
	if (*a == '\0' || *b == '\0' ||
	    toupper((unsigned char)*a) != toupper((unsigned char)*b))
		return 0;
	for (a++, b++; *a != '\0' && *b != '\0'; a++, b++)
		if (*a != *b && !((*a == '_' || *a == ' ') &&
		    (*b == '_' || *b == ' ')))
			return 0;
	return *a == *b;
}

/*
 * Is title the groups page's or the status page's?  What it is, or NULL.
 * Those titles are never synced, moved onto or deleted by the sync, on
 * any wiki: whoever writes the groups page decides what is copied where,
 * and a copy of another wiki's page of that title would be the sync
 * account's writing there.
 */
const char *
conf_reserved(const struct conf *c, const char *title)
{
	if (c->groupspage != NULL && title_is(title, c->groupspage))
		return "the groups page";
	if (c->statuspage != NULL && title_is(title, c->statuspage))
		return "the status page";
	return NULL;
}

const struct group *
conf_group(const struct conf *c, const char *name)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (strcmp(c->groups[i].name, name) == 0)
			return &c->groups[i];
	return NULL;
}

/*
 * The wiki's bot password: the first line of its password-file, which
 * must be a regular file that neither group nor others can read.
 */
int
conf_password(const struct wiki *w, char *buf, size_t len, char *err,
    size_t errlen)
{
	struct stat st;
	ssize_t n;
	char *nl;
	int fd;

	if ((fd = open(w->passfile, O_RDONLY | O_CLOEXEC | O_NOFOLLOW)) == -1) {
		snprintf(err, errlen, "%s: %s", w->passfile, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file", w->passfile);
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		snprintf(err, errlen, "%s: mode %04o lets group or others read it; "
		    "refusing it: chmod 600 %s", w->passfile,
		    (unsigned)(st.st_mode & 07777), w->passfile);
		close(fd);
		return -1;
	}
	n = read(fd, buf, len - 1);
	close(fd);
	if (n == -1) {
		snprintf(err, errlen, "%s: %s", w->passfile, strerror(errno));
		return -1;
	}
	buf[n] = '\0';
	if ((nl = strpbrk(buf, "\r\n")) != NULL)
		*nl = '\0';
	if (buf[0] == '\0') {
		snprintf(err, errlen, "%s: empty", w->passfile);
		return -1;
	}
	return 0;
}
