/* ocirc.h: the circuit manager's real transport, channels from
 * chanmgr.h (one per guard, shared), CREATE2/ntor to the guard, EXTEND2
 * to middle and exit (circuit.h), ntor v3 with the congestion-control
 * request to an exit that supports it. */
#include "onion/client/ocirc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/link/chanmgr.h"

struct rt_circ;

struct rt {
	uv_loop_t *loop;
	const struct tk_ocirc_events *ev;
	tk_chanmgr *chm;
	struct rt_circ *circs; /* every circuit of ours, for on_stall */
};

struct rt_circ {
	struct rt *rt;
	struct tk_ocirc *oc;
	tk_circuit *c;
	tk_chanmgr_req *req;
	int hops;
	struct rt_circ *next, *prev;
};

/* A guard holds cells for us: tell the manager about it through any
 * circuit of ours that starts there. */
static void
on_stall(const uint8_t rsa_id[20], enum tk_channel_stall why, void *arg)
{
	struct rt *r = arg;
	(void)why;
	if (!r->ev->guard_stalled)
		return;
	for (struct rt_circ *rc = r->circs; rc; rc = rc->next)
		if (memcmp(rc->oc->hop[0].rsa_id, rsa_id, 20) == 0) {
			r->ev->guard_stalled(rc->oc);
			return;
		}
}

static void *
rt_new(uv_loop_t *loop, unsigned channel_timeout_ms,
       const struct tk_ocirc_events *ev)
{
	struct rt *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->loop = loop;
	r->ev = ev;
	r->chm = tk_chanmgr_new(loop, channel_timeout_ms);
	if (!r->chm) {
		free(r);
		return NULL;
	}
	tk_chanmgr_set_stall_cb(r->chm, on_stall, r);
	return r;
}

static void
rt_free(void *st)
{
	struct rt *r = st;
	tk_chanmgr_free(r->chm);
	free(r);
}

static unsigned
rt_channels(void *st)
{
	struct rt *r = st;
	return (unsigned)tk_chanmgr_count(r->chm);
}

static unsigned
remaining_ms(const struct rt_circ *rc)
{
	const struct tk_ocirc *oc = rc->oc;
	uint64_t now = uv_now(rc->rt->loop);
	uint64_t left = oc->deadline > now ? oc->deadline - now : 0;
	return left < 1000 ? 1000 : (unsigned)left;
}

static void
on_lost(tk_circuit *c, int status, void *arg)
{
	struct rt_circ *rc = arg;
	char why[300];
	(void)status;
	snprintf(why, sizeof why, "%s", tk_circuit_errmsg(c));
	rc->rt->ev->lost(rc->oc, why);
}

static void
on_writable(tk_circuit *c, void *arg)
{
	struct rt_circ *rc = arg;
	(void)c;
	rc->rt->ev->writable(rc->oc);
}

static void
on_sink(void *arg, int status, int hop, uint8_t cmd, const uint8_t *data,
	size_t len)
{
	/* Relay messages for ids no stream registered: late cells of
	 * streams already forgotten. Dropped, as C tor does. */
	(void)arg, (void)status, (void)hop, (void)cmd, (void)data, (void)len;
}

/* As tor's client (circuit_pick_create_handshake, onion_skin_create):
 * ntor v3 only to the exit, when congestion control is enabled and the
 * exit supports it (FlowCtrl=2 and Relay=4, and an Ed25519 identity to
 * name it by); its message is then the CC request. Guard and middle,
 * and exits without it: ntor v1, fixed windows. */
static tk_circuit_hop_target *
target(struct tk_ocirc *oc, int hop)
{
	tk_circuit_hop_target *h = &oc->hop[hop];
	int v3 = hop == 2 && oc->cc_enabled && oc->supports_cc[2] &&
		 h->has_ed_id;
	h->ntor_v3 = v3;
	h->request_cc = v3;
	return h;
}

static void
on_extended(tk_circuit *c, int status, void *arg)
{
	struct rt_circ *rc = arg;
	char why[300];
	int e;

	if (status != 0) {
		snprintf(why, sizeof why, "extending to %s: %s",
			 rc->oc->nick[rc->hops], tk_circuit_errmsg(c));
		rc->rt->ev->build_done(rc->oc, status, rc->hops, why);
		return;
	}
	rc->hops++;
	if (rc->hops == 3) {
		tk_circuit_set_stream_sink(c, on_sink, on_writable, rc);
		rc->rt->ev->build_done(rc->oc, 0, -1, NULL);
		return;
	}
	e = tk_circuit_extend(c, target(rc->oc, rc->hops), remaining_ms(rc),
			      on_extended, rc);
	if (e != 0)
		rc->rt->ev->build_done(rc->oc, e, rc->hops,
				       tk_circuit_strerror(e));
}

static void
on_built(tk_circuit *c, int status, void *arg)
{
	struct rt_circ *rc = arg;
	char why[300];
	int e;

	if (status != 0) {
		snprintf(why, sizeof why, "first hop %s: %s", rc->oc->nick[0],
			 tk_circuit_errmsg(c));
		rc->rt->ev->build_done(rc->oc, status, 0, why);
		return;
	}
	rc->hops = 1;
	rc->rt->ev->first_hop_ok(rc->oc);
	e = tk_circuit_extend(c, target(rc->oc, 1), remaining_ms(rc),
			      on_extended, rc);
	if (e != 0)
		rc->rt->ev->build_done(rc->oc, e, 1, tk_circuit_strerror(e));
}

