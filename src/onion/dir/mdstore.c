/* mdstore.h: microdescriptors, slot by slot of the node table. */
#include "onion/dir/mdstore.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/logf.h"
#include "onion/dir/dircache.h"
#include "onion/netdoc/microdesc.h"
#include "onion/netdoc/netdoc.h"

/* A line to the store's log (logf.h). */
#define ms_log(ms, level, ...) \
	tk_logf((ms)->log, (ms)->log_arg, (level), __VA_ARGS__)

int
tk_mdstore_init(struct tk_mdstore *ms, size_t n, int keep_text, tk_log_fn log,
		void *log_arg)
{
	size_t k = n ? n : 1;
	memset(ms, 0, sizeof *ms);
	ms->n = n;
	ms->keep_text = keep_text;
	ms->log = log;
	ms->log_arg = log_arg;
	/* text, fails and retry_at wait for their first use (texts_room(),
	 * retry_room()): a directory loaded whole from the cache file needs
	 * none of them (180 KB for 9,000 relays). */
	ms->len = calloc(k, sizeof *ms->len);
	ms->file_off = calloc(k, sizeof *ms->file_off);
	ms->in_file = calloc(k, 1);
	ms->inflight = calloc(k, 1);
	if (!ms->len || !ms->file_off || !ms->in_file || !ms->inflight) {
		tk_mdstore_free(ms);
		return -1;
	}
	return 0;
}

void
tk_mdstore_free(struct tk_mdstore *ms)
{
	if (ms->text)
		for (size_t i = 0; i < ms->n; i++)
			free(ms->text[i]);
	free(ms->text);
	free(ms->len);
	free(ms->file_off);
	free(ms->in_file);
	free(ms->inflight);
	free(ms->fails);
	free(ms->retry_at);
	free(ms->lacks);
	memset(ms, 0, sizeof *ms);
}

/* The per-slot arrays allocated on first use: 0, or -1 if out of
 * memory. */
static int
texts_room(struct tk_mdstore *ms)
{
	if (!ms->text)
		ms->text = calloc(ms->n ? ms->n : 1, sizeof *ms->text);
	return ms->text ? 0 : -1;
}

static int
retry_room(struct tk_mdstore *ms)
{
	if (!ms->fails)
		ms->fails = calloc(ms->n ? ms->n : 1, sizeof *ms->fails);
	if (!ms->retry_at)
		ms->retry_at = calloc(ms->n ? ms->n : 1, sizeof *ms->retry_at);
	return ms->fails && ms->retry_at ? 0 : -1;
}

static const char *
text_of(const struct tk_mdstore *ms, size_t i)
{
	return ms->text ? ms->text[i] : NULL;
}

static int64_t
retry_at_of(const struct tk_mdstore *ms, size_t i)
{
	return ms->retry_at ? ms->retry_at[i] : 0;
}

void
tk_mdstore_adopt(struct tk_mdstore *ms, const struct tk_nodes *t,
		 struct tk_mdstore *old, const struct tk_consensus *old_cons)
{
	for (size_t i = 0; i < t->n; i++) {
		const struct tk_router *o;
		size_t oi;
		if (!t->node[i].md)
			continue;
		o = tk_consensus_router_by_md(old_cons,
					      t->node[i].rt->md_digest);
		if (!o)
			continue;
		oi = (size_t)(o - old_cons->routers);
		/* a text that finds no room stays with old and is freed with
		 * it: the microdescriptor is kept, only not written out */
		if (text_of(old, oi) && texts_room(ms) == 0) {
			ms->text[i] = old->text[oi];
			old->text[oi] = NULL;
		}
		ms->len[i] = old->len[oi];
		ms->file_off[i] = old->file_off[oi];
		ms->in_file[i] = old->in_file[oi];
	}
}

