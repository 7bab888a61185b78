/* The onion engine: a Tor client, as the daemon sees it. This header is
 * the engine's only door: it includes nothing of the engine, and the
 * daemon includes nothing else of it. Nothing here knows about SOCKS.
 *
 *   struct tk_onion_config cfg;
 *   tk_onion_config_init(&cfg);   // the public network: built-in
 *                                 // authorities and fallbacks
 *   cfg.data_dir = "/var/lib/torkit"; cfg.log = my_log; ...
 *   tk_onion_new(loop, &cfg, &o, err, sizeof err);
 *   tk_onion_start(o);            // bootstrap: "Bootstrapped N%" ...
 *   tk_onion_stream_connect(o, "example.com", 80, key, keylen, cb, arg,
 *                           &req);
 *   ... uv_run(loop) ...
 *   tk_onion_free(o);             // then let the loop run to close
 *
 * Streams and lookups mirror the daemon's engine interface, so its
 * adapter is a thin translation: the same callbacks, and failures as Tor
 * END reasons (TK_RELAY_END_* numbers). The rules:
 *  - nothing calls back from inside the call that started it;
 *  - each request's callback runs once unless the request is cancelled;
 *  - a stream's `closed` runs once after tk_onion_stream_close() and is
 *    its last callback.
 *
 * Failures and retries (as tor's connection_ap_process_end_not_open):
 *  - END EXITPOLICY before CONNECTED: the exit is excluded and the
 *    request retried on a circuit to another exit whose summary allows
 *    the port; when none is left, EXITPOLICY. (Tor retries until
 *    SocksTimeout; we stop as soon as no exit is left.)
 *  - END RESOLVEFAILED / TIMEOUT / MISC / NOROUTE before CONNECTED: the
 *    circuit takes no new streams and the request is retried on another
 *    circuit, 3 tries in all (tor's MAX_RESOLVE_FAILURES), then that
 *    reason.
 *  - END HIBERNATING / RESOURCELIMIT: that exit is excluded, retried.
 *  - no CONNECTED/RESOLVED within 10 s: END sent, the circuit takes no
 *    new streams, retried; the last try fails TIMEOUT.
 *  - the circuit dies before CONNECTED: retried (nothing was sent that
 *    could be lost); after CONNECTED: error(DESTROY).
 *  - no circuit could be built in 4 builds: MISC; no exit allows the port
 *    at all: EXITPOLICY; no answer within request_timeout_ms: TIMEOUT.
 *  - other END reasons (CONNECTREFUSED, DONE, ...) are the answer.
 * A lookup that got a RESOLVED with only errors (NXDOMAIN, internal PTR
 * refused by the exit) or no usable answer fails RESOLVEFAILED.
 *
 * Data: writes are copied into DATA cells while the stream and circuit
 * package windows allow; a buffer is given back (`written`) when all of
 * it is packaged, so the windows reach the application. Reads: while the
 * application does not read (read_stop) or is slow, cells are kept here
 * and no stream SENDME is sent, so the exit stops after its window.
 *
 * Half-close: Tor's relay protocol has none. After
 * tk_onion_stream_shutdown() the queued bytes still go out, the stream
 * stays open and keeps delivering what the exit sends until the exit
 * ends it (EOF), the application closes, or nothing moved either way for
 * linger_ms: then END is sent and the reader gets EOF. A remote END DONE
 * is EOF; any other END on an open stream is error(reason). */
#ifndef TK_ONION_ONION_H
#define TK_ONION_ONION_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "common/log_level.h"

#define TK_ONION_MAX_AUTHORITIES 16
#define TK_ONION_AUTHORITY_MAX 512 /* bytes of one DirAuthority line */
#define TK_ONION_MAX_FALLBACKS 64
#define TK_ONION_FALLBACK_MAX 256 /* bytes of one FallbackDir line */

/* tor's bootstrap phases: percent 0..100, tag ("loading_keys"), summary
 * ("Loading authority key certs"); reported once each, increasing. */
typedef void (*tk_onion_progress_cb)(void *arg, int percent, const char *tag,
				     const char *summary);

/* The engine cannot work with this network (a protocol the consensus
 * requires is missing): msg says why. The engine has stopped fetching;
 * the caller should stop (tor exits). */
typedef void (*tk_onion_fatal_cb)(void *arg, const char *msg);

#define TK_ONION_MAX_LONG_LIVED_PORTS 64

