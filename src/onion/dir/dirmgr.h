/* The directory manager: how the engine learns the network (dir-spec §5).
 *
 *   consensus (microdesc flavour, or a diff from the one held) ->
 *   authority key certificates -> signature check (> half of the
 *   authorities) -> required protocols -> microdescriptors (batched,
 *   digest-checked) -> usable directory
 *
 * then a refresh at tk_consensus_refetch_time(), before valid-until.
 *
 * This is a state machine with no I/O of its own: it asks its environment
 * (tk_dirmgr_env) to fetch a path from a source, to wake it at a time, and
 * for the time and random numbers, so tests drive it with canned documents
 * and a fake clock. The real environment (onion.c) fetches over one-hop
 * BEGIN_DIR circuits (dirfetch.h) and wakes it with a uv timer.
 *
 * Bootstrap, as tor 0.4.9's: without a reasonably live consensus, up to 3
 * consensus fetches run at once, launched on two schedules (dlsched.h):
 * the fallbacks' from the start, the authorities' only after 6 s (at once
 * when there are no fallbacks); the first answer that verifies ends the
 * others. A request that brings no byte for a while (the stall time) is
 * given up, whatever its size; an HTTP 503 means "busy": another source
 * is asked at once. Each failed source is left alone for a while
 * (dirsrc.h). Once a consensus is held, microdescriptors come from the
 * caches it lists, in tor's batch sizes (a third of what is missing per
 * request, 32 to 500 digests); a digest one cache lacked is asked of
 * another cache. Once the directory is usable, fetches go to a directory
 * guard (env->dir_guard), over CREATE2/ntor since its keys are known; a
 * refresh asks for a diff from the consensus held (X-Or-Diff-From-
 * Consensus) and falls back to the whole document if the diff does not
 * check out.
 *
 * A verified consensus whose required-client-protocols this client lacks
 * stops the manager (env->fatal names the protocols); lacking
 * recommended ones is a warning.
 *
 * With a DataDirectory, verified documents are written there (dircache.h)
 * and loaded at start: a cached consensus that is still live is re-checked
 * and used without any fetch; an older one is kept as the base of a diff. */
#ifndef TK_ONION_DIR_DIRMGR_H
#define TK_ONION_DIR_DIRMGR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "common/log_level.h"
#include "onion/dir/dirsrc.h"
#include "onion/netdir/nodes.h"
#include "onion/netdoc/consensus.h"
#include "onion/netdoc/dirauth.h"

typedef struct tk_dirmgr tk_dirmgr;

/* Stages a fetcher may report for a request (bootstrap progress). */
enum tk_dirmgr_stage {
	TK_DIRSTAGE_HANDSHAKE_DONE, /* link handshake with the source done */
	TK_DIRSTAGE_CIRCUIT,	    /* one-hop circuit built */
};

struct tk_dirmgr_env {
	/* Wall clock, milliseconds since the epoch. */
	int64_t (*now_ms)(void *arg);
	/* Uniform 64-bit random numbers. */
	uint64_t (*random)(void *arg);
	/* Starts GET path from src, with extra request header lines (each
	 * ending in CRLF; "" for none). The answer comes later, never from
	 * inside this call, through tk_dirmgr_fetched(id, ...). A return
	 * < 0 means it could not even start (counted as a failure). */
	int (*fetch)(void *arg, uint64_t id, const struct tk_dirsource *src,
		     const char *path, const char *headers);
	/* Abandons request id (tk_dirmgr_fetched must not follow). */
	void (*cancel)(void *arg, uint64_t id);
	/* Call tk_dirmgr_tick() at at_ms (replaces the previous request;
	 * -1: nothing to wait for). */
	void (*wake)(void *arg, int64_t at_ms);
	/* One line, no newline, at a tk_log_level. May be NULL. */
	tk_log_fn log;
	/* Bootstrap progress, tor's percentages and tags (monotonic, each
	 * reported once): "Bootstrapped 40% (loading_keys): ...". May be
	 * NULL. The manager stops at 75 (enough_dirinfo); what follows
	 * (circuits, 100) belongs to the caller. */
	void (*progress)(void *arg, int percent, const char *tag,
			 const char *summary);
	/* The directory changed: a new node table, or usability flipped
	 * (tk_dirmgr_usable()). Pointers from tk_dirmgr_nodes() taken
	 * earlier are invalid from now on. May be NULL. */
	void (*changed)(void *arg);
	/* A directory guard to ask, once the directory is usable: one of
	 * the primary guards (as a source, with its ntor key). 0 with *out,
	 * -1 if there is none. May be NULL: then the caches are asked. */
	int (*dir_guard)(void *arg, const struct tk_nodes *nodes,
			 struct tk_dirsource *out);
	/* This client cannot use the network: the message says why (a
	 * required protocol is missing). The manager has stopped; the
	 * engine should too. May be NULL. */
	void (*fatal)(void *arg, const char *msg);
	void *arg;
};

