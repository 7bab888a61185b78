/* dirmgr.c's private state (one header so the parts of the manager and
 * white-box tests share it; nothing outside src/onion/dirmgr* uses it). */
#ifndef TK_ONION_DIR_DIRMGR_INT_H
#define TK_ONION_DIR_DIRMGR_INT_H

#include "onion/dir/dirmgr.h"

#define TK_DIRMGR_MAX_REQS 64
#define TK_DIRMGR_MAX_CERTS 64

enum tk_dirmgr_req_kind { TK_DIRREQ_CONSENSUS, TK_DIRREQ_CERTS, TK_DIRREQ_MDS };

struct tk_dirmgr_req {
	uint64_t id;
	enum tk_dirmgr_req_kind kind;
	struct tk_dirmgr_source src;
	uint32_t *slots;		/* mds: router indexes asked for */
	size_t n_slots;
	const struct tk_consensus *cons; /* mds: table the slots refer to */
};

/* A source that failed: when it may be asked again. */
struct tk_dirmgr_srcstate {
	uint8_t id[20];
	unsigned fails;
	int64_t next_ok_ms;
};

struct tk_dirmgr {
	struct tk_dirmgr_config cfg;
	struct tk_dirmgr_env env;
	tk_dirauth *auths;
	uint8_t (*v3ids)[20];
	char *data_dir;			/* NULL: no cache */
	int started;

	/* the verified consensus and its node table */
	struct tk_consensus *cons;
	char *cons_text;
	size_t cons_len;
	struct tk_nodes nodes;
	int has_nodes;
	/* per router slot of the table */
	char **md_text;			/* exact text, for the cache */
	size_t *md_len;
	uint8_t *md_inflight;
	unsigned *md_fails;
	int64_t *md_retry_at;
	int live, usable, ever_usable, from_cache, mds_dirty, cons_dirty;
	int64_t refetch_at_ms;

	/* a fetched consensus waiting for certificates */
	struct tk_consensus *pend;
	char *pend_text;
	size_t pend_len;
	int pend_from_cache;
	unsigned pend_cert_tries;
	struct tk_dirmgr_source pend_src;
	/* next pick_source() returns this one if not backed off */
	struct tk_dirmgr_source prefer;
	int prefer_set;

	struct tk_authcert *certs;
	char **cert_text;
	size_t *cert_len;
	size_t n_certs;

	/* cached microdescriptors not yet matched to a consensus */
	char *spare_md;
	size_t spare_len;

	struct tk_dirmgr_req reqs[TK_DIRMGR_MAX_REQS];
	size_t n_reqs;
	uint64_t next_id;

	struct tk_dirmgr_srcstate *srcs;
	size_t n_srcs, cap_srcs;

	int progress_pct;		/* last reported, -1 before 0% */
	int64_t wake_at;
	struct tk_dirmgr_stats stats;
};

/* dirmgr.c: the state machine */
void tk_dirmgr_logf(tk_dirmgr *m, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int64_t tk_dirmgr_now(tk_dirmgr *m);
int64_t tk_dirmgr_min_t(int64_t a, int64_t b); /* -1 = none */
void tk_dirmgr_progress(tk_dirmgr *m, int pct, const char *tag,
			const char *summary);
size_t tk_dirmgr_req_count(const tk_dirmgr *m, enum tk_dirmgr_req_kind kind);
/* 0 started; -1 could not start (source backed off); -2 no room. Takes
 * slots. */
int tk_dirmgr_launch(tk_dirmgr *m, enum tk_dirmgr_req_kind kind,
		     const struct tk_dirmgr_source *src, const char *path,
		     uint32_t *slots, size_t n_slots);
/* Takes text (malloc'ed). src NULL when from_cache. */
void tk_dirmgr_consensus_received(tk_dirmgr *m, char *text, size_t len,
				  const struct tk_dirmgr_source *src,
				  int from_cache);

/* dirmgr_sources.c */
int64_t tk_dirmgr_backoff_ms(tk_dirmgr *m, unsigned fails);
void tk_dirmgr_source_failed(tk_dirmgr *m, const struct tk_dirmgr_source *src);
void tk_dirmgr_source_ok(tk_dirmgr *m, const struct tk_dirmgr_source *src);
int tk_dirmgr_pick_source(tk_dirmgr *m, int caches_ok, int64_t now,
			  struct tk_dirmgr_source *out, int64_t *wake_at);
int tk_dirmgr_auth_index(const tk_dirmgr *m, const uint8_t rsa_id[20]);

/* dirmgr_store.c */
size_t tk_dirmgr_add_certs(tk_dirmgr *m, const char *text, size_t len,
			   const char *origin);
void tk_dirmgr_save_consensus_and_certs(tk_dirmgr *m);
void tk_dirmgr_save_mds(tk_dirmgr *m);
void tk_dirmgr_load_cache(tk_dirmgr *m);

/* dirmgr_mds.c */
size_t tk_dirmgr_offer_mds(tk_dirmgr *m, const char *body, size_t len,
			   const char *origin, int from_net);
void tk_dirmgr_launch_mds(tk_dirmgr *m, int64_t now, int64_t *wake);

#endif
