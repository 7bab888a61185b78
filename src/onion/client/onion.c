/* onion.h: the engine behind the facade. Glues the directory manager to
 * the real world (the wall clock, tk_random, a uv timer, one-hop
 * directory fetches from dirfetch.h, directory guards from the guard set)
 * and to the circuit manager, whose user is the stream layer
 * (streams.h). Without DirAuthority lines it trusts the public network's
 * authorities and asks its fallbacks (dir/builtin.h). */
#include "onion/onion.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "onion/base/crypto.h"
#include "onion/base/logf.h"
#include "onion/client/circ_pool.h"
#include "onion/client/circmgr.h"
#include "onion/client/hs_client.h"
#include "onion/client/streams.h"
#include "onion/dir/builtin.h"
#include "onion/dir/dirfetch.h"
#include "onion/dir/dirmgr.h"
#include "onion/guard/guards.h"
#include "onion/link/padding.h"
#include "onion/netdir/path.h"
#include "onion/netdoc/dirauth.h"

struct tk_onion {
	uv_loop_t *loop;
	struct tk_onion_config cfg;
	char *data_dir;
	tk_dirauth auths[TK_ONION_MAX_AUTHORITIES];
	size_t n_auths;
	tk_dirfallback *fbs; /* in use: configured or built in */
	const char **fb_names;
	size_t n_fbs;
	tk_dirmgr *dm;
	tk_dirfetch *df;
	tk_circmgr *cm;	     /* NULL: directory_only */
	tk_streams *streams; /* owned by cm */
	tk_hs_client *hs;    /* owned by streams */
	uv_timer_t wake;
	int started;
	int percent;
	const char *tag, *summary;
};

/* The facade's IP version options in the form reach.h takes. */
static struct tk_reach
reach_of(const struct tk_onion_config *cfg)
{
	struct tk_reach r;
	tk_reach_init(&r);
	r.no_ipv4 = !cfg->client_use_ipv4;
	r.use_ipv6 = cfg->client_use_ipv6 != 0;
	r.prefer_ipv6 = cfg->client_prefer_ipv6_orport == 1;
	return r;
}

void
tk_onion_config_init(struct tk_onion_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->enforce_distinct_subnets = 1;
	cfg->congestion_control = -1;
	cfg->use_default_fallbacks = 1;
	cfg->connection_padding = -1;
	cfg->client_use_ipv4 = 1;
	cfg->client_prefer_ipv6_orport = -1;
	{
		struct tk_circmgr_config cc;
		tk_circmgr_config_init(&cc);
		memcpy(cfg->long_lived_ports, cc.long_lived_ports,
		       cc.n_long_lived_ports * sizeof cc.long_lived_ports[0]);
		cfg->n_long_lived_ports = cc.n_long_lived_ports;
	}
}

int
tk_onion_config_is_public(const struct tk_onion_config *cfg)
{
	return cfg->n_authorities == 0;
}

int
tk_onion_config_add_fallback(struct tk_onion_config *cfg, const char *line,
			     char *err, size_t errlen)
{
	tk_dirfallback f;
	if (strlen(line) >= TK_ONION_FALLBACK_MAX) {
		snprintf(err, errlen,
			 "FallbackDir line too long (at most %d bytes)",
			 TK_ONION_FALLBACK_MAX - 1);
		return -1;
	}
	if (cfg->n_fallbacks == TK_ONION_MAX_FALLBACKS) {
		snprintf(err, errlen, "too many FallbackDir lines (at most %d)",
			 TK_ONION_MAX_FALLBACKS);
		return -1;
	}
	if (tk_dirfallback_parse(line, &f, err, errlen) != 0)
		return -1;
	snprintf(cfg->fallbacks[cfg->n_fallbacks++], TK_ONION_FALLBACK_MAX,
		 "%s", line);
	return 0;
}

