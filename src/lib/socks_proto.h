/* socks_proto.h — the SOCKS4/4a/5 codec with Tor's extensions.
 *
 * Pure: bytes in, bytes out. No I/O, no libuv, no allocation. Both roles:
 *
 *   server  tk_socks_server_feed() parses what a client sent and says what
 *           to answer; reply builders format every answer torkitd sends.
 *   client  tk_socks_client_* builds requests and parses a proxy's answers
 *           incrementally.
 *
 * Behaviour is real Tor's (0.4.9) byte for byte, except for the deliberate
 * differences listed in doc/differences.md; each such place is commented
 * in socks_proto_{server,client,reply}.c.
 */
#ifndef TK_SOCKS_PROTO_H
#define TK_SOCKS_PROTO_H

#include <stddef.h>
#include <stdint.h>

/* Commands, as on the wire (SOCKS4 CD / SOCKS5 CMD). */
enum tk_socks_cmd {
	TK_SOCKS_CMD_CONNECT = 0x01,
	TK_SOCKS_CMD_BIND = 0x02,
	TK_SOCKS_CMD_UDP_ASSOCIATE = 0x03,
	TK_SOCKS_CMD_RESOLVE = 0xF0,	 /* Tor extension */
	TK_SOCKS_CMD_RESOLVE_PTR = 0xF1, /* Tor extension */
};

/* Address types, as on the wire (SOCKS5 ATYP). For SOCKS4 requests the
 * parser reports IPV4, or DOMAIN for a 4a hostname. */
enum tk_socks_atyp {
	TK_SOCKS_ATYP_IPV4 = 0x01,
	TK_SOCKS_ATYP_DOMAIN = 0x03,
	TK_SOCKS_ATYP_IPV6 = 0x04,
};

/* SOCKS5 reply codes (REP), including Tor's extended codes. */
enum tk_socks5_rep {
	TK_SOCKS5_SUCCEEDED = 0x00,
	TK_SOCKS5_GENERAL_FAILURE = 0x01,
	TK_SOCKS5_NOT_ALLOWED = 0x02,
	TK_SOCKS5_NET_UNREACHABLE = 0x03,
	TK_SOCKS5_HOST_UNREACHABLE = 0x04,
	TK_SOCKS5_CONN_REFUSED = 0x05,
	TK_SOCKS5_TTL_EXPIRED = 0x06,
	TK_SOCKS5_CMD_NOT_SUPPORTED = 0x07,
	TK_SOCKS5_ADDR_NOT_SUPPORTED = 0x08,
	TK_SOCKS5_HS_DESC_NOT_FOUND = 0xF0,
	TK_SOCKS5_HS_DESC_INVALID = 0xF1,
	TK_SOCKS5_HS_INTRO_FAILED = 0xF2,
	TK_SOCKS5_HS_REND_FAILED = 0xF3,
	TK_SOCKS5_HS_MISSING_CLIENT_AUTH = 0xF4,
	TK_SOCKS5_HS_WRONG_CLIENT_AUTH = 0xF5,
	TK_SOCKS5_HS_BAD_ADDRESS = 0xF6,
	TK_SOCKS5_HS_INTRO_TIMEDOUT = 0xF7,
};

/* SOCKS4 reply codes (CD of the reply). */
enum tk_socks4_rep {
	TK_SOCKS4_GRANTED = 0x5A,
	TK_SOCKS4_REJECTED = 0x5B,
	TK_SOCKS4_NO_IDENTD = 0x5C,
	TK_SOCKS4_IDENTD_MISMATCH = 0x5D,
};

/* Tor stream END reasons (tor-spec §6.3) plus Tor's local reasons (>= 256).
 * Engines report failures with these; the front-end maps them to replies
 * with tk_socks5_rep_from_end_reason(), Tor's one table. */
enum tk_end_reason {
	TK_END_NONE = 0,
	TK_END_MISC = 1,
	TK_END_RESOLVEFAILED = 2,
	TK_END_CONNECTREFUSED = 3,
	TK_END_EXITPOLICY = 4,
	TK_END_DESTROY = 5,
	TK_END_DONE = 6,
	TK_END_TIMEOUT = 7,
	TK_END_NOROUTE = 8,
	TK_END_HIBERNATING = 9,
	TK_END_INTERNAL = 10,
	TK_END_RESOURCELIMIT = 11,
	TK_END_CONNRESET = 12,
	TK_END_TORPROTOCOL = 13,
	TK_END_NOTDIRECTORY = 14,
	TK_END_ENTRYPOLICY = 15,
	TK_END_CANT_ATTACH = 257,
	TK_END_NET_UNREACHABLE = 258,
	TK_END_SOCKSPROTOCOL = 259,
	TK_END_PRIVATE_ADDR = 262,
};

