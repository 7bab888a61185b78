/* Tor channel cells (tor-spec §3, §4, §5): framing for fixed and variable
 * cells and codecs for the link-handshake and circuit-creation payloads,
 * plus the relay cell header (relay cell format v0).
 *
 * Pure: bytes in, bytes out, no allocation, no I/O. Decoders return views
 * into the caller's buffer where that avoids a copy. Every function
 * returns TK_CELL_OK (0) or a negative tk_cell_err; tk_cell_strerror()
 * says what was wrong. */
#ifndef TK_ONION_CELL_CELL_H
#define TK_ONION_CELL_CELL_H

#include <stddef.h>
#include <stdint.h>

#define TK_CELL_PAYLOAD_LEN 509
#define TK_CELL_LEN 514	      /* fixed cell, 4-byte circuit ids (link >= 4) */
#define TK_CELL_VAR_HDR_LEN 7 /* CircID[4] Command[1] Length[2] */
#define TK_CELL_VERSIONS_HDR_LEN 5 /* CircID[2] Command[1] Length[2] */
#define TK_CELL_VAR_MAX_PAYLOAD 65535

enum tk_cell_cmd {
	TK_CELL_PADDING = 0,
	TK_CELL_CREATE = 1,
	TK_CELL_CREATED = 2,
	TK_CELL_RELAY = 3,
	TK_CELL_DESTROY = 4,
	TK_CELL_CREATE_FAST = 5,
	TK_CELL_CREATED_FAST = 6,
	TK_CELL_VERSIONS = 7,
	TK_CELL_NETINFO = 8,
	TK_CELL_RELAY_EARLY = 9,
	TK_CELL_CREATE2 = 10,
	TK_CELL_CREATED2 = 11,
	TK_CELL_PADDING_NEGOTIATE = 12,
	TK_CELL_VPADDING = 128,
	TK_CELL_CERTS = 129,
	TK_CELL_AUTH_CHALLENGE = 130,
	TK_CELL_AUTHENTICATE = 131,
	TK_CELL_AUTHORIZE = 132,
};

enum tk_cell_err {
	TK_CELL_OK = 0,
	TK_CELL_NEED_MORE = 1,	 /* framing only: not an error, read more */
	TK_CELL_ETRUNC = -1,	 /* payload shorter than its fields say */
	TK_CELL_ETOOLONG = -2,	 /* a length field exceeds what fits */
	TK_CELL_EBADLEN = -3,	 /* a length field has an impossible value */
	TK_CELL_ENOSPACE = -4,	 /* caller's output buffer is too small */
	TK_CELL_EDUP = -5,	 /* a certificate type appears twice */
	TK_CELL_ETOOMANY = -6,	 /* more entries than this codec keeps */
	TK_CELL_EBADCIRC = -7,	 /* circuit id width not 2 or 4 */
	TK_CELL_ENOVERSION = -8, /* no link protocol in common */
	TK_CELL_EBADVALUE = -9,	 /* field holds a value the spec forbids */
};
const char *tk_cell_strerror(int err);

/* Commands 7 (VERSIONS) and >= 128 are variable-length. */
int tk_cell_cmd_is_var(uint8_t cmd);
/* Name for logs ("CREATE2"); "unknown" for unassigned commands. */
const char *tk_cell_cmd_name(uint8_t cmd);

/* ---- framing ------------------------------------------------------ */

/* A cell as received: a view into the input buffer. For fixed cells
 * payload_len is always 509 (including the trailing padding). */
typedef struct tk_cell_view {
	uint32_t circ_id;
	uint8_t cmd;
	int is_var;
	const uint8_t *payload;
	size_t payload_len;
} tk_cell_view;

/* Frames the next cell at buf[0..len). circ_id_len is 2 for the first
 * VERSIONS cell (before a link protocol is agreed) and 4 after (link
 * 4/5). On TK_CELL_OK *used is the cell's size on the wire and v describes
 * it; TK_CELL_NEED_MORE means wait for more bytes (nothing consumed).
 * With circ_id_len 2 a fixed cell is 512 bytes (link 3 layout). */
int tk_cell_frame(const uint8_t *buf, size_t len, int circ_id_len,
		  tk_cell_view *v, size_t *used);

/* Writes a 514-byte fixed cell; payload (<= 509 bytes) is zero-padded. */
int tk_cell_write_fixed(uint8_t out[TK_CELL_LEN], uint32_t circ_id, uint8_t cmd,
			const uint8_t *payload, size_t len);
/* Writes a variable cell; returns its size via *written. */
int tk_cell_write_var(uint8_t *out, size_t cap, int circ_id_len,
		      uint32_t circ_id, uint8_t cmd, const uint8_t *payload,
		      size_t len, size_t *written);

/* ---- VERSIONS (circ id 2 bytes, variable) -------------------------- */