struct tk_dirmgr_config {
	const tk_dirauth *auths; /* need orport= and v3ident= */
	size_t n_auths;
	const tk_dirfallback *fallbacks;   /* may be none */
	const char *const *fallback_names; /* NULL or one per fallback */
	size_t n_fallbacks;
	const char *data_dir;	      /* NULL or "": no cache */
	int enforce_distinct_subnets; /* for the path fraction */
	double min_path_fraction;     /* usable at this share (tor: 0.6) */
	unsigned md_batch_max;	      /* digests per request (tor: 500 over
					 BEGIN_DIR) */
	unsigned md_batch_min;	      /* ... at least (tor: 32) */
	unsigned md_max_parallel;     /* microdesc requests in flight */
	int64_t backoff_base_ms;      /* first retry delay of a source */
	int64_t backoff_max_ms;
	int64_t skew_s; /* valid-after this far ahead is ok */
	/* How long a verified consensus stays usable past valid-until when
	 * no newer one can be had (tor: 24 h, "reasonably live"). */
	int64_t reasonably_live_s;
	/* The bootstrap schedules (tor's ClientBootstrapConsensus*): when
	 * the first fallback and authority attempts go out, how many may
	 * run at once, and the longest wait between attempts. */
	int64_t boot_fallback_delay_ms;	      /* 0 */
	int64_t boot_authority_delay_ms;      /* 6000 (with fallbacks) */
	int64_t boot_authority_only_delay_ms; /* 0 (no fallbacks) */
	unsigned boot_max_in_progress;	      /* 3 */
	int64_t boot_max_delay_ms;	      /* 60000 */
	/* A request that brought no byte this long is given up (tor's
	 * TestingDirConnectionMaxStall, see differences.md). */
	int64_t stall_ms;
	/* Fewer missing microdescriptors than 16 wait until this long after
	 * the last request for them (tor's
	 * TestingClientMaxIntervalWithoutRequest), once usable. */
	int64_t md_delay_ms;
	/* Share of the fallback pool's weight an authority has. */
	double authority_fallback_weight; /* 0.1 */
	int no_diffs;			  /* never ask for consensus diffs */
	/* The protocols this client speaks (protover.h); NULL: ours. */
	const char *supported_protocols;
	/* ClientUseIPv4/6, ClientPreferIPv6ORPort for the one-hop
	 * connections to fallbacks, authorities and caches (reach.h;
	 * zero: tor's defaults, IPv4). */
	struct tk_reach reach;
};

/* Defaults: no authorities, no fallbacks, no cache, subnets enforced,
 * fraction 0.6, batches of 32..500 (16 in flight), backoff 1 s .. 60 s,
 * skew 1 h, 24 h reasonably live, tor's bootstrap schedule (fallbacks at
 * 0, authorities at 6 s, 3 at once, at most 60 s apart), 60 s stall,
 * 10 min before a small microdescriptor request, authority weight 0.1. */
void tk_dirmgr_config_init(struct tk_dirmgr_config *cfg);

/* Copies cfg (authorities and fallbacks included) and env. 0, or -1 with
 * err (e.g. an authority without v3ident=). */
int tk_dirmgr_new(const struct tk_dirmgr_config *cfg,
		  const struct tk_dirmgr_env *env, tk_dirmgr **out, char *err,
		  size_t errlen);

/* Loads the cache (if any), then starts fetching what is missing. */
void tk_dirmgr_start(tk_dirmgr *m);

/* The environment's answer to a fetch: status 0 with the HTTP status and
 * the body, or status < 0 (transport failure) with errmsg saying why. */
void tk_dirmgr_fetched(tk_dirmgr *m, uint64_t id, int status, int http_status,
		       const uint8_t *body, size_t len, const char *errmsg);
/* Optional: how far the connection for request id got. */
void tk_dirmgr_fetch_stage(tk_dirmgr *m, uint64_t id,
			   enum tk_dirmgr_stage stage);
/* Bytes of the answer to request id have arrived (bytes: so far). A
 * request without such news for the stall time is given up. */
void tk_dirmgr_fetch_progress(tk_dirmgr *m, uint64_t id, size_t bytes);

/* The time asked for through env->wake (or any later time) has come. */
void tk_dirmgr_tick(tk_dirmgr *m);

/* Cancels every request in flight and frees m. */
void tk_dirmgr_free(tk_dirmgr *m);

/* What the manager is doing (for status output and tests). */
enum tk_dirmgr_phase {
	TK_DIRMGR_IDLE,		   /* not started */
	TK_DIRMGR_NEED_CONSENSUS,  /* no live verified consensus */
	TK_DIRMGR_NEED_CERTS,	   /* a consensus waits for certificates */
	TK_DIRMGR_NEED_MICRODESCS, /* not enough microdescriptors yet */
	TK_DIRMGR_READY,	   /* usable; refresh scheduled */
	TK_DIRMGR_STOPPED,	   /* a required protocol is missing */
};
enum tk_dirmgr_phase tk_dirmgr_phase(const tk_dirmgr *m);
const char *tk_dirmgr_phase_name(enum tk_dirmgr_phase p);

/* 1 if a verified, (reasonably) live consensus is held with enough
 * microdescriptors to build circuits. */
int tk_dirmgr_usable(const tk_dirmgr *m);

/* The current node table (consensus joined with microdescriptors), or
 * NULL before the first verified consensus. Valid until the next
 * env->changed call. */
const struct tk_nodes *tk_dirmgr_nodes(const tk_dirmgr *m);

/* Counters for status output and tests. */
struct tk_dirmgr_stats {
	unsigned fetches;	    /* requests started */
	unsigned failures;	    /* transport errors, bad HTTP, bad docs */
	unsigned stalls;	    /* requests given up for silence */
	unsigned consensus_fetched; /* consensuses verified from the net */
	unsigned diffs_applied;	    /* of those, made from a diff */
	unsigned diffs_refused;	    /* diffs that did not check out */
	unsigned refused_docs;	    /* documents refused (sig, digest...) */
	int from_cache;		    /* the current consensus came from disk */
	unsigned fetches_before_usable; /* requests started before usable */
	size_t mds_held, mds_missing;
	unsigned mds_cached;   /* taken from the cache file */
	int64_t refetch_at_ms; /* next consensus fetch, -1 if none */
	double path_fraction;
};
void tk_dirmgr_get_stats(const tk_dirmgr *m, struct tk_dirmgr_stats *st);

#endif
