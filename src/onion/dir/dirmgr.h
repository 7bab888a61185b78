/* The directory manager: how the engine learns the network (dir-spec §5).
 *
 *   consensus (microdesc flavour) -> authority key certificates ->
 *   signature check (> half of the configured authorities) ->
 *   microdescriptors (batched, digest-checked) -> usable directory
 *
 * then a refresh at tk_consensus_refetch_time(), before valid-until.
 *
 * This is a state machine with no I/O of its own: it asks its environment
 * (tk_dirmgr_env) to fetch a path from a source, to wake it at a time, and
 * for the time and random numbers, so tests drive it with canned documents
 * and a fake clock. The real environment (onion.c) fetches over one-hop
 * BEGIN_DIR circuits (dirfetch.h) and wakes it with a uv timer.
 *
 * Sources: the configured authorities until a verified consensus is held;
 * then any relay with the V2Dir flag (the authorities among them). A source
 * that fails is backed off (exponentially, with jitter) and the next
 * attempt goes to another one.
 *
 * With a DataDirectory, verified documents are written there (dircache.h)
 * and loaded at start: a cached consensus that is still live is re-checked
 * and used without any fetch. */
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
	/* Starts GET path from src. The answer comes later, never from
	 * inside this call, through tk_dirmgr_fetched(id, ...). A return
	 * < 0 means it could not even start (counted as a failure). */
	int (*fetch)(void *arg, uint64_t id, const struct tk_dirsource *src,
		     const char *path);
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
	void *arg;
};

struct tk_dirmgr_config {
	const tk_dirauth *auths; /* need orport= and v3ident= */
	size_t n_auths;
	const char *data_dir;	      /* NULL or "": no cache */
	int enforce_distinct_subnets; /* for the path fraction */
	double min_path_fraction;     /* usable at this share (tor: 0.6) */
	unsigned md_batch;	      /* digests per request (<= 92) */
	unsigned max_parallel;	      /* microdesc requests in flight */
	int64_t backoff_base_ms;      /* first retry delay of a source */
	int64_t backoff_max_ms;
	int64_t skew_s; /* valid-after this far ahead is ok */
	/* How long a verified consensus stays usable past valid-until when
	 * no newer one can be had (tor: 24 h, "reasonably live"). */
	int64_t reasonably_live_s;
};

/* Defaults: no authorities, no cache, subnets enforced, fraction 0.6, 92
 * per batch, 4 in flight, backoff 1 s .. 60 s, skew 1 h, 24 h. */
void tk_dirmgr_config_init(struct tk_dirmgr_config *cfg);

/* Copies cfg (authorities included) and env. 0, or -1 with err (e.g. an
 * authority without v3ident=). */
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
	unsigned consensus_fetched; /* consensuses verified from the net */
	unsigned refused_docs;	    /* documents refused (sig, digest...) */
	int from_cache;		    /* the current consensus came from disk */
	unsigned fetches_before_usable; /* requests started before usable */
	size_t mds_held, mds_missing;
	int64_t refetch_at_ms; /* next consensus fetch, -1 if none */
	double path_fraction;
};
void tk_dirmgr_get_stats(const tk_dirmgr *m, struct tk_dirmgr_stats *st);

#endif
