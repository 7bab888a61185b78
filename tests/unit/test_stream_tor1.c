/* The pure layers assembled as the engine will assemble them, over real
 * tor1 relay crypto: a client (stream table + circuit flow control) and a
 * simulated 3-hop path whose exit echoes a stream back, with its own
 * windows. 2 MB each way forces circuit SENDME v1 both ways (tags are real
 * relay digests, so the exit checks ours and we check the exit's) and
 * stream SENDMEs; a backpressure phase makes the exit run out of stream
 * window. No sockets: cells go through two in-memory queues. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "onion/cell/cell.h"
#include "onion/base/crypto.h"
#include "onion/circ/flowctl.h"
#include "onion/circ/relay_crypto.h"
#include "onion/circ/stream.h"
#include "../unit/tap.h"

#ifndef TOTAL
#define TOTAL (2u << 20) /* -DTOTAL=... for a bigger run */
#endif
#define QCAP 8192

struct queue {
	uint8_t cells[QCAP][TK_CELL_PAYLOAD_LEN];
	size_t head, n;
};
static struct queue to_exit, to_client;
static int overflow;

static void push(struct queue *q, const uint8_t *p)
{
	if (q->n == QCAP) {
		overflow++;
		return;
	}
	memcpy(q->cells[(q->head + q->n) % QCAP], p, TK_CELL_PAYLOAD_LEN);
	q->n++;
}

static int pop(struct queue *q, uint8_t *p)
{
	if (!q->n)
		return 0;
	memcpy(p, q->cells[q->head], TK_CELL_PAYLOAD_LEN);
	q->head = (q->head + 1) % QCAP;
	q->n--;
	return 1;
}

static uint8_t *src, *got;
static size_t received;
static int failures; /* any protocol check that failed, on either side */

/* ---- client ---------------------------------------------------------- */
static tk_relay_hop chops[3];
static tk_circ_flow cflow;
static tk_ostream_table *tbl;
static int opened, closed, sealed_ok = 1;

static void client_seal(uint8_t cmd, uint16_t sid, const uint8_t *b,
			size_t len)
{
	uint8_t p[TK_CELL_PAYLOAD_LEN], tag[TK_RELAY_TAG_LEN];
	if (tk_relay_payload_build(p, cmd, sid, b, len) != 0 ||
	    tk_relay_crypt_seal(chops, 3, 2, p, tag) != 0)
		sealed_ok = 0;
	if (cmd == TK_RELAY_DATA && tk_circ_flow_data_sent(&cflow, tag, 0) != 0)
		failures++;
	push(&to_exit, p);
}

static int c_send(void *ud, uint8_t cmd, uint16_t sid, const uint8_t *b,
		  size_t len)
{
	(void)ud;
	client_seal(cmd, sid, b, len);
	return 0;
}

static int c_can(void *ud)
{
	(void)ud;
	return tk_circ_flow_can_package(&cflow);
}

static void c_connected(void *ud, tk_ostream *s, const tk_relay_connected *c)
{
	(void)ud;
	(void)s;
	opened = c->addr.family == 4 && c->ttl == 60;
}

static void c_data(void *ud, tk_ostream *s, const uint8_t *p, size_t len)
{
	(void)ud;
	(void)s;
	if (received + len > TOTAL) {
		failures++;
		return;
	}
	memcpy(got + received, p, len);
	received += len;
}

static void c_closed(void *ud, tk_ostream *s, int remote,
		     const tk_relay_end *e)
{
	(void)ud;
	(void)s;
	(void)remote;
	(void)e;
	closed = 1;
}

static const tk_ostream_ops cops = {
	.send = c_send,
	.circ_can_package = c_can,
	.connected = c_connected,
	.data = c_data,
	.closed = c_closed,
};

static void client_recv(uint8_t *p)
{
	uint8_t tag[TK_RELAY_TAG_LEN], sb[23];
	size_t from, sl;
	tk_relay_header h;
	const uint8_t *body;
	if (tk_relay_crypt_open(chops, 3, p, &from, tag) != 0 || from != 2 ||
	    tk_relay_header_parse(p, &h, &body) != 0) {
		failures++;
		return;
	}
	if (h.cmd == TK_RELAY_DATA) {
		/* Circuit level first, whatever the stream. */
		if (tk_circ_flow_data_received(&cflow, tag, sb, &sl) != 0)
			failures++;
		if (sl)
			client_seal(TK_RELAY_SENDME, 0, sb, sl);
	}
	if (h.stream_id == 0) {
		if (h.cmd != TK_RELAY_SENDME ||
		    tk_circ_flow_sendme_received(&cflow, body, h.length, 0, 0) != 0)
			failures++;
		else
			tk_ostream_table_circ_writable(tbl);
		return;
	}
	if (tk_ostream_table_deliver(tbl, h.cmd, h.stream_id, body, h.length))
		failures++;
}

