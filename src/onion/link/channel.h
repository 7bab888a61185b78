/* A channel: the TLS link to one relay, after the v3 link handshake
 * (tor-spec §4): VERSIONS offering 4 and 5, the relay's CERTS checked
 * against the identity we expected, AUTH_CHALLENGE ignored (we are an
 * unauthenticated client), NETINFO both ways.
 *
 * Once open, the channel carries cells for circuits: each circuit
 * registers with a freshly allocated circuit id (high bit set, as link
 * >= 4 initiators must) and receives every cell sent to that id.
 *
 * The channel pads as tor's client does (padding.h): PADDING cells at
 * random on a quiet channel, PADDING_NEGOTIATE when the options say so,
 * a keepalive PADDING after 5 minutes without a cell sent when it is not
 * padded. Incoming PADDING and VPADDING are counted and dropped, incoming
 * PADDING_NEGOTIATE is counted and ignored, as tor's clients do.
 *
 * Its owner may set hooks (tk_channel_set_hooks): `stalled` when the
 * relay seems to hold cells for us (see channel.c: a relay that lost a
 * link to the next hop queues our DESTROYs and may never send them on a
 * quiet channel), `idle` when the channel has had no circuit for a while
 * (tor closes such channels).
 *
 * Statuses: 0, a TK_CHAN_E* code, or a tls.h status (libuv or TLS
 * error); tk_channel_strerror() names any of them and
 * tk_channel_errmsg() has the details of the last failure. */
#ifndef TK_ONION_LINK_CHANNEL_H
#define TK_ONION_LINK_CHANNEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "onion/cell/cell.h"

enum {
	TK_CHAN_ETIMEDOUT = -6001,  /* handshake did not finish in time */
	TK_CHAN_EIDENTITY = -6002,  /* relay proved a different identity */
	TK_CHAN_ECERTS = -6003,	    /* CERTS missing, malformed or invalid */
	TK_CHAN_EPROTO = -6004,	    /* link protocol violation */
	TK_CHAN_ENOVERSION = -6005, /* no link protocol version in common */
	TK_CHAN_ECLOSED = -6006,    /* closed locally (tk_channel_close) */
	TK_CHAN_ENOMEM = -6007,
	TK_CHAN_ESTATE = -6008,	   /* call not valid in this state */
	TK_CHAN_ENOCIRCID = -6009, /* could not find a free circuit id */
};

#define TK_CHAN_DEFAULT_TIMEOUT_MS 30000
/* Silence (not a cell, padding included) from a relay that should pad
 * us, on a channel that carries circuits, before it counts as stalled;
 * the wait doubles up to the maximum while the silence lasts and starts
 * over with the next cell. A healthy relay pads every 1.5 to 9.5 s
 * unless our own padding came first: see channel.c. */
#define TK_CHAN_STALL_FIRST_MS 60000
#define TK_CHAN_STALL_MAX_MS 600000
/* tor's KeepalivePeriod: a PADDING after this long without a cell sent,
 * on a channel that is not padded otherwise. */
#define TK_CHAN_KEEPALIVE_MS 300000

typedef struct tk_channel tk_channel;

/* Whom we want to reach: address, and the identity it must prove. */
typedef struct tk_channel_target {
	struct sockaddr_storage addr;
	uint8_t rsa_id[20]; /* SHA-1 of the relay's RSA identity key */
	int has_ed_id;	    /* if set, the Ed25519 identity must match too */
	uint8_t ed_id[32];
} tk_channel_target;

/* What the handshake established (for logs and the dev tool). */
typedef struct tk_channel_info {
	uint16_t link_version;
	uint16_t their_versions[TK_VERSIONS_MAX];
	size_t n_their_versions;
	const char *tls_version;
	const char *tls_ciphersuite;
	uint8_t cert_types[TK_CERTS_MAX];
	size_t n_certs;
	uint8_t rsa_id[20]; /* proved by the CERTS cell */
	int ed_verified;    /* the Ed25519 chain (types 4, 5, 7) checked out */
	uint8_t ed_id[32];  /* valid if ed_verified */
	int got_auth_challenge;
	uint16_t auth_methods[8];
	size_t n_auth_methods;
	tk_netinfo netinfo; /* the relay's NETINFO: its time, our address */
	size_t cells_in, cells_out;
	size_t padding_dropped; /* PADDING and VPADDING received */
	size_t padding_sent;	/* PADDING sent (padding and keepalives) */
	size_t padneg_sent;	/* PADDING_NEGOTIATE sent (STOP) */
	size_t padneg_received; /* PADDING_NEGOTIATE from the relay, ignored */
	uint8_t padneg_last;	/* its command (1 stop, 2 start), 0 if none */
	size_t stalls;		/* `stalled` reports */
} tk_channel_info;