/* Results of every incremental parser. */
enum tk_socks_status {
	TK_SOCKS_ERROR = -1, /* invalid: send the reply (if any), then close */
	TK_SOCKS_NEED_MORE = 0, /* a prefix of a valid message: feed more */
	TK_SOCKS_DONE = 1,	/* a complete request / reply */
};

#define TK_SOCKS_HOST_MAX 256 /* host[] size, NUL included (Tor's) */
#define TK_SOCKS_USER_MAX 512 /* SOCKS4 userids may be this long */
#define TK_SOCKS_PASS_MAX 255
#define TK_SOCKS_REPLY_MAX 1024 /* Tor's MAX_SOCKS_REPLY_LEN */
#define TK_SOCKS_MSG_MAX 513	/* longest handshake message (RFC 1929) */

/* A complete request as the server parsed it. */
struct tk_socks_request {
	uint8_t version; /* 4 or 5 */
	uint8_t command; /* enum tk_socks_cmd */
	uint8_t atyp;	 /* enum tk_socks_atyp: how the target came */
	uint16_t port;
	uint8_t addr[16]; /* binary address when atyp is IPV4/IPV6 */
	char host[TK_SOCKS_HOST_MAX]; /* target as text: dotted quad, IPv6
				       * without brackets, or the hostname */
	/* Credentials, never verified, kept for stream isolation (Tor's
	 * IsolateSOCKSAuth): SOCKS4 userid or RFC 1929 username/password.
	 * has_auth is 1 when there is a non-empty userid, username or
	 * password; as in Tor, an empty RFC 1929 pair isolates like no
	 * credentials at all. Isolation key: (username, password) bytes. */
	uint8_t has_auth;
	uint16_t username_len;
	uint8_t password_len;
	uint8_t has_password; /* an RFC 1929 message was received (even
			       * an empty one); 0 for SOCKS4 */
	uint8_t username[TK_SOCKS_USER_MAX];
	uint8_t password[TK_SOCKS_PASS_MAX];
	/* Worked out by the codec, not read from the wire: */
	int family;	/* AF_INET / AF_INET6 when host is an IP
			 * literal however it came (ATYP 01/04, or
			 * ATYP 03 / 4a text such as "1.2.3.4" or
			 * "[::1]"); addr[] then holds it. 0 for a
			 * name. */
	uint8_t unsafe; /* the client gave only an IP for CONNECT or
			 * RESOLVE (Tor's DANGEROUS_SOCKS event) */
};

/* Per-listener policy the server parser applies. */
struct tk_socks_server_config {
	uint8_t safe_socks;	/* refuse requests carrying only an IP */
	uint8_t test_socks;	/* log whether each request was safe */
	uint8_t prefer_no_auth; /* choose 00 over 02 when both offered */
	int client_family;	/* AF_INET, AF_INET6 or AF_UNIX of the peer:
				 * decides the ATYP of generic replies
				 * (AF_INET6/AF_UNIX: 22 bytes; anything
				 * else, 0 included: 10 bytes) */
	uint8_t log_addresses;	/* 0 (SafeLogging 1, Tor's default): log[]
				 * shows "[scrubbed]" for client targets */
};

/* Server parser state: zero it with tk_socks_server_init(). */
struct tk_socks_server {
	struct tk_socks_server_config cfg;
	int state;	 /* private */
	uint8_t version; /* 0 until known, then 4 or 5 */
	uint8_t method;	 /* selected SOCKS5 method */
	struct tk_socks_request req;
};

/* What one call to tk_socks_server_feed() decided. */
struct tk_socks_server_result {
	enum tk_socks_status status;
	size_t consumed; /* bytes the caller drops from its input */
	uint8_t reply[TK_SOCKS_REPLY_MAX];
	size_t reply_len; /* send these now, even with NEED_MORE */
	int log_level;	  /* TK_SOCKS_LOG_*, 0 when nothing to log */
	char log[256];	  /* why it failed / TestSocks notices */
};

enum { TK_SOCKS_LOG_NONE, TK_SOCKS_LOG_NOTICE, TK_SOCKS_LOG_WARN };

void tk_socks_server_init(struct tk_socks_server *s,
			  const struct tk_socks_server_config *cfg);

/* Feed every byte buffered so far (from the start of what is not yet
 * consumed). Processes as many complete handshake messages as there are,
 * appending every reply in order (Tor sends only the last; we send all).
 * NEED_MORE: send reply[] (may be empty), drop `consumed` bytes, feed the
 *   rest again with more appended.
 * DONE: s->req holds the request; bytes past `consumed` are stream data
 *   (optimistic data for CONNECT). Build the final answer later with the
 *   reply builders below, from s->req.version and the engine's outcome.
 * ERROR: send reply[0..reply_len) (possibly empty: silent close), close;
 *   consumed == len. Feeding again after DONE or ERROR gives ERROR. */
void tk_socks_server_feed(struct tk_socks_server *s, const uint8_t *in,
			  size_t len, struct tk_socks_server_result *res);

