/* channel.h: the v3 link handshake and cell dispatch over tls.h. */
#include "onion/link/channel.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "onion/base/bytes.h"
#include "onion/base/crypto.h"
#include "onion/base/deadline.h"
#include "onion/cell/certs.h"
#include "onion/link/channel_clock.h"
#include "onion/link/channel_hello.h"
#include "onion/link/padding.h"
#include "onion/link/tls.h"

enum chan_state {
	CHAN_CONNECTING,    /* TCP + TLS */
	CHAN_WAIT_VERSIONS, /* sent VERSIONS, waiting for theirs */
	CHAN_WAIT_CERTS,
	CHAN_WAIT_NETINFO, /* CERTS checked; AUTH_CHALLENGE may come first */
	CHAN_OPEN,
	CHAN_DEAD, /* failure reported; waiting for tk_channel_close */
	CHAN_CLOSING,
};

struct chan_circ {
	uint32_t id;
	tk_channel_circ_cb cb;
	void *circ;
};

struct tk_channel {
	uv_loop_t *loop;
	tk_tls *tls;
	tk_deadline handshake; /* the link handshake's timeout */
	int handshake_open;
	struct tk_chanclock clock; /* padding, stalls, idleness */
	int clock_open;
	int tls_open;
	enum chan_state state;
	tk_channel_target target;
	tk_channel_info info;
	tk_channel_open_cb open_cb;
	tk_channel_lost_cb lost_cb;
	tk_channel_close_cb close_cb;
	void *arg;
	uint8_t *in; /* plaintext not yet framed into cells */
	size_t in_len, in_cap;
	struct chan_circ *circs;
	size_t n_circs, cap_circs;
	int destroy_reported; /* until a circuit cell other than DESTROY */
	struct tk_channel_hooks hooks;
	char sni[40];
	char errmsg[256];
};

static const uint16_t our_versions[] = { 4, 5 };

const char *
tk_channel_strerror(int status)
{
	switch (status) {
	case TK_CHAN_ETIMEDOUT:
		return "link handshake timed out";
	case TK_CHAN_EIDENTITY:
		return "relay has the wrong identity";
	case TK_CHAN_ECERTS:
		return "relay's CERTS cell is invalid";
	case TK_CHAN_EPROTO:
		return "link protocol violation";
	case TK_CHAN_ENOVERSION:
		return "no common link protocol version";
	case TK_CHAN_ECLOSED:
		return "channel closed";
	case TK_CHAN_ENOMEM:
		return "out of memory";
	case TK_CHAN_ESTATE:
		return "channel not open";
	case TK_CHAN_ENOCIRCID:
		return "no free circuit id";
	default:
		return tk_tls_strerror(status);
	}
}

const char *
tk_channel_errmsg(const tk_channel *ch)
{
	return ch->errmsg;
}