/* Why the relay seems to hold cells for us. */
enum tk_channel_stall {
	/* A DESTROY said it lost a link (CHANNEL_CLOSED) while other
	 * circuits of ours remain: their DESTROYs may be queued behind. */
	TK_CHAN_STALL_DESTROY = 1,
	/* Nothing at all came for the stall wait while it should pad. */
	TK_CHAN_STALL_SILENCE = 2,
};

/* Set by the channel's owner; every field may be 0/NULL. The hooks run
 * from the loop (a timer or a cell) and may close the channel. */
struct tk_channel_hooks {
	/* The relay is holding cells for us, probably DESTROYs. A circuit
	 * built through it makes it send them (its answer goes through a
	 * circuit queue, which flushes the DESTROY queue first). */
	void (*stalled)(tk_channel *ch, enum tk_channel_stall why, void *arg);
	/* No circuit for idle_ms (0: never). */
	void (*idle)(tk_channel *ch, void *arg);
	void *arg;
	unsigned idle_ms;
	unsigned stall_first_ms; /* 0: TK_CHAN_STALL_FIRST_MS */
	unsigned keepalive_ms;	 /* 0: TK_CHAN_KEEPALIVE_MS (tests) */
};

/* status 0: the channel is open. Otherwise it failed and the only valid
 * call is tk_channel_close(). Runs once. */
typedef void (*tk_channel_open_cb)(tk_channel *ch, int status, void *arg);
/* The open channel broke (status < 0: TLS EOF, protocol error...). All
 * circuits were told first. Only tk_channel_close() is valid now. */
typedef void (*tk_channel_lost_cb)(tk_channel *ch, int status, void *arg);
typedef void (*tk_channel_close_cb)(tk_channel *ch, void *arg);

/* A circuit's view: status 0 and a cell for its id, or status < 0 once,
 * when the channel goes away (the circuit is then unregistered and must
 * not use the channel again). */
typedef void (*tk_channel_circ_cb)(void *circ, int status,
				   const tk_cell_view *cell);

/* Connects and runs the handshake. timeout_ms 0 means the default. sni
 * may be NULL for a random "www.<random>.com" as tor sends. */
int tk_channel_open(uv_loop_t *loop, const tk_channel_target *target,
		    unsigned timeout_ms, tk_channel_open_cb open_cb,
		    tk_channel_lost_cb lost_cb, void *arg, tk_channel **out);

const tk_channel_info *tk_channel_get_info(const tk_channel *ch);
uv_loop_t *tk_channel_loop(const tk_channel *ch);
int tk_channel_is_open(const tk_channel *ch);

/* Registers a circuit and picks its id. */
int tk_channel_circ_add(tk_channel *ch, tk_channel_circ_cb cb, void *circ,
			uint32_t *circ_id);
/* Unregisters (no DESTROY is sent: that is the circuit's business). */
void tk_channel_circ_remove(tk_channel *ch, uint32_t circ_id);
size_t tk_channel_circ_count(const tk_channel *ch);
/* Sets (copies) the hooks; they apply from now on. */
void tk_channel_set_hooks(tk_channel *ch, const struct tk_channel_hooks *h);
/* A multi-hop circuit is being started on ch: from now on it is padded
 * (padding.h; a RELAY_EARLY sent says the same). */
void tk_channel_note_multihop(tk_channel *ch);

/* Sends a fixed cell (payload <= 509 bytes, zero padded). */
int tk_channel_send(tk_channel *ch, uint32_t circ_id, uint8_t cmd,
		    const uint8_t *payload, size_t len);
/* Ciphertext waiting for the socket, for back-pressure. */
size_t tk_channel_write_queue_size(const tk_channel *ch);

/* Closes: registered circuits get TK_CHAN_ECLOSED, the TLS link is shut
 * and ch freed; close_cb (may be NULL) runs from the loop afterwards.
 * Safe from inside any callback of this channel. */
void tk_channel_close(tk_channel *ch, tk_channel_close_cb close_cb);

const char *tk_channel_strerror(int status);
/* "wrong identity: relay proved 3567F6..., expected 0000..." etc. */
const char *tk_channel_errmsg(const tk_channel *ch);

#endif