size_t
tk_mdstore_offer(struct tk_mdstore *ms, struct tk_nodes *t, const char *body,
		 size_t len, const char *origin, int from_net,
		 unsigned *refused_docs, int64_t file_off)
{
	size_t pos = 0, added = 0, refused = 0;
	struct tk_microdesc md;
	const char *text;
	size_t tlen;
	char err[TK_NETDOC_ERRLEN], b64[48];
	int rc;

	tk_microdesc_init(&md);
	while ((rc = tk_microdesc_next(body, len, &pos, &md, &text, &tlen, err,
				       sizeof err)) != 0) {
		size_t i;
		char *copy;
		uint8_t digest[32];
		/* A hostile answer may hold thousands of bad ones: the
		 * first few are named, the rest counted. */
		tk_microdesc_digest(text, tlen, digest);
		if (rc < 0) {
			if (from_net && refused++ < 3 &&
			    tk_base64_encode(digest, 32, 0, b64, sizeof b64) >
				    0)
				ms_log(ms, TK_LOG_WARN,
				       "refused "
				       "microdescriptor %s from %s: %s",
				       b64, origin, err);
			if (from_net && refused_docs)
				(*refused_docs)++;
			continue;
		}
		rc = tk_nodes_add_md_at(t, &md, digest, &i, err, sizeof err);
		if (rc < 0) {
			if (from_net && refused++ < 3)
				ms_log(ms, TK_LOG_WARN,
				       "refused "
				       "microdescriptor from %s: %s",
				       origin, err);
			if (from_net && refused_docs)
				(*refused_docs)++;
			tk_microdesc_free(&md);
			tk_microdesc_init(&md);
			continue;
		}
		if (rc == 0)
			continue;
		if (ms->text) {
			free(ms->text[i]);
			ms->text[i] = NULL;
		}
		ms->in_file[i] = 0;
		ms->len[i] = (uint32_t)tlen;
		if (file_off >= 0) {
			ms->in_file[i] = 1;
			ms->file_off[i] =
				(uint32_t)(file_off + (int64_t)(text - body));
		} else if (ms->keep_text && texts_room(ms) == 0) {
			copy = malloc(tlen ? tlen : 1);
			if (copy) {
				memcpy(copy, text, tlen);
				ms->text[i] = copy;
			}
		}
		added++;
	}
	tk_microdesc_free(&md);
	if (refused > 3)
		ms_log(ms, TK_LOG_WARN,
		       "refused %zu more microdescriptors "
		       "from %s",
		       refused - 3, origin);
	return added;
}

static int64_t
earliest(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

size_t
tk_mdstore_batch(const struct tk_mdstore *ms, const struct tk_nodes *t,
		 int64_t now, uint32_t *slots, size_t max, int *retry,
		 int64_t *wake)
{
	size_t k = 0;
	*retry = 0;
	for (size_t i = 0; i < t->n && k < max; i++) {
		int dup = 0;
		if (t->node[i].md || ms->inflight[i])
			continue;
		if (retry_at_of(ms, i) > now) {
			*wake = earliest(*wake, retry_at_of(ms, i));
			continue;
		}
		/* One slot per digest (two routers could list the same). */
		for (size_t j = 0; j < k && !dup; j++)
			dup = memcmp(t->c->routers[slots[j]].md_digest,
				     t->c->routers[i].md_digest, 32) == 0;
		if (dup)
			continue;
		*retry |= ms->fails && ms->fails[i] > 0;
		slots[k++] = (uint32_t)i;
	}
	return k;
}

size_t
tk_mdstore_pieces(const struct tk_mdstore *ms, const struct tk_nodes *t,
		  struct tk_dircache_piece *pieces, uint32_t *slots)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (!t->node[i].md || (!text_of(ms, i) && !ms->in_file[i]))
			continue;
		pieces[n].p = text_of(ms, i);
		pieces[n].off = ms->file_off[i];
		pieces[n].len = ms->len[i];
		slots[n++] = (uint32_t)i;
	}
	return n;
}

void
tk_mdstore_saved(struct tk_mdstore *ms, const struct tk_dircache_piece *pieces,
		 const uint32_t *slots, size_t n)
{
	uint64_t off = 0;
	for (size_t k = 0; k < n; k++) {
		uint32_t i = slots[k];
		if (ms->text) {
			free(ms->text[i]);
			ms->text[i] = NULL;
		}
		ms->in_file[i] = 1;
		ms->file_off[i] = (uint32_t)off;
		off += pieces[k].len;
	}
}

size_t
tk_mdstore_downloadable(const struct tk_mdstore *ms, const struct tk_nodes *t,
			int64_t now, int64_t *wake)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++) {
		if (t->node[i].md || ms->inflight[i])
			continue;
		if (retry_at_of(ms, i) > now) {
			*wake = earliest(*wake, retry_at_of(ms, i));
			continue;
		}
		n++;
	}
	return n;
}

