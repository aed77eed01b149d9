/*
 * asuser.c: becoming another user, with its groups.  Apart from the rest
 * because <grp.h> names a struct group of its own.
 */
#include <sys/types.h>

#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>

int	 become_user(uid_t, char *, size_t);

/*
 * This process (root) becomes user uid, with its supplementary groups,
 * for good: 0, its name in name; -1 no user has uid; -2 it could not.
 */
int
become_user(uid_t uid, char *name, size_t len)
{
	struct passwd *pw;

	if ((pw = getpwuid(uid)) == NULL)
		return -1;
	snprintf(name, len, "%s", pw->pw_name);
	if (initgroups(pw->pw_name, pw->pw_gid) == -1 ||
	    setgid(pw->pw_gid) == -1 || setuid(pw->pw_uid) == -1 ||
	    setuid(0) != -1)
		return -2;
	return 0;
}
