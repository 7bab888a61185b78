/* atomicfile.c — see atomicfile.h. */
#include "onion/base/atomicfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int
tk_file_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;

	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = EIO;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
tmp_path(const char *path, char *tmp, size_t cap, char *err, size_t errlen)
{
	if (snprintf(tmp, cap, "%s.tmp", path) >= (int)cap) {
		snprintf(err, errlen, "cannot write %s: path too long", path);
		return -1;
	}
	return 0;
}

int
tk_file_replace_open(const char *path, char *err, size_t errlen)
{
	char tmp[4200];
	int fd;

	if (tmp_path(path, tmp, sizeof(tmp), err, errlen) < 0)
		return -1;
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		  0600);
	if (fd < 0)
		snprintf(err, errlen, "cannot create %s: %s", tmp,
			 strerror(errno));
	return fd;
}

int
tk_file_replace_finish(int fd, const char *path, int ok, char *err,
		       size_t errlen)
{
	char tmp[4200];
	int e;

	if (tmp_path(path, tmp, sizeof(tmp), err, errlen) < 0) {
		close(fd);
		return -1;
	}
	if (!ok) {
		e = errno;
		goto fail;
	}
	if (fsync(fd) != 0)
		goto fail_errno;
	if (close(fd) != 0) {
		fd = -1;
		goto fail_errno;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail_errno;
	return 0;
fail_errno:
	e = errno;
fail:
	if (fd >= 0)
		close(fd);
	unlink(tmp);
	snprintf(err, errlen, "cannot write %s: %s", path, strerror(e));
	return -1;
}

int
tk_file_replace(const char *path, const void *const *parts, const size_t *lens,
		size_t n, char *err, size_t errlen)
{
	int fd = tk_file_replace_open(path, err, errlen), ok = 1;

	if (fd < 0)
		return -1;
	for (size_t i = 0; i < n && ok; i++)
		ok = tk_file_write_all(fd, parts[i], lens[i]) == 0;
	return tk_file_replace_finish(fd, path, ok, err, errlen);
}
