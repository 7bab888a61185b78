/* circmgr.h: building, sharing and retiring 3-hop client circuits. This
 * part is the bottom of them (circmgr_int.h): the manager's state, the
 * deferred work, a circuit's end, freeing, the log, stats and
 * descriptions. */
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "onion/client/circmgr_int.h"
#include "onion/client/statefile.h"

/* A preemptive circuit that failed is not replaced at once: with no
 * guard reachable (the network went away after the directory was
 * loaded) that would be a busy loop. tor launches them from its
 * once-a-second housekeeping; here the wait doubles from 1 s to a
 * minute while they keep failing. */
#define PREEMPT_BACKOFF_MIN_MS 1000
#define PREEMPT_BACKOFF_MAX_MS 60000

/* ------------------------------------------------------------ basics */

void
tk_circmgr_config_init(struct tk_circmgr_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->enforce_distinct_subnets = 1;
	cfg->build_timeout_ms = 0; /* learned (cbt.h) */
	cfg->max_dirtiness_s = 600;
	cfg->max_pending_builds = 4;
	cfg->build_attempts = 4;
	cfg->preemptive = 1;
	cfg->preemptive_port = 80;
	cfg->congestion_control = -1;
	{
		static const uint16_t dflt[] = TK_CIRCMGR_LONG_LIVED_DEFAULT;
		memcpy(cfg->long_lived_ports, dflt, sizeof dflt);
		cfg->n_long_lived_ports = sizeof dflt / sizeof dflt[0];
	}
}

/* The wall clock, for the guard set's dates and retry times. */
int64_t
tk_cm_wall_s(const tk_circmgr *cm)
{
	return cm->cfg.wall_s(cm->cfg.env_arg);
}

/* A fixed CircuitBuildTimeout, or the learned one. */
unsigned
tk_cm_build_timeout_ms(const tk_circmgr *cm)
{
	return cm->cfg.build_timeout_ms ? cm->cfg.build_timeout_ms
					: tk_cbt_timeout_ms(cm->cbt);
}

/* Writes the state file if something in it changed. */
void
tk_cm_save_state(tk_circmgr *cm)
{
	char why[200];
	cm->state_saved_at = uv_now(cm->loop);
	if (!cm->state_path ||
	    (!tk_guards_dirty(cm->guards) && !tk_cbt_dirty(cm->cbt)))
		return;
	if (tk_statefile_save(cm->state_path, cm->guards, cm->cbt,
			      tk_cm_wall_s(cm), why, sizeof why) != 0)
		tk_cm_log(cm, TK_LOG_WARN, "state file: %s", why);
}

uv_loop_t *
tk_circmgr_loop(const tk_circmgr *cm)
{
	return cm->loop;
}

const struct tk_nodes *
tk_circmgr_nodes(tk_circmgr *cm)
{
	return cm->cfg.nodes ? cm->cfg.nodes(cm->cfg.nodes_arg) : NULL;
}

struct tk_guards *
tk_circmgr_guards(tk_circmgr *cm)
{
	return cm->guards;
}

struct tk_cbt *
tk_circmgr_cbt(tk_circmgr *cm)
{
	return cm->cbt;
}

static void do_free(tk_circmgr *cm);

static void
kick_cb(uv_timer_t *t)
{
	tk_circmgr *cm = t->data;
	cm->in_kick = 1;
	/* Items queued while running run in this pass too. */
	while (cm->dq && !cm->freeing && !cm->free_pending) {
		struct tk_defer *d = cm->dq;
		cm->dq = d->next;
		if (!cm->dq)
			cm->dq_tail = NULL;
		d->next = NULL;
		d->queued = 0;
		d->fn(d);
	}
	cm->in_kick = 0;
	if (cm->free_pending)
		do_free(cm);
}

int
tk_circmgr_dying(const tk_circmgr *cm)
{
	return cm->freeing || cm->free_pending;
}

