/* A scripted Tor relay for the link-layer unit tests: a real TLS server
 * (mbedTLS, so TLS 1.2 whichever library the client uses) on 127.0.0.1
 * with freshly generated RSA identity and link keys, that speaks the
 * responder side of the link handshake, answers CREATE_FAST, CREATE2 and
 * EXTEND2 (ntor, or ntor v3 with the congestion control negotiation of
 * prop 324), serves one canned directory document over BEGIN_DIR, pads
 * and sends PADDING_NEGOTIATE if asked — or misbehaves in the ways the
 * options ask for. One connection at a time; everything runs on the
 * caller's libuv loop. */
#ifndef TK_TESTS_FAKE_RELAY_H
#define TK_TESTS_FAKE_RELAY_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

enum fr_versions { FR_VERSIONS_OK, FR_VERSIONS_OLD, FR_VERSIONS_NETINFO_FIRST };
enum fr_certs {
	FR_CERTS_OK,
	FR_CERTS_NO_ID,        /* type 2 missing */
	FR_CERTS_OTHER_LINK,   /* type 1 is not the TLS certificate */
	FR_CERTS_MALFORMED,    /* length fields lie */
	FR_CERTS_WRONG_SIGNER, /* link cert signed by another key */
};
enum fr_extend {
	FR_EXTEND_OK,       /* a virtual second hop answers EXTENDED2 */
	FR_EXTEND_TRUNCATED,
	FR_EXTEND_BAD_REPLY, /* EXTENDED2 whose AUTH does not verify */
	FR_EXTEND_SILENT,
};
enum fr_create {
	FR_CREATE_OK,
	FR_CREATE_DESTROY, /* answer CREATE_FAST with DESTROY */
	FR_CREATE_BAD_KH,  /* CREATED_FAST with a wrong key hash */
	FR_CREATE_SILENT,
	FR_CREATE_CLOSE,   /* hang up on CREATE_FAST */
};

/* How the relay answers an ntor v3 handshake's congestion control. */
enum fr_cc {
	FR_CC_ACCEPT,	 /* a request gets the CC response (cc_sendme_inc) */
	FR_CC_REFUSE,	 /* no extensions back, as a relay with cc_alg=0 */
	FR_CC_UNASKED,	 /* the CC response even without a request */
	FR_CC_MALFORMED, /* an extension running past the message's end */
};

struct fr_opts {
	enum fr_versions versions;
	enum fr_certs certs;
	enum fr_create create;
	int close_after_cells; /* close after sending N handshake cells; -1 never */
	int silent;            /* TLS only, then say nothing */
	int padding;           /* interleave PADDING/VPADDING cells */
	int oversized;         /* send a cell whose length runs past EOF */
	int end_before_connected; /* refuse BEGIN_DIR with END NOTDIRECTORY */
	int close_on_begin_dir;   /* hang up when BEGIN_DIR arrives */
	int connected_late;       /* CONNECTED only once the whole request
				   is in: a client that waits for it
				   before sending deadlocks */
	int close_after_netinfo;  /* hang up once the client's NETINFO is in */
	enum fr_extend extend;
	int end_reason;           /* END after the response (0: DONE) */
	int sink_data;            /* count DATA, SENDME v1 every 100 (or
				   every sendme_inc once CC is on) */
	enum fr_cc cc;
	int cc_sendme_inc;        /* in the CC response; 0: 31 */
	int bad_sendme_tag;       /* ... with a wrong tag */
	/* Once this many CREATE_FASTs are answered, destroy those circuits
	 * (CHANNEL_CLOSED) as tor does when it loses the next hop: the
	 * first DESTROY at once, the others held until a later CREATE_FAST
	 * or CREATE2 queues a cell (tor's circuitmux flushes DESTROYs only
	 * then). */
	int destroy_after;
	int destroy_hold_all;  /* ... and hold the first one too (a relay
				* whose buffer to us was busy then) */
	/* Pad the client every pad_ms while nothing else went either way
	 * for that long, and never while DESTROYs are held (tor's relays
	 * do not pad a channel with cells queued). 0: never. */
	unsigned pad_ms;
	/* After the client's NETINFO, send PADDING_NEGOTIATE with this
	 * command (1 stop, 2 start; 0: none), as a misbehaving relay. */
	int send_padneg;
	const char *body;      /* directory response body (default "hello") */
	size_t body_len;
};

struct fr_seen {
	int n_connections;
	int client_versions_ok;    /* VERSIONS offered exactly 4,5 */
	int got_netinfo;
	uint32_t netinfo_time;
	int circ_ids_high_bit;     /* every circuit id had the high bit set */
	int n_create_fast;
	int n_destroy;
	uint8_t destroy_reason;
	int n_stream_sendme, n_circ_sendme;
	int n_end;
	int n_create2;
	int n_ntor_v3;             /* CREATE2/EXTEND2 with HTYPE 3 */
	int cc_requested;          /* ... whose message asked for CC */
	int n_extend2, extend2_was_early, extend2_specs_ok;
	int dir_served_by_hop;     /* 1 or 2: which hop answered BEGIN_DIR */
	int n_data;                /* DATA cells received (sink_data) */
	char request[512];         /* the first 511 bytes of it */
	size_t request_len;
	int closed_by_client;
	int n_held_flushed;        /* held DESTROYs sent after all */
	int n_padding_in;          /* PADDING cells from the client */
	int n_padneg_in;           /* PADDING_NEGOTIATE from the client */
	uint8_t padneg_cmd;        /* the last one's command */
	int padneg_before_padding; /* it came before any PADDING */
	int n_padding_out;         /* PADDING we sent (pad_ms) */
	int n_starved;             /* fake_relay_starve blocks done */
};

typedef struct fake_relay fake_relay;

/* Starts listening; *port and rsa_id say where and who. Returns 0. */
int fake_relay_start(uv_loop_t *loop, const struct fr_opts *opts,
		     fake_relay **out, int *port, uint8_t rsa_id[20]);
/* The relay's ntor onion key (for CREATE2), and the identity and ntor
 * key of the virtual hop behind it (for EXTEND2). */
void fake_relay_ntor_key(const fake_relay *fr, uint8_t B[32]);
void fake_relay_next_hop(const fake_relay *fr, uint8_t rsa_id[20],
			 uint8_t B[32]);
/* The Ed25519 identities ntor v3 names the relay and its virtual hop by
 * (random bytes: nothing here signs with them). */
void fake_relay_ed_ids(const fake_relay *fr, uint8_t ed[32],
		       uint8_t next_ed[32]);
const struct fr_seen *fake_relay_seen(const fake_relay *fr);
/* 1 while a client connection is open (the test waits for the relay to
 * have seen everything the client sent before it stops). */
int fake_relay_busy(const fake_relay *fr);
/* Starves the whole loop (the client's too, as an OS that does not run
 * the process would) right after the relay answered: it blocks until
 * uv_hrtime() reaches handshake_until after sending its handshake
 * cells, and created_until after its first CREATED_FAST or CREATED2
 * (ns; 0: never). The client's timeout comes due while the answer waits
 * unread in its socket. */
void fake_relay_starve(fake_relay *fr, uint64_t handshake_until,
		       uint64_t created_until);
/* Closes the listener and any connection; frees on the loop. */
void fake_relay_stop(fake_relay *fr);

#endif
