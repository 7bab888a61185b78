/* dirdocs.h: accepting the directory's documents. */
#include "onion/dir/dirdocs.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/netdir/path.h"
#include "onion/netdoc/consdiff.h"
#include "onion/netdoc/netdoc.h"
#include "onion/netdoc/protover.h"

static void say(struct tk_dirdocs *d, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
say(struct tk_dirdocs *d, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	if (!d->ev.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	d->ev.log(d->ev.arg, level, buf);
}

static int64_t
now_ms(struct tk_dirdocs *d)
{
	return d->ev.now_ms(d->ev.arg);
}

/* Progress is the user's while the directory was never usable. */
static void
progress(struct tk_dirdocs *d, int pct, const char *tag, const char *summary)
{
	if (!d->ever_usable && d->ev.progress)
		d->ev.progress(d->ev.arg, pct, tag, summary);
}

static void
failed(struct tk_dirdocs *d, enum tk_dirdoc doc, const struct tk_dirsource *src,
       const char *why)
{
	if (d->ev.failed)
		d->ev.failed(d->ev.arg, doc, src, why);
}

static void
changed(struct tk_dirdocs *d)
{
	if (d->ev.changed)
		d->ev.changed(d->ev.arg);
}

static void
fmt_time(int64_t t, char *buf, size_t len)
{
	tk_netdoc_time_fmt(t, buf, len);
}

int
tk_dirdocs_init(struct tk_dirdocs *d, const struct tk_dirdocs_config *cfg,
		const struct tk_dirdocs_events *ev, struct tk_dirstore *store,
		tk_dirsources *srcs)
{
	memset(d, 0, sizeof *d);
	d->cfg = *cfg;
	d->ev = *ev;
	d->store = store;
	d->srcs = srcs;
	d->refetch_at_ms = -1;
	return tk_certstore_init(&d->certs, cfg->v3ids, cfg->n_auths, ev->log,
				 ev->arg);
}

void
tk_dirdocs_free(struct tk_dirdocs *d)
{
	if (d->has_nodes) {
		tk_mdstore_free(&d->mds);
		tk_nodes_free(&d->nodes);
	}
	tk_consensus_free(d->cons);
	tk_consensus_free(d->pend);
	free(d->pend_text);
	free(d->base_text);
	tk_certstore_free(&d->certs);
	free(d->warned_recommended);
	d->cons = d->pend = NULL;
	d->pend_text = d->base_text = d->warned_recommended = NULL;
	d->has_nodes = 0;
}

int
tk_dirdocs_bootstrapping(const struct tk_dirdocs *d, int64_t now)
{
	return !d->has_nodes ||
	       now / 1000 > d->cons->valid_until + d->cfg.reasonably_live_s;
}

/* tor stops when the network requires a protocol it lacks, and warns
 * when it lacks a recommended one. 0, or -1 if we must stop. */
static int
check_protocols(struct tk_dirdocs *d, const struct tk_consensus *c)
{
	char missing[256], msg[600];
	int r;
	if (c->required_client_text) {
		r = tk_protover_all_supported(c->required_client_text,
					      d->cfg.supported_protocols,
					      missing, sizeof missing);
		if (r == 0) {
			snprintf(msg, sizeof msg,
				 "This version of torkit lacks protocols the "
				 "Tor network requires of every client: %s. "
				 "It cannot work as a client of this network; "
				 "upgrade torkit. Stopping.",
				 missing);
			say(d, TK_LOG_ERR, "%s", msg);
			d->stopped = 1;
			if (d->ev.fatal)
				d->ev.fatal(d->ev.arg, msg);
			return -1;
		}
		if (r < 0)
			say(d, TK_LOG_WARN,
			    "the consensus's required-client-protocols "
			    "line does not parse (%s); ignored",
			    missing);
	}
	if (c->recommended_client_text &&
	    (!d->warned_recommended ||
	     strcmp(d->warned_recommended, c->recommended_client_text) != 0)) {
		r = tk_protover_all_supported(c->recommended_client_text,
					      d->cfg.supported_protocols,
					      missing, sizeof missing);
		free(d->warned_recommended);
		d->warned_recommended = strdup(c->recommended_client_text);
		if (r == 0)
			say(d, TK_LOG_WARN,
			    "This version of torkit lacks protocols the "
			    "Tor network recommends for clients: %s. It "
			    "works today; a later network may require "
			    "them.",
			    missing);
	}
	return 0;
}

static int
adopt(struct tk_dirdocs *d, struct tk_consensus *c, char *text, size_t len,
      int from_cache)
{
	struct tk_nodes nn;
	struct tk_mdstore ms;
	char va[32], vu[32], at[32];

	if (tk_nodes_init(&nn, c) != 0)
		return -1;
	if (tk_mdstore_init(&ms, nn.n, tk_dirstore_enabled(d->store), d->ev.log,
			    d->ev.arg) != 0) {
		tk_nodes_free(&nn);
		return -1;
	}
	if (d->has_nodes) {
		tk_nodes_adopt(&nn, &d->nodes);
		tk_mdstore_adopt(&ms, &nn, &d->mds, d->cons);
		tk_mdstore_free(&d->mds);
		tk_nodes_free(&d->nodes);
	}
	tk_consensus_free(d->cons);
	d->cons = c;
	tk_dirstore_hold_consensus(d->store, text, len, from_cache);
	d->cons_sha3[0] = '\0';
	d->nodes = nn;
	d->mds = ms;
	d->has_nodes = 1;
	/* A held consensus is the base of the next diff. */
	free(d->base_text);
	d->base_text = NULL;
	d->from_cache = from_cache;
	if (!from_cache)
		d->consensus_fetched++;
	d->refetch_at_ms =
		tk_consensus_refetch_time(c, d->ev.random(d->ev.arg)) * 1000;
	fmt_time(c->valid_after, va, sizeof va);
	fmt_time(c->valid_until, vu, sizeof vu);
	say(d, TK_LOG_NOTICE,
	    "%s consensus of %s verified (valid until %s UTC): %zu "
	    "relays, %zu microdescriptors already held",
	    from_cache ? "cached" : "new", va, vu, c->n_routers,
	    d->nodes.n_have);
	if (tk_dirstore_enabled(d->store) && !d->md_file_loaded) {
		d->md_file_loaded = 1;
		d->mds_cached += tk_dirstore_load_mds(d->store, &d->mds,
						      &d->nodes,
						      &d->refused_docs);
	}
	fmt_time(d->refetch_at_ms / 1000, at, sizeof at);
	say(d, TK_LOG_INFO, "next consensus fetch at %s UTC", at);
	/* Written by the owner after the next requests left: fsync is
	 * slow and the network need not wait for the disk. */
	if (!from_cache)
		d->cons_dirty = 1;
#ifdef __GLIBC__
	/* The old tables and the text just parsed (megabytes) are free
	 * now, mostly inside the heap where glibc keeps them resident (the
	 * daemon sets a high trim threshold for its sessions' churn): give
	 * the pages back. Once per consensus, a fraction of a millisecond;
	 * 0.3 to 0.6 MB less resident for a 9,000-relay network
	 * (tools/bench/dir-bench). */
	malloc_trim(0);
#endif
	if (d->ev.adopted)
		d->ev.adopted(d->ev.arg);
	changed(d);
	return 0;
}

/* Decides about the pending consensus once certificates may suffice. */
static void
try_verify_pending(struct tk_dirdocs *d, int after_cert_fetch)
{
	struct tk_cert_ref refs[TK_CONS_MAX_SOURCES];
	char err[512];
	int64_t now = now_ms(d) / 1000;
	size_t missing = tk_consensus_missing_certs(d->pend, d->cfg.v3ids,
						    d->cfg.n_auths,
						    d->certs.certs, d->certs.n,
						    refs, TK_CONS_MAX_SOURCES);
	if (missing > 0 && !after_cert_fetch)
		return; /* the owner fetches them first */
	progress(d, 40, "loading_keys", "Loading authority key certs");
	if (tk_consensus_verify(d->pend, d->cfg.v3ids, d->cfg.n_auths,
				d->certs.certs, d->certs.n, now, d->cfg.skew_s,
				err, sizeof err) == 0) {
		struct tk_consensus *c = d->pend;
		char *t = d->pend_text;
		size_t l = d->pend_len;
		int fc = d->pend_from_cache;
		d->pend = NULL;
		d->pend_text = NULL;
		if (check_protocols(d, c) != 0) {
			tk_consensus_free(c);
			free(t);
			return;
		}
		if (!fc)
			tk_dirsources_succeeded(d->srcs, &d->pend_src);
		else {
			/* Its file has it, and only the file will: given
			 * back before the relay tables are made, they reuse
			 * its megabytes instead of adding to them. */
			free(t);
			t = NULL;
		}
		if (adopt(d, c, t, l, fc) != 0) {
			say(d, TK_LOG_WARN,
			    "out of memory adopting a consensus");
			tk_consensus_free(c);
			free(t);
		}
		return;
	}
	if (missing > 0 && d->pend_cert_tries < 2 * d->cfg.n_auths + 2)
		return; /* more certificates may still come from elsewhere */
	d->refused_docs++;
	say(d, TK_LOG_WARN, "refused %s consensus%s%s: %s",
	    d->pend_from_cache ? "cached" : "fetched",
	    d->pend_from_cache ? "" : " from ",
	    d->pend_from_cache ? "" : d->pend_src.nickname, err);
	if (!d->pend_from_cache)
		failed(d, TK_DIRDOC_CONSENSUS, &d->pend_src,
		       "its consensus did not verify");
	tk_consensus_free(d->pend);
	free(d->pend_text);
	d->pend = NULL;
	d->pend_text = NULL;
}

/* Keeps an expired cached consensus as the base of a diff: what a cache
 * sends to a client that was away a day is a fraction of the whole. */
static void
keep_as_base(struct tk_dirdocs *d, struct tk_consensus *c, char *text,
	     size_t len)
{
	int64_t max_age = 72 * 3600; /* tor's try-diff-for-consensus-newer-than
				      */
	if (c->valid_after < now_ms(d) / 1000 - max_age || d->cons) {
		free(text);
		return;
	}
	free(d->base_text);
	d->base_text = text;
	d->base_len = len;
	d->base_signed = c->signed_len;
	d->base_va = c->valid_after;
	d->base_sha3[0] = '\0';
}

/* Takes ownership of text; src NULL: from the store. */
static void
received(struct tk_dirdocs *d, char *text, size_t len,
	 const struct tk_dirsource *src)
{
	struct tk_consensus *c;
	char err[TK_NETDOC_ERRLEN], why[TK_NETDOC_ERRLEN + 64];
	int from_cache = src == NULL;
	const char *origin = from_cache ? "the cache" : src->nickname;
	if (tk_consensus_parse(text, len, &c, err, sizeof err) != 0) {
		d->refused_docs++;
		say(d, TK_LOG_WARN, "refused consensus from %s: %s", origin,
		    err);
		if (!from_cache) {
			snprintf(why, sizeof why, "bad consensus: %s", err);
			failed(d, TK_DIRDOC_CONSENSUS, src, why);
		}
		free(text);
		return;
	}
	if (d->cons && c->valid_after <= d->cons->valid_after) {
		char va[32];
		fmt_time(c->valid_after, va, sizeof va);
		say(d, TK_LOG_INFO,
		    "consensus from %s (valid-after %s) is not newer than "
		    "ours; trying elsewhere",
		    origin, va);
		if (!from_cache)
			failed(d, TK_DIRDOC_CONSENSUS, src,
			       "its consensus is not newer than ours");
		tk_consensus_free(c);
		free(text);
		return;
	}
	if (now_ms(d) / 1000 > c->valid_until) {
		/* no certificate fetch for a dead document */
		char vu[32];
		fmt_time(c->valid_until, vu, sizeof vu);
		d->refused_docs++;
		say(d, TK_LOG_WARN,
		    "refused %s consensus%s%s: expired (valid-until %s UTC "
		    "is past)",
		    from_cache ? "cached" : "fetched",
		    from_cache ? "" : " from ", from_cache ? "" : origin, vu);
		if (!from_cache)
			failed(d, TK_DIRDOC_CONSENSUS, src,
			       "its consensus is expired");
		else
			keep_as_base(d, c, text, len), text = NULL;
		tk_consensus_free(c);
		free(text);
		return;
	}
	progress(d, 30, "loading_status", "Loading networkstatus consensus");
	if (d->pend) {
		tk_consensus_free(d->pend);
		free(d->pend_text);
	}
	d->pend = c;
	d->pend_text = text;
	d->pend_len = len;
	d->pend_from_cache = from_cache;
	d->pend_cert_tries = 0;
	if (src)
		d->pend_src = *src;
	else
		memset(&d->pend_src, 0, sizeof d->pend_src);
	/* A cached consensus is tried with the cached certificates first
	 * (enough of them may be there). */
	try_verify_pending(d, from_cache);
}

void
tk_dirdocs_load(struct tk_dirdocs *d)
{
	char *buf;
	size_t len;

	if (tk_dirstore_read(d->store, TK_DIRCACHE_CERTS, &buf, &len) > 0) {
		size_t n = tk_certstore_add(&d->certs, buf, len,
					    now_ms(d) / 1000, "the cache",
					    &d->refused_docs);
		say(d, TK_LOG_INFO, "%zu authority certificates from the cache",
		    n);
		free(buf);
	}
	if (tk_dirstore_read(d->store, TK_DIRCACHE_CONSENSUS, &buf, &len) > 0) {
		if (d->ev.progress)
			d->ev.progress(d->ev.arg, 30, "loading_status",
				       "Loading networkstatus consensus");
		/* If signers' certificates are missing, the consensus
		 * waits for them like a fetched one. */
		received(d, buf, len, NULL);
	}
}

/* The document a diff starts from: the consensus held (read back from
 * the store if need be), or the older one kept from the cache. */
static int
diff_base(struct tk_dirdocs *d, const char **text, size_t *len, size_t *sig,
	  int *owned)
{
	*owned = 0;
	if (d->cons) {
		*sig = d->cons->signed_len;
		return tk_dirstore_consensus_text(d->store, text, len, owned);
	}
	if (d->base_text) {
		*text = d->base_text;
		*len = d->base_len;
		*sig = d->base_signed;
		return 0;
	}
	return -1;
}

void
tk_dirdocs_take_consensus(struct tk_dirdocs *d, const struct tk_dirsource *src,
			  int asked_diff, const uint8_t *body, size_t len)
{
	char *t;
	if (tk_consdiff_is_diff((const char *)body, len)) {
		const char *base;
		size_t blen, bsig, olen;
		char err[256];
		int owned, rc;
		if (!asked_diff ||
		    diff_base(d, &base, &blen, &bsig, &owned) != 0) {
			failed(d, TK_DIRDOC_CONSENSUS, src,
			       "a consensus diff we did not ask for");
			return;
		}
		rc = tk_consdiff_apply(base, blen, bsig, (const char *)body,
				       len, &t, &olen, err, sizeof err);
		if (owned)
			free((char *)base);
		if (rc != 0) {
			d->diffs_refused++;
			d->diff_failed = 1;
			say(d, TK_LOG_NOTICE,
			    "refused the consensus diff from %s: %s; "
			    "asking for the whole consensus",
			    src->nickname, err);
			/* no fault of the source: the whole document is
			 * asked for at once */
			if (d->ev.ask_whole)
				d->ev.ask_whole(d->ev.arg);
			return;
		}
		d->diffs_applied++;
		say(d, TK_LOG_INFO,
		    "consensus diff from %s: %zu bytes made a %zu-byte "
		    "consensus",
		    src->nickname, len, olen);
		received(d, t, olen, src);
		return;
	}
	t = malloc(len + 1);
	if (!t)
		return;
	memcpy(t, body, len);
	t[len] = '\0';
	if (!asked_diff)
		d->diff_failed = 0;
	received(d, t, len, src);
}

void
tk_dirdocs_take_certs(struct tk_dirdocs *d, const struct tk_dirsource *src,
		      int ok, const uint8_t *body, size_t len)
{
	struct tk_cert_ref refs[TK_CONS_MAX_SOURCES];
	size_t added;
	if (!d->pend)
		return;
	d->pend_cert_tries++;
	if (ok) {
		added = tk_certstore_add(&d->certs, (const char *)body, len,
					 now_ms(d) / 1000, src->nickname,
					 &d->refused_docs);
		say(d, TK_LOG_INFO, "%zu new authority certificates from %s",
		    added, src->nickname);
		if (tk_consensus_missing_certs(d->pend, d->cfg.v3ids,
					       d->cfg.n_auths, d->certs.certs,
					       d->certs.n, refs,
					       TK_CONS_MAX_SOURCES) > 0)
			failed(d, TK_DIRDOC_CERTS, src,
			       "certificates missing from the answer");
		else
			tk_dirsources_succeeded(d->srcs, src);
	}
	try_verify_pending(d, 1);
}

void
tk_dirdocs_take_mds(struct tk_dirdocs *d, const struct tk_dirsource *src,
		    const struct tk_consensus *table, const uint32_t *slots,
		    size_t n_slots, int ok, int http_status,
		    const uint8_t *body, size_t len)
{
	int64_t now = now_ms(d);
	size_t got = 0, missing;
	int current = table != NULL && table == d->cons;
	/* The source answered (a 404 too: it lacks them); a 503 (busy) or
	 * no answer is no fault of the digests. */
	int answered = http_status != 0 && http_status != 503;

	if (current)
		for (size_t j = 0; j < n_slots; j++)
			d->mds.inflight[slots[j]] = 0;
	if (ok && d->has_nodes) {
		got = tk_mdstore_offer(&d->mds, &d->nodes, (const char *)body,
				       len, src->nickname, 1, &d->refused_docs,
				       -1);
		if (got)
			d->mds_dirty = 1;
	}
	if (!current)
		return;
	missing = tk_mdstore_answered(&d->mds, &d->nodes, slots, n_slots,
				      answered, now, d->srcs, src->rsa_id);
	if (ok) {
		tk_dirsources_succeeded(d->srcs, src);
		say(d, TK_LOG_INFO, "%zu of %zu microdescriptors from %s%s",
		    got, n_slots, src->nickname,
		    missing ? "; the rest are asked of another cache" : "");
	}
}

int
tk_dirdocs_update_usable(struct tk_dirdocs *d, int64_t now)
{
	int usable = 0, first = 0;
	double frac = 0;
	int live = d->has_nodes &&
		   now / 1000 <=
			   d->cons->valid_until + d->cfg.reasonably_live_s;
	if (live) {
		struct tk_path_weights w;
		struct tk_path_opts o;
		tk_path_weights_init(&w, d->cons);
		tk_path_opts_init(&o);
		o.enforce_distinct_subnets = d->cfg.enforce_distinct_subnets;
		frac = tk_nodes_path_fraction(&d->nodes, &w, &o);
		usable = frac >= d->cfg.min_path_fraction;
	}
	d->path_fraction = frac;
	d->live = live;
	if (d->has_nodes && d->nodes.n && d->nodes.n_have) {
		/* tor: 50% + 25% x share of descriptors held */
		int pct = 50 + (int)(24.0 * (double)d->nodes.n_have /
				     (double)d->nodes.n);
		progress(d, pct, "loading_descriptors",
			 "Loading relay descriptors");
	}
	if (usable == d->usable)
		return 0;
	d->usable = usable;
	if (usable) {
		say(d, TK_LOG_NOTICE,
		    "directory usable: %zu of %zu microdescriptors, path "
		    "fraction %.2f",
		    d->nodes.n_have, d->nodes.n, frac);
		if (!d->ever_usable) {
			first = 1;
			progress(d, 75, "enough_dirinfo",
				 "Loaded enough directory info to build "
				 "circuits");
			d->ever_usable = 1;
		}
	} else {
		say(d, TK_LOG_WARN, "directory no longer usable: %s",
		    !live ? "the consensus is too old"
			  : "too few microdescriptors");
	}
	changed(d);
	return first;
}

void
tk_dirdocs_certs_path(const struct tk_dirdocs *d, char *out, size_t cap)
{
	struct tk_cert_ref refs[TK_CONS_MAX_SOURCES];
	size_t n = tk_consensus_missing_certs(d->pend, d->cfg.v3ids,
					      d->cfg.n_auths, d->certs.certs,
					      d->certs.n, refs,
					      TK_CONS_MAX_SOURCES);
	size_t off = (size_t)snprintf(out, cap, "/tor/keys/fp/");
	int any = 0;
	if (n > TK_CONS_MAX_SOURCES)
		n = TK_CONS_MAX_SOURCES;
	for (size_t i = 0; i < n && off + 42 < cap; i++) {
		int dup = 0;
		char hex[41];
		for (size_t j = 0; j < i && !dup; j++)
			dup = memcmp(refs[j].v3ident, refs[i].v3ident, 20) == 0;
		if (dup)
			continue;
		tk_netdoc_hex(refs[i].v3ident, 20, hex);
		off += (size_t)snprintf(out + off, cap - off, "%s%s",
					any ? "+" : "", hex);
		any = 1;
	}
	if (!any)
		snprintf(out, cap, "/tor/keys/all");
}

/* X-Or-Diff-From-Consensus when we hold a consensus younger than tor's
 * try-diff-for-consensus-newer-than (72 h by default), unless the last
 * diff failed. The digest (SHA3-256 of megabytes) is computed the first
 * time it is needed, not when the consensus arrives. */
void
tk_dirdocs_diff_header(struct tk_dirdocs *d, int64_t now, char *out, size_t cap)
{
	int64_t va, max_age = 72 * 3600;
	char *hex;

	out[0] = '\0';
	if (d->cfg.no_diffs || d->diff_failed)
		return;
	if (d->cons) {
		va = d->cons->valid_after;
		max_age = 3600 * (int64_t)tk_consensus_param(
					 d->cons,
					 "try-diff-for-consensus-newer-than",
					 72, 0, 8192);
		hex = d->cons_sha3;
	} else if (d->base_text) {
		va = d->base_va;
		hex = d->base_sha3;
	} else {
		return;
	}
	if (va < now / 1000 - max_age)
		return;
	if (!hex[0]) {
		const char *text;
		size_t len;
		int owned = 0;
		if (d->cons) {
			if (tk_dirstore_consensus_text(d->store, &text, &len,
						       &owned) != 0)
				return;
			tk_consdiff_digest_hex(text, d->cons->signed_len, hex);
		} else {
			tk_consdiff_digest_hex(d->base_text, d->base_signed,
					       hex);
		}
		if (owned)
			free((char *)text);
	}
	snprintf(out, cap, "X-Or-Diff-From-Consensus: %s\r\n", hex);
}
