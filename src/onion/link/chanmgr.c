/* chanmgr.h: one channel per relay identity. */
#include "onion/link/chanmgr.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/link/padding.h"

struct entry {
	tk_chanmgr *m;
	tk_channel *ch;
	tk_channel_target target;
	int open;
	struct tk_chanmgr_req *waiters;
	struct entry *next;
};

struct tk_chanmgr_req {
	uv_timer_t timer; /* completions always run from the loop */
	struct entry *e;  /* while waiting for a handshake */
	tk_channel *ch;
	int status;
	char errmsg[256];
	tk_chanmgr_cb cb;
	void *arg;
	struct tk_chanmgr_req *next;	 /* in the entry's waiters */
	struct tk_chanmgr_req *all_next; /* in the manager's live requests */
	tk_chanmgr *m;
	int done;
};

struct tk_chanmgr {
	uv_loop_t *loop;
	unsigned timeout_ms;
	struct entry *entries;
	struct tk_chanmgr_req *reqs; /* not yet completed or cancelled */
	tk_chanmgr_stall_cb stall_cb;
	void *stall_arg;
	unsigned idle_ms, stall_first_ms; /* tests; 0: tor's */
};

tk_chanmgr *
tk_chanmgr_new(uv_loop_t *loop, unsigned timeout_ms)
{
	tk_chanmgr *m = calloc(1, sizeof *m);
	if (m) {
		m->loop = loop;
		m->timeout_ms = timeout_ms;
	}
	return m;
}

size_t
tk_chanmgr_count(const tk_chanmgr *m)
{
	size_t n = 0;
	for (const struct entry *e = m->entries; e; e = e->next)
		n++;
	return n;
}

static void
on_req_closed(uv_handle_t *h)
{
	free(h->data);
}

static void
req_forget(struct tk_chanmgr_req *r)
{
	for (struct tk_chanmgr_req **p = &r->m->reqs; *p; p = &(*p)->all_next)
		if (*p == r) {
			*p = r->all_next;
			return;
		}
}

static void
on_req_timer(uv_timer_t *t)
{
	struct tk_chanmgr_req *r = t->data;
	req_forget(r);
	r->done = 1;
	uv_close((uv_handle_t *)&r->timer, on_req_closed);
	r->cb(r->ch, r->status, r->errmsg, r->arg);
}

static void
complete(struct tk_chanmgr_req *r, tk_channel *ch, int status,
	 const char *errmsg)
{
	r->e = NULL;
	r->ch = status == 0 ? ch : NULL;
	r->status = status;
	snprintf(r->errmsg, sizeof r->errmsg, "%s", errmsg ? errmsg : "");
	uv_timer_start(&r->timer, on_req_timer, 0, 0);
}

static void
unlink_entry(tk_chanmgr *m, struct entry *e)
{
	for (struct entry **p = &m->entries; *p; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			return;
		}
}

static void
on_entry_closed(tk_channel *ch, void *arg)
{
	(void)ch;
	free(arg);
}

void
tk_chanmgr_set_stall_cb(tk_chanmgr *m, tk_chanmgr_stall_cb cb, void *arg)
{
	m->stall_cb = cb;
	m->stall_arg = arg;
}

void
tk_chanmgr_set_timing(tk_chanmgr *m, unsigned idle_ms, unsigned stall_first_ms)
{
	m->idle_ms = idle_ms;
	m->stall_first_ms = stall_first_ms;
}

static void
on_stalled(tk_channel *ch, enum tk_channel_stall why, void *arg)
{
	struct entry *e = arg;
	(void)ch;
	if (e->m->stall_cb)
		e->m->stall_cb(e->target.rsa_id, why, e->m->stall_arg);
}

/* tor's client channels: 180 s plus up to 90 s, halved with
 * ReducedConnectionPadding (channelpadding_get_channel_idle_timeout). */
static unsigned
idle_ms(const tk_chanmgr *m)
{
	uint8_t r[4];
	unsigned s;
	if (m->idle_ms)
		return m->idle_ms;
	tk_random(r, sizeof r);
	s = 180 + tk_get_u32(r) % 90;
	if (tk_padding_options()->reduced)
		s /= 2;
	return s * 1000;
}

static void
on_idle(tk_channel *ch, void *arg)
{
	struct entry *e = arg;
	/* An answer on its way hands this channel out: keep it. */
	for (struct tk_chanmgr_req *r = e->m->reqs; r; r = r->all_next)
		if (r->ch == ch)
			return;
	unlink_entry(e->m, e);
	tk_channel_close(ch, on_entry_closed);
}

