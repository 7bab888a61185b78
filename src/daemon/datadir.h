/* datadir.h — the DataDirectory, made safe before anything uses it. */
#ifndef TK_DAEMON_DATADIR_H
#define TK_DAEMON_DATADIR_H

#include <sys/types.h>

/* Creates `path` (mode 0700, owned by `owner`) if it is missing, and
 * checks it as Tor does: a real directory (not a symlink), owned by
 * `owner`, and writable by nobody else (refused; other read or search
 * bits are removed with a warning). Then locks it (`lock` inside, an
 * fcntl lock held while the process lives), so a second torkitd on the
 * same directory refuses to start. 0, or -1 with the reason logged.
 * Call after daemonizing: a forked child does not inherit the lock. */
int tk_datadir_open(const char *path, uid_t owner, gid_t group);

#endif