static void set_errmsg(tk_channel *ch, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void
set_errmsg(tk_channel *ch, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(ch->errmsg, sizeof ch->errmsg, fmt, ap);
	va_end(ap);
}

/* Tells every circuit the channel is gone and forgets them. A callback
 * may remove other circuits, so take the array away first. */
static void
notify_circs(tk_channel *ch, int status)
{
	struct chan_circ *c = ch->circs;
	size_t n = ch->n_circs;
	ch->circs = NULL;
	ch->n_circs = ch->cap_circs = 0;
	for (size_t i = 0; i < n; i++)
		c[i].cb(c[i].circ, status, NULL);
	free(c);
}

static void
fail(tk_channel *ch, int status)
{
	enum chan_state was = ch->state;
	if (was == CHAN_DEAD || was == CHAN_CLOSING)
		return;
	ch->state = CHAN_DEAD;
	if (ch->handshake_open)
		tk_deadline_stop(&ch->handshake);
	if (ch->clock_open)
		tk_chanclock_stop(&ch->clock);
	if (!ch->errmsg[0])
		set_errmsg(ch, "%s", tk_channel_strerror(status));
	if (was == CHAN_OPEN) {
		notify_circs(ch, status);
		if (ch->state == CHAN_DEAD && ch->lost_cb)
			ch->lost_cb(ch, status, ch->arg);
	} else {
		ch->open_cb(ch, status, ch->arg);
	}
}

static int
send_raw(tk_channel *ch, const uint8_t *p, size_t n)
{
	int rc = tk_tls_write(ch->tls, p, n);
	if (rc == 0) {
		ch->info.cells_out++;
		tk_chanclock_note_tx(&ch->clock);
	}
	return rc;
}

static int open_actions(tk_channel *ch);

int
tk_channel_send(tk_channel *ch, uint32_t circ_id, uint8_t cmd,
		const uint8_t *payload, size_t len)
{
	uint8_t cell[TK_CELL_LEN];
	int rc;
	if (ch->state != CHAN_OPEN)
		return TK_CHAN_ESTATE;
	if (tk_cell_write_fixed(cell, circ_id, cmd, payload, len) != TK_CELL_OK)
		return TK_CHAN_EPROTO;
	rc = send_raw(ch, cell, sizeof cell);
	if (rc == 0)
		tk_chanclock_note_sent(&ch->clock, cmd);
	return rc;
}

size_t
tk_channel_write_queue_size(const tk_channel *ch)
{
	return ch->tls ? tk_tls_write_queue_size(ch->tls) : 0;
}

static int
send_netinfo(tk_channel *ch)
{
	struct sockaddr_storage ss;
	uint8_t cell[TK_CELL_LEN];
	memset(&ss, 0, sizeof ss);
	(void)tk_tls_peername(ch->tls, &ss);
	if (tk_chanhello_netinfo(&ss, cell) != 0)
		return TK_CHAN_EPROTO;
	return send_raw(ch, cell, sizeof cell);
}

static void
on_versions(tk_channel *ch, const tk_cell_view *v)
{
	uint16_t chosen;
	int rc = tk_versions_parse(v->payload, v->payload_len,
				   ch->info.their_versions, TK_VERSIONS_MAX,
				   &ch->info.n_their_versions);
	if (rc != TK_CELL_OK) {
		set_errmsg(ch, "bad VERSIONS cell from relay: %s",
			   tk_cell_strerror(rc));
		fail(ch, TK_CHAN_EPROTO);
		return;
	}
	rc = tk_versions_choose(our_versions, 2, ch->info.their_versions,
				ch->info.n_their_versions, &chosen);
	if (rc != TK_CELL_OK) {
		char list[128];
		tk_chanhello_versions(ch->info.their_versions,
				      ch->info.n_their_versions, list,
				      sizeof list);
		set_errmsg(ch,
			   "no common link protocol: relay offers {%s}, we "
			   "speak 4,5",
			   list);
		fail(ch, TK_CHAN_ENOVERSION);
		return;
	}
	ch->info.link_version = chosen;
	ch->state = CHAN_WAIT_CERTS;
}

static void
on_certs(tk_channel *ch, const tk_cell_view *v)
{
	tk_certs certs;
	size_t tls_len;
	const uint8_t *tls_der = tk_tls_peer_cert(ch->tls, &tls_len);
	tk_certs_result res;
	int rc = tk_certs_parse(v->payload, v->payload_len, &certs);
	if (rc != TK_CELL_OK) {
		set_errmsg(ch, "malformed CERTS cell: %s",
			   tk_cell_strerror(rc));
		fail(ch, TK_CHAN_ECERTS);
		return;
	}
	ch->info.n_certs = certs.n;
	for (size_t i = 0; i < certs.n; i++)
		ch->info.cert_types[i] = certs.e[i].type;
	if (!tls_der) {
		set_errmsg(ch, "TLS gave no peer certificate to check CERTS "
			       "against");
		fail(ch, TK_CHAN_ECERTS);
		return;
	}
	rc = tk_certs_check(&certs, tls_der, tls_len, time(NULL), &res,
			    ch->errmsg, sizeof ch->errmsg);
	if (rc != 0) {
		fail(ch, TK_CHAN_ECERTS);
		return;
	}
	memcpy(ch->info.rsa_id, res.rsa_id, 20);
	ch->info.ed_verified = res.ed_verified;
	if (res.ed_verified)
		memcpy(ch->info.ed_id, res.ed_id, 32);
	if (!tk_ct_memeq(res.rsa_id, ch->target.rsa_id, 20)) {
		char got[41], want[41];
		tk_chanhello_fingerprint(res.rsa_id, got);
		tk_chanhello_fingerprint(ch->target.rsa_id, want);
		set_errmsg(ch,
			   "wrong relay identity: the relay proved RSA "
			   "identity %s but we expected %s",
			   got, want);
		fail(ch, TK_CHAN_EIDENTITY);
		return;
	}
	if (ch->target.has_ed_id &&
	    (!res.ed_verified ||
	     !tk_ct_memeq(res.ed_id, ch->target.ed_id, 32))) {
		set_errmsg(ch,
			   res.ed_verified
				   ? "wrong relay identity: Ed25519 identity "
				     "differs from the expected one"
				   : "relay did not prove the expected "
				     "Ed25519 identity");
		fail(ch, TK_CHAN_EIDENTITY);
		return;
	}
	ch->state = CHAN_WAIT_NETINFO;
}

static void
on_netinfo(tk_channel *ch, const tk_cell_view *v)
{
	int rc = tk_netinfo_parse(v->payload, v->payload_len,
				  &ch->info.netinfo);
	if (rc != TK_CELL_OK) {
		set_errmsg(ch, "bad NETINFO cell from relay: %s",
			   tk_cell_strerror(rc));
		fail(ch, TK_CHAN_EPROTO);
		return;
	}
	rc = send_netinfo(ch);
	if (rc < 0) {
		fail(ch, rc);
		return;
	}
	ch->state = CHAN_OPEN;
	tk_deadline_stop(&ch->handshake);
	if (open_actions(ch) < 0)
		return;
	ch->open_cb(ch, 0, ch->arg);
}

static struct chan_circ *
find_circ(tk_channel *ch, uint32_t id)
{
	for (size_t i = 0; i < ch->n_circs; i++)
		if (ch->circs[i].id == id)
			return &ch->circs[i];
	return NULL;
}

/* ---- the clocks (channel_clock.h): padding, stalls, idleness */

static int
clock_send_padding(void *arg)
{
	tk_channel *ch = arg;
	int rc = tk_channel_send(ch, 0, TK_CELL_PADDING, NULL, 0);
	if (rc == 0)
		ch->info.padding_sent++;
	return rc;
}

static size_t
clock_write_queue_size(void *arg)
{
	return tk_channel_write_queue_size(arg);
}

static void
report_stall(tk_channel *ch, enum tk_channel_stall why)
{
	ch->info.stalls++;
	if (ch->hooks.stalled)
		ch->hooks.stalled(ch, why, ch->hooks.arg);
}

static void
clock_stalled(void *arg)
{
	report_stall(arg, TK_CHAN_STALL_SILENCE);
}

static void
clock_idle(void *arg)
{
	tk_channel *ch = arg;
	ch->hooks.idle(ch, ch->hooks.arg);
}

static const struct tk_chanclock_ops clock_ops = {
	clock_send_padding,
	clock_write_queue_size,
	clock_stalled,
	clock_idle,
};

static struct tk_chanclock_conf
clock_conf(const struct tk_channel_hooks *h)
{
	struct tk_chanclock_conf c;
	c.stall_first_ms = h->stall_first_ms ? h->stall_first_ms
					     : TK_CHAN_STALL_FIRST_MS;
	c.stall_max_ms = TK_CHAN_STALL_MAX_MS;
	c.keepalive_ms = h->keepalive_ms ? h->keepalive_ms
					 : TK_CHAN_KEEPALIVE_MS;
	c.idle_ms = h->idle ? h->idle_ms : 0;
	return c;
}

/* What tor's client does as a channel opens, after its NETINFO. */
static int
open_actions(tk_channel *ch)
{
	tk_padding_negotiate neg;
	uint8_t p[TK_CELL_PAYLOAD_LEN];
	int rc;
	if (tk_chanclock_open(&ch->clock, ch->info.link_version, &neg)) {
		tk_padding_negotiate_write(&neg, p);
		rc = tk_channel_send(ch, 0, TK_CELL_PADDING_NEGOTIATE, p,
				     sizeof p);
		if (rc < 0) {
			fail(ch, rc);
			return rc;
		}
		ch->info.padneg_sent++;
	}
	return 0;
}

void
tk_channel_set_hooks(tk_channel *ch, const struct tk_channel_hooks *h)
{
	struct tk_chanclock_conf c = clock_conf(h);
	ch->hooks = *h;
	tk_chanclock_configure(&ch->clock, &c);
}

void
tk_channel_note_multihop(tk_channel *ch)
{
	tk_chanclock_note_multihop(&ch->clock);
}

/* A cell arrived on the open channel. */
static void
note_rx(tk_channel *ch, const tk_cell_view *v)
{
	tk_chanclock_note_rx(&ch->clock);
	if (v->circ_id != 0 && v->cmd != TK_CELL_DESTROY)
		ch->destroy_reported = 0;
}

/* A relay must not turn a client's padding down (padding-spec §2.5);
 * tor's clients log it and carry on, and so do we. */
static void
on_padding_negotiate(tk_channel *ch, const tk_cell_view *v)
{
	tk_padding_negotiate neg;
	ch->info.padneg_received++;
	if (tk_padding_negotiate_parse(v->payload, v->payload_len, &neg) ==
	    TK_CELL_OK)
		ch->info.padneg_last = neg.command;
}

/* One framed cell, in whatever state we are. */
static void
on_cell(tk_channel *ch, const tk_cell_view *v)
{
	ch->info.cells_in++;
	/* Before VERSIONS only VPADDING (and AUTHORIZE) may precede it
	 * (tor-spec §4): a fixed-size cell here means the peer does not
	 * speak the v3 handshake. */
	if (ch->state == CHAN_WAIT_VERSIONS && v->cmd != TK_CELL_VERSIONS &&
	    v->cmd != TK_CELL_VPADDING && v->cmd != TK_CELL_AUTHORIZE) {
		set_errmsg(ch,
			   "relay sent %s before VERSIONS (is this a Tor "
			   "ORPort?)",
			   tk_cell_cmd_name(v->cmd));
		fail(ch, TK_CHAN_EPROTO);
		return;
	}
	if (ch->state == CHAN_OPEN)
		note_rx(ch, v);
	if (v->cmd == TK_CELL_PADDING || v->cmd == TK_CELL_VPADDING ||
	    v->cmd == TK_CELL_AUTHORIZE) {
		ch->info.padding_dropped++;
		return;
	}
	switch (ch->state) {
	case CHAN_WAIT_VERSIONS:
		on_versions(ch, v);
		return;
	case CHAN_WAIT_CERTS:
		if (v->cmd != TK_CELL_CERTS) {
			set_errmsg(ch, "relay sent %s where CERTS was due",
				   tk_cell_cmd_name(v->cmd));
			fail(ch, TK_CHAN_EPROTO);
			return;
		}
		on_certs(ch, v);
		return;
	case CHAN_WAIT_NETINFO:
		if (v->cmd == TK_CELL_AUTH_CHALLENGE) {
			tk_auth_challenge ac;
			/* We do not authenticate; record the methods only. */
			if (tk_auth_challenge_parse(v->payload, v->payload_len,
						    &ac) == TK_CELL_OK) {
				ch->info.got_auth_challenge = 1;
				for (size_t i = 0; i < ac.n_methods && i < 8;
				     i++)
					ch->info.auth_methods[i] =
						tk_get_u16(ac.methods + 2 * i);
				ch->info.n_auth_methods =
					ac.n_methods < 8 ? ac.n_methods : 8;
			}
			return;
		}
		if (v->cmd != TK_CELL_NETINFO) {
			set_errmsg(ch, "relay sent %s where NETINFO was due",
				   tk_cell_cmd_name(v->cmd));
			fail(ch, TK_CHAN_EPROTO);
			return;
		}
		on_netinfo(ch, v);
		return;
	case CHAN_OPEN: {
		struct chan_circ *c;
		int lost_link;
		if (v->circ_id == 0) {
			if (v->cmd == TK_CELL_PADDING_NEGOTIATE)
				on_padding_negotiate(ch, v);
			return; /* late handshake cells: ignored */
		}
		c = find_circ(ch, v->circ_id);
		if (!c)
			return; /* a circuit we already forgot (DESTROY crossed
				   ours) */
		lost_link = v->cmd == TK_CELL_DESTROY && v->payload_len > 0 &&
			    v->payload[0] == TK_DESTROY_CHANNEL_CLOSED &&
			    ch->n_circs > 1;
		c->cb(c->circ, 0, v);
		if (lost_link && ch->state == CHAN_OPEN &&
		    !ch->destroy_reported) {
			/* One report until a circuit cell answers: the
			 * DESTROYs that come with that answer were queued
			 * behind this one. */
			ch->destroy_reported = 1;
			report_stall(ch, TK_CHAN_STALL_DESTROY);
		}
		return;
	}
	default:
		return;
	}
}

static int
in_append(tk_channel *ch, const uint8_t *p, size_t n)
{
	if (ch->in_len + n > ch->in_cap) {
		size_t cap = ch->in_cap ? ch->in_cap : 8192;
		uint8_t *q;
		while (cap < ch->in_len + n)
			cap *= 2;
		q = realloc(ch->in, cap);
		if (!q)
			return -1;
		ch->in = q;
		ch->in_cap = cap;
	}
	memcpy(ch->in + ch->in_len, p, n);
	ch->in_len += n;
	return 0;
}

static void
on_tls_read(tk_tls *t, int status, const uint8_t *data, size_t len, void *arg)
{
	tk_channel *ch = arg;
	size_t off = 0;
	(void)t;
	if (status < 0) {
		if (status == UV_EOF && ch->state != CHAN_OPEN)
			set_errmsg(ch, "relay closed the connection during the "
				       "link handshake");
		else if (status == UV_EOF)
			set_errmsg(ch, "relay closed the connection");
		else if (tk_tls_last_error(ch->tls)[0])
			set_errmsg(ch, "%s", tk_tls_last_error(ch->tls));
		fail(ch, status);
		return;
	}
	if (in_append(ch, data, len) != 0) {
		fail(ch, TK_CHAN_ENOMEM);
		return;
	}
	while (ch->state >= CHAN_WAIT_VERSIONS && ch->state <= CHAN_OPEN) {
		tk_cell_view v;
		size_t used;
		/* Only the first VERSIONS cell has 2-byte circuit ids. */
		int idlen = ch->state == CHAN_WAIT_VERSIONS ? 2 : 4;
		int rc = tk_cell_frame(ch->in + off, ch->in_len - off, idlen,
				       &v, &used);
		if (rc == TK_CELL_NEED_MORE)
			break;
		if (rc != TK_CELL_OK) {
			set_errmsg(ch, "cannot frame a cell from the relay: %s",
				   tk_cell_strerror(rc));
			fail(ch, TK_CHAN_EPROTO);
			return;
		}
		on_cell(ch, &v);
		off += used;
	}
	if (ch->state == CHAN_DEAD || ch->state == CHAN_CLOSING)
		return;
	memmove(ch->in, ch->in + off, ch->in_len - off);
	ch->in_len -= off;
}

static void
on_tls_connect(tk_tls *t, int status, void *arg)
{
	tk_channel *ch = arg;
	uint8_t cell[16];
	size_t n;
	int rc;
	(void)t;
	if (status < 0) {
		if (tk_tls_last_error(ch->tls)[0])
			set_errmsg(ch, "%s (is this a Tor ORPort?)",
				   tk_tls_last_error(ch->tls));
		else if (status == UV_EOF)
			set_errmsg(ch, "relay closed the connection during the "
				       "TLS handshake (is this a Tor ORPort?)");
		fail(ch, status);
		return;
	}
	ch->info.tls_version = tk_tls_version(ch->tls);
	ch->info.tls_ciphersuite = tk_tls_ciphersuite(ch->tls);
	ch->state = CHAN_WAIT_VERSIONS;
	rc = tk_versions_write_ours(cell, sizeof cell, &n);
	if (rc != TK_CELL_OK) {
		fail(ch, TK_CHAN_EPROTO);
		return;
	}
	rc = send_raw(ch, cell, n);
	if (rc < 0)
		fail(ch, rc);
}

static void
on_timeout(tk_deadline *d)
{
	tk_channel *ch = d->data;
	static const char *const what[] = {
		"TCP connect or TLS handshake",
		"VERSIONS",
		"CERTS",
		"NETINFO",
	};
	if (ch->state > CHAN_WAIT_NETINFO)
		return;
	set_errmsg(ch, "link handshake timed out waiting for %s",
		   what[ch->state]);
	fail(ch, TK_CHAN_ETIMEDOUT);
}

int
tk_channel_open(uv_loop_t *loop, const tk_channel_target *target,
		unsigned timeout_ms, tk_channel_open_cb open_cb,
		tk_channel_lost_cb lost_cb, void *arg, tk_channel **out)
{
	tk_channel *ch;
	int rc;
	*out = NULL;
	if (!open_cb)
		return UV_EINVAL;
	ch = calloc(1, sizeof *ch);
	if (!ch)
		return TK_CHAN_ENOMEM;
	ch->loop = loop;
	ch->target = *target;
	ch->open_cb = open_cb;
	ch->lost_cb = lost_cb;
	ch->arg = arg;
	ch->state = CHAN_CONNECTING;
	tk_chanhello_sni(ch->sni, sizeof ch->sni);
	ch->handshake.data = ch;
	rc = tk_deadline_init(loop, &ch->handshake);
	if (rc < 0) {
		free(ch);
		return rc;
	}
	ch->handshake_open = 1;
	{
		struct tk_chanclock_conf c = clock_conf(&ch->hooks);
		rc = tk_chanclock_init(&ch->clock, loop, &clock_ops, ch, &c);
		ch->clock_open = rc == 0 || ch->clock.tick_open;
	}
	if (rc == 0) {
		tk_deadline_start(&ch->handshake,
				  timeout_ms ? timeout_ms
					     : TK_CHAN_DEFAULT_TIMEOUT_MS,
				  on_timeout);
		rc = tk_tls_connect(loop,
				    (const struct sockaddr *)&target->addr,
				    ch->sni, on_tls_connect, on_tls_read, ch,
				    &ch->tls);
	}
	if (rc < 0) {
		ch->state = CHAN_DEAD;
		tk_channel_close(ch, NULL);
		return rc;
	}
	ch->tls_open = 1;
	*out = ch;
	return 0;
}

const tk_channel_info *
tk_channel_get_info(const tk_channel *ch)
{
	return &ch->info;
}

uv_loop_t *
tk_channel_loop(const tk_channel *ch)
{
	return ch->loop;
}

int
tk_channel_is_open(const tk_channel *ch)
{
	return ch->state == CHAN_OPEN;
}

int
tk_channel_circ_add(tk_channel *ch, tk_channel_circ_cb cb, void *circ,
		    uint32_t *circ_id)
{
	uint32_t id = 0;
	int tries;
	if (ch->state != CHAN_OPEN)
		return TK_CHAN_ESTATE;
	/* Random ids with the high bit set: link >= 4 initiators must set
	 * it, and randomness keeps ids from telling circuits apart. */
	for (tries = 0; tries < 64; tries++) {
		uint8_t r[4];
		tk_random(r, 4);
		id = tk_get_u32(r) | 0x80000000u;
		if (!find_circ(ch, id))
			break;
	}
	if (tries == 64)
		return TK_CHAN_ENOCIRCID;
	if (ch->n_circs == ch->cap_circs) {
		size_t cap = ch->cap_circs ? ch->cap_circs * 2 : 8;
		struct chan_circ *c = realloc(ch->circs, cap * sizeof *c);
		if (!c)
			return TK_CHAN_ENOMEM;
		ch->circs = c;
		ch->cap_circs = cap;
	}
	ch->circs[ch->n_circs].id = id;
	ch->circs[ch->n_circs].cb = cb;
	ch->circs[ch->n_circs].circ = circ;
	ch->n_circs++;
	*circ_id = id;
	tk_chanclock_set_circs(&ch->clock, ch->n_circs);
	return 0;
}

void
tk_channel_circ_remove(tk_channel *ch, uint32_t circ_id)
{
	struct chan_circ *c = find_circ(ch, circ_id);
	if (!c)
		return;
	*c = ch->circs[--ch->n_circs];
	if (ch->state == CHAN_OPEN)
		tk_chanclock_set_circs(&ch->clock, ch->n_circs);
}

size_t
tk_channel_circ_count(const tk_channel *ch)
{
	return ch->n_circs;
}

static void
maybe_free(tk_channel *ch)
{
	if (ch->handshake_open || ch->clock_open || ch->tls_open)
		return;
	if (ch->close_cb)
		ch->close_cb(ch, ch->arg);
	free(ch->in);
	free(ch->circs);
	free(ch);
}

static void
on_handshake_closed(tk_deadline *d)
{
	tk_channel *ch = d->data;
	ch->handshake_open = 0;
	maybe_free(ch);
}

static void
on_clock_closed(void *arg)
{
	tk_channel *ch = arg;
	ch->clock_open = 0;
	maybe_free(ch);
}

static void
on_tls_closed(tk_tls *t, void *arg)
{
	tk_channel *ch = arg;
	(void)t;
	ch->tls_open = 0;
	maybe_free(ch);
}

void
tk_channel_close(tk_channel *ch, tk_channel_close_cb close_cb)
{
	if (!ch || ch->state == CHAN_CLOSING)
		return;
	ch->state = CHAN_CLOSING;
	ch->close_cb = close_cb;
	notify_circs(ch, TK_CHAN_ECLOSED);
	if (ch->tls)
		tk_tls_close(ch->tls, on_tls_closed);
	if (ch->handshake_open)
		tk_deadline_close(&ch->handshake, on_handshake_closed);
	if (ch->clock_open)
		tk_chanclock_close(&ch->clock, on_clock_closed);
	if (!ch->handshake_open && !ch->clock_open && !ch->tls_open)
		maybe_free(ch); /* only when open failed before any handle */
}
