/* fake_relay.h: the responder side of Tor's link protocol, scripted. */
#include "fake_relay.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "onion/base/bytes.h"
#include "onion/cell/cell.h"
#include "onion/base/crypto.h"
#include "onion/base/kdf.h"
#include "onion/circ/ntor.h"
#include "onion/circ/ntor_v3.h"
#include "onion/circ/relay_crypto.h"
#include "onion/cell/relay_msg.h"

struct buf {
	uint8_t *p;
	size_t len, cap;
};

struct fake_relay {
	uv_loop_t *loop;
	uv_tcp_t listener;
	uv_tcp_t conn;
	int conn_open;
	int handles; /* open libuv handles, freed at zero */
	struct fr_opts opts;
	struct fr_seen seen;
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_pk_context id_key, link_key, other_key;
	uint8_t id_der[2048], link_der[2048], other_der[2048];
	size_t id_len, link_len, other_len;
	mbedtls_x509_crt link_crt;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	int tls_up;
	struct buf in, out, cells, req;
	int got_versions;
	int sent_cells;
	uint32_t circ_id;
	tk_relay_hop hop;
	int hop_ready;
	tk_relay_hop hop2; /* the virtual hop behind us, after EXTEND2 */
	int hop2_ready;
	int cur_hop; /* which hop the message being handled was for */
	uint8_t rsa_id[20];
	uint8_t ntor_b[32], ntor_B[32];        /* our ntor keys */
	uint8_t next_id[20], next_b[32], next_B[32]; /* virtual hop's */
	uint8_t ed_id[32], next_ed[32];	  /* ntor v3 names */
	int sendme_every; /* 100, or the sendme_inc given with CC */
	uint16_t stream_id;
	uint32_t answered[8], held[8]; /* destroy_after */
	int n_answered, n_held;
	int stopping;
	uv_timer_t pad_timer; /* pad_ms */
	uint64_t last_cell;   /* either way, for pad_ms */
	uint64_t starve_hs, starve_created; /* fake_relay_starve */
};

static int buf_add(struct buf *b, const uint8_t *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		uint8_t *q = realloc(b->p, cap);
		if (!q)
			return -1;
		b->p = q;
		b->cap = cap;
	}
	memcpy(b->p + b->len, p, n);
	b->len += n;
	return 0;
}

static void buf_drop(struct buf *b, size_t n)
{
	memmove(b->p, b->p + n, b->len - n);
	b->len -= n;
}

static int bio_send(void *ctx, const unsigned char *p, size_t n)
{
	fake_relay *fr = ctx;
	return buf_add(&fr->out, p, n) == 0 ? (int)n : MBEDTLS_ERR_SSL_ALLOC_FAILED;
}

static int bio_recv(void *ctx, unsigned char *p, size_t n)
{
	fake_relay *fr = ctx;
	if (fr->in.len == 0)
		return MBEDTLS_ERR_SSL_WANT_READ;
	if (n > fr->in.len)
		n = fr->in.len;
	memcpy(p, fr->in.p, n);
	buf_drop(&fr->in, n);
	return (int)n;
}

/* ---- keys and certificates ---------------------------------------- */

static int gen_key(fake_relay *fr, mbedtls_pk_context *k)
{
	mbedtls_pk_init(k);
	if (mbedtls_pk_setup(k, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA)))
		return -1;
	return mbedtls_rsa_gen_key(mbedtls_pk_rsa(*k), mbedtls_ctr_drbg_random,
				   &fr->drbg, 1024, 65537);
}

/* Writes a DER certificate for subject_key signed by issuer_key. */
static int make_cert(fake_relay *fr, mbedtls_pk_context *subject_key,
		     mbedtls_pk_context *issuer_key, const char *subject,
		     const char *issuer, uint8_t *out, size_t cap, size_t *len)
{
	mbedtls_x509write_cert w;
	mbedtls_mpi serial;
	unsigned char tmp[2048];
	int n;
	mbedtls_x509write_crt_init(&w);
	mbedtls_mpi_init(&serial);
	mbedtls_mpi_lset(&serial, 7);
	mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_serial(&w, &serial);
	mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20400101000000");
	mbedtls_x509write_crt_set_subject_name(&w, subject);
	mbedtls_x509write_crt_set_issuer_name(&w, issuer);
	mbedtls_x509write_crt_set_subject_key(&w, subject_key);
	mbedtls_x509write_crt_set_issuer_key(&w, issuer_key);
	mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
	n = mbedtls_x509write_crt_der(&w, tmp, sizeof tmp, mbedtls_ctr_drbg_random,
				      &fr->drbg);
	mbedtls_x509write_crt_free(&w);
	mbedtls_mpi_free(&serial);
	if (n <= 0 || (size_t)n > cap)
		return -1;
	memcpy(out, tmp + sizeof tmp - n, (size_t)n);
	*len = (size_t)n;
	return 0;
}