struct tk_onion_config {
	/* No DirAuthority line: the public network's authorities (built
	 * in). Lines given replace them all, as in tor. */
	char authorities[TK_ONION_MAX_AUTHORITIES][TK_ONION_AUTHORITY_MAX];
	size_t n_authorities;
	/* FallbackDir lines; with none, the built-in fallbacks are used if
	 * use_default_fallbacks is set and no DirAuthority was given
	 * (tor's rule: custom authorities bring no public fallbacks). */
	char fallbacks[TK_ONION_MAX_FALLBACKS][TK_ONION_FALLBACK_MAX];
	size_t n_fallbacks;
	int use_default_fallbacks; /* UseDefaultFallbackDirs, default 1 */
	/* TestingTorNetwork: only with DirAuthority lines; the authorities
	 * are asked at once, a directory request may stall 30 s (not 60 s),
	 * and onion-service time periods are one shared-random run (24
	 * voting intervals) instead of hsdir_interval, as tor's. */
	int testing_tor_network;
	tk_onion_fatal_cb fatal; /* may be NULL */
	void *fatal_arg;
	const char *data_dir;	      /* NULL: no cache (nothing on disk) */
	int enforce_distinct_subnets; /* EnforceDistinctSubnets, default 1 */
	/* LongLivedPorts: streams to these ports get circuits of Stable
	 * relays only. Default (tk_onion_config_init): tor's list, 21, 22,
	 * 706, 1863, 5050, 5190, 5222, 5223, 6523, 6667, 6697, 8300. */
	uint16_t long_lived_ports[TK_ONION_MAX_LONG_LIVED_PORTS];
	size_t n_long_lived_ports;
	unsigned dir_timeout_ms;     /* to connect to a directory source:
					TCP, TLS and one-hop circuit */
	uint64_t request_timeout_ms; /* SocksTimeout: a whole request,
					default 120000 */
	uint64_t linger_ms;	     /* HalfCloseLinger, default 30000 */
	int scrub_hosts;	     /* SafeLogging: "[scrubbed]" for
					destinations in the log, default 1 */
	tk_log_fn log;		     /* enum tk_log_level; NULL: silent */
	void *log_arg;
	tk_onion_progress_cb progress; /* may be NULL (the log has it too) */
	void *progress_arg;
	/* 0: a usable directory is "Bootstrapped 100% (done)". 1: stop at
	 * 75% (enough_dirinfo); the caller reports the rest with
	 * tk_onion_report_progress() (tor: 90 circuit_create, 100 done). */
	int circuits_report_done;
	/* 1: the directory only, no circuits (tools/tkbootstrap). */
	int directory_only;
	/* Link padding as tor's ConnectionPadding (-1 auto, the default;
	 * 0 off, 1 on) and ReducedConnectionPadding (0/1). Process-wide,
	 * as in tor. */
	int connection_padding;
	int reduced_connection_padding;
	/* CongestionControl: -1 (default) negotiate with exits that
	 * support it when the consensus says cc_alg != 0; 0 never (fixed
	 * windows); 1 also when the consensus does not say so (tor's
	 * __AlwaysCongestionControl). */
	int congestion_control;
	/* Tor's ClientUseIPv4 (default 1), ClientUseIPv6 (default 0) and
	 * ClientPreferIPv6ORPort (-1 auto, the default, prefers IPv4 as
	 * 0 does; 1 prefers IPv6): which ORPort of a guard or directory
	 * server we connect to, and which guards are usable at all (one
	 * with no ORPort these allow is not). */
	int client_use_ipv4;
	int client_use_ipv6;
	int client_prefer_ipv6_orport;
	/* ClientOnionAuthDir: "<name>.auth_private" client authorization
	 * keys, read once by tk_onion_new(); NULL: none. */
	const char *client_onion_auth_dir;
};

/* Defaults: the built-in authorities and fallbacks, no DataDirectory,
 * subnets enforced, link padding and IPv4/IPv6 use as tor's defaults. */
void tk_onion_config_init(struct tk_onion_config *cfg);

/* Checks a torrc DirAuthority line (the keyword is optional):
 *   [DirAuthority] NICK orport=PORT v3ident=HEX40 IPv4:DIRPORT FINGERPRINT
 * and appends a copy of it. 0, or -1 with err saying what is wrong. A
 * bridge authority line (flag "bridge", no v3ident) is refused: a client
 * does not use one. */
int tk_onion_config_add_authority(struct tk_onion_config *cfg, const char *line,
				  char *err, size_t errlen);
/* The same for a FallbackDir line:
 *   [FallbackDir] IPv4[:DIRPORT] orport=PORT id=HEX40 [ipv6=[ADDR]:PORT]
 *                 [weight=N] */
int tk_onion_config_add_fallback(struct tk_onion_config *cfg, const char *line,
				 char *err, size_t errlen);
/* 1 if the configuration reaches the public Tor network (no DirAuthority
 * line), for the caller's messages. */
