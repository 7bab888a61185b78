/* circmgr.h: tk_circmgr_new(), which wires the parts below it
 * (circmgr_int.h) to the transport and to the stream table, and the
 * tick: build timeouts, dirty circuits retired, the state file saved.
 * The top of the parts. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "onion/base/crypto.h"
#include "onion/client/circmgr_int.h"
#include "onion/client/statefile.h"
#include "onion/netdir/path.h"

#define TICK_MS 500
#define STATE_SAVE_MS 60000 /* the state file at most once a minute */

static uint64_t
system_random(void *arg)
{
	return tk_path_rng_system(arg);
}

static int64_t
system_wall_s(void *arg)
{
	(void)arg;
	return (int64_t)time(NULL);
}

/* --------------------------------------------------------------- tick */

static void
tick_cb(uv_timer_t *t)
{
	tk_circmgr *cm = t->data;
	uint64_t now = uv_now(cm->loop);
	struct tk_ocirc *oc, *next;
	uint64_t maxd = (uint64_t)cm->cfg.max_dirtiness_s * 1000;

	tk_cm_expire_bad(cm, now);
	for (oc = cm->circs; oc; oc = next) {
		next = oc->next;
		if (oc->state == TK_OCIRC_BUILDING && now >= oc->deadline) {
			/* Past the first hop, a timeout says how slow paths
			 * are; before it, only that the guard is away. */
			if (oc->n_hops >= 1 && !cm->cfg.build_timeout_ms &&
			    !tk_cm_full(oc)->extending)
				tk_cbt_timed_out(cm->cbt,
						 (uint32_t)(now - oc->started));
			tk_cm_oc_fail(oc, "build timed out");
			continue;
		}
		if (oc->state != TK_OCIRC_OPEN || oc->closed)
			continue;
		if (oc->dirty_since && now - oc->dirty_since >= maxd)
			oc->unusable = 1;
		/* Claimed by a key whose request went away before using it:
		 * nobody else may use it, so it goes too. */
		if (!oc->dirty_since && oc->has_iso &&
		    now - oc->built_at >= maxd)
			oc->unusable = 1;
		if (oc->unusable && tk_ostream_table_live(oc->tbl) == 0) {
			tk_cm_log(cm, TK_LOG_INFO, "circ %u retired (%s)",
				  oc->serial,
				  oc->dirty_since &&
						  now - oc->dirty_since >= maxd
					  ? "dirty too long"
					  : "no new streams");
			tk_cm_close_later(oc);
		}
	}
	if (now - cm->state_saved_at >= STATE_SAVE_MS)
		tk_cm_save_state(cm);
	if (cm->user.tick)
		cm->user.tick(cm->user.arg, now);
	tk_cm_kick_requests(cm);
}

/* --------------------------------------------------------- lifecycle */

static const struct tk_ocirc_events events = {
	.first_hop_ok = tk_cm_first_hop_ok,
	.build_done = tk_cm_build_done,
	.lost = tk_cm_oc_lost,
	.writable = tk_cm_writable,
	.guard_stalled = tk_cm_guard_stalled,
	.extended = tk_cm_extended,
};

int
tk_circmgr_new(uv_loop_t *loop, const struct tk_circmgr_config *cfg,
	       tk_circmgr **out, char *err, size_t errlen)
{
	tk_circmgr *cm;
	char path[4096];

	*out = NULL;
	if (tk_crypto_init() != 0) {
		snprintf(err, errlen, "cannot initialise the random generator");
		return -1;
	}
	cm = calloc(1, sizeof *cm);
	if (!cm) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cm->loop = loop;
	cm->cfg = *cfg;
	if (cm->cfg.n_long_lived_ports > TK_CIRCMGR_MAX_LONG_LIVED)
		cm->cfg.n_long_lived_ports = TK_CIRCMGR_MAX_LONG_LIVED;
	if (!cm->cfg.random || !cm->cfg.wall_s) {
		cm->cfg.random = system_random;
		cm->cfg.wall_s = system_wall_s;
		cm->cfg.env_arg = NULL;
	}
	if (!cm->cfg.build_attempts)
		cm->cfg.build_attempts = 1;
	if (!cm->cfg.max_pending_builds)
		cm->cfg.max_pending_builds = 1;
	if (cfg->data_dir && cfg->data_dir[0]) {
		cm->data_dir = strdup(cfg->data_dir);
		if (!cm->data_dir ||
		    snprintf(path, sizeof path, "%s/state", cfg->data_dir) >=
			    (int)sizeof path) {
			free(cm->data_dir);
			free(cm);
			snprintf(err, errlen, "DataDirectory path too long");
			return -1;
		}
		cm->state_path = strdup(path);
	}
	cm->cfg.data_dir = cm->data_dir;
	cm->guards = tk_guards_new();
	cm->cbt = tk_cbt_new();
	cm->tp = cfg->transport ? cfg->transport : &tk_ocirc_chan_transport;
	if (cm->guards && cm->cbt && (!cm->data_dir || cm->state_path))
		cm->tp_state = cm->tp->create(loop, tk_cm_build_timeout_ms(cm),
					      &events);
	if (!cm->tp_state) {
		tk_guards_free(cm->guards);
		tk_cbt_free(cm->cbt);
		free(cm->state_path);
		free(cm->data_dir);
		free(cm);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (cm->state_path) {
		char why[200];
		int rc = tk_statefile_load(cm->state_path, cm->guards, cm->cbt,
					   cm->cfg.random, cm->cfg.env_arg, why,
					   sizeof why);
		if (rc != 0)
			tk_cm_log(cm, TK_LOG_WARN, "state file %s: %s",
				  cm->state_path, why);
	}
	cm->state_saved_at = uv_now(loop);
	cm->svc.fn = tk_cm_service;
	cm->stall_d.fn = tk_cm_stall_service;
	cm->table_ops.send = tk_cm_t_send;
	cm->table_ops.circ_can_package = tk_cm_t_can_package;
	cm->table_ops.released = tk_cm_t_released;
	tk_circmgr_set_user(cm, &tk_cm_no_user);
	uv_timer_init(loop, &cm->kick);
	uv_timer_init(loop, &cm->tick);
	cm->kick.data = cm->tick.data = cm;
	cm->handles_open = 2;
	uv_timer_start(&cm->tick, tick_cb, TICK_MS, TICK_MS);
	uv_unref((uv_handle_t *)&cm->tick);
	tk_cm_kick_requests(cm);
	*out = cm;
	return 0;
}