/* ---- sending -------------------------------------------------------- */

static void on_written(uv_write_t *req, int status)
{
	(void)status;
	free(req->data);
	free(req);
}

static void flush(fake_relay *fr)
{
	uv_write_t *req;
	uv_buf_t b;
	if (fr->out.len == 0 || !fr->conn_open)
		return;
	req = malloc(sizeof *req);
	req->data = fr->out.p;
	b = uv_buf_init((char *)fr->out.p, (unsigned)fr->out.len);
	fr->out.p = NULL;
	fr->out.len = fr->out.cap = 0;
	if (uv_write(req, (uv_stream_t *)&fr->conn, &b, 1, on_written) < 0) {
		free(req->data);
		free(req);
	}
}

static void fr_free(fake_relay *fr)
{
	if (fr->hop_ready)
		tk_relay_hop_free(&fr->hop);
	if (fr->hop2_ready)
		tk_relay_hop_free(&fr->hop2);
	mbedtls_ssl_config_free(&fr->conf);
	mbedtls_x509_crt_free(&fr->link_crt);
	mbedtls_pk_free(&fr->id_key);
	mbedtls_pk_free(&fr->link_key);
	mbedtls_pk_free(&fr->other_key);
	mbedtls_ctr_drbg_free(&fr->drbg);
	mbedtls_entropy_free(&fr->entropy);
	free(fr->in.p);
	free(fr->out.p);
	free(fr->cells.p);
	free(fr->req.p);
	free(fr);
}

static void on_conn_closed(uv_handle_t *h)
{
	fake_relay *fr = h->data;
	fr->conn_open = 0;
	mbedtls_ssl_free(&fr->ssl);
	if (fr->hop_ready) {
		tk_relay_hop_free(&fr->hop);
		fr->hop_ready = 0;
	}
	if (fr->hop2_ready) {
		tk_relay_hop_free(&fr->hop2);
		fr->hop2_ready = 0;
	}
	if (--fr->handles == 0 && fr->stopping)
		fr_free(fr);
}

static void close_conn(fake_relay *fr)
{
	if (fr->conn_open && !uv_is_closing((uv_handle_t *)&fr->conn)) {
		flush(fr);
		uv_close((uv_handle_t *)&fr->conn, on_conn_closed);
	}
}

static void send_plain(fake_relay *fr, const uint8_t *p, size_t n)
{
	fr->last_cell = uv_now(fr->loop);
	while (n > 0) {
		int rc = mbedtls_ssl_write(&fr->ssl, p, n);
		if (rc <= 0)
			return;
		p += rc;
		n -= (size_t)rc;
	}
	flush(fr);
}

/* Sends a handshake cell, honouring close_after_cells. 0 if still open. */
static int send_hs(fake_relay *fr, const uint8_t *p, size_t n)
{
	if (fr->opts.close_after_cells >= 0 &&
	    fr->sent_cells >= fr->opts.close_after_cells) {
		close_conn(fr);
		return -1;
	}
	send_plain(fr, p, n);
	fr->sent_cells++;
	return 0;
}

static void send_fixed(fake_relay *fr, uint32_t circ, uint8_t cmd,
		       const uint8_t *payload, size_t len)
{
	uint8_t cell[TK_CELL_LEN];
	tk_cell_write_fixed(cell, circ, cmd, payload, len);
	send_plain(fr, cell, sizeof cell);
}

static void send_padding(fake_relay *fr)
{
	uint8_t cell[64];
	size_t n;
	uint8_t junk[10] = {0};
	if (!fr->opts.padding)
		return;
	send_fixed(fr, 0, TK_CELL_PADDING, NULL, 0);
	tk_cell_write_var(cell, sizeof cell, 4, 0, TK_CELL_VPADDING, junk,
			  sizeof junk, &n);
	send_plain(fr, cell, n);
}