/* ---- the path and the echo exit --------------------------------------- */
static tk_relay_hop rhops[3];
static tk_circ_flow eflow;
static tk_stream_flow esf;
static uint16_t esid;
static uint8_t *echo;
static size_t e_in, e_out;
static int exit_ended, exit_blocked_seen;

static void exit_send(uint8_t cmd, uint16_t sid, const uint8_t *b,
		      size_t len)
{
	uint8_t p[TK_CELL_PAYLOAD_LEN], tag[TK_RELAY_TAG_LEN];
	tk_relay_payload_build(p, cmd, sid, b, len);
	tk_relay_dir_set_digest(&rhops[2].bwd, p, tag);
	for (int i = 2; i >= 0; i--)
		tk_relay_dir_crypt(&rhops[i].bwd, p);
	if (cmd == TK_RELAY_DATA && tk_circ_flow_data_sent(&eflow, tag, 0) != 0)
		failures++;
	push(&to_client, p);
}

static void exit_pump(void)
{
	while (e_out < e_in && tk_circ_flow_can_package(&eflow) &&
	       tk_stream_flow_can_package(&esf)) {
		size_t n = e_in - e_out;
		if (n > TK_RELAY_DATA_MAX)
			n = TK_RELAY_DATA_MAX;
		exit_send(TK_RELAY_DATA, esid, echo + e_out, n);
		tk_stream_flow_data_sent(&esf);
		e_out += n;
	}
	if (e_out < e_in && !tk_stream_flow_can_package(&esf))
		exit_blocked_seen = 1;
}

static void exit_recv(uint8_t *p)
{
	uint8_t tag[TK_RELAY_TAG_LEN], sb[23];
	size_t sl;
	tk_relay_header h;
	const uint8_t *body;
	for (int i = 0; i < 3; i++)
		tk_relay_dir_crypt(&rhops[i].fwd, p);
	if (tk_relay_dir_check_digest(&rhops[2].fwd, p, tag) != 1 ||
	    tk_relay_header_parse(p, &h, &body) != 0) {
		failures++;
		return;
	}
	switch (h.cmd) {
	case TK_RELAY_BEGIN: {
		tk_relay_begin b;
		uint8_t c[8] = { 127, 0, 0, 1, 0, 0, 0, 60 };
		if (tk_relay_begin_decode(body, h.length, &b) != 0 ||
		    b.port != 7)
			failures++;
		esid = h.stream_id;
		exit_send(TK_RELAY_CONNECTED, esid, c, sizeof c);
		break;
	}
	case TK_RELAY_DATA:
		if (tk_circ_flow_data_received(&eflow, tag, sb, &sl) != 0 ||
		    tk_stream_flow_data_received(&esf) != 0 ||
		    h.stream_id != esid || e_in + h.length > TOTAL) {
			failures++;
			break;
		}
		if (sl)
			exit_send(TK_RELAY_SENDME, 0, sb, sl);
		memcpy(echo + e_in, body, h.length);
		e_in += h.length;
		for (int n = tk_stream_flow_sendmes_due(&esf, 0); n > 0; n--)
			exit_send(TK_RELAY_SENDME, esid, NULL, 0);
		exit_pump();
		break;
	case TK_RELAY_SENDME:
		if (h.stream_id == 0) {
			/* The exit checks our v1 tags against its digests. */
			if (tk_circ_flow_sendme_received(&eflow, body,
							 h.length, 0, 0) != 0)
				failures++;
		} else if (tk_stream_flow_sendme_received(&esf) != 0) {
			failures++;
		}
		exit_pump();
		break;
	case TK_RELAY_END:
		exit_ended = body[0] == TK_RELAY_END_MISC;
		break;
	default:
		failures++;
	}
}

