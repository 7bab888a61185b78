/* dirmgr.h: the bootstrap state machine's frame. It owns three objects
 * and joins them; none of them knows it:
 *   dirstore.h  the DataDirectory's copy of the directory
 *   dirdocs.h   the documents held, and how one is accepted
 *   dirreqs.h   the requests in flight and the schedules launching them
 * They report upward through events, which land here and are passed on
 * (a refused document is a failed request; an adopted consensus ends the
 * other consensus requests; a stalled request frees what it asked for).
 *
 * Everything is need-driven: after any event (start, an answer, a timer)
 * step() looks at what is held and launches what is missing:
 *   no reasonably live consensus, or the refetch time has come ->
 *     consensus fetches (tor's bootstrap schedules, or one retry);
 *   a fetched consensus whose signers' certificates we lack -> certs;
 *   a verified consensus with microdescriptors missing -> md batches;
 * gives up requests that stalled, and asks to be woken for the earliest
 * of: the next scheduled attempt, a stall, the end of a source's
 * backoff, a microdescriptor's retry time, the refetch time, the end of
 * the consensus's usable life. */
#include "onion/dir/dirmgr.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/dir/dirdocs.h"
#include "onion/dir/dirreqs.h"
#include "onion/dir/dirstore.h"
#include "onion/netdoc/protover.h"

struct tk_dirmgr {
	struct tk_dirmgr_config cfg;
	struct tk_dirmgr_env env;
	tk_dirauth *auths;
	tk_dirfallback *fallbacks;
	char (*fallback_names)[20];
	uint8_t (*v3ids)[20];
	int started, stopped;
	tk_dirsources *srcs;
	struct tk_dirstore store;
	struct tk_dirdocs docs;
	struct tk_dirreqs reqs;
	unsigned fetches_before_usable;
	int progress_pct; /* last reported, -1 before 0% */
	const char *progress_tag;
	int64_t wake_at;
};

/* ---- the environment, and the objects' events ---- */

static int64_t
now_ms(void *arg)
{
	tk_dirmgr *m = arg;
	return m->env.now_ms(m->env.arg);
}

static uint64_t
random64(void *arg)
{
	tk_dirmgr *m = arg;
	return m->env.random(m->env.arg);
}

static void
log_line(void *arg, int level, const char *msg)
{
	tk_dirmgr *m = arg;
	if (m->env.log)
		m->env.log(m->env.arg, level, msg);
}