static void send_handshake(fake_relay *fr)
{
	uint8_t cell[8192], payload[TK_CELL_PAYLOAD_LEN];
	size_t n;
	static const uint8_t ok_versions[] = {0, 3, 0, 4, 0, 5};
	static const uint8_t old_versions[] = {0, 1, 0, 2};
	tk_certs certs;
	tk_netinfo ni;

	if (fr->opts.versions == FR_VERSIONS_NETINFO_FIRST) {
		send_fixed(fr, 0, TK_CELL_NETINFO, NULL, 0);
		return;
	}
	if (fr->opts.versions == FR_VERSIONS_OLD)
		tk_cell_write_var(cell, sizeof cell, 2, 0, TK_CELL_VERSIONS,
				  old_versions, sizeof old_versions, &n);
	else
		tk_cell_write_var(cell, sizeof cell, 2, 0, TK_CELL_VERSIONS,
				  ok_versions, sizeof ok_versions, &n);
	if (send_hs(fr, cell, n) < 0)
		return;
	send_padding(fr);
	if (fr->opts.oversized) {
		/* CERTS that claims 4000 bytes, then the relay hangs up. */
		uint8_t partial[20] = {0, 0, 0, 0, TK_CELL_CERTS, 0x0f, 0xa0, 2};
		send_plain(fr, partial, sizeof partial);
		close_conn(fr);
		return;
	}
	memset(&certs, 0, sizeof certs);
	certs.e[certs.n].type = TK_CERTTYPE_LINK;
	if (fr->opts.certs == FR_CERTS_OTHER_LINK ||
	    fr->opts.certs == FR_CERTS_WRONG_SIGNER) {
		certs.e[certs.n].body = fr->other_der;
		certs.e[certs.n].len = (uint16_t)fr->other_len;
	} else {
		certs.e[certs.n].body = fr->link_der;
		certs.e[certs.n].len = (uint16_t)fr->link_len;
	}
	certs.n++;
	if (fr->opts.certs != FR_CERTS_NO_ID) {
		certs.e[certs.n].type = TK_CERTTYPE_RSA_ID;
		certs.e[certs.n].body = fr->id_der;
		certs.e[certs.n].len = (uint16_t)fr->id_len;
		certs.n++;
	}
	{
		uint8_t body[6000];
		size_t blen;
		tk_certs_write(&certs, body, sizeof body, &blen);
		if (fr->opts.certs == FR_CERTS_MALFORMED)
			body[2] = 0xff; /* first cert's length runs past the end */
		tk_cell_write_var(cell, sizeof cell, 4, 0, TK_CELL_CERTS, body,
				  blen, &n);
	}
	if (send_hs(fr, cell, n) < 0)
		return;
	{
		uint8_t ac[36];
		memset(ac, 0x11, 32);
		ac[32] = 0;
		ac[33] = 1;
		ac[34] = 0;
		ac[35] = 3;
		tk_cell_write_var(cell, sizeof cell, 4, 0, TK_CELL_AUTH_CHALLENGE,
				  ac, sizeof ac, &n);
	}
	if (send_hs(fr, cell, n) < 0)
		return;
	send_padding(fr);
	memset(&ni, 0, sizeof ni);
	ni.time = 1700000000u;
	ni.other.type = TK_NETINFO_ADDR_IPV4;
	ni.other.len = 4;
	memcpy(ni.other.addr, "\x7f\x00\x00\x01", 4);
	ni.n_my = 1;
	ni.my[0] = ni.other;
	tk_netinfo_write(&ni, payload);
	tk_cell_write_fixed(cell, 0, TK_CELL_NETINFO, payload, sizeof payload);
	send_hs(fr, cell, TK_CELL_LEN);
}

/* ---- relay side of a one-hop circuit ---------------------------------- */

/* From hop 1 (us) or, once extended, hop 2 (the virtual one). */
static void send_relay_from(fake_relay *fr, int from, uint8_t cmd,
			    uint16_t sid, const uint8_t *data, size_t len)
{
	uint8_t payload[TK_CELL_PAYLOAD_LEN];
	tk_relay_payload_build(payload, cmd, sid, data, len);
	if (from == 2) {
		tk_relay_dir_set_digest(&fr->hop2.bwd, payload, NULL);
		tk_relay_dir_crypt(&fr->hop2.bwd, payload);
	} else {
		tk_relay_dir_set_digest(&fr->hop.bwd, payload, NULL);
	}
	tk_relay_dir_crypt(&fr->hop.bwd, payload);
	send_fixed(fr, fr->circ_id, TK_CELL_RELAY, payload, sizeof payload);
}

/* The hop the current message came from answers. */
static void send_relay(fake_relay *fr, uint8_t cmd, uint16_t sid,
		       const uint8_t *data, size_t len)
{
	send_relay_from(fr, fr->cur_hop, cmd, sid, data, len);
}

/* Answers an ntor v3 onion skin for the relay (ed, b, B): the reply,
 * with the congestion control the options ask for, and its keys.
 * Returns the reply length, or -1. */
