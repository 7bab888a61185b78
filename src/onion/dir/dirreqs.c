/* dirreqs.h: the requests in flight and the schedules that launch them. */
#include "onion/dir/dirreqs.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/netdoc/netdoc.h"

/* tor: below this many missing microdescriptors, wait for more */
#define MD_MAX_TO_DELAY 16
/* tor: at least this many requests for what is missing */
#define MD_MIN_REQUESTS 3

static void say(struct tk_dirreqs *q, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
say(struct tk_dirreqs *q, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	if (!q->ev.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	q->ev.log(q->ev.arg, level, buf);
}

static int64_t
now_ms(struct tk_dirreqs *q)
{
	return q->ev.now_ms(q->ev.arg);
}

static uint64_t
rand64(struct tk_dirreqs *q)
{
	return q->ev.random(q->ev.arg);
}

static void
progress(struct tk_dirreqs *q, int pct, const char *tag, const char *summary)
{
	if (!q->ever_usable && q->ev.progress)
		q->ev.progress(q->ev.arg, pct, tag, summary);
}

/* The earlier of two times, -1 meaning none. */
static int64_t
min_t(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static const char *
doc_name(enum tk_dirdoc doc)
{
	switch (doc) {
	case TK_DIRDOC_CONSENSUS:
		return "consensus";
	case TK_DIRDOC_CERTS:
		return "authority certificates";
	case TK_DIRDOC_MDS:
		return "microdescriptors";
	}
	return "?";
}

void
tk_dirreqs_init(struct tk_dirreqs *q, const struct tk_dirreqs_config *cfg,
		const struct tk_dirreqs_events *ev, tk_dirsources *srcs)
{
	memset(q, 0, sizeof *q);
	q->cfg = *cfg;
	q->ev = *ev;
	q->srcs = srcs;
}

void
tk_dirreqs_start(struct tk_dirreqs *q)
{
	int64_t now = now_ms(q);
	int have_fb = q->cfg.n_fallbacks > 0;
	tk_dlsched_init(&q->boot_fb, q->cfg.boot_fallback_delay_ms,
			q->cfg.boot_max_delay_ms, 1, now);
	tk_dlsched_init(&q->boot_auth,
			have_fb ? q->cfg.boot_authority_delay_ms
				: q->cfg.boot_authority_only_delay_ms,
			q->cfg.boot_max_delay_ms, 1, now);
	tk_dlsched_init(&q->cons_dl, 0, 5 * q->cfg.boot_max_delay_ms, 0, now);
	q->booting = 1;
}

void
tk_dirreqs_free(struct tk_dirreqs *q)
{
	for (size_t i = 0; i < q->n; i++) {
		if (q->ev.cancel)
			q->ev.cancel(q->ev.arg, q->reqs[i].id);
		free(q->reqs[i].slots);
	}
	q->n = 0;
}

/* ---- the table ---- */

struct tk_dirreq *
tk_dirreqs_find(struct tk_dirreqs *q, uint64_t id)
{
	for (size_t i = 0; i < q->n; i++)
		if (q->reqs[i].id == id)
			return &q->reqs[i];
	return NULL;
}

size_t
tk_dirreqs_count(const struct tk_dirreqs *q, enum tk_dirdoc doc)
{
	size_t n = 0;
	for (size_t i = 0; i < q->n; i++)
		n += q->reqs[i].doc == doc;
	return n;
}

/* r leaves the table (its slots stay with whoever took them). */
static void
remove_req(struct tk_dirreqs *q, struct tk_dirreq *r)
{
	*r = q->reqs[--q->n];
}

int
tk_dirreqs_take(struct tk_dirreqs *q, uint64_t id, struct tk_dirreq *out)
{
	struct tk_dirreq *r = tk_dirreqs_find(q, id);
	if (!r)
		return -1;
	*out = *r;
	remove_req(q, r);
	return 0;
}

static void
cancel_req(struct tk_dirreqs *q, struct tk_dirreq *r)
{
	if (q->ev.cancel)
		q->ev.cancel(q->ev.arg, r->id);
	free(r->slots);
	remove_req(q, r);
}

/* Starts a request (slots owned by it on success); 0, -1 if it could not
 * start (the source is failed, slots freed), -2 if the table is full
 * (slots freed). */
static int
launch(struct tk_dirreqs *q, const struct tk_dirreqs_view *v,
       enum tk_dirdoc doc, const struct tk_dirsource *src, const char *path,
       const char *headers, uint32_t *slots, size_t n_slots,
       struct tk_dirreq **out)
{
	struct tk_dirreq *r;
	int rc;
	if (q->n == TK_DIRREQS_MAX) {
		free(slots);
		return -2;
	}
	r = &q->reqs[q->n++];
	memset(r, 0, sizeof *r);
	r->id = ++q->next_id;
	r->doc = doc;
	r->src = *src;
	r->slots = slots;
	r->n_slots = n_slots;
	r->cons = v->cons;
	r->started_ms = r->progress_ms = now_ms(q);
	q->fetches++;
	progress(q, 5, "conn", "Connecting to a relay");
	say(q, TK_LOG_INFO, "fetching %s from %s%s%s%s: %.60s%s", doc_name(doc),
	    src->nickname,
	    /* why it was chosen: a directory guard may be an authority */
	    src->is_guard	? " (directory guard)"
	    : src->is_authority ? " (authority)"
	    : src->is_fallback	? " (fallback)"
				: "",
	    src->has_ntor ? ", ntor" : "",
	    headers && *headers ? ", asking for a diff" : "", path,
	    strlen(path) > 60 ? "..." : "");
	rc = q->ev.fetch(q->ev.arg, r->id, src, path, headers ? headers : "");
	if (rc < 0) {
		say(q, TK_LOG_WARN, "cannot fetch %s from %s", doc_name(doc),
		    src->nickname);
		q->failures++;
		tk_dirsources_failed(q->srcs, src, now_ms(q));
		free(r->slots);
		remove_req(q, r);
		return -1;
	}
	if (out)
		*out = r;
	return 0;
}

/* ---- sources ---- */

/* The source's keys from the node table, when we hold its
 * microdescriptor: then its circuit is made with ntor. */
static void
fill_keys(const struct tk_dirreqs_view *v, struct tk_dirsource *s)
{
	const struct tk_router *r;
	const struct tk_microdesc *md;
	if (!v->nodes || s->has_ntor)
		return;
	r = tk_consensus_router_by_id(v->cons, s->rsa_id);
	if (!r)
		return;
	md = v->nodes->node[r - v->cons->routers].md;
	if (!md)
		return;
	s->has_ntor = 1;
	memcpy(s->ntor_key, md->ntor_key, 32);
	if (md->has_ed25519) {
		s->has_ed = 1;
		memcpy(s->ed_id, md->ed25519_id, 32);
	}
}

/* Identities with a request for doc in flight (to spread requests over
 * sources). */
static size_t
busy_sources(const struct tk_dirreqs *q, enum tk_dirdoc doc, uint8_t (*out)[20],
	     size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < q->n && n < cap; i++)
		if (q->reqs[i].doc == doc)
			memcpy(out[n++], q->reqs[i].src.rsa_id, 20);
	return n;
}

static int
avoided(const uint8_t *id, const uint8_t (*avoid)[20], size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (memcmp(avoid[i], id, 20) == 0)
			return 1;
	return 0;
}

/* Once usable: a directory guard, else a cache of the consensus; with
 * dirservers, then the fallbacks pool, then the authorities (without a
 * consensus, only those). avoid[0..n_strict) are never asked (they
 * lacked what is wanted) unless nothing else is left, the next n_soft
 * only if all others are (they are busy with the same kind of request).
 * 0 with *src, or -1 (*wake lowered). */
static int
pick_source(struct tk_dirreqs *q, const struct tk_dirreqs_view *v, int64_t now,
	    int dirservers, const uint8_t (*avoid)[20], size_t n_strict,
	    size_t n_soft, struct tk_dirsource *src, int64_t *wake)
{
	static const enum tk_dirsrc_pool pools[3] = { TK_DIRSRC_CACHES,
						      TK_DIRSRC_FALLBACKS,
						      TK_DIRSRC_AUTHORITIES };
	int64_t w;
	/* The guard is drawn among a few: a draw that gives one resting
	 * after a failure is drawn again before the caches are asked. */
	for (int draw = 0; v->usable && q->ev.dir_guard && draw < 4; draw++) {
		if (q->ev.dir_guard(q->ev.arg, v->nodes, src) != 0)
			break;
		if (tk_dirsources_ready(q->srcs, src, now) &&
		    !avoided(src->rsa_id, avoid, n_strict)) {
			src->is_guard = 1;
			fill_keys(v, src);
			return 0;
		}
	}
	for (int p = v->bootstrapping ? 1 : 0; p < 3; p++) {
		size_t tries[3] = { n_strict + n_soft, n_strict, 0 };
		for (int t = 0; t < 3; t++) {
			int rc = tk_dirsources_pick(q->srcs, pools[p], v->cons,
						    now, avoid, tries[t], src,
						    &w);
			if (rc == 0) {
				fill_keys(v, src);
				return 0;
			}
			if (rc == -1) {
				*wake = min_t(*wake, w);
				break;
			}
		}
		if (!dirservers)
			return -1;
	}
	return -1;
}

/* ---- the consensus ---- */

static void
consensus_path(const struct tk_dirreqs *q, char *out, size_t cap)
{
	/* Ask for a consensus only if our authorities signed it (the
	 * server answers 404 otherwise): dir-spec §4.3, 3-byte prefixes.
	 * Nine authorities fit easily. */
	size_t off = (size_t)snprintf(out, cap,
				      "/tor/status-vote/current/"
				      "consensus-microdesc/");
	for (size_t i = 0; i < q->cfg.n_auths && off + 8 < cap; i++) {
		char hex[41];
		tk_netdoc_hex(q->cfg.v3ids[i], 20, hex);
		off += (size_t)snprintf(out + off, cap - off, "%s%.6s",
					i ? "+" : "", hex);
	}
}

/* One bootstrap attempt from the pool; 0 launched, -1 no source ready
 * (*wake lowered), -2 no room. */
static int
boot_attempt(struct tk_dirreqs *q, const struct tk_dirreqs_view *v,
	     enum tk_dirsrc_pool pool, int sched, int64_t now, const char *path,
	     int64_t *wake)
{
	char hdrs[128];
	uint8_t busy[8][20];
	size_t nb = busy_sources(q, TK_DIRDOC_CONSENSUS, busy, 8);
	struct tk_dirsource src;
	struct tk_dirreq *r;
	int64_t w;
	int rc;

	if (tk_dirsources_pick(q->srcs, pool, NULL, now,
			       (const uint8_t(*)[20])busy, nb, &src, &w) != 0) {
		*wake = min_t(*wake, w);
		return -1;
	}
	fill_keys(v, &src);
	v->diff_header(v->arg, now, hdrs, sizeof hdrs);
	rc = launch(q, v, TK_DIRDOC_CONSENSUS, &src, path, hdrs, NULL, 0, &r);
	if (rc == -2)
		return -2;
	if (rc == 0) {
		r->boot = sched;
		r->asked_diff = hdrs[0] != '\0';
	}
	if (pool == TK_DIRSRC_FALLBACKS && !src.is_authority)
		q->tried_fb++;
	else
		q->tried_auth++;
	return 0;
}

void
tk_dirreqs_launch_consensus(struct tk_dirreqs *q,
			    const struct tk_dirreqs_view *v, int64_t now,
			    int64_t *wake)
{
	char path[512], hdrs[128];
	size_t n = tk_dirreqs_count(q, TK_DIRDOC_CONSENSUS);
	struct tk_dirsource src;
	struct tk_dirreq *r;
	int boot = v->bootstrapping;

	if (boot && !q->booting) {
		/* the consensus we had is too old now: start over */
		tk_dlsched_reset(&q->boot_fb, now);
		tk_dlsched_reset(&q->boot_auth, now);
		q->booting = 1;
	}
	q->booting = boot;
	if (v->pending)
		return; /* its certificates first */
	consensus_path(q, path, sizeof path);
	if (boot) {
		unsigned max = q->cfg.boot_max_in_progress;
		/* tor: no more attempts once one is downloading */
		for (size_t i = 0; i < q->n; i++)
			if (q->reqs[i].doc == TK_DIRDOC_CONSENSUS &&
			    q->reqs[i].bytes > 0)
				return;
		if (q->cfg.n_fallbacks) {
			while (n < max && tk_dlsched_ready(&q->boot_fb, now)) {
				int rc = boot_attempt(q, v, TK_DIRSRC_FALLBACKS,
						      1, now, path, wake);
				if (rc != 0)
					break;
				tk_dlsched_attempted(&q->boot_fb, now,
						     rand64(q));
				n++;
			}
			/* a due schedule without a ready source waits for
			 * the source (boot_attempt lowered *wake) */
			if (n < max && q->boot_fb.next_ms > now)
				*wake = min_t(*wake, q->boot_fb.next_ms);
		}
		while (n < max && tk_dlsched_ready(&q->boot_auth, now)) {
			int rc = boot_attempt(q, v, TK_DIRSRC_AUTHORITIES, 2,
					      now, path, wake);
			if (rc != 0)
				break;
			tk_dlsched_attempted(&q->boot_auth, now, rand64(q));
			n++;
		}
		if (n < max && q->boot_auth.next_ms > now)
			*wake = min_t(*wake, q->boot_auth.next_ms);
		return;
	}
	if (n > 0)
		return;
	if (now < v->refetch_at_ms) {
		*wake = min_t(*wake, v->refetch_at_ms);
		return;
	}
	if (!tk_dlsched_ready(&q->cons_dl, now)) {
		*wake = min_t(*wake, q->cons_dl.next_ms);
		return;
	}
	if (pick_source(q, v, now, 1, NULL, 0, 0, &src, wake) != 0)
		return;
	v->diff_header(v->arg, now, hdrs, sizeof hdrs);
	if (launch(q, v, TK_DIRDOC_CONSENSUS, &src, path, hdrs, NULL, 0, &r) ==
	    0)
		r->asked_diff = hdrs[0] != '\0';
}

/* ---- certificates and microdescriptors ---- */

void
tk_dirreqs_launch_certs(struct tk_dirreqs *q, const struct tk_dirreqs_view *v,
			int64_t now, int64_t *wake)
{
	char path[1024];
	struct tk_dirsource src;
	if (!v->pending || tk_dirreqs_count(q, TK_DIRDOC_CERTS) > 0)
		return;
	v->certs_path(v->arg, path, sizeof path);
	/* the source of the consensus first: its circuit is open */
	if (v->pend_src && v->pend_src->nickname[0] &&
	    tk_dirsources_ready(q->srcs, v->pend_src, now) &&
	    v->cert_tries == 0)
		src = *v->pend_src;
	else if (pick_source(q, v, now, 1, NULL, 0, 0, &src, wake) != 0)
		return;
	(void)launch(q, v, TK_DIRDOC_CERTS, &src, path, "", NULL, 0, NULL);
}

void
tk_dirreqs_launch_mds(struct tk_dirreqs *q, const struct tk_dirreqs_view *v,
		      int64_t now, int64_t *wake)
{
	size_t n_down, per;
	uint8_t avoid[48][20];

	n_down = tk_mdstore_downloadable(v->mds, v->nodes, now, wake);
	if (n_down == 0)
		return;
	if (v->usable && n_down < MD_MAX_TO_DELAY &&
	    now < q->last_md_req_ms + q->cfg.md_delay_ms) {
		*wake = min_t(*wake, q->last_md_req_ms + q->cfg.md_delay_ms);
		return;
	}
	per = (n_down + MD_MIN_REQUESTS - 1) / MD_MIN_REQUESTS;
	if (per > q->cfg.md_batch_max)
		per = q->cfg.md_batch_max;
	if (per < q->cfg.md_batch_min)
		per = n_down < q->cfg.md_batch_min ? n_down
						   : q->cfg.md_batch_min;
	while (tk_dirreqs_count(q, TK_DIRDOC_MDS) < q->cfg.md_max_parallel) {
		uint32_t *slots = malloc(per * sizeof *slots);
		struct tk_dirsource src;
		size_t k, nl, nb;
		int retry, rc;
		char *path;
		if (!slots)
			return;
		k = tk_mdstore_batch(v->mds, v->nodes, now, slots, per, &retry,
				     wake);
		if (k == 0) {
			free(slots);
			return;
		}
		/* not a cache that lacked one of them; preferably one not
		 * busy with another batch */
		nl = tk_mdstore_lacked(v->mds, slots, k, avoid, 24);
		nb = busy_sources(q, TK_DIRDOC_MDS, avoid + nl, 24);
		if (pick_source(q, v, now, 0, (const uint8_t(*)[20])avoid, nl,
				nb, &src, wake) != 0) {
			free(slots);
			return;
		}
		path = tk_mdstore_path(v->nodes, slots, k);
		if (!path) {
			free(slots);
			return;
		}
		for (size_t j = 0; j < k; j++)
			v->mds->inflight[slots[j]] = 1;
		progress(q, 45, "requesting_descriptors",
			 "Asking for relay descriptors");
		q->last_md_req_ms = now;
		{
			/* launch frees slots on failure: keep a copy to
			 * clear what was marked in flight */
			uint32_t *copy = malloc(k * sizeof *copy);
			if (copy)
				memcpy(copy, slots, k * sizeof *copy);
			rc = launch(q, v, TK_DIRDOC_MDS, &src, path, "", slots,
				    k, NULL);
			if (rc != 0 && copy)
				for (size_t j = 0; j < k; j++)
					v->mds->inflight[copy[j]] = 0;
			free(copy);
		}
		free(path);
		if (rc == -2)
			return; /* no room for requests: wait for answers */
		(void)retry;
	}
}

/* ---- failures ---- */

void
tk_dirreqs_check_stalls(struct tk_dirreqs *q, int64_t now, int64_t *wake)
{
	for (size_t i = 0; i < q->n;) {
		struct tk_dirreq *r = &q->reqs[i], copy;
		char why[160];
		if (now - r->progress_ms < q->cfg.stall_ms) {
			*wake = min_t(*wake, r->progress_ms + q->cfg.stall_ms);
			i++;
			continue;
		}
		snprintf(why, sizeof why,
			 "stalled: no data for %lld s (%zu bytes received)",
			 (long long)((now - r->progress_ms) / 1000), r->bytes);
		copy = *r;
		q->stalls++;
		if (q->ev.cancel)
			q->ev.cancel(q->ev.arg, copy.id);
		remove_req(q, r);
		tk_dirreqs_failed(q, copy.doc, &copy.src, 0, why);
		if (q->ev.stalled)
			q->ev.stalled(q->ev.arg, &copy);
		free(copy.slots);
	}
}

/* The report when bootstrap gets nowhere: once after a few failures,
 * then each time their number doubles. */
static void
report_stuck(struct tk_dirreqs *q)
{
	if (q->boot_fails < 4 || q->boot_fails < q->boot_fail_report)
		return;
	q->boot_fail_report = q->boot_fails * 2;
	if (q->ev.stuck)
		q->ev.stuck(q->ev.arg, q->boot_fails, q->tried_fb,
			    q->tried_auth, q->last_fail);
}

void
tk_dirreqs_failed(struct tk_dirreqs *q, enum tk_dirdoc doc,
		  const struct tk_dirsource *src, int http_status,
		  const char *why)
{
	int64_t now = now_ms(q);
	int loud = !q->ever_usable && q->failures < 10;

	q->failures++;
	/* loud while bootstrapping: the user waits for it */
	say(q, loud ? TK_LOG_NOTICE : TK_LOG_INFO,
	    "%s from %s failed: %s; trying elsewhere", doc_name(doc),
	    src->nickname, why);
	/* A 404 for microdescriptors: that cache lacks them (mdstore.h
	 * remembers); it is no reason to leave the cache alone. */
	if (!(doc == TK_DIRDOC_MDS && http_status == 404))
		tk_dirsources_failed(q->srcs, src, now);
	if (doc != TK_DIRDOC_CONSENSUS)
		return;
	if (!q->booting) {
		tk_dlsched_failed(&q->cons_dl, now, rand64(q));
		return;
	}
	q->boot_fails++;
	snprintf(q->last_fail, sizeof q->last_fail, "%s: %s", src->nickname,
		 why);
	/* busy: another source at once, off the schedule */
	if (http_status == 503) {
		if (q->cfg.n_fallbacks)
			q->boot_fb.next_ms = now;
		else
			q->boot_auth.next_ms = now;
	}
	report_stuck(q);
}

void
tk_dirreqs_adopted(struct tk_dirreqs *q)
{
	int64_t now = now_ms(q);
	/* Requests in flight for the old table refer to its slots. */
	for (size_t i = 0; i < q->n; i++)
		if (q->reqs[i].doc == TK_DIRDOC_MDS)
			q->reqs[i].cons = NULL;
	for (size_t i = 0; i < q->n;)
		if (q->reqs[i].doc == TK_DIRDOC_CONSENSUS)
			cancel_req(q, &q->reqs[i]);
		else
			i++;
	if (q->boot_fail_report)
		say(q, TK_LOG_NOTICE,
		    "a directory source answered after %u failed attempts",
		    q->boot_fails);
	q->boot_fails = 0;
	q->boot_fail_report = 0;
	tk_dlsched_reset(&q->boot_fb, now);
	tk_dlsched_reset(&q->boot_auth, now);
	tk_dlsched_reset(&q->cons_dl, now);
}

void
tk_dirreqs_ask_whole(struct tk_dirreqs *q)
{
	int64_t now = now_ms(q);
	tk_dlsched_reset(&q->cons_dl, now);
	q->cons_dl.next_ms = now;
}