/* ---- Server reply builders: return bytes written, 0 if cap too small. */

/* CONNECT answer (success or failure): SOCKS4 00 5A|5B + zeros; SOCKS5
 * 05 REP 00 + zero address whose ATYP follows the client's family. */
size_t tk_socks_reply_connect(uint8_t *out, size_t cap, uint8_t version,
			      uint8_t rep5, int client_family);
/* RESOLVE answers. SOCKS4 can carry only IPv4; anything else is 5B. */
size_t tk_socks_reply_resolved_ipv4(uint8_t *out, size_t cap, uint8_t version,
				    const uint8_t a[4]);
size_t tk_socks_reply_resolved_ipv6(uint8_t *out, size_t cap, uint8_t version,
				    const uint8_t a[16]);
size_t tk_socks_reply_resolved_name(uint8_t *out, size_t cap, uint8_t version,
				    const char *name);
size_t tk_socks_reply_resolve_error(uint8_t *out, size_t cap, uint8_t version,
				    uint8_t rep5);

/* Tor's END reason -> SOCKS5 REP table (reasons.c); SOCKS4 is 5A for 00,
 * 5B otherwise. */
uint8_t tk_socks5_rep_from_end_reason(int end_reason);
uint8_t tk_socks4_rep_from_rep5(uint8_t rep5);

/* ---- Client side. */

struct tk_socks_client_config {
	uint8_t version; /* 4 or 5; SOCKS4 with a hostname is 4a */
	uint8_t command; /* enum tk_socks_cmd */
	uint16_t port;
	const char *host; /* hostname or IP literal (brackets ok) */
	/* optional credentials (SOCKS4: userid = username) */
	const uint8_t *username;
	size_t username_len;
	const uint8_t *password;
	size_t password_len;
	uint8_t use_auth; /* offer RFC 1929 (SOCKS5) / send userid */
};

/* The proxy's final answer. */
struct tk_socks_client_reply {
	uint8_t version;
	uint8_t rep;  /* SOCKS5 REP, or SOCKS4 CD (5A..5D) */
	uint8_t atyp; /* 0 for Tor's ATYP-00 resolve errors */
	uint8_t addr[16];
	uint16_t port;
	char host[TK_SOCKS_HOST_MAX]; /* ATYP 03 answer (RESOLVE_PTR) */
	size_t host_len; /* its length on the wire (it may hold a NUL or
			  * control bytes: escape before printing) */
};

/* Why a client exchange failed before a final answer was parsed. */
enum tk_socks_client_error {
	TK_SOCKS_CLIENT_OK = 0,
	TK_SOCKS_CLIENT_BAD_REQUEST, /* cannot encode (too long, 4 + name) */
	TK_SOCKS_CLIENT_NOT_SOCKS,   /* garbage: not a SOCKS answer */
	TK_SOCKS_CLIENT_HTTP,	     /* the proxy answered HTTP */
	TK_SOCKS_CLIENT_NO_METHOD,   /* 05 FF: no acceptable method */
	TK_SOCKS_CLIENT_AUTH_FAILED, /* RFC 1929 status != 0 */
};

struct tk_socks_client {
	struct tk_socks_client_config cfg; /* its pointers are read only by
					    * tk_socks_client_start() */
	int state;			   /* private */
	/* private: messages prepared by start(), sent when their turn
	 * comes, so cfg's strings need not outlive start() */
	uint16_t req_len, auth_len;
	uint8_t req[4 + 1 + 255 + 2];
	uint8_t auth[3 + 255 + 255];
};

struct tk_socks_client_result {
	enum tk_socks_status status;
	size_t consumed; /* bytes of the proxy's answer used */
	uint8_t send[TK_SOCKS_REPLY_MAX];
	size_t send_len; /* bytes to send to the proxy now */
	enum tk_socks_client_error error;
	struct tk_socks_client_reply reply; /* with DONE */
	char msg[160]; /* with ERROR: what went wrong, in words;
			* with DONE and a failure REP/CD: the code
			* and its words (tk_socks5_rep_str) */
};

/* Produces the first bytes to send (methods, or the whole SOCKS4 request).
 * ERROR with TK_SOCKS_CLIENT_BAD_REQUEST if the request cannot be encoded. */
void tk_socks_client_start(struct tk_socks_client *c,
			   const struct tk_socks_client_config *cfg,
			   struct tk_socks_client_result *res);
/* Feed the proxy's bytes; NEED_MORE may come with bytes to send. DONE means
 * the final reply was parsed (reply.rep says success or failure); bytes past
 * `consumed` are stream data. */
void tk_socks_client_feed(struct tk_socks_client *c, const uint8_t *in,
			  size_t len, struct tk_socks_client_result *res);

/* REP in words, as Tor's tor-resolve and prop 304 name them. */
const char *tk_socks5_rep_str(uint8_t rep);
const char *tk_socks4_rep_str(uint8_t rep);

#endif