static long ntor3_answer(fake_relay *fr, const uint8_t ed[32],
			 const uint8_t b[32], const uint8_t B[32],
			 const uint8_t *skin, size_t len, uint8_t *reply,
			 size_t cap, uint8_t keys[TK_RELAY_KEYS_LEN])
{
	const char *ver = TK_NTOR3_CIRC_VERIFICATION;
	tk_ntor3_server_state st;
	uint8_t cm[TK_NTOR3_MSG_MAX], sm[8];
	const uint8_t *body;
	size_t cm_len, sm_len = 0, blen;
	fr->seen.n_ntor_v3++;
	if (tk_ntor3_server_receive(&st, ed, b, B, ver, strlen(ver), skin, len,
				    cm, sizeof cm, &cm_len) != 0)
		return -1;
	int asked = tk_ntor3_msg_find(cm, cm_len, TK_NTOR3_EXT_CC_REQUEST,
				      &body, &blen) == 1;
	fr->seen.cc_requested = asked;
	int inc = fr->opts.cc_sendme_inc ? fr->opts.cc_sendme_inc : 31;
	if (fr->opts.cc == FR_CC_MALFORMED) {
		sm[sm_len++] = 1;
		sm[sm_len++] = TK_NTOR3_EXT_CC_RESPONSE;
		sm[sm_len++] = 5; /* but only one byte follows */
		sm[sm_len++] = (uint8_t)inc;
	} else if ((asked && fr->opts.cc == FR_CC_ACCEPT) ||
		   fr->opts.cc == FR_CC_UNASKED) {
		sm[sm_len++] = 1;
		sm[sm_len++] = TK_NTOR3_EXT_CC_RESPONSE;
		sm[sm_len++] = 1;
		sm[sm_len++] = (uint8_t)inc;
		fr->sendme_every = inc;
	} else {
		sm[sm_len++] = 0; /* no extensions */
	}
	return tk_ntor3_server_reply(&st, NULL, sm, sm_len, reply, cap, keys,
				     TK_RELAY_KEYS_LEN);
}

static void on_extend2(fake_relay *fr, const uint8_t *data, size_t len,
		       int early)
{
	tk_relay_extend2 m;
	uint8_t reply[TK_NTOR3_SERVER_OVERHEAD + 16], keys[TK_RELAY_KEYS_LEN];
	uint8_t body[120];
	long rlen = TK_NTOR_SERVER_LEN;
	int has_v4 = 0, has_id = 0, n;
	fr->seen.n_extend2++;
	fr->seen.extend2_was_early = early;
	if (tk_relay_extend2_decode(data, len, &m) != TK_RELAY_OK)
		return;
	for (size_t i = 0; i < m.n_specs; i++) {
		if (m.specs[i].type == TK_LS_IPV4)
			has_v4 = 1;
		if (m.specs[i].type == TK_LS_LEGACY_ID &&
		    memcmp(m.specs[i].data, fr->next_id, 20) == 0)
			has_id = 1;
	}
	fr->seen.extend2_specs_ok = has_v4 && has_id;
	if (fr->opts.extend == FR_EXTEND_SILENT)
		return;
	if (fr->opts.extend == FR_EXTEND_TRUNCATED) {
		uint8_t reason = 6; /* CONNECTFAILED */
		send_relay_from(fr, 1, TK_RELAY_TRUNCATED, 0, &reason, 1);
		return;
	}
	if (m.htype == TK_HTYPE_NTOR_V3) {
		rlen = ntor3_answer(fr, fr->next_ed, fr->next_b, fr->next_B,
				    m.hdata, m.hlen, reply, sizeof reply, keys);
		if (rlen < 0)
			return;
	} else if (m.htype != 2 || m.hlen != TK_NTOR_CLIENT_LEN ||
		   tk_ntor_server_respond(fr->next_id, fr->next_b, m.hdata,
					  NULL, reply, keys, sizeof keys) != 0)
		return;
	if (fr->opts.extend == FR_EXTEND_BAD_REPLY)
		reply[40] ^= 1; /* AUTH */
	tk_relay_hop_init(&fr->hop2, keys);
	fr->hop2_ready = 1;
	n = tk_relay_extended2_encode(reply, (uint16_t)rlen, body, sizeof body);
	if (n > 0)
		send_relay_from(fr, 1, TK_RELAY_EXTENDED2, 0, body, (size_t)n);
}

static void serve_directory(fake_relay *fr)
{
	static const char head[] = "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n"
				   "Content-Encoding: identity\r\n\r\n";
	const char *body = fr->opts.body ? fr->opts.body : "hello";
	size_t blen = fr->opts.body ? fr->opts.body_len : 5;
	struct buf all = {0};
	buf_add(&all, (const uint8_t *)head, sizeof head - 1);
	buf_add(&all, (const uint8_t *)body, blen);
	/* The relay ignores stream windows here: at most 500 cells. */
	for (size_t off = 0; off < all.len; off += TK_RELAY_DATA_MAX) {
		size_t n = all.len - off;
		if (n > TK_RELAY_DATA_MAX)
			n = TK_RELAY_DATA_MAX;
		send_relay(fr, TK_RELAY_DATA, fr->stream_id, all.p + off, n);
	}
	free(all.p);
	uint8_t done = fr->opts.end_reason ? (uint8_t)fr->opts.end_reason : 6;
	send_relay(fr, TK_RELAY_END, fr->stream_id, &done, 1);
}

