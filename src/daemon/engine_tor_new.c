/* engine_tor_new.c — the top of the tor engine (engine_tor_int.h has the
 * map of its parts): tk_engine_tor_new() and the ops table, the onion
 * library's log and progress hooks, reload, status, NEWNYM and close. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/conf.h"
#include "daemon/engine_tor_int.h"
#include "daemon/log.h"

static void
onion_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level < TK_LOG_DEBUG)
		level = TK_LOG_DEBUG;
	if (level > TK_LOG_ERR)
		level = TK_LOG_ERR;
	tk_dlog(level, "%s", msg);
}

static void
onion_progress(void *arg, int percent, const char *tag, const char *summary)
{
	struct tor_engine *e = arg;

	(void)tag;
	(void)summary; /* the onion log has the "Bootstrapped" line */
	if (percent == 100 && !e->ready_logged) {
		e->ready_logged = 1;
		tk_notice("Engine tor: directory ready; building circuits");
	}
	if (e->base.progress != NULL) {
		struct tk_engine_status st;

		tk_engine_status(&e->base, &st);
		e->base.progress(e->base.progress_arg, &st);
	}
}

/* The network requires what this engine lacks: tor exits, so do we
 * (through the daemon's hook, with the message already logged). */
static void
onion_fatal(void *arg, const char *msg)
{
	struct tor_engine *e = arg;

	if (e->base.fatal != NULL)
		e->base.fatal(e->base.fatal_arg, msg);
}

static size_t
t_held(const struct tk_engine *base)
{
	const struct tor_engine *e = (const struct tor_engine *)base;

	return e->o != NULL ? tk_onion_queued(e->o) : 0;
}

static void
apply_client_options(struct tor_engine *e, const struct tk_config *cfg)
{
	e->reject_internal = cfg->client_reject_internal;
	e->dns_reject_internal = cfg->client_dns_reject_internal;
}

static int
t_reload(struct tk_engine *base, const struct tk_config *cfg)
{
	struct tor_engine *e = (struct tor_engine *)base;

	/* What only filters requests or the log changes at once; the
	 * directory authorities, DataDirectory and circuit options are read
	 * once: a Tor client cannot swap its trust roots under live
	 * circuits. SocksPort changes are the front-end's. */
	apply_client_options(e, cfg);
	if (e->o != NULL) {
		char err[256];
		tk_onion_set_scrub_hosts(e->o, cfg->safe_logging != 0);
		/* tor re-reads the client authorization keys on a reload */
		if (tk_onion_reload_onion_auth(e->o, cfg->client_onion_auth_dir,
					       err, sizeof err) != 0)
			tk_warn("ClientOnionAuthDir: %s; keeping the keys read "
				"before",
				err);
	}
	tk_info("Engine tor keeps its DirAuthority, DataDirectory and "
		"circuit settings until restarted");
	return 0;
}

static void
t_close(struct tk_engine *base, void (*done)(void *), void *arg)
{
	struct tor_engine *e = (struct tor_engine *)base;

	e->done = done;
	e->done_arg = arg;
	e->closing = 1;
	/* The front-end cancelled its requests; anything left is dropped
	 * without a callback, as engine.h allows after close. */
	while (e->reqs != NULL)
		tk_et_cancel(e->reqs);
	tk_et_finish(e);
}

static void
t_status(const struct tk_engine *base, struct tk_engine_status *st)
{
	const struct tor_engine *e = (const struct tor_engine *)base;
	struct tk_onion_status os;

	memset(st, 0, sizeof(*st));
	st->tag = "starting";
	st->summary = "Starting";
	if (e->o == NULL)
		return;
	tk_onion_get_status(e->o, &os);
	st->percent = os.percent;
	if (os.tag != NULL)
		st->tag = os.tag;
	if (os.summary != NULL)
		st->summary = os.summary;
	st->circuit_established = os.circuits.built > 0;
}

/* tor's MAX_SIGNAL_NEWNYM_INTERVAL: one NEWNYM in 10 s; a later one waits
 * for the rest of that time (tor delays it the same way). */
#define NEWNYM_INTERVAL_MS 10000

static void
newnym_now(struct tor_engine *e)
{
	unsigned n;

	e->newnym_pending = 0;
	e->last_newnym = uv_now(e->base.loop);
	if (e->last_newnym == 0)
		e->last_newnym = 1;
	n = tk_onion_newnym(e->o);
	tk_notice("NEWNYM: new requests get new circuits (%u in use retired "
		  "once their streams end)",
		  n);
}