static void say(tk_dirmgr *m, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
say(tk_dirmgr *m, int level, const char *fmt, ...)
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

/* Monotonic: each percentage is reported once. */
static void
progress(void *arg, int pct, const char *tag, const char *summary)
{
	tk_dirmgr *m = arg;
	if (pct <= m->progress_pct)
		return;
	m->progress_pct = pct;
	m->progress_tag = tag;
	if (m->env.progress)
		m->env.progress(m->env.arg, pct, tag, summary);
}

static void
changed(void *arg)
{
	tk_dirmgr *m = arg;
	if (m->env.changed)
		m->env.changed(m->env.arg);
}

static int
fetch(void *arg, uint64_t id, const struct tk_dirsource *src, const char *path,
      const char *headers)
{
	tk_dirmgr *m = arg;
	return m->env.fetch(m->env.arg, id, src, path, headers);
}

static void
cancel(void *arg, uint64_t id)
{
	tk_dirmgr *m = arg;
	if (m->env.cancel)
		m->env.cancel(m->env.arg, id);
}

static int
dir_guard(void *arg, const struct tk_nodes *nodes, struct tk_dirsource *out)
{
	tk_dirmgr *m = arg;
	return m->env.dir_guard(m->env.arg, nodes, out);
}

static void
doc_failed(void *arg, enum tk_dirdoc doc, const struct tk_dirsource *src,
	   const char *why)
{
	tk_dirmgr *m = arg;
	tk_dirreqs_failed(&m->reqs, doc, src, 0, why);
}

static void
adopted(void *arg)
{
	tk_dirmgr *m = arg;
	tk_dirreqs_adopted(&m->reqs);
}

static void
ask_whole(void *arg)
{
	tk_dirmgr *m = arg;
	tk_dirreqs_ask_whole(&m->reqs);
}

static void
fatal(void *arg, const char *msg)
{
	tk_dirmgr *m = arg;
	m->stopped = 1;
	if (m->env.fatal)
		m->env.fatal(m->env.arg, msg);
}

/* A request given up for silence: what it asked for may be asked again
 * (and certificates that never came count as an answer without them). */
static void
stalled(void *arg, const struct tk_dirreq *r)
{
	tk_dirmgr *m = arg;
	if (r->doc == TK_DIRDOC_MDS)
		tk_dirdocs_take_mds(&m->docs, &r->src, r->cons, r->slots,
				    r->n_slots, 0, 0, NULL, 0);
	else if (r->doc == TK_DIRDOC_CERTS)
		tk_dirdocs_take_certs(&m->docs, &r->src, 0, NULL, 0);
}

static void
stuck(void *arg, unsigned fails, unsigned tried_fb, unsigned tried_auth,
      const char *last)
{
	tk_dirmgr *m = arg;
	char who[160];
	if (m->cfg.n_fallbacks)
		snprintf(who, sizeof who,
			 "%u made to fallback directory mirrors, %u to "
			 "directory authorities",
			 tried_fb, tried_auth);
	else
		snprintf(who, sizeof who, "all made to directory authorities");
	say(m, TK_LOG_WARN,
	    "Problem bootstrapping. Stuck at %d%% (%s): no directory "
	    "source could be reached. %u attempts failed (%s); the last: "
	    "%s. Check that this host can open TCP connections to the "
	    "Internet (relays listen on ports such as 443 and 9001), and "
	    "that no firewall blocks them. Still trying, at most %lld s "
	    "apart.",
	    m->progress_pct < 0 ? 0 : m->progress_pct, m->progress_tag, fails,
	    who, last, (long long)(m->cfg.boot_max_delay_ms / 1000));
}

static void
certs_path(void *arg, char *out, size_t cap)
{
	tk_dirmgr *m = arg;
	tk_dirdocs_certs_path(&m->docs, out, cap);
}

static void
diff_header(void *arg, int64_t now, char *out, size_t cap)
{
	tk_dirmgr *m = arg;
	tk_dirdocs_diff_header(&m->docs, now, out, cap);
}

/* ---- answers ---- */

void
tk_dirmgr_fetched(tk_dirmgr *m, uint64_t id, int status, int http_status,
		  const uint8_t *body, size_t len, const char *errmsg)
{
	struct tk_dirreq r;
	int ok = status == 0 && http_status == 200;

	if (m->stopped || tk_dirreqs_take(&m->reqs, id, &r) != 0)
		return; /* cancelled, unknown, or we stopped */
	if (!ok) {
		char why[300];
		if (status < 0)
			snprintf(why, sizeof why, "%s",
				 errmsg && *errmsg ? errmsg : "failed");
		else
			snprintf(why, sizeof why, "HTTP status %d%s",
				 http_status,
				 http_status == 503 ? " (busy)" : "");
		tk_dirreqs_failed(&m->reqs, r.doc, &r.src,
				  status < 0 ? 0 : http_status, why);
	}
	switch (r.doc) {
	case TK_DIRDOC_CONSENSUS:
		if (ok)
			tk_dirdocs_take_consensus(&m->docs, &r.src,
						  r.asked_diff, body, len);
		break;
	case TK_DIRDOC_CERTS:
		tk_dirdocs_take_certs(&m->docs, &r.src, ok, body, len);
		break;
	case TK_DIRDOC_MDS:
		tk_dirdocs_take_mds(&m->docs, &r.src, r.cons, r.slots,
				    r.n_slots, ok, status < 0 ? 0 : http_status,
				    body, len);
		break;
	}
	free(r.slots);
	tk_dirmgr_tick(m);
}

void
tk_dirmgr_fetch_stage(tk_dirmgr *m, uint64_t id, enum tk_dirmgr_stage stage)
{
	struct tk_dirreq *r = tk_dirreqs_find(&m->reqs, id);
	if (!r)
		return;
	r->progress_ms = now_ms(m);
	if (m->docs.ever_usable)
		return;
	switch (stage) {
	case TK_DIRSTAGE_HANDSHAKE_DONE:
		progress(m, 15, "handshake_done",
			 "Handshake with a relay done");
		break;
	case TK_DIRSTAGE_CIRCUIT:
		progress(m, 20, "onehop_create",
			 "Establishing an encrypted directory connection");
		if (r->doc == TK_DIRDOC_CONSENSUS)
			progress(m, 25, "requesting_status",
				 "Asking for networkstatus consensus");
		break;
	}
}

void
tk_dirmgr_fetch_progress(tk_dirmgr *m, uint64_t id, size_t bytes)
{
	struct tk_dirreq *r = tk_dirreqs_find(&m->reqs, id);
	if (!r)
		return;
	r->bytes = bytes;
	r->progress_ms = now_ms(m);
}

/* ---- the driver ---- */

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

/* What the requests need to know of what is held, now. */
static void
view(tk_dirmgr *m, int64_t now, struct tk_dirreqs_view *v)
{
	struct tk_dirdocs *d = &m->docs;
	memset(v, 0, sizeof *v);
	if (d->has_nodes) {
		v->cons = d->cons;
		v->nodes = &d->nodes;
		v->mds = &d->mds;
	}
	v->bootstrapping = tk_dirdocs_bootstrapping(d, now);
	v->usable = d->usable;
	v->refetch_at_ms = d->refetch_at_ms;
	v->pending = d->pend != NULL;
	v->pend_src = d->pend && !d->pend_from_cache ? &d->pend_src : NULL;
	v->cert_tries = d->pend_cert_tries;
	v->certs_path = certs_path;
	v->diff_header = diff_header;
	v->arg = m;
}

static void
step(tk_dirmgr *m)
{
	struct tk_dirdocs *d = &m->docs;
	struct tk_dirreqs_view v;
	int64_t now = now_ms(m), wake = -1;

	if (!m->started || m->stopped)
		return;
	/* (an answer to a stalled request may change what is held) */
	tk_dirreqs_check_stalls(&m->reqs, now, &wake);
	view(m, now, &v);
	tk_dirreqs_launch_consensus(&m->reqs, &v, now, &wake);
	if (m->stopped)
		return;
	tk_dirreqs_launch_certs(&m->reqs, &v, now, &wake);
	/* usability first: a usable directory asks for few missing
	 * microdescriptors less eagerly */
	if (tk_dirdocs_update_usable(d, now)) {
		m->fetches_before_usable = m->reqs.fetches;
		m->reqs.ever_usable = 1;
	}
	if (d->has_nodes) {
		view(m, now, &v);
		tk_dirreqs_launch_mds(&m->reqs, &v, now, &wake);
	}
	if (d->has_nodes && d->live)
		wake = min_t(wake,
			     (d->cons->valid_until + m->cfg.reasonably_live_s) *
					     1000 +
				     1000);
	if (d->cons_dirty) {
		tk_dirstore_save_consensus(&m->store, &d->certs);
		d->cons_dirty = 0;
	}
	if (d->mds_dirty && tk_dirreqs_count(&m->reqs, TK_DIRDOC_MDS) == 0 &&
	    d->has_nodes && tk_dirstore_enabled(&m->store)) {
		tk_dirstore_save_mds(&m->store, &d->mds, &d->nodes);
		/* not again at every step if it failed: at the next change */
		d->mds_dirty = 0;
	}
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
	if (m->cfg.md_max_parallel > TK_DIRREQS_MAX - 8)
		m->cfg.md_max_parallel = TK_DIRREQS_MAX - 8;
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
	m->cfg.data_dir = NULL; /* the store's */
	return 0;
}

/* The objects' views of the configuration, and their events. */
static int
init_parts(tk_dirmgr *m, const struct tk_dirmgr_config *cfg)
{
	const struct tk_dirmgr_config *c = &m->cfg;
	struct tk_dirdocs_config dc = {
		.v3ids = (const uint8_t(*)[20])m->v3ids,
		.n_auths = c->n_auths,
		.skew_s = c->skew_s,
		.reasonably_live_s = c->reasonably_live_s,
		.enforce_distinct_subnets = c->enforce_distinct_subnets,
		.min_path_fraction = c->min_path_fraction,
		.no_diffs = c->no_diffs,
		.supported_protocols = c->supported_protocols,
	};
	struct tk_dirdocs_events de = {
		.now_ms = now_ms,
		.random = random64,
		.log = log_line,
		.progress = progress,
		.failed = doc_failed,
		.adopted = adopted,
		.ask_whole = ask_whole,
		.changed = changed,
		.fatal = fatal,
		.arg = m,
	};
	struct tk_dirreqs_config qc = {
		.v3ids = (const uint8_t(*)[20])m->v3ids,
		.n_auths = c->n_auths,
		.n_fallbacks = c->n_fallbacks,
		.md_batch_max = c->md_batch_max,
		.md_batch_min = c->md_batch_min,
		.md_max_parallel = c->md_max_parallel,
		.boot_fallback_delay_ms = c->boot_fallback_delay_ms,
		.boot_authority_delay_ms = c->boot_authority_delay_ms,
		.boot_authority_only_delay_ms = c->boot_authority_only_delay_ms,
		.boot_max_delay_ms = c->boot_max_delay_ms,
		.boot_max_in_progress = c->boot_max_in_progress,
		.stall_ms = c->stall_ms,
		.md_delay_ms = c->md_delay_ms,
	};
	struct tk_dirreqs_events qe = {
		.now_ms = now_ms,
		.random = random64,
		.fetch = fetch,
		.cancel = cancel,
		.dir_guard = m->env.dir_guard ? dir_guard : NULL,
		.log = log_line,
		.progress = progress,
		.stalled = stalled,
		.stuck = stuck,
		.arg = m,
	};
	if (tk_dirstore_init(&m->store, cfg->data_dir, log_line, m) != 0)
		return -1;
	if (tk_dirdocs_init(&m->docs, &dc, &de, &m->store, m->srcs) != 0)
		return -1;
	tk_dirreqs_init(&m->reqs, &qc, &qe, m->srcs);
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
			.reach = m->cfg.reach,
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
	if (init_parts(m, cfg) != 0)
		goto nomem;
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
	progress(m, 0, "starting", "Starting");
	tk_dirreqs_start(&m->reqs);
	if (tk_dirstore_enabled(&m->store)) {
		tk_dirstore_prepare(&m->store);
		tk_dirdocs_load(&m->docs);
	}
	step(m);
}

void
tk_dirmgr_free(tk_dirmgr *m)
{
	if (!m)
		return;
	tk_dirreqs_free(&m->reqs);
	tk_dirdocs_free(&m->docs);
	tk_dirstore_free(&m->store);
	tk_dirsources_free(m->srcs);
	free(m->auths);
	free(m->v3ids);
	free(m->fallbacks);
	free(m->fallback_names);
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
	if (m->docs.usable)
		return TK_DIRMGR_READY;
	if (m->docs.pend)
		return TK_DIRMGR_NEED_CERTS;
	if (m->docs.has_nodes && m->docs.live)
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
	return m->docs.usable && !m->stopped;
}

const struct tk_nodes *
tk_dirmgr_nodes(const tk_dirmgr *m)
{
	return m->docs.has_nodes ? &m->docs.nodes : NULL;
}

void
tk_dirmgr_get_stats(const tk_dirmgr *m, struct tk_dirmgr_stats *st)
{
	const struct tk_dirdocs *d = &m->docs;
	memset(st, 0, sizeof *st);
	st->fetches = m->reqs.fetches;
	st->failures = m->reqs.failures;
	st->stalls = m->reqs.stalls;
	st->consensus_fetched = d->consensus_fetched;
	st->diffs_applied = d->diffs_applied;
	st->diffs_refused = d->diffs_refused;
	st->refused_docs = d->refused_docs;
	st->from_cache = d->from_cache;
	st->fetches_before_usable = m->fetches_before_usable;
	st->mds_held = d->has_nodes ? d->nodes.n_have : 0;
	st->mds_missing = d->has_nodes ? d->nodes.n - d->nodes.n_have : 0;
	st->mds_cached = d->mds_cached;
	st->refetch_at_ms = d->cons ? d->refetch_at_ms : -1;
	st->path_fraction = d->path_fraction;
}