static void on_relay_cell(fake_relay *fr, const uint8_t *cellp, int early)
{
	uint8_t payload[TK_CELL_PAYLOAD_LEN];
	tk_relay_header h;
	const uint8_t *data;
	uint8_t tag[TK_RELAY_TAG_LEN];
	memcpy(payload, cellp, sizeof payload);
	tk_relay_dir_crypt(&fr->hop.fwd, payload);
	fr->cur_hop = 1;
	if (!tk_relay_dir_check_digest(&fr->hop.fwd, payload, tag)) {
		/* not for us: for the hop behind us? */
		if (!fr->hop2_ready)
			return;
		tk_relay_dir_crypt(&fr->hop2.fwd, payload);
		if (!tk_relay_dir_check_digest(&fr->hop2.fwd, payload, NULL))
			return;
		fr->cur_hop = 2;
	}
	if (tk_relay_header_parse(payload, &h, &data) != TK_CELL_OK)
		return;
	switch (h.cmd) {
	case TK_RELAY_EXTEND2:
		if (fr->cur_hop == 1)
			on_extend2(fr, data, h.length, early);
		break;
	case TK_RELAY_BEGIN_DIR:
		fr->stream_id = h.stream_id;
		if (fr->opts.close_on_begin_dir) {
			close_conn(fr);
			return;
		}
		if (fr->opts.end_before_connected) {
			uint8_t r = 14;
			send_relay(fr, TK_RELAY_END, h.stream_id, &r, 1);
		} else if (!fr->opts.connected_late) {
			send_relay(fr, TK_RELAY_CONNECTED, h.stream_id, NULL, 0);
		}
		break;
	case TK_RELAY_DATA:
		if (fr->opts.sink_data) {
			/* Acknowledge every 100th DATA cell with a v1 SENDME
			 * carrying its digest, as relays do. */
			if (++fr->seen.n_data % fr->sendme_every == 0) {
				uint8_t body[23];
				if (fr->opts.bad_sendme_tag)
					tag[0] ^= 1;
				int n = tk_relay_sendme_encode(1, tag, body,
							       sizeof body);
				send_relay(fr, TK_RELAY_SENDME, 0, body,
					   (size_t)n);
			}
			break;
		}
		fr->seen.dir_served_by_hop = fr->cur_hop;
		/* The request may span several DATA cells: serve once the
		 * blank line that ends it is in. */
		buf_add(&fr->req, data, h.length);
		fr->seen.request_len = fr->req.len;
		if (fr->req.len < sizeof fr->seen.request) {
			memcpy(fr->seen.request, fr->req.p, fr->req.len);
			fr->seen.request[fr->req.len] = '\0';
		}
		if (fr->req.len >= 4 &&
		    memcmp(fr->req.p + fr->req.len - 4, "\r\n\r\n", 4) == 0) {
			fr->req.len = 0;
			if (fr->opts.connected_late)
				send_relay(fr, TK_RELAY_CONNECTED,
					   fr->stream_id, NULL, 0);
			serve_directory(fr);
		}
		break;
	case TK_RELAY_SENDME:
		if (h.stream_id)
			fr->seen.n_stream_sendme++;
		else
			fr->seen.n_circ_sendme++;
		break;
	case TK_RELAY_END:
		fr->seen.n_end++;
		break;
	default:
		break;
	}
}

/* destroy_after: see fake_relay.h. A circuit cell to send flushes the
 * held DESTROYs first: tor's circuitmux favours its DESTROY queue. */
static void flush_held(fake_relay *fr)
{
	uint8_t reason = 8; /* CHANNEL_CLOSED */
	for (int i = 0; i < fr->n_held; i++) {
		send_fixed(fr, fr->held[i], TK_CELL_DESTROY, &reason, 1);
		fr->seen.n_held_flushed++;
	}
	fr->n_held = 0;
}

static void destroy_answered(fake_relay *fr, uint32_t circ)
{
	uint8_t reason = 8; /* CHANNEL_CLOSED */
	if (!fr->opts.destroy_after)
		return;
	if (fr->n_answered >= fr->opts.destroy_after || fr->n_answered >= 8)
		return;
	fr->answered[fr->n_answered++] = circ;
	if (fr->n_answered < fr->opts.destroy_after)
		return;
	if (!fr->opts.destroy_hold_all)
		send_fixed(fr, fr->answered[0], TK_CELL_DESTROY, &reason, 1);
	for (int i = fr->opts.destroy_hold_all ? 0 : 1; i < fr->n_answered;
	     i++)
		fr->held[fr->n_held++] = fr->answered[i];
}

void fake_relay_starve(fake_relay *fr, uint64_t handshake_until,
		       uint64_t created_until)
{
	fr->starve_hs = handshake_until;
	fr->starve_created = created_until;
}

/* Blocks the loop until *until (then forgets it): the answer is in the
 * client's socket already, flush() wrote it. */
static void starve(fake_relay *fr, uint64_t *until)
{
	uint64_t now;
	if (!*until)
		return;
	while ((now = uv_hrtime()) < *until)
		uv_sleep((unsigned)((*until - now) / 1000000) + 1);
	*until = 0;
	fr->seen.n_starved++;
}

