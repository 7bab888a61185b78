/* datadir.c — see datadir.h. */
#include "daemon/datadir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/log.h"

static int lock_fd = -1; /* held open, and locked, for the process's life */

int
tk_datadir_open(const char *path, uid_t owner, gid_t group)
{
	struct stat st;
	struct flock fl;
	int fd;

	if (mkdir(path, 0700) == 0) {
		if (owner != geteuid() && chown(path, owner, group) < 0) {
			tk_err("Couldn't give DataDirectory %s to its User: %s",
			       path, strerror(errno));
			return -1;
		}
	} else if (errno != EEXIST) {
		tk_err("Couldn't create DataDirectory %s: %s", path,
		       strerror(errno));
		return -1;
	}
	/* Opened, not stat'ed by name: what is checked is what is used. */
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		tk_err("DataDirectory %s is not a directory%s: %s", path,
		       errno == ELOOP || errno == ENOTDIR ? " (or a symlink)"
							  : "",
		       strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (st.st_uid != owner) {
		tk_err("DataDirectory %s is not owned by this user (%u) but "
		       "by %u. Perhaps you are running torkitd as the wrong "
		       "user?",
		       path, (unsigned)owner, (unsigned)st.st_uid);
		close(fd);
		return -1;
	}
	if (st.st_mode & 022) {
		/* Someone else may have put files there already: fixing the
		 * mode now would not take them out. */
		tk_err("DataDirectory %s is writable by its group or by "
		       "everyone (mode %03o); refusing it",
		       path, (unsigned)(st.st_mode & 0777));
		close(fd);
		return -1;
	}
	if (st.st_mode & 077) {
		tk_warn("Fixing permissions on DataDirectory %s", path);
		if (fchmod(fd, 0700) < 0) {
			tk_err("Couldn't fix the permissions of %s: %s", path,
			       strerror(errno));
			close(fd);
			return -1;
		}
	}
	lock_fd = openat(fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC,
			 0600);
	close(fd);
	if (lock_fd < 0) {
		tk_err("Couldn't open %s/lock: %s", path, strerror(errno));
		return -1;
	}
	if (owner != geteuid() && fchown(lock_fd, owner, group) < 0)
		tk_warn("Couldn't give %s/lock to its User: %s", path,
			strerror(errno));
	memset(&fl, 0, sizeof(fl));
	fl.l_type = F_WRLCK;
	fl.l_whence = SEEK_SET;
	if (fcntl(lock_fd, F_SETLK, &fl) < 0) {
		tk_err("It looks like another torkitd (or tor) is already "
		       "using DataDirectory %s (its lock is held). Exiting.",
		       path);
		close(lock_fd);
		lock_fd = -1;
		return -1;
	}
	return 0;
}
