/* .auth_private files and the ClientOnionAuthDir. */
#include "onion/hs/hs_auth.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "onion/base/bytes.h"

#define KEY_B32_LEN 52 /* 32 bytes in unpadded base32 */

static int fail(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int
fail(char *err, size_t errlen, const char *fmt, ...)
{
	if (err && errlen) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return -1;
}

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

/* Splits text at ':' into exactly four fields with white space trimmed
 * from both ends of each. */
static int
split4(const char *text, size_t len, const char *f[4], size_t flen[4])
{
	size_t start = 0, n = 0;
	for (size_t i = 0; i <= len; i++) {
		if (i < len && text[i] != ':')
			continue;
		if (n == 4)
			return -1;
		size_t a = start, b = i;
		while (a < b && is_space(text[a]))
			a++;
		while (b > a && is_space(text[b - 1]))
			b--;
		f[n] = text + a;
		flen[n++] = b - a;
		start = i + 1;
	}
	return n == 4 ? 0 : -1;
}

static int
field_is(const char *f, size_t n, const char *s)
{
	return n == strlen(s) && memcmp(f, s, n) == 0;
}

int
tk_hs_auth_parse(const char *text, size_t len, struct tk_hs_client_auth *out,
		 char *err, size_t errlen)
{
	const char *f[4];
	size_t flen[4];
	uint8_t zero[32] = { 0 };
	int r;

	memset(out, 0, sizeof *out);
	if (memchr(text, '\0', len))
		return fail(err, errlen, "holds a NUL byte");
	if (split4(text, len, f, flen) < 0)
		return fail(err, errlen,
			    "is not <onion address>:descriptor:x25519:<key>");
	if (!field_is(f[1], flen[1], "descriptor"))
		return fail(err, errlen,
			    "authorization type '%.*s' is not "
			    "'descriptor'",
			    (int)(flen[1] > 32 ? 32 : flen[1]), f[1]);
	if (!field_is(f[2], flen[2], "x25519"))
		return fail(err, errlen, "key type '%.*s' is not 'x25519'",
			    (int)(flen[2] > 32 ? 32 : flen[2]), f[2]);
	if (flen[3] != KEY_B32_LEN ||
	    tk_base32_decode(f[3], flen[3], out->sk, sizeof out->sk) != 32) {
		/* A failed decode may have written part of the key. */
		tk_wipe(out, sizeof *out);
		return fail(err, errlen, "key is not 52 base32 characters");
	}
	if (tk_ct_memeq(out->sk, zero, 32)) {
		tk_wipe(out, sizeof *out);
		return fail(err, errlen, "key is all zeros");
	}
	/* Tor keeps the first 56 characters of the address field. */
	r = tk_hs_addr_decode(f[0],
			      flen[0] > TK_HS_ADDR_LEN ? TK_HS_ADDR_LEN
						       : flen[0],
			      out->id);
	if (r != TK_HS_ADDR_OK) {
		tk_wipe(out, sizeof *out);
		return fail(err, errlen, "%s", tk_hs_addr_strerror(r));
	}
	return 0;
}

void
tk_hs_auth_set_free(struct tk_hs_auth_set *s)
{
	if (s->v)
		tk_wipe(s->v, s->n * sizeof *s->v);
	free(s->v);
	memset(s, 0, sizeof *s);
}

static int
cmp_auth(const void *a, const void *b)
{
	return memcmp(((const struct tk_hs_client_auth *)a)->id,
		      ((const struct tk_hs_client_auth *)b)->id, TK_HS_ID_LEN);
}

const uint8_t *
tk_hs_auth_set_find(const struct tk_hs_auth_set *s,
		    const uint8_t id[TK_HS_ID_LEN])
{
	struct tk_hs_client_auth key;
	const struct tk_hs_client_auth *hit;
	if (s->n == 0)
		return NULL;
	memcpy(key.id, id, TK_HS_ID_LEN);
	hit = bsearch(&key, s->v, s->n, sizeof *s->v, cmp_auth);
	return hit ? hit->sk : NULL;
}

static void warnf(tk_hs_auth_warn_fn warn, void *arg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void
warnf(tk_hs_auth_warn_fn warn, void *arg, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	if (!warn)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	warn(arg, msg);
}

/* The directory must be ours; group and other permissions are taken
 * away, as Tor's check_private_dir does. */
static int
check_dir(int fd, const char *dir, tk_hs_auth_warn_fn warn, void *warn_arg,
	  char *err, size_t errlen)
{
	struct stat st;
	if (fstat(fd, &st) < 0)
		return fail(err, errlen, "%s: %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		return fail(err, errlen, "%s is not a directory", dir);
	if (st.st_uid != getuid())
		return fail(err, errlen,
			    "%s is owned by uid %ld, not by us (uid %ld)", dir,
			    (long)st.st_uid, (long)getuid());
	if (st.st_mode & 077) {
		warnf(warn, warn_arg,
		      "fixing permissions on directory %s (was %03o)", dir,
		      (unsigned)(st.st_mode & 0777));
		if (fchmod(fd, (st.st_mode | 0700) & ~(mode_t)077) < 0)
			return fail(err, errlen, "cannot chmod %s: %s", dir,
				    strerror(errno));
	}
	return 0;
}

/* Reads one key file below dirfd; 1 and *out, 0 if it was skipped. */
static int
load_file(int dirfd, const char *dir, const char *name,
	  struct tk_hs_client_auth *out, tk_hs_auth_warn_fn warn,
	  void *warn_arg)
{
	char buf[TK_HS_AUTH_FILE_MAX + 1], why[160];
	struct stat st;
	ssize_t n;
	size_t len = 0;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0) {
		warnf(warn, warn_arg, "%s/%s: cannot open: %s", dir, name,
		      strerror(errno));
		return 0;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		warnf(warn, warn_arg, "%s/%s: not a regular file", dir, name);
		close(fd);
		return 0;
	}
	while (len < sizeof buf &&
	       (n = read(fd, buf + len, sizeof buf - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		len += (size_t)n;
	}
	close(fd);
	if (len > TK_HS_AUTH_FILE_MAX) {
		warnf(warn, warn_arg, "%s/%s: larger than %d bytes, ignored",
		      dir, name, TK_HS_AUTH_FILE_MAX);
		tk_wipe(buf, sizeof buf);
		return 0;
	}
	r = tk_hs_auth_parse(buf, len, out, why, sizeof why);
	tk_wipe(buf, sizeof buf);
	if (r < 0) {
		warnf(warn, warn_arg, "%s/%s: %s; ignored", dir, name, why);
		return 0;
	}
	return 1;
}

static int has_suffix(const char *name);

/* Names, in err, two files that hold keys for the service id. The
 * files are named rather than the service: logs may not show onion
 * addresses (SafeLogging). */
static void
name_duplicates(DIR *d, const char *dir, const uint8_t id[TK_HS_ID_LEN],
		char *err, size_t errlen)
{
	char first[256] = "";
	struct dirent *de;
	rewinddir(d);
	while ((de = readdir(d)) != NULL) {
		struct tk_hs_client_auth a;
		if (!has_suffix(de->d_name) ||
		    load_file(dirfd(d), dir, de->d_name, &a, NULL, NULL) != 1)
			continue;
		if (memcmp(a.id, id, TK_HS_ID_LEN) == 0) {
			if (!first[0]) {
				snprintf(first, sizeof first, "%s", de->d_name);
			} else {
				fail(err, errlen,
				     "%s: %s and %s hold keys for the same "
				     "onion service",
				     dir, first, de->d_name);
				tk_wipe(&a, sizeof a);
				return;
			}
		}
		tk_wipe(&a, sizeof a);
	}
	fail(err, errlen, "%s: two files hold keys for the same onion service",
	     dir);
}

static int
has_suffix(const char *name)
{
	size_t n = strlen(name), k = strlen(TK_HS_AUTH_SUFFIX);
	return n > k && strcmp(name + n - k, TK_HS_AUTH_SUFFIX) == 0;
}

int
tk_hs_auth_load_dir(const char *dir, struct tk_hs_auth_set *out,
		    tk_hs_auth_warn_fn warn, void *warn_arg, char *err,
		    size_t errlen)
{
	struct tk_hs_auth_set s = { 0, NULL };
	struct dirent *de;
	DIR *d;
	int fd, r = -1;

	memset(out, 0, sizeof *out);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, "%s: %s", dir, strerror(errno));
	if (check_dir(fd, dir, warn, warn_arg, err, errlen) < 0) {
		close(fd);
		return -1;
	}
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return fail(err, errlen, "%s: %s", dir, strerror(errno));
	}
	s.v = calloc(TK_HS_AUTH_DIR_MAX, sizeof *s.v);
	if (!s.v) {
		fail(err, errlen, "out of memory");
		goto out;
	}
	while ((de = readdir(d)) != NULL) {
		if (!has_suffix(de->d_name)) {
			if (strcmp(de->d_name, ".") != 0 &&
			    strcmp(de->d_name, "..") != 0)
				warnf(warn, warn_arg,
				      "%s/%s: not a %s file, ignored", dir,
				      de->d_name, TK_HS_AUTH_SUFFIX);
			continue;
		}
		if (s.n == TK_HS_AUTH_DIR_MAX) {
			fail(err, errlen, "%s: more than %d keys", dir,
			     TK_HS_AUTH_DIR_MAX);
			goto out;
		}
		s.n += (size_t)load_file(dirfd(d), dir, de->d_name, &s.v[s.n],
					 warn, warn_arg);
	}
	qsort(s.v, s.n, sizeof *s.v, cmp_auth);
	for (size_t i = 1; i < s.n; i++) {
		if (memcmp(s.v[i - 1].id, s.v[i].id, TK_HS_ID_LEN) == 0) {
			name_duplicates(d, dir, s.v[i].id, err, errlen);
			goto out;
		}
	}
	*out = s;
	s.v = NULL;
	s.n = 0;
	r = 0;
out:
	tk_hs_auth_set_free(&s);
	closedir(d);
	return r;
}
