/* engine_tor.c — the bottom of the tor engine (engine_tor_int.h has the
 * map of its parts): request records, names for the log, and the
 * engine's end. */
#include <stdio.h>
#include <stdlib.h>

#include "common/util.h"
#include "daemon/engine_tor_int.h"

struct tk_engine_req *
tk_et_req_new(struct tor_engine *e, int kind, void *arg)
{
	struct tk_engine_req *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return NULL;
	r->e = e;
	r->kind = kind;
	r->arg = arg;
	r->next = e->reqs;
	if (e->reqs != NULL)
		e->reqs->prev = r;
	e->reqs = r;
	e->n_reqs++;
	return r;
}

void
tk_et_req_free(struct tk_engine_req *r)
{
	struct tor_engine *e = r->e;

	if (r->is_deferred) {
		struct tk_engine_req **pp = &e->deferred;

		while (*pp != r)
			pp = &(*pp)->dnext;
		*pp = r->dnext;
	}
	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		e->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	e->n_reqs--;
	free(r);
}

const char *
tk_et_reason_name(int reason)
{
	static const char *const names[] = {
		[TK_END_MISC] = "MISC",
		[TK_END_RESOLVEFAILED] = "RESOLVEFAILED",
		[TK_END_CONNECTREFUSED] = "CONNECTREFUSED",
		[TK_END_EXITPOLICY] = "EXITPOLICY",
		[TK_END_DESTROY] = "DESTROY",
		[TK_END_DONE] = "DONE",
		[TK_END_TIMEOUT] = "TIMEOUT",
		[TK_END_NOROUTE] = "NOROUTE",
		[TK_END_HIBERNATING] = "HIBERNATING",
		[TK_END_INTERNAL] = "INTERNAL",
		[TK_END_RESOURCELIMIT] = "RESOURCELIMIT",
		[TK_END_CONNRESET] = "CONNRESET",
		[TK_END_TORPROTOCOL] = "TORPROTOCOL",
		[TK_END_NOTDIRECTORY] = "NOTDIRECTORY",
	};

	if (reason > 0 && (size_t)reason < ARRAY_SIZE(names) &&
	    names[reason] != NULL)
		return names[reason];
	return "unknown";
}

void
tk_et_describe_circ(struct tor_engine *e, uint32_t circ, char *buf, size_t cap)
{
	if (circ == 0 || tk_onion_describe_circuit(e->o, circ, buf, cap) < 0)
		snprintf(buf, cap, "circ %u", (unsigned)circ);
}

static void
free_on_close(uv_handle_t *h)
{
	free(h->data);
}

void
tk_et_close_done_timer(uv_handle_t *h)
{
	struct tor_engine *e = h->data;

	e->done_timer.data = e;
	uv_close((uv_handle_t *)&e->done_timer, free_on_close);
}

static void
engine_closed_cb(uv_handle_t *h)
{
	struct tor_engine *e = h->data;
	void (*done)(void *) = e->done;
	void *arg = e->done_arg;

	free(e);
	done(arg);
}

/* The engine is freed from the last of its handles to close. */
static void
newnym_timer_closed(uv_handle_t *h)
{
	struct tor_engine *e = h->data;

	uv_close((uv_handle_t *)&e->done_timer, engine_closed_cb);
}

/* The last stream is closed and close() was asked: the circuit manager
 * and the directory go now (their memory is freed as the loop closes
 * their handles), done() runs from our own handle's close. */
void
tk_et_finish(struct tor_engine *e)
{
	if (!e->closing || e->n_streams > 0 || e->o == NULL)
		return;
	tk_onion_free(e->o);
	e->o = NULL;
	uv_close((uv_handle_t *)&e->newnym_timer, newnym_timer_closed);
}