static void
newnym_timer_cb(uv_timer_t *t)
{
	struct tor_engine *e = t->data;

	if (e->o != NULL && !e->closing)
		newnym_now(e);
}

static void
t_newnym(struct tk_engine *base)
{
	struct tor_engine *e = (struct tor_engine *)base;
	uint64_t now = uv_now(base->loop), wait;

	if (e->o == NULL || e->closing || e->newnym_pending)
		return;
	if (e->last_newnym == 0 || now - e->last_newnym >= NEWNYM_INTERVAL_MS) {
		newnym_now(e);
		return;
	}
	wait = NEWNYM_INTERVAL_MS - (now - e->last_newnym);
	tk_notice("Rate limiting NEWNYM request: delaying by %u second(s)",
		  (unsigned)((wait + 999) / 1000));
	e->newnym_pending = 1;
	uv_timer_start(&e->newnym_timer, newnym_timer_cb, wait, 0);
}

static const struct tk_engine_ops tor_ops = {
	.name = "tor",
	.connect = tk_et_connect,
	.resolve = tk_et_resolve,
	.resolve_ptr = tk_et_resolve_ptr,
	.cancel = tk_et_cancel,
	.stream_start = tk_et_stream_start,
	.stream_read_stop = tk_et_stream_read_stop,
	.stream_read_start = tk_et_stream_read_start,
	.stream_write = tk_et_stream_write,
	.stream_shutdown = tk_et_stream_shutdown,
	.stream_close = tk_et_stream_close,
	.stream_held = tk_et_stream_held,
	.held = t_held,
	.reload = t_reload,
	.status = t_status,
	.newnym = t_newnym,
	.close = t_close,
};

int
tk_engine_tor_new(uv_loop_t *loop, const struct tk_config *cfg,
		  struct tk_engine **out)
{
	struct tor_engine *e;
	struct tk_onion_config oc;
	char err[512];

	if (tk_engine_tor_config(cfg, &oc, err, sizeof(err)) < 0) {
		tk_err("%s", err);
		return -1;
	}
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		tk_err("out of memory");
		return -1;
	}
	e->base.ops = &tor_ops;
	e->base.loop = loop;
	apply_client_options(e, cfg);
	oc.log = onion_log;
	oc.log_arg = e;
	oc.progress = onion_progress;
	oc.progress_arg = e;
	oc.fatal = onion_fatal;
	oc.fatal_arg = e;
	if (tk_onion_new(loop, &oc, &e->o, err, sizeof(err)) < 0) {
		tk_err("Engine tor: %s", err);
		free(e);
		return -1;
	}
	uv_timer_init(loop, &e->done_timer);
	e->done_timer.data = e;
	{
		struct tk_onion_status st;
		char net[160];

		tk_onion_get_status(e->o, &st);
		if (tk_onion_config_is_public(&oc))
			snprintf(net, sizeof(net),
				 "the public Tor network (%zu authorities, "
				 "%zu fallback directory mirrors)",
				 st.n_authorities, st.n_fallbacks);
		else
			snprintf(net, sizeof(net),
				 "%zu configured directory authorit%s, %zu "
				 "fallback%s%s",
				 st.n_authorities,
				 st.n_authorities == 1 ? "y" : "ies",
				 st.n_fallbacks, st.n_fallbacks == 1 ? "" : "s",
				 cfg->testing_tor_network
					 ? " (TestingTorNetwork)"
					 : "");
		tk_notice("Engine tor: %s, DataDirectory %s, "
			  "EnforceDistinctSubnets %d, HalfCloseLinger %u s, "
			  "CongestionControl %s",
			  net,
			  cfg->data_dir ? cfg->data_dir
					: "(none: nothing cached)",
			  cfg->enforce_distinct_subnets, cfg->half_close_linger,
			  cfg->congestion_control < 0	 ? "auto"
			  : cfg->congestion_control == 0 ? "0"
							 : "1");
	}
	uv_timer_init(loop, &e->newnym_timer);
	e->newnym_timer.data = e;
	if (tk_onion_start(e->o) < 0) {
		tk_err("Engine tor: cannot start bootstrapping");
		tk_onion_free(e->o);
		/* One handle after the other: the last frees e. */
		uv_close((uv_handle_t *)&e->newnym_timer,
			 tk_et_close_done_timer);
		return -1;
	}
	*out = &e->base;
	return 0;
}
