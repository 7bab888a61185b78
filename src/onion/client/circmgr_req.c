/* circmgr.h, the requests: which circuit a request gets, a build when
 * none fits, and the clean circuits kept ready (preemptive ones, for
 * the ports predicted, through a guard that holds cells for us). Above
 * circmgr_build.c (circmgr_int.h). */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "onion/client/circmgr_int.h"

/* Clean circuits at most, open or building: path-spec 2.1.1's 12, so a
 * client cycling through ports cannot make us build without end. */
#define MAX_CLEAN 12

/* ----------------------------------------------------------- requests */

static int
excluded(const struct tk_circreq *r, const struct tk_ocirc *oc)
{
	for (size_t i = 0; i < r->n_excluded; i++)
		if (memcmp(r->excluded[i], oc->hop[2].rsa_id, 20) == 0)
			return 1;
	return 0;
}

static int
iso_ok(const struct tk_ocirc *oc, const struct tk_circreq *r)
{
	if (!oc->has_iso)
		return 1;
	return oc->iso_len == r->iso_len &&
	       (r->iso_len == 0 || memcmp(oc->iso, r->iso, r->iso_len) == 0);
}

static int
fits(const struct tk_ocirc *oc, const struct tk_circreq *r, uint64_t now)
{
	const tk_circmgr *cm = oc->cm;
	if (oc->closed || oc->unusable || oc->private_use ||
	    oc->state == TK_OCIRC_DEAD)
		return 0;
	if (oc->dirty_since &&
	    now - oc->dirty_since >= (uint64_t)cm->cfg.max_dirtiness_s * 1000)
		return 0;
	if (r->port && !tk_policy_summary_allows(&oc->exit_p, r->port))
		return 0;
	if (tk_cm_long_lived(cm, r->port) && !oc->stable)
		return 0;
	return iso_ok(oc, r) && !excluded(r, oc);
}

static void
claim(struct tk_ocirc *oc, const struct tk_circreq *r)
{
	if (oc->has_iso)
		return;
	if (r->iso_len) {
		oc->iso = malloc(r->iso_len);
		if (!oc->iso) {
			oc->unusable = 1; /* cannot record it: share nothing */
			return;
		}
		memcpy(oc->iso, r->iso, r->iso_len);
	}
	oc->iso_len = r->iso_len;
	oc->has_iso = 1;
}

void
tk_circmgr_request(tk_circmgr *cm, struct tk_circreq *r)
{
	r->cm = cm;
	tk_portpred_note(&cm->pred, r->port, uv_now(cm->loop));
	if (r->queued)
		return;
	r->queued = 1;
	r->waiting_on = NULL;
	r->next = NULL;
	r->prev = cm->reqs_tail;
	if (cm->reqs_tail)
		cm->reqs_tail->next = r;
	else
		cm->reqs = r;
	cm->reqs_tail = r;
	tk_cm_kick_requests(cm);
}

void
tk_circmgr_request_cancel(struct tk_circreq *r)
{
	if (r->cm)
		tk_cm_dequeue(r->cm, r);
}

static unsigned
count_building(const tk_circmgr *cm)
{
	unsigned n = 0;
	for (struct tk_ocirc *oc = cm->circs; oc; oc = oc->next)
		if (oc->state == TK_OCIRC_BUILDING)
			n++;
	return n;
}

static struct tk_ocirc *
find_circ(tk_circmgr *cm, const struct tk_circreq *r, enum tk_ocirc_state want,
	  uint64_t now)
{
	struct tk_ocirc *clean = NULL;
	for (struct tk_ocirc *oc = cm->circs; oc; oc = oc->next) {
		if (oc->state != want || !fits(oc, r, now))
			continue;
		if (oc->has_iso)
			return oc; /* already serving this key */
		if (!clean)
			clean = oc;
	}
	return clean;
}

/* Launches clean circuits for port until `clean` of them fit it. 0, or
 * -1 when nothing more should be launched now. */
static int
preempt_port(tk_circmgr *cm, uint16_t port, unsigned *total, uint64_t now)
{
	unsigned clean = 0;
	struct tk_circreq probe;
	struct tk_ocirc *oc;

	memset(&probe, 0, sizeof probe);
	probe.port = port;
	for (oc = cm->circs; oc; oc = oc->next)
		if (!oc->has_iso && !oc->dirty_since && fits(oc, &probe, now))
			clean++;
	while (clean < cm->cfg.preemptive && *total < MAX_CLEAN &&
	       count_building(cm) < cm->cfg.max_pending_builds) {
		int rc = tk_cm_launch(cm, port, NULL, NULL, &oc);
		if (rc == LAUNCH_OK)
			tk_cm_full(oc)->preemptive = 1;
		if (rc == LAUNCH_OK && oc->state != TK_OCIRC_BUILDING) {
			/* failed at once, before it was marked */
			tk_cm_preempt_failed(cm);
			return -1;
		}
		if (rc == LAUNCH_NODIR)
			return -1;
		if (rc != LAUNCH_OK) {
			if (!cm->warned_nopath) {
				cm->warned_nopath = 1;
				tk_cm_log(cm, TK_LOG_WARN,
					  "no preemptive circuit: "
					  "no path for port %u",
					  port);
			}
			return 0; /* the other ports may have one */
		}
		cm->warned_nopath = 0;
		clean++;
		(*total)++;
	}
	return 0;
}

/* Clean circuits kept ready (path-spec 2.1.1): `preemptive` of them for
 * preemptive_port, and as many for each port requested within the hour
 * (portpred.h), at most MAX_CLEAN in all. */