void
tk_circmgr_defer(tk_circmgr *cm, struct tk_defer *d)
{
	if (d->queued || cm->freeing || cm->free_pending)
		return;
	d->queued = 1;
	d->next = NULL;
	if (cm->dq_tail)
		cm->dq_tail->next = d;
	else
		cm->dq = d;
	cm->dq_tail = d;
	if (!uv_is_active((uv_handle_t *)&cm->kick))
		uv_timer_start(&cm->kick, kick_cb, 0, 0);
}

void
tk_circmgr_undefer(tk_circmgr *cm, struct tk_defer *d)
{
	struct tk_defer **pp, *prev = NULL;
	if (!d->queued)
		return;
	for (pp = &cm->dq; *pp; prev = *pp, pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			if (cm->dq_tail == d)
				cm->dq_tail = prev;
			break;
		}
	}
	d->queued = 0;
	d->next = NULL;
}

void
tk_cm_kick_requests(tk_circmgr *cm)
{
	tk_circmgr_defer(cm, &cm->svc);
}

/* ----------------------------------------------------------- circuits */

/* A private circuit's owner hears of it; every event but BUILT is the
 * last one it gets. */
void
tk_cm_owner_event(struct tk_ocirc *oc, int ev, const char *why)
{
	void (*fn)(void *, tk_ocirc *, int, const char *) = oc->owner_ev;
	if (!fn || oc->cm->freeing)
		return;
	if (ev != TK_OCIRC_EV_BUILT)
		oc->owner_ev = NULL;
	fn(oc->owner_arg, oc, ev, why);
}

static void
oc_teardown(struct tk_ocirc *oc)
{
	tk_circmgr *cm = oc->cm;
	struct tk_ocirc_slot *s, *n;

	tk_circmgr_undefer(cm, &tk_cm_full(oc)->teardown);
	tk_circmgr_undefer(cm, &tk_cm_full(oc)->adopted);
	if (oc->tbl && oc->state == TK_OCIRC_OPEN) {
		/* Closed by us while streams were on it (retired, freed):
		 * they learn it like a DESTROY. */
		oc->state = TK_OCIRC_DEAD;
		if (!cm->freeing)
			tk_ostream_table_fail_all(oc->tbl,
						  TK_RELAY_END_DESTROY);
	}
	oc->state = TK_OCIRC_DEAD;
	cm->tp->close(oc);
	if (oc->tbl) {
		tk_ostream_table_free(oc->tbl);
		oc->tbl = NULL;
	}
	for (s = oc->slots; s; s = n) {
		n = s->next;
		free(s);
	}
	oc->slots = NULL;
	if (oc->prev)
		oc->prev->next = oc->next;
	else
		cm->circs = oc->next;
	if (oc->next)
		oc->next->prev = oc->prev;
	for (struct tk_circreq *r = cm->reqs; r; r = r->next)
		if (r->waiting_on == oc)
			r->waiting_on = NULL;
	tk_cm_owner_event(oc, TK_OCIRC_EV_GONE, "closed");
	tk_policy_summary_free(&oc->exit_p);
	tk_policy_summary_free(&oc->exit_p6);
	free(oc->iso);
	free(tk_cm_full(oc));
}

void
tk_cm_teardown_cb(struct tk_defer *d)
{
	struct oc_full *f = container_of(d, struct oc_full, teardown);
	oc_teardown(&f->oc);
}

/* Queues the teardown: callers are often inside the circuit's callbacks. */
void
tk_cm_close_later(struct tk_ocirc *oc)
{
	if (oc->closed)
		return;
	oc->closed = 1;
	tk_circmgr_defer(oc->cm, &tk_cm_full(oc)->teardown);
}

void
tk_cm_preempt_failed(tk_circmgr *cm)
{
	uint64_t d = PREEMPT_BACKOFF_MIN_MS;
	for (unsigned i = 0;
	     i < cm->preempt_fails && d < PREEMPT_BACKOFF_MAX_MS; i++)
		d *= 2;
	if (d > PREEMPT_BACKOFF_MAX_MS)
		d = PREEMPT_BACKOFF_MAX_MS;
	cm->preempt_fails++;
	cm->preempt_ok_at = uv_now(cm->loop) + d;
}

