/* privs.c — see privs.h. */
#include "daemon/privs.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "daemon/log.h"

int
tk_privs_lookup(const char *name, uid_t *uid, gid_t *gid)
{
	struct passwd *pw;

	if (name == NULL) {
		*uid = geteuid();
		*gid = getegid();
		return 0;
	}
	errno = 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		tk_err("User %s not found%s%s.", name, errno ? ": " : "",
		       errno ? strerror(errno) : "");
		return -1;
	}
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

int
tk_privs_drop(const char *name)
{
	struct passwd *pw;
	uid_t uid;
	gid_t gid;

	if (name == NULL)
		return 0;
	pw = getpwnam(name);
	if (pw == NULL) {
		tk_err("User %s not found.", name);
		return -1;
	}
	uid = pw->pw_uid;
	gid = pw->pw_gid;
	if (geteuid() == uid && getuid() == uid && getegid() == gid &&
	    getgid() == gid)
		return 0; /* already that user */
	if (geteuid() != 0) {
		tk_err("User %s: torkitd must start as root to switch users "
		       "(it runs as uid %u)",
		       name, (unsigned)geteuid());
		return -1;
	}
	/* Groups first, while we still may: the user's own and no others. */
	if (initgroups(name, gid) < 0 && setgroups(1, &gid) < 0) {
		tk_err("Error setting groups to gid %u: %s", (unsigned)gid,
		       strerror(errno));
		return -1;
	}
	if (setgid(gid) < 0) {
		tk_err("Error setting gid to %u: %s", (unsigned)gid,
		       strerror(errno));
		return -1;
	}
	if (setuid(uid) < 0) {
		tk_err("Error setting uid to %u: %s", (unsigned)uid,
		       strerror(errno));
		return -1;
	}
	/* Check: every id is the user's, and there is no way back. */
	if (getuid() != uid || geteuid() != uid || getgid() != gid ||
	    getegid() != gid) {
		tk_err("Dropping privileges to %s left other ids in place",
		       name);
		return -1;
	}
	if (uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
		tk_err("Dropping privileges to %s: could become root again",
		       name);
		return -1;
	}
	tk_notice("Running as user %s (uid %u, gid %u) from now on", name,
		  (unsigned)uid, (unsigned)gid);
	return 0;
}

/* The soft limit, read again after we change it. */
static unsigned long fd_limit;
static int fd_limit_known;

unsigned long
tk_fd_limit(void)
{
	struct rlimit rl;

	if (!fd_limit_known) {
		fd_limit = getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
					   rl.rlim_cur != RLIM_INFINITY
				   ? (unsigned long)rl.rlim_cur
				   : 0;
		fd_limit_known = 1;
	}
	return fd_limit;
}

void
tk_fd_limit_want(unsigned long want)
{
	struct rlimit rl;

	fd_limit_known = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want
			      ? rl.rlim_max
			      : want;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
}

void
tk_fd_limit_raise(unsigned long need, unsigned max_clients)
{
	struct rlimit rl;

	fd_limit_known = 0;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur >= need)
		return;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		struct rlimit up = { need, need };

		/* Root may raise the hard limit too (CAP_SYS_RESOURCE). */
		if (setrlimit(RLIMIT_NOFILE, &up) == 0) {
			tk_info("Raised the descriptor limit to %lu for "
				"MaxClients %u",
				need, max_clients);
			return;
		}
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) == 0)
			tk_warn("MaxClients %u needs about %lu file "
				"descriptors, but the limit is %llu (the hard "
				"limit): raise it (ulimit -Hn, or "
				"LimitNOFILE) or lower MaxClients; new "
				"clients are refused when descriptors run "
				"short",
				max_clients, need,
				(unsigned long long)rl.rlim_max);
		return;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		tk_warn("Couldn't raise the descriptor limit to %lu for "
			"MaxClients %u: %s",
			need, max_clients, strerror(errno));
	else
		tk_info("Raised the descriptor limit to %lu for MaxClients %u",
			need, max_clients);
}
