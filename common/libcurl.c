/*
 * libcurl.c: load libcurl on first use (see libcurl.h for why).
 *
 * Every pointer is filled before libcurl_load() first returns 0; a
 * missing library or symbol is reported once, and every later call fails
 * the same way, so no half-loaded table is ever used.
 */
#include <dlfcn.h>
#include <stdio.h>

#include "libcurl.h"

#define LIBCURL_SONAME	"libcurl.so.4"

struct libcurl libcurl;

static const struct {
	const char	*name;
	size_t		 off;
} syms[] = {
	{ "curl_global_init", offsetof(struct libcurl, global_init) },
	{ "curl_easy_init", offsetof(struct libcurl, easy_init) },
	{ "curl_easy_setopt", offsetof(struct libcurl, easy_setopt) },
	{ "curl_easy_perform", offsetof(struct libcurl, easy_perform) },
	{ "curl_easy_getinfo", offsetof(struct libcurl, easy_getinfo) },
	{ "curl_easy_cleanup", offsetof(struct libcurl, easy_cleanup) },
	{ "curl_easy_strerror", offsetof(struct libcurl, easy_strerror) },
	{ "curl_easy_escape", offsetof(struct libcurl, easy_escape) },
	{ "curl_free", offsetof(struct libcurl, free) },
	{ "curl_slist_append", offsetof(struct libcurl, slist_append) },
	{ "curl_slist_free_all", offsetof(struct libcurl, slist_free_all) },
	{ "curl_version_info", offsetof(struct libcurl, version_info) },
	{ "curl_mime_init", offsetof(struct libcurl, mime_init) },
	{ "curl_mime_addpart", offsetof(struct libcurl, mime_addpart) },
	{ "curl_mime_name", offsetof(struct libcurl, mime_name) },
	{ "curl_mime_filename", offsetof(struct libcurl, mime_filename) },
	{ "curl_mime_data", offsetof(struct libcurl, mime_data) },
	{ "curl_mime_data_cb", offsetof(struct libcurl, mime_data_cb) },
	{ "curl_mime_free", offsetof(struct libcurl, mime_free) },
};

int
libcurl_load(char *err, size_t len)
{
	static int state;	/* 0 not tried, 1 loaded, -1 failed */
	static char why[256];
	struct libcurl t;
	void *h, *p;
	size_t i;

	if (state == 0) {
		state = -1;
		if ((h = dlopen(LIBCURL_SONAME, RTLD_NOW | RTLD_LOCAL)) == NULL)
			snprintf(why, sizeof(why), "%s", dlerror());
		else {
			for (i = 0; i < sizeof(syms) / sizeof(syms[0]); i++) {
				if ((p = dlsym(h, syms[i].name)) == NULL) {
					snprintf(why, sizeof(why), "%s: no %s",
					    LIBCURL_SONAME, syms[i].name);
					break;
				}
				*(void **)((char *)&t + syms[i].off) = p;
			}
			if (i == sizeof(syms) / sizeof(syms[0])) {
				libcurl = t;
				state = 1;
			}
		}
	}
	if (state == 1)
		return 0;
	snprintf(err, len, "%s", why);
	return -1;
}
