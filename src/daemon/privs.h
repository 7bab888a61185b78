/* privs.h — what torkitd may do: the user it runs as (User) and how many
 * descriptors it may hold (MaxClients). */
#ifndef TK_DAEMON_PRIVS_H
#define TK_DAEMON_PRIVS_H

#include <sys/types.h>

/* The user `name` (NULL: the one we run as now): 0 with uid/gid, or -1
 * with the reason logged. */
int tk_privs_lookup(const char *name, uid_t *uid, gid_t *gid);
/* Become `name` for good: its groups, its gid, its uid, each checked,
 * and checked again (a way back to root is an error). Once the ports
 * are bound, as Tor and OpenSSH do. 0, or -1 with the reason logged. */
int tk_privs_drop(const char *name);
/* Raise RLIMIT_NOFILE towards `need` descriptors (the soft limit up to
 * the hard one, the hard one too when we may), and say so when it
 * cannot be had. */
void tk_fd_limit_raise(unsigned long need, unsigned max_clients);
/* Raise the soft limit towards `want` (never past the hard one), quietly:
 * descriptors that are nice to have (splice pipes), not needed. */
void tk_fd_limit_want(unsigned long want);
/* The soft limit as last set or read (0: none), without a system call
 * per connection. */
unsigned long tk_fd_limit(void);

#endif
