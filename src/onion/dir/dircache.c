/* dircache.h: atomic files in the DataDirectory. */
#include "onion/dir/dircache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/util.h"
#include "onion/base/atomicfile.h"

static const char *const names[] = {
	[TK_DIRCACHE_CONSENSUS] = "cached-microdesc-consensus",
	[TK_DIRCACHE_CERTS] = "cached-certs",
	[TK_DIRCACHE_MICRODESCS] = "cached-microdescs",
};

const char *
tk_dircache_name(enum tk_dircache_file f)
{
	if ((unsigned)f >= ARRAY_SIZE(names))
		return "?";
	return names[f];
}

static int
path_of(const char *dir, enum tk_dircache_file f, const char *suffix, char *out,
	size_t cap)
{
	int n = snprintf(out, cap, "%s/%s%s", dir, tk_dircache_name(f), suffix);
	return n < 0 || (size_t)n >= cap ? -1 : 0;
}

int
tk_dircache_prepare(const char *dir, char *err, size_t errlen)
{
	struct stat st;
	if (stat(dir, &st) == 0) {
		if (S_ISDIR(st.st_mode))
			return 0;
		snprintf(err, errlen, "DataDirectory %s is not a directory",
			 dir);
		return -1;
	}
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create DataDirectory %s: %s", dir,
			 strerror(errno));
		return -1;
	}
	return 0;
}

/* Maps in the pages of a buffer about to be filled, in one call: the
 * read would otherwise take a page fault for each 4 KiB of a file of
 * megabytes, and where faults are dear (a virtual machine with shadow
 * page tables: tens of microseconds each) those are most of the time a
 * large directory takes to load. Only whole pages inside the buffer are
 * touched, so nothing becomes resident that the read would not make
 * resident. Kernels before 5.14 refuse the advice; nothing is lost. */
static void
prefault(void *buf, size_t len)
{
#if defined(MADV_POPULATE_WRITE)
	uintptr_t pg = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t lo = ((uintptr_t)buf + pg - 1) & ~(pg - 1);
	uintptr_t hi = ((uintptr_t)buf + len) & ~(pg - 1);
	if (len >= 64 * pg && hi > lo)
		(void)madvise((void *)lo, hi - lo, MADV_POPULATE_WRITE);
#else
	(void)buf;
	(void)len;
#endif
}

int
tk_dircache_read(const char *dir, enum tk_dircache_file f, char **buf,
		 size_t *len, char *err, size_t errlen)
{
	char path[4096];
	struct stat st;
	char *b;
	size_t got = 0;
	int fd;

	*buf = NULL;
	*len = 0;
	if (path_of(dir, f, "", path, sizeof path) != 0) {
		snprintf(err, errlen, "DataDirectory path too long");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot open %s: %s", path,
			 strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) ||
	    (uint64_t)st.st_size > TK_DIRCACHE_MAX_FILE) {
		snprintf(err, errlen,
			 "%s is not a regular file of at most %u "
			 "bytes; remove it",
			 path, TK_DIRCACHE_MAX_FILE);
		close(fd);
		return -1;
	}
	b = malloc((size_t)st.st_size + 1);
	if (!b) {
		snprintf(err, errlen, "out of memory reading %s", path);
		close(fd);
		return -1;
	}
	prefault(b, (size_t)st.st_size + 1);
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, b + got, (size_t)st.st_size - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot read %s: %s", path,
				 n < 0 ? strerror(errno) : "file shrank");
			free(b);
			close(fd);
			return -1;
		}
		got += (size_t)n;
	}
	close(fd);
	b[got] = '\0';
	*buf = b;
	*len = got;
	return 1;
}

int
tk_dircache_write(const char *dir, enum tk_dircache_file f,
		  const char *const *parts, const size_t *lens, size_t n,
		  char *err, size_t errlen)
{
	char path[4096];

	if (path_of(dir, f, "", path, sizeof path) != 0) {
		snprintf(err, errlen, "DataDirectory path too long");
		return -1;
	}
	/* New temporary file, never through a symlink, fsync'd, renamed. */
	return tk_file_replace(path, (const void *const *)parts, lens, n, err,
			       errlen);
}

