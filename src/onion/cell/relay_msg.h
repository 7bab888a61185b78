/* Relay message bodies (tor-spec §6): what sits after the 11-byte relay
 * header, for every message a client sends or receives.
 *
 * Pure codecs: bytes in, bytes out, no allocation, no I/O. Decoders never
 * read outside body[0..len) and return TK_RELAY_OK or a negative
 * TK_RELAY_E* code (tk_relay_strerror() says what was wrong); decoded
 * views (host names, DATA bytes, handshake data) point into the caller's
 * body and live as long as it does. Encoders write into out[cap] and
 * return the body length, or a negative code if the message is invalid or
 * does not fit. Where real Tor is lenient (trailing bytes after a known
 * layout, unknown END reasons, unknown RESOLVED types, unknown link
 * specifiers) we are too; where it rejects, we reject. */
#ifndef TK_ONION_CELL_RELAY_MSG_H
#define TK_ONION_CELL_RELAY_MSG_H

#include <stddef.h>
#include <stdint.h>

#include "onion/cell/cell.h" /* enum tk_relay_cmd, TK_RELAY_DATA_MAX */

/* RELAY_END reasons (tor-spec §6.3). Unknown values are legal on the
 * wire and are passed through. */
enum tk_relay_end_reason {
	TK_RELAY_END_MISC = 1,
	TK_RELAY_END_RESOLVEFAILED = 2,
	TK_RELAY_END_CONNECTREFUSED = 3,
	TK_RELAY_END_EXITPOLICY = 4,
	TK_RELAY_END_DESTROY = 5,
	TK_RELAY_END_DONE = 6,
	TK_RELAY_END_TIMEOUT = 7,
	TK_RELAY_END_NOROUTE = 8,
	TK_RELAY_END_HIBERNATING = 9,
	TK_RELAY_END_INTERNAL = 10,
	TK_RELAY_END_RESOURCELIMIT = 11,
	TK_RELAY_END_CONNRESET = 12,
	TK_RELAY_END_TORPROTOCOL = 13,
	TK_RELAY_END_NOTDIRECTORY = 14
};

/* BEGIN flags (tor-spec §6.2). */
#define TK_BEGIN_FLAG_IPV6_OK 0x1u
#define TK_BEGIN_FLAG_IPV4_NOT_OK 0x2u
#define TK_BEGIN_FLAG_IPV6_PREFERRED 0x4u

/* RESOLVED answer types. */
enum tk_relay_resolved_type {
	TK_RELAY_RESOLVED_HOSTNAME = 0x00,
	TK_RELAY_RESOLVED_IPV4 = 0x04,
	TK_RELAY_RESOLVED_IPV6 = 0x06,
	TK_RELAY_RESOLVED_ERR_TRANSIENT = 0xF0,
	TK_RELAY_RESOLVED_ERR_NONTRANSIENT = 0xF1
};

/* Link specifier types in EXTEND2 (tor-spec §5.1.2). */
enum tk_linkspec_type {
	TK_LS_IPV4 = 0,
	TK_LS_IPV6 = 1,
	TK_LS_LEGACY_ID = 2,
	TK_LS_ED25519_ID = 3
};

#define TK_SENDME_TAG_LEN 20
/* TTL field value meaning "the peer sent none". */
#define TK_TTL_NONE UINT32_MAX

enum tk_relay_err {
	TK_RELAY_OK = 0,
	TK_RELAY_ETRUNC = -1,	 /* body ends inside a field */
	TK_RELAY_ETOOBIG = -2,	 /* body or field longer than allowed */
	TK_RELAY_ESPACE = -3,	 /* encoder: output buffer too small */
	TK_RELAY_ENONUL = -4,	 /* string without its NUL terminator */
	TK_RELAY_EADDR = -5,	 /* bad host, address or address type */
	TK_RELAY_EPORT = -6,	 /* missing, zero or out-of-range port */
	TK_RELAY_ELEN = -7,	 /* a length field disagrees with its type */
	TK_RELAY_EVERSION = -8,	 /* SENDME version we cannot handle */
	TK_RELAY_ELINKSPEC = -9, /* EXTEND2 link specifiers malformed */
	TK_RELAY_EINVAL = -10	 /* encoder given an invalid argument */
};
const char *tk_relay_strerror(int err);
/* "MISC", "EXITPOLICY", ...; "UNKNOWN" for other values. */
const char *tk_relay_end_reason_name(uint8_t reason);

/* An IP address as relay messages carry it (no port). family 0 = none. */
typedef struct tk_relay_addr {
	uint8_t family; /* 0, 4 or 6 */
	uint8_t a[16];	/* network byte order; IPv4 in a[0..4) */
} tk_relay_addr;

/* Text form ("127.0.0.1", "2001:db8::1", no brackets); returns the
 * length, or -1 if cap is too small (46 bytes always suffice). */
int tk_relay_addr_format(const tk_relay_addr *addr, char *out, size_t cap);