static void
on_channel(tk_channel *ch, int status, const char *errmsg, void *arg)
{
	struct rt_circ *rc = arg;
	char why[300];
	int e;

	rc->req = NULL;
	if (status != 0) {
		snprintf(why, sizeof why, "cannot reach guard %s: %s",
			 rc->oc->nick[0], errmsg ? errmsg : "");
		rc->rt->ev->build_done(rc->oc, status, 0, why);
		return;
	}
	tk_channel_note_multihop(ch); /* tor pads it from now on */
	e = tk_circuit_create_ntor(ch, target(rc->oc, 0), remaining_ms(rc),
				   on_built, on_lost, rc, &rc->c);
	if (e != 0) {
		rc->c = NULL;
		rc->rt->ev->build_done(rc->oc, e, 0, tk_circuit_strerror(e));
	}
}

static int
rt_build(void *st, struct tk_ocirc *oc)
{
	struct rt *r = st;
	struct rt_circ *rc = calloc(1, sizeof *rc);
	tk_channel_target t;
	int e;

	if (!rc)
		return -1;
	rc->rt = r;
	rc->oc = oc;
	rc->next = r->circs;
	if (r->circs)
		r->circs->prev = rc;
	r->circs = rc;
	memset(&t, 0, sizeof t);
	t.addr = oc->hop[0].addr;
	memcpy(t.rsa_id, oc->hop[0].rsa_id, 20);
	t.has_ed_id = oc->hop[0].has_ed_id;
	memcpy(t.ed_id, oc->hop[0].ed_id, 32);
	e = tk_chanmgr_get(r->chm, &t, on_channel, rc, &rc->req);
	if (e != 0) {
		r->circs = rc->next;
		if (rc->next)
			rc->next->prev = NULL;
		free(rc);
		return -1;
	}
	oc->tp = rc;
	return 0;
}

static void
on_added(tk_circuit *c, int status, void *arg)
{
	struct rt_circ *rc = arg;
	char why[300];

	if (status != 0) {
		snprintf(why, sizeof why, "extending to %s: %s",
			 rc->oc->nick[rc->hops], tk_circuit_errmsg(c));
		rc->rt->ev->extended(rc->oc, status, why);
		return;
	}
	rc->hops++;
	rc->rt->ev->extended(rc->oc, 0, NULL);
}

/* One more hop on a built circuit (an adopted internal circuit): ntor
 * v1, as target() gives every hop but an exit's. */
static int
rt_extend(struct tk_ocirc *oc)
{
	struct rt_circ *rc = oc->tp;
	if (!rc || !rc->c || rc->hops >= TK_OCIRC_MAX_HOPS)
		return -1;
	return tk_circuit_extend(rc->c, target(oc, rc->hops), remaining_ms(rc),
				 on_added, rc) == 0
		       ? 0
		       : -1;
}

static int
rt_send(struct tk_ocirc *oc, uint8_t cmd, uint16_t sid, const uint8_t *body,
	size_t len)
{
	struct rt_circ *rc = oc->tp;
	if (!rc || !rc->c)
		return -1;
	return tk_circuit_send(rc->c, -1, cmd, sid, body, len, 0) < 0 ? -1 : 0;
}

static int
rt_can_package(struct tk_ocirc *oc)
{
	struct rt_circ *rc = oc->tp;
	return rc && rc->c && tk_circuit_package_window(rc->c, -1) > 0;
}

static int
rt_stream_add(struct tk_ocirc *oc, tk_circuit_stream_cb cb, void *slot,
	      uint16_t *sid)
{
	struct rt_circ *rc = oc->tp;
	if (!rc || !rc->c)
		return -1;
	return tk_circuit_stream_add(rc->c, cb, slot, sid) == 0 ? 0 : -1;
}

static void
rt_stream_remove(struct tk_ocirc *oc, uint16_t sid)
{
	struct rt_circ *rc = oc->tp;
	if (rc && rc->c)
		tk_circuit_stream_remove(rc->c, sid);
}

static const tk_circ_flow *
rt_exit_flow(struct tk_ocirc *oc)
{
	struct rt_circ *rc = oc->tp;
	return rc && rc->c ? tk_circuit_flow(rc->c, -1) : NULL;
}

static void
rt_close(struct tk_ocirc *oc)
{
	struct rt_circ *rc = oc->tp;
	if (!rc)
		return;
	oc->tp = NULL;
	if (rc->prev)
		rc->prev->next = rc->next;
	else
		rc->rt->circs = rc->next;
	if (rc->next)
		rc->next->prev = rc->prev;
	if (rc->req)
		tk_chanmgr_cancel(rc->req);
	if (rc->c)
		tk_circuit_close(rc->c);
	free(rc);
}

static tk_circuit *
rt_circuit(struct tk_ocirc *oc)
{
	struct rt_circ *rc = oc->tp;
	return rc ? rc->c : NULL;
}

const struct tk_ocirc_transport tk_ocirc_chan_transport = {
	.create = rt_new,
	.destroy = rt_free,
	.build = rt_build,
	.extend = rt_extend,
	.send = rt_send,
	.can_package = rt_can_package,
	.stream_add = rt_stream_add,
	.stream_remove = rt_stream_remove,
	.close = rt_close,
	.channels = rt_channels,
	.exit_flow = rt_exit_flow,
	.circuit = rt_circuit,
};
