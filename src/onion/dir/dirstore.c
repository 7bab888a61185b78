/* dirstore.h: the directory in the DataDirectory. */
#include "onion/dir/dirstore.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void say(struct tk_dirstore *st, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
say(struct tk_dirstore *st, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	if (!st->log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	st->log(st->log_arg, level, buf);
}

int
tk_dirstore_init(struct tk_dirstore *st, const char *dir, tk_log_fn log,
		 void *log_arg)
{
	memset(st, 0, sizeof *st);
	st->log = log;
	st->log_arg = log_arg;
	if (dir && dir[0]) {
		st->dir = strdup(dir);
		if (!st->dir)
			return -1;
	}
	return 0;
}

void
tk_dirstore_free(struct tk_dirstore *st)
{
	free(st->dir);
	free(st->cons_text);
	st->dir = st->cons_text = NULL;
}

void
tk_dirstore_prepare(struct tk_dirstore *st)
{
	char err[512];
	if (!st->dir || tk_dircache_prepare(st->dir, err, sizeof err) == 0)
		return;
	say(st, TK_LOG_WARN, "%s; running without a cache", err);
	free(st->dir);
	st->dir = NULL;
}

int
tk_dirstore_enabled(const struct tk_dirstore *st)
{
	return st->dir != NULL;
}

int
tk_dirstore_read(struct tk_dirstore *st, enum tk_dircache_file f, char **buf,
		 size_t *len)
{
	char err[512];
	int rc;
	*buf = NULL;
	if (!st->dir)
		return 0;
	rc = tk_dircache_read(st->dir, f, buf, len, err, sizeof err);
	if (rc < 0)
		say(st, TK_LOG_WARN, "%s", err);
	return rc;
}

void
tk_dirstore_hold_consensus(struct tk_dirstore *st, char *text, size_t len,
			   int in_file)
{
	free(st->cons_text);
	st->cons_text = text;
	st->cons_len = len;
	st->cons_in_file = in_file;
	if (in_file) {
		/* the file has it: no need to hold 3 MB of text */
		free(st->cons_text);
		st->cons_text = NULL;
	}
}

int
tk_dirstore_consensus_text(struct tk_dirstore *st, const char **text,
			   size_t *len, int *owned)
{
	char err[256], *buf;
	*owned = 0;
	if (st->cons_text) {
		*text = st->cons_text;
		*len = st->cons_len;
		return 0;
	}
	if (!st->cons_in_file || !st->dir ||
	    tk_dircache_read(st->dir, TK_DIRCACHE_CONSENSUS, &buf, len, err,
			     sizeof err) != 1)
		return -1;
	*text = buf;
	*owned = 1;
	return 0;
}

static int
write_file(struct tk_dirstore *st, enum tk_dircache_file f,
	   const char *const *parts, const size_t *lens, size_t n)
{
	char err[256];
	if (tk_dircache_write(st->dir, f, parts, lens, n, err, sizeof err) == 0)
		return 0;
	say(st, TK_LOG_WARN, "%s (the cache is not updated)", err);
	return -1;
}

void
tk_dirstore_save_consensus(struct tk_dirstore *st,
			   const struct tk_certstore *certs)
{
	const char *p = st->cons_text;
	size_t l = st->cons_len;
	if (!st->dir || !p)
		return;
	if (write_file(st, TK_DIRCACHE_CONSENSUS, &p, &l, 1) == 0) {
		/* the file has it now: the memory can go */
		free(st->cons_text);
		st->cons_text = NULL;
		st->cons_in_file = 1;
	}
	write_file(st, TK_DIRCACHE_CERTS, (const char *const *)certs->text,
		   certs->len, certs->n);
}

void
tk_dirstore_save_mds(struct tk_dirstore *st, struct tk_mdstore *mds,
		     const struct tk_nodes *nodes)
{
	struct tk_dircache_piece *pieces;
	uint32_t *slots;
	size_t n;
	char err[256];
	if (!st->dir)
		return;
	pieces = malloc((nodes->n ? nodes->n : 1) * sizeof *pieces);
	slots = malloc((nodes->n ? nodes->n : 1) * sizeof *slots);
	if (pieces && slots) {
		n = tk_mdstore_pieces(mds, nodes, pieces, slots);
		if (tk_dircache_write_pieces(st->dir, TK_DIRCACHE_MICRODESCS,
					     pieces, n, err, sizeof err) == 0)
			tk_mdstore_saved(mds, pieces, slots, n);
		else
			say(st, TK_LOG_WARN, "%s (the cache is not updated)",
			    err);
	}
	free(pieces);
	free(slots);
}

struct md_load {
	struct tk_mdstore *mds;
	struct tk_nodes *nodes;
	unsigned *refused, added;
};

/* A chunk of the file: offered up to the start of its last
 * microdescriptor (which may go on in the next chunk). */
static size_t
md_chunk(void *arg, const char *data, size_t len, uint64_t off, int last)
{
	struct md_load *ld = arg;
	size_t cut = len;
	if (!last) {
		/* the last line that starts a record: "onion-key" or an
		 * annotation */
		cut = 0;
		for (size_t i = len; i-- > 1;)
			if (data[i - 1] == '\n' &&
			    (data[i] == '@' ||
			     (len - i >= 9 &&
			      memcmp(data + i, "onion-key", 9) == 0))) {
				cut = i;
				break;
			}
		/* the record before the cut may have annotations right
		 * before it: they belong to the next record, fine either
		 * way (annotations are no part of a digest) */
	}
	if (cut)
		ld->added += (unsigned)tk_mdstore_offer(ld->mds, ld->nodes,
							data, cut, "the cache",
							0, ld->refused,
							(int64_t)off);
	return cut;
}

unsigned
tk_dirstore_load_mds(struct tk_dirstore *st, struct tk_mdstore *mds,
		     struct tk_nodes *nodes, unsigned *refused)
{
	struct md_load ld = { mds, nodes, refused, 0 };
	char err[256];
	int rc;
	if (!st->dir)
		return 0;
	rc = tk_dircache_read_chunks(st->dir, TK_DIRCACHE_MICRODESCS,
				     256 * 1024, md_chunk, &ld, err,
				     sizeof err);
	if (rc < 0)
		say(st, TK_LOG_WARN, "%s", err);
	if (rc > 0)
		say(st, TK_LOG_INFO, "%u microdescriptors from the cache",
		    ld.added);
	return ld.added;
}