static void on_create_fast(fake_relay *fr, uint32_t circ, const uint8_t *x)
{
	uint8_t k0[40], k[92], reply[40];
	fr->seen.n_create_fast++;
	fr->circ_id = circ;
	if (fr->opts.create == FR_CREATE_SILENT)
		return;
	if (fr->opts.create == FR_CREATE_CLOSE) {
		close_conn(fr);
		return;
	}
	if (fr->opts.create == FR_CREATE_DESTROY) {
		uint8_t reason = 5;
		send_fixed(fr, circ, TK_CELL_DESTROY, &reason, 1);
		return;
	}
	memcpy(k0, x, 20);
	tk_random(k0 + 20, 20);
	tk_kdf_tor(k0, sizeof k0, k, sizeof k);
	memcpy(reply, k0 + 20, 20);
	memcpy(reply + 20, k, 20); /* KH */
	if (fr->opts.create == FR_CREATE_BAD_KH)
		reply[25] ^= 1;
	tk_relay_hop_init(&fr->hop, k + 20);
	fr->hop_ready = 1;
	flush_held(fr);
	send_fixed(fr, circ, TK_CELL_CREATED_FAST, reply, sizeof reply);
	destroy_answered(fr, circ);
	starve(fr, &fr->starve_created);
}

static void on_create2(fake_relay *fr, uint32_t circ, const uint8_t *p,
		       size_t len)
{
	uint16_t htype;
	const uint8_t *hdata;
	size_t hlen;
	uint8_t reply[TK_NTOR3_SERVER_OVERHEAD + 16], keys[TK_RELAY_KEYS_LEN];
	uint8_t out[TK_CELL_PAYLOAD_LEN];
	long rlen = TK_NTOR_SERVER_LEN;
	int ok;
	fr->seen.n_create2++;
	fr->circ_id = circ;
	ok = tk_create2_parse(p, len, &htype, &hdata, &hlen) == TK_CELL_OK;
	if (ok && htype == TK_HTYPE_NTOR_V3) {
		rlen = ntor3_answer(fr, fr->ed_id, fr->ntor_b, fr->ntor_B, hdata,
				    hlen, reply, sizeof reply, keys);
		ok = rlen > 0;
	} else {
		ok = ok && htype == TK_HTYPE_NTOR && hlen == TK_NTOR_CLIENT_LEN &&
		     tk_ntor_server_respond(fr->rsa_id, fr->ntor_b, hdata, NULL,
					    reply, keys, sizeof keys) == 0;
	}
	if (!ok) {
		uint8_t reason = 1;
		send_fixed(fr, circ, TK_CELL_DESTROY, &reason, 1);
		return;
	}
	tk_relay_hop_init(&fr->hop, keys);
	fr->hop_ready = 1;
	flush_held(fr);
	tk_created2_write(reply, (size_t)rlen, out);
	send_fixed(fr, circ, TK_CELL_CREATED2, out, 2 + (size_t)rlen);
	starve(fr, &fr->starve_created);
}

static void on_cells(fake_relay *fr)
{
	for (;;) {
		tk_cell_view v;
		size_t used;
		int rc = tk_cell_frame(fr->cells.p, fr->cells.len,
				       fr->got_versions ? 4 : 2, &v, &used);
		if (rc != TK_CELL_OK)
			return;
		if (!fr->got_versions) {
			fr->got_versions = 1;
			fr->seen.client_versions_ok =
				v.cmd == TK_CELL_VERSIONS && v.payload_len == 4 &&
				memcmp(v.payload, "\0\4\0\5", 4) == 0;
			buf_drop(&fr->cells, used);
			if (!fr->opts.silent)
				send_handshake(fr);
			if (fr->conn_open)
				starve(fr, &fr->starve_hs);
			if (!fr->conn_open || uv_is_closing((uv_handle_t *)&fr->conn))
				return;
			continue;
		}
		fr->last_cell = uv_now(fr->loop);
		if (v.circ_id != 0 && !(v.circ_id & 0x80000000u))
			fr->seen.circ_ids_high_bit = -1;
		else if (v.circ_id != 0 && fr->seen.circ_ids_high_bit == 0)
			fr->seen.circ_ids_high_bit = 1;
		switch (v.cmd) {
		case TK_CELL_NETINFO: {
			tk_netinfo ni;
			fr->seen.got_netinfo =
				tk_netinfo_parse(v.payload, v.payload_len, &ni) ==
				TK_CELL_OK;
			fr->seen.netinfo_time = ni.time;
			if (fr->opts.close_after_netinfo) {
				close_conn(fr);
				return;
			}
			if (fr->opts.send_padneg) {
				uint8_t pn[6] = {0, (uint8_t)fr->opts.send_padneg,
						 0x05, 0xdc, 0x25, 0x1c};
				send_fixed(fr, 0, TK_CELL_PADDING_NEGOTIATE, pn,
					   sizeof pn);
			}
			break;
		}
		case TK_CELL_PADDING:
			fr->seen.n_padding_in++;
			break;
		case TK_CELL_PADDING_NEGOTIATE:
			if (fr->seen.n_padding_in == 0)
				fr->seen.padneg_before_padding = 1;
			fr->seen.n_padneg_in++;
			fr->seen.padneg_cmd = v.payload[1];
			break;
		case TK_CELL_CREATE_FAST:
			on_create_fast(fr, v.circ_id, v.payload);
			break;
		case TK_CELL_DESTROY:
			fr->seen.n_destroy++;
			fr->seen.destroy_reason = v.payload[0];
			break;
		case TK_CELL_RELAY:
		case TK_CELL_RELAY_EARLY:
			if (fr->hop_ready && v.circ_id == fr->circ_id)
				on_relay_cell(fr, v.payload,
					      v.cmd == TK_CELL_RELAY_EARLY);
			break;
		case TK_CELL_CREATE2:
			on_create2(fr, v.circ_id, v.payload, v.payload_len);
			break;
		default:
			break;
		}
		buf_drop(&fr->cells, used);
		if (!fr->conn_open)
			return;
	}
}

