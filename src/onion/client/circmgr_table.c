/* circmgr.h, the circuit side of each circuit's stream table
 * (stream.h): stream ids, what the table sends, and the accessors the
 * stream layer uses. Above circmgr.c (circmgr_int.h). */
#include <stddef.h>
#include <stdlib.h>

#include "onion/client/circmgr_int.h"

/* ---- the stream table's circuit side */

int
tk_cm_t_send(void *ud, uint8_t cmd, uint16_t sid, const uint8_t *body,
	     size_t len)
{
	struct tk_ocirc *oc = ud;
	if (oc->state != TK_OCIRC_OPEN)
		return -1;
	return oc->cm->tp->send(oc, cmd, sid, body, len);
}

int
tk_cm_t_can_package(void *ud)
{
	struct tk_ocirc *oc = ud;
	return oc->state == TK_OCIRC_OPEN && oc->cm->tp->can_package(oc);
}

void
tk_cm_t_released(void *ud, uint16_t sid)
{
	struct tk_ocirc *oc = ud;
	struct tk_ocirc_slot **pp, *s;
	for (pp = &oc->slots; (s = *pp); pp = &s->next)
		if (s->sid == sid) {
			*pp = s->next;
			if (s->reg) /* the transport still knows it */
				oc->cm->tp->stream_remove(oc, sid);
			free(s);
			return;
		}
}

static void
slot_cb(void *arg, int status, int hop, uint8_t cmd, const uint8_t *data,
	size_t len)
{
	struct tk_ocirc_slot *s = arg;
	struct tk_ocirc *oc = s->oc;
	if (status < 0) {
		s->reg = 0; /* the circuit is going; its lost_cb follows */
		return;
	}
	if (hop != oc->n_hops - 1 || !oc->tbl)
		return; /* only the exit speaks for streams */
	if (tk_ostream_table_deliver(oc->tbl, cmd, s->sid, data, len) ==
	    TK_OSTREAM_EPROTO)
		tk_cm_oc_kill(oc, "the exit broke the stream protocol");
}

void
tk_cm_writable(struct tk_ocirc *oc)
{
	if (oc->tbl && oc->state == TK_OCIRC_OPEN)
		tk_ostream_table_circ_writable(oc->tbl);
}

int
tk_ocirc_stream_id(struct tk_ocirc *oc, uint16_t *sid)
{
	struct tk_ocirc_slot *s;
	int rc;
	if (oc->state != TK_OCIRC_OPEN)
		return -1;
	s = calloc(1, sizeof *s);
	if (!s)
		return -1;
	s->oc = oc;
	rc = oc->cm->tp->stream_add(oc, slot_cb, s, &s->sid);
	if (rc != 0) {
		free(s);
		return -1;
	}
	s->reg = 1;
	s->next = oc->slots;
	oc->slots = s;
	*sid = s->sid;
	return 0;
}

void
tk_ocirc_stream_id_drop(struct tk_ocirc *oc, uint16_t sid)
{
	tk_cm_t_released(oc, sid);
}

void
tk_ocirc_attached(struct tk_ocirc *oc)
{
	if (!oc->dirty_since)
		oc->dirty_since = uv_now(oc->cm->loop);
	/* A clean circuit was taken: keep one ready for the next. */
	tk_cm_kick_requests(oc->cm);
}

void
tk_ocirc_retire(struct tk_ocirc *oc)
{
	oc->unusable = 1;
}

uint32_t
tk_ocirc_serial(const struct tk_ocirc *oc)
{
	return oc->serial;
}

const uint8_t *
tk_ocirc_exit_id(const struct tk_ocirc *oc)
{
	return oc->hop[2].rsa_id;
}

const struct tk_policy_summary *
tk_ocirc_exit_p6(const struct tk_ocirc *oc)
{
	return &oc->exit_p6;
}

tk_ostream_table *
tk_ocirc_streams(struct tk_ocirc *oc)
{
	return oc->tbl;
}
