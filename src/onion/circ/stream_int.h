/* stream_int.h — the stream table's insides, private to stream.c and the
 * part above it, one way down:
 *
 *   stream_deliver.c  the exit's messages for a stream id
 *                     (tk_ostream_table_deliver): CONNECTED, DATA,
 *                     SENDME, XON/XOFF, END, RESOLVED, and what
 *                     arrives for a half-closed id
 *   stream.c          the table: ids, live and half-closed streams,
 *                     streams opened, written to, closed and failed,
 *                     the SENDMEs and XON/XOFF we send, accessors
 *
 * stream.c calls nothing of stream_deliver.c (tools/layers). */
#ifndef TK_ONION_CIRC_STREAM_INT_H
#define TK_ONION_CIRC_STREAM_INT_H

#include <stddef.h>
#include <stdint.h>

#include "onion/circ/stream.h"

struct tk_ostream {
	uint16_t id;
	uint8_t kind;
	uint8_t state;
	uint8_t optimistic;
	uint8_t backed_up;
	uint8_t want_write;  /* a write came up short: owe `writable` */
	tk_stream_flow flow; /* fixed windows */
	tk_stream_xon xon;   /* congestion control */
	void *data;
	tk_ostream *next_zombie;
};

struct tk_ostream_table {
	tk_ostream_ops ops;
	void *ud;
	int cc; /* the exit negotiated congestion control: XON/XOFF */
	struct tk_cc_params params;
	tk_ostream **live;
	size_t n_live, cap_live;
	tk_half_stream *half; /* oldest first */
	size_t n_half, cap_half;
	/* Streams closed while a callback may still hold them: freed when
	 * the outermost call into the table returns. */
	tk_ostream *zombies;
	int depth;
	uint64_t dropped, suspect;
	/* Ids taken by live or half-closed streams: picking a free id stays
	 * cheap however crowded the circuit is. */
	uint8_t used[65536 / 8];
};

/* A call into the table from outside: streams closed meanwhile are freed
 * when the outermost call leaves, never under a caller that holds one. */
void tk_ost_enter(tk_ostream_table *t);
void tk_ost_leave(tk_ostream_table *t);
tk_ostream *tk_ost_find_live(const tk_ostream_table *t, uint16_t id,
			     size_t *idx);
tk_half_stream *tk_ost_find_half(const tk_ostream_table *t, uint16_t id,
				 size_t *idx);
void tk_ost_half_remove_at(tk_ostream_table *t, size_t i);
/* The stream window (or XOFF) and the circuit both let DATA go out. */
int tk_ost_can_write_now(tk_ostream_table *t, const tk_ostream *s);
int tk_ost_send_sendmes(tk_ostream_table *t, tk_ostream *s);
void tk_ost_fail(tk_ostream_table *t, tk_ostream *s);
void tk_ost_finish(tk_ostream_table *t, tk_ostream *s);

#endif