int
tk_onion_config_add_authority(struct tk_onion_config *cfg, const char *line,
			      char *err, size_t errlen)
{
	tk_dirauth a;
	if (strlen(line) >= TK_ONION_AUTHORITY_MAX) {
		snprintf(err, errlen,
			 "DirAuthority line too long (at most %d "
			 "bytes)",
			 TK_ONION_AUTHORITY_MAX - 1);
		return -1;
	}
	if (cfg->n_authorities == TK_ONION_MAX_AUTHORITIES) {
		snprintf(err, errlen,
			 "too many DirAuthority lines (at most %d)",
			 TK_ONION_MAX_AUTHORITIES);
		return -1;
	}
	if (tk_dirauth_parse(line, &a, err, errlen) != 0)
		return -1;
	if (a.bridge) {
		snprintf(err, errlen,
			 "DirAuthority %s is a bridge authority: a client has "
			 "no use for one",
			 a.nickname[0] ? a.nickname : "line");
		return -1;
	}
	if (!a.has_v3ident) {
		snprintf(err, errlen,
			 "DirAuthority %s has no v3ident=: without "
			 "it no consensus signature can be checked",
			 a.nickname[0] ? a.nickname : "line");
		return -1;
	}
	snprintf(cfg->authorities[cfg->n_authorities++], TK_ONION_AUTHORITY_MAX,
		 "%s", line);
	return 0;
}

/* A line to the configuration's log (logf.h). */
#define onion_log(o, level, ...) \
	tk_logf((o)->cfg.log, (o)->cfg.log_arg, (level), __VA_ARGS__)

static void
report(tk_onion *o, int pct, const char *tag, const char *summary)
{
	if (pct <= o->percent)
		return;
	o->percent = pct;
	o->tag = tag;
	o->summary = summary;
	onion_log(o, TK_LOG_NOTICE, "Bootstrapped %d%% (%s): %s", pct, tag,
		  summary);
	if (o->cm)
		tk_circmgr_dir_changed(o->cm);
	if (o->cfg.progress)
		o->cfg.progress(o->cfg.progress_arg, pct, tag, summary);
}

/* ---- the directory manager's environment ---- */