/* ---- BEGIN / BEGIN_DIR ---------------------------------------------- */

/* "host:port\0" [+ FLAGS[4] when flags != 0]. host is a DNS name, a dotted
 * IPv4 address, or an IPv6 address with or without brackets (brackets are
 * added). Written lower-case, as Tor normalises targets. Rejected: empty
 * host, port 0, non-printable-ASCII or ':' in a name. */
int tk_relay_begin_encode(const char *host, uint16_t port, uint32_t flags,
			  uint8_t *out, size_t cap);

typedef struct tk_relay_begin {
	const char *host; /* points into the body; NOT NUL-terminated */
	size_t host_len;  /* IPv6 literals: without the brackets */
	int host_is_ipv6; /* was written in [brackets] */
	uint16_t port;
	uint32_t flags; /* 0 when absent */
} tk_relay_begin;
int tk_relay_begin_decode(const uint8_t *body, size_t len, tk_relay_begin *out);

/* BEGIN_DIR, TRUNCATE and DROP bodies are empty: encode writes nothing. */

/* ---- CONNECTED ------------------------------------------------------- */

typedef struct tk_relay_connected {
	tk_relay_addr addr; /* family 0 when the body was empty */
	uint32_t ttl;	    /* TK_TTL_NONE when absent or > INT32_MAX */
} tk_relay_connected;
/* addr NULL or family 0 -> empty body. IPv4: ADDR[4] TTL[4]; IPv6:
 * 00000000 06 ADDR[16] TTL[4]. */
int tk_relay_connected_encode(const tk_relay_addr *addr, uint32_t ttl,
			      uint8_t *out, size_t cap);
int tk_relay_connected_decode(const uint8_t *body, size_t len,
			      tk_relay_connected *out);

/* ---- DATA ------------------------------------------------------------ */

/* DATA is raw bytes; only the length matters (1..498; Tor never sends an
 * empty DATA but accepts one, so decode does too). */
int tk_relay_data_check(size_t len);

/* ---- END ------------------------------------------------------------- */

typedef struct tk_relay_end {
	uint8_t reason;	    /* MISC when the body was empty */
	tk_relay_addr addr; /* EXITPOLICY only; family 0 otherwise */
	uint32_t ttl;	    /* EXITPOLICY only; TK_TTL_NONE when absent */
} tk_relay_end;
/* REASON[1] [+ ADDR[4|16] TTL[4] when reason is EXITPOLICY and addr is
 * given]. */
int tk_relay_end_encode(uint8_t reason, const tk_relay_addr *addr, uint32_t ttl,
			uint8_t *out, size_t cap);
int tk_relay_end_decode(const uint8_t *body, size_t len, tk_relay_end *out);

/* ---- RESOLVE --------------------------------------------------------- */

/* "name\0", lower-cased. */
int tk_relay_resolve_encode(const char *name, uint8_t *out, size_t cap);
/* The reverse-lookup name for addr: "4.3.2.1.in-addr.arpa" or the
 * 32-nibble "....ip6.arpa". Returns its length or a negative code. */
int tk_relay_reverse_name(const tk_relay_addr *addr, char *out, size_t cap);
/* RESOLVE "<reverse name>\0" for addr. */
int tk_relay_resolve_ptr_encode(const tk_relay_addr *addr, uint8_t *out,
				size_t cap);
typedef struct tk_relay_resolve {
	const char *name; /* into the body, not NUL-terminated */
	size_t name_len;
} tk_relay_resolve;
int tk_relay_resolve_decode(const uint8_t *body, size_t len,
			    tk_relay_resolve *out);

/* ---- RESOLVED -------------------------------------------------------- */

/* An answer takes at least 6 bytes, so 498/6 bound the count. */
#define TK_RELAY_RESOLVED_MAX 83
typedef struct tk_relay_resolved_answer {
	uint8_t type;	      /* enum tk_relay_resolved_type, or unknown */
	const uint8_t *value; /* into the body */
	uint8_t len;
	tk_relay_addr addr; /* IPV4/IPV6 answers */
	uint32_t ttl;
} tk_relay_resolved_answer;
typedef struct tk_relay_resolved {
	size_t n;
	tk_relay_resolved_answer ans[TK_RELAY_RESOLVED_MAX];
	/* Tor's rule: 0 if any address/hostname answer is present, else the
	 * first error type seen (F0/F1), else 0. */
	uint8_t error;
} tk_relay_resolved;
/* Every answer is checked before any is reported: IPv4 must be 4 bytes,
 * IPv6 16, a hostname non-empty; errors' values are ignored; unknown
 * types are kept but carry no address. An empty body is valid (no
 * answers). */
int tk_relay_resolved_decode(const uint8_t *body, size_t len,
			     tk_relay_resolved *out);
