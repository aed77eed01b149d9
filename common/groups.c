/*
 * groups.c: groups defined on a wiki page, groups-page in wikisync.conf(5).
 *
 * The page holds one call per group,
 *	{{WikiSync group|name=docs|wikis=alpha, beta|categories=Docs}}
 * whose parameters are the keys of a [group] section, plus name; a blank
 * parameter counts as not given.  Comments, <nowiki> and <pre> are
 * skipped and other templates ignored, so the page can explain itself.
 * Invariant: conf_groups_page() takes the whole page or none of it; on
 * any error (a page with no group, a template or link inside a call, an
 * unknown key, a group the file would refuse) the config keeps the groups
 * it had and err says where, as "WIKI:PAGE:LINE: what".
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wikisync.h"
#include "conf.h"

#define TEMPLATE	"wikisync group"
#define NAME_MAX_	64

/* Blank out what MediaWiki does not parse; newlines stay, for lines. */
static void
blank(char *s, size_t len)
{
	static const char *const skip[][2] = {
		{ "<!--", "-->" },
		{ "<nowiki>", "</nowiki>" },
		{ "<pre>", "</pre>" },
	};
	size_t i, k, n, end;
	char *e;

	for (i = 0; i < len; i++) {
		for (k = 0; k < sizeof(skip) / sizeof(skip[0]); k++) {
			n = strlen(skip[k][0]);
			if (strncasecmp(s + i, skip[k][0], n) == 0)
				break;
		}
		if (k == sizeof(skip) / sizeof(skip[0]))
			continue;
		e = strcasestr(s + i + n, skip[k][1]);
		end = e != NULL ? (size_t)(e - s) + strlen(skip[k][1]) : len;
		for (; i < end; i++)
			if (s[i] != '\n')
				s[i] = ' ';
		i--;
	}
}

/* Is s[0..n) our template's name, as MediaWiki would resolve it? */
static int
ours(const char *s, size_t n)
{
	char name[NAME_MAX_], *t;
	size_t i;

	if (n >= sizeof(name))
		return 0;
	memcpy(name, s, n);
	name[n] = '\0';
	for (i = 0; i < n; i++)
		if (name[i] == '_' || isspace((unsigned char)name[i]))
			name[i] = ' ';
	t = conf_trim(name);
	if (strncasecmp(t, "template:", 9) == 0)
		t = conf_trim(t + 9);
	return strcasecmp(t, TEMPLATE) == 0;
}

static int
line_of(const char *s, const char *at)
{
	int line = 1;

	for (; s < at; s++)
		line += *s == '\n';
	return line;
}

static int
known(const struct conf *c, const struct group *v, size_t n,
    const char *name)
{
	size_t i;

	for (i = 0; i < c->ngroups; i++)
		if (!c->groups[i].onpage && strcmp(c->groups[i].name, name) == 0)
			return 1;
	for (i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0)
			return 1;
	return 0;
}

/* One call's parameters, "|key=value|..." (a NUL ends them). */
static int
one_group(struct parser *p, const struct conf *c, struct group **v,
    size_t *n, char *body)
{
	struct group g;
	char *tok, *eq, *key, *val;

	memset(&g, 0, sizeof(g));
	g.talknotes = 1;
	g.files = 1;
	g.onpage = 1;
	g.line = p->line;
	p->seen = 0;
	while ((tok = strsep(&body, "|")) != NULL) {
		if ((eq = strchr(tok, '=')) == NULL) {
			if (*conf_trim(tok) == '\0')
				continue;
			conf_fail(p, p->line, "parameter \"%s\" has no name",
			    conf_trim(tok));
			goto bad;
		}
		*eq = '\0';
		key = conf_trim(tok);
		val = conf_trim(eq + 1);
		if (strcmp(key, "name") == 0) {
			if (g.name != NULL) {
				conf_fail(p, p->line, "duplicate key \"name\"");
				goto bad;
			}
			if (!conf_valid_name(val)) {
				conf_fail(p, p->line, "bad group name \"%s\" "
				    "(letters, digits, _ . - only)", val);
				goto bad;
			}
			if (known(c, *v, *n, val)) {
				conf_fail(p, p->line, "group \"%s\" defined "
				    "twice", val);
				goto bad;
			}
			g.name = xstrdup(val);
		} else if (*val != '\0' &&
		    conf_group_key(p, &g, key, val) == -1)
			goto bad;
	}
	if (g.name == NULL) {
		conf_fail(p, p->line, "{{WikiSync group}} without name=");
		goto bad;
	}
	if (conf_check_group(p, c, &g) == -1)
		goto bad;
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = g;
	return 0;
bad:
	conf_group_free(&g);
	return -1;
}

static int
parse(struct parser *p, const struct conf *c, char *s, struct group **v,
    size_t *n)
{
	char *at, *body, *end, *in;
	size_t k;

	for (at = s; (at = strstr(at, "{{")) != NULL; ) {
		at += 2;
		k = strcspn(at, "|}");
		if (!ours(at, k))
			continue;
		p->line = line_of(s, at);
		body = at + k;
		if ((end = strstr(body, "}}")) == NULL)
			return conf_fail(p, p->line, "{{WikiSync group: no "
			    "closing }}");
		if ((in = strstr(body, "{{")) != NULL && in < end)
			return conf_fail(p, p->line, "a template inside "
			    "{{WikiSync group}}: write plain values");
		if ((in = strstr(body, "[[")) != NULL && in < end)
			return conf_fail(p, p->line, "a link inside "
			    "{{WikiSync group}}: write categories without "
			    "[[ ]]");
		*end = '\0';
		if (one_group(p, c, v, n, body) == -1)
			return -1;
		at = end + 2;
	}
	if (*n == 0)
		return conf_fail(p, 0, "no {{WikiSync group}} call");
	return 0;
}

/* Make the page's groups those of c, in place of any it had from it. */
int
conf_groups_page(struct conf *c, const char *text, size_t len, char *err,
    size_t errlen)
{
	char where[256], *s;
	struct parser p;
	struct group *v = NULL;
	const struct group **gv;
	size_t n = 0, i, k;
	int r;

	snprintf(where, sizeof(where), "%s:%s", c->groupswiki, c->groupspage);
	p = (struct parser){ where, 0, err, errlen, 0 };
	if (memchr(text, '\0', len) != NULL)
		return conf_fail(&p, 0, "NUL byte");
	s = xcalloc(1, len + 1);
	memcpy(s, text, len);
	blank(s, len);
	r = parse(&p, c, s, &v, &n);
	free(s);
	if (r == 0) {
		/* the page's groups beside the file's */
		gv = xreallocarray(NULL, c->ngroups + n + 1, sizeof(*gv));
		for (i = k = 0; i < c->ngroups; i++)
			if (!c->groups[i].onpage)
				gv[k++] = &c->groups[i];
		for (i = 0; i < n; i++)
			gv[k++] = &v[i];
		r = conf_check_owners(&p, c, gv, k);
		free(gv);
	}
	if (r == -1) {
		for (i = 0; i < n; i++)
			conf_group_free(&v[i]);
		free(v);
		return -1;
	}
	for (i = k = 0; i < c->ngroups; i++) {
		if (c->groups[i].onpage)
			conf_group_free(&c->groups[i]);
		else
			c->groups[k++] = c->groups[i];
	}
	c->groups = xreallocarray(c->groups, k + n, sizeof(*c->groups));
	memcpy(c->groups + k, v, n * sizeof(*v));
	c->ngroups = k + n;
	free(v);
	return 0;
}