int tk_onion_config_is_public(const struct tk_onion_config *cfg);

typedef struct tk_onion tk_onion;

/* Checks and copies cfg. 0, or -1 with err. */
int tk_onion_new(uv_loop_t *loop, const struct tk_onion_config *cfg,
		 tk_onion **out, char *err, size_t errlen);

/* Starts bootstrapping (cache first, then the network). */
int tk_onion_start(tk_onion *o);

struct tk_onion_status {
	int percent; /* last "Bootstrapped" percentage */
	const char *tag, *summary;
	int dir_usable;		  /* enough directory to build circuits */
	size_t n_relays;	  /* in the consensus */
	size_t n_usable;	  /* Running, Valid, with a microdesc */
	size_t n_guards, n_exits; /* of those, usable in that position */
	int64_t valid_after, valid_until; /* of the consensus, 0 if none */
	int from_cache;			  /* that consensus came from disk */
	unsigned fetches;		  /* directory requests so far */
	unsigned fetches_before_usable;
	unsigned diffs_applied;		   /* consensuses made from a diff */
	size_t n_authorities, n_fallbacks; /* in use */
	struct {
		unsigned launched;     /* builds started */
		unsigned built;	       /* builds that completed */
		unsigned failed;       /* builds that failed */
		unsigned lost;	       /* built circuits that died */
		unsigned open;	       /* open now */
		unsigned building;     /* building now */
		unsigned channels;     /* channels open or opening */
		double last_build_ms;  /* the last successful build */
		double total_build_ms; /* sum over `built` */
	} circuits;
};
void tk_onion_get_status(const tk_onion *o, struct tk_onion_status *st);

/* Describes circuit `serial` ("circ 3 guard0~middle1~exit0 open dirty");
 * returns the length, or -1 if there is no such circuit. */
int tk_onion_describe_circuit(const tk_onion *o, uint32_t serial, char *buf,
			      size_t cap);

/* Stops everything: open streams and requests are dropped without
 * callbacks (close them first). Memory is released while the loop
 * closes the handles: run the loop (uv_run) afterwards. Not from inside
 * one of o's own callbacks: defer it to the loop. */
void tk_onion_free(tk_onion *o);

/* SafeLogging changed (SIGHUP): scrub destinations from the log, or not,
 * from now on. */
void tk_onion_set_scrub_hosts(tk_onion *o, int on);

/* SIGHUP: reads ClientOnionAuthDir dir again (NULL: no keys), as tor
 * does on a reload. 0, or -1 with err when it cannot be read (the keys
 * held so far stay in use). */
int tk_onion_reload_onion_auth(tk_onion *o, const char *dir, char *err,
			       size_t errlen);

/* SIGNAL NEWNYM: new streams and lookups share no circuit with earlier
 * ones. Every circuit that carried a stream (or was claimed for one)
 * takes no new streams and closes once its streams are done; open
 * streams go on where they are. Returns how many circuits were retired.
 * (Rate limiting, as tor's, is the caller's.) */
unsigned tk_onion_newnym(tk_onion *o);

/* A later bootstrap step (circuits_report_done), logged and passed to the
 * progress callback like the directory's; ignored unless above the last
 * percentage reported. tag and summary must be static. */
void tk_onion_report_progress(tk_onion *o, int percent, const char *tag,
			      const char *summary);

/* ---- streams and lookups */

typedef struct tk_onion_stream tk_onion_stream;
typedef struct tk_onion_req tk_onion_req;

enum {
	TK_ONION_RESOLVE_IPV4 = 1,
	TK_ONION_RESOLVE_IPV6 = 2,
};

#define TK_ONION_RESOLVED_MAX 16
struct tk_onion_resolved {
	size_t n_addrs; /* resolve: >= 1 on success */
	struct {
		int family; /* AF_INET or AF_INET6 */
		uint8_t addr[16];
	} addrs[TK_ONION_RESOLVED_MAX];
	char name[256]; /* resolve_ptr: the name */
	uint32_t ttl;	/* of the first answer used */
};

typedef void (*tk_onion_connect_cb)(void *arg, int end_reason,
				    tk_onion_stream *s);
typedef void (*tk_onion_resolve_cb)(void *arg, int end_reason,
				    const struct tk_onion_resolved *res);

/* Onion-service failures, reported like END reasons but above them, in
 * the order of Tor's extended SOCKS errors (ExtendedErrors F0..F7), so a
 * caller can map them to its own replies. Until this engine has an
 * onion-service client, a CONNECT or lookup of an onion name fails at
 * once, before any circuit is asked for: NOT_FOUND for a well-formed v3
 * address, BAD_ADDRESS for anything else ending in .onion. No onion name
 * is ever sent to an exit. */