static void
keep_preemptive(tk_circmgr *cm)
{
	uint16_t ports[1 + TK_PORTPRED_MAX];
	size_t n_ports = 1;
	unsigned total = 0;
	uint64_t now = uv_now(cm->loop);

	if (!cm->cfg.preemptive || now < cm->preempt_ok_at)
		return; /* the tick comes back */
	ports[0] = cm->cfg.preemptive_port;
	n_ports += tk_portpred_list(&cm->pred, now, ports + 1, TK_PORTPRED_MAX);
	for (struct tk_ocirc *oc = cm->circs; oc; oc = oc->next)
		if (!oc->has_iso && !oc->dirty_since && !oc->private_use &&
		    !oc->closed && !oc->unusable && oc->state != TK_OCIRC_DEAD)
			total++;
	for (size_t i = 0; i < n_ports; i++) {
		if (i > 0 && ports[i] == ports[0])
			continue;
		if (preempt_port(cm, ports[i], &total, now) != 0)
			return;
	}
}

void
tk_cm_service(struct tk_defer *d)
{
	tk_circmgr *cm = container_of(d, struct tk_circmgr, svc);
	uint64_t now = uv_now(cm->loop);
	struct tk_circreq *r;
	struct tk_ocirc *oc;

again:
	for (r = cm->reqs; r; r = r->next) {
		int rc;
		if (r->waiting_on)
			continue;
		if (r->builds_failed >= cm->cfg.build_attempts) {
			tk_cm_dequeue(cm, r);
			tk_cm_log(cm, TK_LOG_NOTICE,
				  "giving up on a request after %u "
				  "failed circuit builds",
				  r->builds_failed);
			r->cb(r, TK_RELAY_END_MISC, NULL);
			goto again;
		}
		oc = find_circ(cm, r, TK_OCIRC_OPEN, now);
		if (oc) {
			tk_cm_dequeue(cm, r);
			claim(oc, r);
			r->cb(r, 0, oc);
			goto again;
		}
		oc = find_circ(cm, r, TK_OCIRC_BUILDING, now);
		if (oc) {
			claim(oc, r);
			r->waiting_on = oc;
			continue;
		}
		if (count_building(cm) >= cm->cfg.max_pending_builds)
			continue;
		rc = tk_cm_launch(cm, r->port, r, NULL, &oc);
		if (rc == LAUNCH_NODIR)
			continue; /* the tick polls the directory */
		if (rc == LAUNCH_NOEXIT) {
			tk_cm_dequeue(cm, r);
			tk_cm_log(cm, TK_LOG_NOTICE, "no exit allows port %u%s",
				  r->port,
				  r->n_excluded ? " (besides those that "
						  "refused)"
						: "");
			r->cb(r,
			      r->port ? TK_RELAY_END_EXITPOLICY
				      : TK_RELAY_END_RESOLVEFAILED,
			      NULL);
			goto again;
		}
		if (rc != LAUNCH_OK) {
			tk_cm_dequeue(cm, r);
			r->cb(r, TK_RELAY_END_MISC, NULL);
			goto again;
		}
		if (oc->state == TK_OCIRC_BUILDING) {
			claim(oc, r);
			r->waiting_on = oc;
		} else {
			r->builds_failed++; /* failed at once */
			goto again;
		}
	}
	keep_preemptive(cm);
}

/* ------------------------------------------------------ stalled guards */

/* A guard that lost a link to the next hop queues the DESTROYs of our
 * circuits over that link and may send none of them until a circuit
 * cell for us is queued too (channel.c says how the channel notices).
 * What tor's clients do anyway, build a circuit through their guard,
 * makes it send them: so build one, a clean circuit like the preemptive
 * ones, unless a build through that guard is about to send its CREATE2
 * anyway. At most preemptive + 2 clean circuits, so a guard that keeps
 * stalling costs no more. */
static void
flush_through(tk_circmgr *cm, const uint8_t id[20])
{
	unsigned clean = 0;
	struct tk_ocirc *oc;
	int rc;

	for (oc = cm->circs; oc; oc = oc->next) {
		if (oc->closed || oc->state == TK_OCIRC_DEAD)
			continue;
		if (oc->state == TK_OCIRC_BUILDING && oc->n_hops == 0 &&
		    memcmp(oc->hop[0].rsa_id, id, 20) == 0)
			return;
		if (!oc->has_iso && !oc->dirty_since && !oc->private_use)
			clean++;
	}
	if (clean >= cm->cfg.preemptive + 2 ||
	    count_building(cm) >= cm->cfg.max_pending_builds)
		return;
	rc = tk_cm_launch(cm, cm->cfg.preemptive_port, NULL, id, &oc);
	if (rc == LAUNCH_OK)
		tk_cm_log(
			cm, TK_LOG_INFO,
			"circ %u: through guard %s, which seems to hold cells "
			"for us (DESTROYs of a lost link?)",
			oc->serial, oc->nick[0]);
}

void
tk_cm_stall_service(struct tk_defer *d)
{
	tk_circmgr *cm = container_of(d, struct tk_circmgr, stall_d);
	for (size_t i = 0; i < cm->n_stalled; i++)
		flush_through(cm, cm->stalled[i]);
	cm->n_stalled = 0;
}

void
tk_cm_guard_stalled(struct tk_ocirc *oc)
{
	tk_circmgr *cm = oc->cm;
	for (size_t i = 0; i < cm->n_stalled; i++)
		if (memcmp(cm->stalled[i], oc->hop[0].rsa_id, 20) == 0)
			return;
	if (cm->n_stalled == ARRAY_SIZE(cm->stalled))
		return;
	memcpy(cm->stalled[cm->n_stalled++], oc->hop[0].rsa_id, 20);
	tk_circmgr_defer(cm, &cm->stall_d);
}
