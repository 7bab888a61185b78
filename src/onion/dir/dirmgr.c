/* dirmgr.h: the bootstrap state machine's frame: life cycle, the table of
 * requests in flight, answers, and the driver.
 *
 * Everything is need-driven: after any event (start, an answer, a timer)
 * step() looks at what is held and launches what is missing
 * (dirmgr_fetch.c decides what, from where and when):
 *   no reasonably live consensus, or the refetch time has come ->
 *     consensus fetches (tor's bootstrap schedules, or one retry);
 *   a fetched consensus whose signers' certificates we lack -> certs;
 *   a verified consensus with microdescriptors missing -> md batches;
 * gives up requests that stalled, and asks to be woken for the earliest
 * of: the next scheduled attempt, a stall, the end of a source's
 * backoff, a microdescriptor's retry time, the refetch time, the end of
 * the consensus's usable life. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/dir/dirmgr_int.h"
#include "onion/netdoc/protover.h"

/* ---- small helpers ---- */

int64_t
tk__now(tk_dirmgr *m)
{
	return m->env.now_ms(m->env.arg);
}

uint64_t
tk__rand(tk_dirmgr *m)
{
	return m->env.random(m->env.arg);
}

void
tk__log(tk_dirmgr *m, int level, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;
	if (!m->env.log)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	m->env.log(m->env.arg, level, buf);
}

/* The log as a tk_log_fn, for the stores. */
void
tk__log_line(void *arg, int level, const char *msg)
{
	tk_dirmgr *m = arg;
	if (m->env.log)
		m->env.log(m->env.arg, level, msg);
}

void
tk__progress(tk_dirmgr *m, int pct, const char *tag, const char *summary)
{
	if (pct <= m->progress_pct)
		return;
	m->progress_pct = pct;
	m->progress_tag = tag;
	if (m->env.progress)
		m->env.progress(m->env.arg, pct, tag, summary);
}

void
tk__changed(tk_dirmgr *m)
{
	if (m->env.changed)
		m->env.changed(m->env.arg);
}