int
tk_dircache_write_pieces(const char *dir, enum tk_dircache_file f,
			 const struct tk_dircache_piece *pieces, size_t n,
			 char *err, size_t errlen)
{
	char path[4096], *copy = NULL;
	int fd, old = -1, ok = 1, read_failed = 0;

	if (path_of(dir, f, "", path, sizeof path) != 0) {
		snprintf(err, errlen, "DataDirectory path too long");
		return -1;
	}
	for (size_t i = 0; i < n && old < 0; i++)
		if (!pieces[i].p) {
			old = open(path, O_RDONLY | O_CLOEXEC);
			if (old < 0) {
				snprintf(err, errlen, "cannot read %s: %s",
					 path, strerror(errno));
				return -1;
			}
		}
	/* New temporary file, never through a symlink, fsync'd, renamed,
	 * as tk_dircache_write's. */
	fd = tk_file_replace_open(path, err, errlen);
	if (fd < 0) {
		if (old >= 0)
			close(old);
		return -1;
	}
	for (size_t i = 0; i < n && ok; i++) {
		if (pieces[i].p) {
			ok = tk_file_write_all(fd, pieces[i].p,
					       pieces[i].len) == 0;
			continue;
		}
		/* a range of the old file, through a small buffer */
		if (!copy && !(copy = malloc(65536))) {
			errno = ENOMEM;
			ok = 0;
			break;
		}
		for (size_t done = 0; ok && done < pieces[i].len;) {
			size_t want = pieces[i].len - done;
			ssize_t r;
			if (want > 65536)
				want = 65536;
			r = pread(old, copy, want,
				  (off_t)(pieces[i].off + done));
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0) {
				if (r == 0)
					errno = EIO; /* the old file shrank */
				ok = 0;
				read_failed = 1;
				break;
			}
			ok = tk_file_write_all(fd, copy, (size_t)r) == 0;
			done += (size_t)r;
		}
	}
	int e = errno; /* why it failed, if it did */
	if (old >= 0)
		close(old);
	free(copy);
	errno = e;
	if (tk_file_replace_finish(fd, path, ok, err, errlen) == 0)
		return 0;
	if (read_failed)
		snprintf(err, errlen, "cannot read back %s: %s", path,
			 strerror(e));
	return -1;
}

int
tk_dircache_read_chunks(const char *dir, enum tk_dircache_file f, size_t chunk,
			tk_dircache_chunk_cb cb, void *arg, char *err,
			size_t errlen)
{
	char path[4096], *buf;
	size_t have = 0, cap;
	uint64_t off = 0; /* of buf[0] in the file */
	int fd, eof = 0;

	if (path_of(dir, f, "", path, sizeof path) != 0) {
		snprintf(err, errlen, "DataDirectory path too long");
		return -1;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "cannot read %s: %s", path,
			 strerror(errno));
		return -1;
	}
	cap = chunk < 4096 ? 4096 : chunk;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	while (!eof) {
		ssize_t r;
		size_t used;
		if (have == cap) {
			/* a record larger than the chunk: grow, up to the
			 * file size limit */
			char *nb;
			if (cap >= TK_DIRCACHE_MAX_FILE ||
			    !(nb = realloc(buf, cap * 2))) {
				snprintf(err, errlen,
					 "%s: a record too large to read",
					 path);
				goto fail;
			}
			buf = nb;
			cap *= 2;
		}
		r = read(fd, buf + have, cap - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			snprintf(err, errlen, "cannot read %s: %s", path,
				 strerror(errno));
			goto fail;
		}
		eof = r == 0;
		have += (size_t)r;
		if (off + have > TK_DIRCACHE_MAX_FILE) {
			snprintf(err, errlen, "%s is too large", path);
			goto fail;
		}
		if (!eof && have < cap)
			continue; /* fill the buffer first */
		used = cb(arg, buf, have, off, eof);
		if (used > have)
			used = have;
		memmove(buf, buf + used, have - used);
		have -= used;
		off += used;
	}
	free(buf);
	close(fd);
	return 1;
fail:
	free(buf);
	close(fd);
	return -1;
}

int
tk_dircache_remove(const char *dir, enum tk_dircache_file f)
{
	char path[4096];
	if (path_of(dir, f, "", path, sizeof path) != 0)
		return -1;
	if (unlink(path) != 0 && errno != ENOENT)
		return -1;
	return 0;
}