static int64_t
env_now_ms(void *arg)
{
	struct timeval tv;
	(void)arg;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static uint64_t
env_random(void *arg)
{
	uint64_t v;
	(void)arg;
	tk_random(&v, sizeof v);
	return v;
}

static int
env_fetch(void *arg, uint64_t id, const struct tk_dirsource *src,
	  const char *path, const char *headers)
{
	tk_onion *o = arg;
	return tk_dirfetch_get(o->df, id, src, path, headers);
}

/* A directory guard, as guard-spec's "directory guards" and tor's
 * guards_choose_dirguard(): one of the first usable primary guards
 * (consensus parameter guard-n-primary-dir-guards-to-use, 3 by default)
 * that is not down, at random, with a microdescriptor for its ntor key.
 * When every primary guard is down, the guard selection's own fallback
 * (confirmed, then sampled guards) applies, as for circuits. The guard set
 * gets members if it has none yet. */
static int
env_dir_guard(void *arg, const struct tk_nodes *t, struct tk_dirsource *out)
{
	tk_onion *o = arg;
	struct tk_path_opts po;
	struct tk_path_rng rng = { tk_path_rng_system, NULL };
	const struct tk_microdesc *md;
	char err[128];
	long k;

	if (!o->cm || !t)
		return -1;
	tk_path_opts_init(&po);
	po.enforce_distinct_subnets = o->cfg.enforce_distinct_subnets;
	po.reach = reach_of(&o->cfg);
	k = tk_guards_pick_dir(tk_circmgr_guards(o->cm), t, &po, &rng,
			       (int64_t)time(NULL), err, sizeof err);
	if (k < 0 || (md = t->node[k].md) == NULL)
		return -1;
	tk_dirsource_from_router(t->node[k].rt, out);
	if (out->addr6.ss_family != AF_INET6) {
		/* An IPv6 ORPort only its microdescriptor names. */
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&out->addr6;
		uint8_t a6[16] = { 0 };
		uint16_t p6;
		if (tk_reach_node_ipv6(t->node[k].rt, md, a6, &p6)) {
			sin6->sin6_family = AF_INET6;
			memcpy(&sin6->sin6_addr, a6, 16);
			sin6->sin6_port = htons(p6);
		}
	}
	tk_dirsource_choose(out, &po.reach);
	out->has_ntor = 1;
	memcpy(out->ntor_key, md->ntor_key, 32);
	if (md->has_ed25519) {
		out->has_ed = 1;
		memcpy(out->ed_id, md->ed25519_id, 32);
	}
	return 0;
}

static void
env_fatal(void *arg, const char *msg)
{
	tk_onion *o = arg;
	if (o->cfg.fatal)
		o->cfg.fatal(o->cfg.fatal_arg, msg);
}

static void
env_cancel(void *arg, uint64_t id)
{
	tk_onion *o = arg;
	tk_dirfetch_cancel(o->df, id);
}

static void
on_wake(uv_timer_t *t)
{
	tk_onion *o = t->data;
	tk_dirmgr_tick(o->dm);
}

static void
env_wake(void *arg, int64_t at_ms)
{
	tk_onion *o = arg;
	int64_t d;
	if (at_ms < 0) {
		uv_timer_stop(&o->wake);
		return;
	}
	d = at_ms - env_now_ms(NULL);
	uv_timer_start(&o->wake, on_wake, d > 0 ? (uint64_t)d : 0, 0);
}

static void
env_log(void *arg, int level, const char *msg)
{
	tk_onion *o = arg;
	if (o->cfg.log)
		o->cfg.log(o->cfg.log_arg, level, msg);
}

static void
env_progress(void *arg, int pct, const char *tag, const char *summary)
{
	report(arg, pct, tag, summary);
}

/* Link padding follows the consensus parameters (padding-spec §2.6). */
static void
padding_from_consensus(tk_onion *o)
{
	const struct tk_nodes *t = tk_dirmgr_nodes(o->dm);
	struct tk_padding_params p;
	if (!t || !t->c)
		return;
	tk_padding_params_init(&p);
	p.ito_low = (uint32_t)tk_consensus_param(t->c, "nf_ito_low", 1500, 0,
						 60000);
	p.ito_high = (uint32_t)tk_consensus_param(t->c, "nf_ito_high", 9500,
						  (int32_t)p.ito_low, 60000);
	p.ito_low_reduced = (uint32_t)tk_consensus_param(t->c,
							 "nf_ito_low_reduced",
							 9000, 0, 60000);
	p.ito_high_reduced =
		(uint32_t)tk_consensus_param(t->c, "nf_ito_high_reduced", 14000,
					     (int32_t)p.ito_low_reduced, 60000);
	p.pad_before_usage = tk_consensus_param(t->c, "nf_pad_before_usage", 1,
						0, 1);
	tk_padding_set_params(&p);
}

static void
env_changed(void *arg)
{
	tk_onion *o = arg;
	padding_from_consensus(o);
	if (o->cm)
		tk_circmgr_dir_changed(o->cm);
	/* A usable directory ends the bootstrap unless the caller reports
	 * the circuit steps (tor's 80..95) in between. */
	if (tk_dirmgr_usable(o->dm) && !o->cfg.circuits_report_done)
		report(o, 100, "done", "Done");
}

void
tk_onion_report_progress(tk_onion *o, int percent, const char *tag,
			 const char *summary)
{
	if (percent > 100)
		percent = 100;
	report(o, percent, tag, summary);
}

static void
on_fetched(void *arg, uint64_t id, int status, int http_status,
	   const uint8_t *body, size_t len, const char *errmsg)
{
	tk_onion *o = arg;
	tk_dirmgr_fetched(o->dm, id, status, http_status, body, len, errmsg);
}

static void
on_stage(void *arg, uint64_t id, enum tk_dirmgr_stage stage)
{
	tk_onion *o = arg;
	tk_dirmgr_fetch_stage(o->dm, id, stage);
}

static void
on_fetch_progress(void *arg, uint64_t id, size_t bytes)
{
	tk_onion *o = arg;
	tk_dirmgr_fetch_progress(o->dm, id, bytes);
}

/* The authorities and fallbacks in use: the configured ones, or the
 * public network's. */
static int
choose_dirservers(tk_onion *o, const struct tk_onion_config *cfg, char *err,
		  size_t errlen)
{
	size_t nb = 0, nf = 0;
	const char *const *ba = NULL;
	const struct tk_builtin_fallback *bf = NULL;
	int public_net = cfg->n_authorities == 0;

	if (public_net) {
		ba = tk_builtin_authorities(&nb);
		if (nb > TK_ONION_MAX_AUTHORITIES)
			nb = TK_ONION_MAX_AUTHORITIES;
		for (size_t i = 0; i < nb; i++)
			if (tk_dirauth_parse(ba[i], &o->auths[i], err,
					     errlen) != 0)
				return -1;
		o->n_auths = nb;
	} else {
		for (size_t i = 0; i < cfg->n_authorities; i++)
			if (tk_dirauth_parse(cfg->authorities[i], &o->auths[i],
					     err, errlen) != 0)
				return -1;
		o->n_auths = cfg->n_authorities;
	}
	if (cfg->testing_tor_network && public_net) {
		snprintf(err, errlen,
			 "TestingTorNetwork may only be used with a "
			 "non-default set of DirAuthority lines");
		return -1;
	}
	/* tor: FallbackDir lines replace the built-in fallbacks; custom
	 * authorities come without them */
	if (cfg->n_fallbacks == 0 && public_net && cfg->use_default_fallbacks)
		bf = tk_builtin_fallbacks(&nf);
	else
		nf = cfg->n_fallbacks;
	o->fbs = calloc(nf ? nf : 1, sizeof *o->fbs);
	o->fb_names = calloc(nf ? nf : 1, sizeof *o->fb_names);
	if (!o->fbs || !o->fb_names) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < nf; i++) {
		const char *line = bf ? bf[i].line : cfg->fallbacks[i];
		if (tk_dirfallback_parse(line, &o->fbs[i], err, errlen) != 0)
			return -1;
		o->fb_names[i] = bf ? bf[i].nickname : NULL;
	}
	o->n_fbs = nf;
	return 0;
}

