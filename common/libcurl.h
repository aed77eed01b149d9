/*
 * libcurl.h: libcurl, loaded when a wiki is first opened (libcurl.c).
 *
 * Only the applets that talk to wikis need libcurl, and loading it with
 * the dozens of libraries it pulls in costs every process several
 * milliseconds: ws-recv, run once per mail, and ws-queue, run several
 * times per job, would pay it for nothing.  So the binary does not link
 * it; mw.c includes this header instead of <curl/curl.h>, and each curl_
 * function it calls is a pointer that libcurl_load() fills in.
 */
#ifndef LIBCURL_H
#define LIBCURL_H

#define CURL_DISABLE_TYPECHECK
#include <curl/curl.h>
#include <stddef.h>

struct libcurl {
	CURLcode	(*global_init)(long);
	CURL		*(*easy_init)(void);
	CURLcode	(*easy_setopt)(CURL *, CURLoption, ...);
	CURLcode	(*easy_perform)(CURL *);
	CURLcode	(*easy_getinfo)(CURL *, CURLINFO, ...);
	void		(*easy_cleanup)(CURL *);
	const char	*(*easy_strerror)(CURLcode);
	char		*(*easy_escape)(CURL *, const char *, int);
	void		(*free)(void *);
	struct curl_slist *(*slist_append)(struct curl_slist *, const char *);
	void		(*slist_free_all)(struct curl_slist *);
	curl_version_info_data *(*version_info)(CURLversion);
	curl_mime	*(*mime_init)(CURL *);
	curl_mimepart	*(*mime_addpart)(curl_mime *);
	CURLcode	(*mime_name)(curl_mimepart *, const char *);
	CURLcode	(*mime_filename)(curl_mimepart *, const char *);
	CURLcode	(*mime_data)(curl_mimepart *, const char *, size_t);
	CURLcode	(*mime_data_cb)(curl_mimepart *, curl_off_t,
			    curl_read_callback, curl_seek_callback,
			    curl_free_callback, void *);
	void		(*mime_free)(curl_mime *);
};

extern struct libcurl libcurl;

int	libcurl_load(char *, size_t);

#undef curl_easy_setopt
#undef curl_easy_getinfo
#define curl_global_init	libcurl.global_init
#define curl_easy_init		libcurl.easy_init
#define curl_easy_setopt	libcurl.easy_setopt
#define curl_easy_perform	libcurl.easy_perform
#define curl_easy_getinfo	libcurl.easy_getinfo
#define curl_easy_cleanup	libcurl.easy_cleanup
#define curl_easy_strerror	libcurl.easy_strerror
#define curl_easy_escape	libcurl.easy_escape
#define curl_free		libcurl.free
#define curl_slist_append	libcurl.slist_append
#define curl_slist_free_all	libcurl.slist_free_all
#define curl_version_info	libcurl.version_info
#define curl_mime_init		libcurl.mime_init
#define curl_mime_addpart	libcurl.mime_addpart
#define curl_mime_name		libcurl.mime_name
#define curl_mime_filename	libcurl.mime_filename
#define curl_mime_data		libcurl.mime_data
#define curl_mime_data_cb	libcurl.mime_data_cb
#define curl_mime_free		libcurl.mime_free

#endif