/* The earlier of two times, -1 meaning none. */
int64_t
tk__min_t(int64_t a, int64_t b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

/* ---- requests ---- */

static struct tk__req *
req_find(tk_dirmgr *m, uint64_t id)
{
	for (size_t i = 0; i < m->n_reqs; i++)
		if (m->reqs[i].id == id)
			return &m->reqs[i];
	return NULL;
}

size_t
tk__req_count(const tk_dirmgr *m, enum tk__req_kind kind)
{
	size_t n = 0;
	for (size_t i = 0; i < m->n_reqs; i++)
		n += m->reqs[i].kind == kind;
	return n;
}

static void
req_drop(tk_dirmgr *m, struct tk__req *r)
{
	free(r->slots);
	*r = m->reqs[--m->n_reqs];
}

void
tk__req_cancel(tk_dirmgr *m, struct tk__req *r)
{
	if (m->env.cancel)
		m->env.cancel(m->env.arg, r->id);
	if (r->kind == TK__REQ_MDS && r->cons == m->cons && m->has_nodes)
		for (size_t j = 0; j < r->n_slots; j++)
			m->mds.inflight[r->slots[j]] = 0;
	req_drop(m, r);
}

const char *
tk__kind_name(enum tk__req_kind k)
{
	switch (k) {
	case TK__REQ_CONSENSUS:
		return "consensus";
	case TK__REQ_CERTS:
		return "authority certificates";
	case TK__REQ_MDS:
		return "microdescriptors";
	}
	return "?";
}

int
tk__launch(tk_dirmgr *m, enum tk__req_kind kind, const struct tk_dirsource *src,
	   const char *path, const char *headers, uint32_t *slots,
	   size_t n_slots, struct tk__req **out)
{
	struct tk__req *r;
	int rc;
	if (m->n_reqs == TK__MAX_REQS) {
		free(slots);
		return -2;
	}
	r = &m->reqs[m->n_reqs++];
	memset(r, 0, sizeof *r);
	r->id = ++m->next_id;
	r->kind = kind;
	r->src = *src;
	r->slots = slots;
	r->n_slots = n_slots;
	r->cons = m->cons;
	r->started_ms = r->progress_ms = tk__now(m);
	m->stats.fetches++;
	if (!m->ever_usable)
		tk__progress(m, 5, "conn", "Connecting to a relay");
	tk__log(m, TK_LOG_INFO, "fetching %s from %s%s%s%s: %.60s%s",
		tk__kind_name(kind), src->nickname,
		src->is_authority  ? " (authority)"
		: src->is_fallback ? " (fallback)"
		: src->is_guard	   ? " (directory guard)"
				   : "",
		src->has_ntor ? ", ntor" : "",
		headers && *headers ? ", asking for a diff" : "", path,
		strlen(path) > 60 ? "..." : "");
	rc = m->env.fetch(m->env.arg, r->id, src, path, headers ? headers : "");
	if (rc < 0) {
		tk__log(m, TK_LOG_WARN, "cannot fetch %s from %s",
			tk__kind_name(kind), src->nickname);
		m->stats.failures++;
		tk_dirsources_failed(m->srcs, src, tk__now(m));
		req_drop(m, r);
		return -1;
	}
	if (out)
		*out = r;
	return 0;
}

/* ---- answers ---- */

void
tk_dirmgr_fetched(tk_dirmgr *m, uint64_t id, int status, int http_status,
		  const uint8_t *body, size_t len, const char *errmsg)
{
	struct tk__req *rp = req_find(m, id);
	struct tk__req r;
	int ok = status == 0 && http_status == 200;

	if (!rp || m->stopped)
		return; /* cancelled, unknown, or we stopped */
	r = *rp;
	rp->slots = NULL;
	req_drop(m, rp);

	if (!ok) {
		char why[300];
		if (status < 0)
			snprintf(why, sizeof why, "%s",
				 errmsg && *errmsg ? errmsg : "failed");
		else
			snprintf(why, sizeof why, "HTTP status %d%s",
				 http_status,
				 http_status == 503 ? " (busy)" : "");
		tk__fetch_failed(m, r.kind, &r.src,
				 status < 0 ? 0 : http_status, why);
	}
	switch (r.kind) {
	case TK__REQ_CONSENSUS:
		tk__consensus_answer(m, &r, ok, body, len);
		break;
	case TK__REQ_CERTS:
		tk__certs_answer(m, &r, ok, body, len);
		break;
	case TK__REQ_MDS:
		tk__mds_answer(m, &r, ok, status < 0 ? 0 : http_status, body,
			       len);
		break;
	}
	free(r.slots);
	tk_dirmgr_tick(m);
}

void
tk_dirmgr_fetch_stage(tk_dirmgr *m, uint64_t id, enum tk_dirmgr_stage stage)
{
	struct tk__req *r = req_find(m, id);
	if (!r)
		return;
	r->progress_ms = tk__now(m);
	if (m->ever_usable)
		return;
	switch (stage) {
	case TK_DIRSTAGE_HANDSHAKE_DONE:
		tk__progress(m, 15, "handshake_done",
			     "Handshake with a relay done");
		break;
	case TK_DIRSTAGE_CIRCUIT:
		tk__progress(m, 20, "onehop_create",
			     "Establishing an encrypted directory connection");
		if (r->kind == TK__REQ_CONSENSUS)
			tk__progress(m, 25, "requesting_status",
				     "Asking for networkstatus consensus");
		break;
	}
}

void
tk_dirmgr_fetch_progress(tk_dirmgr *m, uint64_t id, size_t bytes)
{
	struct tk__req *r = req_find(m, id);
	if (!r)
		return;
	r->bytes = bytes;
	r->progress_ms = tk__now(m);
}

/* ---- the driver ---- */

static void
step(tk_dirmgr *m)
{
	int64_t now = tk__now(m), wake = -1;

	if (!m->started || m->stopped)
		return;
	tk__check_stalls(m, now, &wake);
	tk__launch_consensus(m, now, &wake);
	if (m->stopped)
		return;
	tk__launch_certs(m, now, &wake);
	/* usability first: a usable directory asks for few missing
	 * microdescriptors less eagerly */
	tk__update_usable(m, now);
	if (m->has_nodes)
		tk__launch_mds(m, now, &wake);
	if (m->has_nodes && m->live)
		wake = tk__min_t(wake, (m->cons->valid_until +
					m->cfg.reasonably_live_s) *
						       1000 +
					       1000);
	if (m->cons_dirty) {
		tk__save_consensus_and_certs(m);
		m->cons_dirty = 0;
	}
	if (m->mds_dirty && tk__req_count(m, TK__REQ_MDS) == 0)
		tk__save_mds(m);
	if (wake >= 0 && wake < now)
		wake = now;
	m->wake_at = wake;
	if (m->env.wake)
		m->env.wake(m->env.arg, wake);
}

void
tk_dirmgr_tick(tk_dirmgr *m)
{
	step(m);
}

/* ---- life cycle ---- */

void
tk_dirmgr_config_init(struct tk_dirmgr_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->enforce_distinct_subnets = 1;
	cfg->min_path_fraction = 0.6;
	cfg->md_batch_max = 500;
	cfg->md_batch_min = 32;
	cfg->md_max_parallel = 16;
	cfg->backoff_base_ms = 1000;
	cfg->backoff_max_ms = 60000;
	cfg->skew_s = 3600;
	cfg->reasonably_live_s = 24 * 3600;
	cfg->boot_fallback_delay_ms = 0;
	cfg->boot_authority_delay_ms = 6000;
	cfg->boot_authority_only_delay_ms = 0;
	cfg->boot_max_in_progress = 3;
	cfg->boot_max_delay_ms = 60000;
	cfg->stall_ms = 60000;
	cfg->md_delay_ms = 10 * 60 * 1000;
	cfg->authority_fallback_weight = 0.1;
}

static int
check_config(const struct tk_dirmgr_config *cfg,
	     const struct tk_dirmgr_env *env, char *err, size_t errlen)
{
	if (cfg->n_auths == 0) {
		snprintf(err, errlen,
			 "no directory authority: the tor engine needs the "
			 "authorities of the network to trust");
		return -1;
	}
	if (!env->now_ms || !env->random || !env->fetch) {
		snprintf(err, errlen,
			 "directory manager environment incomplete (clock, "
			 "random and fetch are required)");
		return -1;
	}
	for (size_t i = 0; i < cfg->n_auths; i++) {
		const tk_dirauth *a = &cfg->auths[i];
		if (!a->has_v3ident) {
			snprintf(err, errlen,
				 "DirAuthority %s has no v3ident=: its "
				 "consensus signatures could not be checked",
				 a->nickname[0] ? a->nickname : "(unnamed)");
			return -1;
		}
		if (a->or_addr.ss_family != AF_INET) {
			snprintf(err, errlen,
				 "DirAuthority %s has no IPv4 orport=",
				 a->nickname);
			return -1;
		}
		for (size_t j = 0; j < i; j++)
			if (memcmp(cfg->auths[j].v3ident, a->v3ident, 20) ==
			    0) {
				snprintf(err, errlen,
					 "DirAuthority %s repeats the v3ident "
					 "of %s",
					 a->nickname, cfg->auths[j].nickname);
				return -1;
			}
	}
	return 0;
}

static int
copy_config(tk_dirmgr *m, const struct tk_dirmgr_config *cfg)
{
	size_t na = cfg->n_auths, nf = cfg->n_fallbacks ? cfg->n_fallbacks : 1;
	m->cfg = *cfg;
	if (m->cfg.md_batch_max == 0)
		m->cfg.md_batch_max = 500;
	if (m->cfg.md_batch_min == 0 ||
	    m->cfg.md_batch_min > m->cfg.md_batch_max)
		m->cfg.md_batch_min = m->cfg.md_batch_max;
	if (m->cfg.md_max_parallel == 0)
		m->cfg.md_max_parallel = 1;
	if (m->cfg.md_max_parallel > TK__MAX_REQS - 8)
		m->cfg.md_max_parallel = TK__MAX_REQS - 8;
	if (m->cfg.boot_max_in_progress == 0)
		m->cfg.boot_max_in_progress = 1;
	if (m->cfg.boot_max_in_progress > 8)
		m->cfg.boot_max_in_progress = 8;
	if (m->cfg.backoff_base_ms < 1)
		m->cfg.backoff_base_ms = 1;
	if (m->cfg.backoff_max_ms < m->cfg.backoff_base_ms)
		m->cfg.backoff_max_ms = m->cfg.backoff_base_ms;
	if (m->cfg.stall_ms < 1000)
		m->cfg.stall_ms = 1000;
	if (!m->cfg.supported_protocols)
		m->cfg.supported_protocols = TK_PROTOVER_CLIENT;
	m->auths = malloc(na * sizeof *m->auths);
	m->v3ids = malloc(na * sizeof *m->v3ids);
	m->fallbacks = malloc(nf * sizeof *m->fallbacks);
	m->fallback_names = calloc(nf, sizeof *m->fallback_names);
	if (!m->auths || !m->v3ids || !m->fallbacks || !m->fallback_names)
		return -1;
	memcpy(m->auths, cfg->auths, na * sizeof *m->auths);
	for (size_t i = 0; i < na; i++)
		memcpy(m->v3ids[i], cfg->auths[i].v3ident, 20);
	if (cfg->n_fallbacks)
		memcpy(m->fallbacks, cfg->fallbacks,
		       cfg->n_fallbacks * sizeof *m->fallbacks);
	for (size_t i = 0; cfg->fallback_names && i < cfg->n_fallbacks; i++)
		snprintf(m->fallback_names[i], sizeof m->fallback_names[i],
			 "%s",
			 cfg->fallback_names[i] ? cfg->fallback_names[i] : "");
	m->cfg.auths = m->auths;
	m->cfg.fallbacks = m->fallbacks;
	m->cfg.fallback_names = NULL;
	if (cfg->data_dir && cfg->data_dir[0]) {
		m->data_dir = strdup(cfg->data_dir);
		if (!m->data_dir)
			return -1;
	}
	m->cfg.data_dir = m->data_dir;
	return 0;
}

int
tk_dirmgr_new(const struct tk_dirmgr_config *cfg,
	      const struct tk_dirmgr_env *env, tk_dirmgr **out, char *err,
	      size_t errlen)
{
	tk_dirmgr *m;
	const char *names[1];
	*out = NULL;
	if (check_config(cfg, env, err, errlen) != 0)
		return -1;
	m = calloc(1, sizeof *m);
	if (!m || copy_config(m, cfg) != 0)
		goto nomem;
	m->env = *env;
	if (tk_certstore_init(&m->certs, (const uint8_t(*)[20])m->v3ids,
			      cfg->n_auths, tk__log_line, m) != 0)
		goto nomem;
	{
		const char **fn =
			cfg->n_fallbacks ? malloc(cfg->n_fallbacks * sizeof *fn)
					 : names;
		struct tk_dirsources_config sc = {
			.auths = m->auths,
			.n_auths = cfg->n_auths,
			.fallbacks = m->fallbacks,
			.fallback_names = fn,
			.n_fallbacks = cfg->n_fallbacks,
			.authority_weight = m->cfg.authority_fallback_weight,
			.backoff_base_ms = m->cfg.backoff_base_ms,
			.backoff_max_ms = m->cfg.backoff_max_ms,
			.random = env->random,
			.random_arg = env->arg,
		};
		if (!fn)
			goto nomem;
		for (size_t i = 0; i < cfg->n_fallbacks; i++)
			fn[i] = m->fallback_names[i];
		m->srcs = tk_dirsources_new(&sc);
		if (fn != names)
			free(fn);
		if (!m->srcs)
			goto nomem;
	}
	m->refetch_at_ms = -1;
	m->wake_at = -1;
	m->progress_pct = -1;
	m->progress_tag = "starting";
	*out = m;
	return 0;
nomem:
	tk_dirmgr_free(m);
	snprintf(err, errlen, "out of memory");
	return -1;
}

void
tk_dirmgr_start(tk_dirmgr *m)
{
	if (m->started)
		return;
	m->started = 1;
	tk__progress(m, 0, "starting", "Starting");
	tk__fetch_init(m);
	if (m->data_dir)
		tk__load_cache(m);
	step(m);
}

void
tk_dirmgr_free(tk_dirmgr *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n_reqs; i++) {
		if (m->env.cancel)
			m->env.cancel(m->env.arg, m->reqs[i].id);
		free(m->reqs[i].slots);
	}
	if (m->has_nodes) {
		tk_mdstore_free(&m->mds);
		tk_nodes_free(&m->nodes);
	}
	tk_consensus_free(m->cons);
	free(m->cons_text);
	tk_consensus_free(m->pend);
	free(m->pend_text);
	free(m->base_text);
	tk_certstore_free(&m->certs);
	tk_dirsources_free(m->srcs);
	free(m->auths);
	free(m->v3ids);
	free(m->fallbacks);
	free(m->fallback_names);
	free(m->data_dir);
	free(m->warned_recommended);
	free(m);
}