#define TK_VERSIONS_MAX 32
/* The cell we send: offers 4 and 5. out must hold 9 bytes. */
int tk_versions_write_ours(uint8_t *out, size_t cap, size_t *written);
/* Parses a VERSIONS payload (odd length is an error). Versions past
 * TK_VERSIONS_MAX are dropped rather than failing. */
int tk_versions_parse(const uint8_t *p, size_t len, uint16_t *versions,
		      size_t max, size_t *n);
/* Highest version in both lists, in *chosen; TK_CELL_ENOVERSION if none. */
int tk_versions_choose(const uint16_t *ours, size_t n_ours,
		       const uint16_t *theirs, size_t n_theirs,
		       uint16_t *chosen);

/* ---- CERTS (variable) --------------------------------------------- */

enum tk_cert_type {
	TK_CERTTYPE_LINK = 1,	      /* X.509 TLS link cert (RSA) */
	TK_CERTTYPE_RSA_ID = 2,	      /* X.509 self-signed RSA-1024 identity */
	TK_CERTTYPE_RSA_AUTH = 3,     /* initiator authentication (unused) */
	TK_CERTTYPE_ED_ID_SIGN = 4,   /* Ed25519 identity -> signing key */
	TK_CERTTYPE_ED_SIGN_LINK = 5, /* Ed25519 signing key -> TLS cert */
	TK_CERTTYPE_ED_SIGN_AUTH = 6, /* initiator authentication (unused) */
	TK_CERTTYPE_RSA_ED_CROSS = 7, /* RSA identity -> Ed25519 identity */
};

#define TK_CERTS_MAX 16
typedef struct tk_cert_entry {
	uint8_t type;
	const uint8_t *body;
	uint16_t len;
} tk_cert_entry;
typedef struct tk_certs {
	size_t n;
	tk_cert_entry e[TK_CERTS_MAX];
} tk_certs;
/* Parses a CERTS payload; bodies are views into p. Bytes after the last
 * cert are ignored (tor-spec); a duplicated type is TK_CELL_EDUP. */
int tk_certs_parse(const uint8_t *p, size_t len, tk_certs *out);
/* The entry of that type, or NULL. */
const tk_cert_entry *tk_certs_find(const tk_certs *c, uint8_t type);
int tk_certs_write(const tk_certs *c, uint8_t *out, size_t cap,
		   size_t *written);

/* ---- AUTH_CHALLENGE (variable; a client only parses and ignores) ---- */

typedef struct tk_auth_challenge {
	uint8_t challenge[32];
	uint16_t n_methods;
	const uint8_t *methods; /* n_methods big-endian u16s */
} tk_auth_challenge;
int tk_auth_challenge_parse(const uint8_t *p, size_t len,
			    tk_auth_challenge *out);
/* 1 if the challenge lists method m. */
int tk_auth_challenge_has_method(const tk_auth_challenge *a, uint16_t m);

/* ---- NETINFO (fixed) ---------------------------------------------- */

enum { TK_NETINFO_ADDR_IPV4 = 4, TK_NETINFO_ADDR_IPV6 = 6 };
#define TK_NETINFO_MAX_MYADDRS 8
typedef struct tk_netinfo_addr {
	uint8_t type; /* 4, 6, or something we skip */
	uint8_t len;
	uint8_t addr[16]; /* valid for type 4 (len 4) and 6 (len 16) */
} tk_netinfo_addr;
typedef struct tk_netinfo {
	uint32_t time;
	tk_netinfo_addr other;
	uint8_t n_my; /* addresses kept in my[]; any beyond the first
		       * TK_NETINFO_MAX_MYADDRS are checked, then dropped */
	tk_netinfo_addr my[TK_NETINFO_MAX_MYADDRS];
} tk_netinfo;
/* Only truncation is an error: an address of another type, or of type
 * 4/6 with a length other than 4/16, is kept as (type, len) with addr
 * zeroed and is not usable. */
int tk_netinfo_parse(const uint8_t *p, size_t len, tk_netinfo *out);
/* 1 for a well-formed IPv4 (4, len 4) or IPv6 (6, len 16) address. */
int tk_netinfo_addr_usable(const tk_netinfo_addr *a);
/* Encodes into a 509-byte payload (zero padded). */
int tk_netinfo_write(const tk_netinfo *ni, uint8_t out[TK_CELL_PAYLOAD_LEN]);

/* ---- circuit creation --------------------------------------------- */

#define TK_CREATE_FAST_LEN 20
#define TK_CREATED_FAST_LEN 40
int tk_create_fast_write(const uint8_t x[TK_CREATE_FAST_LEN],
			 uint8_t out[TK_CELL_PAYLOAD_LEN]);
int tk_created_fast_parse(const uint8_t *p, size_t len, const uint8_t **y,
			  const uint8_t **kh);

