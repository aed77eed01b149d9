/*
 * recv-fuzz.c: libFuzzer harness over ws-recv's mail parser (common/mail.c).
 *
 * Each input is one whole message, read against a fixed config: the two
 * wiki URL prefixes of the captured fixtures (tests/fixtures/mail/INDEX),
 * one wiki with short URLs, and one whose host is the fixtures' From domain
 * (for the From cross-check).  What must hold for every input: no crash and
 * no sanitizer report; and a NOTICE_OK notice has a wiki in range, a title
 * that mail_title_check() accepts and that holds no NUL, CR or LF, an oldid
 * of digits, an event from the list, a msgid of printable ASCII.  Run by
 * `make fuzz`.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wikisync.h"
#include "mail.h"

static struct wiki wikis[] = {
	{ .name = "w1", .api = "http://127.0.0.1:35678/api.php",
	  .url = "http://127.0.0.1:35678/index.php" },
	{ .name = "w2", .api = "http://127.0.0.1:40858/api.php",
	  .url = "http://127.0.0.1:40858/index.php" },
	{ .name = "short", .api = "https://wiki.example.org/w/api.php",
	  .url = "https://wiki.example.org/w/index.php" },
	{ .name = "home", .api = "http://wikisync.test/api.php",
	  .url = "http://wikisync.test/" },
};

static struct conf conf = {
	.wikis = wikis,
	.nwikis = sizeof(wikis) / sizeof(wikis[0]),
};

static void
check(int ok)
{
	if (!ok)
		__builtin_trap();
}

static int
all(const char *s, const char *set)
{
	return s[strspn(s, set)] == '\0';
}

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const events[] = {
		"", "created", "changed", "moved", "deleted", "restored"
	};
	struct notice nt;
	size_t i, n;

	check(mail_notice(&conf, (const char *)data, size, &nt) == 0);
	mail_title_check((const char *)data, size);
	if (nt.status != NOTICE_OK) {
		check(nt.why[0] != '\0');
		return 0;
	}
	n = strlen(nt.title);
	check(nt.wiki < conf.nwikis);
	check(mail_title_check(nt.title, n) == NULL);
	check(strpbrk(nt.title, "\r\n") == NULL && n <= TITLE_MAX);
	check(all(nt.oldid, "0123456789"));
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (strcmp(nt.event, events[i]) == 0)
			break;
	check(i < sizeof(events) / sizeof(events[0]));
	for (i = 0; nt.msgid[i] != '\0'; i++)
		check(nt.msgid[i] > ' ' && nt.msgid[i] < 0x7f);
	return 0;
}