static void on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *b)
{
	static char slab[65536];
	(void)h;
	(void)hint;
	*b = uv_buf_init(slab, sizeof slab);
}

static void on_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	fake_relay *fr = s->data;
	uint8_t plain[16384];
	int rc;
	if (n < 0) {
		fr->seen.closed_by_client = 1;
		close_conn(fr);
		return;
	}
	buf_add(&fr->in, (const uint8_t *)b->base, (size_t)n);
	if (!fr->tls_up) {
		rc = mbedtls_ssl_handshake(&fr->ssl);
		flush(fr);
		if (rc == MBEDTLS_ERR_SSL_WANT_READ)
			return;
		if (rc != 0) {
			close_conn(fr);
			return;
		}
		fr->tls_up = 1;
	}
	while ((rc = mbedtls_ssl_read(&fr->ssl, plain, sizeof plain)) > 0) {
		buf_add(&fr->cells, plain, (size_t)rc);
		on_cells(fr);
		if (!fr->conn_open || uv_is_closing((uv_handle_t *)&fr->conn))
			return;
	}
	flush(fr);
	if (rc == MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY || rc == 0) {
		fr->seen.closed_by_client = 1;
		close_conn(fr);
	}
}

/* pad_ms: a PADDING once the channel was quiet both ways that long. */
static void on_pad_timer(uv_timer_t *t)
{
	fake_relay *fr = t->data;
	if (!fr->conn_open || !fr->tls_up || !fr->got_versions ||
	    fr->n_held > 0)
		return;
	if (uv_now(fr->loop) - fr->last_cell < fr->opts.pad_ms)
		return;
	send_fixed(fr, 0, TK_CELL_PADDING, NULL, 0);
	fr->seen.n_padding_out++;
}

static void on_connection(uv_stream_t *server, int status)
{
	fake_relay *fr = server->data;
	if (status < 0 || fr->conn_open)
		return;
	uv_tcp_init(fr->loop, &fr->conn);
	fr->conn.data = fr;
	fr->handles++;
	fr->conn_open = 1;
	fr->seen.n_connections++;
	if (uv_accept(server, (uv_stream_t *)&fr->conn) != 0) {
		close_conn(fr);
		return;
	}
	mbedtls_ssl_init(&fr->ssl);
	mbedtls_ssl_setup(&fr->ssl, &fr->conf);
	mbedtls_ssl_set_bio(&fr->ssl, fr, bio_send, bio_recv, NULL);
	fr->tls_up = 0;
	fr->got_versions = 0;
	fr->sent_cells = 0;
	fr->in.len = fr->out.len = fr->cells.len = fr->req.len = 0;
	fr->last_cell = uv_now(fr->loop);
	uv_read_start((uv_stream_t *)&fr->conn, on_alloc, on_read);
}