enum {
	TK_HTYPE_TAP = 0,
	TK_HTYPE_FAST = 1,
	TK_HTYPE_NTOR = 2,
	TK_HTYPE_NTOR_V3 = 3,
};
#define TK_NTOR_ONIONSKIN_LEN 84
#define TK_NTOR_REPLY_LEN 64
#define TK_CREATE2_MAX_HLEN (TK_CELL_PAYLOAD_LEN - 4)
#define TK_CREATED2_MAX_HLEN (TK_CELL_PAYLOAD_LEN - 2)
int tk_create2_write(uint16_t htype, const uint8_t *hdata, size_t hlen,
		     uint8_t out[TK_CELL_PAYLOAD_LEN]);
int tk_create2_parse(const uint8_t *p, size_t len, uint16_t *htype,
		     const uint8_t **hdata, size_t *hlen);
/* CREATED2 and EXTENDED2 share this body: HLEN[2] HDATA. */
int tk_created2_write(const uint8_t *hdata, size_t hlen,
		      uint8_t out[TK_CELL_PAYLOAD_LEN]);
int tk_created2_parse(const uint8_t *p, size_t len, const uint8_t **hdata,
		      size_t *hlen);

/* DESTROY reasons (tor-spec §5.4). */
enum tk_destroy_reason {
	TK_DESTROY_NONE = 0,
	TK_DESTROY_PROTOCOL = 1,
	TK_DESTROY_INTERNAL = 2,
	TK_DESTROY_REQUESTED = 3,
	TK_DESTROY_HIBERNATING = 4,
	TK_DESTROY_RESOURCELIMIT = 5,
	TK_DESTROY_CONNECTFAILED = 6,
	TK_DESTROY_OR_IDENTITY = 7,
	TK_DESTROY_CHANNEL_CLOSED = 8,
	TK_DESTROY_FINISHED = 9,
	TK_DESTROY_TIMEOUT = 10,
	TK_DESTROY_DESTROYED = 11,
	TK_DESTROY_NOSUCHSERVICE = 12,
};
int tk_destroy_write(uint8_t reason, uint8_t out[TK_CELL_PAYLOAD_LEN]);
int tk_destroy_parse(const uint8_t *p, size_t len, uint8_t *reason);
const char *tk_destroy_reason_str(uint8_t reason);

/* PADDING_NEGOTIATE (fixed): Version 0, Command 1 stop / 2 start. */
typedef struct tk_padding_negotiate {
	uint8_t version;
	uint8_t command;
	uint16_t ito_low_ms;
	uint16_t ito_high_ms;
} tk_padding_negotiate;
int tk_padding_negotiate_write(const tk_padding_negotiate *pn,
			       uint8_t out[TK_CELL_PAYLOAD_LEN]);
int tk_padding_negotiate_parse(const uint8_t *p, size_t len,
			       tk_padding_negotiate *out);

/* ---- relay cell header (relay cell format v0) ---------------------- */

#define TK_RELAY_HDR_LEN 11
#define TK_RELAY_DATA_MAX (TK_CELL_PAYLOAD_LEN - TK_RELAY_HDR_LEN) /* 498 */
#define TK_RELAY_DIGEST_OFF 5 /* Digest[4] sits at payload[5..9) */

enum tk_relay_cmd {
	TK_RELAY_BEGIN = 1,
	TK_RELAY_DATA = 2,
	TK_RELAY_END = 3,
	TK_RELAY_CONNECTED = 4,
	TK_RELAY_SENDME = 5,
	TK_RELAY_EXTEND = 6,
	TK_RELAY_EXTENDED = 7,
	TK_RELAY_TRUNCATE = 8,
	TK_RELAY_TRUNCATED = 9,
	TK_RELAY_DROP = 10,
	TK_RELAY_RESOLVE = 11,
	TK_RELAY_RESOLVED = 12,
	TK_RELAY_BEGIN_DIR = 13,
	TK_RELAY_EXTEND2 = 14,
	TK_RELAY_EXTENDED2 = 15,
	/* stream flow control (prop 324 §4). Older tor-spec text has the
	 * two numbers the other way round; tor's code (or.h) and the relays
	 * on the network use these. */
	TK_RELAY_XOFF = 43,
	TK_RELAY_XON = 44,
};

typedef struct tk_relay_header {
	uint8_t cmd;
	uint16_t recognized;
	uint16_t stream_id;
	uint8_t digest[4];
	uint16_t length;
} tk_relay_header;

/* Builds a plaintext relay payload: header with Recognized and Digest
 * zero, data, then padding (4 zero bytes, then random bytes, prop 289).
 * len > 498 is TK_CELL_ETOOLONG. Relay crypto fills in the digest. */
int tk_relay_payload_build(uint8_t out[TK_CELL_PAYLOAD_LEN], uint8_t cmd,
			   uint16_t stream_id, const uint8_t *data, size_t len);
/* Decodes the header of a decrypted, recognized payload; Length > 498 is
 * TK_CELL_EBADLEN. *data (optional) points at the data bytes. */
int tk_relay_header_parse(const uint8_t payload[TK_CELL_PAYLOAD_LEN],
			  tk_relay_header *h, const uint8_t **data);
const char *tk_relay_cmd_name(uint8_t cmd);

#endif