void
tk_cm_oc_fail(struct tk_ocirc *oc, const char *why)
{
	tk_circmgr *cm = oc->cm;
	if (oc->state != TK_OCIRC_BUILDING)
		return;
	oc->state = TK_OCIRC_DEAD;
	cm->st.failed++;
	if (tk_cm_full(oc)->preemptive)
		tk_cm_preempt_failed(cm);
	tk_cm_log(cm, TK_LOG_NOTICE,
		  "circ %u (%s~%s~%s) failed after %d hop%s: %s", oc->serial,
		  oc->nick[0], oc->nick[1], oc->nick[2], oc->n_hops,
		  oc->n_hops == 1 ? "" : "s", why);
	for (struct tk_circreq *r = cm->reqs; r; r = r->next)
		if (r->waiting_on == oc) {
			r->waiting_on = NULL;
			r->builds_failed++;
		}
	tk_cm_close_later(oc);
	tk_cm_kick_requests(cm);
	tk_cm_owner_event(oc, TK_OCIRC_EV_FAILED, why);
}

/* The circuit died after it was built, or the exit broke the stream
 * protocol: its streams fail with DESTROY (C tor's reason). */
void
tk_cm_oc_kill(struct tk_ocirc *oc, const char *why)
{
	tk_circmgr *cm = oc->cm;
	if (oc->state != TK_OCIRC_OPEN)
		return;
	oc->state = TK_OCIRC_DEAD;
	cm->st.lost++;
	tk_cm_log(cm, TK_LOG_NOTICE, "circ %u (%s~%s~%s) closed: %s",
		  oc->serial, oc->nick[0], oc->nick[1], oc->nick[2], why);
	if (oc->tbl)
		tk_ostream_table_fail_all(oc->tbl, TK_RELAY_END_DESTROY);
	tk_cm_close_later(oc);
	tk_cm_kick_requests(cm);
	tk_cm_owner_event(oc, TK_OCIRC_EV_LOST, why);
}

void
tk_cm_oc_lost(struct tk_ocirc *oc, const char *why)
{
	tk_cm_oc_kill(oc, why);
}

void
tk_cm_dequeue(tk_circmgr *cm, struct tk_circreq *r)
{
	if (!r->queued)
		return;
	if (r->prev)
		r->prev->next = r->next;
	else
		cm->reqs = r->next;
	if (r->next)
		r->next->prev = r->prev;
	else
		cm->reqs_tail = r->prev;
	r->next = r->prev = NULL;
	r->queued = 0;
	r->waiting_on = NULL;
}

/* --------------------------------------------------------- lifecycle */

/* Until a user registers, nobody opens streams; closed() is the one
 * stream.h calls unconditionally. */
static void
no_closed(void *ud, tk_ostream *s, int remote, const tk_relay_end *end)
{
	(void)ud, (void)s, (void)remote, (void)end;
}

const struct tk_circmgr_user tk_cm_no_user = { .closed = no_closed };

void
tk_circmgr_set_user(tk_circmgr *cm, const struct tk_circmgr_user *u)
{
	cm->user = *u;
	cm->table_ops.connected = u->connected;
	cm->table_ops.data = u->data;
	cm->table_ops.resolved = u->resolved;
	cm->table_ops.closed = u->closed;
	cm->table_ops.writable = u->writable;
}

void
tk_circmgr_dir_changed(tk_circmgr *cm)
{
	cm->warned_nopath = 0;
	tk_cm_kick_requests(cm);
}

static void
on_handle_closed(uv_handle_t *h)
{
	tk_circmgr *cm = h->data;
	if (--cm->handles_open == 0) {
		free(cm->data_dir);
		free(cm);
	}
}

void
tk_circmgr_free(tk_circmgr *cm)
{
	if (!cm)
		return;
	if (cm->in_kick) {
		/* From an application callback: the object being served is
		 * still in use; free once the pass ends. */
		cm->free_pending = 1;
		return;
	}
	do_free(cm);
}