static void
free_onion(tk_onion *o)
{
	free(o->fbs);
	free(o->fb_names);
	free(o->data_dir);
	free(o);
}

/* The circuit manager's view of the directory: its node table while it is
 * usable. */
static const struct tk_nodes *
usable_nodes(void *arg)
{
	tk_onion *o = arg;
	return tk_dirmgr_usable(o->dm) ? tk_dirmgr_nodes(o->dm) : NULL;
}

static int
start_circuits(tk_onion *o, char *err, size_t errlen)
{
	struct tk_circmgr_config cc;
	struct tk_streams_config sc;
	struct tk_hs_client_config hc;
	tk_hs_client *hs;

	tk_circmgr_config_init(&cc);
	cc.nodes = usable_nodes;
	cc.nodes_arg = o;
	cc.data_dir = o->data_dir;
	cc.enforce_distinct_subnets = o->cfg.enforce_distinct_subnets;
	cc.congestion_control = o->cfg.congestion_control;
	cc.reach = reach_of(&o->cfg);
	_Static_assert(TK_ONION_MAX_LONG_LIVED_PORTS <=
			       TK_CIRCMGR_MAX_LONG_LIVED,
		       "LongLivedPorts fit the circuit manager");
	cc.n_long_lived_ports = o->cfg.n_long_lived_ports;
	if (cc.n_long_lived_ports > TK_ONION_MAX_LONG_LIVED_PORTS)
		cc.n_long_lived_ports = TK_ONION_MAX_LONG_LIVED_PORTS;
	memcpy(cc.long_lived_ports, o->cfg.long_lived_ports,
	       cc.n_long_lived_ports * sizeof cc.long_lived_ports[0]);
	cc.log = o->cfg.log;
	cc.log_arg = o->cfg.log_arg;
	if (tk_circmgr_new(o->loop, &cc, &o->cm, err, errlen) != 0)
		return -1;
	tk_streams_config_init(&sc);
	if (o->cfg.request_timeout_ms)
		sc.request_timeout_ms = o->cfg.request_timeout_ms;
	if (o->cfg.linger_ms)
		sc.linger_ms = o->cfg.linger_ms;
	sc.scrub_hosts = o->cfg.scrub_hosts;
	sc.log = o->cfg.log;
	sc.log_arg = o->cfg.log_arg;
	o->streams = tk_streams_new(o->cm, &sc);
	if (!o->streams) {
		tk_circmgr_free(o->cm);
		o->cm = NULL;
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	tk_hs_client_config_init(&hc);
	hc.auth_dir = o->cfg.client_onion_auth_dir;
	hc.testing = o->cfg.testing_tor_network;
	hc.scrub_hosts = o->cfg.scrub_hosts;
	hc.congestion_control = o->cfg.congestion_control;
	hc.internal_circs = TK_CIRC_POOL_DEFAULT;
	hc.log = o->cfg.log;
	hc.log_arg = o->cfg.log_arg;
	hs = tk_hs_client_new(o->cm, &hc, err, errlen);
	if (!hs) {
		tk_circmgr_free(o->cm); /* frees the streams too */
		o->cm = NULL;
		o->streams = NULL;
		o->hs = NULL;
		return -1;
	}
	tk_streams_set_hs(o->streams, hs);
	o->hs = hs;
	return 0;
}

int
tk_onion_new(uv_loop_t *loop, const struct tk_onion_config *cfg, tk_onion **out,
	     char *err, size_t errlen)
{
	struct tk_dirmgr_config dc;
	struct tk_dirmgr_env env;
	struct tk_dirfetch_config fc;
	tk_onion *o;

	*out = NULL;
	if (tk_crypto_init() != 0) {
		snprintf(err, errlen, "cannot initialise the random generator");
		return -1;
	}
	o = calloc(1, sizeof *o);
	if (!o) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->loop = loop;
	o->cfg = *cfg;
	o->percent = -1;
	{
		struct tk_padding_options po = {
			cfg->connection_padding,
			cfg->reduced_connection_padding != 0,
		};
		tk_padding_configure(&po);
	}
	o->tag = "starting";
	o->summary = "Not started";
	if (cfg->data_dir && cfg->data_dir[0]) {
		o->data_dir = strdup(cfg->data_dir);
		if (!o->data_dir) {
			free(o);
			snprintf(err, errlen, "out of memory");
			return -1;
		}
	}
	o->cfg.data_dir = o->data_dir;
	if (choose_dirservers(o, cfg, err, errlen) != 0) {
		free_onion(o);
		return -1;
	}

	tk_dirmgr_config_init(&dc);
	dc.auths = o->auths;
	dc.n_auths = o->n_auths;
	dc.fallbacks = o->fbs;
	dc.fallback_names = o->fb_names;
	dc.n_fallbacks = o->n_fbs;
	dc.data_dir = o->data_dir;
	dc.enforce_distinct_subnets = cfg->enforce_distinct_subnets;
	dc.reach = reach_of(cfg);
	if (!cfg->client_use_ipv4) {
		/* Nothing to bootstrap from: say so rather than sit at 0%. */
		size_t n6 = 0;
		for (size_t i = 0; i < o->n_auths; i++)
			n6 += o->auths[i].has_ipv6 != 0;
		for (size_t i = 0; i < o->n_fbs; i++)
			n6 += o->fbs[i].has_ipv6 != 0;
		if (n6 == 0)
			onion_log(
				o, TK_LOG_WARN,
				"ClientUseIPv4 0: no directory authority or "
				"fallback has an IPv6 ORPort (ipv6=), so there "
				"is nothing to bootstrap from");
	}
	if (cfg->testing_tor_network) {
		/* tor's TestingTorNetwork schedule and stall */
		dc.boot_authority_delay_ms = 0;
		dc.stall_ms = 30000;
		dc.md_delay_ms = 5000;
	}
	memset(&env, 0, sizeof env);
	env.now_ms = env_now_ms;
	env.random = env_random;
	env.fetch = env_fetch;
	env.cancel = env_cancel;
	env.wake = env_wake;
	env.log = env_log;
	env.progress = env_progress;
	env.changed = env_changed;
	env.dir_guard = cfg->directory_only ? NULL : env_dir_guard;
	env.fatal = env_fatal;
	env.arg = o;
	if (tk_dirmgr_new(&dc, &env, &o->dm, err, errlen) != 0) {
		free_onion(o);
		return -1;
	}
	tk_dirfetch_config_init(&fc);
	if (cfg->dir_timeout_ms)
		fc.timeout_ms = cfg->dir_timeout_ms;
	/* the manager gives up stalled requests first; the transport's
	 * own limit is a little later */
	fc.stall_ms = (unsigned)dc.stall_ms + 5000;
	if (tk_dirfetch_new(loop, &fc, on_fetched, on_stage, on_fetch_progress,
			    o, &o->df) != 0) {
		tk_dirmgr_free(o->dm);
		free_onion(o);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!cfg->directory_only && start_circuits(o, err, errlen) != 0) {
		tk_dirfetch_free(o->df);
		tk_dirmgr_free(o->dm);
		free_onion(o);
		return -1;
	}
	uv_timer_init(loop, &o->wake);
	o->wake.data = o;
	*out = o;
	return 0;
}

int
tk_onion_start(tk_onion *o)
{
	if (o->started)
		return 0;
	o->started = 1;
	tk_dirmgr_start(o->dm);
	return 0;
}

void
tk_onion_get_status(const tk_onion *o, struct tk_onion_status *st)
{
	struct tk_dirmgr_stats ds;
	const struct tk_nodes *t = tk_dirmgr_nodes(o->dm);
	struct tk_path_opts po;

	memset(st, 0, sizeof *st);
	st->percent = o->percent < 0 ? 0 : o->percent;
	st->tag = o->tag;
	st->summary = o->summary;
	st->dir_usable = tk_dirmgr_usable(o->dm);
	tk_dirmgr_get_stats(o->dm, &ds);
	st->from_cache = ds.from_cache;
	st->fetches = ds.fetches;
	st->fetches_before_usable = ds.fetches_before_usable;
	st->diffs_applied = ds.diffs_applied;
	st->n_authorities = o->n_auths;
	st->n_fallbacks = o->n_fbs;
	if (o->cm) {
		struct tk_circmgr_stats cs;
		tk_circmgr_get_stats(o->cm, &cs);
		st->circuits.launched = cs.launched;
		st->circuits.built = cs.built;
		st->circuits.failed = cs.failed;
		st->circuits.lost = cs.lost;
		st->circuits.open = cs.open;
		st->circuits.building = cs.building;
		st->circuits.channels = cs.channels;
		st->circuits.last_build_ms = cs.last_build_ms;
		st->circuits.total_build_ms = cs.total_build_ms;
	}
	if (!t)
		return;
	tk_path_opts_init(&po);
	po.enforce_distinct_subnets = o->cfg.enforce_distinct_subnets;
	po.reach = reach_of(&o->cfg);
	st->n_relays = t->n;
	st->valid_after = t->c->valid_after;
	st->valid_until = t->c->valid_until;
	for (size_t i = 0; i < t->n; i++) {
		const struct tk_path_node *nd = &t->node[i];
		if (!nd->md)
			continue;
		if (tk_path_usable(nd, TK_PATH_MIDDLE, &po))
			st->n_usable++;
		if (tk_path_usable(nd, TK_PATH_GUARD, &po))
			st->n_guards++;
		if (tk_path_usable(nd, TK_PATH_EXIT, &po))
			st->n_exits++;
	}
}

int
tk_onion_describe_circuit(const tk_onion *o, uint32_t serial, char *buf,
			  size_t cap)
{
	return o->cm ? tk_circmgr_describe(o->cm, serial, buf, cap) : -1;
}

static void
on_wake_closed(uv_handle_t *h)
{
	free_onion(h->data);
}

void
tk_onion_free(tk_onion *o)
{
	if (!o)
		return;
	/* Circuits first: they hold the node table's nodes. */
	tk_circmgr_free(o->cm);
	o->cm = NULL;
	o->streams = NULL;
	o->hs = NULL;
	/* The manager cancels its requests through the fetcher first. */
	tk_dirmgr_free(o->dm);
	o->dm = NULL;
	tk_dirfetch_free(o->df);
	o->df = NULL;
	uv_timer_stop(&o->wake);
	uv_close((uv_handle_t *)&o->wake, on_wake_closed);
}

/* ---- requests: the stream layer's */

static int
no_circuits(tk_onion_req **req)
{
	*req = NULL;
	return -EINVAL;
}

int
tk_onion_stream_connect(tk_onion *o, const char *host, uint16_t port,
			unsigned prefs, const void *iso, size_t iso_len,
			tk_onion_connect_cb cb, void *arg, tk_onion_req **req)
{
	if (!o->streams)
		return no_circuits(req);
	return tk_streams_connect(o->streams, host, port, prefs, iso, iso_len,
				  cb, arg, req);
}

int
tk_onion_stream_resolve(tk_onion *o, const char *name, int families,
			const void *iso, size_t iso_len, tk_onion_resolve_cb cb,
			void *arg, tk_onion_req **req)
{
	if (!o->streams)
		return no_circuits(req);
	return tk_streams_resolve(o->streams, name, families, iso, iso_len, cb,
				  arg, req);
}

int
tk_onion_stream_resolve_ptr(tk_onion *o, int family, const uint8_t addr[16],
			    const void *iso, size_t iso_len,
			    tk_onion_resolve_cb cb, void *arg,
			    tk_onion_req **req)
{
	if (!o->streams)
		return no_circuits(req);
	return tk_streams_resolve_ptr(o->streams, family, addr, iso, iso_len,
				      cb, arg, req);
}

size_t
tk_onion_queued(const tk_onion *o)
{
	return o->streams != NULL ? tk_streams_queued(o->streams) : 0;
}

unsigned
tk_onion_newnym(tk_onion *o)
{
	/* as tor's hs_client_purge_state: a new identity must not reuse
	 * what we learnt about onion services under the old one */
	if (o->hs)
		tk_hs_client_purge(o->hs);
	return o->cm != NULL ? tk_circmgr_newnym(o->cm) : 0;
}

int
tk_onion_reload_onion_auth(tk_onion *o, const char *dir, char *err,
			   size_t errlen)
{
	if (!o->hs)
		return 0; /* directory only: no onion-service client */
	return tk_hs_client_load_auth(o->hs, dir, err, errlen);
}

void
tk_onion_set_scrub_hosts(tk_onion *o, int on)
{
	o->cfg.scrub_hosts = on;
	if (o->streams != NULL)
		tk_streams_set_scrub_hosts(o->streams, on);
}