int fake_relay_start(uv_loop_t *loop, const struct fr_opts *opts,
		     fake_relay **out, int *port, uint8_t rsa_id[20])
{
	fake_relay *fr = calloc(1, sizeof *fr);
	struct sockaddr_in sa;
	struct sockaddr_storage ss;
	int len = sizeof ss;
	tk_x509 idx;
	tk_rsa_pub idpub;

	fr->loop = loop;
	fr->opts = *opts;
	mbedtls_entropy_init(&fr->entropy);
	mbedtls_ctr_drbg_init(&fr->drbg);
	mbedtls_ctr_drbg_seed(&fr->drbg, mbedtls_entropy_func, &fr->entropy,
			      (const unsigned char *)"fake relay", 10);
	if (gen_key(fr, &fr->id_key) || gen_key(fr, &fr->link_key) ||
	    gen_key(fr, &fr->other_key))
		return -1;
	make_cert(fr, &fr->id_key, &fr->id_key, "CN=www.fakeid.net",
		  "CN=www.fakeid.net", fr->id_der, sizeof fr->id_der,
		  &fr->id_len);
	make_cert(fr, &fr->link_key, &fr->id_key, "CN=www.fakelink.net",
		  "CN=www.fakeid.net", fr->link_der, sizeof fr->link_der,
		  &fr->link_len);
	if (opts->certs == FR_CERTS_WRONG_SIGNER) {
		/* The TLS certificate itself is signed by a stranger. */
		make_cert(fr, &fr->link_key, &fr->other_key, "CN=www.fakelink.net",
			  "CN=www.fakeid.net", fr->other_der,
			  sizeof fr->other_der, &fr->other_len);
	} else {
		make_cert(fr, &fr->other_key, &fr->id_key, "CN=www.other.net",
			  "CN=www.fakeid.net", fr->other_der,
			  sizeof fr->other_der, &fr->other_len);
	}
	mbedtls_x509_crt_init(&fr->link_crt);
	if (opts->certs == FR_CERTS_WRONG_SIGNER)
		mbedtls_x509_crt_parse_der(&fr->link_crt, fr->other_der,
					   fr->other_len);
	else
		mbedtls_x509_crt_parse_der(&fr->link_crt, fr->link_der,
					   fr->link_len);
	mbedtls_ssl_config_init(&fr->conf);
	mbedtls_ssl_config_defaults(&fr->conf, MBEDTLS_SSL_IS_SERVER,
				    MBEDTLS_SSL_TRANSPORT_STREAM,
				    MBEDTLS_SSL_PRESET_DEFAULT);
	mbedtls_ssl_conf_rng(&fr->conf, mbedtls_ctr_drbg_random, &fr->drbg);
	mbedtls_ssl_conf_own_cert(&fr->conf, &fr->link_crt, &fr->link_key);

	tk_x509_init(&idx);
	tk_rsa_pub_init(&idpub);
	tk_x509_parse(&idx, fr->id_der, fr->id_len);
	tk_x509_get_rsa_pub(&idx, &idpub);
	tk_rsa_pub_fingerprint(&idpub, rsa_id);
	memcpy(fr->rsa_id, rsa_id, 20);
	tk_x25519_keygen(fr->ntor_b, fr->ntor_B);
	tk_x25519_keygen(fr->next_b, fr->next_B);
	tk_random(fr->next_id, 20);
	tk_random(fr->ed_id, 32);
	tk_random(fr->next_ed, 32);
	fr->sendme_every = 100;
	tk_rsa_pub_free(&idpub);
	tk_x509_free(&idx);

	uv_tcp_init(loop, &fr->listener);
	fr->listener.data = fr;
	fr->handles = 1;
	uv_timer_init(loop, &fr->pad_timer);
	fr->pad_timer.data = fr;
	fr->handles++;
	if (opts->pad_ms) {
		/* checked every tenth of the period, unref'd: it never keeps
		 * the loop alive on its own */
		unsigned step = opts->pad_ms / 10 ? opts->pad_ms / 10 : 1;
		uv_timer_start(&fr->pad_timer, on_pad_timer, step, step);
	}
	uv_unref((uv_handle_t *)&fr->pad_timer);
	uv_ip4_addr("127.0.0.1", 0, &sa);
	if (uv_tcp_bind(&fr->listener, (struct sockaddr *)&sa, 0) ||
	    uv_listen((uv_stream_t *)&fr->listener, 4, on_connection))
		return -1;
	uv_tcp_getsockname(&fr->listener, (struct sockaddr *)&ss, &len);
	*port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	*out = fr;
	return 0;
}

void fake_relay_ntor_key(const fake_relay *fr, uint8_t B[32])
{
	memcpy(B, fr->ntor_B, 32);
}

void fake_relay_next_hop(const fake_relay *fr, uint8_t rsa_id[20],
			 uint8_t B[32])
{
	memcpy(rsa_id, fr->next_id, 20);
	memcpy(B, fr->next_B, 32);
}

void fake_relay_ed_ids(const fake_relay *fr, uint8_t ed[32],
		       uint8_t next_ed[32])
{
	memcpy(ed, fr->ed_id, 32);
	memcpy(next_ed, fr->next_ed, 32);
}

const struct fr_seen *fake_relay_seen(const fake_relay *fr)
{
	return &fr->seen;
}

int fake_relay_busy(const fake_relay *fr)
{
	return fr->conn_open;
}

static void on_listener_closed(uv_handle_t *h)
{
	fake_relay *fr = h->data;
	if (--fr->handles == 0)
		fr_free(fr);
}

void fake_relay_stop(fake_relay *fr)
{
	fr->stopping = 1;
	close_conn(fr);
	uv_close((uv_handle_t *)&fr->pad_timer, on_listener_closed);
	uv_close((uv_handle_t *)&fr->listener, on_listener_closed);
}
