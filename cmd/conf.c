/*
 * conf.c: ws-conf, check the configuration and print it.
 *
 * Prints the config as the applets see it (defaults filled in, url
 * derived, categories without their prefix), or one global value, so
 * shell scripts such as ws-peerd ask it rather than parse the file.
 * Passwords are never printed; -p checks that each password file can be
 * read and is private.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "wikisync.h"

static const char usage[] =
    "[-pqv] [-c file] [-d dir] [key]";

static void
print_all(const struct conf *c, const char *spool)
{
	const struct wiki *w;
	const struct group *g;
	size_t i;

	printf("# %s\n", c->path ? c->path : "built-in defaults");
	printf("spool = %s\n", spool);
	if (c->report)
		printf("report = %s\n", c->report);
	if (c->reportsmtp)
		printf("report-smtp = %s\n", c->reportsmtp);
	if (c->peerd)
		printf("peerd = %s\n", c->peerd);
	printf("syslog = %s\n", c->syslog ? c->syslog : "none");
	printf("hold-after = %d\n", c->holdafter);
	printf("login-check = %d\n", c->logincheck);
	printf("workers = %d\n", c->workers);
	printf("job-deadline = %d\n", c->deadline);
	printf("queue-max = %d\n", c->queuemax);
	printf("deletions-per-hour = %d\n", c->delmax);
	if (c->groupswiki)
		printf("groups-page = %s:%s\n", c->groupswiki, c->groupspage);
	if (c->statuswiki)
		printf("status-page = %s:%s\n", c->statuswiki, c->statuspage);
	printf("status-titles = %s\n", c->statustitles ? "yes" : "no");
	printf("groups-trust = ");
	for (i = 0; i < c->ntrust; i++)
		printf("%s%s", i ? ", " : "", c->trust[i]);
	printf("\n");
	for (i = 0; i < c->nwikis; i++) {
		w = &c->wikis[i];
		printf("\n[wiki %s]\napi = %s\nurl = %s\nuser = %s\n"
		    "password-file = %s\n", w->name, w->api, w->url, w->user,
		    w->passfile);
		if (w->cafile)
			printf("ca-file = %s\n", w->cafile);
		printf("timeout = %ld\n", w->timeout);
		if (w->insecure)
			printf("insecure-http = yes\n");
	}
	for (i = 0; i < c->ngroups; i++) {
		g = &c->groups[i];
		if (g->onpage)
			printf("\n# from %s:%s\n", c->groupswiki,
			    c->groupspage);
		else
			printf("\n");
		conf_print_group(stdout, g);
	}
}

int
conf_main(int argc, char *argv[])
{
	const struct conf *c;
	char pw[512], err[512];
	const char *key;
	int ch, pflag = 0, bad = 0;
	size_t i;

	while ((ch = getopt(argc, argv, "+" WS_OPTS "p")) != -1) {
		if (ch == 'p')
			pflag = 1;
		else
			ws_opt(ch, optarg, usage);
	}
	argc -= optind;
	argv += optind;
	if (argc > 1)
		ws_usage(usage, EX_USAGE);
	c = ws_conf();
	/* a risk the operator took on purpose: said each time it is checked */
	for (i = 0; i < c->nwikis; i++)
		if (c->wikis[i].insecure &&
		    conf_clear(&c->wikis[i], err, sizeof(err)))
			ws_log(LOG_WARNING, "wiki %s: insecure-http: the bot "
			    "password goes to %s in clear", c->wikis[i].name,
			    err);
	if (pflag) {
		for (i = 0; i < c->nwikis; i++) {
			if (conf_password(&c->wikis[i], pw, sizeof(pw), err,
			    sizeof(err)) == -1) {
				ws_log(LOG_ERR, "wiki %s: %s",
				    c->wikis[i].name, err);
				bad = 1;
			}
		}
		explicit_bzero(pw, sizeof(pw));
		if (bad)
			return EX_CONFIG;
	}
	if (argc == 0) {
		print_all(c, ws_spool());
		return 0;
	}
	key = argv[0];
	if (strcmp(key, "spool") == 0)
		printf("%s\n", ws_spool());
	else if (strcmp(key, "report") == 0) {
		if (c->report)
			printf("%s\n", c->report);
	} else if (strcmp(key, "report-smtp") == 0) {
		if (c->reportsmtp)
			printf("%s\n", c->reportsmtp);
	} else if (strcmp(key, "peerd") == 0) {
		if (c->peerd)
			printf("%s\n", c->peerd);
	} else if (strcmp(key, "syslog") == 0)
		printf("%s\n", c->syslog ? c->syslog : "none");
	else if (strcmp(key, "hold-after") == 0)
		printf("%d\n", c->holdafter);
	else if (strcmp(key, "login-check") == 0)
		printf("%d\n", c->logincheck);
	else if (strcmp(key, "workers") == 0)
		printf("%d\n", c->workers);
	else if (strcmp(key, "groups-page") == 0) {
		if (c->groupswiki)
			printf("%s:%s\n", c->groupswiki, c->groupspage);
	} else if (strcmp(key, "status-page") == 0) {
		if (c->statuswiki)
			printf("%s:%s\n", c->statuswiki, c->statuspage);
	}
	else if (strcmp(key, "wikis") == 0) {
		for (i = 0; i < c->nwikis; i++)
			printf("%s\n", c->wikis[i].name);
	} else if (strcmp(key, "groups") == 0) {
		for (i = 0; i < c->ngroups; i++)
			printf("%s\n", c->groups[i].name);
	} else
		diex(EX_USAGE, "%s: not a key (spool, report, report-smtp, "
		    "peerd, syslog, "
		    "hold-after, login-check, workers, groups-page, "
		    "status-page, wikis, groups)", key);
	return 0;
}