static int
cmp_digest(const void *a, const void *b)
{
	return memcmp(a, b, 32);
}

char *
tk_mdstore_path(const struct tk_nodes *t, const uint32_t *slots, size_t k)
{
	uint8_t(*dig)[32] = malloc((k ? k : 1) * sizeof *dig);
	size_t plen = 16 + k * 44, off;
	char *path = malloc(plen);
	if (!dig || !path) {
		free(dig);
		free(path);
		return NULL;
	}
	for (size_t j = 0; j < k; j++)
		memcpy(dig[j], t->c->routers[slots[j]].md_digest, 32);
	qsort(dig, k, 32, cmp_digest);
	off = (size_t)snprintf(path, plen, "/tor/micro/d/");
	for (size_t j = 0; j < k; j++) {
		long bl;
		if (j)
			path[off++] = '-';
		bl = tk_base64_encode(dig[j], 32, 0, path + off, plen - off);
		off += bl > 0 ? (size_t)bl : 0;
	}
	path[off] = '\0';
	free(dig);
	return path;
}

static struct tk_mdstore_lack *
lack_of(struct tk_mdstore *ms, uint32_t slot, int create)
{
	for (size_t i = 0; i < ms->n_lacks; i++)
		if (ms->lacks[i].slot == slot)
			return &ms->lacks[i];
	if (!create)
		return NULL;
	if (ms->n_lacks == ms->cap_lacks) {
		size_t cap = ms->cap_lacks ? ms->cap_lacks * 2 : 16;
		void *p = realloc(ms->lacks, cap * sizeof *ms->lacks);
		if (!p)
			return NULL;
		ms->lacks = p;
		ms->cap_lacks = cap;
	}
	memset(&ms->lacks[ms->n_lacks], 0, sizeof *ms->lacks);
	ms->lacks[ms->n_lacks].slot = slot;
	return &ms->lacks[ms->n_lacks++];
}

size_t
tk_mdstore_answered(struct tk_mdstore *ms, const struct tk_nodes *t,
		    const uint32_t *slots, size_t k, int ok, int64_t now,
		    tk_dirsources *ds, const uint8_t src_id[20])
{
	size_t missing = 0;
	for (size_t j = 0; j < k; j++) {
		uint32_t i = slots[j];
		struct tk_mdstore_lack *l;
		if (t->node[i].md)
			continue;
		missing++;
		/* !ok: the transport's fault, ask again, elsewhere; so too
		 * when there is no memory to count the failure in */
		if (!ok || retry_room(ms) < 0) {
			if (ms->retry_at)
				ms->retry_at[i] = 0;
			continue;
		}
		ms->fails[i]++;
		l = lack_of(ms, i, 1);
		if (l) {
			/* keep the last two that lacked it */
			if (l->n == 2)
				memcpy(l->ids[0], l->ids[1], 20);
			memcpy(l->ids[l->n == 2 ? 1 : l->n], src_id, 20);
			if (l->n < 2)
				l->n++;
		}
		/* another cache at once, twice; then wait before anyone is
		 * asked again (it may be too new for the caches yet) */
		ms->retry_at[i] =
			ms->fails[i] <= 2
				? 0
				: now + tk_dirsources_backoff_ms(ds,
								 ms->fails[i] -
									 2);
	}
	return missing;
}

size_t
tk_mdstore_lacked(const struct tk_mdstore *ms, const uint32_t *slots, size_t k,
		  uint8_t (*out)[20], size_t cap)
{
	size_t n = 0;
	if (!ms->n_lacks)
		return 0;
	for (size_t j = 0; j < k; j++)
		for (size_t i = 0; i < ms->n_lacks; i++) {
			const struct tk_mdstore_lack *l = &ms->lacks[i];
			if (l->slot != slots[j])
				continue;
			for (uint8_t h = 0; h < l->n; h++) {
				int dup = 0;
				for (size_t x = 0; x < n && !dup; x++)
					dup = memcmp(out[x], l->ids[h], 20) ==
					      0;
				if (!dup && n < cap)
					memcpy(out[n++], l->ids[h], 20);
			}
		}
	return n;
}