static void
do_free(tk_circmgr *cm)
{
	cm->free_pending = 0;
	cm->freeing = 1;
	if (cm->user.shutdown)
		cm->user.shutdown(cm->user.arg);
	tk_circmgr_set_user(cm, &tk_cm_no_user);
	while (cm->reqs)
		tk_cm_dequeue(cm, cm->reqs);
	while (cm->circs)
		oc_teardown(cm->circs);
	cm->tp->destroy(cm->tp_state);
	cm->tp_state = NULL;
	cm->dq = cm->dq_tail = NULL;
	tk_cm_save_state(cm);
	tk_guards_free(cm->guards);
	cm->guards = NULL;
	tk_cbt_free(cm->cbt);
	cm->cbt = NULL;
	free(cm->state_path);
	cm->state_path = NULL;
	uv_timer_stop(&cm->kick);
	uv_timer_stop(&cm->tick);
	uv_close((uv_handle_t *)&cm->kick, on_handle_closed);
	uv_close((uv_handle_t *)&cm->tick, on_handle_closed);
}

unsigned
tk_circmgr_newnym(tk_circmgr *cm)
{
	unsigned n = 0;

	/* tor's circuit_mark_all_dirty_circs_as_unusable: what carried a
	 * stream, or was promised to one (claimed by its key), takes no new
	 * streams; the tick closes each once its streams are done. Clean
	 * circuits stay: nothing links them to anyone yet. */
	for (struct tk_ocirc *oc = cm->circs; oc; oc = oc->next) {
		if (oc->closed || oc->unusable || oc->state == TK_OCIRC_DEAD)
			continue;
		if (!oc->dirty_since && !oc->has_iso)
			continue;
		oc->unusable = 1;
		n++;
	}
	tk_cm_log(cm, TK_LOG_INFO, "NEWNYM: %u circuit%s take no new streams",
		  n, n == 1 ? "" : "s");
	/* A request queued from now on finds no old circuit; keep a clean
	 * one ready. */
	tk_cm_kick_requests(cm);
	return n;
}

void
tk_circmgr_get_stats(const tk_circmgr *cm, struct tk_circmgr_stats *st)
{
	*st = cm->st;
	st->open = st->building = st->channels = 0;
	for (const struct tk_ocirc *oc = cm->circs; oc; oc = oc->next) {
		if (oc->state == TK_OCIRC_OPEN)
			st->open++;
		else if (oc->state == TK_OCIRC_BUILDING)
			st->building++;
	}
	st->channels = cm->tp_state ? cm->tp->channels(cm->tp_state) : 0;
}

int
tk_circmgr_describe(const tk_circmgr *cm, uint32_t serial, char *buf,
		    size_t cap)
{
	static const char *names[] = { "building", "open", "dead" };
	for (const struct tk_ocirc *oc = cm->circs; oc; oc = oc->next) {
		const tk_circ_flow *f;
		char cc[160] = "";
		if (oc->serial != serial)
			continue;
		/* congestion control's state, as tor's CIRC_BW event has it */
		f = oc->state == TK_OCIRC_OPEN && cm->tp->exit_flow
			    ? cm->tp->exit_flow((struct tk_ocirc *)oc)
			    : NULL;
		if (f && f->has_cc)
			snprintf(cc, sizeof cc,
				 " cc%s cwnd %lu rtt %lu/%lu ms inflight %lu"
				 " acks %lu (%lu blocked)",
				 f->cc.in_slow_start ? " slow-start" : "",
				 (unsigned long)f->cc.cwnd,
				 (unsigned long)(f->cc.min_rtt / 1000),
				 (unsigned long)(f->cc.ewma_rtt / 1000),
				 (unsigned long)f->cc.inflight,
				 (unsigned long)f->cc.sendmes,
				 (unsigned long)f->cc.blocked_acks);
		return snprintf(buf, cap, "circ %u %s~%s~%s %s%s%s%s",
				oc->serial, oc->nick[0], oc->nick[1],
				oc->nick[2], names[oc->state],
				oc->dirty_since ? " dirty" : "",
				oc->unusable ? " retired" : "", cc);
	}
	return -1;
}