enum tk_onion_hs_error {
	TK_ONION_HS_NOT_FOUND = 0x1000, /* F0 descriptor not found */
	TK_ONION_HS_BAD_DESC,		/* F1 descriptor invalid */
	TK_ONION_HS_INTRO_FAILED,	/* F2 */
	TK_ONION_HS_REND_FAILED,	/* F3 */
	TK_ONION_HS_MISSING_AUTH,	/* F4 client authorization missing */
	TK_ONION_HS_BAD_AUTH,		/* F5 client authorization wrong */
	TK_ONION_HS_BAD_ADDRESS,	/* F6 malformed onion address */
	TK_ONION_HS_INTRO_TIMEOUT,	/* F7 */
};
#define TK_ONION_IS_HS_ERROR(r) \
	((r) >= TK_ONION_HS_NOT_FOUND && (r) <= TK_ONION_HS_INTRO_TIMEOUT)

/* What a stream reports, as the daemon's engine interface: alloc a read
 * buffer, data read (or eof), a written buffer given back (status < 0:
 * not sent), a failure (an END reason), and closed (the last). */
struct tk_onion_stream_cbs {
	void (*alloc)(void *arg, size_t suggested, uint8_t **buf, size_t *cap);
	void (*read)(void *arg, uint8_t *buf, size_t len, int eof);
	void (*written)(void *arg, uint8_t *buf, size_t len, int status);
	void (*error)(void *arg, int end_reason);
	void (*closed)(void *arg);
};

/* host: a DNS name or an IP literal (IPv6 without brackets); the exit
 * resolves names. iso/iso_len: the isolation key (copied; may be empty):
 * streams share a circuit only if their keys are equal. 0 and *req, or a
 * negative errno-style code (-EINVAL bad target, -ENOMEM). */
/* prefs: TK_ONION_PREFER_IPV6 (the SocksPort's PreferIPv6: the BEGIN asks
 * the exit for IPv6 first, as tor's client does), or 0. */
#define TK_ONION_PREFER_IPV6 1u
int tk_onion_stream_connect(tk_onion *o, const char *host, uint16_t port,
			    unsigned prefs, const void *iso, size_t iso_len,
			    tk_onion_connect_cb cb, void *arg,
			    tk_onion_req **req);
/* families: TK_ONION_RESOLVE_* bits; answers of other families are left
 * out (all of them missing -> RESOLVEFAILED). */
int tk_onion_stream_resolve(tk_onion *o, const char *name, int families,
			    const void *iso, size_t iso_len,
			    tk_onion_resolve_cb cb, void *arg,
			    tk_onion_req **req);
/* family AF_INET or AF_INET6, addr in network order: asks the exit for
 * the in-addr.arpa / ip6.arpa name. */
int tk_onion_stream_resolve_ptr(tk_onion *o, int family, const uint8_t addr[16],
				const void *iso, size_t iso_len,
				tk_onion_resolve_cb cb, void *arg,
				tk_onion_req **req);
/* The callback will not run; the request is freed (END sent if a BEGIN
 * was out). */
void tk_onion_stream_cancel(tk_onion_req *req);

void tk_onion_stream_start(tk_onion_stream *s,
			   const struct tk_onion_stream_cbs *cbs, void *arg);
void tk_onion_stream_read_stop(tk_onion_stream *s);
void tk_onion_stream_read_start(tk_onion_stream *s);
/* Queues buf (len > 0; the caller keeps it alive until `written`).
 * 0, or -EPIPE after shutdown/error/close. */
int tk_onion_stream_write(tk_onion_stream *s, uint8_t *buf, size_t len);
void tk_onion_stream_shutdown(tk_onion_stream *s);
void tk_onion_stream_close(tk_onion_stream *s);

/* Memory the engine holds for s: the cells it keeps for the reader and
 * its write-queue entries (the queued buffers are the caller's), in
 * bytes; and for every stream together. For a bound like Tor's
 * MaxMemInQueues. */
size_t tk_onion_stream_queued(const tk_onion_stream *s);
size_t tk_onion_queued(const tk_onion *o);

/* The address the exit said it connected to (its CONNECTED cell): AF_INET
 * or AF_INET6 with addr filled, 0 when it named none. */
int tk_onion_stream_peer(const tk_onion_stream *s, uint8_t addr[16]);

/* The circuit carrying s (tk_onion_describe_circuit), 0 once it is gone. */
uint32_t tk_onion_stream_circuit(const tk_onion_stream *s);
/* How many tries the request took (1 = first). */
unsigned tk_onion_stream_tries(const tk_onion_stream *s);

#endif