/* The answer C tor hands its SOCKS client (connection_ap_handshake_socks_
 * got_resolved_cell): for a PTR lookup the first hostname; otherwise the
 * first address of an allowed family, IPv4 before IPv6 unless
 * prefer_ipv6. NULL when there is none: then r->error says why (0 means
 * "no usable answer", which Tor reports as a non-transient error). */
const tk_relay_resolved_answer *
tk_relay_resolved_pick(const tk_relay_resolved *r, int ptr, int ipv4_ok,
		       int ipv6_ok, int prefer_ipv6);
/* Appends one answer to a RESOLVED body being built in out[*used..cap). */
int tk_relay_resolved_append(uint8_t type, const void *value, size_t vlen,
			     uint32_t ttl, uint8_t *out, size_t *used,
			     size_t cap);

/* ---- SENDME ---------------------------------------------------------- */

typedef struct tk_relay_sendme {
	uint8_t version;		/* 0 for an empty body */
	uint8_t tag[TK_SENDME_TAG_LEN]; /* version 1 only */
} tk_relay_sendme;
/* version 0 -> empty body (also the stream-level SENDME); version 1 ->
 * 01 0014 TAG[20]. */
int tk_relay_sendme_encode(int version, const uint8_t *tag, uint8_t *out,
			   size_t cap);
/* Empty -> v0. Otherwise VERSION[1] DATA_LEN[2] DATA: v1 needs
 * DATA_LEN >= 20 (tag = first 20 bytes); versions above 1 give
 * TK_RELAY_EVERSION. */
int tk_relay_sendme_decode(const uint8_t *body, size_t len,
			   tk_relay_sendme *out);

/* ---- XON / XOFF (prop 324 §4.1, stream flow control) ------------------ */

/* XOFF: VERSION[1] = 0. XON: VERSION[1] = 0, KBPS_EWMA[4], the drain rate
 * in units of 1000 bytes/s (0: no limit). Encoders return the length;
 * decoders 0, TK_RELAY_ETRUNC, or TK_RELAY_EVERSION for a version other
 * than 0 (a protocol violation). Bytes after the fields are ignored, as
 * tor's parser ignores them. */
int tk_relay_xoff_encode(uint8_t *out, size_t cap);
int tk_relay_xoff_decode(const uint8_t *body, size_t len);
int tk_relay_xon_encode(uint32_t kbps_ewma, uint8_t *out, size_t cap);
int tk_relay_xon_decode(const uint8_t *body, size_t len, uint32_t *kbps_ewma);

/* ---- EXTEND2 / EXTENDED2 --------------------------------------------- */

#define TK_EXTEND2_MAX_SPECS 8
typedef struct tk_linkspec {
	uint8_t type;
	uint8_t len;
	uint8_t data[255]; /* IPv4: addr[4] port[2]; IPv6: addr[16] port[2];
			      legacy: RSA id[20]; Ed25519: key[32] */
} tk_linkspec;
void tk_linkspec_ipv4(tk_linkspec *ls, const uint8_t addr[4], uint16_t port);
void tk_linkspec_ipv6(tk_linkspec *ls, const uint8_t addr[16], uint16_t port);
void tk_linkspec_legacy_id(tk_linkspec *ls, const uint8_t id[20]);
void tk_linkspec_ed25519_id(tk_linkspec *ls, const uint8_t key[32]);

typedef struct tk_relay_extend2 {
	size_t n_specs;
	tk_linkspec specs[TK_EXTEND2_MAX_SPECS];
	uint16_t htype;
	uint16_t hlen;
	const uint8_t *hdata; /* decode: into the body */
} tk_relay_extend2;
/* NSPEC[1] {LSTYPE LSLEN LSPEC}* HTYPE[2] HLEN[2] HDATA. The encoder
 * writes the specifiers in the order given (callers should pass IPv4,
 * legacy, Ed25519, IPv6, as Tor does) and insists on what relays insist
 * on: exactly one legacy id and at least one address. The decoder checks
 * known types' lengths and keeps unknown ones. */
int tk_relay_extend2_encode(const tk_relay_extend2 *m, uint8_t *out,
			    size_t cap);
int tk_relay_extend2_decode(const uint8_t *body, size_t len,
			    tk_relay_extend2 *out);

typedef struct tk_relay_extended2 {
	uint16_t hlen;
	const uint8_t *hdata; /* into the body */
} tk_relay_extended2;
int tk_relay_extended2_encode(const uint8_t *hdata, uint16_t hlen, uint8_t *out,
			      size_t cap);
int tk_relay_extended2_decode(const uint8_t *body, size_t len,
			      tk_relay_extended2 *out);

/* ---- TRUNCATED ------------------------------------------------------- */

/* REASON[1] (a DESTROY reason); an empty body gives reason 0 (NONE). */
int tk_relay_truncated_decode(const uint8_t *body, size_t len, uint8_t *reason);
int tk_relay_truncated_encode(uint8_t reason, uint8_t *out, size_t cap);

#endif