static void
on_open(tk_channel *ch, int status, void *arg)
{
	struct entry *e = arg;
	struct tk_chanmgr_req *r = e->waiters, *next;
	e->waiters = NULL;
	if (status == 0) {
		struct tk_channel_hooks h = {
			.stalled = on_stalled,
			.idle = on_idle,
			.arg = e,
			.idle_ms = idle_ms(e->m),
			.stall_first_ms = e->m->stall_first_ms,
		};
		e->open = 1;
		tk_channel_set_hooks(ch, &h);
	} else {
		unlink_entry(e->m, e);
	}
	for (; r; r = next) {
		next = r->next;
		complete(r, ch, status, status ? tk_channel_errmsg(ch) : "");
	}
	if (status != 0)
		tk_channel_close(ch, on_entry_closed);
}

static void
on_lost(tk_channel *ch, int status, void *arg)
{
	struct entry *e = arg;
	/* Answers already scheduled with this channel must not hand it out. */
	for (struct tk_chanmgr_req *r = e->m->reqs; r; r = r->all_next)
		if (r->ch == ch) {
			r->ch = NULL;
			r->status = status;
			snprintf(r->errmsg, sizeof r->errmsg, "%s",
				 tk_channel_errmsg(ch));
		}
	unlink_entry(e->m, e);
	tk_channel_close(ch, on_entry_closed);
}

static int
matches(const struct entry *e, const tk_channel_target *t)
{
	const tk_channel_info *in;
	if (memcmp(e->target.rsa_id, t->rsa_id, 20) != 0)
		return 0;
	if (!t->has_ed_id)
		return 1;
	if (e->target.has_ed_id)
		return memcmp(e->target.ed_id, t->ed_id, 32) == 0;
	/* opened without an Ed25519 expectation: did it prove this one? */
	in = tk_channel_get_info(e->ch);
	return e->open && in->ed_verified &&
	       memcmp(in->ed_id, t->ed_id, 32) == 0;
}

int
tk_chanmgr_get(tk_chanmgr *m, const tk_channel_target *t, tk_chanmgr_cb cb,
	       void *arg, tk_chanmgr_req **out)
{
	struct tk_chanmgr_req *r;
	struct entry *e;
	int rc;
	*out = NULL;
	if (!cb)
		return UV_EINVAL;
	r = calloc(1, sizeof *r);
	if (!r)
		return TK_CHAN_ENOMEM;
	rc = uv_timer_init(m->loop, &r->timer);
	if (rc < 0) {
		free(r);
		return rc;
	}
	r->timer.data = r;
	r->cb = cb;
	r->arg = arg;
	r->m = m;
	r->all_next = m->reqs;
	m->reqs = r;
	for (e = m->entries; e; e = e->next)
		if (matches(e, t))
			break;
	if (e && e->open) {
		complete(r, e->ch, 0, NULL);
	} else if (e) {
		r->e = e;
		r->next = e->waiters;
		e->waiters = r;
	} else {
		e = calloc(1, sizeof *e);
		if (!e) {
			tk_chanmgr_cancel(r);
			return TK_CHAN_ENOMEM;
		}
		e->m = m;
		e->target = *t;
		rc = tk_channel_open(m->loop, t, m->timeout_ms, on_open,
				     on_lost, e, &e->ch);
		if (rc < 0) {
			free(e);
			tk_chanmgr_cancel(r);
			return rc;
		}
		e->next = m->entries;
		m->entries = e;
		r->e = e;
		e->waiters = r;
	}
	*out = r;
	return 0;
}

void
tk_chanmgr_cancel(tk_chanmgr_req *r)
{
	if (!r || r->done)
		return;
	if (r->e) {
		for (struct tk_chanmgr_req **p = &r->e->waiters; *p;
		     p = &(*p)->next)
			if (*p == r) {
				*p = r->next;
				break;
			}
		r->e = NULL;
	}
	req_forget(r);
	r->done = 1;
	uv_close((uv_handle_t *)&r->timer, on_req_closed);
}

void
tk_chanmgr_free(tk_chanmgr *m)
{
	struct entry *e, *next;
	if (!m)
		return;
	while (m->reqs)
		tk_chanmgr_cancel(m->reqs);
	for (e = m->entries; e; e = next) {
		next = e->next;
		tk_channel_close(e->ch, on_entry_closed);
	}
	free(m);
}
