/*
 * opt.c: the options every applet shares and where they lead.
 *
 * -c FILE, else $WIKISYNC_CONF, else /etc/wikisync/wikisync.conf.
 * -d DIR, else $WIKISYNC_SPOOL, else the config's spool, else
 * /var/spool/wikisync.  A config named by -c or the environment must
 * exist; the default one may be absent, and then the defaults hold.
 * Config errors exit 78 (EX_CONFIG) naming file and line.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "wikisync.h"

struct wsopt wsopt;
/* the system's config file, when it is not there (the built-in defaults
   are in force): an error about the default spool names it too */
const char *conf_missing;

static struct conf *conf;

int
ws_opt(int ch, const char *arg, const char *usage)
{
	switch (ch) {
	case 'c':
		wsopt.conf = arg;
		break;
	case 'd':
		wsopt.spool = arg;
		break;
	case 'q':
		wsopt.quiet = 1;
		break;
	case 'v':
		wsopt.verbose++;
		break;
	case 'h':
		ws_usage(usage, 0);
	default:
		ws_usage(usage, EX_USAGE);
	}
	return 0;
}

/* The shared options, then the command named next, with its arguments. */
int
ws_subcmd(int argc, char **argv, const struct subcmd *cmds, size_t n,
    const char *usage)
{
	size_t i;
	int ch;

	while ((ch = getopt(argc, argv, "+" WS_OPTS)) != -1)
		ws_opt(ch, optarg, usage);
	argc -= optind;
	argv += optind;
	if (argc < 1)
		ws_usage(usage, EX_USAGE);
	for (i = 0; i < n; i++)
		if (strcmp(argv[0], cmds[i].name) == 0)
			return cmds[i].fn(argc, argv);
	ws_log(LOG_ERR, "%s: unknown command", argv[0]);
	ws_usage(usage, EX_USAGE);
}

/* Usage text, one or more lines, each a SYNOPSIS line of the man page. */
void
ws_usage(const char *text, int ex)
{
	FILE *fp = ex == 0 ? stdout : stderr;
	const char *p, *nl;
	int first = 1;

	for (p = text; *p != '\0'; p = nl + (*nl != '\0')) {
		nl = strchr(p, '\n');
		if (nl == NULL)
			nl = p + strlen(p);
		fprintf(fp, "%s %s %.*s\n", first ? "usage:" : "      ",
		    getprogname(), (int)(nl - p), p);
		first = 0;
	}
	exit(ex);
}

/*
 * The groups page's last good copy, which ws-groups keeps in the spool:
 * its groups join the file's.  A copy the config no longer accepts (a
 * wiki it names was removed, say) is left out, with a warning.
 */
static void
groups_copy(struct conf *c)
{
	char path[PATH_MAX], err[512], *text;
	size_t len;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", ws_spool(), GROUPS_COPY);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		if (errno != ENOENT)
			ws_log(LOG_WARNING, "%s: %s", path, strerror(errno));
		return;
	}
	text = read_all(fd, GROUPS_MAX, &len);
	close(fd);
	if (text == NULL) {
		ws_log(LOG_WARNING, "%s: %s", path, strerror(errno));
		return;
	}
	if (conf_groups_page(c, text, len, err, sizeof(err)) == -1)
		ws_log(LOG_WARNING, "%s (the copy in %s): its groups are left "
		    "out", err, path);
	free(text);
}

const struct conf *
ws_conf(void)
{
	const char *path = wsopt.conf;
	char errbuf[512];
	int required = 1;

	if (conf != NULL)
		return conf;
	if (path == NULL)
		path = getenv("WIKISYNC_CONF");
	if (path == NULL || *path == '\0') {
		path = DEFAULT_CONF;
		required = 0;
	}
	conf = conf_read(path, errbuf, sizeof(errbuf));
	if (conf == NULL && (required || errno != ENOENT))
		diex(EX_CONFIG, "%s", errbuf);
	if (conf == NULL) {
		conf_missing = DEFAULT_CONF;
		conf = conf_read(NULL, errbuf, sizeof(errbuf));
	}
	if (conf == NULL)
		diex(EX_CONFIG, "%s", errbuf);
	ws_syslog_open(conf->syslog);
	if (conf_unconfigured(conf))
		diex(EX_CONFIG, "%s: not configured yet: it names no wiki; "
		    "see wikisync.conf(5), and wikisync(7), SETTING UP",
		    conf->path);
	if (conf->groupswiki != NULL)
		groups_copy(conf);
	return conf;
}

const char *
ws_spool(void)
{
	const char *s;

	if (wsopt.spool != NULL)
		return wsopt.spool;
	if ((s = getenv("WIKISYNC_SPOOL")) != NULL && *s != '\0')
		return s;
	return ws_conf()->spool;
}