/* ---- queries ---- */

enum tk_dirmgr_phase
tk_dirmgr_phase(const tk_dirmgr *m)
{
	if (!m->started)
		return TK_DIRMGR_IDLE;
	if (m->stopped)
		return TK_DIRMGR_STOPPED;
	if (m->usable)
		return TK_DIRMGR_READY;
	if (m->pend)
		return TK_DIRMGR_NEED_CERTS;
	if (m->has_nodes && m->live)
		return TK_DIRMGR_NEED_MICRODESCS;
	return TK_DIRMGR_NEED_CONSENSUS;
}

const char *
tk_dirmgr_phase_name(enum tk_dirmgr_phase p)
{
	switch (p) {
	case TK_DIRMGR_IDLE:
		return "idle";
	case TK_DIRMGR_NEED_CONSENSUS:
		return "fetching the consensus";
	case TK_DIRMGR_NEED_CERTS:
		return "fetching authority certificates";
	case TK_DIRMGR_NEED_MICRODESCS:
		return "fetching microdescriptors";
	case TK_DIRMGR_READY:
		return "ready";
	case TK_DIRMGR_STOPPED:
		return "stopped (a required protocol is missing)";
	}
	return "?";
}

int
tk_dirmgr_usable(const tk_dirmgr *m)
{
	return m->usable && !m->stopped;
}

const struct tk_nodes *
tk_dirmgr_nodes(const tk_dirmgr *m)
{
	return m->has_nodes ? &m->nodes : NULL;
}

void
tk_dirmgr_get_stats(const tk_dirmgr *m, struct tk_dirmgr_stats *st)
{
	*st = m->stats;
	st->from_cache = m->from_cache;
	st->mds_held = m->has_nodes ? m->nodes.n_have : 0;
	st->mds_missing = m->has_nodes ? m->nodes.n - m->nodes.n_have : 0;
	st->refetch_at_ms = m->cons ? m->refetch_at_ms : -1;
}