int main(void)
{
	uint8_t keys[3][72];
	tk_crypto_init();
	src = malloc(TOTAL);
	got = malloc(TOTAL);
	echo = malloc(TOTAL);
	if (!src || !got || !echo)
		return 1;
	tk_random(src, TOTAL);
	for (int i = 0; i < 3; i++) {
		tk_random(keys[i], 72);
		tk_relay_hop_init(&chops[i], keys[i]);
		tk_relay_hop_init(&rhops[i], keys[i]);
	}
	tk_circ_flow_init(&cflow);
	tk_circ_flow_init(&eflow);
	cflow.accept_min_version = eflow.accept_min_version = 1;
	tk_stream_flow_init(&esf);
	tbl = tk_ostream_table_new(&cops, NULL);

	tk_ostream *s;
	tap_eq_long(tk_ostream_begin(tbl, "Echo.Test", 7, 0, 0, NULL, &s), 0,
		    "BEGIN sealed for the exit");
	tk_ostream_set_optimistic(s, 0);

	size_t written = 0, stalls = 0;
	int backed = 0, backpressure_done = 0, exit_window_shut = 0;
	uint8_t p[TK_CELL_PAYLOAD_LEN];
	for (long iter = 0; iter < 1000000 && received < TOTAL; iter++) {
		int progress = 0;
		if (opened && written < TOTAL) {
			long n = tk_ostream_write(tbl, s, src + written,
						 TOTAL - written);
			if (n < 0)
				break;
			written += (size_t)n;
			progress |= n > 0;
		}
		while (pop(&to_exit, p)) {
			exit_recv(p);
			progress = 1;
		}
		while (pop(&to_client, p)) {
			client_recv(p);
			progress = 1;
		}
		if (!backpressure_done && received >= TOTAL / 4) {
			tk_ostream_set_backed_up(tbl, s, 1);
			backed = 1;
			backpressure_done = 1;
		}
		if (!progress) {
			if (!backed)
				break; /* stuck: the checks below fail */
			/* Stalled by our own backpressure: the exit must be
			 * out of stream window now. */
			exit_window_shut = esf.package_window == 0 &&
					   e_out < e_in;
			stalls++;
			backed = 0;
			tk_ostream_set_backed_up(tbl, s, 0);
		}
	}
	/* Let the last SENDMEs in flight land. */
	for (int k = 0; k < 100 && (to_exit.n || to_client.n); k++) {
		while (pop(&to_exit, p))
			exit_recv(p);
		while (pop(&to_client, p))
			client_recv(p);
	}
	tap_ok(sealed_ok && overflow == 0, "cells sealed, queues never full");
	tap_eq_long(failures, 0, "no protocol check failed on either side");
	tap_ok(opened, "CONNECTED 127.0.0.1 ttl 60 reached the stream");
	tap_eq_long((long)received, (long)TOTAL, "%u KiB echoed back",
		    (unsigned)(TOTAL >> 10));
	tap_ok(received == TOTAL && memcmp(src, got, TOTAL) == 0,
	       "byte for byte");
	tap_ok(stalls == 1 && exit_window_shut && exit_blocked_seen,
	       "backpressure stopped the exit at its stream window");
	tap_ok(cflow.sendmes_received >= 40 &&
		       cflow.sendmes_received == eflow.sendmes_sent,
	       "exit's circuit SENDME v1 all verified by us (%llu)",
	       (unsigned long long)cflow.sendmes_received);
	tap_ok(eflow.sendmes_received >= 40 &&
		       eflow.sendmes_received == cflow.sendmes_sent,
	       "our circuit SENDME v1 all verified by the exit (%llu)",
	       (unsigned long long)eflow.sendmes_received);
	tap_ok(cflow.data_sent == eflow.data_received &&
		       eflow.data_sent == cflow.data_received &&
		       cflow.data_sent >= TOTAL / TK_RELAY_DATA_MAX,
	       "DATA counted alike at both ends (%llu cells out)",
	       (unsigned long long)cflow.data_sent);
	tap_ok(tk_ostream_windows(s)->deliver_window > 450 &&
		       esf.deliver_window > 450,
	       "stream SENDMEs kept both deliver windows open");

	tap_eq_long(tk_ostream_close(tbl, s), 0, "close");
	while (pop(&to_exit, p))
		exit_recv(p);
	tap_ok(exit_ended && !closed, "exit got END MISC; no callback for us");
	tap_eq_long((long)tk_ostream_table_half_closed(tbl), 1,
		    "id kept half-closed");

	tk_ostream_table_free(tbl);
	for (int i = 0; i < 3; i++) {
		tk_relay_hop_free(&chops[i]);
		tk_relay_hop_free(&rhops[i]);
	}
	free(src);
	free(got);
	free(echo);
	return tap_done();
}
