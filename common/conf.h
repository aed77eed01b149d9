/*
 * conf.h: the config parser's insides, shared by conf.c (the file) and
 * groups.c (the groups page), so a group means the same in both.
 */
#ifndef CONF_H
#define CONF_H

struct parser {
	const char	*path;		/* a file, or WIKI:PAGE */
	int		 line;
	char		*err;
	size_t		 errlen;
	unsigned	 seen;		/* keys seen in this section */
};

int	 conf_fail(struct parser *, int, const char *, ...)
	    __attribute__((format(printf, 3, 4)));
char	*conf_trim(char *);
int	 conf_valid_name(const char *);
int	 conf_group_key(struct parser *, struct group *, const char *,
	    const char *);
int	 conf_check_group(struct parser *, const struct conf *,
	    const struct group *);
int	 conf_check_owners(struct parser *, const struct conf *,
	    const struct group *const *, size_t);
void	 conf_group_free(struct group *);

#endif
