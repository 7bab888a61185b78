/* circmgr.h, private circuits once built (onion services): handed to a
 * new owner with one more hop or none (tk_ocirc_adopt), closed, joined
 * to the service. Above circmgr.c (circmgr_int.h). */
#include <stddef.h>
#include <stdio.h>

#include "common/util.h"
#include "onion/client/circmgr_int.h"

void
tk_cm_adopted_cb(struct tk_defer *d)
{
	struct oc_full *f = container_of(d, struct oc_full, adopted);
	if (f->oc.state == TK_OCIRC_OPEN && !f->oc.closed)
		tk_cm_owner_event(&f->oc, TK_OCIRC_EV_BUILT, NULL);
}

int
tk_ocirc_adopt(tk_ocirc *oc, const tk_circuit_hop_target *last,
	       const char *nick,
	       void (*ev)(void *arg, tk_ocirc *oc, int event, const char *why),
	       void *arg)
{
	tk_circmgr *cm = oc->cm;
	int h = oc->n_hops;

	if (oc->state != TK_OCIRC_OPEN || oc->closed || oc->unusable ||
	    !oc->private_use || tk_circmgr_dying(cm))
		return -1;
	if (!last) {
		oc->owner_ev = ev;
		oc->owner_arg = arg;
		tk_circmgr_defer(cm, &tk_cm_full(oc)->adopted);
		tk_cm_log(cm, TK_LOG_INFO, "circ %u: taken as it is (%s~%s~%s)",
			  oc->serial, oc->nick[0], oc->nick[1],
			  oc->nick[h - 1]);
		return 0;
	}
	if (h >= TK_OCIRC_MAX_HOPS || !cm->tp->extend)
		return -1;
	oc->hop[h] = *last;
	oc->supports_cc[h] = 0;
	snprintf(oc->nick[h], sizeof oc->nick[h], "%s", nick ? nick : "?");
	oc->started = uv_now(cm->loop);
	oc->deadline = oc->started + tk_cm_build_timeout_ms(cm);
	if (cm->tp->extend(oc) != 0)
		return -1; /* nothing was sent: oc is as it was */
	oc->state = TK_OCIRC_BUILDING;
	tk_cm_full(oc)->extending = 1;
	oc->owner_ev = ev;
	oc->owner_arg = arg;
	tk_cm_log(cm, TK_LOG_INFO, "circ %u: extending %s~%s~%s to %s",
		  oc->serial, oc->nick[0], oc->nick[1], oc->nick[2],
		  oc->nick[h]);
	return 0;
}

/* The adopted circuit's new hop is in, or it failed (tk_cm_oc_fail: the
 * owner hears FAILED). Its time is not a build time: cbt.h never sees
 * it. */
void
tk_cm_extended(struct tk_ocirc *oc, int status, const char *why)
{
	tk_circmgr *cm = oc->cm;
	if (oc->state != TK_OCIRC_BUILDING || !tk_cm_full(oc)->extending)
		return;
	tk_cm_full(oc)->extending = 0;
	if (status != 0) {
		tk_cm_oc_fail(oc, why ? why : "extension failed");
		return;
	}
	oc->n_hops++;
	oc->state = TK_OCIRC_OPEN;
	tk_cm_log(cm, TK_LOG_INFO, "circ %u extended to %s in %.0f ms",
		  oc->serial, oc->nick[oc->n_hops - 1],
		  (double)(uv_now(cm->loop) - oc->started));
	tk_cm_owner_event(oc, TK_OCIRC_EV_BUILT, NULL);
}

int
tk_circmgr_distinct_subnets(const tk_circmgr *cm)
{
	return cm->cfg.enforce_distinct_subnets;
}

tk_circuit *
tk_ocirc_circuit(tk_ocirc *oc)
{
	if (oc->state != TK_OCIRC_OPEN || !oc->cm->tp->circuit)
		return NULL;
	return oc->cm->tp->circuit(oc);
}

void
tk_ocirc_close(tk_ocirc *oc)
{
	oc->owner_ev = NULL;
	if (tk_circmgr_dying(oc->cm))
		return; /* the manager tears every circuit down itself */
	if (oc->state == TK_OCIRC_OPEN && oc->tbl)
		tk_ostream_table_fail_all(oc->tbl, TK_RELAY_END_DESTROY);
	if (oc->state != TK_OCIRC_DEAD) {
		oc->state = TK_OCIRC_DEAD;
		tk_cm_kick_requests(oc->cm);
	}
	tk_cm_close_later(oc);
}

void
tk_ocirc_joined(tk_ocirc *oc, const struct tk_cc_params *cc)
{
	oc->n_hops++; /* streams now speak from the virtual hop */
	if (cc && oc->tbl)
		tk_ostream_table_set_cc(oc->tbl, cc);
}
